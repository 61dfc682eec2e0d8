//! Sites of the field tests, built through the library: gateways, meters, a flat tariff and
//! a ledger account per meter; two simulated Modbus meters; the field half of a site
//! controller in process.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use voltvend::auth::roles::{Actor, Role};
use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount};
use voltvend::site::MeterId;
use voltvend::site::model::{BillingMode, MeterAddress, Protocol};
use voltvend::store::Store;

use super::records::{host_meter, one_bus_gateway};

/// A meter of the test site: id, gateway, bus, address, protocol, profile.
pub struct SiteMeter<'a> {
    pub id: &'a str,
    pub gateway: &'a str,
    pub address: &'a str,
    pub protocol: Protocol,
    pub profile: &'a str,
}

/// A cash sale of `fen` to `tenant` by the operator "cashier", under idempotency `key`.
pub fn sell(ledger: &Ledger, tenant: &str, fen: i64, key: &str) {
    ledger
        .sale(
            &Actor::operator("cashier", Role::Cashier),
            key,
            voltvend::ledger::Sale {
                tenant: voltvend::site::TenantId::new(tenant),
                amount: voltvend::units::Fen(fen),
                method: "cash".into(),
                receipt_no: None,
                meter: None,
            },
        )
        .expect("sale");
}

/// The alarm engine's settings: offline alarms after 10 minutes, reminders daily, no quiet
/// hours, texts signed `site_name`, a pass every `poll`.
pub fn alarm_config(site_name: &str, poll: Duration) -> voltvend::alarm::engine::AlarmConfig {
    voltvend::alarm::engine::AlarmConfig {
        offline_grace: Duration::from_secs(600),
        repeat_every: Duration::from_secs(24 * 3600),
        quiet_hours: None,
        site_name: site_name.into(),
        poll,
    }
}

/// A consumption charge of `fen` (0.1 kWh per fen) on `meter` now, under idempotency `key`.
pub fn charge(ledger: &Ledger, meter: &str, fen: i64, key: &str) {
    ledger
        .charge_consumption(
            &Actor::system("test"),
            key,
            voltvend::ledger::ChargeConsumption {
                meter: MeterId::new(meter),
                reading_key: key.into(),
                energy: voltvend::units::Wh(fen * 10),
                cost: voltvend::units::SubFen::from_fen(voltvend::units::Fen(fen)),
                at: jiff::Timestamp::now(),
            },
        )
        .expect("charge");
}

/// M1 and M2: Modbus meters at addresses 1 and 2 on gateway GW1.
pub fn two_modbus_meters() -> Vec<SiteMeter<'static>> {
    [("M1", "1"), ("M2", "2")]
        .into_iter()
        .map(|(id, address)| SiteMeter {
            id,
            gateway: "GW1",
            address,
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        })
        .collect()
}

/// Two simulated Modbus meters (addresses 1 and 2, a steady 2 kW load each) on one pty bus
/// at 9600 baud, on `clock` in Asia/Shanghai time.
pub async fn two_meter_sim(clock: voltvend::sim::SimClock) -> voltvend::sim::Building {
    use voltvend::sim::{Building, BusConfig, MeterConfig, SimConfig, SimEnv, SimProtocol};
    let mut bus = BusConfig::quick(0, SimProtocol::Modbus, "pty", 9600);
    bus.turnaround_ms = 5;
    for a in ["1", "2"] {
        bus.meter.push(MeterConfig {
            address: a.into(),
            fixed_w: Some(2000),
            ..MeterConfig::default()
        });
    }
    Building::spawn_in(
        SimConfig {
            buses: vec![bus],
            ..SimConfig::default()
        },
        SimEnv::new(clock, super::time::shanghai(), 7),
    )
    .await
    .expect("sim")
}

/// The two-meter site of [`two_meter_sim`] on a manual clock at [`super::time::T0`]:
/// M1 and M2 on gateway GW1, host-billed at 1 yuan per kWh, tenants T-M1 and T-M2 at zero.
pub struct HostSite {
    pub clock: voltvend::sim::SimClock,
    pub sim: voltvend::sim::Building,
    pub dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
    pub store: Store,
}

