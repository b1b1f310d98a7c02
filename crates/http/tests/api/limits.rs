//! Resource limits (issue #10): hostile requests are refused or cut off, with bounded memory, and
//! the server keeps answering everyone else. The server runs in this process, so its memory is
//! this process's resident set, which the tests read from /proc and print.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app};

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_100_mb_body_is_refused_without_being_buffered() {
    let app = spawn_app().await;
    let log_before = log_size(&app).await;
    let rss_before = resident_kib();
    let (mut reader, mut writer) = connect(&app).await.into_split();
    let head = format!(
        "POST /api/v1/transfers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.operator,
        100 * MIB
    );
    // The body streams from a task of its own; the answer is read while it is still sending.
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..(100 * MIB / chunk.len() as u64) {
            writer.write_all(&chunk).await?;
        }
        std::io::Result::Ok(())
    });
    let status_line = read_line(&mut reader).await;
    sender.abort();
    let grown = resident_kib().saturating_sub(rss_before);
    eprintln!("100 MB body: {status_line:?}; resident memory grew by {grown} KiB");
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    assert!(grown < 32 * 1024, "the server buffered the body: {grown} KiB");
    assert_eq!(log_size(&app).await, log_before);
}

#[tokio::test]
async fn ten_thousand_nested_json_levels_are_a_problem_not_a_stack_overflow() {
    let app = spawn_app().await;
    let log_before = log_size(&app).await;
    let rss_before = resident_kib();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for body in [deep.clone(), format!(r#"{{"from":{deep},"to":"A000001","quantity":1}}"#)] {
        let response = app.post_raw("/transfers", &app.operator, &body, None).await;
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
        assert!((400..500).contains(&status), "{status}");
        assert_eq!(content_type, "application/problem+json");
    }
    let grown = resident_kib().saturating_sub(rss_before);
    eprintln!("10 000 nested levels: resident memory grew by {grown} KiB");
    assert!(grown < 32 * 1024, "parsing nested JSON grew the server by {grown} KiB");
    assert_eq!(log_size(&app).await, log_before);
}

#[tokio::test]
async fn slow_loris_clients_are_cut_off_and_others_are_served_meanwhile() {
    let app = spawn_app().await;
    let rss_before = resident_kib();
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = connect(&app).await;
        stream.write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: test\r\n").await.expect("write");
        slow.push(stream);
    }
    // Every slow client dribbles one more header line a second, never finishing.
    let dribble = tokio::spawn(async move {
        let mut closed = 0;
        while closed < slow.len() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            closed = 0;
            for stream in &mut slow {
                if stream.write_all(b"X-Slow: 1\r\n").await.is_err() || peer_closed(stream).await {
                    closed += 1;
                }
            }
        }
        closed
    });
    let quick = Instant::now();
    let (status, _) = app.get("/status").await;
    assert_eq!(status, 200);
    let grown = resident_kib().saturating_sub(rss_before);
    eprintln!(
        "with 200 slow-loris connections open, a normal request took {:?}; resident memory grew by {grown} KiB",
        quick.elapsed()
    );
    assert!(quick.elapsed() < Duration::from_secs(5));
    // Each connection holds a task and its partly read headers: a few KiB, not a buffer per byte.
    assert!(grown < 32 * 1024, "200 slow connections grew the server by {grown} KiB");

    let closed = tokio::time::timeout(furrow_http::HEADER_READ_TIMEOUT * 3, dribble).await;
    let closed = closed.expect("the server never closed the slow connections").expect("task");
    eprintln!("all {closed} slow connections were closed after {:?}", started.elapsed());
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.url.trim_start_matches("http://").trim_end_matches("/api/v1");
    TcpStream::connect(address).await.expect("connect")
}

async fn read_line(reader: &mut tokio::net::tcp::OwnedReadHalf) -> String {
    let mut line = String::new();
    let mut reader = BufReader::new(reader);
    let read = reader.read_line(&mut line);
    tokio::time::timeout(Duration::from_secs(30), read).await.expect("an answer in time").expect("read");
    line.trim_end().to_owned()
}

/// Whether the server is done with the connection: a read returns at once, with the end of the
/// stream, an error, or its 408 response.
async fn peer_closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_millis(1), tokio::io::AsyncReadExt::read(stream, &mut buf)).await.is_ok()
}

async fn log_size(app: &TestApp) -> u64 {
    app.get_ok("/status").await["log_size"].as_u64().expect("log size")
}

/// This process's resident memory in KiB, from /proc (Linux).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
