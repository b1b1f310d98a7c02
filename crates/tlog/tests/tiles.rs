//! C2SP tlog-tiles: paths, the tile layout, tiles cut from a stored-hash tree, and the tile
//! hash reader.
//!
//! The path and layout vectors are from the C2SP specification `tlog-tiles.md`
//! (github.com/C2SP/C2SP): the index 1234067 example, the tree of 70,000 leaves and the tree of
//! 256 leaves. The entry bundle path vector is the documented example of Tessera's
//! `layout.EntriesPath(1234067, 8)` (github.com/transparency-dev/tessera).

use std::collections::{BTreeMap, BTreeSet};

use furrow_tlog::tile::{
    self, BundleError, MAX_ENTRY_LEN, TileError, TileHashReader, TileId, TilePath, TileReadError, check_entry_bundle,
    decode_entry_bundle, decode_tile_data, encode_entry_bundle, new_tiles, read_tile, root_from_tiles,
    tile_hash_indexes, tiles_for_size, tiles_to_read,
};
use furrow_tlog::tree::{
    HashReader, MemoryTree, TreeError, prove_record, prove_tree, record_proof_indexes, stored_hash_count, tree_hash,
    tree_proof_indexes,
};
use furrow_tlog::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
use proptest::prelude::*;

fn tile(level: u8, index: u64, width: u16) -> TileId {
    TileId::new(level, index, width).expect("valid tile")
}

fn entry(seed: u64, i: u64) -> Vec<u8> {
    format!("entry {seed} {i}").into_bytes()
}

fn build(size: u64, seed: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.append_entry(&entry(seed, i)).expect("append");
    }
    tree
}

/// What a log serves for the tree of `size` leaves, cut from a (possibly larger) stored tree.
fn cut(tree: &MemoryTree, size: u64) -> BTreeMap<TileId, Vec<u8>> {
    tiles_for_size(size).expect("size").map(|t| (t, read_tile(t, tree).expect("tile"))).collect()
}

fn root_at(tree: &MemoryTree, size: u64) -> Hash {
    tree_hash(size, tree).expect("root")
}

/// RFC 9162 Merkle Tree Hash straight from the definition.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

#[test]
fn spec_path_vectors() {
    assert_eq!(tile(0, 1234067, 256).path(), "tile/0/x001/x234/067");
    assert_eq!(tile(4, 1234067, 8).path(), "tile/4/x001/x234/067.p/8");
    assert_eq!(tile(0, 1234067, 8).entries_path().expect("level 0"), "tile/entries/x001/x234/067.p/8");
    assert_eq!(tile(0, 0, 256).path(), "tile/0/000");
    assert_eq!(tile(63, 1000, 255).path(), "tile/63/x001/000.p/255");
    assert_eq!(tile(1, 5, 1).to_string(), "tile/1/005.p/1");
    assert_eq!(tile(1, 0, 256).entries_path(), Err(TileError::NotLevelZero { level: 1 }));

    assert_eq!(TileId::parse_path("tile/0/x001/x234/067"), Ok(tile(0, 1234067, 256)));
    assert_eq!(TileId::parse_path("tile/4/x001/x234/067.p/8"), Ok(tile(4, 1234067, 8)));
    assert_eq!(TileId::parse_entries_path("tile/entries/x001/x234/067.p/8"), Ok(tile(0, 1234067, 8)));
    assert_eq!(TilePath::parse("tile/entries/000"), Ok(TilePath::Entries(tile(0, 0, 256))));
    assert_eq!(TilePath::parse("tile/7/999.p/64"), Ok(TilePath::Hashes(tile(7, 999, 64))));
    assert!(TileId::parse_path("tile/entries/000").is_err());
    assert!(TileId::parse_entries_path("tile/0/000").is_err());
}

