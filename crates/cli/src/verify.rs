//! `furrow verify`: audit a registry from its log alone.
//!
//! It trusts nothing the registry says about itself: it recomputes every leaf hash and the Merkle
//! tree, checks the checkpoint's signature against a key given on the command line, checks that
//! the log extends every checkpoint this machine saw before (a local witness file), replays every
//! entry into a fresh ledger, checks the invariants, and compares the result with the state the
//! registry publishes.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use base64::Engine;
use clap::Args;
use furrow_app::store::{BlockFilter, Page, Store};
use furrow_domain::invariants;
use furrow_domain::{Ledger, LogEntry};
use furrow_tlog::Hash;
use furrow_tlog::checkpoint::{self, Checkpoint};
use furrow_tlog::note::{Ed25519Verifier, NoteVerifier};
use furrow_tlog::tree::{self, HashReader, MemoryTree};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::DataDir;

#[derive(Args)]
pub struct VerifyArgs {
    /// Audit a running registry through its public API.
    #[arg(long, conflicts_with = "data_dir", required_unless_present_any = ["data_dir", "database_url", "bundle", "certificate"])]
    url: Option<String>,
    /// Verify one retirement certificate offline (from `/api/v1/retirements/{id}/certificate`);
    /// needs --key.
    #[arg(long, conflicts_with_all = ["url", "data_dir", "bundle"], requires = "key")]
    certificate: Option<PathBuf>,
    /// Audit a copy of a registry's database.
    #[arg(long, conflicts_with = "bundle")]
    data_dir: Option<PathBuf>,
    /// Audit a registry's PostgreSQL database (read only; a replica will do).
    #[arg(long, value_name = "URL", conflicts_with_all = ["url", "bundle", "certificate"])]
    database_url: Option<String>,
    /// Audit an offline copy of the log made by `furrow mirror` (checkpoint, tiles, entry bundles).
    #[arg(long, conflicts_with = "url")]
    bundle: Option<PathBuf>,
    /// The log's verifier key (`name+keyid+base64`), from the program's publications. Without it
    /// the key is taken from the registry itself, which proves much less.
    #[arg(long)]
    key: Option<String>,
    /// Where to remember the last checkpoint seen, to detect a log that was rewritten or rolled
    /// back between runs. Default: ~/.furrow/witness/<origin>-<key id of the pinned key>.
    #[arg(long)]
    witness: Option<PathBuf>,
}

/// Where the log and the published state come from.
#[derive(Clone)]
enum Source {
    Database(std::sync::Arc<dyn Store>),
    Server {
        client: reqwest::Client,
        base: String,
    },
    /// A directory laid out like a C2SP tlog-tiles log: `checkpoint`, `key`, `tile/…`.
    Bundle {
        dir: PathBuf,
        size: u64,
    },
}

struct StoredCheckpoint {
    tree_size: u64,
    note: String,
}

struct Entry {
    index: u64,
    bytes: Vec<u8>,
    leaf_hash: Hash,
    /// Whether `leaf_hash` (stored or served) is the hash of `bytes`; set by the reading task,
    /// which recomputes it.
    hash_ok: bool,
}

/// What the reading task recomputed: the tree of every contiguous entry it read, and where the
/// log stopped being contiguous, as (index found, index expected).
struct Hashed {
    tree: MemoryTree,
    gap: Option<(u64, u64)>,
}

impl Source {
    async fn log_size(&self) -> Result<u64> {
        match self {
            Source::Database(store) => Ok(store.log_size().await?),
            Source::Server { .. } => Ok(self.get_json("/status").await?["log_size"].as_u64().unwrap_or(0)),
            Source::Bundle { size, .. } => Ok(*size),
        }
    }

    async fn entries(&self, after: Option<u64>) -> Result<Vec<Entry>> {
        match self {
            Source::Database(store) => {
                // Large pages: a query per 500 entries cost more than the replay of them.
                let rows = store.log_entry_bytes(Page { after, limit: 10_000 }).await?;
                Ok(rows
                    .into_iter()
                    .map(|(index, bytes, leaf_hash)| Entry { index, bytes, leaf_hash, hash_ok: true })
                    .collect())
            }
            Source::Server { .. } => {
                let cursor = after.map(|a| format!("&cursor={a}")).unwrap_or_default();
                let page = self.get_json(&format!("/log/entries?limit=500{cursor}")).await?;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                items.iter().map(entry_from_json).collect()
            }
            Source::Bundle { dir, size } => bundle_entries(dir, *size, after.map_or(0, |a| a + 1)),
        }
    }

