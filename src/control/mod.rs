//! Meter command queue with retry and read-back confirmation.
//!
//! The ledger (and the API) write meter commands to the outbox (`ledger::outbox`) in the
//! transaction of the operation that needs them. This worker sends each one through the
//! collector ([`CollectorHandle::submit`]: at the next gap of the meter's bus, ahead of
//! reads) and then READS THE METER BACK; only a read-back that shows the command in force
//! confirms it. Each command's state (queued → sent → confirmed | failed(reason), or
//! "close permitted, waiting for the tenant") is kept in redb, so a restart re-confirms a
//! `sent` command by reading back before sending it again: a command is never carried out
//! twice because the process stopped between sending and confirming.
//!
//! Host-mode enforcement ([`enforce`]) lives here too: a host-billed meter whose tenant is in
//! arrears (balance ≤ 0, `ledger::arrears::in_arrears`) and whose relay the meter last
//! reported closed is tripped (the trip is queued in the same transaction that marks the
//! meter tripped in the ledger, so a later sale queues the matching close); a meter the
//! operator put on keep-power is never tripped. The relay state comes from the meter, not
//! from the ledger's mark: a staff close or any other switch-on while in arrears is seen at
//! the next reading and tripped again. Relays stay calm: one trip per meter in flight, a
//! confirmed trip is followed only on a reading taken after it, a failed one is retried
//! after [`FAILED_TRIP_PAUSE`] (see [`arrears_trip_due`]).

pub mod batch;
pub mod credit;
pub mod meter_watch;
pub mod rationing;
pub mod relay;
pub mod settings;
pub mod tenant_switch;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::auth::audit;
use crate::auth::roles::Actor;
use crate::field::collector::CollectorHandle;
use crate::field::meter_io::{MeterRequest, MeterResponse, ReadOutcome};
use crate::field::readings::Relay;
use crate::ledger::Ledger;
use crate::ledger::outbox::{self, MeterCommand, OutboxEntry};
use crate::protocol::profile::{CommandKind, Group};
use crate::site::MeterId;
use crate::site::billing::BillingMode;
use crate::store::{Store, StoreError, decode, encode};

/// outbox entry id → JSON [`CommandRecord`] (kept after the entry leaves the outbox: history).
pub const COMMANDS: TableDefinition<u64, &[u8]> = TableDefinition::new("control_commands");
/// meter id → () while the meter is on keep-power (保电) by a confirmed command.
pub const KEEP_POWER: TableDefinition<&str, ()> = TableDefinition::new("control_keep_power");

/// Where a command stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum CommandState {
    Queued,
    /// The meter acknowledged the write; not yet confirmed by read-back.
    Sent,
    Confirmed,
    /// A DL/T 645 meter that only permits closing (N1 = 0x1B): the relay stays open until
    /// the tenant presses the button. Final for the queue.
    WaitingForTenant,
    Failed(String),
}

impl CommandState {
    pub fn label(&self) -> String {
        match self {
            CommandState::Queued => "queued".into(),
            CommandState::Sent => "sent".into(),
            CommandState::Confirmed => "confirmed".into(),
            CommandState::WaitingForTenant => "close permitted, waiting for the tenant".into(),
            CommandState::Failed(r) => format!("failed: {r}"),
        }
    }

    fn is_final(&self) -> bool {
        matches!(
            self,
            CommandState::Confirmed | CommandState::WaitingForTenant | CommandState::Failed(_)
        )
    }
}

/// The control queue's record of one outbox command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    pub id: u64,
    pub meter: MeterId,
    pub command: MeterCommand,
    pub cause_op: u64,
    /// Who asked for it (label of the actor), as far as the queue knows.
    pub actor: String,
    pub state: CommandState,
    /// Times the command was written to the meter.
    pub sends: u32,
    /// Failed attempts so far (send errors and read-backs that did not show the effect).
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Do not try again before this.
    pub next_try: Timestamp,
    pub updated: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(transparent)]
    Site(#[from] crate::site::SiteError),
    #[error("{0}")]
    Refused(String),
}

