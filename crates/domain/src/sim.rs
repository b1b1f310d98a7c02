//! Turns plain random numbers into registry commands, valid and invalid, for property tests and
//! seeded simulations. Pure: the same numbers and state always give the same command.

use crate::command::{Command, IssueCommand, Selection};
use crate::ids::{AccountId, BatchId, Date, Jurisdiction, ProjectCode, Quantity, Vintage};
use crate::ledger::Ledger;
use crate::model::{
    AccountKind, Beneficiary, CancellationReason, ClaimPeriod, RetirementClaim, RetirementPurpose, Role,
};
use crate::serial::SerialRange;

/// Picks a command from six random numbers. About one command in five is expected to be refused
/// (too many credits, someone else's serials, retired serials…), so refusals are exercised too.
pub fn arbitrary_command(ledger: &Ledger, n: [u64; 6]) -> Command {
    let accounts: Vec<AccountId> = ledger.accounts().map(|a| a.id).collect();
    let pick_account = |x: u64| accounts.get((x as usize) % accounts.len().max(1)).copied().unwrap_or(AccountId(1));
    match n[0] % 10 {
        0 => Command::OpenAccount {
            kind: if n[1].is_multiple_of(2) { AccountKind::Participant } else { AccountKind::Buyer },
            name: format!("Holder {}", n[2] % 1000),
        },
        1 | 2 => Command::Issue(IssueCommand {
            project: ProjectCode(n[1] % 5),
            country: None,
            vintage: Vintage::new(2020 + (n[2] % 6) as u16).expect("valid year"),
            quantity: Quantity(1 + n[3] % 500),
            buffer: Quantity(n[4] % 3 * (n[3] % 50)),
            to: pick_account(n[5]),
            labels: if n[4].is_multiple_of(4) { vec!["J-Credit-eligible".into()] } else { Vec::new() },
        }),
        3..=5 => {
            Command::Transfer { from: pick_account(n[1]), to: pick_account(n[2]), selection: selection(ledger, n) }
        }
        6..=8 => Command::Retire { from: pick_account(n[1]), selection: selection(ledger, n), claim: claim(n[2]) },
        _ => Command::Cancel {
            from: pick_account(n[1]),
            selection: selection(ledger, n),
            reason: CancellationReason::ALL[(n[2] as usize) % CancellationReason::ALL.len()],
            note: "simulated".into(),
        },
    }
}

fn selection(ledger: &Ledger, n: [u64; 6]) -> Selection {
    let blocks: Vec<_> = ledger.blocks().collect();
    match (n[3] % 3, blocks.is_empty()) {
        (0, _) | (_, true) => {
            let batch = n[4].is_multiple_of(4).then(|| BatchId(1 + n[5] % 4));
            Selection::Quantity { quantity: Quantity(1 + n[4] % 300), batch }
        }
        (1, false) => {
            // A sub-range of one existing block, often held by someone else or already retired.
            let block = blocks[(n[4] as usize) % blocks.len()];
            let len = block.range.len().0;
            let offset = n[5] % len;
            let take = 1 + (n[5] / 7) % (len - offset);
            let start = block.range.start() + offset;
            Selection::Ranges(vec![SerialRange::new(start, start + take - 1).expect("inside the block")])
        }
        _ => {
            // A range anywhere, possibly spanning blocks or past the last issued serial.
            let last = blocks.last().map_or(1, |b| b.range.end());
            let start = 1 + n[4] % (last + 10);
            Selection::Ranges(vec![SerialRange::new(start, start + n[5] % 40).expect("start >= 1")])
        }
    }
}

/// A believable retirement claim, varied by `n` (beneficiary and purpose).
pub fn claim(n: u64) -> RetirementClaim {
    let beneficiaries = ["Kansai Rail Co., Ltd.", "Hokuriku Foods K.K.", "Example Airlines", "City of Niigata"];
    RetirementClaim {
        beneficiary: Beneficiary {
            name: beneficiaries[(n as usize) % beneficiaries.len()].into(),
            country: "JP".parse().ok(),
            identifier: None,
        },
        purpose: RetirementPurpose::ALL[(n as usize) % RetirementPurpose::ALL.len()],
        claim_period: ClaimPeriod {
            from: Date::new(2025, 1, 1).expect("valid date"),
            to: Date::new(2025, 12, 31).expect("valid date"),
        },
        jurisdiction: "JP-15".parse::<Jurisdiction>().expect("valid jurisdiction"),
        note: String::new(),
    }
}

/// The commands that set up a program, used by tests and the demo as a starting point.
pub fn genesis() -> Command {
    Command::InitialiseProgram {
        code: "AGR".parse().expect("valid code"),
        country: "JP".parse().expect("valid country"),
        name: "Furrow Agricultural Offset Program".into(),
    }
}

/// The operators and the verifier that simulated lifecycle commands act as. Two operators, so that
/// four-eyes issuance can succeed, and be refused when one operator approves its own request.
pub const OPERATORS: [&str; 2] = ["operator-a", "operator-b"];
pub const VERIFIER: &str = "verifier";

/// The role a simulated acting user has: the verifier, a buyer (`buyer_subject`), or an operator.
pub fn role_of(subject: &str) -> Role {
    if subject == VERIFIER {
        Role::Verifier
    } else if subject.starts_with(BUYER_PREFIX) {
        Role::Buyer
    } else {
        Role::Operator
    }
}

const BUYER_PREFIX: &str = "buyer-";

