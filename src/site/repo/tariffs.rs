//! Named tariffs.
//!
//! Stored as JSON of a `crate::tariff::EffectiveTariff` (dated versions) or of a single
//! `crate::tariff::Tariff`; both are checked on every write. `get_tariff` returns the JSON
//! as stored, `effective_tariff` the typed, validated form.

use super::settings::defaults_in;
use super::{Change, KeyTable, SiteError, check_key, invalid, list_in, read_one};
use crate::auth::Actor;
use crate::auth::audit;
use crate::site::model::Meter;
use crate::store::{Store, decode, encode};
use crate::tariff::{EffectiveTariff, Tariff};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde_json::json;

/// tariff name → JSON tariff.
pub const TARIFFS: KeyTable = TableDefinition::new("site_tariffs");

/// Reads stored tariff JSON: an `EffectiveTariff`, or a single `Tariff` that never changes.
pub fn decode_tariff(value: &serde_json::Value) -> Result<EffectiveTariff, String> {
    let t = match serde_json::from_value::<EffectiveTariff>(value.clone()) {
        Ok(t) => t,
        Err(_) => serde_json::from_value::<Tariff>(value.clone())
            .map(EffectiveTariff::single)
            .map_err(|e| format!("not a tariff: {e}"))?,
    };
    t.validate().map_err(|e| e.to_string())?;
    Ok(t)
}

/// The tariff stored under `name`, typed and validated.
pub fn effective_tariff(store: &Store, name: &str) -> Result<Option<EffectiveTariff>, SiteError> {
    match get_tariff(store, name)? {
        None => Ok(None),
        Some(v) => decode_tariff(&v)
            .map(Some)
            .map_err(|why| invalid("tariff", name, "definition", why)),
    }
}

/// Stores a typed tariff under `name` (insert or replace) and audits it.
pub fn set_effective_tariff(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    tariff: &EffectiveTariff,
) -> Result<Change, SiteError> {
    let value = serde_json::to_value(tariff)
        .map_err(|e| invalid("tariff", name, "definition", e.to_string()))?;
    set_tariff(txn, actor, name, &value)
}

/// Removes a tariff that no meter overrides with and that is not the site default.
pub fn remove_tariff(txn: &WriteTransaction, actor: &Actor, name: &str) -> Result<bool, SiteError> {
    let in_use = |by: String| SiteError::InUse {
        kind: "tariff",
        key: name.to_string(),
        by,
    };
    if defaults_in(txn)?.default_tariff == name {
        return Err(in_use("the site defaults (default_tariff)".to_string()));
    }
    if let Some(m) = list_in::<Meter>(txn)?
        .into_iter()
        .find(|m| m.tariff.as_deref() == Some(name))
    {
        return Err(in_use(format!("meter '{}'", m.id)));
    }
    let Some(before) = get_tariff_in(txn, name)? else {
        return Ok(false);
    };
    txn.open_table(TARIFFS)?.remove(name)?;
    audit::append_in(
        txn,
        actor,
        "site.tariff.remove",
        json!({ "key": name, "before": before }),
    )?;
    Ok(true)
}

/// The tariff stored under `name`.
pub fn get_tariff(store: &Store, name: &str) -> Result<Option<serde_json::Value>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(TARIFFS) {
        Ok(t) => read_one(&t, "site_tariffs", name),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The tariff stored under `name`, inside `txn`.
pub fn get_tariff_in(
    txn: &WriteTransaction,
    name: &str,
) -> Result<Option<serde_json::Value>, SiteError> {
    let t = txn.open_table(TARIFFS)?;
    read_one(&t, "site_tariffs", name)
}

/// Every stored tariff by name.
pub fn list_tariffs(store: &Store) -> Result<Vec<(String, serde_json::Value)>, SiteError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(TARIFFS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        out.push((k.value().to_string(), decode("site_tariffs", v.value())?));
    }
    Ok(out)
}

/// Stores a named tariff given as JSON (insert or replace) after checking that it is a
/// valid `EffectiveTariff` or `Tariff`, and audits it.
pub fn set_tariff(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    tariff: &serde_json::Value,
) -> Result<Change, SiteError> {
    check_key("tariff", "name", name)?;
    if let Err(why) = decode_tariff(tariff) {
        return Err(invalid("tariff", name, "definition", why));
    }
    let before = get_tariff_in(txn, name)?;
    if before.as_ref() == Some(tariff) {
        return Ok(Change::Unchanged);
    }
    txn.open_table(TARIFFS)?
        .insert(name, encode(tariff).as_slice())?;
    audit::append_in(
        txn,
        actor,
        "site.tariff.set",
        json!({ "key": name, "before": before, "after": tariff }),
    )?;
    Ok(if before.is_some() {
        Change::Updated
    } else {
        Change::Added
    })
}
