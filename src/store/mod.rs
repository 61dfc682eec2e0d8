//! The redb store: one database file holds the site model, the ledger, the audit log, the
//! command outbox and the readings. Each module defines its own tables; this module opens
//! the database, keeps the schema version and offers the shared helpers.

use std::path::Path;
use std::sync::Arc;

/// Errors from the store layer, with the redb cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("store transaction failed: {0}")]
    Transaction(#[from] redb::TransactionError),
    #[error("store table failed: {0}")]
    Table(#[from] redb::TableError),
    #[error("store read/write failed: {0}")]
    Storage(#[from] redb::StorageError),
    #[error("store commit failed: {0}")]
    Commit(#[from] redb::CommitError),
    #[error("a stored record is corrupt ({table}): {why}")]
    Corrupt { table: &'static str, why: String },
}

/// A handle on the open database; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Store {
    db: Arc<redb::Database>,
}

impl Store {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = redb::Database::create(path).map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Store { db: Arc::new(db) })
    }

    pub fn db(&self) -> &redb::Database {
        &self.db
    }
}

/// Encodes a record for a table value. Records are JSON: readable with any redb tool,
/// tolerant of added fields, and fast enough next to the fsync that dominates a commit.
pub fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Serialising our own plain structs to a Vec cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a record read from `table`.
pub fn decode<T: serde::de::DeserializeOwned>(
    table: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        table,
        why: e.to_string(),
    })
}
