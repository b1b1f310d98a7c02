//! Loading a long history in one go (the bench's dataset generator, 10⁷ log entries).
//!
//! Through `Store::commit`, every group rewrites the `blocks` rows its transfers split (the same
//! block is deleted and inserted again many times over a long history) and inserts into indexes
//! whose keys arrive in random order: the log's leaf hashes, the serial history by batch, the
//! blocks by account and by batch. Past a few million entries those indexes no longer fit the page
//! cache and every insert became a read, about 1 400 entries/s. A bulk load instead drops those
//! secondary indexes, lets the caller append the log and its append-only projections (groups whose
//! entries carry no block changes), writes the final `blocks` projection once, in key order, and
//! then creates the indexes again from their rows (a sort, not 10⁷ random inserts).
//!
//! The indexes are recreated with the very statements SQLite kept from the migrations
//! (`sqlite_master.sql`), so the finished database has the same schema as one written through
//! `Store::commit`, and the migrator (which checks `_sqlx_migrations`, untouched here) finds it
//! current.

use furrow_domain::Block;
use furrow_store::StoreError;
use rusqlite::{Connection, TransactionBehavior};

use crate::writer::sqlite_error;
use crate::{SqliteStore, group};

/// A bulk load in progress: the indexes it dropped, which [`SqliteStore::finish_bulk_load`]
/// creates again. Until then lookups by those keys scan their tables.
#[derive(Debug)]
#[must_use = "a bulk load leaves the database without some of its indexes until it is finished"]
pub struct BulkLoad {
    /// `(name, CREATE INDEX statement)`, as `sqlite_master` holds them.
    indexes: Vec<(String, String)>,
}

impl BulkLoad {
    /// The names of the indexes dropped for the load.
    pub fn dropped(&self) -> impl Iterator<Item = &str> {
        self.indexes.iter().map(|(name, _)| name.as_str())
    }
}

impl SqliteStore {
    /// Starts a bulk load into an empty registry: drops the secondary indexes of the log, the
    /// serial history and the blocks. Commit groups whose entries have no block changes (the
    /// caller keeps the blocks in its `Ledger`), then call [`SqliteStore::finish_bulk_load`].
    pub async fn begin_bulk_load(&self) -> Result<BulkLoad, StoreError> {
        self.write(drop_indexes).await
    }

    /// Ends a bulk load: writes `blocks` (the final projection, in serial order, as a `Ledger`
    /// holds it) into the empty `blocks` table and creates the dropped indexes again, in one
    /// transaction. The blocks cross to the writer thread a chunk at a time, so ten million of
    /// them are never all copied at once.
    pub async fn finish_bulk_load<'a>(
        &self,
        load: BulkLoad,
        blocks: impl IntoIterator<Item = &'a Block>,
    ) -> Result<(), StoreError> {
        let (thread, _exclusive) = self.writer_thread().await?;
        thread.run(begin_blocks).await?;
        let written = async {
            let mut chunk = Vec::with_capacity(BLOCKS_PER_CHUNK);
            for block in blocks {
                chunk.push(*block);
                if chunk.len() == BLOCKS_PER_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(BLOCKS_PER_CHUNK));
                    thread.run(move |conn| group::insert_blocks(conn, &full)).await?;
                }
            }
            thread
                .run(move |conn| {
                    group::insert_blocks(conn, &chunk)?;
                    for (_, statement) in load.indexes {
                        // The migration's own statement, as sqlite_master kept it.
                        conn.execute_batch(&statement).map_err(sqlite_error)?;
                    }
                    conn.execute_batch("COMMIT").map_err(sqlite_error)
                })
                .await
        }
        .await;
        if written.is_err() {
            let _ = thread.run(|conn| conn.execute_batch("ROLLBACK").map_err(sqlite_error)).await;
        }
        written
    }
}

/// Blocks sent to the writer thread at once.
const BLOCKS_PER_CHUNK: usize = 100_000;

/// Opens the transaction that writes the blocks, if there are none yet.
fn begin_blocks(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(sqlite_error)?;
    let present = conn.query_row("SELECT COUNT(*) FROM blocks", [], |row| row.get::<_, i64>(0));
    if matches!(present, Ok(0)) {
        return Ok(());
    }
    let _ = conn.execute_batch("ROLLBACK");
    Err(match present {
        Ok(present) => StoreError::Other(format!(
            "a bulk load writes the blocks once, at the end; {present} were written during it"
        )),
        Err(e) => sqlite_error(e),
    })
}

fn drop_indexes(conn: &mut Connection) -> Result<BulkLoad, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite_error)?;
    let entries: i64 = tx.query_row("SELECT COUNT(*) FROM log_entries", [], |row| row.get(0)).map_err(sqlite_error)?;
    if entries != 0 {
        return Err(StoreError::Other(format!(
            "a bulk load needs an empty registry; this one has {entries} log entries"
        )));
    }
    // The secondary indexes (`sql` is NULL for a primary key's) of the tables whose keys arrive
    // out of order.
    let indexes: Vec<(String, String)> = {
        let mut select = tx
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ('log_entries', 'serial_history', 'blocks') ORDER BY name",
            )
            .map_err(sqlite_error)?;
        select.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).and_then(Iterator::collect).map_err(sqlite_error)?
    };
    for (name, _) in &indexes {
        // Names come from sqlite_master, not from input; quoted all the same.
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))).map_err(sqlite_error)?;
    }
    tx.commit().map_err(sqlite_error)?;
    Ok(BulkLoad { indexes })
}
