//! The site model from the console: file import, buildings, tariffs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRequest {
    /// buildings, units, gateways, meters or tenants.
    pub kind: String,
    /// A CSV or XLSX file on the appliance, e.g. /var/lib/voltvend/import/meters.xlsx.
    pub path: String,
    /// Check and count only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportDone {
    pub kind: String,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildingView {
    pub building: String,
    pub name: String,
    pub floors: Option<u32>,
    pub units: usize,
    pub meters: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TariffView {
    pub name: String,
    /// The stored tariff (flat, tiered or time-of-use, with its prices).
    pub tariff: serde_json::Value,
    /// Its prices in one line (dated versions each with their start).
    pub summary: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TariffRequest {
    /// A tariff file on the appliance (TOML with `name` at the top, docs/tariffs.md),
    /// e.g. /var/lib/voltvend/import/default.toml. Or give `name` and `tariff` instead.
    pub path: Option<String>,
    pub name: Option<String>,
    /// The tariff as JSON: a single tariff (`{"kind":"flat","price":"0.85"}`) or
    /// `{"versions":[{"start":..., "tariff":{...}}]}`.
    pub tariff: Option<serde_json::Value>,
    /// Check and compare only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TariffSaved {
    pub name: String,
    /// added, updated or unchanged.
    pub change: String,
    /// The stored tariff before, in one line (none when it is new).
    pub before: Option<String>,
    pub after: String,
    pub dry_run: bool,
}

/// The answer to removing a tariff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TariffRemoved {
    /// The name of the tariff removed.
    pub removed: String,
}

/// Site-wide defaults that meters inherit unless they override them. A `PUT` may leave
/// fields out: they take their default values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteSettings {
    /// Overload threshold in W.
    pub power_limit_w: i64,
    /// Seconds between two full reading rounds of a meter (default 30 min).
    pub collection_interval_s: u32,
    /// Balance alarm level 1 (early warning), fen.
    pub alarm1: i64,
    /// Balance alarm level 2 (last warning), fen; never above level 1.
    pub alarm2: i64,
    /// Tariff that meters without an override use.
    pub default_tariff: String,
    /// Largest balance a tenant may hold (囤积金额上限), fen; a sale above it is refused.
    pub hoarding_cap: i64,
    /// Number that receives site alarms by SMS (meter offline, gateway offline, …).
    pub alarm_sms: Option<String>,
    /// IANA time zone of the site, for TOU periods, days and months.
    pub timezone: String,
}
