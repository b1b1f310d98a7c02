//! The lifecycle's state and `apply`, which records an event and cannot fail (an event that does
//! not fit is a bug or a corrupted log, and panics like the ledger's `apply`).

use std::collections::BTreeMap;

use super::LifecycleEvent;
use super::model::*;
use crate::ids::{
    ApplicationId, BatchId, EnrolmentId, KeyRotationId, MethodologyId, ParcelId, ParticipantId, ProjectCode, ReportId,
    RequestId, ReversalId, Timestamp,
};

/// Everything the lifecycle knows. Ordered collections only, so it compares and replays exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// The program's recognised grounds for an early withdrawal.
    pub grounds: Vec<String>,
    pub methodologies: BTreeMap<MethodologyId, Methodology>,
    pub projects: BTreeMap<ProjectCode, Project>,
    pub applications: BTreeMap<ApplicationId, Application>,
    pub participants: BTreeMap<ParticipantId, Participant>,
    pub parcels: BTreeMap<ParcelId, Parcel>,
    pub enrolments: BTreeMap<EnrolmentId, Enrolment>,
    pub reports: BTreeMap<ReportId, Report>,
    pub requests: BTreeMap<RequestId, IssuanceRequest>,
    pub reversals: BTreeMap<ReversalId, Reversal>,
    pub key_rotations: BTreeMap<KeyRotationId, KeyRotation>,
    pub labels: BTreeMap<BatchId, Vec<BatchLabel>>,
    /// Registry controls: limits, freezes, trusted lists, pending cancellations.
    pub controls: super::Controls,
    /// Pricing inputs, quotes and sales (issue #7).
    pub sales: crate::sales::Sales,
}

/// The next id after the largest key of a map.
pub(crate) fn next_id<K: Copy, V>(map: &BTreeMap<K, V>, raw: impl Fn(K) -> u64) -> u64 {
    map.keys().next_back().map_or(1, |k| raw(*k) + 1)
}

fn step(history: &mut Vec<Transition>, to: &str, by: &str, at: Timestamp, reason: &str) {
    history.push(Transition { to: to.to_owned(), by: by.to_owned(), at, reason: reason.to_owned() });
}

impl Lifecycle {
    /// The issuance request that created a batch, if the batch came from the lifecycle.
    pub fn request_for_batch(&self, batch: BatchId) -> Option<&IssuanceRequest> {
        self.requests.values().find(|r| r.batch == Some(batch))
    }

    /// The enrolments of a parcel, oldest first.
    pub fn enrolments_of(&self, parcel: ParcelId) -> impl Iterator<Item = &Enrolment> {
        self.enrolments.values().filter(move |e| e.parcel == parcel)
    }

