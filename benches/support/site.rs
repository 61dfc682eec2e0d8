//! Shared by the benches: a large site (5,000 meters by default) in a redb store.
#![allow(dead_code)]

// The site records the tests write too.
#[path = "../../tests/support/records.rs"]
pub mod records;

pub const BUSES: u32 = 160;

/// A site of `meters` simulated Modbus meters on 160 buses (each its own gateway), plus
/// the site itself (see [`build_site`]).
pub async fn build_site_with_sim(db: &std::path::Path, meters: u32) -> voltvend::sim::Building {
    let (sim, links) = spawn_sim(meters).await;
    build_site(db, meters, &links);
    sim
}

/// `meters` simulated Modbus meters spread over 160 unpaced Modbus TCP buses, and the link
/// of each bus.
pub async fn spawn_sim(meters: u32) -> (voltvend::sim::Building, Vec<String>) {
    use voltvend::sim::{Building, BusConfig, SimConfig, SimProtocol};
    let buses: Vec<BusConfig> = (0..BUSES)
        .map(|b| {
            let mut c = BusConfig::quick(
                per_bus(meters, b),
                SimProtocol::Modbus,
                "tcp:127.0.0.1:0",
                0,
            );
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
    let links: Vec<String> = (0..BUSES as usize)
        .map(|b| sim.bus(b).expect("bus").link())
        .collect();
    (sim, links)
}

/// Meters on bus `b`: spread evenly.
pub fn per_bus(meters: u32, b: u32) -> u32 {
    meters / BUSES + u32::from(b < meters % BUSES)
}

/// The site: `meters` Modbus meters on 160 gateways (links given), one tenant per meter
/// (unit U00001…, PIN 1234), an account each with 1,000.00, 31 days of daily readings
/// (20 kWh a day) ending now.
pub fn build_site(db: &std::path::Path, meters: u32, links: &[String]) {
    use voltvend::auth::roles::{Actor, Role};
    use voltvend::field::readings::{self, Reading, Relay};
    use voltvend::ledger::{Ledger, MeterAccountInit, OpenAccount, TransferIn};
    use voltvend::site::model::{
        BillingMode, Building as Bldg, Meter, MeterAddress, Protocol, Tenant, Unit,
    };
    use voltvend::site::{BuildingId, MeterId, TenantId, UnitNo, repo};
    use voltvend::store::Store;
    use voltvend::units::{Fen, Wh};

    let per_bus = |b: u32| per_bus(meters, b);
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
        let gid = format!("GW{b:03}");
        let g = records::one_bus_gateway(&gid, format!("gateway {b}"), &links[b as usize], 9600);
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
                unit: Some(unit.clone()),
                ..records::host_meter(
                    id.as_str(),
                    MeterAddress::Modbus(a as u8),
                    Protocol::Modbus,
                    voltvend::protocol::profile::DEFAULT_MODBUS_1P,
                    &gid,
                )
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
}
