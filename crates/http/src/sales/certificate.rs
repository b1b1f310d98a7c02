//! The retirement certificate as a person reads it: HTML (askama, `templates/certificate.html`,
//! self-contained: no scripts, no external assets) and PDF (`pdf-writer`: built-in Helvetica for
//! ASCII, and for Japanese names and labels a subset of the machine's CJK font, IPAGothic, when
//! it has one; without it the PDF prints `?` and says so). Every retirement has one, at a permanent public URL named by its certificate id
//! (`AGR-CERT-R000001`). Both carry the serial ranges, beneficiary and claim, project,
//! methodology, vintage, ecological score, price disclosure, a QR code of the public URL (drawn
//! from `qrcode`'s modules as SVG or PDF rectangles), and the inclusion proof the log serves for
//! the retirement (the same bundle as `/retirements/{id}/proof`; the JSON certificate at
//! `/retirements/{id}/certificate` has the entry bytes for offline checks).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use furrow_domain::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::{Color, QrCode};
use subsetter::GlyphRemapper;

use super::{disclosure, dto::MoneyDto};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Query};
use crate::web::i18n::Lang;
use furrow_domain::lifecycle::ecology::EcoScore;

/// Everything a certificate shows, gathered once for both renderings.
pub struct CertificateData {
    pub id: String,
    pub retirement: String,
    pub url: String,
    pub retired_at: String,
    pub quantity: u64,
    pub serials: Vec<String>,
    pub beneficiary: String,
    /// The purpose's code (`scope3`); pages show it in words.
    pub purpose: String,
    pub claim_from: String,
    pub claim_to: String,
    pub jurisdiction: String,
    pub note: String,
    pub project: String,
    pub methodology: String,
    pub vintage: String,
    pub batch: String,
    /// The monitoring period's ecological score, in English (the PDF's words).
    pub ecological: String,
    /// The same score, for the HTML page to put in its reader's language.
    pub eco: Option<EcoScore>,
    /// Disclosure lines (price, farmers' share, or the batch aggregates when confidential).
    pub price: Vec<PriceLine>,
    pub log_index: Option<u64>,
    pub proof: Proof,
    qr: QrCode,
}

/// The inclusion proof, or why there is none yet (a checkpoint is signed about once a second).
pub enum Proof {
    /// A C2SP `tlog-proof@v1` bundle.
    Bundle(String),
    /// Logged, but no signed checkpoint covers the entry yet.
    NextCheckpoint,
    /// Not found in the log yet.
    NotYet,
}

impl Proof {
    pub fn text(&self, l: Lang) -> String {
        match self {
            Proof::Bundle(bundle) => bundle.clone(),
            Proof::NextCheckpoint => l.t("cert.proof_next").to_owned(),
            Proof::NotYet => l.t("cert.proof_not_yet").to_owned(),
        }
    }
}

/// One line of the price disclosure, kept as data so each rendering words it in its language.
pub enum PriceLine {
    NoSale,
    Confidential,
    PerCredit(String),
    FarmerShare { share: String, pct: String },
    Commission(String),
    Forfeited(String),
    Batch { batch: String, credits: String, sales: String, average: String, currency: String, pct: String },
}

impl PriceLine {
    pub fn text(&self, l: Lang) -> String {
        match (self, l) {
            (PriceLine::NoSale, _) => l.t("cert.no_sale").to_owned(),
            (PriceLine::Confidential, _) => l.t("cert.confidential").to_owned(),
            (PriceLine::PerCredit(p), Lang::En) => format!("Price per credit: {p}"),
            (PriceLine::PerCredit(p), Lang::Ja) => format!("1クレジットあたりの価格：{p}"),
            (PriceLine::FarmerShare { share, pct }, Lang::En) => {
                format!("Paid to farmers: {share} per credit ({pct} % of the price)")
            }
            (PriceLine::FarmerShare { share, pct }, Lang::Ja) => {
                format!("農業者への支払い：1クレジットあたり {share}（価格の {pct} %）")
            }
            (PriceLine::Commission(c), Lang::En) => format!("Program commission: {c} %"),
            (PriceLine::Commission(c), Lang::Ja) => format!("プログラム手数料：{c} %"),
            (PriceLine::Forfeited(m), Lang::En) => format!("Forfeited by withdrawn participants: {m}"),
            (PriceLine::Forfeited(m), Lang::Ja) => format!("撤退した参加者の没収分：{m}"),
            (PriceLine::Batch { batch, credits, sales, average, currency, pct }, Lang::En) => format!(
                "Batch {batch}: {credits} credits in {sales} sales, average {average} {currency} per credit, {pct} % to farmers"
            ),
            (PriceLine::Batch { batch, credits, sales, average, currency, pct }, Lang::Ja) => format!(
                "バッチ {batch}：{sales} 件の販売で {credits} クレジット、1クレジットあたり平均 {average} {currency}、農業者へ {pct} %"
            ),
        }
    }
}

