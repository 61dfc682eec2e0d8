//! Batch operations: one command over many meters, and where each meter stands.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchRequest {
    /// read, trip, close, keep_power_on, keep_power_off, restore_prepaid, push_prices,
    /// push_settings.
    pub command: String,
    /// These meters; or leave it out and choose by building / floor / category.
    pub meters: Option<Vec<String>>,
    pub building: Option<String>,
    pub floor: Option<i32>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchStarted {
    pub id: u64,
    pub command: String,
    pub queued: usize,
    pub skipped: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchSummary {
    pub id: u64,
    pub at: String,
    pub by: String,
    pub command: String,
    pub meters: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ListQuery {
    /// Newest first; default 50.
    pub limit: Option<usize>,
}

/// One meter's line in a batch's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemProgress {
    pub meter: String,
    /// queued, sent, confirmed, waiting_for_tenant, failed or skipped.
    pub state: String,
    /// Why it failed or was skipped; the last error while it is being retried.
    pub reason: Option<String>,
    pub outbox: Option<u64>,
}

/// Where every meter of a batch stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub id: u64,
    pub at: String,
    pub by: String,
    pub command: crate::ledger::MeterCommand,
    pub total: usize,
    /// Queued commands that reached a final state (confirmed, failed, waiting).
    pub done: usize,
    pub confirmed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    /// Every queued command has finished.
    pub finished: bool,
    pub items: Vec<ItemProgress>,
}
