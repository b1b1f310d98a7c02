//! The tree grows incrementally: appending leaf n reads at most ⌊log2 n⌋ + 1 stored hashes and
//! writes at most that many plus one, however long the log is. Nothing is ever recomputed.

use furrow_tlog::tree::{MAX_TREE_SIZE, append_indexes, stored_hash_count};

fn log2_floor(n: u64) -> usize {
    (63 - n.max(1).leading_zeros()) as usize
}

#[test]
fn appending_touches_at_most_log_n_hashes_at_any_size() {
    let mut sizes: Vec<u64> = vec![0, 1, 2, 3, 4, 7, 8, 255, 256, 257, 65_535, 65_536, 1_000_000, 10_000_000];
    for bits in [20u32, 30, 40, 50, 61] {
        sizes.extend([(1u64 << bits) - 1, 1u64 << bits, (1u64 << bits) + 1]);
    }
    for n in sizes.into_iter().filter(|n| *n < MAX_TREE_SIZE) {
        let reads = append_indexes(n).expect("in range").len();
        let writes = stored_hash_count(n + 1).expect("in range") - stored_hash_count(n).expect("in range");
        let bound = log2_floor(n) + 1;
        assert!(reads <= bound, "appending leaf {n} reads {reads} hashes, more than {bound}");
        assert!(writes as usize <= bound + 1, "appending leaf {n} writes {writes} hashes, more than {}", bound + 1);
    }
}

#[test]
fn appending_costs_two_stored_hashes_per_leaf_on_average() {
    // Over any 2^k consecutive appends the tree stores fewer than 2 hashes per leaf.
    for start in [0u64, 1_000, 1 << 20, 1 << 40] {
        let written = stored_hash_count(start + 4096).expect("in range") - stored_hash_count(start).expect("in range");
        assert!(written < 2 * 4096 + 64, "{written} hashes for 4096 leaves from {start}");
    }
}
