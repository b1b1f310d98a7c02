//! Read queries of the public explorer that the store has no single statement for. They page
//! through the store's keyset-paginated reads, so memory stays bounded by one page plus the
//! answer, whatever the registry's size.

use std::collections::VecDeque;

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
/// Oldest first reads forward from the cursor and stops once the page is full. Newest first
/// without a filter reads the one window it needs (retirement ids are dense); with a filter it
/// reads every retirement below the cursor, keeping only the last `limit + 1` matches: a full
/// scan, which is what a store without a beneficiary index can do (see ARCHITECTURE.md).
pub async fn search_retirements(store: &dyn Store, q: &RetirementSearch) -> Result<RetirementHits, AppError> {
    let limit = q.limit.clamp(1, 500);
    let needle = q.beneficiary.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let needle = needle.as_deref();
    if !q.newest_first {
        let mut items = Vec::with_capacity(limit + 1);
        let mut after = q.cursor.map(|c| c.0);
        'scan: loop {
            let page = store.retirements(Page { after, limit: SCAN_PAGE }).await?;
            let full = page.len() == SCAN_PAGE as usize;
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
    // Newest first. Ids below the cursor, read in ascending pages.
    let below = match q.cursor {
        Some(c) => c.0,
        None => store.totals().await?.retirements.saturating_add(1),
    };
    if needle.is_none() {
        let from = below.saturating_sub(limit as u64 + 2);
        let take = u32::try_from(below.saturating_sub(from + 1)).unwrap_or(u32::MAX);
        let mut page = store.retirements(Page { after: Some(from), limit: take.max(1) }).await?;
        page.retain(|r| r.id.0 < below);
        page.reverse();
        return Ok(finish(page, limit));
    }
    let mut window: VecDeque<Retirement> = VecDeque::with_capacity(limit + 2);
    let mut after = None;
    'scan: loop {
        let page = store.retirements(Page { after, limit: SCAN_PAGE }).await?;
        let full = page.len() == SCAN_PAGE as usize;
        for r in page {
            if r.id.0 >= below {
                break 'scan;
            }
            after = Some(r.id.0);
            if q.matches(needle, &r) {
                if window.len() > limit {
                    window.pop_front();
                }
                window.push_back(r);
            }
        }
        if !full {
            break;
        }
    }
    Ok(finish(window.into_iter().rev().collect(), limit))
}

/// Cuts a list read one past the page to the page, and says where the next one starts.
fn finish(mut items: Vec<Retirement>, limit: usize) -> RetirementHits {
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(|r| r.id) } else { None };
    RetirementHits { items, next }
}
