//! The embedded SQLite backend: one file, zero setup, durable on acknowledgement.
//!
//! Group commits run on a writer thread that owns its connection ([`writer`]); the other writes
//! (tokens, accounts, the external area) use one sqlx connection, held while the thread writes.
//! Both use WAL and `synchronous=FULL`, so a committed group survives power loss. Reads use a
//! separate pool and never wait for the writer. Queries are checked at compile time against `migrations/`
//! (offline data in `.sqlx/`).

mod accounts;
mod bulk;
mod external;
mod group;
mod program;
mod security;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Block, Cancellation, CancellationId, Ledger, Program, Retirement, RetirementId,
    Timestamp,
};
use furrow_store::{
    Balances, BlockFilter, CheckpointRow, CommitGroup, IdempotencyRecord, LogRow, Page, Store, StoreError, TokenRecord,
    Totals,
};
use furrow_store::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalImportOutcome, ExternalQuarantined, ExternalRecord,
    ExternalScan, ExternalSource, ExternalTotals,
};
use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use bulk::BulkLoad;
use furrow_store::rows::*;
use furrow_store::{SecurityEvent, TokenListing, TokenPolicy};
use writer::{WriterSettings, WriterThread};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How durable commits are. `Full` is the only setting Furrow runs with; `Normal` exists so the
/// power-loss test can show that it would notice lost writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

/// The writer connection's page cache (256 MiB, allocated as used), as SQLite's `cache_size`
/// pragma wants it: negative KiB.
const WRITER_CACHE_KIB: i64 = -262_144;
/// WAL pages after which a commit checkpoints the WAL into the database (SQLite's default: 1 000).
const WAL_AUTOCHECKPOINT_PAGES: &str = "8000";

/// How often the background checkpointer moves committed WAL pages into the database file…
const WAL_CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// … and how soon it goes again while the WAL holds more than WAL_BUSY_FRAMES frames. Under
/// load the WAL grew to the writer's 8 000-page threshold between rounds, and the writer's own
/// checkpoint then copied thousands of pages and synced the database inside one COMMIT: the
/// open loop's 100–200 ms stalls. Kept close behind, that checkpoint only has a tail to copy.
const WAL_CHECKPOINT_BUSY_EVERY: Duration = Duration::from_millis(20);
const WAL_BUSY_FRAMES: i64 = 1_000;

pub struct SqliteStore {
    /// Everything but the write path's hot writes; while `thread` writes, it is held, so the two
    /// connections never wait on each other inside SQLite.
    writer: SqlitePool,
    /// Group commits, tree extensions and a bulk load's last step ([`writer`]); `None` when
    /// opened read-only.
    thread: Option<WriterThread>,
    readers: SqlitePool,
    /// The background WAL checkpointer's connection and the token that keeps it running: it
    /// stops when the store is closed or dropped.
    checkpoints: Option<(SqlitePool, std::sync::Arc<()>)>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, Durability::Full).await
    }

    pub async fn open_with(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        Self::open_configured(path, durability, None, WRITER_CACHE_KIB).await
    }

    /// Opens like [`SqliteStore::open`], with a writer page cache of `cache_mib` MiB: for tools
    /// that load millions of rows in one go (the bench's dataset generator), whose group commits
    /// touch index pages all over tables far larger than the server's cache.
    pub async fn open_for_bulk_load(path: &Path, cache_mib: u32) -> Result<Self, StoreError> {
        Self::open_configured(path, Durability::Full, None, -(i64::from(cache_mib) * 1024)).await
    }

    /// Opens the database through the SQLite VFS registered as `vfs`: the power-loss test's
    /// fault-recording file system.
    pub async fn open_on_vfs(path: &Path, durability: Durability, vfs: &str) -> Result<Self, StoreError> {
        Self::open_configured(path, durability, Some(vfs), WRITER_CACHE_KIB).await
    }

    async fn open_configured(
        path: &Path,
        durability: Durability,
        vfs: Option<&str>,
        writer_cache_kib: i64,
    ) -> Result<Self, StoreError> {
        let synchronous = match durability {
            Durability::Full => SqliteSynchronous::Full,
            Durability::Normal => SqliteSynchronous::Normal,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Statement journals (a multi-row INSERT needs one to undo itself) stay in memory:
            // as temporary files they were written and read back on every group commit.
            .pragma("temp_store", "memory");
        let options = match vfs {
            Some(vfs) => options.vfs(vfs.to_owned()),
            None => options,
        };
        let mut writer_options = options.clone();
        if vfs.is_none() {
            writer_options = writer_options.pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES);
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Holding this connection is the write lock (`SqliteStore::write`): taking it must
            // not cost a ping through sqlx's worker thread.
            .test_before_acquire(false)
            .connect_with(writer_options)
            .await
            .map_err(|e| StoreError::Other(format!("cannot open {}: {e}", path.display())))?;
        MIGRATOR.run(&writer).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        let thread = WriterThread::start(WriterSettings {
            path: path.to_owned(),
            durability,
            vfs: vfs.map(str::to_owned),
            // The writer's page cache: SQLite's default (2 MiB) holds few of the index pages a
            // group commit touches once the tables have millions of rows, and every miss is a read.
            cache_kib: writer_cache_kib,
            // Checkpoints run beside the writer (`checkpoint_in_background`), not inside the
            // COMMIT of whichever group crossed SQLite's default 1 000 pages of WAL; the
            // writer still checkpoints itself past WAL_AUTOCHECKPOINT_PAGES if they fall behind.
            wal_autocheckpoint: vfs.is_none().then_some(WAL_AUTOCHECKPOINT_PAGES),
        })
        .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone().read_only(true))
            .await
            .map_err(|e| StoreError::Other(format!("cannot open {} for reading: {e}", path.display())))?;
        let checkpoints = match vfs {
            // The power-loss test's file system records one writer's operations: nothing beside it.
            Some(_) => None,
            None => Some(checkpoint_in_background(options, path).await?),
        };
        Ok(Self { writer, thread: Some(thread), readers, checkpoints })
    }

    /// Opens an existing database for reading only, without running migrations: what an auditor
    /// does with someone else's copy. Every write fails.
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Other(format!("cannot open {} for reading: {e}", path.display())))?;
        Ok(Self { writer: pool.clone(), thread: None, readers: pool, checkpoints: None })
    }
}

