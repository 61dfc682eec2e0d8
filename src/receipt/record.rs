//! The stored receipt: what was printed (or should have been), kept so a receipt can be
//! reprinted and its QR code verified. Table RECEIPTS: receipt number → JSON record.

use crate::store::{Store, StoreError, decode, encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

pub const RECEIPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("receipts");

/// Whether the paper came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Everything printed on a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptRecord {
    pub receipt_no: String,
    pub site_name: String,
    /// UTC, RFC 3339.
    pub issued_at: String,
    /// Local time as printed, e.g. `2026-11-25 08:30:00`.
    pub local_time: String,
    pub tenant: String,
    pub tenant_name: String,
    pub units: Vec<String>,
    pub meters: Vec<String>,
    pub amount_fen: i64,
    pub balance_after_fen: i64,
    pub purchase_count: u32,
    /// `kiosk` or `op:NAME`.
    pub issued_by: String,
    /// Payment method (`sandbox`, `cash`, …).
    pub method: String,
    /// Ledger operation id of the sale.
    pub op: u64,
    pub sig: String,
    pub print: PrintStatus,
    pub prints: u32,
}

pub fn put_in(txn: &WriteTransaction, r: &ReceiptRecord) -> Result<(), StoreError> {
    let mut t = txn.open_table(RECEIPTS)?;
    t.insert(r.receipt_no.as_str(), encode(r).as_slice())?;
    Ok(())
}

/// Stores `r` (insert or replace) through the store's writer; blocks: from async code use
/// [`put_async`].
pub fn put(store: &Store, r: &ReceiptRecord) -> Result<(), StoreError> {
    let r = r.clone();
    store.write(move |txn| put_in(txn, &r))
}

/// [`put`] for async callers (the task waits for the commit, the runtime's worker does not).
pub async fn put_async(store: &Store, r: &ReceiptRecord) -> Result<(), StoreError> {
    let r = r.clone();
    store.write_async(move |txn| put_in(txn, &r)).await
}

pub fn get(store: &Store, no: &str) -> Result<Option<ReceiptRecord>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(RECEIPTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match t.get(no)? {
        Some(v) => Ok(Some(decode("receipts", v.value())?)),
        None => Ok(None),
    }
}

/// All receipts, newest first, optionally only those of one tenant or only failed prints.
pub fn list(
    store: &Store,
    tenant: Option<&str>,
    failed_only: bool,
    limit: usize,
) -> Result<Vec<ReceiptRecord>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(RECEIPTS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()?.rev() {
        let (_, v) = row?;
        let r: ReceiptRecord = decode("receipts", v.value())?;
        if tenant.is_some_and(|x| x != r.tenant) {
            continue;
        }
        if failed_only && !matches!(r.print, PrintStatus::Failed { .. }) {
            continue;
        }
        out.push(r);
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}
