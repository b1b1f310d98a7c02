//! A participant's (a farmer's) signed-in page, `/me/farm` (issue #9): its parcels and
//! enrolments, the monitoring reports its parcels are in with the credits they produced, the
//! sales of those credits with its payouts (its statement, also as CSV), and the withdrawal
//! request form.
//!
//! A user is linked to a participant through an account: the participant's account
//! (`Participant::account`) is one of the accounts the user acts for (`UserRecord::accounts`, the
//! same list a token carries). That is the link `authz::owns_participant` already checks, so the
//! page shows exactly what the API lets this user read, and the withdrawal request is the API's
//! command under the same rule.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use furrow_app::accounts::Session;
use furrow_domain::lifecycle::{EnrolmentStatus, Lifecycle, LifecycleCommand};
use furrow_domain::sales::{Currency, Money};
use furrow_domain::{Command, Decimal, ParticipantId};
use serde::Deserialize;

use super::acting::{answer, check_form, done, malformed, page, refuse, session};
use super::i18n::Lang;
use super::{Chrome, Reader};
use crate::AppState;
use crate::error::ApiError;
use crate::handlers::parse;
use crate::sales::dto::MoneyDto;
use crate::sales::{statement_csv, statement_for};

pub struct ParcelRow {
    pub id: String,
    pub name: String,
    pub area: String,
    pub place: String,
}

pub struct EnrolmentRow {
    pub id: String,
    pub project: String,
    pub parcel: String,
    pub from: String,
    pub to: String,
    pub status: &'static str,
    pub ground: String,
    pub effective: String,
    pub can_withdraw: bool,
}

pub struct ReportRow {
    pub id: String,
    pub project: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub credits: String,
    pub batch: String,
}

pub struct LineRow {
    pub sale: String,
    pub batch: String,
    pub settled: String,
    pub sold: String,
    pub contribution: String,
    pub amount: String,
    pub status: &'static str,
    pub reference: String,
}

pub struct StatementView {
    pub participant: String,
    pub csv: String,
    pub lines: Vec<LineRow>,
    pub totals: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "farm.html")]
pub struct FarmPage {
    pub l: Lang,
    pub c: Chrome,
    pub csrf: String,
    pub notice: Option<&'static str>,
    /// "F000001 (Participant F000001, Niigata)" for each participant the user acts for.
    pub participants: Vec<String>,
    pub parcels: Vec<ParcelRow>,
    pub enrolments: Vec<EnrolmentRow>,
    pub grounds: Vec<String>,
    /// Whether any enrolment is active, so that a withdrawal can be requested.
    pub withdrawable: bool,
    pub reports: Vec<ReportRow>,
    pub produced: String,
    pub statements: Vec<StatementView>,
}

#[derive(Debug, Deserialize)]
pub struct WithdrawalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enrolment: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    note: String,
}

/// The participants this session acts for (the link described above).
fn own_participants(session: &Session, lc: &Lifecycle) -> Vec<ParticipantId> {
    let owns = |id: &ParticipantId| furrow_app::owns_participant(&session.principal, lc, *id);
    lc.participants.keys().filter(|id| owns(id)).copied().collect()
}

/// Tonnes of CO₂e with their decimals (contributions are fractional), grouped like integers.
fn tco2e(l: Lang, d: Decimal) -> String {
    let text = d.round_dp(3).normalize().to_string();
    let (whole, frac) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let whole = whole.parse::<u64>().map_or_else(|_| whole.to_owned(), |n| l.num(&n));
    let n = frac.map_or(whole.clone(), |f| format!("{whole}.{f}"));
    match l {
        Lang::En => format!("{n} t CO₂e"),
        Lang::Ja => format!("{n} t-CO₂e"),
    }
}

fn money(l: Lang, m: &MoneyDto) -> String {
    match m.currency.parse::<Currency>() {
        Ok(currency) => l.money(&Money { currency, minor: m.minor }),
        Err(_) => format!("{} {}", m.amount, m.currency),
    }
}

fn status_key(status: &str) -> &'static str {
    match status {
        "paid" => "act.payout.paid",
        "owed" => "act.payout.owed",
        "forfeited" => "act.payout.forfeited",
        "active" => "act.enrolment.active",
        "withdrawal_requested" => "act.enrolment.withdrawal_requested",
        "withdrawn" => "act.enrolment.withdrawn",
        _ => "act.unknown",
    }
}

fn parcels_and_enrolments(l: Lang, lc: &Lifecycle, own: &[ParticipantId]) -> (Vec<ParcelRow>, Vec<EnrolmentRow>) {
    let parcels = lc
        .parcels
        .values()
        .filter(|p| own.contains(&p.participant))
        .map(|p| ParcelRow {
            id: p.id.to_string(),
            // The owner sees its own field's name; the public sees only the grid cell.
            name: p.private.data().map(|d| d.name.clone()).unwrap_or_default(),
            area: format!("{} ha", p.area_ha.normalize()),
            place: format!("{} {}", p.prefecture, p.municipality),
        })
        .collect();
    let enrolments = lc
        .enrolments
        .values()
        .filter(|e| own.contains(&e.participant))
        .map(|e| EnrolmentRow {
            id: e.id.to_string(),
            project: e.project.to_string(),
            parcel: e.parcel.to_string(),
            from: l.date(&e.period.from.to_string()),
            to: l.date(&e.period.to.to_string()),
            status: status_key(e.status.as_str()),
            ground: e.withdrawal.as_ref().map(|w| w.ground.clone()).unwrap_or_default(),
            effective: e
                .withdrawal
                .as_ref()
                .and_then(|w| w.effective)
                .map(|d| l.date(&d.to_string()))
                .unwrap_or_default(),
            can_withdraw: e.status == EnrolmentStatus::Active,
        })
        .collect();
    (parcels, enrolments)
}

