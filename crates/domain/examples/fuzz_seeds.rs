//! Writes the fuzzers' seed corpus: canonical log entries of a seeded simulation, one file each,
//! and printable serials of the batches it issued. Run from the repository root:
//!
//! ```sh
//! cargo run -p furrow-domain --example fuzz_seeds
//! ```

use std::path::Path;

use furrow_domain::sim::{arbitrary_command, genesis};
use furrow_domain::{Ledger, LogEntry, Timestamp};

fn main() -> std::io::Result<()> {
    let entries_dir = Path::new("fuzz/seeds/log_entry");
    let serials_dir = Path::new("fuzz/seeds/serial");
    std::fs::create_dir_all(entries_dir)?;
    std::fs::create_dir_all(serials_dir)?;
    let mut ledger = Ledger::new();
    let mut index = 0u64;
    // A small linear congruential generator: the corpus is the same on every run.
    let mut state = 0x5eed_u64;
    let mut next = || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        state >> 11
    };
    for step in 0..300 {
        let command = if step == 0 {
            genesis()
        } else {
            arbitrary_command(&ledger, [next(), next(), next(), next(), next(), next()])
        };
        let at = Timestamp(1_767_225_600_000_000 + step);
        let Ok(events) = ledger.execute(&command, at) else { continue };
        for event in events {
            let entry = LogEntry { index, timestamp: at, actor: "seed".into(), event };
            std::fs::write(entries_dir.join(format!("{index:04}.bin")), entry.encode())?;
            index += 1;
        }
    }
    let program = ledger.program().expect("genesis ran").code.clone();
    for (n, batch) in ledger.batches().enumerate().take(20) {
        std::fs::write(serials_dir.join(format!("{n:02}.txt")), batch.printable(&program, batch.serials).to_string())?;
    }
    std::fs::write(serials_dir.join("integer.txt"), "120001")?;
    println!("wrote {index} log entries and {} serials under fuzz/seeds", ledger.batches().count().min(20) + 1);
    Ok(())
}
