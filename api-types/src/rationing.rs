//! Rationing (限电) windows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RationingRequest {
    /// Tenant category, e.g. `restaurant`.
    pub category: Option<String>,
    pub building: Option<String>,
    pub floor: Option<i32>,
    /// RFC 3339; default now.
    pub from: Option<String>,
    /// RFC 3339; the meters are restored then.
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterResult {
    pub meter: String,
    /// trip or close.
    pub command: String,
    /// queued, sent, confirmed, close permitted, waiting for the tenant, failed: why.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RationingView {
    pub id: u64,
    pub by: String,
    pub reason: String,
    pub from: String,
    pub to: String,
    /// scheduled, active, restored, cancelled.
    pub phase: String,
    pub results: Vec<MeterResult>,
    pub skipped_keep_power: Vec<String>,
    pub left_off_arrears: Vec<String>,
}
