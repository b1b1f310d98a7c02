//! The write path's own thread: it owns a connection and runs a whole write (a group commit, a
//! tree extension, a bulk load's last step) in one call.
//!
//! Through sqlx, every statement is a round trip to sqlx's per-connection worker thread: a
//! channel send, a wake-up, a context switch each way. A group commit is a dozen statements, and
//! on a disk that syncs in 0.2 ms those hand-offs, not the sync, were most of a lone client's
//! latency (a profile of one client: 80 % of the samples in the kernel, switching between the
//! tokio workers and that thread). Here the group crosses to this thread once, its statements run
//! back to back on prepared statements, and one answer comes back.
//!
//! The store keeps its sqlx writer connection for everything else (migrations, the ledger's load,
//! tokens, accounts). The two never write at once: [`SqliteStore`](crate::SqliteStore) holds the
//! sqlx writer while this thread writes, so neither waits in SQLite's busy handler (which sleeps
//! whole milliseconds).

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use furrow_store::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::Durability;

/// How the writer's connection is opened: the same settings as the sqlx writer's.
pub(crate) struct WriterSettings {
    pub path: PathBuf,
    pub durability: Durability,
    pub vfs: Option<String>,
    /// `cache_size` (negative: KiB).
    pub cache_kib: i64,
    /// `wal_autocheckpoint`, when checkpoints run in the background.
    pub wal_autocheckpoint: Option<&'static str>,
}

/// Prepared statements kept per connection: every statement of the write path, with room to spare.
const STATEMENT_CACHE: usize = 64;

impl WriterSettings {
    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = match &self.vfs {
            Some(vfs) => Connection::open_with_flags_and_vfs(&self.path, flags, vfs.as_str()),
            None => Connection::open_with_flags(&self.path, flags),
        }
        .map_err(|e| StoreError::Other(format!("cannot open {} for the writer: {e}", self.path.display())))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite_error)?;
        let synchronous = match self.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        // The same pragmas as the sqlx connections (journal_mode is the file's, set at migration).
        conn.pragma_update(None, "synchronous", synchronous).map_err(sqlite_error)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sqlite_error)?;
        conn.pragma_update(None, "temp_store", "memory").map_err(sqlite_error)?;
        conn.pragma_update(None, "cache_size", self.cache_kib).map_err(sqlite_error)?;
        if let Some(pages) = self.wal_autocheckpoint {
            conn.pragma_update(None, "wal_autocheckpoint", pages).map_err(sqlite_error)?;
        }
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}

/// A write for the thread: it runs with the connection and answers through its own channel.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

pub(crate) struct WriterThread {
    /// `None` once closed.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Fires when the thread has dropped (closed) its connection.
    exited: Mutex<Option<oneshot::Receiver<()>>>,
}

impl WriterThread {
    /// Starts the thread and opens its connection; fails if the connection cannot be opened.
    pub(crate) async fn start(settings: WriterSettings) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (opened_tx, opened) = oneshot::channel();
        let (exited_tx, exited) = oneshot::channel();
        std::thread::Builder::new()
            .name("furrow-sqlite-writer".into())
            .spawn(move || {
                let mut conn = match settings.connect() {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                let _ = opened_tx.send(Ok(()));
                // Ends when every sender is gone: the store was closed or dropped.
                while let Ok(job) = queue.recv() {
                    // A write that panics (a bug) fails alone: its caller hears that the writer
                    // stopped before answering, its transaction rolls back as it unwinds, and the
                    // thread goes on serving the next write instead of leaving every later
                    // commit to fail until a restart.
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn))).is_err() {
                        tracing::error!("a write on the SQLite writer thread panicked; it was rolled back");
                    }
                }
                drop(conn);
                let _ = exited_tx.send(());
            })
            .map_err(|e| StoreError::Other(format!("cannot start the writer thread: {e}")))?;
        opened.await.map_err(|_| StoreError::Other("the writer thread stopped while opening".into()))??;
        Ok(Self { jobs: Mutex::new(Some(jobs)), exited: Mutex::new(Some(exited)) })
    }

    /// Runs `write` on the writer's connection and returns its result.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = done.send(write(conn));
        });
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.as_ref().is_some_and(|jobs| jobs.send(job).is_ok()),
            Err(_) => false,
        };
        if !sent {
            return Err(StoreError::Other("the store is closed".into()));
        }
        answer.await.map_err(|_| StoreError::Other("the writer thread stopped before answering".into()))?
    }

    /// Stops taking writes, lets the thread finish the ones queued, and waits for it to close its
    /// connection.
    pub(crate) async fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let exited = self.exited.lock().ok().and_then(|mut exited| exited.take());
        if let Some(exited) = exited {
            let _ = exited.await;
        }
    }
}

/// The store's error for a failed statement, as [`crate::db_error`] maps sqlx's.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.clone().unwrap_or_else(|| failure.to_string());
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE
            | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            | ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            | ffi::SQLITE_CONSTRAINT_CHECK => return StoreError::Conflict { constraint: message },
            _ => {}
        }
        if matches!(failure.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) {
            return StoreError::Retryable(message);
        }
    }
    StoreError::Other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_that_panics_fails_alone_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scratch.db");
        Connection::open(&path).and_then(|c| c.execute_batch("CREATE TABLE t (x INTEGER)")).expect("create");
        let settings = WriterSettings {
            path,
            durability: Durability::Full,
            vfs: None,
            cache_kib: -2048,
            wal_autocheckpoint: None,
        };
        let thread = WriterThread::start(settings).await.expect("start");
        let panicked = thread
            .run(|conn| -> Result<(), StoreError> {
                let tx = conn.transaction().map_err(sqlite_error)?;
                tx.execute("INSERT INTO t VALUES (1)", []).map_err(sqlite_error)?;
                panic!("a bug in the middle of a write");
            })
            .await;
        assert!(panicked.is_err(), "the panicking write fails");
        let rows = thread
            .run(|conn| conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get::<_, i64>(0)).map_err(sqlite_error))
            .await
            .expect("the thread still serves writes");
        assert_eq!(rows, 0, "the panicking write's transaction was rolled back");
        thread.close().await;
    }
}
