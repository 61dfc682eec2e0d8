//! The outbox of meter commands. An operation that needs a meter to act (credit to push, a
//! relay to close) writes the command here in its own transaction, so the command exists
//! exactly when the operation does. The control queue reads `pending`, sends each command,
//! and `take`s it once the meter confirmed.
//!
//! A token command (credit, withdrawal, clear) is marked *sent* by [`mark_sent_in`] in the
//! transaction that commits to writing it, before any byte goes to the meter; the mark and
//! the ledger's reversal both run on the store writer, so a reversal either withdraws a
//! command that was never sent or sees the mark and refuses.

use crate::site::MeterId;
use crate::store::{Store, StoreError, decode, encode};
use crate::units::Fen;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

/// entry id → JSON `OutboxEntry`.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// "next" → the next entry id (ids are never reused, even after `take`).
const OUTBOX_SEQ: TableDefinition<&str, u64> = TableDefinition::new("outbox_seq");
/// entry id → () once the control queue may have written the command to the meter. Kept
/// after `take` (a reversal long after the push must still see it was sent).
const OUTBOX_SENT: TableDefinition<u64, ()> = TableDefinition::new("outbox_sent");

/// A command for one meter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeterCommand {
    Trip,
    Close,
    KeepPower(bool),
    RestorePrepaid,
    PushCredit {
        amount: Fen,
        purchase_count: u32,
    },
    /// Take `amount` off a meter-mode meter's own balance (a refund), with the meter's next
    /// purchase count; the refund is paid out once the read-back confirms it.
    WithdrawCredit {
        amount: Fen,
        purchase_count: u32,
    },
    /// Set a meter-mode meter's own balance to zero (its account closed), with the meter's
    /// next purchase count.
    ClearCredit {
        purchase_count: u32,
    },
    PushPrices,
    PushSettings,
    /// Read the meter's live values now (a batch "read status"); confirmed when it answers.
    ReadNow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: u64,
    pub meter: MeterId,
    pub command: MeterCommand,
    /// The ledger operation (or other cause) that wrote it; 0 when none.
    pub cause_op: u64,
    pub created_at: jiff::Timestamp,
}

/// Queues `command` for `meter` inside `txn`; returns the entry id.
pub fn push_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    command: MeterCommand,
    cause_op: u64,
) -> Result<u64, StoreError> {
    let id = {
        let mut seq = txn.open_table(OUTBOX_SEQ)?;
        let id = seq.get("next")?.map_or(1, |v| v.value());
        seq.insert("next", id + 1)?;
        id
    };
    let entry = OutboxEntry {
        id,
        meter: meter.clone(),
        command,
        cause_op,
        created_at: jiff::Timestamp::now(),
    };
    txn.open_table(OUTBOX)?
        .insert(id, encode(&entry).as_slice())?;
    Ok(id)
}

/// The entry `id` if it is still queued, read inside `txn`.
pub fn get_in(txn: &WriteTransaction, id: u64) -> Result<Option<OutboxEntry>, StoreError> {
    let table = txn.open_table(OUTBOX)?;
    let entry = table.get(id)?;
    entry.map(|v| decode("outbox", v.value())).transpose()
}

/// Marks entry `id` as (about to be) sent, inside `txn`; returns the entry, or `None` when
/// it is no longer queued (withdrawn by a reversal, or finished): then nothing may be sent.
pub fn mark_sent_in(txn: &WriteTransaction, id: u64) -> Result<Option<OutboxEntry>, StoreError> {
    let Some(entry) = get_in(txn, id)? else {
        return Ok(None);
    };
    txn.open_table(OUTBOX_SENT)?.insert(id, ())?;
    Ok(Some(entry))
}

/// Whether entry `id` was ever marked sent, read inside `txn`.
pub fn was_sent_in(txn: &WriteTransaction, id: u64) -> Result<bool, StoreError> {
    Ok(txn.open_table(OUTBOX_SENT)?.get(id)?.is_some())
}

/// Removes entry `id` inside `txn`; returns it if it was queued.
pub fn take_in(txn: &WriteTransaction, id: u64) -> Result<Option<OutboxEntry>, StoreError> {
    let mut table = txn.open_table(OUTBOX)?;
    let entry = table.remove(id)?;
    entry.map(|v| decode("outbox", v.value())).transpose()
}

/// Every queued command, oldest first.
pub fn pending(store: &Store) -> Result<Vec<OutboxEntry>, StoreError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(OUTBOX) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode("outbox", v.value())?);
    }
    Ok(out)
}

/// Removes entry `id` (the command was carried out); returns it if it was queued.
pub fn take(store: &Store, id: u64) -> Result<Option<OutboxEntry>, StoreError> {
    store.write(move |txn| take_in(txn, id))
}