fn money(m: &MoneyDto) -> String {
    format!("{} {}", m.amount, m.currency)
}

async fn gather(state: &AppState, headers: &HeaderMap, id: &str) -> Result<CertificateData, ApiError> {
    let not_found = || ApiError::not_found(format!("certificate {id}"));
    let (program, retirement) = id.rsplit_once("-CERT-").ok_or_else(not_found)?;
    let retirement_id: RetirementId = retirement.parse().map_err(|_| not_found())?;
    let store = state.registry.store();
    let retirement = store.retirement(retirement_id).await?.ok_or_else(not_found)?;
    let printer = state.printer(retirement.ranges.iter().map(|r| r.end()).max().unwrap_or(0)).await?;
    if program != printer.program.as_str() {
        return Err(not_found());
    }
    let batch = printer.batches.values().find(|b| retirement.ranges.first().is_some_and(|r| b.serials.covers(*r)));
    let lc = state.registry.lifecycle();
    let (project, methodology) = batch
        .and_then(|b| {
            let request = lc.request_for_batch(b.id)?;
            let report = lc.reports.get(&request.report)?;
            let project = lc.projects.get(&report.spec.project)?;
            let m = lc.methodologies.get(&project.spec.methodology)?;
            Some((
                format!("{} {}", project.code, project.spec.name),
                format!("{} {} ({})", m.spec.code, m.spec.version, m.spec.title),
            ))
        })
        .unwrap_or_else(|| (batch.map_or(String::new(), |b| b.project.to_string()), "not recorded".into()));
    let d = disclosure(&lc, &retirement, batch.map(|b| b.id));
    let mut price = Vec::new();
    if d.sale.is_none() {
        price.push(PriceLine::NoSale);
    } else if d.confidential {
        price.push(PriceLine::Confidential);
    } else {
        if let Some(p) = &d.price_per_credit {
            price.push(PriceLine::PerCredit(money(p)));
        }
        if let (Some(share), Some(pct)) = (&d.farmer_share_per_credit, &d.farmer_share_pct) {
            price.push(PriceLine::FarmerShare { share: money(share), pct: pct.to_string() });
        }
        if let Some(c) = &d.commission_pct {
            price.push(PriceLine::Commission(c.to_string()));
        }
        if let Some(f) = d.forfeited.as_ref().filter(|f| f.minor > 0) {
            price.push(PriceLine::Forfeited(money(f)));
        }
    }
    if d.sale.is_some() {
        for a in &d.batch_aggregates {
            price.push(PriceLine::Batch {
                batch: a.batch.to_string(),
                credits: a.credits_sold.to_string(),
                sales: a.sales.to_string(),
                average: a.average_price_per_credit.to_string(),
                currency: a.currency.to_string(),
                pct: a.farmer_share_pct.to_string(),
            });
        }
    }
    // The monitoring period's ecological score, the one the sales filter reads.
    let eco = batch.and_then(|b| lc.batch_ecological_score(b.id));
    let ecological = eco.as_ref().map_or_else(
        || "Not scored: the batch was not issued from a monitoring report".to_owned(),
        crate::lifecycle::ecology::score_line,
    );
    let (log_index, proof) = match furrow_app::transparency::retirement_entry(store, retirement.id).await {
        Ok(index) => match furrow_app::transparency::proof_bundle(store, index).await {
            Ok(bundle) => (Some(index), Proof::Bundle(bundle)),
            Err(_) => (Some(index), Proof::NextCheckpoint),
        },
        Err(_) => (None, Proof::NotYet),
    };
    let host =
        headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| h.len() <= 255).unwrap_or("localhost");
    let url = format!("http://{host}{}", super::certificate_url(id));
    let qr = QrCode::new(url.as_bytes()).map_err(|e| ApiError::invalid(format!("QR code: {e}")))?;
    let c = &retirement.claim;
    let beneficiary = match (&c.beneficiary.country, &c.beneficiary.identifier) {
        (Some(country), Some(ident)) => format!("{} ({country}, {ident})", c.beneficiary.name),
        (Some(country), None) => format!("{} ({country})", c.beneficiary.name),
        (None, Some(ident)) => format!("{} ({ident})", c.beneficiary.name),
        (None, None) => c.beneficiary.name.clone(),
    };
    Ok(CertificateData {
        id: id.to_owned(),
        retirement: retirement.id.to_string(),
        url,
        retired_at: furrow_app::rfc3339(retirement.at),
        quantity: total(&retirement.ranges).0,
        serials: retirement.ranges.iter().map(|r| printer.range_any(*r).serial).collect(),
        beneficiary,
        purpose: c.purpose.to_string(),
        claim_from: c.claim_period.from.to_string(),
        claim_to: c.claim_period.to.to_string(),
        jurisdiction: c.jurisdiction.to_string(),
        note: c.note.clone(),
        project,
        methodology,
        vintage: batch.map_or(String::new(), |b| b.vintage.to_string()),
        batch: batch.map_or(String::new(), |b| b.id.to_string()),
        ecological,
        eco,
        price,
        log_index,
        proof,
        qr,
    })
}