#[test]
fn non_canonical_paths_are_refused() {
    let bad = [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "/tile/0/000",
        "tile/0/000/",
        "tile//000",
        "Tile/0/000",
        "tile/00/000",
        "tile/01/000",
        "tile/+1/000",
        "tile/-1/000",
        "tile/64/000",
        "tile/256/000",
        "tile/ 1/000",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/x000/001",
        "tile/0/x000/000",
        "tile/0/001/002",
        "tile/0/x001",
        "tile/0/x001/x002",
        "tile/0/X001/002",
        "tile/0/x01/002",
        "tile/0/x0001/002",
        "tile/0/+01",
        "tile/0/-01",
        "tile/0/1e2",
        "tile/0/x001//002",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/300",
        "tile/0/000.p/010",
        "tile/0/000.p/",
        "tile/0/000.p/5/",
        "tile/0/000.p/5.p/5",
        "tile/0/000.p/+5",
        "tile/0/x001.p/5/000",
        "tile/0/000.P/5",
        "tile/0/000.p5",
        "tile/entries/000.p/256",
        "tile/entries/x000/001",
        "tile/entry/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "tile/0/000\n",
        "tile/0/\u{0660}\u{0660}\u{0660}",
    ];
    for path in bad {
        assert!(TilePath::parse(path).is_err(), "{path:?} was accepted");
    }
    assert_eq!(
        TileId::parse_path("tile/0/x018/x446/x744/x073/x709/x551/615"),
        Ok(tile(0, u64::MAX, 256)),
        "the largest index is still accepted"
    );
}

#[test]
fn invalid_tiles_cannot_be_built() {
    assert_eq!(TileId::new(64, 0, 1), Err(TileError::InvalidLevel { level: 64 }));
    assert_eq!(TileId::new(0, 0, 0), Err(TileError::InvalidWidth { width: 0 }));
    assert_eq!(TileId::new(0, 0, 257), Err(TileError::InvalidWidth { width: 257 }));
    assert!(TileId::full(63, u64::MAX).is_ok());
}

fn summarize(size: u64) -> BTreeMap<(u8, bool), (u64, Vec<u16>)> {
    // (level, full?) -> (count, widths)
    let mut out: BTreeMap<(u8, bool), (u64, Vec<u16>)> = BTreeMap::new();
    for t in tiles_for_size(size).expect("size") {
        let slot = out.entry((t.level(), t.is_full())).or_default();
        slot.0 += 1;
        slot.1.push(t.width());
    }
    out
}

#[test]
fn spec_tree_of_70000_and_of_256() {
    let s = summarize(70_000);
    assert_eq!(s.get(&(0, true)).map(|x| x.0), Some(273));
    assert_eq!(s.get(&(0, false)), Some(&(1, vec![112])));
    assert_eq!(s.get(&(1, true)).map(|x| x.0), Some(1));
    assert_eq!(s.get(&(1, false)), Some(&(1, vec![17])));
    assert_eq!(s.get(&(2, false)), Some(&(1, vec![1])));
    assert_eq!(s.len(), 5);

    let tiles: Vec<TileId> = tiles_for_size(256).expect("size").collect();
    assert_eq!(tiles, vec![tile(0, 0, 256), tile(1, 0, 1)]);
}

/// The spec defines hash `i` of tile `n` at level `l` as `MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l])`.
#[test]
fn tiles_hold_the_hashes_the_spec_defines() {
    let size = 70_000;
    let tree = build(size, 1);
    let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&entry(1, i))).collect();
    for t in [tile(0, 3, 256), tile(0, 273, 112), tile(1, 0, 256), tile(1, 1, 17), tile(2, 0, 1)] {
        let hashes = decode_tile_data(t, &read_tile(t, &tree).expect("tile")).expect("data");
        let span = 256usize.pow(u32::from(t.level()));
        for (i, hash) in hashes.iter().enumerate() {
            let lo = (t.index() as usize * 256 + i) * span;
            assert_eq!(*hash, mth(&leaves[lo..lo + span]), "{t} hash {i}");
        }
    }
}

/// Reads every stored hash, the root at every earlier size, and proofs through the tiles.
fn check_reader_matches_tree(tree: &MemoryTree, size: u64, probes: &[u64]) {
    let tiles = cut(tree, size);
    assert_eq!(root_from_tiles(size, &tiles).expect("root"), root_at(tree, size));
    let reader = TileHashReader::new(size, &root_at(tree, size), &tiles).expect("edge tiles match the root");
    let all: Vec<u64> = (0..stored_hash_count(size).expect("count")).collect();
    assert_eq!(reader.read_hashes(&all).expect("read"), tree.read_hashes(&all).expect("read"));
    assert_eq!(tree_hash(size, &reader).expect("root"), root_at(tree, size));
    for &p in probes {
        let (n, m) = (p % size, p % size + 1);
        assert_eq!(tree_hash(m, &reader).expect("root"), root_at(tree, m));
        assert_eq!(prove_record(size, n, &reader).expect("proof"), prove_record(size, n, tree).expect("proof"));
        assert_eq!(prove_tree(size, m, &reader).expect("proof"), prove_tree(size, m, tree).expect("proof"));
    }
}

