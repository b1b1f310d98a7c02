//! The monitoring-data validator (`lifecycle::check_activity`): a schema and one parcel's
//! values, both built from the fuzzer's bytes. Never a panic; and whatever it accepts really
//! conforms, checked here by an independent reading of the rules: every value names a field of
//! the schema once, has the field's type (an integer field takes whole numbers), lies within the
//! field's bounds, and every required field is there.
#![no_main]

use furrow_domain::ids::ParcelId;
use furrow_domain::lifecycle::{FieldKind, FieldSpec, FieldValue, ParcelActivity, check_activity};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;

const NAMES: [&str; 4] = ["drainage_days", "area_ha", "straw", "yield_t"];

fn decimal(u: &mut Unstructured) -> Result<Decimal> {
    let mantissa: i64 = u.arbitrary()?;
    let scale = u.int_in_range(0..=28)?;
    Ok(Decimal::new(mantissa, scale))
}

fn schema(u: &mut Unstructured) -> Result<Vec<FieldSpec>> {
    let mut fields = Vec::new();
    for name in NAMES {
        if u.arbitrary()? {
            let kind = *u.choose(&[FieldKind::Number, FieldKind::Integer, FieldKind::Flag])?;
            let min = if u.arbitrary()? { Some(decimal(u)?) } else { None };
            let max = if u.arbitrary()? { Some(decimal(u)?) } else { None };
            fields.push(FieldSpec { name: name.into(), kind, unit: "u".into(), min, max, required: u.arbitrary()? });
        }
    }
    Ok(fields)
}

fn activity(u: &mut Unstructured) -> Result<ParcelActivity> {
    let mut values = Vec::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let name = (*u.choose(&NAMES)?).to_owned();
        let value = if u.arbitrary()? { FieldValue::Flag(u.arbitrary()?) } else { FieldValue::Number(decimal(u)?) };
        values.push((name, value));
    }
    Ok(ParcelActivity { parcel: ParcelId(1), values })
}

fn conforms(schema: &[FieldSpec], activity: &ParcelActivity) -> bool {
    let each_value = activity.values.iter().all(|(name, value)| {
        let once = activity.values.iter().filter(|(n, _)| n == name).count() == 1;
        let Some(spec) = schema.iter().find(|f| &f.name == name) else { return false };
        let typed = match (spec.kind, value) {
            (FieldKind::Flag, FieldValue::Flag(_)) => true,
            (FieldKind::Number, FieldValue::Number(_)) => true,
            (FieldKind::Integer, FieldValue::Number(v)) => v.fract().is_zero(),
            _ => false,
        };
        let bounded = match value {
            FieldValue::Number(v) => spec.min.is_none_or(|m| *v >= m) && spec.max.is_none_or(|m| *v <= m),
            FieldValue::Flag(_) => true,
        };
        once && typed && bounded
    });
    let required = schema.iter().filter(|f| f.required).all(|f| activity.values.iter().any(|(n, _)| *n == f.name));
    each_value && required
}

fuzz_target!(|bytes: &[u8]| {
    let mut u = Unstructured::new(bytes);
    let (Ok(schema), Ok(activity)) = (schema(&mut u), activity(&mut u)) else { return };
    let accepted = check_activity(&schema, &activity).is_ok();
    assert_eq!(accepted, conforms(&schema, &activity), "schema {schema:?}, activity {activity:?}");
});
