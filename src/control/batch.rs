//! Batch operations: one command over many meters (marked rows, a filter's result, a
//! building or a floor), as the staff console's batch screen runs them.
//!
//! A batch is only a list: every meter's command is an ordinary control-queue command
//! (outbox entry + queued record), queued together with the batch record and one audit
//! entry in a single transaction, so a batch is either wholly queued or not at all. Its
//! progress is read from the commands' own states; nothing is kept twice. A trip skips
//! meters on keep-power (保电) and a close skips meters whose tenant is in arrears (the
//! arrears enforcement would trip them again at once); both are listed as skipped with why.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::rationing::{Selector, matching_meters};
use super::{CommandState, ControlError, KEEP_POWER, commands_by_id, queue_in};
use crate::auth::Actor;
use crate::auth::audit;
use crate::ledger::Ledger;
use crate::ledger::outbox::MeterCommand;
use crate::site::MeterId;
use crate::site::repo;
use crate::store::{Store, StoreError, decode, encode};

/// id → JSON [`Batch`].
pub const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("control_batches");

/// More than a large site has meters: a typo in a selector, not a real batch.
pub const MAX_METERS: usize = 20_000;

/// Which meters a batch covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// These meters (marked rows or a filter's result in the console).
    Meters(Vec<MeterId>),
    /// Every meter matching a building / floor / category selector.
    Where(Selector),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItem {
    pub meter: MeterId,
    /// The command's outbox id; None when skipped.
    pub outbox: Option<u64>,
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: u64,
    pub at: Timestamp,
    pub by: String,
    pub command: MeterCommand,
    pub selection: Selection,
    pub items: Vec<BatchItem>,
}

/// One meter's line in a batch's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemProgress {
    pub meter: String,
    /// queued, sent, confirmed, waiting_for_tenant, failed or skipped.
    pub state: &'static str,
    /// Why it failed or was skipped; the last error while it is being retried.
    pub reason: Option<String>,
    pub outbox: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub id: u64,
    pub at: Timestamp,
    pub by: String,
    pub command: MeterCommand,
    pub total: usize,
    /// Queued commands that reached a final state (confirmed, failed, waiting).
    pub done: usize,
    pub confirmed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    /// Every queued command has finished.
    pub finished: bool,
    pub items: Vec<ItemProgress>,
}

/// The command a console/API name stands for.
pub fn parse_command(name: &str) -> Result<MeterCommand, ControlError> {
    Ok(match name {
        "read" => MeterCommand::ReadNow,
        "trip" => MeterCommand::Trip,
        "close" => MeterCommand::Close,
        "keep_power_on" => MeterCommand::KeepPower(true),
        "keep_power_off" => MeterCommand::KeepPower(false),
        "restore_prepaid" => MeterCommand::RestorePrepaid,
        "push_prices" => MeterCommand::PushPrices,
        "push_settings" => MeterCommand::PushSettings,
        other => {
            return Err(ControlError::Refused(format!(
                "command '{other}': one of read, trip, close, keep_power_on, keep_power_off, \
                 restore_prepaid, push_prices, push_settings"
            )));
        }
    })
}

/// The name [`parse_command`] reads for `c`.
pub fn command_name(c: &MeterCommand) -> &'static str {
    match c {
        MeterCommand::ReadNow => "read",
        MeterCommand::Trip => "trip",
        MeterCommand::Close => "close",
        MeterCommand::KeepPower(true) => "keep_power_on",
        MeterCommand::KeepPower(false) => "keep_power_off",
        MeterCommand::RestorePrepaid => "restore_prepaid",
        MeterCommand::PushPrices => "push_prices",
        MeterCommand::PushSettings => "push_settings",
        MeterCommand::PushCredit { .. } => "push_credit",
        MeterCommand::WithdrawCredit { .. } => "withdraw_credit",
        MeterCommand::ClearCredit { .. } => "clear_credit",
    }
}

fn resolve(store: &Store, selection: &Selection) -> Result<Vec<MeterId>, ControlError> {
    let meters = match selection {
        Selection::Meters(ids) => {
            let known: std::collections::BTreeSet<MeterId> = repo::list_meters(store)?
                .into_iter()
                .map(|m| m.id)
                .collect();
            let unknown: Vec<&str> = ids
                .iter()
                .filter(|m| !known.contains(*m))
                .map(|m| m.as_str())
                .collect();
            if !unknown.is_empty() {
                let shown: Vec<&str> = unknown.iter().take(10).copied().collect();
                return Err(ControlError::Refused(format!(
                    "{} unknown meter(s): {}{}; nothing was queued",
                    unknown.len(),
                    shown.join(", "),
                    if unknown.len() > shown.len() {
                        ", …"
                    } else {
                        ""
                    }
                )));
            }
            let mut seen = std::collections::BTreeSet::new();
            ids.iter().filter(|m| seen.insert(*m)).cloned().collect()
        }
        Selection::Where(s) => {
            if *s == Selector::default() {
                return Err(ControlError::Refused(
                    "choose the meters: a list, a building, a floor or a category".into(),
                ));
            }
            matching_meters(store, s)?
        }
    };
    if meters.is_empty() {
        return Err(ControlError::Refused("the selection has no meters".into()));
    }
    if meters.len() > MAX_METERS {
        return Err(ControlError::Refused(format!(
            "{} meters is more than a batch takes ({MAX_METERS})",
            meters.len()
        )));
    }
    Ok(meters)
}

