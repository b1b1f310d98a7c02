//! `furrow demo`: a believable program on a fresh database, served at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use furrow_app::{Principal, Registry};
use furrow_domain::lifecycle::*;
use furrow_domain::{
    AccountId, AccountKind, BatchId, Beneficiary, CancellationReason, ClaimPeriod, Command, Date, Decimal, EnrolmentId,
    Event, MethodologyId, ParcelId, ParticipantId, ProjectCode, Quantity, ReportId, RetirementClaim, RetirementPurpose,
    Role, Selection, SerialRange,
};

use crate::{Opened, base_url, bind, database_path, initialise, open, shutdown_signal};

pub async fn run(data_dir: Option<PathBuf>, listen: SocketAddr) -> Result<()> {
    // Bind first: a busy port should fail before any work is done.
    let listener = bind(listen).await?;
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("furrow-demo-").tempdir()?),
    };
    let dir = data_dir.unwrap_or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()).unwrap_or_default());
    if database_path(&dir).exists() {
        bail!("{} already holds a registry; give `--data-dir` an empty directory, or omit it", dir.display());
    }
    std::fs::create_dir_all(&dir)?;
    let signer = crate::keys::create(&dir, &crate::default_origin("AGR"))?;
    let data = crate::DataDir { data_dir: dir.clone(), database_url: None };
    let Opened { registry, _lock, .. } = open(&data, None).await?;
    initialise(&registry, "AGR", "JP", "Furrow Agricultural Offset Program (demo)", &signer.vkey()).await?;
    let seeded = seed(&registry).await.context("seeding the demo program")?;
    let operator = registry.create_token(OPERATOR_A, Role::Operator, &[]).await?;
    let second_operator = registry.create_token(OPERATOR_B, Role::Operator, &[]).await?;
    let buyer =
        registry.create_token("Kansai Rail sustainability team (demo)", Role::Buyer, &[seeded.kansai_rail]).await?;

    let url = base_url(&listener)?;
    println!("Furrow demo registry is running at {url}");
    println!();
    println!(
        "  Database:     {}{}",
        database_path(&dir).display(),
        if temp.is_some() { " (deleted on exit)" } else { "" }
    );
    println!("  Status:       {url}/api/v1/status");
    println!("  Batches:      {url}/api/v1/batches");
    println!("  Retirements:  {url}/api/v1/retirements");
    println!("  Serial:       {url}/api/v1/serials/{}", seeded.sample_serial);
    println!("  Log:          {url}/api/v1/log/entries");
    println!("  Checkpoint:   {url}/api/v1/log/checkpoint   (verifier key: {})", signer.vkey());
    println!("  Audit it:     furrow verify --url {url} --key '{}'", signer.vkey());
    println!("  OpenAPI:      {url}/api/v1/openapi.json");
    println!("  Projects:     {url}/api/v1/projects   (also /methodologies, /reports, /enrolments, /reversals)");
    println!("  Four-eyes:    {url}/api/v1/issuance-requests   (each requested and approved by two operators)");
    println!("  Farmers:      {url}/api/v1/participants   (pseudonyms; names and fields only with a staff token)");
    println!("  Pricing:      {url}/api/v1/pricing-inputs   (every recorded version; quotes name theirs)");
    println!("  Sales:        {url}/api/v1/sales   (operator token: escrow, settlement, payouts, forfeitures)");
    println!("  Certificate:  {url}/api/v1/certificates/AGR-CERT-R000001   (HTML; add /pdf for the PDF)");
    println!("  Disclosure:   {url}/api/v1/retirements/R000001/disclosure   (R000003: a confidential sale)");
    println!(
        "  Statement:    {url}/api/v1/participants/F000005/statement.csv   (operator token; a withdrawn grower's forfeitures)"
    );
    println!();
    println!("  Operator token:            {operator}");
    println!("  Second operator token:     {second_operator}");
    println!("  Buyer token (Kansai Rail, account {}): {buyer}", seeded.kansai_rail);
    println!();
    println!("  Retire 10 credits as Kansai Rail:");
    println!(
        "    curl -s -X POST {url}/api/v1/retirements -H 'Authorization: Bearer {buyer}' -H 'Content-Type: application/json' \\\n      -d '{{\"from\":\"{}\",\"quantity\":10,\"beneficiary\":{{\"name\":\"Kansai Rail Co., Ltd.\",\"country\":\"JP\"}},\"purpose\":\"scope1\",\"claim_period\":{{\"from\":\"2025-04-01\",\"to\":\"2026-03-31\"}},\"jurisdiction\":\"JP-27\"}}'",
        seeded.kansai_rail
    );
    println!();
    println!("Press Ctrl-C to stop.");
    furrow_http::serve(listener, registry, shutdown_signal()).await?;
    drop(temp);
    Ok(())
}