    async fn checkpoint(&self) -> Result<Option<String>> {
        match self {
            Source::Database(store) => Ok(store.latest_checkpoint().await?.map(|c| c.note)),
            Source::Bundle { dir, .. } => Ok(std::fs::read_to_string(dir.join("checkpoint")).ok()),
            Source::Server { client, base } => {
                let response = client.get(format!("{base}/log/checkpoint")).send().await?;
                if response.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                Ok(Some(response.error_for_status()?.text().await?))
            }
        }
    }

    async fn published_key(&self, data_dir: Option<&PathBuf>) -> Result<Option<String>> {
        match self {
            Source::Bundle { dir, .. } => {
                Ok(std::fs::read_to_string(dir.join("key")).ok().map(|k| k.trim().to_owned()))
            }
            Source::Database(_) => Ok(match data_dir {
                Some(dir) => crate::keys::load(dir)?.map(|s| s.vkey()),
                None => None,
            }),
            Source::Server { client, base } => {
                let response = client.get(format!("{base}/log/key")).send().await?;
                if !response.status().is_success() {
                    return Ok(None);
                }
                Ok(Some(response.text().await?.trim().to_owned()))
            }
        }
    }

    /// Every stored checkpoint after `after` (a tree size), one page at a time; a mirror has only its
    /// latest one.
    async fn checkpoints(&self, after: Option<u64>) -> Result<Vec<StoredCheckpoint>> {
        match self {
            Source::Database(store) => Ok(store
                .checkpoints(after, 500)
                .await?
                .into_iter()
                .map(|c| StoredCheckpoint { tree_size: c.tree_size, note: c.note })
                .collect()),
            Source::Server { .. } => {
                let cursor = after.map(|a| format!("&cursor={a}")).unwrap_or_default();
                let page = self.get_json(&format!("/log/checkpoints?limit=500{cursor}")).await?;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                Ok(items
                    .iter()
                    .map(|c| StoredCheckpoint {
                        tree_size: c["tree_size"].as_u64().unwrap_or(0),
                        note: c["note"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect())
            }
            Source::Bundle { size, .. } => match (after, self.checkpoint().await?) {
                (None, Some(note)) => Ok(vec![StoredCheckpoint { tree_size: *size, note }]),
                _ => Ok(Vec::new()),
            },
        }
    }

    /// The oldest checkpoint covering at least `size` entries.
    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<String>> {
        match self {
            Source::Database(store) => Ok(store.checkpoint_at_least(size).await?.map(|c| c.note)),
            Source::Server { client, base } => {
                let response = client.get(format!("{base}/log/checkpoints/{size}")).send().await?;
                if !response.status().is_success() {
                    return Ok(None);
                }
                Ok(Some(response.text().await?))
            }
            // A mirror holds the latest checkpoint only.
            Source::Bundle { .. } => Ok(None),
        }
    }

    async fn get_json(&self, path: &str) -> Result<Value> {
        let Source::Server { client, base } = self else { bail!("not a server") };
        let url = format!("{base}{path}");
        let response = client.get(&url).send().await.with_context(|| format!("cannot reach {url}"))?;
        Ok(response.error_for_status().with_context(|| format!("GET {url}"))?.json().await?)
    }

    /// Every block the registry publishes, as (start, end, batch, account, state) strings.
    async fn published_blocks(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page: Vec<String> = match self {
                Source::Database(store) => {
                    let blocks = store.blocks(BlockFilter::default(), Page { after, limit: 10_000 }).await?;
                    after = blocks.last().map(|b| b.range.start());
                    blocks.iter().map(describe_block).collect()
                }
                Source::Server { .. } => {
                    let cursor = after.map(|a| format!("&cursor={a}")).unwrap_or_default();
                    let json = self.get_json(&format!("/blocks?limit=500{cursor}")).await?;
                    let items = json["items"].as_array().cloned().unwrap_or_default();
                    after = items.last().and_then(|b| b["range"]["start"].as_u64());
                    items
                        .iter()
                        .map(|b| {
                            describe(
                                b["range"]["start"].as_u64().unwrap_or(0),
                                b["range"]["end"].as_u64().unwrap_or(0),
                                b["batch"].as_str().unwrap_or(""),
                                b["account"].as_str().unwrap_or(""),
                                b["state"].as_str().unwrap_or(""),
                            )
                        })
                        .collect()
                }
                Source::Bundle { .. } => Vec::new(),
            };
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }
}

fn describe(start: u64, end: u64, batch: &str, account: &str, state: &str) -> String {
    format!("{start}-{end} {batch} {account} {state}")
}

/// A block as `describe` words it, to compare a projection with the served blocks' JSON.
fn describe_block(b: &furrow_domain::Block) -> String {
    describe(b.range.start(), b.range.end(), &b.batch.to_string(), &b.account.to_string(), b.state.as_str())
}

fn entry_from_json(item: &Value) -> Result<Entry> {
    let index = item["index"].as_u64().context("entry without an index")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(item["entry"].as_str().unwrap_or(""))
        .with_context(|| format!("entry {index}: not base64"))?;
    let leaf_hash: Hash = hex::decode(item["leaf_hash"].as_str().unwrap_or(""))
        .ok()
        .and_then(|h| h.try_into().ok())
        .with_context(|| format!("entry {index}: leaf hash is not 32 bytes of hex"))?;
    Ok(Entry { index, bytes, leaf_hash, hash_ok: true })
}

/// Collects what is wrong; the command fails if anything is.
#[derive(Default)]
struct Report {
    findings: Vec<String>,
}

impl Report {
    fn finding(&mut self, text: String) {
        self.findings.push(text);
    }
}

pub async fn run(args: VerifyArgs) -> Result<()> {
    if let (Some(file), Some(key)) = (&args.certificate, &args.key) {
        return verify_certificate(file, key);
    }
    let database = DataDir::from_flags(args.data_dir.as_ref(), args.database_url.as_ref());
    let source = match (&args.url, database) {
        (Some(url), _) => {
            Source::Server { client: reqwest::Client::new(), base: format!("{}/api/v1", url.trim_end_matches('/')) }
        }
        (None, Some(database)) => Source::Database(database.open_read_only().await?),
        (None, None) => match &args.bundle {
            Some(dir) => {
                let note = std::fs::read_to_string(dir.join("checkpoint"))
                    .with_context(|| format!("{} has no checkpoint; make one with `furrow mirror`", dir.display()))?;
                let body = note.split("\n\n").next().unwrap_or_default();
                let size =
                    Checkpoint::parse(&format!("{body}\n")).map_err(|e| anyhow::anyhow!("checkpoint: {e}"))?.size();
                Source::Bundle { dir: dir.clone(), size }
            }
            None => bail!("give --url, --data-dir, --database-url or --bundle"),
        },
    };
    let mut report = Report::default();
    if let Some(key) = &args.key {
        // A typo in the key should fail now, not after a long replay.
        Ed25519Verifier::from_vkey(key).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    }

    // 1. Every entry: its leaf hash, its position, its decoding, and its effect on a fresh ledger.
    let size = source.log_size().await?;
    let progress = ProgressBar::new(size).with_message("replaying the log");
    progress.set_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} entries ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // The published state does not depend on the replay, so it is read meanwhile, on a
    // connection (or requests) of its own: on two cores, beside the replay rather than after it.
    let projection = match &source {
        Source::Database(store) => {
            let store = store.clone();
            Some(tokio::spawn(async move { store.load_ledger().await }))
        }
        _ => None,
    };
    let served_blocks = match &source {
        Source::Server { .. } => {
            let source = source.clone();
            Some(tokio::spawn(async move { source.published_blocks().await }))
        }
        _ => None,
    };
    let mut ledger = Ledger::new();
    let mut effects = furrow_domain::Effects::default();
    // (entry index, vkey) of every log key the log announced, oldest first.
    let mut publications: Vec<(u64, String)> = Vec::new();
    let mut issuances = invariants::IssuanceAudit::default();
    // Pages are read, checked for gaps, hashed and added to the tree by a task of their own, so
    // that work runs on the other core while this one decodes and replays.
    let (mut pages, hashing) = read_pages(source.clone());
    let mut replaying = true;
    while let Some(page) = pages.recv().await {
        let page = page?;
        if !replaying {
            // After a failed replay the rest is still hashed (the tree then covers every entry
            // up to any gap, whatever the timing), but not replayed.
            continue;
        }
        let count = page.len() as u64;
        for entry in page {
            if !entry.hash_ok {
                report.finding(format!("entry {}: the stored leaf hash does not match the entry's bytes", entry.index));
            }
            match LogEntry::decode(&entry.bytes) {
                Err(e) => report.finding(format!("entry {}: {e}", entry.index)),
                Ok(decoded) if decoded.index != entry.index => {
                    report.finding(format!("entry {} claims to be entry {}", entry.index, decoded.index))
                }
                Ok(decoded) => {
                    if let furrow_domain::Event::LogKeyPublished { vkey } = &decoded.event {
                        publications.push((decoded.index, vkey.clone()));
                    }
                    issuances.observe(&decoded);
                    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        ledger.apply_reusing(&decoded.event, decoded.timestamp, &mut effects);
                    }));
                    if applied.is_err() {
                        report.finding(format!(
                            "entry {} ({}) does not apply to the state before it",
                            entry.index,
                            decoded.event.kind()
                        ));
                        replaying = false;
                        break;
                    }
                }
            }
        }
        progress.inc(count);
    }
    let Hashed { tree, gap } = hashing.await.context("the task reading the log failed")??;
    if let Some((found, expected)) = gap {
        report.finding(format!(
            "entry {found} appears where entry {expected} should be: the log has a gap or is reordered"
        ));
    }
    progress.finish_and_clear();
    let entries = tree.size();
    println!("log: {entries} entries, leaf hashes recomputed, replayed into a fresh ledger");

    // 2. The invariants of SPEC §9 on the replayed state.
    match invariants::check(&ledger) {
        Ok(()) => println!(
            "invariants: conservation, disjoint cover, terminal placement, issuance within verified net, four-eyes and one active enrolment per parcel hold"
        ),
        Err(violations) => violations.into_iter().for_each(|v| report.finding(format!("replayed state: {v}"))),
    }
    // Invariant 5 needs the log's actors: who issued each batch, and who approved it.
    let issuances = issuances.finish();
    match issuances.violations.as_slice() {
        [] => println!(
            "issuance: {} batches issued on a second operator's approval, {} by the program itself (credits that predate the registry)",
            issuances.approved, issuances.direct
        ),
        violations => violations.iter().for_each(|v| report.finding(format!("log: {v}"))),
    }
    // Every frozen quantification, recomputed from the inputs its log entries recorded (SPEC §6).
    let lifecycle = ledger.lifecycle();
    let frozen = lifecycle.reports.values().filter(|r| r.quantification.is_some()).count();
    match furrow_domain::lifecycle::engine::recompute_all(lifecycle).as_slice() {
        [] => println!("quantifications: {frozen} frozen results recompute from their recorded inputs"),
        mismatches => mismatches.iter().for_each(|m| report.finding(format!("quantification: {m}"))),
    }

    // 3. The published state equals the replayed one.
    match (&source, projection, served_blocks) {
        (Source::Bundle { .. }, _, _) => {
            println!("state: an offline bundle carries the log only; the state above is derived from it");
            check_bundle_tiles(&source, &tree, &mut report)?;
        }
        (Source::Database(_), Some(projection), _) => {
            // The blocks table as the projection holds it, compared block by block with the
            // replayed ones (not as formatted text: a million blocks made two million strings).
            let loaded = projection.await.context("the task reading the projection failed")??;
            let published = loaded.blocks().count();
            match loaded.blocks().zip(ledger.blocks()).position(|(a, b)| a != b) {
                None if published == ledger.blocks().count() => {
                    println!("state: the {published} published blocks equal the replayed ones")
                }
                first => report.finding(format!(
                    "state: published blocks differ from the replayed log ({published} published, {} replayed; first difference at block {})",
                    ledger.blocks().count(),
                    first.unwrap_or(published.min(ledger.blocks().count()))
                )),
            }
            if loaded != ledger {
                report.finding("state: the database's projection differs from the replayed log".into());
            }
        }
        (_, _, served) => {
            let published = match served {
                Some(task) => task.await.context("the task reading the published blocks failed")??,
                None => source.published_blocks().await?,
            };
            let replayed: Vec<String> = ledger.blocks().map(describe_block).collect();
            if published == replayed {
                println!("state: the {} published blocks equal the replayed ones", published.len());
            } else {
                let first = published
                    .iter()
                    .zip(&replayed)
                    .position(|(a, b)| a != b)
                    .unwrap_or(published.len().min(replayed.len()));
                report.finding(format!(
                    "state: published blocks differ from the replayed log ({} published, {} replayed; first difference at block {first})",
                    published.len(),
                    replayed.len()
                ));
            }
        }
    }

    // 4. The signed checkpoint commits to exactly this log.
    let key = match &args.key {
        Some(key) => Some(key.clone()),
        None => {
            let key = source.published_key(args.data_dir.as_ref()).await?;
            if key.is_some() {
                println!("key: none given; using the registry's own key (pass --key to pin the published one)");
            }
            key
        }
    };
    match (source.checkpoint().await?, key) {
        (None, _) => report.finding("checkpoint: the registry publishes no signed checkpoint".into()),
        (Some(_), None) => report.finding("checkpoint: no verifier key to check it with".into()),
        (Some(note), Some(key)) => {
            let anchor = Ed25519Verifier::from_vkey(&key).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
            let trusted = trust_chain(&source, anchor, &publications, &tree, &mut report).await?;
            let verifiers: Vec<&dyn NoteVerifier> = trusted.iter().map(|v| v as &dyn NoteVerifier).collect();
            match checkpoint::open(note.as_bytes(), &verifiers) {
                Err(e) => report.finding(format!("checkpoint: {e}")),
                Ok((checkpoint, _)) => {
                    check_checkpoint(&checkpoint, &tree, &mut report)?;
                    check_every_checkpoint(&source, &verifiers, &publications, &tree, &mut report).await?;
                    check_witness(&args, &checkpoint, &note, &tree, &verifiers, &mut report)?;
                    if let Source::Server { .. } = &source {
                        check_served_proofs(&source, &checkpoint, &tree, &mut report).await?;
                    }
                }
            }
        }
    }

    if report.findings.is_empty() {
        println!("OK: nothing found");
        Ok(())
    } else {
        for finding in &report.findings {
            eprintln!("FINDING: {finding}");
        }
        bail!("{} finding(s); the registry does not verify", report.findings.len())
    }
}

