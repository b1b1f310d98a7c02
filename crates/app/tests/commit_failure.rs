//! When a group commit fails, every caller in the group hears 503, nothing of the group is in the
//! database, and the sequencer reloads its state so the next command decides against the truth.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use furrow_app::store::*;
use furrow_app::{AppError, Principal, Registry, SequencerOptions};
use furrow_domain::sim::genesis;
use furrow_domain::*;
use furrow_store_sqlite::SqliteStore;

/// The real SQLite store, with a switch that makes `commit` fail like a full disk would.
struct FailingStore {
    inner: SqliteStore,
    fail_commits: AtomicBool,
}

#[async_trait]
impl Store for FailingStore {
    async fn load_ledger(&self) -> Result<Ledger, StoreError> {
        self.inner.load_ledger().await
    }
    async fn log_size(&self) -> Result<u64, StoreError> {
        self.inner.log_size().await
    }
    async fn commit(&self, group: &CommitGroup) -> Result<(), StoreError> {
        if self.fail_commits.load(Ordering::SeqCst) {
            return Err(StoreError::Other("disk I/O error (injected)".into()));
        }
        self.inner.commit(group).await
    }
    async fn find_idempotent(&self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.find_idempotent(scope, key).await
    }
    async fn insert_token(&self, token: &TokenRecord) -> Result<u64, StoreError> {
        self.inner.insert_token(token).await
    }
    async fn find_token(&self, hash: &[u8; 32]) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.find_token(hash).await
    }
    async fn program(&self) -> Result<Option<Program>, StoreError> {
        self.inner.program().await
    }
    async fn totals(&self) -> Result<Totals, StoreError> {
        self.inner.totals().await
    }
    async fn accounts(&self, page: Page) -> Result<Vec<Account>, StoreError> {
        self.inner.accounts(page).await
    }
    async fn account(&self, id: AccountId) -> Result<Option<(Account, Balances)>, StoreError> {
        self.inner.account(id).await
    }
    async fn batches(&self, page: Page) -> Result<Vec<(Batch, Balances)>, StoreError> {
        self.inner.batches(page).await
    }
    async fn batch(&self, id: BatchId) -> Result<Option<(Batch, Balances)>, StoreError> {
        self.inner.batch(id).await
    }
    async fn blocks(&self, filter: BlockFilter, page: Page) -> Result<Vec<Block>, StoreError> {
        self.inner.blocks(filter, page).await
    }
    async fn block_at(&self, serial: u64) -> Result<Option<Block>, StoreError> {
        self.inner.block_at(serial).await
    }
    async fn serial_history(
        &self,
        batch: BatchId,
        start: u64,
        end: u64,
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        self.inner.serial_history(batch, start, end, limit).await
    }
    async fn retirements(&self, page: Page) -> Result<Vec<Retirement>, StoreError> {
        self.inner.retirements(page).await
    }
    async fn retirement(&self, id: RetirementId) -> Result<Option<Retirement>, StoreError> {
        self.inner.retirement(id).await
    }
    async fn cancellations(&self, page: Page) -> Result<Vec<Cancellation>, StoreError> {
        self.inner.cancellations(page).await
    }
    async fn cancellation(&self, id: CancellationId) -> Result<Option<Cancellation>, StoreError> {
        self.inner.cancellation(id).await
    }
    async fn log_entries(&self, page: Page) -> Result<Vec<LogRow>, StoreError> {
        self.inner.log_entries(page).await
    }
    async fn leaf_hashes(&self, from: u64, limit: u32) -> Result<Vec<[u8; 32]>, StoreError> {
        self.inner.leaf_hashes(from, limit).await
    }
    async fn tree_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        self.inner.tree_hashes(indexes).await
    }
    async fn extend_tree(&self, first: u64, hashes: &[[u8; 32]], checkpoint: &CheckpointRow) -> Result<(), StoreError> {
        self.inner.extend_tree(first, hashes, checkpoint).await
    }
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.latest_checkpoint().await
    }
    async fn checkpoint_at_least(&self, size: u64) -> Result<Option<CheckpointRow>, StoreError> {
        self.inner.checkpoint_at_least(size).await
    }
    async fn entry_with_leaf_hash(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.inner.entry_with_leaf_hash(leaf_hash).await
    }
    async fn checkpoints(&self, after: Option<u64>, limit: u32) -> Result<Vec<CheckpointRow>, StoreError> {
        self.inner.checkpoints(after, limit).await
    }
    async fn tree_hash_count(&self) -> Result<u64, StoreError> {
        self.inner.tree_hash_count().await
    }
}

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
    let inner = SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open");
    let store = Arc::new(FailingStore { inner, fail_commits: AtomicBool::new(false) });
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
    registry.execute(&operator, Command::Issue(issue), None).await.expect("issue");
    let before = store.load_ledger().await.expect("load");
    let log_before = store.log_size().await.expect("size");

    store.fail_commits.store(true, Ordering::SeqCst);
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
    store.fail_commits.store(false, Ordering::SeqCst);
    let committed = registry.execute(&operator, retire(buyer, 100), None).await.expect("all 100 are still there");
    assert_eq!(committed.entries[0].index, log_before, "the log continues without a gap");
    let after = store.load_ledger().await.expect("load");
    assert_eq!(after.balance(buyer, BlockState::Tradable), Quantity(0));
    furrow_domain::invariants::check(&after).expect("invariants");
}
