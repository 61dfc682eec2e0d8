//! Staff accounts beyond list/add (admin) and the role table.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleRow {
    pub role: String,
    /// Permissions of the role, by name (read_all, sell, …).
    pub allows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    pub name: String,
    /// Shown once; the operator must change it at the next login.
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorChange {
    /// true to disable (ends their sessions), false to enable.
    pub disabled: Option<bool>,
    /// admin, cashier, installer or viewer.
    pub role: Option<String>,
}
