//! The explorer in a real browser: headless Chromium, driven over WebDriver by chromedriver
//! (Debian's `chromium` and `chromium-driver`, which `.ci/run` installs), against a live
//! `furrow demo`. It finds a serial and sees its history, switches to Japanese, signs in as the
//! demo's operator through the real form and out again; as the demo's grower it sees a paid
//! payout and requests withdrawal; as the demo's buyer it gets a quote, buys, names the
//! beneficiary and, once the operator has settled, opens and downloads the certificate; and it saves
//! screenshots of the main pages at desktop (1280 px) and phone (390 px) widths under
//! `target/screenshots/`. Without Chromium it skips with a reason, except under `CI=true`.
//!
//! The WebDriver client is the few W3C WebDriver commands the test needs, over reqwest (which
//! the tests already use): a crate such as fantoccini would bring a TLS stack and more for the
//! same handful of calls.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use common::furrow;

/// The W3C name of the key under which an element reference is returned.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// Kills a child process when the test ends, however it ends.
struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/{path}", self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = response.status();
        let value: Value = response.json().await.expect("a WebDriver answer is JSON");
        assert!(status.is_success(), "{url}: {status} {value}");
        value["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "url", Some(json!({ "url": url }))).await;
    }

    async fn find(&self, css: &str) -> String {
        let found =
            self.call(reqwest::Method::POST, "element", Some(json!({"using": "css selector", "value": css}))).await;
        found[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}")).to_owned()
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("element/{id}/text"), None).await.as_str().unwrap_or("").to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("element/{id}/value"), Some(json!({ "text": text }))).await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("element/{id}/click"), Some(json!({}))).await;
    }

    /// The chart images' natural widths once every one has finished loading (0: failed, for
    /// example refused by the page's CSP).
    async fn chart_widths(&self) -> Vec<i64> {
        let script = "return Array.from(document.querySelectorAll('figure.chart img'))\
            .map(i => i.complete ? i.naturalWidth : -1)";
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let widths: Vec<i64> = self
                .call(reqwest::Method::POST, "execute/sync", Some(json!({"script": script, "args": []})))
                .await
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            if !widths.contains(&-1) || Instant::now() > deadline {
                return widths;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the page's URL satisfies `done` (a click returns before its navigation ends).
    async fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.current_url().await;
            if done(&url) {
                return url;
            }
            if Instant::now() > deadline {
                let main = self.text("main").await;
                panic!("{what}: still at {url}, which says: {main}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks a link or a form's button and waits for the page it leads to.
    async fn follow(&self, css: &str) -> String {
        let before = self.current_url().await;
        self.click(css).await;
        self.wait_for(css, |u| u != before).await
    }

    /// Signs in through the form; `code` is the TOTP code, empty for a password-only session.
    async fn sign_in(&self, url: &str, email: &str, password: &str, code: &str) {
        self.goto(&format!("{url}/signin?lang=en")).await;
        self.type_into("input[name=email]", email).await;
        self.type_into("input[name=password]", password).await;
        if !code.is_empty() {
            self.type_into("input[name=code]", code).await;
        }
        self.click("form[action='/signin'] button").await;
        self.wait_for("signed in, on /me", |u| u.ends_with("/me")).await;
    }

    async fn sign_out(&self, url: &str) {
        self.goto(&format!("{url}/me")).await;
        self.click("form[action='/signout'] button").await;
        self.wait_for("signed out", |u| !u.contains("/me")).await;
    }

    async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "url", None).await.as_str().unwrap_or("").to_owned()
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(reqwest::Method::POST, "window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// A screenshot of the whole page: the window is made as tall as the page first.
    async fn screenshot(&self, width: u32, file: &Path) {
        self.resize(width, 900).await;
        let height = self
            .call(
                reqwest::Method::POST,
                "execute/sync",
                Some(json!({"script": "return document.documentElement.scrollHeight", "args": []})),
            )
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(600, 6000);
        self.resize(width, u32::try_from(height).unwrap_or(900) + 120).await;
        let png = self.call(reqwest::Method::GET, "screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().expect("base64")).expect("png");
        std::fs::write(file, bytes).expect("write the screenshot");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_a_serial_switch_to_japanese_and_screenshot_the_main_pages() {
    let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
        let reason = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
        assert!(!furrow_testkit::in_ci(), "CI needs a browser: {reason}");
        eprintln!("SKIPPED the browser test: {reason}");
        return;
    };

    // The demo: a believable program, served on a free port.
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(dir.path());
    let (url, serial, password, operator) =
        (demo.url.clone(), demo.serial.clone(), demo.password.clone(), demo.operator.clone());

    let (_driver, browser) = start_browser(driver, chromium).await;
    let http = reqwest::Client::new();

    // Find a serial from the home page's search box and see its block and history.
    browser.goto(&format!("{url}/")).await;
    browser.type_into("input[name=q]", &serial).await;
    browser.follow("form[role=search] button").await;
    assert!(browser.current_url().await.contains("/serials?q="), "the search lands on the lookup page");
    let blocks = browser.text("#blocks").await;
    assert!(blocks.contains(&serial[..serial.len().min(20)]) || blocks.contains("B0"), "the block is shown: {blocks}");
    let history = browser.text("#history").await;
    assert!(history.contains("Issued"), "the history starts at issuance: {history}");

    // Switch to Japanese with the header link; the choice sticks on the next page.
    browser.follow("header a.lang").await;
    assert!(browser.text("h1").await.contains("シリアル検索"), "the lookup page in Japanese");
    browser.follow("nav.main a[href='/retirements']").await;
    assert!(browser.text("h1").await.contains("償却"), "the next page is Japanese too");
    browser.follow("header a.lang").await;
    assert!(browser.text("h1").await.contains("Retirements"), "and back to English");

    // Issue #6: the project page shows the ecological scores and draws every indicator's chart
    // (SVG images, allowed by the CSP's img-src 'self'), and links each monitoring report's page,
    // which explains the calculation step by step.
    browser.goto(&format!("{url}/projects/P0001?lang=en")).await;
    assert!(browser.text("#ecology").await.contains("Ecological impact"));
    let widths = browser.chart_widths().await;
    assert!(!widths.is_empty() && widths.iter().all(|w| *w > 0), "every chart loads: {widths:?}");
    browser.follow("main a[href^='/reports/']").await;
    assert!(browser.current_url().await.contains("/reports/N"), "the report link leads to its page");
    assert!(browser.text("h1").await.contains("Monitoring report"));
    let calculation = browser.text("#calculation").await;
    assert!(calculation.contains("Engine and version"), "the calculation is explained: {calculation}");
    browser.goto(&format!("{url}/projects/P0001?lang=ja")).await;
    assert!(browser.text("#ecology").await.contains("生態系への影響"));
    let widths = browser.chart_widths().await;
    assert!(!widths.is_empty() && widths.iter().all(|w| *w > 0), "every chart loads in Japanese too: {widths:?}");
    browser.goto(&format!("{url}/projects/P0001?lang=en")).await;

    // Sign in as the demo's operator through the real form, see who we are, sign out.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    browser.goto(&format!("{url}/signin?lang=en")).await;
    browser.type_into("input[name=email]", "aiko@furrow.demo").await;
    browser.type_into("input[name=password]", &password).await;
    browser.click("form[action='/signin'] button").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !browser.current_url().await.ends_with("/me") {
        assert!(Instant::now() < deadline, "signed in, on /me");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(browser.text("h1").await.contains("My account"));
    let facts = browser.text("dl.facts").await;
    assert!(facts.contains("aiko@furrow.demo") && facts.contains("Operator"), "who we are: {facts}");
    browser.screenshot(1280, &shots.join("me-desktop.png")).await;
    browser.click("form[action='/signout'] button").await;
    // The click returns before the form's navigation need finish: wait for the redirect home.
    let deadline = Instant::now() + Duration::from_secs(10);
    while browser.current_url().await.ends_with("/me") {
        assert!(Instant::now() < deadline, "sign-out did not navigate");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.goto(&format!("{url}/me")).await;
    assert!(browser.current_url().await.contains("/signin"), "signed out: /me sends us to sign in");

    // Issue #9, a participant: signs in, sees a paid payout on its farm page, requests withdrawal
    // and sees it pending; the page in Japanese too.
    let both = |name: &str| {
        [(1280, shots.join(format!("{name}-desktop.png"))), (390, shots.join(format!("{name}-phone.png")))]
    };
    browser.sign_in(&url, "grower@farm.demo", &password, "").await;
    browser.follow("a#farm-link").await;
    browser.wait_for("the farm page", |u| u.ends_with("/me/farm")).await;
    assert!(browser.text("h1").await.contains("My farm"));
    let payouts = browser.text("main").await;
    assert!(payouts.contains("Paid") && payouts.contains("¥"), "a paid payout in yen: {payouts}");
    for (width, file) in both("farm") {
        browser.screenshot(width, &file).await;
    }
    browser.follow("form[action='/me/farm/withdrawal'] button").await;
    browser.wait_for("the withdrawal is sent", |u| u.contains("done=withdrawal")).await;
    assert!(browser.text("#notice").await.contains("withdrawal request was recorded"));
    assert!(browser.text("table#enrolment-table").await.contains("Withdrawal requested"));
    browser.follow("header a.lang").await;
    assert!(browser.text("h1").await.contains("私の農場"), "the farm page in Japanese");
    assert!(browser.text("main").await.contains("円"), "yen in Japanese");
    for (width, file) in both("farm-ja") {
        browser.screenshot(width, &file).await;
    }
    browser.follow("header a.lang").await;
    browser.sign_out(&url).await;

    // A buyer: previews the price, gets a quote, buys, names the beneficiary, waits for payment
    // (the operator settles through the API, as after a bank transfer), then opens the certificate.
    browser.sign_in(&url, "treasury@kansai-rail.demo", &password, "").await;
    browser.follow("a#buy-link").await;
    browser.type_into("input[name=quantity]", "5").await;
    browser.follow("form[action='/buy'][method=get] button").await;
    browser.wait_for("the price", |u| u.contains("quantity=5")).await;
    let price = browser.text("dl.price").await;
    assert!(price.contains("Program fee") && price.contains("¥"), "price and fee: {price}");
    for (width, file) in both("buy") {
        browser.screenshot(width, &file).await;
    }
    browser.follow("form[action='/buy'][method=post] button").await;
    let quote = browser.wait_for("the quote", |u| u.contains("/me/quotes/Q")).await;
    assert!(browser.text("#status").await.contains("Open"));
    assert!(!browser.text("#expires").await.is_empty(), "the quote shows its expiry");
    for (width, file) in both("quote") {
        browser.screenshot(width, &file).await;
    }
    browser.goto(&quote).await;
    browser.follow("form[action$='/accept'] button").await;
    let sale_url = browser.wait_for("the sale", |u| u.contains("/me/sales/S")).await;
    let sale = sale_url.rsplit('/').next().expect("sale id").to_owned();
    assert!(browser.text("#status").await.contains("Awaiting payment"), "the escrowed sale awaits payment");
    browser.type_into("input[name=beneficiary]", "Kansai Rail Co., Ltd.").await;
    browser.type_into("input[name=country]", "JP").await;
    browser.follow("form[action$='/claim'] button").await;
    browser.wait_for("the claim is saved", |u| u.contains("done=claim")).await;
    assert!(browser.text("#claim-stated").await.contains("Kansai Rail"));
    for (width, file) in both("sale-awaiting") {
        browser.screenshot(width, &file).await;
    }
    let api = format!("{url}/api/v1/sales/{sale}");
    let stated: Value = http.get(&api).bearer_auth(&operator).send().await.expect("sale").json().await.expect("json");
    let mut settle = stated["claim"].clone();
    settle["payment_reference"] = json!("WIRE-BROWSER-0001");
    let settled = http.post(format!("{api}/settle")).bearer_auth(&operator).json(&settle).send().await.expect("settle");
    assert_eq!(settled.status().as_u16(), 201, "the operator settles with the buyer's claim");
    browser.goto(&format!("{url}/me/sales/{sale}")).await;
    assert!(browser.text("#status").await.contains("Settled"), "settled");
    for (width, file) in both("sale-settled") {
        browser.screenshot(width, &file).await;
    }
    let pdf = browser
        .call(
            reqwest::Method::POST,
            "execute/sync",
            Some(json!({"script": "return document.getElementById('certificate-pdf').href", "args": []})),
        )
        .await;
    let pdf = http.get(pdf.as_str().expect("pdf link")).send().await.expect("pdf");
    assert_eq!(pdf.status().as_u16(), 200);
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF"), "the certificate downloads as a PDF");
    browser.follow("a#certificate-html").await;
    browser.wait_for("the certificate", |u| u.contains("/certificates/")).await;
    assert!(browser.text("body").await.contains("Kansai Rail Co., Ltd."), "the certificate names the beneficiary");
    browser.goto(&format!("{url}/me/purchases?lang=ja")).await;
    assert!(browser.text("h1").await.contains("購入履歴"), "purchases in Japanese");
    for (width, file) in both("purchases-ja") {
        browser.screenshot(width, &file).await;
    }
    browser.goto(&format!("{url}/me/sales/{sale}")).await;
    for (width, file) in both("sale-settled-ja") {
        browser.screenshot(width, &file).await;
    }
    // Credits the buyer already holds: retired at once for a named beneficiary.
    browser.goto(&format!("{url}/me/retire?lang=en")).await;
    for (width, file) in both("retire") {
        browser.screenshot(width, &file).await;
    }
    browser.type_into("input[name=quantity]", "3").await;
    browser.type_into("input[name=beneficiary]", "Kansai Rail Co., Ltd.").await;
    let retired = browser.follow("form[action='/me/retire'] button").await;
    assert!(retired.contains("/retirements/R"), "the retirement's page: {retired}");
    assert!(browser.text("main").await.contains("Kansai Rail Co., Ltd."));
    browser.goto(&format!("{url}/me?lang=en")).await;
    browser.sign_out(&url).await;

    // Screenshots of the main pages at desktop and phone widths.
    let pages = [
        ("home", "/".to_owned()),
        ("projects", "/projects".to_owned()),
        ("project", "/projects/P0001".to_owned()),
        ("report", "/reports/N000001".to_owned()),
        ("batch", "/batches/B000001".to_owned()),
        ("batches", "/batches".to_owned()),
        ("serial", format!("/serials?q={serial}")),
        ("retirements", "/retirements".to_owned()),
        ("methodology", "/methodologies/M0001".to_owned()),
        ("program", "/program".to_owned()),
        ("transparency", "/transparency".to_owned()),
        ("signin", "/signin".to_owned()),
        ("home-ja", "/?lang=ja".to_owned()),
        ("retirements-ja", "/retirements?lang=ja".to_owned()),
        ("project-ja", "/projects/P0001?lang=ja".to_owned()),
        ("report-ja", "/reports/N000001?lang=ja".to_owned()),
    ];
    for (name, path) in &pages {
        browser.goto(&format!("{url}{path}")).await;
        // Pages with charts are photographed once the charts have loaded.
        browser.chart_widths().await;
        for (width, label) in [(1280, "desktop"), (390, "phone")] {
            browser.screenshot(width, &shots.join(format!("{name}-{label}.png"))).await;
        }
    }
    let _ = browser.http.delete(browser.session.clone()).send().await;
    eprintln!("screenshots in {}", shots.display());
}

// ------------------------------------------------------------------ review queues (issue #9)

impl Browser {
    async fn clear(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("element/{id}/clear"), Some(json!({}))).await;
    }
}

/// What the tests need from the demo's banner: its address, a sample serial, its users'
/// password, an operator token and its TOTP operator's key.
struct Demo {
    url: String,
    serial: String,
    password: String,
    operator: String,
    totp_key: String,
    _process: Killed,
}

fn start_demo(dir: &Path) -> Demo {
    let mut demo = furrow()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("demo"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo starts");
    let stdout = demo.stdout.take().expect("stdout");
    let process = Killed(demo);
    let (mut url, mut serial, mut password, mut operator, mut totp_key) = (None, None, None, None, None);
    for line in BufReader::new(stdout).lines().take(100) {
        let line = line.expect("line");
        if url.is_none() {
            url =
                line.split_whitespace().find(|w| w.starts_with("http://")).map(|u| u.trim_end_matches('/').to_owned());
        }
        if let Some(rest) = line.split("(password ").nth(1) {
            password = rest.split(',').next().map(str::to_owned);
        }
        if let Some(rest) = line.trim_start().strip_prefix("Operator token:") {
            operator = Some(rest.trim().to_owned());
        }
        if line.trim_start().starts_with("Serial:") {
            serial = line.split("q=").nth(1).map(|s| s.trim().to_owned());
        }
        if let Some(rest) = line.trim_start().strip_prefix("TOTP key of ") {
            totp_key = rest.split(": ").nth(1).and_then(|k| k.split_whitespace().next()).map(str::to_owned);
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    Demo {
        url: url.expect("the demo prints its URL"),
        serial: serial.expect("the demo prints a sample serial"),
        password: password.expect("the demo prints its users' password"),
        operator: operator.expect("the demo prints an operator token"),
        totp_key: totp_key.expect("the demo prints its operator's TOTP key"),
        _process: process,
    }
}

/// Chromium driven by chromedriver on a free port, in English.
async fn start_browser(driver: PathBuf, chromium: PathBuf) -> (Killed, Browser) {
    let port = free_port();
    let process = Killed(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = http.get(format!("{base}/status")).send().await.ok();
        if let Some(r) = ready
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=en-GB",
                     "--hide-scrollbars", "--window-size=1280,900"],
            "prefs": {"intl.accept_languages": "en-GB,en"}
        }
    }}});
    let created: Value = http
        .post(format!("{base}/session"))
        .json(&capabilities)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let id = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_owned();
    (process, Browser { http, session: format!("{base}/session/{id}") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_approves_issuance_a_verifier_verifies_and_the_edited_program_page_shows_in_japanese() {
    let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
        let reason = "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)";
        assert!(!furrow_testkit::in_ci(), "CI needs a browser: {reason}");
        eprintln!("SKIPPED the browser test: {reason}");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(dir.path());
    let (_driver, browser) = start_browser(driver, chromium).await;
    let url = demo.url.clone();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let shoot = |name: &'static str| {
        let (browser, shots) = (&browser, &shots);
        async move {
            for (width, label) in [(1280, "desktop"), (390, "phone")] {
                browser.screenshot(width, &shots.join(format!("{name}-{label}.png"))).await;
            }
        }
    };

    // The operator with two-step sign-in approves the issuance another operator requested.
    let secret = furrow_app::totp::from_base32(&demo.totp_key).expect("a base32 key");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
    let code = format!("{:06}", furrow_app::totp::totp(&secret, now, 6));
    browser.sign_in(&url, "ren@furrow.demo", &demo.password, &code).await;
    browser.click("main a[href='/review']").await;
    browser.wait_for("/review", |u| u.contains("/review")).await;
    let issuance = browser.text("#issuance").await;
    assert!(issuance.contains("Requested by") && issuance.contains("Approve"), "a request to approve: {issuance}");
    assert!(browser.text("#withdrawals").await.contains("retirement from farming"));
    shoot("review-operator").await;
    browser.click("#issuance form[action^='/review/issuance/'] button").await;
    browser.wait_for("done=approved", |u| u.contains("done=approved")).await;
    assert!(browser.text("main .notice").await.contains("Approved"), "the approval is confirmed");

    // The operator edits the program page's first text in Japanese; the public page shows it.
    browser.goto(&format!("{url}/review/program?lang=ja")).await;
    shoot("review-program-ja").await;
    browser.click("a[href='/review/program/1']").await;
    browser.wait_for("/review/program/1", |u| u.contains("/review/program/1")).await;
    browser.clear("textarea[name=body_ja]").await;
    browser.type_into("textarea[name=body_ja]", "ブラウザから編集した制度の説明です。").await;
    shoot("review-entry-ja").await;
    browser.click("form.edit button").await;
    browser.wait_for("done=saved", |u| u.contains("done=saved")).await;
    browser.goto(&format!("{url}/program?lang=ja")).await;
    let main = browser.text("main").await;
    assert!(main.contains("ブラウザから編集した制度の説明です。"), "the edited text is public: {main}");
    shoot("program-edited-ja").await;
    browser.sign_out(&url).await;

    // The verifier verifies the report submitted on the project assigned to them.
    browser.sign_in(&url, "vera@furrow.demo", &demo.password, "").await;
    browser.goto(&format!("{url}/review?lang=en")).await;
    let reports = browser.text("#reports").await;
    assert!(reports.contains("P0003") && reports.contains("Verify"), "the assigned report: {reports}");
    shoot("review-verifier").await;
    browser.click("#reports form[action$='/verify'] button").await;
    browser.wait_for("done=verified", |u| u.contains("done=verified")).await;
    assert!(browser.text("main .notice").await.contains("Verified"));
    browser.goto(&format!("{url}/review?lang=ja")).await;
    shoot("review-verifier-ja").await;
    browser.sign_out(&url).await;
    let _ = browser.http.delete(browser.session.clone()).send().await;
    eprintln!("screenshots in {}", shots.display());
}
