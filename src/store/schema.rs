//! Schema version and migrations.
//!
//! The file records its schema version in the `store_meta` table. On open, every migration
//! with a version above the recorded one runs in order, each in its own durable write
//! transaction that also records the new version, so a crash mid-upgrade resumes at the
//! first migration not yet committed.
//!
//! The store runs migrations but knows none but its own first ([`INITIAL`]): a module that
//! changes the shape of its tables declares a [`Migration`] beside them (e.g.
//! `site::repo::UNIT_METERS_INDEX`), and `crate::migrations` lists them all in version order
//! and opens the store with them. So the store depends on nothing above it.

use super::{Store, StoreError};
use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

/// Store-wide settings: `schema_version` → u64.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("store_meta");

const VERSION_KEY: &str = "schema_version";

/// One step of the schema: run inside the transaction that records `version`.
pub struct Migration {
    pub version: u64,
    pub name: &'static str,
    pub run: fn(&WriteTransaction) -> Result<(), StoreError>,
}

/// Version 1, the store's own: tables are created on first use, so it only starts the
/// record.
pub const INITIAL: Migration = Migration {
    version: 1,
    name: "initial tables",
    run: |_| Ok(()),
};

/// The recorded version; 0 for a new, empty file.
pub fn version(store: &Store) -> Result<u64, StoreError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    Ok(table.get(VERSION_KEY)?.map_or(0, |v| v.value()))
}

/// Brings `store` up to the last version of `migrations`.
pub fn migrate(store: &Store, migrations: &[Migration]) -> Result<(), StoreError> {
    let found = version(store)?;
    let supported = migrations.last().map_or(0, |m| m.version);
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            path: store.path().display().to_string(),
            found,
            supported,
        });
    }
    for m in migrations.iter().filter(|m| m.version > found) {
        let txn = store.db().begin_write()?;
        (m.run)(&txn).map_err(|e| StoreError::Migration {
            to: m.version,
            name: m.name,
            why: e.to_string(),
        })?;
        {
            let mut meta = txn.open_table(META)?;
            meta.insert(VERSION_KEY, m.version)?;
        }
        txn.commit()?;
        tracing::info!(version = m.version, name = m.name, "store migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: TableDefinition<&str, u64> = TableDefinition::new("demo");

    fn add_demo(txn: &WriteTransaction) -> Result<(), StoreError> {
        let mut t = txn.open_table(DEMO)?;
        t.insert("migrated", 2)?;
        Ok(())
    }

    fn fail(_: &WriteTransaction) -> Result<(), StoreError> {
        Err(StoreError::Corrupt {
            table: "demo",
            why: "refused on purpose".into(),
        })
    }

    #[test]
    fn migrations_run_once_in_order_and_a_failed_one_leaves_the_version() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(&dir.path().join("s.redb"), &[INITIAL]).unwrap();
        let steps = [
            Migration {
                version: 1,
                name: "initial tables",
                run: |_| Ok(()),
            },
            Migration {
                version: 2,
                name: "demo",
                run: add_demo,
            },
            Migration {
                version: 3,
                name: "broken",
                run: fail,
            },
        ];
        let err = migrate(&store, &steps).unwrap_err();
        assert_eq!(
            err.to_string(),
            "migration of the store to schema version 3 (broken) failed: \
             a stored record is corrupt (demo): refused on purpose"
        );
        assert_eq!(version(&store).unwrap(), 2);
        migrate(&store, &steps[..2]).unwrap();
        assert_eq!(version(&store).unwrap(), 2);
        let err = migrate(&store, &steps[..1]).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SchemaTooNew {
                found: 2,
                supported: 1,
                ..
            }
        ));
    }
}
