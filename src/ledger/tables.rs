//! The ledger's redb tables and account names.

use crate::site::TenantId;
use redb::TableDefinition;

/// account name → balance in fen. Every account any posting touched.
pub const ACCOUNTS: TableDefinition<&str, i64> = TableDefinition::new("ledger_accounts");
/// operation id → JSON `Operation`.
pub const OPS: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger_ops");
/// idempotency key → JSON `KeyRecord`.
pub const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("ledger_keys");
/// tenant id → JSON `TenantAccount`.
pub const TENANTS: TableDefinition<&str, &[u8]> = TableDefinition::new("ledger_tenants");
/// meter id → JSON `MeterAccountView`.
pub const METERS: TableDefinition<&str, &[u8]> = TableDefinition::new("ledger_meters");
/// reading key → the consumption operation that charged it.
pub const READINGS: TableDefinition<&str, u64> = TableDefinition::new("ledger_readings");
/// reversed operation → the reversal.
pub const REVERSED: TableDefinition<u64, u64> = TableDefinition::new("ledger_reversed");
/// (tenant, operation) → (): a tenant's history in order.
pub const TENANT_OPS: TableDefinition<(&str, u64), ()> = TableDefinition::new("ledger_tenant_ops");

/// (tenant, opened_op) → JSON `TenantAccount`: the tenant's earlier, closed accounts (the
/// current one is in `TENANTS`). Account `tenant:<id>` is shared by them all: each closed
/// at exactly zero, so the next one starts from zero.
pub const CLOSED_ACCOUNTS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("ledger_closed_accounts");

/// (tenant, refund operation) → (): refunds waiting for their withdrawal from a meter.
pub const PENDING_REFUNDS: TableDefinition<(&str, u64), ()> =
    TableDefinition::new("ledger_pending_refunds");

/// A used idempotency key: the request's fingerprint and the first answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    pub fingerprint: String,
    pub receipt: crate::ledger::OpReceipt,
}

/// The prepaid balance of a tenant (positive = credit).
pub fn tenant_account(t: &TenantId) -> String {
    format!("tenant:{t}")
}

/// Money received by a payment method (grows negative as money comes in).
pub fn payment_account(method: &str) -> String {
    format!("pay:{method}")
}

/// Energy charged to tenants.
pub const CONSUMPTION_REVENUE: &str = "revenue:consumption";
/// Final charges taken at close.
pub const FINAL_CHARGE_REVENUE: &str = "revenue:final_charge";
/// Balances brought in from old meters.
pub const TRANSFER_IN: &str = "transfer_in";
/// Money paid back to tenants (refunds and close settlements).
pub const REFUNDS_PAID: &str = "refunds_paid";
/// Refunds on meter-mode meters waiting for the meter to confirm the withdrawal.
pub const REFUNDS_PENDING: &str = "refunds_pending";
/// Debts of closed accounts, written off the tenant account as arrears receivable.
pub const ARREARS: &str = "arrears";
