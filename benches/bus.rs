//! `cargo bench --bench bus`: one RS-485 bus of 32 simulated meters at 9600 baud 8E1, paced
//! like the real line, read by the collector's own bus task. Compares the measured live-sweep
//! cycle with the floor no master can beat: for every request the sweep makes, the request
//! and reply characters × 11 bits / 9600 baud, a t3.5 silence after each frame, and the
//! simulated meters' configured turnaround (`protocol::rtu::exchange_floor`).
//!
//! Ends with `bus cycle: measured=Xms floor=Yms ratio=R` (goal R ≤ 1.15).

use std::sync::Arc;
use std::time::Duration;

use voltvend::auth::roles::{Actor, Role};
use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::field::transport::rtu_len;
use voltvend::protocol::profile::{self, Group, ProfileSet, ReadRequest};
use voltvend::protocol::rtu;
use voltvend::sim::{Building, SimConfig, SimProtocol};
use voltvend::site::model::{Framing, MeterAddress, Protocol};
use voltvend::store::Store;

// The site records the tests write too.
#[allow(dead_code)]
#[path = "../tests/support/records.rs"]
mod records;
use records::{host_meter, one_bus_gateway};

const METERS: u32 = 32;
const BAUD: u32 = 9600;
const TURNAROUND_MS: u64 = 5;
const SWEEPS: usize = 5;

// Two workers, like the 2-core appliance. `cargo bench` passes --bench; nothing to parse.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut cfg = SimConfig::quick(METERS, SimProtocol::Modbus, "pty", BAUD);
    cfg.buses[0].turnaround_ms = TURNAROUND_MS;
    cfg.buses[0].framing = Framing::E81;
    let sim = Building::spawn(cfg).await.expect("simulator");
    let link = sim.bus(0).expect("bus").link();

    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("bench.redb")).expect("store");
    let admin = Actor::operator("admin", Role::Admin);
    {
        let txn = store.db().begin_write().expect("txn");
        let g = one_bus_gateway("GW1", "bench bus".into(), &link, BAUD);
        voltvend::site::repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
        for a in 1..=METERS {
            let id = format!("M{a:02}");
            let address = MeterAddress::Modbus(a as u8);
            let m = host_meter(
                &id,
                address,
                Protocol::Modbus,
                profile::DEFAULT_MODBUS_1P,
                "GW1",
            );
            voltvend::site::repo::upsert_meter(&txn, &admin, &m).expect("meter");
        }
        txn.commit().expect("commit");
    }

    // The floor of one live sweep, from the profile's plan and the wire arithmetic.
    let profiles = ProfileSet::builtin();
    let p = profiles.get(profile::DEFAULT_MODBUS_1P).expect("profile");
    let plan = p.plan_reads(Group::Live, 125);
    let turnaround = Duration::from_millis(TURNAROUND_MS);
    let per_meter: Duration = plan
        .iter()
        .map(|b| match b.request {
            ReadRequest::Holding { count, .. } => rtu::exchange_floor(
                BAUD,
                Framing::E81,
                rtu_len::READ_REQUEST,
                rtu_len::read_reply(count),
                turnaround,
            ),
            ReadRequest::Dlt645 { .. } => Duration::ZERO,
        })
        .sum();
    let floor = per_meter * METERS;
    println!(
        "live sweep plan: {} request(s) per meter: {}",
        plan.len(),
        plan.iter()
            .map(|b| format!("{:?} {:?}", b.request, b.registers))
            .collect::<Vec<_>>()
            .join("; ")
    );

    let ledger = voltvend::ledger::Ledger::open(store.clone()).expect("ledger");
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger));
    let config = CollectorConfig {
        collection_interval: Duration::from_secs(3600),
        live_floor: Duration::ZERO,
        ..CollectorConfig::default()
    };
    let mut handle = Collector::spawn(store, charger, &profiles, config).expect("collector");
    let mut measured = Vec::new();
    let mut warmup = 1;
    while measured.len() < SWEEPS {
        let c = handle.next_cycle().await.expect("cycle");
        if c.group != "live" {
            continue;
        }
        assert_eq!(c.read, METERS as usize, "every meter answers: {c:?}");
        if warmup > 0 {
            warmup -= 1;
            continue;
        }
        println!(
            "live sweep: {} ms, {} requests ({} per meter), wire floor without turnaround {} ms",
            c.elapsed.as_millis(),
            c.requests,
            c.requests as f64 / f64::from(METERS),
            c.wire_floor.as_millis()
        );
        measured.push(c.elapsed);
    }
    handle.shutdown().await;
    measured.sort();
    let median = measured[measured.len() / 2];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bus cycle: measured={:.1}ms floor={:.1}ms ratio={:.3}",
        ms(median),
        ms(floor),
        median.as_secs_f64() / floor.as_secs_f64()
    );
}
