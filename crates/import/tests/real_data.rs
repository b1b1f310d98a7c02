//! Every file in `../shared/data/real/` (read in place, never copied): it imports, its counts match
//! `SOURCES.md`, and the anomalies listed there are caught.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use furrow_import::checks::{self, OwnProject};
use furrow_import::{FileError, Kind, ParsedFile, Reason, Record, parse_file};

fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("data directory").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() { files(&p, out) } else { out.push(p) }
    }
}

struct All {
    parsed: BTreeMap<String, ParsedFile>,
    skipped: BTreeMap<String, String>,
}

fn parse_all() -> &'static All {
    static ALL: std::sync::OnceLock<All> = std::sync::OnceLock::new();
    ALL.get_or_init(read_all)
}

fn read_all() -> All {
    let root = data_root();
    let sums = furrow_import::parse_sha256sums(&std::fs::read_to_string(root.join("SHA256SUMS")).expect("SHA256SUMS"));
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let mut all = All { parsed: BTreeMap::new(), skipped: BTreeMap::new() };
    for p in paths {
        let rel = p.strip_prefix(&root).expect("under root").to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(&p).expect("readable");
        if let Some(sum) = sums.get(&rel) {
            assert_eq!(&furrow_import::file_sha256(&bytes), sum, "{rel} differs from SHA256SUMS");
        } else {
            assert!(rel == "SHA256SUMS" || rel == "SOURCES.md", "{rel} is not listed in SHA256SUMS");
        }
        match parse_file(&rel, &bytes, None) {
            Ok(f) => {
                all.parsed.insert(rel, f);
            }
            Err(FileError::NotData(why)) => {
                all.skipped.insert(rel, why);
            }
            Err(e) => panic!("{rel}: {e}"),
        }
    }
    all
}

fn summary(f: &ParsedFile) -> String {
    let q: Vec<String> = f.quarantined_by_reason().iter().map(|(r, n)| format!("{r}={n}")).collect();
    let n: Vec<String> = f.notes_by_code().iter().map(|(c, k)| format!("{c}={k}")).collect();
    format!(
        "{:<40} rows {:>6} imported {:>6} quarantined {:>3} [{}] notes [{}]",
        f.layout.name(),
        f.rows,
        f.records.len(),
        f.quarantined.len(),
        q.join(" "),
        n.join(" ")
    )
}

