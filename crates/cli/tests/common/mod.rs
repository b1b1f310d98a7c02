//! Helpers shared by the CLI's end-to-end tests: the real binary, run as a user would.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// The `furrow` binary, without any environment that could change what it does.
pub fn furrow() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_furrow"));
    command.env_remove("FURROW_LOG_SIGNING_KEY").env_remove("FURROW_DATA_DIR");
    command
}

/// The line after the one containing `marker` in a command's output (where keys are printed).
pub fn line_after(stdout: &[u8], marker: &str) -> String {
    let text = String::from_utf8_lossy(stdout).to_string();
    let mut lines = text.lines().skip_while(|l| !l.contains(marker));
    lines.nth(1).map(|l| l.trim().to_owned()).unwrap_or_else(|| panic!("no line after {marker:?} in {text}"))
}

/// Runs `furrow serve` on `data`, opens `names.len()` buyer accounts through the API with a fresh
/// operator token, waits for the checkpointer to cover them, and stops the server.
pub fn serve_and_open_accounts(data: &Path, names: &[&str]) {
    let token =
        furrow().args(["token", "create", "--role", "operator", "--data-dir"]).arg(data).output().expect("token");
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    let mut server = furrow()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    // Keep the pipe open while the server runs: it prints more lines after the first.
    let mut output = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = output.next().expect("a line").expect("line");
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).expect("url").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for name in names {
            let response = client
                .post(format!("{url}/api/v1/accounts"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"kind": "buyer", "name": name}))
                .send()
                .await
                .expect("POST");
            assert_eq!(response.status().as_u16(), 201);
        }
    });
    // The checkpointer publishes within about a second of the last commit.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let _ = server.kill();
    let _ = server.wait();
    drop(output);
}