impl From<redb::TransactionError> for ControlError {
    fn from(e: redb::TransactionError) -> Self {
        ControlError::Store(e.into())
    }
}
impl From<redb::TableError> for ControlError {
    fn from(e: redb::TableError) -> Self {
        ControlError::Store(e.into())
    }
}
impl From<redb::StorageError> for ControlError {
    fn from(e: redb::StorageError) -> Self {
        ControlError::Store(e.into())
    }
}
impl From<redb::CommitError> for ControlError {
    fn from(e: redb::CommitError) -> Self {
        ControlError::Store(e.into())
    }
}

/// Queue settings.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    /// Time between two passes when nothing wakes the queue earlier.
    pub poll: Duration,
    /// Attempts before a command is failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubles each time.
    pub backoff: Duration,
    /// Longest wait for one answer from the collector.
    pub answer_timeout: Duration,
    /// Site master key of credit tokens; without it credit pushes fail with that reason.
    pub credit_key: Option<[u8; 16]>,
    /// Arrears grace before host-mode trips (config `[alarms] trip_grace`,
    /// `trip_grace_amount`).
    pub grace: Grace,
    /// Overload and meter-mode checks on the live values.
    pub watch: meter_watch::WatchConfig,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            poll: Duration::from_secs(2),
            max_attempts: 5,
            backoff: Duration::from_secs(5),
            answer_timeout: Duration::from_secs(30),
            credit_key: None,
            grace: Grace::default(),
            watch: meter_watch::WatchConfig::default(),
        }
    }
}

fn fixed_kind(c: &MeterCommand) -> Option<CommandKind> {
    Some(match c {
        MeterCommand::Trip => CommandKind::RelayTrip,
        MeterCommand::Close => CommandKind::RelayClose,
        MeterCommand::KeepPower(true) => CommandKind::KeepPowerOn,
        MeterCommand::KeepPower(false) => CommandKind::KeepPowerOff,
        MeterCommand::RestorePrepaid => CommandKind::PrepaidOn,
        // Credit tokens, prices and thresholds need values this queue does not build yet.
        MeterCommand::PushCredit { .. }
        | MeterCommand::WithdrawCredit { .. }
        | MeterCommand::ClearCredit { .. }
        | MeterCommand::PushPrices
        | MeterCommand::PushSettings
        | MeterCommand::ReadNow => {
            return None;
        }
    })
}

/// What a read-back says about a command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Confirmed,
    WaitingForTenant,
    NotYet(String),
}

fn check(command: &MeterCommand, read: &ReadOutcome) -> Check {
    let live = read.live_values();
    match command {
        MeterCommand::Trip => match live.relay {
            Some(Relay::Open) => Check::Confirmed,
            Some(Relay::Closed) => Check::NotYet("the relay still reads closed".into()),
            None => relay::check_by_power(command, read),
        },
        MeterCommand::Close => match live.relay {
            Some(Relay::Closed) => Check::Confirmed,
            // Status word 3 bit 6 clear with the relay open: the trip command is no longer
            // in force, closing is permitted and waits for the tenant's button.
            Some(Relay::Open) if read.get("relay_command") == Some(0) => Check::WaitingForTenant,
            Some(Relay::Open) => Check::NotYet("the relay still reads open".into()),
            None => relay::check_by_power(command, read),
        },
        MeterCommand::KeepPower(on) => match read.get("keep_power") {
            Some(v) if (v != 0) == *on => Check::Confirmed,
            Some(_) => Check::NotYet("keep-power reads otherwise".into()),
            // A profile without a readable keep-power flag: the acknowledged write is all
            // the meter can tell.
            None => Check::Confirmed,
        },
        _ => match live.relay {
            Some(_) => Check::Confirmed,
            None => Check::NotYet("the meter did not answer the read-back".into()),
        },
    }
}