impl SqliteStore {
    /// Runs `write` on the writer thread's connection, holding the sqlx writer meanwhile so the
    /// two connections never contend inside SQLite.
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        write: impl FnOnce(&mut rusqlite::Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (thread, _exclusive) = self.writer_thread().await?;
        thread.run(write).await
    }

    /// The writer thread, with the sqlx writer held until the guard is dropped.
    pub(crate) async fn writer_thread(
        &self,
    ) -> Result<(&WriterThread, sqlx::pool::PoolConnection<Sqlite>), StoreError> {
        let thread = self.thread.as_ref().ok_or_else(|| StoreError::Other("this store was opened read-only".into()))?;
        let exclusive = self.writer.acquire().await.map_err(db_error)?;
        Ok((thread, exclusive))
    }

    /// Writes a consistent snapshot of the database into a new file (`VACUUM INTO`): one read
    /// transaction, so a running writer is not blocked, and the copy is compact.
    pub async fn backup_into(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_str().ok_or_else(|| StoreError::Other(format!("{} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO ?1").bind(target).execute(&self.writer).await.map_err(db_error)?;
        Ok(())
    }

    /// SQLite's own check of every page and index.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let result: String =
            sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&self.readers).await.map_err(db_error)?;
        if result != "ok" {
            return Err(StoreError::Corrupt(result));
        }
        Ok(())
    }
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
            return StoreError::Conflict { constraint: db.message().to_owned() };
        }
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with extended codes.
        if db.code().is_some_and(|c| c == "5" || c == "6" || c.starts_with("5") && c.len() > 1) {
            return StoreError::Retryable(db.message().to_owned());
        }
    }
    StoreError::Other(e.to_string())
}

fn limit(page: Page) -> i64 {
    i64::from(page.limit)
}
fn after(page: Page) -> i64 {
    page.after.map_or(-1, as_i64)
}

/// Starts a task that checkpoints the WAL (PASSIVE: it never blocks the writer or a reader) on a
/// connection of its own, so that copying committed pages into the database file happens beside
/// group commits instead of inside one. Durability is unchanged: a commit is durable once its WAL
/// frames are synced, before any checkpoint. The task stops when the returned token is dropped
/// (with its store) or its connection is closed (`Store::close`).
async fn checkpoint_in_background(
    options: SqliteConnectOptions,
    path: &Path,
) -> Result<(SqlitePool, std::sync::Arc<()>), StoreError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Other(format!("cannot open {} for checkpoints: {e}", path.display())))?;
    let alive = std::sync::Arc::new(());
    let token = std::sync::Arc::downgrade(&alive);
    let connection = pool.clone();
    tokio::spawn(async move {
        let mut pause = WAL_CHECKPOINT_EVERY;
        loop {
            tokio::time::sleep(pause).await;
            if token.strong_count() == 0 || connection.is_closed() {
                break;
            }
            // (busy, frames in the WAL, frames checkpointed)
            match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&connection).await {
                Ok((_, frames, _)) => {
                    pause = if frames > WAL_BUSY_FRAMES { WAL_CHECKPOINT_BUSY_EVERY } else { WAL_CHECKPOINT_EVERY };
                }
                Err(e) => {
                    if connection.is_closed() {
                        break;
                    }
                    // Another process's checkpoint, say: the next round tries again, and the
                    // writer checkpoints itself if these keep failing.
                    tracing::debug!(error = %e, "background WAL checkpoint failed");
                    pause = WAL_CHECKPOINT_EVERY;
                }
            }
        }
        connection.close().await;
    });
    Ok((pool, alive))
}

