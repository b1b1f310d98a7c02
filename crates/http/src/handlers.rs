//! Handlers: extract, call the application, render. No rules live here.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use furrow_app::store::{BlockFilter, Page};
use furrow_app::{Committed, StatusSnapshot};
use furrow_domain::{
    AccountId, AccountKind, BatchId, Beneficiary, CancellationId, ClaimPeriod, Command, Event, PrintableSerial,
    Quantity, RetirementClaim, RetirementId, RetirementPurpose, Selection, SerialQuery, SerialRange,
};

use crate::AppState;
use crate::dto::*;
use crate::error::{ApiError, Problem};
use crate::extract::{Auth, IdempotencyKey, JsonBody, Path, Query};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;
/// At most this many blocks or history entries in one serial lookup.
const MAX_LOOKUP: u32 = 1_000;

pub(crate) fn page(cursor: Option<&str>, limit: Option<u32>) -> Result<Page, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = match cursor {
        None => None,
        Some(c) => Some(c.parse::<u64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", "cursor is not one this API issued")
        })?),
    };
    Ok(Page { after, limit })
}

fn paged<T>(items: Vec<T>, page: Page, key: impl Fn(&T) -> u64) -> PageOf<T> {
    let next_cursor = if items.len() as u32 == page.limit { items.last().map(|i| key(i).to_string()) } else { None };
    PageOf { items, next_cursor }
}

pub(crate) fn parse<T: std::str::FromStr<Err = furrow_domain::ParseError>>(s: &str) -> Result<T, ApiError> {
    s.parse().map_err(ApiError::from)
}

/// A created resource, or the replay of one: same status and body, plus `Idempotent-Replayed`.
pub(crate) fn created<T: serde::Serialize>(committed: &Committed, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if committed.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

fn event(committed: &Committed) -> Result<&Event, ApiError> {
    committed
        .entries
        .first()
        .map(|e| &e.event)
        .ok_or_else(|| ApiError::from(furrow_app::AppError::Internal("no entry".into())))
}

// ------------------------------------------------------------------ status

/// Liveness: answers while the process serves requests.
#[utoipa::path(get, path = "/health", tag = "status", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Program and registry-wide totals.
#[utoipa::path(get, path = "/status", tag = "status", responses((status = 200, body = StatusDto)))]
pub async fn status(State(state): State<AppState>) -> Result<Json<StatusDto>, ApiError> {
    let replica = state.registry.store().read_replica().await?;
    // The last commit's totals (a retirement shows here the moment it is acknowledged), or the
    // read replica's, beside its lag.
    let StatusSnapshot { program, totals } = state.registry.public_status().await?;
    let program =
        program.map(|p| ProgramDto { code: p.code.to_string(), country: p.country.to_string(), name: p.name });
    let read_replica = replica.map(|r| ReplicaDto {
        in_recovery: r.in_recovery,
        lag_bytes: r.lag_bytes,
        lag_seconds: r.lag_seconds,
        primary_lsn: r.primary_lsn,
        replay_lsn: r.replay_lsn,
    });
    Ok(Json(StatusDto {
        program,
        supply: totals.supply.into(),
        accounts: totals.accounts,
        batches: totals.batches,
        retirements: totals.retirements,
        log_size: totals.log_size,
        read_replica,
    }))
}

// ------------------------------------------------------------------ accounts

/// Accounts, public view.
#[utoipa::path(get, path = "/accounts", tag = "accounts", params(PageParams),
    responses((status = 200, body = PageOf<AccountDto>), (status = 400, body = Problem)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<AccountDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let accounts = state.registry.store().accounts(page).await?;
    let items = accounts.iter().map(|a| AccountDto::new(a, None)).collect();
    Ok(Json(paged(items, page, |a: &AccountDto| a.id[1..].parse().unwrap_or(0))))
}

/// One account with its balances by state.
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts", params(("id" = String, Path, description = "e.g. A000005")),
    responses((status = 200, body = AccountDto), (status = 404, body = Problem)))]
