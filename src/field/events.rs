//! Facts the field side raises for the alarm module: an energy register that went backwards,
//! meters and gateways going offline and coming back (collector); overload, credit
//! mismatch, balance drift and a meter that did not trip itself (control queue).
//!
//! Table `alarm_events`: key a sequence number (u64, from 1), value a JSON [`FieldEvent`].
//! Written in the same transaction as the reading or state change that caused it, so an
//! event is recorded exactly once. The alarm module reads them in order (`since`).

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};

use crate::site::ids::{GatewayId, MeterId};
use crate::store::{Store, StoreError, decode, encode};
use crate::units::{Fen, Wh};

pub const ALARM_EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("alarm_events");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldEventKind {
    /// The energy register read lower than the previous stored reading (meter replaced or
    /// reset). No charge is made for it; the new value is the new baseline.
    RegisterRollback {
        meter: MeterId,
        previous: Wh,
        current: Wh,
    },
    /// A reading that may not be charged without a person looking at it (below the
    /// charged total, or more than the meter can pass): stored, not charged (see
    /// `field::suspect`). `why`: `decrease` or `too_high`.
    SuspectReading {
        meter: MeterId,
        at_ms: i64,
        basis: Wh,
        current: Wh,
        why: String,
    },
    /// Staff accepted or rejected a suspect reading of the meter; `pending` are left.
    SuspectResolved {
        meter: MeterId,
        by: String,
        pending: u32,
    },
    MeterOffline {
        meter: MeterId,
        why: String,
    },
    MeterOnline {
        meter: MeterId,
    },
    GatewayOffline {
        gateway: GatewayId,
        why: String,
    },
    GatewayOnline {
        gateway: GatewayId,
    },
    /// Power above the meter's overload limit for the configured number of consecutive
    /// readings (raised by the control queue, which may also trip the meter).
    Overload {
        meter: MeterId,
        power_w: i64,
        limit_w: i64,
    },
    OverloadCleared {
        meter: MeterId,
    },
    /// After a credit push the meter's purchase count or balance did not match what was
    /// sent; further credit to the meter is held until an operator resolves it.
    CreditMismatch {
        meter: MeterId,
        why: String,
    },
    CreditMismatchResolved {
        meter: MeterId,
        by: String,
    },
    /// Meter mode: the meter's own balance differs from the ledger by more than the
    /// configured tolerance.
    BalanceDrift {
        meter: MeterId,
        meter_balance: Fen,
        ledger_balance: Fen,
    },
    BalanceDriftCleared {
        meter: MeterId,
    },
    /// Meter mode: the balance is at or below zero but the meter still reads closed (it
    /// did not trip itself) and is not on keep-power.
    NotSelfTripped {
        meter: MeterId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldEvent {
    pub seq: u64,
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: FieldEventKind,
}

/// Appends an event inside `txn`; returns its sequence number.
pub fn append_in(
    txn: &redb::WriteTransaction,
    at: Timestamp,
    kind: FieldEventKind,
) -> Result<u64, StoreError> {
    let mut t = txn.open_table(ALARM_EVENTS)?;
    let seq = match t.last()? {
        Some((k, _)) => k.value() + 1,
        None => 1,
    };
    let ev = FieldEvent { seq, at, kind };
    t.insert(seq, encode(&ev).as_slice())?;
    Ok(seq)
}

/// Appends an event in its own transaction.
pub fn append(store: &Store, at: Timestamp, kind: FieldEventKind) -> Result<u64, StoreError> {
    store.write(move |txn| append_in(txn, at, kind.clone()))
}

/// Events with a sequence number above `after`, oldest first.
pub fn since(store: &Store, after: u64) -> Result<Vec<FieldEvent>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(ALARM_EVENTS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.range(after.saturating_add(1)..)? {
        out.push(decode("alarm_events", row?.1.value())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_numbered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let now = Timestamp::now();
        let m = MeterId::new("M1");
        append(
            &store,
            now,
            FieldEventKind::MeterOnline { meter: m.clone() },
        )
        .unwrap();
        let seq = append(
            &store,
            now,
            FieldEventKind::RegisterRollback {
                meter: m,
                previous: Wh(1000),
                current: Wh(10),
            },
        )
        .unwrap();
        assert_eq!(seq, 2);
        let evs = since(&store, 1).unwrap();
        assert_eq!(evs.len(), 1);
        assert!(matches!(
            evs[0].kind,
            FieldEventKind::RegisterRollback { .. }
        ));
    }
}
