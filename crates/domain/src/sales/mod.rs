//! Sales (SPEC §5, issue #7): recorded pricing inputs, quotes, escrow, settlement that retires the
//! credits and records the sale, its certificate and its payouts in one command, payouts `owed →
//! paid`, and the refusal of refunds.
//!
//! Credits are sold from the program's issuance account, where the lifecycle issues every batch
//! (the program sells on the farmers' behalf and pays them their share). Escrow and retirement
//! reuse the credit path: `Event::Escrowed`, `Event::EscrowReleased` and `Event::Retired` move the
//! blocks; the sales facts are lifecycle events (`LifecycleEvent::QuoteCreated` …), so they are
//! stored and replayed exactly like the rest of the lifecycle.

pub mod money;
pub mod pricing;

use std::collections::BTreeMap;

use rust_decimal::Decimal;

pub use money::{Currency, Money, largest_remainder};
pub use pricing::{
    Breakdown, BreakdownLine, PricedBatch, PricingFact, PricingInputs, PricingKey, PricingKind, PricingVersion, Step,
    check_fact, price,
};

use crate::command::{Event, Selection};
use crate::error::DomainError;
use crate::ids::*;
use crate::ledger::{ISSUANCE_ACCOUNT, Ledger, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_NOTE_LEN, check_quantity, check_text};
use crate::lifecycle::{EnrolmentStatus, Lifecycle, LifecycleEvent};
use crate::model::{AccountKind, Batch, BlockState, RetirementClaim};
use crate::serial::SerialRange;

/// The seed FAQ's answer to "Are refunds possible?", word for word, which is why every refund is
/// refused.
pub const NO_REFUND_REASON: &str = "Once a sale has been made, the credits are retired in the registry and are \
non-refundable. Please understand that this is an important measure in preventing double-counting.";

/// A quote is valid for at least a minute and at most 30 days.
pub const MIN_QUOTE_VALIDITY_SECS: u32 = 60;
pub const MAX_QUOTE_VALIDITY_SECS: u32 = 30 * 24 * 3600;

/// Which credits a quote is for: one batch, or the oldest batch that matches a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteTarget {
    Batch(BatchId),
    Filter(SaleFilter),
}

/// A buyer's criteria. Every given criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleFilter {
    /// A methodology code, e.g. `AG-005`.
    pub methodology: Option<String>,
    pub vintage_from: Option<Vintage>,
    pub vintage_to: Option<Vintage>,
    /// A label the batch must carry, e.g. `J-Credit-eligible`.
    pub label: Option<String>,
    /// The minimum ecological score of the batch (see [`ecological_score`]).
    pub min_ecological_score: Option<Decimal>,
}

/// The ecological score of a batch: the score of the monitoring period it was issued from
/// (`Lifecycle::batch_ecological_score`), unrounded, so the buyer's minimum compares with the
/// exact value. `None` for a batch issued outside the lifecycle or from a report that measured
/// no catalogue indicator: such a batch never passes a minimum-score filter.
pub fn ecological_score(lifecycle: &Lifecycle, batch: BatchId) -> Option<Decimal> {
    lifecycle.batch_ecological_score(batch).and_then(|s| s.score)
}

/// Whether a batch is for sale and has everything a quote by filter asks for. The buyer's pages
/// list the matching batches with it; a quote by filter takes the oldest of them that still has
/// the quantity (`Ledger::resolve_target`).
pub fn batch_matches(lifecycle: &Lifecycle, b: &Batch, filter: &SaleFilter) -> bool {
    let Ok(priced) = priced_batch(lifecycle, b) else { return false };
    filter.methodology.as_ref().is_none_or(|m| *m == priced.methodology_code)
        && filter.vintage_from.is_none_or(|v| b.vintage >= v)
        && filter.vintage_to.is_none_or(|v| b.vintage <= v)
        && filter.label.as_ref().is_none_or(|l| priced.labels.contains(l))
        && filter.min_ecological_score.is_none_or(|min| ecological_score(lifecycle, b.id).is_some_and(|s| s >= min))
}

