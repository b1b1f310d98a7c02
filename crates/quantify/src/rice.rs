//! Rice water management, IPCC 2019 Tier 1 (`research/methodologies.md` §2), usable in any country.
//!
//! Per season: `EF = EF_c × SF_w × SF_p × SF_o` (Eq 5.2, SF_s,r = 1) with
//! `SF_o = (1 + Σ ROA × CFOA)^0.59` (Eq 5.3), for the baseline and the project practice;
//! `CH4 [t] = EF × t × A / 1000`; the reduction is `ΔCH4 × GWP_CH4`. Then, in SPEC §4's order:
//! the uncertainty deduction on the CH4 reduction, and the N2O increase of a move from a flooded
//! baseline to a drained project (VM0051: `Q_N × A × 0.00314 × 10⁻³ × GWP_N2O`).

use rust_decimal::Decimal;

use crate::{
    Gas, Head, Outcome, QuantifyError, Result, Trace, check_code, check_range, dec, gwp, math, percent_field, tables,
};

pub const ENGINE_ID: &str = "ipcc2019-rice-tier1";
/// The engine's version names the table versions it reads: a changed table changes the version,
/// so a result frozen with the old tables is reported as computed by another version.
pub const ENGINE_VERSION: &str = "1.0; tables ipcc2019_rice@2019-refinement.1 gwp@2026.1";

pub const MAX_AREA_HA: i64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    /// `straw_short`, `straw_long`, `compost`, `farmyard_manure`, `green_manure` (Table 5.14).
    pub kind: String,
    /// t/ha: dry weight for straw, fresh weight for the others.
    pub t_per_ha: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    /// Table 5.12 key, e.g. `continuous_flooding`, `single_drainage`, `multiple_drainage`.
    pub water_regime: String,
    /// Table 5.13 key, e.g. `non_flooded_long`.
    pub pre_season: String,
    pub amendments: Vec<Amendment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    pub label: String,
    /// Table 5.11 key, e.g. `east_asia`, `south_asia`, `world`.
    pub region: String,
    pub area_ha: Decimal,
    /// Monitored cultivation period, days.
    pub days: u32,
    /// Synthetic + organic N applied, kg N/ha (for the N2O deduction).
    pub n_kg_per_ha: Decimal,
    pub baseline: Practice,
    pub project: Practice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub gwp: String,
    /// Uncertainty deduction on the CH4 reduction, % (VM0051 QA3: 15).
    pub uncertainty_pct: Decimal,
    pub seasons: Vec<Season>,
}

fn validate_practice(at: &dyn Fn(&str) -> String, p: &Practice) -> Result<()> {
    let t = &tables()?.rice;
    check_code(t, "sfw", "", &at("water_regime"), &p.water_regime)?;
    check_code(t, "sfp", "", &at("pre_season"), &p.pre_season)?;
    if p.amendments.len() > 16 {
        return Err(QuantifyError::Invalid { field: at("amendments"), reason: "more than 16 amendments".into() });
    }
    for (j, a) in p.amendments.iter().enumerate() {
        check_code(t, "cfoa", "", &at(&format!("amendments[{j}].kind")), &a.kind)?;
        check_range(&at(&format!("amendments[{j}].t_per_ha")), a.t_per_ha, Decimal::ZERO, dec(1000), "t/ha")?;
    }
    Ok(())
}

fn validate(input: &Input) -> Result<()> {
    let t = &tables()?.rice;
    percent_field("uncertainty_pct", input.uncertainty_pct)?;
    if input.seasons.is_empty() || input.seasons.len() > 100_000 {
        return Err(QuantifyError::Invalid {
            field: "seasons".into(),
            reason: "between 1 and 100000 seasons are required".into(),
        });
    }
    for (i, s) in input.seasons.iter().enumerate() {
        let at = |name: &str| format!("seasons[{i}].{name}");
        check_code(t, "efc", "", &at("region"), &s.region)?;
        if s.area_ha <= Decimal::ZERO {
            return Err(QuantifyError::Invalid {
                field: at("area_ha"),
                reason: format!("{} ha must be positive", s.area_ha),
            });
        }
        check_range(&at("area_ha"), s.area_ha, Decimal::ZERO, dec(MAX_AREA_HA), "ha")?;
        if s.days == 0 || s.days > 366 {
            return Err(QuantifyError::Invalid {
                field: at("days"),
                reason: format!("{} d is not within 1..=366", s.days),
            });
        }
        check_range(&at("n_kg_per_ha"), s.n_kg_per_ha, Decimal::ZERO, dec(2000), "kg N/ha")?;
        validate_practice(&|n: &str| at(&format!("baseline.{n}")), &s.baseline)?;
        validate_practice(&|n: &str| at(&format!("project.{n}")), &s.project)?;
    }
    Ok(())
}

