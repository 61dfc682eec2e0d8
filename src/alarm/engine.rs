//! The alarm engine: turns tenant balances (from the ledger) and field events (from the
//! collector and the control queue) into alarms that are raised once per crossing, clear
//! themselves when the condition ends, and queue an SMS to the tenant for the balance
//! levels. One pass reads everything first and writes only when something changed, in one
//! transaction with the consumed event cursor: a restart neither loses nor repeats.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableError};
use tokio::sync::watch;

use super::book::{self, PENDING_OFFLINE};
use super::model::{Alarm, AlarmKind, balance_level};
use super::sms::queue;
use crate::field::events::{self, FieldEventKind};
use crate::ledger::Ledger;
use crate::site::model::{SiteDefaults, Tenant};
use crate::site::repo;
use crate::store::{Store, StoreError};
use crate::units::Fen;

/// Engine settings (config `[alarms]`).
#[derive(Debug, Clone)]
pub struct AlarmConfig {
    /// A meter or gateway must stay offline this long before its alarm.
    pub offline_grace: Duration,
    /// A tenant balance alarm still active is texted again after this long.
    pub repeat_every: Duration,
    /// No tenant SMS in this window (minutes after local midnight, start–end).
    pub quiet_hours: Option<(u16, u16)>,
    pub site_name: String,
    /// Time between two passes when nothing wakes the engine earlier.
    pub poll: Duration,
}

