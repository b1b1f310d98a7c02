//! Operating Furrow on PostgreSQL, end to end with the real binary (issue #4): one writer per
//! database across processes, public reads from a streaming hot standby with its lag in
//! `/api/v1/status`, and backup → restore → `furrow verify` on both backends.
//!
//! Outside CI a test whose PostgreSQL part cannot run skips with a printed reason; under
//! `CI=true` it fails instead (see `furrow-testkit`).

mod common;

use std::ffi::OsString;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, block_on, database_flags, furrow, init, open_accounts, operator_token, serve_and_open_accounts};
use furrow_testkit::{PgDatabase, PgSchema, StreamingPair};

#[test]
fn a_second_server_on_the_same_postgres_database_is_refused() {
    let Some(schema) = block_on(PgSchema::create()) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = database_flags(&dir.path().join("registry"), Some(&schema.url));
    init(&flags);
    let token = operator_token(&flags);
    let first = Server::start(&flags);

    let second = run_until_exit(furrow().args(["serve", "--listen", "127.0.0.1:0"]).args(&flags));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second writer must not start: {stderr}");
    assert!(stderr.contains("already the writer"), "{stderr}");

    // The first keeps writing; once it stops, another server may take over.
    open_accounts(&first.url, &token, &["Written by the first server"]);
    drop(first);
    let successor = Server::start(&flags);
    open_accounts(&successor.url, &token, &["Written by its successor"]);
}

#[test]
fn public_reads_come_from_a_streaming_standby_whose_lag_status_reports() {
    let Some(pair) = StreamingPair::start() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = database_flags(&dir.path().join("registry"), Some(&pair.primary_url));
    init(&flags);
    let token = operator_token(&flags);
    let mut serve_flags = flags.clone();
    serve_flags.extend([OsString::from("--read-database-url"), OsString::from(&pair.standby_url)]);
    let server = Server::start(&serve_flags);
    open_accounts(&server.url, &token, &["Before the pause"]);
    let caught_up = wait_for_status(&server.url, |s| s["read_replica"]["lag_bytes"] == 0);
    assert_eq!(caught_up["read_replica"]["in_recovery"], true, "reads must come from the standby: {caught_up}");
    let accounts = caught_up["accounts"].as_u64().expect("an account count");

    // Hold the standby still: what the primary commits now is not visible to public reads.
    standby_replay(&pair, "pg_wal_replay_pause");
    open_accounts(&server.url, &token, &["During the pause"]);
    let behind = get_json(&format!("{}/api/v1/status", server.url));
    assert_eq!(behind["accounts"], accounts, "the standby has not replayed the new account yet: {behind}");
    assert!(behind["read_replica"]["lag_bytes"].as_u64() > Some(0), "{behind}");
    assert!(behind["read_replica"]["lag_seconds"].as_f64() > Some(0.0), "{behind}");
    let page = get_json(&format!("{}/api/v1/accounts", server.url));
    assert!(!page.to_string().contains("During the pause"), "{page}");

    standby_replay(&pair, "pg_wal_replay_resume");
    let resumed =
        wait_for_status(&server.url, |s| s["accounts"] == accounts + 1 && s["read_replica"]["lag_bytes"] == 0);
    assert_eq!(resumed["read_replica"]["lag_seconds"], 0.0, "{resumed}");
    let page = get_json(&format!("{}/api/v1/accounts", server.url));
    assert!(page.to_string().contains("During the pause"), "{page}");
}

#[test]
fn a_restored_sqlite_backup_passes_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let original = database_flags(&dir.path().join("registry"), None);
    let restored = database_flags(&dir.path().join("restored"), None);
    backup_restore_and_verify(dir.path(), &original, &restored);
}

