//! `furrow demo`: a believable program on a fresh database, served at once.

mod review;

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

/// `println!` that ignores a closed stdout: whoever started the demo may stop reading its banner
/// (a test that read what it needed, `furrow demo | head`), and the server must keep running.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

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
    let data = crate::DataDir { data_dir: dir.clone(), database_url: None, database_url_file: None };
    let Opened { registry, _lock, .. } = open(&data, None).await?;
    initialise(&registry, "AGR", "JP", "Furrow Agricultural Offset Program (demo)", &signer.vkey()).await?;
    let seeded = seed(&registry).await.context("seeding the demo program")?;
    let operator = registry.create_token(OPERATOR_A, Role::Operator, &[]).await?;
    let second_operator = registry.create_token(OPERATOR_B, Role::Operator, &[]).await?;
    let buyer =
        registry.create_token("Kansai Rail sustainability team (demo)", Role::Buyer, &[seeded.kansai_rail]).await?;
    let (password, mut users) = demo_users(&registry, seeded.kansai_rail).await?;
    let reviewers = review::seed(&registry, &password).await.context("seeding the review queues")?;
    users.extend(reviewers.users);

    let url = base_url(&listener)?;
    say!("Furrow demo registry is running at {url}");
    say!();
    say!("  Database:     {}{}", database_path(&dir).display(), if temp.is_some() { " (deleted on exit)" } else { "" });
    say!("  Explorer:     {url}/   (English and Japanese; no JavaScript needed)");
    say!("  Serial:       {url}/serials?q={}", seeded.sample_serial);
    say!("  Projects:     {url}/projects   (parcels at generalised locations, reports, ecology and charts)");
    say!("  Retirements:  {url}/retirements   (search by beneficiary)");
    say!("  Methodology:  {url}/methodologies");
    say!("  Join:         {url}/join   (projects open for participation)");
    say!("  Verify:       {url}/transparency   (latest checkpoint, how to audit)");
    say!("  Downloads:    {url}/downloads   (CSV, JSON, OffsetsDB layout; change feed {url}/feed.atom)");
    say!("  Audit it:     furrow verify --url {url} --key '{}'", signer.vkey());
    say!();
    say!("  JSON API:     {url}/api/v1/status   (OpenAPI: {url}/api/v1/openapi.json)");
    say!("  Checkpoint:   {url}/api/v1/log/checkpoint   (verifier key: {})", signer.vkey());
    say!("  API projects: {url}/api/v1/projects   (also /methodologies, /reports, /enrolments, /reversals)");
    say!("  Ecology:      {url}/api/v1/projects/P0001/ecology   (scores, trade-offs; also /api/v1/indicators)");
    say!("  Chart:        {url}/api/v1/projects/P0001/indicators/frog_count/chart.svg");
    say!("  Explanation:  {url}/reports/N000001   (every step, recomputed; JSON: /api/v1/reports/N000001/explanation)");
    say!("  Four-eyes:    {url}/api/v1/issuance-requests   (each requested and approved by two operators)");
    say!("  Farmers:      {url}/api/v1/participants   (pseudonyms; names and fields only with a staff token)");
    say!("  Pricing:      {url}/api/v1/pricing-inputs   (every recorded version; quotes name theirs)");
    say!("  Sales:        {url}/api/v1/sales   (operator token: escrow, settlement, payouts, forfeitures)");
    say!("  Certificate:  {url}/api/v1/certificates/AGR-CERT-R000001   (HTML; add /pdf for the PDF)");
    say!("  Disclosure:   {url}/api/v1/retirements/R000001/disclosure   (R000003: a confidential sale)");
    say!(
        "  Statement:    {url}/api/v1/participants/F000005/statement.csv   (operator token; a withdrawn grower's forfeitures)"
    );
    say!();
    say!("  Operator token:            {operator}");
    say!("  Second operator token:     {second_operator}");
    say!("  Buyer token (Kansai Rail, account {}): {buyer}", seeded.kansai_rail);
    say!();
    say!("  Sign in at {url}/signin with one of these (password {password}, this run only):");
    for (email, what) in &users {
        say!("    {email:<32} {what}");
    }
    say!("  TOTP key of {}: {}   (any authenticator app)", reviewers.operator_email, reviewers.totp_key);
    say!("  Review:       {url}/review   (signed in: each role's queue; operators edit /review/program)");
    say!("  As the grower: {url}/me/farm   (parcels, reports, payouts, statement CSV, withdrawal request)");
    say!("  As the buyer:  {url}/buy   (price, quote, purchase; {url}/me/purchases: awaiting payment, certificates)");
    say!();
    say!("  Retire 10 credits as Kansai Rail:");
    say!(
        "    curl -s -X POST {url}/api/v1/retirements -H 'Authorization: Bearer {buyer}' -H 'Content-Type: application/json' \\\n      -d '{{\"from\":\"{}\",\"quantity\":10,\"beneficiary\":{{\"name\":\"Kansai Rail Co., Ltd.\",\"country\":\"JP\"}},\"purpose\":\"scope1\",\"claim_period\":{{\"from\":\"2025-04-01\",\"to\":\"2026-03-31\"}},\"jurisdiction\":\"JP-27\"}}'",
        seeded.kansai_rail
    );
    say!();
    say!("Press Ctrl-C to stop.");
    furrow_http::serve(listener, registry, shutdown_signal()).await?;
    drop(temp);
    Ok(())
}

