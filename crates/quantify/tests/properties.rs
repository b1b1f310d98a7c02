//! Properties of the engines: monotonic where they should be, never a panic on any input.

use furrow_quantify::{biochar, drainage, rice, soc};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// A positive decimal in (0, max] with up to 4 decimals.
fn positive(max: i64) -> impl Strategy<Value = Decimal> {
    (1i64..=max * 10_000).prop_map(|m| Decimal::new(m, 4))
}

fn non_negative(max: i64) -> impl Strategy<Value = Decimal> {
    (0i64..=max * 10_000).prop_map(|m| Decimal::new(m, 4))
}

/// Any decimal, including the extremes, for "never panics".
fn any_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
        (any::<i32>()).prop_map(Decimal::from),
    ]
}

fn prefecture() -> impl Strategy<Value = String> {
    (1u32..=47).prop_map(|n| format!("JP-{n:02}"))
}

fn straw() -> impl Strategy<Value = drainage::Straw> {
    prop_oneof![
        Just(drainage::Straw::Incorporated),
        Just(drainage::Straw::Removed),
        (non_negative(2000), proptest::option::of(positive(2000))).prop_map(|(removed, produced)| {
            drainage::Straw::PartlyRemoved { removed_kg_per_10a: removed, produced_kg_per_10a: produced }
        }),
    ]
}

fn field() -> impl Strategy<Value = drainage::Field> {
    (
        prefecture(),
        positive(1000),
        non_negative(50),
        straw(),
        any::<bool>(),
        0u32..=366,
        proptest::collection::vec(0u32..=366, 0..5),
        any::<bool>(),
    )
        .prop_map(|(prefecture, area_ha, loss, straw, compost, days, prior, reirrigated)| drainage::Field {
            label: "p".into(),
            prefecture,
            area_ha,
            daily_water_loss_mm: loss,
            straw,
            compost_applied: compost,
            drainage_days: days,
            prior_drainage_days: prior,
            reirrigated,
        })
}

fn gwp_set() -> impl Strategy<Value = String> {
    prop_oneof![Just("AR4".to_string()), Just("AR5".to_string()), Just("AR6_nonfossil".to_string())]
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(options).prop_map(str::to_string)
}

const WATER: &[&str] = &[
    "upland",
    "irrigated",
    "continuous_flooding",
    "single_drainage",
    "multiple_drainage",
    "rainfed_deep_water",
    "regular_rainfed",
    "drought_prone",
    "deep_water",
];
const PRE: &[&str] = &["unknown", "non_flooded_short", "non_flooded_long", "flooded_long", "non_flooded_over_year"];
const AMENDMENTS: &[&str] = &["straw_short", "straw_long", "compost", "farmyard_manure", "green_manure"];
const REGIONS: &[&str] =
    &["world", "east_asia", "southeast_asia", "south_asia", "europe", "north_america", "south_america"];

fn practice() -> impl Strategy<Value = rice::Practice> {
    (pick(WATER), pick(PRE), proptest::collection::vec((pick(AMENDMENTS), non_negative(50)), 0..4)).prop_map(
        |(water_regime, pre_season, am)| rice::Practice {
            water_regime,
            pre_season,
            amendments: am.into_iter().map(|(kind, t_per_ha)| rice::Amendment { kind, t_per_ha }).collect(),
        },
    )
}

fn season() -> impl Strategy<Value = rice::Season> {
    (pick(REGIONS), positive(10_000), 1u32..=366, non_negative(500), practice(), practice()).prop_map(
        |(region, area_ha, days, n, baseline, project)| rice::Season {
            label: "s".into(),
            region,
            area_ha,
            days,
            n_kg_per_ha: n,
            baseline,
            project,
        },
    )
}

const FEEDSTOCKS: &[&str] = &["animal_manure", "wood", "herbaceous", "rice_husk_straw", "nut_shells", "biosolids"];