/// The reports the participant's parcels are in, with the credits those parcels produced (their
/// frozen contributions to the verified quantification).
fn reports(l: Lang, lc: &Lifecycle, own: &[ParticipantId]) -> (Vec<ReportRow>, Decimal) {
    let mine = |parcel| lc.parcels.get(parcel).is_some_and(|p| own.contains(&p.participant));
    let mut total = Decimal::ZERO;
    let mut rows = Vec::new();
    for r in lc.reports.values().filter(|r| r.areas.iter().any(|(p, _)| mine(p))) {
        let credits = r
            .quantification
            .as_ref()
            .map(|q| q.contributions.iter().filter(|(p, _)| mine(p)).map(|(_, c)| *c).sum::<Decimal>());
        total += credits.unwrap_or_default();
        let batch = lc.requests.values().find(|q| q.report == r.id).and_then(|q| q.batch);
        rows.push(ReportRow {
            id: r.id.to_string(),
            project: r.spec.project.to_string(),
            from: l.date(&r.spec.period.from.to_string()),
            to: l.date(&r.spec.period.to.to_string()),
            status: l.word(r.status.as_str()).to_owned(),
            credits: credits.map(|c| tco2e(l, c)).unwrap_or_else(|| "—".into()),
            batch: batch.map(|b| b.to_string()).unwrap_or_default(),
        });
    }
    (rows, total)
}

fn statement_view(l: Lang, state: &AppState, session: &Session, id: ParticipantId) -> Result<StatementView, ApiError> {
    let s = statement_for(state, &session.principal, &id.to_string())?;
    let lines = s
        .lines
        .iter()
        .map(|x| LineRow {
            sale: x.sale.clone(),
            batch: x.batch.clone(),
            settled: l.date(&x.settled_at),
            sold: l.tonnes(&x.credits_sold),
            contribution: x.contribution.parse::<Decimal>().map_or_else(|_| x.contribution.clone(), |d| tco2e(l, d)),
            amount: money(l, &x.amount),
            status: status_key(&x.status),
            reference: x.reference.clone().unwrap_or_default(),
        })
        .collect();
    let totals = s.totals.iter().map(|t| (status_key(&t.status), money(l, &t.amount))).collect();
    Ok(StatementView {
        participant: s.participant.clone(),
        csv: format!("/me/farm/statement.csv?participant={id}"),
        lines,
        totals,
    })
}

async fn farm_page(state: &AppState, reader: &Reader, session: &Session) -> Result<Response, ApiError> {
    let l = reader.lang;
    let lc = state.registry.lifecycle();
    let own = own_participants(session, &lc);
    let participants = own
        .iter()
        .filter_map(|id| lc.participants.get(id))
        .map(|p| format!("{} ({}, {})", p.id, p.pseudonym, p.prefecture))
        .collect();
    let (parcels, enrolments) = parcels_and_enrolments(l, &lc, &own);
    let (reports, produced) = reports(l, &lc, &own);
    let statements = own.iter().map(|id| statement_view(l, state, session, *id)).collect::<Result<_, _>>()?;
    let notice = reader.query.as_deref().is_some_and(|q| q.split('&').any(|kv| kv == "done=withdrawal"));
    Ok(page(&FarmPage {
        l,
        c: reader.chrome(state).await,
        csrf: session.csrf.clone(),
        notice: notice.then_some("act.farm.withdrawal_sent"),
        participants,
        parcels,
        grounds: lc.grounds.clone(),
        withdrawable: enrolments.iter().any(|e| e.can_withdraw),
        enrolments,
        reports,
        produced: tco2e(l, produced),
        statements,
    }))
}

pub async fn farm(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    answer(&state, &reader, farm_page(&state, &reader, &session).await, "/me").await
}

/// The statement as CSV: the API's file, under the session's authorization.
pub async fn statement(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    let asked = reader.query.as_deref().and_then(participant_param).unwrap_or_default();
    let lc = state.registry.lifecycle();
    let id = if asked.is_empty() {
        own_participants(&session, &lc).first().map(ToString::to_string).unwrap_or_default()
    } else {
        asked
    };
    match statement_for(&state, &session.principal, &id) {
        Ok(s) => {
            let mut response = statement_csv(&s).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            let disposition = format!("attachment; filename=\"statement-{}.csv\"", s.participant);
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => refuse(&state, &reader, e, "/me/farm").await,
    }
}

/// `participant=F000001` from a query string (ids are plain ASCII; nothing to decode).
fn participant_param(query: &str) -> Option<String> {
    query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "participant").map(|(_, v)| v.to_owned())
}

/// The withdrawal request: the API's `RequestWithdrawal`, as this user.
pub async fn withdraw(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    form: Result<Form<WithdrawalForm>, FormRejection>,
) -> Response {
    let session = match session(&state, &headers).await {
        Ok(s) => s,
        Err(redirect) => return redirect,
    };
    let result = async {
        let Form(form) = form.map_err(|_| malformed())?;
        check_form(&headers, &session, &form.csrf)?;
        let command = LifecycleCommand::RequestWithdrawal {
            enrolment: parse(form.enrolment.trim())?,
            ground: form.ground,
            note: form.note,
            salt: [0; 32],
        };
        let command = Command::Lifecycle { by: session.principal.subject.clone(), command };
        state.registry.execute(&session.principal, command, None).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => done("/me/farm?done=withdrawal"),
        Err(e) => refuse(&state, &reader, e, "/me/farm").await,
    }
}