/// Reads the log's entries page after page, up to two pages ahead of the replay, until an empty
/// page, a gap or an error (which is passed on). Each entry's leaf hash is recomputed here and
/// appended to the tree, which the task returns; the replay gets the pages with `hash_ok` set.
fn read_pages(
    source: Source,
) -> (tokio::sync::mpsc::Receiver<Result<Vec<Entry>>>, tokio::task::JoinHandle<Result<Hashed>>) {
    let (pages, receiver) = tokio::sync::mpsc::channel(2);
    let task = tokio::spawn(async move {
        let mut hashed = Hashed { tree: MemoryTree::new(), gap: None };
        let mut after = None;
        loop {
            let mut page = match source.entries(after).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = pages.send(Err(e)).await;
                    return Ok(hashed);
                }
            };
            let Some(last) = page.last().map(|e| e.index) else { return Ok(hashed) };
            let tree = &mut hashed.tree;
            let mut contiguous = page.len();
            for (i, entry) in page.iter_mut().enumerate() {
                if entry.index != tree.size() {
                    hashed.gap = Some((entry.index, tree.size()));
                    contiguous = i;
                    break;
                }
                let leaf_hash = furrow_tlog::leaf_hash(&entry.bytes);
                entry.hash_ok = leaf_hash == entry.leaf_hash;
                tree.append(leaf_hash).map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            page.truncate(contiguous);
            if pages.send(Ok(page)).await.is_err() || hashed.gap.is_some() {
                return Ok(hashed);
            }
            after = Some(last);
        }
    });
    (receiver, task)
}

