//! The sales routes (issue #7): pricing inputs, quotes and their preview, sales with escrow and
//! settlement, payouts, participants' statements (JSON and CSV), the public disclosure of a
//! retirement's price and farmer share, and the certificate (HTML and PDF, `certificate.rs`).
//! Reads come from the committed lifecycle snapshot; mutations go through `Registry::execute` as
//! `Command::Sales`. No rules live here.

pub mod certificate;
pub mod dto;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_app::Principal;
use furrow_domain::lifecycle::{Lifecycle, LifecycleEvent};
use furrow_domain::sales::*;
use furrow_domain::*;

use self::dto::*;
use crate::AppState;
use crate::dto::{BeneficiaryDto, ClaimPeriodDto};
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, Path, ReadAuth};
use crate::handlers::{created, parse};
use crate::lifecycle::dto::EntryRefDto;

fn decimal(what: &str, s: &str) -> Result<Decimal, ApiError> {
    let ok = !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let parsed = if ok { s.parse::<Decimal>().ok() } else { None };
    parsed.ok_or_else(|| ApiError::invalid(format!("{what} must be a decimal string such as \"12.5\", not {s:?}")))
}

fn forbidden(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
}

fn is_staff(p: &Principal) -> bool {
    matches!(p.role, Role::Admin | Role::Operator)
}

fn fact(r: &PricingFactRequest) -> Result<PricingFact, ApiError> {
    Ok(PricingFact {
        key: PricingKey { kind: parse(&r.kind)?, subject: r.subject.clone() },
        value: decimal("value", &r.value)?,
        weight: r.weight.as_deref().map(|w| decimal("weight", w)).transpose()?.unwrap_or_default(),
        currency: r.currency.as_deref().map(parse).transpose()?,
        source: r.source.clone(),
        as_of: parse(&r.as_of)?,
    })
}

/// The certificate's permanent public URL, relative to the server.
pub fn certificate_url(certificate: &str) -> String {
    format!("/api/v1/certificates/{certificate}")
}

async fn run(
    state: &AppState,
    principal: &Principal,
    key: Option<furrow_app::RequestKey>,
    command: SalesCommand,
) -> Result<Response, ApiError> {
    let command = Command::Sales { by: principal.subject.clone(), command };
    let committed = state.registry.execute(principal, command, key).await?;
    let mut dto = SaleActionDto {
        entries: committed
            .entries
            .iter()
            .map(|e| EntryRefDto { index: e.index, kind: e.event.kind().into() })
            .collect(),
        id: String::new(),
        status: None,
        retirement: None,
        certificate: None,
        certificate_url: None,
    };
    for entry in &committed.entries {
        use LifecycleEvent as E;
        let Event::Lifecycle(event) = &entry.event else { continue };
        let (id, status) = match event {
            E::PricingRecorded { fact, version, .. } => {
                (format!("{}:{}", fact.key.kind, fact.key.subject), Some(format!("version {version}")))
            }
            E::QuoteCreated { id, .. } => (id.to_string(), Some("open".into())),
            E::SaleOpened { id, .. } => (id.to_string(), Some("escrowed".into())),
            E::SaleSettled { id, settlement, .. } => {
                dto.retirement = Some(settlement.retirement.to_string());
                dto.certificate = Some(settlement.certificate.clone());
                dto.certificate_url = Some(certificate_url(&settlement.certificate));
                (id.to_string(), Some("settled".into()))
            }
            E::SaleReleased { id, expired, .. } => {
                (id.to_string(), Some(if *expired { "expired" } else { "cancelled" }.into()))
            }
            E::PayoutPaid { sale, participant, .. } => (format!("{sale}/{participant}"), Some("paid".into())),
            E::SaleNoted { sale, .. } | E::SaleClaimStated { sale, .. } => (sale.to_string(), None),
            _ => continue,
        };
        dto.id = id;
        dto.status = status;
    }
    Ok(created(&committed, dto))
}