/// What a user asks of sales. The acting user travels beside it (`Command::Sales`).
#[derive(Debug, Clone, PartialEq)]
pub enum SalesCommand {
    /// Records a new version of one pricing input.
    RecordPricing {
        fact: PricingFact,
    },
    CreateQuote {
        buyer: AccountId,
        target: QuoteTarget,
        quantity: Quantity,
        currency: Currency,
        valid_for_secs: u32,
    },
    /// Escrows the quote's credits (the oldest serials of its batch) and opens the sale.
    AcceptQuote {
        quote: QuoteId,
    },
    /// Payment recorded: retires the escrowed credits for the claim and records the sale's
    /// certificate and payouts, all in this one command.
    Settle {
        sale: SaleId,
        claim: RetirementClaim,
        payment_reference: String,
        confidential: bool,
    },
    /// Releases the escrow of an unsettled sale.
    CancelSale {
        sale: SaleId,
        reason: String,
    },
    /// Releases the escrow of a sale whose quote has expired.
    ExpireSale {
        sale: SaleId,
    },
    PayPayout {
        sale: SaleId,
        participant: ParticipantId,
        reference: String,
    },
    /// Always refused with [`NO_REFUND_REASON`]; exists so that the refusal is explicit.
    Refund {
        sale: SaleId,
        reason: String,
    },
    /// The only correction after settlement: a compensating note, published with the sale.
    RecordNote {
        sale: SaleId,
        note: String,
    },
    /// The buyer names, before settlement, whom its credits are retired for and why; settlement
    /// must then retire them with exactly this claim, so the operator cannot change it.
    StateClaim {
        sale: SaleId,
        claim: RetirementClaim,
    },
}

impl SalesCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::RecordPricing { .. } => "record_pricing",
            Self::CreateQuote { .. } => "create_quote",
            Self::AcceptQuote { .. } => "accept_quote",
            Self::Settle { .. } => "settle_sale",
            Self::CancelSale { .. } => "cancel_sale",
            Self::ExpireSale { .. } => "expire_sale",
            Self::PayPayout { .. } => "pay_payout",
            Self::Refund { .. } => "refund",
            Self::RecordNote { .. } => "record_sale_note",
            Self::StateClaim { .. } => "state_sale_claim",
        }
    }
}

/// One participant's share of a sale's net.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub participant: ParticipantId,
    /// The participant's verified contribution (tCO2e) to the batch: the weight of the split.
    pub contribution: Decimal,
    pub amount: Money,
}

/// The share of a participant whose withdrawal took effect before settlement: paid to nobody,
/// disclosed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forfeiture {
    pub participant: ParticipantId,
    pub contribution: Decimal,
    pub amount: Money,
    /// The withdrawal's effective date.
    pub withdrawn: Date,
}

/// What settlement recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub retirement: RetirementId,
    /// The certificate's public id, e.g. `AGR-CERT-R000001`.
    pub certificate: String,
    pub confidential: bool,
    pub payment_reference: String,
    pub gross: Money,
    pub commission: Money,
    pub payouts: Vec<Payout>,
    pub forfeitures: Vec<Forfeiture>,
}

impl Settlement {
    pub fn forfeited(&self) -> u64 {
        self.forfeitures.iter().map(|f| f.amount.minor).sum()
    }
    pub fn paid_out(&self) -> u64 {
        self.payouts.iter().map(|p| p.amount.minor).sum()
    }
}

named_enum!(
    QuoteStatus {
        Open = 1, "open";
        Accepted = 2, "accepted";
    }
);

named_enum!(
    SaleStatus {
        Escrowed = 1, "escrowed";
        Settled = 2, "settled";
        Cancelled = 3, "cancelled";
        Expired = 4, "expired";
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub id: QuoteId,
    pub buyer: AccountId,
    pub batch: BatchId,
    pub quantity: Quantity,
    pub currency: Currency,
    pub breakdown: Breakdown,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: QuoteStatus,
    pub sale: Option<SaleId>,
}

/// A payout's payment, once made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paid {
    pub reference: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleNote {
    pub note: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub id: SaleId,
    pub quote: QuoteId,
    pub buyer: AccountId,
    pub batch: BatchId,
    /// The escrowed (then retired) serials, held by the issuance account until settlement.
    pub ranges: Vec<SerialRange>,
    pub quantity: Quantity,
    pub status: SaleStatus,
    pub opened_at: Timestamp,
    pub expires_at: Timestamp,
    pub settlement: Option<Settlement>,
    pub settled_at: Option<Timestamp>,
    pub paid: BTreeMap<ParticipantId, Paid>,
    pub notes: Vec<SaleNote>,
    pub released_reason: Option<String>,
    /// The claim the buyer stated for settlement (`SalesCommand::StateClaim`), latest first wins.
    pub claim: Option<RetirementClaim>,
}

/// The sales part of the lifecycle state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sales {
    pub pricing: BTreeMap<PricingKey, Vec<PricingVersion>>,
    pub quotes: BTreeMap<QuoteId, Quote>,
    pub sales: BTreeMap<SaleId, Sale>,
}

