//! `furrow backup` and `furrow restore`.
//!
//! SQLite: `VACUUM INTO` writes a consistent snapshot of the live database (one read transaction,
//! so a running server keeps writing) into a new, compact file; restoring checks the file's
//! integrity and moves it into place. PostgreSQL: `pg_dump --format=custom` and `pg_restore` in a
//! single transaction, so a failed restore leaves nothing behind. Either way the copy holds the
//! whole log, so `furrow verify` can audit it; the log's signing key is not in it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use clap::Args;
use furrow_store_postgres::PgStore;
use furrow_store_sqlite::SqliteStore;

use crate::database::redact;
use crate::{DataDir, database_path};

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    data: DataDir,
    /// The file to write; it must not exist yet.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `furrow backup`.
    #[arg(long)]
    from: PathBuf,
    /// Where to restore: an empty data directory, or with --database-url an empty database.
    #[command(flatten)]
    data: DataDir,
}

pub async fn backup(args: BackupArgs) -> Result<()> {
    if args.out.exists() {
        bail!("{} already exists; choose a new file name", args.out.display());
    }
    args.data.require_registry().await?;
    match args.data.url() {
        None => {
            let store = SqliteStore::open(&database_path(&args.data.data_dir)).await?;
            let done = store.backup_into(&args.out).await;
            furrow_app::store::Store::close(&store).await;
            done?;
        }
        Some(url) => {
            let mut pg_dump = Command::new("pg_dump");
            pg_dump.arg("--format=custom").arg("--no-owner").arg("--file").arg(&args.out);
            if let Some(schema) = schema_of(url) {
                pg_dump.arg("--schema").arg(schema);
            }
            run(pg_dump.arg("--dbname").arg(url), "pg_dump")?;
        }
    }
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!("Backed up {} to {} ({size} bytes).", args.data.describe(), args.out.display());
    println!("Restore it with: furrow restore --from {} --data-dir <empty directory>", args.out.display());
    println!("The log's signing key is not in the backup; keep a copy of it apart.");
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> Result<()> {
    if !args.from.is_file() {
        bail!("no backup file at {}", args.from.display());
    }
    match args.data.url() {
        None => restore_sqlite(&args.from, &args.data.data_dir).await?,
        Some(url) => {
            let target = PgStore::connect_without_migrating(url, None).await?;
            let occupied = target.has_registry_tables().await;
            furrow_app::store::Store::close(&target).await;
            if occupied? {
                bail!("{} already holds registry tables; restore into an empty database", redact(url));
            }
            let mut pg_restore = Command::new("pg_restore");
            pg_restore.args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"]).arg(url);
            run(pg_restore.arg(&args.from), "pg_restore")?;
        }
    }
    // Opening it runs any migrations the backup predates, and shows it is a registry.
    args.data.require_registry().await?;
    let store = args.data.open_store(None).await?;
    let size = store.log_size().await;
    store.close().await;
    println!("Restored {} entries of the log into {}.", size?, args.data.describe());
    println!("Audit the copy: furrow verify {}", verify_flags(&args.data));
    Ok(())
}

fn verify_flags(data: &DataDir) -> String {
    match data.url() {
        Some(url) => format!("--database-url '{}'", redact(url)),
        None => format!("--data-dir {}", data.data_dir.display()),
    }
}

async fn restore_sqlite(from: &Path, dir: &Path) -> Result<()> {
    let target = database_path(dir);
    if target.exists() {
        bail!("{} already holds a registry; restore into an empty directory", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Copy first, check the copy, then move it into place: a half-copied or corrupt file never
    // becomes furrow.db.
    let staged = dir.join("furrow.db.restoring");
    std::fs::copy(from, &staged).with_context(|| format!("cannot copy {}", from.display()))?;
    std::fs::File::open(&staged)?.sync_all()?;
    let store = SqliteStore::open_read_only(&staged).await?;
    let checked = store.integrity_check().await;
    furrow_app::store::Store::close(&store).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&staged);
        return Err(e).context(format!("{} is not an intact registry database", from.display()));
    }
    std::fs::rename(&staged, &target)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// The schema a URL selects with `options=-c search_path=…`, if any.
fn schema_of(url: &str) -> Option<String> {
    let options = url.split_once('?')?.1.split('&').find_map(|p| p.strip_prefix("options="))?;
    let decoded = options.replace("%20", " ").replace("%3D", "=").replace("%3d", "=");
    decoded.split_whitespace().find_map(|w| w.strip_prefix("search_path=")).map(str::to_owned)
}

fn run(command: &mut Command, name: &str) -> Result<()> {
    let output = command.output().with_context(|| {
        format!("cannot run {name}; install the PostgreSQL client tools (Debian: postgresql-client)")
    })?;
    if !output.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::schema_of;

    #[test]
    fn the_schema_comes_from_the_url_options() {
        assert_eq!(schema_of("postgres://u@h/db?options=-c%20search_path%3Dreg").as_deref(), Some("reg"));
        assert_eq!(schema_of("postgres://u@h/db?sslmode=disable&options=-c search_path=x").as_deref(), Some("x"));
        assert_eq!(schema_of("postgres://u@h/db"), None);
    }
}