// ------------------------------------------------------------------ pricing

/// Every recorded version of every pricing input, oldest first per input. Public: a quote's
/// breakdown names these versions.
#[utoipa::path(get, path = "/pricing-inputs", tag = "sales", responses((status = 200, body = PricingInputsDto)))]
pub async fn list_pricing(State(state): State<AppState>) -> Json<PricingInputsDto> {
    let lc = state.registry.lifecycle();
    let mut inputs = Vec::new();
    for versions in lc.sales.pricing.values() {
        for v in versions {
            inputs.push(PricingVersionDto {
                kind: v.fact.key.kind.to_string(),
                subject: v.fact.key.subject.clone(),
                value: v.fact.value.to_string(),
                weight: v.fact.weight.to_string(),
                currency: v.fact.currency.map(|c| c.to_string()),
                source: v.fact.source.clone(),
                as_of: v.fact.as_of.to_string(),
                version: v.version,
                current: v.version as usize == versions.len(),
                recorded_by: v.by.clone(),
                recorded_at: furrow_app::rfc3339(v.at),
            });
        }
    }
    Json(PricingInputsDto { inputs })
}

/// Records a new version of one pricing input (operator).
#[utoipa::path(post, path = "/pricing-inputs", tag = "sales", request_body = PricingFactRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn record_pricing(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<PricingFactRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::RecordPricing { fact: fact(&body.value)? };
    run(&state, &principal, key, command).await
}

/// The quote the recorded inputs give for a batch, optionally with one input changed: the same
/// function as a real quote, nothing saved (operator or buyer).
#[utoipa::path(post, path = "/quotes/preview", tag = "sales", request_body = PreviewRequest, security(("bearer" = [])),
    responses((status = 200, body = PreviewDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn preview_quote(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
    body: JsonBody<PreviewRequest>,
) -> Result<Json<PreviewDto>, ApiError> {
    if !matches!(principal.role, Role::Operator | Role::Buyer) {
        return Err(forbidden(format!("a {} token cannot preview quotes", principal.role)));
    }
    let r = &body.value;
    let batch_id: BatchId = parse(&r.batch)?;
    let change = r.change.as_ref().map(fact).transpose()?;
    if change.is_some() && principal.role != Role::Operator {
        return Err(forbidden("only an operator previews a change of pricing inputs"));
    }
    let (batch, _) = state
        .registry
        .store()
        .batch(batch_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("batch {batch_id}")))?;
    let lc = state.registry.lifecycle();
    let breakdown = preview(&lc, &batch, Quantity(r.quantity), parse(&r.currency)?, change)?;
    Ok(Json(PreviewDto { batch: batch_id.to_string(), breakdown: (&breakdown).into() }))
}

// ------------------------------------------------------------------ quotes

fn quote_dto(q: &Quote) -> QuoteDto {
    QuoteDto {
        id: q.id.to_string(),
        buyer: q.buyer.to_string(),
        batch: q.batch.to_string(),
        quantity: q.quantity.0,
        currency: q.currency.to_string(),
        breakdown: (&q.breakdown).into(),
        created_at: furrow_app::rfc3339(q.created_at),
        expires_at: furrow_app::rfc3339(q.expires_at),
        status: q.status.to_string(),
        sale: q.sale.map(|s| s.to_string()),
    }
}

/// Creates a quote for a buyer: the itemized breakdown from the current pricing inputs, valid
/// until `expires_at` (operator, or the buyer for its own account). Nothing is reserved yet.
#[utoipa::path(post, path = "/quotes", tag = "sales", request_body = QuoteRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = QuoteDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_quote(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<QuoteRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let target = match (&r.batch, &r.filter) {
        (Some(batch), None) => QuoteTarget::Batch(parse(batch)?),
        (None, Some(f)) => QuoteTarget::Filter(SaleFilter {
            methodology: f.methodology.clone(),
            vintage_from: f.vintage_from.map(Vintage::new).transpose()?,
            vintage_to: f.vintage_to.map(Vintage::new).transpose()?,
            label: f.label.clone(),
            min_ecological_score: f
                .min_ecological_score
                .as_deref()
                .map(|s| decimal("min_ecological_score", s))
                .transpose()?,
        }),
        _ => return Err(ApiError::invalid("give exactly one of `batch` and `filter`")),
    };
    let command = SalesCommand::CreateQuote {
        buyer: parse(&r.buyer)?,
        target,
        quantity: Quantity(r.quantity),
        currency: parse(&r.currency)?,
        valid_for_secs: r.valid_for_secs.unwrap_or(24 * 3600),
    };
    let by = principal.subject.clone();
    let committed = state.registry.execute(&principal, Command::Sales { by: by.clone(), command }, key).await?;
    let entry = committed.entries.first().ok_or_else(|| ApiError::invalid("nothing was recorded"))?;
    let Event::Lifecycle(LifecycleEvent::QuoteCreated {
        id,
        buyer,
        batch,
        quantity,
        currency,
        breakdown,
        expires_at,
        ..
    }) = &entry.event
    else {
        return Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "unexpected entry"));
    };
    let quote = Quote {
        id: *id,
        buyer: *buyer,
        batch: *batch,
        quantity: *quantity,
        currency: *currency,
        breakdown: breakdown.clone(),
        created_by: by,
        created_at: entry.timestamp,
        expires_at: *expires_at,
        status: QuoteStatus::Open,
        sale: None,
    };
    Ok(created(&committed, quote_dto(&quote)))
}