/// Every command record, oldest first.
pub fn commands(store: &Store) -> Result<Vec<CommandRecord>, StoreError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(COMMANDS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode("control_commands", v.value())?);
    }
    Ok(out)
}

/// The record of command `id`.
pub fn command(store: &Store, id: u64) -> Result<Option<CommandRecord>, StoreError> {
    Ok(commands(store)?.into_iter().find(|c| c.id == id))
}

/// The records of commands `ids` (None for one the queue has not seen yet), in one read.
pub fn commands_by_id(
    store: &Store,
    ids: &[u64],
) -> Result<Vec<Option<CommandRecord>>, StoreError> {
    let txn = store.db().begin_read()?;
    let table = match txn.open_table(COMMANDS) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![None; ids.len()]),
        Err(e) => return Err(e.into()),
    };
    ids.iter()
        .map(|id| {
            table
                .get(*id)?
                .map(|v| decode("control_commands", v.value()))
                .transpose()
        })
        .collect()
}

/// Whether `meter` is on keep-power by a confirmed command.
pub fn keep_power(store: &Store, meter: &MeterId) -> Result<bool, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(KEEP_POWER) {
        Ok(t) => Ok(t.get(meter.as_str())?.is_some()),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Queues a command the control queue decides itself (arrears, overload, rationing): the
/// outbox entry and its queued record, inside `txn`; returns the outbox id.
pub(crate) fn queue_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    command: MeterCommand,
    actor: &str,
) -> Result<u64, StoreError> {
    let id = outbox::push_in(txn, meter, command.clone(), 0)?;
    queue_record_in(txn, meter, command, id, actor)?;
    Ok(id)
}

/// The queued record of outbox entry `id`, pushed by the caller in `txn`.
fn queue_record_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    command: MeterCommand,
    id: u64,
    actor: &str,
) -> Result<(), StoreError> {
    put_in(
        txn,
        &CommandRecord::queued(id, meter.clone(), command, 0, actor.to_string()),
    )
}

impl CommandRecord {
    /// A command just queued: nothing sent or tried yet, due now.
    fn queued(
        id: u64,
        meter: MeterId,
        command: MeterCommand,
        cause_op: u64,
        actor: String,
    ) -> CommandRecord {
        let now = Timestamp::now();
        CommandRecord {
            id,
            meter,
            command,
            cause_op,
            actor,
            state: CommandState::Queued,
            sends: 0,
            attempts: 0,
            last_error: None,
            next_try: now,
            updated: now,
        }
    }
}

fn put_in(txn: &WriteTransaction, rec: &CommandRecord) -> Result<(), StoreError> {
    txn.open_table(COMMANDS)?
        .insert(rec.id, encode(rec).as_slice())?;
    Ok(())
}

fn get_in(txn: &WriteTransaction, id: u64) -> Result<Option<CommandRecord>, StoreError> {
    let t = txn.open_table(COMMANDS)?;
    let v = t.get(id)?;
    v.map(|v| decode("control_commands", v.value())).transpose()
}

fn system() -> Actor {
    Actor::System {
        component: "control".into(),
    }
}

/// Host-mode enforcement: queues a trip for every host-billed meter whose tenant's balance
/// is ≤ 0, that is not already tripped and not on keep-power. Balance check, the ledger's
/// `tripped` mark, the outbox entry, the queue record and the audit entry are one
/// transaction. Returns the outbox ids queued.
pub fn enforce(store: &Store) -> Result<Vec<u64>, ControlError> {
    enforce_with(store, &Grace::default(), Timestamp::now())
}

/// After a trip the meter did not carry out (failed after every attempt), how long enforcement
/// waits before it queues the next: a meter that ignores trips must not be sent one per pass.
pub const FAILED_TRIP_PAUSE: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// What enforcement remembers between passes: the last arrears trip it queued for each meter.
#[derive(Debug, Default)]
pub struct EnforceMemo {
    last_trip: std::collections::HashMap<MeterId, u64>,
}

