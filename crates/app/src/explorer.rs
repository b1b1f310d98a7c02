//! Read queries of the public explorer that the store has no single statement for. They page
//! through the store's keyset-paginated reads, so memory stays bounded by one page plus the
//! answer, whatever the registry's size.

use furrow_domain::{Retirement, RetirementId};
use furrow_store::{Page, Store};

use crate::AppError;

/// How many rows one store read fetches while scanning.
const SCAN_PAGE: u32 = 1_000;

/// A page of the public retirement list.
#[derive(Debug, Clone, Default)]
pub struct RetirementSearch {
    /// Case-insensitive text the beneficiary's name or identifier must contain.
    pub beneficiary: Option<String>,
    pub newest_first: bool,
    /// The last retirement of the previous page (exclusive).
    pub cursor: Option<RetirementId>,
    pub limit: usize,
}

#[derive(Debug, Clone, Default)]
pub struct RetirementHits {
    pub items: Vec<Retirement>,
    /// Pass as `cursor` for the next page; none on the last page.
    pub next: Option<RetirementId>,
}

impl RetirementSearch {
    fn matches(&self, needle: Option<&str>, r: &Retirement) -> bool {
        let Some(needle) = needle else { return true };
        let b = &r.claim.beneficiary;
        b.name.to_lowercase().contains(needle)
            || b.identifier.as_deref().is_some_and(|i| i.to_lowercase().contains(needle))
    }
}

/// Retirements in id order (which is the order they were recorded), filtered by beneficiary.
///
/// Oldest first reads forward from the cursor, newest first reads backward from it, in growing
/// windows (a page's worth first, up to 1 000), and stops once the page is full. A beneficiary with many retirements fills a
/// page from the first read or two; a rare one costs a scan of the whole list, which is what a
/// store without a beneficiary index can do (see ARCHITECTURE.md). `retirements` is how many
/// there are (the status totals'): ids are dense, so the newest is that one, found without a count
/// of the table.
pub async fn search_retirements(
    store: &dyn Store,
    q: &RetirementSearch,
    retirements: u64,
) -> Result<RetirementHits, AppError> {
    let limit = q.limit.clamp(1, 500);
    let needle = q.beneficiary.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let needle = needle.as_deref();
    if !q.newest_first {
        let mut items = Vec::with_capacity(limit + 1);
        let mut after = q.cursor.map(|c| c.0);
        let mut size = first_window(limit);
        'scan: loop {
            let page = store.retirements(Page { after, limit: size }).await?;
            let full = page.len() == size as usize;
            size = grow(size);
            for r in page {
                after = Some(r.id.0);
                if q.matches(needle, &r) {
                    items.push(r);
                    if items.len() > limit {
                        break 'scan;
                    }
                }
            }
            if !full {
                break;
            }
        }
        return Ok(finish(items, limit));
    }
    // Newest first: the ids below the cursor.
    let below = match q.cursor {
        Some(c) => c.0,
        None => retirements.saturating_add(1),
    };
    // Retirement ids are dense (1, 2, 3, …), so the ids below the cursor can be read backwards
    // in windows: read the window just below, newest first, until the page is full or id 1 is
    // reached. Without a filter that is one read; with one, as many windows as it takes.
    let mut items = Vec::with_capacity(limit + 1);
    let mut below = below;
    let mut size = first_window(limit);
    while below > 1 && items.len() <= limit {
        let from = below.saturating_sub(u64::from(size) + 1);
        let take = u32::try_from(below - from - 1).unwrap_or(size);
        size = grow(size);
        let mut page = store.retirements(Page { after: Some(from), limit: take }).await?;
        page.retain(|r| r.id.0 < below);
        page.reverse();
        for r in page {
            if q.matches(needle, &r) {
                items.push(r);
                if items.len() > limit {
                    break;
                }
            }
        }
        below = from + 1;
    }
    Ok(finish(items, limit))
}

/// The first read fetches one page's worth (plus one, to know whether there is more): enough when
/// most retirements match. Each further read is four times larger, up to `SCAN_PAGE`, so a rare
/// match costs few round trips.
fn first_window(limit: usize) -> u32 {
    u32::try_from(limit + 1).unwrap_or(SCAN_PAGE).min(SCAN_PAGE)
}

fn grow(size: u32) -> u32 {
    size.saturating_mul(4).min(SCAN_PAGE)
}

/// Cuts a list read one past the page to the page, and says where the next one starts.
fn finish(mut items: Vec<Retirement>, limit: usize) -> RetirementHits {
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(|r| r.id) } else { None };
    RetirementHits { items, next }
}