fn root_at(tree: &MemoryTree, size: u64) -> Result<Hash> {
    tree::tree_hash(size, tree).map_err(|e| anyhow::anyhow!("{e}"))
}

fn check_checkpoint(checkpoint: &Checkpoint, tree: &MemoryTree, report: &mut Report) -> Result<()> {
    if checkpoint.size() > tree.size() {
        report.finding(format!(
            "checkpoint: signed for {} entries but the log has only {}",
            checkpoint.size(),
            tree.size()
        ));
    } else if root_at(tree, checkpoint.size())? != *checkpoint.root() {
        report
            .finding(format!("checkpoint: the root of the first {} entries is not the signed root", checkpoint.size()));
    } else {
        println!(
            "checkpoint: signature valid; root of the first {} entries matches ({})",
            checkpoint.size(),
            checkpoint.origin()
        );
    }
    Ok(())
}

/// Compares with the checkpoint remembered from an earlier run, then remembers this one.
fn check_witness(
    args: &VerifyArgs,
    checkpoint: &Checkpoint,
    note: &str,
    tree: &MemoryTree,
    verifiers: &[&dyn NoteVerifier],
    report: &mut Report,
) -> Result<()> {
    let path = match &args.witness {
        Some(path) => path.clone(),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            // One file per log and pinned key, so two registries that share an origin never share
            // a witness.
            let origin: String =
                checkpoint.origin().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            let anchor = verifiers.first().map_or(0, |v| v.key_id());
            home.join(".furrow").join("witness").join(format!("{origin}-{anchor:08x}"))
        }
    };
    if path.exists() {
        let old_note = std::fs::read_to_string(&path)?;
        match checkpoint::open(old_note.as_bytes(), verifiers) {
            Err(e) => {
                report.finding(format!("witness {}: the remembered checkpoint does not verify: {e}", path.display()))
            }
            Ok((old, _)) if old.size() > tree.size() => report.finding(format!(
                "rollback: a checkpoint for {} entries was seen before, the log now has {}",
                old.size(),
                tree.size()
            )),
            Ok((old, _)) if root_at(tree, old.size())? != *old.root() => report.finding(format!(
                "rewrite: the first {} entries no longer hash to the checkpoint seen before",
                old.size()
            )),
            Ok((old, _)) => println!("witness: consistent with the checkpoint of {} entries seen before", old.size()),
        }
    }
    // Remember only a checkpoint at least as new as the one remembered, so a stale checkpoint
    // served once cannot reset what this witness has seen.
    let newer = match std::fs::read_to_string(&path) {
        Ok(old_note) => {
            checkpoint::open(old_note.as_bytes(), verifiers).map_or(true, |(old, _)| old.size() <= checkpoint.size())
        }
        Err(_) => true,
    };
    if report.findings.is_empty() && newer {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, note)?;
    }
    Ok(())
}

