//! Commands submitted to the collector go at the next gap of their meter's bus, ahead of the
//! reads still to do in the cycle, and their result comes back on the oneshot.

use std::sync::Arc;
use std::time::Duration;

use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::field::meter_io::{MeterRequest, MeterResponse};
use voltvend::protocol::profile::{CommandKind, Group, ProfileSet, names};
use voltvend::sim::{Building, BusConfig, SimConfig, SimProtocol};
use voltvend::site::MeterId;
use voltvend::site::model::Protocol;
use voltvend::store::Store;

use crate::support::field::{SiteMeter, build_site};
use crate::support::sim::manual_env;
use crate::support::store::temp_db;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_jumps_the_read_queue_and_reports_back() {
    let env = manual_env(3);
    let mut bus = BusConfig::quick(4, SimProtocol::Modbus, "pty", 9600);
    bus.turnaround_ms = 5;
    let sim = Building::spawn_in(
        SimConfig {
            buses: vec![bus],
            ..SimConfig::default()
        },
        env,
    )
    .await
    .expect("sim");
    let (_dir, db) = temp_db();
    let link = sim.bus(0).expect("bus").link();
    let ids = ["M1", "M2", "M3", "M4"];
    let addrs = ["1", "2", "3", "4"];
    let meters: Vec<SiteMeter> = ids
        .iter()
        .zip(addrs.iter())
        .map(|(id, a)| SiteMeter {
            id,
            gateway: "GW1",
            address: a,
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        })
        .collect();
    build_site(&db, &[("GW1", &link)], &meters, "1");

    let store = Store::open(&db).expect("store");
    let ledger = voltvend::ledger::Ledger::open(store.clone()).expect("ledger");
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger));
    let mut handle = Collector::spawn(
        store,
        charger,
        &ProfileSet::builtin(),
        CollectorConfig {
            collection_interval: Duration::from_secs(3600),
            ..CollectorConfig::default()
        },
    )
    .expect("collector");
    // The first full cycle (4 meters × 3 requests at 9600 baud) is under way: the trip for
    // the last meter must not wait for it to end.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let m4 = MeterId::new("M4");
    let rx = handle
        .submit(
            &m4,
            MeterRequest::Command {
                kind: CommandKind::RelayTrip,
                values: vec![],
            },
        )
        .await
        .expect("submitted");
    let done = tokio::time::timeout(Duration::from_secs(5), rx)
        .await
        .expect("in time")
        .expect("answered");
    assert_eq!(done, Ok(MeterResponse::Done));
    assert!(
        handle.try_next_cycle().is_none(),
        "the command ran before the full cycle ended"
    );
    let relay = sim.meter(0, "4").expect("meter").value(names::RELAY_OPEN);
    assert_eq!(relay, Some(1), "the simulated meter tripped");

    // A read submitted the same way sees the new relay state.
    let rx = handle
        .submit(&m4, MeterRequest::Read(Group::Live))
        .await
        .expect("submitted");
    let out = rx.await.expect("answered").expect("read");
    let MeterResponse::Values(v) = out else {
        panic!("values expected")
    };
    assert_eq!(v.get(names::RELAY_OPEN), Some(1));
    assert!(
        handle
            .submit(&MeterId::new("nope"), MeterRequest::Read(Group::Live))
            .await
            .is_err()
    );
    handle.shutdown().await;
}