/// Whether a host-billed meter whose tenant is in arrears is tripped now, from the meter's
/// truth: `relay` is its relay as last read with the time of that reading (None: never read
/// since the daemon started, or a profile without a relay register), `flagged` the ledger's
/// mark of a host trip not yet closed by a sale, `last` the record of the last arrears trip
/// this process queued for it.
pub fn arrears_trip_due(
    relay: Option<(Relay, Timestamp)>,
    flagged: bool,
    last: Option<&CommandRecord>,
    now: Timestamp,
) -> bool {
    if let Some(rec) = last {
        match &rec.state {
            // One trip per meter in flight.
            CommandState::Queued | CommandState::Sent => return false,
            CommandState::Failed(_) if rec.updated + FAILED_TRIP_PAUSE > now => return false,
            _ => {}
        }
    }
    match relay {
        Some((Relay::Open, _)) => false,
        // Closed after our confirmed trip: only a reading taken after the confirmation shows
        // that someone switched it on again (an older one is the state before the trip).
        Some((Relay::Closed, at)) => match last {
            Some(rec)
                if matches!(
                    rec.state,
                    CommandState::Confirmed | CommandState::WaitingForTenant
                ) =>
            {
                at > rec.updated
            }
            _ => true,
        },
        // Nothing read: the ledger's mark is all there is.
        None => !flagged,
    }
}

/// How long and how far a tenant may stay in arrears before host-mode meters trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grace {
    /// Trip only once the balance is at or below minus this amount.
    pub amount: crate::units::Fen,
    /// Trip only once the tenant's arrears alarm is this old (needs the alarm engine; without
    /// an arrears alarm there is no grace time).
    pub time: Duration,
}

/// As [`enforce`], with a grace amount and time, without live values (the ledger's mark
/// stands for the relay state).
pub fn enforce_with(
    store: &Store,
    grace: &Grace,
    now: Timestamp,
) -> Result<Vec<u64>, ControlError> {
    enforce_live(store, grace, now, None, &mut EnforceMemo::default())
}

/// As [`enforce_with`], with the meters' relay states from `live` (what the collector last
/// read) and what earlier passes queued (`memo`).
pub fn enforce_live(
    store: &Store,
    grace: &Grace,
    now: Timestamp,
    live: Option<&crate::field::live::LiveState>,
    memo: &mut EnforceMemo,
) -> Result<Vec<u64>, ControlError> {
    let meters = crate::site::repo::list_meters(store)?;
    let arrears_since: std::collections::HashMap<String, Timestamp> = if grace.time.is_zero() {
        Default::default()
    } else {
        crate::alarm::book::active(store)?
            .into_iter()
            .filter(|a| a.kind == crate::alarm::AlarmKind::Arrears)
            .map(|a| (a.subject, a.raised_at))
            .collect()
    };
    // The ledger finds the candidates in one read; each trip is one write in which the
    // ledger checks again (a sale in between is respected) and keep-power can still veto.
    let host: Vec<MeterId> = meters
        .iter()
        .filter(|m| m.billing == BillingMode::Host)
        .map(|m| m.id.clone())
        .collect();
    let keep = keep_power_set(store)?;
    let grace_time = jiff::SignedDuration::try_from(grace.time).unwrap_or_default();
    let in_grace_time = |tenant: &crate::site::TenantId| {
        arrears_since
            .get(&format!("tenant:{tenant}"))
            .is_some_and(|since| *since + grace_time > now)
    };
    let standing: Vec<crate::ledger::arrears::Standing> =
        crate::ledger::arrears::due(store, &host, grace.amount)?
            .into_iter()
            .filter(|s| !keep.contains(s.meter.as_str()) && !in_grace_time(&s.tenant))
            .collect();
    // Forget meters no longer in arrears: their next trip starts afresh.
    memo.last_trip
        .retain(|m, _| standing.iter().any(|s| &s.meter == m));
    let last_ids: Vec<u64> = standing
        .iter()
        .filter_map(|s| memo.last_trip.get(&s.meter).copied())
        .collect();
    let mut last_recs = commands_by_id(store, &last_ids)?.into_iter();
    let mut candidates = Vec::new();
    for s in &standing {
        let last = match memo.last_trip.get(&s.meter) {
            Some(_) => last_recs.next().flatten(),
            None => None,
        };
        let relay = live
            .and_then(|l| l.meter(&s.meter))
            .and_then(|m| Some((m.values.relay?, m.last_ok?)));
        if arrears_trip_due(relay, s.tripped, last.as_ref(), now) {
            candidates.push(s.meter.clone());
        }
    }
    let mut queued = Vec::new();
    for id in candidates {
        let trip = crate::ledger::arrears::trip(
            store,
            &id,
            grace.amount,
            &system(),
            // Keep-power vetoes; so does a trip already waiting in the outbox (rationing,
            // overload, staff): one trip per meter at a time.
            |txn, s| {
                Ok(txn.open_table(KEEP_POWER)?.get(s.meter.as_str())?.is_some()
                    || trip_pending_in(txn, &s.meter)?)
            },
            |txn, s, outbox| {
                queue_record_in(txn, &s.meter, MeterCommand::Trip, outbox, &system().label())
            },
        )?;
        let Some((s, outbox)) = trip else {
            continue;
        };
        tracing::info!(meter = %id, tenant = %s.tenant, balance = s.balance, outbox, "arrears: trip queued");
        memo.last_trip.insert(id, outbox);
        queued.push(outbox);
    }
    Ok(queued)
}

