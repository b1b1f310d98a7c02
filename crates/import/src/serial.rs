//! The serial formats of other registries (`data/real/SOURCES.md`), parsed into the namespace in
//! which their integers are unique, an inclusive range, and the facts they embed; and printed back.
//!
//! Every strict format round-trips: `parse(x.to_string()) == x`. The one lenient parser is the CDM
//! one (`parse_cdm`): Gold Standard transcribes CDM CER ranges by hand, with stray spaces,
//! non-breaking spaces, mojibake en dashes and missing segments, so it reads the tokens it can
//! recognise and prints a canonical form of its own, which then round-trips.

use std::fmt;

/// A parsed serial of another registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Serial {
    /// ACR, ART-TREES and FCPF (all APX-hosted): `{PFX}-{CC}-{PROJECT}-{VINTAGE}-{BATCH}-{START} to {END}`.
    Apx { prefix: String, country: String, project: String, vintage: String, batch: String, start: u64, end: u64 },
    /// Climate Action Reserve: `CAR-{SERIES}-{CC}-{PROJECT}-{A}-{B}-{STATE}-{VINTAGE}-{BATCH}-{START} to {END}`;
    /// numbering restarts at 1 in every batch.
    Car {
        series: String,
        country: String,
        project: String,
        a: String,
        b: String,
        state: String,
        vintage: String,
        batch: String,
        start: u64,
        end: u64,
    },
    /// Gold Standard native credits: `{GS1}-{1}-{CC}-[GS]{GSID}-{SCOPE}-{VINTAGE}-{BATCH}-{START}-{END}`
    /// (older rows omit the `GS` before the GSID).
    Gold {
        head: String,
        sub: String,
        country: String,
        gs_prefix: bool,
        gsid: String,
        scope: String,
        vintage: String,
        batch: String,
        start: u64,
        end: u64,
    },
    /// Verra: `{BATCH}-{START}-{END}-[VCS-]{UNIT}-{CODE}-{ORIGIN}-{CC}-{SCOPE}-{PROJECT}-{DDMMYYYY}-{DDMMYYYY}-{FLAG}`.
    /// Numeric serials are unique only within the origin-registry token (VER, MER, APX, TZ1).
    Verra {
        batch: String,
        start: u64,
        end: u64,
        vcs: bool,
        unit: String,
        code: String,
        origin: String,
        country: String,
        scope: String,
        project: String,
        vintage_start: String,
        vintage_end: String,
        flag: String,
    },
    /// A CDM CER range as transcribed by Gold Standard. `country` is `None` for the bare `START - END` rows.
    Cdm { country: Option<String>, period: Option<String>, start: u64, end: u64, project: Option<String> },
    /// Cercarbono (EcoRegistry): a batch code such as `CDC_1_1_1_321_14_1_2009` plus integer `from`/`to`;
    /// printed `{BATCH}/{FROM}-{TO}`.
    Cercarbono { batch: String, start: u64, end: u64 },
    /// Climate Refarm: one credit, `CR` and ten digits.
    Refarm { number: u64 },
}

/// Why a serial did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialError {
    pub format: &'static str,
    pub input: String,
    pub reason: String,
}

impl fmt::Display for SerialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {} serial: {:?}: {}", self.format, self.input, self.reason)
    }
}

impl std::error::Error for SerialError {}

