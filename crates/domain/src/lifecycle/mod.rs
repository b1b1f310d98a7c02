//! The program lifecycle (SPEC §2, issue #5): the methodology catalogue, projects, participants
//! and parcels with their enrolments, join applications, monitoring reports with frozen
//! quantifications, four-eyes issuance, reversals from the buffer pool, withdrawals and labels.
//!
//! The same decide/apply split as the ledger: `Ledger::decide` validates a `LifecycleCommand`
//! against the whole state (credits included) and refuses with a `DomainError`, changing nothing;
//! `Lifecycle::apply` records a `LifecycleEvent` and cannot fail. Commands that issue or cancel
//! credits produce the ledger's own `BatchIssued` and `Cancelled` events beside the lifecycle
//! event, so the credit path is the one that already exists.

pub mod codec;
pub mod controls;
mod decide;
pub mod ecology;
pub mod engine;
pub mod engines;
pub mod geometry;
pub mod model;
pub mod sealed;
mod state;

use rust_decimal::Decimal;

pub use controls::Controls;
pub use decide::check_activity;
pub use geometry::{GridCell, Polygon};
pub use model::*;
pub use sealed::{Salt, Sealed, derive_salt};
pub use state::Lifecycle;

use crate::command::Selection;
use crate::ids::{
    AccountId, ApplicationId, BatchId, CancellationId, Date, EnrolmentId, KeyRotationId, MethodologyId, ParcelId,
    ParticipantId, ProjectCode, Quantity, QuoteId, ReportId, RequestId, ReversalId, SaleId, Timestamp,
};
use crate::model::{CancellationReason, RetirementClaim};
use crate::sales::{Breakdown, Currency, PricingFact, Settlement};
use crate::serial::SerialRange;

/// What a user asks of the lifecycle. The acting user travels beside it (`Command::Lifecycle`).
#[derive(Debug, Clone, PartialEq)]
pub enum LifecycleCommand {
    /// Sets the program's recognised grounds for withdrawal before the end of a contract.
    ConfigureWithdrawalGrounds {
        grounds: Vec<String>,
    },
    DraftMethodology {
        spec: MethodologySpec,
    },
    ApproveMethodology {
        id: MethodologyId,
    },
    DeprecateMethodology {
        id: MethodologyId,
    },
    DraftProject {
        spec: ProjectSpec,
    },
    TransitionProject {
        project: ProjectCode,
        action: ProjectAction,
        reason: String,
    },
    /// Names the verifier (a verifier's subject) who validates the project and verifies its
    /// reports; replaces an earlier assignment.
    AssignVerifier {
        project: ProjectCode,
        verifier: String,
    },
    /// Opens a registered project for participation, or closes it (`None`).
    SetParticipation {
        project: ProjectCode,
        participation: Option<Participation>,
    },
    ApplyToJoin {
        project: ProjectCode,
        applicant: Option<ParticipantId>,
        application: ApplicationPrivate,
        salt: Salt,
    },
    DeclineApplication {
        application: ApplicationId,
        reason: String,
    },
    /// Creates the participant (unless the applicant is one), the parcels and their enrolments.
    AcceptApplication {
        application: ApplicationId,
        period: Period,
        salt: Salt,
    },
    RegisterParticipant {
        person: Person,
        prefecture: String,
        salt: Salt,
    },
    RegisterParcel {
        participant: ParticipantId,
        parcel: ParcelDraft,
        salt: Salt,
    },
    Enrol {
        project: ProjectCode,
        parcel: ParcelId,
        period: Period,
    },
    DraftReport {
        spec: ReportSpec,
    },
    SubmitReport {
        report: ReportId,
    },
    /// Verifies a submitted report and freezes its quantification.
    VerifyReport {
        report: ReportId,
    },
    ReturnReport {
        report: ReportId,
        reason: String,
    },
    RequestIssuance {
        report: ReportId,
        labels: Vec<String>,
    },
    /// Approves a request by another operator; issues the batch.
    ApproveIssuance {
        request: RequestId,
    },
    /// Requests a reversal (a loss of stored carbon): another operator approves it, and only then
    /// is the quantity cancelled from the buffer pool.
    RecordReversal {
        project: ProjectCode,
        quantity: Quantity,
        note: String,
    },
    /// Approves a reversal another operator requested; cancels its quantity from the buffer pool.
    ApproveReversal {
        reversal: ReversalId,
    },
    /// Asks to rotate the log's signing key; another admin approves, and only then does
    /// `furrow key rotate` publish a new key (`Command::PublishLogKey`).
    RequestKeyRotation {
        reason: String,
    },
    ApproveKeyRotation {
        rotation: KeyRotationId,
    },
    /// The note may tell personal circumstances: it is sealed like other personal data.
    RequestWithdrawal {
        enrolment: EnrolmentId,
        ground: String,
        note: String,
        salt: Salt,
    },
    /// Approves (with the effective date) or refuses (`effective: None`) a withdrawal request.
    DecideWithdrawal {
        enrolment: EnrolmentId,
        effective: Option<Date>,
        reason: String,
    },
    AddLabel {
        batch: BatchId,
        kind: LabelKind,
        issuer: String,
        valid: Period,
    },
    /// Registry controls (`controls.rs`). Sets the per-transfer limit and the trusted-list rule.
    ConfigureControls {
        transfer_limit: Option<Quantity>,
        trusted_only: bool,
        trusted_delay_seconds: u32,
    },
    /// Freezes (or unfreezes) an account: nothing moves in or out. The reason is published.
    FreezeAccount {
        account: AccountId,
        frozen: bool,
        reason: String,
    },
    /// Freezes (or unfreezes) a serial range, e.g. reported stolen, wherever it is held.
    FreezeSerials {
        range: crate::serial::SerialRange,
        frozen: bool,
        reason: String,
    },
    ProposeCounterparty {
        account: AccountId,
        counterparty: AccountId,
    },
    /// A second person approves a proposed trusted counterparty.
    ApproveCounterparty {
        account: AccountId,
        counterparty: AccountId,
    },
    RemoveCounterparty {
        account: AccountId,
        counterparty: AccountId,
    },
    /// Four-eyes cancellation: one operator asks, another approves.
    RequestCancellation {
        from: AccountId,
        selection: Selection,
        reason: CancellationReason,
        note: String,
    },
    ApproveCancellation {
        request: u64,
    },
}

