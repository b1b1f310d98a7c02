//! Furrow's quantification engines (issue #6, SPEC §4): pure, deterministic functions of
//! (inputs, parameter tables, GWP set) in decimal arithmetic, rounded once, down, at issuance.
//!
//! - [`drainage`]: extended mid-season drainage in paddy rice (J-Credit AG-005 reconstruction).
//! - [`rice`]: rice water management, IPCC 2019 Tier 1.
//! - [`biochar`]: biochar application (IPCC 2019 Appendix 4 / AG-004).
//! - [`soc`]: soil organic carbon, IPCC Tier 1 stock change, with a buffer.
//! - [`naro`]: NARO's national rice CH4 regression, a Japan Tier 2 cross-check of [`drainage`].
//!
//! Every engine returns an [`Outcome`]: the numbers, every intermediate [`Step`] (name, value,
//! unit, formula or table source) and the [`Caveat`]s of any parameter that is not verified.
//! Parameter tables are data files (`tables/*.psv`, see [`table`]), embedded and parsed once.
//! Inputs outside an engine's schema are refused with a [`QuantifyError`] naming the field.

pub mod biochar;
pub mod drainage;
pub mod math;
pub mod naro;
pub mod rice;
pub mod soc;
pub mod table;

use rust_decimal::Decimal;

pub use table::{Status, Table, Tables, tables};

/// Why an engine refused to compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantifyError {
    /// A value is outside the engine's schema.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A code that the parameter tables do not know.
    #[error("{field}: unknown value {value:?}; expected one of: {expected}")]
    Unknown { field: String, value: String, expected: String },
    /// An embedded parameter table is malformed (a build defect, caught by the tests).
    #[error("parameter table {table}, line {line}: {message}")]
    Table { table: String, line: usize, message: String },
    /// A parameter the engine needs is not in its table.
    #[error("parameter {key} is missing from table {table}")]
    MissingParameter { table: String, key: String },
    /// Arithmetic overflow (cannot happen within the schema's bounds; reported, never a panic).
    #[error("the calculation overflows at {step}")]
    Overflow { step: String },
}

impl QuantifyError {
    /// The input field an error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            QuantifyError::Invalid { field, .. } | QuantifyError::Unknown { field, .. } => Some(field),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, QuantifyError>;

/// One intermediate value of a calculation, for a farmer or an auditor to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub value: Decimal,
    pub unit: String,
    /// The formula with its operands, or the table, key and source a parameter came from.
    pub source: String,
    /// For a parameter taken from a table: how far it is verified.
    pub status: Option<Status>,
}

/// A parameter used in a calculation that is not verified against a primary source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Caveat {
    pub table: String,
    pub key: String,
    pub status: Status,
    pub source: String,
}

/// An item (field, season, lot) the engine did not credit, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub item: String,
    pub reason: String,
}

/// An engine's result. All amounts in t CO2e; full precision except `credits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub engine: &'static str,
    pub engine_version: &'static str,
    /// `(table name, table version)` of every table used.
    pub tables: Vec<(String, String)>,
    /// GWP set id, if the engine converts gas masses.
    pub gwp: Option<String>,
    /// Gross reductions or removals before deductions.
    pub gross: Decimal,
    /// Uncertainty deduction.
    pub uncertainty: Decimal,
    /// Project emissions and other deductions (leakage, N2O increase).
    pub project_emissions: Decimal,
    /// `gross − uncertainty − project_emissions` (may be negative: a net emission or a reversal).
    pub net: Decimal,
    /// Withheld for non-permanence (reversible carbon only).
    pub buffer: Decimal,
    /// `net − buffer`.
    pub issuable: Decimal,
    /// `floor(max(issuable, 0))`: the single rounding, at issuance.
    pub credits: Decimal,
    pub steps: Vec<Step>,
    pub caveats: Vec<Caveat>,
    pub excluded: Vec<Exclusion>,
}

