//! Registry controls (issue #8) as pure rules: freezes with a published reason, the per-transfer
//! limit, the trusted-counterparty list with its delay and second approval, and four-eyes
//! cancellation. Every refusal leaves the ledger unchanged; SPEC §9 invariants hold throughout.

use furrow_domain::invariants::check;
use furrow_domain::lifecycle::LifecycleCommand as C;
use furrow_domain::sim::{claim, genesis};
use furrow_domain::*;

const HOUR: i64 = 3_600_000_000;

struct World {
    ledger: Ledger,
    now: i64,
    seller: AccountId,
    buyer: AccountId,
    newcomer: AccountId,
}

impl World {
    /// A program, a participant account holding 100 credits and two buyer accounts.
    fn new() -> Self {
        let mut ledger = Ledger::new();
        ledger.execute(&genesis(), Timestamp(0)).expect("genesis");
        let mut open = |kind, name: &str| {
            let events = ledger.execute(&Command::OpenAccount { kind, name: name.into() }, Timestamp(1)).expect("open");
            match &events[0] {
                Event::AccountOpened { account } => account.id,
                other => panic!("{other:?}"),
            }
        };
        let seller = open(AccountKind::Participant, "farmer");
        let buyer = open(AccountKind::Buyer, "buyer");
        let newcomer = open(AccountKind::Buyer, "newcomer");
        let issue = IssueCommand {
            project: ProjectCode(12),
            country: None,
            vintage: Vintage::new(2025).expect("vintage"),
            quantity: Quantity(100),
            buffer: Quantity(5),
            to: seller,
            labels: vec![],
        };
        ledger.execute(&Command::Issue(issue), Timestamp(2)).expect("issue");
        Self { ledger, now: 1_767_225_600_000_000, seller, buyer, newcomer }
    }

    fn at(&mut self, command: &Command) -> Result<Vec<Event>, DomainError> {
        self.now += 1;
        let before = self.ledger.clone();
        let result = self.ledger.execute(command, Timestamp(self.now));
        if result.is_err() {
            assert_eq!(self.ledger, before, "a refused {} changed the state", command.name());
        }
        check(&self.ledger).expect("invariants");
        result
    }

    fn control(&mut self, by: &str, command: C) -> Result<Vec<Event>, DomainError> {
        self.at(&Command::Lifecycle { by: by.into(), command })
    }

    fn transfer(&mut self, to: AccountId, quantity: u64) -> Result<Vec<Event>, DomainError> {
        let selection = Selection::Quantity { quantity: Quantity(quantity), batch: None };
        self.at(&Command::Transfer { from: self.seller, to, selection })
    }

    fn retire(&mut self, range: SerialRange) -> Result<Vec<Event>, DomainError> {
        self.at(&Command::Retire { from: self.seller, selection: Selection::Ranges(vec![range]), claim: claim(1) })
    }
}

fn code(result: Result<Vec<Event>, DomainError>) -> &'static str {
    result.expect_err("must be refused").code()
}

#[test]
fn a_stolen_participant_token_cannot_transfer_to_a_new_counterparty_before_the_delay() {
    let mut w = World::new();
    w.control(
        "admin",
        C::ConfigureControls { transfer_limit: None, trusted_only: true, trusted_delay_seconds: 26 * 3600 },
    )
    .expect("configure");
    // The farmer's long-standing buyer, trusted before the theft.
    let (seller, buyer, newcomer) = (w.seller, w.buyer, w.newcomer);
    w.control("farmer", C::ProposeCounterparty { account: seller, counterparty: buyer }).expect("propose");
    w.control("operator-a", C::ApproveCounterparty { account: seller, counterparty: buyer }).expect("approve");
    assert_eq!(code(w.transfer(buyer, 1)), "untrusted-counterparty", "the delay has not passed");
    w.now += 26 * HOUR;
    w.transfer(buyer, 1).expect("a trusted counterparty after the delay");

    // The thief, holding the farmer's token, tries to send to its own account.
    assert_eq!(code(w.transfer(newcomer, 50)), "untrusted-counterparty");
    w.control("farmer", C::ProposeCounterparty { account: seller, counterparty: newcomer }).expect("propose");
    assert_eq!(code(w.transfer(newcomer, 50)), "untrusted-counterparty", "proposed, not approved");
    // The proposer cannot approve its own proposal.
    let same = w.control("farmer", C::ApproveCounterparty { account: seller, counterparty: newcomer });
    assert_eq!(code(same), "four-eyes");
    w.control("operator-a", C::ApproveCounterparty { account: seller, counterparty: newcomer }).expect("approve");
    w.now += 25 * HOUR;
    assert_eq!(code(w.transfer(newcomer, 50)), "untrusted-counterparty", "approved, but the delay still runs");
    // Noticed in time: the operator removes it, and the transfer never becomes possible.
    w.control("operator-a", C::RemoveCounterparty { account: seller, counterparty: newcomer }).expect("remove");
    w.now += 2 * HOUR;
    assert_eq!(code(w.transfer(newcomer, 50)), "untrusted-counterparty");
    assert_eq!(w.ledger.balance(seller, BlockState::Tradable), Quantity(99));
}

