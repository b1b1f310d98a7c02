//! Serial lookups as a user types them: never a panic; whatever parses prints back to the same
//! text (one spelling per credit), and its range is well formed.
#![no_main]

use furrow_domain::serial::{PrintableSerial, SerialQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(printable) = text.parse::<PrintableSerial>() {
        assert_eq!(printable.to_string(), text);
        assert!(printable.range.start() <= printable.range.end());
    }
    if let Ok(query) = text.parse::<SerialQuery>() {
        let range = query.range();
        assert!(range.start() >= 1 && range.start() <= range.end());
    }
});
