//! The request and response bodies of the operator API that the console uses, and the
//! route paths, named as the daemon names them (src/api/*.rs).
//!
//! The first part mirrors the shared contract crate (`voltvend-api-types`) item for item:
//! when it is in the workspace that part becomes `pub use voltvend_api_types::*;`. The
//! second part types the bodies the daemon still sends as free-form JSON (settings,
//! operations, audit entries, report tables, batch progress), as the console reads them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Route paths (axum patterns, `{name}` a path parameter) and their fillers.
pub mod routes {
    pub const LOGIN: &str = "/api/v1/login";
    pub const LOGOUT: &str = "/api/v1/logout";
    pub const PASSWORD: &str = "/api/v1/password";
    pub const OPERATORS: &str = "/api/v1/operators";
    pub const OPERATOR: &str = "/api/v1/operators/{name}";
    pub const OPERATOR_RESET_PASSWORD: &str = "/api/v1/operators/{name}/reset-password";
    pub const ROLES: &str = "/api/v1/roles";
    pub const STATUS: &str = "/api/v1/status";
    pub const GATEWAYS: &str = "/api/v1/gateways";
    pub const METERS: &str = "/api/v1/meters";
    pub const METER_READINGS: &str = "/api/v1/meters/{meter}/readings";
    pub const METER_COMMANDS: &str = "/api/v1/meters/{meter}/commands";
    pub const TENANTS: &str = "/api/v1/tenants";
    pub const TENANT: &str = "/api/v1/tenants/{tenant}";
    pub const ACCOUNTS: &str = "/api/v1/accounts";
    pub const ACCOUNT_CLOSE: &str = "/api/v1/accounts/{tenant}/close";
    pub const ACCOUNT_METERS: &str = "/api/v1/accounts/{tenant}/meters";
    pub const SALES: &str = "/api/v1/sales";
    pub const REFUNDS: &str = "/api/v1/refunds";
    pub const REVERSALS: &str = "/api/v1/reversals";
    pub const OPERATIONS: &str = "/api/v1/operations";
    pub const SITE_SETTINGS: &str = "/api/v1/site/settings";
    pub const SITE_IMPORT: &str = "/api/v1/site/import";
    pub const BUILDINGS: &str = "/api/v1/buildings";
    pub const TARIFFS: &str = "/api/v1/tariffs";
    pub const AUDIT: &str = "/api/v1/audit";
    pub const ALARM_ACK: &str = "/api/v1/alarms/{id}/ack";
    pub const REPORT: &str = "/api/v1/reports/{name}";
    pub const REPORT_EXPORT: &str = "/api/v1/reports/{name}/export";
    pub const BATCHES: &str = "/api/v1/batches";
    pub const BATCH: &str = "/api/v1/batches/{id}";

    /// `pattern` with its `{…}` parameters replaced, in order, by `values`, each
    /// percent-encoded as one path segment. A parameter without a value is left as it is.
    pub fn path(pattern: &str, values: &[&str]) -> String {
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut values = values.iter();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            out.push_str(&rest[..open]);
            match values.next() {
                Some(v) => encode_segment(v, &mut out),
                None => out.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Appends `value` percent-encoded as a path segment (RFC 3986 unreserved bytes stay).
    fn encode_segment(value: &str, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }

    /// A query string (`?a=1&b=x`) from the pairs whose value is present, percent-encoded;
    /// empty when none is.
    pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
        let mut out = String::new();
        for (k, v) in pairs {
            let Some(v) = v else { continue };
            out.push(if out.is_empty() { '?' } else { '&' });
            encode_segment(k, &mut out);
            out.push('=');
            encode_segment(v, &mut out);
        }
        out
    }

    pub fn meter_readings(id: &str) -> String {
        path(METER_READINGS, &[id])
    }
    pub fn meter_commands(id: &str) -> String {
        path(METER_COMMANDS, &[id])
    }
    pub fn tenant(id: &str) -> String {
        path(TENANT, &[id])
    }
    pub fn account_close(tenant: &str) -> String {
        path(ACCOUNT_CLOSE, &[tenant])
    }
    pub fn account_meters(tenant: &str) -> String {
        path(ACCOUNT_METERS, &[tenant])
    }
    pub fn operator(name: &str) -> String {
        path(OPERATOR, &[name])
    }
    pub fn operator_reset_password(name: &str) -> String {
        path(OPERATOR_RESET_PASSWORD, &[name])
    }
    pub fn alarm_ack(id: u64) -> String {
        path(ALARM_ACK, &[&id.to_string()])
    }
    pub fn report(name: &str) -> String {
        path(REPORT, &[name])
    }
    pub fn report_export(name: &str) -> String {
        path(REPORT_EXPORT, &[name])
    }
    pub fn batch(id: u64) -> String {
        path(BATCH, &[&id.to_string()])
    }
}

/// The error body of every refusal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// `invalid_file`: every problem, one per line (`FILE:LINE: column 'x': why`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
}

// ---------- session ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub name: String,
    pub role: String,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

