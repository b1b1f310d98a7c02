//! A CSV file as a header and rows, with header names normalised (whitespace collapsed: VROD's
//! headers contain newlines, `"Issuance \nYear"`) and cells trimmed.

use std::collections::BTreeMap;

pub(crate) struct Table {
    pub headers: Vec<String>,
    index: BTreeMap<String, usize>,
    pub rows: Vec<Row>,
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

impl Table {
    pub fn read(bytes: &[u8]) -> Result<Table, String> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut records = reader.byte_records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(format!("unreadable header: {e}")),
            None => return Err("empty file".to_string()),
        };
        let headers: Vec<String> = header.iter().map(|h| normalise_header(&String::from_utf8_lossy(h))).collect();
        let mut index = BTreeMap::new();
        for (i, h) in headers.iter().enumerate() {
            index.entry(h.clone()).or_insert(i);
        }
        let mut rows = Vec::new();
        for rec in records {
            let rec = rec.map_err(|e| format!("unreadable CSV: {e}"))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let mut lossy = false;
            let cells = rec
                .iter()
                .map(|c| match std::str::from_utf8(c) {
                    Ok(s) => s.to_string(),
                    Err(_) => {
                        lossy = true;
                        String::from_utf8_lossy(c).into_owned()
                    }
                })
                .collect();
            rows.push(Row { line, cells, lossy });
        }
        Ok(Table { headers, index, rows })
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
