//! The program lifecycle's nouns (SPEC §2): methodologies, projects, participants, parcels,
//! enrolments, join applications, monitoring reports, issuance requests, reversals and labels.

use rust_decimal::Decimal;

use super::geometry::{GridCell, Polygon};
use super::sealed::Sealed;
use crate::ids::{
    ApplicationId, BatchId, CancellationId, CountryCode, Date, EnrolmentId, KeyRotationId, MethodologyId, ParcelId,
    ParticipantId, ProjectCode, Quantity, ReportId, RequestId, ReversalId, Timestamp,
};

named_enum!(
    /// `draft → approved → deprecated`. An approved version never changes: a change is a new version.
    MethodologyStatus {
        Draft = 1, "draft";
        Approved = 2, "approved";
        Deprecated = 3, "deprecated";
    }
);

named_enum!(
    /// `draft → submitted → validated → registered → completed`, or `rejected`, `terminated`.
    ProjectStatus {
        Draft = 1, "draft";
        Submitted = 2, "submitted";
        Validated = 3, "validated";
        Registered = 4, "registered";
        Completed = 5, "completed";
        Rejected = 6, "rejected";
        Terminated = 7, "terminated";
    }
);

named_enum!(
    /// What a project transition command asks for; each has one source state set and one target.
    ProjectAction {
        Submit = 1, "submit";
        Validate = 2, "validate";
        Reject = 3, "reject";
        Register = 4, "register";
        Complete = 5, "complete";
        Terminate = 6, "terminate";
    }
);

impl ProjectAction {
    /// The states the action starts from, and the state it leads to.
    pub fn edge(self) -> (&'static [ProjectStatus], ProjectStatus) {
        use ProjectStatus::*;
        match self {
            Self::Submit => (&[Draft], Submitted),
            Self::Validate => (&[Submitted], Validated),
            Self::Reject => (&[Submitted, Validated], Rejected),
            Self::Register => (&[Validated], Registered),
            Self::Complete => (&[Registered], Completed),
            Self::Terminate => (&[Registered], Terminated),
        }
    }
}

named_enum!(
    /// `active → withdrawal_requested → withdrawn` (a refused request goes back to `active`).
    EnrolmentStatus {
        Active = 1, "active";
        WithdrawalRequested = 2, "withdrawal_requested";
        Withdrawn = 3, "withdrawn";
    }
);

impl EnrolmentStatus {
    /// Whether the parcel still counts as enrolled (invariant 10, the overlap check).
    pub fn is_active(self) -> bool {
        !matches!(self, Self::Withdrawn)
    }
}

named_enum!(
    /// `pending → accepted | declined`.
    ApplicationStatus {
        Pending = 1, "pending";
        Accepted = 2, "accepted";
        Declined = 3, "declined";
    }
);

named_enum!(
    /// `draft → submitted → verified | returned`.
    ReportStatus {
        Draft = 1, "draft";
        Submitted = 2, "submitted";
        Verified = 3, "verified";
        Returned = 4, "returned";
    }
);

named_enum!(
    /// `pending → approved`. Approval creates the batch.
    RequestStatus {
        Pending = 1, "pending";
        Approved = 2, "approved";
    }
);

named_enum!(
    /// The type of a monitoring-input field.
    FieldKind {
        Number = 1, "number";
        Integer = 2, "integer";
        Flag = 3, "flag";
    }
);

named_enum!(
    /// Eligibility and quality labels a batch can carry (SPEC §2).
    LabelKind {
        IcvcmCcp = 1, "ICVCM-CCP";
        Corsia = 2, "CORSIA";
        Article6Authorized = 3, "Article6-authorized";
        CorrespondingAdjustmentApplied = 4, "corresponding-adjustment:applied";
        CorrespondingAdjustmentPending = 5, "corresponding-adjustment:pending";
        CorrespondingAdjustmentNone = 6, "corresponding-adjustment:none";
        JCreditEligible = 7, "J-Credit-eligible";
    }
);

/// An inclusive date range (crediting period, contract period, monitoring period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn overlaps(self, other: Period) -> bool {
        self.from <= other.to && other.from <= self.to
    }
    pub fn contains(self, other: Period) -> bool {
        self.from <= other.from && other.to <= self.to
    }
}

/// One step of an object's history: who moved it to which state, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: String,
    pub by: String,
    pub at: Timestamp,
    pub reason: String,
}

/// One field of a methodology's monitoring-input schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    pub unit: String,
    pub min: Option<Decimal>,
    pub max: Option<Decimal>,
    pub required: bool,
}

/// Deduction rates in percent, applied in this order: uncertainty, leakage, buffer (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deductions {
    pub uncertainty: Decimal,
    pub leakage: Decimal,
    pub buffer: Decimal,
}

/// A named, versioned table of engine parameters (data, not code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterTable {
    pub version: String,
    pub values: Vec<(String, Decimal)>,
}

