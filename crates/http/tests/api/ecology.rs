//! Issue #6 through the real server: a dozen parcels under the AG-005 engine → verified report
//! (frozen result) → the explanation recomputed step by step → four-eyes issuance → the batch's
//! ecological score; project scores with trade-off flags, indicator series and SVG charts; bad
//! indicator data refused without a trace.

use furrow_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app};

struct Actors {
    op_a: String,
    op_b: String,
    verifier: String,
}

async fn actors(app: &TestApp) -> Actors {
    Actors {
        op_a: app.operator.clone(),
        op_b: app.token("operator b", Role::Operator, &[]).await,
        verifier: app.token("verifier", Role::Verifier, &[]).await,
    }
}

fn ag005() -> Value {
    let field = |name: &str, kind: &str, required: bool| json!({"name": name, "kind": kind, "required": required});
    json!({
        "code": "AG-005", "version": "v2.0", "title": "Extended mid-season drainage in paddy rice",
        "engine": "jcredit-ag005-drainage",
        "parameters": {"version": "ag005@2026.1-reconstruction", "values": {}},
        "schema": [
            field("prefecture", "integer", true), field("daily_water_loss_mm", "number", true),
            field("drainage_days", "integer", true), field("prior_drainage_days_1", "integer", true),
            field("prior_drainage_days_2", "integer", true), field("straw_incorporated", "flag", false)
        ],
        "deductions": {"uncertainty": "10", "leakage": "0", "buffer": "3"},
        "gwp": "AR5", "indicators": ["frog_count"]
    })
}

/// P0001 under the real AG-005 engine with twelve farmers, one enrolled parcel each.
async fn twelve_parcels(app: &TestApp, a: &Actors) -> Vec<String> {
    app.post_ok("/methodologies", &a.op_a, ag005()).await;
    app.post_ok("/methodologies/M0001/approve", &a.op_b, json!({})).await;
    let project = json!({"name": "Ibaraki drainage", "methodology": "M0001", "country": "JP", "region": "JP-08",
        "crediting_period": {"from": "2024-01-01", "to": "2030-12-31"}});
    app.post_ok("/projects", &a.op_a, project).await;
    app.post_ok("/projects/P0001/verifier", &a.op_a, json!({"verifier": "verifier"})).await;
    for (action, who) in [("submit", &a.op_a), ("validate", &a.verifier), ("register", &a.op_b)] {
        app.post_ok("/projects/P0001/transitions", who, json!({"action": action})).await;
    }
    let mut parcels = Vec::new();
    for i in 0..12 {
        let person = json!({"person": {"name": format!("Farmer {i}"), "contact": "-", "address": "Tsukuba"}, "prefecture": "Ibaraki"});
        let id = app.post_ok("/participants", &a.op_a, person).await["id"].as_str().expect("id").to_owned();
        let (lon, lat) = (140.0 + f64::from(i) * 0.01, 36.0);
        let geometry = json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + 0.003, lat], [lon + 0.003, lat + 0.003], [lon, lat + 0.003], [lon, lat]]]});
        let parcel = json!({"name": format!("Field {i}"), "area_ha": "10", "prefecture": "Ibaraki", "municipality": "Tsukuba", "geometry": geometry});
        let p = app.post_ok(&format!("/participants/{id}/parcels"), &a.op_a, parcel).await;
        let p = p["id"].as_str().expect("parcel").to_owned();
        let enrol =
            json!({"project": "P0001", "parcel": p, "contract_period": {"from": "2025-01-01", "to": "2027-12-31"}});
        app.post_ok("/enrolments", &a.op_a, enrol).await;
        parcels.push(p);
    }
    parcels
}

