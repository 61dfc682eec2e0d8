//! The collector in the real binary (`voltvend collect`) against simulated meters over a pty
//! and over Modbus TCP, with faults injected: meters go offline after N failed reads and come
//! back on their first good reply; a gateway that is down is offline; energy is charged
//! exactly once across a crash and a clean restart; a register that goes backwards gives
//! suspect readings (never a negative charge, nothing charged until staff re-baseline).

use std::path::Path;

use voltvend::field::events::{self, FieldEventKind};
use voltvend::field::plausible::SuspectWhy;
use voltvend::field::{readings, suspect};
use voltvend::ledger::Ledger;
use voltvend::sim::{Building, BusConfig, Faults, MeterConfig, SimConfig, SimProtocol};
use voltvend::site::MeterId;
use voltvend::site::model::Protocol;
use voltvend::store::Store;
use voltvend::units::{Price, SUBFEN_PER_FEN, SubFen, Wh};

use crate::support::bin::Daemon;
use crate::support::field::{SiteMeter, build_site};
use crate::support::sim::manual_env;
use crate::support::store::temp_db;

async fn sim(transport: &str) -> Building {
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, transport, 9600);
    b.turnaround_ms = 5;
    for (a, w) in [("1", 1500), ("2", 800), ("3", 2000)] {
        b.meter.push(MeterConfig {
            address: a.into(),
            fixed_w: Some(w),
            ..MeterConfig::default()
        });
    }
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    Building::spawn_in(cfg, manual_env(11)).await.expect("sim")
}

fn site(db: &Path, link: &str) {
    let meters: Vec<SiteMeter> = ["1", "2", "3"]
        .iter()
        .map(|a| SiteMeter {
            id: match *a {
                "1" => "M1",
                "2" => "M2",
                _ => "M3",
            },
            gateway: "GW1",
            address: a,
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        })
        .collect();
    build_site(db, &[("GW1", link)], &meters, "0.8523");
}

fn collect(db: &Path) -> Daemon {
    Daemon::start(&[
        "collect",
        "--db",
        db.to_str().expect("utf-8 path"),
        "--interval-s",
        "1",
        "--live-floor-ms",
        "200",
        "--offline-after",
        "2",
        "--tries",
        "1",
        "--turnaround-ms",
        "30",
        // The tests jump simulated time by hours within seconds.
        "--meter-time-scale",
        "1000000",
    ])
}

fn is_full_cycle(l: &str) -> bool {
    l.contains("bus cycle") && l.contains("full")
}

