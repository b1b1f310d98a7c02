//! The importer's scratch index on disk: what the checks would otherwise hold per row in memory,
//! in a scratch SQLite database with a small page cache, so that the importer's memory does not
//! grow with the file or the area (issue #10). For `furrow_import::checks::WithinFile`: the rows
//! already read (origin-id digests, kept and quarantined ranges, vintage sums, a ledger's
//! credits); for `checks::Projects`: the projects' name keys; for `checks::Ledgers`: the
//! per-credit ledgers' serials and portfolio retirements. The judging stays in `checks`; this only
//! stores and looks up, the same as the in-memory indexes.
//!
//! The database is a file in a fresh temporary directory, deleted when the index is dropped. It
//! is scratch: no journal, no fsync, one transaction that is never committed (a crash leaves only
//! a temporary file behind, and the next import starts afresh). With `journal_mode=OFF` SQLite may
//! write dirty pages to the file in the middle of that transaction, which is what keeps its cache
//! at `cache_size`.

use furrow_import::Kind;
use furrow_import::checks::{IndexError, LedgerIndex, NameIndex, ProjectIds, RangeClass, WithinIndex};
use rusqlite::{Connection, OptionalExtension, params};

/// The scratch database's page cache: enough for the upper levels of its B-trees, so that a
/// lookup reads at most a leaf or two from the operating system's file cache.
const CACHE_KIB: i64 = 2 * 1024;

const SCHEMA: &str = "
CREATE TABLE seen (kind INTEGER NOT NULL, digest BLOB NOT NULL, line INTEGER NOT NULL,
                   PRIMARY KEY (kind, digest)) WITHOUT ROWID;
CREATE TABLE kept (namespace TEXT NOT NULL, class TEXT NOT NULL, start INTEGER NOT NULL,
                   end_ INTEGER NOT NULL, line INTEGER NOT NULL,
                   PRIMARY KEY (namespace, class, start)) WITHOUT ROWID;
CREATE TABLE other (namespace TEXT NOT NULL, class TEXT NOT NULL, start INTEGER NOT NULL,
                    end_ INTEGER NOT NULL, PRIMARY KEY (namespace, class, start)) WITHOUT ROWID;
CREATE TABLE vintages (key TEXT PRIMARY KEY NOT NULL, total INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE credits (start INTEGER PRIMARY KEY NOT NULL);
CREATE TABLE names (key TEXT NOT NULL, country TEXT NOT NULL, registry TEXT NOT NULL, project TEXT NOT NULL,
                    PRIMARY KEY (key, country, registry, project)) WITHOUT ROWID;
CREATE TABLE serials (registry TEXT NOT NULL, start INTEGER NOT NULL, PRIMARY KEY (registry, start)) WITHOUT ROWID;
CREATE TABLE retirements (registry TEXT NOT NULL, origin_id TEXT NOT NULL, start INTEGER NOT NULL);
BEGIN;
";

/// A [`WithinIndex`] in a scratch SQLite database.
pub struct DiskIndex {
    // Declared before `_dir`: the connection closes before its directory is removed.
    conn: Connection,
    /// How many ranges `other` holds: most files have none, and then a lookup is skipped.
    others: u64,
    /// The vintage summed last, (key, sum), written to its table only when another vintage's
    /// block comes: an export lists a vintage's blocks together, so most rows neither read nor
    /// write the table.
    vintage: Option<(String, i64)>,
    _dir: tempfile::TempDir,
}

fn failed(e: rusqlite::Error) -> IndexError {
    IndexError(e.to_string())
}

/// SQLite integers are signed: serials (u64) are stored with the top bit flipped, which keeps
/// their order.
fn to_sql(x: u64) -> i64 {
    (x ^ (1 << 63)) as i64
}

fn from_sql(x: i64) -> u64 {
    (x as u64) ^ (1 << 63)
}

/// Lines are far below 2^63; one that is not would be stored as the largest.
fn line_to_sql(line: u64) -> i64 {
    i64::try_from(line).unwrap_or(i64::MAX)
}

impl DiskIndex {
    /// A fresh, empty index in a new directory under the system's temporary directory (`TMPDIR`;
    /// on a tmpfs the scratch database would take memory after all, so point it at a disk).
    pub fn create() -> Result<Self, IndexError> {
        let dir = tempfile::Builder::new()
            .prefix("furrow-import-")
            .tempdir()
            .map_err(|e| IndexError(format!("cannot create a scratch directory: {e}")))?;
        let conn = Connection::open(dir.path().join("within.db")).map_err(failed)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA temp_store = FILE; PRAGMA cache_size = -{CACHE_KIB};"
        ))
        .map_err(failed)?;
        conn.execute_batch(SCHEMA).map_err(failed)?;
        Ok(DiskIndex { conn, others: 0, vintage: None, _dir: dir })
    }

    /// Writes the vintage held in memory to its table.
    fn flush_vintage(&mut self) -> Result<(), IndexError> {
        let Some((key, sum)) = self.vintage.take() else { return Ok(()) };
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO vintages (key, total) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![key, sum]))
            .map(drop)
            .map_err(failed)
    }
}