impl AlarmConfig {
    pub fn from_config(
        a: &crate::config::AlarmsSection,
        site_name: &str,
    ) -> Result<AlarmConfig, String> {
        Ok(AlarmConfig {
            offline_grace: a.offline_grace.0,
            repeat_every: a.repeat_every.0,
            quiet_hours: queue::parse_quiet_hours(&a.quiet_hours)
                .map_err(|e| format!("alarms.quiet_hours: {e}"))?,
            site_name: site_name.to_string(),
            poll: Duration::from_secs(2),
        })
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub raised: Vec<(AlarmKind, String)>,
    pub cleared: Vec<(AlarmKind, String)>,
    pub sms: usize,
}

const EVENTS_CURSOR: &str = "events_cursor";

fn read_cursor(store: &Store) -> Result<u64, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(book::META) {
        Ok(t) => Ok(t.get(EVENTS_CURSOR)?.map_or(0, |v| v.value())),
        Err(TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

fn pending_offline(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(PENDING_OFFLINE) {
        Ok(t) => t
            .iter()?
            .map(|r| r.map(|(k, v)| (k.value().to_string(), v.value())))
            .collect::<Result<_, _>>()
            .map_err(Into::into),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The SMS text of a balance alarm (Chinese: the tenants' language).
pub fn balance_text(site: &str, t: &Tenant, kind: AlarmKind, balance: Fen, level: Fen) -> String {
    let who = match t.units.first() {
        Some(u) => format!("{}（{u}）", t.name),
        None => t.name.clone(),
    };
    match kind {
        AlarmKind::Level1 => format!(
            "【{site}】尊敬的{who}，您的电费余额为{balance}元，已低于报警金额{level}元，请及时充值。"
        ),
        AlarmKind::Level2 => format!(
            "【{site}】尊敬的{who}，您的电费余额仅剩{balance}元，已低于二级报警金额{level}元，余额用完将停止供电，请尽快充值。"
        ),
        _ => format!(
            "【{site}】尊敬的{who}，您的电费已欠费{}元，电表将停止供电。充值后自动恢复供电，如有疑问请联系管理处。",
            -balance
        ),
    }
}

/// The alarm amounts of each unit: the highest override among its meters (the most
/// cautious one warns first), built once per pass — looking meters up per tenant was
/// tenants × meters (25 M checks on a 5,000-meter site).
fn unit_levels<'a>(
    meters: &'a [crate::site::model::Meter],
    d: &SiteDefaults,
) -> HashMap<&'a crate::site::UnitNo, (Fen, Fen)> {
    let mut by_unit: HashMap<&crate::site::UnitNo, (Fen, Fen)> = HashMap::new();
    for m in meters {
        if let Some(u) = &m.unit {
            let (m1, m2) = m.alarm_levels(d);
            let e = by_unit.entry(u).or_insert((m1, m2));
            *e = (e.0.max(m1), e.1.max(m2));
        }
    }
    by_unit
}

fn thresholds(
    t: &Tenant,
    levels: &HashMap<&crate::site::UnitNo, (Fen, Fen)>,
    d: &SiteDefaults,
) -> (Fen, Fen) {
    let mut a = (d.alarm1, d.alarm2);
    for (m1, m2) in t.units.iter().filter_map(|u| levels.get(u)) {
        a = (a.0.max(*m1), a.1.max(*m2));
    }
    a
}

/// One pass over balances and new field events at time `now`.
pub fn pass(store: &Store, cfg: &AlarmConfig, now: Timestamp) -> Result<PassReport, StoreError> {
    let cursor = read_cursor(store)?;
    let evs = events::since(store, cursor)?;
    let pending = pending_offline(store)?;
    let balances = crate::ledger::reads::balances(store).map_err(|e| StoreError::Corrupt {
        table: "accounts",
        why: e.to_string(),
    })?;
    let site_err = |e: repo::SiteError| StoreError::Corrupt {
        table: "site",
        why: e.to_string(),
    };
    // A closed account's zero is no debt: no balance alarm, no SMS to the tenant who left.
    let closed = crate::ledger::reads::closed_tenants(store).map_err(|e| StoreError::Corrupt {
        table: "ledger_tenants",
        why: e.to_string(),
    })?;
    let tenants = repo::list_tenants(store).map_err(site_err)?;
    let meters = repo::list_meters(store).map_err(site_err)?;
    let defaults = repo::defaults(store).map_err(site_err)?;
    let tz = defaults.tz();
    let active: HashMap<(AlarmKind, String), Alarm> = book::active(store)?
        .into_iter()
        .map(|a| ((a.kind, a.subject.clone()), a))
        .collect();
    let grace = jiff::SignedDuration::try_from(cfg.offline_grace).unwrap_or_default();
    let repeat = jiff::SignedDuration::try_from(cfg.repeat_every).unwrap_or_default();

    // Decide the balance changes before opening a write transaction.
    struct BalanceChange {
        tenant: Tenant,
        subject: String,
        from: Option<AlarmKind>,
        to: Option<AlarmKind>,
        balance: Fen,
        level: Fen,
    }
    let mut changes = Vec::new();
    let mut repeats = Vec::new();
    let levels = unit_levels(&meters, &defaults);
    // Every account, named or not (an account may exist before its tenant record).
    let by_id: HashMap<String, &Tenant> = tenants.iter().map(|t| (t.id.to_string(), t)).collect();
    let unnamed: Vec<Tenant> = balances
        .keys()
        .filter_map(|k| k.strip_prefix("tenant:"))
        .filter(|id| !by_id.contains_key(*id))
        .map(|id| Tenant {
            id: crate::site::TenantId::new(id),
            name: id.to_string(),
            category: String::new(),
            phone: None,
            units: Vec::new(),
            pin_hash: None,
        })
        .collect();
    for t in tenants.iter().chain(unnamed.iter()) {
        let Some(balance) = balances.get(&format!("tenant:{}", t.id)).copied() else {
            continue; // no account: nothing to warn about
        };
        let subject = format!("tenant:{}", t.id);
        let (a1, a2) = thresholds(t, &levels, &defaults);
        let want = if closed.contains(&t.id) {
            None
        } else {
            balance_level(balance, a1, a2)
        };
        let have = [AlarmKind::Level1, AlarmKind::Level2, AlarmKind::Arrears]
            .into_iter()
            .find(|k| active.contains_key(&(*k, subject.clone())));
        let level = match want {
            Some(AlarmKind::Level1) => a1,
            Some(AlarmKind::Level2) => a2,
            _ => Fen::ZERO,
        };
        if want != have {
            changes.push(BalanceChange {
                tenant: t.clone(),
                subject,
                from: have,
                to: want,
                balance,
                level,
            });
        } else if let Some(k) = have
            && let Some(a) = active.get(&(k, subject.clone()))
            && a.last_sms_at.unwrap_or(a.raised_at) + repeat <= now
            && repeat > jiff::SignedDuration::ZERO
            && t.phone.is_some()
        {
            repeats.push((t.clone(), a.clone(), balance, level));
        }
    }
    let due_offline: Vec<(String, i64)> = pending
        .into_iter()
        .filter(|(_, since)| Timestamp::from_millisecond(*since).map_or(true, |s| s + grace <= now))
        .collect();
    if evs.is_empty() && changes.is_empty() && repeats.is_empty() && due_offline.is_empty() {
        return Ok(PassReport::default());
    }

    let not_before = queue::after_quiet_hours(now, &tz, cfg.quiet_hours);
    let site_name = cfg.site_name.clone();
    // The writer may run this twice (a neighbour in its batch failed): the report is built
    // afresh inside and the plan above is only read.
    store.write(move |txn| {
        let mut report = PassReport::default();
        for ev in &evs {
            let at = ev.at;
            let mut raise =
                |kind: AlarmKind, subject: String, value: Option<i64>, detail: String| {
                    book::raise_in(txn, kind, &subject, at, value, detail)
                        .map(|r| r.map(|a| report.raised.push((a.kind, a.subject))))
                };
            match &ev.kind {
                FieldEventKind::MeterOffline { meter, .. } => {
                    let s = format!("meter:{meter}");
                    if !active.contains_key(&(AlarmKind::MeterOffline, s.clone())) {
                        txn.open_table(PENDING_OFFLINE)?
                            .insert(s.as_str(), at.as_millisecond())?;
                    }
                }
                FieldEventKind::GatewayOffline { gateway, .. } => {
                    let s = format!("gateway:{gateway}");
                    if !active.contains_key(&(AlarmKind::GatewayOffline, s.clone())) {
                        txn.open_table(PENDING_OFFLINE)?
                            .insert(s.as_str(), at.as_millisecond())?;
                    }
                }
                FieldEventKind::MeterOnline { meter } => {
                    let s = format!("meter:{meter}");
                    txn.open_table(PENDING_OFFLINE)?.remove(s.as_str())?;
                    if book::clear_in(txn, AlarmKind::MeterOffline, &s, at)?.is_some() {
                        report.cleared.push((AlarmKind::MeterOffline, s));
                    }
                }
                FieldEventKind::GatewayOnline { gateway } => {
                    let s = format!("gateway:{gateway}");
                    txn.open_table(PENDING_OFFLINE)?.remove(s.as_str())?;
                    if book::clear_in(txn, AlarmKind::GatewayOffline, &s, at)?.is_some() {
                        report.cleared.push((AlarmKind::GatewayOffline, s));
                    }
                }
                FieldEventKind::RegisterRollback {
                    meter,
                    previous,
                    current,
                } => {
                    raise(
                        AlarmKind::RegisterRollback,
                        format!("meter:{meter}"),
                        Some(previous.0 - current.0),
                        format!("energy register went from {previous} Wh to {current} Wh"),
                    )?;
                }
                FieldEventKind::SuspectReading {
                    meter,
                    basis,
                    current,
                    why,
                    ..
                } => {
                    raise(
                        AlarmKind::SuspectReading,
                        format!("meter:{meter}"),
                        Some(current.0 - basis.0),
                        format!(
                            "suspect reading ({why}): {current} Wh against {basis} Wh charged; not charged until accepted"
                        ),
                    )?;
                }
                FieldEventKind::SuspectResolved { meter, pending, .. } => {
                    let s = format!("meter:{meter}");
                    if *pending == 0
                        && book::clear_in(txn, AlarmKind::SuspectReading, &s, at)?.is_some()
                    {
                        report.cleared.push((AlarmKind::SuspectReading, s));
                    }
                }
                FieldEventKind::Overload {
                    meter,
                    power_w,
                    limit_w,
                } => {
                    raise(
                        AlarmKind::Overload,
                        format!("meter:{meter}"),
                        Some(*power_w),
                        format!("{power_w} W above the limit of {limit_w} W"),
                    )?;
                }
                FieldEventKind::CreditMismatch { meter, why } => {
                    raise(
                        AlarmKind::CreditMismatch,
                        format!("meter:{meter}"),
                        None,
                        why.clone(),
                    )?;
                }
                FieldEventKind::BalanceDrift {
                    meter,
                    meter_balance,
                    ledger_balance,
                } => {
                    raise(
                        AlarmKind::BalanceDrift,
                        format!("meter:{meter}"),
                        Some(meter_balance.0 - ledger_balance.0),
                        format!("meter says {meter_balance}, ledger says {ledger_balance}"),
                    )?;
                }
                FieldEventKind::NotSelfTripped { meter } => {
                    raise(
                        AlarmKind::NotSelfTripped,
                        format!("meter:{meter}"),
                        None,
                        "balance at or below zero but the relay reads closed".into(),
                    )?;
                }
                FieldEventKind::OverloadCleared { meter }
                | FieldEventKind::CreditMismatchResolved { meter, .. }
                | FieldEventKind::BalanceDriftCleared { meter } => {
                    let kind = match &ev.kind {
                        FieldEventKind::OverloadCleared { .. } => AlarmKind::Overload,
                        FieldEventKind::CreditMismatchResolved { .. } => AlarmKind::CreditMismatch,
                        _ => AlarmKind::BalanceDrift,
                    };
                    let s = format!("meter:{meter}");
                    if book::clear_in(txn, kind, &s, at)?.is_some() {
                        report.cleared.push((kind, s));
                    }
                }
            }
        }
        if let Some(last) = evs.last() {
            book::set_cursor_in(txn, EVENTS_CURSOR, last.seq)?;
        }
        for (subject, since) in &due_offline {
            // Still pending inside this transaction (an online event above may have ended it)?
            let still = txn
                .open_table(PENDING_OFFLINE)?
                .get(subject.as_str())?
                .is_some();
            if !still {
                continue;
            }
            txn.open_table(PENDING_OFFLINE)?.remove(subject.as_str())?;
            let kind = if subject.starts_with("gateway:") {
                AlarmKind::GatewayOffline
            } else {
                AlarmKind::MeterOffline
            };
            let since = Timestamp::from_millisecond(*since).unwrap_or(now);
            if let Some(a) = book::raise_in(
                txn,
                kind,
                subject,
                now,
                None,
                format!("unreachable since {since}"),
            )? {
                report.raised.push((a.kind, a.subject));
            }
        }
        for c in &changes {
            if let Some(from) = c.from
                && book::clear_in(txn, from, &c.subject, now)?.is_some()
            {
                report.cleared.push((from, c.subject.clone()));
            }
            let Some(to) = c.to else { continue };
            if let Some(mut a) = book::raise_in(
                txn,
                to,
                &c.subject,
                now,
                Some(c.balance.0),
                format!("balance {}", c.balance),
            )? {
                // Text only on the way down (a sale that lifts arrears to level 2 is no news).
                let worse = c.from.is_none_or(|f| rank(to) > rank(f));
                if worse && let Some(phone) = &c.tenant.phone {
                    let text = balance_text(&site_name, &c.tenant, to, c.balance, c.level);
                    queue::enqueue_in(txn, phone, &text, Some(a.id), now, not_before)?;
                    a.last_sms_at = Some(now);
                    book::update_in(txn, &a)?;
                    report.sms += 1;
                }
                report.raised.push((a.kind, a.subject));
            }
        }
        for (t, a, balance, level) in &repeats {
            if let Some(phone) = &t.phone {
                let mut a = a.clone();
                let text = balance_text(&site_name, t, a.kind, *balance, *level);
                queue::enqueue_in(txn, phone, &text, Some(a.id), now, not_before)?;
                a.last_sms_at = Some(now);
                book::update_in(txn, &a)?;
                report.sms += 1;
            }
        }
        Ok(report)
    })
}

fn rank(k: AlarmKind) -> u8 {
    match k {
        AlarmKind::Level1 => 1,
        AlarmKind::Level2 => 2,
        AlarmKind::Arrears => 3,
        _ => 0,
    }
}

/// Runs passes until `stop`: after every ledger commit (debounced) and every `poll`.
pub fn spawn(
    store: Store,
    ledger: Ledger,
    cfg: AlarmConfig,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut commits = ledger.subscribe();
        loop {
            let (s, c) = (store.clone(), cfg.clone());
            match tokio::task::spawn_blocking(move || pass(&s, &c, Timestamp::now())).await {
                Ok(Ok(r)) if !r.raised.is_empty() || !r.cleared.is_empty() => {
                    tracing::debug!(
                        raised = r.raised.len(),
                        cleared = r.cleared.len(),
                        sms = r.sms,
                        "alarm pass"
                    );
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "alarm pass failed"),
                Err(e) => tracing::warn!(error = %e, "alarm pass panicked"),
            }
            let woke_by_commit = tokio::select! {
                _ = tokio::time::sleep(cfg.poll) => false,
                r = commits.recv() => {
                    if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    true
                }
                _ = stop.wait_for(|s| *s) => return,
            };
            if woke_by_commit {
                // Let a burst of commits (a collector cycle) settle into one pass.
                tokio::time::sleep(Duration::from_millis(200)).await;
                while commits.try_recv().is_ok() {}
            }
        }
    })
}