fn err(format: &'static str, input: &str, reason: impl Into<String>) -> SerialError {
    let mut shown: String = input.chars().take(120).collect();
    if shown.len() < input.len() {
        shown.push('…');
    }
    SerialError { format, input: shown, reason: reason.into() }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_upper(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn is_upper_alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A serial integer: digits, no sign, no leading zero (so that printing gives back the input), at least 1.
fn number(format: &'static str, input: &str, token: &str, what: &str) -> Result<u64, SerialError> {
    if !is_digits(token) {
        return Err(err(format, input, format!("{what} {token:?} is not a number")));
    }
    if token.len() > 1 && token.starts_with('0') {
        return Err(err(format, input, format!("{what} {token:?} has a leading zero")));
    }
    let n: u64 = token.parse().map_err(|_| err(format, input, format!("{what} {token:?} is too large")))?;
    if n == 0 {
        return Err(err(format, input, format!("{what} is 0; serials start at 1")));
    }
    if n > i64::MAX as u64 {
        return Err(err(format, input, format!("{what} {n} is too large")));
    }
    Ok(n)
}

fn range(format: &'static str, input: &str, start: &str, end: &str) -> Result<(u64, u64), SerialError> {
    let s = number(format, input, start, "start")?;
    let e = number(format, input, end, "end")?;
    if s > e {
        return Err(err(format, input, format!("start {s} is after end {e}")));
    }
    Ok((s, e))
}

fn token(format: &'static str, input: &str, t: &str, what: &str, ok: fn(&str) -> bool) -> Result<String, SerialError> {
    if ok(t) { Ok(t.to_string()) } else { Err(err(format, input, format!("{what} {t:?} is malformed"))) }
}

fn vintage_token(format: &'static str, input: &str, t: &str) -> Result<String, SerialError> {
    if t.len() == 4 && is_digits(t) {
        Ok(t.to_string())
    } else {
        Err(err(format, input, format!("vintage {t:?} is not a year")))
    }
}

fn split_to<'a>(format: &'static str, input: &'a str) -> Result<(&'a str, &'a str), SerialError> {
    let mut parts = input.split(" to ");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(r), None) => Ok((l, r)),
        _ => Err(err(format, input, "expected exactly one \" to \" between the first serial and the last")),
    }
}

/// ACR, ART-TREES and FCPF: `ACR-US-102-2003-274-120158095 to 120158156`.
pub fn parse_apx(input: &str) -> Result<Serial, SerialError> {
    const F: &str = "ACR/ART";
    let (left, end) = split_to(F, input)?;
    let t: Vec<&str> = left.split('-').collect();
    if t.len() != 6 {
        return Err(err(F, input, format!("expected 6 '-'-separated fields before \" to \", found {}", t.len())));
    }
    let prefix = token(F, input, t[0], "prefix", is_upper)?;
    let country = token(F, input, t[1], "country", |s| s.len() == 2 && is_upper(s))?;
    let project = token(F, input, t[2], "project", is_digits)?;
    let vintage = vintage_token(F, input, t[3])?;
    let batch = token(F, input, t[4], "batch", is_digits)?;
    let (start, end) = range(F, input, t[5], end)?;
    Ok(Serial::Apx { prefix, country, project, vintage, batch, start, end })
}

/// Climate Action Reserve: `CAR-1-US-1008-27-845-WA-2015-2010-1 to 8645`.
pub fn parse_car(input: &str) -> Result<Serial, SerialError> {
    const F: &str = "CAR";
    let (left, end) = split_to(F, input)?;
    let t: Vec<&str> = left.split('-').collect();
    if t.len() != 10 || t[0] != "CAR" {
        return Err(err(F, input, "expected CAR and 9 more '-'-separated fields before \" to \""));
    }
    let series = token(F, input, t[1], "series", is_upper_alnum)?;
    let country = token(F, input, t[2], "country", |s| s.len() == 2 && is_upper(s))?;
    let project = token(F, input, t[3], "project", is_digits)?;
    let a = token(F, input, t[4], "code", is_digits)?;
    let b = token(F, input, t[5], "code", is_digits)?;
    let state = token(F, input, t[6], "state", is_upper)?;
    let vintage = vintage_token(F, input, t[7])?;
    let batch = token(F, input, t[8], "batch", is_digits)?;
    let (start, end) = range(F, input, t[9], end)?;
    Ok(Serial::Car { series, country, project, a, b, state, vintage, batch, start, end })
}

/// Gold Standard native: `GS1-1-TW-GS1001-12-2019-20258-1-161285`.
pub fn parse_gold(input: &str) -> Result<Serial, SerialError> {
    const F: &str = "Gold Standard";
    let t: Vec<&str> = input.split('-').collect();
    if t.len() != 9 {
        return Err(err(F, input, format!("expected 9 '-'-separated fields, found {}", t.len())));
    }
    let head = token(F, input, t[0], "head", |s| s.starts_with("GS") && is_upper_alnum(s))?;
    let sub = token(F, input, t[1], "sub-account", is_digits)?;
    let country = token(F, input, t[2], "country", |s| s.len() == 2 && is_upper(s))?;
    let (gs_prefix, id) = match t[3].strip_prefix("GS") {
        Some(rest) => (true, rest),
        None => (false, t[3]),
    };
    let gsid = token(F, input, id, "GSID", is_digits)?;
    let scope = token(F, input, t[4], "scope", is_digits)?;
    let vintage = vintage_token(F, input, t[5])?;
    let batch = token(F, input, t[6], "batch", is_digits)?;
    let (start, end) = range(F, input, t[7], t[8])?;
    Ok(Serial::Gold { head, sub, country, gs_prefix, gsid, scope, vintage, batch, start, end })
}