impl PricingInputs for Sales {
    fn current(&self, kind: PricingKind, subject: &str) -> Option<&PricingVersion> {
        self.pricing.get(&PricingKey { kind, subject: subject.to_owned() }).and_then(|v| v.last())
    }
}

/// The recorded inputs with one change applied, for previewing its effect before saving it.
pub struct WithChange<'a> {
    pub inputs: &'a Sales,
    pub change: PricingVersion,
}

impl PricingInputs for WithChange<'_> {
    fn current(&self, kind: PricingKind, subject: &str) -> Option<&PricingVersion> {
        if self.change.fact.key.kind == kind && self.change.fact.key.subject == subject {
            Some(&self.change)
        } else {
            self.inputs.current(kind, subject)
        }
    }
}

impl Sales {
    pub fn next_version(&self, key: &PricingKey) -> u32 {
        self.pricing.get(key).map_or(1, |v| v.len() as u32 + 1)
    }

    /// The sale that retired a retirement, if it was a sale.
    pub fn sale_for_retirement(&self, retirement: RetirementId) -> Option<&Sale> {
        self.sales.values().find(|s| s.settlement.as_ref().is_some_and(|x| x.retirement == retirement))
    }

    pub(crate) fn apply(&mut self, event: &LifecycleEvent, at: Timestamp) {
        use LifecycleEvent as E;
        match event {
            E::PricingRecorded { fact, version, by } => {
                let versions = self.pricing.entry(fact.key.clone()).or_default();
                assert_eq!(versions.len() as u32 + 1, *version, "pricing versions are consecutive");
                versions.push(PricingVersion { fact: fact.clone(), version: *version, by: by.clone(), at });
            }
            E::QuoteCreated { id, buyer, batch, quantity, currency, breakdown, expires_at, by } => {
                let quote = Quote {
                    id: *id,
                    buyer: *buyer,
                    batch: *batch,
                    quantity: *quantity,
                    currency: *currency,
                    breakdown: breakdown.clone(),
                    created_by: by.clone(),
                    created_at: at,
                    expires_at: *expires_at,
                    status: QuoteStatus::Open,
                    sale: None,
                };
                assert!(self.quotes.insert(*id, quote).is_none(), "quote {id} created twice");
            }
            E::SaleOpened { id, quote, ranges, .. } => {
                let q = self.quotes.get_mut(quote).expect("accepted quote exists");
                q.status = QuoteStatus::Accepted;
                q.sale = Some(*id);
                let sale = Sale {
                    id: *id,
                    quote: *quote,
                    buyer: q.buyer,
                    batch: q.batch,
                    ranges: ranges.clone(),
                    quantity: q.quantity,
                    status: SaleStatus::Escrowed,
                    opened_at: at,
                    expires_at: q.expires_at,
                    settlement: None,
                    settled_at: None,
                    paid: BTreeMap::new(),
                    notes: Vec::new(),
                    released_reason: None,
                    claim: None,
                };
                assert!(self.sales.insert(*id, sale).is_none(), "sale {id} opened twice");
            }
            E::SaleSettled { id, settlement, .. } => {
                let sale = self.sales.get_mut(id).expect("settled sale exists");
                sale.status = SaleStatus::Settled;
                sale.settlement = Some(settlement.clone());
                sale.settled_at = Some(at);
            }
            E::SaleReleased { id, expired, reason, .. } => {
                let sale = self.sales.get_mut(id).expect("released sale exists");
                sale.status = if *expired { SaleStatus::Expired } else { SaleStatus::Cancelled };
                sale.released_reason = Some(reason.clone());
            }
            E::PayoutPaid { sale, participant, reference, by } => {
                let sale = self.sales.get_mut(sale).expect("paid sale exists");
                let paid = Paid { reference: reference.clone(), by: by.clone(), at };
                assert!(sale.paid.insert(*participant, paid).is_none(), "payout paid twice");
            }
            E::SaleNoted { sale, note, by } => {
                let sale = self.sales.get_mut(sale).expect("noted sale exists");
                sale.notes.push(SaleNote { note: note.clone(), by: by.clone(), at });
            }
            E::SaleClaimStated { sale, claim, .. } => {
                let sale = self.sales.get_mut(sale).expect("claimed sale exists");
                sale.claim = Some(claim.clone());
            }
            _ => unreachable!("not a sales event"),
        }
    }
}

