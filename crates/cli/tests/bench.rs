//! `furrow bench` end to end in its `--smoke` mode (seconds): the table and the JSON have the
//! shape that later runs are compared by, and the generated dataset passes `furrow verify`. The
//! numbers themselves are not checked: speed goals live in the bench's output, never in timed
//! tests.

use std::process::Command;

fn furrow() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_furrow"));
    command
        .env_remove("FURROW_LOG_SIGNING_KEY")
        .env_remove("FURROW_DATA_DIR")
        .env_remove("FURROW_DATABASE_URL")
        .env_remove("FURROW_BENCH_DATABASE_URL");
    command
}

#[test]
fn smoke_bench_prints_the_table_and_writes_the_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("bench.json");
    let output = furrow()
        .args(["bench", "--smoke", "--dir"])
        .arg(dir.path())
        .arg("--json")
        .arg(&json)
        .arg("--datasets")
        .arg(dir.path().join("datasets"))
        .output()
        .expect("furrow runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    for heading in
        ["Machine:", "Disk:", "Build:", "Baselines", "Furrow", "Ratios", "64 clients ÷ F", "log on ÷ log off"]
    {
        assert!(stdout.contains(heading), "no {heading:?} in:\n{stdout}");
    }
    if cfg!(debug_assertions) {
        assert!(stdout.contains("DEBUG build"), "a debug build says its numbers are not comparable:\n{stdout}");
    }

    let body: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).expect("valid JSON");
    assert_eq!(body["format"], "furrow-bench/1");
    assert_eq!(body["mode"], "smoke");
    assert_eq!(body["rounds"], 3);
    assert!(body["machine"]["cores"].as_u64().is_some_and(|c| c >= 1));
    for metric in [
        "fsync",
        "sqlite_1",
        "sqlite_1000",
        "sha256",
        "static_status",
        "ops_1_client",
        "ops_64_clients",
        "ops_256_clients",
        "ops_hot_account",
        "ops_zipf",
        "ops_log_off",
        "ops_keyed",
        "inclusion_p99_small_us",
        "inclusion_p99_big_us",
        "lookup_p99_big_us",
        "raw_lookup_p99_big_us",
        "ops_http_64_clients",
        "verify_small_entries_per_s",
        "page_status",
    ] {
        let m = &body["metrics"][metric];
        assert_eq!(m["values"].as_array().map(Vec::len), Some(3), "{metric}: one value per round: {m}");
        let (min, median, max) = (m["min"].as_f64(), m["median"].as_f64(), m["max"].as_f64());
        assert!(
            matches!((min, median, max), (Some(a), Some(b), Some(c)) if a <= b && b <= c && a > 0.0),
            "{metric}: {m}"
        );
    }
    for metric in ["open_loop_p50_ms", "open_loop_p99_ms", "open_loop_p999_ms", "verify_big_entries_per_s"] {
        assert!(body["metrics"][metric]["median"].as_f64().is_some_and(|v| v > 0.0), "{metric}");
    }
    let p50 = body["metrics"]["open_loop_p50_ms"]["median"].as_f64().unwrap_or(f64::NAN);
    let p999 = body["metrics"]["open_loop_p999_ms"]["median"].as_f64().unwrap_or(f64::NAN);
    assert!(p50 <= p999, "percentiles are ordered: p50 {p50}, p99.9 {p999}");
    for ratio in [
        "clients_64_over_fsync",
        "hot_over_uniform",
        "log_on_over_off",
        "inclusion_big_over_small",
        "lookup_over_raw",
        "http_over_in_process",
    ] {
        let r = &body["ratios"][ratio];
        assert_eq!(r["values"].as_array().map(Vec::len), Some(3), "{ratio}: {r}");
        assert!(r["met"].is_boolean(), "{ratio} has a goal: {r}");
    }
    let keyed = &body["ratios"]["keyed_over_unkeyed"];
    assert_eq!(keyed["values"].as_array().map(Vec::len), Some(3), "reported every round: {keyed}");
    assert!(body["ratios"]["postgres_over_pgbench"]["median"].is_null(), "no PostgreSQL was given");
    assert!(body["datasets"]["big"]["log_size"].as_u64().is_some_and(|n| n > 500));
    // The scratch directory is gone afterwards; the datasets are kept for the next run.
    let mut left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    left.sort();
    assert_eq!(left, ["bench.json", "datasets"]);
    let kept = std::fs::read_dir(dir.path().join("datasets")).expect("datasets").flatten().count();
    assert_eq!(kept, 2, "the small and the big dataset");
}

#[test]
fn generated_dataset_is_deterministic_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dumps = Vec::new();
    for name in ["a", "b"] {
        let out = dir.path().join(name);
        let output = furrow()
            .args(["bench", "generate", "--seed", "7", "--entries", "2000", "--out"])
            .arg(&out)
            .output()
            .expect("furrow runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("bench-dataset.json")).expect("meta written"))
                .expect("meta");
        assert!(meta["log_size"].as_u64().is_some_and(|n| n >= 1500), "{meta}");
        let verify = furrow()
            .args(["verify", "--data-dir"])
            .arg(&out)
            .args(["--key", meta["vkey"].as_str().expect("vkey")])
            .arg("--witness")
            .arg(out.join("witness"))
            .output()
            .expect("verify runs");
        assert!(
            verify.status.success(),
            "{}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
        let mut meta = meta;
        meta["seconds"] = serde_json::Value::Null;
        dumps.push(meta);
    }
    assert_eq!(dumps[0], dumps[1], "the same seed makes the same dataset");
    // Refuses to overwrite a registry.
    let again = furrow()
        .args(["bench", "generate", "--seed", "7", "--entries", "2000", "--out"])
        .arg(dir.path().join("a"))
        .output()
        .expect("furrow runs");
    assert!(!again.status.success());
}