#[test]
fn tiles_of_trees_spanning_three_tile_levels_give_the_same_roots_and_proofs() {
    let tree = build(70_000, 2);
    let probes = [0, 1, 255, 256, 257, 65_535, 65_536, 65_537, 69_887, 69_888, 69_999, 12_345];
    for size in [1, 2, 255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537, 70_000] {
        check_reader_matches_tree(&tree, size, &probes);
    }
}

#[test]
fn the_empty_tree_has_no_tiles() {
    let tiles = BTreeMap::new();
    let reader = TileHashReader::new(0, &EMPTY_ROOT, &tiles).expect("empty");
    assert_eq!(tree_hash(0, &reader).expect("root"), EMPTY_ROOT);
    assert_eq!(reader.read_hashes(&[0]), Err(TileReadError::IndexNotInTree { index: 0, size: 0 }));
    assert_eq!(TileHashReader::new(0, &[1; 32], &tiles).err(), Some(TileReadError::RootMismatch));
}

#[test]
fn a_full_tile_stands_in_for_the_partial_tile_it_replaced() {
    let tree = build(600, 3);
    // At size 300 the log published tile/0/001.p/44 and tile/1/000.p/1; a client that only
    // finds the tiles of size 600 (tile/0/001 and tile/1/000.p/2) can use those.
    let tiles = cut(&tree, 600);
    assert!(!tiles.contains_key(&tile(0, 1, 44)) && !tiles.contains_key(&tile(1, 0, 1)));
    let reader = TileHashReader::new(300, &root_at(&tree, 300), &tiles).expect("reader");
    assert_eq!(prove_record(300, 299, &reader).expect("proof"), prove_record(300, 299, &tree).expect("proof"));
    assert_eq!(tree_hash(300, &reader).expect("root"), root_at(&tree, 300));
}

#[test]
fn tampered_or_missing_tiles_are_detected() {
    let size = 1000;
    let tree = build(size, 4);
    let root = root_at(&tree, size);
    let honest = cut(&tree, size);

    // A partial tile at the edge feeds the root.
    let mut edge = honest.clone();
    edge.get_mut(&tile(0, 3, 232)).expect("edge tile")[5] ^= 1;
    assert_eq!(TileHashReader::new(size, &root, &edge).err(), Some(TileReadError::RootMismatch));

    // A full tile is checked against its hash in the tile above when read.
    let mut inner = honest.clone();
    inner.get_mut(&tile(0, 1, 256)).expect("full tile")[40] ^= 1;
    let reader = TileHashReader::new(size, &root, &inner).expect("edge is intact");
    let leaf_300 = record_proof_indexes(size, 300).expect("ix");
    assert!(matches!(prove_record(size, 300, &reader), Err(TreeError::Read(TileReadError::TileMismatch { .. }))));
    assert_eq!(reader.read_hashes(&leaf_300), Err(TileReadError::TileMismatch { tile: tile(0, 1, 256) }));
    // Hashes in other tiles are still served.
    assert_eq!(prove_record(size, 900, &reader).expect("proof"), prove_record(size, 900, &tree).expect("proof"));

    let mut missing = honest.clone();
    missing.remove(&tile(0, 1, 256));
    let reader = TileHashReader::new(size, &root, &missing).expect("edge is intact");
    assert_eq!(reader.read_hashes(&leaf_300), Err(TileReadError::MissingTile { tile: tile(0, 1, 256) }));
    missing.remove(&tile(1, 0, 3));
    assert_eq!(
        TileHashReader::new(size, &root, &missing).err(),
        Some(TileReadError::MissingTile { tile: tile(1, 0, 3) })
    );

    let mut short = honest.clone();
    short.get_mut(&tile(0, 0, 256)).expect("full tile").pop();
    let reader = TileHashReader::new(size, &root, &short).expect("edge is intact");
    assert!(matches!(
        reader.read_hashes(&[0]),
        Err(TileReadError::Tile(TileError::WrongDataLength { expected: 8192, len: 8191, .. }))
    ));
    assert_eq!(TileHashReader::new(size, &[0; 32], &honest).err(), Some(TileReadError::RootMismatch));
    assert_eq!(
        TileHashReader::new(size + 1, &root, &honest).err(),
        Some(TileReadError::MissingTile { tile: tile(0, 3, 233) })
    );
}

