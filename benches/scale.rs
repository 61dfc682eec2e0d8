//! `cargo bench --bench scale`: 5,000 simulated meters on 160 buses (Modbus TCP gateways,
//! unpaced), one full read cycle of every meter by the real collector in its own process
//! (`voltvend collect --once`, the daemon's code path: bus tasks, reads, readings stored).
//! Prints the cycle time, the slowest bus, CPU seconds and the collector's peak RSS
//! (VmHWM), ending with `scale: meters=5000 cycle=Xs rss=YMB` (goal: RSS < 64 MB).

use std::process::Command;

use voltvend::auth::roles::{Actor, Role};
use voltvend::protocol::profile;
use voltvend::sim::{Building, BusConfig, SimConfig, SimProtocol};
use voltvend::site::model::{
    BillingMode, Bus, Framing, Gateway, GatewayLink, Meter, MeterAddress, Phases, Protocol,
};
use voltvend::site::{GatewayId, MeterId};
use voltvend::store::Store;

const METERS: u32 = 5000;
const BUSES: u32 = 160;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench());
}

async fn bench() {
    // Meters spread evenly: 40 buses of 32 and 120 of 31.
    let per_bus = |b: u32| METERS / BUSES + u32::from(b < METERS % BUSES);
    let buses: Vec<BusConfig> = (0..BUSES)
        .map(|b| {
            let mut c = BusConfig::quick(per_bus(b), SimProtocol::Modbus, "tcp:127.0.0.1:0", 0);
            c.turnaround_ms = 0;
            c
        })
        .collect();
    let sim = Building::spawn(SimConfig {
        buses,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("scale.redb");
    {
        let store = Store::open(&db).expect("store");
        let admin = Actor::operator("admin", Role::Admin);
        let txn = store.db().begin_write().expect("txn");
        let mut n = 0u32;
        for b in 0..BUSES {
            let gid = GatewayId::new(format!("GW{b:03}"));
            let g = Gateway {
                id: gid.clone(),
                name: format!("gateway {b}"),
                link: GatewayLink::parse(&sim.bus(b as usize).expect("bus").link()).expect("link"),
                buses: vec![Bus {
                    gateway: gid.clone(),
                    index: 1,
                    baud: 9600,
                    framing: Framing::E81,
                }],
            };
            voltvend::site::repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
            for a in 1..=per_bus(b) {
                n += 1;
                let m = Meter {
                    id: MeterId::new(format!("M{n:05}")),
                    address: MeterAddress::Modbus(a as u8),
                    protocol: Protocol::Modbus,
                    profile: profile::DEFAULT_MODBUS_1P.into(),
                    phases: Phases::One,
                    gateway: gid.clone(),
                    bus: 1,
                    unit: None,
                    billing: BillingMode::Host,
                    tariff: None,
                    power_limit_w: None,
                    alarm1: None,
                    alarm2: None,
                };
                voltvend::site::repo::upsert_meter(&txn, &admin, &m).expect("meter");
            }
        }
        txn.commit().expect("commit");
        assert_eq!(n, METERS);
    }

    let db_text = db.to_str().expect("utf-8 path").to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_voltvend"))
            .args(["collect", "--once", "--db", &db_text, "--tries", "2"])
            .env("RUST_LOG", "warn")
            .output()
            .expect("run voltvend collect")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        panic!(
            "collect failed: {}\n{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with("collect:"))
        .expect("collect summary line");
    println!("{line}");
    let field = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or("?")
            .to_string()
    };
    let rss_kb: u64 = field("rss_peak_kb").parse().unwrap_or(0);
    assert_eq!(field("read"), METERS.to_string(), "every meter read");
    println!(
        "scale: meters={METERS} cycle={} rss={}MB",
        field("cycle"),
        rss_kb.div_ceil(1024)
    );
}