/// (file, layout, rows, imported, quarantined) as SOURCES.md counts them.
const EXPECTED: &[(&str, &str, u64, usize, usize)] = &[
    ("carbonplan-offsetsdb-fixtures/american-carbon-registry/cancellations.csv", "acr/cancellations", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/american-carbon-registry/issuances.csv", "acr/issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/american-carbon-registry/projects.csv", "acr/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/american-carbon-registry/retirements.csv", "acr/retirements", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/arb/nc-arboc_issuance_sheet3.csv", "carb/arb-offset-issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/art-trees/cancellations.csv", "art-trees/cancellations", 3, 3, 0),
    ("carbonplan-offsetsdb-fixtures/art-trees/issuances.csv", "art-trees/issuances", 11, 11, 0),
    ("carbonplan-offsetsdb-fixtures/art-trees/projects.csv", "art-trees/projects", 28, 28, 0),
    ("carbonplan-offsetsdb-fixtures/art-trees/retirements.csv", "art-trees/retirements", 8, 8, 0),
    ("carbonplan-offsetsdb-fixtures/cercarbono/issuances.csv", "cercarbono/issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/cercarbono/projects.csv", "cercarbono/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/cercarbono/retirements.csv", "cercarbono/retirements", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/climate-action-reserve/cancellations.csv", "car/cancellations", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/climate-action-reserve/issuances.csv", "car/issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/climate-action-reserve/projects.csv", "car/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/climate-action-reserve/retirements.csv", "car/retirements", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/gold-standard/issuances.csv", "gold-standard/issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/gold-standard/projects.csv", "gold-standard/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/gold-standard/retirements.csv", "gold-standard/retirements", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/isometric/issuances.csv", "isometric/issuances", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/isometric/projects.csv", "isometric/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/isometric/retirements.csv", "isometric/retirements", 100, 100, 0),
    ("carbonplan-offsetsdb-fixtures/verra/projects.csv", "verra/projects", 50, 50, 0),
    ("carbonplan-offsetsdb-fixtures/verra/transactions.csv", "verra/vcu-blocks", 200, 200, 0),
    (
        "climate-refarm-ledger/ledger/climate_offset_portfolio/retirements/202309.csv",
        "climate-refarm/portfolio-retirements",
        110,
        110,
        0,
    ),
    ("climate-refarm-ledger/ledger/climate_offset_portfolio/summary.json", "climate-refarm/portfolio-summary", 1, 1, 0),
    ("climate-refarm-ledger/ledger/main.csv", "climate-refarm/ledger", 110, 110, 0),
    ("climate-refarm-ledger/projects/PR00001/monitoring.csv", "climate-refarm/monitoring", 1, 1, 0),
    ("climate-refarm-ledger/projects/PR00002/monitoring.csv", "climate-refarm/monitoring", 1, 1, 0),
    ("verra-toucan-tokenized-2022/tokenized_carbon.csv", "verra/toucan-tokenized-blocks", 803, 803, 0),
    ("verra-vcus-au-sg/vcus.csv", "verra/vcu-blocks", 731, 731, 0),
    ("verra-vcus-au-sg/vcus_singapore.csv", "verra/vcu-blocks", 92, 92, 0),
    ("vrod-2025-12-projects/vrod-2025-12-projects.csv", "vrod-2025-12/projects", 10975, 10960, 15),
    ("vrod-v3-2021-hyperledger/ACR_issuances.csv", "vrod-v3/acr-issuances", 1053, 1053, 0),
    ("vrod-v3-2021-hyperledger/ACR_retirements.csv", "vrod-v3/acr-retirements", 2637, 2637, 0),
    ("vrod-v3-2021-hyperledger/CAR_issuances.csv", "vrod-v3/car-issuances", 2864, 2864, 0),
    ("vrod-v3-2021-hyperledger/CAR_retirements.csv", "vrod-v3/car-retirements", 5351, 5351, 0),
    ("vrod-v3-2021-hyperledger/GOLD_issuances.csv", "vrod-v3/gold-standard-issuances", 8083, 8081, 2),
    ("vrod-v3-2021-hyperledger/VCS_issuances.csv", "vrod-v3/verra-issuances", 6750, 6750, 0),
    ("vrod-v3-2021-hyperledger/projects.csv", "vrod-v3/projects", 5805, 5801, 4),
];

#[test]
fn every_real_file_imports_with_the_counts_of_sources_md() {
    let all = parse_all();
    let mut report = String::new();
    for (name, f) in &all.parsed {
        report.push_str(&format!("{name}\n    {}\n", summary(f)));
        for q in f.quarantined.iter().take(20) {
            report.push_str(&format!("    Q line {} {} {}\n", q.line, q.reason, q.detail));
        }
    }
    println!("{report}");
    let got: Vec<(String, String, u64, usize, usize)> = all
        .parsed
        .iter()
        .map(|(n, f)| (n.clone(), f.layout.name().to_string(), f.rows, f.records.len(), f.quarantined.len()))
        .collect();
    let want: Vec<(String, String, u64, usize, usize)> =
        EXPECTED.iter().map(|(n, l, r, i, q)| (n.to_string(), l.to_string(), *r, *i, *q)).collect();
    assert_eq!(got, want);
    let skipped: Vec<&str> = all.skipped.keys().map(String::as_str).collect();
    assert_eq!(
        skipped,
        [
            "SHA256SUMS",
            "SOURCES.md",
            "carbonplan-offsetsdb-fixtures/TERMS_OF_DATA_ACCESS",
            "vrod-2025-12-projects/Voluntary-Registry-Offsets-Database--v2025-12-year-end.parquet"
        ]
    );
}

fn quarantined<'a>(all: &'a All, file: &str) -> Vec<(Reason, &'a str)> {
    all.parsed[file].quarantined.iter().map(|q| (q.reason, q.raw.as_str())).collect()
}

#[test]
fn the_anomalies_listed_in_sources_md_are_caught() {
    let all = parse_all();
    // §A.1 and §A.2: the Gold Standard quantity that disagrees with its range, and the repeated CDM range.
    let gs = quarantined(all, "vrod-v3-2021-hyperledger/GOLD_issuances.csv");
    assert!(
        gs.iter().any(|(r, raw)| *r == Reason::QuantityMismatch && raw.contains("GS1-1-CM-GS1064-16-2012-1253-1-3150"))
    );
    assert!(gs.iter().any(|(r, raw)| *r == Reason::Duplicate && raw.contains("IN-5-218396528-2-2-0-8288")));
    // §A.5: forward vintages are allowed for PERs and long forestry monitoring periods, and noted.
    let notes = all.parsed["vrod-v3-2021-hyperledger/GOLD_issuances.csv"].notes_by_code();
    assert_eq!(notes.get("forward_vintage"), Some(&673));
    // §A.6: three projects retired more than issued; CAR659's remaining-by-vintage does not add up.
    let v3 = quarantined(all, "vrod-v3-2021-hyperledger/projects.csv");
    for id in ["GS2951", "VCS144", "VCS67"] {
        assert!(
            v3.iter().any(|(r, raw)| *r == Reason::RetiredExceedsIssued && raw.contains(&format!("\"{id}\""))),
            "{id}"
        );
    }
    assert!(v3.iter().any(|(r, raw)| *r == Reason::RollupMismatch && raw.contains("\"CAR659\"")));
    let notes = all.parsed["vrod-v3-2021-hyperledger/projects.csv"].notes_by_code();
    assert_eq!(notes.get("negative_yearly_cell"), Some(&43));
    // §E.3–5: fifteen projects retired more than issued; six pooled-buffer reversals; 52 negative cells.
    let v25 = quarantined(all, "vrod-2025-12-projects/vrod-2025-12-projects.csv");
    for id in [
        "ACR212", "ACR272", "ACR420", "ACR425", "CAR660", "CAR1013", "CAR1035", "CAR1123", "GS440", "GS2913", "GS2951",
        "GS3007", "GS3039", "VCS67", "VCS144",
    ] {
        assert!(
            v25.iter().any(|(r, raw)| *r == Reason::RetiredExceedsIssued && raw.contains(&format!("\"{id}\""))),
            "{id}"
        );
    }
    let notes = all.parsed["vrod-2025-12-projects/vrod-2025-12-projects.csv"].notes_by_code();
    assert_eq!(notes.get("pooled_buffer_covered_reversal"), Some(&6));
    assert_eq!(notes.get("negative_yearly_cell"), Some(&52));
}

