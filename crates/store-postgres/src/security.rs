//! Security storage (issue #8): token scope, expiry, revocation and last use, and the append-only
//! security audit trail. Runtime-bound statements (no compile-time checked macros), kept
//! statement for statement identical to the other backend's `security.rs`.

use furrow_domain::Timestamp;
use furrow_store::rows::{TokenRow, as_u64};
use furrow_store::{Page, SecurityEvent, StoreError, TokenListing, TokenPolicy};
use sqlx::Row;

use crate::db_error;

type Pool = sqlx::Pool<sqlx::Postgres>;

fn at(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp)
}

fn policy(row: &sqlx::postgres::PgRow) -> Result<TokenPolicy, sqlx::Error> {
    Ok(TokenPolicy {
        can_write: row.try_get::<bool, _>("can_write")?,
        expires_at: at(row.try_get("expires_at")?),
        revoked_at: at(row.try_get("revoked_at")?),
        last_used_at: at(row.try_get("last_used_at")?),
    })
}

pub(crate) async fn set_policy(
    pool: &Pool,
    id: u64,
    can_write: bool,
    expires_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tokens SET can_write = $1, expires_at = $2 WHERE id = $3")
        .bind(can_write)
        .bind(expires_at.map(|t| t.0))
        .bind(id as i64)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn get_policy(pool: &Pool, id: u64) -> Result<Option<TokenPolicy>, StoreError> {
    let row = sqlx::query("SELECT can_write, expires_at, revoked_at, last_used_at FROM tokens WHERE id = $1")
        .bind(id as i64)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    row.map(|r| policy(&r)).transpose().map_err(db_error)
}

pub(crate) async fn list(pool: &Pool) -> Result<Vec<TokenListing>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, hash, subject, role, accounts, created_at, can_write, expires_at, revoked_at, last_used_at \
         FROM tokens ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter()
        .map(|r| {
            let token = TokenRow {
                id: r.try_get("id").map_err(db_error)?,
                hash: r.try_get("hash").map_err(db_error)?,
                subject: r.try_get("subject").map_err(db_error)?,
                role: r.try_get("role").map_err(db_error)?,
                accounts: r.try_get("accounts").map_err(db_error)?,
                created_at: r.try_get("created_at").map_err(db_error)?,
            }
            .into_domain()?;
            Ok(TokenListing { token, policy: policy(r).map_err(db_error)? })
        })
        .collect()
}

pub(crate) async fn revoke(pool: &Pool, id: u64, now: Timestamp) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now.0)
        .bind(id as i64)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn touch(pool: &Pool, id: u64, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)")
        .bind(now.0)
        .bind(id as i64)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn append(pool: &Pool, event: &SecurityEvent) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO security_events (at, kind, subject, detail) VALUES ($1, $2, $3, $4)")
        .bind(event.at.0)
        .bind(&event.kind)
        .bind(&event.subject)
        .bind(&event.detail)
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn events(pool: &Pool, page: Page) -> Result<Vec<SecurityEvent>, StoreError> {
    let after = page.after.map_or(0, |a| a as i64);
    let rows =
        sqlx::query("SELECT id, at, kind, subject, detail FROM security_events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(i64::from(page.limit))
            .fetch_all(pool)
            .await
            .map_err(db_error)?;
    rows.iter()
        .map(|r| -> Result<SecurityEvent, StoreError> {
            Ok(SecurityEvent {
                id: as_u64(r.try_get("id").map_err(db_error)?)?,
                at: Timestamp(r.try_get("at").map_err(db_error)?),
                kind: r.try_get("kind").map_err(db_error)?,
                subject: r.try_get("subject").map_err(db_error)?,
                detail: r.try_get("detail").map_err(db_error)?,
            })
        })
        .collect()
}
