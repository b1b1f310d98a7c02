//! Shared setup: a registry on a fresh store of one backend, and replaying a store's log.

use std::sync::Arc;

use furrow_app::store::{Page, Store};
use furrow_app::{Clock, Principal, Registry, SequencerOptions};
use furrow_domain::sim::genesis;
use furrow_domain::{
    AccountId, AccountKind, Command, Event, IssueCommand, Ledger, LogEntry, ProjectCode, Quantity, Role, Vintage,
};
use furrow_testkit::{Backend, TestStore, fresh_store};

pub struct Fixture {
    pub registry: Registry,
    pub store: Arc<dyn Store>,
    /// Keeps the database alive for as long as the fixture.
    _test_store: TestStore,
}

pub fn operator() -> Principal {
    Principal { subject: "operator".into(), role: Role::Operator, accounts: vec![] }
}

/// The principal a simulated command runs as (its acting user, or the operator).
pub fn acting(command: &Command) -> Principal {
    let (subject, role) = furrow_domain::sim::actor(command);
    Principal { subject, role, accounts: vec![] }
}

/// A registry with the program initialised, on a fresh store; `None` when the backend is not
/// available here (outside CI).
pub async fn start(backend: Backend) -> Option<Fixture> {
    start_with_clock(backend, Arc::new(furrow_app::SystemClock)).await
}

pub async fn start_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> Option<Fixture> {
    let test_store = fresh_store(backend).await?;
    let store = test_store.store.clone();
    let registry =
        Registry::start_with_clock(store.clone(), clock, SequencerOptions { check_invariants: true, log: None })
            .await
            .expect("start");
    registry.execute(&Principal::system(), genesis(), None).await.expect("genesis");
    Some(Fixture { registry, store, _test_store: test_store })
}

impl Fixture {
    pub async fn open_buyer(&self, name: &str) -> AccountId {
        let command = Command::OpenAccount { kind: AccountKind::Buyer, name: name.into() };
        let committed = self.registry.execute(&operator(), command, None).await.expect("open account");
        let Event::AccountOpened { account } = &committed.entries[0].event else { panic!("unexpected event") };
        account.id
    }

    pub async fn issue(&self, to: AccountId, quantity: u64) {
        let issue = IssueCommand {
            project: ProjectCode(1),
            country: None,
            vintage: Vintage::new(2025).expect("year"),
            quantity: Quantity(quantity),
            buffer: Quantity(0),
            to,
            labels: vec![],
        };
        self.registry.execute(&Principal::system(), Command::Issue(issue), None).await.expect("issue");
    }
}

impl Fixture {
    /// Runs `count` arbitrary commands (valid and invalid) from a fixed seed as the operator, and
    /// returns the model the committed ones built.
    pub async fn run_seeded_commands(&self, seed: u64, count: usize) -> Ledger {
        let mut model = self.store.load_ledger().await.expect("load");
        let mut rng = seed;
        for _ in 0..count {
            let numbers = std::array::from_fn(|_| {
                rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                rng >> 11
            });
            let command = furrow_domain::sim::arbitrary_program_command(&model, numbers);
            if let Ok(committed) = self.registry.execute(&acting(&command), command, None).await {
                for entry in &committed.entries {
                    model.apply(&entry.event, entry.timestamp);
                }
            }
        }
        model
    }
}

/// Rebuilds the state from the stored log alone, checking every leaf hash on the way.
pub async fn replay_log(store: &dyn Store) -> Ledger {
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
