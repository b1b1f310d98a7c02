//! Parameter tables: versioned data files embedded in the binary and parsed once.
//!
//! Format (`tables/*.psv`, "pipe-separated values"): one parameter per line,
//! `key | value | unit | status | source`. `#` starts a comment line; `@table NAME` and
//! `@version VERSION` name the table. A value is a decimal number or, for a classification
//! (e.g. a prefecture's region), a word. `status` is the research note's tag: `V` verified, `S` one
//! secondary source, `U` unverified. Keys are unique.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use rust_decimal::Decimal;

use crate::QuantifyError;

/// How far a value has been checked (the research note's tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Checked against a primary source or two independent sources that agree.
    Verified,
    /// One secondary or third-party source only.
    Secondary,
    /// Not verified: memory or inference.
    Unverified,
}

impl Status {
    pub fn tag(self) -> &'static str {
        match self {
            Status::Verified => "V",
            Status::Secondary => "S",
            Status::Unverified => "U",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Verified => "verified",
            Status::Secondary => "single secondary source, not verified",
            Status::Unverified => "unverified",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Number(Decimal),
    Word(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub value: Value,
    pub unit: String,
    pub status: Status,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub version: String,
    pub params: BTreeMap<String, Param>,
}

impl Table {
    /// Parses one table file. `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Table, QuantifyError> {
        let err = |line: usize, message: String| QuantifyError::Table { table: file.into(), line, message };
        let (mut name, mut version, mut params) = (None, None, BTreeMap::new());
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("@table ") {
                name = Some(rest.trim().to_string());
                continue;
            }
            if let Some(rest) = line.strip_prefix("@version ") {
                version = Some(rest.trim().to_string());
                continue;
            }
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let [key, value, unit, status, source] = cols[..] else {
                return Err(err(line_no, format!("expected 5 columns separated by '|', found {}", cols.len())));
            };
            if key.is_empty() {
                return Err(err(line_no, "empty key".into()));
            }
            let value = if value.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
                Value::Number(value.parse().map_err(|e| err(line_no, format!("{key}: bad number {value:?}: {e}")))?)
            } else if value.is_empty() {
                return Err(err(line_no, format!("{key}: empty value")));
            } else {
                Value::Word(value.to_string())
            };
            let status = match status {
                "V" => Status::Verified,
                "S" => Status::Secondary,
                "U" => Status::Unverified,
                other => return Err(err(line_no, format!("{key}: status {other:?} is not V, S or U"))),
            };
            if source.is_empty() {
                return Err(err(line_no, format!("{key}: every value needs a source")));
            }
            let param = Param { value, unit: unit.to_string(), status, source: source.to_string() };
            if params.insert(key.to_string(), param).is_some() {
                return Err(err(line_no, format!("duplicate key {key}")));
            }
        }
        Ok(Table {
            name: name.ok_or_else(|| err(0, "missing @table line".into()))?,
            version: version.ok_or_else(|| err(0, "missing @version line".into()))?,
            params,
        })
    }

    pub fn get(&self, key: &str) -> Option<&Param> {
        self.params.get(key)
    }

    /// The keys under `prefix.` with the prefix removed, first segment only (for "expected one of").
    pub fn choices(&self, prefix: &str, suffix: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .params
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.strip_prefix('.'))
            .filter_map(|rest| {
                if suffix.is_empty() {
                    Some(rest.to_string())
                } else {
                    rest.strip_suffix(suffix)?.strip_suffix('.').map(str::to_string)
                }
            })
            .collect();
        out.dedup();
        out
    }
}

/// Every table this build embeds.
pub struct Tables {
    pub gwp: Table,
    pub ag005: Table,
    pub rice: Table,
    pub biochar: Table,
    pub soc: Table,
    pub naro: Table,
}