#[test]
fn a_frozen_block_cannot_be_moved_or_retired_and_a_frozen_account_moves_nothing() {
    let mut w = World::new();
    let stolen = SerialRange::new(11, 20).expect("range");
    let reason = "reported stolen on 2026-01-18; see notice 7".to_owned();
    w.control("operator-a", C::FreezeSerials { range: stolen, frozen: true, reason: reason.clone() }).expect("freeze");
    let frozen = w.ledger.lifecycle().controls.frozen_serials.get(&11).expect("published");
    assert_eq!(frozen.1.reason, reason, "the reason is kept for publication");
    let buyer = w.buyer;
    assert_eq!(code(w.retire(SerialRange::new(15, 15).expect("range"))), "frozen");
    let move_range = |start, end| Command::Transfer {
        from: w.seller,
        to: buyer,
        selection: Selection::Ranges(vec![SerialRange::new(start, end).expect("range")]),
    };
    let (overlapping, clear) = (move_range(1, 20), move_range(1, 10));
    assert_eq!(code(w.at(&overlapping)), "frozen", "a range that overlaps the frozen one");
    w.at(&clear).expect("serials 1-10 are not frozen");
    let selection = Selection::Ranges(vec![SerialRange::new(20, 25).expect("range")]);
    let cancel =
        Command::Cancel { from: w.seller, selection, reason: CancellationReason::Correction, note: String::new() };
    assert_eq!(code(w.at(&cancel)), "frozen");
    // A quantity selection takes the account's other serials and leaves the frozen ones alone.
    let moved = w.transfer(buyer, 80).expect("the 80 unfrozen serials move");
    let expected = [SerialRange::new(21, 100).expect("range")];
    assert!(matches!(&moved[0], Event::Transferred { ranges, .. } if ranges[..] == expected), "{moved:?}");
    assert_eq!(code(w.transfer(buyer, 1)), "insufficient-credits", "only frozen serials are left");
    w.control("operator-a", C::FreezeSerials { range: stolen, frozen: false, reason: "recovered".into() })
        .expect("lift");
    w.retire(SerialRange::new(15, 15).expect("range")).expect("no longer frozen");

    w.control("operator-a", C::FreezeAccount { account: buyer, frozen: true, reason: "court order".into() })
        .expect("freeze account");
    assert_eq!(code(w.transfer(buyer, 1)), "frozen", "nothing moves into a frozen account");
    let out = Command::Transfer {
        from: buyer,
        to: w.seller,
        selection: Selection::Quantity { quantity: Quantity(1), batch: None },
    };
    assert_eq!(code(w.at(&out)), "frozen", "nor out of it");
    let again = w.control("operator-a", C::FreezeAccount { account: buyer, frozen: true, reason: "again".into() });
    assert_eq!(code(again), "wrong-state");
    let no_reason = w.control("operator-a", C::FreezeAccount { account: w.seller, frozen: true, reason: " ".into() });
    assert_eq!(code(no_reason), "invalid-command", "a freeze is published with its reason");
}

#[test]
fn one_transfer_moves_at_most_the_limit() {
    let mut w = World::new();
    let limit = Some(Quantity(30));
    w.control("admin", C::ConfigureControls { transfer_limit: limit, trusted_only: false, trusted_delay_seconds: 0 })
        .expect("configure");
    let buyer = w.buyer;
    assert_eq!(code(w.transfer(buyer, 31)), "over-transfer-limit");
    w.transfer(buyer, 30).expect("at the limit");
}

#[test]
fn the_same_operator_cannot_request_and_approve_a_cancellation() {
    let mut w = World::new();
    let selection = Selection::Quantity { quantity: Quantity(5), batch: None };
    let ask = C::RequestCancellation {
        from: w.seller,
        selection,
        reason: CancellationReason::Correction,
        note: "double-counted parcel".into(),
    };
    w.control("operator-a", ask).expect("request");
    assert_eq!(w.ledger.balance(w.seller, BlockState::Tradable), Quantity(100), "a request cancels nothing");
    assert_eq!(code(w.control("operator-a", C::ApproveCancellation { request: 1 })), "four-eyes");
    let events = w.control("operator-b", C::ApproveCancellation { request: 1 }).expect("approve");
    assert!(matches!(events[0], Event::Cancelled { .. }), "{events:?}");
    assert_eq!(w.ledger.balance(w.seller, BlockState::Tradable), Quantity(95));
    assert_eq!(code(w.control("operator-b", C::ApproveCancellation { request: 1 })), "wrong-state");
}

#[test]
fn control_events_round_trip_through_the_log_encoding() {
    let mut w = World::new();
    let (seller, buyer) = (w.seller, w.buyer);
    let mut events = Vec::new();
    let selection = Selection::Ranges(vec![SerialRange::new(1, 2).expect("range")]);
    for (by, command) in [
        (
            "admin",
            C::ConfigureControls { transfer_limit: Some(Quantity(7)), trusted_only: true, trusted_delay_seconds: 9 },
        ),
        ("op", C::FreezeAccount { account: buyer, frozen: true, reason: "r".into() }),
        ("op", C::FreezeSerials { range: SerialRange::new(50, 60).expect("r"), frozen: true, reason: "s".into() }),
        ("farmer", C::ProposeCounterparty { account: seller, counterparty: buyer }),
        ("op", C::ApproveCounterparty { account: seller, counterparty: buyer }),
        ("op", C::RemoveCounterparty { account: seller, counterparty: buyer }),
        (
            "op",
            C::RequestCancellation { from: seller, selection, reason: CancellationReason::Export, note: "n".into() },
        ),
        ("op-b", C::ApproveCancellation { request: 1 }),
    ] {
        events.extend(w.control(by, command).expect("runs"));
    }
    for (index, event) in events.into_iter().enumerate() {
        let entry = LogEntry { index: index as u64, timestamp: Timestamp(w.now), actor: "x".into(), event };
        assert_eq!(LogEntry::decode(&entry.encode()).expect("decodes"), entry);
    }
}
