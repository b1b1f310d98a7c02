//! The external area's tables (`migrations/0006_external.sql`): other registries' records written
//! by `furrow import`, never by the sequencer. Records and quarantined rows are inserted in chunks
//! with statements built at run time (an import brings tens of thousands of rows; see `group.rs`
//! for why one statement per row is slow), each `ON CONFLICT DO NOTHING`, so importing a file again
//! changes nothing. The reads are compile-time checked.

use furrow_store::rows::{as_i64, as_u64};
use furrow_store::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalImportOutcome, ExternalQuarantined, ExternalRecord,
    ExternalScan, ExternalSource, ExternalTotals, Page, StoreError,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use crate::db_error;

/// Rows per statement: SQLite accepts 32 766 bound values; a record has 25.
const CHUNK: usize = 1_000;

pub(crate) async fn import(pool: &SqlitePool, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let s = &import.source;
    let (rows, imported, present, quarantined) =
        (as_i64(s.rows), as_i64(s.imported), as_i64(s.already_present), as_i64(s.quarantined));
    let done = sqlx::query!(
        "INSERT INTO external_sources (sha256, file_name, layout, row_count, imported, already_present, quarantined, imported_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sha256) DO NOTHING",
        s.sha256,
        s.file_name,
        s.layout,
        rows,
        imported,
        present,
        quarantined,
        s.imported_at
    )
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    let new_source = done.rows_affected() == 1;
    let records_added = insert_records(&mut tx, &import.records).await?;
    let quarantined_added = insert_quarantined(&mut tx, &import.quarantined).await?;
    tx.commit().await.map_err(db_error)?;
    Ok(ExternalImportOutcome { new_source, records_added, quarantined_added })
}

async fn insert_records(tx: &mut Transaction<'_, Sqlite>, records: &[ExternalRecord]) -> Result<u64, StoreError> {
    let mut added = 0;
    for chunk in records.chunks(CHUNK) {
        let mut b = QueryBuilder::<Sqlite>::new(
            "INSERT INTO external_records (registry, kind, origin_id, dataset, project, name, country, methodology, \
             vintage, quantity, unit, serial, namespace, range_start, range_end, event_date, period_start, period_end, \
             beneficiary, latitude, longitude, digest, source_sha256, line, raw) ",
        );
        b.push_values(chunk, |mut row, r| {
            row.push_bind(&r.registry)
                .push_bind(&r.kind)
                .push_bind(&r.origin_id)
                .push_bind(&r.dataset)
                .push_bind(&r.project)
                .push_bind(&r.name)
                .push_bind(&r.country)
                .push_bind(&r.methodology)
                .push_bind(r.vintage)
                .push_bind(r.quantity)
                .push_bind(&r.unit)
                .push_bind(&r.serial)
                .push_bind(&r.namespace)
                .push_bind(r.range_start)
                .push_bind(r.range_end)
                .push_bind(&r.event_date)
                .push_bind(&r.period_start)
                .push_bind(&r.period_end)
                .push_bind(&r.beneficiary)
                .push_bind(r.latitude)
                .push_bind(r.longitude)
                .push_bind(&r.digest)
                .push_bind(&r.source_sha256)
                .push_bind(r.line)
                .push_bind(&r.raw);
        });
        b.push(" ON CONFLICT (registry, kind, origin_id) DO NOTHING");
        added += b.build().execute(&mut **tx).await.map_err(db_error)?.rows_affected();
    }
    Ok(added)
}

async fn insert_quarantined(tx: &mut Transaction<'_, Sqlite>, rows: &[ExternalQuarantined]) -> Result<u64, StoreError> {
    let mut added = 0;
    for chunk in rows.chunks(CHUNK) {
        let mut b = QueryBuilder::<Sqlite>::new(
            "INSERT INTO external_quarantine (source_sha256, line, reason, registry, origin_id, detail, raw) ",
        );
        b.push_values(chunk, |mut row, q| {
            row.push_bind(&q.source_sha256)
                .push_bind(q.line)
                .push_bind(&q.reason)
                .push_bind(&q.registry)
                .push_bind(&q.origin_id)
                .push_bind(&q.detail)
                .push_bind(&q.raw);
        });
        b.push(" ON CONFLICT (source_sha256, line, reason) DO NOTHING");
        added += b.build().execute(&mut **tx).await.map_err(db_error)?.rows_affected();
    }
    Ok(added)
}

