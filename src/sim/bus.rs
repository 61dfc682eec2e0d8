//! A simulated bus: a set of meters sharing one link (a pty, a Modbus TCP gateway, or a
//! serial server carrying raw frames over TCP). Like a real RS-485 bus, only the addressed
//! meter answers and every other address stays silent; one transaction at a time.

use super::clock::SimClock;
use super::faults::{Faults, Outcome};
use super::load::{LoadModel, SimRng, mix};
use super::meter::{CreditVerifier, MeterInit, MeterState, Refused, SimMeter, VerifiedCredit};
use super::pacing::{char_time, wire_time, write_paced_from};
use super::tou::TouSchedule;
use super::{dlt645, modbus};
use crate::protocol::profile::{Profile, ProfileSet};
use crate::protocol::rtu;
use crate::protocol::serial::Framing;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Which protocol the bus speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimProtocol {
    #[default]
    Modbus,
    Dlt645,
}

/// How the bus is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// A pseudo-terminal: the master opens the printed slave path like a serial port.
    Pty,
    /// Modbus: a Modbus TCP gateway (unit id = meter address). DL/T 645: raw frames over TCP.
    Tcp(String),
    /// A serial server: raw RTU (or DL/T 645) frames over TCP, paced like the line.
    RtuOverTcp(String),
}

/// Where a running bus can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Pty(PathBuf),
    ModbusTcp(SocketAddr),
    /// Raw frames over TCP (RTU over TCP, or DL/T 645 over TCP).
    SerialServer(SocketAddr),
}

impl Endpoint {
    /// The gateway link string of `site::model::GatewayLink` for this endpoint.
    pub fn link(&self, baud: u32, framing: Framing) -> String {
        match self {
            Endpoint::Pty(p) => format!("serial:{}@{baud},{framing}", p.display()),
            Endpoint::ModbusTcp(a) => format!("tcp:{a}"),
            Endpoint::SerialServer(a) => format!("rtu-over-tcp:{a}"),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Pty(p) => write!(f, "pty {}", p.display()),
            Endpoint::ModbusTcp(a) => write!(f, "modbus-tcp {a}"),
            Endpoint::SerialServer(a) => write!(f, "serial-server {a}"),
        }
    }
}

/// A meter's address on its bus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SimAddress {
    Modbus(u8),
    /// Twelve decimal digits, as printed on the meter.
    Dlt645(String),
}

impl SimAddress {
    /// Parses an address for a protocol: 1..=247 for Modbus, up to 12 digits for DL/T 645
    /// (left-padded with zeros).
    pub fn parse(protocol: SimProtocol, text: &str) -> Result<SimAddress, SimError> {
        let t = text.trim();
        match protocol {
            SimProtocol::Modbus => match t.parse::<u8>() {
                Ok(a) if (1..=247).contains(&a) => Ok(SimAddress::Modbus(a)),
                _ => Err(SimError::Config(format!(
                    "Modbus address '{t}' must be 1 to 247"
                ))),
            },
            SimProtocol::Dlt645 => {
                if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SimError::Config(format!(
                        "DL/T 645 address '{t}' must be up to 12 digits"
                    )));
                }
                Ok(SimAddress::Dlt645(format!("{t:0>12}")))
            }
        }
    }

    /// DL/T 645 wire bytes A0..A5 (BCD, lowest pair first).
    pub fn dlt645_bytes(&self) -> Option<[u8; 6]> {
        let SimAddress::Dlt645(d) = self else {
            return None;
        };
        let b = d.as_bytes();
        let mut out = [0u8; 6];
        for (i, o) in out.iter_mut().enumerate() {
            let hi = b.get(10 - 2 * i)? - b'0';
            let lo = b.get(11 - 2 * i)? - b'0';
            *o = (hi << 4) | lo;
        }
        Some(out)
    }
}

impl fmt::Display for SimAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimAddress::Modbus(a) => write!(f, "{a}"),
            SimAddress::Dlt645(d) => f.write_str(d),
        }
    }
}

