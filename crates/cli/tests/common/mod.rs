//! Helpers shared by the CLI's end-to-end tests: the real binary, run as a user would.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// The `furrow` binary, without any environment that could change what it does.
pub fn furrow() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_furrow"));
    command
        .env_remove("FURROW_LOG_SIGNING_KEY")
        .env_remove("FURROW_DATA_DIR")
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_READ_DATABASE_URL");
    command
}

/// The flags naming a registry's database: a data directory, plus a PostgreSQL URL if given.
pub fn database_flags(data_dir: &Path, database_url: Option<&str>) -> Vec<OsString> {
    let mut flags: Vec<OsString> = vec!["--data-dir".into(), data_dir.into()];
    if let Some(url) = database_url {
        flags.extend(["--database-url".into(), url.into()]);
    }
    flags
}

/// The line after the one containing `marker` in a command's output (where keys are printed).
pub fn line_after(stdout: &[u8], marker: &str) -> String {
    let text = String::from_utf8_lossy(stdout).to_string();
    let mut lines = text.lines().skip_while(|l| !l.contains(marker));
    lines.nth(1).map(|l| l.trim().to_owned()).unwrap_or_else(|| panic!("no line after {marker:?} in {text}"))
}

/// Runs `furrow init` on `database` and returns the verifier key it prints.
pub fn init(database: &[OsString]) -> String {
    let init = furrow().arg("init").args(database).output().expect("init runs");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    line_after(&init.stdout, "Publish the verifier key")
}

/// A fresh operator token for `database`.
pub fn operator_token(database: &[OsString]) -> String {
    token(database, "operator", None)
}

/// A fresh token for `role` (and `subject`, else the CLI's default) on `database`.
pub fn token(database: &[OsString], role: &str, subject: Option<&str>) -> String {
    let mut command = furrow();
    command.args(["token", "create", "--role", role]).args(database);
    if let Some(subject) = subject {
        command.args(["--subject", subject]);
    }
    let token = command.output().expect("token");
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    String::from_utf8_lossy(&token.stdout).trim().to_owned()
}

/// A running `furrow serve` on a free port, killed when dropped.
pub struct Server {
    pub url: String,
    child: Child,
    // Kept open while the server runs: it prints more lines after the first.
    _output: Lines<BufReader<ChildStdout>>,
}

impl Server {
    /// Starts `furrow serve` with `flags` and waits until it prints where it listens.
    pub fn start(flags: &[OsString]) -> Self {
        let mut child = furrow()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut output = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = output.next().expect("the server prints a line").expect("line");
        let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("url").to_owned();
        Self { url, child, _output: output }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Blocks on one future with a runtime of its own (the tests are plain `#[test]`s).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

/// Opens one buyer account per name through the API of the server at `url`.
pub fn open_accounts(url: &str, token: &str, names: &[&str]) {
    block_on(async {
        let client = reqwest::Client::new();
        for name in names {
            let response = client
                .post(format!("{url}/api/v1/accounts"))
                .bearer_auth(token)
                .json(&serde_json::json!({"kind": "buyer", "name": name}))
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status().as_u16(), 201);
        }
    });
}

/// Runs `furrow serve` on `database`, opens `names.len()` buyer accounts through the API with a
/// fresh operator token, waits for the checkpointer to cover them, and stops the server.
pub fn serve_and_open_accounts(database: &[OsString], names: &[&str]) {
    let token = operator_token(database);
    let server = Server::start(database);
    open_accounts(&server.url, &token, names);
    // The checkpointer publishes within about a second of the last commit.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(server);
}
