//! Data archival (数据转存): raw readings are rolled up into per-meter daily and monthly
//! energy rows kept forever ([`rollup`]); raw readings older than the retention are then
//! removed in small batches ([`retention`]). Reports read the day rows for closed days and
//! raw readings only for the days not rolled up yet (today).

pub mod retention;
pub mod rollup;

use crate::site::SiteError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Site(#[from] SiteError),
}

impl From<redb::TransactionError> for ArchiveError {
    fn from(e: redb::TransactionError) -> Self {
        ArchiveError::Store(e.into())
    }
}
impl From<redb::TableError> for ArchiveError {
    fn from(e: redb::TableError) -> Self {
        ArchiveError::Store(e.into())
    }
}
impl From<redb::StorageError> for ArchiveError {
    fn from(e: redb::StorageError) -> Self {
        ArchiveError::Store(e.into())
    }
}
impl From<redb::CommitError> for ArchiveError {
    fn from(e: redb::CommitError) -> Self {
        ArchiveError::Store(e.into())
    }
}
