//! `furrow verify` end to end, with the real binary: a fresh registry verifies; a live demo server
//! verifies through its API; a tampered database does not.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{database_flags, furrow, line_after, serve_and_open_accounts};

#[test]
fn a_fresh_registry_verifies_and_a_tampered_one_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("registry");
    let witness = dir.path().join("witness");
    let init = furrow().args(["init", "--data-dir"]).arg(&data).output().expect("init runs");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));

    let verify = || {
        furrow().args(["verify", "--data-dir"]).arg(&data).arg("--witness").arg(&witness).output().expect("verify runs")
    };
    let clean = verify();
    assert!(
        clean.status.success(),
        "{}{}",
        String::from_utf8_lossy(&clean.stdout),
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("OK: nothing found"));

    // Change one byte of the first log entry behind the registry's back.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", data.join("furrow.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::query("UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'Furrow', 'Burrow') AS BLOB) WHERE idx = 0")
            .execute(&mut db)
            .await
            .expect("tamper");
    });
    let tampered = verify();
    let stderr = String::from_utf8_lossy(&tampered.stderr);
    assert_eq!(tampered.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("leaf hash does not match"), "{stderr}");
}

#[test]
fn a_live_demo_verifies_through_its_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut demo = furrow()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = demo.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    let mut key = None;
    for line in lines.by_ref().take(30) {
        let line = line.expect("line");
        if url.is_none() {
            url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_owned);
        }
        if let Some(k) = line.split('\'').nth(1).filter(|_| line.contains("furrow verify")) {
            key = Some(k.to_owned());
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    let (url, key) = (url.expect("the demo prints its URL"), key.expect("the demo prints its key"));
    // The checkpointer publishes within about a second of the last commit.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let verify = furrow()
        .args(["verify", "--url", &url, "--key", &key, "--witness"])
        .arg(dir.path().join("witness"))
        .output()
        .expect("verify runs");
    // A retirement certificate verifies offline, and an edited one does not.
    let certificate: serde_json::Value =
        reqwest_blocking_json(&format!("{url}/api/v1/retirements/R000001/certificate"));
    let cert_file = dir.path().join("certificate.json");
    std::fs::write(&cert_file, certificate.to_string()).expect("write");
    let check_certificate =
        || furrow().args(["verify", "--key", &key, "--certificate"]).arg(&cert_file).output().expect("verify runs");
    let good = check_certificate();
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("OK: retirement R000001"));
    let mut edited = certificate.clone();
    edited["retirement"]["beneficiary"]["name"] = "Someone Else Inc.".into();
    std::fs::write(&cert_file, edited.to_string()).expect("write");
    let bad = check_certificate();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("beneficiary"), "{}", String::from_utf8_lossy(&bad.stderr));
    for (field, value) in [("retired_at", "2020-01-01T00:00:00Z"), ("account", "A000009")] {
        let mut edited = certificate.clone();
        edited["retirement"][field] = value.into();
        std::fs::write(&cert_file, edited.to_string()).expect("write");
        assert_eq!(check_certificate().status.code(), Some(1), "an edited {field} must not verify");
    }
    let mut edited = certificate.clone();
    edited["retirement"]["beneficiary"]["country"] = "US".into();
    std::fs::write(&cert_file, edited.to_string()).expect("write");
    assert_eq!(check_certificate().status.code(), Some(1), "an edited beneficiary country must not verify");

    // The one-file bundle, extracted, verifies offline too.
    let tar_file = dir.path().join("log.tar");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let tar_bytes = runtime.block_on(async {
        reqwest::get(format!("{url}/api/v1/log/bundle.tar")).await.expect("GET").bytes().await.expect("body")
    });
    std::fs::write(&tar_file, &tar_bytes).expect("write");
    let extracted = dir.path().join("extracted");
    std::fs::create_dir_all(&extracted).expect("mkdir");
    let untar = std::process::Command::new("tar").arg("-xf").arg(&tar_file).arg("-C").arg(&extracted).status();
    assert!(untar.expect("tar runs").success());
    let from_tar = furrow()
        .args(["verify", "--key", &key, "--bundle"])
        .arg(&extracted)
        .arg("--witness")
        .arg(dir.path().join("witness-tar"))
        .output()
        .expect("verify runs");
    assert!(
        from_tar.status.success(),
        "{}{}",
        String::from_utf8_lossy(&from_tar.stdout),
        String::from_utf8_lossy(&from_tar.stderr)
    );

    let mirror_dir = dir.path().join("mirror");
    let mirror = furrow().args(["mirror", "--url", &url, "--out"]).arg(&mirror_dir).output().expect("mirror runs");
    let _ = demo.kill();
    let _ = demo.wait();
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{stdout}{}", String::from_utf8_lossy(&verify.stderr));
    assert!(stdout.contains("proofs: the server's inclusion and consistency proofs verify"), "{stdout}");
    // The demo runs the real lifecycle: six verified reports on the four engines, five issued by two operators each.
    assert!(stdout.contains("quantifications: 6 frozen results recompute from their recorded inputs"), "{stdout}");
    assert!(stdout.contains("stored checkpoints are validly signed and match the log"), "{stdout}");
    assert!(mirror.status.success(), "{}", String::from_utf8_lossy(&mirror.stderr));

    // The mirror verifies offline, with the server gone; a flipped byte in an entry does not.
    let offline = || {
        furrow()
            .args(["verify", "--key", &key, "--bundle"])
            .arg(&mirror_dir)
            .arg("--witness")
            .arg(dir.path().join("witness-offline"))
            .output()
            .expect("verify runs")
    };
    let clean = offline();
    assert!(
        clean.status.success(),
        "{}{}",
        String::from_utf8_lossy(&clean.stdout),
        String::from_utf8_lossy(&clean.stderr)
    );
    let bundle =
        std::fs::read_dir(mirror_dir.join("tile/entries")).expect("entry bundles").next().expect("one").expect("entry");
    let path = if bundle.path().is_dir() {
        std::fs::read_dir(bundle.path()).expect("dir").next().expect("one").expect("entry").path()
    } else {
        bundle.path()
    };
    let mut data = std::fs::read(&path).expect("read");
    let last = data.len() - 1;
    data[last] ^= 0x01;
    std::fs::write(&path, data).expect("write");
    let tampered = offline();
    assert_eq!(tampered.status.code(), Some(1), "{}", String::from_utf8_lossy(&tampered.stdout));
}

