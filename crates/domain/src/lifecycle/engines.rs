//! The methodology engines of `furrow-quantify` (issue #6) behind the domain's [`Engine`] trait,
//! so that a methodology version declares one by id.
//!
//! A parcel's activity data are numbers and flags. A categorical choice is a flag named
//! `name:code` set to true (e.g. `region:east_asia`, `baseline_water:continuous_flooding`); exactly
//! one per category. Quantities per code are numbers named the same way (e.g.
//! `baseline_amendment:straw_long` = 5 t/ha). Each engine returns the parcel's reduction or
//! removal in t CO2e after its own project-emission items (the rice N2O increase, biochar transport)
//! and before the methodology's deductions, which `engine::quantify` applies in SPEC §4's order.
//! An ineligible parcel (drainage not extended by 7 days, biochar failing AG-004's gate) is an
//! error naming the parcel, so a verifier cannot freeze a result that credits it.

use furrow_quantify::{QuantifyError, biochar, drainage, rice, soc};
use rust_decimal::Decimal;

use super::engine::{Engine, ParcelInput, ParcelResult};
use super::model::{FieldValue, ParameterTable};

fn number(input: &ParcelInput, name: &str) -> Option<Decimal> {
    input.values.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
        FieldValue::Number(d) => Some(*d),
        FieldValue::Flag(_) => None,
    })
}

fn required(input: &ParcelInput, name: &str) -> Result<Decimal, String> {
    number(input, name).ok_or_else(|| format!("parcel {}: {name}: a number is required", input.parcel))
}

fn flag(input: &ParcelInput, name: &str) -> bool {
    input.values.iter().any(|(n, v)| n == name && *v == FieldValue::Flag(true))
}

fn whole(input: &ParcelInput, name: &str, value: Decimal) -> Result<u32, String> {
    use rust_decimal::prelude::ToPrimitive;
    value
        .to_u32()
        .filter(|_| value.fract().is_zero())
        .ok_or_else(|| format!("parcel {}: {name}: {value} is not a whole number of days", input.parcel))
}

/// The one code whose flag `category:code` is set.
fn choice(input: &ParcelInput, category: &str) -> Result<String, String> {
    let prefix = format!("{category}:");
    let set: Vec<&str> = input
        .values
        .iter()
        .filter(|(_, v)| *v == FieldValue::Flag(true))
        .filter_map(|(n, _)| n.strip_prefix(&prefix))
        .collect();
    match set[..] {
        [one] => Ok(one.to_string()),
        [] => Err(format!("parcel {}: {category}: set exactly one flag {category}:<code>", input.parcel)),
        _ => Err(format!("parcel {}: {category}: more than one of {}", input.parcel, set.join(", "))),
    }
}

/// Numbers named `prefix:code`, as `(code, value)`.
fn per_code(input: &ParcelInput, prefix: &str) -> Vec<(String, Decimal)> {
    let prefix = format!("{prefix}:");
    input
        .values
        .iter()
        .filter_map(|(n, v)| match v {
            FieldValue::Number(d) => n.strip_prefix(&prefix).map(|code| (code.to_string(), *d)),
            FieldValue::Flag(_) => None,
        })
        .collect()
}

fn refused(input: &ParcelInput, e: QuantifyError) -> String {
    format!("parcel {}: {e}", input.parcel)
}

fn excluded(input: &ParcelInput, o: &furrow_quantify::Outcome) -> Result<(), String> {
    match o.excluded.first() {
        Some(x) => Err(format!("parcel {} is not eligible: {}", input.parcel, x.reason)),
        None => Ok(()),
    }
}

/// The engine's outcome as one parcel's result: its gross and project emissions, which
/// `engine::explain` deducts in SPEC §4's order, and its steps without the engine's own closing
/// `net`/`issuable`/`credits` (and the zero uncertainty and buffer it was given), which come before the methodology's deductions and would mislead.
fn parcel_result(o: furrow_quantify::Outcome) -> ParcelResult {
    let steps = o
        .steps
        .into_iter()
        .filter(|s| !matches!(s.name.as_str(), "net" | "issuable" | "credits" | "uncertainty deduction" | "buffer"))
        .collect();
    ParcelResult { gross: o.gross, project_emissions: o.project_emissions, steps, caveats: o.caveats }
}

