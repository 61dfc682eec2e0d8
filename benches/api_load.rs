//! API under load on loopback: N concurrent tenant clients (default 200), each on its own
//! keep-alive connection, polling `GET /api/v1/tenant/me` and `GET /api/v1/tenant/usage`
//! for a fixed time on a 5,000-meter site (5,000 tenants, 31 days of daily readings) while
//! the collector reads all 5,000 simulated meters (160 Modbus TCP buses, live sweeps) into
//! the same store. Prints requests/s and latency percentiles, and the collector's full
//! cycles during the run. Run: cargo bench --bench api_load (env: CLIENTS=200 SECONDS=10
//! METERS=5000).

#[path = "../tests/kiosk/harness.rs"]
mod harness;

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(
    s: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    path: &str,
    token: &str,
) -> std::io::Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(head[9..12].parse().unwrap_or(0));
        }
    }
}

const BUSES: u32 = 160;

/// The site: buses of simulated Modbus meters, one tenant per meter (unit U00001…, PIN
/// 1234), an account each, 31 days of daily readings.
async fn build_site(db: &std::path::Path, meters: u32) -> voltvend::sim::Building {
    use voltvend::auth::roles::{Actor, Role};
    use voltvend::field::readings::{self, Reading, Relay};
    use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount, TransferIn};
    use voltvend::sim::{Building, BusConfig, SimConfig, SimProtocol};
    use voltvend::site::model::{
        BillingMode, Building as Bldg, Bus, Framing, Gateway, GatewayLink, Meter, MeterAddress,
        Phases, Protocol, Tenant, Unit,
    };
    use voltvend::site::{BuildingId, GatewayId, MeterId, TenantId, UnitNo, repo};
    use voltvend::store::Store;
    use voltvend::units::{Fen, Wh};

    let per_bus = |b: u32| meters / BUSES + u32::from(b < meters % BUSES);
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
    let store = Store::open(db).expect("store");
    let admin = Actor::operator("admin", Role::Admin);
    let pin = voltvend::site::pin::hash_pin("1234").expect("pin");
    let now = jiff::Timestamp::now();
    let txn = store.db().begin_write().expect("txn");
    let tariff = serde_json::json!({ "kind": "flat", "price": "1.00" });
    repo::set_tariff(&txn, &admin, "default", &tariff).expect("tariff");
    repo::upsert_building(
        &txn,
        &admin,
        &Bldg {
            id: BuildingId::new("A"),
            name: "A".into(),
            floors: Some(50),
        },
    )
    .expect("building");
    let mut n = 0u32;
    let mut plans = Vec::new();
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
        repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
        for a in 1..=per_bus(b) {
            n += 1;
            let unit = UnitNo::new(format!("U{n:05}"));
            repo::upsert_unit(
                &txn,
                &admin,
                &Unit {
                    no: unit.clone(),
                    building: BuildingId::new("A"),
                    floor: (n % 50) as i32 + 1,
                    area_m2_x100: None,
                },
            )
            .expect("unit");
            let id = MeterId::new(format!("M{n:05}"));
            let m = Meter {
                id: id.clone(),
                address: MeterAddress::Modbus(a as u8),
                protocol: Protocol::Modbus,
                profile: voltvend::protocol::profile::DEFAULT_MODBUS_1P.into(),
                phases: Phases::One,
                gateway: gid.clone(),
                bus: 1,
                unit: Some(unit.clone()),
                billing: BillingMode::Host,
                tariff: None,
                power_limit_w: None,
                alarm1: None,
                alarm2: None,
            };
            repo::upsert_meter(&txn, &admin, &m).expect("meter");
            let tenant = TenantId::new(format!("T{n:05}"));
            repo::upsert_tenant(
                &txn,
                &admin,
                &Tenant {
                    id: tenant.clone(),
                    name: format!("tenant {n}"),
                    category: "retail".into(),
                    phone: None,
                    units: vec![unit],
                    pin_hash: Some(pin.clone()),
                },
            )
            .expect("tenant");
            for d in 0..31i64 {
                readings::put_in(
                    &txn,
                    &Reading {
                        meter: id.clone(),
                        at: now - jiff::SignedDuration::from_hours(24 * (31 - d)),
                        total: Wh(1_000_000 + d * 20_000),
                        bands: None,
                        voltage_dv: vec![2200],
                        current_ma: Vec::new(),
                        power_w: Some(800),
                        balance: None,
                        purchase_count: None,
                        relay: Some(Relay::Closed),
                        rollback: false,
                    },
                )
                .expect("reading");
            }
            plans.push((tenant, id));
        }
    }
    txn.commit().expect("commit");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    std::thread::scope(|s| {
        for chunk in plans.chunks(plans.len().div_ceil(16)) {
            let (ledger, admin) = (&ledger, &admin);
            s.spawn(move || {
                for (tenant, meter) in chunk {
                    ledger
                        .open_account(
                            admin,
                            &format!("open:{tenant}"),
                            OpenAccount {
                                tenant: tenant.clone(),
                                meters: vec![MeterAccountInit {
                                    meter: meter.clone(),
                                    billing: BillingMode::Host,
                                }],
                                transfer_in: Some(TransferIn {
                                    amount: Fen(100_000),
                                    old_meter_serial: format!("OLD-{tenant}"),
                                }),
                            },
                        )
                        .expect("account");
                }
            });
        }
    });
    sim
}