pub struct Seeded {
    pub kansai_rail: AccountId,
    pub sample_serial: String,
}

async fn open_account(registry: &Registry, who: &Principal, kind: AccountKind, name: &str) -> Result<AccountId> {
    let committed = registry.execute(who, Command::OpenAccount { kind, name: name.into() }, None).await?;
    match &committed.entries[0].event {
        Event::AccountOpened { account } => Ok(account.id),
        other => bail!("unexpected event {other:?}"),
    }
}

fn claim(name: &str, purpose: RetirementPurpose, year: u16, jurisdiction: &str, note: &str) -> Result<RetirementClaim> {
    Ok(RetirementClaim {
        beneficiary: Beneficiary { name: name.into(), country: Some("JP".parse()?), identifier: None },
        purpose,
        // Japanese fiscal years run April to March.
        claim_period: ClaimPeriod { from: Date::new(year, 4, 1)?, to: Date::new(year + 1, 3, 31)? },
        jurisdiction: jurisdiction.parse()?,
        note: note.into(),
    })
}

/// The program's staff in the demo: two operators (four-eyes) and a verification body.
const OPERATOR_A: &str = "Aiko Tanaka (operator, demo)";
const OPERATOR_B: &str = "Kenji Mori (operator, demo)";
const VERIFIER: &str = "Japan Quality Assurance (verifier, demo)";

fn staff(subject: &str, role: Role) -> Principal {
    Principal { subject: subject.into(), role, accounts: vec![] }
}

/// Runs a lifecycle command as `who`, the acting user being its subject.
async fn lifecycle(registry: &Registry, who: &Principal, command: LifecycleCommand) -> Result<Vec<Event>> {
    let command = Command::Lifecycle { by: who.subject.clone(), command };
    let committed = registry.execute(who, command, None).await?;
    Ok(committed.entries.into_iter().map(|e| e.event).collect())
}

fn date(s: &str) -> Result<Date> {
    Ok(s.parse()?)
}

fn period(from: &str, to: &str) -> Result<Period> {
    Ok(Period { from: date(from)?, to: date(to)? })
}

fn dec(s: &str) -> Result<Decimal> {
    Ok(s.parse()?)
}

/// Hectares to one decimal, as a land register gives them.
fn tenths(area_ha: f64) -> Decimal {
    Decimal::new((area_ha * 10.0).round() as i64, 1)
}

/// A field of `area_ha` hectares as a square around (lat, lon), in degrees.
fn field(lat: f64, lon: f64, area_ha: f64) -> Polygon {
    let side_m = (area_ha * 10_000.0).sqrt();
    let (dlat, dlon) = (side_m / 110_574.0, side_m / (111_320.0 * lat.to_radians().cos()));
    let (s, w) = (lat - dlat / 2.0, lon - dlon / 2.0);
    let corners = [(w, s), (w + dlon, s), (w + dlon, s + dlat), (w, s + dlat), (w, s)];
    // Six decimals (about 10 cm), as a GPS survey would give them.
    let round = |v: f64| (v * 1e6).round() / 1e6;
    Polygon { exterior: corners.iter().map(|(x, y)| (round(*x), round(*y))).collect(), holes: vec![] }
}

fn number_field(name: &str, kind: FieldKind, unit: &str, min: Option<&str>, max: Option<&str>) -> Result<FieldSpec> {
    Ok(FieldSpec {
        name: name.into(),
        kind,
        unit: unit.into(),
        min: min.map(dec).transpose()?,
        max: max.map(dec).transpose()?,
        required: true,
    })
}