pub(crate) fn may_see(principal: &Principal, buyer: AccountId) -> bool {
    is_staff(principal) || (principal.role == Role::Buyer && principal.accounts.contains(&buyer))
}

/// One quote with its breakdown (operator, or the buyer it is for).
#[utoipa::path(get, path = "/quotes/{id}", tag = "sales", params(("id" = String, Path, description = "e.g. Q000001")),
    security(("bearer" = [])), responses((status = 200, body = QuoteDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_quote(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
    Path(id): Path<String>,
) -> Result<Json<QuoteDto>, ApiError> {
    let id: QuoteId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let q = lc.sales.quotes.get(&id).ok_or_else(|| ApiError::not_found(format!("quote {id}")))?;
    if !may_see(&principal, q.buyer) {
        return Err(forbidden(format!("quote {id} is not this token's")));
    }
    Ok(Json(quote_dto(q)))
}

/// Accepts a quote: its credits are escrowed (reserved) and a sale opens, until the quote expires.
/// When another buyer took the credits first, 409 `insufficient-credits`.
#[utoipa::path(post, path = "/quotes/{id}/accept", tag = "sales", request_body = EmptyRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn accept_quote(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<EmptyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    run(&state, &principal, key, SalesCommand::AcceptQuote { quote: parse(&id)? }).await
}

// ------------------------------------------------------------------ sales

async fn sale_dto(state: &AppState, lc: &Lifecycle, s: &Sale) -> Result<SaleDto, ApiError> {
    let printer = state.printer(s.ranges.iter().map(|r| r.end()).max().unwrap_or(0)).await?;
    let quote = lc.sales.quotes.get(&s.quote);
    let unit_price = quote.map_or(Money::zero(Currency::Jpy), |q| q.breakdown.unit_price);
    let settlement = match (&s.settlement, s.settled_at) {
        (Some(x), Some(at)) => Some(SettlementDto {
            retirement: x.retirement.to_string(),
            certificate: x.certificate.clone(),
            certificate_url: certificate_url(&x.certificate),
            confidential: x.confidential,
            payment_reference: x.payment_reference.clone(),
            settled_at: furrow_app::rfc3339(at),
            gross: x.gross.into(),
            commission: x.commission.into(),
            payouts: x
                .payouts
                .iter()
                .map(|p| {
                    let paid = s.paid.get(&p.participant);
                    PayoutDto {
                        participant: p.participant.to_string(),
                        contribution: p.contribution.to_string(),
                        amount: p.amount.into(),
                        status: if paid.is_some() { "paid" } else { "owed" }.into(),
                        reference: paid.map(|x| x.reference.clone()),
                        paid_at: paid.map(|x| furrow_app::rfc3339(x.at)),
                    }
                })
                .collect(),
            forfeitures: x
                .forfeitures
                .iter()
                .map(|f| ForfeitureDto {
                    participant: f.participant.to_string(),
                    contribution: f.contribution.to_string(),
                    amount: f.amount.into(),
                    withdrawn: f.withdrawn.to_string(),
                })
                .collect(),
            forfeited: Money { currency: x.gross.currency, minor: x.forfeited() }.into(),
        }),
        _ => None,
    };
    Ok(SaleDto {
        id: s.id.to_string(),
        quote: s.quote.to_string(),
        buyer: s.buyer.to_string(),
        batch: s.batch.to_string(),
        quantity: s.quantity.0,
        status: s.status.to_string(),
        ranges: s.ranges.iter().map(|r| printer.range_any(*r)).collect(),
        opened_at: furrow_app::rfc3339(s.opened_at),
        expires_at: furrow_app::rfc3339(s.expires_at),
        unit_price: unit_price.into(),
        settlement,
        released_reason: s.released_reason.clone(),
        notes: notes(s),
        claim: s.claim.as_ref().map(claim_dto),
    })
}

fn claim_dto(c: &RetirementClaim) -> ClaimDto {
    ClaimDto {
        beneficiary: BeneficiaryDto {
            name: c.beneficiary.name.clone(),
            country: c.beneficiary.country.map(|x| x.to_string()),
            identifier: c.beneficiary.identifier.clone(),
        },
        purpose: c.purpose.to_string(),
        claim_period: ClaimPeriodDto { from: c.claim_period.from.to_string(), to: c.claim_period.to.to_string() },
        jurisdiction: c.jurisdiction.as_str().to_owned(),
        note: c.note.clone(),
    }
}

fn claim_of(r: &ClaimDto) -> Result<RetirementClaim, ApiError> {
    Ok(RetirementClaim {
        beneficiary: Beneficiary {
            name: r.beneficiary.name.clone(),
            country: r.beneficiary.country.as_deref().map(parse).transpose()?,
            identifier: r.beneficiary.identifier.clone(),
        },
        purpose: parse::<RetirementPurpose>(&r.purpose)?,
        claim_period: ClaimPeriod { from: parse(&r.claim_period.from)?, to: parse(&r.claim_period.to)? },
        jurisdiction: parse(&r.jurisdiction)?,
        note: r.note.clone(),
    })
}

fn notes(s: &Sale) -> Vec<SaleNoteDto> {
    s.notes
        .iter()
        .map(|n| SaleNoteDto { note: n.note.clone(), by: n.by.clone(), at: furrow_app::rfc3339(n.at) })
        .collect()
}

/// Sales, newest last: all of them for the operator, its own for a buyer.
#[utoipa::path(get, path = "/sales", tag = "sales", security(("bearer" = [])),
    responses((status = 200, body = SalesDto), (status = 403, body = Problem)))]
