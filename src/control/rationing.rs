//! Rationing (限电, issue 4 item 2): staff trip a group of meters chosen by tenant category,
//! building or floor, now or for a window (from–to), and the system restores exactly those
//! meters afterwards. Keep-power meters are skipped and listed; a meter whose tenant is in
//! arrears when the window ends stays off (arrears, not rationing, keeps it open). Each
//! group action is stored with its meters and their command ids (whose states are the
//! per-meter results) and audited.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ControlError, keep_power, queue_in, system};
use crate::auth::{Actor, audit};
use crate::ledger::outbox::MeterCommand;
use crate::site::MeterId;
use crate::site::repo;
use crate::store::{Store, StoreError, decode, encode};

/// id → JSON [`Rationing`].
pub const RATIONING: TableDefinition<u64, &[u8]> = TableDefinition::new("control_rationing");

/// Which meters: every given field must match (none given = refused).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub category: Option<String>,
    pub building: Option<String>,
    pub floor: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Scheduled,
    Active,
    Restored,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rationing {
    pub id: u64,
    pub by: String,
    pub reason: String,
    pub selector: Selector,
    pub from: Timestamp,
    pub to: Timestamp,
    pub phase: Phase,
    /// (meter, outbox id of its trip).
    pub tripped: Vec<(MeterId, u64)>,
    pub skipped_keep_power: Vec<MeterId>,
    /// (meter, outbox id of its close).
    pub restored: Vec<(MeterId, u64)>,
    /// Left off at the end because the tenant is in arrears.
    pub left_off_arrears: Vec<MeterId>,
}

fn put(txn: &redb::WriteTransaction, r: &Rationing) -> Result<(), StoreError> {
    txn.open_table(RATIONING)?
        .insert(r.id, encode(r).as_slice())?;
    Ok(())
}

/// Every rationing action, newest first.
pub fn list(store: &Store) -> Result<Vec<Rationing>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(RATIONING) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<Rationing> = Vec::new();
    for row in t.iter()? {
        out.push(decode("control_rationing", row?.1.value())?);
    }
    out.reverse();
    Ok(out)
}

/// Plans a rationing window; the control queue carries it out (trip at `from`, restore at
/// `to`). Refused without a selector or with `to` not after `from`.
pub fn create(
    store: &Store,
    actor: &Actor,
    selector: Selector,
    from: Timestamp,
    to: Timestamp,
    reason: &str,
) -> Result<Rationing, ControlError> {
    if selector == Selector::default() {
        return Err(ControlError::Refused(
            "choose the meters: a category, a building or a floor".into(),
        ));
    }
    if to <= from {
        return Err(ControlError::Refused(format!(
            "the window ends ({to}) before it starts ({from})"
        )));
    }
    let (actor, reason) = (actor.clone(), reason.to_string());
    store.write(move |txn| {
        let id = txn
            .open_table(RATIONING)?
            .last()?
            .map_or(1, |(k, _)| k.value() + 1);
        let r = Rationing {
            id,
            by: actor.label(),
            reason: reason.clone(),
            selector: selector.clone(),
            from,
            to,
            phase: Phase::Scheduled,
            tripped: Vec::new(),
            skipped_keep_power: Vec::new(),
            restored: Vec::new(),
            left_off_arrears: Vec::new(),
        };
        put(txn, &r)?;
        audit::append_in(txn, &actor, "control.rationing.create", json!(r))?;
        Ok(r)
    })
}

/// Cancels a window: a scheduled one never starts; an active one restores now.
pub fn cancel(store: &Store, actor: &Actor, id: u64) -> Result<Option<Rationing>, ControlError> {
    let Some(mut r) = list(store)?.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    match r.phase {
        Phase::Scheduled => r.phase = Phase::Cancelled,
        Phase::Active => r.to = Timestamp::now(),
        _ => {}
    }
    let actor = actor.clone();
    store.write(move |txn| {
        put(txn, &r)?;
        audit::append_in(txn, &actor, "control.rationing.cancel", json!({"id": id}))?;
        Ok(Some(r.clone()))
    })
}

