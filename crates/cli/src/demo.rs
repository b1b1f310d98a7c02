//! `furrow demo`: a believable program on a fresh database, served at once.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use furrow_app::{Principal, Registry};
use furrow_domain::{
    AccountId, AccountKind, Beneficiary, CancellationReason, ClaimPeriod, Command, Date, Event, IssueCommand,
    ProjectCode, Quantity, RetirementClaim, RetirementPurpose, Role, Selection, SerialRange, Vintage,
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
    let operator = registry.create_token("Aiko Tanaka (operator, demo)", Role::Operator, &[]).await?;
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
    println!();
    println!("  Operator token:            {operator}");
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

/// Seeds four projects' batches, growers, buyers, sales and retirements, all through the same
/// commands the API runs, so the demo's log is a real log.
pub async fn seed(registry: &Registry) -> Result<Seeded> {
    let operator = Principal { subject: "Aiko Tanaka (operator, demo)".into(), role: Role::Operator, accounts: vec![] };
    let issuance = furrow_domain::ledger::ISSUANCE_ACCOUNT;

    let growers =
        ["Uonuma paddy growers group (NG-03)", "Tokachi biochar cooperative (HK-11)", "Aso grassland farmers (KM-07)"];
    for name in growers {
        open_account(registry, &operator, AccountKind::Participant, name).await?;
    }
    let kansai_rail = open_account(registry, &operator, AccountKind::Buyer, "Kansai Rail Co., Ltd.").await?;
    let hokuriku = open_account(registry, &operator, AccountKind::Buyer, "Hokuriku Foods K.K.").await?;
    let sakura = open_account(registry, &operator, AccountKind::Buyer, "Sakura Logistics Inc.").await?;
    let minato = open_account(registry, &operator, AccountKind::Buyer, "Minato Regional Bank").await?;

    // (project, vintage, credits, buffer, labels): mid-season drainage (Niigata), biochar
    // (Hokkaido), soil carbon (Kumamoto, reversible, so a larger buffer), drainage again.
    let batches: [(u64, u16, u64, u64, &[&str]); 4] = [
        (1, 2024, 1_240, 0, &["methodology:AG-005", "J-Credit-eligible", "corresponding-adjustment:none"]),
        (2, 2024, 380, 20, &["methodology:AG-004", "corresponding-adjustment:none"]),
        (3, 2025, 860, 140, &["methodology:IPCC-SOC-T1", "corresponding-adjustment:none"]),
        (1, 2025, 1_510, 0, &["methodology:AG-005", "J-Credit-eligible", "corresponding-adjustment:none"]),
    ];
    let mut first_serial = 0;
    for (project, vintage, quantity, buffer, labels) in batches {
        let command = Command::Issue(IssueCommand {
            project: ProjectCode(project),
            country: None,
            vintage: Vintage::new(vintage)?,
            quantity: Quantity(quantity),
            buffer: Quantity(buffer),
            to: issuance,
            labels: labels.iter().map(|l| l.to_string()).collect(),
        });
        let committed = registry.execute(&operator, command, None).await?;
        if let Event::BatchIssued(b) = &committed.entries[0].event
            && first_serial == 0
        {
            first_serial = b.serials.start();
        }
    }

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
