//! `decide` for lifecycle commands: every rule of the lifecycle lives here. Reads the state,
//! never changes it; a refusal is a `DomainError` and leaves no trace.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::engine;
use super::geometry::{OVERLAP_TOLERANCE, Polygon};
use super::model::*;
use super::sealed::{Salt, Sealed, derive_salt};
use super::state::next_id;
use super::{LifecycleCommand, LifecycleEvent};
use crate::command::{Event, IssueCommand, Selection};
use crate::error::DomainError;
use crate::ids::*;
use crate::ledger::{
    BUFFER_ACCOUNT, ISSUANCE_ACCOUNT, Ledger, MAX_LABELS, MAX_NAME_LEN, MAX_NOTE_LEN, check_label, check_quantity,
    check_text,
};
use crate::model::{Account, AccountKind, BlockState, CancellationReason};
use crate::serial::SerialRange;

/// Limits that keep one command's log entry small.
pub const MAX_LIST: usize = 64;
pub const MAX_PARCELS_PER_APPLICATION: usize = 50;
pub const MAX_REPORT_PARCELS: usize = 2_000;
/// Indicator values in one report: a few per parcel of a large report.
pub const MAX_INDICATOR_VALUES: usize = 20_000;
const MAX_AREA_HA: u64 = 10_000;

type Decided = Result<Vec<Event>, DomainError>;

fn one(event: LifecycleEvent) -> Decided {
    Ok(vec![Event::Lifecycle(event)])
}

fn unknown(what: &'static str, id: impl ToString) -> DomainError {
    DomainError::Unknown { what, id: id.to_string() }
}

fn wrong_state(what: impl ToString, state: impl ToString, action: &'static str) -> DomainError {
    DomainError::WrongState { what: what.to_string(), state: state.to_string(), action }
}

fn check_period(what: &str, period: Period) -> Result<(), DomainError> {
    if period.from > period.to {
        return Err(DomainError::Invalid(format!("the {what} ends before it starts")));
    }
    Ok(())
}

fn check_names(what: &str, names: &[String]) -> Result<(), DomainError> {
    if names.len() > MAX_LIST {
        return Err(DomainError::Invalid(format!("at most {MAX_LIST} {what}")));
    }
    for (i, name) in names.iter().enumerate() {
        check_text(what, name, MAX_NAME_LEN, true)?;
        if names[..i].contains(name) {
            return Err(DomainError::Invalid(format!("{what}: {name:?} appears twice")));
        }
    }
    Ok(())
}

fn check_percent(what: &str, value: Decimal) -> Result<(), DomainError> {
    if value < Decimal::ZERO || value >= Decimal::ONE_HUNDRED {
        return Err(DomainError::Invalid(format!("{what} must be at least 0 and below 100 (percent)")));
    }
    Ok(())
}

fn check_person(person: &Person) -> Result<(), DomainError> {
    check_text("name", &person.name, MAX_NAME_LEN, true)?;
    check_text("contact", &person.contact, MAX_NAME_LEN, false)?;
    check_text("address", &person.address, MAX_NOTE_LEN, false)
}

fn check_parcel_draft(parcel: &ParcelDraft) -> Result<(), DomainError> {
    if parcel.area_ha <= Decimal::ZERO || parcel.area_ha > Decimal::from(MAX_AREA_HA) {
        return Err(DomainError::Invalid(format!("a parcel's area must be above 0 and at most {MAX_AREA_HA} ha")));
    }
    check_text("prefecture", &parcel.prefecture, MAX_NAME_LEN, true)?;
    check_text("municipality", &parcel.municipality, MAX_NAME_LEN, true)?;
    check_text("parcel name", &parcel.private.name, MAX_NAME_LEN, false)?;
    parcel.private.geometry.validate().map_err(DomainError::InvalidGeometry)
}

