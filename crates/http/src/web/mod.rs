//! The public registry explorer: server-rendered HTML pages (askama templates in
//! `crates/http/templates/`), one stylesheet, no JavaScript, in English and Japanese; the open-data
//! exports (`exports.rs`) and the change feed (`feed.rs`). Every page reads through the
//! application (`Registry`), like the JSON API, and shows only public data.
//!
//! Signed-in pages sit beside these under the same layout: `account.rs` (sign-in, `/me`),
//! `participant.rs` (a farmer's parcels, reports, payouts, statement, withdrawal request) and
//! `buyer.rs` (quote, purchase, claim, certificate), with what they share in `acting.rs`.

mod account;
mod acting;
mod buyer;
pub(crate) mod ecology;
mod exports;
mod feed;
pub mod i18n;
mod pages;
mod participant;
mod review;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use i18n::Lang;

/// The stylesheet, and the versioned path it is served at: the path changes whenever the file
/// does, so browsers may cache it for a year.
const CSS: &str = include_str!("../../static/furrow.css");
static CSS_PATH: LazyLock<String> =
    LazyLock::new(|| format!("/static/furrow-{}.css", &hex::encode(Sha256::digest(CSS.as_bytes()))[..12]));

/// Pages may load styles from here only, run no script, and never be framed.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/projects", get(pages::projects))
        .route("/projects/{code}", get(pages::project))
        .route("/batches", get(pages::batches))
        .route("/batches/{id}", get(pages::batch))
        .route("/reports/{id}", get(ecology::report))
        .route("/serials", get(pages::serials))
        .route("/retirements", get(pages::retirements))
        .route("/retirements/{id}", get(pages::retirement))
        .route("/methodologies", get(pages::methodologies))
        .route("/methodologies/{id}", get(pages::methodology))
        .route("/program", get(pages::program))
        .route("/join", get(pages::join))
        .route("/transparency", get(pages::transparency))
        .route("/downloads", get(pages::downloads))
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signout", axum::routing::post(account::signout))
        .route("/me", get(account::me))
        .route("/me/totp", axum::routing::post(account::totp_start))
        .route("/me/totp/confirm", axum::routing::post(account::totp_confirm))
        .route("/review", get(review::queues))
        .route("/review/program", get(review::program_entries))
        .route("/review/program/new", get(review::new_program_entry).post(review::add_program_entry))
        .route("/review/program/{id}", get(review::program_entry).post(review::save_program_entry))
        .route("/review/{kind}/{id}/{action}", axum::routing::post(review::act))
        // Issue #9: the signed-in pages that act, for participants and buyers.
        .route("/me/farm", get(participant::farm))
        .route("/me/farm/statement.csv", get(participant::statement))
        .route("/me/farm/withdrawal", axum::routing::post(participant::withdraw))
        .route("/buy", get(buyer::buy).post(buyer::quote_post))
        .route("/me/purchases", get(buyer::purchases))
        .route("/me/retire", get(buyer::retire).post(buyer::retire_post))
        .route("/me/quotes/{id}", get(buyer::quote))
        .route("/me/quotes/{id}/accept", axum::routing::post(buyer::accept_post))
        .route("/me/sales/{id}", get(buyer::sale))
        .route("/me/sales/{id}/claim", axum::routing::post(buyer::claim_post))
        // The old address of the how-to-verify page keeps working.
        .route("/verify", get(|| async { axum::response::Redirect::permanent("/transparency") }))
        .route("/static/{file}", get(stylesheet))
        .route("/exports/{file}", get(exports::export))
        .route("/exports/offsetsdb/{file}", get(exports::offsetsdb))
        .route("/feed.json", get(feed::json))
        .route("/feed.atom", get(feed::atom))
        .layer(axum::middleware::from_fn(page_headers))
}

