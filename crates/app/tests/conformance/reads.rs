//! Every read of the `Store` trait agrees with the model, on every backend: totals, pages of
//! accounts, batches, blocks (with each filter), lookups by serial, serial history, retirements,
//! cancellations; and the other tables (tokens, idempotency, the Merkle tree and checkpoints)
//! return what was written.

use std::collections::BTreeMap;

use furrow_app::store::{
    Balances, BlockFilter, CheckpointRow, CommitGroup, IdempotencyRecord, Page, StoreError, TokenRecord,
};
use furrow_domain::invariants::supply_by_batch;
use furrow_domain::*;
use furrow_testkit::{Backend, fresh_store};

use crate::support::start;

/// Collects every page of a paginated read, `limit` items at a time.
async fn all_pages<T, F, Fut>(limit: u32, key: impl Fn(&T) -> u64, read: F) -> Vec<T>
where
    F: Fn(Page) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, StoreError>>,
{
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = read(Page { after, limit }).await.expect("read page");
        assert!(page.len() <= limit as usize, "a page holds at most its limit");
        let Some(last) = page.last() else { return all };
        after = Some(key(last));
        all.extend(page);
    }
}

fn balances_of<'a>(blocks: impl Iterator<Item = &'a Block>) -> Balances {
    let mut balances = Balances::default();
    for block in blocks {
        balances.add(block.state, block.range.len().0);
    }
    balances
}

async fn reads_agree_with_the_model(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let store = fixture.store.as_ref();
    let model = fixture.run_seeded_commands(0xfeed, 250).await;
    assert!(model.retirements().count() > 3 && model.cancellations().count() > 0, "the run should exercise reads");

    let totals = store.totals().await.expect("totals");
    assert_eq!(totals.supply, balances_of(model.blocks()));
    assert_eq!(totals.accounts, model.accounts().count() as u64);
    assert_eq!(totals.batches, model.batches().count() as u64);
    assert_eq!(totals.retirements, model.retirements().count() as u64);
    assert_eq!(totals.log_size, store.log_size().await.expect("size"));

    let accounts = all_pages(3, |a: &Account| a.id.0, |p| store.accounts(p)).await;
    assert_eq!(accounts, model.accounts().cloned().collect::<Vec<_>>());
    for account in model.accounts() {
        let (read, balances) = store.account(account.id).await.expect("read").expect("exists");
        assert_eq!(&read, account);
        assert_eq!(balances, balances_of(model.blocks().filter(|b| b.account == account.id)), "{}", account.id);
    }
    assert_eq!(store.account(AccountId(999_999)).await.expect("read"), None);

    let supplies = supply_by_batch(&model);
    let batches = all_pages(2, |(b, _): &(Batch, Balances)| b.id.0, |p| store.batches(p)).await;
    assert_eq!(batches.len(), model.batches().count());
    for ((batch, balances), expected) in batches.iter().zip(model.batches()) {
        assert_eq!(batch, expected);
        let supply = supplies[&batch.id];
        assert_eq!(balances.total(), supply.total().0, "batch {}", batch.id);
        assert_eq!((balances.tradable, balances.retired), (supply.tradable.0, supply.retired.0));
        assert_eq!(store.batch(batch.id).await.expect("read"), Some((batch.clone(), *balances)));
    }

    let every_block: Vec<Block> = model.blocks().copied().collect();
    let filters = [
        BlockFilter::default(),
        BlockFilter { account: Some(AccountId(5)), ..BlockFilter::default() },
        BlockFilter { batch: Some(BatchId(1)), ..BlockFilter::default() },
        BlockFilter { state: Some(BlockState::Retired), ..BlockFilter::default() },
        BlockFilter { batch: Some(BatchId(2)), state: Some(BlockState::Tradable), account: Some(AccountId(6)) },
    ];
    for filter in filters {
        let read = all_pages(4, |b: &Block| b.range.start(), |p| store.blocks(filter, p)).await;
        let expected: Vec<Block> = every_block
            .iter()
            .filter(|b| filter.account.is_none_or(|a| b.account == a))
            .filter(|b| filter.batch.is_none_or(|x| b.batch == x))
            .filter(|b| filter.state.is_none_or(|s| b.state == s))
            .copied()
            .collect();
        assert_eq!(read, expected, "blocks with {filter:?}");
    }

    let log = all_pages(50, |row: &furrow_app::store::LogRow| row.index, |p| store.log_entries(p)).await;
    for block in every_block.iter().step_by(3) {
        let range = block.range;
        for serial in [range.start(), range.end(), range.start() + range.len().0 / 2] {
            assert_eq!(store.block_at(serial).await.expect("read"), model.block_at(serial).copied());
        }
        // Serial integers are program-wide, so the entries that touched a serial are exactly those
        // whose events name a range containing it.
        let history = store.serial_history(block.batch, range.start(), range.start(), 1_000).await.expect("history");
        let expected: Vec<_> = log
            .iter()
            .filter(|row| {
                let event = LogEntry::decode(&row.bytes).expect("decode").event;
                event.ranges().iter().any(|r| r.contains(range.start()))
            })
            .cloned()
            .collect();
        assert_eq!(history, expected, "history of serial {}", range.start());
    }
    let beyond = every_block.last().map_or(1, |b| b.range.end() + 1);
    assert_eq!(store.block_at(beyond).await.expect("read"), None);

    let retirements = all_pages(2, |r: &Retirement| r.id.0, |p| store.retirements(p)).await;
    assert_eq!(retirements, model.retirements().cloned().collect::<Vec<_>>());
    for retirement in model.retirements() {
        assert_eq!(store.retirement(retirement.id).await.expect("read").as_ref(), Some(retirement));
    }
    let cancellations = all_pages(2, |c: &Cancellation| c.id.0, |p| store.cancellations(p)).await;
    assert_eq!(cancellations, model.cancellations().cloned().collect::<Vec<_>>());
    for cancellation in model.cancellations() {
        assert_eq!(store.cancellation(cancellation.id).await.expect("read").as_ref(), Some(cancellation));
    }
    assert_eq!(store.program().await.expect("read").as_ref(), model.program());
}
crate::on_every_backend!(reads, super::reads_agree_with_the_model);

