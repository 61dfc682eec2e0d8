//! The collector reads DL/T 645-2007 meters as well as Modbus ones: a full cycle over a
//! simulated serial server stores a reading with the meter's energy, balance and relay.

use std::sync::Arc;
use std::time::Duration;

use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::field::readings;
use voltvend::protocol::profile::ProfileSet;
use voltvend::sim::{Building, BusConfig, MeterConfig, SimConfig, SimProtocol};
use voltvend::site::MeterId;
use voltvend::site::model::Protocol;
use voltvend::store::Store;

use crate::support::field::{SiteMeter, build_site};
use crate::support::store::temp_db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlt645_meters_are_read_and_stored() {
    let mut bus = BusConfig::quick(0, SimProtocol::Dlt645, "rtu-over-tcp:127.0.0.1:0", 9600);
    for a in ["310000000001", "310000000002"] {
        bus.meter.push(MeterConfig {
            address: a.into(),
            profile: Some("dlt645-2007-prepaid".into()),
            fixed_w: Some(2000),
            balance: Some("50.00".into()),
            energy_kwh: Some(["1".into(), "2".into(), "3.5".into(), "4".into()]),
            ..MeterConfig::default()
        });
    }
    let sim = Building::spawn(SimConfig {
        seed: Some(3),
        buses: vec![bus],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let (_dir, db) = temp_db();
    let link = sim.buses()[0].link();
    build_site(
        &db,
        &[("GW1", link.as_str())],
        &[
            SiteMeter {
                id: "D1",
                gateway: "GW1",
                address: "310000000001",
                protocol: Protocol::Dlt645,
                profile: "dlt645-2007-prepaid",
            },
            SiteMeter {
                id: "D2",
                gateway: "GW1",
                address: "310000000002",
                protocol: Protocol::Dlt645,
                profile: "dlt645-2007-prepaid",
            },
        ],
        "1",
    );
    let store = Store::open(&db).expect("store");
    let ledger = voltvend::ledger::Ledger::open(store.clone()).expect("ledger");
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger));
    let mut handle = Collector::spawn(
        store.clone(),
        charger,
        &ProfileSet::builtin(),
        CollectorConfig {
            collection_interval: Duration::from_secs(3600),
            live_sweeps: false,
            ..CollectorConfig::default()
        },
    )
    .expect("collector");
    let cycle = tokio::time::timeout(Duration::from_secs(30), handle.next_cycle())
        .await
        .expect("a full cycle within 30 s")
        .expect("cycle");
    assert_eq!(
        (cycle.group, cycle.read, cycle.failed),
        ("full", 2, 0),
        "{cycle:?}"
    );
    let r = readings::latest(&store, &MeterId::new("D1"))
        .expect("read")
        .expect("a stored reading");
    // 1 + 2 + 3.5 + 4 kWh on the registers (plus what 2 kW used since).
    assert!((10_500..10_700).contains(&r.total.0), "{r:?}");
    assert!(r.balance.is_some(), "{r:?}");
    assert!(r.relay.is_some(), "{r:?}");
    handle.shutdown().await;
}
