//! The field side of `voltvend demo`: a simulated building made from the site in the store,
//! read by the real collector. Every meter of the site model becomes a simulated meter on
//! the bus of its gateway, starting from where the stored history ends (energy registers,
//! balance and purchase count), so the first live reading continues the seeded history.
//!
//! The gateways keep their kinds: Modbus TCP and raw serial-server gateways become
//! simulated TCP endpoints (on consecutive ports, bus N on port + N − 1, like real serial
//! servers); a `secure:` gateway's buses are ptys bridged by the real gateway code
//! ([`GatewayBridge`]) over the 3DES link to the collector. The links in the store are
//! pointed at those endpoints at every start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::DaemonError;
use crate::auth::Actor;
use crate::field::charge::LedgerCharger;
use crate::field::collector::{Collector, CollectorConfig, CollectorHandle};
use crate::field::gateway::{BridgeConfig, GatewayBridge};
use crate::field::link::{Framing, Via};
use crate::field::live::LiveState;
use crate::field::readings;
use crate::ledger::Ledger;
use crate::protocol::profile::ProfileSet;
use crate::sim::load::Category;
use crate::sim::meter::SimBilling;
use crate::sim::{Building, BusConfig, MeterConfig, SimConfig, SimProtocol};
use crate::site::model::{BillingMode, Gateway, GatewayLink, Meter, Protocol};
use crate::site::repo;
use crate::store::Store;

/// How the demo's field side runs.
#[derive(Debug, Clone)]
pub struct DemoFieldOptions {
    /// Simulated seconds per real second (load and energy run this much faster).
    pub accel: u64,
    /// Seed of the simulator's random choices.
    pub seed: u64,
    /// Time between two full reads (readings stored, energy charged).
    pub collection_interval: Duration,
    /// The gateway line speed of every bus.
    pub baud: u32,
}

impl Default for DemoFieldOptions {
    fn default() -> Self {
        DemoFieldOptions {
            accel: 10,
            seed: 20_261_125,
            collection_interval: Duration::from_secs(60),
            baud: 9600,
        }
    }
}

/// The running simulator, gateway bridges and collector.
pub struct DemoField {
    pub building: Building,
    pub collector: Arc<CollectorHandle>,
    pub bridges: Vec<GatewayBridge>,
    bridge_tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    /// One line per gateway: its id, kind and where the simulator serves it.
    pub summary: Vec<String>,
}

fn fail(why: impl std::fmt::Display) -> DaemonError {
    DaemonError::Demo(why.to_string())
}

/// `n` consecutive free TCP ports on 127.0.0.1 (bus N of a gateway is on port + N − 1).
fn consecutive_ports(n: u16) -> Result<u16, DaemonError> {
    crate::sim::ports::free_tcp_ports(n).map_err(fail)
}

/// The link master key in `dir/link.key`, created on first use.
pub fn link_key(dir: &Path) -> Result<[u8; 16], DaemonError> {
    let path = dir.join("link.key");
    if !path.exists() {
        std::fs::create_dir_all(dir).map_err(fail)?;
        let key: [u8; 16] = rand::random();
        let hex: String = key.iter().map(|b| format!("{b:02X}")).collect();
        std::fs::write(&path, format!("{hex}\n")).map_err(fail)?;
    }
    crate::field::secure::read_key_file(&path).map_err(fail)
}

fn category(name: &str) -> Category {
    match name {
        "restaurant" => Category::Restaurant,
        "supermarket" => Category::Supermarket,
        "cinema" => Category::Cinema,
        "office" => Category::Office,
        _ => Category::Retail,
    }
}

fn kwh(wh: i64) -> String {
    format!("{}.{:03}", wh / 1000, wh % 1000)
}

