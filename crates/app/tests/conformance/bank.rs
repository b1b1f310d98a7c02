//! Jepsen-style tests on every backend. The bank test: 32 clients for 30 s (set
//! `FURROW_BANK_SECONDS` to change it) doing random transfers, retirements and reads, where every
//! read sees the issued supply exactly, no serial twice, nothing negative. The double-spend race:
//! two clients retire the same serial at the same moment, 1 000 times; exactly one wins each time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use furrow_app::store::{BlockFilter, Page, Store};
use furrow_app::{AppError, Principal};
use furrow_domain::invariants::check;
use furrow_domain::*;
use furrow_testkit::Backend;
use rand::{Rng, SeedableRng};

use crate::support::{replay_log, start};

const ACCOUNTS: usize = 8;
const CREDITS_EACH: u64 = 100_000;

fn bank_duration() -> Duration {
    let seconds = std::env::var("FURROW_BANK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    Duration::from_secs(seconds)
}

/// What one read must see, whatever the writers are doing: the blocks (one statement, so one
/// snapshot) partition exactly the issued serials, and the totals (one transaction) sum to them.
async fn consistent_read(store: &dyn Store, issued: u64) -> Result<(), String> {
    let totals = store.totals().await.map_err(|e| e.to_string())?;
    if totals.supply.total() != issued {
        return Err(format!("totals sum to {} of {issued} issued: {:?}", totals.supply.total(), totals.supply));
    }
    let blocks = store
        .blocks(BlockFilter::default(), Page { after: None, limit: 1_000_000 })
        .await
        .map_err(|e| e.to_string())?;
    let mut next = None;
    let mut sum = 0;
    for block in &blocks {
        if next.is_some_and(|n| block.range.start() < n) {
            return Err(format!("serial {} is held twice", block.range.start()));
        }
        next = Some(block.range.end() + 1);
        sum += block.range.len().0;
    }
    if sum != issued {
        return Err(format!("blocks hold {sum} of {issued} issued credits"));
    }
    Ok(())
}

async fn bank_test(backend: Backend) {
    let Some(fixture) = start(backend).await else { return };
    let mut accounts = Vec::new();
    for n in 0..ACCOUNTS {
        let account = fixture.open_buyer(&format!("Bank client {n}")).await;
        fixture.issue(account, CREDITS_EACH).await;
        accounts.push(account);
    }
    let issued = CREDITS_EACH * ACCOUNTS as u64;
    let accounts = Arc::new(accounts);
    let deadline = Instant::now() + bank_duration();
    let mut clients = Vec::new();
    for client in 0..32u64 {
        let (registry, store, accounts) = (fixture.registry.clone(), fixture.store.clone(), accounts.clone());
        clients.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(client);
            let (mut writes, mut reads) = (0u64, 0u64);
            while Instant::now() < deadline {
                let from = accounts[rng.random_range(0..accounts.len())];
                let principal = Principal {
                    subject: format!("client {client}"),
                    role: Role::Buyer,
                    accounts: vec![from],
                    proof: furrow_app::Proof::Token,
                };
                let selection = Selection::Quantity { quantity: Quantity(rng.random_range(1..=40)), batch: None };
                let command = match rng.random_range(0..10) {
                    0..=4 => {
                        let to = accounts[rng.random_range(0..accounts.len())];
                        if to == from {
                            continue;
                        }
                        Command::Transfer { from, to, selection }
                    }
                    5..=6 => Command::Retire { from, selection, claim: sim::claim(client) },
                    _ => {
                        consistent_read(store.as_ref(), issued).await.map_err(|e| format!("read {reads}: {e}"))?;
                        reads += 1;
                        continue;
                    }
                };
                match registry.execute(&principal, command, None).await {
                    Ok(_) => writes += 1,
                    Err(AppError::Domain(DomainError::InsufficientCredits { .. })) => {}
                    Err(e) => return Err(format!("client {client}: unexpected failure: {e}")),
                }
            }
            Ok::<_, String>((writes, reads))
        }));
    }
    let (mut writes, mut reads) = (0, 0);
    for client in clients {
        let (w, r) = client.await.expect("client task").unwrap_or_else(|e| panic!("{backend}: {e}"));
        writes += w;
        reads += r;
    }
    eprintln!("{backend} bank test: {writes} writes and {reads} consistent reads by 32 clients");
    assert!(writes > 100 && reads > 100, "{backend}: the test should do real work ({writes} writes, {reads} reads)");

    let store = fixture.store.as_ref();
    consistent_read(store, issued).await.unwrap_or_else(|e| panic!("{backend}: final read: {e}"));
    let ledger = store.load_ledger().await.expect("load");
    check(&ledger).unwrap_or_else(|v| panic!("{backend}: {v:?}"));
    for account in accounts.iter() {
        let (_, balances) = store.account(*account).await.expect("read").expect("exists");
        assert_eq!(balances.tradable, ledger.balance(*account, BlockState::Tradable).0);
    }
    assert_eq!(replay_log(store).await, ledger, "{backend}: the log replays to the final state");
}
crate::on_every_backend!(bank, super::bank_test);

async fn double_spend_race(backend: Backend) {
    const TRIALS: u64 = 1_000;
    let Some(fixture) = start(backend).await else { return };
    let buyer = fixture.open_buyer("Racer").await;
    fixture.issue(buyer, TRIALS).await;
    let first = fixture.store.blocks(BlockFilter::default(), Page { after: None, limit: 1 }).await.expect("blocks")[0];
    let principal = Principal {
        subject: "racer".into(),
        role: Role::Buyer,
        accounts: vec![buyer],
        proof: furrow_app::Proof::Token,
    };
    for trial in 0..TRIALS {
        let serial = first.range.start() + trial;
        let range = SerialRange::new(serial, serial).expect("range");
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|racer| {
                let (registry, principal, barrier) = (fixture.registry.clone(), principal.clone(), barrier.clone());
                tokio::spawn(async move {
                    let command = Command::Retire {
                        from: buyer,
                        selection: Selection::Ranges(vec![range]),
                        claim: sim::claim(racer),
                    };
                    barrier.wait().await;
                    registry.execute(&principal, command, None).await
                })
            })
            .collect();
        let mut wins = 0;
        for racer in racers {
            match racer.await.expect("racer") {
                Ok(_) => wins += 1,
                Err(AppError::Domain(_)) => {}
                Err(e) => panic!("{backend}: trial {trial}: unexpected failure: {e}"),
            }
        }
        assert_eq!(wins, 1, "{backend}: trial {trial}: serial {serial} was retired {wins} times");
    }
    let totals = fixture.store.totals().await.expect("totals");
    assert_eq!((totals.supply.retired, totals.retirements), (TRIALS, TRIALS), "{backend}");
    check(&fixture.store.load_ledger().await.expect("load")).unwrap_or_else(|v| panic!("{backend}: {v:?}"));
}
crate::on_every_backend!(double_spend, super::double_spend_race);
