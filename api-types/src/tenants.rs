//! Tenants as the operator API lists them (one tenant's view is [`crate::TenantView`]).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenantRow {
    pub tenant: String,
    pub name: String,
    pub category: String,
    pub phone: Option<String>,
    pub units: Vec<String>,
    pub has_account: bool,
    pub balance_fen: i64,
}
