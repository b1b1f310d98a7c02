//! The importer's scratch index on disk answers as the in-memory indexes do. The within-file
//! checks judge a file the same with either: the same rows quarantined with the same details, the
//! same notes, the same gap in a ledger's serials (random rows with repeated origin ids,
//! overlapping ranges in a few namespaces, CDM's among them, which are noted rather than
//! quarantined, serials at the ends of `u64`, vintage totals). The name groups of the
//! same-project check and the per-credit ledgers' unknown retirements come out the same too (the
//! conformance suite compares the importer's flags with `checks::across` on the real files).

use furrow_app::external::DiskIndex;
use furrow_import::checks::{LedgerIndex, MemoryIndex, MemoryLedger, MemoryNames, NameIndex, Verdict, WithinFile};
use furrow_import::{Kind, Note, Range, Record};
use proptest::prelude::*;

/// One generated row: kind, origin id, range (namespace, start, length), vintage (key, total),
/// quantity.
type Row = (Kind, u8, Option<(u8, u64, u64)>, Option<(u8, i64)>, i64);

const NAMESPACES: [&str; 3] = ["VCU-VER", "CDM-BR", "GS-1-BR-GS1001-VER-2020-1"];

fn record((kind, id, range, _, quantity): &Row, line: u64) -> Record {
    Record {
        quantity: Some(*quantity),
        range: range.map(|(ns, start, len)| Range {
            namespace: NAMESPACES[usize::from(ns) % NAMESPACES.len()].into(),
            start,
            end: start.saturating_add(len),
        }),
        ..Record::new("verra", *kind, format!("id-{id}"), "test", line, String::new())
    }
}

/// Every verdict and note of `checks` over `rows`, then the note `finish` adds.
fn judge(mut checks: WithinFile, rows: &[Row]) -> (Vec<Verdict>, Vec<Note>, Option<Note>) {
    let (mut verdicts, mut notes) = (Vec::new(), Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let total = row.3.map(|(key, total)| (format!("vintage-{key}"), total));
        verdicts.push(checks.check(&record(row, i as u64 + 2), total.as_ref(), &mut notes).expect("index"));
    }
    (verdicts, notes, checks.finish().expect("index"))
}

fn start() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..300, 1 => (u64::MAX - 300)..=u64::MAX, 1 => (1u64 << 63) - 150..(1u64 << 63) + 150]
}

