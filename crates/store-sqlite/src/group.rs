//! Writing a group commit, on the writer thread's connection ([`crate::writer`]).
//!
//! Each row is one execution of a prepared, cached statement: with no thread hand-off per
//! statement (what made sqlx's multi-row statements worth building), a row costs a few
//! microseconds, and the statements are fixed text. They are not covered by sqlx's compile-time
//! check; the model-versus-database property tests in `app/tests` and the conformance suite
//! run every one of them.

use furrow_domain::{Block, Cancellation, Record, Retirement};
use furrow_store::rows::{as_i64, lifecycle_rows};
use furrow_store::{CheckpointRow, CommitGroup, StoreError};
use rusqlite::{Connection, TransactionBehavior, params};

use crate::writer::sqlite_error;

/// Writes the whole group in one `BEGIN IMMEDIATE` transaction. With WAL and `synchronous=FULL`
/// the COMMIT returns after the WAL is synced: durable.
pub(crate) fn commit(conn: &mut Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite_error)?;
    write(&tx, group)?;
    tx.commit().map_err(sqlite_error)
}

fn write(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    insert_log_entries(conn, group)?;
    for record in group.entries.iter().flat_map(|e| &e.effects.records) {
        insert_record(conn, record)?;
    }
    write_blocks(conn, group)?;
    insert_history(conn, group)?;
    insert_lifecycle(conn, group)?;
    insert_idempotency(conn, group)
}

fn insert_log_entries(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO log_entries (idx, timestamp_us, actor, kind, entry, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sqlite_error)?;
    for item in &group.entries {
        let entry = &item.entry;
        insert
            .execute(params![
                as_i64(entry.index),
                entry.timestamp.0,
                entry.actor.as_str(),
                entry.event.kind(),
                item.bytes.as_slice(),
                &item.leaf_hash[..],
            ])
            .map_err(sqlite_error)?;
    }
    Ok(())
}

fn insert_record(conn: &Connection, record: &Record) -> Result<(), StoreError> {
    let inserted = match record {
        Record::Program(p) => conn
            .prepare_cached("INSERT INTO program (id, code, country, name) VALUES (1, ?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![p.code.as_str(), p.country.as_str(), p.name])),
        Record::Account(a) => conn
            .prepare_cached("INSERT INTO accounts (id, kind, name) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![as_i64(a.id.0), a.kind.as_str(), a.name])),
        Record::Batch(b) => conn
            .prepare_cached(
                "INSERT INTO batches (id, project, country, vintage, serial_start, serial_end, buffer, labels, issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    as_i64(b.id.0),
                    as_i64(b.project.0),
                    b.country.as_str(),
                    i64::from(b.vintage.year()),
                    as_i64(b.serials.start()),
                    as_i64(b.serials.end()),
                    as_i64(b.buffer.0),
                    b.labels.join(","),
                    b.issued_at.0,
                ])
            }),
        Record::LogKey(vkey) => {
            conn.prepare_cached("INSERT INTO log_keys (vkey) VALUES (?1)").and_then(|mut s| s.execute(params![vkey]))
        }
        Record::Retirement(r) => return insert_retirement(conn, r),
        Record::Cancellation(c) => return insert_cancellation(conn, c),
    };
    inserted.map(|_| ()).map_err(sqlite_error)
}

fn insert_retirement(conn: &Connection, r: &Retirement) -> Result<(), StoreError> {
    let c = &r.claim;
    conn.prepare_cached(
        "INSERT INTO retirements (id, account, quantity, beneficiary_name, beneficiary_country, \
         beneficiary_identifier, purpose, claim_from, claim_to, jurisdiction, note, retired_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut s| {
        s.execute(params![
            as_i64(r.id.0),
            as_i64(r.account.0),
            as_i64(furrow_domain::total(&r.ranges).0),
            c.beneficiary.name.as_str(),
            c.beneficiary.country.map(|x| x.as_str().to_owned()),
            c.beneficiary.identifier.as_deref(),
            c.purpose.as_str(),
            c.claim_period.from.to_string(),
            c.claim_period.to.to_string(),
            c.jurisdiction.as_str(),
            c.note.as_str(),
            r.at.0,
        ])
    })
    .map_err(sqlite_error)?;
    let mut range = conn
        .prepare_cached("INSERT INTO retirement_ranges (retirement, serial_start, serial_end) VALUES (?1, ?2, ?3)")
        .map_err(sqlite_error)?;
    for x in &r.ranges {
        range.execute(params![as_i64(r.id.0), as_i64(x.start()), as_i64(x.end())]).map_err(sqlite_error)?;
    }
    Ok(())
}

