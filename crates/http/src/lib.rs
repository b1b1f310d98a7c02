//! Furrow's HTTP JSON API under `/api/v1`, described by the OpenAPI document it serves at
//! `/api/v1/openapi.json`. Only this crate knows HTTP: status codes, headers, the wire format.

mod accounts;
mod charts;
mod controls;
mod dto;
mod error;
mod extract;
mod handlers;
pub(crate) mod lifecycle;
pub(crate) mod sales;
mod security;
mod state;
mod web;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use furrow_app::Registry;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, Problem};
pub use state::AppState;

/// Largest request body accepted; every command fits in a few kilobytes.
const MAX_BODY: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Furrow registry API",
        description = "The public registry and ledger of an agricultural carbon-offset program. \
            Reads are public; mutations need a bearer token and accept an Idempotency-Key. \
            Errors are RFC 9457 problem+json with a stable `type`.",
        version = "1"
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    tags(
        (name = "status", description = "Health and totals"),
        (name = "accounts", description = "Accounts and balances"),
        (name = "batches", description = "Batches, serial blocks and serial lookup"),
        (name = "ledger", description = "Transfers, retirements and cancellations"),
        (name = "log", description = "The append-only log, its signed checkpoints and Merkle proofs"),
        (name = "lifecycle", description = "The program lifecycle: methodologies, projects, participants and parcels, \
            enrolments, monitoring reports, four-eyes issuance, reversals, withdrawals and labels"),
        (name = "ecology", description = "Explanations of quantifications, the ecological indicator catalogue, \
            project and batch ecological scores, indicator series and their SVG charts"),
        (name = "controls", description = "Registry controls: transfer limit, trusted counterparties, freezes with \
            published reasons"),
        (name = "security", description = "API tokens and the security audit trail (admins)"),
        (name = "users", description = "Users and four-eyes role grants (admins); people sign in on the /signin page"),
        (name = "sales", description = "Pricing inputs, quotes, sales with escrow and settlement (retirement), \
            payouts, statements, disclosure and certificates. Refunds are always refused.")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes and their OpenAPI description, from one definition.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::health))
        .routes(routes!(handlers::status))
        .routes(routes!(handlers::list_accounts, handlers::open_account))
        .routes(routes!(handlers::get_account))
        .routes(routes!(handlers::list_batches))
        .routes(routes!(handlers::get_batch))
        .routes(routes!(handlers::list_blocks))
        .routes(routes!(handlers::lookup_serial))
        .routes(routes!(handlers::transfer))
        .routes(routes!(handlers::list_retirements, handlers::retire))
        .routes(routes!(handlers::get_retirement))
        .routes(routes!(handlers::retirement_proof))
        .routes(routes!(handlers::retirement_certificate))
        .routes(routes!(handlers::list_cancellations, controls::request_cancellation))
        .routes(routes!(handlers::get_cancellation))
        .routes(routes!(handlers::list_log))
        .routes(routes!(handlers::get_log_entry))
        .routes(routes!(handlers::get_checkpoint))
        .routes(routes!(handlers::get_checkpoint_at_least))
        .routes(routes!(handlers::list_checkpoints))
        .routes(routes!(handlers::log_bundle))
        .routes(routes!(handlers::get_log_key))
        .routes(routes!(handlers::inclusion_proof))
        .routes(routes!(handlers::inclusion_proof_by_hash))
        .routes(routes!(handlers::consistency_proof))
        .routes(routes!(lifecycle::list_methodologies, lifecycle::draft_methodology))
        .routes(routes!(lifecycle::get_methodology))
        .routes(routes!(lifecycle::change_methodology))
        .routes(routes!(lifecycle::list_projects, lifecycle::draft_project))
        .routes(routes!(lifecycle::get_project))
        .routes(routes!(lifecycle::transition_project))
        .routes(routes!(lifecycle::assign_verifier))
        .routes(routes!(lifecycle::set_participation))
        .routes(routes!(lifecycle::apply_to_join))
        .routes(routes!(lifecycle::list_applications))
        .routes(routes!(lifecycle::get_application))
        .routes(routes!(lifecycle::accept_application))
        .routes(routes!(lifecycle::decline_application))
        .routes(routes!(lifecycle::list_participants, lifecycle::register_participant))
        .routes(routes!(lifecycle::get_participant))
        .routes(routes!(lifecycle::register_parcel))
        .routes(routes!(lifecycle::list_parcels))
        .routes(routes!(lifecycle::get_parcel))
        .routes(routes!(lifecycle::list_enrolments, lifecycle::enrol))
        .routes(routes!(lifecycle::get_enrolment))
        .routes(routes!(lifecycle::request_withdrawal))
        .routes(routes!(lifecycle::decide_withdrawal))
        .routes(routes!(lifecycle::get_grounds, lifecycle::set_grounds))
        .routes(routes!(lifecycle::list_reports, lifecycle::draft_report))
        .routes(routes!(lifecycle::get_report))
        .routes(routes!(lifecycle::change_report))
        .routes(routes!(lifecycle::list_requests, lifecycle::request_issuance))
        .routes(routes!(lifecycle::get_request))
        .routes(routes!(lifecycle::approve_issuance))
        .routes(routes!(lifecycle::list_reversals, lifecycle::record_reversal))
        .routes(routes!(lifecycle::approve_reversal))
        .routes(routes!(lifecycle::list_key_rotations, lifecycle::request_key_rotation))
        .routes(routes!(lifecycle::approve_key_rotation))
        .routes(routes!(lifecycle::list_labels, lifecycle::add_label))
        .routes(routes!(lifecycle::ecology::get_explanation))
        .routes(routes!(lifecycle::ecology::get_catalogue))
        .routes(routes!(lifecycle::ecology::get_project_ecology))
        .routes(routes!(lifecycle::ecology::get_batch_ecology))
        .routes(routes!(lifecycle::ecology::get_series))
        .routes(routes!(lifecycle::ecology::get_chart))
        .routes(routes!(controls::get_controls, controls::configure_controls))
        .routes(routes!(controls::freeze))
        .routes(routes!(controls::list_counterparties, controls::propose_counterparty))
        .routes(routes!(controls::approve_counterparty))
        .routes(routes!(controls::remove_counterparty))
        .routes(routes!(controls::list_cancellation_requests))
        .routes(routes!(controls::approve_cancellation))
        .routes(routes!(security::list_tokens))
        .routes(routes!(security::revoke_token))
        .routes(routes!(security::security_events))
        .routes(routes!(accounts::list_users))
        .routes(routes!(accounts::request_role))
        .routes(routes!(accounts::list_role_requests))
        .routes(routes!(accounts::approve_role))
        .routes(routes!(sales::list_pricing, sales::record_pricing))
        .routes(routes!(sales::preview_quote))
        .routes(routes!(sales::create_quote))
        .routes(routes!(sales::get_quote))
        .routes(routes!(sales::accept_quote))
        .routes(routes!(sales::list_sales))
        .routes(routes!(sales::get_sale))
        .routes(routes!(sales::settle_sale))
        .routes(routes!(sales::state_claim))
        .routes(routes!(sales::cancel_sale))
        .routes(routes!(sales::expire_sale))
        .routes(routes!(sales::refund_sale))
        .routes(routes!(sales::note_sale))
        .routes(routes!(sales::pay_payout))
        .routes(routes!(sales::get_statement))
        .routes(routes!(sales::get_statement_csv))
        .routes(routes!(sales::get_disclosure))
        .routes(routes!(sales::certificate::certificate_html))
        .routes(routes!(sales::certificate::certificate_pdf))
        .split_for_parts();
    document_problems(&mut doc);
    document_idempotency_keys(&mut doc);
    (router, doc)
}