/// AG-005-style rice drainage and AG-004-style biochar, with illustrative parameters (the real
/// engines and their parameter tables are issue #6).
fn methodologies() -> Result<[MethodologySpec; 2]> {
    let rice = MethodologySpec {
        code: "AG-005".into(),
        version: "v1.0".into(),
        title: "Extended mid-season drainage in paddy rice".into(),
        engine: "linear-factor".into(),
        parameters: ParameterTable {
            version: "demo-2024 (illustrative)".into(),
            values: vec![("per_ha".into(), dec("3.1")?)],
        },
        schema: vec![
            number_field("drainage_extension_days", FieldKind::Integer, "d", Some("7"), Some("60"))?,
            number_field("prior_years_baseline", FieldKind::Integer, "years", Some("2"), None)?,
        ],
        deductions: Deductions { uncertainty: dec("10")?, leakage: dec("0")?, buffer: dec("3")? },
        gwp: "AR5".into(),
        indicators: vec!["frog_count".into(), "dragonfly_count".into()],
    };
    let biochar = MethodologySpec {
        code: "AG-004".into(),
        version: "v1.0".into(),
        title: "Biochar application to cropland".into(),
        engine: "linear-factor".into(),
        parameters: ParameterTable {
            version: "demo-2024 (illustrative)".into(),
            values: vec![("per_unit:biochar_applied_t".into(), dec("2.2")?)],
        },
        schema: vec![
            number_field("biochar_applied_t", FieldKind::Number, "t", Some("0"), Some("500"))?,
            number_field("pyrolysis_temperature_c", FieldKind::Integer, "°C", Some("350"), Some("900"))?,
        ],
        deductions: Deductions { uncertainty: dec("10")?, leakage: dec("5")?, buffer: dec("10")? },
        gwp: "AR5".into(),
        indicators: vec!["soil_ph".into()],
    };
    Ok([rice, biochar])
}

/// A grower: name, prefecture, municipality, field name, centre (lat, lon), hectares.
type Grower = (&'static str, &'static str, &'static str, &'static str, f64, f64, f64);

/// Rice growers of the Uonuma and Niigata plains and of Shonai (Yamagata).
const RICE_GROWERS: [Grower; 12] = [
    ("Sato Ichiro", "Niigata", "Minamiuonuma", "Shiozawa paddies", 37.0405, 138.8702, 18.5),
    ("Suzuki Hanako", "Niigata", "Minamiuonuma", "Muikamachi east", 37.0631, 138.8897, 24.0),
    ("Takahashi Kenta", "Niigata", "Uonuma", "Koide terraces", 37.2291, 138.9617, 11.2),
    ("Watanabe Yumi", "Niigata", "Niigata", "Kameda block 4", 37.8702, 139.1140, 32.7),
    ("Ito Masaru", "Niigata", "Niigata", "Akiha riverside", 37.8166, 139.1731, 27.3),
    ("Yamamoto Shoji", "Niigata", "Tsubame", "Yoshida north", 37.6903, 138.8820, 21.9),
    ("Nakamura Aya", "Niigata", "Sanjo", "Sakae lowland", 37.6069, 138.9452, 16.4),
    ("Kobayashi Tetsuya", "Niigata", "Nagaoka", "Yoita paddies", 37.5352, 138.8287, 29.8),
    ("Kato Rie", "Yamagata", "Tsuruoka", "Fujishima plain", 38.7431, 139.8603, 35.1),
    ("Yoshida Hiroshi", "Yamagata", "Sakata", "Mogami delta", 38.9204, 139.8771, 26.6),
    ("Yamada Keiko", "Yamagata", "Shonai", "Amarume west", 38.8301, 139.9082, 19.7),
    ("Sasaki Noboru", "Yamagata", "Mikawa", "Oshikiri fields", 38.7958, 139.8395, 22.4),
];

/// Tokachi farms applying biochar (tonnes applied in 2024).
const BIOCHAR_GROWERS: [(Grower, &str); 3] = [
    (("Obihiro Kita Farm", "Hokkaido", "Obihiro", "Kawanishi field 2", 42.8706, 143.1489, 48.0), "112.5"),
    (("Memuro Green Acres", "Hokkaido", "Memuro", "Nishi 3-sen", 42.9075, 143.0493, 36.0), "84"),
    (("Otofuke Soil Partners", "Hokkaido", "Otofuke", "Kisen block", 42.9946, 143.2046, 52.5), "131"),
];

