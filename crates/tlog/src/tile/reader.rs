//! Reading stored hashes out of tiles, authenticated against a checkpoint.
//!
//! A stored hash of node (`level`, `n`) lives in the tile at tile level `level / 8`: directly
//! when `level` is a multiple of 8, otherwise as the hash of the complete subtree over
//! `2^(level % 8)` consecutive hashes of that tile, which the reader recomputes. For a tree of a
//! given size the tile is the one the log publishes for that size: full, or the partial right
//! edge. A wider tile of the same level and index (such as the full tile that later replaced a
//! partial one) serves as well, since a tile's data is a prefix of every wider tile's data.
//!
//! Tiles come from an untrusted mirror, so the reader checks them before use:
//! - the partial tiles at the right edge are exactly the hashes from which the root is folded
//!   (size `s` has one complete subtree per set bit, and the bits `8L .. 8L+7` of `s` are the
//!   subtrees over the partial tile at level `L`), so [`TileHashReader::new`] recomputes the root
//!   from them and compares it with the checkpoint's;
//! - a full tile hashes to the node one tile level up, so it is checked against its entry in the
//!   parent tile, itself checked the same way, up to a partial tile.
//!
//! This is the scheme of Go's `golang.org/x/mod/sumdb/tlog` tile reader, written afresh.

use std::collections::{BTreeMap, BTreeSet};

use super::layout::decode_tile_data;
use super::{TILE_HEIGHT, TILE_WIDTH, TileError, TileId};
use crate::tree::{HashReader, RangeError, split_stored_hash_index, stored_hash_count, tree_hash_indexes};
use crate::{EMPTY_ROOT, Hash, node_hash};

/// Why a stored hash could not be read from the tiles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileReadError {
    #[error("stored hash {index} is not in the tree of {size} leaves")]
    IndexNotInTree { index: u64, size: u64 },
    #[error("tile {tile} (or a wider one) is needed but was not supplied")]
    MissingTile { tile: TileId },
    #[error("tile {tile} does not match the hash of it in the tile above")]
    TileMismatch { tile: TileId },
    #[error("the tiles at the right edge of the tree do not hash to the checkpoint's root")]
    RootMismatch,
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error(transparent)]
    Range(#[from] RangeError),
}

/// A [`HashReader`] over tiles for the tree of one checkpoint: every hash it returns is
/// authenticated against that checkpoint's root hash (see the module documentation).
///
/// [`tiles_to_read`] says which tiles to fetch for the hashes a computation needs. Each
/// `read_hashes` call checks the full tiles it uses afresh (a few hundred hashes per tile level),
/// which suits clients computing a few proofs; it keeps no cache between calls.
#[derive(Debug, Clone, Copy)]
pub struct TileHashReader<'a> {
    size: u64,
    tiles: &'a BTreeMap<TileId, Vec<u8>>,
}

/// Where a stored hash lives: the published tile, and the span of its hashes whose subtree hash
/// the stored hash is (a single hash when the node sits at a tile level).
#[derive(Debug, Clone, Copy)]
struct Location {
    tile: TileId,
    start: usize,
    len: usize,
}

impl<'a> TileHashReader<'a> {
    /// A reader for the tree of `size` leaves with root hash `root` (a checkpoint the caller has
    /// verified). `tiles` must hold the partial tile at the right edge of every level, which this
    /// checks against `root`; other tiles are checked when read.
    pub fn new(size: u64, root: &Hash, tiles: &'a BTreeMap<TileId, Vec<u8>>) -> Result<Self, TileReadError> {
        if root_from_tiles(size, tiles)? != *root {
            return Err(TileReadError::RootMismatch);
        }
        Ok(TileHashReader { size, tiles })
    }

    /// The tree size the reader serves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A stored hash from the tiles, without authenticating the tile (used to check the root).
    fn unchecked_hash(&self, index: u64) -> Result<Hash, TileReadError> {
        let location = locate(self.size, index)?;
        let hashes = tile_hashes(self.tiles, location.tile)?;
        span_hash(&hashes, location)
    }

    /// Puts `tile`'s hashes into `checked` once they are authenticated: a partial tile was
    /// checked by [`TileHashReader::new`]; a full one must hash to its entry in the parent tile.
    fn check_tile(&self, tile: TileId, checked: &mut BTreeMap<TileId, Vec<Hash>>) -> Result<(), TileReadError> {
        if checked.contains_key(&tile) {
            return Ok(());
        }
        let hashes = tile_hashes(self.tiles, tile)?;
        if tile.is_full() {
            let parent = parent_tile(self.size, tile)?;
            self.check_tile(parent, checked)?;
            let slot = usize::try_from(tile.index % u64::from(TILE_WIDTH)).ok();
            let expected = checked.get(&parent).and_then(|p| slot.and_then(|s| p.get(s)));
            if expected != Some(&subtree_hash(&hashes)) {
                return Err(TileReadError::TileMismatch { tile });
            }
        }
        checked.insert(tile, hashes);
        Ok(())
    }
}

