//! Users, organisations, sessions and role requests (issue #8). Runtime-bound statements, kept
//! statement for statement identical to the other backend's `accounts.rs` (only the parameter
//! syntax differs).

use furrow_domain::Timestamp;
use furrow_store::rows::{as_i64, as_u64, hash32, join_ids, parse_enum, split_ids};
use furrow_store::{Organisation, RoleRequest, SessionRecord, StoreError, UserRecord};
use sqlx::Row;

use crate::db_error;

type Pool = sqlx::Pool<sqlx::Sqlite>;
type DbRow = sqlx::sqlite::SqliteRow;

// Macros, not consts, so that `concat!` builds each statement as a `&'static str` (sqlx takes
// only those as SQL without an explicit `AssertSqlSafe`).
macro_rules! user_columns {
    () => {
        "id, email, organisation, role, accounts, password_hash, totp_secret, created_at"
    };
}
macro_rules! request_columns {
    () => {
        "id, user_id, role, accounts, requested_by, requested_at, approved_by, approved_at"
    };
}

fn organisation(r: &DbRow) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: as_u64(r.try_get("id").map_err(db_error)?)?,
        name: r.try_get("name").map_err(db_error)?,
        created_at: Timestamp(r.try_get("created_at").map_err(db_error)?),
    })
}

fn user(r: &DbRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: as_u64(r.try_get("id").map_err(db_error)?)?,
        email: r.try_get("email").map_err(db_error)?,
        organisation: as_u64(r.try_get("organisation").map_err(db_error)?)?,
        role: parse_enum(&r.try_get::<String, _>("role").map_err(db_error)?)?,
        accounts: split_ids(&r.try_get::<String, _>("accounts").map_err(db_error)?)?,
        password_hash: r.try_get("password_hash").map_err(db_error)?,
        totp_secret: r.try_get("totp_secret").map_err(db_error)?,
        created_at: Timestamp(r.try_get("created_at").map_err(db_error)?),
    })
}

fn session(r: &DbRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        hash: hash32(&r.try_get::<Vec<u8>, _>("hash").map_err(db_error)?)?,
        user: as_u64(r.try_get("user_id").map_err(db_error)?)?,
        csrf: r.try_get("csrf").map_err(db_error)?,
        second_factor: r.try_get("second_factor").map_err(db_error)?,
        created_at: Timestamp(r.try_get("created_at").map_err(db_error)?),
        last_seen_at: Timestamp(r.try_get("last_seen_at").map_err(db_error)?),
    })
}

fn request(r: &DbRow) -> Result<RoleRequest, StoreError> {
    Ok(RoleRequest {
        id: as_u64(r.try_get("id").map_err(db_error)?)?,
        user: as_u64(r.try_get("user_id").map_err(db_error)?)?,
        role: parse_enum(&r.try_get::<String, _>("role").map_err(db_error)?)?,
        accounts: split_ids(&r.try_get::<String, _>("accounts").map_err(db_error)?)?,
        requested_by: r.try_get("requested_by").map_err(db_error)?,
        requested_at: Timestamp(r.try_get("requested_at").map_err(db_error)?),
        approved_by: r.try_get("approved_by").map_err(db_error)?,
        approved_at: r.try_get::<Option<i64>, _>("approved_at").map_err(db_error)?.map(Timestamp),
    })
}

pub(crate) async fn insert_organisation(pool: &Pool, name: &str, at: Timestamp) -> Result<u64, StoreError> {
    let row = sqlx::query("INSERT INTO organisations (name, created_at) VALUES (?1, ?2) RETURNING id")
        .bind(name)
        .bind(at.0)
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    as_u64(row.try_get("id").map_err(db_error)?)
}

pub(crate) async fn organisation_by(
    pool: &Pool,
    id: Option<u64>,
    name: Option<&str>,
) -> Result<Option<Organisation>, StoreError> {
    let row = sqlx::query("SELECT id, name, created_at FROM organisations WHERE id = ?1 OR name = ?2")
        .bind(id.map(as_i64))
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(organisation).transpose()
}

