//! A throwaway PostgreSQL primary with a streaming hot standby, on loopback, for replica tests.
//!
//! The machine's own server (port 5432) cannot be used: a standby needs a primary whose
//! configuration we control. So the harness builds both from scratch in a temporary directory:
//! `initdb` for the primary, `pg_basebackup --write-recovery-conf` for the standby, each on a free
//! port and started with `pg_ctl`. PostgreSQL's server refuses to run as root, so when the tests
//! run as root every server command runs as the `postgres` user (`runuser`), and the directory is
//! handed to that user. Both servers stop (immediately; they hold nothing worth keeping) when the
//! value is dropped.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::in_ci;

/// A running primary and its streaming standby.
pub struct StreamingPair {
    /// A URL for the primary's `postgres` database.
    pub primary_url: String,
    /// The same database on the standby (read-only, replaying the primary's write-ahead log).
    pub standby_url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl StreamingPair {
    /// Starts both servers, or returns `None` with the reason printed when this machine has no
    /// PostgreSQL server binaries (outside CI; in CI that is a failure).
    pub fn start() -> Option<Self> {
        let Some(bin) = server_binaries() else {
            let reason = "no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) found; \
                          set FURROW_TEST_PG_BINDIR";
            assert!(!in_ci(), "CI needs them for the replica tests: {reason}");
            eprintln!("skipping the replica test: {reason}");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("furrow-pg-pair-").tempdir().expect("temp dir");
        give_to_server_user(dir.path());
        let [primary_port, standby_port] = free_ports();
        let pair = Self {
            primary_url: format!("postgres://postgres@127.0.0.1:{primary_port}/postgres"),
            standby_url: format!("postgres://postgres@127.0.0.1:{standby_port}/postgres"),
            bin,
            dir,
        };
        pair.init_primary(primary_port);
        pair.start_server("primary");
        pair.clone_standby(primary_port, standby_port);
        pair.start_server("standby");
        Some(pair)
    }

    /// The server logs, for a failing test's message.
    pub fn logs(&self) -> String {
        ["primary", "standby"]
            .iter()
            .map(|name| {
                let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default();
                format!("--- {name}.log ---\n{log}")
            })
            .collect()
    }

    fn init_primary(&self, port: u16) {
        let data = self.data_dir("primary");
        self.server_command("initdb", |c| {
            c.args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "--pgdata"]).arg(&data)
        });
        // Replication from 127.0.0.1 is allowed by initdb's default pg_hba.conf under trust.
        self.append_config(&data, &self.server_settings(port));
    }

    fn clone_standby(&self, primary_port: u16, standby_port: u16) {
        let data = self.data_dir("standby");
        self.server_command("pg_basebackup", |c| {
            c.args(["--host=127.0.0.1", "--username=postgres", "--wal-method=stream", "--checkpoint=fast"])
                .arg(format!("--port={primary_port}"))
                // Writes standby.signal and primary_conninfo: the copy starts as a hot standby.
                .arg("--write-recovery-conf")
                .arg("--pgdata")
                .arg(&data)
        });
        // The copy carries the primary's settings; the later line wins.
        self.append_config(&data, &format!("port = {standby_port}\nhot_standby = on\n"));
    }

    fn server_settings(&self, port: u16) -> String {
        // fsync off: the data is thrown away, and the tests measure nothing.
        format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             wal_level = replica\nmax_wal_senders = 4\nfsync = off\nlogging_collector = off\n",
            self.dir.path().display()
        )
    }

    fn start_server(&self, name: &str) {
        let data = self.data_dir(name);
        let log = self.dir.path().join(format!("{name}.log"));
        self.server_command("pg_ctl", |c| {
            c.arg("--wait").arg("--pgdata").arg(&data).arg("--log").arg(&log).arg("start")
        });
    }

    fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn append_config(&self, data: &Path, settings: &str) {
        use std::io::Write;
        let path = data.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open postgresql.conf");
        file.write_all(settings.as_bytes()).expect("write postgresql.conf");
    }

    /// Runs one of the server's programs as the user that may run it; panics with its output if
    /// it fails.
    fn server_command(&self, program: &str, args: impl FnOnce(&mut Command) -> &mut Command) -> Output {
        let mut command = as_server_user(&self.bin.join(program));
        args(&mut command);
        let output = command.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.logs()
        );
        output
    }
}

impl Drop for StreamingPair {
    fn drop(&mut self) {
        for name in ["standby", "primary"] {
            let data = self.data_dir(name);
            if data.join("postmaster.pid").exists() {
                let _ = as_server_user(&self.bin.join("pg_ctl"))
                    .args(["--mode=immediate", "--pgdata"])
                    .arg(&data)
                    .arg("stop")
                    .output();
            }
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `pg_basebackup`: `FURROW_TEST_PG_BINDIR`, or the
/// newest Debian-style `/usr/lib/postgresql/<version>/bin`.
fn server_binaries() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("FURROW_TEST_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_basebackup").is_file())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok())
    });
    versions.pop()
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn give_to_server_user(dir: &Path) {
    if running_as_root() {
        let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir).status().expect("run chown");
        assert!(status.success(), "cannot give {} to the postgres user", dir.display());
    }
}

/// Two distinct ports nobody listens on right now. Another process could take one before the
/// server does; on a test machine that is rare enough, and the failure would be loud.
fn free_ports() -> [u16; 2] {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    // Both held at once, so they differ.
    let listeners = [bind(), bind()];
    listeners.map(|l| l.local_addr().expect("address").port())
}