/// The database URL, password included, can come from a file (a mounted secret) instead of the
/// command line or the environment; no message ever shows the password.
#[test]
fn the_database_url_can_come_from_a_file_and_its_password_is_never_shown() {
    let Some(schema) = block_on(PgSchema::create()) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("database-url");
    std::fs::write(&secret, format!("{}\n", schema.url)).expect("write the secret");
    let flags = |file: &Path| -> Vec<OsString> {
        vec!["--data-dir".into(), dir.path().join("registry").into(), "--database-url-file".into(), file.into()]
    };
    init(&flags(&secret));
    let token = furrow().args(["token", "create", "--role", "operator"]).args(flags(&secret)).output().expect("token");
    succeed(token);

    let wrong = dir.path().join("wrong-url");
    std::fs::write(&wrong, "postgres://furrow:s3cret-pw@127.0.0.1:1/furrow").expect("write");
    let refused = furrow().arg("init").args(flags(&wrong)).output().expect("init runs");
    let said = format!("{}{}", String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    assert!(!refused.status.success(), "{said}");
    assert!(!said.contains("s3cret-pw"), "the password leaked: {said}");

    let missing = furrow().arg("init").args(flags(&dir.path().join("nowhere"))).output().expect("init runs");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere"), "the error names the file");
    let both = furrow().arg("init").args(flags(&secret)).args(["--database-url", "postgres://x@y/z"]).output();
    assert!(!both.expect("init runs").status.success(), "a URL and a URL file conflict");
}

#[test]
fn a_restored_postgres_backup_passes_verify() {
    let Some(schema) = block_on(PgSchema::create()) else { return };
    let Some(database) = PgDatabase::create() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let original = database_flags(&dir.path().join("registry"), Some(&schema.url));
    // The dump recreates its schema, so it is restored into another database.
    let restored = database_flags(&dir.path().join("restored"), Some(&schema.url_in(&database)));
    backup_restore_and_verify(dir.path(), &original, &restored);
}

/// Creates a registry at `original` with some history, backs it up, restores the backup at
/// `restored`, and checks the copy with `furrow verify` and the program's verifier key. Restoring
/// over a registry is refused.
fn backup_restore_and_verify(dir: &Path, original: &[OsString], restored: &[OsString]) {
    let key = init(original);
    serve_and_open_accounts(original, &["Buyer 0", "Buyer 1", "Buyer 2"]);
    let backup_file = dir.join("registry.backup");
    succeed(furrow().arg("backup").args(original).arg("--out").arg(&backup_file).output().expect("backup runs"));
    let restore = || furrow().arg("restore").arg("--from").arg(&backup_file).args(restored).output().expect("restore");
    let first = succeed(restore());
    assert!(String::from_utf8_lossy(&first.stdout).contains("Audit the copy: furrow verify"));

    let verify = succeed(furrow().arg("verify").args(restored).args(["--key", &key]).output().expect("verify runs"));
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(report.contains("OK: nothing found"), "{report}");

    let again = restore();
    assert!(!again.status.success(), "restoring over a registry must be refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));
}

fn succeed(output: Output) -> Output {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command that should exit by itself, killing it (and failing) if it is still running
/// after 30 seconds, so a server that wrongly starts cannot hang the test.
fn run_until_exit(command: &mut std::process::Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not exit: {:?}", child.wait_with_output().map(|o| o.stdout));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn get_json(url: &str) -> serde_json::Value {
    block_on(async {
        let response = reqwest::get(url).await.expect("GET");
        assert!(response.status().is_success(), "GET {url}: {}", response.status());
        response.json().await.expect("JSON")
    })
}

/// Polls `/api/v1/status` until `done` holds (at most 30 seconds) and returns that status.
fn wait_for_status(url: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = get_json(&format!("{url}/api/v1/status"));
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "the status never got there: {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Calls a replay-control function (`pg_wal_replay_pause`, `pg_wal_replay_resume`) on the standby.
fn standby_replay(pair: &StreamingPair, function: &str) {
    block_on(async {
        use sqlx::Connection;
        let mut standby = sqlx::PgConnection::connect(&pair.standby_url).await.expect("connect to the standby");
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {function}()")))
            .execute(&mut standby)
            .await
            .unwrap_or_else(|e| panic!("{function}: {e}\n{}", pair.logs()));
    });
}
