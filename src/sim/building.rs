//! A whole simulated building: several buses sharing one clock, zone, TOU schedule and seed,
//! started from a `sim.toml` (or built in code by tests, `voltvend demo` and the benches).

use super::bus::{
    BusSetup, BusTiming, MeterHandle, SimAddress, SimBus, SimEnv, SimError, SimProtocol, Transport,
    default_meter_setup,
};
use super::clock::SimClock;
use super::faults::Faults;
use super::load::Category;
use super::meter::{CreditVerifier, SimBilling};
use super::tou::{Band, TouSchedule};
use crate::protocol::profile::ProfileSet;
use crate::protocol::serial::Framing;
use crate::units::{Fen, Price};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The simulator's config file (every key optional; see docs/simulator.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of every random choice (load noise, fault dice, garbage). Printed at start.
    pub seed: Option<u64>,
    /// Simulated seconds per real second (default 1).
    pub accel: Option<u64>,
    /// Simulated start time (RFC 3339), default now.
    pub start: Option<String>,
    /// Site time zone for TOU bands and opening hours (default Asia/Shanghai).
    pub timezone: Option<String>,
    /// A directory of extra meter profiles (`*.toml`).
    pub profiles_dir: Option<PathBuf>,
    /// Site master key for credit tokens (32 hex digits); meters verify tokens with keys
    /// diversified from it. Without it every token is refused.
    pub credit_master_key: Option<String>,
    /// TOU day schedule as [["HH:MM", "sharp|peak|flat|valley"], …], first at 00:00.
    pub tou: Option<Vec<(String, Band)>>,
    #[serde(default, rename = "bus")]
    pub buses: Vec<BusConfig>,
}

/// One bus in sim.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    #[serde(default)]
    pub protocol: SimProtocol,
    /// `pty`, `tcp:HOST:PORT` (Modbus TCP gateway; DL/T 645: raw frames) or
    /// `rtu-over-tcp:HOST:PORT` (serial server).
    #[serde(default = "default_transport")]
    pub transport: String,
    /// Line speed; 0 = unpaced.
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_framing")]
    pub framing: Framing,
    #[serde(default = "default_turnaround")]
    pub turnaround_ms: u64,
    #[serde(default = "default_gateway_timeout")]
    pub gateway_timeout_ms: u64,
    /// Number of default meters at addresses `first_address`… (in addition to `meter`).
    #[serde(default)]
    pub meters: u32,
    #[serde(default = "default_first_address")]
    pub first_address: u64,
    /// Default profile of the counted meters.
    pub profile: Option<String>,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub meter: Vec<MeterConfig>,
}

fn default_transport() -> String {
    "pty".into()
}
fn default_baud() -> u32 {
    9600
}
fn default_framing() -> Framing {
    Framing::E81
}
fn default_turnaround() -> u64 {
    20
}
fn default_gateway_timeout() -> u64 {
    200
}
fn default_first_address() -> u64 {
    1
}

/// One meter in sim.toml. Unset keys take the seeded defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterConfig {
    pub address: String,
    pub profile: Option<String>,
    pub serial: Option<String>,
    pub category: Option<Category>,
    /// Peak load in W.
    pub peak_w: Option<i64>,
    /// A constant load in W (exact energy for tests).
    pub fixed_w: Option<i64>,
    pub noise_permille: Option<i64>,
    pub billing: Option<SimBilling>,
    /// Yuan, e.g. "50.00".
    pub balance: Option<String>,
    pub purchase_count: Option<u32>,
    /// Yuan per kWh: sharp, peak, flat, valley.
    pub prices: Option<[String; 4]>,
    pub alarm1: Option<String>,
    pub alarm2: Option<String>,
    pub overload_limit_w: Option<i64>,
    pub keep_power: Option<bool>,
    pub prepaid_mode: Option<bool>,
    /// Energy already on the registers in kWh: sharp, peak, flat, valley (default seeded).
    pub energy_kwh: Option<[String; 4]>,
    #[serde(default)]
    pub faults: Faults,
}

impl SimConfig {
    /// Parses sim.toml; errors name the file, line and field.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<SimConfig, SimError> {
        toml::from_str(text)
            .map_err(|e| SimError::Config(crate::toml_pos::toml_error(origin, text, &e, None)))
    }

    /// One bus of `n` default meters.
    pub fn quick(n: u32, protocol: SimProtocol, transport: &str, baud: u32) -> SimConfig {
        SimConfig {
            buses: vec![BusConfig::quick(n, protocol, transport, baud)],
            ..SimConfig::default()
        }
    }
}

impl BusConfig {
    /// `n` default meters at addresses 1..=n.
    pub fn quick(n: u32, protocol: SimProtocol, transport: &str, baud: u32) -> BusConfig {
        BusConfig {
            protocol,
            transport: transport.to_string(),
            baud,
            framing: default_framing(),
            turnaround_ms: default_turnaround(),
            gateway_timeout_ms: default_gateway_timeout(),
            meters: n,
            first_address: 1,
            profile: None,
            faults: Faults::none(),
            meter: Vec::new(),
        }
    }
}

