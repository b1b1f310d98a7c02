//! The wire format: request and response bodies. Kept apart from domain types so the API can stay
//! stable while the domain evolves; conversions are written out by hand.

use std::collections::BTreeMap;

use furrow_app::store::{Balances, LogRow};
use furrow_domain::{Account, Batch, BatchId, Block, Cancellation, ProgramCode, Retirement, SerialRange};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use furrow_app::rfc3339;

// ------------------------------------------------------------------ requests

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAccountRequest {
    /// `participant` or `buyer`.
    #[schema(pattern = "^(participant|buyer)$")]
    pub kind: String,
    /// Public display name (a pseudonym for participants); 1–200 characters, not only spaces, no
    /// control characters but line feeds.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=[\s\S]*\S)[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]+$"
    )]
    pub name: String,
}

/// Which credits to use: either `quantity` (oldest serials first, optionally from one `batch`)
/// or `ranges` (each `"START-END"`, a single `"N"`, or a printable serial).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub from: String,
    pub to: String,
    pub quantity: Option<u64>,
    pub batch: Option<String>,
    pub ranges: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryDto {
    /// 1–200 characters, not only spaces, no control characters but line feeds.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^(?=[\s\S]*\S)[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]+$"
    )]
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// A registration number, LEI or similar.
    pub identifier: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimPeriodDto {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetireRequest {
    pub from: String,
    pub quantity: Option<u64>,
    pub batch: Option<String>,
    pub ranges: Option<Vec<String>>,
    pub beneficiary: BeneficiaryDto,
    /// `voluntary_offset`, `scope1`, `scope2`, `scope3`, `corsia` or `other`.
    #[schema(pattern = "^(voluntary_offset|scope1|scope2|scope3|corsia|other)$")]
    pub purpose: String,
    pub claim_period: ClaimPeriodDto,
    /// ISO 3166-1 alpha-2 or ISO 3166-2, e.g. `JP-13`.
    pub jurisdiction: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub from: String,
    pub quantity: Option<u64>,
    pub batch: Option<String>,
    pub ranges: Option<Vec<String>>,
    /// `reversal_compensation`, `correction`, `export` or `other`.
    #[schema(pattern = "^(reversal_compensation|correction|export|other)$")]
    pub reason: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1-500, default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BlockParams {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    pub batch: Option<String>,
    pub account: Option<String>,
    pub state: Option<String>,
}

// ------------------------------------------------------------------ responses

#[derive(Debug, Serialize, ToSchema)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema, Default, Clone, Copy)]
pub struct SupplyDto {
    pub tradable: u64,
    pub escrowed: u64,
    pub retired: u64,
    pub cancelled: u64,
    pub buffer: u64,
    pub total: u64,
}

impl From<Balances> for SupplyDto {
    fn from(b: Balances) -> Self {
        Self {
            tradable: b.tradable,
            escrowed: b.escrowed,
            retired: b.retired,
            cancelled: b.cancelled,
            buffer: b.buffer,
            total: b.total(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramDto {
    pub code: String,
    pub country: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusDto {
    pub program: Option<ProgramDto>,
    pub supply: SupplyDto,
    pub accounts: u64,
    pub batches: u64,
    pub retirements: u64,
    pub log_size: u64,
    /// Present when public reads are served by a read replica: how far behind it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_replica: Option<ReplicaDto>,
}

/// A read replica's state, as its primary and the replica report it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplicaDto {
    /// True when the reads come from a standby replaying the primary's log.
    pub in_recovery: bool,
    /// Write-ahead log bytes the replica has not replayed yet.
    pub lag_bytes: u64,
    /// Seconds since the replica's last replayed commit while it is behind; 0 when caught up.
    pub lag_seconds: f64,
    pub primary_lsn: String,
    pub replay_lsn: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDto {
    pub id: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balances: Option<SupplyDto>,
}

impl AccountDto {
    pub fn new(a: &Account, balances: Option<Balances>) -> Self {
        Self {
            id: a.id.to_string(),
            kind: a.kind.to_string(),
            name: a.name.clone(),
            balances: balances.map(Into::into),
        }
    }
}

/// A run of serials, as integers and in printable form.
#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct RangeDto {
    pub start: u64,
    pub end: u64,
    pub quantity: u64,
    /// E.g. `AGR-JP-P0012-2025-B000041-000120001-000120500`.
    pub serial: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDto {
    pub id: String,
    pub project: String,
    pub country: String,
    pub vintage: u16,
    pub serials: RangeDto,
    pub issued: u64,
    /// Of `issued`, how many went to the buffer pool.
    pub buffer_contribution: u64,
    pub labels: Vec<String>,
    pub issued_at: String,
    pub supply: SupplyDto,
    /// Where a batch issued through the program lifecycle came from: report, methodology version,
    /// the approvals, each parcel's contribution, labels, ecological indicators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::lifecycle::dto::BatchOriginDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockDto {
    pub range: RangeDto,
    pub batch: String,
    pub account: String,
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferDto {
    pub from: String,
    pub to: String,
    pub quantity: u64,
    pub ranges: Vec<RangeDto>,
    pub log_index: u64,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetirementDto {
    pub id: String,
    /// The account the credits were retired from.
    pub account: String,
    pub quantity: u64,
    pub ranges: Vec<RangeDto>,
    pub beneficiary: BeneficiaryDto,
    pub purpose: String,
    pub claim_period: ClaimPeriodDto,
    pub jurisdiction: String,
    pub note: String,
    pub retired_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancellationDto {
    pub id: String,
    pub account: String,
    pub quantity: u64,
    pub ranges: Vec<RangeDto>,
    pub reason: String,
    pub note: String,
    pub cancelled_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntryDto {
    pub index: u64,
    pub timestamp: String,
    pub actor: String,
    pub kind: String,
    /// Hex SHA-256 leaf hash (RFC 9162) of `entry`.
    pub leaf_hash: String,
    /// Base64 of the canonical entry bytes.
    pub entry: String,
}

impl From<&LogRow> for LogEntryDto {
    fn from(row: &LogRow) -> Self {
        use base64::Engine;
        Self {
            index: row.index,
            timestamp: rfc3339(row.timestamp),
            actor: row.actor.clone(),
            kind: row.kind.clone(),
            leaf_hash: hex::encode(row.leaf_hash),
            entry: base64::engine::general_purpose::STANDARD.encode(&row.bytes),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SerialLookupDto {
    /// What was looked up, normalised.
    pub query: String,
    /// The blocks that hold the serials, lowest first.
    pub blocks: Vec<BlockDto>,
    /// Every log entry that touched these serials, oldest first.
    pub history: Vec<LogEntryDto>,
}

/// Renders serial ranges in printable form; caches batch facts (which never change).
pub struct Printer {
    pub program: ProgramCode,
    pub batches: BTreeMap<BatchId, Batch>,
}

impl Printer {
    pub fn range(&self, batch: BatchId, range: SerialRange) -> RangeDto {
        let serial =
            self.batches.get(&batch).map(|b| b.printable(&self.program, range).to_string()).unwrap_or_default();
        RangeDto { start: range.start(), end: range.end(), quantity: range.len().0, serial }
    }

    /// For ranges that may lie in any batch (retirements): finds each range's batch by serial.
    pub fn range_any(&self, range: SerialRange) -> RangeDto {
        let batch = self.batches.values().find(|b| b.serials.covers(range)).map(|b| b.id);
        match batch {
            Some(id) => self.range(id, range),
            None => RangeDto { start: range.start(), end: range.end(), quantity: range.len().0, serial: String::new() },
        }
    }

    pub fn batch(&self, batch: &Batch, supply: Balances) -> BatchDto {
        BatchDto {
            id: batch.id.to_string(),
            project: batch.project.to_string(),
            country: batch.country.to_string(),
            vintage: batch.vintage.year(),
            serials: self.range(batch.id, batch.serials),
            issued: batch.serials.len().0,
            buffer_contribution: batch.buffer.0,
            labels: batch.labels.clone(),
            issued_at: rfc3339(batch.issued_at),
            supply: supply.into(),
            origin: None,
        }
    }

    pub fn block(&self, b: &Block) -> BlockDto {
        BlockDto {
            range: self.range(b.batch, b.range),
            batch: b.batch.to_string(),
            account: b.account.to_string(),
            state: b.state.to_string(),
        }
    }

    pub fn retirement(&self, r: &Retirement) -> RetirementDto {
        let c = &r.claim;
        RetirementDto {
            id: r.id.to_string(),
            account: r.account.to_string(),
            quantity: furrow_domain::total(&r.ranges).0,
            ranges: r.ranges.iter().map(|x| self.range_any(*x)).collect(),
            beneficiary: BeneficiaryDto {
                name: c.beneficiary.name.clone(),
                country: c.beneficiary.country.map(|x| x.to_string()),
                identifier: c.beneficiary.identifier.clone(),
            },
            purpose: c.purpose.to_string(),
            claim_period: ClaimPeriodDto { from: c.claim_period.from.to_string(), to: c.claim_period.to.to_string() },
            jurisdiction: c.jurisdiction.to_string(),
            note: c.note.clone(),
            retired_at: rfc3339(r.at),
        }
    }

    pub fn cancellation(&self, c: &Cancellation) -> CancellationDto {
        CancellationDto {
            id: c.id.to_string(),
            account: c.account.to_string(),
            quantity: furrow_domain::total(&c.ranges).0,
            ranges: c.ranges.iter().map(|x| self.range_any(*x)).collect(),
            reason: c.reason.to_string(),
            note: c.note.clone(),
            cancelled_at: rfc3339(c.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofDto {
    /// The entry's index (its leaf index in the tree).
    pub index: u64,
    /// Hex RFC 9162 leaf hash of the entry.
    pub leaf_hash: String,
    /// Size of the tree the proof is against (the latest checkpoint's).
    pub tree_size: u64,
    /// Hex root hash of that tree.
    pub root: String,
    /// The audit path, hex, lowest level first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note) committing to `root`.
    pub checkpoint: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointDto {
    pub tree_size: u64,
    /// Hex root hash.
    pub root: String,
    /// The C2SP signed note, exactly as signed.
    pub note: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofDto {
    pub from: u64,
    pub to: u64,
    /// Hex hashes (RFC 9162 §2.1.4).
    pub proof: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size; defaults to the latest checkpoint's.
    pub to: Option<u64>,
}

/// A retirement certificate that verifies offline: the retirement as published, the log entry that
/// recorded it, and a C2SP tlog-proof bundle tying that entry to a signed checkpoint.
/// `furrow verify --certificate FILE --key KEY` checks all three.
#[derive(Debug, Serialize, ToSchema)]
pub struct CertificateDto {
    /// Always `furrow-retirement-certificate/v1`.
    pub format: &'static str,
    pub retirement: RetirementDto,
    /// Index of the log entry that recorded the retirement.
    pub log_index: u64,
    /// Base64 of that entry's canonical bytes.
    pub entry: String,
    /// C2SP `tlog-proof@v1` bundle: index, inclusion proof, signed checkpoint.
    pub proof: String,
    /// The ecological score of the monitoring period the credits were issued from (absent for a
    /// batch issued outside the program lifecycle). Derived from the batch's verified report,
    /// which is in the log; the proof above covers the retirement entry, not this score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecology: Option<crate::lifecycle::ecology::EcoScoreDto>,
}