fn main() {
    let meters: u32 = std::env::var("METERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);

    let clients: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let secs: u64 = std::env::var("SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("site.redb");
        let t0 = Instant::now();
        let _sim = build_site(&db, meters).await;
        eprintln!("site of {meters} meters built in {:.1}s", t0.elapsed().as_secs_f64());
        let store = voltvend::store::Store::open(&db).expect("store");
        let ledger = voltvend::ledger::Ledger::open(store.clone()).expect("ledger");
        let live = voltvend::field::live::LiveState::new();
        let daemon = voltvend::daemon::Daemon::start_with(
            voltvend::daemon::DaemonConfig {
                db_path: db.clone(),
                listen: ([127, 0, 0, 1], 0).into(),
                socket: None,
                public_url: None,
                site_name: "load".into(),
                printer: voltvend::receipt::PrinterTarget::None,
                sandbox: false,
            },
            store.clone(),
            ledger.clone(),
            live.clone(),
        )
        .await
        .expect("daemon");
        let charger = std::sync::Arc::new(voltvend::field::charge::LedgerCharger::new(store.clone(), ledger.clone()));
        let mut collector = voltvend::field::collector::Collector::spawn_with(
            store.clone(),
            charger,
            &voltvend::protocol::profile::ProfileSet::builtin(),
            voltvend::field::collector::CollectorConfig {
                collection_interval: Duration::from_secs(5),
                live_floor: Duration::from_secs(2),
                ..Default::default()
            },
            live,
        )
        .expect("collector");
        let a = daemon.addr;
        // One login per client for 200 distinct tenants (PIN checks are deliberately slow).
        let units: Vec<String> = (1..=clients.min(meters as usize)).map(|i| format!("U{i:05}")).collect();
        let tokens: Vec<String> = harness::blocking(move || {
            std::thread::scope(|s| {
                let hs: Vec<_> = units
                    .chunks(units.len().div_ceil(8))
                    .map(|c| s.spawn(move || c.iter().map(|u| harness::tenant_login(a, u, "1234")).collect::<Vec<_>>()))
                    .collect();
                hs.into_iter().flat_map(|h| h.join().expect("login")).collect()
            })
        })
        .await;
        // Skip the first full read of 5,000 meters (the worst write burst) before measuring?
        // No: measure while it runs — that is the appliance's real day.
        while collector.try_next_cycle().is_some() {}
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let token = tokens[c % tokens.len()].clone();
            tasks.push(tokio::spawn(async move {
                let mut s = tokio::net::TcpStream::connect(a).await.expect("connect");
                s.set_nodelay(true).ok();
                let mut buf = Vec::new();
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let path = if i.is_multiple_of(2) { "/api/v1/tenant/me" } else { "/api/v1/tenant/usage?days=30" };
                    i += 1;
                    let t0 = Instant::now();
                    match get(&mut s, &mut buf, path, &token).await {
                        Ok(200) => lat.push(t0.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("client");
            all.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64().max(secs as f64);
        let mut full = 0;
        let mut read = 0;
        while let Some(c) = collector.try_next_cycle() {
            if c.group == "full" {
                full += 1;
                read += c.read;
            }
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
        println!(
            "api load: {clients} clients, {} requests in {:.1}s = {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, errors {errors}",
            all.len(),
            elapsed,
            all.len() as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        println!("api load: meanwhile the collector finished {full} full bus cycles ({read} meter reads) on {meters} meters");
        collector.shutdown().await;
        daemon.stop().await;
    });
}