/// Registers a grower and its field, and enrols the field; returns (participant, parcel, enrolment).
async fn enrol_grower(
    registry: &Registry,
    op: &Principal,
    project: ProjectCode,
    grower: &Grower,
    contract: Period,
) -> Result<(ParticipantId, ParcelId, EnrolmentId)> {
    let &(name, prefecture, municipality, field_name, lat, lon, area) = grower;
    let person = Person {
        name: name.into(),
        contact: format!("{prefecture} office, tel 0120-000-000"),
        address: format!("{municipality}, {prefecture}"),
    };
    let events = lifecycle(
        registry,
        op,
        LifecycleCommand::RegisterParticipant { person, prefecture: prefecture.into(), salt: [0; 32] },
    )
    .await?;
    let participant = events.iter().find_map(|e| match e {
        Event::Lifecycle(LifecycleEvent::ParticipantRegistered { id, .. }) => Some(*id),
        _ => None,
    });
    let participant = participant.context("no participant registered")?;
    let parcel = ParcelDraft {
        area_ha: tenths(area),
        prefecture: prefecture.into(),
        municipality: municipality.into(),
        private: ParcelPrivate { name: field_name.into(), geometry: field(lat, lon, area) },
    };
    let events =
        lifecycle(registry, op, LifecycleCommand::RegisterParcel { participant, parcel, salt: [0; 32] }).await?;
    let Some(Event::Lifecycle(LifecycleEvent::ParcelRegistered { id: parcel, .. })) = events.first() else {
        bail!("no parcel registered")
    };
    let events =
        lifecycle(registry, op, LifecycleCommand::Enrol { project, parcel: *parcel, period: contract }).await?;
    let Some(Event::Lifecycle(LifecycleEvent::Enrolled { id: enrolment, .. })) = events.first() else {
        bail!("no enrolment")
    };
    Ok((participant, *parcel, *enrolment))
}

/// Drafts, submits and verifies a report; returns its id.
async fn verified_report(registry: &Registry, spec: ReportSpec) -> Result<ReportId> {
    let (op, verifier) = (staff(OPERATOR_A, Role::Operator), staff(VERIFIER, Role::Verifier));
    let events = lifecycle(registry, &op, LifecycleCommand::DraftReport { spec }).await?;
    let Some(Event::Lifecycle(LifecycleEvent::ReportDrafted { id, .. })) = events.first() else { bail!("no report") };
    lifecycle(registry, &op, LifecycleCommand::SubmitReport { report: *id }).await?;
    lifecycle(registry, &verifier, LifecycleCommand::VerifyReport { report: *id }).await?;
    Ok(*id)
}

/// Four-eyes issuance: one operator requests, the other approves; returns the batch.
async fn issue(
    registry: &Registry,
    report: ReportId,
    requester: &str,
    approver: &str,
    labels: &[&str],
) -> Result<BatchId> {
    let labels = labels.iter().map(|l| l.to_string()).collect();
    let events =
        lifecycle(registry, &staff(requester, Role::Operator), LifecycleCommand::RequestIssuance { report, labels })
            .await?;
    let Some(Event::Lifecycle(LifecycleEvent::IssuanceRequested { id, .. })) = events.first() else {
        bail!("no request")
    };
    let events =
        lifecycle(registry, &staff(approver, Role::Operator), LifecycleCommand::ApproveIssuance { request: *id })
            .await?;
    let Some(Event::BatchIssued(batch)) = events.first() else { bail!("no batch") };
    Ok(batch.id)
}

fn activity(parcels: &[ParcelId], values: impl Fn(usize) -> Vec<(String, FieldValue)>) -> Vec<ParcelActivity> {
    parcels.iter().enumerate().map(|(i, p)| ParcelActivity { parcel: *p, values: values(i) }).collect()
}

fn indicator(name: &str, value: &str, unit: &str) -> Result<IndicatorValue> {
    Ok(IndicatorValue { name: name.into(), value: dec(value)?, unit: unit.into() })
}

fn evidence(name: &str) -> Evidence {
    use sha2::Digest;
    Evidence { name: name.into(), sha256: sha2::Sha256::digest(name.as_bytes()).into() }
}