pub async fn get_account(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<AccountDto>, ApiError> {
    let id: AccountId = parse(&id)?;
    let (account, balances) =
        state.registry.store().account(id).await?.ok_or_else(|| ApiError::not_found(format!("account {id}")))?;
    Ok(Json(AccountDto::new(&account, Some(balances))))
}

/// Opens a participant or buyer account (operator or admin).
#[utoipa::path(post, path = "/accounts", tag = "accounts", request_body = OpenAccountRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = AccountDto), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn open_account(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<OpenAccountRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let kind: AccountKind = parse(&body.value.kind)?;
    let command = Command::OpenAccount { kind, name: body.value.name.clone() };
    let committed = state.registry.execute(&principal, command, key).await?;
    let Event::AccountOpened { account } = event(&committed)? else {
        return Err(unexpected());
    };
    Ok(created(&committed, AccountDto::new(account, None)))
}

fn unexpected() -> ApiError {
    ApiError::from(furrow_app::AppError::Internal("the command produced an unexpected event".into()))
}

// ------------------------------------------------------------------ batches and blocks

/// Credit batches with their supply by state.
#[utoipa::path(get, path = "/batches", tag = "batches", params(PageParams),
    responses((status = 200, body = PageOf<BatchDto>), (status = 400, body = Problem)))]
pub async fn list_batches(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<BatchDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let batches = state.registry.store().batches(page).await?;
    let max = batches.iter().map(|(b, _)| b.serials.end()).max().unwrap_or(0);
    let printer = state.printer(max).await?;
    let lifecycle = state.registry.lifecycle();
    let with_origin = |b: &furrow_domain::Batch, s| BatchDto {
        origin: crate::lifecycle::dto::batch_origin(&lifecycle, b.id),
        ..printer.batch(b, s)
    };
    let items = batches.iter().map(|(b, s)| with_origin(b, *s)).collect();
    Ok(Json(paged(items, page, |b: &BatchDto| b.id[1..].parse().unwrap_or(0))))
}

/// One batch with its supply by state (issued = tradable + escrowed + retired + cancelled + buffer).
#[utoipa::path(get, path = "/batches/{id}", tag = "batches", params(("id" = String, Path, description = "e.g. B000001")),
    responses((status = 200, body = BatchDto), (status = 404, body = Problem)))]
pub async fn get_batch(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<BatchDto>, ApiError> {
    let id: BatchId = parse(&id)?;
    let (batch, supply) =
        state.registry.store().batch(id).await?.ok_or_else(|| ApiError::not_found(format!("batch {id}")))?;
    let printer = state.printer(batch.serials.end()).await?;
    let origin = crate::lifecycle::dto::batch_origin(&state.registry.lifecycle(), id);
    Ok(Json(BatchDto { origin, ..printer.batch(&batch, supply) }))
}

/// Serial blocks, filtered by batch, account and state; ordered by first serial.
#[utoipa::path(get, path = "/blocks", tag = "batches", params(BlockParams),
    responses((status = 200, body = PageOf<BlockDto>), (status = 400, body = Problem)))]
pub async fn list_blocks(
    State(state): State<AppState>,
    Query(q): Query<BlockParams>,
) -> Result<Json<PageOf<BlockDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let filter = BlockFilter {
        batch: q.batch.as_deref().map(parse).transpose()?,
        account: q.account.as_deref().map(parse).transpose()?,
        state: q.state.as_deref().map(parse).transpose()?,
    };
    let blocks = state.registry.store().blocks(filter, page).await?;
    let printer = state.printer(blocks.last().map_or(0, |b| b.range.end())).await?;
    let items = blocks.iter().map(|b| printer.block(b)).collect();
    Ok(Json(paged(items, page, |b: &BlockDto| b.range.start)))
}