/// The simulated meter of `m`, continuing its stored history.
fn meter_config(
    store: &Store,
    ledger: &Ledger,
    m: &Meter,
    tenant_category: Option<&str>,
    price: &str,
    defaults: &crate::site::model::SiteDefaults,
) -> Result<MeterConfig, DaemonError> {
    let last = readings::latest(store, &m.id)?;
    let total = last.map_or(0, |r| r.total.0);
    let account = ledger.meter_account(&m.id)?;
    let balance = match &account {
        Some(a) => ledger.account(&a.tenant)?.map(|t| t.balance),
        None => None,
    };
    let meter_mode = m.billing == BillingMode::Meter;
    Ok(MeterConfig {
        address: m.address.to_string(),
        profile: Some(m.profile.clone()),
        serial: Some(m.id.to_string()),
        // Common-area loads (lifts, pumps, lighting) run day and night.
        category: Some(tenant_category.map_or(Category::Coldstore, category)),
        billing: Some(if meter_mode {
            SimBilling::Meter
        } else {
            SimBilling::Host
        }),
        balance: balance.filter(|_| meter_mode).map(|b| b.to_string()),
        purchase_count: account.as_ref().map(|a| a.purchase_count),
        prices: Some([price.to_string(), price.into(), price.into(), price.into()]),
        alarm1: Some(m.alarm1.unwrap_or(defaults.alarm1).to_string()),
        alarm2: Some(m.alarm2.unwrap_or(defaults.alarm2).to_string()),
        prepaid_mode: Some(meter_mode),
        // The seeded history has no TOU split: it continues in the flat band.
        energy_kwh: Some(["0".into(), "0".into(), kwh(total), "0".into()]),
        ..MeterConfig::default()
    })
}

