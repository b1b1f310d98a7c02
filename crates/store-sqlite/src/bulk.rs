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

use crate::{SqliteStore, db_error, group};

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
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let entries: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM log_entries").fetch_one(&mut *tx).await.map_err(db_error)?;
        if entries != 0 {
            return Err(StoreError::Other(format!(
                "a bulk load needs an empty registry; this one has {entries} log entries"
            )));
        }
        // The secondary indexes (`sql` is NULL for a primary key's) of the tables whose keys
        // arrive out of order.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('log_entries', 'serial_history', 'blocks') ORDER BY name",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        for (name, _) in &indexes {
            // Names come from sqlite_master, not from input; quoted all the same.
            let statement = format!("DROP INDEX \"{}\"", name.replace('"', "\"\""));
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(BulkLoad { indexes })
    }

    /// Ends a bulk load: writes `blocks` (the final projection, in serial order, as a `Ledger`
    /// holds it) into the empty `blocks` table and creates the dropped indexes again, in one
    /// transaction.
    pub async fn finish_bulk_load<'a>(
        &self,
        load: BulkLoad,
        blocks: impl IntoIterator<Item = &'a Block>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let present: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM blocks").fetch_one(&mut *tx).await.map_err(db_error)?;
        if present != 0 {
            return Err(StoreError::Other(format!(
                "a bulk load writes the blocks once, at the end; {present} were written during it"
            )));
        }
        let mut chunk = Vec::with_capacity(group::CHUNK);
        for block in blocks {
            chunk.push(*block);
            if chunk.len() == group::CHUNK {
                group::insert_blocks(&mut tx, &chunk).await?;
                chunk.clear();
            }
        }
        group::insert_blocks(&mut tx, &chunk).await?;
        for (_, statement) in load.indexes {
            // The migration's own statement, as sqlite_master kept it.
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }
}