/// J1 of the research note on every parcel (Ibaraki, 13 mm/d, 18 days against 10 and 12,
/// straw incorporated: 16.912 t CO2e per 10 ha), with per-parcel indicators.
fn report(parcels: &[String], year: u32, frogs: impl Fn(usize) -> u32) -> Value {
    let activity: Vec<Value> = parcels
        .iter()
        .map(|p| {
            json!({"parcel": p, "values": {"prefecture": 8, "daily_water_loss_mm": "13", "drainage_days": 18,
            "prior_drainage_days_1": 10, "prior_drainage_days_2": 12, "straw_incorporated": true}})
        })
        .collect();
    let mut indicators = Vec::new();
    for (i, p) in parcels.iter().enumerate() {
        let sha = format!("{:064x}", i + 1);
        indicators.push(json!({"name": "frog_count", "value": frogs(i).to_string(), "unit": "individuals per survey", "parcel": p, "evidence_sha256": sha}));
        // Half the parcels keep a refuge ditch for the tadpoles during the 18-day drainage.
        indicators.push(json!({"name": "refuge_ditch", "value": if i % 2 == 0 { "1" } else { "0" }, "parcel": p}));
    }
    indicators.push(json!({"name": "nitrate", "value": "5", "unit": "mg NO3-N/L"}));
    indicators.push(json!({"name": "winter_flooding", "value": "1", "parcel": parcels[3]}));
    json!({
        "project": "P0001", "period": {"from": format!("{year}-04-01"), "to": format!("{year}-10-31")},
        "activity": activity,
        "evidence": [{"name": "drainage-logs.zip", "sha256": "cd".repeat(32)}],
        "indicators": indicators
    })
}

async fn verified(app: &TestApp, a: &Actors, body: Value) -> String {
    let n = app.post_ok("/reports", &a.op_a, body).await["id"].as_str().expect("report").to_owned();
    app.post_ok(&format!("/reports/{n}/submit"), &a.op_a, json!({})).await;
    app.post_ok(&format!("/reports/{n}/verify"), &a.verifier, json!({})).await;
    n
}

