//! The application on the real SQLite store: random command sequences go through the sequencer,
//! and after every step the database's projection equals the pure model and satisfies the
//! invariants; a refused command leaves the database untouched; the log replays to the same state.

use std::sync::Arc;

use furrow_app::store::{Page, Store};
use furrow_app::{Principal, Registry, SequencerOptions};
use furrow_domain::invariants::{check, check_transition};
use furrow_domain::sim::{arbitrary_command, genesis};
use furrow_domain::{Ledger, LogEntry};
use furrow_store_sqlite::SqliteStore;
use proptest::prelude::*;

async fn fresh() -> (tempfile::TempDir, Arc<SqliteStore>, Registry) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let registry =
        Registry::start(store.clone(), SequencerOptions { check_invariants: true, log: None }).await.expect("start");
    (dir, store, registry)
}

async fn replay_log(store: &SqliteStore) -> Ledger {
    let mut ledger = Ledger::new();
    let mut after = None;
    loop {
        let rows = store.log_entries(Page { after, limit: 500 }).await.expect("log");
        let Some(last) = rows.last() else {
            return ledger;
        };
        after = Some(last.index);
        for row in &rows {
            assert_eq!(row.leaf_hash, furrow_tlog::leaf_hash(&row.bytes), "leaf hash of entry {}", row.index);
            let entry = LogEntry::decode(&row.bytes).expect("decodes");
            assert_eq!(entry.index, row.index);
            ledger.apply(&entry.event, entry.timestamp);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_the_model_after_every_command(steps in prop::collection::vec(any::<[u64; 6]>(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let (_dir, store, registry) = fresh().await;
            let operator = Principal { subject: "operator".into(), role: furrow_domain::Role::Operator, accounts: vec![] };
            registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
            let mut model = store.load_ledger().await.expect("load");
            for numbers in steps {
                let command = arbitrary_command(&model, numbers);
                let before = model.clone();
                let result = registry.execute(&operator, command.clone(), None).await;
                if let Err(e) = &result {
                    assert!(matches!(e, furrow_app::AppError::Domain(_)), "unexpected failure: {e}");
                }
                let in_db = store.load_ledger().await.expect("load");
                match result {
                    Ok(committed) => {
                        for entry in &committed.entries {
                            model.apply(&entry.event, entry.timestamp);
                        }
                        assert_eq!(in_db, model, "database differs from the model after {command:?}");
                    }
                    Err(_) => assert_eq!(in_db, before, "a refused {} left a trace", command.name()),
                }
                check(&in_db).unwrap_or_else(|v| panic!("after {command:?}: {v:?}"));
                check_transition(&before, &in_db).unwrap_or_else(|v| panic!("after {command:?}: {v:?}"));
            }
            assert_eq!(replay_log(&store).await, model, "replaying the log gives another state");
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Rounds of commands submitted at once, so they share group commits: blocks created and split
    /// again inside one group must reach the database exactly as the model has them.
    #[test]
    fn grouped_commits_match_the_model(rounds in prop::collection::vec(prop::collection::vec(any::<[u64; 6]>(), 1..24), 1..12)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let (_dir, store, registry) = fresh().await;
            let operator = Principal { subject: "operator".into(), role: furrow_domain::Role::Operator, accounts: vec![] };
            registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
            let mut model = store.load_ledger().await.expect("load");
            for round in rounds {
                let before = model.clone();
                let tasks: Vec<_> = round
                    .into_iter()
                    .map(|numbers| {
                        let (registry, operator) = (registry.clone(), operator.clone());
                        let command = arbitrary_command(&before, numbers);
                        tokio::spawn(async move { registry.execute(&operator, command, None).await })
                    })
                    .collect();
                let mut entries = Vec::new();
                for task in tasks {
                    match task.await.expect("task") {
                        Ok(committed) => entries.extend(committed.entries),
                        Err(furrow_app::AppError::Domain(_)) => {}
                        Err(other) => panic!("a command failed for a reason other than the rules: {other}"),
                    }
                }
                // The sequencer's order is the log's order.
                entries.sort_by_key(|e| e.index);
                for entry in &entries {
                    model.apply(&entry.event, entry.timestamp);
                }
                let in_db = store.load_ledger().await.expect("load");
                assert_eq!(in_db, model, "database differs from the model after a grouped round");
                check(&in_db).unwrap_or_else(|v| panic!("{v:?}"));
                check_transition(&before, &in_db).unwrap_or_else(|v| panic!("{v:?}"));
            }
            assert_eq!(replay_log(&store).await, model);
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retirements_from_one_account_conserve_credits() {
    use furrow_domain::*;
    let (_dir, store, registry) = fresh().await;
    let system = Principal::system();
    let operator = Principal { subject: "operator".into(), role: Role::Operator, accounts: vec![] };
    registry.execute(&system, genesis(), None).await.expect("genesis");
    let opened = registry
        .execute(&operator, Command::OpenAccount { kind: AccountKind::Buyer, name: "Buyer".into() }, None)
        .await
        .expect("open");
    let Event::AccountOpened { account } = &opened.entries[0].event else { panic!("unexpected event") };
    let buyer = account.id;
    let issue = IssueCommand {
        project: ProjectCode(1),
        country: None,
        vintage: Vintage::new(2025).expect("year"),
        quantity: Quantity(1000),
        buffer: Quantity(0),
        to: buyer,
        labels: vec![],
    };
    registry.execute(&operator, Command::Issue(issue), None).await.expect("issue");
    let buyer_token = Principal { subject: "buyer".into(), role: Role::Buyer, accounts: vec![buyer] };

    // 64 clients each retire 3, 5 or 7 credits at once, 5 times: 1000 credits cannot cover all.
    let mut tasks = Vec::new();
    for client in 0..64u64 {
        let registry = registry.clone();
        let principal = buyer_token.clone();
        tasks.push(tokio::spawn(async move {
            let mut retired = 0;
            for _ in 0..5 {
                let quantity = 3 + 2 * (client % 3);
                let claim = furrow_domain::sim::claim(0);
                let command = Command::Retire {
                    from: buyer,
                    selection: Selection::Quantity { quantity: Quantity(quantity), batch: None },
                    claim,
                };
                match registry.execute(&principal, command, None).await {
                    Ok(_) => retired += quantity,
                    Err(furrow_app::AppError::Domain(DomainError::InsufficientCredits { .. })) => {}
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
    let (_, balances) = store.account(buyer).await.expect("read").expect("exists");
    assert_eq!(balances.tradable + retired, 1000, "holdings changed by exactly what was retired");
    let totals = store.totals().await.expect("totals");
    assert_eq!(totals.supply.retired, retired);
    assert!(retired > 900, "nearly everything should be retired, got {retired}");
    let ledger = store.load_ledger().await.expect("load");
    check(&ledger).expect("invariants");
    assert_eq!(replay_log(&store).await, ledger);
}
