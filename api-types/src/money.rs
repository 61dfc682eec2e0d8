//! Money and accounts: cashier sales, refunds, reversals, opening and closing accounts,
//! adding a meter to an account.

use crate::receipts::PrintStatus;
use serde::{Deserialize, Serialize};

/// The one meaning of a zero balance (docs/ledger.md, "Zero balance"): an account stands in
/// arrears (欠费) when its balance is at or below zero. A prepaid tenant with nothing left
/// has no paid-up energy, so zero already trips host-mode meters, raises the arrears alarm,
/// counts as arrears in reports and shows red in the console and at the kiosk. The daemon
/// calls it through `ledger::arrears::in_arrears`; the console calls it here.
pub fn in_arrears(balance_fen: i64) -> bool {
    balance_fen <= 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleRequest {
    pub tenant: String,
    pub amount_fen: i64,
    /// `cash`, `wechat`, `alipay`, `unionpay`, `card`, …
    pub method: String,
    /// Chosen by the client; a retry with the same key returns the first result.
    pub idempotency_key: String,
    /// Print a receipt (default true).
    pub print: Option<bool>,
    /// The meter-mode meter that receives the credit: required when the tenant has more than
    /// one (else `which_meter`), optional otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleResult {
    pub op: u64,
    pub receipt_no: String,
    pub balance_after_fen: i64,
    pub print: PrintStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequest {
    pub tenant: String,
    pub amount_fen: i64,
    pub reason: String,
    pub idempotency_key: String,
    /// The meter-mode meter the credit is withdrawn from, when the tenant has several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<String>,
}

/// A ledger operation done, with the tenant's balance after it when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpResult {
    pub op: u64,
    pub balance_after_fen: Option<i64>,
    /// Why the operation is not complete yet, in Chinese and English (a refund on a
    /// meter-mode meter waits for the meter to confirm the withdrawal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReverseRequest {
    /// The sale or refund to undo.
    pub op: u64,
    pub reason: String,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenAccountRequest {
    pub tenant: String,
    /// Meters to attach; default: every meter of the tenant's units.
    pub meters: Option<Vec<String>>,
    /// Balance carried over from an old meter.
    pub transfer_in_fen: Option<i64>,
    pub old_meter_serial: Option<String>,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseAccountRequest {
    pub final_charge_fen: i64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddMeterRequest {
    pub meter: String,
    pub idempotency_key: String,
}
