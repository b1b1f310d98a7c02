//! Inclusion and consistency proof latency from the SQLite store at a given log size, as the
//! server computes them: index math, one `IN` query for the stored hashes, and the proof.
//!
//!     cargo run --release -p furrow-app --example proof_bench -- [LEAVES] [DIR]
//!
//! The stored hashes of LEAVES synthetic leaves are written first (the tree math is the same for
//! any leaf contents); then 2 000 random inclusion proofs and 500 consistency proofs are timed.

use std::time::Instant;

use furrow_app::store::{CheckpointRow, Store};
use furrow_domain::Timestamp;
use furrow_store_sqlite::SqliteStore;
use furrow_tlog::tree;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    println!(
        "{name}: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs ({} samples)",
        percentile(&micros, 0.5),
        percentile(&micros, 0.99),
        micros[micros.len() - 1],
        micros.len()
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let leaves: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = args.next().map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let scratch = tempfile::tempdir_in(dir).expect("scratch");
    let store = SqliteStore::open(&scratch.path().join("proofs.db")).await.expect("open");

    let started = Instant::now();
    let mut size = 0u64;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    while size < leaves {
        let batch = (leaves - size).min(100_000);
        let leaf_hashes: Vec<[u8; 32]> = (0..batch)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                furrow_tlog::leaf_hash(&state.to_be_bytes())
            })
            .collect();
        let frontier_indexes = tree::tree_hash_indexes(size).expect("indexes");
        let frontier: std::collections::BTreeMap<u64, [u8; 32]> =
            frontier_indexes.iter().copied().zip(store.tree_hashes(&frontier_indexes).await.expect("read")).collect();
        let new = tree::stored_hashes_for_records(size, &leaf_hashes, &frontier).expect("append");
        let first = tree::stored_hash_count(size).expect("count");
        let row =
            CheckpointRow { tree_size: size + batch, root: [0; 32], note: String::new(), created_at: Timestamp(0) };
        store.extend_tree(first, &new, &row).await.expect("store");
        size += batch;
    }
    println!("built the stored hashes of {leaves} leaves in {:.1} s", started.elapsed().as_secs_f64());

    let mut inclusion = Vec::new();
    for _ in 0..2_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = state % leaves;
        let t = Instant::now();
        let indexes = tree::record_proof_indexes(leaves, index).expect("indexes");
        let hashes = store.tree_hashes(&indexes).await.expect("read");
        let known: std::collections::BTreeMap<u64, [u8; 32]> = indexes.into_iter().zip(hashes).collect();
        let proof = tree::prove_record(leaves, index, &known).expect("proof");
        inclusion.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(!proof.is_empty() || leaves == 1);
    }
    report(&format!("inclusion proof at {leaves} leaves"), inclusion);

    let mut consistency = Vec::new();
    for _ in 0..500 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let old = 1 + state % leaves;
        let t = Instant::now();
        let indexes = tree::tree_proof_indexes(leaves, old).expect("indexes");
        let hashes = store.tree_hashes(&indexes).await.expect("read");
        let known: std::collections::BTreeMap<u64, [u8; 32]> = indexes.into_iter().zip(hashes).collect();
        tree::prove_tree(leaves, old, &known).expect("proof");
        consistency.push(t.elapsed().as_secs_f64() * 1e6);
    }
    report(&format!("consistency proof at {leaves} leaves"), consistency);
}