fn all_records(all: &All) -> Vec<Record> {
    all.parsed.values().flat_map(|f| f.records.iter().cloned()).collect()
}

#[test]
fn cross_file_checks_flag_what_sources_md_reports() {
    let all = parse_all();
    let records = all_records(all);
    let flags = checks::across(&checks::compact(records), &[]);
    let mut by_code: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &flags {
        *by_code.entry(f.code).or_default() += 1;
    }
    println!("{by_code:?}");
    for f in flags.iter().filter(|f| f.code != "project_in_two_registries").take(40) {
        println!("{} {} {}", f.code, f.subject, f.detail);
    }
    // §F.4: Climate Refarm's PR00002 holds 20 credits against 19 issued / 19.6 t monitored.
    assert!(flags.iter().any(|f| f.code == "credits_exceed_monitoring" && f.subject == "climate-refarm:PR00002"));
    assert!(!flags.iter().any(|f| f.code == "credits_exceed_monitoring" && f.subject == "climate-refarm:PR00001"));
    // §F.3 and the summary: every portfolio serial is in the ledger, 110 in all.
    assert!(!flags.iter().any(|f| f.code == "portfolio_serial_unknown" || f.code == "summary_mismatch"));
    // §A.3: ACR and CAR retired ≤ issued per (project, vintage): 0 violations.
    assert!(!flags.iter().any(|f| f.code == "retired_exceeds_issued"), "{flags:#?}");
    // §D.3: with the origin-registry token in the namespace, Verra blocks never overlap.
    assert!(!flags.iter().any(|f| f.code == "serial_in_two_registries"));
    // Gold Standard's transcriptions of CDM CER ranges overlap once (an offset of 10 in GS8288's ranges).
    let overlaps: Vec<&str> = flags.iter().filter(|f| f.code == "range_overlap").map(|f| f.subject.as_str()).collect();
    assert_eq!(overlaps, ["CDM-IN 218396754–218397095"]);
    // CARB lists ACR and CAR projects under its own ids: a project in two registries.
    assert!(
        flags
            .iter()
            .any(|f| f.code == "project_in_two_registries" && f.subject.starts_with("carb:CAOD1007 = acr:ACR1007"))
    );
}

#[test]
fn numeric_verra_serials_alone_would_overlap() {
    // §D.3: 20 numerically overlapping pairs in the Toucan set, none once keyed on the origin token.
    let all = parse_all();
    let f = &all.parsed["verra-toucan-tokenized-2022/tokenized_carbon.csv"];
    let mut ranges: Vec<(u64, u64)> =
        f.records.iter().filter_map(|r| r.range.as_ref()).map(|r| (r.start, r.end)).collect();
    ranges.sort();
    let mut pairs = 0;
    for (i, a) in ranges.iter().enumerate() {
        pairs += ranges[i + 1..].iter().take_while(|b| b.0 <= a.1).count();
    }
    assert_eq!(pairs, 20);
}

#[test]
fn an_own_project_that_resembles_an_imported_one_is_flagged() {
    let all = parse_all();
    let records = all_records(all);
    let isometric = records
        .iter()
        .find(|r| {
            r.registry == "isometric" && r.kind == Kind::Project && r.latitude.is_some() && r.period_start.is_some()
        })
        .expect("an Isometric project with a location and a crediting period");
    let year: i32 = isometric.period_start.as_deref().and_then(|d| d[..4].parse().ok()).expect("year");
    let own = OwnProject {
        code: "P0001".into(),
        country: isometric.country.clone(),
        methodology: isometric.methodology.clone(),
        first_year: Some(year),
        last_year: Some(year),
        latitude: isometric.latitude.map(|l| l + 0.05),
        longitude: isometric.longitude,
    };
    let compact = checks::compact(records.iter().cloned());
    let flags = checks::across(&compact, std::slice::from_ref(&own));
    let subject = format!("own:P0001 ~ isometric:{}", isometric.origin_id);
    assert!(flags.iter().any(|f| f.code == "own_project_resembles_external" && f.subject == subject), "{subject}");
    // Far away: not flagged.
    let far = OwnProject { latitude: own.latitude.map(|l| l + 1.0), ..own };
    let flags = checks::across(&compact, &[far]);
    assert!(!flags.iter().any(|f| f.subject == subject));
}
