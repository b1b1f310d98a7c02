//! Tile and entry bundle paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
//!
//! `<N>` is written in groups of three zero-padded digits, every group but the last prefixed
//! with `x` (index 1234067 is `x001/x234/067`), so that a directory never holds more than 1000
//! entries and no name is both a file and a directory: the files can be served as they are.
//!
//! Parsing is strict: a path is accepted only if it is exactly the path [`TileId::path`] (or
//! [`TileId::entries_path`]) writes for the tile it names. Mirrors and caches key on paths, so
//! two spellings of one tile would let a client be served two different answers for it.

use super::{TILE_WIDTH, TileError, TileId};
use crate::parse_decimal;

/// What a path under `tile/` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A tile of hashes: `tile/<L>/<N>[.p/<W>]`.
    Hashes(TileId),
    /// The entry bundle beside the level-0 tile it carries: `tile/entries/<N>[.p/<W>]`. The tile
    /// is always at level 0.
    Entries(TileId),
}

impl TileId {
    /// The tile's path, `tile/<L>/<N>[.p/<W>]`, relative to the log's URL prefix.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// The path of the entry bundle holding the entries whose leaf hashes this level-0 tile
    /// holds, `tile/entries/<N>[.p/<W>]`. Tiles above level 0 have no bundle.
    pub fn entries_path(&self) -> Result<String, TileError> {
        if self.level != 0 {
            return Err(TileError::NotLevelZero { level: self.level });
        }
        Ok(format!("tile/entries/{}", self.index_and_width()))
    }

    /// Parses a hash tile path (see [`TilePath::parse`]).
    pub fn parse_path(path: &str) -> Result<TileId, TileError> {
        match TilePath::parse(path)? {
            TilePath::Hashes(tile) => Ok(tile),
            TilePath::Entries(_) => Err(invalid("an entry bundle path where a tile path was expected")),
        }
    }

    /// Parses an entry bundle path (see [`TilePath::parse`]); gives the level-0 tile it goes with.
    pub fn parse_entries_path(path: &str) -> Result<TileId, TileError> {
        match TilePath::parse(path)? {
            TilePath::Entries(tile) => Ok(tile),
            TilePath::Hashes(_) => Err(invalid("a tile path where an entry bundle path was expected")),
        }
    }

    /// `<N>[.p/<W>]`, shared by both kinds of path.
    fn index_and_width(&self) -> String {
        let mut out = encode_index(self.index);
        if !self.is_full() {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }
}

impl TilePath {
    /// Parses a path relative to the log's prefix, such as `tile/0/x001/x234/067.p/8` or
    /// `tile/entries/000`. Refuses anything that is not the canonical path of a tile.
    pub fn parse(path: &str) -> Result<TilePath, TileError> {
        let parsed = parse_loosely(path)?;
        if parsed.canonical() != path {
            return Err(invalid("not in canonical form (extra zeros or an empty leading group)"));
        }
        Ok(parsed)
    }

    fn canonical(&self) -> String {
        match self {
            TilePath::Hashes(tile) => tile.path(),
            TilePath::Entries(tile) => format!("tile/entries/{}", tile.index_and_width()),
        }
    }
}

fn invalid(reason: &'static str) -> TileError {
    TileError::InvalidPath { reason }
}

/// Reads the parts of a path; [`TilePath::parse`] then insists on the canonical spelling.
fn parse_loosely(path: &str) -> Result<TilePath, TileError> {
    let rest = path.strip_prefix("tile/").ok_or(invalid("does not start with `tile/`"))?;
    let (kind, rest) = rest.split_once('/').ok_or(invalid("no tile index"))?;
    let (index, width) = match rest.split_once(".p/") {
        Some((index, width)) => (index, parse_partial_width(width)?),
        None => (rest, TILE_WIDTH),
    };
    let index = parse_index(index)?;
    if kind == "entries" {
        return Ok(TilePath::Entries(TileId::new(0, index, width)?));
    }
    let level = parse_decimal(kind).and_then(|l| u8::try_from(l).ok()).ok_or(invalid("the level is not 0 to 63"))?;
    Ok(TilePath::Hashes(TileId::new(level, index, width)?))
}

/// A partial width is 1 to 255: a full tile has no `.p/` suffix, and empty tiles do not exist.
fn parse_partial_width(s: &str) -> Result<u16, TileError> {
    parse_decimal(s)
        .and_then(|w| u16::try_from(w).ok())
        .filter(|w| (1..TILE_WIDTH).contains(w))
        .ok_or(invalid("the partial width is not 1 to 255"))
}

/// `x001/x234/067` → 1234067.
fn parse_index(s: &str) -> Result<u64, TileError> {
    let mut groups = s.split('/').peekable();
    let mut index: u64 = 0;
    while let Some(group) = groups.next() {
        let digits = if groups.peek().is_some() {
            group.strip_prefix('x').ok_or(invalid("an index group other than the last lacks its `x`"))?
        } else {
            group
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("an index group is not three digits"));
        }
        let value = digits.parse::<u64>().map_err(|_| invalid("an index group is not three digits"))?;
        index = index.checked_mul(1000).and_then(|i| i.checked_add(value)).ok_or(invalid("the index overflows"))?;
    }
    Ok(index)
}

/// 1234067 → `x001/x234/067`; 0 → `000`.
fn encode_index(mut index: u64) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(index % 1000);
        index /= 1000;
        if index == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    let parts: Vec<String> = groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, group)| if i < last { format!("x{group:03}") } else { format!("{group:03}") })
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_grouped_by_three_digits() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        assert_eq!(parse_index("x018/x446/x744/x073/x709/x551/615"), Ok(u64::MAX));
        assert!(parse_index("x018/x446/x744/x073/x709/x551/616").is_err());
    }
}