/// Builds the simulated building from the store, points the gateway links at it, starts
/// the collector (live values into `live`) and the secure gateway bridges.
pub async fn start(
    store: &Store,
    ledger: &Ledger,
    live: LiveState,
    keys_dir: &Path,
    opts: &DemoFieldOptions,
) -> Result<DemoField, DaemonError> {
    let gateways = repo::list_gateways(store)?;
    let meters = repo::list_meters(store)?;
    let tenants = repo::list_tenants(store)?;
    let defaults = repo::defaults(store)?;
    let price = match repo::get_tariff(store, "default")?
        .and_then(|v| serde_json::from_value::<crate::tariff::Tariff>(v).ok())
    {
        Some(crate::tariff::Tariff::Flat { price }) => price.to_string(),
        _ => "1.00".to_string(),
    };
    let category_of = |m: &Meter| -> Option<String> {
        let unit = m.unit.as_ref()?;
        tenants
            .iter()
            .find(|t| t.units.contains(unit))
            .map(|t| t.category.clone())
    };
    let mut by_bus: BTreeMap<(String, u8), Vec<&Meter>> = BTreeMap::new();
    for m in &meters {
        by_bus
            .entry((m.gateway.to_string(), m.bus))
            .or_default()
            .push(m);
    }

    // Where each gateway's buses will be: (bus config index) per (gateway, bus).
    let mut bus_configs = Vec::new();
    let mut index_of: BTreeMap<(String, u8), usize> = BTreeMap::new();
    let mut new_links: Vec<(Gateway, GatewayLink)> = Vec::new();
    let mut secure_port = None;
    for g in &gateways {
        let n = g.buses.iter().map(|b| b.index).max().unwrap_or(0);
        if n == 0 {
            continue;
        }
        let (base, link) = match &g.link {
            GatewayLink::Tcp { .. } => {
                let base = consecutive_ports(u16::from(n))?;
                (
                    Some(base),
                    GatewayLink::Tcp {
                        host: "127.0.0.1".into(),
                        port: base,
                    },
                )
            }
            GatewayLink::RtuOverTcp { .. } => {
                let base = consecutive_ports(u16::from(n))?;
                (
                    Some(base),
                    GatewayLink::RtuOverTcp {
                        host: "127.0.0.1".into(),
                        port: base,
                    },
                )
            }
            GatewayLink::Secure { .. } | GatewayLink::Serial { .. } => {
                let port = match secure_port {
                    Some(p) => p,
                    None => {
                        let p = consecutive_ports(1)?;
                        secure_port = Some(p);
                        p
                    }
                };
                (
                    None,
                    GatewayLink::Secure {
                        host: "127.0.0.1".into(),
                        port,
                    },
                )
            }
        };
        for bus in 1..=n {
            let Some(ms) = by_bus.get(&(g.id.to_string(), bus)) else {
                continue;
            };
            let protocol = match ms[0].protocol {
                Protocol::Modbus => SimProtocol::Modbus,
                Protocol::Dlt645 => SimProtocol::Dlt645,
            };
            let transport = match (&link, base) {
                (GatewayLink::Tcp { .. }, Some(b)) => {
                    format!("tcp:127.0.0.1:{}", b + u16::from(bus) - 1)
                }
                (GatewayLink::RtuOverTcp { .. }, Some(b)) => {
                    format!("rtu-over-tcp:127.0.0.1:{}", b + u16::from(bus) - 1)
                }
                _ => "pty".to_string(),
            };
            let mut bc = BusConfig::quick(0, protocol, &transport, opts.baud);
            for m in ms.iter().filter(|m| m.protocol == ms[0].protocol) {
                bc.meter.push(meter_config(
                    store,
                    ledger,
                    m,
                    category_of(m).as_deref(),
                    &price,
                    &defaults,
                )?);
            }
            index_of.insert((g.id.to_string(), bus), bus_configs.len());
            bus_configs.push(bc);
        }
        if g.link != link {
            new_links.push((g.clone(), link));
        }
    }
    let credit: String = super::credit_master_key_async(store)
        .await?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let building = Building::spawn(SimConfig {
        seed: Some(opts.seed),
        accel: Some(opts.accel.max(1)),
        credit_master_key: Some(credit),
        buses: bus_configs,
        ..SimConfig::default()
    })
    .await
    .map_err(fail)?;

    if !new_links.is_empty() {
        let actor = Actor::system("demo");
        let relinked: Vec<_> = new_links
            .into_iter()
            .map(|(mut g, link)| {
                g.link = link;
                g
            })
            .collect();
        store
            .write_async(move |txn| {
                for g in &relinked {
                    repo::upsert_gateway(txn, &actor, g)?;
                }
                Ok::<_, DaemonError>(())
            })
            .await?;
    }

    let key = link_key(keys_dir)?;
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger.clone()));
    let collector = Collector::spawn_with(
        store.clone(),
        charger,
        &ProfileSet::builtin(),
        CollectorConfig {
            collection_interval: opts.collection_interval,
            link_key: Some(key),
            // The simulated building runs `accel` times real time.
            plausibility: crate::field::plausible::Plausibility {
                time_scale: i64::try_from(opts.accel.max(1)).unwrap_or(i64::MAX),
                ..Default::default()
            },
            ..CollectorConfig::default()
        },
        live,
    )
    .map_err(fail)?;

    let (stop, stopped) = watch::channel(false);
    let mut bridges = Vec::new();
    let mut bridge_tasks = Vec::new();
    let mut summary = Vec::new();
    for g in repo::list_gateways(store)? {
        let buses: Vec<u8> = g.buses.iter().map(|b| b.index).collect();
        match &g.link {
            GatewayLink::Secure { port, .. } => {
                for bus in &buses {
                    let Some(i) = index_of.get(&(g.id.to_string(), *bus)) else {
                        continue;
                    };
                    let Some(sb) = building.bus(*i) else { continue };
                    let crate::sim::Endpoint::Pty(path) = sb.endpoint() else {
                        continue;
                    };
                    let (bridge, task) = GatewayBridge::spawn(
                        BridgeConfig {
                            serial: Via::Serial {
                                path: path.display().to_string(),
                                baud: opts.baud,
                                framing: Framing::E81,
                            },
                            connect: format!("127.0.0.1:{port}"),
                            key,
                            gateway: g.id.to_string(),
                            bus: *bus,
                        },
                        stopped.clone(),
                    )
                    .map_err(fail)?;
                    bridges.push(bridge);
                    bridge_tasks.push(task);
                }
                summary.push(format!(
                    "{} secure link on 127.0.0.1:{port} ({} buses bridged from ptys by voltvend gateway)",
                    g.id,
                    buses.len()
                ));
            }
            other => summary.push(format!("{} {other} ({} buses)", g.id, buses.len())),
        }
    }
    Ok(DemoField {
        building,
        collector: Arc::new(collector),
        bridges,
        bridge_tasks,
        stop,
        summary,
    })
}

impl DemoField {
    /// Stops the gateway bridges (the collector stops with the daemon's control queue
    /// dropping its handle, the simulator when dropped).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.bridge_tasks {
            let _ = t.await;
        }
        if let Ok(c) = Arc::try_unwrap(self.collector) {
            c.shutdown().await;
        }
    }
}