impl LifecycleCommand {
    /// Whether the command is a registry control (decided in `controls.rs`).
    pub fn is_control(&self) -> bool {
        matches!(
            self,
            Self::ConfigureControls { .. }
                | Self::FreezeAccount { .. }
                | Self::FreezeSerials { .. }
                | Self::ProposeCounterparty { .. }
                | Self::ApproveCounterparty { .. }
                | Self::RemoveCounterparty { .. }
                | Self::RequestCancellation { .. }
                | Self::ApproveCancellation { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::ConfigureWithdrawalGrounds { .. } => "configure_withdrawal_grounds",
            Self::DraftMethodology { .. } => "draft_methodology",
            Self::ApproveMethodology { .. } => "approve_methodology",
            Self::DeprecateMethodology { .. } => "deprecate_methodology",
            Self::DraftProject { .. } => "draft_project",
            Self::TransitionProject { .. } => "transition_project",
            Self::AssignVerifier { .. } => "assign_verifier",
            Self::SetParticipation { .. } => "set_participation",
            Self::ApplyToJoin { .. } => "apply_to_join",
            Self::DeclineApplication { .. } => "decline_application",
            Self::AcceptApplication { .. } => "accept_application",
            Self::RegisterParticipant { .. } => "register_participant",
            Self::RegisterParcel { .. } => "register_parcel",
            Self::Enrol { .. } => "enrol",
            Self::DraftReport { .. } => "draft_report",
            Self::SubmitReport { .. } => "submit_report",
            Self::VerifyReport { .. } => "verify_report",
            Self::ReturnReport { .. } => "return_report",
            Self::RequestIssuance { .. } => "request_issuance",
            Self::ApproveIssuance { .. } => "approve_issuance",
            Self::RecordReversal { .. } => "record_reversal",
            Self::ApproveReversal { .. } => "approve_reversal",
            Self::RequestKeyRotation { .. } => "request_key_rotation",
            Self::ApproveKeyRotation { .. } => "approve_key_rotation",
            Self::RequestWithdrawal { .. } => "request_withdrawal",
            Self::DecideWithdrawal { .. } => "decide_withdrawal",
            Self::AddLabel { .. } => "add_label",
            Self::ConfigureControls { .. } => "configure_controls",
            Self::FreezeAccount { .. } => "freeze_account",
            Self::FreezeSerials { .. } => "freeze_serials",
            Self::ProposeCounterparty { .. } => "propose_counterparty",
            Self::ApproveCounterparty { .. } => "approve_counterparty",
            Self::RemoveCounterparty { .. } => "remove_counterparty",
            Self::RequestCancellation { .. } => "request_cancellation",
            Self::ApproveCancellation { .. } => "approve_cancellation",
        }
    }

    /// The salt of a command that seals personal data; the application fills it with fresh
    /// randomness before the command is sequenced.
    pub fn salt_mut(&mut self) -> Option<&mut Salt> {
        match self {
            Self::ApplyToJoin { salt, .. }
            | Self::AcceptApplication { salt, .. }
            | Self::RegisterParticipant { salt, .. }
            | Self::RegisterParcel { salt, .. }
            | Self::RequestWithdrawal { salt, .. } => Some(salt),
            _ => None,
        }
    }
}

/// What happened in the lifecycle, as recorded in the log. Personal data appears only sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    WithdrawalGroundsConfigured {
        grounds: Vec<String>,
        by: String,
    },
    MethodologyDrafted {
        id: MethodologyId,
        spec: MethodologySpec,
        by: String,
    },
    MethodologyChanged {
        id: MethodologyId,
        status: MethodologyStatus,
        by: String,
    },
    ProjectDrafted {
        code: ProjectCode,
        spec: ProjectSpec,
        by: String,
    },
    ProjectTransitioned {
        project: ProjectCode,
        status: ProjectStatus,
        reason: String,
        by: String,
    },
    VerifierAssigned {
        project: ProjectCode,
        verifier: String,
        by: String,
    },
    ParticipationSet {
        project: ProjectCode,
        participation: Option<Participation>,
        by: String,
    },
    ApplicationReceived {
        id: ApplicationId,
        project: ProjectCode,
        applicant: Option<ParticipantId>,
        parcels: u32,
        area_ha: Decimal,
        prefecture: String,
        private: Sealed<ApplicationPrivate>,
        by: String,
    },
    ApplicationDecided {
        id: ApplicationId,
        participant: Option<ParticipantId>,
        reason: String,
        by: String,
    },
    ParticipantRegistered {
        id: ParticipantId,
        account: AccountId,
        pseudonym: String,
        prefecture: String,
        person: Sealed<Person>,
        by: String,
    },
    ParcelRegistered {
        id: ParcelId,
        participant: ParticipantId,
        area_ha: Decimal,
        prefecture: String,
        municipality: String,
        cell: GridCell,
        private: Sealed<ParcelPrivate>,
        by: String,
    },
    Enrolled {
        id: EnrolmentId,
        project: ProjectCode,
        parcel: ParcelId,
        participant: ParticipantId,
        period: Period,
        by: String,
    },
    ReportDrafted {
        id: ReportId,
        spec: ReportSpec,
        areas: Vec<(ParcelId, Decimal)>,
        by: String,
    },
    ReportChanged {
        id: ReportId,
        status: ReportStatus,
        reason: String,
        quantification: Option<Quantification>,
        by: String,
    },
    IssuanceRequested {
        id: RequestId,
        report: ReportId,
        labels: Vec<String>,
        by: String,
    },
    /// Follows the `BatchIssued` entry it created.
    IssuanceApproved {
        id: RequestId,
        batch: BatchId,
        quantity: Quantity,
        buffer: Quantity,
        by: String,
    },
    KeyRotationRequested {
        id: KeyRotationId,
        reason: String,
        by: String,
    },
    KeyRotationApproved {
        id: KeyRotationId,
        by: String,
    },
    /// A reversal waiting for a second operator's approval.
    ReversalRequested {
        id: ReversalId,
        project: ProjectCode,
        quantity: Quantity,
        note: String,
        by: String,
    },
    /// The approval of a reversal (`by` is the approver); follows the `Cancelled` entry (from the
    /// buffer pool) that compensates it.
    ReversalRecorded {
        id: ReversalId,
        project: ProjectCode,
        quantity: Quantity,
        cancellation: CancellationId,
        note: String,
        by: String,
    },
    WithdrawalRequested {
        enrolment: EnrolmentId,
        ground: String,
        note: Sealed<String>,
        by: String,
    },
    WithdrawalDecided {
        enrolment: EnrolmentId,
        effective: Option<Date>,
        reason: String,
        by: String,
    },
    LabelAdded {
        batch: BatchId,
        label: BatchLabel,
    },
    ControlsConfigured {
        transfer_limit: Option<Quantity>,
        trusted_only: bool,
        trusted_delay_seconds: u32,
        by: String,
    },
    AccountFrozen {
        account: AccountId,
        frozen: bool,
        reason: String,
        by: String,
    },
    SerialsFrozen {
        range: crate::serial::SerialRange,
        frozen: bool,
        reason: String,
        by: String,
    },
    /// `effective_at`: the proposal's time plus the delay configured then.
    CounterpartyProposed {
        account: AccountId,
        counterparty: AccountId,
        effective_at: crate::ids::Timestamp,
        by: String,
    },
    CounterpartyApproved {
        account: AccountId,
        counterparty: AccountId,
        by: String,
    },
    CounterpartyRemoved {
        account: AccountId,
        counterparty: AccountId,
        by: String,
    },
    CancellationRequested {
        id: u64,
        from: AccountId,
        selection: Selection,
        reason: CancellationReason,
        note: String,
        by: String,
    },
    /// Follows the `Cancelled` entry it caused.
    CancellationApproved {
        id: u64,
        cancellation: CancellationId,
        by: String,
    },
    // Sales (issue #7, `crate::sales`): lifecycle events so that they are stored and replayed
    // with the lifecycle.
    PricingRecorded {
        fact: PricingFact,
        version: u32,
        by: String,
    },
    QuoteCreated {
        id: QuoteId,
        buyer: AccountId,
        batch: BatchId,
        quantity: Quantity,
        currency: Currency,
        breakdown: Breakdown,
        expires_at: Timestamp,
        by: String,
    },
    /// Follows the `Escrowed` entry that reserved its credits.
    SaleOpened {
        id: SaleId,
        quote: QuoteId,
        ranges: Vec<SerialRange>,
        by: String,
    },
    /// Follows the `Retired` entry of the same command: the sale, its certificate and payouts.
    SaleSettled {
        id: SaleId,
        settlement: Settlement,
        by: String,
    },
    /// Follows the `EscrowReleased` entry that made its credits tradable again.
    SaleReleased {
        id: SaleId,
        expired: bool,
        reason: String,
        by: String,
    },
    PayoutPaid {
        sale: SaleId,
        participant: ParticipantId,
        reference: String,
        by: String,
    },
    SaleNoted {
        sale: SaleId,
        note: String,
        by: String,
    },
    /// The buyer's claim for an escrowed sale: settlement must retire with it.
    SaleClaimStated {
        sale: SaleId,
        claim: RetirementClaim,
        by: String,
    },
}

