//! The whole program lifecycle against the pure ledger, with every refusal of issue #5: wrong
//! state, self-approval, double issuance of one report, overlapping parcels (same id, another id,
//! another farmer), an unrecognised withdrawal ground and schema-invalid monitoring data. Each
//! refusal must leave the state exactly as it was; invariants are checked after every step.

use furrow_domain::invariants::check;
use furrow_domain::lifecycle::engine::recompute;
use furrow_domain::lifecycle::*;
use furrow_domain::sim::genesis;
use furrow_domain::sim::lifecycle::{parcel_draft, rice_methodology, salt};
use furrow_domain::*;

const OP_A: &str = "operator-a";
const OP_B: &str = "operator-b";
const VERIFIER: &str = "verifier";

struct World {
    ledger: Ledger,
    clock: i64,
    entries: Vec<LogEntry>,
}

impl World {
    fn new() -> Self {
        let mut ledger = Ledger::new();
        ledger.execute(&genesis(), Timestamp(0)).expect("genesis");
        Self { ledger, clock: 1_767_225_600_000_000, entries: Vec::new() }
    }

    fn run(&mut self, by: &str, command: LifecycleCommand) -> Vec<Event> {
        self.clock += 1;
        let command = Command::Lifecycle { by: by.into(), command };
        let events =
            self.ledger.execute(&command, Timestamp(self.clock)).unwrap_or_else(|e| panic!("{command:?}: {e}"));
        for event in &events {
            let index = self.entries.len() as u64;
            self.entries.push(LogEntry {
                index,
                timestamp: Timestamp(self.clock),
                actor: by.into(),
                event: event.clone(),
            });
        }
        check(&self.ledger).expect("invariants");
        events
    }

    fn refuse(&mut self, by: &str, command: LifecycleCommand) -> DomainError {
        let before = self.ledger.clone();
        let command = Command::Lifecycle { by: by.into(), command };
        let error = self.ledger.execute(&command, Timestamp(self.clock)).expect_err("must be refused");
        assert_eq!(self.ledger, before, "a refused {} changed the state", command.name());
        error
    }

