//! The PostgreSQL backend: what an operator runs in production.
//!
//! The sequencer is still the only writer. Its exclusivity across processes is a session-level
//! advisory lock (keyed by the schema, so test schemas in one database do not collide) taken by
//! [`Store::claim_writer`] on a connection held for the life of the store; a second writer is
//! refused at start. Should that connection die, the primary key of `log_entries.idx` is the fence:
//! two writers can never both append entry n, and the loser's commit fails and reloads.
//!
//! Reads of the projection (accounts, batches, blocks, retirements, …) may go to a streaming
//! replica (`read_url`). The log, the tree, checkpoints used by the checkpointer, idempotency
//! records and tokens are always read from the primary: the writer side needs a current view, and
//! a proof must be computed from the same database that signed its checkpoint.
//!
//! Queries are checked at compile time against `migrations/` (offline data in `.sqlx/`).

mod accounts;
mod external;
mod group;
mod program;
mod security;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Block, Cancellation, CancellationId, Ledger, Program, Record, Retirement,
    RetirementId, Timestamp,
};
use furrow_store::{
    Balances, BlockFilter, CheckpointRow, CommitGroup, IdempotencyRecord, LogRow, Page, ReplicaStatus, Store,
    StoreError, TokenRecord, Totals,
};
use furrow_store::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalImportOutcome, ExternalQuarantined, ExternalRecord,
    ExternalScan, ExternalSource, ExternalTotals,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};
use tokio::sync::Mutex;

use furrow_store::rows::*;
use furrow_store::{SecurityEvent, TokenListing, TokenPolicy};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct PgStore {
    /// The primary: every write, and every read the writer side depends on.
    primary: PgPool,
    /// Projection reads: the primary again, or a streaming replica.
    readers: PgPool,
    /// Whether `readers` is a separate server (a replica).
    replica: bool,
    /// The connection that holds the writer's advisory lock, once claimed.
    writer_lock: Mutex<Option<PgConnection>>,
    options: PgConnectOptions,
}

impl PgStore {
    /// Connects to the primary, runs pending migrations, and connects the readers (to `read_url`
    /// if given). URLs are libpq-style: `postgres://user@host:port/db`, and
    /// `?options=-c%20search_path%3Dschema` selects a schema.
    pub async fn connect(url: &str, read_url: Option<&str>) -> Result<Self, StoreError> {
        let store = Self::connect_without_migrating(url, read_url).await?;
        MIGRATOR.run(&store.primary).await.map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        Ok(store)
    }

    /// Connects without running migrations: for an auditor reading someone else's database, and
    /// for a replica, which cannot be written.
    pub async fn connect_without_migrating(url: &str, read_url: Option<&str>) -> Result<Self, StoreError> {
        let options: PgConnectOptions =
            url.parse().map_err(|e| StoreError::Other(format!("not a PostgreSQL URL ({e}): {}", redact(url))))?;
        let primary = pool(&options, 8).await?;
        let (readers, replica) = match read_url {
            Some(read_url) => {
                let read_options: PgConnectOptions = read_url
                    .parse()
                    .map_err(|e| StoreError::Other(format!("not a PostgreSQL URL ({e}): {}", redact(read_url))))?;
                (pool(&read_options, 8).await?, true)
            }
            None => (primary.clone(), false),
        };
        Ok(Self { primary, readers, replica, writer_lock: Mutex::new(None), options })
    }
}

impl PgStore {
    /// Whether the registry's tables exist here (a restore needs an empty target).
    pub async fn has_registry_tables(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT to_regclass('log_entries') IS NOT NULL")
            .fetch_one(&self.primary)
            .await
            .map_err(db_error)
    }
}

async fn pool(options: &PgConnectOptions, size: u32) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.clone())
        .await
        .map_err(|e| StoreError::Other(format!("cannot connect to PostgreSQL at {}: {e}", describe(options))))
}

