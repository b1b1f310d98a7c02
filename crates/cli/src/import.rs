//! `furrow import`: other registries' exports into the read-only external area, with a report;
//! and `furrow import --list …` to show what the area holds and what the checks flagged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use furrow_app::Clock;
use furrow_app::external::{FileReport, FileStatus, Importer, own_projects};
use furrow_app::store::{ExternalFlag, Page};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::DataDir;

pub const LONG_ABOUT: &str = "\
Import other carbon registries' public exports into this registry's external area: read-only
reference data kept apart from the registry's own log and supply, used to catch double counting.

Every row becomes a record keyed by its registry of origin and its origin id (a serial, a project
id, a transaction id), with its file, line and SHA-256 as provenance; importing the same file
twice changes nothing. Rows that break an invariant of their format (quantity ≠ serial range,
retired > issued, a serial repeated or overlapping, dates out of order, a serial that does not
match its columns, …) are quarantined: kept verbatim with the reason, and left out of the area.

After the files, the checks run over the whole area and this registry's own projects, and flag:
a serial range or project that appears in two registries, an own project that looks like an
imported one (same country, overlapping years; methodology and location when known), and
cross-file contradictions such as credits exceeding a project's monitored reductions.

Recognised layouts (by header): Verra VCU exports (and Toucan's), Gold Standard, ACR, CAR,
ART-TREES/FCPF, Cercarbono, Isometric, CARB ARB offsets, the Berkeley VROD tables (v3 and
2025-12), the OffsetsDB registry samples, and Climate Refarm's per-credit ledger. Directories are
read recursively; checksums in a SHA256SUMS file at a directory's top are verified.

Files of any length import in bounded memory: what the checks remember of the rows read so far
goes to scratch databases in the temporary directory (TMPDIR; about 100 bytes a row, deleted when
done), which should be on a disk rather than in memory (tmpfs).";

pub const AFTER_HELP: &str = "\
Examples:
  furrow import ../shared/data/real --data-dir ./registry
  furrow import vcus.csv --data-dir ./registry --report import-report.json
  furrow import projects.csv --registry verra --database-url postgres://furrow@db/furrow
  furrow import --list flags --data-dir ./registry
  furrow import --list quarantine --data-dir ./registry

Exit status: 0 when every file was imported or skipped as not data (quarantined rows are not
errors), 1 when a file could not be read or recognised, or failed its checksum.";

#[derive(Args)]
pub struct ImportArgs {
    /// Export files, or directories to read recursively.
    #[arg(value_name = "FILE|DIR", required_unless_present = "list")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    data: DataDir,
    /// The registry of origin, for a file whose layout does not say (e.g. `verra`, `gold-standard`,
    /// `acr`, `car`, `art-trees`, `isometric`, `cercarbono`, `carb`). Overrides the detected one.
    #[arg(long, value_name = "NAME")]
    registry: Option<String>,
    /// Also write the full report as JSON to this file.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Show what the external area holds instead of importing.
    #[arg(long, value_enum, conflicts_with_all = ["paths", "registry", "report"])]
    list: Option<Listing>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Listing {
    /// Imported files with their counts.
    Sources,
    /// What the cross-file, cross-registry and own-project checks flagged.
    Flags,
    /// Quarantined rows with their reasons.
    Quarantine,
}

pub async fn run(args: ImportArgs) -> Result<()> {
    args.data.require_registry().await?;
    if let Some(listing) = args.list {
        return list(&args.data, listing).await;
    }
    let files = collect(&args.paths)?;
    let _lock = args.data.lock()?;
    let store = args.data.open_store(None).await?;
    let total_bytes: u64 = files.iter().map(|f| f.size).sum();
    let progress = ProgressBar::new(total_bytes).with_style(
        ProgressStyle::with_template("{spinner} importing {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut importer = Importer::open(store.clone()).await?;
    let clock = furrow_app::SystemClock;
    let mut reports = Vec::new();
    for file in &files {
        progress.set_message(file.name.clone());
        let open = || std::fs::File::open(&file.path).with_context(|| format!("cannot read {}", file.path.display()));
        // Read twice: once for the digest that identifies the file, once to parse it as it streams.
        let sha256 = furrow_import::reader_sha256(std::io::BufReader::new(open()?))
            .with_context(|| format!("cannot read {}", file.path.display()))?;
        let report = match &file.expected_sha256 {
            Some(sum) if *sum != sha256 => {
                progress.inc(file.size);
                FileReport {
                    name: file.name.clone(),
                    sha256,
                    status: FileStatus::Failed(format!("its SHA-256 differs from SHA256SUMS ({sum})")),
                    layout: None,
                    rows: 0,
                    added: 0,
                    already_present: 0,
                    resumed: 0,
                    quarantined: BTreeMap::new(),
                    quarantine_examples: Vec::new(),
                    notes: BTreeMap::new(),
                    new_file: false,
                }
            }
            _ => {
                let before = progress.position();
                let input = progress.wrap_read(open()?);
                let report =
                    importer.import_reader(&file.name, &sha256, input, args.registry.as_deref(), clock.now()).await?;
                progress.set_position(before + file.size);
                report
            }
        };
        reports.push(report);
    }
    progress.set_message("cross-registry checks");
    let own = own_projects(store.as_ref()).await?;
    let (flags, added, removed) = importer.finish(&own).await.context("the cross-registry checks did not run")?;
    progress.finish_and_clear();
    store.close().await;

    print_summary(&args.data, &reports, &flags, added, removed, own.len());
    if let Some(path) = &args.report {
        let body = report_json(&args.data, &reports, &flags, added, removed);
        std::fs::write(path, serde_json::to_string_pretty(&body)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("The full report is in {}.", path.display());
    }
    let failed = reports.iter().filter(|r| matches!(r.status, FileStatus::Failed(_))).count();
    if failed > 0 {
        bail!("{failed} file(s) could not be imported; see above");
    }
    Ok(())
}

struct FileToRead {
    path: PathBuf,
    /// Shown to people (relative to the directory argument), and what the layouts read a
    /// project directory from.
    name: String,
    size: u64,
    expected_sha256: Option<String>,
}

/// Files to import, in a stable order: each argument in turn, directories walked in name order.
fn collect(paths: &[PathBuf]) -> Result<Vec<FileToRead>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let sums = match std::fs::read_to_string(p.join("SHA256SUMS")) {
                Ok(text) => furrow_import::parse_sha256sums(&text),
                Err(_) => BTreeMap::new(),
            };
            let mut found = Vec::new();
            walk(p, &mut found)?;
            for path in found {
                let rel = path.strip_prefix(p).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                out.push(FileToRead { name: rel.clone(), expected_sha256: sums.get(&rel).cloned(), path, size });
            }
        } else {
            out.push(FileToRead {
                name: p.to_string_lossy().into_owned(),
                path: p.clone(),
                size: meta.len(),
                expected_sha256: None,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            out.push(p);
        }
    }
    Ok(())
}

fn counts(m: &BTreeMap<String, u64>) -> String {
    m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
}

fn print_summary(data: &DataDir, reports: &[FileReport], flags: &[ExternalFlag], added: u64, removed: u64, own: usize) {
    println!("External area of {} (reference data: not part of this registry's log or supply)\n", data.describe());
    println!("{:<64} {:<36} {:>7} {:>7} {:>8} {:>6}", "FILE", "LAYOUT", "ROWS", "NEW", "PRESENT", "QUAR.");
    let (mut rows, mut new, mut present, mut quarantined) = (0, 0, 0, 0);
    for r in reports {
        match &r.status {
            FileStatus::Imported => {
                println!(
                    "{:<64} {:<36} {:>7} {:>7} {:>8} {:>6}",
                    shorten(&r.name, 64),
                    r.layout.as_deref().unwrap_or("-"),
                    r.rows,
                    r.added,
                    r.already_present,
                    r.quarantined_total()
                );
                if !r.quarantined.is_empty() {
                    println!("    quarantined: {}", counts(&r.quarantined));
                    for (line, reason, detail) in r.quarantine_examples.iter().take(3) {
                        println!("      line {line}: {reason}: {detail}");
                    }
                }
                if !r.notes.is_empty() {
                    println!("    noted (imported): {}", counts(&r.notes));
                }
                if r.resumed > 0 {
                    println!("    resumed: {} records were written by an interrupted import of this file", r.resumed);
                }
                rows += r.rows;
                new += r.added;
                present += r.already_present;
                quarantined += r.quarantined_total();
            }
            FileStatus::Skipped(why) => println!("{:<64} skipped: {why}", shorten(&r.name, 64)),
            FileStatus::Failed(why) => println!("{:<64} FAILED: {why}", shorten(&r.name, 64)),
        }
    }
    println!(
        "\n{} files: {rows} rows, {new} new records, {present} already present, {quarantined} quarantined",
        reports.len()
    );
    let mut by_code: BTreeMap<&str, Vec<&ExternalFlag>> = BTreeMap::new();
    for f in flags {
        by_code.entry(f.code.as_str()).or_default().push(f);
    }
    println!(
        "\nFlags for the operator: {} ({added} new, {removed} resolved), checked against {own} own project(s)",
        flags.len()
    );
    for (code, fs) in &by_code {
        println!("  {code}: {}", fs.len());
        for f in fs.iter().take(3) {
            println!("    {} — {}", f.subject, f.detail);
        }
    }
    println!("\nNext steps:");
    println!("  furrow import --list flags {}        all flags", data.flag());
    println!("  furrow import --list quarantine {}   quarantined rows and why", data.flag());
    println!("  furrow import --list sources {}      imported files", data.flag());
}

fn shorten(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width { s.to_string() } else { format!("…{}", s.chars().skip(n - width + 1).collect::<String>()) }
}

fn report_json(
    data: &DataDir,
    reports: &[FileReport],
    flags: &[ExternalFlag],
    added: u64,
    removed: u64,
) -> serde_json::Value {
    let files: Vec<_> = reports
        .iter()
        .map(|r| {
            let (status, reason) = match &r.status {
                FileStatus::Imported => ("imported", None),
                FileStatus::Skipped(w) => ("skipped", Some(w.clone())),
                FileStatus::Failed(w) => ("failed", Some(w.clone())),
            };
            json!({
                "file": r.name, "sha256": r.sha256, "status": status, "reason": reason, "layout": r.layout,
                "rows": r.rows, "new": r.added, "already_present": r.already_present, "resumed": r.resumed,
                "quarantined": r.quarantined_total(), "quarantined_by_reason": r.quarantined,
                "quarantine_examples": r.quarantine_examples.iter().map(|(l, c, d)| json!({"line": l, "reason": c, "detail": d})).collect::<Vec<_>>(),
                "notes": r.notes, "new_file": r.new_file,
            })
        })
        .collect();
    json!({
        "database": data.describe(),
        "files": files,
        "flags": flags.iter().map(|f| json!({"code": f.code, "subject": f.subject, "detail": f.detail})).collect::<Vec<_>>(),
        "flags_added": added,
        "flags_removed": removed,
    })
}

/// Writes listing lines; a closed pipe (`| head`) ends the listing quietly.
struct Out(bool);

impl Out {
    fn line(&mut self, text: String) -> Result<()> {
        use std::io::Write;
        if self.0 {
            return Ok(());
        }
        match writeln!(std::io::stdout(), "{text}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.0 = true;
                Ok(())
            }
            other => Ok(other?),
        }
    }
}

async fn list(data: &DataDir, listing: Listing) -> Result<()> {
    // Opened with migrations: a registry older than the external area gets its (empty) tables.
    let store = data.open_store(None).await?;
    let mut out = Out(false);
    match listing {
        Listing::Sources => {
            for s in store.external_sources().await? {
                out.line(format!(
                    "{}  {:<36} rows {:>6} new {:>6} present {:>6} quarantined {:>4}  {}",
                    &s.sha256[..12],
                    s.layout,
                    s.rows,
                    s.imported,
                    s.already_present,
                    s.quarantined,
                    s.file_name
                ))?;
            }
        }
        Listing::Flags => {
            let mut after = None;
            loop {
                let page = store.external_flags(Page { after, limit: 1_000 }).await?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                for (_, f) in page {
                    out.line(format!("{}\t{}\t{}", f.code, f.subject, f.detail))?;
                }
            }
        }
        Listing::Quarantine => {
            let names: BTreeMap<String, String> =
                store.external_sources().await?.into_iter().map(|s| (s.sha256, s.file_name)).collect();
            let mut after = None;
            loop {
                let page = store.external_quarantined(Page { after, limit: 1_000 }).await?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                for (_, q) in page {
                    let file = names.get(&q.source_sha256).map(String::as_str).unwrap_or(&q.source_sha256);
                    out.line(format!("{file}:{}\t{}\t{}", q.line, q.reason, q.detail))?;
                }
            }
        }
    }
    store.close().await;
    Ok(())
}