impl Outcome {
    /// True when every parameter used is verified.
    pub fn fully_verified(&self) -> bool {
        self.caveats.is_empty()
    }
}

/// Collects steps, caveats and tables while an engine runs.
#[derive(Default)]
pub(crate) struct Trace {
    steps: Vec<Step>,
    caveats: Vec<Caveat>,
    tables: Vec<(String, String)>,
    excluded: Vec<Exclusion>,
}

impl Trace {
    fn use_table(&mut self, table: &Table) {
        let id = (table.name.clone(), table.version.clone());
        if !self.tables.contains(&id) {
            self.tables.push(id);
        }
    }

    fn record_param(&mut self, table: &Table, key: &str, label: &str, param: &table::Param, value: Decimal) {
        self.use_table(table);
        if param.status != Status::Verified {
            let c = Caveat {
                table: table.name.clone(),
                key: key.into(),
                status: param.status,
                source: param.source.clone(),
            };
            if !self.caveats.contains(&c) {
                self.caveats.push(c);
            }
        }
        self.steps.push(Step {
            name: label.into(),
            value,
            unit: param.unit.clone(),
            source: format!("{} {} [{}]: {}", table.name, table.version, key, param.source),
            status: Some(param.status),
        });
    }

    /// A numeric parameter; `field`/`value` name the input that selected it, for the error.
    pub(crate) fn param(&mut self, table: &Table, key: &str, label: &str) -> Result<Decimal> {
        let param = table
            .get(key)
            .ok_or_else(|| QuantifyError::MissingParameter { table: table.name.clone(), key: key.into() })?;
        let table::Value::Number(v) = param.value else {
            return Err(QuantifyError::Table {
                table: table.name.clone(),
                line: 0,
                message: format!("{key} is not a number"),
            });
        };
        self.record_param(table, key, label, param, v);
        Ok(v)
    }

    /// A classification word (e.g. a prefecture's region); recorded as a caveat if unverified.
    pub(crate) fn word(&mut self, table: &Table, key: &str) -> Result<String> {
        let param = table
            .get(key)
            .ok_or_else(|| QuantifyError::MissingParameter { table: table.name.clone(), key: key.into() })?;
        let table::Value::Word(w) = &param.value else {
            return Err(QuantifyError::Table {
                table: table.name.clone(),
                line: 0,
                message: format!("{key} is not a word"),
            });
        };
        self.use_table(table);
        if param.status != Status::Verified {
            let c = Caveat {
                table: table.name.clone(),
                key: key.into(),
                status: param.status,
                source: param.source.clone(),
            };
            if !self.caveats.contains(&c) {
                self.caveats.push(c);
            }
        }
        Ok(w.clone())
    }

    /// A computed value.
    pub(crate) fn step(
        &mut self,
        name: impl Into<String>,
        value: Decimal,
        unit: &str,
        formula: impl Into<String>,
    ) -> Decimal {
        self.steps.push(Step { name: name.into(), value, unit: unit.into(), source: formula.into(), status: None });
        value
    }

    /// A classification or note without a numeric value of its own (value 0, unit "").
    pub(crate) fn note(&mut self, name: impl Into<String>, text: impl Into<String>) {
        self.steps.push(Step {
            name: name.into(),
            value: Decimal::ZERO,
            unit: String::new(),
            source: text.into(),
            status: None,
        });
    }

    pub(crate) fn exclude(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        let (item, reason) = (item.into(), reason.into());
        self.note(format!("{item}: not credited"), reason.clone());
        self.excluded.push(Exclusion { item, reason });
    }

