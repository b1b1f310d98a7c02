//! The change feed: new log entries for aggregators and mirrors. `GET /feed.json?cursor=N`
//! returns the entries after index N, oldest first, with the cursor to ask with next (poll it:
//! an empty page means nothing new yet); `GET /feed.atom` is the latest entries as an Atom feed
//! (RFC 4287) for feed readers. Entries are the log's own: the kind, actor and leaf hash, and a
//! link to the canonical bytes under `/api/v1/log/entries/{index}`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use furrow_app::store::{LogRow, Page};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1_000;
/// Entries in the Atom feed.
const ATOM_ENTRIES: u64 = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    cursor: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub struct FeedItem {
    pub index: u64,
    pub timestamp: String,
    pub kind: String,
    pub actor: String,
    pub leaf_hash: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct Feed {
    pub items: Vec<FeedItem>,
    /// Ask with this cursor next time; it is the last index seen (or the one you sent).
    pub next_cursor: String,
    /// Entries in the log now.
    pub log_size: u64,
}

fn item(row: &LogRow) -> FeedItem {
    FeedItem {
        index: row.index,
        timestamp: furrow_app::rfc3339(row.timestamp),
        kind: row.kind.clone(),
        actor: row.actor.clone(),
        leaf_hash: hex::encode(row.leaf_hash),
        url: format!("/api/v1/log/entries/{}", row.index),
    }
}

pub async fn json(
    State(state): State<AppState>,
    crate::extract::Query(q): crate::extract::Query<FeedParams>,
) -> Result<Json<Feed>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    // The cursor is the index of the last entry the follower has; none means from the start.
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<u64>().map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", "cursor is not one this feed issued")
        })?),
    };
    let store = state.registry.store();
    let log_size = store.log_size().await?;
    let rows = store.log_entries(Page { after, limit }).await?;
    let next_cursor = rows.last().map(|r| r.index).or(after).map(|i| i.to_string()).unwrap_or_default();
    Ok(Json(Feed { items: rows.iter().map(item).collect(), next_cursor, log_size }))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub async fn atom(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let store = state.registry.store();
    let size = store.log_size().await?;
    let after = size.checked_sub(ATOM_ENTRIES + 1);
    let mut rows = store.log_entries(Page { after, limit: ATOM_ENTRIES as u32 }).await?;
    rows.reverse();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme =
        headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    let base = format!("{scheme}://{host}");
    let program = store.program().await?;
    let (title, code) =
        program.map_or_else(|| ("Furrow registry".to_owned(), "furrow".to_owned()), |p| (p.name, p.code.to_string()));
    let updated = rows.first().map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |r| furrow_app::rfc3339(r.timestamp));
    let mut xml = String::with_capacity(512 + rows.len() * 600);
    xml.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    xml.push_str(&format!(
        "<title>{} · log</title>\n<id>urn:furrow:{}:log</id>\n<updated>{updated}</updated>\n\
         <link rel=\"self\" href=\"{base}/feed.atom\"/>\n<link rel=\"alternate\" href=\"{base}/transparency\"/>\n\
         <author><name>{}</name></author>\n",
        escape(&title),
        escape(&code.to_lowercase()),
        escape(&title)
    ));
    for row in &rows {
        let i = item(row);
        xml.push_str(&format!(
            "<entry>\n<id>urn:furrow:{}:log:{}</id>\n<title>#{} {}</title>\n<updated>{}</updated>\n\
             <link href=\"{base}{}\"/>\n<summary>{} by {}; leaf hash {}</summary>\n</entry>\n",
            escape(&code.to_lowercase()),
            i.index,
            i.index,
            escape(&i.kind),
            i.timestamp,
            i.url,
            escape(&i.kind),
            escape(&i.actor),
            i.leaf_hash
        ));
    }
    xml.push_str("</feed>\n");
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}
