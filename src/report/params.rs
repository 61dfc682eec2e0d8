//! What every report takes and how it fails: the date range, period and grouping parsed
//! from the options, and the report error.

use jiff::civil::Date;

use crate::site::MeterId;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no report named '{0}'; reports: {1}")]
    Unknown(String, String),
    #[error("{0}")]
    Param(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
    Year,
}

impl Period {
    /// As the options and the report parameters say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    /// The column or row key of the period `d` falls in: `2026-03-14`, `2026-03`, `2026`.
    pub fn key(self, d: Date) -> String {
        match self {
            Period::Day => d.to_string(),
            Period::Month => format!("{:04}-{:02}", d.year(), d.month()),
            Period::Year => format!("{:04}", d.year()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Building,
    Floor,
    Unit,
    Meter,
}

#[derive(Debug, Clone)]
pub struct Params {
    pub from: Date,
    /// Included.
    pub to: Date,
    pub period: Period,
    pub group: Group,
    pub meter: Option<MeterId>,
}

impl Params {
    /// Parses the common options; dates are `YYYY-MM-DD`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        period: Option<&str>,
        group: Option<&str>,
        meter: Option<&str>,
        today: Date,
    ) -> Result<Params, ReportError> {
        let date = |name: &str, t: Option<&str>, default: Date| -> Result<Date, ReportError> {
            match t {
                None | Some("") => Ok(default),
                Some(t) => t.parse().map_err(|e| {
                    ReportError::Param(format!("--{name} '{t}' is not a date (YYYY-MM-DD): {e}"))
                }),
            }
        };
        let first_of_month = today.first_of_month();
        let from = date("from", from, first_of_month)?;
        let to = date("to", to, today)?;
        if to < from {
            return Err(ReportError::Param(format!(
                "--to {to} is before --from {from}"
            )));
        }
        let period = match period.unwrap_or("day") {
            "day" => Period::Day,
            "month" => Period::Month,
            "year" => Period::Year,
            p => {
                return Err(ReportError::Param(format!(
                    "--period '{p}': use day, month or year"
                )));
            }
        };
        let group = match group.unwrap_or("unit") {
            "building" => Group::Building,
            "floor" => Group::Floor,
            "unit" => Group::Unit,
            "meter" => Group::Meter,
            g => {
                return Err(ReportError::Param(format!(
                    "--group '{g}': use building, floor, unit or meter"
                )));
            }
        };
        Ok(Params {
            from,
            to,
            period,
            group,
            meter: meter.filter(|m| !m.is_empty()).map(MeterId::new),
        })
    }

    pub(super) fn range_params(&self) -> Vec<(String, String)> {
        vec![
            ("from".into(), self.from.to_string()),
            ("to".into(), self.to.to_string()),
        ]
    }
}

pub(super) fn other(e: impl std::fmt::Display) -> ReportError {
    ReportError::Other(e.to_string())
}