fn describe(options: &PgConnectOptions) -> String {
    format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or("(default)"))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = url[scheme + 3..at].split(':').next().unwrap_or_default();
            format!("{}://{user}@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

async fn schema(conn: &mut PgConnection) -> Result<String, StoreError> {
    let row = sqlx::query!(r#"SELECT current_schema() AS "schema!""#).fetch_one(conn).await.map_err(db_error)?;
    Ok(row.schema)
}

pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
            return StoreError::Conflict { constraint: db.message().to_owned() };
        }
        // serialization_failure, deadlock_detected, lock_not_available, and the server going away.
        if db.code().is_some_and(|c| matches!(c.as_ref(), "40001" | "40P01" | "55P03" | "57P01")) {
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

#[async_trait]
impl Store for PgStore {
    async fn load_ledger(&self) -> Result<Ledger, StoreError> {
        let mut conn = self.primary.acquire().await.map_err(db_error)?;
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

    /// Closes the pools and releases the writer's lock.
    async fn close(&self) {
        if let Some(mut conn) = self.writer_lock.lock().await.take() {
            // Release the lock before disconnecting: the server drops a closed session's locks
            // only when its backend exits, a moment later, and a successor starting at once
            // would be refused.
            let _ = sqlx::query("SELECT pg_advisory_unlock_all()").execute(&mut conn).await;
            let _ = conn.close().await;
        }
        self.readers.close().await;
        self.primary.close().await;
    }

    async fn claim_writer(&self) -> Result<(), StoreError> {
        let mut held = self.writer_lock.lock().await;
        if held.is_some() {
            return Ok(());
        }
        let mut conn = PgConnection::connect_with(&self.options).await.map_err(db_error)?;
        let row = sqlx::query!(
            r#"SELECT pg_try_advisory_lock(hashtextextended('furrow-writer:' || current_schema(), 0)) AS "locked!""#
        )
        .fetch_one(&mut conn)
        .await
        .map_err(db_error)?;
        if !row.locked {
            return Err(StoreError::WriterElsewhere(format!(
                "another furrow server is already the writer of {} (schema {}); a database has one writer, so \
                 stop that one first (scale reads with --read-database-url instead)",
                describe(&self.options),
                schema(&mut conn).await?
            )));
        }
        *held = Some(conn);
        Ok(())
    }

    async fn read_replica(&self) -> Result<Option<ReplicaStatus>, StoreError> {
        if !self.replica {
            return Ok(None);
        }
        let primary = sqlx::query!(r#"SELECT pg_current_wal_lsn()::TEXT AS "lsn!""#)
            .fetch_one(&self.primary)
            .await
            .map_err(db_error)?;
        let row = sqlx::query!(
            r#"SELECT pg_is_in_recovery() AS "in_recovery!",
                      pg_last_wal_replay_lsn()::TEXT AS replay_lsn,
                      COALESCE(pg_wal_lsn_diff($1::TEXT::pg_lsn, pg_last_wal_replay_lsn()), 0)::BIGINT AS "lag_bytes!",
                      EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::FLOAT8 AS since_replay"#,
            primary.lsn
        )
        .fetch_one(&self.readers)
        .await
        .map_err(db_error)?;
        let lag_bytes = u64::try_from(row.lag_bytes).unwrap_or(0);
        Ok(Some(ReplicaStatus {
            in_recovery: row.in_recovery,
            primary_lsn: primary.lsn,
            replay_lsn: row.replay_lsn,
            lag_bytes,
            // Time since the last replayed commit is the lag only while the replica is behind;
            // caught up and idle, it would just measure how quiet the primary is.
            lag_seconds: if lag_bytes == 0 { 0.0 } else { row.since_replay.unwrap_or(0.0).max(0.0) },
        }))
    }

    async fn log_size(&self) -> Result<u64, StoreError> {
        let row = sqlx::query!(r#"SELECT COALESCE(MAX(idx) + 1, 0) AS "size!: i64" FROM log_entries"#)
            .fetch_one(&self.primary)
            .await
            .map_err(db_error)?;
        as_u64(row.size)
    }

    async fn commit(&self, group: std::sync::Arc<CommitGroup>) -> Result<(), StoreError> {
        let mut tx = self.primary.begin_with("BEGIN").await.map_err(db_error)?;
        group::write(&mut tx, &group).await?;
        // With WAL and synchronous=FULL, COMMIT returns after the WAL is fsynced: durable.
        tx.commit().await.map_err(db_error)
    }

    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query!(
            "SELECT scope, key, request_hash, outcome, created_at FROM idempotency WHERE scope = $1 AND key = $2",
            scope,
            key
        )
        .fetch_optional(&self.primary)
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
            r#"INSERT INTO tokens (hash, subject, role, accounts, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id AS "id!: i64""#,
            hash,
            token.subject,
            role,
            accounts,
            at
        )
        .fetch_one(&self.primary)
        .await
        .map_err(db_error)?;
        as_u64(row.id)
    }

    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        let hash = &hash[..];
        let row = sqlx::query_as!(
            TokenRow,
            "SELECT id, hash, subject, role, accounts, created_at FROM tokens WHERE hash = $1",
            hash
        )
        .fetch_optional(&self.primary)
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
        security::set_policy(&self.primary, id, can_write, expires_at).await
    }

    async fn token_policy(&self, id: u64) -> Result<Option<TokenPolicy>, StoreError> {
        security::get_policy(&self.primary, id).await
    }

    async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        security::list(&self.primary).await
    }

    async fn revoke_token(&self, id: u64, at: Timestamp) -> Result<bool, StoreError> {
        security::revoke(&self.primary, id, at).await
    }

    async fn touch_token(&self, id: u64, at: Timestamp) -> Result<(), StoreError> {
        security::touch(&self.primary, id, at).await
    }

    async fn append_security_event(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        security::append(&self.primary, event).await
    }

    async fn security_events(&self, page: Page) -> Result<Vec<SecurityEvent>, StoreError> {
        security::events(&self.primary, page).await
    }

    async fn insert_organisation(&self, name: &str, at: Timestamp) -> Result<u64, StoreError> {
        accounts::insert_organisation(&self.primary, name, at).await
    }
    async fn organisation(&self, id: u64) -> Result<Option<furrow_store::Organisation>, StoreError> {
        accounts::organisation_by(&self.primary, Some(id), None).await
    }
    async fn organisation_named(&self, name: &str) -> Result<Option<furrow_store::Organisation>, StoreError> {
        accounts::organisation_by(&self.primary, None, Some(name)).await
    }
    async fn insert_user(&self, user: &furrow_store::UserRecord) -> Result<u64, StoreError> {
        accounts::insert_user(&self.primary, user).await
    }
    async fn user(&self, id: u64) -> Result<Option<furrow_store::UserRecord>, StoreError> {
        accounts::user_by(&self.primary, Some(id), None).await
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<furrow_store::UserRecord>, StoreError> {
        accounts::user_by(&self.primary, None, Some(email)).await
    }
    async fn users(&self) -> Result<Vec<furrow_store::UserRecord>, StoreError> {
        accounts::users(&self.primary).await
    }
    async fn set_user_totp(&self, id: u64, secret: Option<&[u8]>) -> Result<(), StoreError> {
        accounts::set_totp(&self.primary, id, secret).await
    }
    async fn insert_session(&self, session: &furrow_store::SessionRecord) -> Result<(), StoreError> {
        accounts::insert_session(&self.primary, session).await
    }
    async fn session(&self, hash: &[u8; 32]) -> Result<Option<furrow_store::SessionRecord>, StoreError> {
        accounts::session_by(&self.primary, hash).await
    }
    async fn touch_session(&self, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError> {
        accounts::touch_session(&self.primary, hash, at).await
    }
    async fn delete_session(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        accounts::delete_session(&self.primary, hash).await
    }
    async fn insert_role_request(&self, request: &furrow_store::RoleRequest) -> Result<u64, StoreError> {
        accounts::insert_request(&self.primary, request).await
    }
    async fn role_request(&self, id: u64) -> Result<Option<furrow_store::RoleRequest>, StoreError> {
        Ok(accounts::requests(&self.primary, Some(id)).await?.pop())
    }
    async fn role_requests(&self) -> Result<Vec<furrow_store::RoleRequest>, StoreError> {
        accounts::requests(&self.primary, None).await
    }
    async fn apply_role_request(&self, id: u64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
        accounts::apply_request(&self.primary, id, by, at).await
    }

    // The program's pages are read from the primary, so an operator sees an edit at once (a
    // replica may lag).
    async fn program_entries(&self) -> Result<Vec<furrow_store::ProgramEntry>, StoreError> {
        program::entries(&self.primary).await
    }
    async fn seed_program_entries(&self, entries: &[furrow_store::ProgramEntry]) -> Result<(), StoreError> {
        program::seed(&self.primary, entries).await
    }
    async fn insert_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<u64, StoreError> {
        program::insert(&self.primary, entry).await
    }
    async fn update_program_entry(&self, entry: &furrow_store::ProgramEntry) -> Result<bool, StoreError> {
        program::update(&self.primary, entry).await
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
        // not a bare BEGIN: a request cancelled mid-way (a timeout) rolls it back when dropped
        // instead of returning its connection to the pool inside a transaction.
        let mut conn =
            self.readers.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(db_error)?;
        let supply = sqlx::query!(
            r#"SELECT state, SUM(serial_end - serial_start + 1)::BIGINT AS "quantity!: i64" FROM blocks GROUP BY state"#
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error);
        let counts = sqlx::query!(
            r#"SELECT (SELECT COUNT(*) FROM accounts) AS "accounts!: i64",
                      (SELECT COUNT(*) FROM batches) AS "batches!: i64",
                      (SELECT COUNT(*) FROM retirements) AS "retirements!: i64",
                      (SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries) AS "log_size!: i64""#
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error);
        conn.commit().await.map_err(db_error)?;
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
            "SELECT id, kind, name FROM accounts WHERE id > $1 ORDER BY id LIMIT $2",
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
        let Some(row) = sqlx::query_as!(AccountRow, "SELECT id, kind, name FROM accounts WHERE id = $1", id)
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let balances = sqlx::query!(
            r#"SELECT state, SUM(serial_end - serial_start + 1)::BIGINT AS "quantity!: i64" FROM blocks WHERE account = $1 GROUP BY state"#,
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
             FROM batches WHERE id > $1 ORDER BY id LIMIT $2",
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
            "SELECT id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at FROM batches WHERE id = $1",
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
        let (after, limit) = (after(page), limit(page));
        let batch = filter.batch.map(|b| as_i64(b.0));
        let account = filter.account.map(|a| as_i64(a.0));
        let state = filter.state.map(|s| s.as_str());
        sqlx::query_as!(
            BlockRow,
            "SELECT serial_start, serial_end, batch, account, state FROM blocks
             WHERE serial_start > $1
               AND ($2::BIGINT IS NULL OR batch = $2) AND ($3::BIGINT IS NULL OR account = $3)
               AND ($4::TEXT IS NULL OR state = $4)
             ORDER BY serial_start LIMIT $5",
            after,
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
             WHERE serial_start <= $1 ORDER BY serial_start DESC LIMIT 1",
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
                             WHERE h.batch = $1 AND h.serial_start <= $3 AND h.serial_end >= $2)
             ORDER BY e.idx LIMIT $4",
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
            "SELECT idx, timestamp_us, actor, kind, entry, leaf_hash FROM log_entries WHERE idx > $1 ORDER BY idx LIMIT $2",
            after,
            limit
        )
        .fetch_all(&self.primary)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(LogRowDb::into_domain)
        .collect()
    }

    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        let (from, limit) = (as_i64(from), i64::from(limit));
        let rows = sqlx::query!("SELECT leaf_hash FROM log_entries WHERE idx >= $1 ORDER BY idx LIMIT $2", from, limit)
            .fetch_all(&self.primary)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| hash32(&r.leaf_hash)).collect()
    }

    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let hash = &leaf_hash[..];
        let row = sqlx::query!("SELECT idx FROM log_entries WHERE leaf_hash = $1 ORDER BY idx LIMIT 1", hash)
            .fetch_optional(&self.primary)
            .await
            .map_err(db_error)?;
        row.map(|r| as_u64(r.idx)).transpose()
    }

    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut conn = self.primary.acquire().await.map_err(db_error)?;
        group::read_tree_hashes(&mut conn, indexes).await
    }

    async fn extend_tree(
        &self,
        first_index: u64,
        hashes: &[[u8; 32]],
        checkpoint: &CheckpointRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.primary.begin_with("BEGIN").await.map_err(db_error)?;
        group::insert_tree_hashes(&mut tx, first_index, hashes).await?;
        let (size, root, at) = (as_i64(checkpoint.tree_size), &checkpoint.root[..], checkpoint.created_at.0);
        sqlx::query!(
            "INSERT INTO checkpoints (tree_size, root, note, created_at) VALUES ($1, $2, $3, $4)",
            size,
            root,
            checkpoint.note,
            at
        )
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        let row = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
        )
        .fetch_optional(&self.primary)
        .await
        .map_err(db_error)?;
        row.map(CheckpointDbRow::into_domain).transpose()
    }

    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError> {
        let size = as_i64(size);
        let row = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1",
            size
        )
        .fetch_optional(&self.primary)
        .await
        .map_err(db_error)?;
        row.map(CheckpointDbRow::into_domain).transpose()
    }

    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError> {
        let (after, limit) = (after.map_or(-1, as_i64), i64::from(limit));
        let rows = sqlx::query_as!(
            CheckpointDbRow,
            "SELECT tree_size, root, note, created_at FROM checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2",
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
            .fetch_one(&self.primary)
            .await
            .map_err(db_error)?;
        as_u64(row.count)
    }

    // The external area is always read from the primary: the importer reconciles against what it
    // just wrote, and the flags are the operator's view of the latest import.

    async fn external_import(&self, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
        external::import(&self.primary, import).await
    }
    async fn external_complete_source(&self, source: &ExternalSource) -> Result<(), StoreError> {
        external::complete_source(&self.primary, source).await
    }

    async fn external_set_flags(&self, flags: &[ExternalFlag]) -> Result<(u64, u64), StoreError> {
        external::set_flags(&self.primary, flags).await
    }

    async fn external_sources(&self) -> Result<Vec<ExternalSource>, StoreError> {
        external::sources(&self.primary).await
    }

    async fn external_records(
        &self,
        filter: &ExternalFilter,
        page: Page,
    ) -> Result<Vec<(u64, ExternalRecord)>, StoreError> {
        external::records(&self.primary, filter, page).await
    }

    async fn external_quarantined(&self, page: Page) -> Result<Vec<(u64, ExternalQuarantined)>, StoreError> {
        external::quarantined(&self.primary, page).await
    }

    async fn external_flags(&self, page: Page) -> Result<Vec<(u64, ExternalFlag)>, StoreError> {
        external::flags(&self.primary, page).await
    }

    async fn external_totals(&self) -> Result<ExternalTotals, StoreError> {
        external::totals(&self.primary).await
    }
    async fn external_lookup(&self, keys: &[(String, String, String)]) -> Result<Vec<ExternalRecord>, StoreError> {
        external::lookup(&self.primary, keys).await
    }
    async fn external_scan(
        &self,
        scan: ExternalScan,
        visit: &mut (dyn FnMut(ExternalRecord) -> Result<(), StoreError> + Send),
    ) -> Result<(), StoreError> {
        external::scan(&self.primary, scan, visit).await
    }
}

