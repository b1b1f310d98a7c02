//! Quantification engines and the frozen-result path.
//!
//! An engine is a pure function of (per-parcel inputs, parameter table, GWP set) in decimal
//! arithmetic (SPEC §4). The methodology engines of issue #6 live in `furrow-quantify` and are
//! registered here through `engines`; this module defines the `Engine` trait, the registry
//! (`by_id`), one simple declared engine (`linear-factor`), and the two
//! functions the rest of the system relies on: `quantify` (used when a verifier verifies a report,
//! whose result is then frozen in the log) and `recompute` (used by tests and `furrow verify` to
//! re-derive every frozen result from its recorded inputs).

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::codec::Canon;
use super::model::{FieldValue, Methodology, ParameterTable, ParcelActivity, Quantification, Report};
use crate::encoding::Writer;
use crate::ids::ParcelId;

/// One parcel's inputs to an engine.
pub struct ParcelInput<'a> {
    pub parcel: ParcelId,
    pub area_ha: Decimal,
    pub values: &'a [(String, FieldValue)],
    /// The methodology version's GWP set id (e.g. `AR5`), for engines that convert gas masses.
    pub gwp: &'a str,
}

pub use furrow_quantify::{Caveat, Status, Step};

/// What an engine says about one parcel: the reduction before any deduction, the project
/// emissions it counted separately (the rice N2O increase, biochar transport), and every
/// intermediate value with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelResult {
    /// t CO2e before the methodology's deductions and before project emissions.
    pub gross: Decimal,
    /// t CO2e; deducted after the uncertainty deduction (SPEC §4's order).
    pub project_emissions: Decimal,
    pub steps: Vec<Step>,
    /// Parameters used that are not verified against a primary source.
    pub caveats: Vec<Caveat>,
}

impl ParcelResult {
    /// A result with one computed step, for engines without an explanation of their own.
    pub fn plain(gross: Decimal, steps: Vec<Step>) -> Self {
        Self { gross, project_emissions: Decimal::ZERO, steps, caveats: Vec::new() }
    }
}

/// A computed value (no table source, so no verification status).
pub fn computed(name: impl Into<String>, value: Decimal, unit: &str, formula: impl Into<String>) -> Step {
    Step { name: name.into(), value, unit: unit.into(), source: formula.into(), status: None }
}

/// A quantification engine. Implementations must be deterministic and use no floating point.
pub trait Engine: Sync {
    fn id(&self) -> &'static str;
    fn version(&self) -> &'static str;
    /// One parcel's reductions in t CO2e, before the methodology's deductions, with every step.
    fn run(&self, input: &ParcelInput, parameters: &ParameterTable) -> Result<ParcelResult, String>;
}

/// `linear-factor`: gross = area (ha) × `per_ha` + Σ value(field) × `per_unit:<field>`, for the
/// parameters the table declares. Enough for an area-based practice (rice drainage: tCO2e per ha)
/// and a quantity-based one (biochar: tCO2e per tonne applied) until the engines of #6 arrive.
pub struct LinearFactor;

impl Engine for LinearFactor {
    fn id(&self) -> &'static str {
        "linear-factor"
    }
    fn version(&self) -> &'static str {
        "1.0"
    }
    fn run(&self, input: &ParcelInput, parameters: &ParameterTable) -> Result<ParcelResult, String> {
        let mut gross = Decimal::ZERO;
        let mut steps = Vec::new();
        for (name, factor) in &parameters.values {
            let (term, formula) = if name == "per_ha" {
                (input.area_ha.checked_mul(*factor), format!("area {} ha × per_ha {factor}", input.area_ha))
            } else if let Some(field) = name.strip_prefix("per_unit:") {
                match input.values.iter().find(|(n, _)| n == field).map(|(_, v)| *v) {
                    Some(FieldValue::Number(v)) => (v.checked_mul(*factor), format!("{field} {v} × {name} {factor}")),
                    Some(FieldValue::Flag(_)) => return Err(format!("parameter {name} refers to a flag field")),
                    None => (Some(Decimal::ZERO), format!("{field} not reported")),
                }
            } else {
                continue;
            };
            let term = term.ok_or("the quantification overflows")?;
            steps.push(computed(format!("term {name}"), term, "t CO2e", formula));
            gross = gross.checked_add(term).ok_or("the quantification overflows")?;
        }
        steps.push(computed("gross", gross, "t CO2e", "Σ terms"));
        Ok(ParcelResult::plain(gross, steps))
    }
}

static ENGINES: &[&dyn Engine] = &[
    &LinearFactor,
    &super::engines::Ag005Drainage,
    &super::engines::IpccRice,
    &super::engines::Biochar,
    &super::engines::Soc,
];

