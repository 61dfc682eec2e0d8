//! The stored receipt: what was printed (or should have been), kept so a receipt can be
//! reprinted and its QR code verified. Table RECEIPTS: receipt number → JSON record.

use crate::store::{Store, StoreError, decode, encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

/// The stored record is the API's receipt body (`voltvend_api_types`): one definition.
pub use voltvend_api_types::{PrintStatus, ReceiptRecord};

pub const RECEIPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("receipts");

pub fn put_in(txn: &WriteTransaction, r: &ReceiptRecord) -> Result<(), StoreError> {
    let mut t = txn.open_table(RECEIPTS)?;
    t.insert(r.receipt_no.as_str(), encode(r).as_slice())?;
    Ok(())
}

/// Stores `r` through the store writer (blocking: from async code use [`put_async`]).
pub fn put(store: &Store, r: &ReceiptRecord) -> Result<(), StoreError> {
    let r = r.clone();
    store.write(move |txn| put_in(txn, &r))
}

/// [`put`] for async callers.
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
