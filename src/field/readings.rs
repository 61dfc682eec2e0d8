//! Stored full readings (the archive the ledger's consumption charges are computed from).
//!
//! Table `readings`: key `(meter id, reading time in Unix milliseconds)`, value the
//! compact binary record of [`codec`] (older stores: JSON, still read). One bus task reads a meter at a time, so the time is unique per meter; it is
//! also the reading's identity: the consumption charge of a reading uses
//! [`Reading::key`] (`"<meter>@<ms>"`) as the ledger's idempotency key.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};

use crate::site::ids::MeterId;
use crate::store::{Store, StoreError};
use crate::units::{Fen, Wh};

pub mod codec;
pub mod mark;

pub const READINGS: TableDefinition<(&str, i64), &[u8]> = TableDefinition::new("readings");

/// Relay state as the meter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relay {
    /// Power on.
    Closed,
    /// Tripped.
    Open,
}

impl Relay {
    pub fn as_str(self) -> &'static str {
        match self {
            Relay::Closed => "closed",
            Relay::Open => "open",
        }
    }
}

/// One full reading of a meter. Every value is an exact integer in the unit its name says;
/// per-phase values have one entry per phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    pub meter: MeterId,
    pub at: Timestamp,
    /// Total active energy register.
    pub total: Wh,
    /// Sharp, peak, flat, valley energy registers, when the meter has them.
    #[serde(default)]
    pub bands: Option<[Wh; 4]>,
    /// Voltage per phase in 0.1 V.
    #[serde(default)]
    pub voltage_dv: Vec<i64>,
    /// Current per phase in mA.
    #[serde(default)]
    pub current_ma: Vec<i64>,
    /// Total active power in W.
    #[serde(default)]
    pub power_w: Option<i64>,
    #[serde(default)]
    pub balance: Option<Fen>,
    #[serde(default)]
    pub purchase_count: Option<u32>,
    #[serde(default)]
    pub relay: Option<Relay>,
    /// Set when the energy register read lower than the previous stored reading. Reports
    /// skip the interval; charging does not look at it: a reading is charged from the
    /// meter's charge basis, and a lower one is a suspect reading (`field::suspect`).
    #[serde(default)]
    pub rollback: bool,
}

impl Reading {
    pub fn at_ms(&self) -> i64 {
        self.at.as_millisecond()
    }

    /// The ledger idempotency key of this reading's consumption charge.
    pub fn key(&self) -> String {
        format!("{}@{}", self.meter, self.at_ms())
    }
}

/// The reading of one `readings` row (key and value as stored).
pub fn from_row(key: (&str, i64), value: &[u8]) -> Result<Reading, StoreError> {
    codec::decode(key.0, key.1, value).map_err(|e| StoreError::Corrupt {
        table: "readings",
        why: format!("{}@{}: {e}", key.0, key.1),
    })
}

/// Stores `r` inside `txn` (replacing a reading at the same instant).
pub fn put_in(txn: &redb::WriteTransaction, r: &Reading) -> Result<(), StoreError> {
    txn.open_table(READINGS)?
        .insert((r.meter.as_str(), r.at_ms()), codec::encode(r).as_slice())?;
    // A reading at or before what is already rolled up must be rolled up again.
    mark::note_if_late(txn, r.meter.as_str(), r.at_ms())
}

/// The latest reading of `meter` inside a write transaction.
pub fn latest_in(
    txn: &redb::WriteTransaction,
    meter: &MeterId,
) -> Result<Option<Reading>, StoreError> {
    let t = txn.open_table(READINGS)?;
    last_of(&t, meter)
}

fn last_of(
    t: &impl ReadableTable<(&'static str, i64), &'static [u8]>,
    meter: &MeterId,
) -> Result<Option<Reading>, StoreError> {
    let m = meter.as_str();
    let mut range = t.range((m, i64::MIN)..=(m, i64::MAX))?;
    match range.next_back() {
        Some(row) => {
            let (k, v) = row?;
            Ok(Some(from_row(k.value(), v.value())?))
        }
        None => Ok(None),
    }
}

/// The latest stored reading of `meter`.
pub fn latest(store: &Store, meter: &MeterId) -> Result<Option<Reading>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    last_of(&t, meter)
}

/// The latest reading of `meter` strictly before `before` (e.g. the month's baseline).
pub fn latest_before(
    store: &Store,
    meter: &MeterId,
    before: Timestamp,
) -> Result<Option<Reading>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let m = meter.as_str();
    let mut range = t.range((m, i64::MIN)..(m, before.as_millisecond()))?;
    match range.next_back() {
        Some(row) => {
            let (k, v) = row?;
            Ok(Some(from_row(k.value(), v.value())?))
        }
        None => Ok(None),
    }
}

/// Readings of `meter` with `from <= at < to`, oldest first.
pub fn history(
    store: &Store,
    meter: &MeterId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Reading>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let m = meter.as_str();
    let mut out = Vec::new();
    for row in t.range((m, from.as_millisecond())..(m, to.as_millisecond()))? {
        let (k, v) = row?;
        out.push(from_row(k.value(), v.value())?);
    }
    Ok(out)
}