/// The engine a methodology names, if this build has it.
pub fn by_id(id: &str) -> Option<&'static dyn Engine> {
    ENGINES.iter().copied().find(|e| e.id() == id)
}

/// SHA-256 of the canonical inputs: methodology, parameter table, GWP set, and each parcel's area
/// and activity data, in report order.
pub fn inputs_hash(methodology: &Methodology, areas: &[(ParcelId, Decimal)], activity: &[ParcelActivity]) -> [u8; 32] {
    let mut w = Writer(Vec::new());
    methodology.id.put(&mut w);
    methodology.spec.engine.put(&mut w);
    methodology.spec.parameters.put(&mut w);
    methodology.spec.gwp.put(&mut w);
    areas.to_vec().put(&mut w);
    activity.to_vec().put(&mut w);
    Sha256::digest(&w.0).into()
}

/// One parcel's part of an explanation: its inputs, the engine's steps and the deductions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelExplanation {
    pub parcel: ParcelId,
    pub area_ha: Decimal,
    pub values: Vec<(String, FieldValue)>,
    /// The engine's steps, then the methodology's deductions on this parcel.
    pub steps: Vec<Step>,
    pub contribution: Decimal,
}

/// A quantification with every intermediate value, for a farmer or an auditor to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub quantification: Quantification,
    pub parcels: Vec<ParcelExplanation>,
    /// The report's totals: gross, each deduction in SPEC §4's order, net.
    pub totals: Vec<Step>,
    /// Every parameter used that is not verified, once.
    pub caveats: Vec<Caveat>,
}

fn overflow<T>(v: Option<T>) -> Result<T, String> {
    v.ok_or_else(|| "the quantification overflows".to_string())
}

/// Runs the methodology's engine over a report's inputs and applies the deductions in SPEC §4's
/// order: uncertainty, then leakage and project emissions (the buffer and the floor come at
/// issuance). Returns every step.
pub fn explain(
    methodology: &Methodology,
    areas: &[(ParcelId, Decimal)],
    activity: &[ParcelActivity],
) -> Result<Explanation, String> {
    let engine = by_id(&methodology.spec.engine)
        .ok_or_else(|| format!("engine {:?} is not available in this build", methodology.spec.engine))?;
    let hundred = Decimal::ONE_HUNDRED;
    let d = methodology.spec.deductions;
    // Each parcel keeps this share of its gross, less its project emissions; so the
    // contributions sum exactly to the net.
    let keep_u = (hundred - d.uncertainty) / hundred;
    let keep = keep_u * ((hundred - d.leakage) / hundred);
    let (mut gross, mut net, mut emissions) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let (mut contributions, mut parcels, mut caveats) = (Vec::new(), Vec::new(), Vec::<Caveat>::new());
    for item in activity {
        let area_ha = areas.iter().find(|(p, _)| *p == item.parcel).map(|(_, a)| *a).unwrap_or_default();
        let input = ParcelInput { parcel: item.parcel, area_ha, values: &item.values, gwp: &methodology.spec.gwp };
        let result = engine.run(&input, &methodology.spec.parameters)?;
        let after_u = overflow(result.gross.checked_mul(keep_u))?;
        let after_l = overflow(result.gross.checked_mul(keep))?;
        let contribution = overflow(after_l.checked_sub(result.project_emissions))?;
        let mut steps = result.steps;
        steps.push(computed(
            "after uncertainty",
            after_u,
            "t CO2e",
            format!("gross {} × (1 − {} %)", result.gross, d.uncertainty),
        ));
        steps.push(computed("after leakage", after_l, "t CO2e", format!("after uncertainty × (1 − {} %)", d.leakage)));
        steps.push(computed(
            "contribution",
            contribution,
            "t CO2e",
            format!("after leakage − project emissions {}", result.project_emissions),
        ));
        for c in result.caveats {
            if !caveats.contains(&c) {
                caveats.push(c);
            }
        }
        gross = overflow(gross.checked_add(result.gross))?;
        emissions = overflow(emissions.checked_add(result.project_emissions))?;
        net = overflow(net.checked_add(contribution))?;
        contributions.push((item.parcel, contribution));
        parcels.push(ParcelExplanation {
            parcel: item.parcel,
            area_ha,
            values: item.values.clone(),
            steps,
            contribution,
        });
    }
    caveats.sort();
    let uncertainty = overflow(gross.checked_mul(d.uncertainty))? / hundred;
    let leakage = gross - uncertainty - emissions - net;
    let quantification = Quantification {
        engine: engine.id().into(),
        engine_version: engine.version().into(),
        methodology: methodology.id,
        parameters_version: methodology.spec.parameters.version.clone(),
        gwp: methodology.spec.gwp.clone(),
        inputs_hash: inputs_hash(methodology, areas, activity),
        gross,
        uncertainty,
        leakage,
        project_emissions: emissions,
        net,
        contributions,
    };
    let totals = vec![
        computed("gross", gross, "t CO2e", "Σ parcels' gross"),
        computed("uncertainty deduction", uncertainty, "t CO2e", format!("gross × {} %", d.uncertainty)),
        computed("leakage deduction", leakage, "t CO2e", format!("(gross − uncertainty) × {} %", d.leakage)),
        computed("project emissions", emissions, "t CO2e", "Σ parcels' project emissions"),
        computed("net", net, "t CO2e", "gross − uncertainty − leakage − project emissions = Σ contributions"),
    ];
    Ok(Explanation { quantification, parcels, totals, caveats })
}