impl PgStore {
    /// Supply by state of the batches `first..=last`.
    async fn batch_supplies(&self, first: BatchId, last: BatchId) -> Result<BTreeMap<BatchId, Balances>, StoreError> {
        let (first, last) = (as_i64(first.0), as_i64(last.0));
        let rows = sqlx::query!(
            r#"SELECT batch, state, SUM(serial_end - serial_start + 1)::BIGINT AS "quantity!: i64"
               FROM blocks WHERE batch BETWEEN $1 AND $2 GROUP BY batch, state"#,
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

pub(crate) async fn insert_record(tx: &mut Transaction<'_, Postgres>, record: &Record) -> Result<(), StoreError> {
    match record {
        Record::Program(p) => {
            let (code, country) = (p.code.as_str(), p.country.as_str());
            sqlx::query!("INSERT INTO program (id, code, country, name) VALUES (1, $1, $2, $3)", code, country, p.name)
                .execute(&mut **tx)
                .await
                .map_err(db_error)?;
        }
        Record::Account(a) => {
            let (id, kind) = (as_i64(a.id.0), a.kind.as_str());
            sqlx::query!("INSERT INTO accounts (id, kind, name) VALUES ($1, $2, $3)", id, kind, a.name)
                .execute(&mut **tx)
                .await
                .map_err(db_error)?;
        }
        Record::Batch(b) => {
            let (id, project, country, vintage) =
                (as_i64(b.id.0), as_i64(b.project.0), b.country.as_str(), i64::from(b.vintage.year()));
            let (start, end, buffer, labels, at) = (
                as_i64(b.serials.start()),
                as_i64(b.serials.end()),
                as_i64(b.buffer.0),
                b.labels.join(","),
                b.issued_at.0,
            );
            sqlx::query!(
                "INSERT INTO batches (id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                id,
                project,
                country,
                vintage,
                start,
                end,
                buffer,
                labels,
                at
            )
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        }
        Record::LogKey(vkey) => {
            sqlx::query!("INSERT INTO log_keys (vkey) VALUES ($1)", vkey).execute(&mut **tx).await.map_err(db_error)?;
        }
        Record::Retirement(r) => group::insert_retirements(tx, &[r]).await?,
        Record::Cancellation(c) => group::insert_cancellations(tx, &[c]).await?,
    }
    Ok(())
}

async fn load_retirements(
    conn: &mut sqlx::PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Retirement>, StoreError> {
    let rows = sqlx::query_as!(
        RetirementRow,
        "SELECT id, account, beneficiary_name, beneficiary_country, beneficiary_identifier, purpose,
                claim_from, claim_to, jurisdiction, note, retired_at
         FROM retirements WHERE id > $1 ORDER BY id LIMIT $2",
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
           WHERE retirement BETWEEN $1 AND $2 ORDER BY retirement, serial_start"#,
        first,
        last
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    attach_ranges(rows, ranges, |r| r.id, RetirementRow::into_domain)
}

async fn load_cancellations(
    conn: &mut sqlx::PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Cancellation>, StoreError> {
    let rows = sqlx::query_as!(
        CancellationRow,
        "SELECT id, account, reason, note, cancelled_at FROM cancellations WHERE id > $1 ORDER BY id LIMIT $2",
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
           WHERE cancellation BETWEEN $1 AND $2 ORDER BY cancellation, serial_start"#,
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