/// `jcredit-ag005-drainage`. Fields: `prefecture` (JIS X 0401 code, 1–47), `daily_water_loss_mm`,
/// `drainage_days`, `prior_drainage_days_1`, `prior_drainage_days_2`, … (at least two),
/// `straw_incorporated` (flag) or `straw_removed_kg_per_10a` (and optionally
/// `straw_produced_kg_per_10a`), `compost` (flag), `reirrigated` (flag).
pub struct Ag005Drainage;

impl Engine for Ag005Drainage {
    fn id(&self) -> &'static str {
        drainage::ENGINE_ID
    }
    fn version(&self) -> &'static str {
        drainage::ENGINE_VERSION
    }
    fn run(&self, input: &ParcelInput, _parameters: &ParameterTable) -> Result<ParcelResult, String> {
        let code = required(input, "prefecture")?;
        let code = whole(input, "prefecture", code)?;
        let straw = match number(input, "straw_removed_kg_per_10a") {
            Some(removed) => drainage::Straw::PartlyRemoved {
                removed_kg_per_10a: removed,
                produced_kg_per_10a: number(input, "straw_produced_kg_per_10a"),
            },
            None if flag(input, "straw_incorporated") => drainage::Straw::Incorporated,
            None => drainage::Straw::Removed,
        };
        let mut prior = Vec::new();
        for i in 1.. {
            let name = format!("prior_drainage_days_{i}");
            match number(input, &name) {
                Some(v) => prior.push(whole(input, &name, v)?),
                None => break,
            }
        }
        let days = required(input, "drainage_days")?;
        let field = drainage::Field {
            label: input.parcel.to_string(),
            prefecture: format!("JP-{code:02}"),
            area_ha: input.area_ha,
            daily_water_loss_mm: required(input, "daily_water_loss_mm")?,
            straw,
            compost_applied: flag(input, "compost"),
            drainage_days: whole(input, "drainage_days", days)?,
            prior_drainage_days: prior,
            reirrigated: flag(input, "reirrigated"),
        };
        let o = drainage::quantify(&drainage::Input { gwp: input.gwp.to_string(), fields: vec![field] })
            .map_err(|e| refused(input, e))?;
        excluded(input, &o)?;
        Ok(parcel_result(o))
    }
}

/// `ipcc2019-rice-tier1`. Flags `region:<code>`, `baseline_water:<code>`, `project_water:<code>`,
/// `baseline_pre_season:<code>`, `project_pre_season:<code>`; numbers `days`, `n_kg_per_ha`
/// (optional), `baseline_amendment:<kind>` and `project_amendment:<kind>` (t/ha).
pub struct IpccRice;

impl Engine for IpccRice {
    fn id(&self) -> &'static str {
        rice::ENGINE_ID
    }
    fn version(&self) -> &'static str {
        rice::ENGINE_VERSION
    }
    fn run(&self, input: &ParcelInput, _parameters: &ParameterTable) -> Result<ParcelResult, String> {
        let practice = |side: &str| -> Result<rice::Practice, String> {
            Ok(rice::Practice {
                water_regime: choice(input, &format!("{side}_water"))?,
                pre_season: choice(input, &format!("{side}_pre_season"))?,
                amendments: per_code(input, &format!("{side}_amendment"))
                    .into_iter()
                    .map(|(kind, t_per_ha)| rice::Amendment { kind, t_per_ha })
                    .collect(),
            })
        };
        let days = required(input, "days")?;
        let season = rice::Season {
            label: input.parcel.to_string(),
            region: choice(input, "region")?,
            area_ha: input.area_ha,
            days: whole(input, "days", days)?,
            n_kg_per_ha: number(input, "n_kg_per_ha").unwrap_or_default(),
            baseline: practice("baseline")?,
            project: practice("project")?,
        };
        let i = rice::Input { gwp: input.gwp.to_string(), uncertainty_pct: Decimal::ZERO, seasons: vec![season] };
        Ok(parcel_result(rice::quantify(&i).map_err(|e| refused(input, e))?))
    }
}