fn check_methodology_spec(spec: &MethodologySpec) -> Result<(), DomainError> {
    let code_ok = |s: &str| {
        (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    };
    if !code_ok(&spec.code) {
        return Err(DomainError::Invalid("a methodology code is 1-20 upper-case letters, digits or '-'".into()));
    }
    let version_ok = (1..=20).contains(&spec.version.len()) && spec.version.bytes().all(|b| b.is_ascii_graphic());
    if !version_ok {
        return Err(DomainError::Invalid("a methodology version is 1-20 visible ASCII characters".into()));
    }
    check_text("title", &spec.title, MAX_NAME_LEN, true)?;
    if engine::by_id(&spec.engine).is_none() {
        return Err(DomainError::Invalid(format!("there is no quantification engine {:?}", spec.engine)));
    }
    check_text("parameter table version", &spec.parameters.version, MAX_NAME_LEN, true)?;
    let parameter_names: Vec<String> = spec.parameters.values.iter().map(|(n, _)| n.clone()).collect();
    check_names("parameters", &parameter_names)?;
    let field_names: Vec<String> = spec.schema.iter().map(|f| f.name.clone()).collect();
    check_names("schema fields", &field_names)?;
    for field in &spec.schema {
        check_text("unit", &field.unit, MAX_NAME_LEN, false)?;
        if let (Some(min), Some(max)) = (field.min, field.max)
            && min > max
        {
            return Err(DomainError::Invalid(format!("field {:?}: min is above max", field.name)));
        }
    }
    check_percent("uncertainty deduction", spec.deductions.uncertainty)?;
    check_percent("leakage deduction", spec.deductions.leakage)?;
    check_percent("buffer contribution", spec.deductions.buffer)?;
    check_text("GWP set", &spec.gwp, MAX_NAME_LEN, true)?;
    check_names("ecological indicators", &spec.indicators)
}

/// Validates one parcel's activity data against the methodology's typed schema. Public for the
/// fuzzer (`fuzz/fuzz_targets/monitoring.rs`).
pub fn check_activity(schema: &[FieldSpec], activity: &ParcelActivity) -> Result<(), DomainError> {
    let invalid = |field: &str, reason: String| DomainError::SchemaInvalid {
        parcel: activity.parcel,
        field: field.to_owned(),
        reason,
    };
    for (i, (name, value)) in activity.values.iter().enumerate() {
        let spec = schema
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| invalid(name, "no such field in the methodology's schema".into()))?;
        if activity.values[..i].iter().any(|(n, _)| n == name) {
            return Err(invalid(name, "given twice".into()));
        }
        match (spec.kind, value) {
            (FieldKind::Flag, FieldValue::Flag(_)) => {}
            (FieldKind::Number, FieldValue::Number(_)) => {}
            (FieldKind::Integer, FieldValue::Number(v)) if v.fract().is_zero() => {}
            (kind, _) => return Err(invalid(name, format!("expected a value of type {kind}"))),
        }
        if let FieldValue::Number(v) = value
            && (spec.min.is_some_and(|min| *v < min) || spec.max.is_some_and(|max| *v > max))
        {
            let bound = |b: Option<Decimal>| b.map_or("-".to_owned(), |b| b.to_string());
            let reason = format!("{v} {} is outside [{}, {}]", spec.unit, bound(spec.min), bound(spec.max));
            return Err(invalid(name, reason));
        }
    }
    for spec in schema.iter().filter(|f| f.required) {
        if !activity.values.iter().any(|(n, _)| *n == spec.name) {
            return Err(invalid(&spec.name, "required, missing".into()));
        }
    }
    Ok(())
}

/// A parcel about to be enrolled, for the overlap check.
struct Candidate<'a> {
    label: String,
    id: Option<ParcelId>,
    geometry: Option<&'a Polygon>,
    period: Period,
}

