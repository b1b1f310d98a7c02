//! Entry bundles: the log entries under one level-0 tile, each as a big-endian `u16` length
//! followed by the entry's bytes, nothing between or after them.
//!
//! Decoding is strict (exactly the expected number of entries, no trailing bytes) so that one
//! bundle has one encoding, and [`check_entry_bundle`] ties the entries to the authenticated
//! level-0 tile: a mirror can then serve entries but not alter them.

use super::TILE_WIDTH;
use crate::{Hash, leaf_hash};

/// The longest entry a bundle can carry: its length must fit the `u16` prefix.
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Why an entry bundle could not be written, read or matched to its tile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("a bundle holds 1 to 256 entries, not {count}")]
    BadCount { count: usize },
    #[error("entry {position} is {len} bytes, more than the 65535 a bundle can carry")]
    EntryTooLong { position: usize, len: usize },
    #[error("the bundle ends inside entry {position}")]
    Truncated { position: usize },
    #[error("the bundle has {extra} bytes after its last entry")]
    TrailingData { extra: usize },
    #[error("the bundle has {entries} entries but the tile has {hashes} hashes")]
    CountMismatch { entries: usize, hashes: usize },
    #[error("entry {position} does not hash to the tile's leaf hash")]
    HashMismatch { position: usize },
}

/// Encodes `entries` (1 to 256 of them, each at most [`MAX_ENTRY_LEN`] bytes) as a bundle.
pub fn encode_entry_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    check_count(entries.len())?;
    let mut out = Vec::with_capacity(entries.iter().map(|e| 2 + e.as_ref().len()).sum());
    for (position, entry) in entries.iter().enumerate() {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| BundleError::EntryTooLong { position, len: entry.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes a bundle that must hold exactly `width` entries (the `W` of its path, 256 for a full
/// bundle); the entries borrow from `data`.
pub fn decode_entry_bundle(data: &[u8], width: u16) -> Result<Vec<&[u8]>, BundleError> {
    let count = usize::from(width);
    check_count(count)?;
    let mut rest = data;
    let mut entries = Vec::with_capacity(count);
    for position in 0..count {
        let (len, after) = rest.split_first_chunk::<2>().ok_or(BundleError::Truncated { position })?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, after) = after.split_at_checked(len).ok_or(BundleError::Truncated { position })?;
        entries.push(entry);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(BundleError::TrailingData { extra: rest.len() });
    }
    Ok(entries)
}

/// Checks that each entry's RFC 9162 leaf hash is the matching hash of the level-0 tile, whose
/// hashes the caller has authenticated (for example through a
/// [`super::TileHashReader`] or [`super::read_tile`]).
pub fn check_entry_bundle<E: AsRef<[u8]>>(entries: &[E], tile_hashes: &[Hash]) -> Result<(), BundleError> {
    if entries.len() != tile_hashes.len() {
        return Err(BundleError::CountMismatch { entries: entries.len(), hashes: tile_hashes.len() });
    }
    match entries.iter().zip(tile_hashes).position(|(entry, hash)| leaf_hash(entry.as_ref()) != *hash) {
        Some(position) => Err(BundleError::HashMismatch { position }),
        None => Ok(()),
    }
}

/// Empty bundles are never served, and a bundle is no wider than a tile.
fn check_count(count: usize) -> Result<(), BundleError> {
    if count == 0 || count > usize::from(TILE_WIDTH) {
        return Err(BundleError::BadCount { count });
    }
    Ok(())
}