async fn tokens_and_idempotency_round_trip(backend: Backend) {
    let Some(test_store) = fresh_store(backend).await else { return };
    let store = test_store.store.as_ref();
    let token = TokenRecord {
        id: 0,
        hash: [7; 32],
        subject: "buyer one".into(),
        role: Role::Buyer,
        accounts: vec![AccountId(5), AccountId(9)],
        created_at: Timestamp(1_700_000_000_000_000),
    };
    let id = store.insert_token(&token).await.expect("insert");
    let second = store.insert_token(&TokenRecord { hash: [8; 32], ..token.clone() }).await.expect("insert");
    assert_ne!(id, second, "token ids are unique");
    assert_eq!(store.find_token(&[7; 32]).await.expect("find"), Some(TokenRecord { id, ..token.clone() }));
    assert_eq!(store.find_token(&[9; 32]).await.expect("find"), None);
    assert!(matches!(store.insert_token(&token).await, Err(StoreError::Conflict { .. })), "a token hash is unique");

    let record = IdempotencyRecord {
        scope: "buyer one".into(),
        key: "k-1".into(),
        request_hash: [3; 32],
        outcome: r#"{"first_index":0,"count":1}"#.into(),
        created_at: Timestamp(5),
    };
    store
        .commit(std::sync::Arc::new(CommitGroup { entries: vec![], idempotency: vec![record.clone()] }))
        .await
        .expect("commit");
    assert_eq!(store.find_idempotent("buyer one", "k-1").await.expect("find"), Some(record.clone()));
    assert_eq!(store.find_idempotent("someone else", "k-1").await.expect("find"), None);
    let again = store.commit(std::sync::Arc::new(CommitGroup { entries: vec![], idempotency: vec![record] })).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })), "a key is stored once per scope: {again:?}");
}
crate::on_every_backend!(tokens_and_idempotency, super::tokens_and_idempotency_round_trip);

