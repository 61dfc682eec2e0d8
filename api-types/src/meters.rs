//! Meters: the list and one meter with live state, stored readings, commands, staff locks.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterView {
    pub meter: String,
    pub unit: Option<String>,
    pub tenant: Option<String>,
    pub gateway: String,
    pub bus: u8,
    pub address: String,
    pub protocol: String,
    pub profile: String,
    pub phases: String,
    pub billing: String,
    /// None until the collector has polled the meter.
    pub online: Option<bool>,
    pub last_ok: Option<String>,
    pub last_error: Option<String>,
    pub power_w: Option<i64>,
    pub total_wh: Option<i64>,
    pub relay: String,
    /// Balance the meter itself reports (meter-billed meters).
    pub meter_balance_fen: Option<i64>,
    pub lock: Option<MeterLock>,
    /// On keep-power (保电): never tripped by the system.
    pub keep_power: bool,
    /// Building and floor of the meter's unit (for selections by building or floor).
    pub building: Option<String>,
    pub floor: Option<i32>,
}

/// A staff lock: while a meter is locked, tenants cannot switch it remotely. The daemon
/// stores it in this very shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeterLock {
    pub meter: String,
    /// Operator label, e.g. `op:alice`.
    pub by: String,
    pub reason: String,
    /// UTC, RFC 3339.
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct RangeQuery {
    /// RFC 3339 start (default: 24 hours ago).
    pub from: Option<String>,
    /// RFC 3339 end (default: now).
    pub to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadingView {
    pub at: String,
    pub total_wh: i64,
    pub power_w: Option<i64>,
    pub balance_fen: Option<i64>,
    pub relay: Option<String>,
    /// Set for a suspect reading (not charged by itself): `pending`, `accepted` or
    /// `rejected` (see `SuspectReadingView`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect: Option<String>,
}

/// A reading that was not charged automatically: below the charged total, or more energy
/// than the meter can pass in the time. Staff accept it (its energy is charged) or reject it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuspectReadingView {
    pub meter: String,
    /// UTC, RFC 3339.
    pub at: String,
    /// The reading's identity in the accept/reject routes.
    pub at_ms: i64,
    pub total_wh: i64,
    /// The last charged reading it was judged against.
    pub basis_at: String,
    pub basis_wh: i64,
    /// `decrease` or `too_high`.
    pub why: String,
    /// For `too_high`: the most energy the meter could pass in the time.
    pub max_wh: Option<i64>,
    /// `pending`, `accepted` or `rejected`.
    pub state: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Accepted: the energy charged.
    pub charged_wh: Option<i64>,
    /// Rejected: whether the meter was re-baselined at this reading.
    pub rebaseline: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct SuspectQuery {
    /// Also the decided ones (default: pending only).
    pub all: Option<bool>,
    /// Only this meter.
    pub meter: Option<String>,
}

/// Body of a rejection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectSuspect {
    /// The meter was replaced or reset: measure from this reading on (nothing is charged for
    /// its interval). Default false: ignore the reading, keep the charged basis.
    #[serde(default)]
    pub rebaseline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandRequest {
    /// `trip`, `close`, `keep_power_on`, `keep_power_off`, `restore_prepaid`,
    /// `push_prices` or `push_settings`.
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandQueued {
    pub meter: String,
    pub command: String,
    /// Outbox entry id.
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockRequest {
    /// Shown to the tenant, e.g. "maintenance until Friday".
    pub reason: String,
}

/// One line of a meter's command history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandLine {
    pub id: u64,
    pub command: String,
    /// queued, sent, confirmed, close permitted…, failed: why.
    pub state: String,
    pub by: String,
    pub sends: u32,
    pub attempts: u32,
    pub updated: String,
}