    pub(crate) fn apply(&mut self, event: &LifecycleEvent, at: Timestamp) {
        use LifecycleEvent as E;
        match event {
            E::WithdrawalGroundsConfigured { grounds, .. } => self.grounds = grounds.clone(),
            E::MethodologyDrafted { id, spec, by } => {
                let mut history = Vec::new();
                step(&mut history, MethodologyStatus::Draft.as_str(), by, at, "");
                let m = Methodology { id: *id, spec: spec.clone(), status: MethodologyStatus::Draft, history };
                assert!(self.methodologies.insert(*id, m).is_none(), "methodology {id} drafted twice");
            }
            E::MethodologyChanged { id, status, by } => {
                let m = self.methodologies.get_mut(id).expect("changed methodology exists");
                m.status = *status;
                step(&mut m.history, status.as_str(), by, at, "");
            }
            E::ProjectDrafted { code, spec, by } => {
                let mut history = Vec::new();
                step(&mut history, ProjectStatus::Draft.as_str(), by, at, "");
                let p = Project {
                    code: *code,
                    spec: spec.clone(),
                    status: ProjectStatus::Draft,
                    history,
                    participation: None,
                    verifier: None,
                };
                assert!(self.projects.insert(*code, p).is_none(), "project {code} drafted twice");
            }
            E::ProjectTransitioned { project, status, reason, by } => {
                let p = self.projects.get_mut(project).expect("transitioned project exists");
                p.status = *status;
                step(&mut p.history, status.as_str(), by, at, reason);
            }
            E::VerifierAssigned { project, verifier, .. } => {
                self.projects.get_mut(project).expect("project exists").verifier = Some(verifier.clone());
            }
            E::ParticipationSet { project, participation, .. } => {
                self.projects.get_mut(project).expect("project exists").participation = participation.clone();
            }
            E::ApplicationReceived { id, project, applicant, parcels, area_ha, prefecture, private, by } => {
                let mut history = Vec::new();
                step(&mut history, ApplicationStatus::Pending.as_str(), by, at, "");
                let application = Application {
                    id: *id,
                    project: *project,
                    applicant: *applicant,
                    parcels: *parcels,
                    area_ha: *area_ha,
                    prefecture: prefecture.clone(),
                    status: ApplicationStatus::Pending,
                    history,
                    participant: None,
                    private: private.clone(),
                };
                assert!(self.applications.insert(*id, application).is_none(), "application {id} received twice");
            }
            E::ApplicationDecided { id, participant, reason, by } => {
                let a = self.applications.get_mut(id).expect("decided application exists");
                a.status =
                    if participant.is_some() { ApplicationStatus::Accepted } else { ApplicationStatus::Declined };
                a.participant = *participant;
                step(&mut a.history, a.status.as_str(), by, at, reason);
            }
            E::ParticipantRegistered { id, account, pseudonym, prefecture, person, .. } => {
                let p = Participant {
                    id: *id,
                    account: *account,
                    pseudonym: pseudonym.clone(),
                    prefecture: prefecture.clone(),
                    person: person.clone(),
                };
                assert!(self.participants.insert(*id, p).is_none(), "participant {id} registered twice");
            }
            E::ParcelRegistered { id, participant, area_ha, prefecture, municipality, cell, private, .. } => {
                let p = Parcel {
                    id: *id,
                    participant: *participant,
                    area_ha: *area_ha,
                    prefecture: prefecture.clone(),
                    municipality: municipality.clone(),
                    cell: *cell,
                    private: private.clone(),
                };
                assert!(self.parcels.insert(*id, p).is_none(), "parcel {id} registered twice");
            }
            E::Enrolled { id, project, parcel, participant, period, by } => {
                let mut history = Vec::new();
                step(&mut history, EnrolmentStatus::Active.as_str(), by, at, "");
                let e = Enrolment {
                    id: *id,
                    project: *project,
                    parcel: *parcel,
                    participant: *participant,
                    period: *period,
                    status: EnrolmentStatus::Active,
                    withdrawal: None,
                    history,
                };
                assert!(self.enrolments.insert(*id, e).is_none(), "enrolment {id} recorded twice");
            }
            E::ReportDrafted { id, spec, areas, by } => {
                let mut history = Vec::new();
                step(&mut history, ReportStatus::Draft.as_str(), by, at, "");
                let r = Report {
                    id: *id,
                    spec: spec.clone(),
                    areas: areas.clone(),
                    status: ReportStatus::Draft,
                    history,
                    quantification: None,
                };
                assert!(self.reports.insert(*id, r).is_none(), "report {id} drafted twice");
            }
            E::ReportChanged { id, status, reason, quantification, by } => {
                let r = self.reports.get_mut(id).expect("changed report exists");
                r.status = *status;
                if quantification.is_some() {
                    r.quantification = quantification.clone();
                }
                step(&mut r.history, status.as_str(), by, at, reason);
            }
            E::IssuanceRequested { id, report, labels, by } => {
                let request = IssuanceRequest {
                    id: *id,
                    report: *report,
                    labels: labels.clone(),
                    requested_by: by.clone(),
                    requested_at: at,
                    status: RequestStatus::Pending,
                    approved_by: None,
                    batch: None,
                    quantity: Default::default(),
                    buffer: Default::default(),
                };
                assert!(self.requests.insert(*id, request).is_none(), "request {id} recorded twice");
            }
            E::IssuanceApproved { id, batch, quantity, buffer, by } => {
                let r = self.requests.get_mut(id).expect("approved request exists");
                r.status = RequestStatus::Approved;
                r.approved_by = Some(by.clone());
                r.batch = Some(*batch);
                r.quantity = *quantity;
                r.buffer = *buffer;
            }
            E::ReversalRequested { id, project, quantity, note, by } => {
                let reversal = Reversal {
                    id: *id,
                    project: *project,
                    quantity: *quantity,
                    note: note.clone(),
                    requested_by: by.clone(),
                    requested_at: at,
                    approval: None,
                };
                assert!(self.reversals.insert(*id, reversal).is_none(), "reversal {id} requested twice");
            }
            E::KeyRotationRequested { id, reason, by } => {
                let rotation = KeyRotation {
                    id: *id,
                    reason: reason.clone(),
                    requested_by: by.clone(),
                    requested_at: at,
                    approved_by: None,
                    approved_at: None,
                };
                assert!(self.key_rotations.insert(*id, rotation).is_none(), "key rotation {id} requested twice");
            }
            E::KeyRotationApproved { id, by } => {
                let rotation = self.key_rotations.get_mut(id).expect("an approved key rotation was requested");
                rotation.approved_by = Some(by.clone());
                rotation.approved_at = Some(at);
            }
            E::ReversalRecorded { id, cancellation, by, .. } => {
                let reversal = self.reversals.get_mut(id).expect("an approved reversal was requested");
                assert!(reversal.approval.is_none(), "reversal {id} approved twice");
                reversal.approval = Some(ReversalApproval { cancellation: *cancellation, by: by.clone(), at });
            }
            E::WithdrawalRequested { enrolment, ground, note, by } => {
                let e = self.enrolments.get_mut(enrolment).expect("enrolment exists");
                e.status = EnrolmentStatus::WithdrawalRequested;
                e.withdrawal = Some(Withdrawal {
                    ground: ground.clone(),
                    note: note.clone(),
                    requested_by: by.clone(),
                    decided_by: None,
                    effective: None,
                });
                step(&mut e.history, e.status.as_str(), by, at, ground);
            }
            E::WithdrawalDecided { enrolment, effective, reason, by } => {
                let e = self.enrolments.get_mut(enrolment).expect("enrolment exists");
                e.status = if effective.is_some() { EnrolmentStatus::Withdrawn } else { EnrolmentStatus::Active };
                if let Some(w) = &mut e.withdrawal {
                    w.decided_by = Some(by.clone());
                    w.effective = *effective;
                }
                step(&mut e.history, e.status.as_str(), by, at, reason);
            }
            E::LabelAdded { batch, label } => self.labels.entry(*batch).or_default().push(label.clone()),
            E::ControlsConfigured { .. }
            | E::AccountFrozen { .. }
            | E::SerialsFrozen { .. }
            | E::CounterpartyProposed { .. }
            | E::CounterpartyApproved { .. }
            | E::CounterpartyRemoved { .. }
            | E::CancellationRequested { .. }
            | E::CancellationApproved { .. } => self.controls.apply(event, at),
            E::PricingRecorded { .. }
            | E::QuoteCreated { .. }
            | E::SaleOpened { .. }
            | E::SaleSettled { .. }
            | E::SaleReleased { .. }
            | E::PayoutPaid { .. }
            | E::SaleNoted { .. }
            | E::SaleClaimStated { .. } => self.sales.apply(event, at),
        }
    }
}