/// Why the simulator could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("simulator config: {0}")]
    Config(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no meter with address {0} on this bus")]
    NoMeter(String),
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// One meter as the bus holds it.
#[derive(Debug)]
pub(crate) struct BusMeter {
    pub address: SimAddress,
    pub meter: SimMeter,
    pub faults: Faults,
}

/// What every bus of a building shares: clock, zone, TOU schedule, seed, credit verifier.
#[derive(Debug, Clone)]
pub struct SimEnv {
    pub clock: SimClock,
    pub tz: TimeZone,
    pub tou: TouSchedule,
    pub seed: u64,
    pub verifier: Arc<RwLock<Option<Arc<dyn CreditVerifier>>>>,
}

impl SimEnv {
    pub fn new(clock: SimClock, tz: TimeZone, seed: u64) -> SimEnv {
        SimEnv {
            clock,
            tz,
            tou: TouSchedule::default_commercial(),
            seed,
            verifier: Arc::new(RwLock::new(None)),
        }
    }

    /// Installs the credit token verifier for every meter sharing this env.
    pub fn set_credit_verifier(&self, v: Arc<dyn CreditVerifier>) {
        *self.verifier.write().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }

    fn verifier(&self) -> Option<Arc<dyn CreditVerifier>> {
        self.verifier
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Timing and protocol of a bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusTiming {
    /// Line speed; 0 = unpaced (as fast as the host goes).
    pub baud: u32,
    /// `8E1` (11 bits per character), `8N1`, `8N2`.
    pub framing: Framing,
    /// Time from the end of a request to the start of the reply.
    pub turnaround: Duration,
    /// How long a Modbus TCP gateway waits for a silent meter before answering 0x0B.
    pub gateway_timeout: Duration,
}

impl Default for BusTiming {
    fn default() -> Self {
        BusTiming {
            baud: 9600,
            framing: Framing::E81,
            turnaround: Duration::from_millis(20),
            gateway_timeout: Duration::from_millis(200),
        }
    }
}

impl BusTiming {
    pub fn char_time(&self) -> Option<Duration> {
        char_time(self.baud, self.framing)
    }

    /// The inter-frame silence t3.5: 3.5 of the standard's 11-bit characters, 1.75 ms above
    /// 19200 baud (Modbus over Serial Line V1.02 §2.5.1.1; `protocol::rtu::silence_3_5`,
    /// the figure the bus floor counts); 2 ms when unpaced.
    pub fn silence(&self) -> Duration {
        match self.char_time() {
            None => Duration::from_millis(2),
            Some(_) => crate::protocol::rtu::silence_3_5(self.baud),
        }
    }
}

/// One meter to put on a bus.
#[derive(Debug, Clone)]
pub struct MeterSetup {
    pub address: SimAddress,
    pub profile: Arc<Profile>,
    pub load: LoadModel,
    pub init: MeterInit,
    pub faults: Faults,
}

/// Counters of what the bus saw (for tests and the CLI).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BusStats {
    pub requests: u64,
    pub replies: u64,
    pub silent: u64,
}

pub(crate) struct BusShared {
    pub index: usize,
    pub protocol: SimProtocol,
    pub timing: BusTiming,
    pub env: SimEnv,
    pub meters: Mutex<Vec<BusMeter>>,
    pub faults: Mutex<Faults>,
    pub rng: Mutex<SimRng>,
    pub stats: Mutex<BusStats>,
    /// The half-duplex line: one transaction at a time, whatever the transport.
    pub line: tokio::sync::Mutex<()>,
    pub down: watch::Sender<bool>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The result of offering a request to the bus.
pub(crate) struct Transaction {
    /// The address to put on the reply (another one under `wrong_address`).
    pub reply_address: Option<SimAddress>,
    /// Reply body: Modbus PDU, or DL/T 645 full frame.
    pub reply: Option<Vec<u8>>,
    pub outcome: Outcome,
}

impl BusShared {
    /// A handle on the meter at `address`, if the bus has one there.
    fn meter(shared: &Arc<BusShared>, address: &SimAddress) -> Option<MeterHandle> {
        lock(&shared.meters)
            .iter()
            .any(|m| &m.address == address)
            .then(|| MeterHandle {
                shared: shared.clone(),
                address: address.clone(),
            })
    }

    fn addresses(&self) -> Vec<SimAddress> {
        lock(&self.meters)
            .iter()
            .map(|m| m.address.clone())
            .collect()
    }

    fn bus_faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    /// Offers a request to the meter at `address` (or all, for a broadcast) and returns what
    /// goes back on the line. `handle` runs on the meter after it has lived up to now.
    pub(crate) fn transact<F>(&self, address: Option<&SimAddress>, mut handle: F) -> Transaction
    where
        F: FnMut(&mut SimMeter, Option<&dyn CreditVerifier>) -> Option<Vec<u8>>,
    {
        let now = self.env.clock.now();
        let verifier = self.env.verifier();
        let bus_faults = self.bus_faults();
        let mut meters = lock(&self.meters);
        lock(&self.stats).requests += 1;
        let silent = |s: &Self| {
            lock(&s.stats).silent += 1;
            Transaction {
                reply_address: None,
                reply: None,
                outcome: Outcome {
                    silent: true,
                    ..Outcome::default()
                },
            }
        };
        if bus_faults.gateway_down || bus_faults.removed {
            return silent(self);
        }
        let Some(address) = address else {
            // Broadcast: every present meter acts, none answers.
            for m in meters.iter_mut().filter(|m| !m.faults.removed) {
                m.meter.advance(now, &self.env.tz, &self.env.tou);
                let _ = handle(&mut m.meter, verifier.as_deref());
            }
            return silent(self);
        };
        let others: Vec<SimAddress> = meters
            .iter()
            .map(|m| m.address.clone())
            .filter(|a| a != address)
            .collect();
        let Some(m) = meters.iter_mut().find(|m| &m.address == address) else {
            return silent(self);
        };
        let faults = bus_faults.merged(&m.faults);
        let outcome = faults.roll(&mut lock(&self.rng));
        if outcome.silent {
            return silent(self);
        }
        m.meter.advance(now, &self.env.tz, &self.env.tou);
        let reply = handle(&mut m.meter, verifier.as_deref());
        if reply.is_none() {
            return silent(self);
        }
        lock(&self.stats).replies += 1;
        let reply_address = if outcome.wrong_address {
            Some(others.first().cloned().unwrap_or_else(|| wrong_of(address)))
        } else {
            Some(address.clone())
        };
        Transaction {
            reply_address,
            reply,
            outcome,
        }
    }

    fn garbage(&self, len: usize) -> Vec<u8> {
        let mut rng = lock(&self.rng);
        let n = len.clamp(3, 64);
        (0..n).map(|_| rng.next_u64() as u8).collect()
    }
}

/// An address that is not this one (for `wrong_address` on a bus of one meter).
fn wrong_of(a: &SimAddress) -> SimAddress {
    match a {
        SimAddress::Modbus(x) => SimAddress::Modbus(if *x >= 247 { 1 } else { x + 1 }),
        SimAddress::Dlt645(d) => {
            let mut s: Vec<u8> = d.bytes().collect();
            if let Some(last) = s.last_mut() {
                *last = if *last == b'9' { b'0' } else { *last + 1 };
            }
            SimAddress::Dlt645(String::from_utf8_lossy(&s).into_owned())
        }
    }
}

/// A running simulated bus. Dropping it stops its tasks (and closes its pty/listener).
pub struct SimBus {
    shared: Arc<BusShared>,
    endpoint: Endpoint,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SimBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimBus")
            .field("index", &self.shared.index)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Drop for SimBus {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Everything needed to start one bus.
#[derive(Debug, Clone)]
pub struct BusSetup {
    pub index: usize,
    pub protocol: SimProtocol,
    pub transport: Transport,
    pub timing: BusTiming,
    pub meters: Vec<MeterSetup>,
    pub faults: Faults,
}

impl SimBus {
    /// Starts a bus: opens its pty or TCP listener and serves until dropped.
    pub async fn spawn(setup: BusSetup, env: &SimEnv) -> Result<SimBus, SimError> {
        let now = env.clock.now();
        let mut seen = std::collections::BTreeSet::new();
        let mut meters = Vec::with_capacity(setup.meters.len());
        for m in setup.meters {
            if !seen.insert(m.address.clone()) {
                return Err(SimError::Config(format!(
                    "bus {}: address {} used twice",
                    setup.index, m.address
                )));
            }
            meters.push(BusMeter {
                address: m.address,
                meter: SimMeter::new(m.profile, m.load, m.init, now),
                faults: m.faults,
            });
        }
        let (down, _) = watch::channel(setup.faults.gateway_down);
        let shared = Arc::new(BusShared {
            index: setup.index,
            protocol: setup.protocol,
            timing: setup.timing,
            env: env.clone(),
            meters: Mutex::new(meters),
            faults: Mutex::new(setup.faults),
            rng: Mutex::new(SimRng::new(mix(env.seed ^ (setup.index as u64) << 32))),
            stats: Mutex::new(BusStats::default()),
            line: tokio::sync::Mutex::new(()),
            down,
        });
        let io = |what: String| move |source| SimError::Io { what, source };
        let mut tasks = Vec::new();
        let endpoint = match &setup.transport {
            Transport::Pty => {
                let (master, slave) =
                    tokio_serial::SerialStream::pair().map_err(|e| SimError::Io {
                        what: "opening a pty".into(),
                        source: std::io::Error::other(e.to_string()),
                    })?;
                let path = tokio_serial::SerialPort::name(&slave)
                    .ok_or_else(|| SimError::Config("the pty has no slave path".into()))?;
                let s = shared.clone();
                tasks.push(tokio::spawn(async move {
                    // Holding the slave open keeps the pty alive across master reconnects.
                    let _slave = slave;
                    let _ = serve_stream(s, master, false).await;
                }));
                Endpoint::Pty(PathBuf::from(path))
            }
            Transport::Tcp(addr) | Transport::RtuOverTcp(addr) => {
                let listener = TcpListener::bind(addr.as_str())
                    .await
                    .map_err(io(format!("binding {addr}")))?;
                let local = listener
                    .local_addr()
                    .map_err(io(format!("address of {addr}")))?;
                let gateway = matches!(setup.transport, Transport::Tcp(_))
                    && setup.protocol == SimProtocol::Modbus;
                let s = shared.clone();
                tasks.push(tokio::spawn(accept_loop(s, listener, gateway)));
                if gateway {
                    Endpoint::ModbusTcp(local)
                } else {
                    Endpoint::SerialServer(local)
                }
            }
        };
        Ok(SimBus {
            shared,
            endpoint,
            tasks,
        })
    }

    pub fn index(&self) -> usize {
        self.shared.index
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn protocol(&self) -> SimProtocol {
        self.shared.protocol
    }

    pub fn timing(&self) -> &BusTiming {
        &self.shared.timing
    }

    /// The gateway link string for the site config (`serial:…`, `tcp:…`, `rtu-over-tcp:…`).
    pub fn link(&self) -> String {
        self.endpoint
            .link(self.shared.timing.baud, self.shared.timing.framing)
    }

    pub fn addresses(&self) -> Vec<SimAddress> {
        self.shared.addresses()
    }

    /// A handle on one meter.
    pub fn meter(&self, address: &SimAddress) -> Option<MeterHandle> {
        BusShared::meter(&self.shared, address)
    }

    /// A handle on the Modbus meter at `address`.
    pub fn modbus_meter(&self, address: u8) -> Option<MeterHandle> {
        self.meter(&SimAddress::Modbus(address))
    }

    /// Replaces the bus-wide faults (gateway down closes TCP connections at once).
    pub fn set_faults(&self, faults: Faults) {
        let down = faults.gateway_down;
        *lock(&self.shared.faults) = faults;
        self.shared.down.send_replace(down);
    }

    pub fn faults(&self) -> Faults {
        self.shared.bus_faults()
    }

    pub fn stats(&self) -> BusStats {
        *lock(&self.shared.stats)
    }

    /// A cloneable handle for run-time control (faults) from other tasks.
    pub fn handle(&self) -> BusHandle {
        BusHandle {
            shared: self.shared.clone(),
        }
    }
}

/// A cloneable run-time handle on a bus (faults and meters), e.g. for the faults watcher.
#[derive(Clone)]
pub struct BusHandle {
    shared: Arc<BusShared>,
}

impl fmt::Debug for BusHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BusHandle({})", self.shared.index)
    }
}

impl BusHandle {
    pub fn index(&self) -> usize {
        self.shared.index
    }

    pub fn protocol(&self) -> SimProtocol {
        self.shared.protocol
    }

    pub fn set_faults(&self, faults: Faults) {
        let down = faults.gateway_down;
        *lock(&self.shared.faults) = faults;
        self.shared.down.send_replace(down);
    }

    pub fn meter(&self, address: &SimAddress) -> Option<MeterHandle> {
        BusShared::meter(&self.shared, address)
    }

    pub fn addresses(&self) -> Vec<SimAddress> {
        self.shared.addresses()
    }
}

/// A handle on one simulated meter, for tests and the control channel.
#[derive(Clone)]
pub struct MeterHandle {
    shared: Arc<BusShared>,
    address: SimAddress,
}

impl fmt::Debug for MeterHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MeterHandle(bus {}, {})",
            self.shared.index, self.address
        )
    }
}

impl MeterHandle {
    pub fn address(&self) -> &SimAddress {
        &self.address
    }

    /// Runs `f` on the meter after it has lived up to the clock's now.
    pub fn with<R>(&self, f: impl FnOnce(&mut SimMeter) -> R) -> R {
        let now = self.shared.env.clock.now();
        let mut meters = lock(&self.shared.meters);
        let Some(m) = meters.iter_mut().find(|m| m.address == self.address) else {
            unreachable_meter(&self.address)
        };
        m.meter
            .advance(now, &self.shared.env.tz, &self.shared.env.tou);
        f(&mut m.meter)
    }

    /// The meter's state now.
    pub fn snapshot(&self) -> MeterState {
        self.with(|m| m.state.clone())
    }

    /// A named value now (canonical unit).
    pub fn value(&self, name: &str) -> Option<i64> {
        self.with(|m| m.value(name))
    }

    pub fn set_faults(&self, faults: Faults) {
        let mut meters = lock(&self.shared.meters);
        if let Some(m) = meters.iter_mut().find(|m| m.address == self.address) {
            m.faults = faults;
        }
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.meters)
            .iter()
            .find(|m| m.address == self.address)
            .map(|m| m.faults.clone())
            .unwrap_or_default()
    }

    /// Makes the meter answer only its documented registers (see
    /// [`SimMeter::documented_only`]).
    pub fn set_documented_only(&self, on: bool) {
        self.with(|m| m.documented_only = on);
    }

    /// Requests refused so far for touching an assumed register.
    pub fn assumed_requests(&self) -> u64 {
        self.with(|m| m.assumed_requests)
    }

    /// Relay state changes by command so far.
    pub fn relay_switches(&self) -> u64 {
        self.with(|m| m.relay_switches)
    }

    /// Replaces the meter's load with a constant one in W (`None`: back to its profile), e.g.
    /// to drive it into overload. Energy up to now is booked at the old load first.
    pub fn set_load_w(&self, watts: Option<i64>) {
        self.with(|m| m.load.fixed_w = watts);
    }

    /// Sets the meter's own balance (tests of drift between meter and ledger).
    pub fn set_balance(&self, balance: crate::units::Fen) {
        self.with(|m| {
            m.state.balance = crate::units::SubFen::from_fen(balance);
            m.enforce();
        });
    }

    /// The tenant presses the meter's button (closes a relay whose closing was permitted
    /// with DL/T 645 N1 = 1BH). Returns whether the relay is closed now.
    pub fn press_button(&self) -> bool {
        self.with(SimMeter::press_button)
    }

    /// The credit hook (`accept_credit(bytes)`): verifies with the env's verifier.
    pub fn accept_credit(&self, token: &[u8]) -> Result<VerifiedCredit, Refused> {
        let v = self.shared.env.verifier();
        self.with(|m| m.accept_credit(token, v.as_deref()))
    }
}