/// Looks up a serial integer (`120001`) or a printable serial range: the blocks holding it, their
/// state and holder, and every log entry that touched it.
#[utoipa::path(get, path = "/serials/{serial}", tag = "batches", params(("serial" = String, Path)),
    responses((status = 200, body = SerialLookupDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn lookup_serial(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Json<SerialLookupDto>, ApiError> {
    serial_lookup(&state, &serial).await.map(Json)
}

/// Any serial or printable range: the blocks that hold it and every log entry that touched it
/// (the API's lookup and the explorer's).
pub(crate) async fn serial_lookup(state: &AppState, serial: &str) -> Result<SerialLookupDto, ApiError> {
    let query: SerialQuery = parse(serial)?;
    let store = state.registry.store();
    let range = query.range();
    let first = store
        .block_at(range.start())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("serial {} was never issued", range.start())))?;
    let printer = state.printer(range.end()).await?;
    let batch = printer.batches.get(&first.batch).ok_or_else(unexpected)?;
    if let SerialQuery::Printable(p) = &query {
        check_printable(p, &printer.program, batch)?;
    }
    let mut blocks = vec![first];
    if first.range.end() < range.end() {
        // A printable range may span several blocks of its batch.
        let filter = BlockFilter { batch: Some(first.batch), ..BlockFilter::default() };
        let more = store.blocks(filter, Page { after: Some(first.range.start()), limit: MAX_LOOKUP }).await?;
        blocks.extend(more.into_iter().take_while(|b| b.range.start() <= range.end()));
    }
    let history = store.serial_history(first.batch, range.start(), range.end(), MAX_LOOKUP).await?;
    let normalised = match &query {
        SerialQuery::Integer(n) => n.to_string(),
        SerialQuery::Printable(p) => p.to_string(),
    };
    Ok(SerialLookupDto {
        query: normalised,
        blocks: blocks.iter().map(|b| printer.block(b)).collect(),
        history: history.iter().map(LogEntryDto::from).collect(),
    })
}

/// A printable serial must agree with the batch its numbers fall in.
fn check_printable(
    p: &PrintableSerial,
    program: &furrow_domain::ProgramCode,
    batch: &furrow_domain::Batch,
) -> Result<(), ApiError> {
    let expected = batch.printable(program, p.range);
    if *p != expected {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "serial-mismatch",
            format!("{p} does not match the batch its serials belong to; it should read {expected}"),
        ));
    }
    if !batch.serials.covers(p.range) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "serial-mismatch",
            format!("serials {} reach outside batch {} ({})", p.range, batch.id, batch.serials),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ transfers, retirements, cancellations

/// Turns the `quantity`/`batch`/`ranges` fields into a selection.
pub(crate) async fn selection(
    state: &AppState,
    quantity: Option<u64>,
    batch: Option<&str>,
    ranges: Option<&[String]>,
) -> Result<Selection, ApiError> {
    match (quantity, ranges) {
        (Some(q), None) => Ok(Selection::Quantity { quantity: Quantity(q), batch: batch.map(parse).transpose()? }),
        (None, Some(ranges)) => {
            if batch.is_some() {
                return Err(ApiError::invalid(
                    "`batch` only applies with `quantity`; ranges already name their serials",
                ));
            }
            if ranges.len() > furrow_domain::ledger::MAX_RANGES {
                return Err(ApiError::invalid(format!(
                    "at most {} ranges per request",
                    furrow_domain::ledger::MAX_RANGES
                )));
            }
            let mut out = Vec::with_capacity(ranges.len());
            for text in ranges {
                out.push(parse_range(state, text).await?);
            }
            Ok(Selection::Ranges(out))
        }
        _ => Err(ApiError::invalid("give exactly one of `quantity` or `ranges`")),
    }
}

