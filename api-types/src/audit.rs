//! The audit log.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct AuditQuery {
    /// Entries with a sequence number above this (default 0).
    pub after: Option<u64>,
    pub limit: Option<usize>,
    /// The newest `limit` entries, newest first (ignores `after`).
    pub newest: Option<bool>,
}

/// One audit record, hash-chained to the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: u64,
    /// UTC time, RFC 3339.
    pub at: String,
    pub actor: crate::ledger::Actor,
    /// What was done, e.g. `sale`, `operator.add`, `import.meters`.
    pub action: String,
    /// Details as JSON (ids, amounts, results): free-form per action.
    pub detail: serde_json::Value,
    /// Hex SHA-256 of the previous entry's `hash` (64 zeros for the first).
    pub prev: String,
    /// Hex SHA-256 over `seq`, `at`, `actor`, `action`, `detail` and `prev`.
    pub hash: String,
}