/// The acting user a simulated buyer's sales commands carry: the account is in the name, so that
/// the simulator can give that principal its account (`accounts_of`).
pub fn buyer_subject(account: AccountId) -> String {
    format!("{BUYER_PREFIX}{}", account.0)
}

/// The accounts a simulated acting user holds: a buyer its own, everyone else none.
pub fn accounts_of(subject: &str) -> Vec<AccountId> {
    subject.strip_prefix(BUYER_PREFIX).and_then(|n| n.parse().ok()).map(AccountId).into_iter().collect()
}

/// Who runs a command in a simulation: the lifecycle command's acting user, or an operator.
pub fn actor(command: &Command) -> (String, Role) {
    match command {
        Command::Lifecycle { by, .. } | Command::Sales { by, .. } => (by.clone(), role_of(by)),
        // A one-step cancellation or issuance is the program's own (four-eyes cancellation and
        // issuance are lifecycle requests and approvals).
        Command::InitialiseProgram { .. }
        | Command::PublishLogKey { .. }
        | Command::Cancel { .. }
        | Command::Issue(_) => ("system".into(), Role::Admin),
        _ => ("operator".into(), Role::Operator),
    }
}

/// Like `arbitrary_command`, but about a third of the commands drive the program lifecycle and
/// some are sales (issue #7): one in twelve while nothing can be sold (they exercise refusals and
/// pricing), five in twelve once a batch issued through the lifecycle has prices, because a sale
/// takes a quote, an acceptance and a settlement, which must come often enough to meet (see
/// `sales::setup`).
pub fn arbitrary_program_command(ledger: &Ledger, n: [u64; 6]) -> Command {
    let lc = ledger.lifecycle();
    let selling = !lc.sales.pricing.is_empty() && ledger.batches().any(|b| lc.request_for_batch(b.id).is_some());
    match (n[0] % 12, selling) {
        (0 | 3 | 6 | 9, _) => lifecycle::lifecycle_command(ledger, n),
        // Rotated, so that the sales generator's own choice (its n[0]) does not depend on this one.
        (1, _) | (2 | 4 | 5 | 7, true) => sales::sales_command(ledger, [n[1], n[2], n[3], n[4], n[5], n[0]]),
        _ => arbitrary_command(ledger, n),
    }
}

pub mod lifecycle {
    //! Lifecycle commands for simulations: mostly the next sensible step of some object, with
    //! wrong actors, wrong states, overlapping parcels and bad monitoring data mixed in.

    use super::{OPERATORS, VERIFIER};
    use crate::command::Command;
    use crate::ids::*;
    use crate::ledger::Ledger;
    use crate::lifecycle::*;
    use rust_decimal::Decimal;

    fn pick<T: Copy>(items: &[T], x: u64) -> Option<T> {
        (!items.is_empty()).then(|| items[(x as usize) % items.len()])
    }

    /// Mostly one of the keys whose value is ready for the next step; now and then any key, so
    /// that wrong-state refusals happen too.
    fn prefer<K: Copy + Ord, V>(
        map: &std::collections::BTreeMap<K, V>,
        ready: impl Fn(&V) -> bool,
        x: u64,
        fallback: K,
    ) -> K {
        let all: Vec<K> = map.keys().copied().collect();
        let good: Vec<K> = map.iter().filter(|(_, v)| ready(v)).map(|(k, _)| *k).collect();
        let chosen =
            if x.is_multiple_of(5) { pick(&all, x / 5) } else { pick(&good, x / 5).or_else(|| pick(&all, x / 5)) };
        chosen.unwrap_or(fallback)
    }

    /// The next step of a project's lifecycle.
    fn next_action(status: ProjectStatus) -> ProjectAction {
        match status {
            ProjectStatus::Draft => ProjectAction::Submit,
            ProjectStatus::Submitted => ProjectAction::Validate,
            ProjectStatus::Validated => ProjectAction::Register,
            _ => ProjectAction::Complete,
        }
    }

    fn date(year: u16, month: u8) -> Date {
        Date::new(year, month, 1).expect("valid date")
    }

    fn period(from: u16, to: u16) -> Period {
        Period { from: date(from, 1), to: Date::new(to, 12, 31).expect("valid date") }
    }

    /// A rice methodology in the shape of AG-005: tCO2e per hectare, drainage days at least 7.
    pub fn rice_methodology(version: &str) -> MethodologySpec {
        MethodologySpec {
            code: "AG-005".into(),
            version: version.into(),
            title: "Extended mid-season drainage in paddy rice".into(),
            engine: "linear-factor".into(),
            parameters: ParameterTable {
                version: "2025-1".into(),
                values: vec![("per_ha".into(), Decimal::new(42, 1))],
            },
            schema: vec![
                FieldSpec {
                    name: "drainage_extension_days".into(),
                    kind: FieldKind::Integer,
                    unit: "d".into(),
                    min: Some(Decimal::from(7)),
                    max: Some(Decimal::from(60)),
                    required: true,
                },
                FieldSpec {
                    name: "straw_incorporated".into(),
                    kind: FieldKind::Flag,
                    unit: String::new(),
                    min: None,
                    max: None,
                    required: false,
                },
            ],
            deductions: Deductions {
                uncertainty: Decimal::from(10),
                leakage: Decimal::from(2),
                buffer: Decimal::from(5),
            },
            gwp: "AR5".into(),
            indicators: vec!["frog_count".into()],
        }
    }