/// `"120001-120500"`, `"120001"` or a printable serial.
pub(crate) async fn parse_range(state: &AppState, text: &str) -> Result<SerialRange, ApiError> {
    let digits = |s: &str| s.parse::<u64>().ok().filter(|_| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    if let Some((a, b)) = text.split_once('-').filter(|(a, b)| digits(a).is_some() && digits(b).is_some()) {
        return Ok(SerialRange::new(digits(a).unwrap_or(0), digits(b).unwrap_or(0))?);
    }
    match parse::<SerialQuery>(text)? {
        SerialQuery::Integer(n) => Ok(SerialRange::single(n)?),
        SerialQuery::Printable(p) => {
            let printer = state.printer(p.range.end()).await?;
            let batch = printer
                .batches
                .get(&p.batch)
                .ok_or_else(|| ApiError::from(furrow_domain::DomainError::UnknownBatch(p.batch)))?;
            check_printable(&p, &printer.program, batch)?;
            Ok(p.range)
        }
    }
}

/// Transfers credits between accounts. Operators may move from any holding account; buyers and
/// participants only from the accounts their token acts for.
#[utoipa::path(post, path = "/transfers", tag = "ledger", request_body = TransferRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = TransferDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<TransferRequest>,
) -> Result<Response, ApiError> {
    let key = key.for_request(&principal, &body)?;
    let r = &body.value;
    let command = Command::Transfer {
        from: parse(&r.from)?,
        to: parse(&r.to)?,
        selection: selection(&state, r.quantity, r.batch.as_deref(), r.ranges.as_deref()).await?,
    };
    let committed = state.registry.execute(&principal, command, key).await?;
    let entry = committed.entries.first().ok_or_else(unexpected)?;
    let Event::Transferred { from, to, ranges } = &entry.event else {
        return Err(unexpected());
    };
    let printer = state.printer(ranges.iter().map(|r| r.end()).max().unwrap_or(0)).await?;
    let dto = TransferDto {
        from: from.to_string(),
        to: to.to_string(),
        quantity: furrow_domain::total(ranges).0,
        ranges: ranges.iter().map(|r| printer.range_any(*r)).collect(),
        log_index: entry.index,
        at: rfc3339(entry.timestamp),
    };
    Ok(created(&committed, dto))
}

/// Retires credits for a beneficiary and a claim. Permanent: retired serials can never be
/// transferred, retired again or refunded.
#[utoipa::path(post, path = "/retirements", tag = "ledger", request_body = RetireRequest,
    params(("Idempotency-Key" = Option<String>, Header)), security(("bearer" = [])),
    responses((status = 201, body = RetirementDto), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn retire(
    State(state): State<AppState>,
    Auth(principal): Auth,
    key: IdempotencyKey,
    body: JsonBody<RetireRequest>,
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
    let selection = selection(&state, r.quantity, r.batch.as_deref(), r.ranges.as_deref()).await?;
    let command = Command::Retire { from: parse(&r.from)?, selection, claim };
    let committed = state.registry.execute(&principal, command, key).await?;
    let entry = committed.entries.first().ok_or_else(unexpected)?;
    let Event::Retired { id, account, ranges, claim } = &entry.event else {
        return Err(unexpected());
    };
    let retirement = furrow_domain::Retirement {
        id: *id,
        account: *account,
        ranges: ranges.clone(),
        claim: claim.clone(),
        at: entry.timestamp,
    };
    let printer = state.printer(ranges.iter().map(|r| r.end()).max().unwrap_or(0)).await?;
    Ok(created(&committed, printer.retirement(&retirement)))
}

/// Retirements, oldest first.
#[utoipa::path(get, path = "/retirements", tag = "ledger", params(PageParams),
    responses((status = 200, body = PageOf<RetirementDto>), (status = 400, body = Problem)))]
pub async fn list_retirements(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<RetirementDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let retirements = state.registry.store().retirements(page).await?;
    let max = retirements.iter().flat_map(|r| r.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
    let printer = state.printer(max).await?;
    let items = retirements.iter().map(|r| printer.retirement(r)).collect();
    Ok(Json(paged(items, page, |r: &RetirementDto| r.id[1..].parse().unwrap_or(0))))
}

/// One retirement.
#[utoipa::path(get, path = "/retirements/{id}", tag = "ledger", params(("id" = String, Path, description = "e.g. R000001")),
    responses((status = 200, body = RetirementDto), (status = 404, body = Problem)))]
pub async fn get_retirement(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RetirementDto>, ApiError> {
    let id: RetirementId = parse(&id)?;
    let r =
        state.registry.store().retirement(id).await?.ok_or_else(|| ApiError::not_found(format!("retirement {id}")))?;
    let printer = state.printer(r.ranges.iter().map(|x| x.end()).max().unwrap_or(0)).await?;
    Ok(Json(printer.retirement(&r)))
}

/// Cancellations, oldest first.
#[utoipa::path(get, path = "/cancellations", tag = "ledger", params(PageParams),
    responses((status = 200, body = PageOf<CancellationDto>), (status = 400, body = Problem)))]