/// Checks the server's own proofs against the tree recomputed here.
async fn check_served_proofs(
    source: &Source,
    checkpoint: &Checkpoint,
    tree: &MemoryTree,
    report: &mut Report,
) -> Result<()> {
    let size = checkpoint.size();
    if size == 0 {
        return Ok(());
    }
    let hashes = |v: &Value| -> Vec<Hash> {
        v["proof"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|h| hex::decode(h.as_str()?).ok()?.try_into().ok())
            .collect()
    };
    let last = size - 1;
    let inclusion = source.get_json(&format!("/log/proofs/inclusion/{last}")).await?;
    let served_size = inclusion["tree_size"].as_u64().unwrap_or(0).min(tree.size());
    let leaf_index = tree::stored_hash_index(0, last).map_err(|e| anyhow::anyhow!("{e}"))?;
    let leaf_hash = tree.read_hashes(&[leaf_index]).map_err(|e| anyhow::anyhow!("{e}"))?[0];
    let root = root_at(tree, served_size)?;
    if tree::check_record(&hashes(&inclusion), served_size, &root, last, &leaf_hash).is_err() {
        report.finding(format!("the server's inclusion proof for entry {last} does not verify"));
    }
    if size > 1 {
        let consistency = source.get_json(&format!("/log/proofs/consistency?from=1&to={size}")).await?;
        if tree::check_tree(&hashes(&consistency), size, &root_at(tree, size)?, 1, &root_at(tree, 1)?).is_err() {
            report.finding(format!("the server's consistency proof from 1 to {size} does not verify"));
        }
    }
    if report.findings.is_empty() {
        println!("proofs: the server's inclusion and consistency proofs verify");
    }
    Ok(())
}

