//! A buyer's signed-in pages (issue #9): `/buy` (choose a batch and quantity, see the price with
//! its breakdown and the program's fee, ask for a quote), `/me/quotes/{id}` (the quote until it
//! expires; accept it), `/me/sales/{id}` (the sale: awaiting payment while its credits are in
//! escrow, the buyer's claim — beneficiary and purpose — and, once the operator has recorded the
//! payment and settled, the retirement and its certificate), and `/me/purchases`.
//!
//! The sales flow is the API's: `CreateQuote`, `AcceptQuote` and `StateClaim` run through
//! `Registry::execute` as the session's principal; settlement stays the operator's (it records
//! the payment), and the page says so instead of pretending the purchase is complete.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use furrow_app::accounts::Session;
use furrow_app::store::{BlockFilter, Page};
use furrow_domain::ledger::ISSUANCE_ACCOUNT;
use furrow_domain::lifecycle::{Lifecycle, LifecycleEvent};
use furrow_domain::sales::{
    Breakdown, Currency, PricedBatch, Quote, QuoteStatus, QuoteTarget, Sale, SaleFilter, SaleStatus, SalesCommand,
};
use furrow_domain::{
    Batch, BatchId, Beneficiary, BlockState, ClaimPeriod, Command, Event, Quantity, QuoteId, RetirementClaim,
    RetirementPurpose, SaleId, Vintage,
};
use serde::Deserialize;

use super::acting::{answer, check_form, done, malformed, page, session};
use super::i18n::Lang;
use super::{Chrome, Reader};
use crate::AppState;
use crate::error::ApiError;
use crate::handlers::parse;
use crate::sales::{certificate_url, may_see};

const CURRENCIES: [&str; 3] = ["JPY", "USD", "EUR"];
const PURPOSES: [&str; 6] = ["voluntary_offset", "scope1", "scope2", "scope3", "corsia", "other"];

pub struct BatchOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

pub struct LineView {
    pub input: String,
    pub source: String,
    pub version: u32,
    pub value: String,
    pub running: String,
}

/// A breakdown in the reader's language: the price, the program's fee and what reaches farmers.
pub struct PriceView {
    pub quantity: String,
    pub unit: String,
    pub gross: String,
    pub commission_pct: String,
    pub commission: String,
    pub net: String,
    pub lines: Vec<LineView>,
}

#[derive(Template)]
#[template(path = "buy.html")]
pub struct BuyPage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    pub accounts: Vec<String>,
    pub batches: Vec<BatchOption>,
    pub quantity: String,
    pub currencies: Vec<(&'static str, bool)>,
    pub preview: Option<PriceView>,
    pub batch: String,
    pub currency: String,
    /// The criteria form: what a quote by filter asks for, and the choices the batches for sale
    /// offer (an empty value is "any").
    pub by_filter: bool,
    pub criteria: Criteria,
    pub methodologies: Vec<(String, bool)>,
    pub labels: Vec<(String, bool)>,
    /// With criteria: the batches for sale that match, and the one the quote would take.
    pub matching: Vec<String>,
    pub takes: String,
}

/// What a buyer asks of the credits instead of naming a batch (the domain's `SaleFilter`), as
/// the form sends it: every field may be empty.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Criteria {
    pub methodology: String,
    pub label: String,
    pub vintage_from: String,
    pub vintage_to: String,
    pub min_score: String,
}

impl Criteria {
    fn filter(&self) -> Result<SaleFilter, ApiError> {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let vintage = |s: &str| -> Result<Option<Vintage>, ApiError> {
            let Some(year) = text(s) else { return Ok(None) };
            let year: u16 = year.parse().map_err(|_| ApiError::invalid(format!("vintage {year:?} is not a year")))?;
            Ok(Some(Vintage::new(year)?))
        };
        Ok(SaleFilter {
            methodology: text(&self.methodology),
            vintage_from: vintage(&self.vintage_from)?,
            vintage_to: vintage(&self.vintage_to)?,
            label: text(&self.label),
            min_ecological_score: text(&self.min_score)
                .map(|s| crate::lifecycle::dto::decimal("the minimum ecological score", &s))
                .transpose()?,
        })
    }
}