    fn lc(&self) -> &Lifecycle {
        self.ledger.lifecycle()
    }
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn period(from: &str, to: &str) -> Period {
    Period { from: date(from), to: date(to) }
}

fn farmer(name: &str) -> Person {
    Person { name: name.into(), contact: format!("{name}@example.jp"), address: "Minamiuonuma, Niigata".into() }
}

fn drainage(parcel: ParcelId, days: i64) -> ParcelActivity {
    ParcelActivity { parcel, values: vec![("drainage_extension_days".into(), FieldValue::Number(Decimal::from(days)))] }
}

fn report(parcels: &[ParcelId], days: i64, indicators: bool) -> ReportSpec {
    ReportSpec {
        project: ProjectCode(1),
        period: period("2026-01-01", "2026-12-31"),
        activity: parcels.iter().map(|p| drainage(*p, days)).collect(),
        evidence: vec![Evidence { name: "drainage-log.pdf".into(), sha256: [9; 32] }],
        indicators: if indicators {
            vec![IndicatorValue {
                name: "frog_count".into(),
                value: Decimal::from(31),
                unit: "per survey".into(),
                parcel: None,
                evidence: None,
            }]
        } else {
            Vec::new()
        },
    }
}

/// A registered project P0001 under an approved AG-005 v1.0, with withdrawal grounds configured.
fn registered_project(w: &mut World) {
    w.run(
        OP_A,
        LifecycleCommand::ConfigureWithdrawalGrounds { grounds: vec!["illness".into(), "natural disaster".into()] },
    );
    w.run(OP_A, LifecycleCommand::DraftMethodology { spec: rice_methodology("v1.0") });
    let spec = ProjectSpec {
        name: "Uonuma mid-season drainage".into(),
        methodology: MethodologyId(1),
        country: "JP".parse().expect("country"),
        region: "JP-15".into(),
        crediting: period("2024-01-01", "2030-12-31"),
    };
    let error = w.refuse(OP_A, LifecycleCommand::DraftProject { spec: spec.clone() });
    assert_eq!(error.code(), "wrong-state", "a draft methodology takes no projects");
    w.run(OP_A, LifecycleCommand::ApproveMethodology { id: MethodologyId(1) });
    let error = w.refuse(OP_A, LifecycleCommand::DraftMethodology { spec: rice_methodology("v1.0") });
    assert_eq!(error.code(), "duplicate", "an approved version never changes: a change is a new version");
    w.run(OP_A, LifecycleCommand::DraftProject { spec });
    let transition =
        |action| LifecycleCommand::TransitionProject { project: ProjectCode(1), action, reason: String::new() };
    assert_eq!(w.refuse(OP_A, transition(ProjectAction::Register)).code(), "wrong-state");
    w.run(OP_A, transition(ProjectAction::Submit));
    // Only the verifier an operator assigned validates (and verifies the project's reports).
    assert_eq!(w.refuse(VERIFIER, transition(ProjectAction::Validate)).code(), "not-assigned");
    let assign =
        |verifier: &str| LifecycleCommand::AssignVerifier { project: ProjectCode(1), verifier: verifier.into() };
    w.run(OP_A, assign("another verifier"));
    assert_eq!(w.refuse(VERIFIER, transition(ProjectAction::Validate)).code(), "not-assigned");
    w.run(OP_A, assign(VERIFIER));
    w.run(VERIFIER, transition(ProjectAction::Validate));
    w.run(OP_A, transition(ProjectAction::Register));
    assert_eq!(w.refuse(VERIFIER, transition(ProjectAction::Validate)).code(), "wrong-state");
    let p = &w.lc().projects[&ProjectCode(1)];
    assert_eq!(p.status, ProjectStatus::Registered);
    let steps: Vec<(&str, &str)> = p.history.iter().map(|t| (t.to.as_str(), t.by.as_str())).collect();
    assert_eq!(
        steps,
        [("draft", OP_A), ("submitted", OP_A), ("validated", VERIFIER), ("registered", OP_A)],
        "every transition is recorded with its actor"
    );
}

fn register(w: &mut World, name: &str, spots: &[(u64, bool)]) -> (ParticipantId, Vec<ParcelId>) {
    w.run(
        OP_A,
        LifecycleCommand::RegisterParticipant { person: farmer(name), prefecture: "Niigata".into(), salt: salt(7) },
    );
    let participant = *w.lc().participants.keys().next_back().expect("participant");
    let mut parcels = Vec::new();
    for (spot, shift) in spots {
        let parcel = parcel_draft(*spot, *shift);
        w.run(OP_A, LifecycleCommand::RegisterParcel { participant, parcel, salt: salt(*spot) });
        parcels.push(*w.lc().parcels.keys().next_back().expect("parcel"));
    }
    (participant, parcels)
}

fn enrol(parcel: ParcelId, from: &str, to: &str) -> LifecycleCommand {
    LifecycleCommand::Enrol { project: ProjectCode(1), parcel, period: period(from, to) }
}

#[test]
fn the_whole_lifecycle_with_every_refusal() {
    let mut w = World::new();
    registered_project(&mut w);

    // Parcels: farmer A's field; farmer B registers the same field under another id, one that half
    // overlaps it, and a neighbour that only touches it.
    let (_, a) = register(&mut w, "Sato Ichiro", &[(0, false)]);
    let (_, b) = register(&mut w, "Suzuki Hanako", &[(0, false), (0, true), (1, false)]);
    w.run(OP_A, enrol(a[0], "2025-01-01", "2027-12-31"));
    let overlap = |e: DomainError| match e {
        DomainError::ParcelOverlap { other, enrolment, .. } => (other, enrolment),
        other => panic!("expected an overlap, got {other}"),
    };
    let conflict = (a[0], EnrolmentId(1));
    assert_eq!(overlap(w.refuse(OP_A, enrol(a[0], "2026-01-01", "2026-12-31"))), conflict, "same id");
    assert_eq!(
        overlap(w.refuse(OP_A, enrol(b[0], "2025-06-01", "2026-05-31"))),
        conflict,
        "another id, another farmer"
    );
    assert_eq!(overlap(w.refuse(OP_A, enrol(b[1], "2025-01-01", "2025-12-31"))), conflict, "half of it");
    let error = w.refuse(OP_A, enrol(b[0], "2025-06-01", "2026-05-31"));
    assert!(
        error.to_string().contains("L000001") && error.to_string().contains("E000001"),
        "names the conflict: {error}"
    );
    w.run(OP_A, enrol(b[2], "2025-01-01", "2027-12-31"));
    w.run(OP_A, enrol(b[0], "2028-01-01", "2029-12-31"));
    let error = w.refuse(OP_A, enrol(b[2], "2020-01-01", "2020-12-31"));
    assert_eq!(error.code(), "invalid-command", "a contract outside the crediting period: {error}");

    // Monitoring: schema-invalid data is refused with the field named.
    let parcels = [a[0], b[2]];
    let error = w.refuse(OP_A, LifecycleCommand::DraftReport { spec: report(&parcels, 3, true) });
    assert_eq!(error.code(), "schema-invalid");
    assert!(error.to_string().contains("drainage_extension_days"), "{error}");
    let mut unknown_field = report(&parcels, 10, true);
    unknown_field.activity[0].values.push(("tillage".into(), FieldValue::Flag(true)));
    assert_eq!(w.refuse(OP_A, LifecycleCommand::DraftReport { spec: unknown_field }).code(), "schema-invalid");
    let mut missing = report(&parcels, 10, true);
    missing.activity[1].values.clear();
    assert_eq!(w.refuse(OP_A, LifecycleCommand::DraftReport { spec: missing }).code(), "schema-invalid");
    let error = w.refuse(OP_A, LifecycleCommand::DraftReport { spec: report(&parcels, 10, false) });
    assert!(error.to_string().contains("frog_count"), "required indicators: {error}");
    w.run(OP_A, LifecycleCommand::DraftReport { spec: report(&parcels, 10, true) });
    let n1 = ReportId(1);
    assert_eq!(w.refuse(VERIFIER, LifecycleCommand::VerifyReport { report: n1 }).code(), "wrong-state");
    assert_eq!(w.refuse(OP_A, LifecycleCommand::RequestIssuance { report: n1, labels: vec![] }).code(), "wrong-state");
    w.run(OP_A, LifecycleCommand::SubmitReport { report: n1 });
    let error = w.refuse("another verifier", LifecycleCommand::VerifyReport { report: n1 });
    assert_eq!(error.code(), "not-assigned", "a verifier verifies only its projects' reports");
    let error = w.refuse("another verifier", LifecycleCommand::ReturnReport { report: n1, reason: "no".into() });
    assert_eq!(error.code(), "not-assigned");
    w.run(VERIFIER, LifecycleCommand::VerifyReport { report: n1 });

    // The frozen quantification: areas 0.5 ha and 0.6 ha at 4.2 t/ha, less 10 % and 2 %.
    let q = w.lc().reports[&n1].quantification.clone().expect("frozen");
    assert_eq!(q.gross, Decimal::new(462, 2));
    assert_eq!(q.net, Decimal::new(462, 2) * Decimal::new(9, 1) * Decimal::new(98, 2));
    assert_eq!(q.contributions.iter().map(|(_, c)| *c).sum::<Decimal>(), q.net);
    assert_eq!((q.engine.as_str(), q.engine_version.as_str(), q.gwp.as_str()), ("linear-factor", "1.0", "AR5"));
    let methodology = w.lc().methodologies[&MethodologyId(1)].clone();
    assert_eq!(recompute(&methodology, &w.lc().reports[&n1]), Ok(()));
    let mut tampered = w.lc().reports[&n1].clone();
    tampered.spec.activity[0].values[0].1 = FieldValue::Number(Decimal::from(40));
    assert!(recompute(&methodology, &tampered).is_err(), "changed inputs no longer match the frozen result");

    // Four-eyes issuance: floor(4.07...) = 4 credits, buffer 5 % of 4 rounded up = 1.
    w.run(OP_A, LifecycleCommand::RequestIssuance { report: n1, labels: vec!["J-Credit-eligible".into()] });
    let error = w.refuse(OP_A, LifecycleCommand::ApproveIssuance { request: RequestId(1) });
    assert_eq!(error.code(), "self-approval");
    assert!(error.is_forbidden());
    let events = w.run(OP_B, LifecycleCommand::ApproveIssuance { request: RequestId(1) });
    let Event::BatchIssued(batch) = &events[0] else { panic!("the approval issues a batch: {events:?}") };
    assert_eq!((batch.serials.len(), batch.buffer, batch.vintage.year()), (Quantity(4), Quantity(1), 2026));
    assert_eq!(batch.to, ledger::ISSUANCE_ACCOUNT);
    let request = &w.lc().requests[&RequestId(1)];
    assert_eq!((request.requested_by.as_str(), request.approved_by.as_deref()), (OP_A, Some(OP_B)));
    assert_eq!(
        w.refuse(OP_B, LifecycleCommand::ApproveIssuance { request: RequestId(1) }).code(),
        "report-already-issued"
    );
    let again = LifecycleCommand::RequestIssuance { report: n1, labels: vec![] };
    assert_eq!(w.refuse(OP_B, again).code(), "report-already-issued");

    // A reversal cancels from the buffer pool, as a reversal-compensation cancellation.
    let too_much =
        LifecycleCommand::RecordReversal { project: ProjectCode(1), quantity: Quantity(2), note: "flood".into() };
    assert_eq!(w.refuse(OP_A, too_much).code(), "insufficient-credits");
    w.run(
        OP_A,
        LifecycleCommand::RecordReversal { project: ProjectCode(1), quantity: Quantity(1), note: "flood".into() },
    );
    assert_eq!(w.ledger.balance(ledger::BUFFER_ACCOUNT, BlockState::Buffer), Quantity(1), "requested, not yet done");
    // Four-eyes: the requester cannot approve its own reversal.
    let approve = LifecycleCommand::ApproveReversal { reversal: ReversalId(1) };
    assert_eq!(w.refuse(OP_A, approve.clone()).code(), "four-eyes");
    let events = w.run(OP_B, approve.clone());
    assert_eq!(w.refuse(OP_B, approve).code(), "wrong-state", "a reversal is approved once");
    let Event::Cancelled { account, reason, .. } = &events[0] else { panic!("a cancellation first: {events:?}") };
    assert_eq!((*account, *reason), (ledger::BUFFER_ACCOUNT, CancellationReason::ReversalCompensation));
    assert_eq!(w.ledger.balance(ledger::BUFFER_ACCOUNT, BlockState::Buffer), Quantity(0));

    // Withdrawal: only recognised grounds; approval records the effective date and keeps history.
    let bad = LifecycleCommand::RequestWithdrawal {
        enrolment: EnrolmentId(1),
        ground: "better offer".into(),
        note: String::new(),
        salt: salt(3),
    };
    assert_eq!(w.refuse(OP_A, bad).code(), "unrecognised-withdrawal-ground");
    let decide = LifecycleCommand::DecideWithdrawal {
        enrolment: EnrolmentId(1),
        effective: Some(date("2026-04-01")),
        reason: String::new(),
    };
    assert_eq!(w.refuse(OP_A, decide.clone()).code(), "wrong-state");
    w.run(
        OP_A,
        LifecycleCommand::RequestWithdrawal {
            enrolment: EnrolmentId(1),
            ground: "illness".into(),
            note: "back injury".into(),
            salt: salt(4),
        },
    );
    w.run(OP_A, decide);
    let e1 = &w.lc().enrolments[&EnrolmentId(1)];
    assert_eq!(e1.status, EnrolmentStatus::Withdrawn);
    assert_eq!(e1.withdrawal.as_ref().and_then(|x| x.effective), Some(date("2026-04-01")));
    assert_eq!(e1.history.len(), 3, "withdrawal never deletes history");
    let note = e1.withdrawal.as_ref().and_then(|x| x.note.data().cloned());
    assert_eq!(note.as_deref(), Some("back injury"), "sealed, yet known to the registry");
    // Withdrawn, the field may be enrolled again (by whoever farms it now).
    w.run(OP_A, enrol(b[0], "2026-06-01", "2027-12-31"));

    // Labels.
    let label = LifecycleCommand::AddLabel {
        batch: batch.id,
        kind: LabelKind::IcvcmCcp,
        issuer: "ICVCM".into(),
        valid: period("2026-01-01", "2030-12-31"),
    };
    w.run(OP_A, label.clone());
    assert_eq!(w.refuse(OP_A, label).code(), "duplicate");

    // The log replays to the same state, from the public bytes alone.
    let mut replayed = Ledger::new();
    replayed.execute(&genesis(), Timestamp(0)).expect("genesis");
    for entry in &w.entries {
        replayed.apply(&LogEntry::decode(&entry.encode()).expect("decodes").event, entry.timestamp);
    }
    assert_eq!(replayed, w.ledger);
}

#[test]
fn join_applications_are_accepted_with_the_overlap_check_or_declined() {
    let mut w = World::new();
    registered_project(&mut w);
    let (_, a) = register(&mut w, "Sato Ichiro", &[(0, false)]);
    w.run(OP_A, enrol(a[0], "2025-01-01", "2027-12-31"));
    let application = |spots: &[u64]| LifecycleCommand::ApplyToJoin {
        project: ProjectCode(1),
        applicant: None,
        application: ApplicationPrivate {
            farm: farmer("Uonuma Organic Farm"),
            parcels: spots.iter().map(|s| parcel_draft(*s, false)).collect(),
        },
        salt: salt(99),
    };
    assert_eq!(w.refuse(OP_A, application(&[30])).code(), "wrong-state", "not open for participation");
    let open = Participation {
        opens: date("2025-01-15"),
        starts: date("2025-04-01"),
        conditions: "paddy owners in Uonuma".into(),
    };
    w.run(OP_A, LifecycleCommand::SetParticipation { project: ProjectCode(1), participation: Some(open) });

    // An application naming a field that is already enrolled cannot be accepted.
    w.run(OP_A, application(&[30, 0]));
    let accept = |id| LifecycleCommand::AcceptApplication {
        application: ApplicationId(id),
        period: period("2025-04-01", "2027-12-31"),
        salt: salt(5),
    };
    let error = w.refuse(OP_A, accept(1));
    assert_eq!(error.code(), "parcel-overlap");
    assert!(error.to_string().contains("parcel 2 of application J000001"), "{error}");
    let decline = LifecycleCommand::DeclineApplication { application: ApplicationId(1), reason: String::new() };
    assert_eq!(w.refuse(OP_A, decline).code(), "invalid-command", "declining needs a reason");
    w.run(
        OP_A,
        LifecycleCommand::DeclineApplication { application: ApplicationId(1), reason: "field already enrolled".into() },
    );
    assert_eq!(w.lc().applications[&ApplicationId(1)].status, ApplicationStatus::Declined);

    // Two parcels of one application that overlap each other are caught too.
    w.run(OP_A, application(&[31, 31]));
    assert_eq!(w.refuse(OP_A, accept(2)).code(), "parcel-overlap");

    w.run(OP_A, application(&[32, 33]));
    let before = w.ledger.accounts().count();
    w.run(OP_A, accept(3));
    let accepted = &w.lc().applications[&ApplicationId(3)];
    assert_eq!(accepted.status, ApplicationStatus::Accepted);
    let participant = accepted.participant.expect("a participant was created");
    assert_eq!(w.ledger.accounts().count(), before + 1, "with an account named by its pseudonym");
    let p = &w.lc().participants[&participant];
    assert_eq!(p.person.data().map(|d| d.name.as_str()), Some("Uonuma Organic Farm"));
    assert_eq!(w.ledger.account(p.account).map(|a| a.name.as_str()), Some(p.pseudonym.as_str()));
    let enrolled: Vec<_> = w.lc().enrolments.values().filter(|e| e.participant == participant).collect();
    assert_eq!(enrolled.len(), 2);
    assert_eq!(w.refuse(OP_A, accept(3)).code(), "wrong-state", "decided once");
}

#[test]
fn personal_data_stays_out_of_the_public_entry() {
    let mut w = World::new();
    registered_project(&mut w);
    register(&mut w, "Takahashi Kenji", &[(4, false)]);
    let mut found_private = 0;
    for entry in &w.entries {
        let public = entry.encode();
        for secret in ["Takahashi Kenji", "Takahashi Kenji@example.jp", "Minamiuonuma, Niigata", "Field 4"] {
            assert!(!public.windows(secret.len()).any(|win| win == secret.as_bytes()), "{secret:?} in a public entry");
        }
        if let Some(payload) = entry.private_payload() {
            found_private += 1;
            // The payload opens against the public entry; a changed payload does not.
            let opened = LogEntry::decode_with_private(&public, Some(&payload)).expect("opens");
            assert_eq!(opened.private_payload(), Some(payload.clone()));
            let mut altered = payload.clone();
            let last = altered.len() - 1;
            altered[last] ^= 1;
            assert!(LogEntry::decode_with_private(&public, Some(&altered)).is_err());
        }
    }
    assert_eq!(found_private, 2, "the participant and the parcel");
    let parcel = w.lc().parcels.values().next().expect("parcel");
    assert_eq!(parcel.cell.to_string(), "37.9N 139.0E", "the public sees a coarse cell");
}

/// The first log key comes with the program; each later one needs a rotation that one admin
/// requested and another approved, and uses it up (issue #8: four-eyes on key rotation).
#[test]
fn a_log_key_rotates_only_with_a_second_admins_approval() {
    let mut ledger = Ledger::new();
    let mut at = 0;
    let mut run = |ledger: &mut Ledger, command: Command| {
        at += 1;
        let before = ledger.clone();
        let result = ledger.execute(&command, Timestamp(at));
        if result.is_err() {
            assert_eq!(*ledger, before, "a refused {} changed the state", command.name());
        }
        result
    };
    let publish = |key: &str| Command::PublishLogKey { vkey: key.into() };
    let by = |who: &str, command| Command::Lifecycle { by: who.into(), command };
    run(&mut ledger, genesis()).expect("genesis");
    run(&mut ledger, publish("first-key")).expect("the program's first key needs no approval");
    assert_eq!(run(&mut ledger, publish("second-key")).expect_err("no rotation approved").code(), "wrong-state");

    let request = LifecycleCommand::RequestKeyRotation { reason: "yearly rotation".into() };
    run(&mut ledger, by("admin-a", request)).expect("request");
    let approve = LifecycleCommand::ApproveKeyRotation { rotation: KeyRotationId(1) };
    let own = run(&mut ledger, by("admin-a", approve.clone())).expect_err("the requester cannot approve");
    assert_eq!(own.code(), "four-eyes");
    assert_eq!(run(&mut ledger, publish("second-key")).expect_err("still pending").code(), "wrong-state");
    run(&mut ledger, by("admin-b", approve.clone())).expect("another admin approves");
    assert_eq!(run(&mut ledger, by("admin-b", approve)).expect_err("once").code(), "wrong-state");
    assert_eq!(ledger.approved_key_rotations_left(), 1);
    run(&mut ledger, publish("second-key")).expect("the approved rotation");
    assert_eq!(ledger.approved_key_rotations_left(), 0, "an approval rotates the key once");
    assert_eq!(run(&mut ledger, publish("third-key")).expect_err("used up").code(), "wrong-state");
    assert_eq!(ledger.log_keys(), ["first-key", "second-key"]);
}