/// Reads the entries from index `from` on, out of the entry bundle that holds `from`.
fn bundle_entries(dir: &std::path::Path, size: u64, from: u64) -> Result<Vec<Entry>> {
    use furrow_tlog::tile::{TileId, decode_entry_bundle};
    if from >= size {
        return Ok(Vec::new());
    }
    let n = from / 256;
    let width = u16::try_from((size - n * 256).min(256)).unwrap_or(256);
    let tile = TileId::new(0, n, width).map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = tile.entries_path().map_err(|e| anyhow::anyhow!("{e}"))?;
    let data = std::fs::read(dir.join(&path)).with_context(|| format!("the bundle lacks {path}"))?;
    let entries = decode_entry_bundle(&data, width).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let skip = usize::try_from(from - n * 256).unwrap_or(usize::MAX);
    Ok(entries
        .into_iter()
        .enumerate()
        .skip(skip)
        .map(|(i, bytes)| Entry {
            index: n * 256 + i as u64,
            leaf_hash: furrow_tlog::leaf_hash(bytes),
            bytes: bytes.to_vec(),
            hash_ok: true,
        })
        .collect())
}

/// Every hash tile in the bundle must be the tile of the tree recomputed from the entries.
fn check_bundle_tiles(source: &Source, tree: &MemoryTree, report: &mut Report) -> Result<()> {
    let Source::Bundle { dir, size } = source else { return Ok(()) };
    let mut checked = 0;
    for tile in furrow_tlog::tile::tiles_for_size((*size).min(tree.size())).map_err(|e| anyhow::anyhow!("{e}"))? {
        let expected = furrow_tlog::tile::read_tile(tile, tree).map_err(|e| anyhow::anyhow!("{e}"))?;
        match std::fs::read(dir.join(tile.path())) {
            Ok(data) if data == expected => checked += 1,
            Ok(_) => report.finding(format!("tile {} does not match the entries", tile.path())),
            Err(_) => report.finding(format!("the bundle lacks tile {}", tile.path())),
        }
    }
    println!("tiles: {checked} hash tiles match the tree recomputed from the entries");
    Ok(())
}