pub async fn list_sales(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
) -> Result<Json<SalesDto>, ApiError> {
    if !is_staff(&principal) && principal.role != Role::Buyer {
        return Err(forbidden(format!("a {} token cannot list sales", principal.role)));
    }
    let lc = state.registry.lifecycle();
    let mut items = Vec::new();
    for s in lc.sales.sales.values().filter(|s| may_see(&principal, s.buyer)) {
        items.push(sale_dto(&state, &lc, s).await?);
    }
    Ok(Json(SalesDto { items }))
}

/// One sale with its escrowed or retired serials, settlement, payouts and forfeitures.
#[utoipa::path(get, path = "/sales/{id}", tag = "sales", params(("id" = String, Path, description = "e.g. S000001")),
    security(("bearer" = [])), responses((status = 200, body = SaleDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_sale(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
    Path(id): Path<String>,
) -> Result<Json<SaleDto>, ApiError> {
    let id: SaleId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let s = lc.sales.sales.get(&id).ok_or_else(|| ApiError::not_found(format!("sale {id}")))?;
    if !may_see(&principal, s.buyer) {
        return Err(forbidden(format!("sale {id} is not this token's")));
    }
    Ok(Json(sale_dto(&state, &lc, s).await?))
}

/// Settles a sale (operator, once payment is recorded): in one transaction the escrowed credits
/// are retired for the claim, and the sale, its certificate and its payouts are recorded.
#[utoipa::path(post, path = "/sales/{id}/settle", tag = "sales", request_body = SettleRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn settle_sale(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<SettleRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let claim = RetirementClaim {
        beneficiary: Beneficiary {
            name: r.beneficiary.name.clone(),
            country: r.beneficiary.country.as_deref().map(parse).transpose()?,
            identifier: r.beneficiary.identifier.clone(),
        },
        purpose: parse::<RetirementPurpose>(&r.purpose)?,
        claim_period: ClaimPeriod { from: parse(&r.claim_period.from)?, to: parse(&r.claim_period.to)? },
        jurisdiction: parse(&r.jurisdiction)?,
        note: r.note.clone(),
    };
    let command = SalesCommand::Settle {
        sale: parse(&id)?,
        claim,
        payment_reference: r.payment_reference.clone(),
        confidential: r.confidential,
    };
    run(&state, &principal, key, command).await
}

