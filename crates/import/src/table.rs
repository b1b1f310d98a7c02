//! A CSV file as a header and a stream of rows, with header names normalised (whitespace
//! collapsed: VROD's headers contain newlines, `"Issuance \nYear"`) and cells trimmed. Rows are
//! read one at a time, so a file of any length is parsed in the memory of one row.

use std::collections::BTreeMap;
use std::io::Read;

/// A file's header: the column names and where each is.
pub(crate) struct Table {
    pub headers: Vec<String>,
    index: BTreeMap<String, usize>,
}

pub(crate) struct Row {
    /// 1-based line where the row starts.
    pub line: u64,
    pub cells: Vec<String>,
    /// The bytes were not valid UTF-8 (replaced with U+FFFD).
    pub lossy: bool,
}

pub(crate) fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}').split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows of a CSV file after its header, read on demand.
pub(crate) struct Rows<R: Read> {
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
}

impl<R: Read> Rows<R> {
    /// The next row; `Err` when the CSV itself is unreadable (which ends the file).
    pub fn next_row(&mut self) -> Option<Result<Row, String>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(format!("unreadable CSV: {e}"))),
            Ok(true) => {
                let line = self.record.position().map(|p| p.line()).unwrap_or(0);
                let mut lossy = false;
                let cells = self
                    .record
                    .iter()
                    .map(|c| match std::str::from_utf8(c) {
                        Ok(s) => s.to_string(),
                        Err(_) => {
                            lossy = true;
                            String::from_utf8_lossy(c).into_owned()
                        }
                    })
                    .collect();
                Some(Ok(Row { line, cells, lossy }))
            }
        }
    }
}

impl Table {
    /// Reads the header of a CSV stream and returns it with the stream of rows after it.
    pub fn open<R: Read>(input: R) -> Result<(Table, Rows<R>), String> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err("empty file".to_string()),
            Err(e) => return Err(format!("unreadable header: {e}")),
        }
        let headers: Vec<String> = header.iter().map(|h| normalise_header(&String::from_utf8_lossy(h))).collect();
        let mut index = BTreeMap::new();
        for (i, h) in headers.iter().enumerate() {
            index.entry(h.clone()).or_insert(i);
        }
        Ok((Table { headers, index }, Rows { reader, record: csv::ByteRecord::new() }))
    }

    /// The trimmed, non-empty cell of `row` under `name`.
    pub fn get<'r>(&self, row: &'r Row, name: &str) -> Option<&'r str> {
        let i = *self.index.get(name)?;
        let c = row.cells.get(i)?.trim();
        (!c.is_empty()).then_some(c)
    }

    /// The row as a JSON object of header to cell, empty cells left out, in column order.
    pub fn raw(&self, row: &Row) -> String {
        let mut m = serde_json::Map::new();
        for (i, c) in row.cells.iter().enumerate() {
            if c.trim().is_empty() {
                continue;
            }
            let key = self.headers.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
            let key = if key.is_empty() { format!("column {}", i + 1) } else { key };
            m.insert(key, serde_json::Value::String(c.clone()));
        }
        serde_json::Value::Object(m).to_string()
    }
}