    /// A square parcel on a small grid near Niigata, so different parcels often coincide.
    pub fn square(spot: u64, shift: bool) -> Polygon {
        let side = 0.001;
        let lon = 139.0 + (spot % 6) as f64 * side + if shift { side / 2.0 } else { 0.0 };
        let lat = 37.9 + ((spot / 6) % 30) as f64 * side;
        Polygon {
            exterior: vec![(lon, lat), (lon + side, lat), (lon + side, lat + side), (lon, lat + side), (lon, lat)],
            holes: vec![],
        }
    }

    pub fn parcel_draft(spot: u64, shift: bool) -> ParcelDraft {
        ParcelDraft {
            area_ha: Decimal::new(5 + (spot % 20) as i64, 1),
            prefecture: "Niigata".into(),
            municipality: "Minamiuonuma".into(),
            private: ParcelPrivate { name: format!("Field {spot}"), geometry: square(spot, shift) },
        }
    }

    /// A reproducible salt; never all zeros, which would ask the application for a random one.
    pub fn salt(x: u64) -> Salt {
        let mut salt = [1u8; 32];
        salt[..8].copy_from_slice(&x.to_be_bytes());
        salt
    }

    /// Picks a lifecycle command from six random numbers.
    pub fn lifecycle_command(ledger: &Ledger, n: [u64; 6]) -> Command {
        let lc = ledger.lifecycle();
        let operator = OPERATORS[(n[2] % 2) as usize].to_owned();
        // Now and then the wrong kind of actor (the app refuses it, or the domain does).
        let by = |right: &str| if n[5].is_multiple_of(11) { OPERATORS[0].to_owned() } else { right.to_owned() };
        let approved = |m: &Methodology| m.status == MethodologyStatus::Approved;
        let parcels: Vec<ParcelId> = lc.parcels.keys().copied().collect();
        let participants: Vec<ParticipantId> = lc.participants.keys().copied().collect();
        let project = prefer(&lc.projects, |p| p.status == ProjectStatus::Registered, n[3], ProjectCode(1));
        let report_in = |status: ReportStatus| prefer(&lc.reports, |r| r.status == status, n[3], ReportId(1));
        let pending_application =
            prefer(&lc.applications, |a| a.status == ApplicationStatus::Pending, n[3], ApplicationId(1));
        let enrolment_in =
            |status: EnrolmentStatus| prefer(&lc.enrolments, |e| e.status == status, n[3], EnrolmentId(1));
        let in_progress = lc
            .projects
            .values()
            .filter(|p| matches!(p.status, ProjectStatus::Draft | ProjectStatus::Submitted | ProjectStatus::Validated))
            .count();
        let command = match n[1] % 16 {
            0 => LifecycleCommand::DraftMethodology { spec: rice_methodology(&format!("v1.{}", n[3] % 3)) },
            1 => match n[4] % 4 {
                0 => LifecycleCommand::DeprecateMethodology {
                    id: prefer(&lc.methodologies, approved, n[3], MethodologyId(1)),
                },
                _ => LifecycleCommand::ApproveMethodology {
                    id: prefer(&lc.methodologies, |m| m.status == MethodologyStatus::Draft, n[3], MethodologyId(1)),
                },
            },
            // A new project only while few are on their way to registration, so that some get
            // there; and always when none is, so that registered ones are not completed at once.
            x @ (2 | 3) if in_progress == 0 || (x == 2 && in_progress < 2) => LifecycleCommand::DraftProject {
                spec: ProjectSpec {
                    name: format!("Niigata rice {}", n[3] % 100),
                    methodology: prefer(&lc.methodologies, approved, n[3], MethodologyId(1)),
                    country: "JP".parse().expect("valid country"),
                    region: "JP-15".into(),
                    crediting: period(2024, 2030),
                },
            },
            2 | 3 => {
                let project = prefer(&lc.projects, |p| p.status != ProjectStatus::Registered, n[3], ProjectCode(1));
                // A submitted project mostly gets the simulation's verifier before validation; now
                // and then someone else, who then cannot act.
                let p = lc.projects.get(&project);
                let unassigned = p.is_some_and(|p| p.status == ProjectStatus::Submitted)
                    && p.and_then(|p| p.verifier.as_deref()) != Some(VERIFIER);
                if unassigned && !n[5].is_multiple_of(3) {
                    let verifier = if n[4].is_multiple_of(13) { "another verifier" } else { VERIFIER };
                    let command = LifecycleCommand::AssignVerifier { project, verifier: verifier.into() };
                    return lifecycle(by(&operator), command);
                }
                let action = match (n[4] % 8, lc.projects.get(&project)) {
                    (0, _) | (_, None) => ProjectAction::ALL[(n[4] as usize / 8) % ProjectAction::ALL.len()],
                    (_, Some(p)) => next_action(p.status),
                };
                let actor = if matches!(action, ProjectAction::Validate | ProjectAction::Reject) {
                    VERIFIER
                } else {
                    &operator
                };
                return lifecycle(
                    by(actor),
                    LifecycleCommand::TransitionProject { project, action, reason: "simulated".into() },
                );
            }
            4 => LifecycleCommand::RegisterParticipant {
                person: Person {
                    name: format!("Farmer {}", n[3] % 50),
                    contact: "tel 025-000-0000".into(),
                    address: String::new(),
                },
                prefecture: "Niigata".into(),
                salt: salt(n[4]),
            },
            5 | 6 => LifecycleCommand::RegisterParcel {
                participant: pick(&participants, n[3]).unwrap_or(ParticipantId(1)),
                parcel: parcel_draft(n[4] % 18, n[4].is_multiple_of(7)),
                salt: salt(n[5]),
            },
            7 | 8 => LifecycleCommand::Enrol {
                project,
                parcel: pick(&parcels, n[4]).unwrap_or(ParcelId(1)),
                period: period(2025 + (n[5] % 3) as u16, 2027 + (n[5] % 3) as u16),
            },
            9 => LifecycleCommand::DraftReport { spec: report_spec(ledger, project, n) },
            10 => {
                let (actor, command) = match n[4] % 5 {
                    0 | 1 => {
                        (operator.as_str(), LifecycleCommand::SubmitReport { report: report_in(ReportStatus::Draft) })
                    }
                    2 => (
                        VERIFIER,
                        LifecycleCommand::ReturnReport {
                            report: report_in(ReportStatus::Submitted),
                            reason: "evidence unreadable".into(),
                        },
                    ),
                    _ => (VERIFIER, LifecycleCommand::VerifyReport { report: report_in(ReportStatus::Submitted) }),
                };
                return lifecycle(by(actor), command);
            }
            11 => LifecycleCommand::RequestIssuance {
                report: report_in(ReportStatus::Verified),
                labels: vec!["J-Credit-eligible".into()],
            },
            12 => LifecycleCommand::ApproveIssuance {
                request: prefer(&lc.requests, |r| r.status == RequestStatus::Pending, n[3], RequestId(1)),
            },
            // Requests, and (by either operator, so sometimes the requester) approvals.
            13 if n[4].is_multiple_of(2) => LifecycleCommand::ApproveReversal {
                reversal: prefer(&lc.reversals, |r| r.approval.is_none(), n[3], ReversalId(1)),
            },
            13 => {
                LifecycleCommand::RecordReversal { project, quantity: Quantity(1 + n[4] % 20), note: "drought".into() }
            }
            14 => match n[4] % 4 {
                0 => {
                    LifecycleCommand::ConfigureWithdrawalGrounds { grounds: vec!["illness".into(), "disaster".into()] }
                }
                1 => LifecycleCommand::RequestWithdrawal {
                    enrolment: enrolment_in(EnrolmentStatus::Active),
                    ground: ["illness", "better offer"][(n[5] % 2) as usize].into(),
                    note: "simulated".into(),
                    salt: salt(n[2]),
                },
                2 => LifecycleCommand::DecideWithdrawal {
                    enrolment: enrolment_in(EnrolmentStatus::WithdrawalRequested),
                    effective: (!n[5].is_multiple_of(3)).then(|| date(2026, 4)),
                    reason: "reviewed".into(),
                },
                _ => LifecycleCommand::AddLabel {
                    batch: pick(&ledger.batches().map(|b| b.id).collect::<Vec<_>>(), n[3]).unwrap_or(BatchId(1)),
                    kind: LabelKind::ALL[(n[5] as usize) % LabelKind::ALL.len()],
                    issuer: "Program".into(),
                    valid: period(2025, 2030),
                },
            },
            _ => match n[4] % 4 {
                0 => LifecycleCommand::SetParticipation {
                    project,
                    participation: Some(Participation {
                        opens: date(2025, 1),
                        starts: date(2025, 4),
                        conditions: "paddy owners".into(),
                    }),
                },
                1 => LifecycleCommand::ApplyToJoin {
                    project,
                    applicant: None,
                    application: ApplicationPrivate {
                        farm: Person {
                            name: "Uonuma Farm".into(),
                            contact: "farm@example.jp".into(),
                            address: String::new(),
                        },
                        parcels: vec![parcel_draft(18 + n[5] % 150, false), parcel_draft(18 + (n[5] + 1) % 150, false)],
                    },
                    salt: salt(n[3]),
                },
                2 => LifecycleCommand::AcceptApplication {
                    application: pending_application,
                    period: period(2025, 2027),
                    salt: salt(n[5]),
                },
                _ => LifecycleCommand::DeclineApplication {
                    application: pending_application,
                    reason: "outside the project area".into(),
                },
            },
        };
        lifecycle(by(&operator), command)
    }

