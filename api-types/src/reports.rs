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
