//! Price and settings pushes end to end on the demo site's simulated building, over Modbus
//! (Acrel, host billing) and DL/T 645 (prepaid) meters: after the site's tariff and alarm
//! amounts change, `PushPrices` and `PushSettings` write the new values and are confirmed
//! only when the meter reads them back; the simulated meters hold exactly those values.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use voltvend::auth::roles::Actor;
use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::daemon::demo_field::{self, DemoFieldOptions};
use voltvend::daemon::seed::seed_demo_days;
use voltvend::daemon::{Daemon, DaemonConfig};
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::receipt::PrinterTarget;
use voltvend::sim::{SimAddress, SimProtocol};
use voltvend::site::{MeterId, repo};
use voltvend::store::Store;
use voltvend::units::{Fen, Price};

async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_and_settings_reach_both_kinds_of_meter_and_read_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("v.redb");
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let (s, l) = (store.clone(), ledger.clone());
    tokio::task::spawn_blocking(move || seed_demo_days(&s, &l, Timestamp::now(), 1))
        .await
        .expect("join")
        .expect("seed");
    let live = LiveState::new();
    let mut daemon = Daemon::start_with(
        DaemonConfig {
            db_path: db.clone(),
            listen: ([127, 0, 0, 1], 0).into(),
            socket: None,
            public_url: None,
            site_name: "test".into(),
            printer: PrinterTarget::None,
            sandbox: false,
        },
        store.clone(),
        ledger.clone(),
        live.clone(),
    )
    .await
    .expect("daemon");
    let field = demo_field::start(
        &store,
        &ledger,
        live,
        &dir.path().join("keys"),
        &DemoFieldOptions {
            accel: 1,
            collection_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    )
    .await
    .expect("field");
    // The site changes its tariff to time-of-use and its alarm amounts.
    let actor = Actor::system("test");
    {
        let txn = store.db().begin_write().expect("txn");
        let tou = serde_json::json!({
            "kind": "time_of_use",
            "prices": {"sharp": "1.5000", "peak": "1.2500", "flat": "0.8500", "valley": "0.4000"},
            "schedule": [["00:00", "valley"], ["08:00", "flat"], ["10:00", "peak"], ["19:00", "sharp"], ["21:00", "flat"], ["23:00", "valley"]]
        });
        repo::set_tariff(&txn, &actor, "default", &tou).expect("tariff");
        let mut d = repo::defaults_in(&txn).expect("defaults");
        d.alarm1 = Fen(15_000);
        d.alarm2 = Fen(5_000);
        d.power_limit_w = 12_000;
        repo::set_defaults(&txn, &actor, &d).expect("defaults");
        txn.commit().expect("commit");
    }
    // A Modbus (host) meter and a DL/T 645 (prepaid) meter of A-101.
    let meters = ["310000000002", "310000000001"];
    let mut ids = Vec::new();
    {
        let txn = store.db().begin_write().expect("txn");
        for m in meters {
            for c in [MeterCommand::PushPrices, MeterCommand::PushSettings] {
                ids.push(outbox::push_in(&txn, &MeterId::new(m), c, 0).expect("queue"));
            }
        }
        txn.commit().expect("commit");
    }
    daemon.run_control(
        field.collector.clone(),
        ControlConfig {
            poll: Duration::from_millis(200),
            backoff: Duration::from_millis(300),
            ..Default::default()
        },
    );
    until("all four commands confirmed", 90, || {
        ids.iter().all(|id| {
            control::command(&store, *id)
                .ok()
                .flatten()
                .is_some_and(|c| c.state == CommandState::Confirmed)
        })
    })
    .await;
    let want_prices = ["1.5000", "1.2500", "0.8500", "0.4000"]
        .map(|p| Price::parse_yuan_per_kwh(p).expect("price"));
    for (m, proto) in [
        (meters[0], SimProtocol::Modbus),
        (meters[1], SimProtocol::Dlt645),
    ] {
        let st = field
            .building
            .buses()
            .iter()
            .filter(|b| b.protocol() == proto)
            .find_map(|b| {
                let a = match proto {
                    SimProtocol::Dlt645 => SimAddress::parse(proto, m).ok()?,
                    _ => {
                        let meter = repo::get_meter(&store, &MeterId::new(m)).ok()??;
                        if meter.bus as usize == 0 {
                            return None;
                        }
                        SimAddress::parse(proto, &meter.address.to_string()).ok()?
                    }
                };
                // Modbus addresses repeat across buses: the right bus is the one whose
                // simulated meter has this serial.
                b.meter(&a).filter(|h| h.snapshot().serial == m)
            })
            .expect("simulated meter")
            .snapshot();
        assert_eq!(st.prices, want_prices, "{m}");
        assert_eq!(
            (st.alarm1, st.alarm2, st.overload_limit_w),
            (Fen(15_000), Fen(5_000), 12_000),
            "{m}"
        );
    }
    daemon.stop().await;
    field.stop().await;
}
