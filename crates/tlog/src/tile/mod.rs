//! C2SP tiled transparency logs (`c2sp.org/tlog-tiles`): the tree served as immutable static
//! files, so that any static host or CDN can mirror the log.
//!
//! A tile holds 256 consecutive hashes of one tree level: the tile at tile level `L` with index
//! `N` holds the hashes of the complete subtrees of `256^L` leaves numbered `N·256 .. N·256+255`,
//! that is, the nodes at tree level `8·L` (in the numbering of [`crate::tree`]) at positions
//! `N·256 ..`. The seven tree levels between two tile levels are not served: a client recomputes
//! them by hashing the tile below. The rightmost tile of each level is usually *partial*: it holds
//! only the `W < 256` hashes that exist at the tree size of a checkpoint, and its path carries
//! `.p/<W>`. Partial tiles are never hashed into the level above.
//!
//! Log entries are served beside the level-0 tiles as *entry bundles*: the entries whose leaf
//! hashes a level-0 tile holds, each prefixed with its length ([`encode_entry_bundle`],
//! [`decode_entry_bundle`], [`check_entry_bundle`]).
//!
//! - [`TileId`] names a tile; [`TileId::path`], [`TileId::entries_path`] and [`TilePath::parse`]
//!   are the spec's paths, parsed strictly (one canonical path per tile).
//! - [`tiles_for_size`] and [`new_tiles`] list what a log publishes; [`tile_hash_indexes`] and
//!   [`read_tile`] cut a stored-hash tree into tile data.
//! - [`root_from_tiles`] computes a tree's root from its edge tiles, and [`TileHashReader`] reads
//!   any stored hash of a tree from its tiles, authenticated against the checkpoint's root hash, so the tree functions ([`crate::tree::tree_hash`],
//!   [`crate::tree::prove_record`], [`crate::tree::prove_tree`]) run on tiles alone.

mod bundle;
mod layout;
mod path;
mod reader;

use std::fmt;

pub use bundle::{BundleError, MAX_ENTRY_LEN, check_entry_bundle, decode_entry_bundle, encode_entry_bundle};
pub use layout::{Tiles, decode_tile_data, encode_tile_data, new_tiles, read_tile, tile_hash_indexes, tiles_for_size};
pub use path::TilePath;
pub use reader::{TileHashReader, TileReadError, root_from_tiles, tiles_to_read};

use crate::tree::RangeError;

/// The number of tree levels a tile spans: fixed at 8 by the spec.
pub const TILE_HEIGHT: u8 = 8;

/// The number of hashes in a full tile (and of entries in a full entry bundle).
pub const TILE_WIDTH: u16 = 1 << TILE_HEIGHT;

/// The highest tile level a path may name (the spec's bound; trees of at most
/// [`crate::tree::MAX_TREE_SIZE`] leaves only reach level 7).
pub const MAX_TILE_LEVEL: u8 = 63;

/// One tile: its level, its index within the level, and its width in hashes (256 for a full
/// tile, 1 to 255 for a partial one).
///
/// The fields are private so that every `TileId` is valid: level at most [`MAX_TILE_LEVEL`],
/// width between 1 and [`TILE_WIDTH`]. The ordering is by level, then index, then width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    level: u8,
    index: u64,
    width: u16,
}

/// Why a tile, its path or its data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("tile level {level} is above the maximum of 63")]
    InvalidLevel { level: u8 },
    #[error("tile width {width} is not between 1 and 256")]
    InvalidWidth { width: u16 },
    #[error("invalid tile path: {reason}")]
    InvalidPath { reason: &'static str },
    #[error("entry bundles exist only beside level-0 tiles, not at level {level}")]
    NotLevelZero { level: u8 },
    #[error("tile {tile} must hold {expected} bytes of hashes, got {len}")]
    WrongDataLength { tile: TileId, expected: usize, len: usize },
    #[error("a tree cannot shrink from {old} to {new} leaves")]
    ShrinkingTree { old: u64, new: u64 },
    #[error(transparent)]
    Range(#[from] RangeError),
}

impl TileId {
    /// A tile of `width` hashes (256 for a full tile).
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, TileError> {
        if level > MAX_TILE_LEVEL {
            return Err(TileError::InvalidLevel { level });
        }
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::InvalidWidth { width });
        }
        Ok(TileId { level, index, width })
    }

    /// A full tile.
    pub fn full(level: u8, index: u64) -> Result<Self, TileError> {
        Self::new(level, index, TILE_WIDTH)
    }

    pub fn level(&self) -> u8 {
        self.level
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes; only full tiles are hashed into the level above.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The number of bytes of the tile's data: 32 per hash.
    pub fn data_len(&self) -> usize {
        usize::from(self.width) * 32
    }
}

/// Shows the tile's path, which is how logs and the spec name tiles.
impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}