    fn lifecycle(by: String, command: LifecycleCommand) -> Command {
        Command::Lifecycle { by, command }
    }

    /// A monitoring report over the project's enrolled parcels; sometimes with a value outside the
    /// schema or a missing indicator.
    fn report_spec(ledger: &Ledger, project: ProjectCode, n: [u64; 6]) -> ReportSpec {
        let lc = ledger.lifecycle();
        let parcels: Vec<ParcelId> =
            lc.enrolments.values().filter(|e| e.project == project && e.status.is_active()).map(|e| e.parcel).collect();
        let days = if n[4].is_multiple_of(9) { 3 } else { 7 + n[4] % 20 };
        let activity = parcels
            .iter()
            .take(20)
            .map(|p| ParcelActivity {
                parcel: *p,
                values: vec![("drainage_extension_days".into(), FieldValue::Number(Decimal::from(days)))],
            })
            .collect();
        let indicators = if n[5].is_multiple_of(10) {
            Vec::new()
        } else {
            vec![IndicatorValue {
                name: "frog_count".into(),
                value: Decimal::from(n[5] % 40),
                unit: "per survey".into(),
                parcel: parcels.first().copied().filter(|_| n[5].is_multiple_of(3)),
                evidence: Some([8; 32]),
            }]
        };
        ReportSpec {
            project,
            period: Period { from: Date::new(2026, 1, 1).expect("valid"), to: Date::new(2026, 12, 31).expect("valid") },
            activity,
            evidence: vec![Evidence { name: "drainage-log.pdf".into(), sha256: [7; 32] }],
            indicators,
        }
    }
}

/// Sales (issue #7): a program with an issued batch, recorded pricing, and random sales commands.
pub mod sales {
    use rust_decimal::Decimal;