/// A group whose last write is refused leaves nothing of its earlier writes.
async fn a_refused_group_writes_nothing(backend: Backend) {
    let Some(test_store) = fresh_store(backend).await else { return };
    let store = test_store.store.as_ref();
    let record = |key: &str| IdempotencyRecord {
        scope: "operator".into(),
        key: key.into(),
        request_hash: [1; 32],
        outcome: "{}".into(),
        created_at: Timestamp(1),
    };
    store
        .commit(std::sync::Arc::new(CommitGroup { entries: vec![], idempotency: vec![record("old")] }))
        .await
        .expect("commit");
    let group = CommitGroup { entries: vec![], idempotency: vec![record("new"), record("old")] };
    let refused = store.commit(std::sync::Arc::new(group)).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{backend}: a stored key again: {refused:?}");
    assert_eq!(store.find_idempotent("operator", "new").await.expect("find"), None, "{backend}: half a group stayed");
    assert_eq!(store.find_idempotent("operator", "old").await.expect("find"), Some(record("old")));
}
crate::on_every_backend!(refused_group, super::a_refused_group_writes_nothing);

async fn tree_hashes_and_checkpoints_round_trip(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let store = fixture.store.as_ref();
    assert_eq!(store.tree_hash_count().await.expect("count"), 0);
    assert_eq!(store.latest_checkpoint().await.expect("read"), None);
    let leaves = store.leaf_hashes(0, 100).await.expect("leaves");
    assert_eq!(leaves.len() as u64, store.log_size().await.expect("size"));
    for (index, leaf) in leaves.iter().enumerate() {
        assert_eq!(store.entry_with_leaf_hash(leaf).await.expect("find"), Some(index as u64));
    }
    assert_eq!(store.entry_with_leaf_hash(&[0xab; 32]).await.expect("find"), None);

    let checkpoint = |size: u64| CheckpointRow {
        tree_size: size,
        root: [size as u8; 32],
        note: format!("checkpoint {size}\n"),
        created_at: Timestamp(size as i64),
    };
    let hashes: Vec<[u8; 32]> = (0..5000u32).map(|i| furrow_tlog::leaf_hash(&i.to_be_bytes())).collect();
    store.extend_tree(0, &hashes[..3000], &checkpoint(10)).await.expect("extend");
    store.extend_tree(3000, &hashes[3000..], &checkpoint(20)).await.expect("extend");
    assert_eq!(store.tree_hash_count().await.expect("count"), 5000);
    let wanted = [4999, 0, 2999, 3000, 17];
    let read = store.tree_hashes(&wanted).await.expect("read");
    assert_eq!(read, wanted.iter().map(|&i| hashes[i as usize]).collect::<Vec<_>>());
    assert!(matches!(store.tree_hashes(&[5000]).await, Err(StoreError::Corrupt(_))), "a missing hash is an error");
    let overlapping = store.extend_tree(4999, &hashes[..1], &checkpoint(30)).await;
    assert!(overlapping.is_err(), "stored tree hashes are never overwritten");
    assert_eq!(store.tree_hash_count().await.expect("count"), 5000, "the failed extension wrote nothing");

    assert_eq!(store.latest_checkpoint().await.expect("read"), Some(checkpoint(20)));
    assert_eq!(store.checkpoint_at_least(11).await.expect("read"), Some(checkpoint(20)));
    assert_eq!(store.checkpoint_at_least(10).await.expect("read"), Some(checkpoint(10)));
    assert_eq!(store.checkpoint_at_least(21).await.expect("read"), None);
    assert_eq!(store.checkpoints(None, 10).await.expect("read"), vec![checkpoint(10), checkpoint(20)]);
    assert_eq!(store.checkpoints(Some(10), 10).await.expect("read"), vec![checkpoint(20)]);
    let by_size: BTreeMap<u64, CheckpointRow> =
        store.checkpoints(None, 1).await.expect("read").into_iter().map(|c| (c.tree_size, c)).collect();
    assert_eq!(by_size.len(), 1, "the limit is respected");
}
crate::on_every_backend!(tree_and_checkpoints, super::tree_hashes_and_checkpoints_round_trip);
