//! The deterministic simulator (`furrow_app::simulation`) on SQLite and on the in-memory store:
//! seeds pass, a seed replays bit for bit, both stores give the same runs, and a store with a
//! deliberate bug is caught.

use std::sync::Arc;

use furrow_app::simulation::{SimOptions, SimReport, run_seed};
use furrow_store_memory::MemoryStore;
use furrow_store_sqlite::SqliteStore;

async fn run(seed: u64, options: SimOptions) -> Result<SimReport, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("furrow.db")).await.expect("open"));
    let report = run_seed(seed, store.clone(), options).await;
    furrow_app::store::Store::close(store.as_ref()).await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_pass_with_faults_injected_and_replay_bit_for_bit() {
    let (mut faults, mut ambiguous) = (0, 0);
    for seed in 0..40 {
        let report = run(seed, SimOptions::default()).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        faults += report.clean_faults + report.ambiguous_faults;
        ambiguous += report.ambiguous_faults;
        if seed < 3 {
            let again = run(seed, SimOptions::default()).await.expect("rerun");
            assert_eq!(again, report, "seed {seed} did not replay bit for bit");
        }
    }
    assert!(faults > 0 && ambiguous > 0, "the faults must have happened: {faults} faults, {ambiguous} ambiguous");
}

/// The in-memory store `furrow sim` runs on by default gives each seed the very run SQLite gives
/// it: the same commands committed and refused, the same faults, the same log bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_runs_the_same_in_memory_as_on_sqlite() {
    for seed in 0..24 {
        let on_sqlite = run(seed, SimOptions::default()).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let in_memory = run_seed(seed, Arc::new(MemoryStore::new()), SimOptions::default())
            .await
            .unwrap_or_else(|e| panic!("seed {seed} in memory: {e}"));
        assert_eq!(in_memory, on_sqlite, "seed {seed} ran differently in memory");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_acknowledges_unwritten_commits_is_caught() {
    let options = SimOptions { lying_store: true, fault_rate: 0.2, ..SimOptions::default() };
    let mut caught = Vec::new();
    for seed in 0..10 {
        if let Err(e) = run(seed, options).await {
            caught.push(format!("seed {seed}: {e}"));
        }
    }
    eprintln!("the lying store was caught by {} of 10 seeds, e.g. {:?}", caught.len(), caught.first());
    assert!(!caught.is_empty(), "no seed caught the lying store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_that_sell_settle_release_and_expire_sales() {
    let (mut settled, mut released) = (0, 0);
    for seed in (0..48).filter(|s| furrow_app::simulation::sells(*s)) {
        let report = run(seed, SimOptions::default()).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        settled += report.sales_settled;
        released += report.sales_released;
    }
    assert!(settled > 0 && released > 0, "the simulator sells: {settled} settled, {released} released");
}

/// Selling seeds that withdraw a farmer (`simulation::forfeits`) settle sales that forfeit the
/// farmer's share, and a deliberately wrong split that pays the withdrawn farmer anyway
/// (`furrow_domain::sales::injected::set_pay_the_withdrawn`) is caught by invariant 9. In memory,
/// on a current-thread runtime: the switch is per thread.
#[tokio::test(flavor = "current_thread")]
async fn settlements_forfeit_withdrawn_shares_and_paying_them_is_caught() {
    let seeds: Vec<u64> = (0..400).filter(|s| furrow_app::simulation::forfeits(*s)).collect();
    let in_memory = |seed| run_seed(seed, Arc::new(MemoryStore::new()), SimOptions::default());
    let mut forfeited = 0;
    for &seed in &seeds {
        forfeited += in_memory(seed).await.unwrap_or_else(|e| panic!("seed {seed}: {e}")).sales_forfeited;
    }
    assert!(forfeited > 0, "no settlement forfeited a withdrawn farmer's share in {} seeds", seeds.len());

    furrow_domain::sales::injected::set_pay_the_withdrawn(true);
    let mut caught = Vec::new();
    for &seed in &seeds {
        if let Err(e) = in_memory(seed).await {
            caught.push(format!("seed {seed}: {e}"));
        }
    }
    furrow_domain::sales::injected::set_pay_the_withdrawn(false);
    eprintln!(
        "{forfeited} forfeitures; paying the withdrawn was caught by {} seeds, e.g. {:?}",
        caught.len(),
        caught.first()
    );
    assert!(
        caught.iter().any(|e| e.contains("invariant 9")),
        "no seed caught the payout to a withdrawn farmer: {caught:?}"
    );
}

/// A deliberately wrong payout split (every share rounded down, the remainders lost:
/// `furrow_domain::sales::injected`) is caught by the simulator's invariant 8. A current-thread
/// runtime, because the switch is per thread and the registry's sequencer must run on this one.
#[tokio::test(flavor = "current_thread")]
async fn a_wrong_payout_split_is_caught() {
    furrow_domain::sales::injected::set_wrong_payout_split(true);
    let options = SimOptions { steps: 60, ..SimOptions::default() };
    let mut caught = Vec::new();
    for seed in (0..40).filter(|s| furrow_app::simulation::sells(*s)) {
        if let Err(e) = run(seed, options).await {
            caught.push(format!("seed {seed}: {e}"));
        }
    }
    furrow_domain::sales::injected::set_wrong_payout_split(false);
    eprintln!("the wrong split was caught by {} seeds, e.g. {:?}", caught.len(), caught.first());
    assert!(caught.iter().any(|e| e.contains("invariant 8")), "no seed caught the wrong split: {caught:?}");
}

fn in_memory(seed: u64, options: SimOptions) -> impl Future<Output = Result<SimReport, String>> {
    run_seed(seed, Arc::new(MemoryStore::new()), options)
}

/// Several clients' commands in flight at once: the sequencer groups them, the invariants hold
/// after every group, and on a current-thread runtime a seed still replays bit for bit.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_clients_share_groups_and_replay_bit_for_bit() {
    let options = SimOptions { clients: 4, ..SimOptions::default() };
    let mut shared = 0;
    for seed in 0..60 {
        let report = in_memory(seed, options).await.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        shared += report.shared_groups;
        if seed < 4 {
            assert_eq!(in_memory(seed, options).await, Ok(report), "seed {seed} did not replay bit for bit");
        }
    }
    assert!(shared > 0, "no group held more than one client's commands");
}

/// A store bug that only a group of several commands can show (a failed commit keeps only the
/// first command's idempotency record, so the other commands apply again on retry) passes one
/// client at a time and is caught with concurrent clients.
#[tokio::test(flavor = "current_thread")]
async fn a_torn_group_commit_is_caught_only_with_concurrent_clients() {
    let torn = SimOptions { torn_groups: true, fault_rate: 0.2, ..SimOptions::default() };
    for seed in 0..30 {
        in_memory(seed, torn).await.unwrap_or_else(|e| panic!("seed {seed} failed with one client: {e}"));
    }
    let mut caught = Vec::new();
    for seed in 0..30 {
        if let Err(e) = in_memory(seed, SimOptions { clients: 4, ..torn }).await {
            caught.push(format!("seed {seed}: {e}"));
        }
    }
    eprintln!("the torn group commit was caught by {} of 30 seeds, e.g. {:?}", caught.len(), caught.first());
    assert!(!caught.is_empty(), "no seed with concurrent clients caught the torn group commit");
}

/// Reads fail too: idempotency look-ups, reloads, replays and the checkpointer's reads, and the
/// checkpointer's writes fail like commits. Every seed still passes, with the checkpointer
/// running beside the clients and every signed checkpoint checked against the stored log.
#[tokio::test(flavor = "current_thread")]
async fn reads_fail_and_the_checkpointer_signs_through_the_faults() {
    let options = SimOptions { read_fault_rate: 0.2, fault_rate: 0.2, ..SimOptions::default() };
    let (mut read_faults, mut checkpoints) = (0, 0);
    for clients in [1, 4] {
        for seed in 0..40 {
            let report = in_memory(seed, SimOptions { clients, ..options })
                .await
                .unwrap_or_else(|e| panic!("seed {seed} with {clients} clients: {e}"));
            read_faults += report.read_faults;
            checkpoints += report.checkpoints;
        }
    }
    assert!(read_faults > 100 && checkpoints > 100, "{read_faults} reads failed, {checkpoints} checkpoints signed");
}

/// A sequencer that, when its reload after a failed commit fails, carries on with its in-memory
/// state (which still holds the failed group's effects) is caught once reads fail; without read
/// faults the reload never fails and the same seeds pass.
#[tokio::test(flavor = "current_thread")]
async fn a_sequencer_trusting_a_failed_reload_is_caught() {
    furrow_app::injected::set_keep_state_after_failed_reload(true);
    let options = SimOptions { fault_rate: 0.3, read_fault_rate: 0.0, ..SimOptions::default() };
    for seed in 0..40 {
        if let Err(e) = in_memory(seed, options).await {
            furrow_app::injected::set_keep_state_after_failed_reload(false);
            panic!("seed {seed} failed without read faults: {e}");
        }
    }
    let mut caught = Vec::new();
    for seed in 0..40 {
        if let Err(e) = in_memory(seed, SimOptions { read_fault_rate: 0.3, ..options }).await {
            caught.push(format!("seed {seed}: {e}"));
        }
    }
    furrow_app::injected::set_keep_state_after_failed_reload(false);
    eprintln!("trusting a failed reload was caught by {} of 40 seeds, e.g. {:?}", caught.len(), caught.first());
    assert!(!caught.is_empty(), "no seed caught the sequencer trusting a failed reload");
}
