//! Wire shapes of the program lifecycle, and their conversion to and from domain values. Decimals
//! travel as strings (`"4.2"`), never JSON floats, so no value is rounded on the way. Personal data
//! (`person`, `farm`, a parcel's `name` and `geometry`) is present only for staff and for the
//! participant it is about.

use std::collections::BTreeMap;

use furrow_domain::lifecycle::*;
use furrow_domain::{Date, Decimal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::rfc3339;
use crate::error::ApiError;

pub fn decimal(what: &str, s: &str) -> Result<Decimal, ApiError> {
    s.parse::<Decimal>().map_err(|_| ApiError::invalid(format!("{what}: {s:?} is not a decimal number")))
}

fn date(s: &str) -> Result<Date, ApiError> {
    s.parse().map_err(ApiError::from)
}

// ------------------------------------------------------------------ shared

/// Pagination and filters of the lifecycle lists. Each list accepts the filters its description
/// names; any other is refused (400 `invalid-query`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1-500, default 100.
    pub limit: Option<u32>,
    /// Only objects of this project, e.g. `P0001` (applications, enrolments, reports, reversals).
    pub project: Option<String>,
    /// Only objects in this state, e.g. `active`, `verified`, `pending` (every list but
    /// participants, parcels and reversals).
    pub status: Option<String>,
    /// Only objects of this participant, e.g. `F000001` (parcels, enrolments).
    pub participant: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodDto {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD` (inclusive).
    pub to: String,
}

impl PeriodDto {
    pub fn parse(&self) -> Result<Period, ApiError> {
        Ok(Period { from: date(&self.from)?, to: date(&self.to)? })
    }
    pub fn of(p: Period) -> Self {
        Self { from: p.from.to_string(), to: p.to.to_string() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionDto {
    pub status: String,
    pub by: String,
    pub at: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

pub fn history(steps: &[Transition]) -> Vec<TransitionDto> {
    steps
        .iter()
        .map(|t| TransitionDto { status: t.to.clone(), by: t.by.clone(), at: rfc3339(t.at), reason: t.reason.clone() })
        .collect()
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonDto {
    pub name: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub address: String,
}

impl PersonDto {
    pub fn into_domain(self) -> Person {
        Person { name: self.name, contact: self.contact, address: self.address }
    }
    pub fn of(p: &Person) -> Self {
        Self { name: p.name.clone(), contact: p.contact.clone(), address: p.address.clone() }
    }
}

/// What a mutation did: the log entries it appended, and the object it created or changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionDto {
    /// `kind` and `index` of each log entry, in order.
    pub entries: Vec<EntryRefDto>,
    /// The id of the object the command created or changed (e.g. `P0001`, `I000002`).
    pub id: String,
    /// Its state afterwards, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The batch an approved issuance created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The cancellation that compensated a reversal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryRefDto {
    pub index: u64,
    pub kind: String,
}

// ------------------------------------------------------------------ methodologies

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSpecDto {
    pub name: String,
    /// `number`, `integer` or `flag`.
    pub kind: String,
    #[serde(default)]
    pub unit: String,
    pub min: Option<String>,
    pub max: Option<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeductionsDto {
    /// Percent, e.g. `"10"`.
    pub uncertainty: String,
    pub leakage: String,
    pub buffer: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParametersDto {
    pub version: String,
    /// Parameter name to decimal value, e.g. `{"per_ha": "4.2"}`.
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodologyRequest {
    /// E.g. `AG-005`.
    pub code: String,
    /// E.g. `v1.0`.
    pub version: String,
    pub title: String,
    /// The quantification engine, e.g. `linear-factor`.
    pub engine: String,
    pub parameters: ParametersDto,
    /// The monitoring-input schema: per-parcel activity data is validated against it.
    pub schema: Vec<FieldSpecDto>,
    pub deductions: DeductionsDto,
    /// GWP set, e.g. `AR5`.
    pub gwp: String,
    /// Ecological indicators every report must measure.
    #[serde(default)]
    pub indicators: Vec<String>,
}

impl MethodologyRequest {
    pub fn into_domain(self) -> Result<MethodologySpec, ApiError> {
        let values = self
            .parameters
            .values
            .iter()
            .map(|(name, v)| Ok((name.clone(), decimal(name, v)?)))
            .collect::<Result<_, ApiError>>()?;
        let schema = self.schema.iter().map(FieldSpecDto::parse).collect::<Result<_, _>>()?;
        let d = &self.deductions;
        Ok(MethodologySpec {
            code: self.code,
            version: self.version,
            title: self.title,
            engine: self.engine,
            parameters: ParameterTable { version: self.parameters.version, values },
            schema,
            deductions: Deductions {
                uncertainty: decimal("uncertainty", &d.uncertainty)?,
                leakage: decimal("leakage", &d.leakage)?,
                buffer: decimal("buffer", &d.buffer)?,
            },
            gwp: self.gwp,
            indicators: self.indicators,
        })
    }
}

impl FieldSpecDto {
    fn parse(&self) -> Result<FieldSpec, ApiError> {
        let bound = |b: &Option<String>| b.as_deref().map(|v| decimal(&self.name, v)).transpose();
        Ok(FieldSpec {
            name: self.name.clone(),
            kind: self.kind.parse().map_err(ApiError::from)?,
            unit: self.unit.clone(),
            min: bound(&self.min)?,
            max: bound(&self.max)?,
            required: self.required,
        })
    }
    fn of(f: &FieldSpec) -> Self {
        Self {
            name: f.name.clone(),
            kind: f.kind.to_string(),
            unit: f.unit.clone(),
            min: f.min.map(|v| v.to_string()),
            max: f.max.map(|v| v.to_string()),
            required: f.required,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MethodologyDto {
    pub id: String,
    pub code: String,
    pub version: String,
    pub title: String,
    pub engine: String,
    pub parameters: ParametersDto,
    pub schema: Vec<FieldSpecDto>,
    pub deductions: DeductionsDto,
    pub gwp: String,
    pub indicators: Vec<String>,
    /// `draft`, `approved` or `deprecated`.
    pub status: String,
    pub history: Vec<TransitionDto>,
}

impl MethodologyDto {
    pub fn of(m: &Methodology) -> Self {
        let s = &m.spec;
        Self {
            id: m.id.to_string(),
            code: s.code.clone(),
            version: s.version.clone(),
            title: s.title.clone(),
            engine: s.engine.clone(),
            parameters: ParametersDto {
                version: s.parameters.version.clone(),
                values: s.parameters.values.iter().map(|(n, v)| (n.clone(), v.to_string())).collect(),
            },
            schema: s.schema.iter().map(FieldSpecDto::of).collect(),
            deductions: DeductionsDto {
                uncertainty: s.deductions.uncertainty.to_string(),
                leakage: s.deductions.leakage.to_string(),
                buffer: s.deductions.buffer.to_string(),
            },
            gwp: s.gwp.clone(),
            indicators: s.indicators.clone(),
            status: m.status.to_string(),
            history: history(&m.history),
        }
    }
}

// ------------------------------------------------------------------ projects

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRequest {
    pub name: String,
    /// Methodology id, e.g. `M0001`; it must be approved.
    pub methodology: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Region or prefecture, e.g. `JP-15`.
    pub region: String,
    pub crediting_period: PeriodDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// `submit`, `validate` (verifier), `reject`, `register`, `complete` or `terminate`.
    #[schema(pattern = "^(submit|validate|reject|register|complete|terminate)$")]
    pub action: String,
    /// Required for `reject` and `terminate`.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifierRequest {
    /// The verifier's subject (its token's or user's name), e.g. `Japan Quality Assurance`.
    pub verifier: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipationDto {
    /// Applications are taken from this day.
    pub opens: String,
    /// Participation starts on this day.
    pub starts: String,
    #[serde(default)]
    pub conditions: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipationRequest {
    /// `true` to open the project for participation (with `participation`), `false` to close it.
    pub open: bool,
    pub participation: Option<ParticipationDto>,
}

impl ParticipationRequest {
    pub fn into_domain(self) -> Result<Option<Participation>, ApiError> {
        match (self.open, self.participation) {
            (false, None) => Ok(None),
            (true, Some(p)) => {
                Ok(Some(Participation { opens: date(&p.opens)?, starts: date(&p.starts)?, conditions: p.conditions }))
            }
            _ => Err(ApiError::invalid("give `participation` exactly when `open` is true")),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectDto {
    pub code: String,
    pub name: String,
    pub methodology: String,
    pub country: String,
    pub region: String,
    pub crediting_period: PeriodDto,
    /// `draft`, `submitted`, `validated`, `registered`, `completed`, `rejected` or `terminated`.
    pub status: String,
    /// Present while the project takes applications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participation: Option<ParticipationDto>,
    /// The validation/verification body assigned to the project: the only verifier who validates
    /// it and verifies its reports. Public, as registries publish their VVBs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    pub history: Vec<TransitionDto>,
}

impl ProjectDto {
    pub fn of(p: &Project) -> Self {
        Self {
            code: p.code.to_string(),
            name: p.spec.name.clone(),
            methodology: p.spec.methodology.to_string(),
            country: p.spec.country.to_string(),
            region: p.spec.region.clone(),
            crediting_period: PeriodDto::of(p.spec.crediting),
            status: p.status.to_string(),
            participation: p.participation.as_ref().map(|x| ParticipationDto {
                opens: x.opens.to_string(),
                starts: x.starts.to_string(),
                conditions: x.conditions.clone(),
            }),
            verifier: p.verifier.clone(),
            history: history(&p.history),
        }
    }
}

// ------------------------------------------------------------------ participants and parcels

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantRequest {
    pub person: PersonDto,
    pub prefecture: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantDto {
    pub id: String,
    /// The public name.
    pub pseudonym: String,
    pub account: String,
    pub prefecture: String,
    /// Personal data: staff and the participant itself only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonDto>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParcelInputDto {
    /// The farmer's name for the field (personal data).
    #[serde(default)]
    pub name: String,
    /// Hectares, as a decimal string.
    pub area_ha: String,
    pub prefecture: String,
    pub municipality: String,
    /// A GeoJSON `Polygon` geometry in WGS84 longitude/latitude (personal data).
    #[schema(value_type = Object)]
    pub geometry: serde_json::Value,
}

impl ParcelInputDto {
    pub fn to_domain(&self) -> Result<ParcelDraft, ApiError> {
        Ok(ParcelDraft {
            area_ha: decimal("area_ha", &self.area_ha)?,
            prefecture: self.prefecture.clone(),
            municipality: self.municipality.clone(),
            private: ParcelPrivate { name: self.name.clone(), geometry: polygon(&self.geometry)? },
        })
    }
    pub fn of(d: &ParcelDraft) -> Self {
        Self {
            name: d.private.name.clone(),
            area_ha: d.area_ha.to_string(),
            prefecture: d.prefecture.clone(),
            municipality: d.municipality.clone(),
            geometry: geojson(&d.private.geometry),
        }
    }
}

/// Reads a GeoJSON `Polygon` geometry (RFC 7946) with the `geojson` crate.
pub fn polygon(value: &serde_json::Value) -> Result<Polygon, ApiError> {
    let invalid = |why: String| ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "invalid-geometry", why);
    let geometry: geojson::Geometry = serde_json::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?;
    let geojson::GeometryValue::Polygon { coordinates: rings } = geometry.value else {
        return Err(invalid("the geometry must be a GeoJSON Polygon".into()));
    };
    let ring = |positions: &Vec<geojson::Position>| -> Result<Vec<(f64, f64)>, ApiError> {
        positions
            .iter()
            .map(|p| match p.as_slice() {
                [lon, lat] | [lon, lat, _] => Ok((*lon, *lat)),
                _ => Err(invalid("a position is [longitude, latitude]".into())),
            })
            .collect()
    };
    let mut rings = rings.iter();
    let exterior = ring(rings.next().ok_or_else(|| invalid("a polygon needs an exterior ring".into()))?)?;
    let holes = rings.map(ring).collect::<Result<_, _>>()?;
    Ok(Polygon { exterior, holes })
}

pub fn geojson(p: &Polygon) -> serde_json::Value {
    let ring = |r: &Vec<(f64, f64)>| r.iter().map(|(x, y)| serde_json::json!([x, y])).collect::<Vec<_>>();
    let rings: Vec<_> = std::iter::once(&p.exterior).chain(&p.holes).map(ring).collect();
    serde_json::json!({"type": "Polygon", "coordinates": rings})
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParcelDto {
    pub id: String,
    pub participant: String,
    pub area_ha: String,
    pub prefecture: String,
    pub municipality: String,
    /// The generalised location the public sees: a 0.1° cell, e.g. `37.9N 139.0E`.
    pub grid_cell: String,
    /// Personal data: staff and the owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Personal data (GeoJSON Polygon): staff and the owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub geometry: Option<serde_json::Value>,
}

impl ParcelDto {
    pub fn of(p: &Parcel, personal: bool) -> Self {
        let private = p.private.data().filter(|_| personal);
        Self {
            id: p.id.to_string(),
            participant: p.participant.to_string(),
            area_ha: p.area_ha.to_string(),
            prefecture: p.prefecture.clone(),
            municipality: p.municipality.clone(),
            grid_cell: p.cell.to_string(),
            name: private.map(|d| d.name.clone()),
            geometry: private.map(|d| geojson(&d.geometry)),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    pub project: String,
    pub parcel: String,
    pub contract_period: PeriodDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalDto {
    pub ground: String,
    /// The participant's explanation (personal data): staff and the participant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub requested_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// From this day on the participant earns nothing more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolmentDto {
    pub id: String,
    pub project: String,
    pub parcel: String,
    pub participant: String,
    pub contract_period: PeriodDto,
    /// `active`, `withdrawal_requested` or `withdrawn`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal: Option<WithdrawalDto>,
    pub history: Vec<TransitionDto>,
}

impl EnrolmentDto {
    pub fn of(e: &Enrolment, personal: bool) -> Self {
        Self {
            id: e.id.to_string(),
            project: e.project.to_string(),
            parcel: e.parcel.to_string(),
            participant: e.participant.to_string(),
            contract_period: PeriodDto::of(e.period),
            status: e.status.to_string(),
            withdrawal: e.withdrawal.as_ref().map(|w| WithdrawalDto {
                ground: w.ground.clone(),
                note: w.note.data().filter(|_| personal).cloned(),
                requested_by: w.requested_by.clone(),
                decided_by: w.decided_by.clone(),
                effective: w.effective.map(|d| d.to_string()),
            }),
            history: history(&e.history),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// One of the program's recognised grounds (`GET /withdrawal-grounds`).
    pub ground: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalDecisionRequest {
    pub approve: bool,
    /// Required when approving: the day the withdrawal takes effect.
    pub effective: Option<String>,
    /// Required when refusing.
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroundsDto {
    pub grounds: Vec<String>,
}

// ------------------------------------------------------------------ applications

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// The applicant's participant id, when it has an account already.
    pub applicant: Option<String>,
    pub farm: PersonDto,
    pub parcels: Vec<ParcelInputDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub contract_period: PeriodDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDto {
    pub id: String,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<String>,
    pub parcels: u32,
    pub area_ha: String,
    pub prefecture: String,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    /// The participant created or named on acceptance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    pub history: Vec<TransitionDto>,
    /// Personal data: staff and the applicant only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub farm: Option<PersonDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parcel_details: Option<Vec<ParcelInputDto>>,
}

impl ApplicationDto {
    pub fn of(a: &Application, personal: bool) -> Self {
        let private = a.private.data().filter(|_| personal);
        Self {
            id: a.id.to_string(),
            project: a.project.to_string(),
            applicant: a.applicant.map(|p| p.to_string()),
            parcels: a.parcels,
            area_ha: a.area_ha.to_string(),
            prefecture: a.prefecture.clone(),
            status: a.status.to_string(),
            participant: a.participant.map(|p| p.to_string()),
            history: history(&a.history),
            farm: private.map(|p| PersonDto::of(&p.farm)),
            parcel_details: private.map(|p| p.parcels.iter().map(ParcelInputDto::of).collect()),
        }
    }
}

// ------------------------------------------------------------------ reports

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityDto {
    pub parcel: String,
    /// Field name to value: a decimal string or number, or a boolean for a flag.
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceDto {
    pub name: String,
    /// SHA-256 of the file, 64 hex digits.
    pub sha256: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDto {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub unit: String,
    /// The parcel measured (e.g. `L000001`); absent for a project-wide value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel: Option<String>,
    /// SHA-256 of the evidence (survey sheet, lab report), 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_sha256: Option<String>,
}

impl IndicatorDto {
    fn parse(&self) -> Result<IndicatorValue, ApiError> {
        let evidence = match &self.evidence_sha256 {
            None => None,
            Some(hex) => {
                let mut sha256 = [0u8; 32];
                hex::decode_to_slice(hex, &mut sha256).map_err(|_| {
                    ApiError::invalid(format!("indicator {:?}: evidence_sha256 must be 64 hex digits", self.name))
                })?;
                Some(sha256)
            }
        };
        Ok(IndicatorValue {
            name: self.name.clone(),
            value: decimal(&self.name, &self.value)?,
            unit: self.unit.clone(),
            parcel: self.parcel.as_deref().map(str::parse).transpose().map_err(ApiError::from)?,
            evidence,
        })
    }

    pub fn of(i: &IndicatorValue) -> Self {
        Self {
            name: i.name.clone(),
            value: i.value.to_string(),
            unit: i.unit.clone(),
            parcel: i.parcel.map(|p| p.to_string()),
            evidence_sha256: i.evidence.map(hex::encode),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub project: String,
    pub period: PeriodDto,
    pub activity: Vec<ActivityDto>,
    #[serde(default)]
    pub evidence: Vec<EvidenceDto>,
    #[serde(default)]
    pub indicators: Vec<IndicatorDto>,
}

impl ReportRequest {
    pub fn into_domain(self) -> Result<ReportSpec, ApiError> {
        Ok(ReportSpec {
            project: self.project.parse().map_err(ApiError::from)?,
            period: self.period.parse()?,
            activity: self.activity.iter().map(ActivityDto::parse).collect::<Result<_, _>>()?,
            evidence: self.evidence.iter().map(EvidenceDto::parse).collect::<Result<_, _>>()?,
            indicators: self.indicators.iter().map(IndicatorDto::parse).collect::<Result<_, ApiError>>()?,
        })
    }
}

impl ActivityDto {
    fn parse(&self) -> Result<ParcelActivity, ApiError> {
        let values = self
            .values
            .iter()
            .map(|(name, value)| {
                let parsed = match value {
                    serde_json::Value::Bool(b) => FieldValue::Flag(*b),
                    serde_json::Value::Number(n) => FieldValue::Number(decimal(name, &n.to_string())?),
                    serde_json::Value::String(s) => FieldValue::Number(decimal(name, s)?),
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "{name}: expected a number, a decimal string or a boolean"
                        )));
                    }
                };
                Ok((name.clone(), parsed))
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(ParcelActivity { parcel: self.parcel.parse().map_err(ApiError::from)?, values })
    }
    pub fn of(a: &ParcelActivity) -> Self {
        let values = a
            .values
            .iter()
            .map(|(name, v)| {
                let json = match v {
                    FieldValue::Number(d) => serde_json::Value::String(d.to_string()),
                    FieldValue::Flag(b) => serde_json::Value::Bool(*b),
                };
                (name.clone(), json)
            })
            .collect();
        Self { parcel: a.parcel.to_string(), values }
    }
}

impl EvidenceDto {
    fn parse(&self) -> Result<Evidence, ApiError> {
        let mut sha256 = [0u8; 32];
        hex::decode_to_slice(&self.sha256, &mut sha256)
            .map_err(|_| ApiError::invalid(format!("evidence {:?}: sha256 must be 64 hex digits", self.name)))?;
        Ok(Evidence { name: self.name.clone(), sha256 })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContributionDto {
    pub parcel: String,
    /// Net tCO2e the parcel contributed, after deductions.
    pub net: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuantificationDto {
    pub engine: String,
    pub engine_version: String,
    pub methodology: String,
    pub parameters_version: String,
    pub gwp: String,
    /// SHA-256 of the canonical inputs, hex.
    pub inputs_hash: String,
    pub gross: String,
    pub uncertainty: String,
    pub leakage: String,
    /// Emissions counted beside the reduction (rice N2O, biochar transport), deducted after
    /// uncertainty.
    pub project_emissions: String,
    pub net: String,
    pub contributions: Vec<ContributionDto>,
}

impl QuantificationDto {
    pub fn of(q: &Quantification) -> Self {
        Self {
            engine: q.engine.clone(),
            engine_version: q.engine_version.clone(),
            methodology: q.methodology.to_string(),
            parameters_version: q.parameters_version.clone(),
            gwp: q.gwp.clone(),
            inputs_hash: hex::encode(q.inputs_hash),
            gross: q.gross.to_string(),
            uncertainty: q.uncertainty.to_string(),
            leakage: q.leakage.to_string(),
            project_emissions: q.project_emissions.to_string(),
            net: q.net.to_string(),
            contributions: q
                .contributions
                .iter()
                .map(|(p, n)| ContributionDto { parcel: p.to_string(), net: n.to_string() })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDto {
    pub id: String,
    pub project: String,
    pub period: PeriodDto,
    pub activity: Vec<ActivityDto>,
    pub evidence: Vec<EvidenceDto>,
    pub indicators: Vec<IndicatorDto>,
    /// `draft`, `submitted`, `verified` or `returned`.
    pub status: String,
    pub history: Vec<TransitionDto>,
    /// Frozen on verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantification: Option<QuantificationDto>,
}

impl ReportDto {
    pub fn of(r: &Report) -> Self {
        Self {
            id: r.id.to_string(),
            project: r.spec.project.to_string(),
            period: PeriodDto::of(r.spec.period),
            activity: r.spec.activity.iter().map(ActivityDto::of).collect(),
            evidence: r
                .spec
                .evidence
                .iter()
                .map(|e| EvidenceDto { name: e.name.clone(), sha256: hex::encode(e.sha256) })
                .collect(),
            indicators: r.spec.indicators.iter().map(IndicatorDto::of).collect(),
            status: r.status.to_string(),
            history: history(&r.history),
            quantification: r.quantification.as_ref().map(QuantificationDto::of),
        }
    }
}

// ------------------------------------------------------------------ issuance, reversals, labels

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuanceRequestRequest {
    pub report: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuanceRequestDto {
    pub id: String,
    pub report: String,
    pub labels: Vec<String>,
    pub requested_by: String,
    pub requested_at: String,
    /// `pending` or `approved`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Credits issued to the holder, and to the buffer pool.
    pub quantity: u64,
    pub buffer: u64,
}

impl IssuanceRequestDto {
    pub fn of(r: &IssuanceRequest) -> Self {
        Self {
            id: r.id.to_string(),
            report: r.report.to_string(),
            labels: r.labels.clone(),
            requested_by: r.requested_by.clone(),
            requested_at: rfc3339(r.requested_at),
            status: r.status.to_string(),
            approved_by: r.approved_by.clone(),
            batch: r.batch.map(|b| b.to_string()),
            quantity: r.quantity.0,
            buffer: r.buffer.0,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchContributionDto {
    pub parcel: String,
    pub participant: String,
    /// Net tCO2e of the verified report that came from this parcel (the basis of payouts).
    pub net: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOriginDto {
    pub issuance_request: String,
    pub report: String,
    pub methodology: String,
    pub methodology_code: String,
    pub methodology_version: String,
    pub monitoring_period: PeriodDto,
    pub requested_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    pub contributions: Vec<BatchContributionDto>,
    /// Labels added to the batch with issuer and validity.
    pub labels: Vec<LabelDto>,
    /// The monitoring period's ecological indicators, as verified.
    pub indicators: Vec<IndicatorDto>,
    /// The monitoring period's ecological score (`Lifecycle::batch_ecological_score`).
    pub ecology: super::ecology::EcoScoreDto,
}

/// The lifecycle facts of a batch, if an approved issuance request created it.
pub fn batch_origin(lc: &Lifecycle, batch: furrow_domain::BatchId) -> Option<BatchOriginDto> {
    let request = lc.request_for_batch(batch)?;
    let report = lc.reports.get(&request.report)?;
    let q = report.quantification.as_ref()?;
    let methodology = lc.methodologies.get(&q.methodology)?;
    let participant = |p| lc.parcels.get(p).map_or_else(String::new, |x: &Parcel| x.participant.to_string());
    Some(BatchOriginDto {
        issuance_request: request.id.to_string(),
        report: report.id.to_string(),
        methodology: methodology.id.to_string(),
        methodology_code: methodology.spec.code.clone(),
        methodology_version: methodology.spec.version.clone(),
        monitoring_period: PeriodDto::of(report.spec.period),
        requested_by: request.requested_by.clone(),
        approved_by: request.approved_by.clone(),
        contributions: q
            .contributions
            .iter()
            .map(|(p, net)| BatchContributionDto {
                parcel: p.to_string(),
                participant: participant(p),
                net: net.to_string(),
            })
            .collect(),
        labels: lc.labels.get(&batch).into_iter().flatten().map(LabelDto::of).collect(),
        indicators: ReportDto::of(report).indicators,
        ecology: super::ecology::EcoScoreDto::of(&furrow_domain::lifecycle::ecology::score_report(report)),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    pub project: String,
    /// tCO2e lost, cancelled from the buffer pool.
    pub quantity: u64,
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotationDto {
    pub id: String,
    pub reason: String,
    /// `pending` (waiting for a second admin) or `approved`. Each log key published after the
    /// first (`furrow key rotate`) uses up one approved rotation.
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

impl KeyRotationDto {
    pub fn of(r: &KeyRotation) -> Self {
        Self {
            id: r.id.to_string(),
            reason: r.reason.clone(),
            status: if r.approved_by.is_some() { "approved" } else { "pending" }.into(),
            requested_by: r.requested_by.clone(),
            requested_at: rfc3339(r.requested_at),
            approved_by: r.approved_by.clone(),
            approved_at: r.approved_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReversalDto {
    pub id: String,
    pub project: String,
    pub quantity: u64,
    pub note: String,
    /// `pending` (waiting for a second operator) or `approved` (the buffer pool was cancelled).
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    /// The buffer-pool cancellation that compensated it, once approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

impl ReversalDto {
    pub fn of(r: &Reversal) -> Self {
        Self {
            id: r.id.to_string(),
            project: r.project.to_string(),
            quantity: r.quantity.0,
            note: r.note.clone(),
            status: if r.approval.is_some() { "approved" } else { "pending" }.into(),
            requested_by: r.requested_by.clone(),
            requested_at: rfc3339(r.requested_at),
            cancellation: r.approval.as_ref().map(|a| a.cancellation.to_string()),
            approved_by: r.approval.as_ref().map(|a| a.by.clone()),
            approved_at: r.approval.as_ref().map(|a| rfc3339(a.at)),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    /// `ICVCM-CCP`, `CORSIA`, `Article6-authorized`, `corresponding-adjustment:applied|pending|none`
    /// or `J-Credit-eligible`.
    pub kind: String,
    pub issuer: String,
    pub valid: PeriodDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LabelDto {
    pub kind: String,
    pub issuer: String,
    pub valid: PeriodDto,
    pub by: String,
}

impl LabelDto {
    pub fn of(l: &BatchLabel) -> Self {
        Self { kind: l.kind.to_string(), issuer: l.issuer.clone(), valid: PeriodDto::of(l.valid), by: l.by.clone() }
    }
}