/// Whoever started the demo may stop reading its banner (`furrow demo | head`): the server keeps
/// serving. Its stdout here is a pipe whose reading end is closed before the demo prints a line.
#[test]
fn a_demo_whose_banner_nobody_reads_keeps_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut demo = furrow()
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path().join("demo"))
        .stdout(writer)
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let url = format!("http://127.0.0.1:{port}/api/v1/status");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        assert!(demo.try_wait().expect("wait").is_none(), "the demo stopped when its stdout closed");
        let answer = std::panic::catch_unwind(|| reqwest_blocking_json(&url));
        match answer {
            Ok(status) if status["log_size"].as_u64() > Some(100) => break status,
            _ => assert!(std::time::Instant::now() < deadline, "the demo never served its seeded program"),
        }
    };
    assert!(status["program"].is_object(), "{status}");
    demo.kill().expect("kill");
    demo.wait().expect("wait");
}

fn reqwest_blocking_json(url: &str) -> serde_json::Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        reqwest::get(url).await.expect("GET").error_for_status().expect("200").json().await.expect("json")
    })
}

/// After `furrow key rotate`, checkpoints are signed with the new key, and a verifier that pinned
/// the old key trusts the new one because its announcement is covered by an old-key checkpoint.
#[test]
fn a_rotated_key_is_trusted_through_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("registry");
    let init = furrow().args(["init", "--data-dir"]).arg(&data).output().expect("init");
    assert!(init.status.success());
    let old_key = line_after(&init.stdout, "Publish the verifier key");
    let rotate = || furrow().args(["key", "rotate", "--data-dir"]).arg(&data).output().expect("rotate");
    // Four-eyes: the key rotates only once one admin asked and another approved.
    let refused = rotate();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a rotation nobody approved must be refused");
    assert!(stderr.contains("POST /api/v1/log/key-rotations"), "the refusal says what to do: {stderr}");
    approve_a_key_rotation(&database_flags(&data, None));
    let rotate = rotate();
    assert!(rotate.status.success(), "{}", String::from_utf8_lossy(&rotate.stderr));
    let new_key = line_after(&rotate.stdout, "New verifier key");
    assert_ne!(old_key, new_key);

    // Serve with the new key and make one change, so the latest checkpoint is signed by it.
    serve_and_open_accounts(&database_flags(&data, None), &["Rotation test buyer"]);

    let verify = |key: &str, witness: &str| {
        furrow()
            .args(["verify", "--key", key, "--data-dir"])
            .arg(&data)
            .arg("--witness")
            .arg(dir.path().join(witness))
            .output()
            .expect("verify")
    };
    let with_old = verify(&old_key, "w-old");
    let stdout = String::from_utf8_lossy(&with_old.stdout);
    assert!(with_old.status.success(), "{stdout}{}", String::from_utf8_lossy(&with_old.stderr));
    assert!(stdout.contains("key: rotated at entry 4"), "{stdout}");
    let with_new = verify(&new_key, "w-new");
    assert!(with_new.status.success(), "{}", String::from_utf8_lossy(&with_new.stderr));
    // A key that never signed anything verifies nothing.
    let stranger = "agr.furrow/log+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let with_stranger = verify(stranger, "w-stranger");
    assert_eq!(with_stranger.status.code(), Some(1));
}

/// One admin requests a key rotation over the API and another approves it.
fn approve_a_key_rotation(flags: &[std::ffi::OsString]) {
    let admin_a = common::token(flags, "admin", Some("admin a"));
    let admin_b = common::token(flags, "admin", Some("admin b"));
    let server = common::Server::start(flags);
    common::block_on(async {
        let client = reqwest::Client::new();
        let post = |path: &str, token: &str, body: serde_json::Value| {
            client.post(format!("{}/api/v1{path}", server.url)).bearer_auth(token).json(&body).send()
        };
        let requested = post("/log/key-rotations", &admin_a, serde_json::json!({"reason": "yearly"})).await;
        let requested: serde_json::Value = requested.expect("POST").json().await.expect("json");
        let approve = format!("/log/key-rotations/{}/approve", requested["id"].as_str().expect("id"));
        let approved = post(&approve, &admin_b, serde_json::json!({})).await.expect("POST");
        assert_eq!(approved.status().as_u16(), 201);
    });
}
