//! `GET /verify`: the public "how to verify" page. Plain HTML, no JavaScript, filled in with this
//! registry's own URL, checkpoint and key, so every command on it can be copied and run.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let store = state.registry.store();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    // Behind a TLS-terminating proxy the scheme comes from X-Forwarded-Proto.
    let scheme =
        headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    let base = escape(&format!("{scheme}://{host}"));
    let program = store.program().await?.map_or_else(|| "this registry".to_owned(), |p| p.name);
    let checkpoint = store.latest_checkpoint().await?;
    let key =
        state.registry.log_key().map_or_else(|| "(this registry does not sign its log)".to_owned(), str::to_owned);
    let (key, program) = (escape(&key), escape(&program));
    let head = match &checkpoint {
        Some(c) => format!("The latest checkpoint commits to the first <strong>{}</strong> log entries.", c.tree_size),
        None => "No checkpoint has been published yet.".to_owned(),
    };
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>How to verify {program}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1d2a1f; }}
h1, h2 {{ line-height: 1.2; }}
pre, code {{ font: 14px ui-monospace, monospace; background: #f2f5ef; }}
pre {{ padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }}
.key {{ border-left: 4px solid #5a7d3a; padding-left: .75rem; }}
</style>
</head>
<body>
<main>
<h1>How to verify {program}</h1>
<p>Every change to this registry — each issuance, transfer, retirement and cancellation — is an entry in one
append-only log. The log is a Merkle tree (RFC 9162), and the program signs its root in
<a href="/api/v1/log/checkpoint">checkpoints</a> (C2SP signed notes, Ed25519). You do not have to trust the
operator: anyone can recompute the tree, check the signature, replay the log and compare the result with what
the registry publishes. {head}</p>

<h2>1. Get the program's verifier key</h2>
<p class="key">The key this server signs with is<br><code>{key}</code></p>
<p>Do not rely on this page for it: compare it with the key the program publishes elsewhere (its website,
reports, contracts). Key changes are themselves log entries, each vouched for by a checkpoint signed with the
previous key.</p>

<h2>2. Audit the live registry</h2>
<pre>furrow verify --url {base} --key '{key}'</pre>
<p>This recomputes every leaf hash and the tree, checks the checkpoint's signature, replays every entry into a
fresh ledger, checks the invariants (every credit accounted for, no serial in two blocks), and compares the
replayed blocks with the published ones. It remembers the checkpoint in <code>~/.furrow/witness/</code>, so a
later run detects a log that was rolled back or rewritten. Exit status 0 means nothing was found.</p>

<h2>3. Audit an offline copy</h2>
<pre>curl -o log.tar {base}/api/v1/log/bundle.tar &amp;&amp; mkdir log &amp;&amp; tar -xf log.tar -C log
furrow verify --bundle log --key '{key}'</pre>
<p>The copy is the log in the <a href="https://c2sp.org/tlog-tiles">C2SP tlog-tiles</a> layout
(<code>checkpoint</code>, <code>tile/…</code>, <code>tile/entries/…</code>); any static host can serve it.
<code>furrow mirror --url {base} --out log</code> makes the same copy tile by tile.</p>

<h2>4. Verify one retirement</h2>
<pre>curl -o certificate.json {base}/api/v1/retirements/R000001/certificate
furrow verify --certificate certificate.json --key '{key}'</pre>
<p>A certificate carries the retirement, the log entry that recorded it and a
<a href="https://c2sp.org/tlog-proof">tlog-proof</a> bundle: the entry's inclusion proof and a signed checkpoint.
It verifies without contacting the registry.</p>

<h2>What this proves, and what it does not</h2>
<ul>
<li>It proves the published state follows from the signed log, that no entry was altered, dropped or reordered
after it was signed, and that the log only ever grew since you last checked.</li>
<li>It cannot prove that the registry shows everyone the same log. Compare checkpoints with other verifiers
(witnesses) to rule out a split view.</li>
<li>It proves what the records say, not that a farm drained its paddies: that is what verifiers' reports and
evidence hashes are for.</li>
</ul>
<p>Endpoints: <a href="/api/v1/log/checkpoint">checkpoint</a> · <a href="/api/v1/log/key">key</a> ·
<a href="/api/v1/log/entries">entries</a> · <a href="/api/v1/openapi.json">OpenAPI</a></p>
</main>
</body>
</html>
"#
    );
    let mut response = html.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    Ok(response)
}