/// The /buy page's query: a batch, or criteria (`by=filter`), with a quantity and a currency.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BuyQuery {
    by: String,
    batch: String,
    quantity: String,
    currency: String,
    #[serde(flatten)]
    criteria: Criteria,
}

#[derive(Template)]
#[template(path = "quote.html")]
pub struct QuotePage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    pub id: String,
    pub batch: String,
    pub price: PriceView,
    pub created: String,
    pub expires: String,
    pub status: &'static str,
    pub can_accept: bool,
    pub sale: Option<String>,
}

pub struct ClaimView {
    pub beneficiary: String,
    pub country: String,
    pub purpose: String,
    pub from: String,
    pub to: String,
    pub jurisdiction: String,
    pub note: String,
}

pub struct SettledView {
    pub retirement: String,
    pub certificate: String,
    pub html: String,
    pub pdf: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "sale.html")]
pub struct SalePage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    pub notice: Option<&'static str>,
    pub id: String,
    pub quote: String,
    pub batch: String,
    pub quantity: String,
    pub gross: String,
    pub status: &'static str,
    pub awaiting: bool,
    pub expires: String,
    pub claim: Option<ClaimView>,
    pub settled: Option<SettledView>,
    pub released: String,
    pub purposes: Vec<(&'static str, &'static str)>,
    pub year_from: String,
    pub year_to: String,
}

pub struct QuoteRow {
    pub id: String,
    pub batch: String,
    pub quantity: String,
    pub gross: String,
    pub expires: String,
    pub status: &'static str,
}

pub struct SaleRow {
    pub id: String,
    pub batch: String,
    pub quantity: String,
    pub status: &'static str,
    pub certificate: Option<String>,
}

#[derive(Template)]
#[template(path = "purchases.html")]
pub struct PurchasesPage {
    pub l: Lang,
    pub c: Chrome,
    pub quotes: Vec<QuoteRow>,
    pub sales: Vec<SaleRow>,
}

#[derive(Template)]
#[template(path = "retire.html")]
pub struct RetirePage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    /// The accounts this user acts for that hold tradable credits: id, and id with the balance.
    pub accounts: Vec<(String, String)>,
    pub purposes: Vec<(&'static str, &'static str)>,
    pub year_from: String,
    pub year_to: String,
}

#[derive(Debug, Deserialize)]
pub struct RetireForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    quantity: String,
    #[serde(flatten)]
    claim: ClaimForm,
}

#[derive(Debug, Deserialize)]
pub struct QuoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    batch: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    currency: String,
    /// `filter` to quote by `criteria` instead of by `batch`.
    #[serde(default)]
    by: String,
    #[serde(flatten)]
    criteria: Criteria,
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    beneficiary: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    jurisdiction: String,
    #[serde(default)]
    note: String,
}

fn quantity(text: &str) -> Result<Quantity, ApiError> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|q| *q > 0)
        .map(Quantity)
        .ok_or_else(|| ApiError::invalid(format!("the quantity must be a whole number of credits, not {text:?}")))
}

fn price_view(l: Lang, b: &Breakdown) -> PriceView {
    PriceView {
        quantity: l.tonnes(&b.quantity.0),
        unit: l.money(&b.unit_price),
        gross: l.money(&b.gross),
        commission_pct: format!("{} %", b.commission_pct.normalize()),
        commission: l.money(&b.commission),
        net: l.money(&b.net),
        lines: b
            .lines
            .iter()
            .map(|x| LineView {
                input: x.input.clone(),
                source: x.source.clone(),
                version: x.version,
                value: x.value.normalize().to_string(),
                running: x.running.round_dp(4).normalize().to_string(),
            })
            .collect(),
    }
}

fn quote_status(q: &Quote, now: furrow_domain::Timestamp) -> &'static str {
    match q.status {
        QuoteStatus::Accepted => "act.quote.accepted",
        QuoteStatus::Open if now > q.expires_at => "act.quote.expired",
        QuoteStatus::Open => "act.quote.open",
    }
}