/// Checks a retirement certificate offline: the log entry says exactly what the certificate says,
/// and the entry is in a checkpoint signed with the program's key.
fn verify_certificate(file: &std::path::Path, key: &str) -> Result<()> {
    use furrow_domain::Event;
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let cert: Value = serde_json::from_str(&text).context("the certificate is not JSON")?;
    if cert["format"] != "furrow-retirement-certificate/v1" {
        bail!("not a Furrow retirement certificate (format {})", cert["format"]);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cert["entry"].as_str().unwrap_or_default())
        .context("the certificate's entry is not base64")?;
    let verifier = Ed25519Verifier::from_vkey(key).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    let proof = cert["proof"].as_str().unwrap_or_default();
    let checkpoint = furrow_tlog::proof::verify(proof.as_bytes(), &bytes, &[&verifier])
        .map_err(|e| anyhow::anyhow!("the certificate's proof does not verify: {e}"))?;
    let entry = LogEntry::decode(&bytes).map_err(|e| anyhow::anyhow!("the certificate's entry: {e}"))?;
    let Event::Retired { id, account, ranges, claim } = &entry.event else {
        bail!("the certificate's log entry records a {}, not a retirement", entry.event.kind());
    };
    let r = &cert["retirement"];
    let claimed_ranges: Vec<(u64, u64)> = r["ranges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|x| (x["start"].as_u64().unwrap_or(0), x["end"].as_u64().unwrap_or(0)))
        .collect();
    let recorded_ranges: Vec<(u64, u64)> = ranges.iter().map(|x| (x.start(), x.end())).collect();
    let mismatches: Vec<&str> = [
        ("id", r["id"] == id.to_string()),
        ("log index", cert["log_index"] == entry.index),
        ("serials", claimed_ranges == recorded_ranges),
        ("account", r["account"] == account.to_string()),
        ("beneficiary", r["beneficiary"]["name"] == claim.beneficiary.name.as_str()),
        (
            "beneficiary country",
            r["beneficiary"]["country"] == json_opt(claim.beneficiary.country.map(|c| c.to_string())),
        ),
        ("beneficiary identifier", r["beneficiary"]["identifier"] == json_opt(claim.beneficiary.identifier.clone())),
        ("retirement time", r["retired_at"] == furrow_app::rfc3339(entry.timestamp).as_str()),
        ("quantity", r["quantity"] == recorded_ranges.iter().map(|(a, b)| b - a + 1).sum::<u64>()),
        ("purpose", r["purpose"] == claim.purpose.as_str()),
        (
            "claim period",
            r["claim_period"]["from"] == claim.claim_period.from.to_string()
                && r["claim_period"]["to"] == claim.claim_period.to.to_string(),
        ),
        ("jurisdiction", r["jurisdiction"] == claim.jurisdiction.as_str()),
        ("note", r["note"] == claim.note.as_str()),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    if !mismatches.is_empty() {
        bail!("the certificate differs from its signed log entry in: {}", mismatches.join(", "));
    }
    let quantity: u64 = recorded_ranges.iter().map(|(a, b)| b - a + 1).sum();
    println!(
        "OK: retirement {id} of {quantity} credits for {:?} ({}) is log entry {} in the checkpoint of {} entries signed by {}",
        claim.beneficiary.name,
        claim.purpose,
        entry.index,
        checkpoint.size(),
        checkpoint.origin()
    );
    Ok(())
}

/// The keys trusted to sign checkpoints: the pinned one, then each key the log announced after it,
/// provided the first checkpoint covering the announcement is signed by a key already trusted and
/// commits to the log recomputed here. That is how a rotated key earns trust without a new pin.
async fn trust_chain(
    source: &Source,
    anchor: Ed25519Verifier,
    publications: &[(u64, String)],
    tree: &MemoryTree,
    report: &mut Report,
) -> Result<Vec<Ed25519Verifier>> {
    let anchor_key = anchor.vkey();
    let mut trusted = vec![anchor];
    let Some(start) = publications.iter().position(|(_, k)| *k == anchor_key) else {
        if !publications.is_empty() {
            println!("key: the pinned key is not announced in the log; only it is trusted");
        }
        return Ok(trusted);
    };
    for (index, vkey) in &publications[start + 1..] {
        let Some(note) = source.checkpoint_at_least(index + 1).await? else {
            report.finding(format!("key announced in entry {index} is vouched for by no checkpoint this source holds"));
            continue;
        };
        let verifiers: Vec<&dyn NoteVerifier> = trusted.iter().map(|v| v as &dyn NoteVerifier).collect();
        let vouched = match checkpoint::open(note.as_bytes(), &verifiers) {
            Ok((cp, _)) => cp.size() > *index && cp.size() <= tree.size() && root_at(tree, cp.size())? == *cp.root(),
            Err(_) => false,
        };
        if !vouched {
            report.finding(format!(
                "key announced in entry {index} is not vouched for by a checkpoint signed with an earlier key"
            ));
            continue;
        }
        let key = Ed25519Verifier::from_vkey(vkey).map_err(|e| anyhow::anyhow!("entry {index}: {e}"))?;
        println!("key: rotated at entry {index}; the new key is vouched for by the previous one");
        trusted.push(key);
    }
    Ok(trusted)
}

fn json_opt(value: Option<String>) -> Value {
    value.map_or(Value::Null, Value::String)
}

/// With a database copy, every checkpoint the registry ever signed must verify and commit to a
/// prefix of the recomputed log. An old checkpoint may be signed by a key the log announced before
/// it: once the latest checkpoint is trusted, the whole log is, announcements included.
async fn check_every_checkpoint(
    source: &Source,
    trusted: &[&dyn NoteVerifier],
    publications: &[(u64, String)],
    tree: &MemoryTree,
    report: &mut Report,
) -> Result<()> {
    let announced: Vec<(u64, Ed25519Verifier)> =
        publications.iter().filter_map(|(i, k)| Ed25519Verifier::from_vkey(k).ok().map(|v| (*i, v))).collect();
    let (mut after, mut checked, before) = (None, 0u64, report.findings.len());
    loop {
        let page = source.checkpoints(after).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.tree_size);
        for row in page {
            let mut verifiers: Vec<&dyn NoteVerifier> = trusted.to_vec();
            let already =
                |v: &Ed25519Verifier| trusted.iter().any(|t| t.name() == v.name() && t.key_id() == v.key_id());
            let earlier = announced.iter().filter(|(i, v)| *i < row.tree_size && !already(v));
            verifiers.extend(earlier.map(|(_, v)| v as &dyn NoteVerifier));
            match checkpoint::open(row.note.as_bytes(), &verifiers) {
                Err(e) => report.finding(format!("checkpoint of {} entries: {e}", row.tree_size)),
                Ok((cp, _)) if cp.size() != row.tree_size || cp.size() > tree.size() => report
                    .finding(format!("checkpoint of {} entries does not match its own row or the log", row.tree_size)),
                Ok((cp, _)) if root_at(tree, cp.size())? != *cp.root() => report
                    .finding(format!("checkpoint of {} entries signs a root the log does not have", row.tree_size)),
                Ok(_) => checked += 1,
            }
        }
    }
    if report.findings.len() == before {
        println!("checkpoints: all {checked} stored checkpoints are validly signed and match the log");
    }
    Ok(())
}
