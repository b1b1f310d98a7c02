//! The retirement certificate as a person reads it: HTML (askama, `templates/certificate.html`,
//! self-contained: no scripts, no external assets) and PDF (`pdf-writer`, built-in Helvetica, no
//! font files). Every retirement has one, at a permanent public URL named by its certificate id
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
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::{Color, QrCode};

use super::{disclosure, dto::MoneyDto};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::Path;

/// Everything a certificate shows, gathered once for both renderings.
pub struct CertificateData {
    pub id: String,
    pub retirement: String,
    pub url: String,
    pub retired_at: String,
    pub quantity: u64,
    pub serials: Vec<String>,
    pub beneficiary: String,
    pub purpose: String,
    pub claim_period: String,
    pub jurisdiction: String,
    pub note: String,
    pub project: String,
    pub methodology: String,
    pub vintage: String,
    pub batch: String,
    pub ecological: String,
    /// Disclosure lines (price, farmers' share, or the batch aggregates when confidential).
    pub price: Vec<String>,
    pub log_index: Option<u64>,
    pub proof: String,
    qr: QrCode,
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
        price.push("Retired directly by the holder; no sale.".to_owned());
    } else if d.confidential {
        price.push("The sale is confidential; the batch's aggregates:".to_owned());
    } else {
        if let Some(p) = &d.price_per_credit {
            price.push(format!("Price per credit: {}", money(p)));
        }
        if let (Some(share), Some(pct)) = (&d.farmer_share_per_credit, &d.farmer_share_pct) {
            price.push(format!("Paid to farmers: {} per credit ({pct} % of the price)", money(share)));
        }
        if let Some(c) = &d.commission_pct {
            price.push(format!("Program commission: {c} %"));
        }
        if let Some(f) = d.forfeited.as_ref().filter(|f| f.minor > 0) {
            price.push(format!("Forfeited by withdrawn participants: {}", money(f)));
        }
    }
    if d.sale.is_some() {
        for a in &d.batch_aggregates {
            price.push(format!(
                "Batch {}: {} credits in {} sales, average {} {} per credit, {} % to farmers",
                a.batch, a.credits_sold, a.sales, a.average_price_per_credit, a.currency, a.farmer_share_pct
            ));
        }
    }
    // The monitoring period's ecological score, the one the sales filter reads.
    let ecological = batch.and_then(|b| lc.batch_ecological_score(b.id)).map_or_else(
        || "Not scored: the batch was not issued from a monitoring report".to_owned(),
        |s| crate::lifecycle::ecology::score_line(&s),
    );
    let (log_index, proof) = match furrow_app::transparency::retirement_entry(store, retirement.id).await {
        Ok(index) => match furrow_app::transparency::proof_bundle(store, index).await {
            Ok(bundle) => (Some(index), bundle),
            Err(_) => (Some(index), "The next signed checkpoint will include this entry; reload shortly.".into()),
        },
        Err(_) => (None, "Not yet in a signed checkpoint; reload shortly.".into()),
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
        claim_period: format!("{} to {}", c.claim_period.from, c.claim_period.to),
        jurisdiction: c.jurisdiction.to_string(),
        note: c.note.clone(),
        project,
        methodology,
        vintage: batch.map_or(String::new(), |b| b.vintage.to_string()),
        batch: batch.map_or(String::new(), |b| b.id.to_string()),
        ecological,
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
    qr_svg: String,
}

/// The certificate of a retirement, as an HTML page (public, permanent).
#[utoipa::path(get, path = "/certificates/{id}", tag = "sales", params(("id" = String, Path, description = "e.g. AGR-CERT-R000001")),
    responses((status = 200, body = String, content_type = "text/html"), (status = 404, body = Problem)))]
pub async fn certificate_html(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let c = gather(&state, &headers, &id).await?;
    let page = CertificateHtml { qr_svg: qr_svg(&c.qr), c: &c };
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

/// Helvetica in PDF's standard encoding covers ASCII; other characters print as `?` (the HTML
/// certificate shows every name exactly).
fn ascii(s: &str) -> Vec<u8> {
    s.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b'?' }).collect()
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

