//! Bodies of the routes anyone may call.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok` when the daemon answers.
    pub status: String,
    pub version: String,
    pub uptime_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KioskInfo {
    pub site_name: String,
    /// Building codes, for the unit-number keypad.
    pub buildings: Vec<String>,
}

/// The signature on a receipt's verification link (`/r/{receipt}?sig=…`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigQuery {
    pub sig: Option<String>,
}