/// States the claim of an unsettled sale: the beneficiary and purpose its credits are retired for
/// (the buyer, or the operator). Settlement must then retire them with exactly this claim; the
/// buyer may state it again until then.
#[utoipa::path(post, path = "/sales/{id}/claim", tag = "sales", request_body = ClaimDto,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn state_claim(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ClaimDto>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::StateClaim { sale: parse(&id)?, claim: claim_of(&body.value)? };
    run(&state, &principal, key, command).await
}

/// Cancels an unsettled sale and releases its escrow (operator, or the buyer).
#[utoipa::path(post, path = "/sales/{id}/cancel", tag = "sales", request_body = ReasonRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn cancel_sale(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::CancelSale { sale: parse(&id)?, reason: body.value.reason.clone() };
    run(&state, &principal, key, command).await
}

/// Releases the escrow of a sale whose quote has expired (operator).
#[utoipa::path(post, path = "/sales/{id}/expire", tag = "sales", request_body = EmptyRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn expire_sale(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<EmptyRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    run(&state, &principal, key, SalesCommand::ExpireSale { sale: parse(&id)? }).await
}

/// Always refused (409 `no-refund`): retired credits are non-refundable, to prevent double
/// counting. The route exists so that the refusal and its reason are explicit.
#[utoipa::path(post, path = "/sales/{id}/refund", tag = "sales", request_body = ReasonRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 409, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn refund_sale(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<ReasonRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::Refund { sale: parse(&id)?, reason: body.value.reason.clone() };
    run(&state, &principal, key, command).await
}

/// Records a compensating note on a sale, the only correction after settlement (operator).
#[utoipa::path(post, path = "/sales/{id}/notes", tag = "sales", request_body = NoteRequest,
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn note_sale(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(id): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<NoteRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::RecordNote { sale: parse(&id)?, note: body.value.note.clone() };
    run(&state, &principal, key, command).await
}