/// The project of a batch issued through the lifecycle, and its contributions per participant
/// (parcels summed, ordered by participant).
pub fn batch_contributions(lc: &Lifecycle, batch: BatchId) -> Option<(ProjectCode, BTreeMap<ParticipantId, Decimal>)> {
    let request = lc.request_for_batch(batch)?;
    let report = lc.reports.get(&request.report)?;
    let quantification = report.quantification.as_ref()?;
    let mut by_participant: BTreeMap<ParticipantId, Decimal> = BTreeMap::new();
    for (parcel, contribution) in &quantification.contributions {
        if let Some(p) = lc.parcels.get(parcel) {
            *by_participant.entry(p.participant).or_default() += *contribution;
        }
    }
    Some((report.spec.project, by_participant))
}

/// The effective date of a participant's withdrawal from a project that had taken effect at
/// `at`: approved at or before `at`, effective on or before `at`'s date. Invariant 9 and the
/// payout split both ask this one question.
pub fn withdrawn_at(lc: &Lifecycle, project: ProjectCode, participant: ParticipantId, at: Timestamp) -> Option<Date> {
    lc.enrolments
        .values()
        .filter(|e| e.project == project && e.participant == participant && e.status == EnrolmentStatus::Withdrawn)
        .filter(|e| e.history.iter().any(|t| t.to == EnrolmentStatus::Withdrawn.as_str() && t.at <= at))
        .filter_map(|e| e.withdrawal.as_ref().and_then(|w| w.effective))
        .filter(|effective| *effective <= at.date())
        .min()
}

/// Deliberate bugs, to show that the simulator catches them (issue #10: "seen to fail on
/// purpose"). Off unless a test turns one on, and then only on its own thread, so tests running
/// beside it are unaffected; a simulation that wants the bug runs its registry on that thread (a
/// current-thread runtime). Not a configuration: nothing outside tests sets it.
#[doc(hidden)]
pub mod injected {
    use std::cell::Cell;