/// The quantification alone (what `VerifyReport` freezes).
pub fn quantify(
    methodology: &Methodology,
    areas: &[(ParcelId, Decimal)],
    activity: &[ParcelActivity],
) -> Result<Quantification, String> {
    explain(methodology, areas, activity).map(|e| e.quantification)
}

/// Re-derives a verified report's frozen quantification from its recorded inputs and says what
/// differs. `Ok` for reports that have none.
pub fn recompute(methodology: &Methodology, report: &Report) -> Result<(), String> {
    let Some(frozen) = &report.quantification else { return Ok(()) };
    if frozen.engine != methodology.spec.engine {
        return Err(format!(
            "report {} froze engine {}, its methodology names {}",
            report.id, frozen.engine, methodology.spec.engine
        ));
    }
    let again = quantify(methodology, &report.areas, &report.spec.activity)
        .map_err(|e| format!("report {}: recomputation failed: {e}", report.id))?;
    if frozen.engine_version != again.engine_version {
        return Err(format!(
            "report {} was quantified with {} {}, this build has {}",
            report.id, frozen.engine, frozen.engine_version, again.engine_version
        ));
    }
    if &again != frozen {
        return Err(format!(
            "report {}: the frozen quantification (net {}) differs from the recomputed one (net {})",
            report.id, frozen.net, again.net
        ));
    }
    Ok(())
}

/// Recomputes every frozen quantification of a lifecycle state; one finding per mismatch.
pub fn recompute_all(lifecycle: &super::Lifecycle) -> Vec<String> {
    lifecycle
        .reports
        .values()
        .filter_map(|report| {
            let frozen = report.quantification.as_ref()?;
            let Some(methodology) = lifecycle.methodologies.get(&frozen.methodology) else {
                return Some(format!("report {} names unknown methodology {}", report.id, frozen.methodology));
            };
            recompute(methodology, report).err()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MethodologyId;
    use crate::lifecycle::model::MethodologyStatus;

    fn methodology(per_ha: Decimal) -> Methodology {
        let mut spec = crate::sim::lifecycle::rice_methodology("v1.0");
        spec.parameters.values = vec![("per_ha".into(), per_ha)];
        Methodology { id: MethodologyId(1), spec, status: MethodologyStatus::Approved, history: vec![] }
    }

    #[test]
    fn huge_parameters_are_an_error_not_a_panic() {
        let m = methodology(Decimal::MAX);
        let areas = [(ParcelId(1), Decimal::from(10_000)), (ParcelId(2), Decimal::from(10_000))];
        let activity: Vec<ParcelActivity> =
            areas.iter().map(|(p, _)| ParcelActivity { parcel: *p, values: vec![] }).collect();
        assert!(quantify(&m, &areas, &activity).is_err());
        let m = methodology(Decimal::MAX / Decimal::from(20_000));
        assert!(quantify(&m, &areas, &activity).is_err(), "the sum of two parcels overflows");
    }

    #[test]
    fn deductions_apply_in_order_and_contributions_sum_to_the_net() {
        let m = methodology(Decimal::new(42, 1));
        let areas = [(ParcelId(1), Decimal::new(5, 1)), (ParcelId(2), Decimal::new(6, 1))];
        let activity: Vec<ParcelActivity> =
            areas.iter().map(|(p, _)| ParcelActivity { parcel: *p, values: vec![] }).collect();
        let q = quantify(&m, &areas, &activity).expect("quantifies");
        // 1.1 ha × 4.2 = 4.62; less 10 % uncertainty = 4.158; less 2 % leakage = 4.07484.
        assert_eq!(
            (q.gross, q.uncertainty, q.net),
            (Decimal::new(462, 2), Decimal::new(462, 3), Decimal::new(407484, 5))
        );
        assert_eq!(q.gross - q.uncertainty - q.leakage - q.project_emissions, q.net);
        assert_eq!(q.contributions.iter().map(|(_, c)| *c).sum::<Decimal>(), q.net);
    }
}