    use super::lifecycle::{parcel_draft, rice_methodology, salt};
    use super::{OPERATORS, VERIFIER, buyer_subject, claim};
    use crate::command::{Command, Event};
    use crate::error::DomainError;
    use crate::ids::*;
    use crate::ledger::Ledger;
    use crate::lifecycle::*;
    use crate::model::AccountKind;
    use crate::sales::*;

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::new(y, m, d).expect("valid date")
    }

    fn period(from: Date, to: Date) -> Period {
        Period { from, to }
    }

    /// The pricing inputs of the examples: AG-005 at ¥3,000 per credit, +10 % complexity for P0001,
    /// premiums 5 %, 8 %, 2 %, a market reference at ¥3,500 weighted 25 %, +5 % for J-Credit
    /// eligibility, ¥1 = $0.0067, 20 % commission.
    pub fn example_pricing(project: ProjectCode) -> Vec<PricingFact> {
        let fact = |kind, subject: &str, value: Decimal, weight: Decimal, currency: Option<Currency>, source: &str| {
            PricingFact {
                key: PricingKey { kind, subject: subject.into() },
                value,
                weight,
                currency,
                source: source.into(),
                as_of: date(2026, 10, 1),
            }
        };
        let p = project.to_string();
        let z = Decimal::ZERO;
        use PricingKind as K;
        vec![
            fact(K::BasePrice, "AG-005", Decimal::from(3000), z, Some(Currency::Jpy), "Program shadow price 2026"),
            fact(K::Complexity, &p, Decimal::new(10, 2), z, None, "Aggregated, many small parcels"),
            fact(K::PremiumLocal, &p, Decimal::new(5, 2), z, None, "Local cooperative contribution"),
            fact(K::PremiumEcosystem, &p, Decimal::new(8, 2), z, None, "Paddy biodiversity programme"),
            fact(K::PremiumTechnology, &p, Decimal::new(2, 2), z, None, "Water-level sensors"),
            fact(
                K::MarketReference,
                "AG-005",
                Decimal::from(3500),
                Decimal::new(25, 2),
                Some(Currency::Jpy),
                "J-Credit tender 2026-09 (energy saving avg)",
            ),
            fact(K::ProtocolAdjustment, "J-Credit-eligible", Decimal::new(5, 2), z, None, "Domestic eligibility"),
            fact(K::FxRate, "JPY/USD", Decimal::new(67, 4), z, None, "Central bank reference rate 2026-10-01"),
            fact(K::FxRate, "JPY/EUR", Decimal::new(61, 4), z, None, "Central bank reference rate 2026-10-01"),
            fact(K::Commission, "", Decimal::from(20), z, None, "Program fee schedule 2026"),
        ]
    }

    /// A test world: a ledger, a clock in µs, and every event as it happened.
    pub struct World {
        pub ledger: Ledger,
        pub clock: i64,
    }

    impl Default for World {
        fn default() -> Self {
            Self::new()
        }
    }

    impl World {
        /// An initialised program at 2026-10-01.
        pub fn new() -> Self {
            let mut ledger = Ledger::new();
            ledger.execute(&super::genesis(), Timestamp(0)).expect("genesis");
            Self { ledger, clock: 1_790_812_800_000_000 }
        }

        pub fn run(&mut self, command: &Command) -> Result<Vec<Event>, DomainError> {
            self.clock += 1_000_000;
            self.ledger.execute(command, Timestamp(self.clock))
        }

        pub fn lc(&mut self, by: &str, command: LifecycleCommand) -> Vec<Event> {
            let command = Command::Lifecycle { by: by.into(), command };
            self.run(&command).unwrap_or_else(|e| panic!("{}: {e}", command.name()))
        }

        pub fn sales(&mut self, by: &str, command: SalesCommand) -> Result<Vec<Event>, DomainError> {
            self.run(&Command::Sales { by: by.into(), command })
        }
    }

    /// Runs the lifecycle to one issued batch in the issuance account. Farmer i owns parcels with
    /// the given areas (ha); every parcel is enrolled and monitored with the same practice, so
    /// contributions are proportional to area. Returns the batch and the participants.
    pub fn issued_batch(w: &mut World, farmers: &[Vec<Decimal>]) -> (BatchId, Vec<ParticipantId>) {
        let first = w.ledger.lifecycle().methodologies.is_empty();
        let parcels = w.ledger.lifecycle().parcels.len() as u64;
        issued_batch_via(&mut |by, command| w.lc(by, command), first, parcels, farmers)
    }

    /// `issued_batch` through any executor (`run` answers a command's events or panics), so that
    /// application tests can drive a real registry with it. `first`: the methodology and the
    /// withdrawal grounds are not set up yet; `parcels`: how many parcels exist already (new ones
    /// are placed beside them).
    pub fn issued_batch_via(
        run: &mut dyn FnMut(&str, LifecycleCommand) -> Vec<Event>,
        first: bool,
        parcels: u64,
        farmers: &[Vec<Decimal>],
    ) -> (BatchId, Vec<ParticipantId>) {
        let [op_a, op_b] = OPERATORS;
        if first {
            run(op_a, LifecycleCommand::ConfigureWithdrawalGrounds { grounds: vec!["illness".into()] });
            run(op_a, LifecycleCommand::DraftMethodology { spec: rice_methodology("v1.0") });
            run(op_a, LifecycleCommand::ApproveMethodology { id: MethodologyId(1) });
        }
        let spec = ProjectSpec {
            name: "Uonuma mid-season drainage".into(),
            methodology: MethodologyId(1),
            country: "JP".parse().expect("country"),
            region: "JP-15".into(),
            crediting: period(date(2024, 1, 1), date(2030, 12, 31)),
        };
        let events = run(op_a, LifecycleCommand::DraftProject { spec });
        let Some(Event::Lifecycle(LifecycleEvent::ProjectDrafted { code: project, .. })) = events.last() else {
            panic!("no project drafted")
        };
        let project = *project;
        run(op_a, LifecycleCommand::AssignVerifier { project, verifier: VERIFIER.into() });
        for action in [ProjectAction::Submit, ProjectAction::Validate, ProjectAction::Register] {
            let by = if action == ProjectAction::Validate { VERIFIER } else { op_a };
            run(by, LifecycleCommand::TransitionProject { project, action, reason: String::new() });
        }
        let mut participants = Vec::new();
        let mut enrolled = Vec::new();
        let mut spot = parcels;
        for (i, areas) in farmers.iter().enumerate() {
            let person = Person { name: format!("Farmer {i}"), contact: String::new(), address: String::new() };
            let events = run(
                op_a,
                LifecycleCommand::RegisterParticipant { person, prefecture: "Niigata".into(), salt: salt(i as u64) },
            );
            let Some(Event::Lifecycle(LifecycleEvent::ParticipantRegistered { id: participant, .. })) = events.last()
            else {
                panic!("no participant registered")
            };
            let participant = *participant;
            participants.push(participant);
            for area in areas {
                // Squares on a grid of their own (south of the other simulations' grid), so no
                // two parcels overlap.
                let mut parcel = parcel_draft(0, false);
                let (lon, lat, side) = (139.0 + (spot % 100) as f64 * 0.002, 36.0 + (spot / 100) as f64 * 0.002, 0.001);
                spot += 1;
                parcel.private.geometry = Polygon {
                    exterior: vec![
                        (lon, lat),
                        (lon + side, lat),
                        (lon + side, lat + side),
                        (lon, lat + side),
                        (lon, lat),
                    ],
                    holes: vec![],
                };
                parcel.area_ha = *area;
                let events = run(op_a, LifecycleCommand::RegisterParcel { participant, parcel, salt: salt(spot) });
                let Some(Event::Lifecycle(LifecycleEvent::ParcelRegistered { id: parcel, .. })) = events.last() else {
                    panic!("no parcel registered")
                };
                run(
                    op_a,
                    LifecycleCommand::Enrol {
                        project,
                        parcel: *parcel,
                        period: period(date(2025, 1, 1), date(2027, 12, 31)),
                    },
                );
                enrolled.push(*parcel);
            }
        }
        let spec = ReportSpec {
            project,
            period: period(date(2026, 1, 1), date(2026, 12, 31)),
            activity: enrolled
                .iter()
                .map(|p| ParcelActivity {
                    parcel: *p,
                    values: vec![("drainage_extension_days".into(), FieldValue::Number(Decimal::from(10)))],
                })
                .collect(),
            evidence: vec![Evidence { name: "drainage-log.pdf".into(), sha256: [7; 32] }],
            indicators: vec![IndicatorValue {
                name: "frog_count".into(),
                value: Decimal::from(31),
                unit: "per survey".into(),
                parcel: enrolled.first().copied(),
                evidence: Some([8; 32]),
            }],
        };
        let events = run(op_a, LifecycleCommand::DraftReport { spec });
        let Some(Event::Lifecycle(LifecycleEvent::ReportDrafted { id: report, .. })) = events.last() else {
            panic!("no report drafted")
        };
        let report = *report;
        run(op_a, LifecycleCommand::SubmitReport { report });
        run(VERIFIER, LifecycleCommand::VerifyReport { report });
        let events = run(op_a, LifecycleCommand::RequestIssuance { report, labels: vec!["J-Credit-eligible".into()] });
        let Some(Event::Lifecycle(LifecycleEvent::IssuanceRequested { id: request, .. })) = events.last() else {
            panic!("no issuance requested")
        };
        let events = run(op_b, LifecycleCommand::ApproveIssuance { request: *request });
        let Some(Event::BatchIssued(batch)) = events.first() else { panic!("no batch issued") };
        (batch.id, participants)
    }

    /// Records the example pricing and opens a buyer account; returns the buyer.
    pub fn priced(w: &mut World, project: ProjectCode) -> AccountId {
        for fact in example_pricing(project) {
            w.sales(OPERATORS[0], SalesCommand::RecordPricing { fact }).expect("pricing");
        }
        w.run(&Command::OpenAccount { kind: AccountKind::Buyer, name: "Kanto Rail Co.".into() }).expect("buyer");
        w.ledger.accounts().last().expect("buyer").id
    }

    /// The farms of `setup`: two farmers, one parcel each, of uneven areas, so that splits have
    /// remainders to distribute.
    pub const SETUP_FARMS: [&[(i64, u32)]; 2] = [&[(13, 1)], &[(29, 1)]];

    /// Commands that take a fresh program (genesis only) to a batch issued through the lifecycle
    /// (B000001, 2 farmers), priced inputs for it, and two buyer accounts, so that a simulation
    /// has something to sell. Each is run by `super::actor`. Found by running the same steps on a
    /// scratch ledger, so the ids they name are those a fresh program gives.
    pub fn setup() -> Vec<Command> {
        let mut w = World::new();
        let mut commands = Vec::new();
        let farms: Vec<Vec<Decimal>> =
            SETUP_FARMS.iter().map(|f| f.iter().map(|&(m, s)| Decimal::new(m, s)).collect()).collect();
        let mut run = |by: &str, command: LifecycleCommand| {
            let command = Command::Lifecycle { by: by.into(), command };
            commands.push(command.clone());
            w.run(&command).unwrap_or_else(|e| panic!("sales setup: {}: {e}", command.name()))
        };
        issued_batch_via(&mut run, true, 0, &farms);
        // The fewest inputs that price every currency but the euro (whose quotes are refused until
        // a random step records its rate): each set-up command costs every selling seed time.
        let keep = [PricingKind::BasePrice, PricingKind::FxRate, PricingKind::Commission];
        let usd = |f: &PricingFact| f.key.kind != PricingKind::FxRate || f.key.subject == "JPY/USD";
        for fact in example_pricing(ProjectCode(1)).into_iter().filter(|f| keep.contains(&f.key.kind) && usd(f)) {
            commands.push(Command::Sales { by: OPERATORS[0].into(), command: SalesCommand::RecordPricing { fact } });
        }
        for name in ["Kanto Rail Co.", "Hokuriku Foods K.K."] {
            commands.push(Command::OpenAccount { kind: AccountKind::Buyer, name: name.into() });
        }
        commands
    }

    /// The date from which the first farmer of `setup` is withdrawn in `withdrawal`: three days
    /// after a selling simulation's clock starts, so that sales settled before it pay that farmer
    /// and sales settled after it forfeit the share (SPEC §9.9).
    pub const SETUP_WITHDRAWAL_EFFECTIVE: (u16, u8, u8) = (2026, 3, 25);

    /// Commands, after `setup`, that withdraw the first farmer's enrolment from
    /// `SETUP_WITHDRAWAL_EFFECTIVE` on: requested, and approved by the other operator. Random
    /// lifecycle steps seldom get a withdrawal approved with a date that falls between an escrow
    /// and its settlement; this makes forfeitures common enough for a CI run to see many.
    pub fn withdrawal() -> Vec<Command> {
        let [op_a, op_b] = OPERATORS;
        let (y, m, d) = SETUP_WITHDRAWAL_EFFECTIVE;
        let enrolment = EnrolmentId(1);
        let request = LifecycleCommand::RequestWithdrawal {
            enrolment,
            ground: "illness".into(),
            note: "simulated".into(),
            salt: salt(0x57d),
        };
        let decide =
            LifecycleCommand::DecideWithdrawal { enrolment, effective: Some(date(y, m, d)), reason: "approved".into() };
        vec![
            Command::Lifecycle { by: op_a.into(), command: request },
            Command::Lifecycle { by: op_b.into(), command: decide },
        ]
    }

    /// A pricing input, sometimes one the rules refuse (a commission of 100 % or more, a weight
    /// above 1, a base price without a currency).
    fn pricing_fact(n: [u64; 6]) -> PricingFact {
        use PricingKind as K;
        let (kind, subject, value, weight, currency) = match n[3] % 5 {
            0 => (K::Commission, "", Decimal::from(n[4] % 30), Decimal::ZERO, None),
            1 => (K::BasePrice, "AG-005", Decimal::from(1000 + n[4] % 5000), Decimal::ZERO, Some(Currency::Jpy)),
            2 => (
                K::MarketReference,
                "AG-005",
                Decimal::from(2000 + n[4] % 3000),
                Decimal::new((n[5] % 110) as i64, 2),
                Some(Currency::Jpy),
            ),
            3 => (K::FxRate, "JPY/USD", Decimal::new(50 + (n[4] % 30) as i64, 4), Decimal::ZERO, None),
            _ => (K::Commission, "", Decimal::from(95 + n[4] % 10), Decimal::ZERO, None),
        };
        let currency = if n[5].is_multiple_of(13) { None } else { currency };
        PricingFact {
            key: PricingKey { kind, subject: subject.into() },
            value,
            weight,
            currency,
            source: "simulated tender".into(),
            as_of: date(2026, 1, 1),
        }
    }

    /// Picks a sales command from six random numbers: pricing, quotes, acceptances, stated claims,
    /// settlements, cancellations, expiries, payouts, notes and refunds, against whatever exists, each by its
    /// rightful actor (the operator, or the buyer the quote or sale is for) or now and then by a
    /// wrong one. Many are refused.
    pub fn sales_command(ledger: &Ledger, n: [u64; 6]) -> Command {
        let operator = OPERATORS[(n[1] % 2) as usize].to_owned();
        let sales = &ledger.lifecycle().sales;
        let buyers: Vec<AccountId> = ledger.accounts().filter(|a| a.kind == AccountKind::Buyer).map(|a| a.id).collect();
        let any_buyer = |x: u64| buyers.get((x as usize) % buyers.len().max(1)).copied().unwrap_or(AccountId(1));
        // The rightful buyer mostly; the operator or another buyer otherwise.
        let as_buyer = |rightful: AccountId| match n[5] % 8 {
            0 => operator.clone(),
            1 => buyer_subject(any_buyer(n[4] / 7)),
            _ => buyer_subject(rightful),
        };
        // Mostly the newest sale in the state the step needs; one time in five any id, even one
        // past the last.
        let any_sale = SaleId(1 + n[2] % (sales.sales.len() as u64 + 1));
        let newest_sale = |ready: &dyn Fn(&Sale) -> bool| {
            let found = sales.sales.values().rev().find(|s| ready(s)).map(|s| s.id);
            if n[2].is_multiple_of(5) { any_sale } else { found.unwrap_or(any_sale) }
        };
        let escrowed = |s: &Sale| s.status == SaleStatus::Escrowed;
        let pick_sale = || any_sale;
        let buyer_of_sale = |sale: SaleId| sales.sales.get(&sale).map_or(AccountId(1), |s| s.buyer);
        // Operator-only steps, now and then tried by a buyer.
        let staff = if n[5].is_multiple_of(9) { buyer_subject(any_buyer(n[4])) } else { operator.clone() };
        // A step whose object does not exist yet mostly becomes the step that makes one (pay →
        // settle → accept → quote), so that sales get somewhere; one time in five it stays, to be
        // refused.
        let mut step = n[0] % 10;
        if !n[2].is_multiple_of(5) {
            let unpaid =
                sales.sales.values().any(|s| s.settlement.as_ref().is_some_and(|x| x.payouts.len() > s.paid.len()));
            if step == 7 && !unpaid {
                step = 4;
            }
            if matches!(step, 4..=6) && !sales.sales.values().any(|s| s.status == SaleStatus::Escrowed) {
                step = 2;
            }
            if matches!(step, 2 | 3) && !sales.quotes.values().any(|q| q.status == QuoteStatus::Open) {
                step = 0;
            }
        }
        let (by, command) = match step {
            0 | 1 => {
                let buyer = any_buyer(n[2] / 3);
                let batch = ledger.batches().map(|b| b.id).nth((n[2] % 3) as usize).unwrap_or(BatchId(1));
                let currency = [Currency::Jpy, Currency::Usd, Currency::Eur][(n[3] % 3) as usize];
                let target = if n[3].is_multiple_of(5) {
                    QuoteTarget::Filter(SaleFilter {
                        methodology: Some("AG-005".into()),
                        label: n[4].is_multiple_of(2).then(|| "J-Credit-eligible".into()),
                        ..SaleFilter::default()
                    })
                } else {
                    QuoteTarget::Batch(batch)
                };
                // Mostly a few credits; now and then more than there are (refused, nothing taken).
                let quantity = if n[4].is_multiple_of(6) {
                    ledger.available_for_sale(batch).0 + 1 + n[4] % 50
                } else {
                    1 + n[4] % 5
                };
                // From a minute to a few hours, so that the simulated clock expires some; now and
                // then outside the allowed range.
                let valid_for_secs = if n[5].is_multiple_of(17) { 30 } else { 60 + (n[5] % 4) as u32 * 3600 };
                let command =
                    SalesCommand::CreateQuote { buyer, target, quantity: Quantity(quantity), currency, valid_for_secs };
                (as_buyer(buyer), command)
            }
            2 | 3 => {
                let any = QuoteId(1 + n[2] % (sales.quotes.len() as u64 + 1));
                let open = sales.quotes.values().rev().find(|q| q.status == QuoteStatus::Open).map(|q| q.id);
                let quote = if n[2].is_multiple_of(5) { any } else { open.unwrap_or(any) };
                let buyer = sales.quotes.get(&quote).map_or(AccountId(1), |q| q.buyer);
                (as_buyer(buyer), SalesCommand::AcceptQuote { quote })
            }
            4 | 5 if n[1] % 4 == 2 => {
                // The buyer names whom the credits are retired for before settlement (now and
                // then someone else tries to).
                let sale = newest_sale(&escrowed);
                (as_buyer(buyer_of_sale(sale)), SalesCommand::StateClaim { sale, claim: claim(n[3]) })
            }
            4 | 5 => {
                // Settlement with the claim the buyer stated, when there is one; one time in five
                // with another (refused: the buyer's claim binds).
                let sale = newest_sale(&escrowed);
                let stated = sales.sales.get(&sale).and_then(|s| s.claim.clone()).filter(|_| !n[4].is_multiple_of(5));
                let command = SalesCommand::Settle {
                    sale,
                    claim: stated.unwrap_or_else(|| claim(n[3])),
                    payment_reference: format!("WIRE-{}", n[4] % 1000),
                    confidential: n[5].is_multiple_of(4),
                };
                (staff, command)
            }
            6 => {
                let sale = newest_sale(&escrowed);
                if n[3].is_multiple_of(2) {
                    (
                        as_buyer(buyer_of_sale(sale)),
                        SalesCommand::CancelSale { sale, reason: "buyer changed plans".into() },
                    )
                } else {
                    // The escrowed sale that expires first, the likeliest to have expired.
                    let first = sales.sales.values().filter(|s| escrowed(s)).min_by_key(|s| s.expires_at);
                    let sale = first.filter(|_| !n[2].is_multiple_of(5)).map_or(sale, |s| s.id);
                    (staff, SalesCommand::ExpireSale { sale })
                }
            }
            7 => {
                let sale =
                    newest_sale(&|s: &Sale| s.settlement.as_ref().is_some_and(|x| x.payouts.len() > s.paid.len()));
                let participant = sales
                    .sales
                    .get(&sale)
                    .and_then(|s| s.settlement.as_ref())
                    .and_then(|x| x.payouts.get((n[3] % 4) as usize))
                    .map_or(ParticipantId(1), |p| p.participant);
                (staff, SalesCommand::PayPayout { sale, participant, reference: format!("BANK-{}", n[4] % 1000) })
            }
            8 if n[3].is_multiple_of(2) => (staff, SalesCommand::RecordPricing { fact: pricing_fact(n) }),
            8 => (staff, SalesCommand::RecordNote { sale: pick_sale(), note: "invoice corrected".into() }),
            _ => {
                let sale = pick_sale();
                (as_buyer(buyer_of_sale(sale)), SalesCommand::Refund { sale, reason: "no longer needed".into() })
            }
        };
        Command::Sales { by, command }
    }
}