/// The QR code as one SVG path of unit squares (no image crate needed).
fn qr_svg(qr: &QrCode) -> String {
    let width = qr.width();
    let mut path = String::new();
    for (i, color) in qr.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            path.push_str(&format!("M{},{}h1v1h-1z", i % width + 4, i / width + 4));
        }
    }
    let size = width + 8;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"168\" height=\"168\" \
         role=\"img\" aria-label=\"QR code of the certificate's public URL\"><rect width=\"{size}\" \
         height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificateHtml<'a> {
    c: &'a CertificateData,
    l: Lang,
    /// This certificate in the other language.
    switch: String,
    quantity: String,
    retired_at: String,
    claim_period: String,
    purpose: String,
    ecological: String,
    price: Vec<String>,
    proof: String,
    qr_svg: String,
}

impl<'a> CertificateHtml<'a> {
    fn new(c: &'a CertificateData, l: Lang) -> Self {
        let purpose = match l.word(&c.purpose) {
            "" => c.purpose.clone(),
            word => word.to_owned(),
        };
        let ecological = c
            .eco
            .as_ref()
            .map_or_else(|| l.t("cert.not_scored").to_owned(), |s| crate::web::ecology::score_sentence(l, s));
        CertificateHtml {
            c,
            l,
            switch: format!("?lang={}", l.other().code()),
            quantity: format!("{} ({} {})", l.tonnes(&c.quantity), l.num(&c.quantity), l.t("cert.credits")),
            retired_at: l.when(&c.retired_at),
            claim_period: format!("{} – {}", l.date(&c.claim_from), l.date(&c.claim_to)),
            purpose,
            ecological,
            price: c.price.iter().map(|p| p.text(l)).collect(),
            proof: c.proof.text(l),
            qr_svg: qr_svg(&c.qr),
        }
    }
}

/// `?lang=` on a certificate's URL.
#[derive(serde::Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The certificate of a retirement, as an HTML page (public, permanent), in English or Japanese
/// (`?lang=`, then the language cookie, then Accept-Language).
#[utoipa::path(get, path = "/certificates/{id}", tag = "sales", params(("id" = String, Path, description = "e.g. AGR-CERT-R000001"),
        ("lang" = Option<String>, Query, description = "`en` or `ja`")),
    responses((status = 200, body = String, content_type = "text/html"), (status = 404, body = Problem)))]