    pub(crate) fn finish(
        mut self,
        head: Head,
        gross: Decimal,
        uncertainty: Decimal,
        project_emissions: Decimal,
        buffer: Decimal,
    ) -> Outcome {
        let net = gross - uncertainty - project_emissions;
        let issuable = net - buffer;
        let credits = issuable.max(Decimal::ZERO).floor();
        self.step("net", net, "t CO2e", "gross − uncertainty − project emissions");
        self.step("issuable", issuable, "t CO2e", "net − buffer");
        self.step("credits", credits, "credits", "floor(max(issuable, 0)); 1 credit = 1 t CO2e");
        self.caveats.sort();
        Outcome {
            engine: head.engine,
            engine_version: head.version,
            tables: self.tables,
            gwp: head.gwp,
            gross,
            uncertainty,
            project_emissions,
            net,
            buffer,
            issuable,
            credits,
            steps: self.steps,
            caveats: self.caveats,
            excluded: self.excluded,
        }
    }
}

pub(crate) struct Head {
    pub engine: &'static str,
    pub version: &'static str,
    pub gwp: Option<String>,
}

/// Which gas a GWP applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gas {
    Ch4,
    N2o,
}

/// Looks up a GWP from the `gwp` table; `field` names the input that chose the set.
pub(crate) fn gwp(trace: &mut Trace, tables: &Tables, set: &str, gas: Gas, field: &str) -> Result<Decimal> {
    let gas_key = match gas {
        Gas::Ch4 => "CH4",
        Gas::N2o => "N2O",
    };
    let key = format!("{set}.{gas_key}");
    if tables.gwp.get(&key).is_none() {
        let mut sets: Vec<String> =
            tables.gwp.params.keys().filter_map(|k| k.split_once('.').map(|(s, _)| s.to_string())).collect();
        sets.dedup();
        return Err(QuantifyError::Unknown { field: field.into(), value: set.into(), expected: sets.join(", ") });
    }
    trace.param(&tables.gwp, &key, &format!("GWP {gas_key} ({set})"))
}

/// Refuses a value outside `[min, max]`, naming the field.
pub(crate) fn check_range(field: &str, value: Decimal, min: Decimal, max: Decimal, unit: &str) -> Result<()> {
    if value < min || value > max {
        return Err(QuantifyError::Invalid {
            field: field.into(),
            reason: format!("{value} {unit} is outside [{min}, {max}]"),
        });
    }
    Ok(())
}

/// A code looked up in a table: `prefix.code[.suffix]` must exist.
pub(crate) fn check_code(table: &Table, prefix: &str, suffix: &str, field: &str, code: &str) -> Result<()> {
    let key = if suffix.is_empty() { format!("{prefix}.{code}") } else { format!("{prefix}.{code}.{suffix}") };
    if table.get(&key).is_some() {
        return Ok(());
    }
    Err(QuantifyError::Unknown {
        field: field.into(),
        value: code.into(),
        expected: table.choices(prefix, suffix).join(", "),
    })
}

pub(crate) fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// 44/12: t C → t CO2.
pub(crate) fn c_to_co2(c: Decimal) -> Decimal {
    c * dec(44) / dec(12)
}

pub(crate) fn percent_field(field: &str, value: Decimal) -> Result<Decimal> {
    check_range(field, value, Decimal::ZERO, Decimal::ONE_HUNDRED, "%")?;
    Ok(value / Decimal::ONE_HUNDRED)
}

#[cfg(test)]
pub(crate) mod testutil {
    use rust_decimal::Decimal;
    use rust_decimal::RoundingStrategy;

    pub fn d(s: &str) -> Decimal {
        s.parse().expect("decimal literal")
    }

    /// The engine version names every table version the outcome used.
    #[track_caller]
    pub fn assert_versions(o: &crate::Outcome) {
        assert!(!o.tables.is_empty());
        for (name, version) in &o.tables {
            let tag = format!("{name}@{version}");
            assert!(o.engine_version.split(' ').any(|w| w == tag), "{} does not name {tag}", o.engine_version);
        }
    }

    /// `value` rounded half away from zero to the number of decimals `expected` is written with.
    #[track_caller]
    pub fn assert_rounds_to(value: Decimal, expected: &str) {
        let e = d(expected);
        let got = value.round_dp_with_strategy(e.scale(), RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(got, e, "{value} does not round to {expected}");
    }
}
