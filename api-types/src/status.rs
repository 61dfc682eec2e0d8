//! The console's dashboard: the site summary and the gateways' link health.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GatewayView {
    pub gateway: String,
    pub name: String,
    pub link: String,
    pub buses: usize,
    pub online: bool,
    pub last_error: Option<String>,
    pub last_cycle_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SiteStatus {
    pub site_name: String,
    pub meters: usize,
    pub meters_offline: usize,
    pub tenants: usize,
    pub tenants_in_arrears: usize,
    pub outbox_pending: usize,
    /// Receipts whose printing failed (out of paper, printer offline).
    pub receipts_failed: usize,
    /// Paid top-ups the ledger could not credit: refund them through the provider.
    pub topups_needing_refund: usize,
}