/// Users for the demo's people, all with one random password printed at start: an admin, the two
/// operators, the buyer and one grower (the first registered participant's account).
async fn demo_users(registry: &Registry, kansai_rail: AccountId) -> Result<(String, Vec<(String, String)>)> {
    let password = furrow_app::totp::base32(&furrow_app::accounts::new_totp_secret()[..10]).to_lowercase();
    let grower = registry.lifecycle().participants.values().next().map(|p| p.account);
    let mut people = vec![
        ("admin@furrow.demo", "Furrow Agricultural Offset Program (demo)", Role::Admin, vec![], "admin"),
        ("aiko@furrow.demo", "Furrow Agricultural Offset Program (demo)", Role::Operator, vec![], "operator"),
        ("kenji@furrow.demo", "Furrow Agricultural Offset Program (demo)", Role::Operator, vec![], "second operator"),
        ("treasury@kansai-rail.demo", "Kansai Rail Co., Ltd. (demo)", Role::Buyer, vec![kansai_rail], "buyer"),
    ];
    if let Some(account) = grower {
        people.push(("grower@farm.demo", "Demo farm", Role::Participant, vec![account], "participant (a grower)"));
    }
    let mut users = Vec::new();
    for (email, organisation, role, accounts, what) in people {
        let new = furrow_app::accounts::NewUser {
            email: email.into(),
            organisation: organisation.into(),
            role,
            accounts,
            password: furrow_app::password::Password::new(password.clone()),
        };
        registry.create_user("furrow demo", &new).await?;
        users.push((email.to_owned(), what.to_owned()));
    }
    Ok((password, users))
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
    Principal { subject: subject.into(), role, accounts: vec![], proof: furrow_app::Proof::Token }
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

/// An optional field: a flag (`name:code` choices, yes/no practices) or a number.
fn optional(name: &str, kind: FieldKind, unit: &str) -> FieldSpec {
    FieldSpec { name: name.into(), kind, unit: unit.into(), min: None, max: None, required: false }
}

/// The methodology a demo project follows: one per engine of issue #6. The engines read their
/// parameters from their own versioned tables; the methodology's table only names that version.
fn methodology(
    code: &str,
    title: &str,
    engine: &str,
    tables: &str,
    schema: Vec<FieldSpec>,
    deductions: [&str; 3],
    indicators: &[&str],
) -> Result<MethodologySpec> {
    Ok(MethodologySpec {
        code: code.into(),
        version: "v1.0".into(),
        title: title.into(),
        engine: engine.into(),
        parameters: ParameterTable { version: tables.into(), values: vec![] },
        schema,
        deductions: Deductions {
            uncertainty: dec(deductions[0])?,
            leakage: dec(deductions[1])?,
            buffer: dec(deductions[2])?,
        },
        gwp: "AR5".into(),
        indicators: indicators.iter().map(|i| i.to_string()).collect(),
    })
}

/// AG-005 rice drainage, IPCC 2019 rice water management, AG-004 biochar and IPCC Tier 1 soil
/// carbon, each on its real engine.
fn methodologies() -> Result<[MethodologySpec; 4]> {
    use FieldKind::{Flag, Integer, Number};
    let drainage = methodology(
        "AG-005",
        "Extended mid-season drainage in paddy rice",
        "jcredit-ag005-drainage",
        "ag005@2026.1-reconstruction gwp@2026.1",
        vec![
            number_field("prefecture", Integer, "JIS X 0401", Some("1"), Some("47"))?,
            number_field("daily_water_loss_mm", Number, "mm/d", Some("0"), Some("100"))?,
            number_field("drainage_days", Integer, "d", Some("1"), Some("60"))?,
            number_field("prior_drainage_days_1", Integer, "d", Some("0"), Some("60"))?,
            number_field("prior_drainage_days_2", Integer, "d", Some("0"), Some("60"))?,
            optional("straw_incorporated", Flag, ""),
            optional("straw_removed_kg_per_10a", Number, "kg/10a"),
            optional("compost", Flag, ""),
            optional("reirrigated", Flag, ""),
        ],
        ["10", "0", "3"],
        &["frog_count", "dragonfly_count"],
    )?;
    let rice = methodology(
        "IPCC-RICE",
        "Rice water management, IPCC 2019 Tier 1",
        "ipcc2019-rice-tier1",
        "ipcc2019_rice@2019-refinement.1 gwp@2026.1",
        vec![
            optional("region:east_asia", Flag, ""),
            number_field("days", Integer, "d", Some("60"), Some("200"))?,
            optional("n_kg_per_ha", Number, "kg N/ha"),
            optional("baseline_water:single_drainage", Flag, ""),
            optional("baseline_water:continuous_flooding", Flag, ""),
            optional("project_water:multiple_drainage", Flag, ""),
            optional("baseline_pre_season:non_flooded_long", Flag, ""),
            optional("project_pre_season:non_flooded_long", Flag, ""),
            optional("baseline_pre_season:flooded_long", Flag, ""),
            optional("project_pre_season:flooded_long", Flag, ""),
            optional("baseline_amendment:straw_long", Number, "t/ha"),
            optional("project_amendment:straw_long", Number, "t/ha"),
        ],
        ["15", "0", "3"],
        &["frog_count"],
    )?;
    let biochar = methodology(
        "AG-004",
        "Biochar application to cropland",
        "ipcc2019-biochar",
        "biochar@2019-appendix4.1",
        vec![
            optional("feedstock:wood", Flag, ""),
            optional("feedstock:rice_husk_straw", Flag, ""),
            number_field("temperature_c", Integer, "°C", Some("350"), Some("1000"))?,
            number_field("dry_mass_t", Number, "t", Some("0"), Some("5000"))?,
            optional("fixed_carbon_pct", Number, "%"),
            optional("domestic_unused_feedstock", Flag, ""),
            optional("mineral_soil", Flag, ""),
            optional("project_emissions_t_co2e", Number, "t CO2e"),
        ],
        ["10", "5", "10"],
        &["ph"],
    )?;
    let soc = methodology(
        "SOC-T1",
        "Soil organic carbon: reduced tillage and more residues, IPCC Tier 1",
        "ipcc-tier1-soc",
        "soc_ipcc2006@2006.1",
        vec![
            optional("climate:warm_temperate_moist", Flag, ""),
            optional("soil:hac", Flag, ""),
            optional("baseline_land_use:long_term_cultivated", Flag, ""),
            optional("baseline_tillage:full_tillage", Flag, ""),
            optional("baseline_input:medium", Flag, ""),
            optional("project_land_use:long_term_cultivated", Flag, ""),
            optional("project_tillage:no_till", Flag, ""),
            optional("project_tillage:reduced_tillage", Flag, ""),
            optional("project_input:high_without_manure", Flag, ""),
        ],
        ["15", "0", "20"],
        &["soc_pct"],
    )?;
    Ok([drainage, rice, biochar, soc])
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

/// Sado island growers who flood their paddies in winter for the crested ibis (toki).
const SADO_GROWERS: [Grower; 4] = [
    ("Honma Tsuyoshi", "Niigata", "Sado", "Kokuzo toki paddies", 38.0402, 138.4261, 14.2),
    ("Ikeda Michiko", "Niigata", "Sado", "Niibo valley", 38.0235, 138.4723, 11.8),
    ("Sakai Jun", "Niigata", "Sado", "Hatano lowland", 38.0561, 138.3935, 16.5),
    ("Kondo Sayaka", "Niigata", "Sado", "Mano bay fields", 37.9748, 138.3412, 9.7),
];

/// Upland farms of the Kanto plain moving to no-till with more crop residues.
const SOC_GROWERS: [Grower; 3] = [
    ("Hokota Daichi Farm", "Ibaraki", "Hokota", "Sekido upland", 36.1582, 140.5164, 21.0),
    ("Bando Green Partners", "Ibaraki", "Bando", "Iwai north", 36.0498, 139.8893, 17.5),
    ("Yachiyo Soil Co-op", "Ibaraki", "Yachiyo", "Kurihara field", 36.1817, 139.8911, 13.4),
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
        ("Tokachi biochar for upland fields", MethodologyId(3), "JP-01"),
        ("Sado island paddies for the crested ibis: multiple drainage", MethodologyId(2), "JP-15"),
        ("Kanto upland no-till and residues", MethodologyId(4), "JP-08"),
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
        let verifier = VERIFIER.to_owned();
        lifecycle(registry, &op, LifecycleCommand::AssignVerifier { project, verifier }).await?;
        for (who, action) in [
            (&op, ProjectAction::Submit),
            (&staff(VERIFIER, Role::Verifier), ProjectAction::Validate),
            (&op, ProjectAction::Register),
        ] {
            lifecycle(registry, who, LifecycleCommand::TransitionProject { project, action, reason: String::new() })
                .await?;
        }
    }
    let (rice, biochar, sado, soc) = (ProjectCode(1), ProjectCode(2), ProjectCode(3), ProjectCode(4));
    let contract = period("2024-04-01", "2028-03-31")?;
    let mut rice_fields = Vec::new();
    for grower in &RICE_GROWERS {
        rice_fields.push(enrol_grower(registry, &op, rice, grower, contract).await?);
    }
    let mut biochar_fields = Vec::new();
    for (grower, _) in &BIOCHAR_GROWERS {
        biochar_fields.push(enrol_grower(registry, &op, biochar, grower, contract).await?.1);
    }
    let mut sado_fields = Vec::new();
    for grower in &SADO_GROWERS {
        sado_fields.push(enrol_grower(registry, &op, sado, grower, contract).await?.1);
    }
    let mut soc_fields = Vec::new();
    for grower in &SOC_GROWERS {
        soc_fields.push(enrol_grower(registry, &op, soc, grower, contract).await?.1);
    }
    join_applications(registry, rice).await?;

    // 2024: the drainage and biochar projects verified and issued, each by two operators.
    let rice_parcels: Vec<ParcelId> = rice_fields.iter().map(|f| f.1).collect();
    let rice_2024 = verified_report(registry, drainage_report(rice, &rice_parcels, 2024)?).await?;
    let tonnes = |i: usize| {
        let (grower, tonnes) = &BIOCHAR_GROWERS[i];
        let mut values = vec![
            on("feedstock:wood"),
            number("temperature_c", Decimal::from(650)),
            number("dry_mass_t", tonnes.parse().unwrap_or_default()),
            number("fixed_carbon_pct", Decimal::new(720 + (i as i64) * 15, 1)),
            on("domestic_unused_feedstock"),
            on("mineral_soil"),
            // Trucking from the Obihiro kiln: about 0.5 kg CO2e per tonne-kilometre.
            number("project_emissions_t_co2e", Decimal::new((grower.6 * 10.0) as i64, 2)),
        ];
        values.sort_by(|a, b| a.0.cmp(&b.0));
        values
    };
    let biochar_2024 = verified_report(
        registry,
        ReportSpec {
            project: biochar,
            period: period("2024-04-01", "2024-11-30")?,
            activity: activity(&biochar_fields, tonnes),
            evidence: vec![evidence("tokachi-biochar-delivery-notes-2024.pdf")],
            indicators: soil_indicators(&biochar_fields, 2024, "6.1")?,
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

    // 2025: the drainage project without the withdrawn field; Sado and Kanto's first seasons.
    let remaining: Vec<ParcelId> = rice_parcels.iter().copied().filter(|p| *p != farmer.1).collect();
    let rice_2025 = verified_report(registry, drainage_report(rice, &remaining, 2025)?).await?;
    batches.push(issue(registry, rice_2025, OPERATOR_B, OPERATOR_A, &["J-Credit-eligible"]).await?);
    let sado_2025 = verified_report(registry, sado_report(sado, &sado_fields)?).await?;
    batches.push(issue(registry, sado_2025, OPERATOR_A, OPERATOR_B, &[]).await?);
    let soc_2025 = verified_report(registry, soc_report(soc, &soc_fields)?).await?;
    batches.push(issue(registry, soc_2025, OPERATOR_B, OPERATOR_A, &[]).await?);
    // 2026: the drainage project's third season, verified and not yet issued.
    verified_report(registry, drainage_report(rice, &remaining, 2026)?).await?;

    // A flood washed biochar off a field: the loss is cancelled from the buffer pool.
    let reversal = LifecycleCommand::RecordReversal {
        project: biochar,
        quantity: Quantity(12),
        note: "August 2025 flood of the Satsunai river washed biochar off Kisen block".into(),
    };
    lifecycle(registry, &op, reversal).await?;
    // Four-eyes: the other operator approves the reversal before the pool is cancelled.
    let approve = LifecycleCommand::ApproveReversal { reversal: furrow_domain::ReversalId(1) };
    lifecycle(registry, &staff(OPERATOR_B, Role::Operator), approve).await?;
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

fn on(name: &str) -> (String, FieldValue) {
    (name.into(), FieldValue::Flag(true))
}

fn number(name: &str, value: Decimal) -> (String, FieldValue) {
    (name.into(), FieldValue::Number(value))
}

/// One indicator value for one parcel, with the SHA-256 of its survey sheet or lab report.
fn measured(name: &str, value: Decimal, parcel: ParcelId, year: u16) -> IndicatorValue {
    use sha2::Digest;
    let sheet = format!("{year}-{parcel}-{name}.pdf");
    IndicatorValue {
        name: name.into(),
        value,
        unit: furrow_domain::lifecycle::ecology::catalogue().get(name).map(|i| i.unit.clone()).unwrap_or_default(),
        parcel: Some(parcel),
        evidence: Some(sha2::Sha256::digest(sheet.as_bytes()).into()),
    }
}

/// Soil indicators of upland fields (biochar, soil carbon), improving a little each year.
fn soil_indicators(parcels: &[ParcelId], year: u16, ph: &str) -> Result<Vec<IndicatorValue>> {
    let y = i64::from(year - 2024);
    let mut values = Vec::new();
    for (i, p) in parcels.iter().enumerate() {
        let i = i as i64;
        values.push(measured("ph", dec(ph)? + Decimal::new(i * 10 - 10, 2), *p, year));
        values.push(measured("soc_pct", Decimal::new(21 + i * 3 + y * 2, 1), *p, year));
        values.push(measured("bulk_density", Decimal::new(118 - i * 4 - y * 2, 2), *p, year));
        values.push(measured("available_p", Decimal::from(14 + i * 5), *p, year));
        values.push(measured("spider_count", Decimal::from(60 + i * 12 + y * 9), *p, year));
    }
    Ok(values)
}

/// Paddy indicators: biodiversity surveys, soil and water samples and practices, per parcel.
/// More refuge ditches each year, so tadpoles survive the longer drainage and frogs recover.
fn paddy_indicators(parcels: &[(ParcelId, u32)], year: u16, winter_flooding: bool) -> Vec<IndicatorValue> {
    let y = i64::from(year - 2024);
    let mut values = Vec::new();
    for (i, (p, drainage_days)) in parcels.iter().enumerate() {
        let i = i as i64;
        let ditch = match y {
            0 => i % 3 == 0,
            1 => i % 3 != 2,
            _ => i != 7,
        };
        let frogs = 28 + (i * 7) % 25 + if ditch { 30 } else { 0 } + y * 6;
        values.push(measured("frog_count", Decimal::from(frogs), *p, year));
        values.push(measured("dragonfly_count", Decimal::from(18 + (i * 5) % 15 + y * 4), *p, year));
        values.push(measured("spider_count", Decimal::from(85 + (i * 11) % 40 + y * 7), *p, year));
        values.push(measured("soc_pct", Decimal::new(260 + (i % 5) * 20 + y * 5, 2), *p, year));
        values.push(measured("ph", Decimal::new(56 + (i % 4) * 2, 1), *p, year));
        values.push(measured("available_n", Decimal::from(10 + i % 6), *p, year));
        values.push(measured("nitrate", Decimal::new(38 - y * 4 + (i % 3) * 5, 1), *p, year));
        values.push(measured("irrigation_volume", Decimal::from(1500 - y * 60 + (i % 4) * 40), *p, year));
        values.push(measured("drainage_days", Decimal::from(*drainage_days), *p, year));
        values.push(measured("refuge_ditch", Decimal::from(i64::from(ditch)), *p, year));
        values.push(measured("biotope", Decimal::from(i64::from(i % 4 == 0)), *p, year));
        values.push(measured("winter_flooding", Decimal::from(i64::from(winter_flooding)), *p, year));
    }
    values
}

/// The drainage project's season: AG-005 activity data per field (prefecture, water loss, the
/// season's drainage against two prior years, straw) and the ecological indicators.
fn drainage_report(project: ProjectCode, parcels: &[ParcelId], year: u16) -> Result<ReportSpec> {
    let grower_of = |p: &ParcelId| RICE_GROWERS.get((p.0 - 1) as usize);
    let days = |i: usize| 18 + (i as u32 * 3 + u32::from(year)) % 7;
    let values = |i: usize| {
        let prefecture = match grower_of(&parcels[i]).map(|g| g.1) {
            Some("Yamagata") => 6,
            _ => 15,
        };
        let mut v = vec![
            number("prefecture", Decimal::from(prefecture)),
            number("daily_water_loss_mm", Decimal::new(80 + (i as i64 * 17) % 90, 1)),
            number("drainage_days", Decimal::from(days(i))),
            number("prior_drainage_days_1", Decimal::from(10)),
            number("prior_drainage_days_2", Decimal::from(11 + (i as i64) % 2)),
        ];
        if i % 3 == 1 {
            v.push(number("straw_removed_kg_per_10a", Decimal::from(250)));
        } else {
            v.push(on("straw_incorporated"));
        }
        if i % 4 == 2 {
            v.push(on("compost"));
        }
        v
    };
    let with_days: Vec<(ParcelId, u32)> = parcels.iter().enumerate().map(|(i, p)| (*p, days(i))).collect();
    Ok(ReportSpec {
        project,
        period: period(&format!("{year}-04-01"), &format!("{year}-10-31"))?,
        activity: activity(parcels, values),
        evidence: vec![
            evidence(&format!("uonuma-shonai-{year}-drainage-logs.zip")),
            evidence(&format!("water-level-photos-{year}.zip")),
        ],
        indicators: paddy_indicators(&with_days, year, false),
    })
}

/// Sado: from single to multiple drainage, IPCC 2019 Tier 1, with winter flooding kept for the
/// ibis (a flagged trade-off: more methane).
fn sado_report(project: ProjectCode, parcels: &[ParcelId]) -> Result<ReportSpec> {
    let values = |i: usize| {
        vec![
            on("region:east_asia"),
            number("days", Decimal::from(118 + i as i64 * 2)),
            number("n_kg_per_ha", Decimal::from(50)),
            on("baseline_water:single_drainage"),
            on("project_water:multiple_drainage"),
            on("baseline_pre_season:flooded_long"),
            on("project_pre_season:flooded_long"),
            number("baseline_amendment:straw_long", Decimal::new(55, 1)),
            number("project_amendment:straw_long", Decimal::new(55, 1)),
        ]
    };
    let with_days: Vec<(ParcelId, u32)> = parcels.iter().map(|p| (*p, 9)).collect();
    Ok(ReportSpec {
        project,
        period: period("2025-04-01", "2025-10-31")?,
        activity: activity(parcels, values),
        evidence: vec![evidence("sado-2025-water-management-records.pdf")],
        indicators: paddy_indicators(&with_days, 2025, true),
    })
}

/// Kanto: full tillage with medium residues to no-till with high residues, IPCC Tier 1.
fn soc_report(project: ProjectCode, parcels: &[ParcelId]) -> Result<ReportSpec> {
    let values = |i: usize| {
        vec![
            on("climate:warm_temperate_moist"),
            on("soil:hac"),
            on("baseline_land_use:long_term_cultivated"),
            on("baseline_tillage:full_tillage"),
            on("baseline_input:medium"),
            on("project_land_use:long_term_cultivated"),
            on(if i == 2 { "project_tillage:reduced_tillage" } else { "project_tillage:no_till" }),
            on("project_input:high_without_manure"),
        ]
    };
    Ok(ReportSpec {
        project,
        period: period("2025-01-01", "2025-12-31")?,
        activity: activity(parcels, values),
        evidence: vec![evidence("kanto-2025-tillage-and-residue-records.pdf")],
        indicators: soil_indicators(parcels, 2025, "6.3")?,
    })
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
/// in escrow with its buyer's stated claim (issue #9); some payouts marked paid. The rice sale
/// settles after a grower's withdrawal took effect, so its statement shows a forfeiture.
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
            // Left in escrow: a sale awaiting payment, whose buyer has already named the
            // beneficiary and purpose that settlement must use.
            let named = claim("Kansai Rail Co., Ltd.", RetirementPurpose::Scope3, 2026, jurisdiction, "")?;
            sales(registry, &op, SalesCommand::StateClaim { sale: *sale, claim: named }).await?;
            continue;
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

    // A small correction: 5 credits issued in error are cancelled from the issuance account, by
    // two operators (four-eyes: one asks, the other approves).
    let selection = Selection::Quantity { quantity: Quantity(5), batch: None };
    let note = "Parcel double-counted in the 2024 monitoring report; corrected".to_owned();
    let reason = CancellationReason::Correction;
    let ask = LifecycleCommand::RequestCancellation { from: issuance, selection, reason, note };
    let asked = lifecycle(registry, &staff(OPERATOR_A, Role::Operator), ask).await?;
    let Some(Event::Lifecycle(LifecycleEvent::CancellationRequested { id, .. })) = asked.first() else {
        bail!("no cancellation request")
    };
    lifecycle(registry, &staff(OPERATOR_B, Role::Operator), LifecycleCommand::ApproveCancellation { request: *id })
        .await?;

    let sample = SerialRange::single(first_serial + 10)?;
    Ok(Seeded { kansai_rail, sample_serial: sample.start().to_string() })
}