/// Every error is an RFC 9457 problem+json body, whatever its status. The document says so for
/// every operation (errors listed by status get the problem media type; a `default` response
/// covers the rest), so generated clients and contract testers such as schemathesis know the
/// shape and media type of any error without each handler listing every status it can return.
fn document_problems(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
    const PROBLEM_JSON: &str = "application/problem+json";
    let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                if let (RefOr::T(response), true) = (response, status.starts_with(['4', '5']))
                    && let Some(json) = response.content.shift_remove("application/json")
                {
                    response.content.insert(PROBLEM_JSON.into(), json);
                }
            }
            responses.entry("default".into()).or_insert_with(|| {
                let description = "A problem (RFC 9457): `type` says which, stably; `detail` explains.";
                RefOr::T(ResponseBuilder::new().description(description).content(PROBLEM_JSON, problem()).build())
            });
        }
    }
}

/// The Idempotency-Key header's rule (`RequestKey::new`: 1–255 visible ASCII characters) in the
/// document, on every operation that takes the header, so that generated clients and contract
/// testers send keys the server accepts instead of being refused before the operation's own rules.
fn document_idempotency_keys(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};
    let key = || {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(furrow_app::MAX_KEY_LEN))
                .pattern(Some("^[!-~]+$"))
                .build(),
        ))
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && parameter.parameter_in == ParameterIn::Header
                    && parameter.name == "Idempotency-Key"
                {
                    parameter.schema = Some(key());
                }
            }
        }
    }
}

/// How long a client may take to send a request's headers before the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take before the client is told to retry.
const REQUEST_TIME_LIMIT: Duration = Duration::from_secs(30);

/// Answers a request that runs too long with a problem+json 503. A mutation may still commit after
/// its caller stopped waiting, which is why the detail points to the Idempotency-Key.
async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIME_LIMIT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; it may still complete, so retry with the same Idempotency-Key",
        )
        .into_response(),
    }
}

/// The OpenAPI document, e.g. for a snapshot test or `furrow openapi`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// The whole HTTP application.
pub fn router(registry: Registry) -> Router {
    let (api, doc) = api();
    let doc = Json(doc);
    let api = api
        .route("/openapi.json", get(move || async move { doc }))
        .route("/log/tile/{*path}", get(handlers::get_tile))
        .fallback(|| async { ApiError::not_found("no such API route; see /api/v1/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route does not accept that method",
            )
        });
    Router::new()
        .nest("/api/v1", api)
        .merge(web::routes())
        .fallback(|| async { ApiError::not_found("nothing here; the API lives under /api/v1") })
        .with_state(AppState::new(registry))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(time_limit))
        .layer(TraceLayer::new_for_http())
}

/// Serves the application until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::server::conn::http1::Builder;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let app = router(registry);
    let mut builder = Builder::new();
    // axum::serve sets no timer, so hyper's header timeout never runs and a client that sends
    // its headers one byte a minute (slow loris) holds a connection forever. HTTP/1.1 only: the
    // API and the pages need nothing more, and it keeps h2 out of the build.
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer),
                Err(e) => {
                    // Out of file descriptors, most likely: back off instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        // The client's address, for the sign-in rate limit (the TCP peer: a proxy in front
        // would need its own limit, since X-Forwarded-For is whatever the client says).
        let with_peer = tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(extract::PeerAddr(peer.ip()));
                request
            },
        );
        let service = TowerToHyperService::new(with_peer);
        let connection = connections.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    // Let requests in flight finish; idle connections close now.
    connections.shutdown().await;
    Ok(())
}