pub(crate) async fn insert_user(pool: &Pool, u: &UserRecord) -> Result<u64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO users (email, organisation, role, accounts, password_hash, totp_secret, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )
    .bind(&u.email)
    .bind(as_i64(u.organisation))
    .bind(u.role.as_str())
    .bind(join_ids(&u.accounts))
    .bind(&u.password_hash)
    .bind(u.totp_secret.as_deref())
    .bind(u.created_at.0)
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    as_u64(row.try_get("id").map_err(db_error)?)
}

pub(crate) async fn user_by(
    pool: &Pool,
    id: Option<u64>,
    email: Option<&str>,
) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users WHERE id = ?1 OR email = ?2"))
        .bind(id.map(as_i64))
        .bind(email)
        .fetch_optional(pool)
        .await
        .map_err(db_error)?;
    row.as_ref().map(user).transpose()
}

pub(crate) async fn users(pool: &Pool) -> Result<Vec<UserRecord>, StoreError> {
    let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM users ORDER BY id"))
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.iter().map(user).collect()
}

pub(crate) async fn set_totp(pool: &Pool, id: u64, secret: Option<&[u8]>) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET totp_secret = ?1 WHERE id = ?2")
        .bind(secret)
        .bind(as_i64(id))
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn insert_session(pool: &Pool, s: &SessionRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (hash, user_id, csrf, second_factor, created_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&s.hash[..])
    .bind(as_i64(s.user))
    .bind(&s.csrf)
    .bind(s.second_factor)
    .bind(s.created_at.0)
    .bind(s.last_seen_at.0)
    .execute(pool)
    .await
    .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn session_by(pool: &Pool, hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT hash, user_id, csrf, second_factor, created_at, last_seen_at FROM sessions WHERE hash = ?1",
    )
    .bind(&hash[..])
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    row.as_ref().map(session).transpose()
}

pub(crate) async fn touch_session(pool: &Pool, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = ?1 WHERE hash = ?2 AND last_seen_at < ?1")
        .bind(at.0)
        .bind(&hash[..])
        .execute(pool)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn delete_session(pool: &Pool, hash: &[u8; 32]) -> Result<bool, StoreError> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE hash = ?1").bind(&hash[..]).execute(pool).await.map_err(db_error)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn insert_request(pool: &Pool, r: &RoleRequest) -> Result<u64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO role_requests (user_id, role, accounts, requested_by, requested_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(as_i64(r.user))
    .bind(r.role.as_str())
    .bind(join_ids(&r.accounts))
    .bind(&r.requested_by)
    .bind(r.requested_at.0)
    .fetch_one(pool)
    .await
    .map_err(db_error)?;
    as_u64(row.try_get("id").map_err(db_error)?)
}

pub(crate) async fn requests(pool: &Pool, id: Option<u64>) -> Result<Vec<RoleRequest>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        request_columns!(),
        " FROM role_requests WHERE ?1 IS NULL OR id = ?1 ORDER BY id"
    ))
    .bind(id.map(as_i64))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    rows.iter().map(request).collect()
}

pub(crate) async fn apply_request(pool: &Pool, id: u64, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    let done = sqlx::query(
        "UPDATE role_requests SET approved_by = ?1, approved_at = ?2 WHERE id = ?3 AND approved_at IS NULL",
    )
    .bind(by)
    .bind(at.0)
    .bind(as_i64(id))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE users SET role = (SELECT role FROM role_requests WHERE id = ?1), \
         accounts = (SELECT accounts FROM role_requests WHERE id = ?1) \
         WHERE id = (SELECT user_id FROM role_requests WHERE id = ?1)",
    )
    .bind(as_i64(id))
    .execute(&mut *tx)
    .await
    .map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(true)
}