pub(crate) async fn set_flags(pool: &SqlitePool, flags: &[ExternalFlag]) -> Result<(u64, u64), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
    let stored = sqlx::query!(r#"SELECT id AS "id!: i64", code, subject FROM external_flags"#)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    let wanted: std::collections::BTreeSet<(&str, &str)> =
        flags.iter().map(|f| (f.code.as_str(), f.subject.as_str())).collect();
    let mut removed = 0;
    for row in &stored {
        if !wanted.contains(&(row.code.as_str(), row.subject.as_str())) {
            sqlx::query!("DELETE FROM external_flags WHERE id = ?1", row.id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            removed += 1;
        }
    }
    let mut added = 0;
    for chunk in flags.chunks(CHUNK) {
        let mut b = QueryBuilder::<Sqlite>::new("INSERT INTO external_flags (code, subject, detail) ");
        b.push_values(chunk, |mut row, f| {
            row.push_bind(&f.code).push_bind(&f.subject).push_bind(&f.detail);
        });
        b.push(" ON CONFLICT (code, subject) DO NOTHING");
        added += b.build().execute(&mut *tx).await.map_err(db_error)?.rows_affected();
    }
    tx.commit().await.map_err(db_error)?;
    Ok((added, removed))
}

struct SourceDb {
    sha256: String,
    file_name: String,
    layout: String,
    row_count: i64,
    imported: i64,
    already_present: i64,
    quarantined: i64,
    imported_at: i64,
}

pub(crate) async fn sources(pool: &SqlitePool) -> Result<Vec<ExternalSource>, StoreError> {
    let rows = sqlx::query_as!(
        SourceDb,
        "SELECT sha256, file_name, layout, row_count, imported, already_present, quarantined, imported_at
         FROM external_sources ORDER BY imported_at, sha256"
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok(ExternalSource {
                sha256: r.sha256,
                file_name: r.file_name,
                layout: r.layout,
                rows: as_u64(r.row_count)?,
                imported: as_u64(r.imported)?,
                already_present: as_u64(r.already_present)?,
                quarantined: as_u64(r.quarantined)?,
                imported_at: r.imported_at,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct RecordDb {
    id: i64,
    registry: String,
    kind: String,
    origin_id: String,
    dataset: String,
    project: Option<String>,
    name: Option<String>,
    country: Option<String>,
    methodology: Option<String>,
    vintage: Option<i64>,
    quantity: Option<i64>,
    unit: String,
    serial: Option<String>,
    namespace: Option<String>,
    range_start: Option<i64>,
    range_end: Option<i64>,
    event_date: Option<String>,
    period_start: Option<String>,
    period_end: Option<String>,
    beneficiary: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    digest: String,
    source_sha256: String,
    line: i64,
    raw: String,
}

impl RecordDb {
    fn into_record(self) -> Result<(u64, ExternalRecord), StoreError> {
        Ok((
            as_u64(self.id)?,
            ExternalRecord {
                registry: self.registry,
                kind: self.kind,
                origin_id: self.origin_id,
                dataset: self.dataset,
                project: self.project,
                name: self.name,
                country: self.country,
                methodology: self.methodology,
                vintage: self.vintage,
                quantity: self.quantity,
                unit: self.unit,
                serial: self.serial,
                namespace: self.namespace,
                range_start: self.range_start,
                range_end: self.range_end,
                event_date: self.event_date,
                period_start: self.period_start,
                period_end: self.period_end,
                beneficiary: self.beneficiary,
                latitude: self.latitude,
                longitude: self.longitude,
                digest: self.digest,
                source_sha256: self.source_sha256,
                line: self.line,
                raw: self.raw,
            },
        ))
    }
}

pub(crate) async fn records(
    pool: &SqlitePool,
    filter: &ExternalFilter,
    page: Page,
) -> Result<Vec<(u64, ExternalRecord)>, StoreError> {
    let after = page.after.map_or(0, as_i64);
    let limit = i64::from(page.limit);
    let rows = sqlx::query_as!(
        RecordDb,
        r#"SELECT id AS "id!: i64", registry, kind, origin_id, dataset, project, name, country, methodology, vintage,
                  quantity, unit, serial, namespace, range_start, range_end, event_date, period_start, period_end,
                  beneficiary, latitude, longitude, digest, source_sha256, line, raw
           FROM external_records
           WHERE id > ?1 AND (?2 IS NULL OR registry = ?2) AND (?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR project = ?4)
           ORDER BY id LIMIT ?5"#,
        after,
        filter.registry,
        filter.kind,
        filter.project,
        limit
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter().map(RecordDb::into_record).collect()
}

pub(crate) async fn quarantined(pool: &SqlitePool, page: Page) -> Result<Vec<(u64, ExternalQuarantined)>, StoreError> {
    let after = page.after.map_or(0, as_i64);
    let limit = i64::from(page.limit);
    let rows = sqlx::query!(
        r#"SELECT id AS "id!: i64", source_sha256, line, reason, registry, origin_id, detail, raw
           FROM external_quarantine WHERE id > ?1 ORDER BY id LIMIT ?2"#,
        after,
        limit
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok((
                as_u64(r.id)?,
                ExternalQuarantined {
                    source_sha256: r.source_sha256,
                    line: r.line,
                    reason: r.reason,
                    registry: r.registry,
                    origin_id: r.origin_id,
                    detail: r.detail,
                    raw: r.raw,
                },
            ))
        })
        .collect()
}

pub(crate) async fn flags(pool: &SqlitePool, page: Page) -> Result<Vec<(u64, ExternalFlag)>, StoreError> {
    let after = page.after.map_or(0, as_i64);
    let limit = i64::from(page.limit);
    let rows = sqlx::query!(
        r#"SELECT id AS "id!: i64", code, subject, detail FROM external_flags WHERE id > ?1 ORDER BY id LIMIT ?2"#,
        after,
        limit
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| Ok((as_u64(r.id)?, ExternalFlag { code: r.code, subject: r.subject, detail: r.detail })))
        .collect()
}

pub(crate) async fn totals(pool: &SqlitePool) -> Result<ExternalTotals, StoreError> {
    let r = sqlx::query!(
        r#"SELECT (SELECT COUNT(*) FROM external_sources) AS "sources!: i64",
                  (SELECT COUNT(*) FROM external_records) AS "records!: i64",
                  (SELECT COUNT(*) FROM external_quarantine) AS "quarantined!: i64",
                  (SELECT COUNT(*) FROM external_flags) AS "flags!: i64""#
    )
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    Ok(ExternalTotals {
        sources: as_u64(r.sources)?,
        records: as_u64(r.records)?,
        quarantined: as_u64(r.quarantined)?,
        flags: as_u64(r.flags)?,
    })
}

/// Fills in the counts of a source row the first chunk wrote with zero rows. A completed row
/// keeps its counts (a file with no data rows has nothing to complete).
pub(crate) async fn complete_source(pool: &SqlitePool, s: &ExternalSource) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE external_sources SET row_count = ?2, imported = ?3, already_present = ?4, quarantined = ?5
         WHERE sha256 = ?1 AND row_count = 0",
    )
    .bind(&s.sha256)
    .bind(as_i64(s.rows))
    .bind(as_i64(s.imported))
    .bind(as_i64(s.already_present))
    .bind(as_i64(s.quarantined))
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// One check's scan (`ExternalScan`), streamed. The sorted scans walk an index (`INDEXED BY`, so a
/// plan that would sort the whole area is an error rather than a silent use of memory: this
/// store's temporary tables live in memory): ranges by `external_records_by_range`, whose ties on
/// (namespace, start) are sorted one run at a time, sums by `external_records_by_project`.
/// The statement is chosen from fixed text, never built from input.
pub(crate) async fn scan(
    pool: &SqlitePool,
    scan: ExternalScan,
    visit: &mut (dyn FnMut(ExternalRecord) -> Result<(), StoreError> + Send),
) -> Result<(), StoreError> {
    use futures_util::TryStreamExt;
    let (index, order) = match scan {
        ExternalScan::Ranges => {
            ("INDEXED BY external_records_by_range", "namespace, range_start, range_end, registry, origin_id, id")
        }
        ExternalScan::Sums => ("INDEXED BY external_records_by_project", "registry, project"),
        ExternalScan::Projects | ExternalScan::Ledgers => ("", "id"),
    };
    let (columns, filter) = (ExternalScan::SQL_COLUMNS, scan.sql_filter());
    let sql = format!("SELECT {columns} FROM external_records {index} WHERE {filter} ORDER BY {order}");
    let mut rows = sqlx::query_as::<_, RecordDb>(sqlx::AssertSqlSafe(sql)).fetch(pool);
    while let Some(row) = rows.try_next().await.map_err(db_error)? {
        visit(row.into_record()?.1)?;
    }
    Ok(())
}

/// The stored records with these keys: a join of the keys, as a `VALUES` list, with the unique
/// index on (registry, kind, origin id), a statement per `LOOKUP` keys.
pub(crate) async fn lookup(
    pool: &SqlitePool,
    keys: &[(String, String, String)],
) -> Result<Vec<ExternalRecord>, StoreError> {
    /// Three bound values a key, well under SQLite's 32 766.
    const LOOKUP: usize = 1_000;
    let mut found = Vec::new();
    for chunk in keys.chunks(LOOKUP) {
        let mut b = QueryBuilder::<Sqlite>::new("WITH k (registry, kind, origin_id) AS (");
        b.push_values(chunk, |mut row, (registry, kind, origin_id)| {
            row.push_bind(registry).push_bind(kind).push_bind(origin_id);
        });
        b.push(") SELECT ");
        b.push(RECORD_COLUMNS_OF_E);
        b.push(
            " FROM k CROSS JOIN external_records e \
             ON e.registry = k.registry AND e.kind = k.kind AND e.origin_id = k.origin_id",
        );
        let rows = b.build_query_as::<RecordDb>().fetch_all(pool).await.map_err(db_error)?;
        for row in rows {
            found.push(row.into_record()?.1);
        }
    }
    Ok(found)
}

const RECORD_COLUMNS_OF_E: &str = "e.id, e.registry, e.kind, e.origin_id, e.dataset, e.project, e.name, e.country, \
    e.methodology, e.vintage, e.quantity, e.unit, e.serial, e.namespace, e.range_start, e.range_end, e.event_date, \
    e.period_start, e.period_end, e.beneficiary, e.latitude, e.longitude, e.digest, e.source_sha256, e.line, e.raw";
