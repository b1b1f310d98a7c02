//! Random sequences of issue/transfer/retire/cancel and program-lifecycle commands against the
//! pure ledger. After every command: invariants 1–5 and 10 hold, a refused command changed nothing
//! (invariant 11), every frozen quantification recomputes, the supply the ledger keeps per state
//! equals the sum over its blocks, and the log entry for each event
//! round-trips through the canonical encoding, private payload included.

use furrow_domain::invariants::{check, check_transition};
use furrow_domain::lifecycle::engine::recompute;
use furrow_domain::sim::{arbitrary_command, arbitrary_program_command, genesis};
use furrow_domain::{BlockState, Ledger, LogEntry, Timestamp};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_after_every_command(steps in prop::collection::vec(any::<[u64; 6]>(), 1..200)) {
        let mut ledger = Ledger::new();
        ledger.execute(&genesis(), Timestamp(0)).expect("genesis");
        let mut replayed = ledger.clone();
        let mut index = 1;

        for (i, numbers) in steps.into_iter().enumerate() {
            let command = arbitrary_program_command(&ledger, numbers);
            let before = ledger.clone();
            let at = Timestamp(1_700_000_000_000_000 + i as i64);
            match ledger.execute(&command, at) {
                Ok(events) => {
                    for event in events {
                        let entry = LogEntry { index, timestamp: at, actor: "test".into(), event };
                        let private = entry.private_payload();
                        let decoded = LogEntry::decode_with_private(&entry.encode(), private.as_deref()).expect("decodes");
                        prop_assert_eq!(&decoded, &entry);
                        prop_assert_eq!(decoded.private_payload(), private);
                        replayed.apply(&decoded.event, decoded.timestamp);
                        index += 1;
                    }
                }
                Err(_) => {
                    prop_assert_eq!(&ledger, &before, "a refused {} changed the state", command.name());
                }
            }
            if let Err(v) = check(&ledger) { prop_assert!(false, "after {:?}: {:?}", command, v); }
            if let Err(v) = check_transition(&before, &ledger) { prop_assert!(false, "after {:?}: {:?}", command, v); }
            // The supply kept block by block (the status page's totals) is the sum over the blocks.
            for state in [BlockState::Tradable, BlockState::Escrowed, BlockState::Retired, BlockState::Cancelled, BlockState::Buffer] {
                let counted: u64 = ledger.blocks().filter(|b| b.state == state).map(|b| b.range.len().0).sum();
                prop_assert_eq!(ledger.supply(state).0, counted, "supply of {} after {:?}", state.as_str(), command);
            }
            for report in ledger.lifecycle().reports.values() {
                let methodology = report.quantification.as_ref().map(|q| &ledger.lifecycle().methodologies[&q.methodology]);
                if let Some(m) = methodology { prop_assert_eq!(recompute(m, report), Ok(())); }
            }
        }
        // Replaying the decoded log reproduces the state exactly (invariant 6, in memory).
        prop_assert_eq!(&replayed, &ledger);
    }

    #[test]
    fn decoder_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = LogEntry::decode(&bytes);
    }
}

/// Sanity check on the generator itself: a long run must mostly succeed and exercise every command.
#[test]
fn simulation_exercises_every_command() {
    let mut ledger = Ledger::new();
    ledger.execute(&genesis(), Timestamp(0)).expect("genesis");
    let mut seen = std::collections::BTreeMap::<(&str, bool), u32>::new();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3000 {
        let numbers = [next(), next(), next(), next(), next(), next()];
        let command = arbitrary_command(&ledger, numbers);
        let ok = ledger.execute(&command, Timestamp(i)).is_ok();
        *seen.entry((command.name(), ok)).or_default() += 1;
    }
    check(&ledger).expect("invariants");
    for name in ["open_account", "issue", "transfer", "retire", "cancel"] {
        assert!(seen.get(&(name, true)).copied().unwrap_or(0) > 20, "{name} rarely succeeds: {seen:?}");
        if name != "open_account" {
            assert!(seen.get(&(name, false)).copied().unwrap_or(0) > 5, "{name} is never refused: {seen:?}");
        }
    }
}

/// The lifecycle generator must reach every step, issuance and reversal included, and see refusals.
#[test]
fn simulation_walks_the_whole_lifecycle() {
    let mut ledger = Ledger::new();
    ledger.execute(&genesis(), Timestamp(0)).expect("genesis");
    let mut seen = std::collections::BTreeMap::<(&str, bool), u32>::new();
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..6000 {
        let numbers = [next(), next(), next(), next(), next(), next()];
        let command = arbitrary_program_command(&ledger, numbers);
        let ok = ledger.execute(&command, Timestamp(i)).is_ok();
        *seen.entry((command.name(), ok)).or_default() += 1;
        check(&ledger).expect("invariants");
    }
    for name in [
        "draft_methodology",
        "approve_methodology",
        "draft_project",
        "transition_project",
        "register_participant",
        "register_parcel",
        "enrol",
        "draft_report",
        "verify_report",
        "request_issuance",
        "approve_issuance",
        "record_reversal",
        "request_withdrawal",
        "decide_withdrawal",
        "accept_application",
        "add_label",
    ] {
        assert!(seen.get(&(name, true)).copied().unwrap_or(0) > 0, "{name} never succeeds: {seen:?}");
    }
    for name in ["enrol", "approve_issuance", "request_withdrawal", "draft_report"] {
        assert!(seen.get(&(name, false)).copied().unwrap_or(0) > 0, "{name} is never refused: {seen:?}");
    }
}
