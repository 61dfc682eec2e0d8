//! The request and response bodies of the operator API and its route paths: the shared
//! contract crate (`voltvend-api-types`, which the daemon's handlers use too), plus the
//! bodies the daemon still sends as free-form JSON (settings, operations, audit entries,
//! report tables, batch progress), typed here as the console reads them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use voltvend_api_types::*;

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
