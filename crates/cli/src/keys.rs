//! The log's signing key: a file of mode 0600 in the data directory, or an environment variable.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use furrow_tlog::note::Ed25519Signer;

/// Holds the signing key (Go note `PRIVATE+KEY+…` format) instead of the key file.
pub const KEY_ENV: &str = "FURROW_LOG_SIGNING_KEY";

pub fn key_path(dir: &Path) -> PathBuf {
    dir.join("log-signing.key")
}

/// Creates a new signing key file, readable by its owner only. Refuses to overwrite one.
pub fn create(dir: &Path, origin: &str) -> Result<Ed25519Signer> {
    create_at(&key_path(dir), origin)
}

/// Creates a new signing key file at `path`, mode 0600. Refuses to overwrite one.
pub fn create_at(path: &Path, origin: &str) -> Result<Ed25519Signer> {
    let signer = furrow_app::transparency::generate_signer(origin)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (does a key already exist?)", path.display()))?;
    writeln!(file, "{}", signer.to_skey())?;
    file.sync_all()?;
    Ok(signer)
}

/// The signing key from the environment or the data directory, if there is one.
pub fn load(dir: &Path) -> Result<Option<Ed25519Signer>> {
    if let Ok(skey) = std::env::var(KEY_ENV) {
        return Ed25519Signer::from_skey(skey.trim()).map(Some).map_err(|e| anyhow::anyhow!("{KEY_ENV}: {e}"));
    }
    let path = key_path(dir);
    if !path.exists() {
        return Ok(None);
    }
    let mode = std::fs::metadata(&path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!("{} is readable by others (mode {:o}); run `chmod 600 {}`", path.display(), mode & 0o777, path.display());
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ed25519Signer::from_skey(text.trim()).map(Some).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
