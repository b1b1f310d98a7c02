//! A quick, honest throughput probe until `furrow bench` exists (issue #11): durable retirements
//! per second through the real sequencer on SQLite, at 1 and 64 closed-loop clients, next to the
//! disk's fsync rate measured in the same run on the same directory.
//!
//!     cargo run --release -p furrow-app --example quick_bench -- [DIR] [SECONDS]

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_app::{Principal, Registry, SequencerOptions};
use furrow_domain::sim::genesis;
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;

fn fsync_rate(dir: &std::path::Path, seconds: f64) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("probe file");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        file.write_all(&[0u8; 4096]).expect("write");
        file.sync_data().expect("fsync");
        n += 1;
    }
    let _ = std::fs::remove_file(path);
    n as f64 / start.elapsed().as_secs_f64()
}

async fn retire_rate(dir: &std::path::Path, round: u32, clients: u64, seconds: f64) -> f64 {
    let db = dir.join(format!("bench-{clients}-round{round}.db"));
    // QUICK_BENCH_SYNC=normal shows how much of the cost is fsync (NORMAL is not durable).
    let durability = match std::env::var("QUICK_BENCH_SYNC").as_deref() {
        Ok("normal") => furrow_store_sqlite::Durability::Normal,
        _ => furrow_store_sqlite::Durability::Full,
    };
    let store = Arc::new(SqliteStore::open_with(&db, durability).await.expect("open"));
    let registry = Registry::start(store, SequencerOptions::default()).await.expect("start");
    let operator = Principal { subject: "bench".into(), role: Role::Operator, accounts: vec![] };
    registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
    let open = Command::OpenAccount { kind: AccountKind::Buyer, name: "Bench buyer".into() };
    let Event::AccountOpened { account } =
        registry.execute(&operator, open, None).await.expect("open").entries[0].event.clone()
    else {
        unreachable!()
    };
    let issue = IssueCommand {
        project: ProjectCode(1),
        country: None,
        vintage: Vintage::new(2025).expect("year"),
        quantity: Quantity(100_000_000),
        buffer: Quantity(0),
        to: account.id,
        labels: vec![],
    };
    registry.execute(&Principal::system(), Command::Issue(issue), None).await.expect("issue");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (registry, operator) = (registry.clone(), operator.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let claim = furrow_domain::sim::claim(0);
                let selection = Selection::Quantity { quantity: Quantity(1), batch: None };
                let command = Command::Retire { from: account.id, selection, claim };
                registry.execute(&operator, command, None).await.expect("retire");
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(std::path::PathBuf::from).unwrap_or_else(|| std::env::current_dir().expect("cwd"));
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let scratch = tempfile::tempdir_in(&dir).expect("scratch dir");
    for round in 1..=3 {
        let fsync = fsync_rate(scratch.path(), 2.0);
        let one = retire_rate(scratch.path(), round, 1, seconds).await;
        let many = retire_rate(scratch.path(), round, 64, seconds).await;
        println!(
            "round {round}: fsync {fsync:.0}/s | 1 client {one:.0} retire/s ({:.2}x fsync) | 64 clients {many:.0} retire/s ({:.1}x fsync)",
            one / fsync,
            many / fsync
        );
    }
}
