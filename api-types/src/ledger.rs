//! Ledger operations and the meter-command outbox, as the operator API lists them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct OpsQuery {
    pub tenant: Option<String>,
    /// Newest first; default 100, at most 1,000.
    pub limit: Option<usize>,
}