/// The lifecycle part of the demo: methodologies, two projects, growers and fields, a join
/// application, verified reports, four-eyes issuances, a withdrawal, a reversal and labels.
/// Returns the batches, oldest first.
async fn seed_lifecycle(registry: &Registry) -> Result<Vec<BatchId>> {
    let op = staff(OPERATOR_A, Role::Operator);
    let grounds = ["illness or injury", "natural disaster", "farm succession or sale", "retirement from farming"];
    let grounds = grounds.iter().map(|g| g.to_string()).collect();
    lifecycle(registry, &op, LifecycleCommand::ConfigureWithdrawalGrounds { grounds }).await?;
    let crediting = period("2024-01-01", "2033-12-31")?;
    for (i, spec) in methodologies()?.into_iter().enumerate() {
        lifecycle(registry, &op, LifecycleCommand::DraftMethodology { spec }).await?;
        // The other operator approves what one drafted.
        let id = MethodologyId(i as u64 + 1);
        lifecycle(registry, &staff(OPERATOR_B, Role::Operator), LifecycleCommand::ApproveMethodology { id }).await?;
    }
    let projects = [
        ("Uonuma, Niigata and Shonai mid-season drainage", MethodologyId(1), "JP-15"),
        ("Tokachi biochar for upland fields", MethodologyId(2), "JP-01"),
    ];
    for (code, (name, methodology, region)) in projects.iter().enumerate() {
        let spec = ProjectSpec {
            name: (*name).into(),
            methodology: *methodology,
            country: "JP".parse()?,
            region: (*region).into(),
            crediting,
        };
        lifecycle(registry, &op, LifecycleCommand::DraftProject { spec }).await?;
        let project = ProjectCode(code as u64 + 1);
        for (who, action) in [
            (&op, ProjectAction::Submit),
            (&staff(VERIFIER, Role::Verifier), ProjectAction::Validate),
            (&op, ProjectAction::Register),
        ] {
            lifecycle(registry, who, LifecycleCommand::TransitionProject { project, action, reason: String::new() })
                .await?;
        }
    }
    let (rice, biochar) = (ProjectCode(1), ProjectCode(2));
    let contract = period("2024-04-01", "2028-03-31")?;
    let mut rice_fields = Vec::new();
    for grower in &RICE_GROWERS {
        rice_fields.push(enrol_grower(registry, &op, rice, grower, contract).await?);
    }
    let mut biochar_fields = Vec::new();
    for (grower, _) in &BIOCHAR_GROWERS {
        biochar_fields.push(enrol_grower(registry, &op, biochar, grower, contract).await?.1);
    }
    join_applications(registry, rice).await?;

    // 2024: both projects verified and issued, each by two operators.
    let days = |i: usize| {
        vec![
            ("drainage_extension_days".to_string(), FieldValue::Number(Decimal::from(7 + (i as i64 * 3) % 8))),
            ("prior_years_baseline".to_string(), FieldValue::Number(Decimal::from(2))),
        ]
    };
    let rice_parcels: Vec<ParcelId> = rice_fields.iter().map(|f| f.1).collect();
    let rice_2024 = verified_report(
        registry,
        ReportSpec {
            project: rice,
            period: period("2024-04-01", "2024-10-31")?,
            activity: activity(&rice_parcels, days),
            evidence: vec![evidence("uonuma-shonai-2024-drainage-logs.zip"), evidence("water-level-photos-2024.zip")],
            indicators: vec![
                indicator("frog_count", "38", "per 20 m transect")?,
                indicator("dragonfly_count", "54", "per survey")?,
            ],
        },
    )
    .await?;
    let tonnes = |i: usize| {
        vec![
            ("biochar_applied_t".to_string(), FieldValue::Number(BIOCHAR_GROWERS[i].1.parse().unwrap_or_default())),
            ("pyrolysis_temperature_c".to_string(), FieldValue::Number(Decimal::from(550))),
        ]
    };
    let biochar_2024 = verified_report(
        registry,
        ReportSpec {
            project: biochar,
            period: period("2024-04-01", "2024-11-30")?,
            activity: activity(&biochar_fields, tonnes),
            evidence: vec![evidence("tokachi-biochar-delivery-notes-2024.pdf")],
            indicators: vec![indicator("soil_ph", "6.1", "pH")?],
        },
    )
    .await?;
    let mut batches = vec![
        issue(registry, rice_2024, OPERATOR_A, OPERATOR_B, &["J-Credit-eligible"]).await?,
        issue(registry, biochar_2024, OPERATOR_B, OPERATOR_A, &[]).await?,
    ];

    // A grower hands the farm to a successor: withdrawal from 2025-04-01, history kept.
    let farmer = &rice_fields[4];
    let withdrawal = LifecycleCommand::RequestWithdrawal {
        enrolment: farmer.2,
        ground: "farm succession or sale".into(),
        note: "son takes over; new contract to follow".into(),
        salt: [0; 32],
    };
    lifecycle(registry, &op, withdrawal).await?;
    let decision = LifecycleCommand::DecideWithdrawal {
        enrolment: farmer.2,
        effective: Some(date("2025-04-01")?),
        reason: String::new(),
    };
    lifecycle(registry, &staff(OPERATOR_B, Role::Operator), decision).await?;

    // 2025: the rice project without the withdrawn field.
    let remaining: Vec<ParcelId> = rice_parcels.iter().copied().filter(|p| *p != farmer.1).collect();
    let rice_2025 = verified_report(
        registry,
        ReportSpec {
            project: rice,
            period: period("2025-04-01", "2025-10-31")?,
            activity: activity(&remaining, days),
            evidence: vec![evidence("uonuma-shonai-2025-drainage-logs.zip")],
            indicators: vec![
                indicator("frog_count", "41", "per 20 m transect")?,
                indicator("dragonfly_count", "61", "per survey")?,
            ],
        },
    )
    .await?;
    batches.push(issue(registry, rice_2025, OPERATOR_B, OPERATOR_A, &["J-Credit-eligible"]).await?);

    // A flood washed biochar off a field: the loss is cancelled from the buffer pool.
    let reversal = LifecycleCommand::RecordReversal {
        project: biochar,
        quantity: Quantity(12),
        note: "August 2025 flood of the Satsunai river washed biochar off Kisen block".into(),
    };
    lifecycle(registry, &op, reversal).await?;
    for batch in &batches {
        let label = LifecycleCommand::AddLabel {
            batch: *batch,
            kind: LabelKind::CorrespondingAdjustmentNone,
            issuer: "Furrow program".into(),
            valid: period("2024-01-01", "2033-12-31")?,
        };
        lifecycle(registry, &op, label).await?;
    }
    Ok(batches)
}

