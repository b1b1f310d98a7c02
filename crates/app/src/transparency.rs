//! The transparency log's server side: the checkpointer that extends the Merkle tree over new log
//! entries and signs checkpoints, and the proofs a client asks for.
//!
//! The tree is extended off the write path, in batches: the sequencer only appends entries (with
//! their leaf hashes) and wakes the checkpointer, which catches up within a second. So the log
//! costs the durable write path nothing but the leaf hash (SPEC §10: log on ≥ 0.8 × log off).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use furrow_store::{CheckpointRow, Store};
use furrow_tlog::Hash;
use furrow_tlog::checkpoint::Checkpoint;
use furrow_tlog::note::NoteSigner;
use furrow_tlog::tree::{self, HashReader};
use tokio::sync::Notify;

use crate::error::AppError;
use crate::sequencer::Clock;

/// How the program signs its log: the origin line of every checkpoint and the key.
#[derive(Clone)]
pub struct LogSigner {
    pub origin: String,
    pub signer: Arc<dyn NoteSigner + Send + Sync>,
}

/// Leaves added to the tree per round; bounds memory when catching up on a long log.
const MAX_LEAVES_PER_ROUND: u64 = 65_536;
/// How long the checkpointer waits for more commits before publishing (latency ≤ ~1 s).
const SETTLE: Duration = Duration::from_millis(100);
const IDLE_WAKE: Duration = Duration::from_secs(1);

/// Wakes the checkpointer after commits, and stops it before the store closes.
pub(crate) struct CheckpointerHandle {
    pub wake: Notify,
    pub stopped: std::sync::atomic::AtomicBool,
}

pub(crate) fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, signer: LogSigner) -> Arc<CheckpointerHandle> {
    use std::sync::atomic::Ordering;
    let handle = Arc::new(CheckpointerHandle { wake: Notify::new(), stopped: false.into() });
    let waker = handle.clone();
    tokio::spawn(async move {
        while !waker.stopped.load(Ordering::Acquire) {
            loop {
                match extend_once(store.as_ref(), clock.as_ref(), &signer).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "extending the log tree failed; will retry");
                        break;
                    }
                }
            }
            let _ = tokio::time::timeout(IDLE_WAKE, waker.wake.notified()).await;
            tokio::time::sleep(SETTLE).await;
        }
    });
    handle
}

fn tree_error<E: std::fmt::Display>(e: E) -> AppError {
    AppError::Internal(format!("log tree: {e}"))
}

/// Extends the tree by up to one round of leaves and signs a checkpoint of the result. Returns
/// whether more leaves are waiting.
pub async fn extend_once(store: &dyn Store, clock: &dyn Clock, signer: &LogSigner) -> Result<bool, AppError> {
    let log_size = store.log_size().await?;
    let previous = store.latest_checkpoint().await?;
    let old_size = previous.as_ref().map_or(0, |c| c.tree_size);
    if log_size <= old_size {
        return Ok(false);
    }
    let new_size = log_size.min(old_size + MAX_LEAVES_PER_ROUND);
    let mut leaves = Vec::with_capacity((new_size - old_size) as usize);
    while (leaves.len() as u64) < new_size - old_size {
        let from = old_size + leaves.len() as u64;
        let want = u32::try_from(new_size - from).unwrap_or(u32::MAX).min(10_000);
        let page = store.leaf_hashes(from, want).await?;
        if page.is_empty() {
            return Err(AppError::Internal(format!("log entry {from} has no leaf hash")));
        }
        leaves.extend(page);
    }
    let first_new = tree::stored_hash_count(old_size).map_err(tree_error)?;
    if store.tree_hash_count().await? != first_new {
        return Err(AppError::Internal("stored tree hashes do not match the latest checkpoint".into()));
    }
    let frontier = read(store, &tree::tree_hash_indexes(old_size).map_err(tree_error)?).await?;
    let new = tree::stored_hashes_for_records(old_size, &leaves, &frontier).map_err(tree_error)?;
    let mut known = frontier;
    known.extend((first_new..).zip(new.iter().copied()));
    let root = tree::tree_hash(new_size, &known).map_err(tree_error)?;
    if old_size > 0 {
        // Never sign a tree that is not an extension of the last one (C2SP tlog-checkpoint).
        let old_root = tree::tree_hash(old_size, &known).map_err(tree_error)?;
        if previous.as_ref().map(|c| c.root) != Some(old_root) {
            return Err(AppError::Internal(format!(
                "the stored tree no longer hashes to the signed root of size {old_size}; refusing to sign"
            )));
        }
        let proof = tree::prove_tree(new_size, old_size, &known).map_err(tree_error)?;
        tree::check_tree(&proof, new_size, &root, old_size, &old_root).map_err(tree_error)?;
    }
    let checkpoint = Checkpoint::new(&signer.origin, new_size, root).map_err(tree_error)?;
    let note = checkpoint.sign(&[signer.signer.as_ref()]).map_err(tree_error)?;
    let row = CheckpointRow { tree_size: new_size, root, note, created_at: clock.now() };
    store.extend_tree(first_new, &new, &row).await?;
    Ok(new_size < log_size)
}