pub async fn certificate_html(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let c = gather(&state, &headers, &id).await?;
    let page = CertificateHtml::new(&c, Lang::negotiate(query.lang.as_deref(), &headers));
    let html = page.render().map_err(|e| ApiError::invalid(format!("rendering the certificate: {e}")))?;
    Ok(Html(html).into_response())
}

/// The same certificate as a PDF (public, permanent).
#[utoipa::path(get, path = "/certificates/{id}/pdf", tag = "sales", params(("id" = String, Path, description = "e.g. AGR-CERT-R000001")),
    responses((status = 200, body = Vec<u8>, content_type = "application/pdf"), (status = 404, body = Problem)))]
pub async fn certificate_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = gather(&state, &headers, &id).await?;
    let mut response = render_pdf(&c).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    Ok(response)
}

/// Splits text into lines of at most `width` characters, at spaces where possible.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Where the PDF looks for a font with Japanese glyphs, after `FURROW_PDF_FONT`: Debian's
/// `fonts-ipafont-gothic` (IPAGothic, which `.ci/run` installs).
const CJK_FONTS: &[&str] =
    &["/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"];

/// The CJK font's bytes, read once per process; `None` when the machine has none, and the PDF
/// then falls back to Helvetica, prints other characters as `?` and says so on the page.
fn cjk_font() -> Option<&'static [u8]> {
    static FONT: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    FONT.get_or_init(|| {
        let configured = std::env::var_os("FURROW_PDF_FONT").map(PathBuf::from);
        configured
            .into_iter()
            .chain(CJK_FONTS.iter().map(PathBuf::from))
            .filter_map(|path| std::fs::read(path).ok())
            .find(|data| ttf_parser::Face::parse(data, 0).is_ok())
    })
    .as_deref()
}

/// The CJK font as it is being used: every glyph a string needed gets a new, consecutive id
/// (`GlyphRemapper`), the text is written as those ids (Identity-H, two bytes each), and only
/// those glyphs are embedded (`subsetter`), so the PDF carries some kilobytes, not the 6 MB font.
struct Cjk<'a> {
    data: &'a [u8],
    face: ttf_parser::Face<'a>,
    remapper: GlyphRemapper,
    /// New glyph id → (the character, for ToUnicode; the font's glyph id, for the width).
    used: BTreeMap<u16, (char, u16)>,
}

impl<'a> Cjk<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        Some(Self { data, face, remapper: GlyphRemapper::new(), used: BTreeMap::new() })
    }

    fn encode(&mut self, s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(s.len() * 2);
        for c in s.chars().filter(|c| !c.is_control()) {
            let old = self.face.glyph_index(c).map_or(0, |g| g.0);
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((c, old));
            out.extend(new.to_be_bytes());
        }
        out
    }

    /// Font units → PDF glyph space (1/1000 of the size).
    fn scale(&self, units: f32) -> f32 {
        units * 1000.0 / f32::from(self.face.units_per_em().max(1))
    }

    /// Writes the Type0 font, its CID font, descriptor, subset file and ToUnicode map at refs
    /// `first..first + 5`.
    fn write(&self, pdf: &mut Pdf, first: i32) -> Result<(), subsetter::Error> {
        let (type0, cid, descriptor, file, to_unicode) =
            (Ref::new(first), Ref::new(first + 1), Ref::new(first + 2), Ref::new(first + 3), Ref::new(first + 4));
        let subset = subsetter::subset(self.data, 0, &self.remapper)?;
        // A subset's name carries a six-letter tag (PDF 32000 §9.6.4).
        let name = format!("FURROW+{}", self.postscript_name());
        let name = Name(name.as_bytes());
        let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
        pdf.type0_font(type0)
            .base_font(name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(to_unicode);
        let mut font = pdf.cid_font(cid);
        font.subtype(CidFontType::Type2).base_font(name).system_info(system).font_descriptor(descriptor);
        font.cid_to_gid_map_predefined(Name(b"Identity")).default_width(1000.0);
        let mut widths = font.widths();
        for (new, (_, old)) in &self.used {
            let advance = self.face.glyph_hor_advance(ttf_parser::GlyphId(*old)).unwrap_or(0);
            widths.consecutive(*new, [self.scale(f32::from(advance))]);
        }
        widths.finish();
        font.finish();
        let b = self.face.global_bounding_box();
        let bbox = Rect::new(
            self.scale(f32::from(b.x_min)),
            self.scale(f32::from(b.y_min)),
            self.scale(f32::from(b.x_max)),
            self.scale(f32::from(b.y_max)),
        );
        let cap = self.face.capital_height().unwrap_or(self.face.ascender());
        pdf.font_descriptor(descriptor)
            .name(name)
            .flags(FontFlags::SYMBOLIC)
            .bbox(bbox)
            .italic_angle(0.0)
            .ascent(self.scale(f32::from(self.face.ascender())))
            .descent(self.scale(f32::from(self.face.descender())))
            .cap_height(self.scale(f32::from(cap)))
            .stem_v(80.0)
            .font_file2(file);
        pdf.stream(file, &subset);
        let mut cmap = UnicodeCmap::new(Name(b"Furrow-UCS"), system);
        for (new, (c, _)) in &self.used {
            cmap.pair(*new, *c);
        }
        pdf.cmap(to_unicode, &cmap.finish());
        Ok(())
    }

    fn postscript_name(&self) -> String {
        self.face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .unwrap_or_else(|| "CJK".into())
    }
}