    thread_local! {
        static WRONG_PAYOUT_SPLIT: Cell<bool> = const { Cell::new(false) };
        static PAY_THE_WITHDRAWN: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes `split_payouts` pay withdrawn participants their share instead of forfeiting it
    /// (invariant 9 breaks).
    pub fn set_pay_the_withdrawn(on: bool) {
        PAY_THE_WITHDRAWN.with(|bug| bug.set(on));
    }

    pub(crate) fn pay_the_withdrawn() -> bool {
        PAY_THE_WITHDRAWN.with(Cell::get)
    }

    /// Makes `split_payouts` round every share down, losing the remainders (invariant 8 breaks).
    pub fn set_wrong_payout_split(on: bool) {
        WRONG_PAYOUT_SPLIT.with(|bug| bug.set(on));
    }

    pub(crate) fn wrong_payout_split() -> bool {
        WRONG_PAYOUT_SPLIT.with(Cell::get)
    }
}

/// Splits a sale's net over the contributors by largest remainder; the shares of those withdrawn
/// (`Some(effective date)`) become forfeitures. Σ payouts + Σ forfeitures = net exactly.
pub fn split_payouts(
    net: Money,
    contributors: &[(ParticipantId, Decimal, Option<Date>)],
) -> Result<(Vec<Payout>, Vec<Forfeiture>), DomainError> {
    let weights: Vec<Decimal> = contributors.iter().map(|c| c.1).collect();
    let mut parts = largest_remainder(net.minor, &weights)?;
    if injected::wrong_payout_split() {
        // The deliberate bug: every share rounded down, the remainders lost.
        let sum: Decimal = weights.iter().sum();
        for (part, weight) in parts.iter_mut().zip(&weights) {
            *part = u64::try_from((Decimal::from(net.minor) * *weight / sum).floor()).unwrap_or(*part);
        }
    }
    let mut payouts = Vec::new();
    let mut forfeitures = Vec::new();
    for ((participant, contribution, withdrawn), part) in contributors.iter().zip(parts) {
        let amount = Money { currency: net.currency, minor: part };
        // The deliberate bug `injected::pay_the_withdrawn` forgets the withdrawal.
        let withdrawn = withdrawn.filter(|_| !injected::pay_the_withdrawn());
        match withdrawn {
            None => payouts.push(Payout { participant: *participant, contribution: *contribution, amount }),
            Some(date) => forfeitures.push(Forfeiture {
                participant: *participant,
                contribution: *contribution,
                amount,
                withdrawn: date,
            }),
        }
    }
    Ok((payouts, forfeitures))
}

/// The facts a quote for a batch needs, from the lifecycle that issued it; a batch issued
/// outside the lifecycle cannot be sold, because nothing says whom its payouts go to.
pub fn priced_batch(lc: &Lifecycle, b: &Batch) -> Result<PricedBatch, DomainError> {
    let batch = b.id;
    let not_sellable = || {
        DomainError::Invalid(format!(
            "batch {batch} was not issued through the program's lifecycle; only such batches are sold, because \
             payouts follow the verified contributions of the parcels that produced them"
        ))
    };
    let request = lc.request_for_batch(batch).ok_or_else(not_sellable)?;
    let report = lc.reports.get(&request.report).ok_or_else(not_sellable)?;
    let project = lc.projects.get(&report.spec.project).ok_or_else(not_sellable)?;
    let methodology = lc.methodologies.get(&project.spec.methodology).ok_or_else(not_sellable)?;
    let mut labels = b.labels.clone();
    for label in lc.labels.get(&batch).into_iter().flatten() {
        let name = label.kind.as_str().to_owned();
        if !labels.contains(&name) {
            labels.push(name);
        }
    }
    Ok(PricedBatch {
        methodology_code: methodology.spec.code.clone(),
        project: b.project.to_string(),
        country: b.country.as_str().to_owned(),
        labels,
    })
}

/// The pure quote function over the recorded inputs of `lc`, with an optional change applied:
/// the operator's preview of a change before saving it. Saves nothing.
pub fn preview(
    lc: &Lifecycle,
    b: &Batch,
    quantity: Quantity,
    currency: Currency,
    change: Option<PricingFact>,
) -> Result<Breakdown, DomainError> {
    check_quantity(quantity, "quantity")?;
    let priced = priced_batch(lc, b)?;
    let sales = &lc.sales;
    match change {
        None => price(sales, &priced, quantity, currency),
        Some(fact) => {
            check_fact(&fact)?;
            let version = sales.next_version(&fact.key);
            let change = PricingVersion { fact, version, by: String::new(), at: Timestamp(0) };
            price(&WithChange { inputs: sales, change }, &priced, quantity, currency)
        }
    }
}

type Decided = Result<Vec<Event>, DomainError>;

fn unknown(what: &'static str, id: impl ToString) -> DomainError {
    DomainError::Unknown { what, id: id.to_string() }
}

fn sales_event(event: LifecycleEvent) -> Event {
    Event::Lifecycle(event)
}

impl Ledger {
    /// The facts a quote for `batch` needs, or why the batch cannot be sold.
    pub fn priced_batch(&self, batch: BatchId) -> Result<PricedBatch, DomainError> {
        let b = self.batch(batch).ok_or(DomainError::UnknownBatch(batch))?;
        priced_batch(self.lifecycle(), b)
    }

    /// Credits of a batch the program can still sell (tradable in the issuance account).
    pub fn available_for_sale(&self, batch: BatchId) -> Quantity {
        Quantity(
            self.blocks_of(ISSUANCE_ACCOUNT)
                .filter(|b| b.batch == batch && b.state == BlockState::Tradable)
                .map(|b| b.range.len().0)
                .sum(),
        )
    }