/// The project opens for participation: one application is declined (its field is enrolled
/// already), another accepted.
async fn join_applications(registry: &Registry, project: ProjectCode) -> Result<()> {
    let op = staff(OPERATOR_A, Role::Operator);
    let participation = Participation {
        opens: date("2024-01-15")?,
        starts: date("2024-04-01")?,
        conditions:
            "paddy owners in Niigata and Yamagata; drainage extended by at least 7 days against two prior years".into(),
    };
    lifecycle(registry, &op, LifecycleCommand::SetParticipation { project, participation: Some(participation) })
        .await?;
    let apply = |farm: &str, fields: Vec<ParcelDraft>| LifecycleCommand::ApplyToJoin {
        project,
        applicant: None,
        application: ApplicationPrivate {
            farm: Person { name: farm.into(), contact: "tel 025-000-0000".into(), address: "Niigata".into() },
            parcels: fields,
        },
        salt: [0; 32],
    };
    let draft = |name: &str, lat: f64, lon: f64, area: f64| -> Result<ParcelDraft> {
        Ok(ParcelDraft {
            area_ha: tenths(area),
            prefecture: "Niigata".into(),
            municipality: "Minamiuonuma".into(),
            private: ParcelPrivate { name: name.into(), geometry: field(lat, lon, area) },
        })
    };
    // The same field as Sato Ichiro's, registered again by a neighbour.
    let taken = draft("Shiozawa lower paddy", 37.0405, 138.8702, 18.5)?;
    let events = lifecycle(registry, &op, apply("Shiozawa Agri LLC", vec![taken])).await?;
    let Some(Event::Lifecycle(LifecycleEvent::ApplicationReceived { id: first, .. })) = events.first() else {
        bail!("no application")
    };
    let reason = "the field is already enrolled in this project by another grower".into();
    lifecycle(registry, &op, LifecycleCommand::DeclineApplication { application: *first, reason }).await?;
    let fresh = vec![
        draft("Yamato upper terrace", 37.1112, 138.9221, 9.6)?,
        draft("Yamato lower terrace", 37.1071, 138.9262, 12.3)?,
    ];
    let events = lifecycle(registry, &op, apply("Yamato Rice Partners", fresh)).await?;
    let Some(Event::Lifecycle(LifecycleEvent::ApplicationReceived { id: second, .. })) = events.first() else {
        bail!("no application")
    };
    let accept = LifecycleCommand::AcceptApplication {
        application: *second,
        period: period("2024-04-01", "2028-03-31")?,
        salt: [0; 32],
    };
    lifecycle(registry, &staff(OPERATOR_B, Role::Operator), accept).await?;
    Ok(())
}

async fn sales(
    registry: &Registry,
    who: &Principal,
    command: furrow_domain::sales::SalesCommand,
) -> Result<Vec<Event>> {
    let command = Command::Sales { by: who.subject.clone(), command };
    Ok(registry.execute(who, command, None).await?.entries.into_iter().map(|e| e.event).collect())
}