impl Ledger {
    pub(crate) fn decide_lifecycle(&self, by: &str, command: &LifecycleCommand, now: Timestamp) -> Decided {
        use LifecycleCommand as C;
        use LifecycleEvent as E;
        check_text("acting user", by, 100, true)?;
        let by = by.to_owned();
        let lc = &self.lifecycle;
        match command {
            C::ConfigureControls { .. }
            | C::FreezeAccount { .. }
            | C::FreezeSerials { .. }
            | C::ProposeCounterparty { .. }
            | C::ApproveCounterparty { .. }
            | C::RemoveCounterparty { .. }
            | C::RequestCancellation { .. }
            | C::ApproveCancellation { .. } => self.decide_controls(by, command, now),
            C::ConfigureWithdrawalGrounds { grounds } => {
                check_names("withdrawal grounds", grounds)?;
                one(E::WithdrawalGroundsConfigured { grounds: grounds.clone(), by })
            }
            C::DraftMethodology { spec } => {
                check_methodology_spec(spec)?;
                if lc.methodologies.values().any(|m| m.spec.code == spec.code && m.spec.version == spec.version) {
                    return Err(DomainError::Duplicate(format!(
                        "methodology {} {} exists; a change is a new version",
                        spec.code, spec.version
                    )));
                }
                let id = MethodologyId(next_id(&lc.methodologies, |k| k.0));
                one(E::MethodologyDrafted { id, spec: spec.clone(), by })
            }
            C::ApproveMethodology { id } | C::DeprecateMethodology { id } => {
                let m = lc.methodologies.get(id).ok_or_else(|| unknown("methodology", id))?;
                let (from, to, action) = match command {
                    C::ApproveMethodology { .. } => {
                        (MethodologyStatus::Draft, MethodologyStatus::Approved, "be approved")
                    }
                    _ => (MethodologyStatus::Approved, MethodologyStatus::Deprecated, "be deprecated"),
                };
                if m.status != from {
                    return Err(wrong_state(format!("methodology {id}"), m.status, action));
                }
                one(E::MethodologyChanged { id: *id, status: to, by })
            }
            C::DraftProject { spec } => {
                check_text("project name", &spec.name, MAX_NAME_LEN, true)?;
                check_text("region", &spec.region, MAX_NAME_LEN, true)?;
                check_period("crediting period", spec.crediting)?;
                let m =
                    lc.methodologies.get(&spec.methodology).ok_or_else(|| unknown("methodology", spec.methodology))?;
                if m.status != MethodologyStatus::Approved {
                    return Err(wrong_state(format!("methodology {}", m.id), m.status, "take new projects"));
                }
                let code = ProjectCode(next_id(&lc.projects, |k| k.0));
                one(E::ProjectDrafted { code, spec: spec.clone(), by })
            }
            C::TransitionProject { project, action, reason } => {
                let p = self.project(*project)?;
                let (from, to) = action.edge();
                if !from.contains(&p.status) {
                    return Err(wrong_state(format!("project {project}"), p.status, "make this transition"));
                }
                if *action == ProjectAction::Validate {
                    check_assigned(p, &by)?;
                }
                let reason_required = matches!(action, ProjectAction::Reject | ProjectAction::Terminate);
                check_text("reason", reason, MAX_NOTE_LEN, reason_required)?;
                one(E::ProjectTransitioned { project: *project, status: to, reason: reason.clone(), by })
            }
            C::AssignVerifier { project, verifier } => {
                let p = self.project(*project)?;
                use ProjectStatus::{Completed, Rejected, Terminated};
                if matches!(p.status, Completed | Rejected | Terminated) {
                    return Err(wrong_state(format!("project {project}"), p.status, "take a verifier"));
                }
                check_text("verifier", verifier, MAX_NAME_LEN, true)?;
                one(E::VerifierAssigned { project: *project, verifier: verifier.clone(), by })
            }
            C::SetParticipation { project, participation } => {
                self.registered_project(*project, "take participants")?;
                if let Some(p) = participation {
                    check_text("conditions", &p.conditions, MAX_NOTE_LEN, false)?;
                    check_period("participation window", Period { from: p.opens, to: p.starts })?;
                }
                one(E::ParticipationSet { project: *project, participation: participation.clone(), by })
            }
            C::ApplyToJoin { project, applicant, application, salt } => {
                self.decide_application(by, *project, *applicant, application, salt)
            }
            C::DeclineApplication { application, reason } => {
                self.pending_application(*application)?;
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                one(E::ApplicationDecided { id: *application, participant: None, reason: reason.clone(), by })
            }
            C::AcceptApplication { application, period, salt } => self.decide_accept(by, *application, *period, salt),
            C::RegisterParticipant { person, prefecture, salt } => {
                check_person(person)?;
                check_text("prefecture", prefecture, MAX_NAME_LEN, true)?;
                Ok(self.new_participant(&by, person.clone(), prefecture.clone(), salt).1)
            }
            C::RegisterParcel { participant, parcel, salt } => {
                if !lc.participants.contains_key(participant) {
                    return Err(unknown("participant", participant));
                }
                check_parcel_draft(parcel)?;
                let id = ParcelId(next_id(&lc.parcels, |k| k.0));
                Ok(vec![parcel_registered(id, *participant, parcel, *salt, &by)])
            }
            C::Enrol { project, parcel, period } => {
                let p = self.registered_project(*project, "enrol parcels")?;
                let registered = lc.parcels.get(parcel).ok_or_else(|| unknown("parcel", parcel))?;
                check_contract(p, *period)?;
                let candidate = Candidate {
                    label: format!("parcel {parcel}"),
                    id: Some(*parcel),
                    geometry: registered.private.data().map(|d| &d.geometry),
                    period: *period,
                };
                self.check_overlap(&candidate, &[])?;
                let id = EnrolmentId(next_id(&lc.enrolments, |k| k.0));
                let (participant, project, parcel, period) = (registered.participant, *project, *parcel, *period);
                one(E::Enrolled { id, project, parcel, participant, period, by })
            }
            C::DraftReport { spec } => self.decide_report(by, spec),
            C::SubmitReport { report } => {
                let r = self.report_in(*report, ReportStatus::Draft, "be submitted")?;
                one(E::ReportChanged {
                    id: r.id,
                    status: ReportStatus::Submitted,
                    reason: String::new(),
                    quantification: None,
                    by,
                })
            }
            C::VerifyReport { report } => {
                let r = self.report_in(*report, ReportStatus::Submitted, "be verified")?;
                check_assigned(self.project(r.spec.project)?, &by)?;
                let methodology = self.methodology_of(r.spec.project)?;
                let q = engine::quantify(methodology, &r.areas, &r.spec.activity).map_err(DomainError::Invalid)?;
                let (id, status, reason) = (r.id, ReportStatus::Verified, String::new());
                one(E::ReportChanged { id, status, reason, quantification: Some(q), by })
            }
            C::ReturnReport { report, reason } => {
                let r = self.report_in(*report, ReportStatus::Submitted, "be returned")?;
                check_assigned(self.project(r.spec.project)?, &by)?;
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                let (id, status, reason) = (r.id, ReportStatus::Returned, reason.clone());
                one(E::ReportChanged { id, status, reason, quantification: None, by })
            }
            C::RequestIssuance { report, labels } => {
                let r = self.report_in(*report, ReportStatus::Verified, "be issued")?;
                if let Some(earlier) = lc.requests.values().find(|q| q.report == *report) {
                    return Err(DomainError::AlreadyIssued { report: r.id, request: earlier.id });
                }
                if labels.len() > MAX_LABELS {
                    return Err(DomainError::Invalid(format!("at most {MAX_LABELS} labels per batch")));
                }
                labels.iter().try_for_each(|l| check_label(l))?;
                let id = RequestId(next_id(&lc.requests, |k| k.0));
                one(E::IssuanceRequested { id, report: *report, labels: labels.clone(), by })
            }
            C::ApproveIssuance { request } => self.decide_approval(by, *request),
            C::RecordReversal { project, quantity, note } => {
                self.project(*project)?;
                check_quantity(*quantity, "quantity")?;
                check_text("note", note, MAX_NOTE_LEN, true)?;
                let issued = lc.requests.values().any(|r| {
                    r.batch.is_some() && lc.reports.get(&r.report).is_some_and(|rep| rep.spec.project == *project)
                });
                if !issued {
                    return Err(wrong_state(
                        format!("project {project}"),
                        "without issued credits",
                        "record a reversal",
                    ));
                }
                // Refused now if the pool could not cover it; the approval checks again.
                self.reversal_cancellation(*quantity, now)?;
                let id = ReversalId(next_id(&lc.reversals, |k| k.0));
                one(E::ReversalRequested { id, project: *project, quantity: *quantity, note: note.clone(), by })
            }
            C::ApproveReversal { reversal } => {
                let r = lc.reversals.get(reversal).ok_or_else(|| unknown("reversal", reversal))?;
                if r.approval.is_some() {
                    return Err(wrong_state(format!("reversal {reversal}"), "approved", "be approved again"));
                }
                if r.requested_by == by {
                    return Err(DomainError::FourEyes { what: format!("reversal {reversal}"), by });
                }
                let ranges = self.reversal_cancellation(r.quantity, now)?;
                let cancellation = self.next_cancellation_id();
                Ok(vec![
                    Event::Cancelled {
                        id: cancellation,
                        account: BUFFER_ACCOUNT,
                        ranges,
                        reason: CancellationReason::ReversalCompensation,
                        note: format!("reversal {reversal} of project {}: {}", r.project, r.note),
                    },
                    Event::Lifecycle(E::ReversalRecorded {
                        id: r.id,
                        project: r.project,
                        quantity: r.quantity,
                        cancellation,
                        note: r.note.clone(),
                        by,
                    }),
                ])
            }
            C::RequestKeyRotation { reason } => {
                check_text("reason", reason, MAX_NOTE_LEN, true)?;
                let id = KeyRotationId(next_id(&lc.key_rotations, |k| k.0));
                one(E::KeyRotationRequested { id, reason: reason.clone(), by })
            }
            C::ApproveKeyRotation { rotation } => {
                let r = lc.key_rotations.get(rotation).ok_or_else(|| unknown("key rotation", rotation))?;
                if r.approved_by.is_some() {
                    return Err(wrong_state(format!("key rotation {rotation}"), "approved", "be approved again"));
                }
                if r.requested_by == by {
                    return Err(DomainError::FourEyes { what: format!("key rotation {rotation}"), by });
                }
                one(E::KeyRotationApproved { id: *rotation, by })
            }
            C::RequestWithdrawal { enrolment, ground, note, salt } => {
                let e = lc.enrolments.get(enrolment).ok_or_else(|| unknown("enrolment", enrolment))?;
                if e.status != EnrolmentStatus::Active {
                    return Err(wrong_state(format!("enrolment {enrolment}"), e.status, "request withdrawal"));
                }
                if !lc.grounds.contains(ground) {
                    let allowed = if lc.grounds.is_empty() { "none configured".into() } else { lc.grounds.join(", ") };
                    return Err(DomainError::UnrecognisedGround {
                        ground: ground.chars().take(100).collect(),
                        allowed,
                    });
                }
                check_text("note", note, MAX_NOTE_LEN, false)?;
                let note = Sealed::seal(*salt, note.clone());
                one(E::WithdrawalRequested { enrolment: *enrolment, ground: ground.clone(), note, by })
            }
            C::DecideWithdrawal { enrolment, effective, reason } => {
                let e = lc.enrolments.get(enrolment).ok_or_else(|| unknown("enrolment", enrolment))?;
                if e.status != EnrolmentStatus::WithdrawalRequested {
                    return Err(wrong_state(format!("enrolment {enrolment}"), e.status, "have a withdrawal decided"));
                }
                check_text("reason", reason, MAX_NOTE_LEN, effective.is_none())?;
                one(E::WithdrawalDecided { enrolment: *enrolment, effective: *effective, reason: reason.clone(), by })
            }
            C::AddLabel { batch, kind, issuer, valid } => {
                if self.batch(*batch).is_none() {
                    return Err(DomainError::UnknownBatch(*batch));
                }
                check_text("label issuer", issuer, MAX_NAME_LEN, true)?;
                check_period("label validity", *valid)?;
                let existing = lc.labels.get(batch).into_iter().flatten();
                if existing.filter(|l| l.kind == *kind).any(|l| l.valid.overlaps(*valid)) {
                    return Err(DomainError::Duplicate(format!("batch {batch} already has {kind} for that period")));
                }
                let label = BatchLabel { kind: *kind, issuer: issuer.clone(), valid: *valid, by };
                one(E::LabelAdded { batch: *batch, label })
            }
        }
    }