fn num(v: &Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

#[tokio::test]
async fn a_dozen_parcels_are_explained_issued_and_scored() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let parcels = twelve_parcels(&app, &a).await;

    // Indicator data that does not fit is refused, changing nothing.
    let before = app.get_ok("/reports").await;
    let mut twice = report(&parcels, 2025, |_| 40);
    let first = twice["indicators"][0].clone();
    twice["indicators"].as_array_mut().expect("array").push(first);
    let (status, problem) = app.post("/reports", &a.op_a, twice).await;
    assert_problem(status, &problem, 422, "invalid-command");
    assert!(problem["detail"].as_str().unwrap_or_default().contains("appears twice for parcel L000001"), "{problem}");
    let mut stranger = report(&parcels[..11], 2025, |_| 40);
    stranger["indicators"][0]["parcel"] = json!(parcels[11]);
    let (status, problem) = app.post("/reports", &a.op_a, stranger).await;
    assert_problem(status, &problem, 422, "invalid-command");
    assert!(problem["detail"].as_str().unwrap_or_default().contains("is not in the report"), "{problem}");
    let mut bad_hash = report(&parcels, 2025, |_| 40);
    bad_hash["indicators"][0]["evidence_sha256"] = json!("xyz");
    let (status, problem) = app.post("/reports", &a.op_a, bad_hash).await;
    assert_problem(status, &problem, 422, "invalid-request");
    assert_eq!(app.get_ok("/reports").await, before, "refused reports left a trace");

    // Monitoring data for twelve parcels → verified report → frozen result.
    let n = verified(&app, &a, report(&parcels, 2025, |i| 30 + 10 * i as u32)).await;
    let r = app.get_ok(&format!("/reports/{n}")).await;
    let q = &r["quantification"];
    assert_eq!(q["engine"], "jcredit-ag005-drainage");
    // 12 × 16.912 = 202.944 gross; less 10 % = 182.6496.
    assert_eq!((num(&q["gross"]), num(&q["net"])), (202.944, 182.6496), "{q}");
    assert_eq!(q["contributions"].as_array().map(Vec::len), Some(12));
    assert_eq!(r["indicators"][0]["evidence_sha256"], format!("{:064x}", 1));
    assert_eq!(r["indicators"][0]["parcel"], parcels[0]);

    // The explanation: the stored inputs, the parameters and every step, recomputed.
    let e = app.get_ok(&format!("/reports/{n}/explanation")).await;
    assert_eq!((e["matches_frozen"].as_bool(), e["engine"].as_str()), (Some(true), Some("jcredit-ag005-drainage")));
    assert_eq!(e["recomputed"], e["frozen"]);
    assert_eq!(e["deductions"]["uncertainty_pct"], "10");
    let first = &e["parcels"][0];
    assert_eq!((first["parcel"].as_str(), first["area_ha"].as_str()), (Some(parcels[0].as_str()), Some("10")));
    assert_eq!(first["inputs"]["values"]["daily_water_loss_mm"], "13");
    let steps = first["steps"].as_array().expect("steps");
    let from_table: Vec<&Value> = steps.iter().filter(|s| s["status"].is_string()).collect();
    assert!(!from_table.is_empty(), "table parameters carry their source and status");
    for s in &from_table {
        assert!(
            s["source"].as_str().unwrap_or_default().contains("ag005")
                || s["source"].as_str().unwrap_or_default().contains("gwp"),
            "{s}"
        );
        assert_eq!(s["verified"].as_bool(), Some(s["status"] == "verified"), "{s}");
    }
    assert!(from_table.iter().any(|s| s["verified"] == false), "AG-005's reconstruction is not all verified");
    assert!(steps.iter().all(|s| s["name"].is_string() && s["unit"].is_string() && s["value"].is_string()));
    assert_eq!(steps.last().map(|s| (&s["name"], num(&s["value"]))), Some((&json!("contribution"), 15.2208)));
    let totals: Vec<&str> = e["totals"].as_array().expect("totals").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(totals, ["gross", "uncertainty deduction", "leakage deduction", "project emissions", "net"]);
    assert!(!e["caveats"].as_array().expect("caveats").is_empty());
    let (status, problem) = app.get("/reports/N000099/explanation").await;
    assert_problem(status, &problem, 404, "not-found");
    let (status, _) = app.get("/reports/nonsense/explanation").await;
    assert_eq!(status, 422);

    // Four-eyes issuance; the batch carries the period's ecological score.
    let requested = app.post_ok("/issuance-requests", &a.op_a, json!({"report": n})).await;
    let i = requested["id"].as_str().expect("request").to_owned();
    let approved = app.post_ok(&format!("/issuance-requests/{i}/approve"), &a.op_b, json!({})).await;
    let batch = approved["batch"].as_str().expect("batch").to_owned();
    let b = app.get_ok(&format!("/batches/{batch}")).await;
    assert_eq!((b["issued"].as_u64(), b["buffer_contribution"].as_u64()), (Some(182), Some(6)), "{b}");
    let eco = app.get_ok(&format!("/batches/{batch}/ecology")).await;
    assert_eq!(b["origin"]["ecology"], eco);
    // Frogs 30..140 of 0..150 → 56.7; nitrate 5 of 0..20 (lower is better) → 75; practices:
    // ditches on half the parcels (50) and winter flooding (100) → 75; the mean of the three.
    let categories: Vec<(&str, &str)> = eco["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| (c["category"].as_str().unwrap_or(""), c["score"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(categories, [("biodiversity", "56.7"), ("water", "75.0"), ("practice", "75.0")], "{eco}");
    assert_eq!(eco["score"], "68.9");
    let flags: Vec<(&str, &str)> = eco["trade_offs"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|t| (t["kind"].as_str().unwrap_or(""), t["parcel"].as_str().unwrap_or("")))
        .collect();
    let mut expected: Vec<(&str, &str)> = parcels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, p)| ("drainage-without-refuge-ditch", p.as_str()))
        .collect();
    expected.push(("winter-flooding-methane", parcels[3].as_str()));
    assert_eq!(flags, expected, "18 days of drainage without a ditch, and winter flooding");
    let (status, problem) = app.get("/batches/B000001/ecology").await;
    assert_problem(status, &problem, 404, "not-found");

    // A second season: the project's series, scores and chart.
    let n2 = verified(&app, &a, report(&parcels, 2026, |i| 60 + 5 * i as u32)).await;
    let project = app.get_ok("/projects/P0001/ecology").await;
    let periods = project["periods"].as_array().expect("periods");
    assert_eq!(
        periods.iter().map(|p| p["report"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        [n.as_str(), n2.as_str()]
    );
    let mean = (num(&periods[0]["score"]) + num(&periods[1]["score"])) / 2.0;
    assert!((num(&project["score"]) - mean).abs() < 0.06, "{project}");
    let series = app.get_ok("/projects/P0001/indicators/frog_count").await;
    let points: Vec<(&str, &str, &str, &str)> = series["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| {
            (
                p["period"]["to"].as_str().unwrap_or(""),
                p["mean"].as_str().unwrap_or(""),
                p["min"].as_str().unwrap_or(""),
                p["max"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(points, [("2025-10-31", "85", "30", "140"), ("2026-10-31", "87.5", "60", "115")]);
    assert_eq!(series["unit"], "individuals per survey");
    let chart = app
        .client
        .get(format!("{}{}", app.url.trim_end_matches("/api/v1"), series["chart"].as_str().expect("chart")))
        .send()
        .await
        .expect("GET");
    assert_eq!(chart.status().as_u16(), 200);
    assert_eq!(chart.headers()["content-type"], "image/svg+xml");
    let svg = chart.text().await.expect("svg");
    assert!(svg.starts_with("<svg") && svg.contains("2026-10-31") && svg.contains("frog_count"), "{svg}");
    for (path, status) in [
        ("/projects/P0001/indicators/heron_count", 404),
        ("/projects/P0001/indicators/heron_count/chart.svg", 404),
        ("/projects/P0009/ecology", 404),
        ("/projects/nonsense/indicators/frog_count/chart.svg", 422),
    ] {
        assert_eq!(app.get(path).await.0, status, "{path}");
    }
    let catalogue = app.get_ok("/indicators").await;
    let keys: Vec<&str> =
        catalogue["indicators"].as_array().expect("list").iter().filter_map(|i| i["key"].as_str()).collect();
    assert_eq!(keys.len(), 15, "{keys:?}");
    assert!(
        catalogue["indicators"]
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["unit"].is_string() && i["method"].is_string() && i["min"].is_string())
    );
    // Every range says where it comes from; only pH and available N are verified (research §9.1).
    let verified: Vec<&str> = catalogue["indicators"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|i| i["range_verified"] == true)
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(verified, ["ph", "available_n"]);
    for i in catalogue["indicators"].as_array().expect("list") {
        assert!(i["range_source"].as_str().is_some_and(|s| s.contains("research §")), "{i}");
        assert_eq!(i["range_verified"].as_bool(), Some(i["range_status"] == "verified"), "{i}");
    }
}

/// A web page of the explorer, in a language.
async fn web(app: &TestApp, path: &str, lang: &str) -> (u16, String) {
    let root = app.url.trim_end_matches("/api/v1");
    let response = app.client.get(format!("{root}{path}")).header("accept-language", lang).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

/// The text of the HTML between two markers.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let start = html.find(from).unwrap_or_else(|| panic!("{from} is on the page"));
    let end = html[start..].find(to).map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// Issue #6 on the web: the report's page shows the frozen result and every step of the
/// explanation the API serves (name, value, unit, source, "unverified" where a parameter is not
/// verified), in English and Japanese; the project page links it and shows the scores, the
/// trade-offs in words and a chart of every indicator; the batch page shows its period's score.
#[tokio::test]
async fn the_report_page_explains_every_step_and_the_project_page_shows_the_ecology() {
    let app = spawn_app().await;
    let a = actors(&app).await;
    let parcels = twelve_parcels(&app, &a).await;
    let n = verified(&app, &a, report(&parcels, 2025, |i| 30 + 10 * i as u32)).await;
    let requested = app.post_ok("/issuance-requests", &a.op_a, json!({"report": n})).await;
    let i = requested["id"].as_str().expect("request").to_owned();
    let approved = app.post_ok(&format!("/issuance-requests/{i}/approve"), &a.op_b, json!({})).await;
    let batch = approved["batch"].as_str().expect("batch").to_owned();
    // The second season also records an indicator outside the catalogue: kept, charted, not scored.
    let mut second = report(&parcels, 2026, |i| 60 + 5 * i as u32);
    second["indicators"].as_array_mut().expect("array").push(json!({"name": "heron_sightings", "value": "3"}));
    let n2 = verified(&app, &a, second).await;

    let api = app.get_ok(&format!("/reports/{n}")).await;
    let e = app.get_ok(&format!("/reports/{n}/explanation")).await;
    let (status, html) = web(&app, &format!("/reports/{n}"), "en").await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("<script"));
    let q = &api["quantification"];
    for fact in [
        "Ibaraki drainage",
        "AG-005 v2.0",
        "Verified",
        "jcredit-ag005-drainage",
        q["engine_version"].as_str().expect("version"),
        q["parameters_version"].as_str().expect("parameters"),
        q["inputs_hash"].as_str().expect("hash"),
        "AR5",
        "The recomputation equals the frozen result.",
        "How the reductions were calculated",
        "Uncertainty: 10%",
    ] {
        assert!(html.contains(&escape(fact)), "the report page shows {fact}");
    }
    // Every intermediate value of the API's explanation, on the page, with its unit and source.
    let calculation = between(&html, "id=\"calculation\"", "id=\"caveats\"");
    let mut marked = 0;
    let steps = e["parcels"].as_array().expect("parcels").iter().flat_map(|p| p["steps"].as_array().expect("steps"));
    for s in steps.chain(e["totals"].as_array().expect("totals")) {
        let row = format!(
            "<td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}",
            escape(s["name"].as_str().unwrap_or("")),
            s["value"].as_str().unwrap_or(""),
            escape(s["unit"].as_str().unwrap_or("")),
            escape(s["source"].as_str().unwrap_or(""))
        );
        assert!(calculation.contains(&row), "the page shows the step {s}");
        if s["status"].is_string() && s["status"] != "verified" {
            marked += 1;
        }
    }
    assert!(marked > 0, "AG-005's reconstruction has unverified parameters");
    assert_eq!(calculation.matches("class=\"unverified\"").count(), marked, "each unverified parameter is marked");
    for p in &parcels {
        assert!(calculation.contains(&format!("id=\"parcel-{p}\"")), "{p} is explained");
    }
    assert!(html.contains("Long drainage without a refuge ditch"), "the period's trade-offs in words");
    for secret in ["Farmer 0", "Field 0", "Farmer 11"] {
        assert!(!html.contains(secret), "no personal data: {secret}");
    }
    let (_, ja) = web(&app, &format!("/reports/{n}"), "ja").await;
    for text in ["削減量の計算方法", "未検証", "確定した結果", "退避溝のない長期の中干し", "生態系スコア"]
    {
        assert!(ja.contains(text), "the Japanese report page shows {text}");
    }
    let (_, second) = web(&app, &format!("/reports/{n2}"), "en").await;
    assert!(second.contains("<code>heron_sightings</code>"), "the second season's page lists the unscored indicator");
    assert_eq!(web(&app, "/reports/N000099", "en").await.0, 404);
    assert_eq!(web(&app, "/reports/nonsense", "en").await.0, 422);

    // The project page: the report linked, scores per period, trade-offs, a chart per indicator.
    let (status, html) = web(&app, "/projects/P0001", "en").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/reports/{n}\"")), "the project page links the report page");
    let project = app.get_ok("/projects/P0001/ecology").await;
    let ecology = between(&html, "id=\"ecology\"", "<h2>Batches");
    assert!(ecology.contains(&format!("{} / 100", project["score"].as_str().expect("score"))), "{ecology}");
    for period in project["periods"].as_array().expect("periods") {
        assert!(
            ecology.contains(&format!("<strong class=\"score\">{}</strong>", period["score"].as_str().expect("s")))
        );
    }
    assert!(ecology.contains("Winter flooding raises methane") && ecology.contains("next season"), "{ecology}");
    let charts: Vec<&str> = ecology.split("<img src=\"").skip(1).filter_map(|x| x.split('"').next()).collect();
    assert_eq!(
        charts,
        ["frog_count", "nitrate", "refuge_ditch", "winter_flooding", "heron_sightings"]
            .map(|k| format!("/api/v1/projects/P0001/indicators/{k}/chart.svg"))
    );
    assert!(ecology.contains("Recorded, not in the catalogue, not scored: <code>heron_sightings</code>"));
    assert!(ecology.contains("range unverified"), "frog counts have no sourced range");
    let root = app.url.trim_end_matches("/api/v1");
    for src in &charts {
        let svg = app.client.get(format!("{root}{src}")).send().await.expect("chart");
        assert_eq!((svg.status().as_u16(), svg.headers()["content-type"].to_str().ok()), (200, Some("image/svg+xml")));
        let svg = svg.text().await.expect("svg");
        assert_eq!(svg.contains("expected range (unverified)"), !src.contains("heron"), "{src}");
    }
    let (_, ja) = web(&app, "/projects/P0001", "ja").await;
    for text in
        ["生態系への影響", "カエル類", "冬期湛水によるメタン増加", "翌作期のメタン排出", "範囲は未検証", "指標の推移"]
    {
        assert!(ja.contains(text), "the Japanese project page shows {text}");
    }

    // The batch page: the score of the period it was issued from.
    let (_, html) = web(&app, &format!("/batches/{batch}"), "en").await;
    assert!(html.contains("Ecological score of its monitoring period"), "{html}");
    assert!(html.contains("<strong class=\"score\">68.9</strong> / 100"), "{html}");
    let (_, ja) = web(&app, &format!("/batches/{batch}?lang=ja"), "en").await;
    assert!(ja.contains("モニタリング期間の生態系スコア") && ja.contains("68.9"));
}

/// askama's escaping of the characters our texts contain (decimal character references).
fn escape(s: &str) -> String {
    s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}
