//! Round-trip and robustness properties of the serial parsers and of whole-file parsing.

use furrow_import::serial::{self, Serial};
use furrow_import::{Reason, parse_file};
use proptest::prelude::*;

fn upper(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::char::range('A', 'Z'), len).prop_map(|v| v.into_iter().collect())
}

fn num() -> impl Strategy<Value = String> {
    (1u64..10_000_000).prop_map(|n| n.to_string())
}

fn year() -> impl Strategy<Value = String> {
    (1990u32..2100).prop_map(|y| y.to_string())
}

fn range() -> impl Strategy<Value = (u64, u64)> {
    (1u64..1_000_000_000, 0u64..1_000_000).prop_map(|(s, l)| (s, s + l))
}

fn ddmmyyyy() -> impl Strategy<Value = String> {
    (1u32..29, 1u32..13, 1990u32..2100).prop_map(|(d, m, y)| format!("{d:02}{m:02}{y}"))
}

fn any_serial() -> impl Strategy<Value = Serial> {
    prop_oneof![
        // A prefix starting with GS is read as Gold Standard's, so APX serials never use one.
        (
            upper(2..=4).prop_filter("GS is Gold Standard's", |p| !p.starts_with("GS")),
            upper(2..=2),
            num(),
            year(),
            num(),
            range()
        )
            .prop_map(|(prefix, country, project, vintage, batch, (start, end))| {
                Serial::Apx { prefix, country, project, vintage, batch, start, end }
            }),
        (
            prop_oneof![Just("1".to_string()), Just("ROC".to_string())],
            upper(2..=2),
            num(),
            num(),
            num(),
            upper(2..=2),
            year(),
            num(),
            range()
        )
            .prop_map(|(series, country, project, a, b, state, vintage, batch, (start, end))| Serial::Car {
                series,
                country,
                project,
                a,
                b,
                state,
                vintage,
                batch,
                start,
                end
            }),
        (upper(2..=2), any::<bool>(), num(), num(), year(), num(), range()).prop_map(
            |(country, gs_prefix, gsid, scope, vintage, batch, (start, end))| Serial::Gold {
                head: "GS1".into(),
                sub: "1".into(),
                country,
                gs_prefix,
                gsid,
                scope,
                vintage,
                batch,
                start,
                end
            }
        ),
        (
            num(),
            range(),
            any::<bool>(),
            num(),
            prop_oneof![Just("VER"), Just("MER"), Just("APX"), Just("TZ1")],
            upper(2..=2),
            num(),
            num(),
            ddmmyyyy(),
            ddmmyyyy(),
            any::<bool>()
        )
            .prop_map(|(batch, (start, end), vcs, code, origin, country, scope, project, vs, ve, flag)| {
                Serial::Verra {
                    batch,
                    start,
                    end,
                    vcs,
                    unit: "VCU".into(),
                    code,
                    origin: origin.into(),
                    country,
                    scope,
                    project,
                    vintage_start: vs,
                    vintage_end: ve,
                    flag: if flag { "1".into() } else { "0".into() },
                }
            }),
        (proptest::collection::vec(1u32..400, 2..7), 0u64..100_000, 0u64..100_000).prop_map(|(parts, s, l)| {
            Serial::Cercarbono {
                batch: format!("CDC_{}", parts.iter().map(u32::to_string).collect::<Vec<_>>().join("_")),
                start: s,
                end: s + l,
            }
        }),
        (1u64..10_000_000_000).prop_map(|number| Serial::Refarm { number }),
    ]
}

fn cdm() -> impl Strategy<Value = Serial> {
    (
        upper(2..=2),
        proptest::option::of(Just("5".to_string())),
        range(),
        proptest::option::of((1u32..20000).prop_map(|p| p.to_string())),
    )
        .prop_map(|(c, period, (start, end), project)| Serial::Cdm {
            country: Some(c),
            period,
            start,
            end,
            project,
        })
}

