//! Site records in redb: one table per kind, keyed by the record's natural key, JSON values.
//!
//! Reads take `&Store` (their own read transaction) or, with the `_in` suffix, the caller's
//! write transaction. Every write takes the caller's `&WriteTransaction` and an actor, checks
//! the record and its references (a meter's gateway, bus and unit; a unit's building; a
//! tenant's units), and appends an audit entry in that same transaction, so a change never
//! exists without its audit record and a batch of changes commits or aborts as one.
//!
//! One file per record kind: [`buildings`] (and units), [`gateways`] (with their buses),
//! [`meters`] (and their address and unit indexes), [`tenants`], [`settings`] (the site
//! defaults) and [`tariffs`]. This file holds what they share: the error, the [`Record`]
//! trait and the generic read, put and delete that audit every change.

use super::model::parse_key;
use crate::auth::Actor;
use crate::auth::audit;
use crate::store::{Store, StoreError, decode, encode};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

mod buildings;
mod gateways;
mod meters;
mod settings;
mod tariffs;
mod tenants;

pub use buildings::*;
pub use gateways::*;
pub use meters::*;
pub use settings::*;
pub use tariffs::*;
pub use tenants::*;

type KeyTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// Errors of the site repository.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A field is invalid or refers to something that does not exist.
    #[error("{kind} '{key}': {field}: {why}")]
    Invalid {
        kind: &'static str,
        key: String,
        field: &'static str,
        why: String,
    },
    /// The record is still referred to and cannot be removed or narrowed.
    #[error("{kind} '{key}' is still used by {by}")]
    InUse {
        kind: &'static str,
        key: String,
        by: String,
    },
}

impl From<redb::TransactionError> for SiteError {
    fn from(e: redb::TransactionError) -> Self {
        SiteError::Store(e.into())
    }
}

impl From<redb::TableError> for SiteError {
    fn from(e: redb::TableError) -> Self {
        SiteError::Store(e.into())
    }
}

impl From<redb::StorageError> for SiteError {
    fn from(e: redb::StorageError) -> Self {
        SiteError::Store(e.into())
    }
}

impl From<redb::CommitError> for SiteError {
    fn from(e: redb::CommitError) -> Self {
        SiteError::Store(e.into())
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Updated,
    Unchanged,
}

impl Change {
    /// As the API and messages say it: added, updated, unchanged.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        }
    }
}

/// A kind of site record stored in its own table under its natural key.
pub trait Record: Serialize + DeserializeOwned + PartialEq + Clone {
    const TABLE: KeyTable;
    /// Singular name used in messages and audit actions, e.g. `meter`.
    const KIND: &'static str;
    fn key(&self) -> &str;
}

fn read_one<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
    key: &str,
) -> Result<Option<T>, SiteError> {
    match table.get(key)? {
        Some(v) => Ok(Some(decode(name, v.value())?)),
        None => Ok(None),
    }
}

fn read_all<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
) -> Result<Vec<T>, SiteError> {
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode(name, v.value())?);
    }
    Ok(out)
}

/// Reads one record in its own read transaction.
pub fn get<R: Record>(store: &Store, key: &str) -> Result<Option<R>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(R::TABLE) {
        Ok(t) => read_one(&t, R::KIND, key),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads every record of a kind, in key order.
pub fn list<R: Record>(store: &Store) -> Result<Vec<R>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(R::TABLE) {
        Ok(t) => read_all(&t, R::KIND),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Reads one record inside a write transaction (sees the transaction's own changes).
pub fn get_in<R: Record>(txn: &WriteTransaction, key: &str) -> Result<Option<R>, SiteError> {
    let t = txn.open_table(R::TABLE)?;
    read_one(&t, R::KIND, key)
}

/// Reads every record of a kind inside a write transaction, in key order.
pub fn list_in<R: Record>(txn: &WriteTransaction) -> Result<Vec<R>, SiteError> {
    let t = txn.open_table(R::TABLE)?;
    read_all(&t, R::KIND)
}

/// Stores `rec` (insert or replace) and audits the change; unchanged records are not
/// rewritten and not audited.
fn put<R: Record>(txn: &WriteTransaction, actor: &Actor, rec: &R) -> Result<Change, SiteError> {
    let before: Option<R> = get_in(txn, rec.key())?;
    let change = match &before {
        Some(b) if b == rec => return Ok(Change::Unchanged),
        Some(_) => Change::Updated,
        None => Change::Added,
    };
    {
        let mut t = txn.open_table(R::TABLE)?;
        t.insert(rec.key(), encode(rec).as_slice())?;
    }
    let action = match change {
        Change::Added => format!("site.{}.add", R::KIND),
        _ => format!("site.{}.update", R::KIND),
    };
    audit::append_in(
        txn,
        actor,
        &action,
        json!({ "key": rec.key(), "before": before, "after": rec }),
    )?;
    Ok(change)
}

/// Removes the record under `key` and audits it; false if there was none.
fn delete<R: Record>(txn: &WriteTransaction, actor: &Actor, key: &str) -> Result<bool, SiteError> {
    let before: Option<R> = get_in(txn, key)?;
    let Some(before) = before else {
        return Ok(false);
    };
    {
        let mut t = txn.open_table(R::TABLE)?;
        t.remove(key)?;
    }
    audit::append_in(
        txn,
        actor,
        &format!("site.{}.remove", R::KIND),
        json!({ "key": key, "before": before }),
    )?;
    Ok(true)
}

fn invalid(kind: &'static str, key: &str, field: &'static str, why: String) -> SiteError {
    SiteError::Invalid {
        kind,
        key: key.to_string(),
        field,
        why,
    }
}

fn check_key(kind: &'static str, field: &'static str, key: &str) -> Result<(), SiteError> {
    match parse_key(key) {
        Ok(k) if k == key => Ok(()),
        Ok(_) => Err(invalid(
            kind,
            key,
            field,
            format!("'{key}' has blanks around it"),
        )),
        Err(why) => Err(invalid(kind, key, field, why)),
    }
}

fn check_name(kind: &'static str, key: &str, name: &str) -> Result<(), SiteError> {
    if name.trim().is_empty() {
        return Err(invalid(kind, key, "name", "the name is empty".to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
