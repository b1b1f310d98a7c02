//! Writing a group commit with a few multi-row statements.
//!
//! One statement per row costs a round trip to sqlx's SQLite worker thread each, and that, not
//! fsync, limited throughput (≈ 7 statements per retirement). Here each table gets one `INSERT`
//! per chunk of rows and blocks one `DELETE` per chunk, whatever the group's size. These
//! statements are built at run time, so the compile-time check does not cover them; the
//! model-versus-database property tests in `app/tests` do.

use furrow_domain::{Block, Cancellation, Record, Retirement};
use furrow_store::{CommitGroup, StoreError};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::{db_error, insert_record};
use furrow_store::rows::{as_i64, hash32, lifecycle_rows};

/// Rows per statement: SQLite accepts 32 766 bound values; the widest row here has 12.
pub(crate) const CHUNK: usize = 2_000;

pub(crate) async fn write(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    insert_log_entries(tx, group).await?;
    let mut retirements = Vec::new();
    let mut cancellations = Vec::new();
    for record in group.entries.iter().flat_map(|e| &e.effects.records) {
        match record {
            Record::Retirement(r) => retirements.push(r),
            Record::Cancellation(c) => cancellations.push(c),
            // Rare (program, accounts, batches): the compile-time checked single-row inserts.
            other => insert_record(tx, other).await?,
        }
    }
    insert_retirements(tx, &retirements).await?;
    insert_cancellations(tx, &cancellations).await?;
    write_blocks(tx, group).await?;
    insert_history(tx, group).await?;
    insert_lifecycle(tx, group).await?;
    insert_idempotency(tx, group).await
}

async fn run(tx: &mut Transaction<'_, Sqlite>, mut builder: QueryBuilder<Sqlite>) -> Result<u64, StoreError> {
    let done = builder.build().execute(&mut **tx).await.map_err(db_error)?;
    Ok(done.rows_affected())
}

async fn insert_log_entries(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    for chunk in group.entries.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO log_entries (idx, timestamp_us, actor, kind, entry, leaf_hash) ");
        b.push_values(chunk, |mut row, item| {
            row.push_bind(as_i64(item.entry.index))
                .push_bind(item.entry.timestamp.0)
                .push_bind(item.entry.actor.as_str())
                .push_bind(item.entry.event.kind())
                .push_bind(item.bytes.as_slice())
                .push_bind(&item.leaf_hash[..]);
        });
        run(tx, b).await?;
    }
    Ok(())
}

pub(crate) async fn insert_retirements(
    tx: &mut Transaction<'_, Sqlite>,
    retirements: &[&Retirement],
) -> Result<(), StoreError> {
    for chunk in retirements.chunks(CHUNK) {
        let mut b = QueryBuilder::new(
            "INSERT INTO retirements (id, account, quantity, beneficiary_name, beneficiary_country, \
             beneficiary_identifier, purpose, claim_from, claim_to, jurisdiction, note, retired_at) ",
        );
        b.push_values(chunk, |mut row, r| {
            let c = &r.claim;
            row.push_bind(as_i64(r.id.0))
                .push_bind(as_i64(r.account.0))
                .push_bind(as_i64(furrow_domain::total(&r.ranges).0))
                .push_bind(c.beneficiary.name.as_str())
                .push_bind(c.beneficiary.country.map(|x| x.as_str().to_owned()))
                .push_bind(c.beneficiary.identifier.as_deref())
                .push_bind(c.purpose.as_str())
                .push_bind(c.claim_period.from.to_string())
                .push_bind(c.claim_period.to.to_string())
                .push_bind(c.jurisdiction.as_str())
                .push_bind(c.note.as_str())
                .push_bind(r.at.0);
        });
        run(tx, b).await?;
    }
    let ranges: Vec<(i64, i64, i64)> = retirements
        .iter()
        .flat_map(|r| r.ranges.iter().map(|x| (as_i64(r.id.0), as_i64(x.start()), as_i64(x.end()))))
        .collect();
    insert_ranges(tx, "INSERT INTO retirement_ranges (retirement, serial_start, serial_end) ", &ranges).await
}

pub(crate) async fn insert_cancellations(
    tx: &mut Transaction<'_, Sqlite>,
    cancellations: &[&Cancellation],
) -> Result<(), StoreError> {
    for chunk in cancellations.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO cancellations (id, account, quantity, reason, note, cancelled_at) ");
        b.push_values(chunk, |mut row, c| {
            row.push_bind(as_i64(c.id.0))
                .push_bind(as_i64(c.account.0))
                .push_bind(as_i64(furrow_domain::total(&c.ranges).0))
                .push_bind(c.reason.as_str())
                .push_bind(c.note.as_str())
                .push_bind(c.at.0);
        });
        run(tx, b).await?;
    }
    let ranges: Vec<(i64, i64, i64)> = cancellations
        .iter()
        .flat_map(|c| c.ranges.iter().map(|x| (as_i64(c.id.0), as_i64(x.start()), as_i64(x.end()))))
        .collect();
    insert_ranges(tx, "INSERT INTO cancellation_ranges (cancellation, serial_start, serial_end) ", &ranges).await
}

