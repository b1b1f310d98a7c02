//! The database's projection equals the pure model after every command, on every backend; a
//! refused command leaves the database untouched; the log replays to the same state; and the same
//! commands produce byte-identical logs and the same tree root on SQLite and PostgreSQL, and on the
//! in-memory store and SQLite.

use std::sync::Arc;

use furrow_app::AppError;
use furrow_app::store::Page;
use furrow_domain::invariants::{check, check_transition};
use furrow_domain::sim::arbitrary_program_command;
use furrow_domain::*;
use furrow_testkit::Backend;
use proptest::prelude::*;

use furrow_app::simulation::SimClock;

use crate::support::{acting, replay_log, start, start_with_clock};

type Steps = Vec<[u64; 6]>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// One command at a time, comparing the whole stored state with the model after each.
fn commands_one_by_one(backend: Backend, steps: Steps) {
    runtime().block_on(async move {
        let Some(fixture) = start(backend).await else { return };
        let (store, registry) = (&fixture.store, &fixture.registry);
        let mut model = store.load_ledger().await.expect("load");
        for numbers in steps {
            let command = arbitrary_program_command(&model, numbers);
            let before = model.clone();
            let result = registry.execute(&acting(&command), command.clone(), None).await;
            let in_db = store.load_ledger().await.expect("load");
            match result {
                Ok(committed) => {
                    for entry in &committed.entries {
                        model.apply(&entry.event, entry.timestamp);
                    }
                    assert_eq!(in_db, model, "{backend}: database differs from the model after {command:?}");
                }
                Err(AppError::Domain(_) | AppError::Forbidden(_)) => {
                    assert_eq!(in_db, before, "{backend}: a refused {} left a trace", command.name())
                }
                Err(e) => panic!("{backend}: unexpected failure: {e}"),
            }
            check(&in_db).unwrap_or_else(|v| panic!("{backend}: after {command:?}: {v:?}"));
            check_transition(&before, &in_db).unwrap_or_else(|v| panic!("{backend}: after {command:?}: {v:?}"));
        }
        assert_eq!(replay_log(store.as_ref()).await, model, "{backend}: replaying the log gives another state");
    });
}

/// Rounds of commands submitted at once, so they share group commits: blocks created and split
/// again inside one group must reach the database exactly as the model has them.
fn commands_in_groups(backend: Backend, rounds: Vec<Steps>) {
    runtime().block_on(async move {
        let Some(fixture) = start(backend).await else { return };
        let (store, registry) = (&fixture.store, &fixture.registry);
        let mut model = store.load_ledger().await.expect("load");
        for round in rounds {
            let before = model.clone();
            let tasks: Vec<_> = round
                .into_iter()
                .map(|numbers| {
                    let registry = registry.clone();
                    let command = arbitrary_program_command(&before, numbers);
                    tokio::spawn(async move { registry.execute(&acting(&command), command, None).await })
                })
                .collect();
            let mut entries = Vec::new();
            for task in tasks {
                match task.await.expect("task") {
                    Ok(committed) => entries.extend(committed.entries),
                    Err(AppError::Domain(_) | AppError::Forbidden(_)) => {}
                    Err(other) => panic!("{backend}: a command failed for a reason other than the rules: {other}"),
                }
            }
            // The sequencer's order is the log's order.
            entries.sort_by_key(|e| e.index);
            for entry in &entries {
                model.apply(&entry.event, entry.timestamp);
            }
            let in_db = store.load_ledger().await.expect("load");
            assert_eq!(in_db, model, "{backend}: database differs from the model after a grouped round");
            check(&in_db).unwrap_or_else(|v| panic!("{backend}: {v:?}"));
            check_transition(&before, &in_db).unwrap_or_else(|v| panic!("{backend}: {v:?}"));
        }
        assert_eq!(replay_log(store.as_ref()).await, model);
    });
}

fn steps() -> impl Strategy<Value = Steps> {
    prop::collection::vec(any::<[u64; 6]>(), 1..60)
}

