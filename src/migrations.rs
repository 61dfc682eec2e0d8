//! The schema history of the store: every module's migrations, in version order.
//!
//! The store layer runs migrations without knowing them (it sits below every module that
//! owns tables); each owner declares its migration beside its tables and this list, above
//! them all, composes them. [`Store::open`] opens a store with this list: add a migration
//! here, at the end, with the next version.

use crate::store::{Migration, Store, StoreError, schema};
use std::path::Path;

/// Every migration, in version order, ending at [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Migration] = &[schema::INITIAL, crate::site::repo::UNIT_METERS_INDEX];

/// The schema this build writes.
pub const SCHEMA_VERSION: u64 = 2;

impl Store {
    /// Opens (or creates) the database file at `path` and brings its schema up to
    /// [`SCHEMA_VERSION`] (see [`Store::open_with`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, MIGRATIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_to_the_schema_version() {
        let versions: Vec<u64> = MIGRATIONS.iter().map(|m| m.version).collect();
        let expected: Vec<u64> = (1..=SCHEMA_VERSION).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn new_store_records_the_current_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