#[async_trait]
impl Store for SqliteStore {
    /// Closes every connection, checkpointing the WAL.
    async fn close(&self) {
        if let Some((checkpoints, _)) = &self.checkpoints {
            checkpoints.close().await;
        }
        self.readers.close().await;
        if let Some(thread) = &self.thread {
            thread.close().await;
        }
        self.writer.close().await;
    }

    async fn load_ledger(&self) -> Result<Ledger, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(db_error)?;
        let program = sqlx::query_as!(ProgramRow, "SELECT code, country, name FROM program WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
            .map(ProgramRow::into_domain)
            .transpose()?;
        let accounts = sqlx::query_as!(AccountRow, "SELECT id, kind, name FROM accounts ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(AccountRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        let batches = sqlx::query_as!(
            BatchRow,
            "SELECT id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at FROM batches ORDER BY id"
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(BatchRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?;
        let blocks = sqlx::query_as!(
            BlockRow,
            "SELECT serial_start, serial_end, batch, account, state FROM blocks ORDER BY serial_start"
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(BlockRow::into_domain)
        .collect::<Result<Vec<_>, _>>()?;
        let log_keys = sqlx::query!("SELECT vkey FROM log_keys ORDER BY position")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|r| r.vkey)
            .collect();
        let retirements = load_retirements(&mut conn, -1, i64::MAX).await?;
        let cancellations = load_cancellations(&mut conn, -1, i64::MAX).await?;
        let lifecycle = sqlx::query_as!(
            LifecycleRow,
            r#"SELECT e.entry, p.payload AS "payload?" FROM lifecycle_entries l
             JOIN log_entries e ON e.idx = l.log_index
             LEFT JOIN log_private p ON p.log_index = l.log_index
             ORDER BY l.log_index"#
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        let ledger = Ledger::from_parts(program, accounts, batches, blocks, retirements, cancellations, log_keys);
        replay_lifecycle(ledger, lifecycle)
    }

    async fn log_size(&self) -> Result<u64, StoreError> {
        let row = sqlx::query!(r#"SELECT COALESCE(MAX(idx) + 1, 0) AS "size!: i64" FROM log_entries"#)
            .fetch_one(&self.writer)
            .await
            .map_err(db_error)?;
        as_u64(row.size)
    }

    async fn commit(&self, group: Arc<CommitGroup>) -> Result<(), StoreError> {
        self.write(move |conn| group::commit(conn, &group)).await
    }

    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query!(
            "SELECT scope, key, request_hash, outcome, created_at FROM idempotency WHERE scope = ?1 AND key = ?2",
            scope,
            key
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                scope: r.scope,
                key: r.key,
                request_hash: hash32(&r.request_hash)?,
                outcome: r.outcome,
                created_at: Timestamp(r.created_at),
            })
        })
        .transpose()
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<u64, StoreError> {
        let hash = &token.hash[..];
        let role = token.role.as_str();
        let accounts = join_ids(&token.accounts);
        let at = token.created_at.0;
        let row = sqlx::query!(
            r#"INSERT INTO tokens (hash, subject, role, accounts, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id AS "id!: i64""#,
            hash,
            token.subject,
            role,
            accounts,
            at
        )
        .fetch_one(&self.writer)
        .await
        .map_err(db_error)?;
        as_u64(row.id)
    }

    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let hash = &hash[..];
        let row = sqlx::query_as!(
            TokenRow,
            "SELECT id, hash, subject, role, accounts, created_at FROM tokens WHERE hash = ?1",
            hash
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.map(TokenRow::into_domain).transpose()
    }

    async fn set_token_policy(
        &self,
        id: u64,
        can_write: bool,
        expires_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        security::set_policy(&self.writer, id, can_write, expires_at).await
    }

    async fn token_policy(&self, id: u64) -> Result<Option<TokenPolicy>, StoreError> {
        security::get_policy(&self.writer, id).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        security::list(&self.writer).await
    }

    async fn revoke_token(&self, id: u64, at: Timestamp) -> Result<bool, StoreError> {
        security::revoke(&self.writer, id, at).await
    }

    async fn touch_token(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        security::touch(&self.writer, id, at).await
    }

    async fn append_security_event(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        security::append(&self.writer, event).await
    }

    async fn security_events(&self, page: Page) -> Result<Vec<SecurityEvent>, StoreError> {
        security::events(&self.writer, page).await
    }

    // Users and sessions are read through the read-only pool, so that every signed-in page view
    // does not queue behind the group commits on the writer connection.
    async fn insert_organisation(&self, name: &str, at: Timestamp) -> Result<u64, StoreError> {
        accounts::insert_organisation(&self.writer, name, at).await
    }
    async fn organisation(&self, id: u64) -> Result<Option<furrow_store::Organisation>, StoreError> {
        accounts::organisation_by(&self.readers, Some(id), None).await
    }
    async fn organisation_named(&self, name: &str) -> Result<Option<furrow_store::Organisation>, StoreError> {
        accounts::organisation_by(&self.readers, None, Some(name)).await
    }
    async fn insert_user(&self, user: &furrow_store::UserRecord) -> Result<u64, StoreError> {
        accounts::insert_user(&self.writer, user).await
    }
    async fn user(&self, id: u64) -> Result<Option<furrow_store::UserRecord>, StoreError> {
        accounts::user_by(&self.readers, Some(id), None).await
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<furrow_store::UserRecord>, StoreError> {
        accounts::user_by(&self.readers, None, Some(email)).await
    }
    async fn users(&self) -> Result<Vec<furrow_store::UserRecord>, StoreError> {
        accounts::users(&self.readers).await
    }
    async fn set_user_totp(&self, id: u64, secret: Option<&[u8]>) -> Result<(), StoreError> {
        accounts::set_totp(&self.writer, id, secret).await
    }
    async fn insert_session(&self, session: &furrow_store::SessionRecord) -> Result<(), StoreError> {
        accounts::insert_session(&self.writer, session).await
    }
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<furrow_store::SessionRecord>, StoreError> {
        accounts::session_by(&self.readers, hash).await
    }
    async fn touch_session(&self, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError> {
        accounts::touch_session(&self.writer, hash, at).await
    }
    async fn delete_session(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        accounts::delete_session(&self.writer, hash).await
    }
    async fn insert_role_request(&self, request: &furrow_store::RoleRequest) -> Result<u64, StoreError> {
        accounts::insert_request(&self.writer, request).await
    }
    async fn role_request(&self, id: u64) -> Result<Option<furrow_store::RoleRequest>, StoreError> {
        Ok(accounts::requests(&self.readers, Some(id)).await?.pop())
    }
    async fn role_requests(&self) -> Result<Vec<furrow_store::RoleRequest>, StoreError> {
        accounts::requests(&self.readers, None).await
    }
    async fn apply_role_request(&self, id: u64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
        accounts::apply_request(&self.writer, id, by, at).await
    }

    async fn program_entries(&self) -> Result<Vec<furrow_store::ProgramEntry>, StoreError> {
        program::entries(&self.readers).await
    }
    async fn seed_program_entries(&self, entries: &[furrow_store::ProgramEntry]) -> Result<(), StoreError> {
        program::seed(&self.writer, entries).await
    }
    async fn insert_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<u64, StoreError> {
        program::insert(&self.writer, entry).await
    }
    async fn update_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<bool, StoreError> {
        program::update(&self.writer, entry).await
    }

    async fn program(&self) -> Result<Option<Program>, StoreError> {
        sqlx::query_as!(ProgramRow, "SELECT code, country, name FROM program WHERE id = 1")
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?
            .map(ProgramRow::into_domain)
            .transpose()
    }

    async fn totals(&self) -> Result<Totals, StoreError> {
        // One read transaction, so the counts are of one consistent snapshot. An sqlx transaction,
        // not a bare BEGIN: if this future is dropped half-way (a request's timeout), it is rolled
        // back before the connection serves anyone else.
        let mut tx = self.readers.begin().await.map_err(db_error)?;
        let supply = sqlx::query!(
            r#"SELECT state, SUM(serial_end - serial_start + 1) AS "quantity!: i64" FROM blocks GROUP BY state"#
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error);
        let counts = sqlx::query!(
            r#"SELECT (SELECT COUNT(*) FROM accounts) AS "accounts!: i64",
                      (SELECT COUNT(*) FROM batches) AS "batches!: i64",
                      (SELECT COUNT(*) FROM retirements) AS "retirements!: i64",
                      (SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries) AS "log_size!: i64""#
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error);
        tx.commit().await.map_err(db_error)?;
        let (supply, counts) = (supply?, counts?);
        let mut balances = Balances::default();
        for row in supply {
            balances.add(parse_enum(&row.state)?, as_u64(row.quantity)?);
        }
        Ok(Totals {
            supply: balances,
            accounts: as_u64(counts.accounts)?,
            batches: as_u64(counts.batches)?,
            retirements: as_u64(counts.retirements)?,
            log_size: as_u64(counts.log_size)?,
        })
    }

    async fn accounts(&self, page: Page) -> Result<Vec<Account>, StoreError> {
        let (after, limit) = (after(page), limit(page));
        sqlx::query_as!(
            AccountRow,
            "SELECT id, kind, name FROM accounts WHERE id > ?1 ORDER BY id LIMIT ?2",
            after,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(AccountRow::into_domain)
        .collect()
    }

    async fn account(&self, id: AccountId) -> Result<Option<(Account, Balances)>, StoreError> {
        let id = as_i64(id.0);
        let Some(row) = sqlx::query_as!(AccountRow, "SELECT id, kind, name FROM accounts WHERE id = ?1", id)
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let balances = sqlx::query!(
            r#"SELECT state, SUM(serial_end - serial_start + 1) AS "quantity!: i64" FROM blocks WHERE account = ?1 GROUP BY state"#,
            id
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        let mut sum = Balances::default();
        for b in balances {
            sum.add(parse_enum(&b.state)?, as_u64(b.quantity)?);
        }
        Ok(Some((row.into_domain()?, sum)))
    }

    async fn batches(&self, page: Page) -> Result<Vec<(Batch, Balances)>, StoreError> {
        let (after, limit) = (after(page), limit(page));
        let rows = sqlx::query_as!(
            BatchRow,
            "SELECT id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at
             FROM batches WHERE id > ?1 ORDER BY id LIMIT ?2",
            after,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        let batches = rows.into_iter().map(BatchRow::into_domain).collect::<Result<Vec<_>, _>>()?;
        let (Some(first), Some(last)) = (batches.first().map(|b| b.id), batches.last().map(|b| b.id)) else {
            return Ok(Vec::new());
        };
        // One grouped query for the whole page, not one per batch.
        let mut supplies = self.batch_supplies(first, last).await?;
        Ok(batches
            .into_iter()
            .map(|batch| {
                let supply = supplies.remove(&batch.id).unwrap_or_default();
                (batch, supply)
            })
            .collect())
    }

    async fn batch(&self, id: BatchId) -> Result<Option<(Batch, Balances)>, StoreError> {
        let key = as_i64(id.0);
        let row = sqlx::query_as!(
            BatchRow,
            "SELECT id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at FROM batches WHERE id = ?1",
            key
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        match row {
            None => Ok(None),
            Some(row) => {
                Ok(Some((row.into_domain()?, self.batch_supplies(id, id).await?.remove(&id).unwrap_or_default())))
            }
        }
    }

    async fn blocks(&self, filter: BlockFilter, page: Page) -> Result<Vec<Block>, StoreError> {
        let limit = limit(page);
        let (mut from, mut to) = (after(page).saturating_add(1), i64::MAX);
        let batch = filter.batch.map(|b| as_i64(b.0));
        if let Some(id) = batch {
            // A batch's blocks lie in its serial range: the primary key finds them (there is no
            // index on `blocks.batch`; see migration 0011).
            let range = sqlx::query!("SELECT serial_start, serial_end FROM batches WHERE id = ?1", id)
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
            let Some(range) = range else { return Ok(Vec::new()) };
            (from, to) = (from.max(range.serial_start), range.serial_end);
        }
        let account = filter.account.map(|a| as_i64(a.0));
        let state = filter.state.map(|s| s.as_str());
        sqlx::query_as!(
            BlockRow,
            "SELECT serial_start, serial_end, batch, account, state FROM blocks
             WHERE serial_start >= ?1 AND serial_start <= ?2
               AND (?3 IS NULL OR batch = ?3) AND (?4 IS NULL OR account = ?4) AND (?5 IS NULL OR state = ?5)
             ORDER BY serial_start LIMIT ?6",
            from,
            to,
            batch,
            account,
            state,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(BlockRow::into_domain)
        .collect()
    }

    async fn block_at(&self, serial: u64) -> Result<Option<Block>, StoreError> {
        let serial = as_i64(serial);
        let row = sqlx::query_as!(
            BlockRow,
            "SELECT serial_start, serial_end, batch, account, state FROM blocks
             WHERE serial_start <= ?1 ORDER BY serial_start DESC LIMIT 1",
            serial
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(row.map(BlockRow::into_domain).transpose()?.filter(|b| b.range.end() >= serial as u64))
    }

    async fn serial_history(
        &self,
        batch: BatchId,
        start: u64,
        end: u64,
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        let (batch, start, end, limit) = (as_i64(batch.0), as_i64(start), as_i64(end), i64::from(limit));
        sqlx::query_as!(
            LogRowDb,
            "SELECT e.idx, e.timestamp_us, e.actor, e.kind, e.entry, e.leaf_hash FROM log_entries e
             WHERE e.idx IN (SELECT h.log_index FROM serial_history h
                             WHERE h.batch = ?1 AND h.serial_start <= ?3 AND h.serial_end >= ?2)
             ORDER BY e.idx LIMIT ?4",
            batch,
            start,
            end,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(LogRowDb::into_domain)
        .collect()
    }

    async fn retirements(&self, page: Page) -> Result<Vec<Retirement>, StoreError> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        load_retirements(&mut conn, after(page), limit(page)).await
    }

    async fn retirement(&self, id: RetirementId) -> Result<Option<Retirement>, StoreError> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        let key = as_i64(id.0);
        Ok(load_retirements(&mut conn, key - 1, 1).await?.into_iter().find(|r| r.id == id))
    }

    async fn cancellations(&self, page: Page) -> Result<Vec<Cancellation>, StoreError> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        load_cancellations(&mut conn, after(page), limit(page)).await
    }

    async fn cancellation(&self, id: CancellationId) -> Result<Option<Cancellation>, StoreError> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        let key = as_i64(id.0);
        Ok(load_cancellations(&mut conn, key - 1, 1).await?.into_iter().find(|c| c.id == id))
    }

    async fn log_entries(&self, page: Page) -> Result<Vec<LogRow>, StoreError> {
        let (after, limit) = (after(page), limit(page));
        sqlx::query_as!(
            LogRowDb,
            "SELECT idx, timestamp_us, actor, kind, entry, leaf_hash FROM log_entries WHERE idx > ?1 ORDER BY idx LIMIT ?2",
            after,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(LogRowDb::into_domain)
        .collect()
    }

    async fn log_entry_bytes(&self, page: Page) -> Result<Vec<(u64, Vec<u8>, [u8; 32])>, StoreError> {
        // Only the three columns a replay needs: at a million entries, decoding the actor and
        // kind strings of every row was a visible part of `furrow verify`.
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT idx, entry, leaf_hash FROM log_entries WHERE idx > ?1 ORDER BY idx LIMIT ?2")
                .bind(after(page))
                .bind(limit(page))
                .fetch_all(&self.readers)
                .await
                .map_err(db_error)?;
        rows.into_iter().map(|(idx, entry, leaf_hash)| Ok((as_u64(idx)?, entry, hash32(&leaf_hash)?))).collect()
    }

    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        let (from, limit) = (as_i64(from), i64::from(limit));
        let rows = sqlx::query!("SELECT leaf_hash FROM log_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2", from, limit)
            .fetch_all(&self.readers)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| hash32(&r.leaf_hash)).collect()
    }

    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let hash = &leaf_hash[..];
        let row = sqlx::query!("SELECT idx FROM log_entries WHERE leaf_hash = ?1 ORDER BY idx LIMIT 1", hash)
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?;
        row.map(|r| as_u64(r.idx)).transpose()
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        read_tree_hashes(&mut conn, indexes).await
    }

    async fn extend_tree(
        &self,
        first_index: u64,
        hashes: &[[u8; 32]],
        checkpoint: &CheckpointRow,
    ) -> Result<(), StoreError> {
        let (hashes, checkpoint) = (hashes.to_vec(), checkpoint.clone());
        self.write(move |conn| group::extend_tree(conn, first_index, &hashes, &checkpoint)).await
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        let row = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.map(CheckpointDbRow::into_domain).transpose()
    }

    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError> {
        let size = as_i64(size);
        let row = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints WHERE tree_size >= ?1 ORDER BY tree_size LIMIT 1",
            size
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.map(CheckpointDbRow::into_domain).transpose()
    }

    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError> {
        let (after, limit) = (after.map_or(-1, as_i64), i64::from(limit));
        let rows = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints WHERE tree_size > ?1 ORDER BY tree_size LIMIT ?2",
            after,
            limit
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(CheckpointDbRow::into_domain).collect()
    }

    async fn tree_hash_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query!(r#"SELECT COALESCE(MAX(idx) + 1, 0) AS "count!: i64" FROM tree_hashes"#)
            .fetch_one(&self.writer)
            .await
            .map_err(db_error)?;
        as_u64(row.count)
    }

    async fn external_import(&self, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
        external::import(&self.writer, import).await
    }
    async fn external_complete_source(&self, source: &ExternalSource) -> Result<(), StoreError> {
        external::complete_source(&self.writer, source).await
    }

    async fn external_set_flags(&self, flags: &[ExternalFlag]) -> Result<(u64, u64), StoreError> {
        external::set_flags(&self.writer, flags).await
    }

    async fn external_sources(&self) -> Result<Vec<ExternalSource>, StoreError> {
        external::sources(&self.readers).await
    }

    async fn external_records(
        &self,
        filter: &ExternalFilter,
        page: Page,
    ) -> Result<Vec<(u64, ExternalRecord)>, StoreError> {
        external::records(&self.readers, filter, page).await
    }

    async fn external_quarantined(&self, page: Page) -> Result<Vec<(u64, ExternalQuarantined)>, StoreError> {
        external::quarantined(&self.readers, page).await
    }

    async fn external_flags(&self, page: Page) -> Result<Vec<(u64, ExternalFlag)>, StoreError> {
        external::flags(&self.readers, page).await
    }

    async fn external_totals(&self) -> Result<ExternalTotals, StoreError> {
        external::totals(&self.readers).await
    }
    async fn external_lookup(&self, keys: &[(String, String, String)]) -> Result<Vec<ExternalRecord>, StoreError> {
        external::lookup(&self.readers, keys).await
    }
    async fn external_scan(
        &self,
        scan: ExternalScan,
        visit: &mut (dyn FnMut(ExternalRecord) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        external::scan(&self.readers, scan, visit).await
    }
}

impl SqliteStore {
    /// Supply by state of the batches `first..=last`.
    async fn batch_supplies(&self, first: BatchId, last: BatchId) -> Result<BTreeMap<BatchId, Balances>, StoreError> {
        let (first, last) = (as_i64(first.0), as_i64(last.0));
        let rows = sqlx::query!(
            // Each batch's blocks by primary-key range over its serial range (no index on
            // `blocks.batch`: migration 0011). CROSS JOIN keeps batches the outer loop, and `+`
            // stops SQLite from building a temporary index on `blocks.batch` instead.
            r#"SELECT b.batch AS "batch!: i64", b.state AS "state!: String",
                      SUM(b.serial_end - b.serial_start + 1) AS "quantity!: i64"
               FROM batches t CROSS JOIN blocks b ON b.serial_start BETWEEN t.serial_start AND t.serial_end
               WHERE t.id BETWEEN ?1 AND ?2 AND +b.batch = t.id GROUP BY b.batch, b.state"#,
            first,
            last
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        let mut supplies: BTreeMap<BatchId, Balances> = BTreeMap::new();
        for row in rows {
            supplies
                .entry(BatchId(as_u64(row.batch)?))
                .or_default()
                .add(parse_enum(&row.state)?, as_u64(row.quantity)?);
        }
        Ok(supplies)
    }
}

/// Reads stored tree hashes in the order asked, with one `IN (…)` query per chunk of 2 000 (a tile
/// needs 256, a proof about 2·log n; SQLite accepts 32 766 bound values).
async fn read_tree_hashes(conn: &mut sqlx::SqliteConnection, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
    use sqlx::Row;
    let mut found = BTreeMap::new();
    for chunk in indexes.chunks(2_000) {
        let mut b = sqlx::QueryBuilder::new("SELECT idx, hash FROM tree_hashes WHERE idx IN (");
        let mut list = b.separated(", ");
        for index in chunk {
            list.push_bind(as_i64(*index));
        }
        b.push(")");
        for row in b.build().fetch_all(&mut *conn).await.map_err(db_error)? {
            let index: i64 = row.try_get("idx").map_err(db_error)?;
            let hash: Vec<u8> = row.try_get("hash").map_err(db_error)?;
            found.insert(index, hash32(&hash)?);
        }
    }
    indexes
        .iter()
        .map(|i| {
            found.get(&as_i64(*i)).copied().ok_or_else(|| StoreError::Corrupt(format!("tree hash {i} is missing")))
        })
        .collect()
}

async fn load_retirements(
    conn: &mut sqlx::SqliteConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Retirement>, StoreError> {
    let rows = sqlx::query_as!(
        RetirementRow,
        "SELECT id, account, beneficiary_name, beneficiary_country, beneficiary_identifier, purpose,
                claim_from, claim_to, jurisdiction, note, retired_at
         FROM retirements WHERE id > ?1 ORDER BY id LIMIT ?2",
        after,
        limit
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let ranges = sqlx::query_as!(
        RangeRow,
        r#"SELECT retirement AS "owner!: i64", serial_start, serial_end FROM retirement_ranges
           WHERE retirement BETWEEN ?1 AND ?2 ORDER BY retirement, serial_start"#,
        first,
        last
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    attach_ranges(rows, ranges, |r| r.id, RetirementRow::into_domain)
}

async fn load_cancellations(
    conn: &mut sqlx::SqliteConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Cancellation>, StoreError> {
    let rows = sqlx::query_as!(
        CancellationRow,
        "SELECT id, account, reason, note, cancelled_at FROM cancellations WHERE id > ?1 ORDER BY id LIMIT ?2",
        after,
        limit
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id)) else {
        return Ok(Vec::new());
    };
    let ranges = sqlx::query_as!(
        RangeRow,
        r#"SELECT cancellation AS "owner!: i64", serial_start, serial_end FROM cancellation_ranges
           WHERE cancellation BETWEEN ?1 AND ?2 ORDER BY cancellation, serial_start"#,
        first,
        last
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    attach_ranges(rows, ranges, |c| c.id, CancellationRow::into_domain)
}

/// Gives each record row its serial ranges (loaded in one query for the page) and converts it.
fn attach_ranges<R, T>(
    rows: Vec<R>,
    ranges: Vec<RangeRow>,
    id: impl Fn(&R) -> i64,
    convert: impl Fn(R, Vec<furrow_domain::SerialRange>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut grouped = group_ranges(ranges)?;
    rows.into_iter()
        .map(|row| {
            let ranges = grouped.remove(&id(&row)).unwrap_or_default();
            convert(row, ranges)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use furrow_store::Store;

    async fn pragma(pool: &SqlitePool, statement: &'static str) -> i64 {
        sqlx::query_scalar(statement).fetch_one(pool).await.expect("pragma")
    }

    /// A request that times out drops `totals` half-way through its read transaction. The
    /// connection goes back to the pool, and the next caller that gets it must not find itself
    /// inside that transaction ("cannot start a transaction within a transaction", which made
    /// every later `/api/v1/status` on a 10 M-block registry fail).
    #[tokio::test]
    async fn a_cancelled_totals_leaves_no_transaction_open_on_its_connection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open");
        // Enough blocks that summing them takes far longer than the timeout below.
        for statement in [
            "INSERT INTO accounts (id, kind, name) VALUES (1, 'buyer', 'a')",
            "INSERT INTO batches (id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at) \
             VALUES (1, 1, 'JP', 2020, 1, 2000000, 0, '', 0)",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
             INSERT INTO blocks (serial_start, serial_end, batch, account, state) \
             SELECT 2 * i - 1, 2 * i, 1, 1, 'tradable' FROM n",
        ] {
            sqlx::query(statement).execute(&store.writer).await.expect("fill");
        }
        // One reader connection, so the next call surely gets the one the cancelled call used.
        let options = SqliteConnectOptions::new().filename(dir.path().join("furrow.db")).read_only(true);
        let readers = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("readers");
        let one = SqliteStore { writer: store.writer.clone(), thread: None, readers, checkpoints: None };
        let expected = one.totals().await.expect("totals");
        for _ in 0..3 {
            // Cancelled while SQLite is summing, after the read transaction began.
            if let Ok(finished) = tokio::time::timeout(Duration::from_millis(5), one.totals()).await {
                finished.expect("totals on the connection a cancelled totals went back to the pool with");
                panic!("summing a million blocks took under 5 ms: the test proves nothing");
            }
            let again = one.totals().await.expect("the next totals on the same connection");
            assert_eq!(again.supply, expected.supply);
        }
        one.readers.close().await;
        store.close().await;
    }

    #[tokio::test]
    async fn the_writer_keeps_statement_journals_in_memory_and_a_large_page_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open");
        let pragmas = store
            .write(|conn| {
                let read = |name: &str| conn.pragma_query_value(None, name, |row| row.get::<_, i64>(0));
                Ok(["temp_store", "cache_size", "wal_autocheckpoint", "synchronous", "foreign_keys"]
                    .map(|name| read(name).expect("pragma")))
            })
            .await
            .expect("the writer thread answers");
        assert_eq!(pragmas, [2, WRITER_CACHE_KIB, 8000, 2, 1], "MEMORY, 256 MiB, 8 000 pages, FULL, on");
        assert_eq!(pragma(&store.writer, "PRAGMA wal_autocheckpoint").await, 8000);
        assert_eq!(pragma(&store.writer, "PRAGMA synchronous").await, 2, "durability stays FULL");
        store.close().await;
    }

    #[tokio::test]
    async fn committed_pages_reach_the_database_file_without_a_writer_checkpoint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("furrow.db");
        let store = SqliteStore::open(&path).await.expect("open");
        // Far below the writer's own checkpoint threshold, so only the background task can
        // move these pages out of the WAL.
        let size = || std::fs::metadata(&path).expect("db file").len();
        let before = size();
        let mut tx = store.writer.begin().await.expect("begin");
        sqlx::query("CREATE TABLE filler (x BLOB)").execute(&mut *tx).await.expect("create");
        for _ in 0..50 {
            sqlx::query("INSERT INTO filler VALUES (zeroblob(4000))").execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
        let mut grown = false;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if size() >= before + 200_000 {
                grown = true;
                break;
            }
        }
        assert!(grown, "the database file stayed near {before} bytes: nothing checkpointed the WAL");
        store.close().await;
    }
}
