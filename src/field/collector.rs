//! The collector: one task per bus (RS-485 is half-duplex: a bus task never has two requests
//! out at once), all buses in parallel.
//!
//! Each bus task runs two schedules: a **full read** of every meter for the archive every
//! `collection_interval`, and a **live sweep** (balance, relay, power, alarms) as often as
//! the bus allows but no more often than `live_floor`. Requests submitted through
//! [`CollectorHandle::submit`] (the control queue's commands) go at the next gap between
//! meters, ahead of any read.
//!
//! Full readings are stored (`readings`) and settled against each meter's charge basis
//! (`suspect::settle`): the energy since the last charged reading goes to the [`Charger`]
//! exactly once when it is plausible (`plausible`; the reading's key is the ledger's
//! idempotency key), and a reading that is not (lower, or more than the meter can pass) is
//! a suspect reading for staff, never charged by itself. After a restart each bus task first
//! settles every meter's latest reading again (a no-op when it was settled).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use super::charge::Charger;
use super::error::FieldError;
use super::events::{self, FieldEventKind};
use super::link::Via;
use super::live::{LiveState, Transition};
use super::meter_io::{BusIo, MeterRequest, MeterResponse, OnSilence, ReadOutcome};
use super::plausible::Plausibility;
use super::readings::{self, Reading};
use super::suspect;
use super::transport::RetryPolicy;
use super::wire::LineTiming;
use crate::protocol::profile::{Group, Profile, ProfileSet, ReadBlock};
use crate::site::ids::{GatewayId, MeterId};
use crate::site::model::{Gateway, GatewayLink, Meter};
use crate::store::Store;

/// Collector settings (the `collector` section of the config; defaults here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Time between two full reads of a meter (site default `collection_interval_s`).
    pub collection_interval: Duration,
    /// Shortest time between the starts of two live sweeps of a bus.
    pub live_floor: Duration,
    /// Run live sweeps at all (off for a one-shot full cycle).
    pub live_sweeps: bool,
    /// Consecutive failed reads after which a meter is offline.
    pub offline_after: u32,
    pub retry: RetryPolicy,
    /// Largest read request (registers); the profile may lower it.
    pub max_registers: u16,
    /// Master key of the secure gateway link; without it secure gateways are skipped.
    pub link_key: Option<[u8; 16]>,
    /// Which readings are charged without a person looking (`field::plausible`).
    pub plausibility: Plausibility,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            collection_interval: Duration::from_secs(1800),
            live_floor: Duration::from_secs(2),
            live_sweeps: true,
            offline_after: 3,
            retry: RetryPolicy::default(),
            max_registers: 125,
            link_key: None,
            plausibility: Plausibility::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("cannot read the site model: {0}")]
    Site(String),
    #[error("meter {0} is not on any bus the collector runs")]
    UnknownMeter(MeterId),
    #[error("the bus task of meter {0} has stopped")]
    Stopped(MeterId),
}

impl CollectorConfig {
    /// From the config file's `[collector]` section and the site defaults (whose
    /// `collection_interval_s` already carries `collector.interval`, see
    /// `config::Config::apply_to`).
    pub fn from_config(
        section: &crate::config::CollectorSection,
        defaults: &crate::site::model::SiteDefaults,
    ) -> CollectorConfig {
        CollectorConfig {
            collection_interval: Duration::from_secs(u64::from(
                defaults.collection_interval_s.max(1),
            )),
            live_floor: section.live_sweep_floor.0,
            live_sweeps: true,
            offline_after: section.offline_after.max(1),
            retry: RetryPolicy {
                tries: section.retries.saturating_add(1),
                turnaround: section.answer_slack.0,
                connect_timeout: section.connect_timeout.0,
                ..RetryPolicy::default()
            },
            max_registers: 125,
            link_key: None,
            plausibility: Plausibility::default(),
        }
    }
}

/// A bus: a gateway and its port number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BusKey {
    pub gateway: GatewayId,
    pub bus: u8,
}

type Reply = oneshot::Sender<Result<MeterResponse, FieldError>>;

struct Job {
    meter: MeterId,
    request: MeterRequest,
    reply: Reply,
}

