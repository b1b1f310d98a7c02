//! The program's pages (issue #9): compile-time checked statements, kept statement for
//! statement identical to the other backend's `program.rs` (only the parameter syntax differs).

use furrow_domain::Timestamp;
use furrow_store::rows::{as_i64, as_u64};
use furrow_store::{ProgramEntry, StoreError};

use crate::db_error;

type Pool = sqlx::Pool<sqlx::Postgres>;

fn position(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("program entry position {v} out of range")))
}

pub(crate) async fn entries(pool: &Pool) -> Result<Vec<ProgramEntry>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!: i64", section, position, title_en, body_en, title_ja, body_ja, updated_by, updated_at
           FROM program_entries ORDER BY position, id"#
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|r| {
            Ok(ProgramEntry {
                id: as_u64(r.id)?,
                section: r.section,
                position: position(r.position)?,
                title_en: r.title_en,
                body_en: r.body_en,
                title_ja: r.title_ja,
                body_ja: r.body_ja,
                updated_by: r.updated_by,
                updated_at: Timestamp(r.updated_at),
            })
        })
        .collect()
}

pub(crate) async fn seed(pool: &Pool, entries: &[ProgramEntry]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    for e in entries {
        let (id, position, at) = (as_i64(e.id), i64::from(e.position), e.updated_at.0);
        sqlx::query!(
            "INSERT INTO program_entries (id, section, position, title_en, body_en, title_ja, body_ja, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            id,
            e.section,
            position,
            e.title_en,
            e.body_en,
            e.title_ja,
            e.body_ja,
            e.updated_by,
            at
        )
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    tx.commit().await.map_err(db_error)
}

pub(crate) async fn update(pool: &Pool, e: &ProgramEntry) -> Result<bool, StoreError> {
    let (id, at) = (as_i64(e.id), e.updated_at.0);
    let done = sqlx::query!(
        "UPDATE program_entries SET title_en = $2, body_en = $3, title_ja = $4, body_ja = $5, updated_by = $6, updated_at = $7
         WHERE id = $1",
        id,
        e.title_en,
        e.body_en,
        e.title_ja,
        e.body_ja,
        e.updated_by,
        at
    )
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn insert(pool: &Pool, e: &ProgramEntry) -> Result<u64, StoreError> {
    let (position, at) = (i64::from(e.position), e.updated_at.0);
    let row = sqlx::query!(
        r#"INSERT INTO program_entries (id, section, position, title_en, body_en, title_ja, body_ja, updated_by, updated_at)
           VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM program_entries), $1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id AS "id!: i64""#,
        e.section,
        position,
        e.title_en,
        e.body_en,
        e.title_ja,
        e.body_ja,
        e.updated_by,
        at
    )
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    as_u64(row.id)
}
