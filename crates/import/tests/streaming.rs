//! A file of any length streams through the parser in bounded memory (issue #10: "a million-row
//! import … handled with bounded memory"). Its own test binary, because it reads the process's
//! peak resident memory, which other tests running beside it would disturb.

use furrow_import::{FileParser, Item};

mod support;

use support::{VerraRows, peak_rss};

#[test]
fn a_large_file_streams_through_the_parser_in_bounded_memory() {
    const ROWS: u64 = 200_000;
    let before = peak_rss();
    let mut parser = FileParser::open("vcus.csv", VerraRows::new(ROWS), None).expect("a Verra export");
    let (mut records, mut other) = (0u64, 0u64);
    while let Some(item) = parser.next_item() {
        match item.expect("readable") {
            Item::Record(r) => {
                assert_eq!(r.quantity, Some(10), "line {}", r.line);
                records += 1;
            }
            Item::Quarantined(q) => panic!("line {} quarantined: {}", q.line, q.detail),
            Item::Note(_) => other += 1,
        }
    }
    assert_eq!((records, other, parser.rows()), (ROWS, 0, ROWS));

    let (Some(before), Some(after)) = (before, peak_rss()) else {
        println!("skipping the memory assertion: no /proc/self/status on this system");
        return;
    };
    // The rows' text is about 330 bytes each (100 MB in all); holding them, as the parser did before
    // it streamed, took about 4 KB a row. What remains per row is the duplicate and overlap
    // checks' state, a few dozen bytes.
    let grown = after.saturating_sub(before);
    println!("{ROWS} rows: peak resident memory grew by {} MB", grown >> 20);
    assert!(grown < 80 << 20, "peak memory grew by {} MB for {ROWS} rows", grown >> 20);
}