/// SF_o of a list of amendments (Eq 5.3), recorded in the trace.
fn sf_o(tr: &mut Trace, p: &str, amendments: &[Amendment]) -> Result<Decimal> {
    let t = &tables()?.rice;
    let mut base = Decimal::ONE;
    let mut formula = String::from("1");
    for a in amendments {
        let cfoa = tr.param(t, &format!("cfoa.{}", a.kind), &format!("{p}: CFOA {}", a.kind))?;
        base += a.t_per_ha * cfoa;
        formula.push_str(&format!(" + {} × {cfoa}", a.t_per_ha));
    }
    let exponent = tr.param(t, "sfo.exponent", "SF_o exponent")?;
    let v = math::pow(base, exponent).ok_or_else(|| QuantifyError::Overflow { step: format!("{p}: SF_o") })?;
    Ok(tr.step(format!("{p}: SF_o"), v, "factor", format!("({formula})^{exponent} = {base}^{exponent}")))
}

/// Runs the engine.
pub fn quantify(input: &Input) -> Result<Outcome> {
    validate(input)?;
    let t = tables()?;
    let table = &t.rice;
    let mut tr = Trace::default();
    let gwp_ch4 = gwp(&mut tr, t, &input.gwp, Gas::Ch4, "gwp")?;
    let u = percent_field("uncertainty_pct", input.uncertainty_pct)?;
    let (mut gross, mut n2o) = (Decimal::ZERO, Decimal::ZERO);
    let mut gwp_n2o = None;
    for (i, s) in input.seasons.iter().enumerate() {
        let p = format!("seasons[{i}] {}", s.label);
        let ef_c = tr.param(table, &format!("efc.{}", s.region), &format!("{p}: EF_c ({})", s.region))?;
        let ef = |tr: &mut Trace, side: &str, pr: &Practice| -> Result<Decimal> {
            let q = format!("{p} {side}");
            let sf_w =
                tr.param(table, &format!("sfw.{}", pr.water_regime), &format!("{q}: SF_w ({})", pr.water_regime))?;
            let sf_p = tr.param(table, &format!("sfp.{}", pr.pre_season), &format!("{q}: SF_p ({})", pr.pre_season))?;
            let sf_o = sf_o(tr, &q, &pr.amendments)?;
            let ef = tr.step(
                format!("{q}: EF"),
                ef_c * sf_w * sf_p * sf_o,
                "kg CH4/ha/d",
                format!("{ef_c} × {sf_w} × {sf_p} × SF_o"),
            );
            Ok(tr.step(
                format!("{q}: CH4"),
                ef * Decimal::from(s.days) * s.area_ha / dec(1000),
                "t CH4",
                format!("EF × {} d × {} ha / 1000", s.days, s.area_ha),
            ))
        };
        let bl = ef(&mut tr, "baseline", &s.baseline)?;
        let pj = ef(&mut tr, "project", &s.project)?;
        let d_ch4 = tr.step(format!("{p}: ΔCH4"), bl - pj, "t CH4", "baseline CH4 − project CH4");
        gross += tr.step(format!("{p}: ΔCH4 as CO2e"), d_ch4 * gwp_ch4, "t CO2e", format!("ΔCH4 × {gwp_ch4}"));
        if s.n_kg_per_ha.is_zero() {
            continue;
        }
        let class_bl = tr.word(table, &format!("n2o_class.{}", s.baseline.water_regime))?;
        let class_pj = tr.word(table, &format!("n2o_class.{}", s.project.water_regime))?;
        tr.note(
            format!("{p}: N2O classes"),
            format!("baseline {class_bl}, project {class_pj}; deduction only for flooded → drained"),
        );
        if class_bl == "flooded" && class_pj == "drained" {
            let g = match gwp_n2o {
                Some(g) => g,
                None => *gwp_n2o.insert(gwp(&mut tr, t, &input.gwp, Gas::N2o, "gwp")?),
            };
            let cf = tr.param(table, "n2o.cf", "N2O deduction factor CF_N2O")?;
            n2o += tr.step(
                format!("{p}: N2O deduction"),
                s.n_kg_per_ha * s.area_ha * cf * g / dec(1000),
                "t CO2e",
                format!("{} kg N/ha × {} ha × {cf} × 10⁻³ × {g}", s.n_kg_per_ha, s.area_ha),
            );
        }
    }
    tr.step("gross", gross, "t CO2e", "Σ ΔCH4 × GWP_CH4");
    let uncertainty =
        tr.step("uncertainty deduction", gross * u, "t CO2e", format!("gross × {}", input.uncertainty_pct));
    tr.step("project emissions", n2o, "t CO2e", "Σ N2O deductions");
    Ok(tr.finish(
        Head { engine: ENGINE_ID, version: ENGINE_VERSION, gwp: Some(input.gwp.clone()) },
        gross,
        uncertainty,
        n2o,
        Decimal::ZERO,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_rounds_to, d};

    fn practice(water: &str, pre: &str, amendments: &[(&str, &str)]) -> Practice {
        Practice {
            water_regime: water.into(),
            pre_season: pre.into(),
            amendments: amendments.iter().map(|(k, r)| Amendment { kind: (*k).into(), t_per_ha: d(r) }).collect(),
        }
    }

    fn step(o: &Outcome, suffix: &str) -> Decimal {
        o.steps.iter().find(|s| s.name.ends_with(suffix)).unwrap_or_else(|| panic!("no step {suffix}")).value
    }

    fn r1(gwp: &str) -> Outcome {
        let straw = [("straw_long", "5")];
        let season = Season {
            label: "r1".into(),
            region: "east_asia".into(),
            area_ha: d("10"),
            days: 120,
            n_kg_per_ha: d("0"),
            baseline: practice("single_drainage", "non_flooded_long", &straw),
            project: practice("multiple_drainage", "non_flooded_long", &straw),
        };
        quantify(&Input { gwp: gwp.into(), uncertainty_pct: d("0"), seasons: vec![season] }).expect("quantifies")
    }

    #[test]
    fn r1_japan_single_to_multiple_drainage() {
        let o = r1("AR5");
        assert_rounds_to(step(&o, "baseline: SF_o"), "1.482929");
        assert_rounds_to(step(&o, "baseline: EF"), "1.236923");
        assert_rounds_to(step(&o, "project: EF"), "0.958180");
        assert_rounds_to(step(&o, "baseline: CH4"), "1.484308");
        assert_rounds_to(step(&o, "project: CH4"), "1.149816");
        assert_rounds_to(step(&o, "ΔCH4"), "0.334492");
        assert_rounds_to(o.net, "9.3658");
        assert_eq!(o.credits, d("9"));
        assert_rounds_to(r1("AR6_nonfossil").net, "9.0313");
        assert_rounds_to(r1("AR4").net, "8.3623");
        assert!(o.caveats.is_empty(), "R1 uses verified values only: {:?}", o.caveats);
        assert!(!r1("AR6_nonfossil").caveats.is_empty(), "AR6 non-fossil 27.0 is a secondary value");
    }

    #[test]
    fn r2_south_asia_continuous_flooding_to_awd_with_deductions() {
        let straw = [("straw_short", "5")];
        let season = Season {
            label: "r2".into(),
            region: "south_asia".into(),
            area_ha: d("100"),
            days: 112,
            n_kg_per_ha: d("120"),
            baseline: practice("continuous_flooding", "non_flooded_short", &straw),
            project: practice("multiple_drainage", "non_flooded_short", &straw),
        };
        let o = quantify(&Input { gwp: "AR5".into(), uncertainty_pct: d("15"), seasons: vec![season] }).expect("ok");
        crate::testutil::assert_versions(&o);
        assert_rounds_to(step(&o, "baseline: SF_o"), "2.878122");
        assert_rounds_to(step(&o, "baseline: EF"), "2.446404");
        assert_rounds_to(step(&o, "project: EF"), "1.345522");
        assert_rounds_to(step(&o, "baseline: CH4"), "27.399724");
        assert_rounds_to(step(&o, "project: CH4"), "15.069848");
        assert_rounds_to(o.gross, "345.2365");
        assert_rounds_to(o.gross - o.uncertainty, "293.4510");
        assert_rounds_to(o.project_emissions, "9.9852");
        assert_rounds_to(o.net, "283.4658");
        assert_eq!(o.credits, d("283"));
    }

    fn r3(gwp: &str) -> Outcome {
        let am = [("straw_long", "4"), ("compost", "10")];
        let season = Season {
            label: "r3".into(),
            region: "east_asia".into(),
            area_ha: d("1"),
            days: 110,
            n_kg_per_ha: d("0"),
            baseline: practice("continuous_flooding", "non_flooded_long", &am),
            project: practice("multiple_drainage", "non_flooded_long", &am),
        };
        quantify(&Input { gwp: gwp.into(), uncertainty_pct: d("0"), seasons: vec![season] }).expect("quantifies")
    }

    #[test]
    fn r3_multiple_amendments() {
        let o = r3("AR5");
        assert_rounds_to(step(&o, "baseline: SF_o"), "2.079960");
        assert_rounds_to(step(&o, "baseline: EF"), "2.443537");
        assert_rounds_to(step(&o, "project: EF"), "1.343945");
        // 268.789 and 147.834 kg CH4/ha, here in t for 1 ha.
        assert_rounds_to(step(&o, "baseline: CH4"), "0.268789");
        assert_rounds_to(step(&o, "project: CH4"), "0.147834");
        assert_rounds_to(o.net, "3.3867");
        assert_rounds_to(r3("AR6_nonfossil").net, "3.2658");
        assert!(o.caveats.iter().any(|c| c.key == "cfoa.compost"), "compost CFOA is from a transcription only");
    }

    #[test]
    fn r4_ccts_table_6_multipliers() {
        let t = &tables().expect("tables").rice;
        let v = |k: &str| match t.get(k).map(|p| &p.value) {
            Some(crate::table::Value::Number(n)) => *n,
            _ => panic!("{k}"),
        };
        let (single, multiple, long) =
            (v("sfw.single_drainage"), v("sfw.multiple_drainage"), v("sfp.non_flooded_long"));
        let cases = [
            (single * d("2.88"), "2.0448", "2.04"),
            (multiple * d("2.88"), "1.584", "1.58"),
            (long * d("1.48"), "1.3172", "1.32"),
            (single * long * d("1.48"), "0.935212", "0.94"),
            (multiple * long * d("1.48"), "0.72446", "0.72"),
        ];
        for (product, exact, printed) in cases {
            assert_eq!(product.normalize(), d(exact).normalize());
            assert_rounds_to(product, printed);
        }
    }

    #[test]
    fn out_of_schema_inputs_name_the_field() {
        let good = Season {
            label: "x".into(),
            region: "world".into(),
            area_ha: d("1"),
            days: 100,
            n_kg_per_ha: d("0"),
            baseline: practice("continuous_flooding", "unknown", &[]),
            project: practice("single_drainage", "unknown", &[]),
        };
        let run = |s: Season, u: &str| quantify(&Input { gwp: "AR5".into(), uncertainty_pct: d(u), seasons: vec![s] });
        assert!(run(good.clone(), "0").is_ok());
        let field = |s: Season| run(s, "0").expect_err("refused").field().map(str::to_string);
        assert_eq!(field(Season { region: "mars".into(), ..good.clone() }).as_deref(), Some("seasons[0].region"));
        assert_eq!(field(Season { days: 0, ..good.clone() }).as_deref(), Some("seasons[0].days"));
        assert_eq!(field(Season { area_ha: d("0"), ..good.clone() }).as_deref(), Some("seasons[0].area_ha"));
        let mut s = good.clone();
        s.project.amendments.push(Amendment { kind: "compost".into(), t_per_ha: d("-1") });
        assert_eq!(field(s).as_deref(), Some("seasons[0].project.amendments[0].t_per_ha"));
        let mut s = good.clone();
        s.baseline.water_regime = "swamp".into();
        assert_eq!(field(s).as_deref(), Some("seasons[0].baseline.water_regime"));
        assert_eq!(run(good, "101").expect_err("refused").field(), Some("uncertainty_pct"));
    }
}
