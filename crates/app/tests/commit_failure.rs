//! When a group commit fails, every caller in the group hears 503, nothing of the group is in the
//! database, and the sequencer reloads its state so the next command decides against the truth.

use furrow_app::simulation::{Faults, FaultyStore};
use furrow_app::store::Store;
use furrow_app::{AppError, Principal, Registry, SequencerOptions};
use furrow_domain::sim::genesis;
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;
use std::sync::Arc;

fn retire(from: AccountId, quantity: u64) -> Command {
    Command::Retire {
        from,
        selection: Selection::Quantity { quantity: Quantity(quantity), batch: None },
        claim: furrow_domain::sim::claim(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_fails_the_whole_group_and_the_state_is_reloaded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inner = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let store = Arc::new(FaultyStore::new(inner, 0));
    let registry =
        Registry::start(store.clone(), SequencerOptions { check_invariants: true, log: None }).await.expect("start");
    let operator = Principal { subject: "operator".into(), role: Role::Operator, accounts: vec![] };
    registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
    let opened =
        registry.execute(&operator, Command::OpenAccount { kind: AccountKind::Buyer, name: "B".into() }, None).await;
    let Event::AccountOpened { account } = &opened.expect("open").entries[0].event else { panic!("unexpected event") };
    let buyer = account.id;
    let issue = IssueCommand {
        project: ProjectCode(1),
        country: None,
        vintage: Vintage::new(2025).expect("year"),
        quantity: Quantity(100),
        buffer: Quantity(0),
        to: buyer,
        labels: vec![],
    };
    registry.execute(&Principal::system(), Command::Issue(issue), None).await.expect("issue");
    let before = store.load_ledger().await.expect("load");
    let log_before = store.log_size().await.expect("size");

    store.arm(1.0, Faults::Clean); // like a full disk
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (registry, operator) = (registry.clone(), operator.clone());
            tokio::spawn(async move { registry.execute(&operator, retire(buyer, 10), None).await })
        })
        .collect();
    for task in tasks {
        match task.await.expect("task") {
            Err(AppError::Unavailable(_)) => {}
            other => panic!("expected 503-style unavailability, got {other:?}"),
        }
    }
    assert_eq!(store.load_ledger().await.expect("load"), before, "a failed group left a trace");
    assert_eq!(store.log_size().await.expect("size"), log_before);

    // The disk recovers: the sequencer decides against the database's state, not its own lost one.
    store.disarm();
    let committed = registry.execute(&operator, retire(buyer, 100), None).await.expect("all 100 are still there");
    assert_eq!(committed.entries[0].index, log_before, "the log continues without a gap");
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after.balance(buyer, BlockState::Tradable), Quantity(0));
    furrow_domain::invariants::check(&after).expect("invariants");
}
