//! The tamper suite (issue #3): each way of falsifying a registry's history makes `furrow verify`
//! fail and name what is wrong, and the untouched registry passes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{database_flags, furrow, line_after, serve_and_open_accounts};
use sqlx::Connection;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

fn sql(data: &Path, statements: &[&str]) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("furrow.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        for statement in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut db).await.expect(statement);
        }
    });
}

struct Registry {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The registry after a few changes, checkpointed.
    data: PathBuf,
    /// A copy taken before those changes (for the rollback case).
    older: PathBuf,
    key: String,
}

/// init, then a snapshot, then a server run that adds five accounts and checkpoints them.
fn populated() -> Registry {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let data = root.join("registry");
    let init = furrow().args(["init", "--data-dir"]).arg(&data).output().expect("init");
    assert!(init.status.success());
    let key = line_after(&init.stdout, "Publish the verifier key");
    let older = root.join("older");
    copy_dir(&data, &older);
    serve_and_open_accounts(&database_flags(&data, None), &["Buyer 0", "Buyer 1", "Buyer 2", "Buyer 3", "Buyer 4"]);
    Registry { _dir: dir, root, data, older, key }
}

impl Registry {
    /// A fresh copy of the registry to falsify.
    fn copy(&self, name: &str) -> PathBuf {
        let target = self.root.join(name);
        copy_dir(&self.data, &target);
        target
    }

    fn verify(&self, data: &Path, witness: &str) -> Output {
        furrow()
            .args(["verify", "--key", &self.key, "--data-dir"])
            .arg(data)
            .arg("--witness")
            .arg(self.root.join(witness))
            .output()
            .expect("verify runs")
    }

    fn assert_fails(&self, data: &Path, witness: &str, expected: &str) {
        let output = self.verify(data, witness);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "expected a finding about {expected:?}; stderr: {stderr}");
        assert!(stderr.contains(expected), "expected a finding about {expected:?}; stderr: {stderr}");
    }
}

#[test]
fn every_kind_of_tampering_is_found_and_named() {
    let registry = populated();
    // Entries: 0 program, 1 log key, 2-6 the five accounts.
    let untouched = registry.verify(&registry.data, "witness-main");
    assert!(untouched.status.success(), "{}", String::from_utf8_lossy(&untouched.stderr));

    // Edit a projection row: the state no longer follows from the log.
    let data = registry.copy("projection");
    sql(&data, &["UPDATE accounts SET name = 'Mallory' WHERE id = 6"]);
    registry.assert_fails(&data, "w1", "the database's projection differs from the replayed log");

    // Edit a log entry (its bytes, keeping the stored hash): the leaf hash gives it away.
    let data = registry.copy("entry");
    sql(
        &data,
        &[
            "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'Buyer 2', 'Buyer X') AS BLOB) WHERE idx = 4",
        ],
    );
    registry.assert_fails(&data, "w2", "entry 4: the stored leaf hash does not match");

    // Edit a log entry and its stored leaf hash too: the signed root gives it away.
    let data = registry.copy("entry-and-hash");
    sql(
        &data,
        &[
            "UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'Buyer 2', 'Buyer X') AS BLOB), leaf_hash = zeroblob(32) WHERE idx = 4",
        ],
    );
    registry.assert_fails(&data, "w3", "entry 4");

    // Delete an entry.
    let data = registry.copy("deleted");
    sql(&data, &["DELETE FROM serial_history WHERE log_index = 3", "DELETE FROM log_entries WHERE idx = 3"]);
    registry.assert_fails(&data, "w4", "the log has a gap or is reordered");

    // Reorder two entries (swap their contents).
    let data = registry.copy("reordered");
    sql(
        &data,
        &[
            "UPDATE log_entries SET idx = -1 WHERE idx = 3",
            "UPDATE log_entries SET idx = 3 WHERE idx = 4",
            "UPDATE log_entries SET idx = 4 WHERE idx = -1",
        ],
    );
    registry.assert_fails(&data, "w5", "entry 3 claims to be entry 4");

    // Forge an older checkpoint (its signature no longer matches its text).
    let data = registry.copy("old-checkpoint");
    sql(
        &data,
        &[
            "UPDATE checkpoints SET note = replace(note, char(10) || '2' || char(10), char(10) || '3' || char(10)) WHERE tree_size = 2",
        ],
    );
    registry.assert_fails(&data, "w7", "checkpoint of 2 entries");

    // Roll the database back to an older copy, after a verifier saw the newer checkpoint.
    registry.assert_fails(&registry.older, "witness-main", "rollback");

    // Replace the signing key: a checkpoint signed with another key is refused.
    let data = registry.copy("rekeyed");
    std::fs::remove_file(data.join("log-signing.key")).expect("remove key");
    let forged = furrow_tlog::note::Ed25519Signer::from_seed("agr.furrow/log", &[7u8; 32]).expect("key");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let note: String = runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("furrow.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        let (size, root): (i64, Vec<u8>) =
            sqlx::query_as("SELECT tree_size, root FROM checkpoints ORDER BY tree_size DESC LIMIT 1")
                .fetch_one(&mut db)
                .await
                .expect("checkpoint");
        let root: [u8; 32] = root.try_into().expect("32 bytes");
        let checkpoint =
            furrow_tlog::checkpoint::Checkpoint::new("agr.furrow/log", size as u64, root).expect("checkpoint");
        checkpoint.sign(&[&forged]).expect("signs")
    });
    sql(
        &data,
        &[&format!(
            "UPDATE checkpoints SET note = '{note}' WHERE tree_size = (SELECT MAX(tree_size) FROM checkpoints)"
        )],
    );
    registry.assert_fails(&data, "w6", "checkpoint:");
}
