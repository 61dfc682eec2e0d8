//! How far each meter's readings are rolled up into the archive (`archive_marks`), and the
//! readings stored at or behind that mark since (`archive_late`).
//!
//! The archive (`crate::archive::rollup`) keeps the marks and reads the late list; the one
//! function that stores readings ([`super::put_in`]) checks each reading against the mark in
//! its own transaction. The marks live here, below both, so storing a reading does not
//! depend on the archive that reads the readings.

use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, decode};

/// meter → JSON [`Mark`].
pub const MARKS: TableDefinition<&str, &[u8]> = TableDefinition::new("archive_marks");
/// (meter, reading ms) of readings stored at or before the meter's mark.
pub const LATE: TableDefinition<(&str, i64), ()> = TableDefinition::new("archive_late");

/// The registers a delta is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub at_ms: i64,
    pub total_wh: i64,
    pub bands_wh: Option<[i64; 4]>,
}

/// How far a meter is rolled up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The last reading rolled up.
    pub last: Option<Base>,
    /// Every reading before this instant (ms) is rolled up.
    pub until_ms: i64,
}

pub fn get_mark(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    meter: &str,
) -> Result<Option<Mark>, StoreError> {
    t.get(meter)?
        .map(|v| decode("archive_marks", v.value()))
        .transpose()
}

/// The mark of `meter` (None: nothing rolled up yet).
pub fn mark(store: &Store, meter: &str) -> Result<Option<Mark>, StoreError> {
    let txn = store.db().begin_read()?;
    mark_in_read(&txn, meter)
}

pub fn mark_in_read(txn: &ReadTransaction, meter: &str) -> Result<Option<Mark>, StoreError> {
    match txn.open_table(MARKS) {
        Ok(t) => get_mark(&t, meter),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Called inside the transaction that stores a reading of `meter` taken at `at_ms`: records
/// it when it lands at or before the meter's mark (see the module comment).
pub fn note_if_late(
    txn: &redb::WriteTransaction,
    meter: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    let late = {
        let marks = txn.open_table(MARKS)?;
        get_mark(&marks, meter)?
            .and_then(|m| m.last)
            .is_some_and(|last| at_ms <= last.at_ms)
    };
    if late {
        txn.open_table(LATE)?.insert((meter, at_ms), ())?;
    }
    Ok(())
}