async fn insert_ranges(
    tx: &mut Transaction<'_, Sqlite>,
    statement: &'static str,
    ranges: &[(i64, i64, i64)],
) -> Result<(), StoreError> {
    for chunk in ranges.chunks(CHUNK) {
        let mut b = QueryBuilder::new(statement);
        b.push_values(chunk, |mut row, (owner, start, end)| {
            row.push_bind(*owner).push_bind(*start).push_bind(*end);
        });
        run(tx, b).await?;
    }
    Ok(())
}

/// Deletes the blocks the group removed, then inserts the ones it left.
async fn write_blocks(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    let net = group.net_blocks();
    for chunk in net.removed.chunks(CHUNK) {
        let mut b = QueryBuilder::new("DELETE FROM blocks WHERE serial_start IN (");
        let mut list = b.separated(", ");
        for start in chunk {
            list.push_bind(as_i64(*start));
        }
        b.push(")");
        let deleted = run(tx, b).await?;
        if deleted != chunk.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "{} of {} removed blocks were not in the database",
                chunk.len() as u64 - deleted,
                chunk.len()
            )));
        }
    }
    insert_blocks(tx, &net.added).await
}

/// Inserts blocks (new keys only).
pub(crate) async fn insert_blocks(tx: &mut Transaction<'_, Sqlite>, blocks: &[Block]) -> Result<(), StoreError> {
    for chunk in blocks.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO blocks (serial_start, serial_end, batch, account, state) ");
        b.push_values(chunk, |mut row, block: &Block| {
            row.push_bind(as_i64(block.range.start()))
                .push_bind(as_i64(block.range.end()))
                .push_bind(as_i64(block.batch.0))
                .push_bind(as_i64(block.account.0))
                .push_bind(block.state.as_str());
        });
        run(tx, b).await?;
    }
    Ok(())
}

async fn insert_history(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    let rows: Vec<(i64, i64, i64, i64)> = group
        .entries
        .iter()
        .flat_map(|item| {
            let index = as_i64(item.entry.index);
            item.effects
                .touched
                .iter()
                .map(move |(batch, range)| (as_i64(batch.0), as_i64(range.start()), as_i64(range.end()), index))
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO serial_history (batch, serial_start, serial_end, log_index) ");
        b.push_values(chunk, |mut row, (batch, start, end, index)| {
            row.push_bind(*batch).push_bind(*start).push_bind(*end).push_bind(*index);
        });
        run(tx, b).await?;
    }
    Ok(())
}

/// Marks the group's lifecycle entries (replayed into the lifecycle state on load) and stores their
/// private payloads beside them.
async fn insert_lifecycle(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    let (lifecycle, private) = lifecycle_rows(group);
    for chunk in lifecycle.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO lifecycle_entries (log_index) ");
        b.push_values(chunk, |mut row, index| {
            row.push_bind(*index);
        });
        run(tx, b).await?;
    }
    for chunk in private.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO log_private (log_index, payload) ");
        b.push_values(chunk, |mut row, (index, payload)| {
            row.push_bind(*index).push_bind(*payload);
        });
        run(tx, b).await?;
    }
    Ok(())
}

async fn insert_idempotency(tx: &mut Transaction<'_, Sqlite>, group: &CommitGroup) -> Result<(), StoreError> {
    for chunk in group.idempotency.chunks(CHUNK) {
        let mut b = QueryBuilder::new("INSERT INTO idempotency (scope, key, request_hash, outcome, created_at) ");
        b.push_values(chunk, |mut row, r| {
            row.push_bind(r.scope.as_str())
                .push_bind(r.key.as_str())
                .push_bind(&r.request_hash[..])
                .push_bind(r.outcome.as_str())
                .push_bind(r.created_at.0);
        });
        run(tx, b).await?;
    }
    Ok(())
}

/// Appends stored Merkle tree hashes at consecutive indexes from `first_index`.
pub(crate) async fn insert_tree_hashes(
    tx: &mut Transaction<'_, Sqlite>,
    first_index: u64,
    hashes: &[[u8; 32]],
) -> Result<(), StoreError> {
    for (chunk_number, chunk) in hashes.chunks(CHUNK).enumerate() {
        let start = first_index + (chunk_number * CHUNK) as u64;
        let mut b = QueryBuilder::new("INSERT INTO tree_hashes (idx, hash) ");
        b.push_values(chunk.iter().enumerate(), |mut row, (i, hash)| {
            row.push_bind(as_i64(start + i as u64)).push_bind(&hash[..]);
        });
        run(tx, b).await?;
    }
    Ok(())
}

/// Reads stored tree hashes in the order asked, with one `IN (…)` query per chunk (a tile needs 256,
/// a proof about 2·log n).
pub(crate) async fn read_tree_hashes(
    conn: &mut sqlx::SqliteConnection,
    indexes: &[u64],
) -> Result<Vec<[u8; 32]>, StoreError> {
    use sqlx::Row;
    let mut found = std::collections::BTreeMap::new();
    for chunk in indexes.chunks(CHUNK) {
        let mut b = QueryBuilder::new("SELECT idx, hash FROM tree_hashes WHERE idx IN (");
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
