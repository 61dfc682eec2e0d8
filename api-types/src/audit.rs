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