    fn matches_filter(&self, batch: BatchId, filter: &SaleFilter) -> bool {
        self.batch(batch).is_some_and(|b| batch_matches(self.lifecycle(), b, filter))
    }

    /// The batch a quote target names: the batch itself, or the oldest matching batch that still
    /// has `quantity` credits for sale.
    pub fn resolve_target(&self, target: &QuoteTarget, quantity: Quantity) -> Result<BatchId, DomainError> {
        match target {
            QuoteTarget::Batch(batch) => {
                self.priced_batch(*batch)?;
                Ok(*batch)
            }
            QuoteTarget::Filter(filter) => {
                if let Some(label) = &filter.label
                    && (label.is_empty() || label.len() > MAX_LABEL_LEN)
                {
                    return Err(DomainError::Invalid("the label filter must be 1-64 characters".into()));
                }
                let matching: Vec<BatchId> =
                    self.batches().map(|b| b.id).filter(|id| self.matches_filter(*id, filter)).collect();
                if matching.is_empty() {
                    return Err(DomainError::Invalid("no batch matches the filter".into()));
                }
                let available: u64 = matching.iter().map(|id| self.available_for_sale(*id).0).max().unwrap_or(0);
                matching.into_iter().find(|id| self.available_for_sale(*id) >= quantity).ok_or(
                    DomainError::InsufficientCredits {
                        account: ISSUANCE_ACCOUNT,
                        available: Quantity(available),
                        requested: quantity,
                        scope: " in any one batch matching the filter".into(),
                    },
                )
            }
        }
    }

    /// The pure quote function over the recorded inputs, with an optional change applied
    /// (preview). Saves nothing.
    pub fn preview_quote(
        &self,
        target: &QuoteTarget,
        quantity: Quantity,
        currency: Currency,
        change: Option<PricingFact>,
    ) -> Result<(BatchId, Breakdown), DomainError> {
        check_quantity(quantity, "quantity")?;
        let batch = self.resolve_target(target, quantity)?;
        let b = self.batch(batch).ok_or(DomainError::UnknownBatch(batch))?;
        Ok((batch, preview(self.lifecycle(), b, quantity, currency, change)?))
    }

