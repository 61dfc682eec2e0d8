//! Price and settings pushes end to end on the demo site's simulated building, over Modbus
//! (Acrel, host billing) and DL/T 645 (prepaid) meters: after the site's tariff and alarm
//! amounts change, `PushPrices` and `PushSettings` write the new values and are confirmed
//! only when the meter reads them back; the simulated meters hold exactly those values.

use voltvend::auth::roles::Actor;
use voltvend::control::{self, CommandState};
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::site::{MeterId, repo};
use voltvend::units::{Fen, Price};

use crate::support::demo::quick_control;
use crate::support::wait::until;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prices_and_settings_reach_both_kinds_of_meter_and_read_back() {
    let mut site = crate::support::demo::start().await;
    let store = site.store.clone();
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
    site.run_control(quick_control());
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
    for m in meters {
        let st = site.sim_meter(m).snapshot();
        assert_eq!(st.prices, want_prices, "{m}");
        assert_eq!(
            (st.alarm1, st.alarm2, st.overload_limit_w),
            (Fen(15_000), Fen(5_000), 12_000),
            "{m}"
        );
    }
    site.stop().await;
}