pub async fn list_cancellations(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<CancellationDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let cancellations = state.registry.store().cancellations(page).await?;
    let max = cancellations.iter().flat_map(|c| c.ranges.iter().map(|x| x.end())).max().unwrap_or(0);
    let printer = state.printer(max).await?;
    let items = cancellations.iter().map(|c| printer.cancellation(c)).collect();
    Ok(Json(paged(items, page, |c: &CancellationDto| c.id[1..].parse().unwrap_or(0))))
}

/// One cancellation.
#[utoipa::path(get, path = "/cancellations/{id}", tag = "ledger", params(("id" = String, Path, description = "e.g. C000001")),
    responses((status = 200, body = CancellationDto), (status = 404, body = Problem)))]
pub async fn get_cancellation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CancellationDto>, ApiError> {
    let id: CancellationId = parse(&id)?;
    let c = state
        .registry
        .store()
        .cancellation(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("cancellation {id}")))?;
    let printer = state.printer(c.ranges.iter().map(|x| x.end()).max().unwrap_or(0)).await?;
    Ok(Json(printer.cancellation(&c)))
}

// ------------------------------------------------------------------ log

/// The log, in order: each entry's canonical bytes and RFC 9162 leaf hash.
#[utoipa::path(get, path = "/log/entries", tag = "log", params(PageParams),
    responses((status = 200, body = PageOf<LogEntryDto>), (status = 400, body = Problem)))]
pub async fn list_log(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<LogEntryDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let rows = state.registry.store().log_entries(page).await?;
    let items = rows.iter().map(LogEntryDto::from).collect();
    Ok(Json(paged(items, page, |e: &LogEntryDto| e.index)))
}

/// One log entry by index.
#[utoipa::path(get, path = "/log/entries/{index}", tag = "log", params(("index" = u64, Path)),
    responses((status = 200, body = LogEntryDto), (status = 404, body = Problem)))]
pub async fn get_log_entry(
    State(state): State<AppState>,
    Path(index): Path<u64>,
) -> Result<Json<LogEntryDto>, ApiError> {
    let rows = state.registry.store().log_entries(Page { after: index.checked_sub(1), limit: 1 }).await?;
    let row =
        rows.into_iter().find(|r| r.index == index).ok_or_else(|| ApiError::not_found(format!("log entry {index}")))?;
    Ok(Json(LogEntryDto::from(&row)))
}

// ------------------------------------------------------------------ transparency

fn text(body: String) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The latest signed checkpoint: a C2SP signed note (`origin`, tree size, base64 root) with the
/// program's Ed25519 signature. Verify it with the key from `/log/key`.
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem)))]
pub async fn get_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let checkpoint = state.registry.store().latest_checkpoint().await?;
    let checkpoint =
        checkpoint.ok_or_else(|| ApiError::not_found("no checkpoint yet: the log is empty or being checkpointed"))?;
    Ok(text(checkpoint.note))
}

/// The verifier key of the log (C2SP vkey `name+keyid+base64(0x01||pubkey)`).
#[utoipa::path(get, path = "/log/key", tag = "log",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem)))]
pub async fn get_log_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let key = state.registry.log_key().ok_or_else(|| ApiError::not_found("this registry does not sign its log"))?;
    Ok(text(format!("{key}\n")))
}

/// Proves that log entry `index` is in the tree of the latest checkpoint.
#[utoipa::path(get, path = "/log/proofs/inclusion/{index}", tag = "log", params(("index" = u64, Path)),
    responses((status = 200, body = InclusionProofDto), (status = 404, body = Problem)))]
pub async fn inclusion_proof(
    State(state): State<AppState>,
    Path(index): Path<u64>,
) -> Result<Json<InclusionProofDto>, ApiError> {
    inclusion_dto(&state, index).await.map(Json)
}

