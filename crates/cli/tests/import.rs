//! `furrow import` end to end, on the real files of `../shared/data/real/` (read in place): every
//! file imports with the counts of SOURCES.md, a second import changes nothing, the flags and the
//! quarantine can be listed, and unreadable input fails with a clear message.

mod common;

use common::furrow;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The `furrow` binary, without any environment that could change what it does.
fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/real")
}

fn run(args: &[&str], data: &Path) -> Output {
    furrow().args(args).arg("--data-dir").arg(data).output().expect("furrow runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn init(dir: &Path) -> PathBuf {
    let data = dir.join("registry");
    let o = run(&["init"], &data);
    assert!(o.status.success(), "{}", text(&o));
    data
}

fn file<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["files"].as_array().expect("files").iter().find(|f| f["file"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn the_real_exports_import_once_with_the_counts_of_sources_md() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = init(dir.path());
    let root = data_root();
    let report_path = dir.path().join("report.json");
    let o = furrow()
        .arg("import")
        .arg(&root)
        .arg("--data-dir")
        .arg(&data)
        .arg("--report")
        .arg(&report_path)
        .output()
        .expect("import");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Next steps:") && out.contains("furrow import --list flags"), "{out}");
    assert!(out.contains("credits_exceed_monitoring"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");

    // (file, rows, new, quarantined) — SOURCES.md's counts.
    for (name, rows, new, quarantined) in [
        ("vrod-v3-2021-hyperledger/GOLD_issuances.csv", 8083, 8081, 2),
        ("vrod-v3-2021-hyperledger/projects.csv", 5805, 5801, 4),
        ("vrod-v3-2021-hyperledger/ACR_retirements.csv", 2637, 2637, 0),
        ("vrod-v3-2021-hyperledger/CAR_retirements.csv", 5351, 5351, 0),
        ("vrod-2025-12-projects/vrod-2025-12-projects.csv", 10975, 10960, 15),
        ("verra-vcus-au-sg/vcus.csv", 731, 731, 0),
        ("verra-toucan-tokenized-2022/tokenized_carbon.csv", 803, 803, 0),
        ("climate-refarm-ledger/ledger/main.csv", 110, 110, 0),
        ("carbonplan-offsetsdb-fixtures/verra/transactions.csv", 200, 200, 0),
    ] {
        let f = file(&report, name);
        assert_eq!(
            (f["rows"].as_u64(), f["new"].as_u64(), f["quarantined"].as_u64()),
            (Some(rows), Some(new), Some(quarantined)),
            "{name}"
        );
    }
    let files = report["files"].as_array().expect("files");
    let skipped: Vec<&str> =
        files.iter().filter(|f| f["status"] == "skipped").filter_map(|f| f["file"].as_str()).collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert!(files.iter().all(|f| f["status"] != "failed"));
    let new: u64 = files.iter().filter_map(|f| f["new"].as_u64()).sum();
    let quarantined: u64 = files.iter().filter_map(|f| f["quarantined"].as_u64()).sum();
    assert_eq!((new, quarantined), (47_096, 21));
    let flags = report["flags"].as_array().expect("flags");
    assert!(flags.iter().any(|f| f["code"] == "credits_exceed_monitoring" && f["subject"] == "climate-refarm:PR00002"));
    assert!(flags.iter().any(|f| f["code"] == "project_in_two_registries"));

    // Again: nothing new, nothing removed, the same quarantine.
    let again = dir.path().join("again.json");
    let o = furrow()
        .arg("import")
        .arg(&root)
        .arg("--data-dir")
        .arg(&data)
        .arg("--report")
        .arg(&again)
        .output()
        .expect("import");
    assert!(o.status.success(), "{}", text(&o));
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&again).expect("report")).expect("JSON");
    for (a, b) in files.iter().zip(second["files"].as_array().expect("files")) {
        assert_eq!(b["new"].as_u64().unwrap_or(0), 0, "{}", b["file"]);
        assert_eq!(b["already_present"], a["new"], "{}", b["file"]);
        assert_eq!(b["quarantined"], a["quarantined"], "{}", b["file"]);
    }
    assert_eq!(second["flags_added"], 0);
    assert_eq!(second["flags_removed"], 0);
    assert_eq!(second["flags"], report["flags"]);

    // The operator's listings.
    let o = run(&["import", "--list", "flags"], &data);
    assert!(o.status.success() && text(&o).contains("climate-refarm:PR00002"), "{}", text(&o));
    let o = run(&["import", "--list", "quarantine"], &data);
    let listing = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(listing.lines().count(), 21, "{listing}");
    assert!(listing.contains("GOLD_issuances.csv:256\tquantity_mismatch"), "{listing}");
    let o = run(&["import", "--list", "sources"], &data);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 40);
}

#[test]
fn help_teaches_with_examples() {
    let o = furrow().args(["import", "--help"]).output().expect("help");
    let help = text(&o);
    assert!(o.status.success());
    for needle in [
        "Examples:",
        "furrow import ../shared/data/real --data-dir ./registry",
        "quarantined",
        "--registry",
        "--report",
        "Exit status",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn unreadable_files_and_wrong_checksums_fail_clearly_and_write_nothing_for_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = init(dir.path());
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, "what,is,this\n1,2,3\n").expect("write");
    let o = furrow().arg("import").arg(&garbage).arg("--data-dir").arg(&data).output().expect("import");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("matches no known export layout"), "{}", text(&o));

    // A directory whose SHA256SUMS disagrees with a file's bytes.
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).expect("mkdir");
    let ledger = std::fs::read(data_root().join("climate-refarm-ledger/ledger/main.csv")).expect("real file");
    std::fs::write(exports.join("main.csv"), &ledger).expect("write");
    std::fs::write(exports.join("SHA256SUMS"), format!("{}  ./main.csv\n", "0".repeat(64))).expect("write");
    let o = furrow().arg("import").arg(&exports).arg("--data-dir").arg(&data).output().expect("import");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("SHA-256 differs from SHA256SUMS"), "{}", text(&o));
    let o = run(&["import", "--list", "sources"], &data);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 0, "nothing was imported");

    // Without a temporary directory for the checks' scratch indexes, the file fails, clearly.
    let o = furrow()
        .arg("import")
        .arg(exports.join("main.csv"))
        .arg("--data-dir")
        .arg(&data)
        .env("TMPDIR", dir.path().join("gone"))
        .output()
        .expect("import");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cannot create a scratch directory"), "{}", text(&o));
    let o = run(&["import", "--list", "sources"], &data);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 0, "nothing was imported");

    // Without a registry there is nothing to import into.
    let o =
        furrow().arg("import").arg(&garbage).arg("--data-dir").arg(dir.path().join("none")).output().expect("import");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("furrow init"), "{}", text(&o));
}
