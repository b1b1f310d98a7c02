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
    let (_dir, store, registry, operator, buyer) = buyer_with_100().await;
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

/// The registry, its faulty store and a buyer holding 100 credits.
async fn buyer_with_100() -> (tempfile::TempDir, Arc<FaultyStore>, Registry, Principal, AccountId) {
    let dir = tempfile::tempdir().expect("temp dir");
    let inner = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let store = Arc::new(FaultyStore::new(inner, 0));
    let registry =
        Registry::start(store.clone(), SequencerOptions { check_invariants: true, log: None }).await.expect("start");
    let operator = Principal {
        subject: "operator".into(),
        role: Role::Operator,
        accounts: vec![],
        proof: furrow_app::Proof::Token,
    };
    registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
    let opened =
        registry.execute(&operator, Command::OpenAccount { kind: AccountKind::Buyer, name: "B".into() }, None).await;
    let Event::AccountOpened { account } = &opened.expect("open").entries[0].event else { panic!("unexpected event") };
    let issue = IssueCommand {
        project: ProjectCode(1),
        country: None,
        vintage: Vintage::new(2025).expect("year"),
        quantity: Quantity(100),
        buffer: Quantity(0),
        to: account.id,
        labels: vec![],
    };
    registry.execute(&Principal::system(), Command::Issue(issue), None).await.expect("issue");
    (dir, store, registry, operator, account.id)
}

