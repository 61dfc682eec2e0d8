//! The charge basis and suspect readings (issue 13 item 1).
//!
//! Every meter has a **charge basis**: the last reading whose energy was charged (or that
//! staff made the baseline). A new reading is charged from the basis, never from the
//! previous stored reading, so an interval that failed to charge (a transient ledger error)
//! is charged with the next one, and a bad reading never becomes a baseline by itself.
//! [`super::plausible`] decides whether the step from the basis may be charged
//! automatically; a reading that may not is a **suspect reading**: stored like any reading,
//! recorded here, raised as an alarm, and never charged until a person decides:
//!
//! - **accept**: the reading is true: the energy from the basis is charged (under the
//!   reading's key, so once) and the reading becomes the basis. Refused for a reading below
//!   the basis (a decrease cannot be charged) and for one older than the basis (a later
//!   reading was charged and covers its interval).
//! - **reject**: the reading is wrong: it is never charged. With `rebaseline` (a meter
//!   replaced or reset, or a jump staff will not bill) the reading becomes the basis and
//!   nothing is charged for its interval.
//!
//! Tables: `charge_basis` (meter → JSON [`Reading`]), `suspect_readings` ((meter, reading
//! ms) → JSON [`Suspect`]). Charging and moving the basis of a meter happen under that
//! meter's lock stripe, so the collector and staff never charge the same span twice.

use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::charger::Charger;
use super::events::{self, FieldEventKind};
use super::plausible::{Plausibility, SuspectWhy, Verdict};
use super::readings::Reading;
use crate::auth::{Actor, audit};
use crate::site::ids::MeterId;
use crate::site::model::Meter;
use crate::store::{Store, StoreError, decode, encode};
use crate::units::Wh;

pub const BASIS: TableDefinition<&str, &[u8]> = TableDefinition::new("charge_basis");
pub const SUSPECTS: TableDefinition<(&str, i64), &[u8]> = TableDefinition::new("suspect_readings");

/// What staff decided about a suspect reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Decision {
    Pending,
    /// Charged: `energy` from the basis of the time.
    Accepted {
        by: String,
        at: Timestamp,
        energy: Wh,
    },
    Rejected {
        by: String,
        at: Timestamp,
        rebaseline: bool,
    },
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Pending => "pending",
            Decision::Accepted { .. } => "accepted",
            Decision::Rejected { .. } => "rejected",
        }
    }
}

/// One suspect reading with the basis it was judged against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspect {
    pub reading: Reading,
    pub base: Reading,
    #[serde(flatten)]
    pub why: SuspectWhy,
    pub decision: Decision,
}

