//! Watching the live values for what the meters should have done (issue 4 item 3):
//! overload — power above the meter's limit for N consecutive readings raises an `Overload`
//! event (and queues a trip when configured), back under it `OverloadCleared`; meter mode —
//! a meter whose tenant is at or below zero but whose relay still reads closed (and is not
//! on keep-power) did not trip itself (`NotSelfTripped`), and a meter balance that differs
//! from the ledger's by more than the tolerance is a `BalanceDrift` (cleared when it comes
//! back). Each is raised once per condition; the alarm engine turns the events into alarms.
//! The counters live in memory: after a restart a condition still true is reported again,
//! which the alarm book ignores while its alarm is active.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::json;

use super::{Control, ControlError, system};
use crate::auth::audit;
use crate::field::events::{self, FieldEventKind};
use crate::field::readings::Relay;
use crate::ledger::outbox::{self, MeterCommand};
use crate::site::MeterId;
use crate::site::billing::BillingMode;
use crate::site::repo;
use crate::units::Fen;

/// Settings of the watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// Consecutive readings above the power limit before an overload (0 = never).
    pub overload_readings: u32,
    /// Trip an overloaded meter (else only the alarm).
    pub overload_trip: bool,
    /// Largest accepted difference between a meter's balance and the ledger's.
    pub drift_tolerance: Fen,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            overload_readings: 3,
            overload_trip: false,
            drift_tolerance: Fen(1_000),
        }
    }
}

/// What the watch remembers between passes.
#[derive(Debug, Default)]
pub struct WatchState {
    last_seen: HashMap<MeterId, Timestamp>,
    above: HashMap<MeterId, u32>,
    overloaded: HashSet<MeterId>,
    not_tripped: HashSet<MeterId>,
    drifting: HashSet<MeterId>,
    /// The prices in force for each meter-billed meter, as last seen.
    prices: HashMap<MeterId, [i64; 4]>,
}

impl Control {
    /// One look at every meter's live values.
    pub(super) fn watch(&self) -> Result<(), ControlError> {
        let cfg = self.config.watch.clone();
        let meters = repo::list_meters(&self.store)?;
        let defaults = repo::defaults(&self.store)?;
        let balances = crate::ledger::reads::balances(&self.store)?;
        let mut st = self.watch.lock().unwrap_or_else(|p| p.into_inner());
        let mut raise: Vec<FieldEventKind> = Vec::new();
        let mut trips: Vec<(MeterId, i64, i64)> = Vec::new();
        let mut price_pushes: Vec<MeterId> = Vec::new();
        for m in &meters {
            let Some(live) = self.collector.live().meter(&m.id) else {
                continue;
            };
            let Some(at) = live.last_ok else { continue };
            if st.last_seen.get(&m.id) == Some(&at) {
                continue; // no new reading
            }
            st.last_seen.insert(m.id.clone(), at);
            let v = &live.values;
            // Overload.
            let limit = m.power_limit_w.unwrap_or(defaults.power_limit_w);
            if let Some(p) = v.power_w
                && limit > 0
                && cfg.overload_readings > 0
            {
                if p > limit {
                    let n = st.above.entry(m.id.clone()).or_insert(0);
                    *n += 1;
                    if *n >= cfg.overload_readings && st.overloaded.insert(m.id.clone()) {
                        raise.push(FieldEventKind::Overload {
                            meter: m.id.clone(),
                            power_w: p,
                            limit_w: limit,
                        });
                        if cfg.overload_trip && !super::keep_power(&self.store, &m.id)? {
                            trips.push((m.id.clone(), p, limit));
                        }
                    }
                } else {
                    st.above.remove(&m.id);
                    if st.overloaded.remove(&m.id) {
                        raise.push(FieldEventKind::OverloadCleared {
                            meter: m.id.clone(),
                        });
                    }
                }
            }
            if m.billing != BillingMode::Meter {
                continue;
            }
            // The meter charges itself at the prices it holds: when the prices in force
            // change (a tier crossed this month, a new tariff version), push them.
            if let Ok(p) = super::settings::prices_now(&self.store, m, at) {
                let before = st.prices.insert(m.id.clone(), p);
                if before.is_some_and(|b| b != p) {
                    price_pushes.push(m.id.clone());
                }
            }
            // A closed account's meter is settled at its closing (control::credit).
            let Some(account) = self.ledger.meter_account(&m.id)?.filter(|a| !a.closed) else {
                continue;
            };
            let Some(ledger_balance) = balances.get(&format!("tenant:{}", account.tenant)).copied()
            else {
                continue;
            };
            // Did it trip itself?
            // The meter keeps its own balance, which lags or leads the ledger by the use
            // since the last reading: it must be empty by its own count, or clearly by ours.
            let empty_by_meter = v.balance.is_some_and(|b| b <= Fen::ZERO);
            let clearly_empty = ledger_balance.0 <= -cfg.drift_tolerance.0;
            let should_be_off = crate::ledger::arrears::in_arrears(ledger_balance)
                && (empty_by_meter || clearly_empty)
                && !super::keep_power(&self.store, &m.id)?;
            if should_be_off && v.relay == Some(Relay::Closed) {
                if st.not_tripped.insert(m.id.clone()) {
                    raise.push(FieldEventKind::NotSelfTripped {
                        meter: m.id.clone(),
                    });
                }
            } else {
                st.not_tripped.remove(&m.id);
            }
            // Balance drift, only where the meter alone carries the tenant's money.
            let alone = account_meters(&meters, &self.ledger, &account.tenant) == 1;
            if let (Some(mb), true) = (v.balance, alone) {
                let off = (mb.0 - ledger_balance.0).abs() > cfg.drift_tolerance.0;
                if off && st.drifting.insert(m.id.clone()) {
                    raise.push(FieldEventKind::BalanceDrift {
                        meter: m.id.clone(),
                        meter_balance: mb,
                        ledger_balance,
                    });
                } else if !off && st.drifting.remove(&m.id) {
                    raise.push(FieldEventKind::BalanceDriftCleared {
                        meter: m.id.clone(),
                    });
                }
            }
        }
        drop(st);
        if raise.is_empty() && trips.is_empty() && price_pushes.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        for e in &raise {
            tracing::warn!(event = ?e, "meter watch");
        }
        self.store.write(move |txn| {
            for e in &raise {
                events::append_in(txn, now, e.clone())?;
            }
            for (meter, p, limit) in &trips {
                let id = super::queue_in(txn, meter, MeterCommand::Trip, &system().label())?;
                // Remembered so the tenant cannot switch it straight back on.
                super::tenant_switch::record_overload_in(
                    txn,
                    meter,
                    &super::tenant_switch::OverloadTrip {
                        at: now,
                        power_w: *p,
                        limit_w: *limit,
                    },
                )?;
                audit::append_in(
                    txn,
                    &system(),
                    "control.overload_trip",
                    json!({"meter": meter.as_str(), "power_w": p, "limit_w": limit, "outbox": id}),
                )?;
            }
            for meter in &price_pushes {
                let id = outbox::push_in(txn, meter, MeterCommand::PushPrices, 0)?;
                tracing::info!(%meter, outbox = id, "prices in force changed: push queued");
            }
            Ok(())
        })
    }
}

fn account_meters(
    meters: &[crate::site::model::Meter],
    ledger: &crate::ledger::Ledger,
    tenant: &crate::site::TenantId,
) -> usize {
    meters
        .iter()
        .filter(|m| {
            ledger
                .meter_account(&m.id)
                .ok()
                .flatten()
                .is_some_and(|a| &a.tenant == tenant)
        })
        .count()
}
