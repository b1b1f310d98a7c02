//! The invariants of SPEC §9 that the ledger state alone can show. Tests assert them after every
//! command; `furrow verify` checks them on any copy.

use std::collections::BTreeMap;

use crate::ids::{BatchId, Quantity};
use crate::ledger::{BUFFER_ACCOUNT, CANCELLATION_ACCOUNT, Ledger, RETIREMENT_ACCOUNT};
use crate::model::{BlockState, total};

/// How a batch's issued credits are split across states. Invariant 1: the parts sum to the issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Supply {
    pub tradable: Quantity,
    pub escrowed: Quantity,
    pub retired: Quantity,
    pub cancelled: Quantity,
    pub buffer: Quantity,
}

impl Supply {
    pub fn add(&mut self, state: BlockState, quantity: Quantity) {
        let slot = match state {
            BlockState::Tradable => &mut self.tradable,
            BlockState::Escrowed => &mut self.escrowed,
            BlockState::Retired => &mut self.retired,
            BlockState::Cancelled => &mut self.cancelled,
            BlockState::Buffer => &mut self.buffer,
        };
        slot.0 += quantity.0;
    }
    pub fn total(&self) -> Quantity {
        Quantity(self.tradable.0 + self.escrowed.0 + self.retired.0 + self.cancelled.0 + self.buffer.0)
    }
}

/// Per-batch supply computed from the blocks.
pub fn supply_by_batch(ledger: &Ledger) -> BTreeMap<BatchId, Supply> {
    let mut supply: BTreeMap<BatchId, Supply> = ledger.batches().map(|b| (b.id, Supply::default())).collect();
    for block in ledger.blocks() {
        supply.entry(block.batch).or_default().add(block.state, block.range.len());
    }
    supply
}

