//! Tenant login lockout: after 5 wrong PINs in a row for a unit number, that unit cannot log
//! in for 15 minutes. Counted per typed unit number (known or not, so probing for valid
//! units gains nothing) and stored in redb, so a restart does not reset the count. Writes
//! are `*_in` functions over the caller's write transaction, so the change commits with
//! whatever goes with it (the lockout's audit entry, the staff unlock's).

use crate::store::{Store, StoreError, decode, encode};
use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

const TENANT_LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("tenant_logins");

pub const MAX_FAILURES: u32 = 5;
pub const LOCK_FOR: SignedDuration = SignedDuration::from_mins(15);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Attempts {
    failures: u32,
    locked_until: Option<Timestamp>,
}

/// The state of one unit's logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open,
    Locked { until: Timestamp },
}

fn read(store: &Store, unit: &str) -> Result<Attempts, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(TENANT_LOGINS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Attempts::default()),
        Err(e) => return Err(e.into()),
    };
    match t.get(unit)? {
        Some(v) => decode("tenant_logins", v.value()),
        None => Ok(Attempts::default()),
    }
}

/// Whether `unit` may try a PIN now.
pub fn gate(store: &Store, unit: &str, now: Timestamp) -> Result<Gate, StoreError> {
    let a = read(store, unit)?;
    Ok(match a.locked_until {
        Some(until) if until > now => Gate::Locked { until },
        _ => Gate::Open,
    })
}

/// Records a wrong PIN in `txn` (read and counted in the same transaction, so two wrong
/// PINs at once both count); returns how many tries are left (0 = now locked) and the
/// lock end.
pub fn fail_in(
    txn: &WriteTransaction,
    unit: &str,
    now: Timestamp,
) -> Result<(u32, Option<Timestamp>), StoreError> {
    let mut t = txn.open_table(TENANT_LOGINS)?;
    let mut a: Attempts = match t.get(unit)? {
        Some(v) => decode("tenant_logins", v.value())?,
        None => Attempts::default(),
    };
    if a.locked_until.is_some_and(|u| u <= now) {
        a = Attempts::default();
    }
    a.failures += 1;
    if a.failures >= MAX_FAILURES {
        a.locked_until = Some(now + LOCK_FOR);
    }
    t.insert(unit, encode(&a).as_slice())?;
    Ok((MAX_FAILURES.saturating_sub(a.failures), a.locked_until))
}

/// Clears the count in `txn` after a good PIN (or when staff unlock a unit).
pub fn clear_in(txn: &WriteTransaction, unit: &str) -> Result<(), StoreError> {
    txn.open_table(TENANT_LOGINS)?
        .insert(unit, encode(&Attempts::default()).as_slice())?;
    Ok(())
}