    fn project(&self, code: ProjectCode) -> Result<&Project, DomainError> {
        self.lifecycle.projects.get(&code).ok_or_else(|| unknown("project", code))
    }

    /// The buffer pool's serials a reversal of `quantity` cancels: the oldest first, as any
    /// quantity selection, and movable (not frozen).
    fn reversal_cancellation(&self, quantity: Quantity, now: Timestamp) -> Result<Vec<SerialRange>, DomainError> {
        let selection = Selection::Quantity { quantity, batch: None };
        let ranges = self.select(BUFFER_ACCOUNT, BlockState::Buffer, &selection)?;
        self.check_movement(BUFFER_ACCOUNT, super::controls::Movement::Cancel, &ranges, now)?;
        Ok(ranges)
    }

    fn registered_project(&self, code: ProjectCode, action: &'static str) -> Result<&Project, DomainError> {
        let p = self.project(code)?;
        if p.status != ProjectStatus::Registered {
            return Err(wrong_state(format!("project {code}"), p.status, action));
        }
        Ok(p)
    }

    fn methodology_of(&self, project: ProjectCode) -> Result<&Methodology, DomainError> {
        let p = self.project(project)?;
        self.lifecycle.methodologies.get(&p.spec.methodology).ok_or_else(|| unknown("methodology", p.spec.methodology))
    }