fn sale_status(s: &Sale) -> &'static str {
    match s.status {
        SaleStatus::Escrowed => "act.sale.awaiting",
        SaleStatus::Settled => "act.sale.settled",
        SaleStatus::Cancelled => "act.sale.cancelled",
        SaleStatus::Expired => "act.sale.expired",
    }
}

fn when(l: Lang, t: furrow_domain::Timestamp) -> String {
    l.when(&furrow_app::rfc3339(t))
}

/// The batches the program sells (issued through the lifecycle), with what is left for sale.
/// A batch for sale: the batch, its pricing facts and how many credits are left.
struct ForSale {
    batch: Batch,
    priced: PricedBatch,
    available: u64,
}

/// The batches the program sells that still have credits, oldest first (the order a quote by
/// filter takes them in).
async fn for_sale(state: &AppState, lc: &Lifecycle) -> Result<Vec<ForSale>, ApiError> {
    let mut batches: Vec<BatchId> = lc.requests.values().filter_map(|r| r.batch).collect();
    batches.sort();
    let mut out = Vec::new();
    for batch in batches {
        let Some((b, _)) = state.registry.store().batch(batch).await? else { continue };
        let Ok(priced) = furrow_domain::sales::priced_batch(lc, &b) else { continue };
        let filter =
            BlockFilter { batch: Some(batch), account: Some(ISSUANCE_ACCOUNT), state: Some(BlockState::Tradable) };
        let blocks = state.registry.store().blocks(filter, Page { after: None, limit: 1000 }).await?;
        let available: u64 = blocks.iter().map(|b| b.range.len().0).sum();
        if available > 0 {
            out.push(ForSale { batch: b, priced, available });
        }
    }
    Ok(out)
}

/// How a batch for sale is named in a choice: how many are left first, then what it is.
fn describe(l: Lang, s: &ForSale) -> String {
    format!(
        "{} · {} {} · {} · {} {}",
        s.batch.id,
        l.tonnes(&s.available),
        l.t("act.buy.available"),
        s.priced.project,
        s.priced.methodology_code,
        s.batch.vintage
    )
}

/// The distinct values of one attribute over the batches for sale, as choices.
fn choices(values: impl Iterator<Item = String>, chosen: &str) -> Vec<(String, bool)> {
    let values: std::collections::BTreeSet<String> = values.collect();
    values.into_iter().map(|v| (v.clone(), v == chosen)).collect()
}

async fn buy_page(state: &AppState, reader: &Reader, session: &Session) -> Result<Response, ApiError> {
    let l = reader.lang;
    let query: BuyQuery = serde_urlencoded::from_str(reader.query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("the query: {e}")))?;
    let by_filter = query.by == "filter";
    let currency = Some(query.currency.as_str()).filter(|c| CURRENCIES.contains(c)).unwrap_or("JPY").to_owned();
    let lc = state.registry.lifecycle();
    let for_sale = for_sale(state, &lc).await?;
    // Criteria name batches through the same function the quote resolves them with; the quote
    // takes the oldest match that still has the quantity.
    let (mut matching, mut takes) = (Vec::new(), String::new());
    let chosen = if by_filter && !query.quantity.is_empty() {
        let filter = query.criteria.filter()?;
        let wanted = quantity(&query.quantity)?;
        let matches: Vec<&ForSale> =
            for_sale.iter().filter(|s| furrow_domain::sales::batch_matches(&lc, &s.batch, &filter)).collect();
        matching = matches.iter().map(|s| describe(l, s)).collect();
        let taken = matches.iter().find(|s| s.available >= wanted.0);
        takes = taken.map(|s| s.batch.id.to_string()).unwrap_or_default();
        taken.map(|s| s.batch.id.to_string())
    } else {
        Some(query.batch.clone()).filter(|b| !b.is_empty() && !query.quantity.is_empty())
    };
    // A preview (nothing saved) once a batch and quantity are chosen: the API's `/quotes/preview`.
    let preview = match &chosen {
        None => None,
        Some(batch) => {
            if !matches!(session.principal.role, furrow_domain::Role::Operator | furrow_domain::Role::Buyer) {
                return Err(super::account::forbidden("only buyers and operators preview quotes"));
            }
            let id: BatchId = parse(batch)?;
            let (b, _) =
                state.registry.store().batch(id).await?.ok_or_else(|| ApiError::not_found(format!("batch {id}")))?;
            let breakdown =
                furrow_domain::sales::preview(&lc, &b, quantity(&query.quantity)?, parse(&currency)?, None)?;
            Some(price_view(l, &breakdown))
        }
    };
    let batches = for_sale
        .iter()
        .map(|s| {
            let id = s.batch.id.to_string();
            BatchOption { label: describe(l, s), selected: id == query.batch, id }
        })
        .collect();
    let methodologies =
        choices(for_sale.iter().map(|s| s.priced.methodology_code.clone()), &query.criteria.methodology);
    let labels = choices(for_sale.iter().flat_map(|s| s.priced.labels.iter().cloned()), &query.criteria.label);
    Ok(page(&BuyPage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        accounts: session.principal.accounts.iter().map(ToString::to_string).collect(),
        batches,
        quantity: query.quantity,
        currencies: CURRENCIES.iter().map(|c| (*c, *c == currency)).collect(),
        preview,
        batch: query.batch,
        currency,
        by_filter,
        criteria: query.criteria,
        methodologies,
        labels,
        matching,
        takes,
    }))
}