fn insert_cancellation(conn: &Connection, c: &Cancellation) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO cancellations (id, account, quantity, reason, note, cancelled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            as_i64(c.id.0),
            as_i64(c.account.0),
            as_i64(furrow_domain::total(&c.ranges).0),
            c.reason.as_str(),
            c.note.as_str(),
            c.at.0,
        ])
    })
    .map_err(sqlite_error)?;
    let mut range = conn
        .prepare_cached("INSERT INTO cancellation_ranges (cancellation, serial_start, serial_end) VALUES (?1, ?2, ?3)")
        .map_err(sqlite_error)?;
    for x in &c.ranges {
        range.execute(params![as_i64(c.id.0), as_i64(x.start()), as_i64(x.end())]).map_err(sqlite_error)?;
    }
    Ok(())
}

/// Deletes the blocks the group removed, then inserts the ones it left.
fn write_blocks(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let net = group.net_blocks();
    let mut delete = conn.prepare_cached("DELETE FROM blocks WHERE serial_start = ?1").map_err(sqlite_error)?;
    let mut missing = 0usize;
    for start in &net.removed {
        if delete.execute(params![as_i64(*start)]).map_err(sqlite_error)? == 0 {
            missing += 1;
        }
    }
    if missing != 0 {
        return Err(StoreError::Corrupt(format!(
            "{missing} of {} removed blocks were not in the database",
            net.removed.len()
        )));
    }
    insert_blocks(conn, &net.added)
}

/// Inserts blocks (new keys only).
pub(crate) fn insert_blocks<'a>(
    conn: &Connection,
    blocks: impl IntoIterator<Item = &'a Block>,
) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO blocks (serial_start, serial_end, batch, account, state) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sqlite_error)?;
    for block in blocks {
        insert
            .execute(params![
                as_i64(block.range.start()),
                as_i64(block.range.end()),
                as_i64(block.batch.0),
                as_i64(block.account.0),
                block.state.as_str(),
            ])
            .map_err(sqlite_error)?;
    }
    Ok(())
}

fn insert_history(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO serial_history (batch, serial_start, serial_end, log_index) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sqlite_error)?;
    for item in &group.entries {
        let index = as_i64(item.entry.index);
        for (batch, range) in &item.effects.touched {
            insert
                .execute(params![as_i64(batch.0), as_i64(range.start()), as_i64(range.end()), index])
                .map_err(sqlite_error)?;
        }
    }
    Ok(())
}

/// Marks the group's lifecycle entries (replayed into the lifecycle state on load) and stores their
/// private payloads beside them.
fn insert_lifecycle(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let (lifecycle, private) = lifecycle_rows(group);
    if !lifecycle.is_empty() {
        let mut insert =
            conn.prepare_cached("INSERT INTO lifecycle_entries (log_index) VALUES (?1)").map_err(sqlite_error)?;
        for index in lifecycle {
            insert.execute(params![index]).map_err(sqlite_error)?;
        }
    }
    if !private.is_empty() {
        let mut insert = conn
            .prepare_cached("INSERT INTO log_private (log_index, payload) VALUES (?1, ?2)")
            .map_err(sqlite_error)?;
        for (index, payload) in private {
            insert.execute(params![index, payload]).map_err(sqlite_error)?;
        }
    }
    Ok(())
}

fn insert_idempotency(conn: &Connection, group: &CommitGroup) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO idempotency (scope, key, request_hash, outcome, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sqlite_error)?;
    for r in &group.idempotency {
        insert
            .execute(params![r.scope.as_str(), r.key.as_str(), &r.request_hash[..], r.outcome.as_str(), r.created_at.0])
            .map_err(sqlite_error)?;
    }
    Ok(())
}

/// Appends stored Merkle tree hashes at consecutive indexes from `first_index`, and the checkpoint
/// they lead to, in one transaction.
pub(crate) fn extend_tree(
    conn: &mut Connection,
    first_index: u64,
    hashes: &[[u8; 32]],
    checkpoint: &CheckpointRow,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sqlite_error)?;
    {
        let mut insert =
            tx.prepare_cached("INSERT INTO tree_hashes (idx, hash) VALUES (?1, ?2)").map_err(sqlite_error)?;
        for (offset, hash) in (first_index..).zip(hashes) {
            insert.execute(params![as_i64(offset), &hash[..]]).map_err(sqlite_error)?;
        }
        tx.prepare_cached("INSERT INTO checkpoints (tree_size, root, note, created_at) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| {
                s.execute(params![
                    as_i64(checkpoint.tree_size),
                    &checkpoint.root[..],
                    checkpoint.note,
                    checkpoint.created_at.0
                ])
            })
            .map_err(sqlite_error)?;
    }
    tx.commit().map_err(sqlite_error)
}
