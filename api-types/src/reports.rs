//! Reports: the query every report takes and the answer of an export to the appliance.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ReportQuery {
    /// YYYY-MM-DD (site time), default the first of this month.
    pub from: Option<String>,
    /// YYYY-MM-DD, included; default today.
    pub to: Option<String>,
    /// sales: day, month or year.
    pub period: Option<String>,
    /// energy: building, floor, unit or meter.
    pub group: Option<String>,
    /// readings: the meter.
    pub meter: Option<String>,
    /// json (default), csv or xlsx.
    pub format: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportDone {
    /// Where the file was written on the appliance (DATA/exports).
    pub path: String,
    pub rows: usize,
    pub bytes: usize,
}

/// A report as data: a title, the parameters it was made with, typed columns and rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportTable {
    pub title: String,
    /// (name, value) of each parameter, printed in the title row.
    pub params: Vec<ReportParam>,
    pub columns: Vec<ReportColumn>,
    pub rows: Vec<Vec<Cell>>,
}

/// One parameter of a report: `[name, value]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportParam(pub String, pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportColumn {
    pub name: String,
    pub kind: ColumnKind,
}

/// How a column's values are written and formatted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    /// Fen, shown as yuan with two decimals.
    Money,
    /// Wh, shown as kWh with two decimals.
    Energy,
    Int,
}

/// One cell: text, an integer (fen for money, Wh for energy) or empty (`null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    Empty,
}