fn parse_transport(text: &str) -> Result<Transport, SimError> {
    let t = text.trim();
    if t == "pty" {
        return Ok(Transport::Pty);
    }
    if let Some(a) = t.strip_prefix("rtu-over-tcp:") {
        return Ok(Transport::RtuOverTcp(a.to_string()));
    }
    if let Some(a) = t.strip_prefix("tcp:") {
        return Ok(Transport::Tcp(a.to_string()));
    }
    Err(SimError::Config(format!(
        "transport '{t}' must be pty, tcp:HOST:PORT or rtu-over-tcp:HOST:PORT"
    )))
}

fn yuan(field: &str, text: &str) -> Result<Fen, SimError> {
    Fen::parse_signed(text).map_err(|e| SimError::Config(format!("{field}: {e}")))
}

/// A running simulated building.
#[derive(Debug)]
pub struct Building {
    env: SimEnv,
    buses: Vec<SimBus>,
}

impl Building {
    /// Starts every bus of the config. A random seed is drawn when none is given.
    pub async fn spawn(config: SimConfig) -> Result<Building, SimError> {
        let seed = config.seed.unwrap_or_else(rand::random);
        let start = match &config.start {
            Some(s) => s
                .parse::<Timestamp>()
                .map_err(|e| SimError::Config(format!("start '{s}': {e}")))?,
            None => Timestamp::now(),
        };
        let tz_name = config.timezone.as_deref().unwrap_or("Asia/Shanghai");
        let tz = TimeZone::get(tz_name)
            .map_err(|e| SimError::Config(format!("timezone '{tz_name}': {e}")))?;
        let accel = config.accel.unwrap_or(1);
        let clock = SimClock::accelerated(start, accel);
        let mut env = SimEnv::new(clock, tz, seed);
        if let Some(entries) = &config.tou {
            env.tou = TouSchedule::from_entries(entries)
                .map_err(|e| SimError::Config(format!("tou: {e}")))?;
        }
        if let Some(k) = &config.credit_master_key {
            let v = super::credit::MasterKeyVerifier::from_hex(k).map_err(SimError::Config)?;
            env.set_credit_verifier(Arc::new(v));
        }
        Building::spawn_in(config, env).await
    }

    /// Starts the buses in a given environment (tests pass a manual clock).
    pub async fn spawn_in(config: SimConfig, env: SimEnv) -> Result<Building, SimError> {
        let mut profiles = ProfileSet::builtin();
        if let Some(dir) = &config.profiles_dir {
            profiles
                .load_dir(dir)
                .map_err(|e| SimError::Config(e.to_string()))?;
        }
        let profiles = super::bus::profile_arcs(&profiles);
        let mut buses = Vec::with_capacity(config.buses.len());
        let mut meter_index: u64 = 0;
        for (index, b) in config.buses.iter().enumerate() {
            let transport = parse_transport(&b.transport)?;
            let mut meters = Vec::new();
            for k in 0..u64::from(b.meters) {
                let n = b.first_address + k;
                let text = n.to_string();
                let address = SimAddress::parse(b.protocol, &text)?;
                meter_index += 1;
                meters.push(default_meter_setup(
                    b.protocol,
                    address,
                    &profiles,
                    b.profile.as_deref(),
                    env.seed,
                    meter_index,
                )?);
            }
            for mc in &b.meter {
                meter_index += 1;
                let address = SimAddress::parse(b.protocol, &mc.address)?;
                let mut m = default_meter_setup(
                    b.protocol,
                    address,
                    &profiles,
                    mc.profile.as_deref().or(b.profile.as_deref()),
                    env.seed,
                    meter_index,
                )?;
                apply_meter_config(&mut m, mc)?;
                meters.push(m);
            }
            let setup = BusSetup {
                index,
                protocol: b.protocol,
                transport,
                timing: BusTiming {
                    baud: b.baud,
                    framing: b.framing,
                    turnaround: Duration::from_millis(b.turnaround_ms),
                    gateway_timeout: Duration::from_millis(b.gateway_timeout_ms),
                },
                meters,
                faults: b.faults.clone(),
            };
            buses.push(SimBus::spawn(setup, &env).await?);
        }
        Ok(Building { env, buses })
    }

    pub fn seed(&self) -> u64 {
        self.env.seed
    }

    pub fn clock(&self) -> &SimClock {
        &self.env.clock
    }

    pub fn env(&self) -> &SimEnv {
        &self.env
    }

    pub fn buses(&self) -> &[SimBus] {
        &self.buses
    }

    pub fn bus(&self, index: usize) -> Option<&SimBus> {
        self.buses.get(index)
    }