/// The energy register of one stored reading, as the usage sums need it: time (Unix ms,
/// from the key), total and the rollback flag. For an old JSON record only these are
/// decoded (not the meter id, timestamp text and per-phase lists of a full [`Reading`]),
/// which keeps the tenant usage request cheap: it walks a month of readings per meter on
/// every poll; a binary record is cheap to decode whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotalAt {
    pub at_ms: i64,
    pub total: Wh,
    pub rollback: bool,
}

#[derive(Deserialize)]
struct TotalOnly {
    total: Wh,
    #[serde(default)]
    rollback: bool,
}

/// [`history`], reduced to [`TotalAt`]: the same rows, oldest first.
pub fn totals(
    store: &Store,
    meter: &MeterId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<TotalAt>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let m = meter.as_str();
    let mut out = Vec::new();
    for row in t.range((m, from.as_millisecond())..(m, to.as_millisecond()))? {
        let (k, v) = row?;
        let (total, rollback) = if v.value().first() == Some(&b'{') {
            let r: TotalOnly = crate::store::decode("readings", v.value())?;
            (r.total, r.rollback)
        } else {
            let r = from_row(k.value(), v.value())?;
            (r.total, r.rollback)
        };
        out.push(TotalAt {
            at_ms: k.value().1,
            total,
            rollback,
        });
    }
    Ok(out)
}

/// Number of stored readings of `meter`.
pub fn count(store: &Store, meter: &MeterId) -> Result<usize, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let m = meter.as_str();
    Ok(t.range((m, i64::MIN)..=(m, i64::MAX))?.count())
}

/// Stores readings in one transaction; returns for each its predecessor (if any) and the
/// stored reading. A reading whose total is below its predecessor's is marked `rollback`
/// (charging and its alarm are `field::suspect::settle`'s, after this).
pub fn store_batch(
    store: &Store,
    new: Vec<Reading>,
) -> Result<Vec<(Option<Reading>, Reading)>, crate::store::StoreError> {
    // The work may run again if its group commit fails: it starts from `new` each time.
    store.write(move |txn| {
        let mut out = Vec::with_capacity(new.len());
        for mut r in new.iter().cloned() {
            let prev = latest_in(txn, &r.meter)?;
            if let Some(p) = &prev
                && r.total < p.total
            {
                r.rollback = true;
                tracing::warn!(meter = %r.meter, previous = %p.total, current = %r.total,
                    "energy register went backwards");
            }
            put_in(txn, &r)?;
            out.push((prev, r));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(meter: &str, ms: i64, total: i64) -> Reading {
        Reading {
            meter: MeterId::new(meter),
            at: Timestamp::from_millisecond(ms).unwrap(),
            total: Wh(total),
            bands: None,
            voltage_dv: vec![2200],
            current_ma: vec![1500],
            power_w: Some(330),
            balance: Some(Fen(12_345)),
            purchase_count: Some(3),
            relay: Some(Relay::Closed),
            rollback: false,
        }
    }

    #[test]
    fn latest_and_history_are_per_meter_and_ordered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        assert_eq!(latest(&store, &MeterId::new("A")).unwrap(), None);
        let txn = store.db().begin_write().unwrap();
        for (m, ms, t) in [
            ("A", 1000, 10),
            ("A", 3000, 30),
            ("AB", 5000, 99),
            ("A", 2000, 20),
        ] {
            put_in(&txn, &reading(m, ms, t)).unwrap();
        }
        txn.commit().unwrap();
        let a = MeterId::new("A");
        assert_eq!(latest(&store, &a).unwrap().unwrap().total, Wh(30));
        let ts = |ms| Timestamp::from_millisecond(ms).unwrap();
        let h: Vec<i64> = history(&store, &a, ts(0), ts(3000))
            .unwrap()
            .iter()
            .map(|r| r.total.0)
            .collect();
        assert_eq!(h, vec![10, 20]);
        // The slim decode sees the same rows as the full one.
        let full: Vec<TotalAt> = history(&store, &a, ts(0), ts(9000))
            .unwrap()
            .iter()
            .map(|r| TotalAt {
                at_ms: r.at_ms(),
                total: r.total,
                rollback: r.rollback,
            })
            .collect();
        assert_eq!(totals(&store, &a, ts(0), ts(9000)).unwrap(), full);
        assert_eq!(full.len(), 3);
        assert_eq!(
            latest_before(&store, &a, ts(2500)).unwrap().unwrap().total,
            Wh(20)
        );
        assert_eq!(count(&store, &a).unwrap(), 3);
        assert_eq!(reading("A", 1000, 1).key(), "A@1000");
    }

    #[test]
    fn a_register_going_backwards_is_flagged_for_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let out = store_batch(&store, vec![reading("A", 1000, 5000)]).unwrap();
        assert_eq!(out[0].0, None);
        let out = store_batch(&store, vec![reading("A", 2000, 40)]).unwrap();
        assert_eq!(out[0].0.as_ref().unwrap().total, Wh(5000));
        assert!(out[0].1.rollback);
        let out = store_batch(&store, vec![reading("A", 3000, 90)]).unwrap();
        assert!(!out[0].1.rollback);
        // The alarm is the suspect reading's (`field::suspect`), not the store's.
        assert!(crate::field::events::since(&store, 0).unwrap().is_empty());
    }
}
