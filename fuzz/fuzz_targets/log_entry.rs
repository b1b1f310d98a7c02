//! The canonical log-entry decoder, fed arbitrary bytes: never a panic, and whatever decodes
//! encodes back to exactly the same bytes (the encoding is canonical, so a verifier that decodes
//! and re-hashes can never be shown two byte strings for one entry).
#![no_main]

use furrow_domain::LogEntry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(entry) = LogEntry::decode(bytes) {
        assert_eq!(entry.encode(), bytes);
    }
});
