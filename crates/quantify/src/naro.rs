//! NARO's national CH4 regression for Japanese paddies (`research/methodologies.md` §3.5), a
//! transparent Tier 2 cross-check of the AG-005 engine: `CH4-C = a × X + b` per region and water
//! management, X the organic-matter carbon input (kg C/ha); CH4 = CH4-C × 16.01/12.01. The
//! reduction of extended drainage is intermittent minus extended, × area × GWP.

use rust_decimal::Decimal;

use crate::{Gas, Head, Outcome, QuantifyError, Result, Trace, check_code, check_range, dec, gwp, tables};

pub const ENGINE_ID: &str = "naro-ch4-regression";
/// The engine's version names the table versions it reads: a changed table changes the version,
/// so a result frozen with the old tables is reported as computed by another version.
pub const ENGINE_VERSION: &str = "1.0; tables naro_ch4@Q10.1 gwp@2026.1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub gwp: String,
    /// AG-005 region key, e.g. `kanto`.
    pub region: String,
    /// Organic-matter carbon input X, kg C/ha.
    pub carbon_input_kg_per_ha: Decimal,
    pub area_ha: Decimal,
}

/// Reduction from extending the mid-season drainage (intermittent → extended).
pub fn quantify(input: &Input) -> Result<Outcome> {
    let t = tables()?;
    let table = &t.naro;
    check_code(table, "intermittent", "a", "region", &input.region)?;
    check_range("carbon_input_kg_per_ha", input.carbon_input_kg_per_ha, Decimal::ZERO, dec(100_000), "kg C/ha")?;
    if input.area_ha <= Decimal::ZERO {
        return Err(QuantifyError::Invalid {
            field: "area_ha".into(),
            reason: format!("{} ha must be positive", input.area_ha),
        });
    }
    check_range("area_ha", input.area_ha, Decimal::ZERO, dec(1_000_000), "ha")?;
    let mut tr = Trace::default();
    let g = gwp(&mut tr, t, &input.gwp, Gas::Ch4, "gwp")?;
    let m_ch4 = tr.param(table, "mass.ch4", "molar mass CH4")?;
    let m_c = tr.param(table, "mass.c", "molar mass C")?;
    let x = input.carbon_input_kg_per_ha;
    let ch4 = |tr: &mut Trace, regime: &str| -> Result<Decimal> {
        let a = tr.param(table, &format!("{regime}.{}.a", input.region), &format!("{regime}: a"))?;
        let b = tr.param(table, &format!("{regime}.{}.b", input.region), &format!("{regime}: b"))?;
        let c = tr.step(format!("{regime}: CH4-C"), a * x + b, "kg CH4-C/ha", format!("{a} × {x} + {b}"));
        Ok(tr.step(format!("{regime}: CH4"), c * m_ch4 / m_c, "kg CH4/ha", format!("CH4-C × {m_ch4}/{m_c}")))
    };
    let before = ch4(&mut tr, "intermittent")?;
    let after = ch4(&mut tr, "extended")?;
    let delta = tr.step("ΔCH4", before - after, "kg CH4/ha", "intermittent − extended");
    let per_ha = tr.step("reduction per ha", delta * g / dec(1000), "t CO2e/ha", format!("ΔCH4 × {g} / 1000"));
    let gross = tr.step("gross", per_ha * input.area_ha, "t CO2e", format!("per ha × {} ha", input.area_ha));
    Ok(tr.finish(
        Head { engine: ENGINE_ID, version: ENGINE_VERSION, gwp: Some(input.gwp.clone()) },
        gross,
        Decimal::ZERO,
        Decimal::ZERO,
        Decimal::ZERO,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_rounds_to, d};

    fn step(o: &Outcome, name: &str) -> Decimal {
        o.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name}")).value
    }

    #[test]
    fn j4_naro_regression_kanto_and_tohoku() {
        let run = |region: &str, x: &str, area: &str| {
            quantify(&Input {
                gwp: "AR5".into(),
                region: region.into(),
                carbon_input_kg_per_ha: d(x),
                area_ha: d(area),
            })
            .expect("quantifies")
        };
        let o = run("kanto", "1500", "5");
        crate::testutil::assert_versions(&o);
        assert_eq!(step(&o, "intermittent: CH4-C").normalize(), d("100.15"));
        assert_rounds_to(step(&o, "intermittent: CH4"), "133.5055");
        assert_rounds_to(step(&o, "intermittent: CH4") / d("10"), "13.3506");
        assert_eq!(step(&o, "extended: CH4-C").normalize(), d("70.2"));
        assert_rounds_to(step(&o, "extended: CH4"), "93.5805");
        assert_rounds_to(step(&o, "ΔCH4"), "39.9250");
        assert_rounds_to(step(&o, "reduction per ha"), "1.1179");
        assert_rounds_to(o.net, "5.5895");
        let o = run("tohoku", "0", "20");
        assert_rounds_to(step(&o, "ΔCH4"), "28.2608");
        assert_rounds_to(o.net, "15.8260");
        assert!(o.caveats.is_empty());
    }

    #[test]
    fn extended_coefficients_are_seventy_percent_of_intermittent() {
        // The cross-validation of §3.2: NARO's extended-drainage coefficients are 0.70 × the
        // intermittent ones (to the table's rounding), which is where AG-005's 30 % comes from.
        let t = &tables().expect("tables").naro;
        let v = |k: String| match t.get(&k).map(|p| &p.value) {
            Some(crate::table::Value::Number(n)) => *n,
            _ => panic!("{k}"),
        };
        for region in t.choices("intermittent", "a") {
            for (coef, tolerance) in [("a", d("0.0002")), ("b", d("0.1"))] {
                let i = v(format!("intermittent.{region}.{coef}"));
                let e = v(format!("extended.{region}.{coef}"));
                assert!((i * d("0.7") - e).abs() <= tolerance, "{region} {coef}: {i} × 0.7 vs {e}");
            }
        }
    }

    #[test]
    fn unknown_region_is_refused_by_name() {
        let e = quantify(&Input {
            gwp: "AR5".into(),
            region: "okinawa".into(),
            carbon_input_kg_per_ha: d("0"),
            area_ha: d("1"),
        });
        assert_eq!(e.expect_err("refused").field(), Some("region"));
    }
}
