//! Receipts: the stored record (what was printed, or should have been) and its print state.
//! The daemon stores receipts in this very shape.

use serde::{Deserialize, Serialize};

/// Whether the paper came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrintStatus {
    /// Not sent yet.
    Pending,
    Printed {
        at: String,
    },
    /// The printer refused or was unreachable; `reason` is shown to tenant and staff.
    Failed {
        at: String,
        reason: String,
    },
}

/// Everything printed on a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptRecord {
    pub receipt_no: String,
    pub site_name: String,
    /// UTC, RFC 3339.
    pub issued_at: String,
    /// Local time as printed, e.g. `2026-11-25 08:30:00`.
    pub local_time: String,
    pub tenant: String,
    pub tenant_name: String,
    pub units: Vec<String>,
    pub meters: Vec<String>,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub purchase_count: u32,
    /// `kiosk` or `op:NAME`.
    pub issued_by: String,
    /// Payment method (`sandbox`, `cash`, …).
    pub method: String,
    /// Ledger operation id of the sale.
    pub op: u64,
    pub sig: String,
    pub print: PrintStatus,
    pub prints: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ReceiptQuery {
    pub tenant: Option<String>,
    /// Only receipts whose printing failed (out of paper, offline).
    pub failed: Option<bool>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrintResult {
    pub receipt_no: String,
    pub print: PrintStatus,
}