/// `ipcc2019-biochar`, one lot per parcel. Flags `feedstock:<code>`, `gasification`,
/// `domestic_unused_feedstock`, `mineral_soil`; numbers `dry_mass_t`, `temperature_c`,
/// `fixed_carbon_pct`, `refining_degree`, `project_emissions_t_co2e` (the optional ones may be absent).
pub struct Biochar;

impl Engine for Biochar {
    fn id(&self) -> &'static str {
        biochar::ENGINE_ID
    }
    fn version(&self) -> &'static str {
        biochar::ENGINE_VERSION
    }
    fn run(&self, input: &ParcelInput, _parameters: &ParameterTable) -> Result<ParcelResult, String> {
        let lot = biochar::Lot {
            label: input.parcel.to_string(),
            feedstock: choice(input, "feedstock")?,
            production: if flag(input, "gasification") {
                biochar::Production::Gasification
            } else {
                biochar::Production::Pyrolysis
            },
            temperature_c: number(input, "temperature_c"),
            dry_mass_t: required(input, "dry_mass_t")?,
            fixed_carbon_pct: number(input, "fixed_carbon_pct"),
            refining_degree: number(input, "refining_degree"),
            domestic_unused_feedstock: flag(input, "domestic_unused_feedstock"),
            mineral_soil: flag(input, "mineral_soil"),
        };
        let pe = number(input, "project_emissions_t_co2e").unwrap_or_default();
        let o = biochar::quantify(&biochar::Input { lots: vec![lot], project_emissions_t_co2e: pe })
            .map_err(|e| refused(input, e))?;
        excluded(input, &o)?;
        Ok(parcel_result(o))
    }
}

/// `ipcc-tier1-soc`, the parcel's area under its baseline and project management, per year. Flags
/// `climate:<code>`, `soil:<code>`, `baseline_land_use:`, `baseline_tillage:`, `baseline_input:`,
/// and the same with `project_`. The buffer is the methodology's buffer deduction, at issuance.
pub struct Soc;