// ---------- site, meters, gateways ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteStatus {
    pub site_name: String,
    pub meters: usize,
    pub meters_offline: usize,
    pub tenants: usize,
    pub tenants_in_arrears: usize,
    pub outbox_pending: usize,
    pub receipts_failed: usize,
    pub topups_needing_refund: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct MeterLock {
    pub meter: String,
    pub by: String,
    pub reason: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterView {
    pub meter: String,
    pub unit: Option<String>,
    pub tenant: Option<String>,
    pub gateway: String,
    pub bus: u8,
    pub address: String,
    pub protocol: String,
    pub profile: String,
    pub phases: String,
    pub billing: String,
    pub online: Option<bool>,
    pub last_ok: Option<String>,
    pub last_error: Option<String>,
    pub power_w: Option<i64>,
    pub total_wh: Option<i64>,
    pub relay: String,
    pub meter_balance_fen: Option<i64>,
    pub lock: Option<MeterLock>,
    /// On keep-power (保电).
    pub keep_power: bool,
    pub building: Option<String>,
    pub floor: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadingView {
    pub at: String,
    pub total_wh: i64,
    pub power_w: Option<i64>,
    pub balance_fen: Option<i64>,
    pub relay: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandQueued {
    pub meter: String,
    pub command: String,
    pub id: u64,
}

/// One command of a meter's history (`GET /api/v1/meters/{meter}/commands`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLine {
    pub id: u64,
    pub command: String,
    pub state: String,
    pub by: String,
    pub sends: u32,
    pub attempts: u32,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildingView {
    pub building: String,
    pub name: String,
    pub floors: Option<u32>,
    pub units: usize,
    pub meters: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TariffView {
    pub name: String,
    pub tariff: Value,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRequest {
    pub kind: String,
    pub path: String,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDone {
    pub kind: String,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
    pub summary: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TariffRequest {
    pub path: Option<String>,
    pub name: Option<String>,
    pub tariff: Option<Value>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffSaved {
    pub name: String,
    pub change: String,
    pub before: Option<String>,
    pub after: String,
    pub dry_run: bool,
}

// ---------- tenants and money ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub tenant: String,
    pub name: String,
    pub category: String,
    pub phone: Option<String>,
    pub units: Vec<String>,
    pub has_account: bool,
    pub balance_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: String,
    pub message: String,
    pub message_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantMeter {
    pub meter: String,
    pub unit: Option<String>,
    pub phases: String,
    pub billing: String,
    pub online: Option<bool>,
    pub power_w: Option<i64>,
    pub relay: String,
    pub total_wh: Option<i64>,
    pub purchase_count: u32,
    pub switch_refused: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantView {
    pub tenant: String,
    pub name: String,
    pub units: Vec<String>,
    pub balance_fen: i64,
    pub status: String,
    pub alarm1_fen: i64,
    pub alarm2_fen: i64,
    pub hoarding_cap_fen: i64,
    pub max_topup_fen: i64,
    pub meters: Vec<TenantMeter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRequest {
    pub tenant: String,
    pub amount_fen: i64,
    pub method: String,
    pub idempotency_key: String,
    pub print: Option<bool>,
}

/// Whether the paper came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleResult {
    pub op: u64,
    pub receipt_no: String,
    pub balance_after_fen: i64,
    pub print: PrintStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub tenant: String,
    pub amount_fen: i64,
    pub reason: String,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpResult {
    pub op: u64,
    pub balance_after_fen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReverseRequest {
    pub op: u64,
    pub reason: String,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAccountRequest {
    pub tenant: String,
    pub meters: Option<Vec<String>>,
    pub transfer_in_fen: Option<i64>,
    pub old_meter_serial: Option<String>,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseAccountRequest {
    pub final_charge_fen: i64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddMeterRequest {
    pub meter: String,
    pub idempotency_key: String,
}

// ---------- reports and alarms ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportDone {
    pub path: String,
    pub rows: usize,
    pub bytes: usize,
}

// ---------- batches ----------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    pub command: String,
    pub meters: Option<Vec<String>>,
    pub building: Option<String>,
    pub floor: Option<i32>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchStarted {
    pub id: u64,
    pub command: String,
    pub queued: usize,
    pub skipped: usize,
}

// ---------- staff ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    pub name: String,
    pub role: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub last_login: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub role: String,
    pub allows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOperator {
    pub name: String,
    pub role: String,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAdded {
    pub name: String,
    pub role: String,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorChange {
    pub disabled: Option<bool>,
    pub role: Option<String>,
}

// ---------- bodies the daemon sends as free-form JSON, typed as the console reads them ----------

/// The site defaults (`/api/v1/site/settings`); money in fen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDefaults {
    pub power_limit_w: i64,
    pub collection_interval_s: u32,
    pub alarm1: i64,
    pub alarm2: i64,
    pub default_tariff: String,
    pub hoarding_cap: i64,
    pub alarm_sms: Option<String>,
    pub timezone: String,
}

/// A ledger operation as `/api/v1/operations` lists it: `detail` is the operation's
/// kind with its fields, e.g. `{"sale": {"amount": 5000, …}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub id: u64,
    pub at: String,
    pub detail: Value,
    #[serde(default)]
    pub balance_after: Option<i64>,
}

impl Operation {
    /// The operation's kind (`sale`, `refund`, `open_account`, …), when `detail` is the
    /// kind with its fields.
    pub fn kind(&self) -> Option<&str> {
        self.detail.as_object()?.keys().next().map(String::as_str)
    }
    /// The `amount` of the operation, in fen, when it has one.
    pub fn amount(&self) -> Option<i64> {
        self.detail
            .as_object()?
            .values()
            .next()?
            .get("amount")?
            .as_i64()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `text`, `int`, `money` (fen) or `energy` (Wh).
    pub kind: String,
}

/// A report as a table; cells are JSON scalars whose meaning the column's kind gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportTable {
    pub title: String,
    #[serde(default)]
    pub params: Vec<(String, String)>,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    pub meter: String,
    pub state: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchProgress {
    pub id: u64,
    pub total: usize,
    pub done: usize,
    pub confirmed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub finished: bool,
    pub items: Vec<BatchItem>,
}

/// Who did an audited change: an operator (`name`) or a component of the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditActor {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
}

/// One audit log entry; `detail` is what the action recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub actor: AuditActor,
    pub action: String,
    #[serde(default)]
    pub detail: Value,
}