    pub(crate) fn decide_sales(&self, by: &str, command: &SalesCommand, now: Timestamp) -> Decided {
        use LifecycleEvent as E;
        use SalesCommand as C;
        check_text("acting user", by, 100, true)?;
        let by = by.to_owned();
        let sales = &self.lifecycle().sales;
        let sale_of = |id: &SaleId| sales.sales.get(id).ok_or_else(|| unknown("sale", id));
        let escrowed = |sale: &Sale, action: &'static str| {
            if sale.status == SaleStatus::Escrowed {
                Ok(())
            } else {
                Err(DomainError::WrongState {
                    what: format!("sale {}", sale.id),
                    state: sale.status.to_string(),
                    action,
                })
            }
        };
        match command {
            C::RecordPricing { fact } => {
                check_fact(fact)?;
                let version = sales.next_version(&fact.key);
                Ok(vec![sales_event(E::PricingRecorded { fact: fact.clone(), version, by })])
            }
            C::CreateQuote { buyer, target, quantity, currency, valid_for_secs } => {
                let account = self.account(*buyer).ok_or(DomainError::UnknownAccount(*buyer))?;
                if account.kind != AccountKind::Buyer {
                    return Err(DomainError::WrongAccountKind {
                        account: *buyer,
                        kind: account.kind.as_str(),
                        action: "buy credits",
                    });
                }
                if !(MIN_QUOTE_VALIDITY_SECS..=MAX_QUOTE_VALIDITY_SECS).contains(valid_for_secs) {
                    return Err(DomainError::Invalid(format!(
                        "a quote is valid for {MIN_QUOTE_VALIDITY_SECS} to {MAX_QUOTE_VALIDITY_SECS} seconds"
                    )));
                }
                let (batch, breakdown) = self.preview_quote(target, *quantity, *currency, None)?;
                let available = self.available_for_sale(batch);
                if available < *quantity {
                    return Err(DomainError::InsufficientCredits {
                        account: ISSUANCE_ACCOUNT,
                        available,
                        requested: *quantity,
                        scope: format!(" for sale in batch {batch}"),
                    });
                }
                let id = QuoteId(sales.quotes.keys().next_back().map_or(1, |k| k.0 + 1));
                let expires_at = Timestamp(now.0 + i64::from(*valid_for_secs) * 1_000_000);
                Ok(vec![sales_event(E::QuoteCreated {
                    id,
                    buyer: *buyer,
                    batch,
                    quantity: *quantity,
                    currency: *currency,
                    breakdown,
                    expires_at,
                    by,
                })])
            }
            C::AcceptQuote { quote } => {
                let q = sales.quotes.get(quote).ok_or_else(|| unknown("quote", quote))?;
                if q.status != QuoteStatus::Open {
                    return Err(DomainError::WrongState {
                        what: format!("quote {quote}"),
                        state: q.status.to_string(),
                        action: "be accepted",
                    });
                }
                if now > q.expires_at {
                    return Err(DomainError::QuoteExpired { quote: *quote });
                }
                let selection = Selection::Quantity { quantity: q.quantity, batch: Some(q.batch) };
                let ranges = self.select(ISSUANCE_ACCOUNT, BlockState::Tradable, &selection)?;
                let id = SaleId(sales.sales.keys().next_back().map_or(1, |k| k.0 + 1));
                Ok(vec![
                    Event::Escrowed { account: ISSUANCE_ACCOUNT, ranges: ranges.clone() },
                    sales_event(E::SaleOpened { id, quote: *quote, ranges, by }),
                ])
            }
            C::Settle { sale, claim, payment_reference, confidential } => {
                let s = sale_of(sale)?;
                escrowed(s, "be settled")?;
                if now > s.expires_at {
                    return Err(DomainError::QuoteExpired { quote: s.quote });
                }
                crate::ledger::check_claim(claim)?;
                if let Some(stated) = &s.claim
                    && stated != claim
                {
                    return Err(DomainError::Invalid(format!(
                        "the buyer stated the claim of sale {sale} (beneficiary {:?}, purpose {}); settle it with \
                         that claim",
                        stated.beneficiary.name, stated.purpose
                    )));
                }
                check_text("payment reference", payment_reference, MAX_NAME_LEN, true)?;
                let quote = &sales.quotes[&s.quote];
                let lc = self.lifecycle();
                let (project, contributions) = batch_contributions(lc, s.batch)
                    .ok_or_else(|| DomainError::Invalid(format!("batch {} has no verified contributions", s.batch)))?;
                let contributors: Vec<_> =
                    contributions.into_iter().map(|(p, c)| (p, c, withdrawn_at(lc, project, p, now))).collect();
                let (payouts, forfeitures) = split_payouts(quote.breakdown.net, &contributors)?;
                let retirement = self.next_retirement_id();
                let program = self.program().map_or("FRW", |p| p.code.as_str());
                let settlement = Settlement {
                    retirement,
                    certificate: format!("{program}-CERT-{retirement}"),
                    confidential: *confidential,
                    payment_reference: payment_reference.clone(),
                    gross: quote.breakdown.gross,
                    commission: quote.breakdown.commission,
                    payouts,
                    forfeitures,
                };
                Ok(vec![
                    Event::Retired {
                        id: retirement,
                        account: ISSUANCE_ACCOUNT,
                        ranges: s.ranges.clone(),
                        claim: claim.clone(),
                    },
                    sales_event(E::SaleSettled { id: *sale, settlement, by }),
                ])
            }
            C::CancelSale { sale, reason } => {
                let s = sale_of(sale)?;
                escrowed(s, "be cancelled")?;
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                Ok(vec![
                    Event::EscrowReleased { account: ISSUANCE_ACCOUNT, ranges: s.ranges.clone() },
                    sales_event(E::SaleReleased { id: *sale, expired: false, reason: reason.clone(), by }),
                ])
            }
            C::ExpireSale { sale } => {
                let s = sale_of(sale)?;
                escrowed(s, "expire")?;
                if now <= s.expires_at {
                    return Err(DomainError::WrongState {
                        what: format!("sale {sale}"),
                        state: "escrowed until its quote expires".into(),
                        action: "expire yet",
                    });
                }
                Ok(vec![
                    Event::EscrowReleased { account: ISSUANCE_ACCOUNT, ranges: s.ranges.clone() },
                    sales_event(E::SaleReleased { id: *sale, expired: true, reason: "quote expired".into(), by }),
                ])
            }
            C::PayPayout { sale, participant, reference } => {
                let s = sale_of(sale)?;
                check_text("payment reference", reference, MAX_NAME_LEN, true)?;
                let settlement = s.settlement.as_ref().ok_or_else(|| DomainError::WrongState {
                    what: format!("sale {sale}"),
                    state: s.status.to_string(),
                    action: "pay payouts before it is settled",
                })?;
                if !settlement.payouts.iter().any(|p| p.participant == *participant) {
                    return Err(unknown("payout", format!("{sale}/{participant}")));
                }
                if s.paid.contains_key(participant) {
                    return Err(DomainError::WrongState {
                        what: format!("payout {sale}/{participant}"),
                        state: "paid".into(),
                        action: "be paid again",
                    });
                }
                Ok(vec![sales_event(E::PayoutPaid {
                    sale: *sale,
                    participant: *participant,
                    reference: reference.clone(),
                    by,
                })])
            }
            C::Refund { sale, .. } => {
                sale_of(sale)?;
                Err(DomainError::NoRefund { sale: *sale })
            }
            C::RecordNote { sale, note } => {
                sale_of(sale)?;
                check_text("note", note, MAX_NOTE_LEN, true)?;
                Ok(vec![sales_event(E::SaleNoted { sale: *sale, note: note.clone(), by })])
            }
            C::StateClaim { sale, claim } => {
                escrowed(sale_of(sale)?, "take a claim")?;
                crate::ledger::check_claim(claim)?;
                Ok(vec![sales_event(E::SaleClaimStated { sale: *sale, claim: claim.clone(), by })])
            }
        }
    }
}

