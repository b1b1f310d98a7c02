//! Wire shapes of the sales routes. Decimals travel as strings (never JSON numbers, which clients
//! read as binary floating point); money as integer minor units plus the exact major amount.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use furrow_domain::sales::{Breakdown, Money};

use crate::dto::{BeneficiaryDto, ClaimPeriodDto, RangeDto};
use crate::lifecycle::dto::EntryRefDto;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingFactRequest {
    /// `base_price`, `complexity`, `premium_local`, `premium_ecosystem`, `premium_technology`,
    /// `market_reference`, `protocol_adjustment`, `regulation_adjustment`, `fx_rate` or `commission`.
    pub kind: String,
    /// A methodology code (base price, market reference), a project (complexity, premiums), a batch
    /// label (protocol adjustment), a country (regulation adjustment), a pair like `JPY/USD` (FX:
    /// units of the second per unit of the first); empty for the commission.
    #[serde(default)]
    pub subject: String,
    /// A decimal string: a price in major units, a fraction (`0.15` = +15 %), a rate, or the
    /// commission in percent.
    pub value: String,
    /// The blending weight of a market reference, 0-1.
    pub weight: Option<String>,
    /// `JPY`, `USD` or `EUR`, for a base price or market reference.
    pub currency: Option<String>,
    pub source: String,
    /// The date the value refers to, `YYYY-MM-DD`.
    pub as_of: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricingVersionDto {
    pub kind: String,
    pub subject: String,
    pub value: String,
    pub weight: String,
    pub currency: Option<String>,
    pub source: String,
    pub as_of: String,
    pub version: u32,
    /// Whether this is the version new quotes use.
    pub current: bool,
    pub recorded_by: String,
    pub recorded_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricingInputsDto {
    pub inputs: Vec<PricingVersionDto>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SaleFilterDto {
    /// A methodology code, e.g. `AG-005`.
    pub methodology: Option<String>,
    pub vintage_from: Option<u16>,
    pub vintage_to: Option<u16>,
    pub label: Option<String>,
    /// A decimal string; batches without an ecological score never match.
    pub min_ecological_score: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// The buyer account, e.g. `A000006`.
    pub buyer: String,
    /// Either a batch …
    pub batch: Option<String>,
    /// … or a filter (the oldest matching batch with enough credits is quoted).
    pub filter: Option<SaleFilterDto>,
    pub quantity: u64,
    /// `JPY`, `USD` or `EUR`.
    pub currency: String,
    /// 60 to 2 592 000 seconds; default one day.
    pub valid_for_secs: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub batch: String,
    pub quantity: u64,
    pub currency: String,
    /// A pricing input as it would be recorded; the preview shows its effect without saving it.
    pub change: Option<PricingFactRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyDto {
    pub currency: String,
    /// Integer minor units (yen, cents).
    pub minor: u64,
    /// The exact amount in major units, as a decimal string.
    pub amount: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        Self { currency: m.currency.to_string(), minor: m.minor, amount: m.major().to_string() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownLineDto {
    /// `kind:subject` of the input used.
    pub input: String,
    pub version: u32,
    pub source: String,
    /// `start`, `multiply_one_plus`, `blend` (running × (1 − weight) + value × weight) or `multiply`.
    pub step: String,
    pub value: String,
    pub weight: String,
    /// The unit price after this line.
    pub running: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakdownDto {
    pub lines: Vec<BreakdownLineDto>,
    pub quantity: u64,
    /// The last line's running value rounded half-to-even to the currency's minor unit.
    pub unit_price: MoneyDto,
    /// unit price × quantity.
    pub gross: MoneyDto,
    pub commission_pct: String,
    pub commission_version: u32,
    /// floor(gross × commission % / 100).
    pub commission: MoneyDto,
    /// gross − commission: what the farmers' payouts split.
    pub net: MoneyDto,
}

impl From<&Breakdown> for BreakdownDto {
    fn from(b: &Breakdown) -> Self {
        Self {
            lines: b
                .lines
                .iter()
                .map(|l| BreakdownLineDto {
                    input: l.input.clone(),
                    version: l.version,
                    source: l.source.clone(),
                    step: l.step.to_string(),
                    value: l.value.to_string(),
                    weight: l.weight.to_string(),
                    running: l.running.to_string(),
                })
                .collect(),
            quantity: b.quantity.0,
            unit_price: b.unit_price.into(),
            gross: b.gross.into(),
            commission_pct: b.commission_pct.to_string(),
            commission_version: b.commission_version,
            commission: b.commission.into(),
            net: b.net.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewDto {
    pub batch: String,
    pub breakdown: BreakdownDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteDto {
    pub id: String,
    pub buyer: String,
    pub batch: String,
    pub quantity: u64,
    pub currency: String,
    pub breakdown: BreakdownDto,
    pub created_at: String,
    pub expires_at: String,
    /// `open` or `accepted`.
    pub status: String,
    pub sale: Option<String>,
}

/// The retirement claim of a sale: whom its credits are retired for and why. The buyer states it
/// before settlement (`POST /sales/{id}/claim`), and settlement must then use exactly this claim.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimDto {
    pub beneficiary: BeneficiaryDto,
    /// `voluntary_offset`, `scope1`, `scope2`, `scope3`, `corsia` or `other`.
    pub purpose: String,
    pub claim_period: ClaimPeriodDto,
    /// ISO 3166-1 alpha-2 or ISO 3166-2, e.g. `JP-13`.
    pub jurisdiction: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleRequest {
    pub beneficiary: BeneficiaryDto,
    /// `voluntary_offset`, `scope1`, `scope2`, `scope3`, `corsia` or `other`.
    pub purpose: String,
    pub claim_period: ClaimPeriodDto,
    /// ISO 3166-1 alpha-2 or ISO 3166-2, e.g. `JP-13`.
    pub jurisdiction: String,
    #[serde(default)]
    pub note: String,
    /// The payment the operator received (bank transfer id, invoice number).
    pub payment_reference: String,
    /// Confidential sales disclose only batch aggregates.
    #[serde(default)]
    pub confidential: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidRequest {
    /// The payment's reference (bank transfer id).
    pub reference: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// What a sales mutation did, from its log entries alone (so a replay answers the same body).
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleActionDto {
    pub entries: Vec<EntryRefDto>,
    /// The sale, quote or pricing input the command was about.
    pub id: String,
    pub status: Option<String>,
    pub retirement: Option<String>,
    pub certificate: Option<String>,
    /// The certificate's permanent public URL (HTML; `/pdf` for the PDF).
    pub certificate_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutDto {
    pub participant: String,
    /// Verified contribution to the batch, tCO2e.
    pub contribution: String,
    pub amount: MoneyDto,
    /// `owed` or `paid`.
    pub status: String,
    pub reference: Option<String>,
    pub paid_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ForfeitureDto {
    pub participant: String,
    pub contribution: String,
    pub amount: MoneyDto,
    /// The withdrawal's effective date.
    pub withdrawn: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementDto {
    pub retirement: String,
    pub certificate: String,
    pub certificate_url: String,
    pub confidential: bool,
    pub payment_reference: String,
    pub settled_at: String,
    pub gross: MoneyDto,
    pub commission: MoneyDto,
    pub payouts: Vec<PayoutDto>,
    pub forfeitures: Vec<ForfeitureDto>,
    pub forfeited: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SaleNoteDto {
    pub note: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SaleDto {
    pub id: String,
    pub quote: String,
    pub buyer: String,
    pub batch: String,
    pub quantity: u64,
    /// `escrowed`, `settled`, `cancelled` or `expired`.
    pub status: String,
    pub ranges: Vec<RangeDto>,
    pub opened_at: String,
    pub expires_at: String,
    pub unit_price: MoneyDto,
    pub settlement: Option<SettlementDto>,
    pub released_reason: Option<String>,
    pub notes: Vec<SaleNoteDto>,
    /// The claim the buyer stated for settlement, if it stated one.
    pub claim: Option<ClaimDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesDto {
    pub items: Vec<SaleDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLineDto {
    pub sale: String,
    pub batch: String,
    pub settled_at: String,
    pub credits_sold: u64,
    pub contribution: String,
    pub amount: MoneyDto,
    /// `owed`, `paid` or `forfeited`.
    pub status: String,
    pub reference: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementDto {
    pub participant: String,
    pub lines: Vec<StatementLineDto>,
    /// Totals per currency and status.
    pub totals: Vec<StatementTotalDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementTotalDto {
    pub status: String,
    pub amount: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAggregateDto {
    pub batch: String,
    pub currency: String,
    pub sales: u64,
    pub credits_sold: u64,
    /// Σ gross / Σ credits, exact decimal in major units.
    pub average_price_per_credit: String,
    /// Σ payouts / Σ gross, as a percentage with two decimals.
    pub farmer_share_pct: String,
}

/// What the public sees of a retirement's sale (SPEC §5 disclosure).
#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureDto {
    pub retirement: String,
    /// The sale that retired the credits; absent for a direct retirement.
    pub sale: Option<String>,
    pub certificate: Option<String>,
    pub confidential: bool,
    /// Price per credit, unless the sale is confidential.
    pub price_per_credit: Option<MoneyDto>,
    /// The part of the price per credit paid out to farmers (rounded down to the minor unit).
    pub farmer_share_per_credit: Option<MoneyDto>,
    pub farmer_share_pct: Option<String>,
    pub commission_pct: Option<String>,
    /// Disclosed forfeiture (withdrawn participants' shares), unless confidential.
    pub forfeited: Option<MoneyDto>,
    /// Always shown: the aggregates of all settled sales of the batch, per currency.
    pub batch_aggregates: Vec<BatchAggregateDto>,
    pub notes: Vec<SaleNoteDto>,
}