/// Waits for `n` more full cycles after line `from`; returns the index after the last.
async fn full_cycles(d: &Daemon, from: usize, n: usize) -> usize {
    let mut at = from;
    for _ in 0..n {
        let i = blocking(|| d.wait_for(at, "a full bus cycle", is_full_cycle));
        at = i + 1;
    }
    at
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// The tenant balance must be exactly the flat price times the energy between the meter's
/// first and last stored readings of one baseline: a charge posted twice (or lost) breaks it.
fn assert_charged_once(store: &Store, ledger: &Ledger, meter: &str, price: Price) {
    let id = MeterId::new(meter);
    let all =
        readings::history(store, &id, jiff::Timestamp::MIN, jiff::Timestamp::MAX).expect("history");
    assert!(all.len() >= 3, "{meter}: only {} readings", all.len());
    let mut used = Wh(0);
    for pair in all.windows(2) {
        if !pair[1].rollback && pair[1].total > pair[0].total {
            used += pair[1].total - pair[0].total;
        }
    }
    assert!(used.0 > 0, "{meter}: no energy used between readings");
    let cost: SubFen = price.cost(used);
    let (fen, rest) = cost.split().expect("split");
    let acct = ledger
        .account(&format!("T-{meter}").as_str().into())
        .expect("account")
        .expect("exists");
    assert_eq!(acct.balance.0, -fen.0, "{meter}: balance vs {used:?} used");
    let m = ledger
        .meter_account(&id)
        .expect("meter account")
        .expect("exists");
    assert_eq!(m.carry, rest, "{meter}: carried sub-fen");
    assert!(rest.0 < SUBFEN_PER_FEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_recovery_and_no_double_charge_across_restarts_over_a_pty() {
    let b = sim("pty").await;
    let (_dir, db) = temp_db();
    site(&db, &b.bus(0).expect("bus").link());
    let clock = b.clock().clone();
    let hour = jiff::SignedDuration::from_hours(1);

    let d = collect(&db);
    let mut at = full_cycles(&d, 0, 1).await;

    // Meter 2 stops answering: offline after 2 failed reads, back on its first good reply.
    let m2 = b.meter(0, "2").expect("meter 2");
    m2.set_faults(Faults {
        no_reply: true,
        ..Faults::none()
    });
    let off = blocking(|| {
        d.wait_for(at, "meter M2 offline", |l| {
            l.contains("meter offline") && l.contains("M2")
        })
    });
    m2.set_faults(Faults::none());
    blocking(|| {
        d.wait_for(off, "meter M2 online", |l| {
            l.contains("meter online") && l.contains("M2")
        })
    });
    assert_eq!(
        d.count(|l| l.contains("meter offline") && (l.contains("M1") || l.contains("M3"))),
        0,
        "healthy meters stay online"
    );

    // Energy flows; the collector crashes (SIGKILL) and restarts, then stops cleanly.
    clock.advance(hour);
    at = full_cycles(&d, at, 2).await;
    clock.advance(hour);
    let _ = full_cycles(&d, at, 1).await;
    d.stop(true);
    clock.advance(hour);
    let d = collect(&db);
    let at = full_cycles(&d, 0, 2).await;
    clock.advance(hour);
    let _ = full_cycles(&d, at, 2).await;
    let log = d.stop(false);
    assert!(
        log.iter().any(|l| l.contains("collector stopped")),
        "clean stop: {}",
        log.join("\n")
    );

    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let price = Price::parse_yuan_per_kwh("0.8523").expect("price");
    for m in ["M1", "M2", "M3"] {
        assert_charged_once(&store, &ledger, m, price);
    }
    let evs = events::since(&store, 0).expect("events");
    let m2id = MeterId::new("M2");
    let off_at = evs
        .iter()
        .position(
            |e| matches!(&e.kind, FieldEventKind::MeterOffline { meter, .. } if *meter == m2id),
        )
        .expect("an offline event for M2");
    assert!(
        evs[off_at..]
            .iter()
            .any(|e| matches!(&e.kind, FieldEventKind::MeterOnline { meter } if *meter == m2id)),
        "an online event after it: {evs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_down_and_register_rollback_over_modbus_tcp() {
    let b = sim("tcp:127.0.0.1:0").await;
    let (_dir, db) = temp_db();
    site(&db, &b.bus(0).expect("bus").link());
    let clock = b.clock().clone();
    let hour = jiff::SignedDuration::from_hours(1);

    let d = collect(&db);
    let at = full_cycles(&d, 0, 1).await;
    clock.advance(hour);
    let at = full_cycles(&d, at, 1).await;

    // Behind a Modbus TCP gateway a dead meter shows as exception 0x0B: still offline.
    let m3 = b.meter(0, "3").expect("meter 3");
    m3.set_faults(Faults {
        no_reply: true,
        ..Faults::none()
    });
    let i = blocking(|| {
        d.wait_for(at, "meter M3 offline", |l| {
            l.contains("meter offline") && l.contains("M3") && l.contains("exception 0x0B")
        })
    });
    m3.set_faults(Faults::none());
    let at = blocking(|| {
        d.wait_for(i, "meter M3 online", |l| {
            l.contains("meter online") && l.contains("M3")
        })
    });

    // The gateway goes down: offline; it comes back: online.
    let bus = b.bus(0).expect("bus");
    bus.set_faults(Faults {
        gateway_down: true,
        ..Faults::none()
    });
    let i = blocking(|| d.wait_for(at, "gateway offline", |l| l.contains("gateway offline")));
    bus.set_faults(Faults::none());
    let i = blocking(|| d.wait_for(i, "gateway online", |l| l.contains("gateway online")));
    let _ = full_cycles(&d, i, 1).await;
    d.stop(false);

    // Meter 1 is replaced while the collector is down: its register starts again near zero.
    let m1 = b.meter(0, "1").expect("meter 1");
    m1.with(|m| m.state.energy = [Wh(0), Wh(120), Wh(0), Wh(0)]);
    clock.advance(hour);
    let d = collect(&db);
    let at = full_cycles(&d, 0, 1).await;
    clock.advance(hour);
    let _ = full_cycles(&d, at, 2).await;
    d.stop(false);

    // Every reading of the new register is below the charged total: suspect, not charged.
    // Staff re-baseline at the first one (reject with rebaseline): charging resumes from it.
    let m1id = MeterId::new("M1");
    {
        let store = Store::open(&db).expect("store");
        let pending = suspect::list(&store, Some(&m1id), true).expect("suspects");
        assert_eq!(pending.len(), 3, "{pending:?}");
        assert!(pending.iter().all(|s| s.why == SuspectWhy::Decrease));
        let staff =
            voltvend::auth::Actor::operator("installer", voltvend::auth::roles::Role::Admin);
        suspect::reject(&store, &staff, &m1id, pending[0].reading.at_ms(), true)
            .expect("re-baseline");
    }
    let d = collect(&db);
    clock.advance(hour);
    let _ = full_cycles(&d, 0, 1).await;
    d.stop(false);

    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let evs = events::since(&store, 0).expect("events");
    let suspects: Vec<_> = evs
        .iter()
        .filter(
            |e| matches!(&e.kind, FieldEventKind::SuspectReading { meter, .. } if *meter == m1id),
        )
        .collect();
    assert_eq!(suspects.len(), 3, "one suspect event per reading: {evs:?}");
    assert!(
        evs.iter()
            .any(|e| matches!(&e.kind, FieldEventKind::GatewayOffline { .. })),
        "{evs:?}"
    );
    // No negative charge: every charge is positive and the balance is exactly the energy used
    // before the replacement plus the energy used after it (from the re-baselined reading).
    let price = Price::parse_yuan_per_kwh("0.8523").expect("price");
    assert_charged_once(&store, &ledger, "M1", price);
    let ops = ledger
        .operations(&voltvend::ledger::OpFilter::default())
        .expect("ops");
    assert!(!ops.is_empty());
    for op in &ops {
        if let Some(b) = op.balance_after {
            assert!(b.0 <= 0, "a balance went up through a charge: {op:?}");
        }
    }
}
