//! Online backup to a file.
//!
//! redb is copy-on-write: a durable commit never overwrites a page that the previous
//! durable commit still uses, and opening a file that was not closed cleanly repairs it back
//! to its last durable commit. So a byte copy of the file taken while no write transaction
//! is running is, after that repair, exactly the last committed state. We hold a write
//! transaction (which stops other writers but not readers) for the duration of the copy,
//! then open the copy once to repair and integrity-check it, and only then move it to its
//! final name. A failed check removes the copy rather than leave a backup that lies.

use super::{Store, StoreError};
use std::fs::File;
use std::path::Path;

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub bytes: u64,
    pub schema_version: u64,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub fn backup_to(store: &Store, dest: &Path) -> Result<BackupReport, StoreError> {
    let schema_version = store.schema_version()?;
    let tmp = dest.with_extension("partial");
    let bytes = {
        // Held, unused, until the copy is complete: no commit can change the file meanwhile.
        let quiet = store.db().begin_write()?;
        let copied = std::fs::copy(store.path(), &tmp).map_err(io(&tmp));
        quiet.abort()?;
        copied?
    };
    File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    let checked = (|| {
        let mut db = redb::Database::open(&tmp).map_err(|source| StoreError::Open {
            path: tmp.display().to_string(),
            source,
        })?;
        db.check_integrity().map_err(|source| StoreError::Open {
            path: tmp.display().to_string(),
            source,
        })
    })();
    if !matches!(checked, Ok(true)) {
        let _ = std::fs::remove_file(&tmp);
        return match checked {
            Err(e) => Err(e),
            Ok(_) => Err(StoreError::BackupCorrupt {
                path: dest.display().to_string(),
            }),
        };
    }
    std::fs::rename(&tmp, dest).map_err(io(dest))?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable.
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(BackupReport {
        bytes,
        schema_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableDatabase, TableDefinition};

    const T: TableDefinition<u64, u64> = TableDefinition::new("backup_test");

    #[test]
    fn backup_taken_while_open_holds_every_committed_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("live.redb")).unwrap();
        for i in 0..50u64 {
            let txn = store.db().begin_write().unwrap();
            txn.open_table(T).unwrap().insert(i, i * 3).unwrap();
            txn.commit().unwrap();
        }
        // A reader stays open across the backup, as the API's readers would.
        let reader = store.db().begin_read().unwrap();
        let dest = dir.path().join("copy.redb");
        let report = store.backup_to(&dest).unwrap();
        drop(reader);
        assert!(report.bytes > 0);
        assert_eq!(report.schema_version, store.schema_version().unwrap());
        // The live store keeps working after the backup.
        let txn = store.db().begin_write().unwrap();
        txn.open_table(T).unwrap().insert(99, 1).unwrap();
        txn.commit().unwrap();

        let copy = Store::open(&dest).unwrap();
        let r = copy.db().begin_read().unwrap();
        let t = r.open_table(T).unwrap();
        for i in 0..50u64 {
            assert_eq!(t.get(i).unwrap().unwrap().value(), i * 3);
        }
        assert!(t.get(99).unwrap().is_none());
        assert!(!dir.path().join("copy.partial").exists());
    }
}