/// One A4 page: title, the facts as label/value rows, the QR code, and the proof in small type.
pub fn render_pdf(c: &CertificateData) -> Vec<u8> {
    let (catalog, tree, page_id, font, mono, content_id) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
    let (f_sans, f_bold, f_mono) = (Name(b"F1"), Name(b"F2"), Name(b"F3"));
    let bold = Ref::new(7);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    page.parent(tree);
    page.contents(content_id);
    let mut resources = page.resources();
    let mut fonts = resources.fonts();
    fonts.pair(f_sans, font);
    fonts.pair(f_bold, bold);
    fonts.pair(f_mono, mono);
    fonts.finish();
    resources.finish();
    page.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold"));
    pdf.type1_font(mono).base_font(Name(b"Courier"));

    let mut content = Content::new();
    // A thin green frame.
    content.set_stroke_rgb(0.18, 0.42, 0.25);
    content.set_line_width(2.0);
    content.rect(24.0, 24.0, 547.0, 794.0);
    content.stroke();
    let text = |content: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &str| {
        content.begin_text();
        content.set_font(font, size);
        content.next_line(x, y);
        content.show(Str(&ascii(s)));
        content.end_text();
    };
    text(&mut content, f_bold, 20.0, 48.0, 780.0, "Certificate of Retirement");
    text(&mut content, f_sans, 10.0, 48.0, 762.0, "Verified carbon credits retired on the program's public registry");
    text(&mut content, f_mono, 11.0, 48.0, 740.0, &c.id);
    let mut rows: Vec<(&str, String)> = vec![
        ("Credits retired", format!("{} tCO2e ({} credits)", c.quantity, c.quantity)),
        ("Beneficiary", c.beneficiary.clone()),
        ("Purpose", c.purpose.clone()),
        ("Claim period", c.claim_period.clone()),
        ("Jurisdiction", c.jurisdiction.clone()),
        ("Retired at", c.retired_at.clone()),
        ("Retirement", c.retirement.clone()),
        ("Project", c.project.clone()),
        ("Methodology", c.methodology.clone()),
        ("Vintage / batch", format!("{} / {}", c.vintage, c.batch)),
        ("Ecological score", c.ecological.clone()),
    ];
    if !c.note.is_empty() {
        rows.push(("Note", c.note.clone()));
    }
    let mut y = 712.0;
    for (label, value) in &rows {
        text(&mut content, f_bold, 9.5, 48.0, y, label);
        for (i, line) in wrap(value, 52).iter().enumerate() {
            text(&mut content, f_sans, 9.5, 150.0, y - i as f32 * 12.0, line);
            if i > 0 {
                y -= 12.0;
            }
        }
        y -= 16.0;
    }
    y -= 4.0;
    text(&mut content, f_bold, 9.5, 48.0, y, "Serials");
    for serial in c.serials.iter().take(12) {
        text(&mut content, f_mono, 8.5, 150.0, y, serial);
        y -= 11.0;
    }
    if c.serials.len() > 12 {
        text(
            &mut content,
            f_sans,
            8.5,
            150.0,
            y,
            &format!("... and {} more ranges (see the HTML certificate)", c.serials.len() - 12),
        );
        y -= 11.0;
    }
    y -= 8.0;
    text(&mut content, f_bold, 9.5, 48.0, y, "Price disclosure");
    for line in c.price.iter().flat_map(|l| wrap(l, 70)) {
        text(&mut content, f_sans, 9.0, 150.0, y, &line);
        y -= 12.0;
    }
    y -= 8.0;
    let index = c.log_index.map_or("pending".to_owned(), |i| i.to_string());
    text(&mut content, f_bold, 9.5, 48.0, y, "Inclusion proof");
    text(&mut content, f_sans, 9.0, 150.0, y, &format!("Log entry {index}; C2SP tlog-proof bundle:"));
    y -= 11.0;
    for line in c.proof.lines().flat_map(|l| wrap(l, 92)).take(((y - 60.0) / 8.0).max(0.0) as usize) {
        text(&mut content, f_mono, 6.0, 150.0, y, &line);
        y -= 8.0;
    }

    // QR code, top right: one filled square per dark module.
    let width = c.qr.width();
    let module = 110.0 / width as f32;
    let (qx, qy) = (440.0, 800.0);
    content.set_fill_rgb(0.0, 0.0, 0.0);
    for (i, color) in c.qr.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (col, row) = ((i % width) as f32, (i / width) as f32);
            content.rect(qx + col * module, qy - (row + 1.0) * module, module, module);
        }
    }
    content.fill_nonzero();
    text(&mut content, f_sans, 6.5, 440.0, 680.0, "Scan for the public record");
    for (i, line) in wrap(&c.url, 34).iter().enumerate() {
        text(&mut content, f_mono, 5.5, 440.0, 671.0 - i as f32 * 7.0, line);
    }
    text(&mut content, f_sans, 7.0, 48.0, 40.0, "Retired credits can never be transferred, retired again or refunded.");
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}
