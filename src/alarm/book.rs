//! The alarm book in redb: every alarm ever raised (history), the active one per (kind,
//! subject), and the engine's cursors. Raising and clearing happen inside the caller's
//! write transaction, so an alarm is recorded exactly when the change that caused it.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde_json::json;

use super::model::{Alarm, AlarmKind};
use crate::auth::{Actor, audit};
use crate::store::{Store, StoreError, decode, encode};

/// id → JSON [`Alarm`].
pub const ALARMS: TableDefinition<u64, &[u8]> = TableDefinition::new("alarms");
/// `kind|subject` → id of the active alarm.
pub const ACTIVE: TableDefinition<&str, u64> = TableDefinition::new("alarms_active");
/// `next_id`, `events_cursor` → u64.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("alarms_meta");
/// subject → ms since epoch it went offline, while waiting out the offline grace.
pub const PENDING_OFFLINE: TableDefinition<&str, i64> =
    TableDefinition::new("alarms_offline_since");

#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no alarm {0}")]
    NotFound(u64),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for AlarmError {
            fn from(e: $t) -> Self {
                AlarmError::Store(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

fn active_key(kind: AlarmKind, subject: &str) -> String {
    format!("{}|{subject}", kind.as_str())
}

fn put(txn: &WriteTransaction, a: &Alarm) -> Result<(), StoreError> {
    txn.open_table(ALARMS)?.insert(a.id, encode(a).as_slice())?;
    Ok(())
}

fn get_in(txn: &WriteTransaction, id: u64) -> Result<Option<Alarm>, StoreError> {
    let t = txn.open_table(ALARMS)?;
    let v = t.get(id)?;
    v.map(|v| decode("alarms", v.value())).transpose()
}

/// The active alarm of `kind` on `subject`, inside `txn`.
pub fn active_in(
    txn: &WriteTransaction,
    kind: AlarmKind,
    subject: &str,
) -> Result<Option<Alarm>, StoreError> {
    let id = txn
        .open_table(ACTIVE)?
        .get(active_key(kind, subject).as_str())?
        .map(|v| v.value());
    match id {
        Some(id) => get_in(txn, id),
        None => Ok(None),
    }
}

/// Raises `kind` on `subject` unless it is already active; returns the new alarm.
pub fn raise_in(
    txn: &WriteTransaction,
    kind: AlarmKind,
    subject: &str,
    at: Timestamp,
    value: Option<i64>,
    detail: String,
) -> Result<Option<Alarm>, StoreError> {
    if active_in(txn, kind, subject)?.is_some() {
        return Ok(None);
    }
    let id = {
        let mut meta = txn.open_table(META)?;
        let id = meta.get("next_id")?.map_or(1, |v| v.value());
        meta.insert("next_id", id + 1)?;
        id
    };
    let a = Alarm {
        id,
        kind,
        subject: subject.to_string(),
        raised_at: at,
        value,
        detail,
        acked_by: None,
        acked_at: None,
        cleared_at: None,
        last_sms_at: None,
    };
    put(txn, &a)?;
    txn.open_table(ACTIVE)?
        .insert(active_key(kind, subject).as_str(), id)?;
    tracing::info!(id, kind = kind.as_str(), subject, "alarm raised");
    Ok(Some(a))
}

/// Clears the active `kind` on `subject` (the condition ended); returns it if there was one.
pub fn clear_in(
    txn: &WriteTransaction,
    kind: AlarmKind,
    subject: &str,
    at: Timestamp,
) -> Result<Option<Alarm>, StoreError> {
    let Some(mut a) = active_in(txn, kind, subject)? else {
        return Ok(None);
    };
    a.cleared_at = Some(at);
    put(txn, &a)?;
    txn.open_table(ACTIVE)?
        .remove(active_key(kind, subject).as_str())?;
    tracing::info!(id = a.id, kind = kind.as_str(), subject, "alarm cleared");
    Ok(Some(a))
}

/// Stores a changed alarm (e.g. `last_sms_at`).
pub fn update_in(txn: &WriteTransaction, a: &Alarm) -> Result<(), StoreError> {
    put(txn, a)
}

/// An operator acknowledges alarm `id` (audited). Alarms of a moment (register rollback,
/// not self-tripped) are cleared by it; the others stay until their condition ends.
pub fn ack(store: &Store, actor: &Actor, id: u64) -> Result<Alarm, AlarmError> {
    let actor = actor.clone();
    store.write(move |txn| ack_in(txn, &actor, id, Timestamp::now()))
}

/// [`ack`] for async callers: the task waits for the writer, the runtime's worker does not.
pub async fn ack_async(store: &Store, actor: &Actor, id: u64) -> Result<Alarm, AlarmError> {
    let actor = actor.clone();
    // The time is taken once: the writer may run the closure twice.
    let now = Timestamp::now();
    store
        .write_async(move |txn| ack_in(txn, &actor, id, now))
        .await
}

fn ack_in(
    txn: &WriteTransaction,
    actor: &Actor,
    id: u64,
    now: Timestamp,
) -> Result<Alarm, AlarmError> {
    let mut a = get_in(txn, id)?.ok_or(AlarmError::NotFound(id))?;
    if a.acked_at.is_none() {
        a.acked_at = Some(now);
        a.acked_by = Some(actor.label());
        put(txn, &a)?;
        if a.kind.cleared_by_ack() && a.is_active() {
            a = clear_in(txn, a.kind, &a.subject, now)?.unwrap_or(a);
        }
        audit::append_in(
            txn,
            actor,
            "alarm.ack",
            json!({ "alarm": id, "kind": a.kind, "subject": a.subject }),
        )?;
    }
    Ok(a)
}

fn read_all(store: &Store, keep: impl Fn(&Alarm) -> bool) -> Result<Vec<Alarm>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(ALARMS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        let a: Alarm = decode("alarms", row?.1.value())?;
        if keep(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

/// The active alarms, oldest first.
pub fn active(store: &Store) -> Result<Vec<Alarm>, StoreError> {
    let txn = store.db().begin_read()?;
    let ids: Vec<u64> = match txn.open_table(ACTIVE) {
        Ok(t) => t
            .iter()?
            .map(|r| r.map(|(_, v)| v.value()))
            .collect::<Result<_, _>>()?,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let t = txn.open_table(ALARMS)?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(v) = t.get(id)? {
            out.push(decode::<Alarm>("alarms", v.value())?);
        }
    }
    out.sort_by_key(|a| a.id);
    Ok(out)
}

/// Every alarm raised in [from, to), oldest first (the alarm history report).
pub fn history(store: &Store, from: Timestamp, to: Timestamp) -> Result<Vec<Alarm>, StoreError> {
    read_all(store, |a| a.raised_at >= from && a.raised_at < to)
}

pub fn get(store: &Store, id: u64) -> Result<Option<Alarm>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(ALARMS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let v = t.get(id)?;
    v.map(|v| decode("alarms", v.value())).transpose()
}

/// A named cursor (e.g. the last field event consumed).
pub fn cursor_in(txn: &WriteTransaction, name: &str) -> Result<u64, StoreError> {
    Ok(txn.open_table(META)?.get(name)?.map_or(0, |v| v.value()))
}

pub fn set_cursor_in(txn: &WriteTransaction, name: &str, value: u64) -> Result<(), StoreError> {
    txn.open_table(META)?.insert(name, value)?;
    Ok(())
}