    fn report_in(&self, id: ReportId, status: ReportStatus, action: &'static str) -> Result<&Report, DomainError> {
        let r = self.lifecycle.reports.get(&id).ok_or_else(|| unknown("report", id))?;
        if r.status != status {
            return Err(wrong_state(format!("report {id}"), r.status, action));
        }
        Ok(r)
    }

    fn pending_application(&self, id: ApplicationId) -> Result<&Application, DomainError> {
        let a = self.lifecycle.applications.get(&id).ok_or_else(|| unknown("application", id))?;
        if a.status != ApplicationStatus::Pending {
            return Err(wrong_state(format!("application {id}"), a.status, "be decided"));
        }
        Ok(a)
    }

    /// Refuses a parcel that overlaps, beyond the tolerance, a parcel actively enrolled for an
    /// overlapping period: by id, and by geometry whatever its id or owner. `pending` are the
    /// parcels the same command enrols before this one.
    fn check_overlap(
        &self,
        candidate: &Candidate,
        pending: &[(ParcelId, EnrolmentId, &Polygon, Period)],
    ) -> Result<(), DomainError> {
        let lc = &self.lifecycle;
        let conflict = |other: ParcelId, enrolment: EnrolmentId, share: f64| DomainError::ParcelOverlap {
            parcel: candidate.label.clone(),
            other,
            enrolment,
            share: (share * 100.0).round().clamp(0.0, 100.0) as u32,
        };
        let active = lc.enrolments.values().filter(|e| e.status.is_active() && e.period.overlaps(candidate.period));
        for e in active {
            if Some(e.parcel) == candidate.id {
                return Err(conflict(e.parcel, e.id, 1.0));
            }
            let other = lc.parcels.get(&e.parcel).and_then(|p| p.private.data());
            if let (Some(mine), Some(other)) = (candidate.geometry, other) {
                let share = mine.overlap_share(&other.geometry);
                if share > OVERLAP_TOLERANCE {
                    return Err(conflict(e.parcel, e.id, share));
                }
            }
        }
        for (parcel, enrolment, geometry, period) in pending {
            if let Some(mine) = candidate.geometry
                && period.overlaps(candidate.period)
            {
                let share = mine.overlap_share(geometry);
                if share > OVERLAP_TOLERANCE {
                    return Err(conflict(*parcel, *enrolment, share));
                }
            }
        }
        Ok(())
    }

