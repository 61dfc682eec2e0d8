//! The control queue watches live values: power above the limit for three readings raises
//! an overload event and (when configured) trips the meter, confirmed by read-back; back
//! under the limit the overload clears. And in meter mode, a meter that does not trip
//! itself at zero balance is reported (on the demo site's simulated DL/T 645 meters).

use std::time::Duration;

use voltvend::auth::roles::{Actor, Role};
use voltvend::control::meter_watch::WatchConfig;
use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::field::events::{self, FieldEventKind};
use voltvend::ledger::outbox::MeterCommand;
use voltvend::ledger::{Ledger, Sale};
use voltvend::protocol::profile::names;
use voltvend::sim::{Building, BusConfig, MeterConfig, SimConfig, SimProtocol};
use voltvend::site::model::{Protocol, SiteDefaults};
use voltvend::site::{TenantId, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::field::{SiteMeter, build_site};
use crate::support::store::temp_db;
use crate::support::wait::until;

fn has_event(store: &Store, f: impl Fn(&FieldEventKind) -> bool) -> bool {
    events::since(store, 0)
        .expect("events")
        .iter()
        .any(|e| f(&e.kind))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_for_three_readings_trips_and_clears() {
    let mut bus = BusConfig::quick(0, SimProtocol::Modbus, "pty", 9600);
    bus.turnaround_ms = 5;
    bus.meter.push(MeterConfig {
        address: "1".into(),
        fixed_w: Some(5_000),
        ..MeterConfig::default()
    });
    let sim = Building::spawn(SimConfig {
        buses: vec![bus],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let (_dir, db) = temp_db();
    let link = sim.bus(0).expect("bus").link();
    build_site(
        &db,
        &[("GW1", &link)],
        &[SiteMeter {
            id: "M1",
            gateway: "GW1",
            address: "1",
            protocol: Protocol::Modbus,
            profile: "acrel-ddsy1352-nk",
        }],
        "1",
    );
    let store = Store::open(&db).expect("store");
    {
        let txn = store.db().begin_write().expect("txn");
        repo::set_defaults(
            &txn,
            &Actor::system("t"),
            &SiteDefaults {
                power_limit_w: 3_000,
                ..SiteDefaults::default()
            },
        )
        .expect("defaults");
        txn.commit().expect("commit");
    }
    let ledger = Ledger::open(store.clone()).expect("ledger");
    ledger
        .sale(
            &Actor::operator("c", Role::Cashier),
            "s",
            Sale {
                tenant: TenantId::new("T-M1"),
                amount: Fen(100_000),
                method: "cash".into(),
                receipt_no: None,
                meter: None,
            },
        )
        .expect("sale");
    let (_collector, daemon) = crate::support::field::field_daemon(
        &store,
        &ledger,
        &db,
        Duration::from_secs(3600),
        ControlConfig {
            poll: Duration::from_millis(100),
            backoff: Duration::from_millis(100),
            answer_timeout: Duration::from_secs(5),
            watch: WatchConfig {
                overload_readings: 3,
                overload_trip: true,
                ..WatchConfig::default()
            },
            ..ControlConfig::default()
        },
    )
    .await;
    until("the overload event", 90, || {
        has_event(&store, |k| matches!(k, FieldEventKind::Overload { power_w, limit_w: 3_000, .. } if *power_w > 3_000))
    })
    .await;
    until("the overload trip confirmed", 90, || {
        control::commands(&store)
            .expect("commands")
            .iter()
            .any(|c| c.command == MeterCommand::Trip && c.state == CommandState::Confirmed)
    })
    .await;
    let m = sim.meter(0, "1").expect("sim meter");
    assert_eq!(m.value(names::RELAY_OPEN), Some(1));
    // The load drops (the relay is open: no power): the overload clears.
    until("the overload cleared", 90, || {
        has_event(&store, |k| {
            matches!(k, FieldEventKind::OverloadCleared { .. })
        })
    })
    .await;
    let overloads = events::since(&store, 0)
        .expect("events")
        .iter()
        .filter(|e| matches!(e.kind, FieldEventKind::Overload { .. }))
        .count();
    assert_eq!(overloads, 1, "raised once, not once per reading");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meter_mode_checks_report_a_meter_that_stays_on_and_a_drifting_balance() {
    use voltvend::site::MeterId;
    let mut site = crate::support::demo::start().await;
    let store = site.store.clone();
    // A-104 (−25.00): its meter no longer trips itself (prepaid mode off, relay closed).
    site.sim_meter("310000000006").with(|m| {
        m.state.prepaid_mode = false;
        m.state.relay_open = false;
    });
    // A-102 (80.00, its only meter): the meter says 50.00.
    site.sim_meter("310000000003").set_balance(Fen(5_000));
    site.run_control(ControlConfig {
        poll: Duration::from_millis(200),
        ..Default::default()
    });
    until("not self-tripped", 90, || {
        has_event(&store, |k| matches!(k, FieldEventKind::NotSelfTripped { meter } if meter == &MeterId::new("310000000006")))
    })
    .await;
    until("balance drift", 90, || {
        has_event(&store, |k| {
            matches!(k, FieldEventKind::BalanceDrift { meter, ledger_balance, .. }
            if meter == &MeterId::new("310000000003") && *ledger_balance == Fen(8_000))
        })
    })
    .await;
    // The site's price changes: the meter-billed meters get the new prices pushed.
    {
        let txn = store.db().begin_write().expect("txn");
        let flat = serde_json::json!({"kind": "flat", "price": "1.3500"});
        repo::set_tariff(&txn, &Actor::system("t"), "default", &flat).expect("tariff");
        txn.commit().expect("commit");
    }
    let a102 = MeterId::new("310000000003");
    until("the new prices pushed and confirmed", 90, || {
        control::commands(&store)
            .expect("commands")
            .iter()
            .any(|c| {
                c.meter == a102
                    && c.command == MeterCommand::PushPrices
                    && c.state == CommandState::Confirmed
            })
    })
    .await;
    let want = voltvend::units::Price::parse_yuan_per_kwh("1.35").expect("price");
    assert_eq!(site.sim_meter("310000000003").snapshot().prices, [want; 4]);
    site.stop().await;
}