/// Marks one participant's payout of a sale paid, with the payment's reference (operator).
#[utoipa::path(post, path = "/sales/{id}/payouts/{participant}/paid", tag = "sales", request_body = PaidRequest,
    params(("id" = String, Path), ("participant" = String, Path, description = "e.g. F000001"), ("Idempotency-Key" = Option<String>, Header)),
    security(("bearer" = [])),
    responses((status = 201, body = SaleActionDto), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn pay_payout(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path((id, participant)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<PaidRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let command = SalesCommand::PayPayout {
        sale: parse(&id)?,
        participant: parse(&participant)?,
        reference: body.value.reference.clone(),
    };
    run(&state, &principal, key, command).await
}

// ------------------------------------------------------------------ statements

fn statement(lc: &Lifecycle, participant: ParticipantId) -> StatementDto {
    let mut lines = Vec::new();
    let mut totals: BTreeMap<(String, Currency), u64> = BTreeMap::new();
    for s in lc.sales.sales.values() {
        let (Some(x), Some(at)) = (&s.settlement, s.settled_at) else { continue };
        let mut line = |contribution: Decimal, amount: Money, status: &str, reference: Option<String>| {
            *totals.entry((status.to_owned(), amount.currency)).or_default() += amount.minor;
            lines.push(StatementLineDto {
                sale: s.id.to_string(),
                batch: s.batch.to_string(),
                settled_at: furrow_app::rfc3339(at),
                credits_sold: s.quantity.0,
                contribution: contribution.to_string(),
                amount: amount.into(),
                status: status.into(),
                reference,
            });
        };
        for p in x.payouts.iter().filter(|p| p.participant == participant) {
            let paid = s.paid.get(&participant);
            let status = if paid.is_some() { "paid" } else { "owed" };
            line(p.contribution, p.amount, status, paid.map(|x| x.reference.clone()));
        }
        for f in x.forfeitures.iter().filter(|f| f.participant == participant) {
            line(f.contribution, f.amount, "forfeited", None);
        }
    }
    let totals = totals
        .into_iter()
        .map(|((status, currency), minor)| StatementTotalDto { status, amount: Money { currency, minor }.into() })
        .collect();
    StatementDto { participant: participant.to_string(), lines, totals }
}

pub(crate) fn statement_for(state: &AppState, principal: &Principal, id: &str) -> Result<StatementDto, ApiError> {
    let id: ParticipantId = parse(id)?;
    let lc = state.registry.lifecycle();
    if !lc.participants.contains_key(&id) {
        return Err(ApiError::not_found(format!("participant {id}")));
    }
    if !is_staff(principal) && !furrow_app::owns_participant(principal, &lc, id) {
        return Err(forbidden(format!("the statement of {id} is for the operator and {id} only")));
    }
    Ok(statement(&lc, id))
}

/// A participant's payout statement: every sale that paid (or owes, or forfeited) them a share
/// (operator, or the participant itself).
#[utoipa::path(get, path = "/participants/{id}/statement", tag = "sales", params(("id" = String, Path, description = "e.g. F000001")),
    security(("bearer" = [])), responses((status = 200, body = StatementDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_statement(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
    Path(id): Path<String>,
) -> Result<Json<StatementDto>, ApiError> {
    statement_for(&state, &principal, &id).map(Json)
}

/// A statement as CSV (one line per sale and status, amounts in major units): the API's and the
/// participant's page's download.
pub(crate) fn statement_csv(s: &StatementDto) -> String {
    let mut csv = String::from(
        "participant,sale,batch,settled_at,credits_sold,contribution_tco2e,currency,amount,status,reference\n",
    );
    for l in &s.lines {
        // Every field is an id, a number, a timestamp or a status, except the reference, which is
        // quoted with its quotes doubled (RFC 4180).
        let reference = l.reference.as_deref().unwrap_or("").replace('"', "\"\"");
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},\"{}\"\n",
            s.participant,
            l.sale,
            l.batch,
            l.settled_at,
            l.credits_sold,
            l.contribution,
            l.amount.currency,
            l.amount.amount,
            l.status,
            reference
        ));
    }
    csv
}

/// The same statement as CSV (one line per sale and status, amounts in major units).
#[utoipa::path(get, path = "/participants/{id}/statement.csv", tag = "sales", params(("id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = String, content_type = "text/csv"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_statement_csv(
    State(state): State<AppState>,
    ReadAuth(principal): ReadAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = statement_for(&state, &principal, &id)?;
    let csv = statement_csv(&s);
    let mut response = csv.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(response)
}

