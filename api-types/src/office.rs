//! The lists the office works from for the money paths of closing and refunds: close
//! settlements, refunds waiting for their meter, and a tenant's account history across
//! closings and reopenings.

use serde::{Deserialize, Serialize};

use crate::ledger::Operation;

/// What became of a meter-mode meter's own credit when its account closed (the latest
/// closing of that meter): cleared, or tripped with the balance it showed, to settle by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseSettlementView {
    pub meter: String,
    /// The tenant whose account closed (as the ledger last assigned the meter).
    pub tenant: Option<String>,
    /// The meter's unit in the site plan.
    pub unit: Option<String>,
    /// The outbox entry of the `clear_credit` command.
    pub outbox: u64,
    /// The meter's credit was cleared (confirmed by read-back). False: the meter was tripped
    /// instead and `balance_before_fen` is the money to settle with the tenant.
    pub cleared: bool,
    /// The meter's own balance read just before clearing (fen; absent: it could not be read).
    pub balance_before_fen: Option<i64>,
    /// Why it could not be cleared.
    pub why: Option<String>,
    /// UTC, RFC 3339.
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct CloseSettlementQuery {
    /// Only the meters that could not be cleared (the ones to settle by hand).
    pub to_settle: Option<bool>,
}

/// A refund on a meter-mode meter waiting for the meter to confirm the withdrawal of its
/// credit; the money is off the tenant's balance and paid out once the meter confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingRefundView {
    /// The refund operation.
    pub op: u64,
    pub tenant: String,
    pub meter: String,
    pub amount_fen: i64,
    pub reason: String,
    /// When the refund was booked (UTC, RFC 3339).
    pub at: String,
    /// The withdrawal command's state: `queued` (not yet taken by the control queue),
    /// `sent`, … (see the outbox).
    pub state: String,
    /// Outbox entry of the withdrawal.
    pub outbox: Option<u64>,
    /// Failed attempts so far (the meter did not answer or did not confirm).
    pub attempts: u32,
    /// The last attempt's error (Chinese and English when the meter did not answer).
    pub last_error: Option<String>,
    /// What to tell the tenant, in Chinese and English.
    pub message: String,
}

/// One account of a tenant: from its opening to its closing (or now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountPeriod {
    /// `open` or `closed`.
    pub status: String,
    pub meters: Vec<String>,
    /// The operation that opened it and the one that closed it.
    pub opened_op: u64,
    pub closed_op: Option<u64>,
    pub opened_at: Option<String>,
    pub closed_at: Option<String>,
    /// Its operations, oldest first (at most `limit`; `truncated` says when more exist).
    pub operations: Vec<Operation>,
    pub truncated: bool,
}

/// Every account a tenant id has had, oldest first: closed ones, then the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountHistory {
    pub tenant: String,
    pub accounts: Vec<AccountPeriod>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AccountHistoryQuery {
    /// Most operations listed per account (default 200, at most 1000).
    pub limit: Option<usize>,
}