impl WithinIndex for DiskIndex {
    fn first_seen(&mut self, kind: Kind, digest: [u8; 16], line: u64) -> Result<Option<u64>, IndexError> {
        let kind = kind as i64;
        let added = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO seen (kind, digest, line) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![kind, &digest[..], line_to_sql(line)]))
            .map_err(failed)?;
        if added == 1 {
            return Ok(None);
        }
        let first: i64 = self
            .conn
            .prepare_cached("SELECT line FROM seen WHERE kind = ?1 AND digest = ?2")
            .and_then(|mut s| s.query_row(params![kind, &digest[..]], |r| r.get(0)))
            .map_err(failed)?;
        Ok(Some(u64::try_from(first).unwrap_or(0)))
    }

    fn kept_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64, u64)>, IndexError> {
        self.conn
            .prepare_cached(
                "SELECT start, end_, line FROM kept WHERE namespace = ?1 AND class = ?2 AND start <= ?3
                 ORDER BY start DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![class.0, class.1, to_sql(at)], |r| {
                    Ok((from_sql(r.get(0)?), from_sql(r.get(1)?), u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0)))
                })
                .optional()
            })
            .map_err(failed)
    }

    fn keep(&mut self, class: &RangeClass, start: u64, end: u64, line: u64) -> Result<(), IndexError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO kept (namespace, class, start, end_, line) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| s.execute(params![class.0, class.1, to_sql(start), to_sql(end), line_to_sql(line)]))
            .map(drop)
            .map_err(failed)
    }

    fn other_last_from(&mut self, class: &RangeClass, at: u64) -> Result<Option<(u64, u64)>, IndexError> {
        if self.others == 0 {
            return Ok(None);
        }
        self.conn
            .prepare_cached(
                "SELECT start, end_ FROM other WHERE namespace = ?1 AND class = ?2 AND start <= ?3
                 ORDER BY start DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(params![class.0, class.1, to_sql(at)], |r| Ok((from_sql(r.get(0)?), from_sql(r.get(1)?))))
                    .optional()
            })
            .map_err(failed)
    }

    fn other_insert(&mut self, class: &RangeClass, start: u64, end: u64) -> Result<(), IndexError> {
        let added = self
            .conn
            .prepare_cached("INSERT OR REPLACE INTO other (namespace, class, start, end_) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![class.0, class.1, to_sql(start), to_sql(end)]))
            .map_err(failed)?;
        self.others += added as u64;
        Ok(())
    }

    fn other_remove(&mut self, class: &RangeClass, start: u64) -> Result<(), IndexError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM other WHERE namespace = ?1 AND class = ?2 AND start = ?3")
            .and_then(|mut s| s.execute(params![class.0, class.1, to_sql(start)]))
            .map_err(failed)?;
        self.others = self.others.saturating_sub(removed as u64);
        Ok(())
    }

    fn vintage_sum(&mut self, key: &str) -> Result<Option<i64>, IndexError> {
        if let Some((last, sum)) = &self.vintage
            && last == key
        {
            return Ok(Some(*sum));
        }
        self.conn
            .prepare_cached("SELECT total FROM vintages WHERE key = ?1")
            .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
            .map_err(failed)
    }

    fn set_vintage_sum(&mut self, key: &str, sum: i64) -> Result<(), IndexError> {
        match &mut self.vintage {
            Some((last, held)) if last == key => *held = sum,
            _ => {
                self.flush_vintage()?;
                self.vintage = Some((key.to_string(), sum));
            }
        }
        Ok(())
    }

    fn credit(&mut self, start: u64) -> Result<(), IndexError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO credits (start) VALUES (?1)")
            .and_then(|mut s| s.execute(params![to_sql(start)]))
            .map(drop)
            .map_err(failed)
    }

    fn credits_in_order(&mut self, visit: &mut dyn FnMut(u64) -> bool) -> Result<(), IndexError> {
        let mut stmt = self.conn.prepare_cached("SELECT start FROM credits ORDER BY start").map_err(failed)?;
        let mut rows = stmt.query([]).map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            if !visit(from_sql(row.get(0).map_err(failed)?)) {
                break;
            }
        }
        Ok(())
    }
}