/// Reads stored hashes into a map that the pure tree functions can read from.
async fn read(store: &dyn Store, indexes: &[u64]) -> Result<BTreeMap<u64, Hash>, AppError> {
    let hashes = store.tree_hashes(indexes).await?;
    Ok(indexes.iter().copied().zip(hashes).collect())
}

/// An inclusion proof of one entry in a checkpointed tree.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    pub index: u64,
    pub leaf_hash: Hash,
    pub checkpoint: CheckpointRow,
    pub proof: Vec<Hash>,
}

/// Proves entry `index` is in the latest checkpoint's tree.
pub async fn inclusion_proof(store: &dyn Store, index: u64) -> Result<InclusionProof, AppError> {
    let checkpoint = store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| AppError::NotFound("a checkpoint (the log is empty or not yet checkpointed)".into()))?;
    if index >= checkpoint.tree_size {
        return Err(AppError::NotFound(format!(
            "entry {index} (the latest checkpoint covers {} entries; new entries are covered within a second), so its proof was",
            checkpoint.tree_size
        )));
    }
    let leaf_hash =
        *store.leaf_hashes(index, 1).await?.first().ok_or_else(|| AppError::NotFound(format!("entry {index}")))?;
    let indexes = tree::record_proof_indexes(checkpoint.tree_size, index).map_err(tree_error)?;
    let known = read(store, &indexes).await?;
    let proof = tree::prove_record(checkpoint.tree_size, index, &known).map_err(tree_error)?;
    Ok(InclusionProof { index, leaf_hash, checkpoint, proof })
}

/// Proves the tree of size `old` is a prefix of the tree of size `new` (both ≤ the latest checkpoint).
pub async fn consistency_proof(store: &dyn Store, old: u64, new: u64) -> Result<Vec<Hash>, AppError> {
    let latest = store.latest_checkpoint().await?.map_or(0, |c| c.tree_size);
    if old == 0 || old > new || new > latest {
        return Err(AppError::Invalid(format!(
            "consistency needs 0 < from <= to <= {latest} (the latest checkpoint's size)"
        )));
    }
    let indexes = tree::tree_proof_indexes(new, old).map_err(tree_error)?;
    let known = read(store, &indexes).await?;
    tree::prove_tree(new, old, &known).map_err(tree_error)
}

/// The stored hashes as a synchronous reader, for callers that prefetched them.
pub fn reader(hashes: BTreeMap<u64, Hash>) -> impl HashReader {
    hashes
}

/// A fresh Ed25519 signing key for the log, named after its origin.
pub fn generate_signer(origin: &str) -> Result<furrow_tlog::note::Ed25519Signer, AppError> {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    furrow_tlog::note::Ed25519Signer::from_seed(origin, &seed)
        .map_err(|e| AppError::Invalid(format!("log origin: {e}")))
}

/// Log options for a signer: the signer itself and its published verifier key.
pub fn log_options(signer: furrow_tlog::note::Ed25519Signer) -> crate::LogOptions {
    let origin = furrow_tlog::note::NoteSigner::name(&signer).to_owned();
    let verifier_key = signer.vkey();
    crate::LogOptions { signer: LogSigner { origin, signer: Arc::new(signer) }, verifier_key }
}