/// Verra: `4147-176338408-176338907-VCU-016-MER-AU-14-641-16042012-15042013-0`.
pub fn parse_verra(input: &str) -> Result<Serial, SerialError> {
    const F: &str = "Verra";
    let t: Vec<&str> = input.split('-').collect();
    let (vcs, rest) = match t.len() {
        13 if t[3] == "VCS" => (true, &t[4..]),
        12 => (false, &t[3..]),
        n => return Err(err(F, input, format!("expected 12 or 13 '-'-separated fields, found {n}"))),
    };
    let batch = token(F, input, t[0], "issuance batch", is_digits)?;
    let (start, end) = range(F, input, t[1], t[2])?;
    let unit = token(F, input, rest[0], "unit type", is_upper)?;
    let code = token(F, input, rest[1], "code", is_digits)?;
    let origin = token(F, input, rest[2], "origin registry", is_upper_alnum)?;
    let country = token(F, input, rest[3], "country", |s| s.len() == 2 && is_upper(s))?;
    let scope = token(F, input, rest[4], "sectoral scope", is_digits)?;
    let project = token(F, input, rest[5], "project", is_digits)?;
    let date = |s: &str| s.len() == 8 && is_digits(s);
    let vintage_start = token(F, input, rest[6], "vintage start", date)?;
    let vintage_end = token(F, input, rest[7], "vintage end", date)?;
    let flag = token(F, input, rest[8], "flag", |s| s == "0" || s == "1")?;
    Ok(Serial::Verra {
        batch,
        start,
        end,
        vcs,
        unit,
        code,
        origin,
        country,
        scope,
        project,
        vintage_start,
        vintage_end,
        flag,
    })
}

/// Cercarbono: the batch code and the `from`/`to` columns, or the printed form `{BATCH}/{FROM}-{TO}`.
pub fn parse_cercarbono(batch: &str, from: &str, to: &str) -> Result<Serial, SerialError> {
    const F: &str = "Cercarbono";
    let input = format!("{batch}/{from}-{to}");
    let mut parts = batch.split('_');
    let head = parts.next().unwrap_or_default();
    if !is_upper(head) || batch.split('_').count() < 2 || !parts.all(is_upper_alnum) {
        return Err(err(F, &input, "batch code must be letters followed by '_'-separated codes"));
    }
    // Cercarbono numbers some batches from 0.
    let zero = |t: &str, what: &str| if t == "0" { Ok(0) } else { number(F, &input, t, what) };
    let (start, end) = (zero(from, "from")?, zero(to, "to")?);
    if start > end {
        return Err(err(F, &input, format!("from {start} is after to {end}")));
    }
    Ok(Serial::Cercarbono { batch: batch.to_string(), start, end })
}

/// Cercarbono's printed form, `{BATCH}/{FROM}-{TO}`.
pub fn parse_cercarbono_printed(input: &str) -> Result<Serial, SerialError> {
    let Some((batch, rest)) = input.split_once('/') else {
        return Err(err("Cercarbono", input, "expected BATCH/FROM-TO"));
    };
    let Some((from, to)) = rest.split_once('-') else {
        return Err(err("Cercarbono", input, "expected BATCH/FROM-TO"));
    };
    parse_cercarbono(batch, from, to)
}

/// Climate Refarm: `CR0000000001`.
pub fn parse_refarm(input: &str) -> Result<Serial, SerialError> {
    match input.strip_prefix("CR") {
        Some(d) if d.len() == 10 && is_digits(d) => {
            let number: u64 = d.parse().map_err(|_| err("Climate Refarm", input, "not a number"))?;
            if number == 0 {
                return Err(err("Climate Refarm", input, "serials start at 1"));
            }
            Ok(Serial::Refarm { number })
        }
        _ => Err(err("Climate Refarm", input, "expected CR and ten digits")),
    }
}