/// Draws text: ASCII in the built-in fonts; anything else in the CJK font when there is one, or
/// as `?` when there is none (and the page says so).
struct Page<'a> {
    content: Content,
    cjk: Option<Cjk<'a>>,
    /// Some character could not be shown.
    replaced: bool,
}

const CJK_FONT: Name<'static> = Name(b"F4");

impl Page<'_> {
    fn text(&mut self, font: Name, size: f32, x: f32, y: f32, s: &str) {
        let plain = s.chars().all(|c| c.is_ascii() && !c.is_ascii_control());
        let (font, bytes) = match &mut self.cjk {
            Some(cjk) if !plain => (CJK_FONT, cjk.encode(s)),
            _ => {
                self.replaced |= !plain;
                (font, s.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b'?' }).collect())
            }
        };
        self.content.begin_text();
        self.content.set_font(font, size);
        self.content.next_line(x, y);
        self.content.show(Str(&bytes));
        self.content.end_text();
    }

    /// A label's Japanese, small and grey under the English, when the CJK font is there.
    fn ja(&mut self, size: f32, x: f32, y: f32, s: &str) {
        if self.cjk.is_some() {
            self.content.set_fill_gray(0.35);
            self.text(CJK_FONT, size, x, y, s);
            self.content.set_fill_gray(0.0);
        }
    }
}

/// One A4 page: title, the facts as label/value rows, the QR code, and the proof in small type.
/// Labels are English with their Japanese beneath when a CJK font is available (`cjk_font`).
pub fn render_pdf(c: &CertificateData) -> Vec<u8> {
    render_pdf_with(c, cjk_font())
}

