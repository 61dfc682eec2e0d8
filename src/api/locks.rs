//! Staff locks on meters: while a meter is locked (e.g. under maintenance, disputed, or
//! kept on for safety), tenants cannot switch it remotely. Table METER_LOCKS: meter id →
//! JSON `MeterLock`. Set and cleared through the operator API, audited in the same
//! transaction.

use crate::auth::{Actor, audit};
use crate::site::MeterId;
use crate::store::{Store, StoreError, decode, encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
pub use voltvend_api_types::MeterLock;

const METER_LOCKS: TableDefinition<&str, &[u8]> = TableDefinition::new("meter_locks");

pub fn get(store: &Store, meter: &MeterId) -> Result<Option<MeterLock>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(METER_LOCKS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match t.get(meter.as_str())? {
        Some(v) => Ok(Some(decode("meter_locks", v.value())?)),
        None => Ok(None),
    }
}

pub fn list(store: &Store) -> Result<Vec<MeterLock>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(METER_LOCKS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(decode("meter_locks", row?.1.value())?);
    }
    Ok(out)
}

/// Locks (`Some(reason)`) or unlocks (`None`) a meter; audited in the same transaction,
/// through the store writer.
pub async fn set(
    store: &Store,
    actor: &Actor,
    meter: &MeterId,
    reason: Option<&str>,
) -> Result<Option<MeterLock>, StoreError> {
    // Made before the write: the writer may run the closure twice (see store::writer).
    let lock = reason.map(|r| MeterLock {
        meter: meter.to_string(),
        by: actor.label(),
        reason: r.to_string(),
        at: jiff::Timestamp::now().to_string(),
    });
    let (actor, meter, reason) = (actor.clone(), meter.clone(), reason.map(String::from));
    let stored = lock.clone();
    store
        .write_async(move |txn| {
            {
                let mut t = txn.open_table(METER_LOCKS)?;
                match &stored {
                    Some(l) => t.insert(meter.as_str(), encode(l).as_slice())?,
                    None => t.remove(meter.as_str())?,
                };
            }
            audit::append_in(
                txn,
                &actor,
                if reason.is_some() {
                    "meter.lock"
                } else {
                    "meter.unlock"
                },
                serde_json::json!({"meter": meter.as_str(), "reason": reason}),
            )?;
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(lock)
}