/// Sales through quotes (issue #7): recorded pricing inputs for both methodologies, then four
/// sales by filter: three settled (retired, with payouts; one confidential, one in USD), one left
/// in escrow; some payouts marked paid. The rice sale settles after a grower's withdrawal took
/// effect, so its statement shows a forfeiture.
async fn seed_sales(registry: &Registry, [kansai_rail, hokuriku, minato]: [AccountId; 3]) -> Result<()> {
    use furrow_domain::sales::*;
    let op = staff(OPERATOR_A, Role::Operator);
    let fact =
        |kind: PricingKind, subject: &str, value: &str, weight: &str, currency: Option<Currency>, source: &str| {
            Ok::<_, anyhow::Error>(PricingFact {
                key: PricingKey { kind, subject: subject.into() },
                value: dec(value)?,
                weight: dec(weight)?,
                currency,
                source: source.into(),
                as_of: date("2026-10-01")?,
            })
        };
    use PricingKind as K;
    let jpy = Some(Currency::Jpy);
    let facts = [
        fact(K::BasePrice, "AG-005", "3000", "0", jpy, "Program shadow price 2026 (board decision 2026-03)")?,
        fact(K::BasePrice, "AG-004", "4200", "0", jpy, "Program shadow price 2026 (board decision 2026-03)")?,
        fact(K::Complexity, "P0001", "0.10", "0", None, "Aggregated project, many small paddies")?,
        fact(K::Complexity, "P0002", "0.05", "0", None, "Few large upland fields")?,
        fact(K::PremiumLocal, "P0001", "0.05", "0", None, "Uonuma cooperative, local employment")?,
        fact(K::PremiumEcosystem, "P0001", "0.08", "0", None, "Paddy biodiversity: frogs, dragonflies")?,
        fact(K::PremiumTechnology, "P0002", "0.04", "0", None, "Pyrolysis kiln development")?,
        fact(K::MarketReference, "AG-005", "3500", "0.25", jpy, "J-Credit tender results 2026-09 (agriculture)")?,
        fact(K::MarketReference, "AG-004", "5000", "0.30", jpy, "J-Credit tender results 2026-09 (biochar)")?,
        fact(K::ProtocolAdjustment, "J-Credit-eligible", "0.05", "0", None, "Domestic J-Credit eligibility")?,
        fact(K::RegulationAdjustment, "JP", "0.02", "0", None, "GX-ETS offset eligibility outlook 2026")?,
        fact(K::FxRate, "JPY/USD", "0.0067", "0", None, "Central bank reference rate 2026-10-01")?,
        fact(K::FxRate, "JPY/EUR", "0.0061", "0", None, "Central bank reference rate 2026-10-01")?,
        fact(K::Commission, "", "20", "0", None, "Program fee schedule 2026")?,
    ];
    for fact in facts {
        sales(registry, &op, SalesCommand::RecordPricing { fact }).await?;
    }
    let filter = |methodology: &str| {
        QuoteTarget::Filter(SaleFilter { methodology: Some(methodology.into()), ..SaleFilter::default() })
    };
    let plan = [
        (kansai_rail, "AG-005", 40, Currency::Jpy, false, "Kansai Rail Co., Ltd.", RetirementPurpose::Scope3, "JP-27"),
        (hokuriku, "AG-004", 25, Currency::Jpy, false, "Hokuriku Foods K.K.", RetirementPurpose::Scope1, "JP-17"),
        (minato, "AG-005", 30, Currency::Usd, true, "Minato Regional Bank", RetirementPurpose::Scope2, "JP-15"),
        (kansai_rail, "AG-004", 10, Currency::Eur, false, "", RetirementPurpose::Other, "JP-27"),
    ];
    for (i, (buyer, methodology, quantity, currency, confidential, beneficiary, purpose, jurisdiction)) in
        plan.into_iter().enumerate()
    {
        let quote = SalesCommand::CreateQuote {
            buyer,
            target: filter(methodology),
            quantity: Quantity(quantity),
            currency,
            valid_for_secs: 7 * 24 * 3600,
        };
        let events = sales(registry, &op, quote).await?;
        let Some(Event::Lifecycle(LifecycleEvent::QuoteCreated { id, .. })) = events.first() else { bail!("no quote") };
        let events = sales(registry, &op, SalesCommand::AcceptQuote { quote: *id }).await?;
        let Some(Event::Lifecycle(LifecycleEvent::SaleOpened { id: sale, .. })) = events.last() else {
            bail!("no sale")
        };
        if beneficiary.is_empty() {
            continue; // left in escrow: a sale awaiting payment
        }
        let note = "Purchased and retired through the program's sales desk";
        let settle = SalesCommand::Settle {
            sale: *sale,
            claim: claim(beneficiary, purpose, 2025, jurisdiction, note)?,
            payment_reference: format!("WIRE-2026-10-{:04}", i + 1),
            confidential,
        };
        let events = sales(registry, &op, settle).await?;
        let Some(Event::Lifecycle(LifecycleEvent::SaleSettled { settlement, .. })) = events.last() else {
            bail!("no settlement")
        };
        // The first two payouts of each sale are paid; the rest stay owed.
        for payout in settlement.payouts.iter().take(2) {
            let paid = SalesCommand::PayPayout {
                sale: *sale,
                participant: payout.participant,
                reference: format!("BANK-{}-{}", sale, payout.participant),
            };
            sales(registry, &op, paid).await?;
        }
    }
    Ok(())
}