/// Every meter `s` selects (all given fields must match).
pub(crate) fn matching_meters(store: &Store, s: &Selector) -> Result<Vec<MeterId>, ControlError> {
    let units = repo::list_units(store)?;
    let tenants = repo::list_tenants(store)?;
    let mut out = Vec::new();
    for m in repo::list_meters(store)? {
        let unit = m
            .unit
            .as_ref()
            .and_then(|u| units.iter().find(|x| &x.no == u));
        let tenant = m
            .unit
            .as_ref()
            .and_then(|u| tenants.iter().find(|t| t.units.contains(u)));
        let ok = s
            .building
            .as_ref()
            .is_none_or(|b| unit.is_some_and(|u| u.building.as_str() == b))
            && s.floor.is_none_or(|f| unit.is_some_and(|u| u.floor == f))
            && s.category
                .as_ref()
                .is_none_or(|c| tenant.is_some_and(|t| &t.category == c));
        if ok {
            out.push(m.id);
        }
    }
    Ok(out)
}

/// Starts and ends windows whose time has come (run by every control pass).
pub fn tick(
    store: &Store,
    ledger: &crate::ledger::Ledger,
    now: Timestamp,
) -> Result<(), ControlError> {
    for mut r in list(store)? {
        let start = r.phase == Phase::Scheduled && r.from <= now;
        let end = r.phase == Phase::Active && r.to <= now;
        if !start && !end {
            continue;
        }
        let actor = format!("rationing {} by {}", r.id, r.by);
        if start {
            let meters = matching_meters(store, &r.selector)?;
            let kept: Vec<bool> = meters
                .iter()
                .map(|m| keep_power(store, m))
                .collect::<Result<_, _>>()?;
            let before = r.clone();
            r = store.write(move |txn| {
                let mut r = before.clone();
                for (m, kept) in meters.iter().zip(&kept) {
                    if *kept {
                        r.skipped_keep_power.push(m.clone());
                        continue;
                    }
                    let id = queue_in(txn, m, MeterCommand::Trip, &actor)?;
                    r.tripped.push((m.clone(), id));
                }
                r.phase = Phase::Active;
                put(txn, &r)?;
                audit::append_in(
                    txn,
                    &system(),
                    "control.rationing.start",
                    json!({"id": r.id, "tripped": r.tripped, "skipped_keep_power": r.skipped_keep_power}),
                )?;
                Ok::<_, ControlError>(r)
            })?;
            tracing::info!(id = r.id, meters = r.tripped.len(), "rationing started");
        } else {
            let mut arrears = std::collections::BTreeSet::new();
            for (m, _) in &r.tripped {
                let in_arrears = match ledger.meter_account(m)? {
                    Some(a) => ledger
                        .account(&a.tenant)?
                        .is_some_and(|acc| crate::ledger::arrears::in_arrears(acc.balance)),
                    None => false,
                };
                if in_arrears {
                    arrears.insert(m.clone());
                }
            }
            let before = r.clone();
            r = store.write(move |txn| {
                let mut r = before.clone();
                for (m, _) in before.tripped.iter() {
                    if arrears.contains(m) {
                        r.left_off_arrears.push(m.clone());
                        continue;
                    }
                    let id = queue_in(txn, m, MeterCommand::Close, &actor)?;
                    r.restored.push((m.clone(), id));
                }
                r.phase = Phase::Restored;
                put(txn, &r)?;
                audit::append_in(
                    txn,
                    &system(),
                    "control.rationing.restore",
                    json!({"id": r.id, "restored": r.restored, "left_off_arrears": r.left_off_arrears}),
                )?;
                Ok::<_, ControlError>(r)
            })?;
            tracing::info!(id = r.id, meters = r.restored.len(), "rationing ended");
        }
    }
    Ok(())
}