impl ParameterTable {
    pub fn get(&self, name: &str) -> Option<Decimal> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// Everything one methodology version says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodologySpec {
    /// E.g. `AG-005`.
    pub code: String,
    /// E.g. `v1.0`.
    pub version: String,
    pub title: String,
    /// The quantification engine (`engine::by_id`).
    pub engine: String,
    pub parameters: ParameterTable,
    pub schema: Vec<FieldSpec>,
    pub deductions: Deductions,
    /// E.g. `AR5`, `AR6`.
    pub gwp: String,
    /// Ecological indicators every monitoring report must measure.
    pub indicators: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Methodology {
    pub id: MethodologyId,
    pub spec: MethodologySpec,
    pub status: MethodologyStatus,
    pub history: Vec<Transition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    pub name: String,
    pub methodology: MethodologyId,
    pub country: CountryCode,
    /// A region or prefecture, e.g. `JP-15` (Niigata).
    pub region: String,
    pub crediting: Period,
}

/// When and on what terms a project takes new participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participation {
    pub opens: Date,
    pub starts: Date,
    pub conditions: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub code: ProjectCode,
    pub spec: ProjectSpec,
    pub status: ProjectStatus,
    pub history: Vec<Transition>,
    pub participation: Option<Participation>,
    /// The validation/verification body assigned by an operator: the only verifier who may
    /// validate the project and verify or return its reports (issue #8).
    pub verifier: Option<String>,
}

/// A person's or farm's personal data: never in a public log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub contact: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub id: ParticipantId,
    /// The participant's account (credits, tokens); its public name is the pseudonym.
    pub account: crate::ids::AccountId,
    pub pseudonym: String,
    pub prefecture: String,
    pub person: Sealed<Person>,
}

/// A parcel's exact whereabouts: personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelPrivate {
    pub name: String,
    pub geometry: Polygon,
}

/// A parcel as described by an applicant or operator, before it is registered.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelDraft {
    pub area_ha: Decimal,
    pub prefecture: String,
    pub municipality: String,
    pub private: ParcelPrivate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    pub id: ParcelId,
    pub participant: ParticipantId,
    pub area_ha: Decimal,
    pub prefecture: String,
    pub municipality: String,
    /// The generalised location the public sees.
    pub cell: GridCell,
    pub private: Sealed<ParcelPrivate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub ground: String,
    /// The participant's explanation: personal data, sealed.
    pub note: Sealed<String>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    /// From this date on the participant earns nothing more (payouts, #7).
    pub effective: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub id: EnrolmentId,
    pub project: ProjectCode,
    pub parcel: ParcelId,
    pub participant: ParticipantId,
    pub period: Period,
    pub status: EnrolmentStatus,
    pub withdrawal: Option<Withdrawal>,
    pub history: Vec<Transition>,
}

/// What an applicant tells the operator: personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationPrivate {
    pub farm: Person,
    pub parcels: Vec<ParcelDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub project: ProjectCode,
    /// An existing participant applying with its account, or none for a new farmer.
    pub applicant: Option<ParticipantId>,
    pub parcels: u32,
    pub area_ha: Decimal,
    pub prefecture: String,
    pub status: ApplicationStatus,
    pub history: Vec<Transition>,
    /// Set on acceptance.
    pub participant: Option<ParticipantId>,
    pub private: Sealed<ApplicationPrivate>,
}

/// A monitoring-input value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue {
    Number(Decimal),
    Flag(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelActivity {
    pub parcel: ParcelId,
    pub values: Vec<(String, FieldValue)>,
}

/// An evidence file, referenced by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub name: String,
    pub sha256: [u8; 32],
}

/// One ecological indicator measurement (see `ecology`): for one parcel, or for the whole
/// project when `parcel` is `None`, with the SHA-256 of its evidence (survey sheet, lab report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorValue {
    pub name: String,
    pub value: Decimal,
    pub unit: String,
    pub parcel: Option<ParcelId>,
    pub evidence: Option<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    pub project: ProjectCode,
    pub period: Period,
    pub activity: Vec<ParcelActivity>,
    pub evidence: Vec<Evidence>,
    pub indicators: Vec<IndicatorValue>,
}

/// A quantification frozen at verification, with everything needed to recompute it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantification {
    pub engine: String,
    pub engine_version: String,
    pub methodology: MethodologyId,
    pub parameters_version: String,
    pub gwp: String,
    /// SHA-256 of the canonical inputs (`engine::inputs_hash`).
    pub inputs_hash: [u8; 32],
    pub gross: Decimal,
    pub uncertainty: Decimal,
    pub leakage: Decimal,
    /// Emissions the engines count beside the reduction (rice N2O, biochar transport),
    /// deducted after uncertainty.
    pub project_emissions: Decimal,
    pub net: Decimal,
    /// Each parcel's share of `net`, for payouts (#7). They sum to `net`.
    pub contributions: Vec<(ParcelId, Decimal)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: ReportId,
    pub spec: ReportSpec,
    /// The parcels' areas when the report was drafted: inputs of the quantification.
    pub areas: Vec<(ParcelId, Decimal)>,
    pub status: ReportStatus,
    pub history: Vec<Transition>,
    pub quantification: Option<Quantification>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceRequest {
    pub id: RequestId,
    pub report: ReportId,
    pub labels: Vec<String>,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub status: RequestStatus,
    pub approved_by: Option<String>,
    pub batch: Option<BatchId>,
    pub quantity: Quantity,
    pub buffer: Quantity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversal {
    pub id: ReversalId,
    pub project: ProjectCode,
    pub quantity: Quantity,
    pub note: String,
    pub requested_by: String,
    pub requested_at: Timestamp,
    /// Set when a second operator approved it and the buffer pool was cancelled.
    pub approval: Option<ReversalApproval>,
}

/// A request to rotate the log's signing key. Each key published after the first uses up one
/// approved rotation, oldest first (`Ledger::approved_key_rotations_left`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    pub id: KeyRotationId,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: Timestamp,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalApproval {
    pub cancellation: CancellationId,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLabel {
    pub kind: LabelKind,
    pub issuer: String,
    pub valid: Period,
    pub by: String,
}
