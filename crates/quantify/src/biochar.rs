//! Biochar applied to mineral soils: IPCC 2019 Vol. 4 Ch. 2 Appendix 4 (Eq 4Ap.1) with the
//! J-Credit AG-004 eligibility gate (`research/methodologies.md` §5).
//!
//! `R_gross [t CO2] = Σ_lots W × F_C(feedstock, production) × F_perm(temperature class) × 44/12`;
//! `net = R_gross − project emissions` (transport, application fuel). Permanence is built in by
//! crediting only the 100-year remaining fraction, so there is no buffer.

use rust_decimal::Decimal;

use crate::{Head, Outcome, QuantifyError, Result, Trace, c_to_co2, check_code, check_range, dec, tables};

pub const ENGINE_ID: &str = "ipcc2019-biochar";
/// The engine's version names the table versions it reads: a changed table changes the version,
/// so a result frozen with the old tables is reported as computed by another version.
pub const ENGINE_VERSION: &str = "1.0; tables biochar@2019-appendix4.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Production {
    Pyrolysis,
    Gasification,
}

impl Production {
    pub fn key(self) -> &'static str {
        match self {
            Production::Pyrolysis => "pyrolysis",
            Production::Gasification => "gasification",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub label: String,
    /// Table 4Ap.1 key: `wood`, `herbaceous`, `rice_husk_straw`, `animal_manure`, `nut_shells`, `biosolids`.
    pub feedstock: String,
    pub production: Production,
    /// Highest treatment temperature, °C; `None` when not monitored (conservative F_perm).
    pub temperature_c: Option<Decimal>,
    /// Dry mass applied, t.
    pub dry_mass_t: Decimal,
    /// Fixed-carbon ratio (固定炭素比率), %, from a lab test.
    pub fixed_carbon_pct: Option<Decimal>,
    /// Refining degree (精煉度), from a charcoal refining meter.
    pub refining_degree: Option<Decimal>,
    /// Feedstock is domestic biomass with no other use (未利用).
    pub domestic_unused_feedstock: bool,
    /// Applied to a mineral soil (not a peat / organic soil) of cropland or grassland.
    pub mineral_soil: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub lots: Vec<Lot>,
    /// Transport, application fuel and other project emissions, t CO2e.
    pub project_emissions_t_co2e: Decimal,
}

/// AG-004's gate: `Ok(())` or the reason the lot is not eligible.
pub fn ag004_gate(
    lot: &Lot,
    min_fixed_carbon: Decimal,
    max_refining: Decimal,
    low_above: Decimal,
) -> std::result::Result<(), String> {
    if !lot.mineral_soil {
        return Err("biochar must be applied to mineral soils; organic (peat) soils are excluded".into());
    }
    if !lot.domestic_unused_feedstock {
        return Err("the feedstock must be domestic biomass with no other use".into());
    }
    if let Some(t) = lot.temperature_c
        && t <= low_above
    {
        return Err(format!("produced at {t} °C; biochar must be made above {low_above} °C"));
    }
    let by_fixed_carbon = lot.fixed_carbon_pct.is_some_and(|f| f >= min_fixed_carbon);
    let by_refining = lot.refining_degree.is_some_and(|r| r >= Decimal::ZERO && r <= max_refining);
    if !(by_fixed_carbon || by_refining) {
        let mut seen = Vec::new();
        if let Some(f) = lot.fixed_carbon_pct {
            seen.push(format!("fixed-carbon ratio {f} % < {min_fixed_carbon} %"));
        }
        if let Some(r) = lot.refining_degree {
            seen.push(format!("refining degree {r} > {max_refining}"));
        }
        if seen.is_empty() {
            seen.push("no fixed-carbon ratio or refining degree measured".into());
        }
        return Err(format!(
            "carbonisation not shown (needs fixed-carbon ratio ≥ {min_fixed_carbon} % or refining degree 0–{max_refining}): {}",
            seen.join("; ")
        ));
    }
    Ok(())
}

fn validate(input: &Input) -> Result<()> {
    let t = &tables()?.biochar;
    if input.lots.is_empty() || input.lots.len() > 100_000 {
        return Err(QuantifyError::Invalid {
            field: "lots".into(),
            reason: "between 1 and 100000 lots are required".into(),
        });
    }
    check_range(
        "project_emissions_t_co2e",
        input.project_emissions_t_co2e,
        Decimal::ZERO,
        dec(1_000_000_000),
        "t CO2e",
    )?;
    for (i, lot) in input.lots.iter().enumerate() {
        let at = |name: &str| format!("lots[{i}].{name}");
        check_code(t, "fc", lot.production.key(), &at("feedstock"), &lot.feedstock)?;
        if lot.dry_mass_t <= Decimal::ZERO {
            return Err(QuantifyError::Invalid {
                field: at("dry_mass_t"),
                reason: format!("{} t must be positive", lot.dry_mass_t),
            });
        }
        check_range(&at("dry_mass_t"), lot.dry_mass_t, Decimal::ZERO, dec(10_000_000), "t")?;
        if let Some(c) = lot.temperature_c {
            check_range(&at("temperature_c"), c, Decimal::ZERO, dec(2000), "°C")?;
        }
        if let Some(f) = lot.fixed_carbon_pct {
            check_range(&at("fixed_carbon_pct"), f, Decimal::ZERO, Decimal::ONE_HUNDRED, "%")?;
        }
        if let Some(r) = lot.refining_degree {
            check_range(&at("refining_degree"), r, Decimal::ZERO, dec(100), "")?;
        }
    }
    Ok(())
}

/// Runs the engine.
pub fn quantify(input: &Input) -> Result<Outcome> {
    validate(input)?;
    let t = &tables()?.biochar;
    let mut tr = Trace::default();
    let min_fc = tr.param(t, "ag004.min_fixed_carbon_pct", "AG-004 minimum fixed-carbon ratio")?;
    let max_rd = tr.param(t, "ag004.max_refining_degree", "AG-004 maximum refining degree")?;
    let low_above = tr.param(t, "temperature.low.above", "minimum production temperature")?;
    let medium_from = tr.param(t, "temperature.medium.from", "medium class from")?;
    let high_above = tr.param(t, "temperature.high.above", "high class above")?;
    let mut gross = Decimal::ZERO;
    for (i, lot) in input.lots.iter().enumerate() {
        let p = format!("lots[{i}] {}", lot.label);
        if let Err(reason) = ag004_gate(lot, min_fc, max_rd, low_above) {
            tr.exclude(p, reason);
            continue;
        }
        let class = match lot.temperature_c {
            None => "unmonitored",
            Some(c) if c > high_above => "high",
            Some(c) if c >= medium_from => "medium",
            Some(_) => "low",
        };
        let fc = tr.param(t, &format!("fc.{}.{}", lot.feedstock, lot.production.key()), &format!("{p}: F_C"))?;
        let fperm = tr.param(t, &format!("fperm.{class}"), &format!("{p}: F_perm ({class})"))?;
        let c = tr.step(
            format!("{p}: C"),
            lot.dry_mass_t * fc * fperm,
            "t C",
            format!("{} t × {fc} × {fperm}", lot.dry_mass_t),
        );
        gross += tr.step(format!("{p}: CO2"), c_to_co2(c), "t CO2", "C × 44/12");
    }
    tr.step("gross", gross, "t CO2", "Σ lots");
    let pe =
        tr.step("project emissions", input.project_emissions_t_co2e, "t CO2e", "declared: transport, application fuel");
    Ok(tr.finish(
        Head { engine: ENGINE_ID, version: ENGINE_VERSION, gwp: None },
        gross,
        Decimal::ZERO,
        pe,
        Decimal::ZERO,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_rounds_to, d};

    pub(crate) fn lot(feedstock: &str, temp: &str, mass: &str) -> Lot {
        Lot {
            label: feedstock.into(),
            feedstock: feedstock.into(),
            production: Production::Pyrolysis,
            temperature_c: Some(d(temp)),
            dry_mass_t: d(mass),
            fixed_carbon_pct: Some(d("70")),
            refining_degree: None,
            domestic_unused_feedstock: true,
            mineral_soil: true,
        }
    }

    fn run(lots: Vec<Lot>, pe: &str) -> Outcome {
        quantify(&Input { lots, project_emissions_t_co2e: d(pe) }).expect("quantifies")
    }

    fn step(o: &Outcome, suffix: &str) -> Decimal {
        o.steps.iter().find(|s| s.name.ends_with(suffix)).unwrap_or_else(|| panic!("no step {suffix}")).value
    }

    #[test]
    fn b0_ag004_eligibility_gate() {
        let gate = |l: &Lot| ag004_gate(l, d("55"), d("9"), d("350"));
        let a = Lot { fixed_carbon_pct: Some(d("62")), ..lot("wood", "500", "1") };
        assert_eq!(gate(&a), Ok(()), "A: 62 %, domestic sawmill offcuts, paddy");
        let b = Lot { fixed_carbon_pct: Some(d("54")), refining_degree: None, ..a.clone() };
        assert!(gate(&b).expect_err("B").contains("54 % < 55 %"));
        let c = Lot { fixed_carbon_pct: None, refining_degree: Some(d("10")), ..a.clone() };
        assert!(gate(&c).expect_err("C").contains("refining degree 10 > 9"));
        let dd = Lot { mineral_soil: false, ..a.clone() };
        assert!(gate(&dd).expect_err("D").contains("mineral soils"));
        // Through the engine: only A is credited, the others are listed with their reason.
        let o = run(vec![a, b, c, dd], "0");
        assert_eq!(o.excluded.len(), 3);
        assert!(o.credits > Decimal::ZERO);
    }

    #[test]
    fn b1_wood_high_temperature_with_project_emissions() {
        let o = run(vec![lot("wood", "650", "10")], "0.5");
        crate::testutil::assert_versions(&o);
        assert_eq!(step(&o, ": C").normalize(), d("6.853"));
        assert_rounds_to(o.gross, "25.1277");
        assert_rounds_to(o.net, "24.6277");
        assert_eq!(o.credits, d("24"));
    }

    #[test]
    fn b2_rice_husk_low_temperature() {
        let o = run(vec![lot("rice_husk_straw", "400", "20")], "0");
        assert_eq!(step(&o, ": C").normalize(), d("6.37"));
        assert_rounds_to(o.net, "23.3567");
        assert_eq!(o.credits, d("23"));
    }

    #[test]
    fn b3_mixed_lots_medium_temperature() {
        let o = run(vec![lot("herbaceous", "500", "5"), lot("wood", "500", "8")], "0");
        let co2: Vec<Decimal> = o.steps.iter().filter(|s| s.name.ends_with(": CO2")).map(|s| s.value).collect();
        assert_rounds_to(co2[0], "9.5333");
        assert_rounds_to(co2[1], "18.0693");
        assert_rounds_to(o.net, "27.6027");
        assert_eq!(o.credits, d("27"));
        // Per-tonne check: rice straw, medium temperature.
        assert_rounds_to(run(vec![lot("rice_husk_straw", "500", "1")], "0").net, "1.437");
    }

    #[test]
    fn temperature_classes_and_unmonitored_default() {
        let fperm = |temp: Option<&str>| {
            let o = run(vec![Lot { temperature_c: temp.map(d), ..lot("wood", "0", "1") }], "0");
            o.steps.iter().find(|s| s.name.contains("F_perm")).map(|s| s.value).expect("F_perm step")
        };
        assert_eq!(fperm(Some("600.1")), d("0.89"));
        assert_eq!(fperm(Some("600")), d("0.80"));
        assert_eq!(fperm(Some("450")), d("0.80"));
        assert_eq!(fperm(Some("449")), d("0.65"));
        assert_eq!(fperm(None), d("0.56"));
        let o = run(vec![lot("wood", "350", "1")], "0");
        assert!(o.excluded[0].reason.contains("above 350"));
    }

    #[test]
    fn out_of_schema_inputs_name_the_field() {
        let e = |l: Lot| quantify(&Input { lots: vec![l], project_emissions_t_co2e: d("0") }).expect_err("refused");
        assert_eq!(e(lot("coal", "500", "1")).field(), Some("lots[0].feedstock"));
        assert_eq!(e(lot("wood", "500", "0")).field(), Some("lots[0].dry_mass_t"));
        assert_eq!(
            e(Lot { fixed_carbon_pct: Some(d("101")), ..lot("wood", "500", "1") }).field(),
            Some("lots[0].fixed_carbon_pct")
        );
        let e = quantify(&Input { lots: vec![lot("wood", "500", "1")], project_emissions_t_co2e: d("-1") })
            .expect_err("pe");
        assert_eq!(e.field(), Some("project_emissions_t_co2e"));
    }
}