fn lot() -> impl Strategy<Value = biochar::Lot> {
    (
        pick(FEEDSTOCKS),
        any::<bool>(),
        proptest::option::of(non_negative(1200)),
        positive(10_000),
        proptest::option::of(non_negative(100)),
        proptest::option::of(non_negative(20)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(feedstock, gas, temp, mass, fc, rd, domestic, mineral)| biochar::Lot {
            label: "l".into(),
            feedstock,
            production: if gas { biochar::Production::Gasification } else { biochar::Production::Pyrolysis },
            temperature_c: temp,
            dry_mass_t: mass,
            fixed_carbon_pct: fc,
            refining_degree: rd,
            domestic_unused_feedstock: domestic,
            mineral_soil: mineral,
        })
}

const LAND_USE: &[&str] = &["long_term_cultivated", "paddy_rice", "perennial", "set_aside"];
const TILLAGE: &[&str] = &["full_tillage", "reduced_tillage", "no_till"];
const INPUTS: &[&str] = &["low", "medium", "high_without_manure", "high_with_manure"];

fn management() -> impl Strategy<Value = (String, String, String)> {
    (pick(LAND_USE), pick(TILLAGE), pick(INPUTS))
}

fn soc_input(
    area: Decimal,
    b: &(String, String, String),
    p: &(String, String, String),
    u: Decimal,
    buf: Decimal,
) -> soc::Input {
    let s = |m: &(String, String, String)| soc::Stratum {
        label: "s".into(),
        area_ha: area,
        land_use: m.0.clone(),
        tillage: m.1.clone(),
        input: m.2.clone(),
    };
    soc::Input {
        climate: "warm_temperate_moist".into(),
        soil: "hac".into(),
        uncertainty_pct: u,
        buffer_pct: buf,
        baseline: vec![s(b)],
        project: vec![s(p)],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn drainage_more_area_never_fewer_credits(gwp in gwp_set(), f in field(), extra in non_negative(1000)) {
        let small = drainage::quantify(&drainage::Input { gwp: gwp.clone(), fields: vec![f.clone()] }).expect("in schema");
        let big = drainage::Input { gwp, fields: vec![drainage::Field { area_ha: f.area_ha + extra, ..f }] };
        let big = drainage::quantify(&big).expect("in schema");
        prop_assert!(big.net >= small.net && big.credits >= small.credits);
        prop_assert!(small.net >= Decimal::ZERO);
    }

    #[test]
    fn drainage_longer_extension_never_fewer_credits(gwp in gwp_set(), f in field(), more in 0u32..=30) {
        let longer = drainage::Field { drainage_days: (f.drainage_days + more).min(366), ..f.clone() };
        let a = drainage::quantify(&drainage::Input { gwp: gwp.clone(), fields: vec![f] }).expect("in schema");
        let b = drainage::quantify(&drainage::Input { gwp, fields: vec![longer] }).expect("in schema");
        prop_assert!(b.net >= a.net && b.credits >= a.credits);
    }

    #[test]
    fn drainage_adding_a_field_never_reduces_credits(gwp in gwp_set(), fields in proptest::collection::vec(field(), 1..6), f in field()) {
        let a = drainage::quantify(&drainage::Input { gwp: gwp.clone(), fields: fields.clone() }).expect("in schema");
        let mut more = fields;
        more.push(f);
        let b = drainage::quantify(&drainage::Input { gwp, fields: more }).expect("in schema");
        prop_assert!(b.credits >= a.credits);
    }

    #[test]
    fn rice_more_area_never_fewer_credits(gwp in gwp_set(), s in season(), u in non_negative(100), factor in 1i64..=50) {
        let small = rice::quantify(&rice::Input { gwp: gwp.clone(), uncertainty_pct: u, seasons: vec![s.clone()] }).expect("in schema");
        let big = rice::Season { area_ha: s.area_ha * Decimal::from(factor), ..s };
        let big = rice::quantify(&rice::Input { gwp, uncertainty_pct: u, seasons: vec![big] }).expect("in schema");
        prop_assert!(big.credits >= small.credits);
    }

    #[test]
    fn rice_steps_and_credits_agree(gwp in gwp_set(), seasons in proptest::collection::vec(season(), 1..4), u in non_negative(100)) {
        let o = rice::quantify(&rice::Input { gwp, uncertainty_pct: u, seasons }).expect("in schema");
        prop_assert_eq!(o.net, o.gross - o.uncertainty - o.project_emissions);
        prop_assert_eq!(o.credits, o.issuable.max(Decimal::ZERO).floor());
        prop_assert_eq!(o.steps.last().map(|s| s.value), Some(o.credits));
    }

    #[test]
    fn biochar_more_mass_never_fewer_credits(lots in proptest::collection::vec(lot(), 1..5), extra in non_negative(1000), pe in non_negative(100)) {
        let a = biochar::quantify(&biochar::Input { lots: lots.clone(), project_emissions_t_co2e: pe }).expect("in schema");
        let mut bigger = lots;
        bigger[0].dry_mass_t += extra;
        let b = biochar::quantify(&biochar::Input { lots: bigger, project_emissions_t_co2e: pe }).expect("in schema");
        prop_assert!(b.net >= a.net && b.credits >= a.credits);
        prop_assert!(a.gross >= Decimal::ZERO);
    }

    #[test]
    fn soc_more_area_never_fewer_credits(area in positive(10_000), factor in 1i64..=100, b in management(), p in management(), u in non_negative(100), buf in non_negative(100)) {
        let small = soc::quantify(&soc_input(area, &b, &p, u, buf)).expect("in schema");
        let big = soc::quantify(&soc_input(area * Decimal::from(factor), &b, &p, u, buf)).expect("in schema");
        prop_assert!(big.credits >= small.credits);
        prop_assert!(small.buffer >= Decimal::ZERO && small.issuable <= small.net.max(Decimal::ZERO));
    }

    // Never a panic on anything: out-of-schema values are an error naming a field.
    #[test]
    fn drainage_never_panics(area in any_decimal(), loss in any_decimal(), removed in any_decimal(), produced in any_decimal(), days in any::<u32>(), pref in "\\PC{0,8}", gwp in "\\PC{0,8}") {
        let f = drainage::Field {
            label: String::new(),
            prefecture: pref,
            area_ha: area,
            daily_water_loss_mm: loss,
            straw: drainage::Straw::PartlyRemoved { removed_kg_per_10a: removed, produced_kg_per_10a: Some(produced) },
            compost_applied: true,
            drainage_days: days,
            prior_drainage_days: vec![days, 3],
            reirrigated: false,
        };
        if let Err(e) = drainage::quantify(&drainage::Input { gwp, fields: vec![f] }) {
            prop_assert!(e.field().is_some(), "{e}");
        }
    }

    #[test]
    fn rice_never_panics(area in any_decimal(), n in any_decimal(), rate in any_decimal(), u in any_decimal(), days in any::<u32>(), kind in "\\PC{0,8}") {
        let p = rice::Practice { water_regime: "continuous_flooding".into(), pre_season: "unknown".into(), amendments: vec![rice::Amendment { kind, t_per_ha: rate }] };
        let s = rice::Season { label: String::new(), region: "world".into(), area_ha: area, days, n_kg_per_ha: n, baseline: p.clone(), project: rice::Practice { water_regime: "multiple_drainage".into(), ..p } };
        if let Err(e) = rice::quantify(&rice::Input { gwp: "AR5".into(), uncertainty_pct: u, seasons: vec![s] }) {
            prop_assert!(e.field().is_some(), "{e}");
        }
    }

    #[test]
    fn biochar_never_panics(mass in any_decimal(), temp in any_decimal(), fc in any_decimal(), rd in any_decimal(), pe in any_decimal()) {
        let l = biochar::Lot {
            label: String::new(),
            feedstock: "wood".into(),
            production: biochar::Production::Pyrolysis,
            temperature_c: Some(temp),
            dry_mass_t: mass,
            fixed_carbon_pct: Some(fc),
            refining_degree: Some(rd),
            domestic_unused_feedstock: true,
            mineral_soil: true,
        };
        if let Err(e) = biochar::quantify(&biochar::Input { lots: vec![l], project_emissions_t_co2e: pe }) {
            prop_assert!(e.field().is_some(), "{e}");
        }
    }

    #[test]
    fn soc_never_panics(a1 in any_decimal(), a2 in any_decimal(), u in any_decimal(), buf in any_decimal(), climate in "\\PC{0,8}") {
        let m = ("perennial".to_string(), "no_till".to_string(), "low".to_string());
        let mut i = soc_input(a1, &m, &m, u, buf);
        i.project[0].area_ha = a2;
        if a1 == a2 { i.climate = climate; }
        if let Err(e) = soc::quantify(&i) {
            prop_assert!(e.field().is_some(), "{e}");
        }
    }
}
