//! Soil organic carbon in mineral soils: IPCC Tier 1 stock change (`research/methodologies.md` §6),
//! with the buffer that reversible carbon needs.
//!
//! `SOC = Σ_strata SOC_REF(climate, soil) × F_LU × F_MG × F_I × A` for the baseline and the project
//! management of the same land; `ΔC [t C/yr] = (SOC_project − SOC_baseline) / D` (D = 20 yr);
//! `gross [t CO2/yr] = ΔC × 44/12`. Then, in SPEC §4's order: uncertainty deduction, then the
//! buffer withheld from the net removal (`buffer = rate × net` when the net is a removal).

use rust_decimal::Decimal;

use crate::{
    Head, Outcome, QuantifyError, Result, Trace, c_to_co2, check_code, check_range, dec, percent_field, tables,
};

pub const ENGINE_ID: &str = "ipcc-tier1-soc";
/// The engine's version names the table versions it reads: a changed table changes the version,
/// so a result frozen with the old tables is reported as computed by another version.
pub const ENGINE_VERSION: &str = "1.0; tables soc_ipcc2006@2006.1";

pub const MAX_AREA_HA: i64 = 100_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum {
    pub label: String,
    pub area_ha: Decimal,
    /// F_LU level: `long_term_cultivated`, `paddy_rice`, `perennial`, `set_aside`.
    pub land_use: String,
    /// F_MG level: `full_tillage`, `reduced_tillage`, `no_till`.
    pub tillage: String,
    /// F_I level: `low`, `medium`, `high_without_manure`, `high_with_manure`.
    pub input: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// SOC_REF climate: `warm_temperate_moist`, `tropical_dry`, `tropical_moist`, `tropical_wet`.
    pub climate: String,
    /// SOC_REF soil class: `hac`, `lac`, `sandy`, ...
    pub soil: String,
    /// Uncertainty deduction, %.
    pub uncertainty_pct: Decimal,
    /// Buffer withheld from the net removal, % (Gold Standard 20, a Verra NPRT rating, ...).
    pub buffer_pct: Decimal,
    /// Management before (at the start of the period).
    pub baseline: Vec<Stratum>,
    /// Management in the project; must cover the same total area.
    pub project: Vec<Stratum>,
}

fn validate(input: &Input) -> Result<()> {
    let t = &tables()?.soc;
    check_code(t, "climate", "", "climate", &input.climate)?;
    if t.get(&format!("socref.{}.{}", input.climate, input.soil)).is_none() {
        return Err(QuantifyError::Unknown {
            field: "soil".into(),
            value: input.soil.clone(),
            expected: t.choices(&format!("socref.{}", input.climate), "").join(", "),
        });
    }
    percent_field("uncertainty_pct", input.uncertainty_pct)?;
    percent_field("buffer_pct", input.buffer_pct)?;
    let mut totals = Vec::with_capacity(2);
    for (side, strata) in [("baseline", &input.baseline), ("project", &input.project)] {
        let mut total = Decimal::ZERO;
        if strata.is_empty() || strata.len() > 100_000 {
            return Err(QuantifyError::Invalid {
                field: side.into(),
                reason: "between 1 and 100000 strata are required".into(),
            });
        }
        for (i, s) in strata.iter().enumerate() {
            let at = |name: &str| format!("{side}[{i}].{name}");
            if s.area_ha <= Decimal::ZERO {
                return Err(QuantifyError::Invalid {
                    field: at("area_ha"),
                    reason: format!("{} ha must be positive", s.area_ha),
                });
            }
            check_range(&at("area_ha"), s.area_ha, Decimal::ZERO, dec(MAX_AREA_HA), "ha")?;
            let col = match t.get(&format!("climate.{}", input.climate)).map(|p| &p.value) {
                Some(crate::table::Value::Word(w)) => w.clone(),
                _ => {
                    return Err(QuantifyError::MissingParameter {
                        table: t.name.clone(),
                        key: format!("climate.{}", input.climate),
                    });
                }
            };
            check_code(t, &format!("flu.{col}"), "", &at("land_use"), &s.land_use)?;
            check_code(t, &format!("fmg.{col}"), "", &at("tillage"), &s.tillage)?;
            check_code(t, &format!("fi.{col}"), "", &at("input"), &s.input)?;
            total += s.area_ha;
        }
        if total > dec(MAX_AREA_HA) {
            return Err(QuantifyError::Invalid {
                field: side.into(),
                reason: format!("{total} ha in all exceeds {MAX_AREA_HA} ha"),
            });
        }
        totals.push(total);
    }
    if totals[0] != totals[1] {
        return Err(QuantifyError::Invalid {
            field: "project".into(),
            reason: format!(
                "the project strata cover {} ha, the baseline strata {} ha; they must cover the same land",
                totals[1], totals[0]
            ),
        });
    }
    Ok(())
}