    /// A new participant and its account (named by the pseudonym, never the person).
    fn new_participant(
        &self,
        by: &str,
        person: Person,
        prefecture: String,
        salt: &Salt,
    ) -> (ParticipantId, Vec<Event>) {
        let id = ParticipantId(next_id(&self.lifecycle.participants, |k| k.0));
        let pseudonym = format!("Participant {id}");
        let account = Account { id: self.next_account_id(), kind: AccountKind::Participant, name: pseudonym.clone() };
        let registered = LifecycleEvent::ParticipantRegistered {
            id,
            account: account.id,
            pseudonym,
            prefecture,
            person: Sealed::seal(*salt, person),
            by: by.to_owned(),
        };
        (id, vec![Event::AccountOpened { account }, Event::Lifecycle(registered)])
    }

    fn decide_application(
        &self,
        by: String,
        project: ProjectCode,
        applicant: Option<ParticipantId>,
        application: &ApplicationPrivate,
        salt: &Salt,
    ) -> Decided {
        let p = self.registered_project(project, "take applications")?;
        if p.participation.is_none() {
            return Err(wrong_state(format!("project {project}"), "not open for participation", "take applications"));
        }
        if let Some(a) = applicant
            && !self.lifecycle.participants.contains_key(&a)
        {
            return Err(unknown("participant", a));
        }
        check_person(&application.farm)?;
        if application.parcels.is_empty() || application.parcels.len() > MAX_PARCELS_PER_APPLICATION {
            return Err(DomainError::Invalid(format!("an application names 1-{MAX_PARCELS_PER_APPLICATION} parcels")));
        }
        application.parcels.iter().try_for_each(check_parcel_draft)?;
        let area_ha = application.parcels.iter().map(|p| p.area_ha).sum();
        let prefecture = application.parcels[0].prefecture.clone();
        let id = ApplicationId(next_id(&self.lifecycle.applications, |k| k.0));
        one(LifecycleEvent::ApplicationReceived {
            id,
            project,
            applicant,
            parcels: application.parcels.len() as u32,
            area_ha,
            prefecture,
            private: Sealed::seal(*salt, application.clone()),
            by,
        })
    }

