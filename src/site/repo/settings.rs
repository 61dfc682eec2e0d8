//! The site-wide defaults (one record, the built-in defaults until set).

use super::{Change, KeyTable, SiteError, invalid, read_one};
use crate::auth::Actor;
use crate::auth::audit;
use crate::site::model::SiteDefaults;
use crate::store::{Store, encode};
use redb::{ReadableDatabase, TableDefinition, TableError, WriteTransaction};
use serde_json::json;

/// `defaults` → JSON [`SiteDefaults`].
pub const SETTINGS: KeyTable = TableDefinition::new("site_settings");

const DEFAULTS_KEY: &str = "defaults";

/// The site defaults (the built-in ones until set).
pub fn defaults(store: &Store) -> Result<SiteDefaults, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(SETTINGS) {
        Ok(t) => Ok(read_one(&t, "site_settings", DEFAULTS_KEY)?.unwrap_or_default()),
        Err(TableError::TableDoesNotExist(_)) => Ok(SiteDefaults::default()),
        Err(e) => Err(e.into()),
    }
}

/// The site defaults as seen inside `txn`.
pub fn defaults_in(txn: &WriteTransaction) -> Result<SiteDefaults, SiteError> {
    let t = txn.open_table(SETTINGS)?;
    Ok(read_one(&t, "site_settings", DEFAULTS_KEY)?.unwrap_or_default())
}

/// Replaces the site defaults after checking every field.
pub fn set_defaults(
    txn: &WriteTransaction,
    actor: &Actor,
    d: &SiteDefaults,
) -> Result<Change, SiteError> {
    if let Some((field, why)) = d.problems().into_iter().next() {
        return Err(invalid("site defaults", "defaults", field, why));
    }
    let before = {
        let t = txn.open_table(SETTINGS)?;
        read_one::<SiteDefaults>(&t, "site_settings", DEFAULTS_KEY)?
    };
    if before.as_ref() == Some(d) {
        return Ok(Change::Unchanged);
    }
    txn.open_table(SETTINGS)?
        .insert(DEFAULTS_KEY, encode(d).as_slice())?;
    audit::append_in(
        txn,
        actor,
        "site.defaults.set",
        json!({ "before": before, "after": d }),
    )?;
    Ok(if before.is_some() {
        Change::Updated
    } else {
        Change::Added
    })
}