#[test]
fn entry_bundles_match_their_level_zero_tiles() {
    let tree = build(300, 5);
    for t in tiles_for_size(300).expect("size").filter(|t| t.level() == 0) {
        let first = t.index() * 256;
        let entries: Vec<Vec<u8>> = (first..first + u64::from(t.width())).map(|i| entry(5, i)).collect();
        let bundle = encode_entry_bundle(&entries).expect("bundle");
        let decoded = decode_entry_bundle(&bundle, t.width()).expect("decode");
        assert_eq!(decoded, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let hashes = decode_tile_data(t, &read_tile(t, &tree).expect("tile")).expect("data");
        assert_eq!(check_entry_bundle(&decoded, &hashes), Ok(()));
        let mut altered = entries.clone();
        altered[7].push(b'!');
        assert_eq!(check_entry_bundle(&altered, &hashes), Err(BundleError::HashMismatch { position: 7 }));
        assert!(matches!(check_entry_bundle(&entries[1..], &hashes), Err(BundleError::CountMismatch { .. })));
    }
}

#[test]
fn entry_bundles_are_strict() {
    assert_eq!(encode_entry_bundle(&[b"ab".as_slice(), b""]), Ok(vec![0, 2, b'a', b'b', 0, 0]));
    assert_eq!(decode_entry_bundle(&[0, 2, b'a', b'b', 0, 0], 2), Ok(vec![b"ab".as_slice(), b""]));
    assert_eq!(decode_entry_bundle(&[0, 2, b'a', b'b', 0, 0], 1), Err(BundleError::TrailingData { extra: 2 }));
    assert_eq!(decode_entry_bundle(&[0, 2, b'a', b'b', 0, 0], 3), Err(BundleError::Truncated { position: 2 }));
    assert_eq!(decode_entry_bundle(&[0, 3, b'a', b'b'], 1), Err(BundleError::Truncated { position: 0 }));
    assert_eq!(decode_entry_bundle(&[0], 1), Err(BundleError::Truncated { position: 0 }));
    assert_eq!(decode_entry_bundle(&[], 0), Err(BundleError::BadCount { count: 0 }));
    assert_eq!(decode_entry_bundle(&[], 257), Err(BundleError::BadCount { count: 257 }));
    assert_eq!(encode_entry_bundle::<&[u8]>(&[]), Err(BundleError::BadCount { count: 0 }));
    assert_eq!(encode_entry_bundle(&vec![b"x"; 257]), Err(BundleError::BadCount { count: 257 }));
    let longest = vec![7u8; MAX_ENTRY_LEN];
    let bundle = encode_entry_bundle(&[&longest]).expect("fits");
    assert_eq!(decode_entry_bundle(&bundle, 1), Ok(vec![longest.as_slice()]));
    let too_long = vec![7u8; MAX_ENTRY_LEN + 1];
    assert_eq!(
        encode_entry_bundle(&[b"ok".as_slice(), &too_long]),
        Err(BundleError::EntryTooLong { position: 1, len: MAX_ENTRY_LEN + 1 })
    );
}

#[test]
fn tile_data_must_have_the_tile_width() {
    let t = tile(0, 0, 2);
    assert_eq!(decode_tile_data(t, &[0; 64]), Ok(vec![[0; 32]; 2]));
    assert!(decode_tile_data(t, &[0; 63]).is_err());
    assert!(decode_tile_data(t, &[0; 96]).is_err());
    assert_eq!(tile::encode_tile_data(&[[1; 32], [2; 32]]).len(), 64);
    assert!(tile_hash_indexes(tile(8, 0, 1)).is_err(), "level 8 is above any tree of 2^62 leaves");
}

fn any_tile() -> impl Strategy<Value = TileId> {
    (0u8..=63, any::<u64>(), 1u16..=256).prop_map(|(l, n, w)| tile(l, n, w))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn stored_hashes_roots_and_proofs_through_tiles(size in 1u64..=2000, seed: u64, probes in prop::collection::vec(any::<u64>(), 6)) {
        let tree = build(size, seed);
        check_reader_matches_tree(&tree, size, &probes);
    }

    #[test]
    fn the_tiles_to_read_are_enough(size in 1u64..=2000, probe: u64) {
        let tree = build(size, probe);
        let all = cut(&tree, size);
        let (n, m) = (probe % size, probe % size + 1);
        let mut indexes = record_proof_indexes(size, n).expect("ix");
        indexes.extend(tree_proof_indexes(size, m).expect("ix"));
        let needed = tiles_to_read(size, &indexes).expect("plan");
        let fetched: BTreeMap<TileId, Vec<u8>> = all.into_iter().filter(|(t, _)| needed.contains(t)).collect();
        prop_assert_eq!(fetched.len(), needed.len());
        let reader = TileHashReader::new(size, &root_at(&tree, size), &fetched).expect("reader");
        prop_assert_eq!(prove_record(size, n, &reader).expect("proof"), prove_record(size, n, &tree).expect("proof"));
        prop_assert_eq!(prove_tree(size, m, &reader).expect("proof"), prove_tree(size, m, &tree).expect("proof"));
    }

    #[test]
    fn new_tiles_are_the_difference_of_the_layouts(a in 0u64..300_000, b in 0u64..300_000) {
        let (old, new) = (a.min(b), a.max(b));
        let before: BTreeSet<TileId> = tiles_for_size(old).expect("size").collect();
        let after: BTreeSet<TileId> = tiles_for_size(new).expect("size").collect();
        let added: Vec<TileId> = new_tiles(old, new).expect("sizes").collect();
        let expected: Vec<TileId> = after.difference(&before).copied().collect();
        prop_assert_eq!(added, expected);
        // Each level's widths add up to the number of hashes at that level, and only the last
        // tile of a level can be partial.
        prop_assert!(after.iter().all(|t| t.level() <= 2));
        for level in 0..3u32 {
            let row: Vec<&TileId> = after.iter().filter(|t| u32::from(t.level()) == level).collect();
            prop_assert!(row.iter().rev().skip(1).all(|t| t.is_full()));
            let sum: u64 = after.iter().filter(|t| u32::from(t.level()) == level).map(|t| u64::from(t.width())).sum();
            prop_assert_eq!(sum, new >> (8 * level));
        }
    }

    #[test]
    fn tile_paths_round_trip(t in any_tile()) {
        prop_assert_eq!(TileId::parse_path(&t.path()), Ok(t));
        prop_assert_eq!(TilePath::parse(&t.path()), Ok(TilePath::Hashes(t)));
        let level0 = tile(0, t.index(), t.width());
        let entries = level0.entries_path().expect("level 0");
        prop_assert_eq!(TileId::parse_entries_path(&entries), Ok(level0));
    }

    #[test]
    fn random_strings_never_panic_and_only_canonical_paths_parse(s in any::<String>()) {
        if let Ok(parsed) = TilePath::parse(&s) {
            let again = match parsed {
                TilePath::Hashes(t) => t.path(),
                TilePath::Entries(t) => t.entries_path().expect("level 0"),
            };
            prop_assert_eq!(again, s);
        }
    }

    #[test]
    fn path_like_strings_parse_only_in_canonical_form(
        s in "tile/(entries|[0-9+-]{1,3})(/x?[0-9]{1,4}){1,4}(\\.p/[0-9]{1,4})?/?"
    ) {
        if let Ok(parsed) = TilePath::parse(&s) {
            let again = match parsed {
                TilePath::Hashes(t) => t.path(),
                TilePath::Entries(t) => t.entries_path().expect("level 0"),
            };
            prop_assert_eq!(again, s);
        }
    }

    #[test]
    fn bundles_round_trip(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..=256)) {
        let bundle = encode_entry_bundle(&entries).expect("bundle");
        let width = u16::try_from(entries.len()).expect("width");
        let decoded = decode_entry_bundle(&bundle, width).expect("decode");
        prop_assert_eq!(decoded, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        // Cutting the bundle anywhere, or adding a byte, is refused.
        prop_assert!(decode_entry_bundle(&bundle[..bundle.len() - 1], width).is_err());
        prop_assert!(decode_entry_bundle(&[bundle.as_slice(), &[0]].concat(), width).is_err());
    }

    #[test]
    fn random_bundles_never_panic(data in prop::collection::vec(any::<u8>(), 0..600), width in 0u16..=300) {
        if let Ok(entries) = decode_entry_bundle(&data, width) {
            prop_assert_eq!(entries.len(), usize::from(width));
            prop_assert_eq!(encode_entry_bundle(&entries).expect("re-encode"), data);
        }
    }

    #[test]
    fn random_tile_reads_never_panic(size in 0u64..=1000, root: [u8; 32], picks in prop::collection::vec((any_tile(), prop::collection::vec(any::<u8>(), 0..80)), 0..6), indexes in prop::collection::vec(any::<u64>(), 0..8)) {
        let tiles: BTreeMap<TileId, Vec<u8>> = picks.into_iter().collect();
        let _ = tiles_to_read(size, &indexes);
        if let Ok(reader) = TileHashReader::new(size, &root, &tiles) {
            let _ = reader.read_hashes(&indexes);
        }
    }
}