macro_rules! signed_page {
    ($name:ident, $body:ident, $back:literal $(, $arg:ident : $ty:ty)*) => {
        pub async fn $name(State(state): State<AppState>, reader: Reader, headers: HeaderMap $(, $arg: $ty)*) -> Response {
            let session = match session(&state, &headers).await {
                Ok(s) => s,
                Err(redirect) => return redirect,
            };
            answer(&state, &reader, $body(&state, &reader, &session $(, $arg)*).await, $back).await
        }
    };
}

signed_page!(buy, buy_page, "/me");

/// Asks for a quote: the API's `CreateQuote` for the buyer's account.
async fn create_quote(
    state: &AppState,
    _: &Reader,
    session: &Session,
    headers: HeaderMap,
    form: Result<Form<QuoteForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|_| malformed())?;
    check_form(&headers, session, &form.csrf)?;
    let target = if form.by == "filter" {
        QuoteTarget::Filter(form.criteria.filter()?)
    } else {
        QuoteTarget::Batch(parse(form.batch.trim())?)
    };
    let command = SalesCommand::CreateQuote {
        buyer: parse(form.account.trim())?,
        target,
        quantity: quantity(&form.quantity)?,
        currency: parse::<Currency>(form.currency.trim())?,
        valid_for_secs: 24 * 3600,
    };
    let entries = run(state, session, command).await?;
    let quote = entries.iter().find_map(|e| match e {
        Event::Lifecycle(LifecycleEvent::QuoteCreated { id, .. }) => Some(*id),
        _ => None,
    });
    let quote = quote.ok_or_else(|| ApiError::invalid("no quote was recorded"))?;
    Ok(done(&format!("/me/quotes/{quote}")))
}

pub async fn quote_post(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<QuoteForm>, FormRejection>,
) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    answer(&state, &reader, create_quote(&state, &reader, &session, headers, form).await, "/buy").await
}

async fn run(state: &AppState, session: &Session, command: SalesCommand) -> Result<Vec<Event>, ApiError> {
    let command = Command::Sales { by: session.principal.subject.clone(), command };
    let committed = state.registry.execute(&session.principal, command, None).await?;
    Ok(committed.entries.into_iter().map(|e| e.event).collect())
}

fn not_yours(what: String) -> ApiError {
    super::account::forbidden(&format!("{what} is not this user's"))
}

async fn quote_page(
    state: &AppState,
    reader: &Reader,
    session: &Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let l = reader.lang;
    let id: QuoteId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let q = lc.sales.quotes.get(&id).ok_or_else(|| ApiError::not_found(format!("quote {id}")))?;
    if !may_see(&session.principal, q.buyer) {
        return Err(not_yours(format!("quote {id}")));
    }
    let status = quote_status(q, state.registry.now());
    Ok(page(&QuotePage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        id: id.to_string(),
        batch: q.batch.to_string(),
        price: price_view(l, &q.breakdown),
        created: when(l, q.created_at),
        expires: when(l, q.expires_at),
        status,
        can_accept: status == "act.quote.open",
        sale: q.sale.map(|s| s.to_string()),
    }))
}

