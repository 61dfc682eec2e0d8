//! The redb store: one database file holds the site model, the ledger, the audit log, the
//! command outbox and the readings. Each module defines its own tables; this module opens
//! the database, keeps the schema version (running migrations on open), takes online
//! backups and offers the shared record helpers.

pub mod backup;
pub mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use backup::BackupReport;
pub use schema::Migration;
pub use writer::MAX_BATCH;

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
    #[error(
        "the store at {path} has schema version {found}, newer than this voltvend \
         understands ({supported}); upgrade voltvend or restore a backup"
    )]
    SchemaTooNew {
        path: String,
        found: u64,
        supported: u64,
    },
    #[error("migration of the store to schema version {to} ({name}) failed: {why}")]
    Migration {
        to: u64,
        name: &'static str,
        why: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the backup written to {path} failed its integrity check; it was removed")]
    BackupCorrupt { path: String },
    #[error("the store writer has stopped")]
    WriterGone,
    #[error("a write panicked; nothing of it was written")]
    WriterPanicked,
    #[error("a write asked for another write from inside the store writer")]
    Reentrant,
    #[error("store durability setting refused: {0}")]
    Durability(String),
    #[error("store commit failed: {0}")]
    BatchFailed(String),
}

/// redb's page cache. Its default (1 GiB) would let the daemon's memory grow with the store
/// file on a box with a few hundred MB of RAM; the hot pages (live meters, balances, the last
/// days' readings) of a 5,000-meter site fit well within this.
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// A handle on the open database; cheap to clone and share between tasks. Reads open their
/// own read transactions on [`Store::db`]; every write goes through [`Store::write`] or
/// [`Store::write_async`] (the one writer thread, see [`writer`]).
#[derive(Clone)]
pub struct Store {
    // Declared before `db`: the writer thread stops before the database closes.
    writer: Arc<writer::Writer>,
    db: Arc<redb::Database>,
    path: Arc<PathBuf>,
}

impl Store {
    /// Opens (or creates) the database file at `path` and brings its schema up to the last
    /// of `migrations` (each in its own durable transaction). A file written by a newer
    /// voltvend is refused rather than misread. `Store::open` (in `crate::migrations`)
    /// opens with every module's migrations.
    pub fn open_with(path: &Path, migrations: &[Migration]) -> Result<Store, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let db = Arc::new(db);
        let writer = writer::Writer::start(Arc::downgrade(&db), &path.display().to_string())?;
        let store = Store {
            writer: Arc::new(writer),
            db,
            path: Arc::new(path.to_path_buf()),
        };
        // Before anything else can write: each migration commits on its own.
        schema::migrate(&store, migrations)?;
        Ok(store)
    }

    pub fn db(&self) -> &redb::Database {
        &self.db
    }

    /// The database file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        schema::version(self)
    }

    /// Writes a consistent copy of the whole database to `dest` while the store stays open
    /// (readers continue; writers wait for the copy). See [`backup`].
    pub fn backup_to(&self, dest: &Path) -> Result<BackupReport, StoreError> {
        backup::backup_to(self, dest)
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