/// Whether the tenant paying for `meter` has no money left.
fn in_arrears(ledger: &Ledger, meter: &MeterId) -> Result<bool, ControlError> {
    Ok(match ledger.meter_account(meter)? {
        Some(a) => ledger
            .account(&a.tenant)?
            .is_some_and(|acc| crate::ledger::arrears::in_arrears(acc.balance)),
        None => false,
    })
}

/// Queues `command` for every meter of `selection` (refused as a whole on an unknown meter
/// or an empty selection); returns the batch with what was queued and what skipped.
pub fn start(
    store: &Store,
    ledger: &Ledger,
    actor: &Actor,
    command: MeterCommand,
    selection: Selection,
) -> Result<Batch, ControlError> {
    if matches!(
        command,
        MeterCommand::PushCredit { .. }
            | MeterCommand::WithdrawCredit { .. }
            | MeterCommand::ClearCredit { .. }
    ) {
        return Err(ControlError::Refused(
            "credit is pushed, withdrawn and cleared by sales, refunds and closings, never as a batch".into(),
        ));
    }
    let meters = resolve(store, &selection)?;
    let mut arrears = std::collections::BTreeSet::new();
    if command == MeterCommand::Close {
        for m in &meters {
            if in_arrears(ledger, m)? {
                arrears.insert(m.clone());
            }
        }
    }
    let actor = actor.clone();
    store.write(move |txn| {
        let id = txn
            .open_table(BATCHES)?
            .last()?
            .map_or(1, |(k, _)| k.value() + 1);
        let mut items = Vec::with_capacity(meters.len());
        {
            let keep = txn.open_table(KEEP_POWER)?;
            for m in meters.iter().cloned() {
                let skipped = if command == MeterCommand::Trip && keep.get(m.as_str())?.is_some() {
                    Some("on keep-power (保电): never tripped".to_string())
                } else if arrears.contains(&m) {
                    Some("tenant in arrears: it would be tripped again".to_string())
                } else {
                    None
                };
                items.push(BatchItem {
                    meter: m,
                    outbox: None,
                    skipped,
                });
            }
        }
        let by = actor.label();
        for item in items.iter_mut().filter(|i| i.skipped.is_none()) {
            item.outbox = Some(queue_in(txn, &item.meter, command.clone(), &by)?);
        }
        let batch = Batch {
            id,
            at: Timestamp::now(),
            by,
            command: command.clone(),
            selection: selection.clone(),
            items,
        };
        txn.open_table(BATCHES)?
            .insert(id, encode(&batch).as_slice())?;
        let queued = batch.items.iter().filter(|i| i.outbox.is_some()).count();
        audit::append_in(
            txn,
            &actor,
            "control.batch",
            json!({"batch": id, "command": batch.command, "selection": batch.selection,
                "queued": queued, "skipped": batch.items.len() - queued}),
        )?;
        Ok(batch)
    })
}

pub fn get(store: &Store, id: u64) -> Result<Option<Batch>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(BATCHES) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let v = t.get(id)?;
    v.map(|v| decode("control_batches", v.value())).transpose()
}

/// The newest `limit` batches, newest first.
pub fn recent(store: &Store, limit: usize) -> Result<Vec<Batch>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(BATCHES) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()?.rev().take(limit) {
        out.push(decode("control_batches", row?.1.value())?);
    }
    Ok(out)
}

/// Where every command of batch `id` stands now.
pub fn progress(store: &Store, id: u64) -> Result<Option<Progress>, StoreError> {
    let Some(b) = get(store, id)? else {
        return Ok(None);
    };
    let ids: Vec<u64> = b.items.iter().filter_map(|i| i.outbox).collect();
    let mut records = commands_by_id(store, &ids)?.into_iter();
    let mut items = Vec::with_capacity(b.items.len());
    let (mut confirmed, mut failed, mut skipped, mut pending, mut done) = (0, 0, 0, 0, 0);
    for i in &b.items {
        let (state, reason) = match (&i.skipped, i.outbox) {
            (Some(_), _) | (None, None) => {
                skipped += 1;
                ("skipped", i.skipped.clone())
            }
            (None, Some(_)) => match records.next().flatten() {
                None => {
                    pending += 1;
                    ("queued", None)
                }
                Some(r) => match r.state {
                    CommandState::Queued => {
                        pending += 1;
                        ("queued", r.last_error)
                    }
                    CommandState::Sent => {
                        pending += 1;
                        ("sent", r.last_error)
                    }
                    CommandState::Confirmed => {
                        confirmed += 1;
                        done += 1;
                        ("confirmed", None)
                    }
                    CommandState::WaitingForTenant => {
                        confirmed += 1;
                        done += 1;
                        (
                            "waiting_for_tenant",
                            Some("close permitted, waiting for the tenant".into()),
                        )
                    }
                    CommandState::Failed(why) => {
                        failed += 1;
                        done += 1;
                        ("failed", Some(why))
                    }
                },
            },
        };
        items.push(ItemProgress {
            meter: i.meter.to_string(),
            state,
            reason,
            outbox: i.outbox,
        });
    }
    Ok(Some(Progress {
        id: b.id,
        at: b.at,
        by: b.by,
        command: b.command,
        total: b.items.len(),
        done,
        confirmed,
        failed,
        skipped,
        pending,
        finished: pending == 0,
        items,
    }))
}