impl Engine for Soc {
    fn id(&self) -> &'static str {
        soc::ENGINE_ID
    }
    fn version(&self) -> &'static str {
        soc::ENGINE_VERSION
    }
    fn run(&self, input: &ParcelInput, _parameters: &ParameterTable) -> Result<ParcelResult, String> {
        let stratum = |side: &str| -> Result<soc::Stratum, String> {
            Ok(soc::Stratum {
                label: input.parcel.to_string(),
                area_ha: input.area_ha,
                land_use: choice(input, &format!("{side}_land_use"))?,
                tillage: choice(input, &format!("{side}_tillage"))?,
                input: choice(input, &format!("{side}_input"))?,
            })
        };
        let i = soc::Input {
            climate: choice(input, "climate")?,
            soil: choice(input, "soil")?,
            uncertainty_pct: Decimal::ZERO,
            buffer_pct: Decimal::ZERO,
            baseline: vec![stratum("baseline")?],
            project: vec![stratum("project")?],
        };
        Ok(parcel_result(soc::quantify(&i).map_err(|e| refused(input, e))?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::{by_id, quantify};
    use super::super::model::{Deductions, Methodology, MethodologyStatus, ParcelActivity, Quantification};
    use super::*;
    use crate::ids::{MethodologyId, ParcelId};

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    fn methodology(engine: &str, gwp: &str, uncertainty: &str) -> Methodology {
        let mut spec = crate::sim::lifecycle::rice_methodology("v2.0");
        spec.engine = engine.into();
        spec.gwp = gwp.into();
        spec.parameters.values = vec![];
        spec.deductions = Deductions { uncertainty: d(uncertainty), leakage: Decimal::ZERO, buffer: d("20") };
        Methodology { id: MethodologyId(7), spec, status: MethodologyStatus::Approved, history: vec![] }
    }

    fn num(name: &str, v: &str) -> (String, FieldValue) {
        (name.into(), FieldValue::Number(d(v)))
    }

    fn on(name: &str) -> (String, FieldValue) {
        (name.into(), FieldValue::Flag(true))
    }

    fn run(m: &Methodology, area: &str, values: Vec<(String, FieldValue)>) -> Result<Quantification, String> {
        let areas = [(ParcelId(1), d(area))];
        quantify(m, &areas, &[ParcelActivity { parcel: ParcelId(1), values }])
    }

    fn j1_values() -> Vec<(String, FieldValue)> {
        vec![
            num("prefecture", "8"),
            num("daily_water_loss_mm", "13"),
            num("drainage_days", "18"),
            num("prior_drainage_days_1", "10"),
            num("prior_drainage_days_2", "12"),
            on("straw_incorporated"),
        ]
    }

    #[test]
    fn every_engine_is_declared_by_id_and_linear_factor_still_works() {
        for id in
            ["linear-factor", "jcredit-ag005-drainage", "ipcc2019-rice-tier1", "ipcc2019-biochar", "ipcc-tier1-soc"]
        {
            assert_eq!(by_id(id).map(|e| e.id()), Some(id));
        }
        let mut m = methodology("linear-factor", "AR5", "0");
        m.spec.parameters.values = vec![("per_ha".into(), d("4.2"))];
        assert_eq!(run(&m, "2", vec![]).expect("quantifies").gross, d("8.4"));
    }

    #[test]
    fn a_methodology_declaring_the_ag005_engine_quantifies_j1_and_recomputes() {
        let m = methodology("jcredit-ag005-drainage", "AR5", "10");
        let q = run(&m, "10", j1_values()).expect("quantifies");
        assert_eq!(q.engine, "jcredit-ag005-drainage");
        assert_eq!(q.gross.round_dp(4), d("16.9120"));
        assert_eq!(q.net.round_dp(4), d("15.2208"), "less the methodology's 10 % uncertainty");
        // Deterministic, so a frozen result recomputes; a changed input gives another result.
        assert_eq!(run(&m, "10", j1_values()), Ok(q.clone()));
        let mut changed = j1_values();
        changed[1] = num("daily_water_loss_mm", "5");
        let other = run(&m, "10", changed).expect("quantifies");
        assert_ne!((other.gross, other.inputs_hash), (q.gross, q.inputs_hash));
        // AR4 from the methodology's GWP set: the J1 GWP-25 column.
        let q = run(&methodology("jcredit-ag005-drainage", "AR4", "0"), "10", j1_values()).expect("quantifies");
        assert_eq!(q.gross.round_dp(4), d("15.1000"));
    }

    #[test]
    fn ineligible_or_malformed_parcels_are_refused_by_name() {
        let m = methodology("jcredit-ag005-drainage", "AR5", "0");
        let mut short = j1_values();
        short[2] = num("drainage_days", "17");
        assert!(run(&m, "10", short).expect_err("6 days").contains("not eligible"));
        let mut broken = j1_values();
        broken.push(on("reirrigated"));
        assert!(run(&m, "10", broken).expect_err("re-irrigated").contains("re-irrigation"));
        let mut bad = j1_values();
        bad[0] = num("prefecture", "48");
        assert!(run(&m, "10", bad).expect_err("no JP-48").contains("prefecture"));
        let rice = methodology("ipcc2019-rice-tier1", "AR5", "0");
        let e = run(&rice, "10", vec![num("days", "120"), on("region:east_asia")]).expect_err("no water regime");
        assert!(e.contains("baseline_water"), "{e}");
    }

    #[test]
    fn r2_through_the_registry_deducts_uncertainty_before_the_n2o_increase() {
        // SPEC §4's order and the research note's R2: 15 % uncertainty on the CH4 reduction,
        // then the N2O increase. (Deducting N2O first would give 283.4658 − 0.15 × 9.9852 less.)
        let m = methodology("ipcc2019-rice-tier1", "AR5", "15");
        let r2 = vec![
            on("region:south_asia"),
            num("days", "112"),
            num("n_kg_per_ha", "120"),
            on("baseline_water:continuous_flooding"),
            on("project_water:multiple_drainage"),
            on("baseline_pre_season:non_flooded_short"),
            on("project_pre_season:non_flooded_short"),
            num("baseline_amendment:straw_short", "5"),
            num("project_amendment:straw_short", "5"),
        ];
        let e = super::super::engine::explain(
            &m,
            &[(ParcelId(1), d("100"))],
            &[ParcelActivity { parcel: ParcelId(1), values: r2 }],
        )
        .expect("R2");
        let q = &e.quantification;
        assert_eq!(q.gross.round_dp(4), d("345.2365"));
        assert_eq!((q.gross - q.uncertainty).round_dp(4), d("293.4510"));
        assert_eq!(q.project_emissions.round_dp(4), d("9.9852"));
        assert_eq!(q.net.round_dp(4), d("283.4658"));
        assert_eq!(q.leakage, Decimal::ZERO);
        // The explanation carries the engine's steps with their sources, then the deductions.
        let steps = &e.parcels[0].steps;
        let ef = steps.iter().find(|s| s.name.ends_with("baseline: EF")).expect("EF step");
        assert_eq!(ef.value.round_dp(6), d("2.446404"));
        let sf = steps.iter().find(|s| s.source.contains("ipcc2019_rice")).expect("a rice table parameter");
        assert!(sf.status.is_some(), "{sf:?}");
        assert_eq!(steps.last().map(|s| (s.name.as_str(), s.value)), Some(("contribution", q.net)));
        assert!(steps.iter().all(|s| s.name != "credits"), "no per-parcel credits before deductions");
        assert!(!e.caveats.is_empty(), "R2 uses unverified VM0051 values");
    }

    #[test]
    fn rice_biochar_and_soil_carbon_through_the_registry() {
        let rice = methodology("ipcc2019-rice-tier1", "AR5", "0");
        let r1 = vec![
            on("region:east_asia"),
            num("days", "120"),
            on("baseline_water:single_drainage"),
            on("project_water:multiple_drainage"),
            on("baseline_pre_season:non_flooded_long"),
            on("project_pre_season:non_flooded_long"),
            num("baseline_amendment:straw_long", "5"),
            num("project_amendment:straw_long", "5"),
        ];
        assert_eq!(run(&rice, "10", r1).expect("R1").gross.round_dp(4), d("9.3658"));
        let b1 = vec![
            on("feedstock:wood"),
            num("temperature_c", "650"),
            num("dry_mass_t", "10"),
            num("fixed_carbon_pct", "70"),
            on("domestic_unused_feedstock"),
            on("mineral_soil"),
            num("project_emissions_t_co2e", "0.5"),
        ];
        let biochar = methodology("ipcc2019-biochar", "AR5", "0");
        // Transport emissions are deducted after the (here zero) uncertainty deduction.
        let q = run(&biochar, "1", b1.clone()).expect("B1");
        assert_eq!(
            (q.gross.round_dp(4), q.project_emissions, q.net.round_dp(4)),
            (d("25.1277"), d("0.5"), d("24.6277"))
        );
        let peat: Vec<_> = b1.into_iter().filter(|(n, _)| n != "mineral_soil").collect();
        assert!(run(&biochar, "1", peat).expect_err("D").contains("mineral soils"));
        let soc = methodology("ipcc-tier1-soc", "AR5", "15");
        let s2 = vec![
            on("climate:warm_temperate_moist"),
            on("soil:hac"),
            on("baseline_land_use:long_term_cultivated"),
            on("baseline_tillage:full_tillage"),
            on("baseline_input:medium"),
            on("project_land_use:long_term_cultivated"),
            on("project_tillage:no_till"),
            on("project_input:high_without_manure"),
        ];
        let q = run(&soc, "50", s2).expect("S2");
        assert_eq!((q.gross.round_dp(4), q.net.round_dp(4)), (d("153.8999"), d("130.8149")));
    }
}
