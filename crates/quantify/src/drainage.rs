//! Extended mid-season drainage (中干し延長) in paddy rice: J-Credit AG-005, as reconstructed in
//! `research/methodologies.md` §3.
//!
//! Per field: prefecture → region; daily water-depth loss (日減水深) → drainage class; organic
//! matter (straw incorporated, removed or partly removed; compost) → baseline EF_BL in kg CH4-C/ha per
//! season; `EM_BL = A × EF_BL × 16/12 × 10⁻³ × GWP_CH4`; the project emits `(1 − 0.30)` of that, so
//! `ER = 0.30 × EM_BL`. A field is credited only if its drainage lasted at least 7 days longer than
//! the mean of at least 2 prior years and was not broken by re-irrigation (差し水).

use rust_decimal::Decimal;

use crate::{Gas, Head, Outcome, QuantifyError, Result, Trace, check_code, check_range, dec, gwp, tables};

pub const ENGINE_ID: &str = "jcredit-ag005-drainage";
/// The engine's version names the table versions it reads: a changed table changes the version,
/// so a result frozen with the old tables is reported as computed by another version.
pub const ENGINE_VERSION: &str = "1.0; tables ag005@2026.1-reconstruction gwp@2026.1";

/// Largest area one field may declare, ha.
pub const MAX_AREA_HA: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Straw {
    /// All straw incorporated (稲わらすき込み).
    Incorporated,
    /// All straw carried off (わら持ち出し).
    Removed,
    /// Part of the straw carried off; `produced` defaults to the prefecture's straw production.
    PartlyRemoved { removed_kg_per_10a: Decimal, produced_kg_per_10a: Option<Decimal> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// A label for the explanation (parcel id or name).
    pub label: String,
    /// ISO 3166-2:JP code, e.g. `JP-08` (Ibaraki).
    pub prefecture: String,
    pub area_ha: Decimal,
    /// 日減水深, mm/day, measured after puddling.
    pub daily_water_loss_mm: Decimal,
    pub straw: Straw,
    pub compost_applied: bool,
    /// This season's continuous drainage period before heading, days.
    pub drainage_days: u32,
    /// Drainage days of the prior years (at least 2).
    pub prior_drainage_days: Vec<u32>,
    /// The drainage was interrupted by re-irrigation (差し水).
    pub reirrigated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// GWP set id, e.g. `AR5`.
    pub gwp: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainageClass {
    /// 排水不良, < 7.5 mm/d.
    Poor,
    /// 日排除, 7.5 to < 12.5 mm/d.
    Daily,
    /// 4時間排除, ≥ 12.5 mm/d.
    Good,
}

impl DrainageClass {
    fn key(self) -> &'static str {
        match self {
            DrainageClass::Poor => "poor",
            DrainageClass::Daily => "daily",
            DrainageClass::Good => "good",
        }
    }
}

/// Whether this season's drainage qualifies: `Ok(extension in days)` or the reason it does not.
/// Exact: compares `days × n − Σ prior ≥ 7 × n` in integers.
pub fn eligibility(
    drainage_days: u32,
    prior: &[u32],
    reirrigated: bool,
    min_ext: u32,
    min_years: u32,
) -> std::result::Result<Decimal, String> {
    if reirrigated {
        return Err(
            "the drainage was broken by re-irrigation (差し水); the period ends at the first re-irrigation".into()
        );
    }
    if (prior.len() as u64) < u64::from(min_years) {
        return Err(format!("needs the drainage days of at least {min_years} prior years, has {}", prior.len()));
    }
    let n = prior.len() as u64;
    let sum: u64 = prior.iter().map(|&d| u64::from(d)).sum();
    let extension =
        Decimal::from(u64::from(drainage_days) * n) / Decimal::from(n) - Decimal::from(sum) / Decimal::from(n);
    if u64::from(drainage_days) * n < sum + u64::from(min_ext) * n {
        return Err(format!(
            "the drainage ({drainage_days} d) is {} d longer than the prior mean ({}), less than {min_ext} d",
            extension.normalize(),
            (Decimal::from(sum) / Decimal::from(n)).normalize()
        ));
    }
    Ok(extension)
}

fn validate(input: &Input) -> Result<()> {
    if input.fields.is_empty() {
        return Err(QuantifyError::Invalid { field: "fields".into(), reason: "at least one field is required".into() });
    }
    if input.fields.len() > 100_000 {
        return Err(QuantifyError::Invalid { field: "fields".into(), reason: "more than 100000 fields".into() });
    }
    let t = tables()?;
    for (i, f) in input.fields.iter().enumerate() {
        let at = |name: &str| format!("fields[{i}].{name}");
        check_code(&t.ag005, "pref", "region", &at("prefecture"), &f.prefecture)?;
        if f.area_ha <= Decimal::ZERO {
            return Err(QuantifyError::Invalid {
                field: at("area_ha"),
                reason: format!("{} ha must be positive", f.area_ha),
            });
        }
        check_range(&at("area_ha"), f.area_ha, Decimal::ZERO, dec(MAX_AREA_HA), "ha")?;
        check_range(&at("daily_water_loss_mm"), f.daily_water_loss_mm, Decimal::ZERO, dec(1000), "mm/d")?;
        if let Straw::PartlyRemoved { removed_kg_per_10a, produced_kg_per_10a } = &f.straw {
            check_range(&at("straw.removed_kg_per_10a"), *removed_kg_per_10a, Decimal::ZERO, dec(100_000), "kg/10a")?;
            if let Some(p) = produced_kg_per_10a {
                if *p <= Decimal::ZERO {
                    return Err(QuantifyError::Invalid {
                        field: at("straw.produced_kg_per_10a"),
                        reason: format!("{p} kg/10a must be positive"),
                    });
                }
                check_range(&at("straw.produced_kg_per_10a"), *p, Decimal::ZERO, dec(100_000), "kg/10a")?;
            }
        }
        if f.drainage_days > 366 {
            return Err(QuantifyError::Invalid {
                field: at("drainage_days"),
                reason: format!("{} d is more than a year", f.drainage_days),
            });
        }
        if f.prior_drainage_days.len() > 100 {
            return Err(QuantifyError::Invalid {
                field: at("prior_drainage_days"),
                reason: "more than 100 prior years".into(),
            });
        }
        if let Some((j, d)) = f.prior_drainage_days.iter().enumerate().find(|(_, d)| **d > 366) {
            return Err(QuantifyError::Invalid {
                field: at(&format!("prior_drainage_days[{j}]")),
                reason: format!("{d} d is more than a year"),
            });
        }
    }
    Ok(())
}

/// Runs the engine.
pub fn quantify(input: &Input) -> Result<Outcome> {
    validate(input)?;
    let t = tables()?;
    let table = &t.ag005;
    let mut tr = Trace::default();
    let gwp_ch4 = gwp(&mut tr, t, &input.gwp, Gas::Ch4, "gwp")?;
    let reduction = tr.param(table, "reduction", "reduction factor")?;
    let min_ext = tr.param(table, "eligibility.min_extension_days", "minimum extension")?;
    let min_years = tr.param(table, "eligibility.min_prior_years", "minimum prior years")?;
    let (min_ext, min_years) =
        (to_u32(min_ext, "eligibility.min_extension_days")?, to_u32(min_years, "eligibility.min_prior_years")?);
    let daily_min = tr.param(table, "class.daily.min", "drainage class threshold 日排除")?;
    let good_min = tr.param(table, "class.good.min", "drainage class threshold 4時間排除")?;
    let mut gross = Decimal::ZERO;
    for (i, f) in input.fields.iter().enumerate() {
        let p = format!("fields[{i}] {}", f.label);
        match eligibility(f.drainage_days, &f.prior_drainage_days, f.reirrigated, min_ext, min_years) {
            Err(reason) => {
                tr.exclude(p, reason);
                continue;
            }
            Ok(ext) => {
                tr.step(
                    format!("{p}: drainage extension"),
                    ext,
                    "d",
                    format!("{} d − mean of prior {:?}", f.drainage_days, f.prior_drainage_days),
                );
            }
        }
        let region = tr.word(table, &format!("pref.{}.region", f.prefecture))?;
        tr.note(format!("{p}: region"), format!("{} → {region}", f.prefecture));
        let class = if f.daily_water_loss_mm >= good_min {
            DrainageClass::Good
        } else if f.daily_water_loss_mm >= daily_min {
            DrainageClass::Daily
        } else {
            DrainageClass::Poor
        };
        tr.step(
            format!("{p}: daily water-depth loss"),
            f.daily_water_loss_mm,
            "mm/d",
            format!("measured; drainage class {}", class.key()),
        );
        let key = |om: &str| format!("ef.{region}.{}.{om}", class.key());
        let ef_straw = tr.param(table, &key("straw"), &format!("{p}: EF straw incorporated"))?;
        let ef_compost = tr.param(table, &key("compost"), &format!("{p}: EF compost"))?;
        let ef_none = tr.param(table, &key("none"), &format!("{p}: EF no organic matter"))?;
        let r_straw = match &f.straw {
            Straw::Incorporated => tr.step(format!("{p}: r_straw"), Decimal::ONE, "fraction", "all straw incorporated"),
            Straw::Removed => tr.step(format!("{p}: r_straw"), Decimal::ZERO, "fraction", "all straw removed"),
            Straw::PartlyRemoved { removed_kg_per_10a, produced_kg_per_10a } => {
                let produced = match produced_kg_per_10a {
                    Some(v) => tr.step(format!("{p}: straw produced"), *v, "kg/10a", "measured"),
                    None => {
                        tr.param(table, &format!("pref.{}.straw", f.prefecture), &format!("{p}: straw produced"))?
                    }
                };
                let cap = tr.param(table, "straw.cap_pct", "straw incorporation cap")?;
                let raw = Decimal::ONE_HUNDRED * (Decimal::ONE - *removed_kg_per_10a / produced);
                let pct = tr.step(
                    format!("{p}: incorp_pct"),
                    raw.max(Decimal::ZERO).min(cap),
                    "%",
                    format!("clamp(100 × (1 − {removed_kg_per_10a} / {produced}), 0, {cap})"),
                );
                tr.step(format!("{p}: r_straw"), pct / cap, "fraction", format!("{pct} / {cap}"))
            }
        };
        let r_compost = if f.compost_applied { Decimal::ONE } else { Decimal::ZERO };
        let ef = (ef_none + (ef_straw - ef_none) * r_straw + (ef_compost - ef_none) * r_compost)
            .min(ef_straw.max(ef_compost));
        let ef = tr.step(
            format!("{p}: EF_BL"),
            ef,
            "kg CH4-C/ha/season",
            format!("min(max({ef_straw}, {ef_compost}), {ef_none} + ({ef_straw} − {ef_none}) × {r_straw} + ({ef_compost} − {ef_none}) × {r_compost})"),
        );
        let em_bl = tr.step(
            format!("{p}: EM_BL"),
            f.area_ha * ef * dec(16) / dec(12) * gwp_ch4 / dec(1000),
            "t CO2e",
            format!("{} ha × {ef} × 16/12 × {gwp_ch4} / 1000", f.area_ha),
        );
        let em_pj = tr.step(
            format!("{p}: EM_PJ"),
            em_bl * (Decimal::ONE - reduction),
            "t CO2e",
            format!("EM_BL × (1 − {reduction})"),
        );
        let er = tr.step(format!("{p}: ER"), em_bl - em_pj, "t CO2e", "EM_BL − EM_PJ");
        gross += er;
    }
    tr.step("gross", gross, "t CO2e", "Σ ER over eligible fields");
    Ok(tr.finish(
        Head { engine: ENGINE_ID, version: ENGINE_VERSION, gwp: Some(input.gwp.clone()) },
        gross,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
    ))
}

fn to_u32(v: Decimal, key: &str) -> Result<u32> {
    use rust_decimal::prelude::ToPrimitive;
    v.to_u32().ok_or_else(|| QuantifyError::Table {
        table: "ag005".into(),
        line: 0,
        message: format!("{key} is not a whole number"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_rounds_to, d};

    fn field(pref: &str, area: &str, loss: &str, straw: Straw, compost: bool) -> Field {
        Field {
            label: "f".into(),
            prefecture: pref.into(),
            area_ha: d(area),
            daily_water_loss_mm: d(loss),
            straw,
            compost_applied: compost,
            drainage_days: 18,
            prior_drainage_days: vec![10, 12],
            reirrigated: false,
        }
    }

    fn run(gwp: &str, f: Field) -> Outcome {
        quantify(&Input { gwp: gwp.into(), fields: vec![f] }).expect("quantifies")
    }

    fn step(o: &Outcome, suffix: &str) -> Decimal {
        o.steps.iter().find(|s| s.name.ends_with(suffix)).unwrap_or_else(|| panic!("no step {suffix}")).value
    }

    #[test]
    fn j1_ibaraki_good_drainage_straw_incorporated_10ha() {
        let f = field("JP-08", "10", "13", Straw::Incorporated, false);
        let o = run("AR5", f.clone());
        crate::testutil::assert_versions(&o);
        assert_eq!(step(&o, "EF_BL"), d("151"));
        assert_rounds_to(step(&o, "EM_BL"), "56.3733");
        assert_rounds_to(step(&o, "EM_PJ"), "39.4613");
        assert_rounds_to(o.net, "16.9120");
        assert_eq!(o.credits, d("16"));
        let o = run("AR4", f);
        assert_rounds_to(step(&o, "EM_BL"), "50.3333");
        assert_rounds_to(step(&o, "EM_PJ"), "35.2333");
        assert_rounds_to(o.net, "15.1000");
        assert_eq!(o.credits, d("15"));
    }

    #[test]
    fn j2_miyagi_poor_drainage_compost_2_5ha() {
        let f = field("JP-04", "2.5", "5", Straw::Removed, true);
        let o = run("AR5", f.clone());
        assert_eq!(step(&o, "EF_BL"), d("673"));
        assert_rounds_to(step(&o, "EM_BL"), "62.8133");
        assert_rounds_to(step(&o, "EM_PJ"), "43.9693");
        assert_rounds_to(o.net, "18.8440");
        assert_eq!(o.credits, d("18"));
        let o = run("AR4", f);
        assert_rounds_to(step(&o, "EM_BL"), "56.0833");
        assert_rounds_to(step(&o, "EM_PJ"), "39.2583");
        assert_rounds_to(o.net, "16.8250");
        assert_eq!(o.credits, d("16"));
    }

    #[test]
    fn j3_partial_straw_removal_interpolates() {
        let straw = Straw::PartlyRemoved { removed_kg_per_10a: d("300"), produced_kg_per_10a: None };
        let o = run("AR5", field("JP-08", "10", "12.5", straw, false));
        assert_eq!(step(&o, "straw produced"), d("632.4"));
        assert_rounds_to(step(&o, "incorp_pct"), "52.5617");
        assert_rounds_to(step(&o, "r_straw"), "0.584019");
        assert_rounds_to(step(&o, "EF_BL"), "94.8425");
        assert_rounds_to(step(&o, "EM_BL"), "35.4079");
        assert_rounds_to(o.net, "10.6224");
        assert_eq!(o.credits, d("10"));
        // The interpolation and straw values are unverified: the result says so.
        assert!(o.caveats.iter().any(|c| c.key == "straw.cap_pct" && c.status == crate::Status::Unverified));
    }

    #[test]
    fn eligibility_table_of_section_3_1() {
        assert!(eligibility(18, &[10, 12], false, 7, 2).is_ok());
        assert!(eligibility(17, &[10, 12], false, 7, 2).is_err());
        assert!(eligibility(7, &[0, 0], false, 7, 2).is_ok());
        assert!(eligibility(20, &[10], false, 7, 2).is_err(), "one prior year is not enough");
        assert!(eligibility(30, &[10, 12], true, 7, 2).is_err(), "re-irrigation breaks the period");
        // Exact with non-terminating means: mean of {10, 10, 11} is 10.333…, 17 is 6.67 d longer.
        assert!(eligibility(17, &[10, 10, 11], false, 7, 2).is_err());
        assert!(eligibility(18, &[10, 10, 11], false, 7, 2).is_ok());
    }

    #[test]
    fn ineligible_fields_are_excluded_with_the_reason_and_others_still_count() {
        let mut short = field("JP-08", "10", "13", Straw::Incorporated, false);
        short.drainage_days = 17;
        let mut broken = short.clone();
        broken.drainage_days = 30;
        broken.reirrigated = true;
        let good = field("JP-08", "10", "13", Straw::Incorporated, false);
        let o = quantify(&Input { gwp: "AR5".into(), fields: vec![short, broken, good] }).expect("quantifies");
        assert_eq!(o.excluded.len(), 2);
        assert!(o.excluded[1].reason.contains("re-irrigation"));
        assert_rounds_to(o.net, "16.9120");
    }

    #[test]
    fn out_of_schema_inputs_name_the_field() {
        let bad = |f: Field, gwp: &str| quantify(&Input { gwp: gwp.into(), fields: vec![f] }).expect_err("refused");
        let ok = field("JP-08", "10", "13", Straw::Incorporated, false);
        assert_eq!(
            bad(Field { prefecture: "JP-99".into(), ..ok.clone() }, "AR5").field(),
            Some("fields[0].prefecture")
        );
        assert_eq!(bad(Field { area_ha: d("-1"), ..ok.clone() }, "AR5").field(), Some("fields[0].area_ha"));
        assert_eq!(
            bad(Field { daily_water_loss_mm: d("-0.1"), ..ok.clone() }, "AR5").field(),
            Some("fields[0].daily_water_loss_mm")
        );
        assert_eq!(bad(Field { drainage_days: 400, ..ok.clone() }, "AR5").field(), Some("fields[0].drainage_days"));
        let straw = Straw::PartlyRemoved { removed_kg_per_10a: d("1"), produced_kg_per_10a: Some(d("0")) };
        assert_eq!(bad(Field { straw, ..ok.clone() }, "AR5").field(), Some("fields[0].straw.produced_kg_per_10a"));
        assert_eq!(bad(ok, "AR9").field(), Some("gwp"));
        let e = quantify(&Input { gwp: "AR5".into(), fields: vec![] }).expect_err("no fields");
        assert_eq!(e.field(), Some("fields"));
    }
}
