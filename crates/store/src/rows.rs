//! Row shapes as an SQL backend returns them (64-bit integers, text, bytes), and their conversion
//! into domain values. Both backends read into these, so a row means the same thing in either.
//! Every conversion checks what it reads: a row that no longer parses is reported as corruption,
//! never a panic.

use std::collections::BTreeMap;

use crate::{CheckpointRow, LogRow, StoreError, TokenRecord};
use furrow_domain::{
    Account, AccountId, Batch, BatchId, Beneficiary, Block, Cancellation, CancellationId, ClaimPeriod, ProjectCode,
    Quantity, Retirement, RetirementClaim, RetirementId, SerialRange, Timestamp, Vintage,
};

/// SQL integers are signed 64-bit; serials and ids never exceed `i64::MAX` in practice (the
/// domain caps quantities), so a larger value is a bug worth stopping for.
pub fn as_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub fn as_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative value {v} where a count or id was expected")))
}

pub fn hash32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("hash of {} bytes, expected 32", bytes.len())))
}

pub fn join_ids(ids: &[AccountId]) -> String {
    ids.iter().map(|a| a.0.to_string()).collect::<Vec<_>>().join(",")
}

/// The inverse of [`join_ids`].
pub fn split_ids(s: &str) -> Result<Vec<AccountId>, StoreError> {
    s.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u64>().map(AccountId).map_err(|e| corrupt("account ids", e)))
        .collect()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn range(start: i64, end: i64) -> Result<SerialRange, StoreError> {
    SerialRange::new(as_u64(start)?, as_u64(end)?).map_err(|e| corrupt("serial range", e))
}

pub struct ProgramRow {
    pub code: String,
    pub country: String,
    pub name: String,
}

impl ProgramRow {
    pub fn into_domain(self) -> Result<furrow_domain::Program, StoreError> {
        Ok(furrow_domain::Program {
            code: self.code.parse().map_err(|e| corrupt("program code", e))?,
            country: self.country.parse().map_err(|e| corrupt("program country", e))?,
            name: self.name,
        })
    }
}

pub struct AccountRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
}

impl AccountRow {
    pub fn into_domain(self) -> Result<Account, StoreError> {
        Ok(Account { id: AccountId(as_u64(self.id)?), kind: parse_enum(&self.kind)?, name: self.name })
    }
}

pub struct BatchRow {
    pub id: i64,
    pub project: i64,
    pub country: String,
    pub vintage: i64,
    pub serial_start: i64,
    pub serial_end: i64,
    pub buffer: i64,
    pub labels: String,
    pub issued_at: i64,
}

impl BatchRow {
    pub fn into_domain(self) -> Result<Batch, StoreError> {
        let year = u16::try_from(self.vintage).map_err(|e| corrupt("vintage", e))?;
        Ok(Batch {
            id: BatchId(as_u64(self.id)?),
            project: ProjectCode(as_u64(self.project)?),
            country: self.country.parse().map_err(|e| corrupt("batch country", e))?,
            vintage: Vintage::new(year).map_err(|e| corrupt("vintage", e))?,
            serials: range(self.serial_start, self.serial_end)?,
            buffer: Quantity(as_u64(self.buffer)?),
            labels: self.labels.split(',').filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            issued_at: Timestamp(self.issued_at),
        })
    }
}

pub struct BlockRow {
    pub serial_start: i64,
    pub serial_end: i64,
    pub batch: i64,
    pub account: i64,
    pub state: String,
}

impl BlockRow {
    pub fn into_domain(self) -> Result<Block, StoreError> {
        Ok(Block {
            range: range(self.serial_start, self.serial_end)?,
            batch: BatchId(as_u64(self.batch)?),
            account: AccountId(as_u64(self.account)?),
            state: parse_enum(&self.state)?,
        })
    }
}

pub struct RangeRow {
    pub owner: i64,
    pub serial_start: i64,
    pub serial_end: i64,
}

pub fn group_ranges(rows: Vec<RangeRow>) -> Result<BTreeMap<i64, Vec<SerialRange>>, StoreError> {
    let mut grouped: BTreeMap<i64, Vec<SerialRange>> = BTreeMap::new();
    for row in rows {
        grouped.entry(row.owner).or_default().push(range(row.serial_start, row.serial_end)?);
    }
    Ok(grouped)
}

pub struct RetirementRow {
    pub id: i64,
    pub account: i64,
    pub beneficiary_name: String,
    pub beneficiary_country: Option<String>,
    pub beneficiary_identifier: Option<String>,
    pub purpose: String,
    pub claim_from: String,
    pub claim_to: String,
    pub jurisdiction: String,
    pub note: String,
    pub retired_at: i64,
}