impl HashReader for TileHashReader<'_> {
    type Error = TileReadError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, TileReadError> {
        let mut checked = BTreeMap::new();
        indexes
            .iter()
            .map(|&index| {
                let location = locate(self.size, index)?;
                self.check_tile(location.tile, &mut checked)?;
                let hashes = checked.get(&location.tile).ok_or(TileReadError::MissingTile { tile: location.tile })?;
                span_hash(hashes, location)
            })
            .collect()
    }
}

/// The root hash of the tree of `size` leaves, folded from the partial tiles at its right edge
/// (the only tiles it depends on). Nothing authenticates the tiles: compare the result with a
/// verified checkpoint, as [`TileHashReader::new`] does, before trusting them.
pub fn root_from_tiles(size: u64, tiles: &BTreeMap<TileId, Vec<u8>>) -> Result<Hash, TileReadError> {
    let reader = TileHashReader { size, tiles };
    let edge = tree_hash_indexes(size)?
        .into_iter()
        .map(|index| reader.unchecked_hash(index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(fold_right(&edge))
}

/// The tiles a [`TileHashReader`] for the tree of `size` leaves needs to read the stored hashes
/// at `indexes` (for example [`crate::tree::record_proof_indexes`]): the partial tiles at the
/// right edge, the tiles holding those hashes, and the full tiles above them that authenticate
/// them. Sorted by level, then index.
pub fn tiles_to_read(size: u64, indexes: &[u64]) -> Result<BTreeSet<TileId>, TileReadError> {
    let mut needed = BTreeSet::new();
    for &index in tree_hash_indexes(size)?.iter().chain(indexes) {
        let mut tile = locate(size, index)?.tile;
        needed.insert(tile);
        while tile.is_full() {
            tile = parent_tile(size, tile)?;
            needed.insert(tile);
        }
    }
    Ok(needed)
}

/// Where stored hash `index` of the tree of `size` leaves lives.
fn locate(size: u64, index: u64) -> Result<Location, TileReadError> {
    if index >= stored_hash_count(size)? {
        return Err(TileReadError::IndexNotInTree { index, size });
    }
    let (level, n) = split_stored_hash_index(index)?;
    let (tile_level, below) = (level / TILE_HEIGHT, level % TILE_HEIGHT);
    // The node covers the hashes first .. first + 2^below of tree level 8·tile_level. The node is
    // in the tree, so (n + 1)·2^level <= size and nothing here overflows.
    let first = n << below;
    let tile = published_tile(size, tile_level, first >> TILE_HEIGHT)?;
    let start = usize::try_from(first % u64::from(TILE_WIDTH)).map_err(|_| RangeError::IndexOutOfRange { index })?;
    Ok(Location { tile, start, len: 1 << below })
}

/// The tile at `level` and `index` as the log publishes it for a tree of `size` leaves: full, or
/// as wide as the hashes that exist at that level.
fn published_tile(size: u64, level: u8, index: u64) -> Result<TileId, TileError> {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    let count = size.checked_shr(shift).unwrap_or(0);
    let before = index.saturating_mul(u64::from(TILE_WIDTH));
    let width = count.saturating_sub(before).min(u64::from(TILE_WIDTH));
    TileId::new(level, index, u16::try_from(width).unwrap_or(0))
}

/// The tile one level up that holds the hash of the full tile `tile`.
fn parent_tile(size: u64, tile: TileId) -> Result<TileId, TileError> {
    let level = tile.level.checked_add(1).ok_or(TileError::InvalidLevel { level: tile.level })?;
    published_tile(size, level, tile.index >> TILE_HEIGHT)
}

/// The first `tile.width` hashes of the narrowest supplied tile at least as wide as `tile`.
fn tile_hashes(tiles: &BTreeMap<TileId, Vec<u8>>, tile: TileId) -> Result<Vec<Hash>, TileReadError> {
    let widest = TileId { width: TILE_WIDTH, ..tile };
    let (&found, data) = tiles.range(tile..=widest).next().ok_or(TileReadError::MissingTile { tile })?;
    let mut hashes = decode_tile_data(found, data)?;
    hashes.truncate(usize::from(tile.width));
    Ok(hashes)
}

/// The hash of the complete subtree over the span of `hashes` that `location` names.
fn span_hash(hashes: &[Hash], location: Location) -> Result<Hash, TileReadError> {
    let span = location.start.checked_add(location.len).and_then(|end| hashes.get(location.start..end));
    span.map(subtree_hash).ok_or(TileReadError::MissingTile { tile: location.tile })
}

/// The root of the complete subtree whose leaves are `hashes`, for a power-of-two count (the
/// only kind a tile holds): hash neighbours pairwise, level by level.
fn subtree_hash(hashes: &[Hash]) -> Hash {
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node_hash(left, right),
                [single] => *single,
                _ => EMPTY_ROOT,
            })
            .collect();
    }
    level.first().copied().unwrap_or(EMPTY_ROOT)
}

/// The tree hash from the complete subtrees covering it, largest first: each one is the left
/// child of the hash of everything to its right.
fn fold_right(hashes: &[Hash]) -> Hash {
    let Some((last, init)) = hashes.split_last() else {
        return EMPTY_ROOT;
    };
    init.iter().rev().fold(*last, |acc, left| node_hash(left, &acc))
}