/// Waits until the sequencer has handed a group to the (held) store.
async fn until_a_commit_is_held(store: &FaultyStore) {
    for _ in 0..1000 {
        if store.holding() > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    panic!("no commit reached the store");
}

/// The sequencer decides the next group while the previous one commits. If that commit fails,
/// the next group was decided against a state the database does not have: it must not be
/// written, and its callers (a command that would have succeeded, and one refused only because
/// of the failed group) hear 503 rather than a success or a 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_during_a_failed_commit_fails_with_it() {
    let (_dir, store, registry, operator, buyer) = buyer_with_100().await;
    let before = store.load_ledger().await.expect("load");
    let log_before = store.log_size().await.expect("size");

    // Only the first group's commit fails (the fault is drawn when a commit reaches the store).
    store.arm(1.0, Faults::Clean);
    store.hold();
    let first = {
        let (registry, operator) = (registry.clone(), operator.clone());
        tokio::spawn(async move { registry.execute(&operator, retire(buyer, 60), None).await })
    };
    until_a_commit_is_held(&store).await;
    store.disarm();
    // Decided while the first group is in flight: 30 of the 40 left fit, 50 do not.
    let later: Vec<_> = [30, 50]
        .into_iter()
        .map(|quantity| {
            let (registry, operator) = (registry.clone(), operator.clone());
            tokio::spawn(async move { registry.execute(&operator, retire(buyer, quantity), None).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    store.release();
    for task in std::iter::once(first).chain(later) {
        match task.await.expect("task") {
            Err(AppError::Unavailable(_)) => {}
            other => panic!("expected 503-style unavailability, got {other:?}"),
        }
    }
    assert_eq!(store.load_ledger().await.expect("load"), before, "a failed group left a trace");
    assert_eq!(store.log_size().await.expect("size"), log_before);
    let committed = registry.execute(&operator, retire(buyer, 100), None).await.expect("all 100 are still there");
    assert_eq!(committed.entries[0].index, log_before, "the log continues without a gap");
}

/// A request repeated with its idempotency key while the first is still being committed is
/// answered with the first one's result, not applied a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_repeated_during_its_commit_is_applied_once() {
    let (_dir, store, registry, operator, buyer) = buyer_with_100().await;
    let log_before = store.log_size().await.expect("size");
    let key =
        furrow_app::RequestKey::new("operator", "retire-once", "POST", "/api/v1/retirements", b"{}").expect("key");

    store.hold();
    let first = {
        let (registry, operator, key) = (registry.clone(), operator.clone(), key.clone());
        tokio::spawn(async move { registry.execute(&operator, retire(buyer, 10), Some(key)).await })
    };
    until_a_commit_is_held(&store).await;
    let again = {
        let (registry, operator, key) = (registry.clone(), operator.clone(), key.clone());
        tokio::spawn(async move { registry.execute(&operator, retire(buyer, 10), Some(key)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    store.release();
    let first = first.await.expect("task").expect("first");
    let again = again.await.expect("task").expect("repeat");
    assert_eq!(first.entries, again.entries, "the repeat returns the first result");
    assert_eq!(store.log_size().await.expect("size"), log_before + 1, "retired once");
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after.balance(buyer, BlockState::Tradable), Quantity(90));
}

/// A keyed command's key is looked up once, by its caller: the sequencer knows the keys committed
/// since the caller looked, from memory. A repeat whose (slow) lookup read before the first
/// request committed still gets the first result, not a second retirement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_committed_after_its_repeat_looked_is_applied_once_without_a_second_lookup() {
    let (_dir, store, registry, operator, buyer) = buyer_with_100().await;
    let log_before = store.log_size().await.expect("size");
    let key =
        furrow_app::RequestKey::new("operator", "retire-late", "POST", "/api/v1/retirements", b"{}").expect("key");

    let again = retire_10_with_a_slow_lookup(&store, &registry, &operator, buyer, &key).await;
    let first = registry.execute(&operator, retire(buyer, 10), Some(key)).await.expect("first");
    assert_eq!(store.key_lookups(), 2, "the sequencer checked the first request's key from memory");
    store.release_key_lookup();
    let again = again.await.expect("task").expect("repeat");
    assert!(again.replayed, "the repeat is a replay");
    assert_eq!(first.entries, again.entries, "the repeat returns the first result");
    assert_eq!(store.key_lookups(), 2, "and was checked from memory too");
    assert_eq!(store.log_size().await.expect("size"), log_before + 1, "retired once");
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after.balance(buyer, BlockState::Tradable), Quantity(90));
}

/// A commit that fails after writing (the connection died before the reply) leaves its key in the
/// database but not in the sequencer's memory of recent keys. A repeat that looked its key up
/// before that commit must not be judged by that memory: it is checked against the database and
/// answered with the first result, not retired a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_that_looked_before_an_ambiguous_commit_is_checked_against_the_database() {
    let (_dir, store, registry, operator, buyer) = buyer_with_100().await;
    let log_before = store.log_size().await.expect("size");
    let key =
        furrow_app::RequestKey::new("operator", "retire-lost", "POST", "/api/v1/retirements", b"{}").expect("key");

    let again = retire_10_with_a_slow_lookup(&store, &registry, &operator, buyer, &key).await;
    store.arm(1.0, Faults::Ambiguous);
    match registry.execute(&operator, retire(buyer, 10), Some(key)).await {
        Err(AppError::Unavailable(_)) => {}
        other => panic!("expected the injected failure, got {other:?}"),
    }
    store.disarm();
    assert_eq!(store.log_size().await.expect("size"), log_before + 1, "the failed commit was written");
    store.release_key_lookup();
    let again = again.await.expect("task").expect("repeat");
    assert!(again.replayed, "the repeat is answered with the written result");
    assert_eq!(store.log_size().await.expect("size"), log_before + 1, "retired once");
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after.balance(buyer, BlockState::Tradable), Quantity(90));
}

/// Starts retiring 10 credits with `key`, its key lookup held once it has read (and found
/// nothing): a slow read whose answer is out of date by the time it arrives. Returns when the
/// lookup has read; it goes on at `release_key_lookup`.
async fn retire_10_with_a_slow_lookup(
    store: &FaultyStore,
    registry: &Registry,
    operator: &Principal,
    buyer: AccountId,
    key: &furrow_app::RequestKey,
) -> tokio::task::JoinHandle<Result<furrow_app::Committed, AppError>> {
    store.hold_next_key_lookup();
    let repeat = {
        let (registry, operator, key) = (registry.clone(), operator.clone(), key.clone());
        tokio::spawn(async move { registry.execute(&operator, retire(buyer, 10), Some(key)).await })
    };
    for _ in 0..1000 {
        if store.key_lookups() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert_eq!(store.key_lookups(), 1, "the repeat has looked (and found nothing yet)");
    repeat
}