#[derive(Debug, thiserror::Error)]
pub enum SuspectError {
    #[error("meter {meter} has no suspect reading at {at_ms} ms")]
    NotFound { meter: String, at_ms: i64 },
    #[error(
        "the reading of {at} was superseded: a later reading ({base}) was charged and covers its interval; reject it to close it"
    )]
    Superseded { at: Timestamp, base: Timestamp },
    #[error(
        "the reading ({current}) is below the charged total ({base}): a decrease cannot be charged; reject it, with rebaseline if the meter was replaced or reset"
    )]
    Decrease { base: Wh, current: Wh },
    #[error("the reading was already {0}")]
    Decided(&'static str),
    #[error("the charge was not posted: {0}")]
    Charge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

// ---- per-meter lock stripes ----------------------------------------------------------------

const STRIPES: usize = 64;
static LOCKS: [Mutex<()>; STRIPES] = [const { Mutex::new(()) }; STRIPES];

fn stripe(meter: &str) -> usize {
    // FNV-1a: stable and cheap; only spreads meters over the stripes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in meter.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % STRIPES as u64) as usize
}

/// Locks the stripes of `meters` in index order (no deadlock between two lockers).
fn lock<'a>(meters: impl Iterator<Item = &'a str>) -> Vec<MutexGuard<'static, ()>> {
    let mut idx: Vec<usize> = meters.map(stripe).collect();
    idx.sort_unstable();
    idx.dedup();
    idx.into_iter()
        .map(|i| LOCKS[i].lock().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

// ---- reads -------------------------------------------------------------------------------------

fn basis_of(txn: &ReadTransaction, meter: &str) -> Result<Option<Reading>, StoreError> {
    match txn.open_table(BASIS) {
        Ok(t) => t
            .get(meter)?
            .map(|v| decode("charge_basis", v.value()))
            .transpose(),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn suspect_of(
    txn: &ReadTransaction,
    meter: &str,
    at_ms: i64,
) -> Result<Option<Suspect>, StoreError> {
    match txn.open_table(SUSPECTS) {
        Ok(t) => t
            .get((meter, at_ms))?
            .map(|v| decode("suspect_readings", v.value()))
            .transpose(),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The charge basis of `meter` (None: no reading charged or judged yet).
pub fn basis(store: &Store, meter: &MeterId) -> Result<Option<Reading>, StoreError> {
    basis_of(&store.db().begin_read()?, meter.as_str())
}

/// One suspect reading.
pub fn get(store: &Store, meter: &MeterId, at_ms: i64) -> Result<Option<Suspect>, StoreError> {
    suspect_of(&store.db().begin_read()?, meter.as_str(), at_ms)
}

/// Suspect readings (of one meter or all), oldest first per meter; `pending_only` leaves
/// out the decided ones.
pub fn list(
    store: &Store,
    meter: Option<&MeterId>,
    pending_only: bool,
) -> Result<Vec<Suspect>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(SUSPECTS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let rows = match meter {
        Some(m) => t.range((m.as_str(), i64::MIN)..=(m.as_str(), i64::MAX))?,
        None => t.range::<(&str, i64)>(..)?,
    };
    let mut out = Vec::new();
    for row in rows {
        let s: Suspect = decode("suspect_readings", row?.1.value())?;
        if !pending_only || s.decision == Decision::Pending {
            out.push(s);
        }
    }
    Ok(out)
}

/// Whether the reading of `meter` at `at_ms` is suspect and not accepted (reports and
/// month-to-date figures leave such readings out).
pub fn is_untrusted(store: &Store, meter: &MeterId, at_ms: i64) -> Result<bool, StoreError> {
    Ok(get(store, meter, at_ms)?.is_some_and(|s| !matches!(s.decision, Decision::Accepted { .. })))
}

fn pending_left(txn: &redb::WriteTransaction, meter: &str) -> Result<usize, StoreError> {
    let t = txn.open_table(SUSPECTS)?;
    let mut n = 0;
    for row in t.range((meter, i64::MIN)..=(meter, i64::MAX))? {
        let s: Suspect = decode("suspect_readings", row?.1.value())?;
        n += usize::from(s.decision == Decision::Pending);
    }
    Ok(n)
}

fn put_basis(txn: &redb::WriteTransaction, r: &Reading) -> Result<(), StoreError> {
    txn.open_table(BASIS)?
        .insert(r.meter.as_str(), encode(r).as_slice())?;
    Ok(())
}

fn put_suspect(txn: &redb::WriteTransaction, s: &Suspect) -> Result<(), StoreError> {
    txn.open_table(SUSPECTS)?.insert(
        (s.reading.meter.as_str(), s.reading.at_ms()),
        encode(s).as_slice(),
    )?;
    Ok(())
}

// ---- the collector's side ----------------------------------------------------------------

/// A stored reading to settle: charge it from the basis, or record it as suspect.
pub struct Item {
    pub meter: Meter,
    /// Rated power of the meter in W (see [`Plausibility::rated_w`]).
    pub rated_w: i64,
    /// The stored reading before `cur` (the basis of a store that has none yet).
    pub prev: Option<Reading>,
    pub cur: Reading,
}

/// What [`settle`] did with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The meter's first reading: it is the basis, nothing to charge.
    First,
    /// Charged from the basis (or nothing used) and now the basis.
    Charged,
    /// The charge failed: the basis stays, the next reading charges the whole span.
    ChargeFailed,
    Suspect(SuspectWhy),
    /// Covered already (older than the basis, or recorded as suspect before).
    Covered,
}

/// Settles stored readings: each is judged against its meter's basis; a plausible one is
/// charged and becomes the basis, a suspect one is recorded with an alarm event. Idempotent:
/// settling a reading again (after a restart) charges nothing twice.
pub fn settle(
    store: &Store,
    charger: &dyn Charger,
    plausibility: &Plausibility,
    items: Vec<Item>,
) -> Result<Vec<Settled>, StoreError> {
    let _guards = lock(items.iter().map(|i| i.meter.id.as_str()));
    enum Plan {
        Done(Settled),
        First,
        Judge(Reading, Verdict),
    }
    // Read every basis first (no read transaction stays open across the ledger's writes).
    let plans: Vec<Plan> = {
        let txn = store.db().begin_read()?;
        let mut plans = Vec::with_capacity(items.len());
        for it in &items {
            let id = it.meter.id.as_str();
            let Some(base) = basis_of(&txn, id)?.or_else(|| it.prev.clone()) else {
                plans.push(Plan::First);
                continue;
            };
            if base.at_ms() >= it.cur.at_ms() || suspect_of(&txn, id, it.cur.at_ms())?.is_some() {
                plans.push(Plan::Done(Settled::Covered));
                continue;
            }
            let verdict = plausibility.judge(
                it.rated_w,
                (base.at_ms(), base.total.0),
                (it.cur.at_ms(), it.cur.total.0),
            );
            plans.push(Plan::Judge(base, verdict));
        }
        plans
    };
    let mut out = Vec::with_capacity(items.len());
    let mut new_basis: Vec<Reading> = Vec::new();
    let mut new_suspects: Vec<Suspect> = Vec::new();
    for (it, plan) in items.iter().zip(plans) {
        match plan {
            Plan::Done(s) => out.push(s),
            Plan::First => {
                new_basis.push(it.cur.clone());
                out.push(Settled::First);
            }
            Plan::Judge(base, Verdict::Charge) => {
                let ok = it.cur.total <= base.total
                    || match charger.charge(&it.meter, &base, &it.cur) {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::error!(meter = %it.meter.id, reading = %it.cur.key(),
                                error = %e, "consumption charge failed (charged with the next reading)");
                            false
                        }
                    };
                if ok {
                    new_basis.push(it.cur.clone());
                    out.push(Settled::Charged);
                } else {
                    out.push(Settled::ChargeFailed);
                }
            }
            Plan::Judge(base, Verdict::Suspect(why)) => {
                tracing::warn!(meter = %it.meter.id, basis = %base.total, current = %it.cur.total,
                    why = why.as_str(), "suspect reading: stored, not charged, alarm raised");
                new_suspects.push(Suspect {
                    reading: it.cur.clone(),
                    base,
                    why,
                    decision: Decision::Pending,
                });
                out.push(Settled::Suspect(why));
            }
        }
    }
    if new_basis.is_empty() && new_suspects.is_empty() {
        return Ok(out);
    }
    store.write(move |txn| {
        for r in &new_basis {
            put_basis(txn, r)?;
        }
        for s in &new_suspects {
            put_suspect(txn, s)?;
            events::append_in(
                txn,
                s.reading.at,
                FieldEventKind::SuspectReading {
                    meter: s.reading.meter.clone(),
                    at_ms: s.reading.at_ms(),
                    basis: s.base.total,
                    current: s.reading.total,
                    why: s.why.as_str().to_string(),
                },
            )?;
        }
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
}

// ---- staff decisions ---------------------------------------------------------------------

/// The suspect reading and the basis now, under the meter's lock.
fn load(store: &Store, meter: &MeterId, at_ms: i64) -> Result<(Suspect, Reading), SuspectError> {
    let txn = store.db().begin_read().map_err(StoreError::from)?;
    let s = suspect_of(&txn, meter.as_str(), at_ms)?.ok_or_else(|| SuspectError::NotFound {
        meter: meter.to_string(),
        at_ms,
    })?;
    let base = basis_of(&txn, meter.as_str())?.unwrap_or_else(|| s.base.clone());
    Ok((s, base))
}

/// Writes the decision, the new basis (if any), the audit entry and the event that lets
/// the alarm clear once no reading of the meter is pending.
fn decide(
    store: &Store,
    actor: &Actor,
    s: Suspect,
    basis: Option<Reading>,
    action: &'static str,
) -> Result<Suspect, SuspectError> {
    let actor = actor.clone();
    let out = s.clone();
    store.write(move |txn| {
        put_suspect(txn, &s)?;
        if let Some(b) = &basis {
            put_basis(txn, b)?;
        }
        let meter = s.reading.meter.clone();
        audit::append_in(
            txn,
            &actor,
            action,
            json!({
                "meter": meter.as_str(),
                "reading": s.reading.key(),
                "total_wh": s.reading.total.0,
                "basis_wh": s.base.total.0,
                "why": s.why.as_str(),
                "decision": &s.decision,
            }),
        )?;
        let left = pending_left(txn, meter.as_str())?;
        events::append_in(
            txn,
            Timestamp::now(),
            FieldEventKind::SuspectResolved {
                meter,
                by: actor.label(),
                pending: left as u32,
            },
        )?;
        Ok::<(), StoreError>(())
    })?;
    Ok(out)
}

/// Staff accept a suspect reading: its energy from the basis is charged and it becomes the
/// basis. Accepting it again answers the same (nothing charged twice).
pub fn accept(
    store: &Store,
    charger: &dyn Charger,
    actor: &Actor,
    meter: &Meter,
    at_ms: i64,
) -> Result<Suspect, SuspectError> {
    let _guard = lock(std::iter::once(meter.id.as_str()));
    let (mut s, base) = load(store, &meter.id, at_ms)?;
    match &s.decision {
        Decision::Pending => {}
        Decision::Accepted { .. } => return Ok(s),
        d @ Decision::Rejected { .. } => return Err(SuspectError::Decided(d.as_str())),
    }
    if base.at_ms() >= s.reading.at_ms() {
        return Err(SuspectError::Superseded {
            at: s.reading.at,
            base: base.at,
        });
    }
    if s.reading.total < base.total {
        return Err(SuspectError::Decrease {
            base: base.total,
            current: s.reading.total,
        });
    }
    if s.reading.total > base.total {
        charger
            .charge(meter, &base, &s.reading)
            .map_err(SuspectError::Charge)?;
    }
    s.decision = Decision::Accepted {
        by: actor.label(),
        at: Timestamp::now(),
        energy: s.reading.total - base.total,
    };
    s.base = base;
    let basis = s.reading.clone();
    decide(store, actor, s, Some(basis), "field.suspect_reading.accept")
}

/// Staff reject a suspect reading: it is never charged; with `rebaseline` it becomes the
/// basis (meter replaced or reset) with nothing charged for its interval.
pub fn reject(
    store: &Store,
    actor: &Actor,
    meter: &MeterId,
    at_ms: i64,
    rebaseline: bool,
) -> Result<Suspect, SuspectError> {
    let _guard = lock(std::iter::once(meter.as_str()));
    let (mut s, base) = load(store, meter, at_ms)?;
    match &s.decision {
        Decision::Pending => {}
        Decision::Rejected { rebaseline: r, .. } if *r == rebaseline => return Ok(s),
        d => return Err(SuspectError::Decided(d.as_str())),
    }
    if rebaseline && base.at_ms() >= s.reading.at_ms() {
        return Err(SuspectError::Superseded {
            at: s.reading.at,
            base: base.at,
        });
    }
    s.decision = Decision::Rejected {
        by: actor.label(),
        at: Timestamp::now(),
        rebaseline,
    };
    let basis = rebaseline.then(|| s.reading.clone());
    decide(store, actor, s, basis, "field.suspect_reading.reject")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::roles::Role;
    use crate::field::charge::LedgerCharger;
    use crate::ledger::{Ledger, MeterAccountInit, OpenAccount};
    use crate::site::ids::GatewayId;
    use crate::site::model::{MeterAddress, Phases, Protocol};
    use crate::tariff::Tariff;
    use crate::units::{Fen, Price};

    const RATED: i64 = 13_800;
    const MIN: i64 = 60_000;

    fn meter() -> Meter {
        Meter {
            id: MeterId::new("M1"),
            address: MeterAddress::Modbus(1),
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk".into(),
            phases: Phases::One,
            gateway: GatewayId::new("GW1"),
            bus: 1,
            unit: None,
            billing: crate::site::model::BillingMode::Host,
            tariff: None,
            power_limit_w: None,
            alarm1: None,
            alarm2: None,
        }
    }

    fn reading(ms: i64, total: i64) -> Reading {
        Reading {
            meter: MeterId::new("M1"),
            at: Timestamp::from_millisecond(ms).unwrap(),
            total: Wh(total),
            bands: None,
            voltage_dv: vec![],
            current_ma: vec![],
            power_w: None,
            balance: None,
            purchase_count: None,
            relay: None,
            rollback: false,
        }
    }

    struct Site {
        _dir: tempfile::TempDir,
        store: Store,
        ledger: Ledger,
        charger: LedgerCharger,
        admin: Actor,
    }

    /// A tenant on M1 at 1.00 yuan/kWh: the balance in fen is minus the Wh charged / 10.
    fn site() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let admin = Actor::operator("admin", Role::Admin);
        let flat = Tariff::Flat {
            price: Price::parse_yuan_per_kwh("1.00").unwrap(),
        };
        let (tariff, by) = (serde_json::to_value(&flat).unwrap(), admin.clone());
        store
            .write(move |txn| crate::site::repo::set_tariff(txn, &by, "default", &tariff))
            .unwrap();
        let ledger = Ledger::open(store.clone()).unwrap();
        ledger
            .open_account(
                &admin,
                "open-T1",
                OpenAccount {
                    tenant: "T1".into(),
                    meters: vec![MeterAccountInit {
                        meter: "M1".into(),
                        billing: crate::site::BillingMode::Host,
                    }],
                    transfer_in: None,
                },
            )
            .unwrap();
        let charger = LedgerCharger::new(store.clone(), ledger.clone());
        Site {
            _dir: dir,
            store,
            ledger,
            charger,
            admin,
        }
    }

    impl Site {
        /// Stores and settles one reading, as the collector does.
        fn read(&self, ms: i64, total: i64) -> Settled {
            self.read_with(&self.charger, ms, total)
        }
        fn read_with(&self, charger: &dyn Charger, ms: i64, total: i64) -> Settled {
            let (prev, cur) =
                crate::field::readings::store_batch(&self.store, vec![reading(ms, total)])
                    .unwrap()
                    .remove(0);
            let item = Item {
                meter: meter(),
                rated_w: RATED,
                prev,
                cur,
            };
            settle(&self.store, charger, &Plausibility::default(), vec![item])
                .unwrap()
                .remove(0)
        }
        fn balance(&self) -> Fen {
            self.ledger.account(&"T1".into()).unwrap().unwrap().balance
        }
    }

    #[test]
    fn a_zero_answered_once_is_suspect_and_the_true_total_charges_real_use() {
        let s = site();
        assert_eq!(s.read(0, 1_318_920), Settled::First);
        assert_eq!(s.read(MIN, 1_319_020), Settled::Charged);
        assert_eq!(s.balance(), Fen(-10));
        assert_eq!(s.read(2 * MIN, 0), Settled::Suspect(SuspectWhy::Decrease));
        assert_eq!(s.balance(), Fen(-10), "a suspect reading is never charged");
        // The true total again: charged from the last charged reading, 200 Wh = 0.20.
        assert_eq!(s.read(3 * MIN, 1_319_220), Settled::Charged);
        assert_eq!(s.balance(), Fen(-30));
        let pending = list(&s.store, None, true).unwrap();
        assert_eq!(pending.len(), 1);
        // Accepting the zero is refused (superseded, and a decrease), store unchanged.
        let err = accept(&s.store, &s.charger, &s.admin, &meter(), 2 * MIN).unwrap_err();
        assert!(matches!(err, SuspectError::Superseded { .. }), "{err}");
        assert_eq!(list(&s.store, None, true).unwrap(), pending);
        // Rejecting it closes it: nothing charged, audited, the alarm may clear.
        let r = reject(&s.store, &s.admin, &MeterId::new("M1"), 2 * MIN, false).unwrap();
        assert_eq!(r.decision.as_str(), "rejected");
        assert_eq!(s.balance(), Fen(-30));
        assert!(list(&s.store, None, true).unwrap().is_empty());
        let evs = events::since(&s.store, 0).unwrap();
        assert!(
            evs.iter()
                .any(|e| matches!(e.kind, FieldEventKind::SuspectReading { .. }))
        );
        assert!(
            evs.iter()
                .any(|e| matches!(e.kind, FieldEventKind::SuspectResolved { pending: 0, .. }))
        );
        let audit = crate::auth::audit::recent(&s.store, 100).unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.action == "field.suspect_reading.reject")
        );
    }

    #[test]
    fn an_accepted_spike_is_charged_exactly_once_and_a_lower_reading_after_it_is_suspect() {
        let s = site();
        s.read(0, 100_000);
        // 50 kWh in a minute from a 13.8 kW meter.
        assert!(matches!(
            s.read(MIN, 150_000),
            Settled::Suspect(SuspectWhy::TooHigh { .. })
        ));
        assert_eq!(s.balance(), Fen(0));
        let a = accept(&s.store, &s.charger, &s.admin, &meter(), MIN).unwrap();
        assert_eq!(a.decision.as_str(), "accepted");
        assert_eq!(s.balance(), Fen(-5_000));
        // Again: the same answer, nothing charged twice.
        accept(&s.store, &s.charger, &s.admin, &meter(), MIN).unwrap();
        assert_eq!(s.balance(), Fen(-5_000));
        // Rejecting an accepted reading is refused.
        assert!(matches!(
            reject(&s.store, &s.admin, &MeterId::new("M1"), MIN, false),
            Err(SuspectError::Decided("accepted"))
        ));
        // The basis is the spike now: a lower total is suspect, not a negative charge.
        assert_eq!(
            s.read(2 * MIN, 100_100),
            Settled::Suspect(SuspectWhy::Decrease)
        );
        assert_eq!(s.balance(), Fen(-5_000));
        // A replaced meter: reject with rebaseline, later readings charge from it.
        reject(&s.store, &s.admin, &MeterId::new("M1"), 2 * MIN, true).unwrap();
        assert_eq!(s.read(3 * MIN, 100_200), Settled::Charged);
        assert_eq!(s.balance(), Fen(-5_010));
    }

    /// The real ledger charger, failing its first `fail` calls (a transient ledger error).
    struct Flaky(LedgerCharger, std::sync::atomic::AtomicU32);
    impl Charger for Flaky {
        fn charge(&self, m: &Meter, p: &Reading, c: &Reading) -> Result<(), String> {
            if self
                .1
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                return Err("ledger busy".into());
            }
            self.0.charge(m, p, c)
        }
    }

    #[test]
    fn an_interval_that_failed_to_charge_is_charged_with_the_next_reading() {
        let s = site();
        s.read(0, 10_000);
        let real = LedgerCharger::new(s.store.clone(), s.ledger.clone());
        let flaky = Flaky(real, std::sync::atomic::AtomicU32::new(1));
        assert_eq!(s.read_with(&flaky, MIN, 10_300), Settled::ChargeFailed);
        assert_eq!(s.balance(), Fen(0));
        assert_eq!(s.read_with(&flaky, 2 * MIN, 10_500), Settled::Charged);
        assert_eq!(s.balance(), Fen(-50), "the failed interval is not lost");
        // Settling the latest again (a restart) charges nothing.
        let latest = crate::field::readings::latest(&s.store, &MeterId::new("M1"))
            .unwrap()
            .unwrap();
        let again = Item {
            meter: meter(),
            rated_w: RATED,
            prev: None,
            cur: latest,
        };
        let out = settle(&s.store, &s.charger, &Plausibility::default(), vec![again]).unwrap();
        assert_eq!(out, vec![Settled::Covered]);
        assert_eq!(s.balance(), Fen(-50));
    }
}