signed_page!(quote, quote_page, "/me/purchases", id: Path<String>);

async fn accept(
    state: &AppState,
    _: &Reader,
    session: &Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|_| malformed())?;
    check_form(&headers, session, &form.csrf)?;
    let entries = run(state, session, SalesCommand::AcceptQuote { quote: parse(&id)? }).await?;
    let sale = entries.iter().find_map(|e| match e {
        Event::Lifecycle(LifecycleEvent::SaleOpened { id, .. }) => Some(*id),
        _ => None,
    });
    let sale = sale.ok_or_else(|| ApiError::invalid("no sale was opened"))?;
    Ok(done(&format!("/me/sales/{sale}")))
}

pub async fn accept_post(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    id: Path<String>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    let back = format!("/me/quotes/{}", id.0);
    answer(&state, &reader, accept(&state, &reader, &session, id, headers, form).await, &back).await
}

fn claim_view(l: Lang, c: &RetirementClaim) -> ClaimView {
    ClaimView {
        beneficiary: c.beneficiary.name.clone(),
        country: c.beneficiary.country.map(|c| c.to_string()).unwrap_or_default(),
        purpose: l.word(c.purpose.as_str()).to_owned(),
        from: l.date(&c.claim_period.from.to_string()),
        to: l.date(&c.claim_period.to.to_string()),
        jurisdiction: c.jurisdiction.as_str().to_owned(),
        note: c.note.clone(),
    }
}

async fn sale_page(
    state: &AppState,
    reader: &Reader,
    session: &Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let l = reader.lang;
    let id: SaleId = parse(&id)?;
    let lc = state.registry.lifecycle();
    let s = lc.sales.sales.get(&id).ok_or_else(|| ApiError::not_found(format!("sale {id}")))?;
    if !may_see(&session.principal, s.buyer) {
        return Err(not_yours(format!("sale {id}")));
    }
    let gross = lc.sales.quotes.get(&s.quote).map(|q| l.money(&q.breakdown.gross)).unwrap_or_default();
    let settled = match (&s.settlement, s.settled_at) {
        (Some(x), Some(at)) => Some(SettledView {
            retirement: x.retirement.to_string(),
            certificate: x.certificate.clone(),
            html: certificate_url(&x.certificate),
            pdf: format!("{}/pdf", certificate_url(&x.certificate)),
            at: when(l, at),
        }),
        _ => None,
    };
    let (year_from, year_to) = this_year(state);
    let notice = reader.query.as_deref().is_some_and(|q| q.split('&').any(|kv| kv == "done=claim"));
    Ok(page(&SalePage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        notice: notice.then_some("act.sale.claim_saved"),
        id: id.to_string(),
        quote: s.quote.to_string(),
        batch: s.batch.to_string(),
        quantity: l.tonnes(&s.quantity.0),
        gross,
        status: sale_status(s),
        awaiting: s.status == SaleStatus::Escrowed,
        expires: when(l, s.expires_at),
        claim: s.claim.as_ref().map(|c| claim_view(l, c)),
        settled,
        released: s.released_reason.clone().unwrap_or_default(),
        purposes: PURPOSES.iter().map(|p| (*p, l.word(p))).collect(),
        year_from,
        year_to,
    }))
}

/// The first and last day of the registry's current year: the claim period's defaults.
fn this_year(state: &AppState) -> (String, String) {
    let today = state.registry.now().date().to_string();
    let year = today.get(..4).unwrap_or("2026");
    (format!("{year}-01-01"), format!("{year}-12-31"))
}

signed_page!(sale, sale_page, "/me/purchases", id: Path<String>);

fn claim(form: &ClaimForm) -> Result<RetirementClaim, ApiError> {
    let country = Some(form.country.trim()).filter(|c| !c.is_empty()).map(parse).transpose()?;
    Ok(RetirementClaim {
        beneficiary: Beneficiary { name: form.beneficiary.trim().to_owned(), country, identifier: None },
        purpose: parse::<RetirementPurpose>(form.purpose.trim())?,
        claim_period: ClaimPeriod { from: parse(form.from.trim())?, to: parse(form.to.trim())? },
        jurisdiction: parse(form.jurisdiction.trim())?,
        note: form.note.trim().to_owned(),
    })
}

