//! `cargo bench --bench bus`: one RS-485 bus of 32 simulated meters at 9600 baud 8E1 on a
//! pty, paced like the real line, read by the collector's own bus task; once with Modbus RTU
//! meters, once with DL/T 645 meters. Compares the measured live-sweep cycle with its floor,
//! the time no master can beat (`protocol::floor`, the function the collector's cycle log
//! uses too): every request's and reply's characters, a t3.5 silence per Modbus frame, the
//! DL/T 645 wake-up bytes and inter-frame gap, and the profile's documented turnaround —
//! which the simulated meters are given, so that the floor describes them.
//!
//! The floor is computed twice: from the profile's live plan (what a sweep must ask) and by
//! the collector from the exchanges it made; they must agree, so a sweep that asks more
//! than it must cannot hide behind a larger floor. A sweep faster than its floor would mean
//! the simulator answers faster than the wire allows: the bench fails then.
//!
//! Ends with one line per protocol, `bus cycle: protocol=P measured=Xms floor=Yms ratio=R`
//! (goal R ≤ 1.15).

use std::sync::Arc;
use std::time::Duration;

use voltvend::auth::roles::{Actor, Role};
use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::field::transport::rtu_len;
use voltvend::protocol::dlt645::{self, di::Di};
use voltvend::protocol::floor::{self, BusLine, Exchange, WireProtocol};
use voltvend::protocol::profile::{self, Group, ProfileSet, ReadRequest};
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
const FRAMING: Framing = Framing::E81;
/// Wake-up bytes the simulated DL/T 645 meters send before each reply.
const SIM_REPLY_WAKE_UP: usize = 4;

struct Run {
    name: &'static str,
    sim: SimProtocol,
    protocol: Protocol,
    wire: WireProtocol,
    profile: &'static str,
    sweeps: usize,
}

// Two workers, like the 2-core appliance. `cargo bench` passes --bench; nothing to parse.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = [
        Run {
            name: "modbus",
            sim: SimProtocol::Modbus,
            protocol: Protocol::Modbus,
            wire: WireProtocol::ModbusRtu,
            profile: profile::DEFAULT_MODBUS_1P,
            sweeps: 5,
        },
        Run {
            name: "dlt645",
            sim: SimProtocol::Dlt645,
            protocol: Protocol::Dlt645,
            wire: WireProtocol::Dlt645,
            profile: profile::DEFAULT_DLT645,
            sweeps: 3,
        },
    ];
    let mut lines = Vec::new();
    for run in &runs {
        lines.push(bench(run).await);
    }
    for l in lines {
        println!("{l}");
    }
}

/// Runs `run` and returns its `bus cycle:` line.
async fn bench(run: &Run) -> String {
    let profiles = ProfileSet::builtin();
    let p = profiles.get(run.profile).expect("profile");
    let turnaround = p.turnaround;

    let mut cfg = SimConfig::quick(METERS, run.sim, "pty", BAUD);
    cfg.buses[0].turnaround_ms = turnaround.as_millis() as u64;
    cfg.buses[0].framing = FRAMING;
    let sim = Building::spawn(cfg).await.expect("simulator");
    let bus = sim.bus(0).expect("bus");
    let link = bus.link();

    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("bench.redb")).expect("store");
    let admin = Actor::operator("admin", Role::Admin);
    {
        let txn = store.db().begin_write().expect("txn");
        let g = one_bus_gateway("GW1", "bench bus".into(), &link, BAUD);
        voltvend::site::repo::upsert_gateway(&txn, &admin, &g).expect("gateway");
        for (i, a) in bus.addresses().iter().enumerate() {
            let id = format!("M{:02}", i + 1);
            let address = match run.protocol {
                Protocol::Modbus => MeterAddress::Modbus(
                    a.to_string().parse().expect("a Modbus address is a number"),
                ),
                Protocol::Dlt645 => MeterAddress::Dlt645(a.to_string()),
            };
            let m = host_meter(&id, address, run.protocol, run.profile, "GW1");
            voltvend::site::repo::upsert_meter(&txn, &admin, &m).expect("meter");
        }
        txn.commit().expect("commit");
    }

    // The floor of one live sweep, from the profile's plan.
    let plan = p.plan_reads(Group::Live, 125);
    let exchanges: Vec<Exchange> = plan
        .iter()
        .map(|b| match b.request {
            ReadRequest::Holding { count, .. } => {
                Exchange::modbus(rtu_len::READ_REQUEST, rtu_len::read_reply(count))
            }
            ReadRequest::Dlt645 { di } => {
                let value = Di(di).info().expect("a known data identifier").value_len();
                Exchange::dlt645(
                    dlt645::OVERHEAD + 4,
                    dlt645::OVERHEAD + 4 + value,
                    SIM_REPLY_WAKE_UP,
                )
            }
        })
        .collect();
    let line = BusLine {
        protocol: run.wire,
        baud: BAUD,
        framing: FRAMING,
    };
    let floor = floor::cycle_floor(
        line,
        (0..METERS).flat_map(|_| exchanges.iter().map(|e| (*e, turnaround))),
    );
    println!(
        "{}: live sweep plan: {} request(s) per meter, turnaround {} ms: {}",
        run.name,
        plan.len(),
        turnaround.as_millis(),
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
    while measured.len() < run.sweeps {
        let c = handle.next_cycle().await.expect("cycle");
        if c.group != "live" {
            continue;
        }
        assert_eq!(c.read, METERS as usize, "every meter answers: {c:?}");
        assert_eq!(
            c.requests,
            (plan.len() as u64) * u64::from(METERS),
            "the sweep asks what the plan says, no more: {c:?}"
        );
        assert_eq!(
            c.wire_floor, floor,
            "the collector's floor is the plan's: {c:?}"
        );
        assert!(
            c.elapsed >= floor,
            "a sweep of {:?} beats its floor of {floor:?}: the simulator answers faster than the wire",
            c.elapsed
        );
        if warmup > 0 {
            warmup -= 1;
            continue;
        }
        let over = c.elapsed - floor;
        println!(
            "{}: live sweep {} ms, {} requests, floor {} ms, {:.2} ms over the floor per request",
            run.name,
            c.elapsed.as_millis(),
            c.requests,
            c.wire_floor.as_millis(),
            over.as_secs_f64() * 1000.0 / c.requests as f64
        );
        measured.push(c.elapsed);
    }
    handle.shutdown().await;
    drop(sim);
    measured.sort();
    let median = measured[measured.len() / 2];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "bus cycle: protocol={} measured={:.1}ms floor={:.1}ms ratio={:.3}",
        run.name,
        ms(median),
        ms(floor),
        median.as_secs_f64() / floor.as_secs_f64()
    )
}