impl RetirementRow {
    pub fn into_domain(self, ranges: Vec<SerialRange>) -> Result<Retirement, StoreError> {
        let country = match self.beneficiary_country {
            Some(c) => Some(c.parse().map_err(|e| corrupt("beneficiary country", e))?),
            None => None,
        };
        Ok(Retirement {
            id: RetirementId(as_u64(self.id)?),
            account: AccountId(as_u64(self.account)?),
            ranges,
            claim: RetirementClaim {
                beneficiary: Beneficiary {
                    name: self.beneficiary_name,
                    country,
                    identifier: self.beneficiary_identifier,
                },
                purpose: parse_enum(&self.purpose)?,
                claim_period: ClaimPeriod {
                    from: self.claim_from.parse().map_err(|e| corrupt("claim period", e))?,
                    to: self.claim_to.parse().map_err(|e| corrupt("claim period", e))?,
                },
                jurisdiction: self.jurisdiction.parse().map_err(|e| corrupt("jurisdiction", e))?,
                note: self.note,
            },
            at: Timestamp(self.retired_at),
        })
    }
}

pub struct CancellationRow {
    pub id: i64,
    pub account: i64,
    pub reason: String,
    pub note: String,
    pub cancelled_at: i64,
}

impl CancellationRow {
    pub fn into_domain(self, ranges: Vec<SerialRange>) -> Result<Cancellation, StoreError> {
        Ok(Cancellation {
            id: CancellationId(as_u64(self.id)?),
            account: AccountId(as_u64(self.account)?),
            ranges,
            reason: parse_enum(&self.reason)?,
            note: self.note,
            at: Timestamp(self.cancelled_at),
        })
    }
}

pub struct LogRowDb {
    pub idx: i64,
    pub timestamp_us: i64,
    pub actor: String,
    pub kind: String,
    pub entry: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

impl LogRowDb {
    pub fn into_domain(self) -> Result<LogRow, StoreError> {
        Ok(LogRow {
            index: as_u64(self.idx)?,
            timestamp: Timestamp(self.timestamp_us),
            actor: self.actor,
            kind: self.kind,
            leaf_hash: hash32(&self.leaf_hash)?,
            bytes: self.entry,
        })
    }
}

pub struct TokenRow {
    pub id: i64,
    pub hash: Vec<u8>,
    pub subject: String,
    pub role: String,
    pub accounts: String,
    pub created_at: i64,
}

impl TokenRow {
    pub fn into_domain(self) -> Result<TokenRecord, StoreError> {
        let accounts = self
            .accounts
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<u64>().map(AccountId).map_err(|e| corrupt("token accounts", e)))
            .collect::<Result<_, _>>()?;
        Ok(TokenRecord {
            id: as_u64(self.id)?,
            hash: hash32(&self.hash)?,
            subject: self.subject,
            role: parse_enum(&self.role)?,
            accounts,
            created_at: Timestamp(self.created_at),
        })
    }
}

pub struct CheckpointDbRow {
    pub tree_size: i64,
    pub root: Vec<u8>,
    pub note: String,
    pub created_at: i64,
}

impl CheckpointDbRow {
    pub fn into_domain(self) -> Result<CheckpointRow, StoreError> {
        Ok(CheckpointRow {
            tree_size: as_u64(self.tree_size)?,
            root: hash32(&self.root)?,
            note: self.note,
            created_at: Timestamp(self.created_at),
        })
    }
}

/// Parses one of the domain's named enums stored as text.
pub fn parse_enum<T: std::str::FromStr<Err = furrow_domain::ParseError>>(s: &str) -> Result<T, StoreError> {
    s.parse().map_err(|e: furrow_domain::ParseError| StoreError::Corrupt(e.to_string()))
}

/// A lifecycle log entry with its private payload, if it has one that was not erased.
pub struct LifecycleRow {
    pub entry: Vec<u8>,
    pub payload: Option<Vec<u8>>,
}

/// Rebuilds the lifecycle state from its log entries (in log order), personal data re-attached and
/// checked against the commitments in the entries.
pub fn replay_lifecycle(
    mut ledger: furrow_domain::Ledger,
    rows: Vec<LifecycleRow>,
) -> Result<furrow_domain::Ledger, StoreError> {
    for row in rows {
        let entry = furrow_domain::LogEntry::decode_with_private(&row.entry, row.payload.as_deref())
            .map_err(|e| corrupt("lifecycle log entry", e))?;
        ledger.replay_lifecycle(&entry);
    }
    Ok(ledger)
}

/// The rows a group adds to `lifecycle_entries` (log indexes) and `log_private` (index, payload).
pub fn lifecycle_rows(group: &crate::CommitGroup) -> (Vec<i64>, Vec<(i64, &[u8])>) {
    let lifecycle = group
        .entries
        .iter()
        .filter(|e| matches!(e.entry.event, furrow_domain::Event::Lifecycle(_)))
        .map(|e| as_i64(e.entry.index))
        .collect();
    let private =
        group.entries.iter().filter_map(|e| e.private.as_deref().map(|p| (as_i64(e.entry.index), p))).collect();
    (lifecycle, private)
}
