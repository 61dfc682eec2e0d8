//! The tenant API (kiosk and phone site): login, the tenant's view, usage, purchases,
//! top-ups, reprints and remote switching. [`TenantView`] and [`Usage`] are also what the
//! operator API shows for one tenant.

use crate::receipts::PrintStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantLogin {
    /// Unit number (户号), e.g. `A-101`.
    pub unit: String,
    /// 4–8 digit PIN.
    pub pin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantToken {
    pub token: String,
    pub tenant: String,
    pub name: String,
    /// Seconds of inactivity after which the token expires.
    pub idle_timeout_s: u64,
}

/// Why the tenant may not switch a meter now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    /// `locked_by_staff`, `in_arrears`, `rationing`, `overload` or `rate_limited`.
    pub code: String,
    pub message: String,
    pub message_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantMeter {
    pub meter: String,
    pub unit: Option<String>,
    /// `one` or `three`.
    pub phases: String,
    /// `meter` or `host`.
    pub billing: String,
    /// None until the collector has polled the meter.
    pub online: Option<bool>,
    /// Live active power in W (None before the first reading).
    pub power_w: Option<i64>,
    /// `closed` (power on), `open` (off) or `unknown`.
    pub relay: String,
    /// Energy register in Wh.
    pub total_wh: Option<i64>,
    pub purchase_count: u32,
    /// Present when remote switching is refused now.
    pub switch_refused: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantView {
    pub tenant: String,
    pub name: String,
    pub units: Vec<String>,
    pub balance_fen: i64,
    /// `normal`, `alarm1`, `alarm2`, `arrears` or `tripped`.
    pub status: String,
    pub alarm1_fen: i64,
    pub alarm2_fen: i64,
    pub hoarding_cap_fen: i64,
    /// Largest top-up allowed now (cap − balance, never below 0).
    pub max_topup_fen: i64,
    pub meters: Vec<TenantMeter>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct UsageQuery {
    /// Number of days up to today (1–90, default 30).
    pub days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayUsage {
    /// Local date `YYYY-MM-DD` (site time zone).
    pub date: String,
    pub wh: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    pub days: Vec<DayUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Purchase {
    pub op: u64,
    /// UTC, RFC 3339.
    pub at: String,
    pub amount_fen: i64,
    pub method: String,
    pub receipt_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartTopUp {
    pub amount_fen: i64,
    /// Chosen by the client per attempt; retrying with the same key returns the same order.
    pub idempotency_key: String,
    /// The meter-mode meter that receives the credit: required when the tenant has more than
    /// one (else `422 which_meter`, before any order or payment exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopUpView {
    pub order_id: String,
    pub amount_fen: i64,
    /// `waiting`, `paid`, `declined` or `needs_refund`.
    pub state: String,
    /// The payment QR code as inline SVG.
    pub qr_svg: String,
    /// The URL inside the QR code.
    pub pay_url: String,
    pub receipt_no: Option<String>,
    pub balance_after_fen: Option<i64>,
    pub print: Option<PrintStatus>,
    /// For `needs_refund`: why the paid amount could not be credited.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchRequest {
    /// true = power on (close the relay), false = power off (open it).
    pub on: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwitchResult {
    pub meter: String,
    pub on: bool,
    /// Outbox entry id of the queued command.
    pub command_id: u64,
}
