//! Which database a command works on: the embedded SQLite file in a data directory (the default),
//! or a PostgreSQL server given by URL. Every command that opens a registry goes through here, so
//! both backends are reachable from every command in the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use furrow_app::store::Store;
use furrow_store_postgres::PgStore;
pub use furrow_store_postgres::redact;
use furrow_store_sqlite::SqliteStore;

#[derive(Args, Clone)]
pub struct DataDir {
    /// Directory of the registry: its SQLite database and the log's signing key (created if
    /// missing). With --database-url it holds only the signing key.
    #[arg(long, env = "FURROW_DATA_DIR", default_value = "furrow-data")]
    pub data_dir: PathBuf,
    /// Keep the registry in PostgreSQL instead of SQLite, e.g. `postgres://furrow@db.internal/furrow`.
    /// Add `?options=-c%20search_path%3Dregistry` to use a schema other than `public`.
    #[arg(long, env = "FURROW_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Read the PostgreSQL URL (with its password) from a file, e.g. a mounted secret, so that it
    /// is neither in the process list nor in the environment. Surrounding whitespace is ignored.
    #[arg(long, env = "FURROW_DATABASE_URL_FILE", value_name = "PATH", value_parser = read_secret_file,
        conflicts_with = "database_url")]
    pub database_url_file: Option<String>,
}

/// Reads a secret (a database URL) from a file; the error names the file, never its content.
fn read_secret_file(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(format!("{path} is empty"));
    }
    Ok(secret.to_owned())
}

pub(crate) fn database_path(dir: &Path) -> PathBuf {
    dir.join("furrow.db")
}

impl DataDir {
    /// The database named by a command's optional `--data-dir` and `--database-url`, if either
    /// was given (commands that can also read from a server or a bundle).
    pub fn from_flags(data_dir: Option<&PathBuf>, database_url: Option<&String>) -> Option<Self> {
        if data_dir.is_none() && database_url.is_none() {
            return None;
        }
        Some(Self {
            data_dir: data_dir.cloned().unwrap_or_else(|| PathBuf::from("furrow-data")),
            database_url: database_url.cloned(),
            database_url_file: None,
        })
    }

    /// The PostgreSQL URL, from `--database-url` or `--database-url-file`; `None` for SQLite.
    pub fn url(&self) -> Option<&String> {
        self.database_url.as_ref().or(self.database_url_file.as_ref())
    }

    /// The database, for messages (never with a password).
    pub fn describe(&self) -> String {
        match self.url() {
            Some(url) => redact(url),
            None => database_path(&self.data_dir).display().to_string(),
        }
    }

    /// The same database named as a command-line flag, for the next-step hints we print.
    pub fn flag(&self) -> String {
        match self.url() {
            Some(url) => format!("--data-dir {} --database-url '{}'", self.data_dir.display(), redact(url)),
            None => format!("--data-dir {}", self.data_dir.display()),
        }
    }

    /// Opens the store (running pending migrations), with projection reads on `read_url` if
    /// given (PostgreSQL only).
    pub async fn open_store(&self, read_url: Option<&str>) -> Result<Arc<dyn Store>> {
        match self.url() {
            Some(url) => Ok(Arc::new(PgStore::connect(url, read_url).await?)),
            None => {
                if read_url.is_some() {
                    bail!("--read-database-url needs --database-url: SQLite has no replicas");
                }
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
                Ok(Arc::new(SqliteStore::open(&database_path(&self.data_dir)).await?))
            }
        }
    }

    /// Opens the store for reading only, without migrating: what an auditor does with a copy.
    pub async fn open_read_only(&self) -> Result<Arc<dyn Store>> {
        match self.url() {
            Some(url) => Ok(Arc::new(PgStore::connect_without_migrating(url, None).await?)),
            None => {
                let path = database_path(&self.data_dir);
                if !path.exists() {
                    bail!("no registry database at {}", path.display());
                }
                Ok(Arc::new(SqliteStore::open_read_only(&path).await?))
            }
        }
    }

    /// Whether a program was initialised in this database.
    pub async fn holds_registry(&self) -> Result<bool> {
        let Some(url) = self.url() else {
            return Ok(database_path(&self.data_dir).exists());
        };
        // Without migrating: asking must not change the database, and a replica cannot be written.
        let store = PgStore::connect_without_migrating(url, None).await?;
        let held = match store.has_registry_tables().await {
            Ok(true) => store.program().await.map(|p| p.is_some()),
            other => other,
        };
        store.close().await;
        Ok(held?)
    }

    /// Fails with a hint when there is no registry here yet.
    pub async fn require_registry(&self) -> Result<()> {
        if !self.holds_registry().await? {
            bail!("no registry in {}; create one with `furrow init {}`", self.describe(), self.flag());
        }
        Ok(())
    }

    /// SQLite's writer lock: an exclusive lock on `furrow.lock` in the data directory. PostgreSQL
    /// needs none here: the store takes an advisory lock in the database itself.
    pub fn lock(&self) -> Result<Option<std::fs::File>> {
        if self.url().is_some() {
            return Ok(None);
        }
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let lock_path = dir.join("furrow.lock");
        let lock =
            std::fs::File::create(&lock_path).with_context(|| format!("cannot create {}", lock_path.display()))?;
        if lock.try_lock().is_err() {
            bail!(
                "another furrow process is already serving {}; stop it first (one writer per database)",
                dir.display()
            );
        }
        Ok(Some(lock))
    }
}