fn row() -> impl Strategy<Value = Row> {
    let kind = prop::sample::select(vec![
        Kind::Issuance,
        Kind::Retirement,
        Kind::Cancellation,
        Kind::Credit,
        Kind::Credit,
        Kind::Project,
    ]);
    (
        kind,
        0u8..60,
        prop::option::weighted(0.9, (0u8..3, start(), prop_oneof![3 => 0u64..3, 1 => 0u64..40])),
        prop::option::of((0u8..4, 0i64..200)),
        0i64..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_disk_index_judges_a_file_as_the_memory_index_does(rows in prop::collection::vec(row(), 0..120)) {
        let in_memory = judge(WithinFile::new(Box::new(MemoryIndex::default())), &rows);
        let on_disk = judge(WithinFile::new(Box::new(DiskIndex::create().expect("scratch index"))), &rows);
        prop_assert_eq!(on_disk, in_memory);
    }
}

/// The cases the random rows reach only by chance, spelled out: a duplicate names its first
/// line, an overlap names the kept range, a later overlap of a quarantined range names the merged
/// union, a CDM overlap is a note, a vintage's blocks past its total are quarantined, and a gap
/// in a ledger's credits is noted once.
#[test]
fn the_disk_index_gives_the_in_memory_details() {
    let rows: Vec<Row> = vec![
        (Kind::Issuance, 1, Some((0, 100, 9)), Some((0, 25)), 10),
        (Kind::Issuance, 1, Some((0, 200, 9)), None, 10),
        (Kind::Issuance, 2, Some((0, 105, 10)), None, 10),
        (Kind::Issuance, 3, Some((0, 112, 10)), None, 10),
        (Kind::Issuance, 4, Some((0, 150, 5)), Some((0, 25)), 10),
        (Kind::Issuance, 5, Some((0, 160, 5)), Some((0, 25)), 10),
        (Kind::Issuance, 6, Some((1, 100, 9)), None, 10),
        (Kind::Issuance, 7, Some((1, 105, 9)), None, 10),
        (Kind::Credit, 8, Some((2, 1, 0)), None, 1),
        (Kind::Credit, 9, Some((2, 2, 0)), None, 1),
        (Kind::Credit, 10, Some((2, 7, 0)), None, 1),
    ];
    let in_memory = judge(WithinFile::default(), &rows);
    let on_disk = judge(WithinFile::new(Box::new(DiskIndex::create().expect("scratch index"))), &rows);
    assert_eq!(on_disk, in_memory);
    let details: Vec<String> =
        on_disk.0.iter().filter_map(|v| v.as_ref().err()).map(|(r, d)| format!("{r}: {d}")).collect();
    assert_eq!(
        details,
        [
            "duplicate: issuance \"id-1\" already appears on line 2",
            "overlapping_range: range 105–115 overlaps the range 100–109 on line 2",
            "overlapping_range: range 112–122 overlaps the quarantined or noted ranges 105–115",
            "exceeds_vintage_total: blocks of this vintage reach 30 > total 25",
        ]
    );
    assert_eq!(on_disk.1.len(), 1, "{:?}", on_disk.1);
    assert_eq!(on_disk.1[0].code, "cdm_range_overlap");
    assert_eq!(on_disk.2.map(|n| n.detail).as_deref(), Some("no credit between 2 and 7"));
}

/// The groups a [`NameIndex`] gives after `names` were added: (country, pairs).
fn groups<N: NameIndex>(mut index: N, names: &[(u8, u8, u8, u8)]) -> Vec<(String, Vec<(String, String)>)>
where
    N::Error: std::fmt::Debug,
{
    let text =
        |prefix: &str, i: u8| format!("{prefix}{}", ["", "é", "Z", "a"][usize::from(i) % 4].repeat(usize::from(i)));
    for &(key, country, registry, project) in names {
        index.add(&text("k", key), &text("C", country), &text("r", registry), &text("p", project)).expect("index");
    }
    let mut out = Vec::new();
    index.groups(&mut |country, ids| out.push((country.to_string(), ids.to_vec()))).expect("index");
    out
}

/// The unknown retirements a [`LedgerIndex`] finds, sorted.
fn unknown<L: LedgerIndex>(
    mut index: L,
    serials: &[(bool, u64)],
    retirements: &[(bool, u8, u64)],
) -> Vec<(String, String)>
where
    L::Error: std::fmt::Debug,
{
    let registry = |b: bool| if b { "climate-refarm" } else { "other" };
    for &(r, start) in serials {
        index.serial(registry(r), start).expect("index");
    }
    for &(r, id, start) in retirements {
        index.retirement(registry(r), &format!("ret-{id}"), start).expect("index");
    }
    let mut out = Vec::new();
    index.unknown_retirements(&mut |r, id| out.push((r.to_string(), id.to_string()))).expect("index");
    out.sort();
    out
}

fn serial() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..40, (u64::MAX - 5)..=u64::MAX]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn the_disk_index_groups_names_as_the_memory_index_does(
        names in prop::collection::vec((0u8..6, 0u8..3, 0u8..4, 0u8..8), 0..60),
    ) {
        let on_disk = groups(DiskIndex::create().expect("scratch index"), &names);
        prop_assert_eq!(on_disk, groups(MemoryNames::default(), &names));
    }

    #[test]
    fn the_disk_index_finds_the_unknown_retirements_the_memory_index_finds(
        serials in prop::collection::vec((any::<bool>(), serial()), 0..60),
        retirements in prop::collection::vec((any::<bool>(), 0u8..20, serial()), 0..30),
    ) {
        let on_disk = unknown(DiskIndex::create().expect("scratch index"), &serials, &retirements);
        prop_assert_eq!(on_disk, unknown(MemoryLedger::default(), &serials, &retirements));
    }
}
