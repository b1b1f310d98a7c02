//! Fresh stores for tests, on every backend.
//!
//! The in-memory store (`furrow-store-memory`, the simulator's) needs nothing. SQLite gets a file in a temporary directory. PostgreSQL gets a schema of its own in the
//! machine's server (`FURROW_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`),
//! dropped when the test ends, so tests run in parallel without seeing each other. Where no
//! PostgreSQL answers, a test skips with a printed reason, except under `CI=true`, where it fails:
//! CI must never skip the PostgreSQL half silently.

mod cluster;

use std::fmt;
use std::sync::Arc;

use furrow_store::Store;
use furrow_store_memory::MemoryStore;
use furrow_store_postgres::PgStore;
use furrow_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub use cluster::StreamingPair;

/// The database backends every conformance test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
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
    /// The in-memory store: no other process can open it.
    Memory,
    Directory(std::path::PathBuf),
    Url(String),
}

enum Guard {
    None,
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema(#[allow(dead_code)] PgSchema),
}

/// Opens a fresh, empty, migrated store, or `None` (with the reason printed) when the backend is
/// not available on this machine outside CI.
pub async fn fresh_store(backend: Backend) -> Option<TestStore> {
    match backend {
        Backend::Memory => Some(TestStore {
            store: Arc::new(MemoryStore::new()),
            backend,
            location: Location::Memory,
            _guard: Guard::None,
        }),
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

impl PgSchema {
    /// The URL of the same schema in another database of the test server (where a restore goes).
    pub fn url_in(&self, database: &PgDatabase) -> String {
        format!("{}?options=-c%20search_path%3D{}", database.url, self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let statement = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if !run_admin_statement(&self.admin_url, statement) {
            eprintln!("could not drop test schema {}; drop it by hand", self.name);
        }
    }
}

/// A database of its own in the test server, dropped on drop: for what a schema cannot hold,
/// such as a restore of a backup, which recreates the schema it was taken from.
pub struct PgDatabase {
    pub name: String,
    /// A URL of this database (its `public` schema).
    pub url: String,
    admin_url: String,
}

impl PgDatabase {
    pub fn create() -> Option<Self> {
        let admin_url = postgres_admin_url();
        let name = format!("furrow_test_{:016x}", rand::random::<u64>());
        if !run_admin_statement(&admin_url, format!("CREATE DATABASE {name}")) {
            assert!(!in_ci(), "CI needs PostgreSQL at {admin_url} to create a database");
            eprintln!("skipping the PostgreSQL part of this test: cannot create a database at {admin_url}");
            return None;
        }
        let (base, _) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        Some(Self { url: format!("{server}/{name}"), name, admin_url })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if !run_admin_statement(&self.admin_url, statement) {
            eprintln!("could not drop test database {}; drop it by hand", self.name);
        }
    }
}

/// Runs one statement (built from names we generated) on the test server; false if it failed.
/// It runs on a thread of its own, so it works inside and outside a runtime, as drops need.
fn run_admin_statement(admin_url: &str, statement: String) -> bool {
    let admin_url = admin_url.to_owned();
    let done = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        runtime.block_on(async {
            let mut conn = PgConnection::connect(&admin_url).await.ok()?;
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await.ok()?;
            conn.close().await.ok()
        })
    })
    .join();
    matches!(done, Ok(Some(())))
}
