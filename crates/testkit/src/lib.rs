//! Fresh stores for tests, on every backend.
//!
//! SQLite gets a file in a temporary directory. PostgreSQL gets a schema of its own in the
//! machine's server (`FURROW_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the test ends, so tests run in parallel without seeing each other. Where no
//! PostgreSQL answers, a test skips with a printed reason, except under `CI=true`, where it fails:
//! CI must never skip the PostgreSQL half silently.

use std::fmt;
use std::sync::Arc;

use furrow_store::Store;
use furrow_store_postgres::PgStore;
use furrow_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The database backends every conformance test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A store that lives as long as this value: the temporary directory or schema goes with it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    /// What a `furrow` process needs to open the same database: a data directory (SQLite) or a
    /// URL (PostgreSQL).
    pub location: Location,
    _guard: Guard,
}

#[derive(Debug, Clone)]
pub enum Location {
    Directory(std::path::PathBuf),
    Url(String),
}

enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema(#[allow(dead_code)] PgSchema),
}

/// Opens a fresh, empty, migrated store, or `None` (with the reason printed) when the backend is
/// not available on this machine outside CI.
pub async fn fresh_store(backend: Backend) -> Option<TestStore> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open SQLite");
            Some(TestStore {
                store: Arc::new(store),
                backend,
                location: Location::Directory(dir.path().to_owned()),
                _guard: Guard::Dir(dir),
            })
        }
        Backend::Postgres => {
            let schema = PgSchema::create().await?;
            let store = PgStore::connect(&schema.url, None).await.expect("connect PostgreSQL");
            Some(TestStore {
                store: Arc::new(store),
                backend,
                location: Location::Url(schema.url.clone()),
                _guard: Guard::Schema(schema),
            })
        }
    }
}

/// The server tests use for PostgreSQL.
pub fn postgres_admin_url() -> String {
    std::env::var("FURROW_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// True when running in CI, where a missing PostgreSQL is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A schema of its own in the test server, dropped (with everything in it) on drop.
pub struct PgSchema {
    pub name: String,
    /// A URL whose connections use this schema.
    pub url: String,
    admin_url: String,
}

impl PgSchema {
    pub async fn create() -> Option<Self> {
        let admin_url = postgres_admin_url();
        let mut conn = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(e) if !in_ci() => {
                eprintln!("skipping the PostgreSQL part of this test: cannot connect to {admin_url} ({e})");
                return None;
            }
            Err(e) => panic!("CI needs PostgreSQL at {admin_url}: {e}"),
        };
        let name = format!("furrow_test_{:016x}", rand::random::<u64>());
        // The name is ours: hex digits after a fixed prefix.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{name}");
        Some(Self { name, url, admin_url })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop may run inside or outside a runtime; a thread of its own works in both.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE")))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test schema {}; drop it by hand", self.name);
        }
    }
}