/// Cycle reports kept for a reader that is behind (tests and benches read them; the daemon
/// does not); older ones are dropped.
pub const CYCLE_REPORTS_KEPT: usize = 4096;

/// Figures of one bus cycle (also logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleReport {
    pub bus: BusKey,
    pub group: &'static str,
    pub meters: usize,
    pub read: usize,
    pub failed: usize,
    pub requests: u64,
    pub elapsed: Duration,
    /// The floor of the exchanges made (`protocol::floor`, profiles' turnarounds included).
    pub wire_floor: Duration,
}

/// A cycle's time over its floor, as text with three decimals ("0.000" when nothing was
/// exchanged). Integer arithmetic in thousandths: this module is on the money path.
fn ratio(elapsed: Duration, floor: Duration) -> String {
    let permille = elapsed
        .as_micros()
        .saturating_mul(1000)
        .checked_div(floor.as_micros())
        .unwrap_or(0);
    format!("{}.{:03}", permille / 1000, permille % 1000)
}

/// The running collector.
pub struct CollectorHandle {
    live: LiveState,
    jobs: HashMap<MeterId, mpsc::Sender<Job>>,
    full_now: Vec<mpsc::Sender<()>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    cycles: broadcast::Receiver<CycleReport>,
}

impl CollectorHandle {
    pub fn live(&self) -> &LiveState {
        &self.live
    }

    /// Queues `request` for `meter` ahead of the bus's reads; the receiver gets the result.
    pub async fn submit(
        &self,
        meter: &MeterId,
        request: MeterRequest,
    ) -> Result<oneshot::Receiver<Result<MeterResponse, FieldError>>, CollectorError> {
        let tx = self
            .jobs
            .get(meter)
            .ok_or_else(|| CollectorError::UnknownMeter(meter.clone()))?;
        let (reply, rx) = oneshot::channel();
        tx.send(Job {
            meter: meter.clone(),
            request,
            reply,
        })
        .await
        .map_err(|_| CollectorError::Stopped(meter.clone()))?;
        Ok(rx)
    }

    /// Starts a full read on every bus now (instead of waiting for the interval).
    pub fn read_all_now(&self) {
        for tx in &self.full_now {
            let _ = tx.try_send(());
        }
    }