/// The buyer names the beneficiary and purpose: `StateClaim`, which settlement must then honour.
async fn state_claim(
    state: &AppState,
    _: &Reader,
    session: &Session,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ClaimForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|_| malformed())?;
    check_form(&headers, session, &form.csrf)?;
    let sale: SaleId = parse(&id)?;
    run(state, session, SalesCommand::StateClaim { sale, claim: claim(&form)? }).await?;
    Ok(done(&format!("/me/sales/{sale}?done=claim")))
}

pub async fn claim_post(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    id: Path<String>,
    form: Result<Form<ClaimForm>, FormRejection>,
) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    let back = format!("/me/sales/{}", id.0);
    answer(&state, &reader, state_claim(&state, &reader, &session, id, headers, form).await, &back).await
}

async fn purchases_page(state: &AppState, reader: &Reader, session: &Session) -> Result<Response, ApiError> {
    let l = reader.lang;
    let lc = state.registry.lifecycle();
    let now = state.registry.now();
    let mine = |buyer| session.principal.accounts.contains(&buyer);
    let quotes = lc
        .sales
        .quotes
        .values()
        .rev()
        .filter(|q| mine(q.buyer))
        .map(|q| QuoteRow {
            id: q.id.to_string(),
            batch: q.batch.to_string(),
            quantity: l.tonnes(&q.quantity.0),
            gross: l.money(&q.breakdown.gross),
            expires: when(l, q.expires_at),
            status: quote_status(q, now),
        })
        .collect();
    let sales = lc
        .sales
        .sales
        .values()
        .rev()
        .filter(|s| mine(s.buyer))
        .map(|s| SaleRow {
            id: s.id.to_string(),
            batch: s.batch.to_string(),
            quantity: l.tonnes(&s.quantity.0),
            status: sale_status(s),
            certificate: s.settlement.as_ref().map(|x| x.certificate.clone()),
        })
        .collect();
    Ok(page(&PurchasesPage { l, c: reader.chrome(state).await, quotes, sales }))
}

signed_page!(purchases, purchases_page, "/me");

async fn retire_page(state: &AppState, reader: &Reader, session: &Session) -> Result<Response, ApiError> {
    let l = reader.lang;
    let mut accounts = Vec::new();
    for id in &session.principal.accounts {
        let Some((_, balances)) = state.registry.store().account(*id).await? else { continue };
        if balances.tradable > 0 {
            accounts.push((id.to_string(), format!("{id} · {}", l.tonnes(&balances.tradable))));
        }
    }
    let (year_from, year_to) = this_year(state);
    Ok(page(&RetirePage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        accounts,
        purposes: PURPOSES.iter().map(|p| (*p, l.word(p))).collect(),
        year_from,
        year_to,
    }))
}

signed_page!(retire, retire_page, "/me");

/// Retires credits the user's account already holds, for a named beneficiary: the API's
/// `POST /retirements` (`Command::Retire`), then the public retirement page with its certificate.
async fn retire_credits(
    state: &AppState,
    _: &Reader,
    session: &Session,
    headers: HeaderMap,
    form: Result<Form<RetireForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|_| malformed())?;
    check_form(&headers, session, &form.claim.csrf)?;
    let command = Command::Retire {
        from: parse(form.account.trim())?,
        selection: furrow_domain::Selection::Quantity { quantity: quantity(&form.quantity)?, batch: None },
        claim: claim(&form.claim)?,
    };
    let committed = state.registry.execute(&session.principal, command, None).await?;
    let retirement = committed.entries.iter().find_map(|e| match &e.event {
        Event::Retired { id, .. } => Some(*id),
        _ => None,
    });
    let retirement = retirement.ok_or_else(|| ApiError::invalid("nothing was retired"))?;
    Ok(done(&format!("/retirements/{retirement}")))
}

pub async fn retire_post(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<RetireForm>, FormRejection>,
) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    answer(&state, &reader, retire_credits(&state, &reader, &session, headers, form).await, "/me/retire").await
}
