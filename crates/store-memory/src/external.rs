//! The external area (`furrow import`): other registries' records, kept apart from the registry.
//! Like the SQL backends' `ON CONFLICT DO NOTHING`, a record, quarantined row or flag whose key is
//! already stored is left as it is.

use std::collections::{BTreeMap, BTreeSet};

use furrow_store::{
    ExternalFilter, ExternalFlag, ExternalImport, ExternalImportOutcome, ExternalQuarantined, ExternalRecord,
    ExternalScan, ExternalSource, Page, StoreError,
};

use crate::{Tables, next_id};

#[derive(Default)]
pub(crate) struct External {
    pub(crate) sources: BTreeMap<String, ExternalSource>,
    pub(crate) records: BTreeMap<u64, ExternalRecord>,
    /// (registry, kind, origin id): the records' unique key, and the record's id.
    record_keys: BTreeMap<(String, String, String), u64>,
    pub(crate) quarantine: BTreeMap<u64, ExternalQuarantined>,
    /// (source, line, reason): the quarantine's unique key.
    quarantine_keys: BTreeSet<(String, i64, String)>,
    pub(crate) flags: BTreeMap<u64, ExternalFlag>,
}

/// One chunk of an import, all or nothing: every foreign key is checked before anything is written.
pub(crate) fn import(t: &mut Tables, import: &ExternalImport) -> Result<ExternalImportOutcome, StoreError> {
    let e = &mut t.external;
    let sha = &import.source.sha256;
    let known = |source: &String| source == sha || e.sources.contains_key(source);
    let orphan =
        import.records.iter().map(|r| &r.source_sha256).chain(import.quarantined.iter().map(|q| &q.source_sha256));
    if let Some(source) = orphan.into_iter().find(|s| !known(s)) {
        return Err(StoreError::Conflict { constraint: format!("FOREIGN KEY constraint failed: source {source}") });
    }
    let new_source = !e.sources.contains_key(sha);
    if new_source {
        e.sources.insert(sha.clone(), import.source.clone());
    }
    let mut outcome = ExternalImportOutcome { new_source, ..ExternalImportOutcome::default() };
    for record in &import.records {
        let key = (record.registry.clone(), record.kind.clone(), record.origin_id.clone());
        if let std::collections::btree_map::Entry::Vacant(slot) = e.record_keys.entry(key) {
            let id = next_id(&e.records);
            slot.insert(id);
            e.records.insert(id, record.clone());
            outcome.records_added += 1;
        }
    }
    for row in &import.quarantined {
        if e.quarantine_keys.insert((row.source_sha256.clone(), row.line, row.reason.clone())) {
            let id = next_id(&e.quarantine);
            e.quarantine.insert(id, row.clone());
            outcome.quarantined_added += 1;
        }
    }
    Ok(outcome)
}

/// Fills in the counts of a source row written with zero rows; a completed row keeps its counts.
pub(crate) fn complete_source(t: &mut Tables, s: &ExternalSource) {
    if let Some(stored) = t.external.sources.get_mut(&s.sha256).filter(|stored| stored.rows == 0) {
        stored.rows = s.rows;
        stored.imported = s.imported;
        stored.already_present = s.already_present;
        stored.quarantined = s.quarantined;
    }
}

/// Makes the stored flags equal to `flags`; flags that stay keep their id. Returns (added, removed).
pub(crate) fn set_flags(t: &mut Tables, flags: &[ExternalFlag]) -> (u64, u64) {
    let stored = &mut t.external.flags;
    let wanted: BTreeSet<(&str, &str)> = flags.iter().map(|f| (f.code.as_str(), f.subject.as_str())).collect();
    let before = stored.len();
    stored.retain(|_, f| wanted.contains(&(f.code.as_str(), f.subject.as_str())));
    let removed = (before - stored.len()) as u64;
    let mut added = 0;
    for flag in flags {
        if !stored.values().any(|f| f.code == flag.code && f.subject == flag.subject) {
            let id = next_id(stored);
            stored.insert(id, flag.clone());
            added += 1;
        }
    }
    (added, removed)
}

/// Every imported file, in import order (then by hash, as the SQL orders them).
pub(crate) fn sources(t: &Tables) -> Vec<ExternalSource> {
    let mut sources: Vec<ExternalSource> = t.external.sources.values().cloned().collect();
    sources.sort_by(|a, b| (a.imported_at, &a.sha256).cmp(&(b.imported_at, &b.sha256)));
    sources
}

pub(crate) fn records(t: &Tables, filter: &ExternalFilter, page: Page) -> Vec<(u64, ExternalRecord)> {
    let matches = |r: &ExternalRecord| {
        filter.registry.as_ref().is_none_or(|x| &r.registry == x)
            && filter.kind.as_ref().is_none_or(|x| &r.kind == x)
            && filter.project.as_ref().is_none_or(|x| r.project.as_ref() == Some(x))
    };
    let start = page.after.map_or(0, |a| a.saturating_add(1));
    t.external
        .records
        .range(start..)
        .filter(|(_, r)| matches(r))
        .take(page.limit as usize)
        .map(|(id, r)| (*id, r.clone()))
        .collect()
}

/// The records of one check's scan, with their ids, in id order.
pub(crate) fn scan(t: &Tables, scan: ExternalScan) -> Vec<(u64, ExternalRecord)> {
    let keep_raw = |r: &ExternalRecord| ExternalScan::KEEPS_RAW.contains(&r.registry.as_str());
    t.external
        .records
        .iter()
        .filter(|(_, r)| scan.includes(r))
        .map(|(id, r)| {
            let raw = if keep_raw(r) { r.raw.clone() } else { String::new() };
            (*id, ExternalRecord { raw, ..r.clone() })
        })
        .collect()
}

/// The stored records with these keys.
pub(crate) fn lookup(t: &Tables, keys: &[(String, String, String)]) -> Vec<ExternalRecord> {
    let e = &t.external;
    keys.iter().filter_map(|k| e.record_keys.get(k).and_then(|id| e.records.get(id)).cloned()).collect()
}
