//! Tenant login lockout: after 5 wrong PINs in a row for a unit number, that unit cannot log
//! in for 15 minutes. Counted per typed unit number (known or not, so probing for valid
//! units gains nothing) and stored in redb, so a restart does not reset the count.

use crate::store::{Store, StoreError, decode, encode};
use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, TableDefinition};
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

fn write(store: &Store, unit: &str, a: &Attempts) -> Result<(), StoreError> {
    let txn = store.db().begin_write()?;
    {
        let mut t = txn.open_table(TENANT_LOGINS)?;
        t.insert(unit, encode(a).as_slice())?;
    }
    txn.commit()?;
    Ok(())
}

/// Whether `unit` may try a PIN now.
pub fn gate(store: &Store, unit: &str, now: Timestamp) -> Result<Gate, StoreError> {
    let a = read(store, unit)?;
    Ok(match a.locked_until {
        Some(until) if until > now => Gate::Locked { until },
        _ => Gate::Open,
    })
}

/// Records a wrong PIN; returns how many tries are left (0 = now locked) and the lock end.
pub fn fail(
    store: &Store,
    unit: &str,
    now: Timestamp,
) -> Result<(u32, Option<Timestamp>), StoreError> {
    let mut a = read(store, unit)?;
    if a.locked_until.is_some_and(|u| u <= now) {
        a = Attempts::default();
    }
    a.failures += 1;
    if a.failures >= MAX_FAILURES {
        a.locked_until = Some(now + LOCK_FOR);
    }
    write(store, unit, &a)?;
    Ok((MAX_FAILURES.saturating_sub(a.failures), a.locked_until))
}

/// Clears the count after a good PIN (or when staff unlock a unit).
pub fn clear(store: &Store, unit: &str) -> Result<(), StoreError> {
    write(store, unit, &Attempts::default())
}