async fn stylesheet(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    if format!("/static/{file}") != *CSS_PATH {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
        .into_response()
}

/// Security headers on every page (HSTS when the request came over TLS), and the language cookie
/// when the reader chose with `?lang=`.
async fn page_headers(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(lang_param).and_then(Lang::parse);
    let tls = crate::extract::over_tls(request.headers());
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    // Only over TLS (a proxy says so): over plain HTTP a browser ignores it anyway, and a
    // development server on localhost must stay reachable without TLS.
    if tls {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if h.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html")) {
        h.insert(header::VARY, HeaderValue::from_static("accept-language, cookie"));
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    }
    if let Some(lang) = chosen {
        let cookie = format!("{}={}; Path=/; Max-Age=31536000; SameSite=Lax", i18n::COOKIE, lang.code());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, value);
        }
    }
    response
}

fn lang_param(query: &str) -> Option<&str> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").map(|(_, v)| v)
}

/// One navigation link of the layout.
pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub current: bool,
}

const NAV: &[(&str, &str)] = &[
    ("nav.home", "/"),
    ("nav.projects", "/projects"),
    ("nav.batches", "/batches"),
    ("nav.serials", "/serials"),
    ("nav.retirements", "/retirements"),
    ("nav.methodologies", "/methodologies"),
    ("nav.program", "/program"),
    ("nav.join", "/join"),
    ("nav.transparency", "/transparency"),
    ("nav.downloads", "/downloads"),
];

/// What the layout around every page needs.
pub struct Chrome {
    pub program: String,
    pub css: &'static str,
    /// This page in the other language.
    pub switch: String,
    pub nav: Vec<NavItem>,
    /// The sign-in link, or "My account" when the reader has a session cookie.
    pub account: NavItem,
}

/// Who is reading: the language and the page asked for. Extracted from every page request.
pub struct Reader {
    pub lang: Lang,
    pub path: String,
    pub query: Option<String>,
    /// Whether the request carries a session cookie (not checked: only the link's wording).
    pub has_session: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().map(str::to_owned);
        let lang = Lang::negotiate(query.as_deref().and_then(lang_param), &parts.headers);
        let has_session = crate::extract::session_cookie(&parts.headers).is_some();
        Ok(Self { lang, path: parts.uri.path().to_owned(), query, has_session })
    }
}

impl Reader {
    pub async fn chrome(&self, state: &AppState) -> Chrome {
        // The program's name heads every page; without one (an uninitialised registry) say what it is.
        let program = match state.registry.store().program().await {
            Ok(Some(p)) => p.name,
            _ => self.lang.t("site.name").to_owned(),
        };
        let mut others: Vec<&str> = self
            .query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        let lang = format!("lang={}", self.lang.other().code());
        others.push(&lang);
        let switch = format!("{}?{}", self.path, others.join("&"));
        let section = |href: &str| if href == "/" { self.path == "/" } else { self.path.starts_with(href) };
        let nav = NAV.iter().map(|(key, href)| NavItem { key, href, current: section(href) }).collect();
        let account = if self.has_session {
            NavItem { key: "nav.me", href: "/me", current: self.path.starts_with("/me") }
        } else {
            NavItem { key: "nav.signin", href: "/signin", current: self.path == "/signin" }
        };
        Chrome { program, css: CSS_PATH.as_str(), switch, nav, account }
    }

    /// An error as a page, in the reader's language.
    pub async fn fail(&self, state: &AppState, error: ApiError) -> Response {
        let heading = if error.status == StatusCode::NOT_FOUND {
            self.lang.t("error.not_found")
        } else {
            self.lang.t("error.title")
        };
        if error.status.is_server_error() {
            tracing::error!(code = error.code, detail = %error.detail, "page failed");
        }
        let page = pages::ErrorPage { l: self.lang, c: self.chrome(state).await, heading, detail: error.detail };
        let mut response = render(&page);
        *response.status_mut() = error.status;
        response
    }
}

/// Renders a template as an HTML response.
pub fn render<T: askama::Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What the exports offer, each as CSV and JSON.
pub const EXPORT_KINDS: &[&str] = &["projects", "batches", "blocks", "retirements", "cancellations"];