    /// The meter at `address` (as written in the config) on bus `bus`.
    pub fn meter(&self, bus: usize, address: &str) -> Option<MeterHandle> {
        let b = self.buses.get(bus)?;
        let a = SimAddress::parse(b.protocol(), address).ok()?;
        b.meter(&a)
    }

    /// Installs the credit token verifier for every meter.
    pub fn set_credit_verifier(&self, v: Arc<dyn CreditVerifier>) {
        self.env.set_credit_verifier(v);
    }

    /// One line per bus: index, protocol, endpoint, link string and meter addresses.
    pub fn describe(&self) -> Vec<String> {
        self.buses
            .iter()
            .map(|b| {
                let addrs: Vec<String> = b.addresses().iter().map(ToString::to_string).collect();
                let proto = match b.protocol() {
                    SimProtocol::Modbus => "modbus",
                    SimProtocol::Dlt645 => "dlt645",
                };
                format!(
                    "bus {} {proto} {} link={} baud={} meters={}",
                    b.index(),
                    b.endpoint(),
                    b.link(),
                    b.timing().baud,
                    addrs.join(",")
                )
            })
            .collect()
    }
}

fn apply_meter_config(m: &mut super::bus::MeterSetup, mc: &MeterConfig) -> Result<(), SimError> {
    let at = |f: &str| format!("meter {}: {f}", mc.address);
    if let Some(c) = mc.category {
        m.load.category = c;
        m.load.peak_w = c.typical_peak_w();
    }
    if let Some(w) = mc.peak_w {
        m.load.peak_w = w;
    }
    m.load.fixed_w = mc.fixed_w.or(m.load.fixed_w);
    if let Some(n) = mc.noise_permille {
        m.load.noise_permille = n.clamp(0, 1000);
    }
    if let Some(s) = &mc.serial {
        m.init.serial = s.clone();
    }
    if let Some(b) = mc.billing {
        m.init.billing = b;
    }
    if let Some(t) = &mc.balance {
        m.init.balance = yuan(&at("balance"), t)?;
    }
    if let Some(n) = mc.purchase_count {
        m.init.purchase_count = n;
    }
    if let Some(p) = &mc.prices {
        for (i, t) in p.iter().enumerate() {
            m.init.prices[i] = Price::parse_yuan_per_kwh(t)
                .map_err(|e| SimError::Config(format!("{}: {e}", at("prices"))))?;
        }
    }
    if let Some(t) = &mc.alarm1 {
        m.init.alarm1 = yuan(&at("alarm1"), t)?;
    }
    if let Some(t) = &mc.alarm2 {
        m.init.alarm2 = yuan(&at("alarm2"), t)?;
    }
    if let Some(w) = mc.overload_limit_w {
        m.init.overload_limit_w = w;
    }
    if let Some(k) = mc.keep_power {
        m.init.keep_power = k;
    }
    if let Some(p) = mc.prepaid_mode {
        m.init.prepaid_mode = p;
    }
    if let Some(e) = &mc.energy_kwh {
        for (i, t) in e.iter().enumerate() {
            m.init.energy[i] = crate::units::Wh::parse_kwh(t)
                .map_err(|e| SimError::Config(format!("{}: {e}", at("energy_kwh"))))?;
        }
    }
    m.faults = mc.faults.clone();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_refuses_with_line() {
        let text = r#"
seed = 7
accel = 3600
start = "2026-06-01T00:00:00Z"

[[bus]]
protocol = "modbus"
transport = "tcp:127.0.0.1:0"
meters = 3

[[bus.meter]]
address = "10"
billing = "meter"
balance = "12.50"
fixed_w = 1000
faults = { slow_reply_ms = 300 }
"#;
        let c = SimConfig::from_toml_str(text, "sim.toml").expect("parse");
        assert_eq!(c.seed, Some(7));
        assert_eq!(c.buses[0].meter[0].faults.slow_reply_ms, 300);
        let bad = text.replace("meters = 3", "meters = \"three\"");
        let e = SimConfig::from_toml_str(&bad, "sim.toml").expect_err("bad");
        assert!(e.to_string().contains("sim.toml:9"), "{e}");
    }

    /// The sim.toml shown in docs/simulator.md parses and starts (the docs do not lie).
    #[tokio::test]
    async fn documented_sim_toml_starts() {
        let doc = include_str!("../../docs/simulator.md");
        let after = doc.split("## sim.toml").nth(1).expect("section");
        let block = after
            .split("```toml")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .expect("toml block");
        let cfg = SimConfig::from_toml_str(block, "docs/simulator.md").expect("parses");
        assert_eq!(cfg.buses[0].faults.permille, Some(5));
        let b = Building::spawn(cfg).await.expect("starts");
        assert_eq!(b.seed(), 42);
        let m = b.meter(0, "20").expect("meter 20");
        assert_eq!(m.snapshot().serial, "240000000020");
        assert_eq!(m.faults().slow_reply_ms, 300);
        assert_eq!(b.bus(0).expect("bus").addresses().len(), 9);
    }
}