pub async fn two_meter_host_site() -> HostSite {
    let clock = voltvend::sim::SimClock::manual(super::time::t0());
    let sim = two_meter_sim(clock.clone()).await;
    let (dir, db) = super::store::temp_db();
    let link = sim.bus(0).expect("bus").link();
    build_site(&db, &[("GW1", &link)], &two_modbus_meters(), "1");
    let store = Store::open(&db).expect("store");
    HostSite {
        clock,
        sim,
        dir,
        db,
        store,
    }
}

/// Writes a site: gateways (id, link), meters, a flat default tariff at `price` yuan/kWh,
/// and a ledger account per meter (tenant `T-<meter>`, host billing).
pub fn build_site(db: &Path, gateways: &[(&str, &str)], meters: &[SiteMeter], price: &str) {
    let store = Store::open(db).expect("store");
    let admin = Actor::operator("admin", Role::Admin);
    let txn = store.db().begin_write().expect("txn");
    let tariff = serde_json::json!({ "kind": "flat", "price": price });
    voltvend::site::repo::set_tariff(&txn, &admin, "default", &tariff).expect("tariff");
    for (id, link) in gateways {
        let g = one_bus_gateway(id, format!("gateway {id}"), link, 9600);
        voltvend::site::repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
    }
    for m in meters {
        let address = MeterAddress::parse(m.address, m.protocol).expect("address");
        let meter = host_meter(m.id, address, m.protocol, m.profile, m.gateway);
        voltvend::site::repo::upsert_meter(&txn, &admin, &meter).expect("meter");
    }
    txn.commit().expect("commit");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    for m in meters {
        ledger
            .open_account(
                &admin,
                &format!("open-{}", m.id),
                OpenAccount {
                    tenant: format!("T-{}", m.id).as_str().into(),
                    meters: vec![MeterAccountInit {
                        meter: m.id.into(),
                        billing: BillingMode::Host,
                    }],
                    transfer_in: None,
                },
            )
            .expect("account");
    }
}

/// The daemon settings of an in-process test site: the store at `db`, a free loopback port,
/// no socket, no printer.
pub fn daemon_config(db: &Path) -> voltvend::daemon::DaemonConfig {
    voltvend::daemon::DaemonConfig {
        db_path: db.to_path_buf(),
        listen: ([127, 0, 0, 1], 0).into(),
        socket: None,
        public_url: None,
        site_name: "test".into(),
        printer: voltvend::receipt::PrinterTarget::None,
        sandbox: false,
    }
}

/// The field half of a site controller, in-process: a collector reading every meter each
/// `interval` (live values kept), the daemon on it, and the control queue running `control`.
pub async fn field_daemon(
    store: &Store,
    ledger: &Ledger,
    db: &Path,
    interval: Duration,
    control: voltvend::control::ControlConfig,
) -> (
    Arc<voltvend::field::collector::CollectorHandle>,
    voltvend::daemon::Daemon,
) {
    use voltvend::field::collector::{Collector, CollectorConfig};
    let live = voltvend::field::live::LiveState::new();
    let collector = Arc::new(
        Collector::spawn_with(
            store.clone(),
            Arc::new(voltvend::field::charge::LedgerCharger::new(
                store.clone(),
                ledger.clone(),
            )),
            &voltvend::protocol::profile::ProfileSet::builtin(),
            CollectorConfig {
                collection_interval: interval,
                live_floor: Duration::from_millis(200),
                // The test jumps simulated time by hours within seconds.
                plausibility: voltvend::field::plausible::Plausibility {
                    time_scale: 1_000_000,
                    ..Default::default()
                },
                ..CollectorConfig::default()
            },
            live.clone(),
        )
        .expect("collector"),
    );
    let mut daemon = voltvend::daemon::Daemon::start_with(
        daemon_config(db),
        store.clone(),
        ledger.clone(),
        live,
    )
    .await
    .expect("daemon");
    daemon.run_control(collector.clone(), control);
    (collector, daemon)
}