    fn decide_accept(&self, by: String, id: ApplicationId, period: Period, salt: &Salt) -> Decided {
        let application = self.pending_application(id)?;
        let project = self.registered_project(application.project, "enrol parcels")?;
        check_contract(project, period)?;
        let private = application.private.data().ok_or_else(|| {
            DomainError::Invalid(format!("the personal data of application {id} was erased; it cannot be accepted"))
        })?;
        let mut events = Vec::new();
        let participant = match application.applicant {
            Some(existing) => existing,
            None => {
                let prefecture = private.parcels[0].prefecture.clone();
                let (new, opened) = self.new_participant(&by, private.farm.clone(), prefecture, &derive_salt(salt, 0));
                events.extend(opened);
                new
            }
        };
        let first_parcel = next_id(&self.lifecycle.parcels, |k| k.0);
        let first_enrolment = next_id(&self.lifecycle.enrolments, |k| k.0);
        let mut pending = Vec::new();
        for (i, draft) in private.parcels.iter().enumerate() {
            let (parcel, enrolment) = (ParcelId(first_parcel + i as u64), EnrolmentId(first_enrolment + i as u64));
            let candidate = Candidate {
                label: format!("parcel {} of application {id}", i + 1),
                id: None,
                geometry: Some(&draft.private.geometry),
                period,
            };
            self.check_overlap(&candidate, &pending)?;
            pending.push((parcel, enrolment, &draft.private.geometry, period));
            events.push(parcel_registered(parcel, participant, draft, derive_salt(salt, i as u32 + 1), &by));
            events.push(Event::Lifecycle(LifecycleEvent::Enrolled {
                id: enrolment,
                project: application.project,
                parcel,
                participant,
                period,
                by: by.clone(),
            }));
        }
        events.push(Event::Lifecycle(LifecycleEvent::ApplicationDecided {
            id,
            participant: Some(participant),
            reason: String::new(),
            by,
        }));
        Ok(events)
    }

    fn decide_report(&self, by: String, spec: &ReportSpec) -> Decided {
        let lc = &self.lifecycle;
        let project = self.registered_project(spec.project, "take monitoring reports")?;
        let methodology = self.methodology_of(spec.project)?;
        check_period("monitoring period", spec.period)?;
        if !project.spec.crediting.contains(spec.period) {
            return Err(DomainError::Invalid("the monitoring period lies outside the crediting period".into()));
        }
        Vintage::new(spec.period.to.year())?;
        if spec.activity.is_empty() || spec.activity.len() > MAX_REPORT_PARCELS {
            return Err(DomainError::Invalid(format!("a report covers 1-{MAX_REPORT_PARCELS} parcels")));
        }
        let mut areas = Vec::with_capacity(spec.activity.len());
        for (i, activity) in spec.activity.iter().enumerate() {
            if spec.activity[..i].iter().any(|a| a.parcel == activity.parcel) {
                return Err(DomainError::Invalid(format!("parcel {} appears twice", activity.parcel)));
            }
            let enrolled = lc
                .enrolments_of(activity.parcel)
                .any(|e| e.project == spec.project && e.status.is_active() && e.period.overlaps(spec.period));
            if !enrolled {
                return Err(DomainError::Invalid(format!(
                    "parcel {} is not enrolled in project {} for this period",
                    activity.parcel, spec.project
                )));
            }
            check_activity(&methodology.spec.schema, activity)?;
            let area = lc.parcels.get(&activity.parcel).map(|p| p.area_ha).unwrap_or_default();
            areas.push((activity.parcel, area));
        }
        if spec.evidence.len() > MAX_LIST {
            return Err(DomainError::Invalid(format!("at most {MAX_LIST} evidence files")));
        }
        for evidence in &spec.evidence {
            check_text("evidence name", &evidence.name, MAX_NAME_LEN, true)?;
        }
        // One value per indicator and parcel (or project-wide), for parcels the report covers.
        if spec.indicators.len() > MAX_INDICATOR_VALUES {
            return Err(DomainError::Invalid(format!("at most {MAX_INDICATOR_VALUES} ecological indicator values")));
        }
        let mut names: Vec<String> = Vec::new();
        for (i, indicator) in spec.indicators.iter().enumerate() {
            check_text("ecological indicators", &indicator.name, MAX_NAME_LEN, true)?;
            check_text("indicator unit", &indicator.unit, MAX_NAME_LEN, false)?;
            if spec.indicators[..i].iter().any(|o| o.name == indicator.name && o.parcel == indicator.parcel) {
                let whose = indicator.parcel.map_or_else(|| "the project".to_string(), |p| format!("parcel {p}"));
                return Err(DomainError::Invalid(format!(
                    "ecological indicator {:?} appears twice for {whose}",
                    indicator.name
                )));
            }
            if let Some(parcel) = indicator.parcel
                && !spec.activity.iter().any(|a| a.parcel == parcel)
            {
                return Err(DomainError::Invalid(format!(
                    "ecological indicator {:?}: parcel {parcel} is not in the report",
                    indicator.name
                )));
            }
            if !names.contains(&indicator.name) {
                names.push(indicator.name.clone());
            }
        }
        if names.len() > MAX_LIST {
            return Err(DomainError::Invalid(format!("at most {MAX_LIST} ecological indicators")));
        }
        if let Some(missing) = methodology.spec.indicators.iter().find(|name| !names.contains(name)) {
            return Err(DomainError::Invalid(format!("the methodology requires the ecological indicator {missing:?}")));
        }
        let id = ReportId(next_id(&lc.reports, |k| k.0));
        one(LifecycleEvent::ReportDrafted { id, spec: spec.clone(), areas, by })
    }