/// Meters are never removed from the list (a "removed" meter is a fault flag), so a handle's
/// meter always exists; this keeps the signature infallible without a panic path on input.
fn unreachable_meter(a: &SimAddress) -> ! {
    unreachable!("simulated meter {a} vanished from its bus")
}

async fn accept_loop(shared: Arc<BusShared>, listener: TcpListener, gateway: bool) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if *shared.down.borrow() {
            drop(stream); // gateway down: the connection is closed at once
            continue;
        }
        let _ = stream.set_nodelay(true);
        let s = shared.clone();
        tokio::spawn(async move {
            let _ = if gateway {
                serve_modbus_tcp(s, stream).await
            } else {
                serve_stream(s, stream, true).await
            };
        });
    }
}

/// Waits until the gateway goes down (never, for a pty).
async fn wait_down(rx: &mut watch::Receiver<bool>, closable: bool) {
    if !closable {
        return std::future::pending().await;
    }
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Serves raw frames (Modbus RTU or DL/T 645) on a byte stream: pty master or serial server.
async fn serve_stream<S>(
    shared: Arc<BusShared>,
    mut stream: S,
    closable: bool,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut down = shared.down.subscribe();
    let silence = shared.timing.silence();
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut rx_start = Instant::now();
    let mut chunk = [0u8; 512];
    loop {
        let read = async {
            if buf.is_empty() {
                Some(stream.read(&mut chunk).await)
            } else {
                tokio::time::timeout(silence, stream.read(&mut chunk))
                    .await
                    .ok()
            }
        };
        let got = tokio::select! {
            r = read => r,
            () = wait_down(&mut down, closable) => return Ok(()),
        };
        match got {
            None => {
                // 3.5 characters of silence: whatever is buffered was not a frame for us.
                buf.clear();
                continue;
            }
            Some(Ok(0)) => return Ok(()),
            Some(Ok(n)) => {
                if buf.is_empty() {
                    rx_start = Instant::now();
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Some(Err(e)) => return Err(e),
        }
        // Process every complete frame in the buffer.
        loop {
            let frame = match shared.protocol {
                SimProtocol::Modbus => take_rtu_frame(&mut buf),
                SimProtocol::Dlt645 => {
                    dlt645::take_frame(&mut buf).map(|(body, wire_len)| Frame { body, wire_len })
                }
            };
            let Some(frame) = frame else { break };
            let bytes_on_wire = frame.wire_len;
            let _line = shared.line.lock().await;
            // The request took its wire time to arrive on a real bus.
            let request_end = rx_start + wire_time(bytes_on_wire, shared.timing.char_time());
            tokio::time::sleep_until(request_end).await;
            let t = match shared.protocol {
                SimProtocol::Modbus => rtu_transaction(&shared, &frame.body),
                SimProtocol::Dlt645 => dlt645_transaction(&shared, &frame.body),
            };
            if let Some((delay, bytes)) = reply_bytes(&shared, t) {
                // A Modbus slave knows the request has ended only after t3.5 of silence
                // (Serial Line V1.02 §2.5.1.1), so it cannot answer sooner; a DL/T 645 frame
                // ends at its 0x16. Reply slots are counted from there, so a late wake-up
                // does not stretch the exchange beyond what the line takes.
                let paced = shared.timing.char_time().is_some();
                let end_seen = match shared.protocol {
                    SimProtocol::Modbus if paced => request_end + silence,
                    SimProtocol::Modbus | SimProtocol::Dlt645 => request_end,
                };
                let start = (end_seen + delay).max(Instant::now());
                write_paced_from(&mut stream, &bytes, shared.timing.char_time(), start).await?;
            }
            rx_start = Instant::now();
        }
    }
}

/// A complete request frame taken off the receive buffer.
pub(crate) struct Frame {
    /// The frame without line noise (Modbus: ADU without CRC check done; DL/T 645: from the
    /// first 0x68).
    pub body: Vec<u8>,
    /// Bytes it occupied on the wire (preamble included).
    pub wire_len: usize,
}

/// Takes one complete, CRC-correct RTU request off `buf`. A frame with a bad CRC is
/// dropped (a slave ignores it, Modbus over Serial Line §2.5.1.1); incomplete or a function
/// the codec cannot frame = wait (for the 3.5-character silence that clears the buffer).
fn take_rtu_frame(buf: &mut Vec<u8>) -> Option<Frame> {
    let Ok(rtu::FrameLen::Complete(n)) = rtu::request_frame_len(buf) else {
        return None;
    };
    let frame: Vec<u8> = buf.drain(..n).collect();
    if !modbus::rtu_crc_ok(&frame) {
        buf.clear();
        return None;
    }
    Some(Frame {
        wire_len: frame.len(),
        body: frame,
    })
}

fn rtu_transaction(shared: &BusShared, adu: &[u8]) -> Transaction {
    let unit = adu[0];
    let pdu = &adu[1..adu.len() - 2];
    let address = (unit != 0).then_some(SimAddress::Modbus(unit));
    shared.transact(address.as_ref(), |m, v| {
        let r = modbus::handle_pdu(m, pdu, v);
        (unit != 0).then_some(r)
    })
}

/// Runs a DL/T 645 request against the bus: the meter at the exact address, or the only
/// one a wildcard address matches.
fn dlt645_transaction(shared: &BusShared, frame: &[u8]) -> Transaction {
    let silent = Transaction {
        reply_address: None,
        reply: None,
        outcome: Outcome {
            silent: true,
            ..Default::default()
        },
    };
    let Some(req) = dlt645::decode(frame) else {
        return silent;
    };
    let target = {
        let meters = lock(&shared.meters);
        let hits: Vec<SimAddress> = meters
            .iter()
            .filter(|m| !m.faults.removed)
            .filter(|m| {
                m.address
                    .dlt645_bytes()
                    .is_some_and(|a| dlt645::matches(&a, &req.address))
            })
            .map(|m| m.address.clone())
            .collect();
        if req.address == [0x99; 6] {
            None // broadcast
        } else if hits.len() == 1 {
            hits.into_iter().next()
        } else {
            return silent; // nobody, or a wildcard collision nobody can win
        }
    };
    shared.transact(target.as_ref(), |m, v| dlt645::answer(m, &req, v))
}

/// Turns a transaction into the delay and bytes that go on the line, applying the faults.
fn reply_bytes(shared: &BusShared, t: Transaction) -> Option<(Duration, Vec<u8>)> {
    if t.outcome.silent {
        return None;
    }
    let body = t.reply?;
    let address = t.reply_address?;
    let mut bytes = match (shared.protocol, &address) {
        (SimProtocol::Modbus, SimAddress::Modbus(a)) => modbus::rtu_adu(*a, &body),
        (SimProtocol::Dlt645, _) => {
            dlt645::readdress(&body, address.dlt645_bytes().unwrap_or([0; 6]))
        }
        _ => return None,
    };
    if t.outcome.crc_error
        && let Some(last_check) = match shared.protocol {
            SimProtocol::Modbus => bytes.len().checked_sub(1),
            SimProtocol::Dlt645 => bytes.len().checked_sub(2), // CS sits before 0x16
        }
    {
        bytes[last_check] ^= 0x5A;
    }
    if t.outcome.garbage {
        bytes = shared.garbage(bytes.len());
    }
    let delay = shared.timing.turnaround + Duration::from_millis(t.outcome.extra_delay_ms);
    Some((delay, bytes))
}

/// Serves Modbus TCP (MBAP) as a gateway in front of the RS-485 bus: the unit id picks the
/// meter; a meter that does not answer costs the gateway's timeout and comes back as
/// exception 0x0B (gateway target device failed to respond), as real gateways do.
async fn serve_modbus_tcp(shared: Arc<BusShared>, mut stream: TcpStream) -> std::io::Result<()> {
    let mut down = shared.down.subscribe();
    loop {
        let mut hdr = [0u8; 7];
        tokio::select! {
            r = stream.read_exact(&mut hdr) => { r?; }
            () = wait_down(&mut down, true) => return Ok(()),
        }
        let tid = [hdr[0], hdr[1]];
        let len = usize::from(u16::from_be_bytes([hdr[4], hdr[5]]));
        if hdr[2..4] != [0, 0] || !(2..=254).contains(&len) {
            return Ok(()); // not Modbus TCP: drop the connection like a gateway would
        }
        let unit = hdr[6];
        let mut pdu = vec![0u8; len - 1];
        stream.read_exact(&mut pdu).await?;
        let (reply_unit, body) = {
            let _line = shared.line.lock().await;
            let started = Instant::now();
            let ct = shared.timing.char_time();
            // Request on the RS-485 side: unit + PDU + CRC.
            tokio::time::sleep(wire_time(pdu.len() + 3, ct)).await;
            let address = (unit != 0).then_some(SimAddress::Modbus(unit));
            let t = shared.transact(address.as_ref(), |m, v| {
                Some(modbus::handle_pdu(m, &pdu, v))
            });
            let fc = pdu.first().copied().unwrap_or(0);
            let timeout_reply = (
                shared.timing.gateway_timeout,
                unit,
                vec![fc | 0x80, modbus::EXC_GATEWAY_TARGET_FAILED],
            );
            let (wait, reply_unit, body) = match (t.outcome, t.reply, t.reply_address) {
                (o, Some(body), Some(SimAddress::Modbus(a))) if !o.silent => {
                    let wait = shared.timing.turnaround + Duration::from_millis(o.extra_delay_ms);
                    if o.garbage {
                        // A gateway with a broken serial side forwards noise.
                        (wait, unit, shared.garbage(body.len()))
                    } else if o.crc_error || wait > shared.timing.gateway_timeout {
                        // The gateway drops a bad frame, or gives up on a slow meter.
                        timeout_reply
                    } else {
                        // On the RS-485 side the meter answers t3.5 after the request ends,
                        // and the gateway knows the reply has ended t3.5 after its last byte
                        // (Serial Line V1.02 §2.5.1.1); an unpaced bus keeps no silences.
                        let silences = if ct.is_some() {
                            shared.timing.silence() * 2
                        } else {
                            Duration::ZERO
                        };
                        (silences + wait + wire_time(body.len() + 3, ct), a, body)
                    }
                }
                _ if unit == 0 => continue, // broadcast: no reply
                _ => timeout_reply,
            };
            // The line stays busy until the reply has crossed it.
            tokio::time::sleep_until(started + wire_time(pdu.len() + 3, ct) + wait).await;
            (reply_unit, body)
        };
        let mut out = Vec::with_capacity(7 + body.len());
        out.extend_from_slice(&tid);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&((body.len() + 1) as u16).to_be_bytes());
        out.push(reply_unit);
        out.extend_from_slice(&body);
        stream.write_all(&out).await?;
    }
}

/// Profiles by name, shared: thousands of meters hold one copy of each profile.
pub type ProfileArcs = std::collections::BTreeMap<String, Arc<Profile>>;

/// Shares the profiles of a set.
pub fn profile_arcs(set: &ProfileSet) -> ProfileArcs {
    set.iter()
        .map(|p| (p.name.clone(), Arc::new(p.clone())))
        .collect()
}

/// Builds a bus's meters from a simple description (used by the CLI and `Building`).
pub fn default_meter_setup(
    protocol: SimProtocol,
    address: SimAddress,
    profiles: &ProfileArcs,
    profile: Option<&str>,
    seed: u64,
    index: u64,
) -> Result<MeterSetup, SimError> {
    let name = profile.unwrap_or(match protocol {
        SimProtocol::Modbus => crate::protocol::profile::DEFAULT_MODBUS_1P,
        SimProtocol::Dlt645 => crate::protocol::profile::DEFAULT_DLT645,
    });
    let p = profiles
        .get(name)
        .ok_or_else(|| SimError::Config(format!("no meter profile called '{name}'")))?;
    let key = mix(seed ^ index.wrapping_mul(0x1000_0000_01B3));
    let category = super::load::Category::ALL[(key % 5) as usize];
    let peak = category.typical_peak_w() * (700 + (key >> 8) as i64 % 600) / 1000;
    Ok(MeterSetup {
        address,
        profile: p.clone(),
        load: LoadModel {
            category,
            peak_w: if p.phases == 3 { peak * 3 } else { peak },
            fixed_w: None,
            noise_permille: 150,
            key,
        },
        init: MeterInit {
            serial: format!("{:012}", 240_000_000_000u64 + index),
            energy: [
                crate::units::Wh(((key >> 16) % 500_000) as i64 * 10),
                crate::units::Wh(((key >> 24) % 900_000) as i64 * 10),
                crate::units::Wh(((key >> 32) % 700_000) as i64 * 10),
                crate::units::Wh(((key >> 40) % 400_000) as i64 * 10),
            ],
            ..MeterInit::default()
        },
        faults: Faults::none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dlt645_address_bytes_are_bcd_lowest_pair_first() {
        let addr = SimAddress::parse(SimProtocol::Dlt645, "202208310002").unwrap();
        assert_eq!(
            addr.dlt645_bytes(),
            Some([0x02, 0x00, 0x31, 0x08, 0x22, 0x20])
        );
        assert_eq!(SimAddress::Modbus(5).dlt645_bytes(), None);
    }
}