proptest! {
    #[test]
    fn every_strict_serial_round_trips(s in any_serial()) {
        let printed = s.to_string();
        let parsed = Serial::parse_any(&printed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed, &s);
        prop_assert_eq!(parsed.to_string(), printed);
        let (start, end) = s.range();
        prop_assert_eq!(s.len(), end - start + 1);
    }

    #[test]
    fn cdm_canonical_form_round_trips(s in cdm()) {
        // The printed form always has a period slot (0 when unknown); everything else reads back.
        let printed = s.to_string();
        let parsed = serial::parse_cdm(&printed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.to_string(), printed);
        let Serial::Cdm { country, period, start, end, project } = s.clone() else { unreachable!("a CDM serial") };
        let expected = Serial::Cdm { country, period: Some(period.unwrap_or_else(|| "0".into())), start, end, project };
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn parsers_never_panic_on_garbage(s in "\\PC{0,80}") {
        let _ = Serial::parse_any(&s);
        let _ = serial::parse_cdm(&s);
        let _ = serial::parse_apx(&s);
        let _ = serial::parse_car(&s);
        let _ = serial::parse_gold(&s);
        let _ = serial::parse_verra(&s);
        let _ = serial::parse_refarm(&s);
    }

    #[test]
    fn mutated_serials_are_refused_or_read_as_another_valid_serial(s in any_serial(), at in any::<prop::sample::Index>(), c in "[ -~]") {
        let mut printed = s.to_string();
        let i = at.index(printed.len());
        printed.replace_range(i..=i, &c);
        if let Ok(p) = Serial::parse_any(&printed) {
            prop_assert_eq!(p.to_string(), printed);
        }
    }

    #[test]
    fn whole_files_of_garbage_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_file("x.csv", &bytes, None);
        let mut with_header = b"Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number\n".to_vec();
        with_header.extend_from_slice(&bytes);
        if let Ok(f) = parse_file("vcus.csv", &with_header, None) {
            prop_assert_eq!(f.records.len() + f.quarantined.len(), f.rows as usize);
        }
    }
}

#[test]
fn bad_rows_are_quarantined_with_their_reason_and_good_rows_kept() {
    let csv = "\
Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",500,13861-1-500-VCS-VCU-263-VER-AU-7-2348-01012021-30112021-1,,2023-01-13,Someone,Other,
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",5,13861-501-510-VCS-VCU-263-VER-AU-7-2348-01012021-30112021-1,,2023-01-13,,,
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",10,13861-400-409-VCS-VCU-263-VER-AU-7-2348-01012021-30112021-1,,2023-01-13,,,
2022-10-17,,2021-01-01,2021-11-30,9999,EV,Australia,Transport,VM0038,\"1,000\",10,13861-600-609-VCS-VCU-263-VER-AU-7-2348-01012021-30112021-1,,2023-01-13,,,
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",10,not a serial,,2023-01-13,,,
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",10,13861-700-709-VCS-VCU-263-VER-AU-7-2348-01012021-30112021-1,,2020-01-13,,,
2022-10-17,,2021-01-01,2021-11-30,2348,EV,Australia,Transport,VM0038,\"1,000\",10,13861-400-409-VCS-VCU-263-MER-AU-7-2348-01012021-30112021-1,,2023-01-13,,,
";
    let f = parse_file("some/dir/export.csv", csv.as_bytes(), None).expect("a Verra export");
    assert_eq!(f.rows, 7);
    let reasons: Vec<(u64, Reason)> = f.quarantined.iter().map(|q| (q.line, q.reason)).collect();
    assert_eq!(
        reasons,
        [
            (3, Reason::QuantityMismatch),
            (4, Reason::OverlappingRange),
            (5, Reason::SerialMismatch),
            (6, Reason::Malformed),
            (7, Reason::DatesOutOfOrder),
        ]
    );
    // The same numbers under another origin-registry token are a different namespace.
    let kept: Vec<u64> = f.records.iter().map(|r| r.line).collect();
    assert_eq!(kept, [2, 8]);
    assert!(f.quarantined.iter().all(|q| q.raw.contains("Australia")), "the raw row is kept");
}