/// Invariants 8 (Σ payouts + commission + forfeiture = gross, for every sale) and 9 (no payout to
/// a participant whose withdrawal took effect before the settlement).
pub fn check_sales(ledger: &Ledger, violations: &mut Vec<String>) {
    let lc = ledger.lifecycle();
    for sale in lc.sales.sales.values() {
        let (Some(settlement), Some(at)) = (&sale.settlement, sale.settled_at) else { continue };
        let sum = u128::from(settlement.paid_out())
            + u128::from(settlement.commission.minor)
            + u128::from(settlement.forfeited());
        if sum != u128::from(settlement.gross.minor) {
            violations.push(format!(
                "invariant 8: sale {} pays out {} + commission {} + forfeiture {} ≠ gross {}",
                sale.id,
                settlement.paid_out(),
                settlement.commission.minor,
                settlement.forfeited(),
                settlement.gross.minor
            ));
        }
        let project = batch_contributions(lc, sale.batch).map(|(p, _)| p);
        for payout in &settlement.payouts {
            if let Some(project) = project
                && let Some(date) = withdrawn_at(lc, project, payout.participant, at)
            {
                violations.push(format!(
                    "invariant 9: sale {} pays {} although their withdrawal took effect on {date}",
                    sale.id, payout.participant
                ));
            }
        }
        let retired = ledger.retirements().find(|r| r.id == settlement.retirement);
        if retired.is_none_or(|r| crate::model::total(&r.ranges) != sale.quantity) {
            violations.push(format!(
                "sale {} names retirement {}, which does not retire its credits",
                sale.id, settlement.retirement
            ));
        }
    }
    // Escrow matches the open sales exactly.
    let escrowed_by_sales: u64 =
        lc.sales.sales.values().filter(|s| s.status == SaleStatus::Escrowed).map(|s| s.quantity.0).sum();
    let escrowed_blocks: u64 =
        ledger.blocks().filter(|b| b.state == BlockState::Escrowed).map(|b| b.range.len().0).sum();
    if escrowed_by_sales != escrowed_blocks {
        violations
            .push(format!("open sales escrow {escrowed_by_sales} credits but escrowed blocks hold {escrowed_blocks}"));
    }
}