impl LifecycleEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::WithdrawalGroundsConfigured { .. } => "withdrawal_grounds_configured",
            Self::MethodologyDrafted { .. } => "methodology_drafted",
            Self::MethodologyChanged { .. } => "methodology_changed",
            Self::ProjectDrafted { .. } => "project_drafted",
            Self::ProjectTransitioned { .. } => "project_transitioned",
            Self::VerifierAssigned { .. } => "verifier_assigned",
            Self::ParticipationSet { .. } => "participation_set",
            Self::ApplicationReceived { .. } => "application_received",
            Self::ApplicationDecided { .. } => "application_decided",
            Self::ParticipantRegistered { .. } => "participant_registered",
            Self::ParcelRegistered { .. } => "parcel_registered",
            Self::Enrolled { .. } => "enrolled",
            Self::ReportDrafted { .. } => "report_drafted",
            Self::ReportChanged { .. } => "report_changed",
            Self::IssuanceRequested { .. } => "issuance_requested",
            Self::IssuanceApproved { .. } => "issuance_approved",
            Self::ReversalRequested { .. } => "reversal_requested",
            Self::KeyRotationRequested { .. } => "key_rotation_requested",
            Self::KeyRotationApproved { .. } => "key_rotation_approved",
            Self::ReversalRecorded { .. } => "reversal_recorded",
            Self::WithdrawalRequested { .. } => "withdrawal_requested",
            Self::WithdrawalDecided { .. } => "withdrawal_decided",
            Self::LabelAdded { .. } => "label_added",
            Self::ControlsConfigured { .. } => "controls_configured",
            Self::AccountFrozen { .. } => "account_frozen",
            Self::SerialsFrozen { .. } => "serials_frozen",
            Self::CounterpartyProposed { .. } => "counterparty_proposed",
            Self::CounterpartyApproved { .. } => "counterparty_approved",
            Self::CounterpartyRemoved { .. } => "counterparty_removed",
            Self::CancellationRequested { .. } => "cancellation_requested",
            Self::CancellationApproved { .. } => "cancellation_approved",
            Self::PricingRecorded { .. } => "pricing_recorded",
            Self::QuoteCreated { .. } => "quote_created",
            Self::SaleOpened { .. } => "sale_opened",
            Self::SaleSettled { .. } => "sale_settled",
            Self::SaleReleased { .. } => "sale_released",
            Self::PayoutPaid { .. } => "payout_paid",
            Self::SaleNoted { .. } => "sale_noted",
            Self::SaleClaimStated { .. } => "sale_claim_stated",
        }
    }

    /// The private payload of the event's sealed personal data, if it has any and it is known.
    pub fn private_payload(&self) -> Option<Vec<u8>> {
        match self {
            Self::ApplicationReceived { private, .. } => private.payload(),
            Self::ParticipantRegistered { person, .. } => person.payload(),
            Self::ParcelRegistered { private, .. } => private.payload(),
            Self::WithdrawalRequested { note, .. } => note.payload(),
            _ => None,
        }
    }

    pub(crate) fn open_private(&mut self, payload: &[u8]) -> Result<(), crate::encoding::DecodeError> {
        match self {
            Self::ApplicationReceived { private, .. } => private.open(payload),
            Self::ParticipantRegistered { person, .. } => person.open(payload),
            Self::ParcelRegistered { private, .. } => private.open(payload),
            Self::WithdrawalRequested { note, .. } => note.open(payload),
            _ => Err(crate::encoding::DecodeError { offset: 0, reason: "this entry has no private part".into() }),
        }
    }
}