/// Checks invariants 1 (conservation), 2 (disjoint exact cover) and the placement rules that make
/// invariant 3 checkable (terminal blocks live only in the terminal accounts, and match the
/// retirement and cancellation records). Returns every violation found, not only the first.
pub fn check(ledger: &Ledger) -> Result<(), Vec<String>> {
    let mut violations = Vec::new();

    for (batch_id, supply) in supply_by_batch(ledger) {
        match ledger.batch(batch_id) {
            None => violations.push(format!("blocks reference unknown batch {batch_id}")),
            Some(batch) if supply.total() != batch.serials.len() => violations.push(format!(
                "invariant 1: batch {batch_id} issued {} but its blocks hold {} ({supply:?})",
                batch.serials.len(),
                supply.total()
            )),
            Some(_) => {}
        }
    }

    // Invariant 2: walking all blocks in serial order, each batch's blocks tile its range exactly.
    let mut expected_next: BTreeMap<BatchId, u64> = ledger.batches().map(|b| (b.id, b.serials.start())).collect();
    let mut previous_end = 0u64;
    for block in ledger.blocks() {
        if block.range.start() <= previous_end {
            violations.push(format!("invariant 2: block {} overlaps the previous block", block.range));
        }
        previous_end = block.range.end();
        match (ledger.batch(block.batch), expected_next.get_mut(&block.batch)) {
            (Some(batch), Some(next)) => {
                if !batch.serials.covers(block.range) {
                    violations.push(format!("invariant 2: block {} lies outside batch {}", block.range, batch.id));
                }
                if block.range.start() != *next {
                    violations.push(format!(
                        "invariant 2: batch {} has a gap or overlap before serial {}",
                        batch.id,
                        block.range.start()
                    ));
                }
                *next = block.range.end().saturating_add(1);
            }
            _ => violations.push(format!("block {} references unknown batch {}", block.range, block.batch)),
        }
        let Some(account) = ledger.account(block.account) else {
            violations.push(format!("block {} is held by unknown account {}", block.range, block.account));
            continue;
        };
        let placed_right = match block.state {
            BlockState::Retired => block.account == RETIREMENT_ACCOUNT,
            BlockState::Cancelled => block.account == CANCELLATION_ACCOUNT,
            BlockState::Buffer => block.account == BUFFER_ACCOUNT,
            BlockState::Tradable | BlockState::Escrowed => account.kind.holds_tradable(),
        };
        if !placed_right {
            violations.push(format!("block {} is {} but held by a {} account", block.range, block.state, account.kind));
        }
    }
    for batch in ledger.batches() {
        if expected_next.get(&batch.id) != Some(&batch.serials.end().saturating_add(1)) {
            violations.push(format!("invariant 2: batch {} is not fully covered by blocks", batch.id));
        }
    }

    // The retired and cancelled blocks are exactly the ranges the records name.
    let retired_in_records = total(&ledger.retirements().flat_map(|r| r.ranges.clone()).collect::<Vec<_>>());
    let cancelled_in_records = total(&ledger.cancellations().flat_map(|c| c.ranges.clone()).collect::<Vec<_>>());
    let retired_in_blocks = ledger.balance(RETIREMENT_ACCOUNT, BlockState::Retired);
    let cancelled_in_blocks = ledger.balance(CANCELLATION_ACCOUNT, BlockState::Cancelled);
    if retired_in_records != retired_in_blocks {
        violations.push(format!(
            "retirement records name {retired_in_records} credits, retired blocks hold {retired_in_blocks}"
        ));
    }
    if cancelled_in_records != cancelled_in_blocks {
        violations.push(format!(
            "cancellation records name {cancelled_in_records} credits, cancelled blocks hold {cancelled_in_blocks}"
        ));
    }
    for retirement in ledger.retirements() {
        for range in &retirement.ranges {
            let ok = ledger
                .block_at(range.start())
                .is_some_and(|b| b.state == BlockState::Retired && b.range.covers(*range));
            if !ok {
                violations.push(format!("retirement {} names {range}, which is not a retired block", retirement.id));
            }
        }
    }

    check_lifecycle(ledger, &mut violations);
    crate::sales::check_sales(ledger, &mut violations);
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

/// Invariants 4 (issued + buffer of a report ≤ its verified net, each report issued at most once),
/// 5 (requester ≠ approver) and 10 (a parcel is never in two active enrolments whose periods
/// overlap).
fn check_lifecycle(ledger: &Ledger, violations: &mut Vec<String>) {
    let lc = ledger.lifecycle();
    let mut issued_reports = std::collections::BTreeSet::new();
    for request in lc.requests.values().filter(|r| r.batch.is_some()) {
        if !issued_reports.insert(request.report) {
            violations.push(format!("invariant 4: report {} was issued more than once", request.report));
        }
        let net = lc.reports.get(&request.report).and_then(|r| r.quantification.as_ref()).map(|q| q.net);
        let issued = request.batch.and_then(|b| ledger.batch(b)).map(|b| b.serials.len());
        match (net, issued) {
            (Some(net), Some(issued)) if crate::Decimal::from(issued.0) <= net => {}
            _ => violations.push(format!(
                "invariant 4: request {} issued {issued:?} credits against a verified net of {net:?}",
                request.id
            )),
        }
        if request.approved_by.as_deref() == Some(request.requested_by.as_str()) {
            violations
                .push(format!("invariant 5: {} both requested and approved {}", request.requested_by, request.id));
        }
    }
    let mut by_parcel: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for e in lc.enrolments.values().filter(|e| e.status.is_active()) {
        by_parcel.entry(e.parcel).or_default().push(e);
    }
    for enrolments in by_parcel.values() {
        for (i, a) in enrolments.iter().enumerate() {
            if let Some(b) = enrolments[i + 1..].iter().find(|b| a.period.overlaps(b.period)) {
                violations.push(format!(
                    "invariant 10: parcel {} is in active enrolments {} and {} for overlapping periods",
                    a.parcel, a.id, b.id
                ));
            }
        }
    }
}

/// Invariant 3 across one step: every retired or cancelled block before is unchanged after.
pub fn check_transition(before: &Ledger, after: &Ledger) -> Result<(), Vec<String>> {
    let violations: Vec<String> = before
        .blocks()
        .filter(|b| b.state.is_terminal())
        .filter(|b| after.block_at(b.range.start()) != Some(*b))
        .map(|b| format!("invariant 3: {} block {} changed", b.state, b.range))
        .collect();
    if violations.is_empty() { Ok(()) } else { Err(violations) }
}

/// The actor the program itself acts as (genesis, key publication, migration).
pub const SYSTEM_ACTOR: &str = "system";

/// Invariant 5 over the log, which (unlike the state) knows who did what: a batch is issued only
/// by the approval of a four-eyes issuance request, in the entries of that approval, or by the
/// program itself (`SYSTEM_ACTOR`: credits that predate the registry, test fixtures). No token
/// can issue directly; this catches a log in which someone did.
#[derive(Debug, Default)]
pub struct IssuanceAudit {
    /// The batch the previous entry issued, if someone other than the program did: (batch, entry
    /// index, issuer). An approval follows its batch at once, so there is at most one.
    awaiting_approval: Option<(BatchId, u64, String)>,
    approved: u64,
    direct: u64,
    violations: Vec<String>,
}

impl IssuanceAudit {
    /// Feeds the next log entry, in log order.
    pub fn observe(&mut self, entry: &crate::encoding::LogEntry) {
        use crate::command::Event;
        use crate::lifecycle::LifecycleEvent;
        if let Event::Lifecycle(LifecycleEvent::IssuanceApproved { batch, by, .. }) = &entry.event {
            match self.awaiting_approval.take() {
                Some((issued, _, issuer)) if issued == *batch && issuer == *by => self.approved += 1,
                Some((issued, index, issuer)) if issued == *batch => self.violations.push(format!(
                    "invariant 5: batch {batch} was issued by {issuer} (entry {index}) but approved by {by}"
                )),
                other => {
                    self.awaiting_approval = other;
                    self.violations.push(format!(
                        "invariant 5: entry {} approves batch {batch}, which the entry before did not issue",
                        entry.index
                    ));
                }
            }
            return;
        }
        // An approval is committed right after its batch, so any other entry in between means
        // the batch was issued on its own.
        self.flush();
        if let Event::BatchIssued(batch) = &entry.event {
            if entry.actor == SYSTEM_ACTOR {
                self.direct += 1;
            } else {
                self.awaiting_approval = Some((batch.id, entry.index, entry.actor.clone()));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((batch, index, issuer)) = self.awaiting_approval.take() {
            self.violations.push(format!(
                "invariant 5: {issuer} issued batch {batch} (entry {index}) without an approved issuance request"
            ));
        }
    }

    /// What the log showed: batches issued by approval and by the program, and every violation.
    pub fn finish(mut self) -> IssuanceFindings {
        self.flush();
        IssuanceFindings { approved: self.approved, direct: self.direct, violations: self.violations }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceFindings {
    pub approved: u64,
    pub direct: u64,
    pub violations: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Command, Event, IssueCommand};
    use crate::encoding::LogEntry;
    use crate::ids::{AccountId, ProjectCode, RequestId, Timestamp, Vintage};
    use crate::lifecycle::LifecycleEvent;

    /// The log entries of genesis and one issued batch, the batch's by `issuer`.
    fn log_with_a_batch(issuer: &str) -> (Vec<LogEntry>, Event) {
        let mut ledger = Ledger::new();
        let mut entries = Vec::new();
        let record = |events: Vec<Event>, actor: &str, entries: &mut Vec<LogEntry>| {
            for event in events {
                let index = entries.len() as u64;
                entries.push(LogEntry { index, timestamp: Timestamp(index as i64), actor: actor.into(), event });
            }
        };
        let genesis = ledger.execute(&crate::sim::genesis(), Timestamp(0)).expect("genesis");
        record(genesis, SYSTEM_ACTOR, &mut entries);
        let issue = IssueCommand {
            project: ProjectCode(1),
            country: None,
            vintage: Vintage::new(2025).expect("year"),
            quantity: Quantity(10),
            buffer: Quantity(0),
            to: AccountId(1),
            labels: Vec::new(),
        };
        let issued = ledger.execute(&Command::Issue(issue), Timestamp(1)).expect("issue");
        let batch = match issued.first() {
            Some(Event::BatchIssued(b)) => b.id,
            _ => panic!("no batch"),
        };
        record(issued, issuer, &mut entries);
        let approval = Event::Lifecycle(LifecycleEvent::IssuanceApproved {
            id: RequestId(1),
            batch,
            quantity: Quantity(10),
            buffer: Quantity(0),
            by: issuer.into(),
        });
        (entries, approval)
    }

    fn audit(entries: &[LogEntry]) -> IssuanceFindings {
        let mut audit = IssuanceAudit::default();
        entries.iter().for_each(|e| audit.observe(e));
        audit.finish()
    }

    #[test]
    fn the_program_may_issue_directly() {
        let (entries, _) = log_with_a_batch(SYSTEM_ACTOR);
        assert_eq!(audit(&entries), IssuanceFindings { approved: 0, direct: 1, violations: vec![] });
    }

    #[test]
    fn an_operator_issues_only_with_the_approval_that_follows() {
        let (mut entries, approval) = log_with_a_batch("Aiko");
        let alone = audit(&entries);
        assert_eq!(alone.violations.len(), 1, "{alone:?}");
        assert!(alone.violations[0].contains("without an approved issuance request"), "{alone:?}");

        let index = entries.len() as u64;
        entries.push(LogEntry { index, timestamp: Timestamp(9), actor: "Aiko".into(), event: approval });
        assert_eq!(audit(&entries), IssuanceFindings { approved: 1, direct: 0, violations: vec![] });
    }
}