/// Seeds the program lifecycle (which issues the batches), then buyers, sales and retirements,
/// all through the same commands the API runs, so the demo's log is a real log.
pub async fn seed(registry: &Registry) -> Result<Seeded> {
    let operator = staff(OPERATOR_A, Role::Operator);
    let issuance = furrow_domain::ledger::ISSUANCE_ACCOUNT;
    let batches = seed_lifecycle(registry).await?;
    let first_serial = registry.store().batch(batches[0]).await?.map(|(b, _)| b.serials.start()).unwrap_or(1);

    let kansai_rail = open_account(registry, &operator, AccountKind::Buyer, "Kansai Rail Co., Ltd.").await?;
    let hokuriku = open_account(registry, &operator, AccountKind::Buyer, "Hokuriku Foods K.K.").await?;
    let sakura = open_account(registry, &operator, AccountKind::Buyer, "Sakura Logistics Inc.").await?;
    let minato = open_account(registry, &operator, AccountKind::Buyer, "Minato Regional Bank").await?;

    seed_sales(registry, [kansai_rail, hokuriku, minato]).await.context("seeding sales")?;

    // Sales: the program transfers credits to buyers, oldest first.
    for (buyer, quantity) in [(kansai_rail, 600), (hokuriku, 250), (sakura, 120), (minato, 400)] {
        let selection = Selection::Quantity { quantity: Quantity(quantity), batch: None };
        registry.execute(&operator, Command::Transfer { from: issuance, to: buyer, selection }, None).await?;
    }
    let retire =
        |from: AccountId, selection: Selection, claim: RetirementClaim| Command::Retire { from, selection, claim };
    let by_quantity = |q: u64| Selection::Quantity { quantity: Quantity(q), batch: None };
    let retirements = [
        retire(
            kansai_rail,
            by_quantity(300),
            claim(
                "Kansai Rail Co., Ltd.",
                RetirementPurpose::Scope1,
                2024,
                "JP-27",
                "Offsets diesel shunting, FY2024",
            )?,
        ),
        retire(
            kansai_rail,
            by_quantity(45),
            claim("Kansai Rail Co., Ltd.", RetirementPurpose::Scope3, 2024, "JP-27", "Business travel, FY2024")?,
        ),
        retire(
            hokuriku,
            by_quantity(120),
            claim("Hokuriku Foods K.K.", RetirementPurpose::Scope3, 2024, "JP-17", "Rice sourcing, Koshihikari line")?,
        ),
        retire(
            sakura,
            by_quantity(50),
            claim("Sakura Logistics Inc.", RetirementPurpose::VoluntaryOffset, 2025, "JP-13", "")?,
        ),
        retire(
            minato,
            by_quantity(200),
            claim("Minato Regional Bank", RetirementPurpose::Scope2, 2024, "JP-15", "Branch electricity")?,
        ),
    ];
    for command in retirements {
        registry.execute(&operator, command, None).await?;
    }

    // A small correction: 5 credits issued in error are cancelled from the issuance account.
    let selection = Selection::Quantity { quantity: Quantity(5), batch: None };
    let note = "Parcel double-counted in the 2024 monitoring report; corrected".to_owned();
    registry
        .execute(
            &operator,
            Command::Cancel { from: issuance, selection, reason: CancellationReason::Correction, note },
            None,
        )
        .await?;

    let sample = SerialRange::single(first_serial + 10)?;
    Ok(Seeded { kansai_rail, sample_serial: sample.start().to_string() })
}
