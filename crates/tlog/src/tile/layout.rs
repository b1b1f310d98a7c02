//! Which tiles a tree consists of, which stored hashes fill them, and their byte encoding.

use super::{TILE_HEIGHT, TILE_WIDTH, TileError, TileId};
use crate::Hash;
use crate::tree::{HashReader, MAX_TREE_SIZE, RangeError, TreeError, stored_hash_index};

/// The tiles that make up a tree of `size` leaves, level by level, left to right: every full
/// tile, and the partial tile at the right edge of each level where there is one.
///
/// A tree of 70,000 leaves has 273 full level-0 tiles, a level-0 tile of width 112, one full
/// level-1 tile, a level-1 tile of width 17 and a level-2 tile of width 1 (the spec's example).
/// The list is produced lazily because a tree of 2^62 leaves has about 2^54 tiles.
pub fn tiles_for_size(size: u64) -> Result<Tiles, TileError> {
    new_tiles(0, size)
}

/// The tiles a log must publish when it grows from `old` to `new` leaves: those of the tree of
/// size `new` that the tree of size `old` did not have (new full tiles, including ones that were
/// partial before, and the new partial edge). As sets, `tiles_for_size(new) − tiles_for_size(old)`.
pub fn new_tiles(old: u64, new: u64) -> Result<Tiles, TileError> {
    if new > MAX_TREE_SIZE {
        return Err(RangeError::TreeTooLarge { size: new }.into());
    }
    if old > new {
        return Err(TileError::ShrinkingTree { old, new });
    }
    Ok(Tiles { level: 0, old_count: old, new_count: new, next: old >> TILE_HEIGHT })
}

/// The iterator of [`tiles_for_size`] and [`new_tiles`].
#[derive(Debug, Clone)]
pub struct Tiles {
    level: u8,
    /// The number of hashes at tree level `8·level` in the old and the new tree.
    old_count: u64,
    new_count: u64,
    /// The index of the next tile to yield at this level.
    next: u64,
}

impl Iterator for Tiles {
    type Item = TileId;

    fn next(&mut self) -> Option<TileId> {
        loop {
            // Once a level is unchanged, so is every level above it.
            if self.new_count == self.old_count {
                return None;
            }
            let full = self.new_count >> TILE_HEIGHT;
            let partial = u16::try_from(self.new_count % u64::from(TILE_WIDTH)).unwrap_or(0);
            let tile = TileId { level: self.level, index: self.next, width: TILE_WIDTH };
            if self.next < full {
                self.next += 1;
                return Some(tile);
            }
            if self.next == full && partial > 0 {
                self.next += 1;
                return Some(TileId { width: partial, ..tile });
            }
            self.level += 1;
            self.old_count >>= TILE_HEIGHT;
            self.new_count >>= TILE_HEIGHT;
            self.next = self.old_count >> TILE_HEIGHT;
        }
    }
}

/// The stored-hash indexes (see [`crate::tree::stored_hash_index`]) of the hashes that form
/// `tile`'s data, in tile order: the nodes at tree level `8·L` at positions `N·256 .. N·256+W`.
pub fn tile_hash_indexes(tile: TileId) -> Result<Vec<u64>, RangeError> {
    let tree_level = tile.level.saturating_mul(TILE_HEIGHT);
    let first = tile.index.checked_mul(u64::from(TILE_WIDTH));
    let first = first.ok_or(RangeError::NodeOutOfRange { level: tree_level, n: tile.index })?;
    (0..u64::from(tile.width))
        .map(|i| {
            let n = first.checked_add(i).ok_or(RangeError::NodeOutOfRange { level: tree_level, n: first })?;
            stored_hash_index(tree_level, n)
        })
        .collect()
}

/// Reads a tile's hashes from a stored-hash tree and encodes them: what a log serves at
/// [`TileId::path`]. The tile must lie within the stored tree.
pub fn read_tile<R: HashReader + ?Sized>(tile: TileId, reader: &R) -> Result<Vec<u8>, TreeError<R::Error>> {
    let indexes = tile_hash_indexes(tile)?;
    let hashes = reader.read_hashes(&indexes).map_err(TreeError::Read)?;
    if hashes.len() != indexes.len() {
        return Err(TreeError::ShortRead { wanted: indexes.len(), got: hashes.len() });
    }
    Ok(encode_tile_data(&hashes))
}

/// Tile data: the hashes concatenated, 32 bytes each, with nothing around them.
pub fn encode_tile_data(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Splits tile data into its hashes, refusing data that is not exactly `tile`'s width.
pub fn decode_tile_data(tile: TileId, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    if data.len() != tile.data_len() {
        return Err(TileError::WrongDataLength { tile, expected: tile.data_len(), len: data.len() });
    }
    Ok(data.chunks_exact(32).filter_map(|chunk| Hash::try_from(chunk).ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiles(old: u64, new: u64) -> Vec<(u8, u64, u16)> {
        new_tiles(old, new).expect("sizes").map(|t| (t.level, t.index, t.width)).collect()
    }

    #[test]
    fn small_trees_have_the_tiles_the_spec_describes() {
        assert_eq!(tiles(0, 0), vec![]);
        assert_eq!(tiles(0, 1), vec![(0, 0, 1)]);
        assert_eq!(tiles(0, 256), vec![(0, 0, 256), (1, 0, 1)]);
        assert_eq!(tiles(0, 513), vec![(0, 0, 256), (0, 1, 256), (0, 2, 1), (1, 0, 2)]);
        assert_eq!(tiles(256, 257), vec![(0, 1, 1)]);
        assert_eq!(tiles(255, 256), vec![(0, 0, 256), (1, 0, 1)]);
        assert_eq!(tiles(300, 300), vec![]);
    }

    #[test]
    fn tile_hashes_are_the_nodes_at_eight_times_the_tile_level() {
        let tile = TileId::new(1, 0, 2).expect("tile");
        let expected = vec![stored_hash_index(8, 0).expect("ix"), stored_hash_index(8, 1).expect("ix")];
        assert_eq!(tile_hash_indexes(tile), Ok(expected));
        assert!(tile_hash_indexes(TileId::full(8, 0).expect("tile")).is_err());
        assert!(tile_hash_indexes(TileId::full(63, u64::MAX).expect("tile")).is_err());
        assert!(tile_hash_indexes(TileId::full(0, u64::MAX).expect("tile")).is_err());
    }

    #[test]
    fn sizes_beyond_the_tree_or_shrinking_are_refused() {
        assert!(new_tiles(0, MAX_TREE_SIZE + 1).is_err());
        assert!(new_tiles(5, 4).is_err());
        // The last leaf of the largest tree completes one full tile per level and leaves 64
        // hashes in the top, level-7, tile.
        let last = tiles(MAX_TREE_SIZE - 1, MAX_TREE_SIZE);
        assert_eq!(last.len(), 8);
        assert_eq!(last.first(), Some(&(0, (1 << 54) - 1, 256)));
        assert_eq!(last.last(), Some(&(7, 0, 64)));
    }
}