/// `render_pdf` with the given CJK font (or none).
pub fn render_pdf_with(c: &CertificateData, cjk_font: Option<&[u8]>) -> Vec<u8> {
    let (catalog, tree, page_id, font, mono, content_id) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
    let (f_sans, f_bold, f_mono) = (Name(b"F1"), Name(b"F2"), Name(b"F3"));
    let (bold, cjk_ref) = (Ref::new(7), 8);
    let mut page = Page { content: Content::new(), cjk: cjk_font.and_then(Cjk::new), replaced: false };
    let has_cjk = page.cjk.is_some();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut p = pdf.page(page_id);
    p.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    p.parent(tree);
    p.contents(content_id);
    let mut resources = p.resources();
    let mut fonts = resources.fonts();
    fonts.pair(f_sans, font);
    fonts.pair(f_bold, bold);
    fonts.pair(f_mono, mono);
    if has_cjk {
        fonts.pair(CJK_FONT, Ref::new(cjk_ref));
    }
    fonts.finish();
    resources.finish();
    p.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold"));
    pdf.type1_font(mono).base_font(Name(b"Courier"));

    // A thin green frame.
    page.content.set_stroke_rgb(0.18, 0.42, 0.25);
    page.content.set_line_width(2.0);
    page.content.rect(24.0, 24.0, 547.0, 794.0);
    page.content.stroke();
    page.text(f_bold, 20.0, 48.0, 780.0, "Certificate of Retirement");
    page.ja(13.0, 330.0, 780.0, "償却証明書");
    page.text(f_sans, 10.0, 48.0, 762.0, "Verified carbon credits retired on the program's public registry");
    page.text(f_mono, 11.0, 48.0, 740.0, &c.id);
    let mut rows: Vec<(&str, &str, String)> = vec![
        ("Credits retired", "償却済みクレジット", format!("{} tCO2e ({} credits)", c.quantity, c.quantity)),
        ("Beneficiary", "受益者", c.beneficiary.clone()),
        ("Purpose", "目的", c.purpose.clone()),
        ("Claim period", "主張期間", format!("{} to {}", c.claim_from, c.claim_to)),
        ("Jurisdiction", "管轄", c.jurisdiction.clone()),
        ("Retired at", "償却日時", c.retired_at.clone()),
        ("Retirement", "償却", c.retirement.clone()),
        ("Project", "プロジェクト", c.project.clone()),
        ("Methodology", "方法論", c.methodology.clone()),
        ("Vintage / batch", "ヴィンテージ／バッチ", format!("{} / {}", c.vintage, c.batch)),
        ("Ecological score", "生態系スコア", c.ecological.clone()),
    ];
    if !c.note.is_empty() {
        rows.push(("Note", "備考", c.note.clone()));
    }
    // Room for the Japanese line under each label.
    let gap = if has_cjk { 19.0 } else { 16.0 };
    let mut y = 712.0;
    for (label, ja, value) in &rows {
        page.text(f_bold, 9.5, 48.0, y, label);
        page.ja(6.5, 48.0, y - 8.5, ja);
        // One line under the other: a value of three lines or more used to overprint the next row.
        for (i, line) in wrap(value, 52).iter().enumerate() {
            if i > 0 {
                y -= 12.0;
            }
            page.text(f_sans, 9.5, 150.0, y, line);
        }
        y -= gap;
    }
    y -= 4.0;
    page.text(f_bold, 9.5, 48.0, y, "Serials");
    page.ja(6.5, 48.0, y - 8.5, "シリアル");
    for serial in c.serials.iter().take(12) {
        page.text(f_mono, 8.5, 150.0, y, serial);
        y -= 11.0;
    }
    if c.serials.len() > 12 {
        let more = format!("... and {} more ranges (see the HTML certificate)", c.serials.len() - 12);
        page.text(f_sans, 8.5, 150.0, y, &more);
        y -= 11.0;
    }
    y -= 8.0;
    page.text(f_bold, 9.5, 48.0, y, "Price disclosure");
    page.ja(6.5, 48.0, y - 8.5, "価格の開示");
    for line in c.price.iter().flat_map(|l| wrap(&l.text(Lang::En), 70)) {
        page.text(f_sans, 9.0, 150.0, y, &line);
        y -= 12.0;
    }
    y -= 8.0;
    let index = c.log_index.map_or("pending".to_owned(), |i| i.to_string());
    page.text(f_bold, 9.5, 48.0, y, "Inclusion proof");
    page.ja(6.5, 48.0, y - 8.5, "包含証明");
    page.text(f_sans, 9.0, 150.0, y, &format!("Log entry {index}; C2SP tlog-proof bundle:"));
    y -= 11.0;
    for line in c.proof.text(Lang::En).lines().flat_map(|l| wrap(l, 92)).take(((y - 70.0) / 8.0).max(0.0) as usize) {
        page.text(f_mono, 6.0, 150.0, y, &line);
        y -= 8.0;
    }

    // QR code, top right: one filled square per dark module.
    let width = c.qr.width();
    let module = 110.0 / width as f32;
    let (qx, qy) = (440.0, 800.0);
    page.content.set_fill_rgb(0.0, 0.0, 0.0);
    for (i, color) in c.qr.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (col, row) = ((i % width) as f32, (i / width) as f32);
            page.content.rect(qx + col * module, qy - (row + 1.0) * module, module, module);
        }
    }
    page.content.fill_nonzero();
    page.text(f_sans, 6.5, 440.0, 680.0, "Scan for the public record");
    for (i, line) in wrap(&c.url, 34).iter().enumerate() {
        page.text(f_mono, 5.5, 440.0, 671.0 - i as f32 * 7.0, line);
    }
    page.text(f_sans, 7.0, 48.0, 40.0, "Retired credits can never be transferred, retired again or refunded.");
    page.ja(6.5, 48.0, 31.0, "償却されたクレジットは、移転・再償却・返金できません。");
    if page.replaced {
        page.text(
            f_sans,
            7.0,
            48.0,
            50.0,
            "Characters outside ASCII print as ? here (no CJK font on this server); the HTML certificate shows them.",
        );
    }
    let Page { content, cjk, .. } = page;
    pdf.stream(content_id, &content.finish());
    if let Some(cjk) = cjk
        && let Err(e) = cjk.write(&mut pdf, cjk_ref)
    {
        // The text already names the font; without it a reader substitutes one. Logged, not fatal.
        tracing::warn!(error = %e, "could not subset the CJK font for a certificate");
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(beneficiary: &str) -> CertificateData {
        let url = "http://localhost/api/v1/certificates/AGR-CERT-R000001".to_owned();
        CertificateData {
            id: "AGR-CERT-R000001".into(),
            retirement: "R000001".into(),
            qr: QrCode::new(url.as_bytes()).expect("qr"),
            url,
            retired_at: "2026-10-01T00:00:00Z".into(),
            quantity: 3,
            serials: vec!["AGR-JP-P0001-2026-B000001-000000001-000000003".into()],
            beneficiary: beneficiary.into(),
            purpose: "scope3".into(),
            claim_from: "2025-04-01".into(),
            claim_to: "2026-03-31".into(),
            jurisdiction: "JP-27".into(),
            note: String::new(),
            project: "P0001 魚沼の中干し延長".into(),
            methodology: "AG-005 v1.0".into(),
            vintage: "2026".into(),
            batch: "B000001".into(),
            ecological: "Not scored yet".into(),
            eco: None,
            price: vec![PriceLine::PerCredit("3925 JPY".into())],
            log_index: None,
            proof: Proof::NotYet,
        }
    }

    #[test]
    fn without_a_cjk_font_the_pdf_prints_question_marks_and_says_so() {
        let pdf = render_pdf_with(&data("関西鉄道株式会社"), None);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(????????)"), "the name falls back to question marks");
        assert!(text.contains("no CJK font on this server"), "and the page says why");
        assert!(!text.contains("/Type0"), "no font embedded");
    }

    #[test]
    fn a_value_of_several_lines_does_not_overprint_the_next_row() {
        let mut c = data("Kansai Rail Co., Ltd.");
        c.ecological = "51.9 / 100 for the monitoring period 2024-04-01 to 2024-10-31 (soil 79.0, biodiversity \
                        40.8, water 68.4, practice 19.4)"
            .into();
        c.note = "Purchased and retired through the program's sales desk".into();
        let pdf = render_pdf_with(&c, None);
        let text = String::from_utf8_lossy(&pdf);
        // Every line of the value column, top to bottom, at least a small line (8 pt) apart.
        let ys: Vec<f32> =
            text.lines().filter_map(|l| l.strip_prefix("150 ")?.strip_suffix(" Td")?.parse().ok()).collect();
        assert!(ys.len() > 10, "{ys:?}");
        for pair in ys.windows(2) {
            assert!(pair[0] - pair[1] >= 8.0, "lines {pair:?} overprint: {ys:?}");
        }
    }

    #[test]
    fn with_a_cjk_font_japanese_is_embedded_as_a_subset() {
        let Some(font) = cjk_font() else {
            assert!(std::env::var_os("CI").is_none(), "CI installs fonts-ipafont-gothic");
            return;
        };
        let pdf = render_pdf_with(&data("関西鉄道株式会社"), Some(font));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2") && text.contains("/Identity-H"));
        assert!(!text.contains("(????"), "nothing replaced");
        assert!(pdf.len() < font.len() / 20, "a subset: {} bytes of a {} byte font", pdf.len(), font.len());
    }
}
