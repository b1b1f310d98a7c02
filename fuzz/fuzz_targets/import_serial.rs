//! Other registries' serials (`furrow import`): never a panic; whatever a strict parser accepts
//! prints back to the same text, and the CDM reader's printed form is canonical (it reads back to
//! the same range, country and project, and prints the same again).
#![no_main]

use furrow_import::serial::{Serial, parse_cdm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(serial) = Serial::parse_any(text) {
        assert_eq!(serial.to_string(), text);
        let (start, end) = serial.range();
        assert!(start <= end);
    }
    if let Ok(cdm) = parse_cdm(text) {
        let printed = cdm.to_string();
        let again = parse_cdm(&printed).expect("the printed form parses");
        assert_eq!(again.to_string(), printed);
        assert_eq!(
            (again.range(), again.country(), again.project_number()),
            (cdm.range(), cdm.country(), cdm.project_number())
        );
    }
});