/// Whether a trip of `meter` is still in the outbox, read inside `txn`.
fn trip_pending_in(txn: &WriteTransaction, meter: &MeterId) -> Result<bool, StoreError> {
    for row in txn.open_table(outbox::OUTBOX)?.iter()? {
        let e: OutboxEntry = decode("outbox", row?.1.value())?;
        if &e.meter == meter && e.command == MeterCommand::Trip {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Meters on keep-power now (read once per enforcement pass; the trip checks again).
fn keep_power_set(store: &Store) -> Result<std::collections::HashSet<String>, ControlError> {
    let txn = store.db().begin_read()?;
    let mut out = std::collections::HashSet::new();
    match txn.open_table(KEEP_POWER) {
        Ok(t) => {
            for row in t.iter()? {
                out.insert(row?.0.value().to_string());
            }
        }
        Err(redb::TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(out)
}

/// The queue worker.
#[derive(Clone)]
pub struct Control {
    store: Store,
    ledger: Ledger,
    collector: Arc<CollectorHandle>,
    config: ControlConfig,
    watch: Arc<std::sync::Mutex<meter_watch::WatchState>>,
    enforce: Arc<std::sync::Mutex<EnforceMemo>>,
}

impl Control {
    pub fn new(
        store: Store,
        ledger: Ledger,
        collector: Arc<CollectorHandle>,
        config: ControlConfig,
    ) -> Control {
        Control {
            store,
            ledger,
            collector,
            config,
            watch: Default::default(),
            enforce: Default::default(),
        }
    }

    /// Runs passes until `stop` turns true: on every committed ledger operation and at
    /// least every `poll`.
    pub fn spawn(self, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let mut ops = self.ledger.subscribe();
        tokio::spawn(async move {
            loop {
                if *stop.borrow() {
                    break;
                }
                if let Err(e) = self.pass().await {
                    tracing::error!(error = %e, "control queue pass failed");
                }
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = ops.recv() => {}
                    _ = tokio::time::sleep(self.config.poll) => {}
                }
            }
        })
    }

    /// One pass: enforcement, then every outbox command that is due. Returns how many
    /// commands reached a final state in this pass.
    pub async fn pass(&self) -> Result<usize, ControlError> {
        // Enforcement, rationing and the meter watch wait for the store writer: on a
        // blocking thread, never on the runtime's workers.
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            {
                let mut memo = this.enforce.lock().unwrap_or_else(|p| p.into_inner());
                enforce_live(
                    &this.store,
                    &this.config.grace,
                    Timestamp::now(),
                    Some(this.collector.live()),
                    &mut memo,
                )?;
            }
            rationing::tick(&this.store, &this.ledger, Timestamp::now())?;
            this.watch()
        })
        .await
        .map_err(|e| ControlError::Refused(format!("the enforcement pass failed: {e}")))??;
        let mut finished = 0;
        let pending = outbox::pending(&self.store)?;
        let replaced = relay::superseded(&pending);
        for (id, by) in &replaced {
            if let Some(entry) = pending.iter().find(|e| e.id == *id) {
                let rec = self.record(entry).await?;
                let why =
                    format!("superseded by outbox {by} (a newer relay command); not sent again");
                self.finish(rec, CommandState::Failed(why)).await?;
                finished += 1;
            }
        }
        for entry in pending
            .iter()
            .filter(|e| !replaced.iter().any(|(id, _)| *id == e.id))
        {
            if self.step(entry).await? {
                finished += 1;
            }
        }
        Ok(finished)
    }

    fn actor_of(&self, entry: &OutboxEntry) -> String {
        if entry.cause_op > 0
            && let Ok(Some(op)) = self.ledger.operation(entry.cause_op)
        {
            return op.actor.label();
        }
        // API commands carry their actor in the audit entry that queued them.
        format!("see audit entry with outbox {}", entry.id)
    }

    async fn record(&self, entry: &OutboxEntry) -> Result<CommandRecord, ControlError> {
        let fresh = CommandRecord::queued(
            entry.id,
            entry.meter.clone(),
            entry.command.clone(),
            entry.cause_op,
            self.actor_of(entry),
        );
        let rec = self
            .store
            .write_async(move |txn| match get_in(txn, fresh.id)? {
                Some(r) => Ok::<_, StoreError>(r),
                None => {
                    put_in(txn, &fresh)?;
                    Ok(fresh.clone())
                }
            })
            .await?;
        Ok(rec)
    }

    async fn save(&self, rec: &CommandRecord) -> Result<(), ControlError> {
        let rec = rec.clone();
        self.store.write_async(move |txn| put_in(txn, &rec)).await?;
        Ok(())
    }

    /// Records a final state: the record, the outbox entry taken, keep-power noted and an
    /// audit entry, in one transaction.
    async fn finish(
        &self,
        mut rec: CommandRecord,
        state: CommandState,
    ) -> Result<(), ControlError> {
        rec.state = state;
        rec.updated = Timestamp::now();
        let done = rec.clone();
        self.store
            .write_async(move |txn| {
                put_in(txn, &done)?;
                outbox::take_in(txn, done.id)?;
                if matches!(done.state, CommandState::Confirmed)
                    && let MeterCommand::KeepPower(on) = done.command
                {
                    let mut t = txn.open_table(KEEP_POWER)?;
                    if on {
                        t.insert(done.meter.as_str(), ())?;
                    } else {
                        t.remove(done.meter.as_str())?;
                    }
                }
                audit::append_in(
                    txn,
                    &system(),
                    "control.command",
                    serde_json::json!({"outbox": done.id, "meter": done.meter.as_str(),
                        "command": done.command, "requested_by": done.actor,
                        "state": done.state.label(), "sends": done.sends}),
                )?;
                Ok::<_, ControlError>(())
            })
            .await?;
        tracing::info!(meter = %rec.meter, outbox = rec.id, state = %rec.state.label(),
            "meter command finished");
        Ok(())
    }

    async fn ask(&self, meter: &MeterId, req: MeterRequest) -> Result<MeterResponse, String> {
        let rx = self
            .collector
            .submit(meter, req)
            .await
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(self.config.answer_timeout, rx).await {
            Err(_) => Err("no answer in time".into()),
            Ok(Err(_)) => Err("the bus task dropped the request".into()),
            Ok(Ok(r)) => r.map_err(|e| e.to_string()),
        }
    }

    async fn read_back(&self, meter: &MeterId) -> Result<ReadOutcome, String> {
        match self.ask(meter, MeterRequest::Read(Group::Live)).await? {
            MeterResponse::Values(v) => Ok(v),
            MeterResponse::Done => Err("read-back answered without values".into()),
        }
    }

    /// Advances one command; true when it reached a final state.
    async fn step(&self, entry: &OutboxEntry) -> Result<bool, ControlError> {
        let mut rec = self.record(entry).await?;
        if rec.state.is_final() {
            // Finished but the outbox entry survived (stopped between the two): take it.
            let state = rec.state.clone();
            self.finish(rec, state).await?;
            return Ok(true);
        }
        if rec.next_try > Timestamp::now() {
            return Ok(false);
        }
        if credit::token_of(&rec.command).is_some() {
            return self.step_credit(rec).await;
        }
        if matches!(
            rec.command,
            MeterCommand::PushPrices | MeterCommand::PushSettings
        ) {
            let prices = rec.command == MeterCommand::PushPrices;
            if rec.state == CommandState::Sent {
                // Values are rebuilt and written again: idempotent, unlike a credit.
                rec.state = CommandState::Queued;
            }
            return self.step_write(rec, prices).await;
        }
        if rec.command == MeterCommand::ReadNow {
            // Nothing to write: the read itself refreshes the live values (the collector
            // records every answer it gets).
            return match self.read_back(&rec.meter).await {
                Ok(_) => {
                    self.finish(rec, CommandState::Confirmed).await?;
                    Ok(true)
                }
                Err(e) => self.failed_attempt(rec, e).await,
            };
        }
        let Some(kind) = fixed_kind(&rec.command) else {
            return Ok(false);
        };
        // A command already sent (before a restart, or last pass) is first re-confirmed by
        // reading back, not blindly sent again.
        if rec.state == CommandState::Sent {
            match self.read_back(&rec.meter).await {
                Ok(read) => match check(&rec.command, &read) {
                    Check::Confirmed => {
                        self.finish(rec, CommandState::Confirmed).await?;
                        return Ok(true);
                    }
                    Check::WaitingForTenant => {
                        self.finish(rec, CommandState::WaitingForTenant).await?;
                        return Ok(true);
                    }
                    Check::NotYet(_) => {}
                },
                Err(e) => return self.failed_attempt(rec, e).await,
            }
        }
        match self
            .ask(
                &rec.meter,
                MeterRequest::Command {
                    kind,
                    values: vec![],
                },
            )
            .await
        {
            Ok(_) => {
                rec.sends += 1;
                rec.state = CommandState::Sent;
                rec.updated = Timestamp::now();
                self.save(&rec).await?;
            }
            Err(e) => return self.failed_attempt(rec, e).await,
        }
        match self.read_back(&rec.meter).await {
            Ok(read) => match check(&rec.command, &read) {
                Check::Confirmed => {
                    self.finish(rec, CommandState::Confirmed).await?;
                    Ok(true)
                }
                Check::WaitingForTenant => {
                    self.finish(rec, CommandState::WaitingForTenant).await?;
                    Ok(true)
                }
                Check::NotYet(why) => self.failed_attempt(rec, why).await,
            },
            Err(e) => self.failed_attempt(rec, e).await,
        }
    }

    async fn failed_attempt(
        &self,
        mut rec: CommandRecord,
        why: String,
    ) -> Result<bool, ControlError> {
        rec.attempts += 1;
        rec.last_error = Some(why.clone());
        if rec.attempts >= self.config.max_attempts {
            let reason = format!("{why} (after {} attempts)", rec.attempts);
            self.finish(rec, CommandState::Failed(reason)).await?;
            return Ok(true);
        }
        let wait = self
            .config
            .backoff
            .saturating_mul(1u32 << rec.attempts.saturating_sub(1).min(10));
        rec.next_try = Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
            .unwrap_or_else(|_| Timestamp::now());
        rec.updated = Timestamp::now();
        tracing::warn!(meter = %rec.meter, outbox = rec.id, attempt = rec.attempts, %why,
            "meter command not confirmed; will retry");
        self.save(&rec).await?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(pairs: &[(&str, i64)]) -> ReadOutcome {
        ReadOutcome {
            values: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..ReadOutcome::default()
        }
    }

    #[test]
    fn read_back_decides_confirmation() {
        use crate::protocol::profile::names::RELAY_OPEN;
        assert_eq!(
            check(&MeterCommand::Trip, &outcome(&[(RELAY_OPEN, 1)])),
            Check::Confirmed
        );
        assert!(matches!(
            check(&MeterCommand::Trip, &outcome(&[(RELAY_OPEN, 0)])),
            Check::NotYet(_)
        ));
        assert_eq!(
            check(&MeterCommand::Close, &outcome(&[(RELAY_OPEN, 0)])),
            Check::Confirmed
        );
        assert_eq!(
            check(
                &MeterCommand::Close,
                &outcome(&[(RELAY_OPEN, 1), ("relay_command", 0)])
            ),
            Check::WaitingForTenant
        );
        assert!(matches!(
            check(
                &MeterCommand::Close,
                &outcome(&[(RELAY_OPEN, 1), ("relay_command", 1)])
            ),
            Check::NotYet(_)
        ));
        assert!(matches!(
            check(&MeterCommand::Close, &outcome(&[])),
            Check::NotYet(_)
        ));
    }

    fn trip_record(state: CommandState, updated: Timestamp) -> CommandRecord {
        let mut r = CommandRecord::queued(
            7,
            MeterId::new("M1"),
            MeterCommand::Trip,
            0,
            "system:control".into(),
        );
        r.state = state;
        r.updated = updated;
        r
    }

    #[test]
    fn arrears_trips_follow_the_meter_not_the_mark() {
        let now = Timestamp::now();
        let before = now - jiff::SignedDuration::from_secs(30);
        let after = now - jiff::SignedDuration::from_secs(5);
        let closed = |at| Some((Relay::Closed, at));
        let open = Some((Relay::Open, after));
        // Never tripped, relay on: trip. Relay already off (tenant, rationing): nothing.
        assert!(arrears_trip_due(closed(after), false, None, now));
        assert!(!arrears_trip_due(open, false, None, now));
        // The ledger's mark says tripped but the meter reads closed (a staff close, a
        // switch-on): trip again. That is the bug the mark alone had.
        assert!(arrears_trip_due(closed(after), true, None, now));
        // No reading yet: the mark decides.
        assert!(arrears_trip_due(None, false, None, now));
        assert!(!arrears_trip_due(None, true, None, now));
        // One trip in flight at a time.
        for st in [CommandState::Queued, CommandState::Sent] {
            assert!(!arrears_trip_due(
                closed(after),
                true,
                Some(&trip_record(st, before)),
                now
            ));
        }
        // Confirmed: only a reading taken after the confirmation counts as closed again.
        let confirmed = trip_record(CommandState::Confirmed, before);
        assert!(arrears_trip_due(closed(after), true, Some(&confirmed), now));
        let confirmed_late = trip_record(CommandState::Confirmed, after);
        assert!(!arrears_trip_due(
            closed(before),
            true,
            Some(&confirmed_late),
            now
        ));
        // Failed: the meter ignores trips; wait before the next one.
        let failed = trip_record(CommandState::Failed("x".into()), after);
        assert!(!arrears_trip_due(closed(now), true, Some(&failed), now));
        let failed_long_ago = trip_record(
            CommandState::Failed("x".into()),
            now - FAILED_TRIP_PAUSE - jiff::SignedDuration::from_secs(1),
        );
        assert!(arrears_trip_due(
            closed(now),
            true,
            Some(&failed_long_ago),
            now
        ));
    }

    #[test]
    fn states_read_as_the_operator_sees_them() {
        assert_eq!(
            CommandState::WaitingForTenant.label(),
            "close permitted, waiting for the tenant"
        );
        assert_eq!(CommandState::Failed("x".into()).label(), "failed: x");
    }
}
