//! Settlement is one atomic commit: when the commit of the settling group fails, nothing of the
//! sale remains (no retirement, no settlement, no payouts; the credits stay escrowed), and a retry
//! after the disk recovers settles it exactly once. Sales state survives a restart, rebuilt from
//! the log like the rest of the lifecycle.

use std::sync::Arc;

use furrow_app::simulation::{Faults, FaultyStore};
use furrow_app::store::Store;
use furrow_app::{AppError, Principal, Registry, SequencerOptions};
use furrow_domain::lifecycle::LifecycleCommand;
use furrow_domain::sales::*;
use furrow_domain::sim::sales::{example_pricing, issued_batch_via};
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;

fn operator() -> Principal {
    Principal { subject: "operator-a".into(), role: Role::Operator, accounts: vec![], proof: furrow_app::Proof::Token }
}

async fn sales(registry: &Registry, command: SalesCommand) -> Result<Vec<Event>, AppError> {
    let committed = registry.execute(&operator(), Command::Sales { by: "operator-a".into(), command }, None).await?;
    Ok(committed.entries.into_iter().map(|e| e.event).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_settlement_leaves_nothing_of_the_sale_and_sales_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let store = Arc::new(FaultyStore::new(inner, 0));
    let options = || SequencerOptions { check_invariants: true, log: None };
    let registry = Registry::start(store.clone(), options()).await.expect("start");
    registry.execute(&Principal::system(), furrow_domain::sim::genesis(), None).await.expect("genesis");

    let handle = tokio::runtime::Handle::current();
    let r = registry.clone();
    let mut run = |by: &str, command: LifecycleCommand| -> Vec<Event> {
        let principal = Principal {
            subject: by.into(),
            role: furrow_domain::sim::role_of(by),
            accounts: vec![],
            proof: furrow_app::Proof::Token,
        };
        let command = Command::Lifecycle { by: by.into(), command };
        let committed =
            tokio::task::block_in_place(|| handle.block_on(r.execute(&principal, command, None))).expect("lifecycle");
        committed.entries.into_iter().map(|e| e.event).collect()
    };
    let (batch, _) = issued_batch_via(&mut run, true, 0, &[vec![Decimal::from(10)], vec![Decimal::from(30)]]);
    for fact in example_pricing(ProjectCode(1)) {
        sales(&registry, SalesCommand::RecordPricing { fact }).await.expect("pricing");
    }
    let opened = registry
        .execute(&operator(), Command::OpenAccount { kind: AccountKind::Buyer, name: "Kanto Rail".into() }, None)
        .await
        .expect("buyer");
    let Event::AccountOpened { account } = &opened.entries[0].event else { panic!("no account") };
    let quote = SalesCommand::CreateQuote {
        buyer: account.id,
        target: QuoteTarget::Batch(batch),
        quantity: Quantity(12),
        currency: Currency::Usd,
        valid_for_secs: 3600,
    };
    sales(&registry, quote).await.expect("quote");
    sales(&registry, SalesCommand::AcceptQuote { quote: QuoteId(1) }).await.expect("accept");

    let settle = || SalesCommand::Settle {
        sale: SaleId(1),
        claim: furrow_domain::sim::claim(2),
        payment_reference: "WIRE-1".into(),
        confidential: false,
    };
    let before = store.load_ledger().await.expect("load");
    let log_before = store.log_size().await.expect("size");
    store.arm(1.0, Faults::Clean);
    match sales(&registry, settle()).await {
        Err(AppError::Unavailable(_)) => {}
        other => panic!("expected the failed commit to answer unavailable, got {other:?}"),
    }
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after, before, "a failed settlement left a trace");
    assert_eq!(store.log_size().await.expect("size"), log_before);
    assert_eq!(after.retirements().count(), 0, "no retirement");
    let sale = &after.lifecycle().sales.sales[&SaleId(1)];
    assert_eq!((sale.status, sale.settlement.is_none()), (SaleStatus::Escrowed, true), "no settlement, no payouts");
    assert_eq!(after.balance(furrow_domain::ledger::ISSUANCE_ACCOUNT, BlockState::Escrowed), Quantity(12));

    store.disarm();
    let events = sales(&registry, settle()).await.expect("settled after the disk recovered");
    assert!(matches!(events.as_slice(), [Event::Retired { .. }, Event::Lifecycle(_)]), "{events:?}");
    let settled = store.load_ledger().await.expect("load");
    furrow_domain::invariants::check(&settled).expect("invariants");
    let settlement = settled.lifecycle().sales.sales[&SaleId(1)].settlement.clone().expect("settled");
    assert_eq!(settlement.paid_out() + settlement.commission.minor + settlement.forfeited(), settlement.gross.minor);

    // The state is a projection of the log: replaying every entry from scratch gives the same
    // ledger, sales included (what a restart and `furrow verify` do).
    let rows = store.log_entries(furrow_app::store::Page { after: None, limit: 10_000 }).await.expect("log");
    let mut replayed = Ledger::new();
    for row in rows {
        let entry = LogEntry::decode(&row.bytes).expect("entry");
        replayed.apply(&entry.event, entry.timestamp);
    }
    assert_eq!(replayed.lifecycle().sales, settled.lifecycle().sales);
    assert_eq!(replayed.blocks().collect::<Vec<_>>(), settled.blocks().collect::<Vec<_>>());
    furrow_domain::invariants::check(&replayed).expect("invariants after replay");
}
