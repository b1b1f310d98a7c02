//! Cell values as the registries publish them: integers with thousands separators or a `.0` tail,
//! decimals in thousandths, and dates in ISO, US `m/d/yy` and `m/d/yyyy` forms (with or without a time).

/// An integer cell: `5880`, `"5,880"`, `-12`, `2024.0`, `79565.0`. Anything else is refused.
pub fn int(cell: &str) -> Result<i64, String> {
    let s = cell.trim().replace(',', "");
    let s = match s.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => whole.to_string(),
        Some(_) => return Err(format!("{cell:?} is not a whole number")),
        None => s,
    };
    let digits = s.strip_prefix('-').unwrap_or(&s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{cell:?} is not a number"));
    }
    s.parse::<i64>().map_err(|_| format!("{cell:?} is out of range"))
}

/// A decimal cell in thousandths, exactly (no binary floating point): `2710.062` → 2 710 062.
pub fn milli(cell: &str) -> Result<i64, String> {
    let s = cell.trim().replace(',', "");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{cell:?} has more than three decimals"));
    }
    let w = int(whole)?;
    let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| format!("{cell:?} is not a number"))? };
    for _ in frac.len()..3 {
        f *= 10;
    }
    let sign = if whole.trim_start().starts_with('-') { -1 } else { 1 };
    w.checked_mul(1000).and_then(|x| x.checked_add(sign * f)).ok_or_else(|| format!("{cell:?} is out of range"))
}

/// A year cell: `2019`, `2024.0`.
pub fn year(cell: &str) -> Result<i32, String> {
    let y = int(cell)?;
    if (1900..=2200).contains(&y) { Ok(y as i32) } else { Err(format!("{cell:?} is not a plausible year")) }
}

fn valid(y: i32, m: u32, d: u32) -> bool {
    (1900..=2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// A date cell, normalised to `YYYY-MM-DD`. Accepts `2020-11-17`, `2026-04-13T12:35:58.842275`,
/// `2022-02-24 20:20:59`, `03/19/2009`, `8/2/06`, `6/30/2025 7:43:26 PM`, `01012019` is not accepted.
pub fn date(cell: &str) -> Result<String, String> {
    let s = cell.trim();
    let bad = || format!("{cell:?} is not a date");
    let day_part = s.split([' ', 'T']).next().unwrap_or_default();
    let (y, m, d) = if day_part.len() == 10 && day_part.as_bytes()[4] == b'-' && day_part.as_bytes()[7] == b'-' {
        let y: i32 = day_part[0..4].parse().map_err(|_| bad())?;
        let m: u32 = day_part[5..7].parse().map_err(|_| bad())?;
        let d: u32 = day_part[8..10].parse().map_err(|_| bad())?;
        (y, m, d)
    } else {
        let mut it = day_part.split('/');
        let (Some(m), Some(d), Some(y), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let num = |t: &str| -> Result<u32, String> {
            if t.is_empty() || t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        let (m, d, yy) = (num(m)?, num(d)?, num(y)?);
        let y = match y.len() {
            2 if yy < 50 => 2000 + yy as i32,
            2 => 1900 + yy as i32,
            4 => yy as i32,
            _ => return Err(bad()),
        };
        (y, m, d)
    };
    if !valid(y, m, d) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// `DDMMYYYY` (inside Verra serials) as `YYYY-MM-DD`.
pub fn ddmmyyyy(s: &str) -> Option<String> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}-{}-{}", &s[4..8], &s[2..4], &s[0..2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_numbers_and_dates() {
        assert_eq!(int("\"5,880\"".trim_matches('"')), Ok(5880));
        assert_eq!(int("2024.0"), Ok(2024));
        assert_eq!(int("-3"), Ok(-3));
        assert!(int("1.5").is_err() && int("").is_err() && int("x").is_err());
        assert_eq!(milli("2710.062"), Ok(2_710_062));
        assert_eq!(milli("46.94"), Ok(46_940));
        assert_eq!(milli("531.0"), Ok(531_000));
        assert_eq!(date("8/2/06").as_deref(), Ok("2006-08-02"));
        assert_eq!(date("12/29/15").as_deref(), Ok("2015-12-29"));
        assert_eq!(date("03/19/2009").as_deref(), Ok("2009-03-19"));
        assert_eq!(date("6/30/2025 7:43:26 PM").as_deref(), Ok("2025-06-30"));
        assert_eq!(date("2026-04-13T12:35:58.842275").as_deref(), Ok("2026-04-13"));
        assert_eq!(date("2022-02-24 20:20:59").as_deref(), Ok("2022-02-24"));
        assert!(date("13/45/2020").is_err() && date("yesterday").is_err());
        assert_eq!(ddmmyyyy("16042012").as_deref(), Some("2012-04-16"));
    }
}