fn rounds() -> impl Strategy<Value = Vec<Steps>> {
    prop::collection::vec(prop::collection::vec(any::<[u64; 6]>(), 1..24), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn one_by_one_in_memory(steps in steps()) { commands_one_by_one(Backend::Memory, steps) }

    #[test]
    fn one_by_one_on_sqlite(steps in steps()) { commands_one_by_one(Backend::Sqlite, steps) }

    #[test]
    fn one_by_one_on_postgres(steps in steps()) { commands_one_by_one(Backend::Postgres, steps) }

    #[test]
    fn in_groups_in_memory(rounds in rounds()) { commands_in_groups(Backend::Memory, rounds) }

    #[test]
    fn in_groups_on_sqlite(rounds in rounds()) { commands_in_groups(Backend::Sqlite, rounds) }

    #[test]
    fn in_groups_on_postgres(rounds in rounds()) { commands_in_groups(Backend::Postgres, rounds) }
}

/// 64 clients retire from one account at once; what was retired is exactly what left it.
async fn concurrent_retirements_conserve_credits(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let buyer = fixture.open_buyer("Buyer").await;
    fixture.issue(buyer, 1000).await;
    let principal = furrow_app::Principal {
        subject: "buyer".into(),
        role: Role::Buyer,
        accounts: vec![buyer],
        proof: furrow_app::Proof::Token,
    };
    // 64 clients each retire 3, 5 or 7 credits at once, 5 times: 1000 credits cannot cover all.
    let mut tasks = Vec::new();
    for client in 0..64u64 {
        let (registry, principal) = (fixture.registry.clone(), principal.clone());
        tasks.push(tokio::spawn(async move {
            let mut retired = 0;
            for _ in 0..5 {
                let quantity = 3 + 2 * (client % 3);
                let selection = Selection::Quantity { quantity: Quantity(quantity), batch: None };
                let command = Command::Retire { from: buyer, selection, claim: sim::claim(0) };
                match registry.execute(&principal, command, None).await {
                    Ok(_) => retired += quantity,
                    Err(AppError::Domain(DomainError::InsufficientCredits { .. })) => {}
                    Err(e) => panic!("unexpected failure: {e}"),
                }
            }
            retired
        }));
    }
    let mut retired = 0;
    for task in tasks {
        retired += task.await.expect("task");
    }
    let store = fixture.store.as_ref();
    let (_, balances) = store.account(buyer).await.expect("read").expect("exists");
    assert_eq!(balances.tradable + retired, 1000, "holdings changed by exactly what was retired");
    assert_eq!(store.totals().await.expect("totals").supply.retired, retired);
    assert!(retired > 900, "nearly everything should be retired, got {retired}");
    let ledger = store.load_ledger().await.expect("load");
    check(&ledger).expect("invariants");
    assert_eq!(replay_log(store).await, ledger);
}
crate::on_every_backend!(concurrent_retirements, super::concurrent_retirements_conserve_credits);

/// The same commands with the same clock give the same log entries, byte for byte, and the same
/// Merkle root, whichever database stores them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_write_identical_logs() {
    let mut logs = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(fixture) = start_with_clock(backend, Arc::new(SimClock::default())).await else { return };
        fixture.run_seeded_commands(0x5eed, 2500).await;
        let rows = fixture.store.log_entries(Page { after: None, limit: 10_000 }).await.expect("log");
        let mut tree = furrow_tlog::tree::MemoryTree::new();
        for row in &rows {
            tree.append(row.leaf_hash).expect("append");
        }
        logs.push((rows, tree.root().expect("root")));
    }
    let [(sqlite_rows, sqlite_root), (postgres_rows, postgres_root)] = <[_; 2]>::try_from(logs).expect("two logs");
    assert!(sqlite_rows.len() > 150, "the run should append many entries, got {}", sqlite_rows.len());
    for kind in ["enrolled", "parcel_registered", "report_changed", "issuance_approved", "cancelled"] {
        assert!(sqlite_rows.iter().any(|r| r.kind == kind), "the run should log {kind} entries");
    }
    assert_eq!(sqlite_rows, postgres_rows, "log entries differ between SQLite and PostgreSQL");
    assert_eq!(sqlite_root, postgres_root);
}

/// The in-memory store the simulator runs on keeps what SQLite keeps: the same commands with the
/// same clock give the same log, byte for byte, the same projection and the same totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_sqlite_write_identical_logs_and_projections() {
    let mut runs = Vec::new();
    for backend in [Backend::Memory, Backend::Sqlite] {
        let fixture = start_with_clock(backend, Arc::new(SimClock::default())).await.expect("no server needed");
        let model = fixture.run_seeded_commands(0x5eed, 1500).await;
        let rows = fixture.store.log_entries(Page { after: None, limit: 10_000 }).await.expect("log");
        let loaded = fixture.store.load_ledger().await.expect("load");
        assert_eq!(loaded, model, "{backend}: the stored projection differs from the model");
        runs.push((rows, loaded, fixture.store.totals().await.expect("totals")));
    }
    let [(memory_rows, memory_ledger, memory_totals), (sqlite_rows, sqlite_ledger, sqlite_totals)] =
        <[_; 2]>::try_from(runs).expect("two runs");
    assert!(memory_rows.len() > 100, "the run should append many entries, got {}", memory_rows.len());
    assert_eq!(memory_rows, sqlite_rows, "log entries differ between the memory store and SQLite");
    assert_eq!(memory_ledger, sqlite_ledger);
    assert_eq!(memory_totals, sqlite_totals);
}
