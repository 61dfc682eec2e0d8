//! Alarms and the SMS queue.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlarmView {
    pub id: u64,
    /// level1, level2, arrears, overload, meter_offline, gateway_offline,
    /// register_rollback, credit_mismatch, balance_drift, not_self_tripped.
    pub kind: String,
    /// `tenant:T0001`, `meter:…`, `gateway:GW1`.
    pub subject: String,
    pub raised_at: String,
    pub value: Option<i64>,
    pub detail: String,
    pub acked_by: Option<String>,
    pub acked_at: Option<String>,
    pub cleared_at: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AlarmQuery {
    /// Only this kind.
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct HistoryQuery {
    /// RFC 3339 start (default: 30 days ago).
    pub from: Option<String>,
    /// RFC 3339 end (default: now).
    pub to: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsView {
    pub id: u64,
    pub to: String,
    pub text: String,
    pub alarm: Option<u64>,
    pub created: String,
    /// queued, sent or failed.
    pub state: String,
    pub reason: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<String>,
    pub parts: u32,
}