impl NameIndex for DiskIndex {
    type Error = IndexError;

    fn add(&mut self, key: &str, country: &str, registry: &str, project: &str) -> Result<(), IndexError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO names (key, country, registry, project) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![key, country, registry, project]))
            .map(drop)
            .map_err(failed)
    }

    fn groups(&mut self, visit: &mut dyn FnMut(&str, &ProjectIds)) -> Result<(), IndexError> {
        // Text compares byte by byte (SQLite's BINARY collation), as Rust's strings do.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, country, registry, project FROM names ORDER BY key, country, registry, project",
            )
            .map_err(failed)?;
        let mut rows = stmt.query([]).map_err(failed)?;
        // One group's pairs at a time: the projects that share one name in one country.
        let mut group: Option<(String, String)> = None;
        let mut ids: Vec<(String, String)> = Vec::new();
        while let Some(row) = rows.next().map_err(failed)? {
            let read = |i: usize| row.get::<_, String>(i).map_err(failed);
            let (key, country) = (read(0)?, read(1)?);
            if group.as_ref().is_some_and(|(k, c)| *k != key || *c != country) {
                if let Some((_, c)) = &group {
                    visit(c, &ids);
                }
                ids.clear();
            }
            group = Some((key, country));
            ids.push((read(2)?, read(3)?));
        }
        if let Some((_, c)) = &group {
            visit(c, &ids);
        }
        Ok(())
    }
}

impl LedgerIndex for DiskIndex {
    type Error = IndexError;

    fn serial(&mut self, registry: &str, start: u64) -> Result<(), IndexError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO serials (registry, start) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![registry, to_sql(start)]))
            .map(drop)
            .map_err(failed)
    }

    fn retirement(&mut self, registry: &str, origin_id: &str, start: u64) -> Result<(), IndexError> {
        self.conn
            .prepare_cached("INSERT INTO retirements (registry, origin_id, start) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![registry, origin_id, to_sql(start)]))
            .map(drop)
            .map_err(failed)
    }

    fn unknown_retirements(&mut self, visit: &mut dyn FnMut(&str, &str)) -> Result<(), IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT registry, origin_id FROM retirements r WHERE NOT EXISTS
                 (SELECT 1 FROM serials s WHERE s.registry = r.registry AND s.start = r.start) ORDER BY rowid",
            )
            .map_err(failed)?;
        let mut rows = stmt.query([]).map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            let registry: String = row.get(0).map_err(failed)?;
            let origin_id: String = row.get(1).map_err(failed)?;
            visit(&registry, &origin_id);
        }
        Ok(())
    }
}