/// Proves that the entry with this leaf hash (hex SHA-256 of 0x00 ‖ entry bytes) is in the tree of
/// the latest checkpoint: for a client that holds an entry but not its index.
#[utoipa::path(get, path = "/log/proofs/inclusion-by-hash/{leaf_hash}", tag = "log", params(("leaf_hash" = String, Path)),
    responses((status = 200, body = InclusionProofDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn inclusion_proof_by_hash(
    State(state): State<AppState>,
    Path(leaf_hash): Path<String>,
) -> Result<Json<InclusionProofDto>, ApiError> {
    let hash: [u8; 32] = hex::decode(&leaf_hash)
        .ok()
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| ApiError::invalid("leaf_hash must be 64 hex digits"))?;
    let index = state.registry.store().entry_with_leaf_hash(&hash).await?;
    let index = index.ok_or_else(|| ApiError::not_found(format!("no log entry has leaf hash {leaf_hash}")))?;
    inclusion_dto(&state, index).await.map(Json)
}

async fn inclusion_dto(state: &AppState, index: u64) -> Result<InclusionProofDto, ApiError> {
    let p = furrow_app::transparency::inclusion_proof(state.registry.store(), index).await?;
    Ok(InclusionProofDto {
        index: p.index,
        leaf_hash: hex::encode(p.leaf_hash),
        tree_size: p.checkpoint.tree_size,
        root: hex::encode(p.checkpoint.root),
        proof: p.proof.iter().map(hex::encode).collect(),
        checkpoint: p.checkpoint.note,
    })
}

/// Proves that the tree of size `from` is a prefix of the tree of size `to`: nothing was
/// rewritten or dropped in between.
#[utoipa::path(get, path = "/log/proofs/consistency", tag = "log", params(ConsistencyParams),
    responses((status = 200, body = ConsistencyProofDto), (status = 422, body = Problem)))]
pub async fn consistency_proof(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyParams>,
) -> Result<Json<ConsistencyProofDto>, ApiError> {
    let store = state.registry.store();
    let to = match q.to {
        Some(to) => to,
        None => store.latest_checkpoint().await?.map_or(0, |c| c.tree_size),
    };
    let proof = furrow_app::transparency::consistency_proof(store, q.from, to).await?;
    Ok(Json(ConsistencyProofDto { from: q.from, to, proof: proof.iter().map(hex::encode).collect() }))
}

/// A C2SP tlog-tiles resource under `/api/v1/log/`: hash tiles and entry bundles, immutable, so any
/// static host or CDN can mirror the log.
pub async fn get_tile(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let data = furrow_app::transparency::tile(state.registry.store(), &format!("tile/{path}")).await?;
    let mut response = data.into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}

/// The retirement's log entry, its inclusion proof and the signed checkpoint as one C2SP
/// `tlog-proof@v1` bundle: with the entry bytes (`/log/entries/{log_index}`) and the log's key,
/// anyone can check offline that this retirement is in the log.
#[utoipa::path(get, path = "/retirements/{id}/proof", tag = "ledger", params(("id" = String, Path, description = "e.g. R000001")),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem)))]
pub async fn retirement_proof(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id: RetirementId = parse(&id)?;
    let store = state.registry.store();
    let index = furrow_app::transparency::retirement_entry(store, id).await?;
    let bundle = furrow_app::transparency::proof_bundle(store, index).await?;
    let mut response = text(bundle);
    response.headers_mut().insert("x-furrow-log-index", HeaderValue::from(index));
    Ok(response)
}

/// The retirement's certificate with everything needed to verify it offline: the retirement, its
/// log entry, and an inclusion proof against a signed checkpoint.
#[utoipa::path(get, path = "/retirements/{id}/certificate", tag = "ledger", params(("id" = String, Path, description = "e.g. R000001")),
    responses((status = 200, body = CertificateDto), (status = 404, body = Problem)))]