    /// The next cycle report of any bus (`None` once every bus task stopped).
    pub async fn next_cycle(&mut self) -> Option<CycleReport> {
        loop {
            match self.cycles.recv().await {
                Ok(report) => return Some(report),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// A cycle report if one is waiting (never blocks).
    pub fn try_next_cycle(&mut self) -> Option<CycleReport> {
        loop {
            match self.cycles.try_recv() {
                Ok(report) => return Some(report),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    }

    pub fn bus_count(&self) -> usize {
        self.tasks.len()
    }

    /// Stops every bus task at its next gap and waits for them.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The link that reaches bus `index` of a gateway. A TCP gateway (serial server) exposes
/// its ports on consecutive TCP ports: bus 1 on the link's port, bus N on port + N - 1
/// (the convention of common serial servers, e.g. 4001, 4002, …).
/// A secure gateway's bus is the connection its `voltvend gateway` for that bus makes.
pub fn bus_via(gateway: &Gateway, index: u8) -> Result<Via, super::link::LinkError> {
    if let GatewayLink::Secure { host, port } = &gateway.link {
        return Ok(Via::Secure {
            host: host.clone(),
            port: *port,
            gateway: gateway.id.to_string(),
            bus: index,
        });
    }
    let mut via = Via::try_from(&gateway.link)?;
    let offset = u16::from(index.saturating_sub(1));
    match &mut via {
        Via::Tcp { port, .. } | Via::RtuOverTcp { port, .. } => {
            *port = port.saturating_add(offset);
        }
        Via::Serial { .. } | Via::Secure { .. } => {}
    }
    Ok(via)
}

/// Starts (once per port) the listener that secure gateways dial.
fn listen_secure(host: &str, port: u16, key: Option<[u8; 16]>) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let key = key.ok_or("no secure link key is configured (collector.link_key_file)")?;
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("secure:{host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("secure:{host}:{port}: no address"))?;
    super::secure::hub()
        .listen(addr, key)
        .map_err(|e| format!("cannot listen on {addr} for secure gateways: {e}"))
}

struct BusMeter {
    meter: Meter,
    address: String,
    profile: Arc<Profile>,
    /// The profile's read plans, shared by every meter of the profile (5,000 meters must
    /// not hold 5,000 copies of the register names).
    live_blocks: Arc<Vec<ReadBlock>>,
    full_blocks: Arc<Vec<ReadBlock>>,
    /// Rated power in W, for reading plausibility.
    rated_w: i64,
}

struct Shared {
    store: Store,
    live: LiveState,
    charger: Arc<dyn Charger>,
    config: CollectorConfig,
    cycles: broadcast::Sender<CycleReport>,
}

pub struct Collector;

impl Collector {
    /// Reads the site model from `store`, starts one task per bus and returns the handle.
    /// Meters whose gateway, bus or profile is unknown are skipped with a warning.
    pub fn spawn(
        store: Store,
        charger: Arc<dyn Charger>,
        profiles: &ProfileSet,
        config: CollectorConfig,
    ) -> Result<CollectorHandle, CollectorError> {
        Collector::spawn_with(store, charger, profiles, config, LiveState::new())
    }

    /// As [`Collector::spawn`], keeping live values in `live` (the daemon's, so the API
    /// shows what the collector reads).
    pub fn spawn_with(
        store: Store,
        charger: Arc<dyn Charger>,
        profiles: &ProfileSet,
        config: CollectorConfig,
        live: LiveState,
    ) -> Result<CollectorHandle, CollectorError> {
        let meters = crate::site::repo::list_meters(&store)
            .map_err(|e| CollectorError::Site(e.to_string()))?;
        let gateways: BTreeMap<GatewayId, Gateway> = crate::site::repo::list_gateways(&store)
            .map_err(|e| CollectorError::Site(e.to_string()))?
            .into_iter()
            .map(|g| (g.id.clone(), g))
            .collect();
        let mut by_bus: BTreeMap<BusKey, Vec<BusMeter>> = BTreeMap::new();
        type Plans = (Arc<Profile>, Arc<Vec<ReadBlock>>, Arc<Vec<ReadBlock>>);
        let mut profile_cache: HashMap<String, Plans> = HashMap::new();
        let max = config.max_registers;
        for m in meters {
            let Some((profile, live_blocks, full_blocks)) =
                profile_cache.get(&m.profile).cloned().or_else(|| {
                    let p = Arc::new(profiles.get(&m.profile)?.clone());
                    let plans = (
                        p.clone(),
                        Arc::new(p.plan_reads(Group::Live, max)),
                        Arc::new(p.plan_reads(Group::Full, max)),
                    );
                    profile_cache.insert(m.profile.clone(), plans.clone());
                    Some(plans)
                })
            else {
                tracing::warn!(meter = %m.id, profile = %m.profile, "meter skipped: unknown profile");
                continue;
            };
            let bm = BusMeter {
                address: m.address.to_string(),
                rated_w: config.plausibility.rated_w(&profile),
                live_blocks,
                full_blocks,
                profile,
                meter: m,
            };
            live.register(&bm.meter.id, &bm.meter.gateway);
            by_bus
                .entry(BusKey {
                    gateway: bm.meter.gateway.clone(),
                    bus: bm.meter.bus,
                })
                .or_default()
                .push(bm);
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        // Bounded: `serve` never reads the reports, so the oldest are dropped rather than kept.
        let (cycles_tx, cycles) = broadcast::channel(CYCLE_REPORTS_KEPT);
        let shared = Arc::new(Shared {
            store,
            live: live.clone(),
            charger,
            config,
            cycles: cycles_tx,
        });
        let mut jobs = HashMap::new();
        let mut full_now = Vec::new();
        let mut tasks = Vec::new();
        for (key, meters) in by_bus {
            let Some(gw) = gateways.get(&key.gateway) else {
                tracing::warn!(gateway = %key.gateway, "meters skipped: unknown gateway");
                continue;
            };
            let via = match bus_via(gw, key.bus) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(gateway = %key.gateway, error = %e, "bus skipped");
                    continue;
                }
            };
            if let Via::Secure { host, port, .. } = &via
                && let Err(why) = listen_secure(host, *port, shared.config.link_key)
            {
                tracing::warn!(gateway = %key.gateway, bus = key.bus, %why, "bus skipped");
                continue;
            }
            let bus_rec = gw.bus(key.bus);
            let timing =
                LineTiming::for_via(&via, bus_rec.map(|b| b.baud), bus_rec.map(|b| b.framing));
            // A bus speaks one protocol; the first meter's decides, others are skipped.
            let protocol = meters[0].meter.protocol;
            let (meters, other): (Vec<BusMeter>, Vec<BusMeter>) = meters
                .into_iter()
                .partition(|m| m.meter.protocol == protocol);
            for m in other {
                tracing::warn!(meter = %m.meter.id, gateway = %key.gateway, bus = key.bus,
                    "meter skipped: a bus carries one protocol");
            }
            let io = BusIo::new(via, protocol, timing, shared.config.retry);
            let (tx, rx) = mpsc::channel(64);
            for m in &meters {
                jobs.insert(m.meter.id.clone(), tx.clone());
            }
            let (ftx, frx) = mpsc::channel(1);
            full_now.push(ftx);
            let task = BusTask {
                key,
                io,
                meters,
                jobs: rx,
                full_now: frx,
                shutdown: shutdown_rx.clone(),
                shared: shared.clone(),
            };
            tasks.push(tokio::spawn(task.run()));
        }
        Ok(CollectorHandle {
            live,
            jobs,
            full_now,
            shutdown,
            tasks,
            cycles,
        })
    }
}

struct BusTask {
    key: BusKey,
    io: BusIo,
    meters: Vec<BusMeter>,
    jobs: mpsc::Receiver<Job>,
    full_now: mpsc::Receiver<()>,
    shutdown: watch::Receiver<bool>,
    shared: Arc<Shared>,
}

enum Wake {
    Job(Job),
    FullNow,
    Timer,
    Stop,
}

impl BusTask {
    async fn run(mut self) {
        self.resume_charges().await;
        let cfg = self.shared.config.clone();
        let mut next_full = Instant::now();
        let mut next_live = Instant::now();
        loop {
            if *self.shutdown.borrow() {
                break;
            }
            let now = Instant::now();
            if now >= next_full {
                let started = Instant::now();
                if !self.cycle(Group::Full).await {
                    break;
                }
                next_full = started + cfg.collection_interval;
                continue;
            }
            if cfg.live_sweeps && now >= next_live {
                let started = Instant::now();
                if !self.cycle(Group::Live).await {
                    break;
                }
                next_live = (started + cfg.live_floor).max(Instant::now());
                continue;
            }
            let wake_at = if cfg.live_sweeps {
                next_full.min(next_live)
            } else {
                next_full
            };
            let wake = tokio::select! {
                biased;
                _ = self.shutdown.changed() => Wake::Stop,
                j = self.jobs.recv() => j.map_or(Wake::Stop, Wake::Job),
                f = self.full_now.recv() => if f.is_some() { Wake::FullNow } else { Wake::Timer },
                _ = tokio::time::sleep_until(wake_at.into()) => Wake::Timer,
            };
            match wake {
                Wake::Stop => break,
                Wake::Job(job) => self.run_job(job).await,
                Wake::FullNow => next_full = Instant::now(),
                Wake::Timer => {}
            }
        }
    }

    /// Runs every queued job (commands first, at this gap between meters).
    /// Returns false when the collector is shutting down.
    async fn run_pending_jobs(&mut self) -> bool {
        while let Ok(job) = self.jobs.try_recv() {
            self.run_job(job).await;
        }
        !*self.shutdown.borrow()
    }

    async fn run_job(&mut self, job: Job) {
        let max = self.shared.config.max_registers;
        let Some(i) = self.meters.iter().position(|m| m.meter.id == job.meter) else {
            let _ = job.reply.send(Err(FieldError::Other(format!(
                "meter {} is not on this bus",
                job.meter
            ))));
            return;
        };
        let address = self.meters[i].address.clone();
        let profile = self.meters[i].profile.clone();
        let result = self.io.run(&address, &profile, &job.request, max).await;
        match &result {
            Ok(MeterResponse::Values(out)) => self.note_ok(i, out),
            Ok(MeterResponse::Done) => self.note_ok(i, &ReadOutcome::default()),
            Err(e) if e.meter_answered() => self.note_ok(i, &ReadOutcome::default()),
            Err(e) => self.note_failure(i, e),
        }
        let _ = job.reply.send(result);
    }

    /// One pass over every meter of the bus. Returns false when shutting down.
    async fn cycle(&mut self, group: Group) -> bool {
        let started = Instant::now();
        self.io.reset_stats();
        let (mut read, mut failed) = (0usize, 0usize);
        let mut new_readings: Vec<(usize, Reading)> = Vec::new();
        let mut link_error: Option<String> = None;
        if let Err(e) = self.io.connect().await {
            link_error = Some(e.to_string());
            failed = self.meters.len();
        } else {
            for i in 0..self.meters.len() {
                if !self.run_pending_jobs().await {
                    return false;
                }
                let m = &self.meters[i];
                let blocks = match group {
                    Group::Live => m.live_blocks.clone(),
                    Group::Full => m.full_blocks.clone(),
                };
                let (address, profile) = (m.address.clone(), m.profile.clone());
                let out = self
                    .io
                    .read_blocks(&address, &profile, &blocks, OnSilence::GiveUp)
                    .await;
                if out.answered() {
                    read += 1;
                    self.note_ok(i, &out);
                    if group == Group::Full {
                        match out.reading(&self.meters[i].meter.id, Timestamp::now()) {
                            Some(r) => new_readings.push((i, r)),
                            None => tracing::warn!(meter = %self.meters[i].meter.id,
                                "full read without the energy total: not stored"),
                        }
                    }
                } else {
                    failed += 1;
                    let err = out
                        .silence()
                        .cloned()
                        .unwrap_or_else(|| FieldError::Other("no values".into()));
                    if err.link_down() {
                        // The port or gateway connection broke: the rest cannot be reached.
                        link_error = Some(err.to_string());
                        failed += self.meters.len() - i - 1;
                        break;
                    }
                    self.note_failure(i, &err);
                }
            }
        }
        if !new_readings.is_empty() {
            self.store_and_charge(new_readings).await;
        }
        let stats = self.io.stats();
        let elapsed = started.elapsed();
        let gw_ok = link_error.is_none() && (read > 0 || self.meters.is_empty());
        let why = link_error
            .clone()
            .or_else(|| Some("no meter answered".to_string()));
        if let Some(online) =
            self.shared
                .live
                .set_bus(&self.key.gateway, self.key.bus, gw_ok, why.clone())
        {
            if online {
                tracing::info!(gateway = %self.key.gateway, "gateway online");
            } else {
                tracing::warn!(gateway = %self.key.gateway, why = why.as_deref().unwrap_or(""),
                    "gateway offline");
            }
            let kind = if online {
                FieldEventKind::GatewayOnline {
                    gateway: self.key.gateway.clone(),
                }
            } else {
                FieldEventKind::GatewayOffline {
                    gateway: self.key.gateway.clone(),
                    why: why.unwrap_or_default(),
                }
            };
            self.event(kind).await;
        }
        self.shared
            .live
            .set_cycle_time(&self.key.gateway, elapsed.as_millis() as u64);
        let group_name = match group {
            Group::Live => "live",
            Group::Full => "full",
        };
        tracing::info!(
            target: "voltvend::collector",
            gateway = %self.key.gateway,
            bus = self.key.bus,
            group = group_name,
            meters = self.meters.len(),
            read,
            failed,
            requests = stats.requests,
            cycle_ms = elapsed.as_millis() as u64,
            floor_ms = stats.wire_floor.as_millis() as u64,
            ratio = %ratio(elapsed, stats.wire_floor),
            link_error = link_error.as_deref().unwrap_or(""),
            "bus cycle"
        );
        let _ = self.shared.cycles.send(CycleReport {
            bus: self.key.clone(),
            group: group_name,
            meters: self.meters.len(),
            read,
            failed,
            requests: stats.requests,
            elapsed,
            wire_floor: stats.wire_floor,
        });
        true
    }

    fn note_ok(&mut self, i: usize, out: &ReadOutcome) {
        let id = self.meters[i].meter.id.clone();
        if self
            .shared
            .live
            .record_ok(&id, Timestamp::now(), out.live_values())
            == Transition::CameOnline
        {
            tracing::info!(meter = %id, "meter online");
            let store = self.shared.store.clone();
            tokio::task::spawn_blocking(move || {
                log_event(&store, FieldEventKind::MeterOnline { meter: id })
            });
        }
    }

    fn note_failure(&mut self, i: usize, err: &FieldError) {
        let id = self.meters[i].meter.id.clone();
        let why = err.to_string();
        if self
            .shared
            .live
            .record_failure(&id, &why, self.shared.config.offline_after)
            == Transition::WentOffline
        {
            tracing::warn!(meter = %id, error = %why, "meter offline");
            let store = self.shared.store.clone();
            tokio::task::spawn_blocking(move || {
                log_event(&store, FieldEventKind::MeterOffline { meter: id, why })
            });
        }
    }

    async fn event(&mut self, kind: FieldEventKind) {
        let store = self.shared.store.clone();
        let _ = tokio::task::spawn_blocking(move || log_event(&store, kind)).await;
    }

    /// Stores this cycle's full readings in one transaction, then settles them against each
    /// meter's charge basis (charges, or suspect readings with their alarm events).
    async fn store_and_charge(&mut self, new: Vec<(usize, Reading)>) {
        let shared = self.shared.clone();
        let metas: Vec<(Meter, i64)> = new
            .iter()
            .map(|(i, _)| (self.meters[*i].meter.clone(), self.meters[*i].rated_w))
            .collect();
        let readings: Vec<Reading> = new.into_iter().map(|(_, r)| r).collect();
        let res = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let pairs =
                readings::store_batch(&shared.store, readings).map_err(|e| e.to_string())?;
            let items = metas
                .into_iter()
                .zip(pairs)
                .map(|((meter, rated_w), (prev, cur))| suspect::Item {
                    meter,
                    rated_w,
                    prev,
                    cur,
                })
                .collect();
            suspect::settle(
                &shared.store,
                &*shared.charger,
                &shared.config.plausibility,
                items,
            )
            .map_err(|e| e.to_string())?;
            Ok(())
        })
        .await;
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(gateway = %self.key.gateway, error = %e,
                "readings not stored or not settled"),
            Err(e) => tracing::error!(error = %e, "store task failed"),
        }
    }

    /// After a restart: settles each meter's latest reading again. A reading charged before
    /// is older than or equal to the basis (or its key is known to the ledger), a suspect one
    /// is recorded: nothing is charged twice, and a charge the restart interrupted is posted.
    async fn resume_charges(&mut self) {
        let shared = self.shared.clone();
        let metas: Vec<(Meter, i64)> = self
            .meters
            .iter()
            .map(|m| (m.meter.clone(), m.rated_w))
            .collect();
        let _ = tokio::task::spawn_blocking(move || {
            let mut items = Vec::new();
            for (meter, rated_w) in metas {
                let cur = match readings::latest(&shared.store, &meter.id) {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::error!(meter = %meter.id, error = %e, "cannot read readings");
                        continue;
                    }
                };
                let prev = readings::latest_before(&shared.store, &meter.id, cur.at)
                    .ok()
                    .flatten();
                items.push(suspect::Item {
                    meter,
                    rated_w,
                    prev,
                    cur,
                });
            }
            if let Err(e) = suspect::settle(
                &shared.store,
                &*shared.charger,
                &shared.config.plausibility,
                items,
            ) {
                tracing::error!(error = %e, "cannot settle the latest readings");
            }
        })
        .await;
    }
}

fn log_event(store: &Store, kind: FieldEventKind) {
    if let Err(e) = events::append(store, Timestamp::now(), kind) {
        tracing::error!(error = %e, "cannot record a field event");
    }
}