// ------------------------------------------------------------------ disclosure

/// Aggregates of the settled sales of a batch, per currency.
pub fn batch_aggregates(lc: &Lifecycle, batch: BatchId) -> Vec<BatchAggregateDto> {
    let mut by_currency: BTreeMap<Currency, (u64, u64, u64, u64)> = BTreeMap::new();
    for s in lc.sales.sales.values().filter(|s| s.batch == batch) {
        let Some(x) = &s.settlement else { continue };
        let e = by_currency.entry(x.gross.currency).or_default();
        e.0 += 1;
        e.1 += s.quantity.0;
        e.2 += x.gross.minor;
        e.3 += x.paid_out();
    }
    by_currency
        .into_iter()
        .map(|(currency, (sales, credits, gross, paid))| {
            let gross_major = Money { currency, minor: gross }.major();
            BatchAggregateDto {
                batch: batch.to_string(),
                currency: currency.to_string(),
                sales,
                credits_sold: credits,
                average_price_per_credit: (gross_major / Decimal::from(credits.max(1))).round_dp(4).to_string(),
                farmer_share_pct: share_pct(paid, gross),
            }
        })
        .collect()
}

fn share_pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.00".into();
    }
    format!("{:.2}", (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(2))
}

/// The disclosure of a retirement: the price per credit and the share that reached farmers, or
/// only the batch's aggregates when the sale is confidential. Public.
pub fn disclosure(lc: &Lifecycle, retirement: &Retirement, batch: Option<BatchId>) -> DisclosureDto {
    let sale = lc.sales.sale_for_retirement(retirement.id);
    let batch = sale.map(|s| s.batch).or(batch);
    let mut dto = DisclosureDto {
        retirement: retirement.id.to_string(),
        sale: sale.map(|s| s.id.to_string()),
        certificate: None,
        confidential: false,
        price_per_credit: None,
        farmer_share_per_credit: None,
        farmer_share_pct: None,
        commission_pct: None,
        forfeited: None,
        batch_aggregates: batch.map(|b| batch_aggregates(lc, b)).unwrap_or_default(),
        notes: sale.map(notes).unwrap_or_default(),
    };
    if let Some(s) = sale
        && let Some(x) = &s.settlement
    {
        dto.certificate = Some(x.certificate.clone());
        dto.confidential = x.confidential;
        if !x.confidential {
            let currency = x.gross.currency;
            let quote = lc.sales.quotes.get(&s.quote);
            dto.price_per_credit = quote.map(|q| q.breakdown.unit_price.into());
            dto.commission_pct = quote.map(|q| q.breakdown.commission_pct.to_string());
            dto.farmer_share_per_credit = Some(Money { currency, minor: x.paid_out() / s.quantity.0.max(1) }.into());
            dto.farmer_share_pct = Some(share_pct(x.paid_out(), x.gross.minor));
            dto.forfeited = Some(Money { currency, minor: x.forfeited() }.into());
        }
    }
    dto
}

/// What the public may know of a retirement's sale (SPEC §5 disclosure).
#[utoipa::path(get, path = "/retirements/{id}/disclosure", tag = "sales", params(("id" = String, Path, description = "e.g. R000001")),
    responses((status = 200, body = DisclosureDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_disclosure(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DisclosureDto>, ApiError> {
    let id: RetirementId = parse(&id)?;
    let retirement =
        state.registry.store().retirement(id).await?.ok_or_else(|| ApiError::not_found(format!("retirement {id}")))?;
    let lc = state.registry.lifecycle();
    Ok(Json(disclosure(&lc, &retirement, None)))
}