pub async fn retirement_certificate(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CertificateDto>, ApiError> {
    use base64::Engine;
    let id: RetirementId = parse(&id)?;
    let store = state.registry.store();
    let retirement = store.retirement(id).await?.ok_or_else(|| ApiError::not_found(format!("retirement {id}")))?;
    let log_index = furrow_app::transparency::retirement_entry(store, id).await?;
    let proof = furrow_app::transparency::proof_bundle(store, log_index).await?;
    let rows = store.log_entries(Page { after: log_index.checked_sub(1), limit: 1 }).await?;
    let row = rows.into_iter().find(|r| r.index == log_index).ok_or_else(unexpected)?;
    let printer = state.printer(retirement.ranges.iter().map(|x| x.end()).max().unwrap_or(0)).await?;
    let batch = printer.batches.values().find(|b| retirement.ranges.first().is_some_and(|r| b.serials.covers(*r)));
    let ecology = batch
        .and_then(|b| state.registry.lifecycle().batch_ecological_score(b.id))
        .map(|s| crate::lifecycle::ecology::EcoScoreDto::of(&s));
    Ok(Json(CertificateDto {
        format: "furrow-retirement-certificate/v1",
        retirement: printer.retirement(&retirement),
        log_index,
        entry: base64::engine::general_purpose::STANDARD.encode(&row.bytes),
        proof,
        ecology,
    }))
}

/// The oldest signed checkpoint whose tree has at least `size` entries. A verifier uses it to
/// check that a rotated log key was announced under a checkpoint signed with the previous key.
#[utoipa::path(get, path = "/log/checkpoints/{size}", tag = "log", params(("size" = u64, Path)),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 404, body = Problem)))]
pub async fn get_checkpoint_at_least(
    State(state): State<AppState>,
    Path(size): Path<u64>,
) -> Result<Response, ApiError> {
    let checkpoint = state.registry.store().checkpoint_at_least(size).await?;
    let checkpoint =
        checkpoint.ok_or_else(|| ApiError::not_found(format!("no checkpoint covers {size} entries yet")))?;
    let mut response = text(checkpoint.note);
    // A stored checkpoint never changes.
    response
        .headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    Ok(response)
}

/// Largest log the one-file bundle is built for; beyond it, `furrow mirror` copies tile by tile.
const MAX_BUNDLE_ENTRIES: u64 = 2_000_000;

/// The whole log as one tar file in the C2SP tlog-tiles layout (`checkpoint`, `key`, `tile/…`,
/// `tile/entries/…`), for offline audit with `furrow verify --bundle DIR` after extracting it.
#[utoipa::path(get, path = "/log/bundle.tar", tag = "log",
    responses((status = 200, body = Vec<u8>, content_type = "application/x-tar"), (status = 404, body = Problem)))]
pub async fn log_bundle(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (checkpoint, mut files) =
        furrow_app::transparency::log_files(state.registry.store(), MAX_BUNDLE_ENTRIES).await?;
    if let Some(key) = state.registry.log_key() {
        files.insert(1, ("key".into(), format!("{key}\n").into_bytes()));
    }
    let mut archive = tar::Builder::new(Vec::new());
    for (path, data) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(u64::try_from(checkpoint.created_at.0 / 1_000_000).unwrap_or(0));
        header.set_cksum();
        archive
            .append_data(&mut header, path, data.as_slice())
            .map_err(|e| ApiError::from(furrow_app::AppError::Internal(format!("building the bundle: {e}"))))?;
    }
    let bytes = archive.into_inner().map_err(|e| ApiError::from(furrow_app::AppError::Internal(e.to_string())))?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    let name = format!("attachment; filename=\"log-{}.tar\"", checkpoint.tree_size);
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Every signed checkpoint, oldest first (cursor: a tree size), so an auditor can check each one.
#[utoipa::path(get, path = "/log/checkpoints", tag = "log", params(PageParams),
    responses((status = 200, body = PageOf<CheckpointDto>), (status = 400, body = Problem)))]
pub async fn list_checkpoints(
    State(state): State<AppState>,
    Query(q): Query<PageParams>,
) -> Result<Json<PageOf<CheckpointDto>>, ApiError> {
    let page = page(q.cursor.as_deref(), q.limit)?;
    let rows = state.registry.store().checkpoints(page.after, page.limit).await?;
    let items = rows
        .into_iter()
        .map(|c| CheckpointDto {
            tree_size: c.tree_size,
            root: hex::encode(c.root),
            note: c.note,
            created_at: rfc3339(c.created_at),
        })
        .collect();
    Ok(Json(paged(items, page, |c: &CheckpointDto| c.tree_size)))
}