    fn decide_approval(&self, by: String, id: RequestId) -> Decided {
        let lc = &self.lifecycle;
        let request = lc.requests.get(&id).ok_or_else(|| unknown("issuance request", id))?;
        if request.status == RequestStatus::Approved {
            return Err(DomainError::AlreadyIssued { report: request.report, request: id });
        }
        if request.requested_by == by {
            return Err(DomainError::SelfApproval { request: id, by });
        }
        let report = lc.reports.get(&request.report).ok_or_else(|| unknown("report", request.report))?;
        let project = self.project(report.spec.project)?;
        let methodology = self.methodology_of(report.spec.project)?;
        let net = report.quantification.as_ref().map_or(Decimal::ZERO, |q| q.net);
        let (quantity, buffer) = split_issue(net, methodology.spec.deductions.buffer)?;
        let issue = IssueCommand {
            project: project.code,
            country: Some(project.spec.country),
            vintage: Vintage::new(report.spec.period.to.year())?,
            quantity,
            buffer,
            to: ISSUANCE_ACCOUNT,
            labels: request.labels.clone(),
        };
        let mut events = self.decide_issue(&issue)?;
        let batch = match events.first() {
            Some(Event::BatchIssued(b)) => b.id,
            _ => return Err(DomainError::Invalid("issuing the batch produced no batch".into())),
        };
        events.push(Event::Lifecycle(LifecycleEvent::IssuanceApproved { id, batch, quantity, buffer, by }));
        Ok(events)
    }
}

/// Splits a verified net into credits for the holder and the buffer pool: the issuable total is
/// floor(net) (SPEC §4 rounds once, down, at issuance); the buffer takes its percentage of that
/// total rounded *up*, so rounding never shortchanges the pool that insures reversals.
pub fn split_issue(net: Decimal, buffer_percent: Decimal) -> Result<(Quantity, Quantity), DomainError> {
    let total = net.floor().to_u64().filter(|t| *t <= MAX_QUANTITY).unwrap_or(0);
    let buffer = (Decimal::from(total) * buffer_percent / Decimal::ONE_HUNDRED).ceil().to_u64().unwrap_or(total);
    if total <= buffer {
        return Err(DomainError::Invalid(format!(
            "the verified net ({net} t) leaves no whole credit after the buffer contribution"
        )));
    }
    Ok((Quantity(total - buffer), Quantity(buffer)))
}

/// Only the verifier an operator assigned to a project validates it and verifies its reports.
fn check_assigned(project: &Project, by: &str) -> Result<(), DomainError> {
    match &project.verifier {
        Some(verifier) if verifier == by => Ok(()),
        Some(verifier) => Err(DomainError::NotAssigned {
            detail: format!("project {} is assigned to verifier {verifier}, not {by}", project.code),
        }),
        None => Err(DomainError::NotAssigned {
            detail: format!("project {} has no verifier yet; an operator assigns one first", project.code),
        }),
    }
}

fn check_contract(project: &Project, period: Period) -> Result<(), DomainError> {
    check_period("contract period", period)?;
    if !project.spec.crediting.contains(period) {
        return Err(DomainError::Invalid(format!(
            "the contract period lies outside project {}'s crediting period",
            project.code
        )));
    }
    Ok(())
}

fn parcel_registered(id: ParcelId, participant: ParticipantId, draft: &ParcelDraft, salt: Salt, by: &str) -> Event {
    Event::Lifecycle(LifecycleEvent::ParcelRegistered {
        id,
        participant,
        area_ha: draft.area_ha,
        prefecture: draft.prefecture.clone(),
        municipality: draft.municipality.clone(),
        cell: draft.private.geometry.cell(),
        private: Sealed::seal(salt, draft.private.clone()),
        by: by.to_owned(),
    })
}
