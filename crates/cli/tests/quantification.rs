//! Issue #6's end-to-end check with the real binary: the demo's drainage project (a dozen
//! parcels, monitoring data → verified report → frozen result → issuance) verifies; then one
//! stored monitoring input is changed in the database, and `furrow verify` fails naming the
//! report whose frozen result no longer recomputes.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::furrow;
use furrow_domain::lifecycle::{FieldValue, LifecycleEvent};
use furrow_domain::{Decimal, Event, LogEntry};
use sqlx::{Connection, Row};

#[test]
fn changing_one_stored_input_makes_verify_name_the_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("demo");
    let mut demo = furrow()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = demo.stdout.take().expect("stdout");
    let seeded = BufReader::new(stdout).lines().take(100).map_while(Result::ok).any(|l| l.contains("Press Ctrl-C"));
    let _ = demo.kill();
    let _ = demo.wait();
    assert!(seeded, "the demo seeds and serves");

    let verify = |witness: &str| {
        furrow().args(["verify", "--data-dir"]).arg(&data).arg("--witness").arg(dir.path().join(witness)).output()
    };
    let clean = verify("w1").expect("verify runs");
    let out = String::from_utf8_lossy(&clean.stdout).to_string();
    assert!(clean.status.success(), "{out}{}", String::from_utf8_lossy(&clean.stderr));
    assert!(out.contains("quantifications: 6 frozen results recompute from their recorded inputs"), "{out}");

    // The drafted report N000001 (twelve parcels, issued as the first batch): one parcel's daily
    // water-depth loss, rewritten in its stored log entry.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let url = format!("sqlite://{}", data.join("furrow.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        let rows =
            sqlx::query("SELECT idx, entry FROM log_entries ORDER BY idx").fetch_all(&mut db).await.expect("read");
        for row in rows {
            let (idx, bytes): (i64, Vec<u8>) = (row.get(0), row.get(1));
            let mut entry = LogEntry::decode(&bytes).expect("decodes");
            let Event::Lifecycle(LifecycleEvent::ReportDrafted { id, spec, .. }) = &mut entry.event else { continue };
            if id.to_string() != "N000001" {
                continue;
            }
            assert_eq!(spec.activity.len(), 12, "a dozen parcels");
            let value = spec.activity[3]
                .values
                .iter_mut()
                .find(|(name, _)| name == "daily_water_loss_mm")
                .map(|(_, v)| v)
                .expect("the AG-005 input");
            *value = FieldValue::Number(Decimal::new(55, 1));
            sqlx::query("UPDATE log_entries SET entry = ? WHERE idx = ?")
                .bind(entry.encode())
                .bind(idx)
                .execute(&mut db)
                .await
                .expect("tamper");
            return;
        }
        panic!("no drafted report N000001 in the log");
    });
    let tampered = verify("w2").expect("verify runs");
    let stderr = String::from_utf8_lossy(&tampered.stderr);
    assert_eq!(tampered.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("quantification: report N000001"), "the finding names the report: {stderr}");
    assert!(stderr.contains("differs from the recomputed one"), "{stderr}");
}