/// Runs the engine. Amounts are per year of the period.
pub fn quantify(input: &Input) -> Result<Outcome> {
    validate(input)?;
    let t = &tables()?.soc;
    let mut tr = Trace::default();
    let soc_ref = tr.param(t, &format!("socref.{}.{}", input.climate, input.soil), "SOC_REF")?;
    let col = tr.word(t, &format!("climate.{}", input.climate))?;
    tr.note("climate column", format!("{} → {col}", input.climate));
    let d_years = tr.param(t, "d_years", "D, transition period")?;
    let stock = |tr: &mut Trace, side: &str, strata: &[Stratum]| -> Result<Decimal> {
        let mut total = Decimal::ZERO;
        for (i, s) in strata.iter().enumerate() {
            let p = format!("{side}[{i}] {}", s.label);
            let flu = tr.param(t, &format!("flu.{col}.{}", s.land_use), &format!("{p}: F_LU ({})", s.land_use))?;
            let fmg = tr.param(t, &format!("fmg.{col}.{}", s.tillage), &format!("{p}: F_MG ({})", s.tillage))?;
            let fi = tr.param(t, &format!("fi.{col}.{}", s.input), &format!("{p}: F_I ({})", s.input))?;
            let per_ha = tr.step(
                format!("{p}: SOC per ha"),
                soc_ref * flu * fmg * fi,
                "t C/ha",
                format!("{soc_ref} × {flu} × {fmg} × {fi}"),
            );
            total += tr.step(format!("{p}: SOC"), per_ha * s.area_ha, "t C", format!("{per_ha} × {} ha", s.area_ha));
        }
        Ok(tr.step(format!("{side}: SOC stock"), total, "t C", "Σ strata"))
    };
    let baseline = stock(&mut tr, "baseline", &input.baseline)?;
    let project = stock(&mut tr, "project", &input.project)?;
    let dc = tr.step("ΔC", (project - baseline) / d_years, "t C/yr", format!("(project − baseline) / {d_years}"));
    let gross = tr.step("gross", c_to_co2(dc), "t CO2/yr", "ΔC × 44/12");
    let uncertainty = tr.step(
        "uncertainty deduction",
        (gross * input.uncertainty_pct / Decimal::ONE_HUNDRED).max(Decimal::ZERO),
        "t CO2e",
        format!("gross × {} % (removals only)", input.uncertainty_pct),
    );
    let net = gross - uncertainty;
    let buffer = tr.step(
        "buffer",
        (net * input.buffer_pct / Decimal::ONE_HUNDRED).max(Decimal::ZERO),
        "t CO2e",
        format!("net removal × {} % (soil carbon is reversible)", input.buffer_pct),
    );
    Ok(tr.finish(
        Head { engine: ENGINE_ID, version: ENGINE_VERSION, gwp: None },
        gross,
        uncertainty,
        Decimal::ZERO,
        buffer,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_rounds_to, d};

    fn stratum(area: &str, land_use: &str, tillage: &str, input: &str) -> Stratum {
        Stratum {
            label: String::new(),
            area_ha: d(area),
            land_use: land_use.into(),
            tillage: tillage.into(),
            input: input.into(),
        }
    }

    fn input(baseline: Vec<Stratum>, project: Vec<Stratum>, u: &str, b: &str) -> Input {
        Input {
            climate: "warm_temperate_moist".into(),
            soil: "hac".into(),
            uncertainty_pct: d(u),
            buffer_pct: d(b),
            baseline,
            project,
        }
    }

    fn step(o: &Outcome, name: &str) -> Decimal {
        o.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name}")).value
    }

    #[test]
    fn s1_ipcc_2006_worked_example() {
        let ltc = "long_term_cultivated";
        let baseline =
            vec![stratum("400000", ltc, "full_tillage", "low"), stratum("600000", ltc, "full_tillage", "medium")];
        let project = vec![
            stratum("200000", ltc, "full_tillage", "low"),
            stratum("700000", ltc, "reduced_tillage", "medium"),
            stratum("100000", ltc, "no_till", "medium"),
        ];
        let o = quantify(&input(baseline, project, "0", "0")).expect("quantifies");
        crate::testutil::assert_versions(&o);
        assert_eq!(step(&o, "baseline: SOC stock").normalize(), d("58776960"));
        assert_eq!(step(&o, "project: SOC stock").normalize(), d("64059600"));
        assert_eq!(step(&o, "ΔC").normalize(), d("264132"));
        assert_eq!(o.gross.normalize(), d("968484"));
        assert!(o.caveats.is_empty(), "S1 uses verified values only: {:?}", o.caveats);
    }

    #[test]
    fn s2_field_credit_with_uncertainty_and_buffer() {
        let ltc = "long_term_cultivated";
        let run = |b: &str| {
            quantify(&input(
                vec![stratum("50", ltc, "full_tillage", "medium")],
                vec![stratum("50", ltc, "no_till", "high_without_manure")],
                "15",
                b,
            ))
            .expect("quantifies")
        };
        let o = run("20");
        let per_ha = |side: &str| {
            o.steps.iter().find(|s| s.name.starts_with(side) && s.name.ends_with("SOC per ha")).map(|s| s.value)
        };
        assert_eq!(per_ha("baseline").map(|v| v.normalize()), Some(d("60.72")));
        assert_eq!(per_ha("project").map(|v| v.normalize()), Some(d("77.50908")));
        assert_eq!((step(&o, "ΔC") / d("50")).normalize(), d("0.839454"));
        assert_rounds_to(o.gross / d("50"), "3.077998");
        assert_rounds_to(o.gross, "153.8999");
        assert_rounds_to(o.net, "130.8149");
        assert_rounds_to(o.buffer, "26.1630");
        assert_rounds_to(o.issuable, "104.6519");
        assert_eq!(o.credits, d("104"));
        let o = run("10");
        assert_rounds_to(o.issuable, "117.7334");
        assert_eq!(o.credits, d("117"));
        assert!(
            o.caveats.iter().any(|c| c.key == "fi.temperate_moist.high_without_manure"),
            "1.11 is a transcription value"
        );
    }

    #[test]
    fn a_loss_of_soil_carbon_gives_no_credits_and_no_buffer() {
        let o = quantify(&input(
            vec![stratum("10", "long_term_cultivated", "no_till", "medium")],
            vec![stratum("10", "long_term_cultivated", "full_tillage", "low")],
            "15",
            "20",
        ))
        .expect("quantifies");
        assert!(o.net < Decimal::ZERO);
        assert_eq!((o.buffer, o.credits, o.uncertainty), (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO));
    }

    #[test]
    fn out_of_schema_inputs_name_the_field() {
        let ok = || {
            input(
                vec![stratum("1", "perennial", "no_till", "low")],
                vec![stratum("1", "perennial", "no_till", "high_with_manure")],
                "0",
                "20",
            )
        };
        assert!(quantify(&ok()).is_ok());
        let field = |i: Input| quantify(&i).expect_err("refused").field().map(str::to_string);
        assert_eq!(field(Input { climate: "lunar".into(), ..ok() }).as_deref(), Some("climate"));
        assert_eq!(field(Input { soil: "volcanic".into(), ..ok() }).as_deref(), Some("soil"));
        assert_eq!(field(Input { buffer_pct: d("120"), ..ok() }).as_deref(), Some("buffer_pct"));
        let mut i = ok();
        i.project[0].area_ha = d("2");
        assert_eq!(field(i).as_deref(), Some("project"));
        let mut i = ok();
        i.baseline[0].tillage = "ploughed".into();
        assert_eq!(field(i).as_deref(), Some("baseline[0].tillage"));
    }
}
