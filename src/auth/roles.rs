//! Roles and the permission table checked on every operation.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including operators and site settings.
    Admin,
    /// Sales, refunds, reversals, accounts; reads everything.
    Cashier,
    /// Reads everything, changes nothing.
    Viewer,
    /// Site model, meters, commissioning and meter commands; no money.
    Installer,
}

/// What an operation needs. One variant per kind of change or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadAll,
    Sell,
    Refund,
    Reverse,
    OpenAccount,
    CloseAccount,
    EditSite,
    ImportSite,
    EditTariffs,
    CommandMeters,
    ManageOperators,
    ReadAudit,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ReadAll,
        Permission::Sell,
        Permission::Refund,
        Permission::Reverse,
        Permission::OpenAccount,
        Permission::CloseAccount,
        Permission::EditSite,
        Permission::ImportSite,
        Permission::EditTariffs,
        Permission::CommandMeters,
        Permission::ManageOperators,
        Permission::ReadAudit,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Cashier, Role::Installer, Role::Viewer];

    /// The permission table: the single place that says who may do what.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Cashier => matches!(
                p,
                ReadAll | Sell | Refund | Reverse | OpenAccount | CloseAccount
            ),
            Role::Viewer => matches!(p, ReadAll),
            Role::Installer => matches!(
                p,
                ReadAll | EditSite | ImportSite | EditTariffs | CommandMeters
            ),
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "cashier" => Some(Role::Cashier),
            "viewer" => Some(Role::Viewer),
            "installer" => Some(Role::Installer),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Admin => "admin",
            Role::Cashier => "cashier",
            Role::Viewer => "viewer",
            Role::Installer => "installer",
        })
    }
}

/// Who asks for an operation: recorded in the audit log and checked against permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A logged-in staff member.
    Operator { name: String, role: Role },
    /// A tenant at the kiosk or on a phone, acting on their own account.
    Tenant { tenant: String },
    /// The appliance itself (collector charges, automatic trips, payment confirmations).
    System { component: String },
}

impl Actor {
    pub fn operator(name: &str, role: Role) -> Actor {
        Actor::Operator {
            name: name.to_string(),
            role,
        }
    }

    pub fn system(component: &str) -> Actor {
        Actor::System {
            component: component.to_string(),
        }
    }

    /// Whether this actor may do `p`. Tenants and the system are checked by the operation
    /// itself (a tenant only on their own account; the system only for its own duties).
    pub fn may(&self, p: Permission) -> bool {
        match self {
            Actor::Operator { role, .. } => role.allows(p),
            Actor::Tenant { .. } => matches!(p, Permission::Sell),
            Actor::System { .. } => true,
        }
    }

    /// A short name for logs and receipts: `op:alice`, `tenant:T0001`, `system:collector`.
    pub fn label(&self) -> String {
        match self {
            Actor::Operator { name, .. } => format!("op:{name}"),
            Actor::Tenant { tenant } => format!("tenant:{tenant}"),
            Actor::System { component } => format!("system:{component}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_changes_nothing_and_cashier_cannot_edit_site() {
        assert!(Role::Viewer.allows(Permission::ReadAll));
        assert!(!Role::Viewer.allows(Permission::Sell));
        assert!(!Role::Cashier.allows(Permission::EditSite));
        assert!(!Role::Installer.allows(Permission::Sell));
        assert!(Role::Admin.allows(Permission::ManageOperators));
    }
}