/// Serves one C2SP tlog-tiles resource (`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`)
/// within the latest checkpoint. Every tile is immutable once it exists: a partial tile of width
/// W never changes either; the log only adds wider ones.
pub async fn tile(store: &dyn Store, path: &str) -> Result<Vec<u8>, AppError> {
    use furrow_tlog::tile::{TilePath, encode_entry_bundle, tile_hash_indexes};
    let not_found = || AppError::NotFound(format!("tile {path:?}"));
    let parsed = TilePath::parse(path).map_err(|_| not_found())?;
    let size = store.latest_checkpoint().await?.map_or(0, |c| c.tree_size);
    let tile = match &parsed {
        TilePath::Hashes(tile) | TilePath::Entries(tile) => *tile,
    };
    // Nodes at tree level 8·L in a tree of `size` leaves.
    let available = size.checked_shr(8 * u32::from(tile.level())).unwrap_or(0);
    let end = tile.index().saturating_mul(256).saturating_add(u64::from(tile.width()));
    if end > available {
        return Err(not_found());
    }
    match parsed {
        TilePath::Hashes(tile) => {
            let indexes = tile_hash_indexes(tile).map_err(tree_error)?;
            let hashes = store.tree_hashes(&indexes).await?;
            Ok(furrow_tlog::tile::encode_tile_data(&hashes))
        }
        TilePath::Entries(tile) => {
            let first = tile.index() * 256;
            let page = furrow_store::Page { after: first.checked_sub(1), limit: u32::from(tile.width()) };
            let rows = store.log_entries(page).await?;
            let entries: Vec<&[u8]> = rows.iter().map(|r| r.bytes.as_slice()).collect();
            encode_entry_bundle(&entries).map_err(tree_error)
        }
    }
}

/// A C2SP `tlog-proof@v1` bundle for one log entry: its index, its inclusion proof and the signed
/// checkpoint, verifiable offline with the log's key and the entry's bytes.
pub async fn proof_bundle(store: &dyn Store, index: u64) -> Result<String, AppError> {
    let proof = inclusion_proof(store, index).await?;
    let bundle =
        furrow_tlog::proof::TlogProof::new(proof.index, proof.proof, &proof.checkpoint.note).map_err(tree_error)?;
    Ok(bundle.to_text())
}

/// The index of the log entry that recorded a retirement.
pub async fn retirement_entry(store: &dyn Store, id: furrow_domain::RetirementId) -> Result<u64, AppError> {
    let retirement = store.retirement(id).await?.ok_or_else(|| AppError::NotFound(format!("retirement {id}")))?;
    let first =
        *retirement.ranges.first().ok_or_else(|| AppError::Internal(format!("retirement {id} has no serials")))?;
    let block = store
        .block_at(first.start())
        .await?
        .ok_or_else(|| AppError::Internal(format!("retirement {id}: serials missing")))?;
    let history = store.serial_history(block.batch, first.start(), first.start(), 10_000).await?;
    for row in history.iter().filter(|r| r.kind == "retired") {
        let entry = furrow_domain::LogEntry::decode(&row.bytes).map_err(|e| AppError::Internal(e.to_string()))?;
        if matches!(entry.event, furrow_domain::Event::Retired { id: found, .. } if found == id) {
            return Ok(row.index);
        }
    }
    Err(AppError::Internal(format!("no log entry records retirement {id}")))
}

/// Every file of the log in the C2SP tlog-tiles layout at the latest checkpoint — `checkpoint`,
/// then each hash tile and entry bundle — for a one-file download or a mirror.
pub async fn log_files(
    store: &dyn Store,
    max_entries: u64,
) -> Result<(CheckpointRow, Vec<(String, Vec<u8>)>), AppError> {
    let checkpoint = store.latest_checkpoint().await?.ok_or_else(|| AppError::NotFound("a checkpoint".into()))?;
    if checkpoint.tree_size > max_entries {
        return Err(AppError::Invalid(format!(
            "the log has more than {max_entries} entries; copy it tile by tile with `furrow mirror`"
        )));
    }
    let mut files = vec![("checkpoint".to_owned(), checkpoint.note.clone().into_bytes())];
    for tile in furrow_tlog::tile::tiles_for_size(checkpoint.tree_size).map_err(tree_error)? {
        let mut paths = vec![tile.path()];
        if tile.level() == 0 {
            paths.push(tile.entries_path().map_err(tree_error)?);
        }
        for path in paths {
            let data = self::tile(store, &path).await?;
            files.push((path, data));
        }
    }
    Ok((checkpoint, files))
}