/// A CDM CER range as Gold Standard transcribes it, e.g. `RW-5-1568504-2-2-0- 6207 - RW-5-1587978-2-2-0- 6207`
/// or `IN-5-…-1774 to IN-5-…-1774` or `15302296 - 15310755`. Lenient: see the module documentation.
pub fn parse_cdm(input: &str) -> Result<Serial, SerialError> {
    const F: &str = "CDM";
    // Tokens: runs of ASCII letters or of digits. Everything else separates, which also disposes of the
    // non-breaking spaces, the mojibake (`Â`, `â€“`) and the en dashes.
    let cleaned = input;
    let mut tokens: Vec<&str> = Vec::new();
    let bytes = cleaned.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let alpha = bytes[i].is_ascii_alphabetic();
        let digit = bytes[i].is_ascii_digit();
        if !alpha && !digit {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphabetic() == alpha && bytes[i].is_ascii_digit() == digit) {
            i += 1;
        }
        let t = &cleaned[start..i];
        if t != "to" {
            tokens.push(t);
        }
    }
    if tokens.iter().any(|t| t.bytes().any(|b| b.is_ascii_lowercase())) {
        return Err(err(F, input, "unexpected word"));
    }
    let letters: Vec<usize> = tokens.iter().enumerate().filter(|(_, t)| is_upper(t)).map(|(i, _)| i).collect();
    let plain = |t: &str, what: &str| number(F, input, t, what);
    match letters.as_slice() {
        [] if tokens.len() == 2 => {
            let (start, end) = (plain(tokens[0], "start")?, plain(tokens[1], "end")?);
            if start > end {
                return Err(err(F, input, format!("start {start} is after end {end}")));
            }
            Ok(Serial::Cdm { country: None, period: None, start, end, project: None })
        }
        [0, j] => {
            let (a, b) = tokens.split_at(*j);
            let (ca, pa, sa, ja) = cdm_half(F, input, a)?;
            let (cb, _pb, sb, jb) = cdm_half(F, input, b)?;
            if ca != cb {
                return Err(err(F, input, format!("the two ends are in different countries ({ca}, {cb})")));
            }
            if ja != jb {
                return Err(err(F, input, "the two ends name different projects"));
            }
            let (start, end) = (plain(sa, "start")?, plain(sb, "end")?);
            if start > end {
                return Err(err(F, input, format!("start {start} is after end {end}")));
            }
            Ok(Serial::Cdm {
                country: Some(ca.to_string()),
                period: pa.map(str::to_string),
                start,
                end,
                project: ja.map(str::to_string),
            })
        }
        _ => Err(err(F, input, "expected COUNTRY-PERIOD-SERIAL-…-PROJECT twice, or two bare numbers")),
    }
}

/// One end of a CDM range: country, commitment period, serial, and the project (the last number).
#[allow(clippy::type_complexity)]
fn cdm_half<'a>(
    f: &'static str,
    input: &str,
    half: &[&'a str],
) -> Result<(&'a str, Option<&'a str>, &'a str, Option<&'a str>), SerialError> {
    let country = half[0];
    let rest = &half[1..];
    let (period, mut k) = match rest {
        [p, _, ..] if p.len() <= 2 => (Some(*p), 1),
        _ => (None, 0),
    };
    // The old format (`HN-05-00-37743-…`) has a zero block before the serial.
    while k + 1 < rest.len() && rest[k].len() <= 2 && rest[k].bytes().all(|b| b == b'0') {
        k += 1;
    }
    let Some(serial) = rest.get(k) else {
        return Err(err(f, input, format!("no serial after country {country}")));
    };
    let project = if rest.len() > k + 1 {
        rest.last().map(|p| match p.trim_start_matches('0') {
            "" => "0",
            trimmed => trimmed,
        })
    } else {
        None
    };
    Ok((country, period, serial, project))
}