pub const FILES: &[(&str, &str)] = &[
    ("gwp.psv", include_str!("../tables/gwp.psv")),
    ("ag005.psv", include_str!("../tables/ag005.psv")),
    ("ipcc2019_rice.psv", include_str!("../tables/ipcc2019_rice.psv")),
    ("biochar.psv", include_str!("../tables/biochar.psv")),
    ("soc_ipcc2006.psv", include_str!("../tables/soc_ipcc2006.psv")),
    ("naro_ch4.psv", include_str!("../tables/naro_ch4.psv")),
];

fn load() -> Result<Tables, QuantifyError> {
    let mut parsed = Vec::with_capacity(FILES.len());
    for (file, text) in FILES {
        parsed.push(Table::parse(file, text)?);
    }
    let mut it = parsed.into_iter();
    let mut next =
        || it.next().ok_or_else(|| QuantifyError::Table { table: "?".into(), line: 0, message: "missing".into() });
    Ok(Tables { gwp: next()?, ag005: next()?, rice: next()?, biochar: next()?, soc: next()?, naro: next()? })
}

/// The embedded tables, parsed on first use.
pub fn tables() -> Result<&'static Tables, QuantifyError> {
    static TABLES: OnceLock<Result<Tables, QuantifyError>> = OnceLock::new();
    TABLES.get_or_init(load).as_ref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_table_parses() {
        let t = tables().expect("tables parse");
        for table in [&t.gwp, &t.ag005, &t.rice, &t.biochar, &t.soc, &t.naro] {
            assert!(!table.params.is_empty(), "{} is empty", table.name);
        }
    }

    #[test]
    fn malformed_tables_are_refused_with_the_line() {
        let e = Table::parse("x", "@table x\n@version 1\na | 1 | t | V\n").expect_err("4 columns");
        assert!(matches!(e, QuantifyError::Table { line: 3, .. }), "{e}");
        let e = Table::parse("x", "@table x\n@version 1\na | 1 | t | Q | src\n").expect_err("bad status");
        assert!(e.to_string().contains("status"), "{e}");
        let e = Table::parse("x", "@table x\n@version 1\na | 1 | t | V | s\na | 2 | t | V | s\n").expect_err("dup");
        assert!(e.to_string().contains("duplicate"), "{e}");
        let e = Table::parse("x", "@table x\n@version 1\na | 1x | t | V | s\n").expect_err("number");
        assert!(e.to_string().contains("bad number"), "{e}");
    }
}

#[cfg(test)]
mod consistency {
    use super::*;

    #[test]
    fn every_code_has_every_row_the_engines_look_up() {
        let t = tables().expect("tables");
        for regime in t.rice.choices("sfw", "") {
            assert!(t.rice.get(&format!("n2o_class.{regime}")).is_some(), "n2o_class.{regime}");
        }
        let regions: Vec<String> = (1..=47)
            .map(|n| match t.ag005.get(&format!("pref.JP-{n:02}.region")).map(|p| &p.value) {
                Some(Value::Word(w)) => w.clone(),
                other => panic!("JP-{n:02}: {other:?}"),
            })
            .collect();
        for n in 1..=47 {
            assert!(t.ag005.get(&format!("pref.JP-{n:02}.straw")).is_some(), "straw JP-{n:02}");
        }
        for region in &regions {
            for class in ["poor", "daily", "good"] {
                for om in ["straw", "compost", "none"] {
                    assert!(t.ag005.get(&format!("ef.{region}.{class}.{om}")).is_some(), "{region} {class} {om}");
                }
            }
            assert!(t.naro.get(&format!("intermittent.{region}.a")).is_some(), "naro {region}");
        }
        for feedstock in t.biochar.choices("fc", "pyrolysis") {
            assert!(t.biochar.get(&format!("fc.{feedstock}.gasification")).is_some(), "{feedstock}");
        }
        for climate in t.soc.choices("climate", "") {
            let Some(Value::Word(col)) = t.soc.get(&format!("climate.{climate}")).map(|p| &p.value) else {
                panic!("{climate}")
            };
            assert!(t.soc.get(&format!("flu.{col}.long_term_cultivated")).is_some(), "{col}");
        }
    }
}