impl Serial {
    /// Parse by trying every strict format (not CDM, whose lenient parser would accept too much,
    /// and not Cercarbono, whose serial is two columns).
    pub fn parse_any(input: &str) -> Result<Serial, SerialError> {
        if input.starts_with("CAR-") {
            parse_car(input)
        } else if input.starts_with("GS") {
            parse_gold(input)
        } else if input.starts_with("CR") && !input.contains('-') {
            parse_refarm(input)
        } else if input.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            parse_verra(input)
        } else if input.contains('/') {
            parse_cercarbono_printed(input)
        } else {
            parse_apx(input)
        }
    }

    /// The numbering space the range's integers are unique in. Overlap and uniqueness checks key on it.
    pub fn namespace(&self) -> String {
        match self {
            Serial::Apx { prefix, country, project, vintage, batch, .. } => {
                format!("{prefix}-{country}-{project}-{vintage}-{batch}")
            }
            Serial::Car { series, country, project, a, b, state, vintage, batch, .. } => {
                format!("CAR-{series}-{country}-{project}-{a}-{b}-{state}-{vintage}-{batch}")
            }
            Serial::Gold { head, sub, country, gsid, scope, vintage, batch, .. } => {
                format!("{head}-{sub}-{country}-GS{gsid}-{scope}-{vintage}-{batch}")
            }
            Serial::Verra { origin, .. } => format!("VCU-{origin}"),
            Serial::Cdm { country, .. } => format!("CDM-{}", country.as_deref().unwrap_or("??")),
            Serial::Cercarbono { batch, .. } => batch.clone(),
            Serial::Refarm { .. } => "CR".to_string(),
        }
    }

    /// The inclusive integer range.
    pub fn range(&self) -> (u64, u64) {
        match self {
            Serial::Apx { start, end, .. }
            | Serial::Car { start, end, .. }
            | Serial::Gold { start, end, .. }
            | Serial::Verra { start, end, .. }
            | Serial::Cdm { start, end, .. }
            | Serial::Cercarbono { start, end, .. } => (*start, *end),
            Serial::Refarm { number } => (*number, *number),
        }
    }

    /// How many credits the range holds.
    pub fn len(&self) -> u64 {
        let (s, e) = self.range();
        e - s + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The two-letter country the serial embeds, if any.
    pub fn country(&self) -> Option<&str> {
        match self {
            Serial::Apx { country, .. }
            | Serial::Car { country, .. }
            | Serial::Gold { country, .. }
            | Serial::Verra { country, .. } => Some(country),
            Serial::Cdm { country, .. } => country.as_deref(),
            Serial::Cercarbono { .. } | Serial::Refarm { .. } => None,
        }
    }

    /// The vintage year the serial embeds, if any (Verra: the year of the vintage start).
    pub fn vintage(&self) -> Option<i32> {
        match self {
            Serial::Apx { vintage, .. } | Serial::Car { vintage, .. } | Serial::Gold { vintage, .. } => {
                vintage.parse().ok()
            }
            Serial::Verra { vintage_start, .. } => vintage_start.get(4..).and_then(|y| y.parse().ok()),
            Serial::Cercarbono { batch, .. } => {
                batch.rsplit('_').next().filter(|y| y.len() == 4).and_then(|y| y.parse().ok())
            }
            Serial::Cdm { .. } | Serial::Refarm { .. } => None,
        }
    }

    /// The project number the serial embeds, without leading zeros.
    pub fn project_number(&self) -> Option<&str> {
        let p = match self {
            Serial::Apx { project, .. } | Serial::Car { project, .. } | Serial::Verra { project, .. } => project,
            Serial::Gold { gsid, .. } => gsid,
            Serial::Cdm { project, .. } => project.as_ref()?,
            Serial::Cercarbono { .. } | Serial::Refarm { .. } => return None,
        };
        Some(p.trim_start_matches('0'))
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serial::Apx { prefix, country, project, vintage, batch, start, end } => {
                write!(f, "{prefix}-{country}-{project}-{vintage}-{batch}-{start} to {end}")
            }
            Serial::Car { series, country, project, a, b, state, vintage, batch, start, end } => {
                write!(f, "CAR-{series}-{country}-{project}-{a}-{b}-{state}-{vintage}-{batch}-{start} to {end}")
            }
            Serial::Gold { head, sub, country, gs_prefix, gsid, scope, vintage, batch, start, end } => {
                let gs = if *gs_prefix { "GS" } else { "" };
                write!(f, "{head}-{sub}-{country}-{gs}{gsid}-{scope}-{vintage}-{batch}-{start}-{end}")
            }
            Serial::Verra {
                batch,
                start,
                end,
                vcs,
                unit,
                code,
                origin,
                country,
                scope,
                project,
                vintage_start,
                vintage_end,
                flag,
            } => {
                let vcs = if *vcs { "VCS-" } else { "" };
                write!(
                    f,
                    "{batch}-{start}-{end}-{vcs}{unit}-{code}-{origin}-{country}-{scope}-{project}-{vintage_start}-{vintage_end}-{flag}"
                )
            }
            Serial::Cdm { country: None, start, end, .. } => write!(f, "{start} - {end}"),
            Serial::Cdm { country: Some(c), period, start, end, project } => {
                // The period slot is always printed (0 when unknown), so that a short serial is
                // never read back as a period: the printed form is canonical.
                let p = period.as_deref().unwrap_or("0");
                let j = project.as_deref().map(|j| format!("-{j}")).unwrap_or_default();
                write!(f, "{c}-{p}-{start}{j} - {c}-{p}-{end}{j}")
            }
            Serial::Cercarbono { batch, start, end } => write!(f, "{batch}/{start}-{end}"),
            Serial::Refarm { number } => write!(f, "CR{number:010}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_in_sources_parse() {
        let acr = parse_apx("ACR-US-102-2003-274-120158095 to 120158156").expect("acr");
        assert_eq!(acr.len(), 62);
        assert_eq!(acr.namespace(), "ACR-US-102-2003-274");
        let car = parse_car("CAR-1-US-1008-27-845-WA-2015-2010-1 to 8645").expect("car");
        assert_eq!((car.len(), car.vintage()), (8645, Some(2015)));
        assert!(parse_car("CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294").is_ok());
        let gs = parse_gold("GS1-1-TW-GS1001-12-2019-20258-1-161285").expect("gs");
        assert_eq!((gs.len(), gs.project_number()), (161285, Some("1001")));
        let old = parse_gold("GS1-1-TW-1001-12-2019-20258-1-10").expect("old gs");
        assert_eq!(old.namespace(), gs.namespace());
        let v = parse_verra("4147-176338408-176338907-VCU-016-MER-AU-14-641-16042012-15042013-0").expect("verra");
        assert_eq!(
            (v.len(), v.namespace(), v.vintage(), v.project_number()),
            (500, "VCU-MER".into(), Some(2012), Some("641"))
        );
        assert!(parse_apx("ART-GY-102-2021-11-2759599 to 2760598").is_ok());
        assert!(parse_apx("FCPF-CI-130-2023-20-1 to 46404").is_ok());
        assert_eq!(parse_refarm("CR0000000110").expect("cr").range(), (110, 110));
        let c = parse_cercarbono("CDC_1_1_1_321_14_1_2009", "4426", "4971").expect("cdc");
        assert_eq!((c.len(), c.vintage()), (546, Some(2009)));
    }

    #[test]
    fn cdm_ranges_are_read_through_the_transcription_noise() {
        for (s, start, end) in [
            ("RW-5-1568504-2-2-0- 6207 - RW-5-1587978-2-2-0- 6207", 1568504, 1587978),
            ("IN-5-218396528-2-2-0-8288 - IN-5-218396659-2-2-0-8288", 218396528, 218396659),
            ("CN-5-971162088-2-2-0-2898Â\u{a0} - CN-5-971164018-2-2-0-2898", 971162088, 971164018),
            ("TH â€“ 5 - 1148791 -1-1-0-2661 - TH â€“ 5 - 1163212 -1-1-0-2661", 1148791, 1163212),
            ("NG-5-1746578-1-1-0-5067 to NG-5-1747094-1-1-0-5067", 1746578, 1747094),
            ("IN-5-255145692-2-2-0-7379 - IN-255171762-2-2-0-7379", 255145692, 255171762),
            ("15302296 - 15310755", 15302296, 15310755),
        ] {
            let p = parse_cdm(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.range(), (start, end), "{s}");
        }
        assert!(parse_cdm(" NG-5-3641298-2-2-0-2711 -  NG-5-3636057-2-2-0-2711").is_err(), "end before start");
        assert!(parse_cdm("N-5-237485259-2-2-0-10288     - IN-5-237492845-2-2-0-10288").is_err(), "two countries");
    }

    #[test]
    fn malformed_serials_are_refused_with_a_reason() {
        for s in [
            "",
            "ACR-US-102-2003-274-120158095",
            "ACR-US-102-2003-274-5 to 4",
            "ACR-US-102-03-274-1 to 4",
            "ACR-USA-102-2003-274-1 to 4",
            "ACR-US-102-2003-274-0 to 4",
            "ACR-US-102-2003-274-01 to 4",
            "CAR-1-US-1008-27-845-WA-2015-2010-1 to x",
            "GS1-1-TW-GS1001-12-2019-20258-1",
            "1-2-3-VCU-016-MER-AU-14-641-16042012-15042013-2",
            "CR12",
            "CR0000000000",
        ] {
            let e = Serial::parse_any(s).expect_err(s);
            assert!(!e.reason.is_empty());
        }
    }
}
