//! Host-mode enforcement end to end, in process: simulated meters on a pty bus, the real
//! collector charging the ledger, the daemon composition running the control queue. A
//! host-billed meter runs down into arrears → its trip is confirmed by reading the meter
//! back; a sale → the close is confirmed the same way; a keep-power meter is never
//! tripped; a command queued while the queue is down is delivered exactly once after.

use std::sync::Arc;
use std::time::Duration;

use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::daemon::Daemon;
use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig, CollectorHandle};
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::protocol::profile::{ProfileSet, names};
use voltvend::site::MeterId;
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::field::{HostSite, two_meter_host_site};
use crate::support::field::{alarm_config, build_site, charge, sell};
use crate::support::store::temp_db;
use crate::support::wait::until;

/// The daemon on `db` in process, its control queue driving the meters through `collector`.
async fn control_daemon(
    db: &std::path::Path,
    store: &Store,
    ledger: &Ledger,
    collector: &Arc<CollectorHandle>,
) -> Daemon {
    let mut daemon = Daemon::start_with(
        crate::support::field::daemon_config(db),
        store.clone(),
        ledger.clone(),
        LiveState::new(),
    )
    .await
    .expect("daemon");
    daemon.run_control(collector.clone(), quick());
    daemon
}

fn quick() -> ControlConfig {
    ControlConfig {
        poll: Duration::from_millis(100),
        max_attempts: 5,
        backoff: Duration::from_millis(100),
        answer_timeout: Duration::from_secs(5),
        credit_key: None,
        grace: Default::default(),
        watch: Default::default(),
    }
}

fn record_for(
    store: &Store,
    meter: &str,
    command: &MeterCommand,
    after: u64,
) -> Option<control::CommandRecord> {
    control::commands(store)
        .expect("commands")
        .into_iter()
        .find(|c| c.meter.as_str() == meter && &c.command == command && c.id > after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrears_trip_and_sale_close_are_confirmed_by_read_back() {
    // Host-billed meters, 1 yuan per kWh; tenants T-M1 and T-M2 start at zero.
    let HostSite {
        clock,
        sim,
        dir: _dir,
        db,
        store,
    } = two_meter_host_site().await;
    let ledger = Ledger::open(store.clone()).expect("ledger");
    // 1.00 yuan each: half an hour of the 2 kW load.
    sell(&ledger, "T-M1", 100, "sale-1");
    sell(&ledger, "T-M2", 100, "sale-2");
    // M2 goes on keep-power (保电) as an operator would queue it.
    {
        let txn = store.db().begin_write().expect("txn");
        outbox::push_in(&txn, &MeterId::new("M2"), MeterCommand::KeepPower(true), 0).expect("push");
        txn.commit().expect("commit");
    }

    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger.clone()));
    let collector = Arc::new(
        Collector::spawn(
            store.clone(),
            charger,
            &ProfileSet::builtin(),
            CollectorConfig {
                collection_interval: Duration::from_millis(300),
                live_floor: Duration::from_millis(200),
                // The test jumps simulated time by hours within seconds.
                plausibility: voltvend::field::plausible::Plausibility {
                    time_scale: 1_000_000,
                    ..Default::default()
                },
                ..CollectorConfig::default()
            },
        )
        .expect("collector"),
    );
    let daemon = control_daemon(&db, &store, &ledger, &collector).await;

    let keep = MeterCommand::KeepPower(true);
    until("keep-power on M2 confirmed", 20, || {
        record_for(&store, "M2", &keep, 0).is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    assert!(control::keep_power(&store, &MeterId::new("M2")).expect("kp"));
    // Nothing tripped while both tenants are in credit.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(record_for(&store, "M1", &MeterCommand::Trip, 0).is_none());

    // An hour of 2 kW: 2.00 yuan each, both tenants go to −1.00.
    clock.advance(jiff::SignedDuration::from_hours(1));
    until("M1's tenant in arrears", 20, || {
        ledger
            .account(&"T-M1".into())
            .expect("account")
            .is_some_and(|a| a.balance.0 <= 0)
    })
    .await;
    until("the trip of M1 confirmed", 20, || {
        record_for(&store, "M1", &MeterCommand::Trip, 0)
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    let trip = record_for(&store, "M1", &MeterCommand::Trip, 0).expect("trip");
    assert_eq!(trip.sends, 1);
    assert_eq!(trip.actor, "system:control");
    let m1 = sim.meter(0, "1").expect("sim meter 1");
    assert_eq!(
        m1.value(names::RELAY_OPEN),
        Some(1),
        "the sim meter tripped"
    );
    assert!(
        ledger
            .meter_account(&MeterId::new("M1"))
            .expect("view")
            .expect("m1")
            .tripped
    );

    // Keep-power: M2's tenant is in arrears too, and M2 stays on.
    until("M2's tenant in arrears", 20, || {
        ledger
            .account(&"T-M2".into())
            .expect("account")
            .is_some_and(|a| a.balance.0 <= 0)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(record_for(&store, "M2", &MeterCommand::Trip, 0).is_none());
    let m2 = sim.meter(0, "2").expect("sim meter 2");
    assert_eq!(
        m2.value(names::RELAY_OPEN),
        Some(0),
        "keep-power never trips"
    );

    // A sale above zero: the ledger queues the close, the queue confirms it by read-back.
    sell(&ledger, "T-M1", 500, "sale-3");
    until("the close of M1 confirmed", 20, || {
        record_for(&store, "M1", &MeterCommand::Close, trip.id)
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    assert_eq!(m1.value(names::RELAY_OPEN), Some(0), "the sim meter closed");
    let close = record_for(&store, "M1", &MeterCommand::Close, trip.id).expect("close");
    assert_eq!(close.actor, "op:cashier", "the close names who sold");

    // The queue stops; a tenant switches M1 off meanwhile; after the restart the command
    // is delivered once.
    daemon.stop().await;
    let queued = {
        let txn = store.db().begin_write().expect("txn");
        let id = outbox::push_in(&txn, &MeterId::new("M1"), MeterCommand::Trip, 0).expect("push");
        txn.commit().expect("commit");
        id
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        m1.value(names::RELAY_OPEN),
        Some(0),
        "nothing sent while down"
    );
    let daemon = control_daemon(&db, &store, &ledger, &collector).await;
    until("the queued trip confirmed after the restart", 20, || {
        control::command(&store, queued)
            .expect("record")
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = control::command(&store, queued).expect("rec").expect("rec");
    assert_eq!(r.sends, 1, "delivered once");
    assert!(outbox::pending(&store).expect("pending").is_empty());
    assert_eq!(m1.value(names::RELAY_OPEN), Some(1));
    daemon.stop().await;
    drop(collector);
}

#[test]
fn grace_amount_and_time_delay_the_arrears_trip() {
    use voltvend::control::{Grace, enforce_with};
    let (_dir, db) = temp_db();
    let meters = crate::support::field::two_modbus_meters();
    build_site(&db, &[("GW1", "tcp:127.0.0.1:1502")], &meters, "1");
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let now = jiff::Timestamp::now();
    // Grace amount 5.00: −3.00 stays on, −6.00 trips.
    let amount = Grace {
        amount: Fen(500),
        time: Duration::ZERO,
    };
    charge(&ledger, "M1", 300, "c1");
    assert!(
        enforce_with(&store, &amount, now)
            .expect("enforce")
            .is_empty()
    );
    charge(&ledger, "M1", 300, "c2");
    let tripped = enforce_with(&store, &amount, now).expect("enforce");
    assert_eq!(tripped.len(), 1);
    // Grace time 5 minutes, counted from the tenant's arrears alarm.
    charge(&ledger, "M2", 100, "c3");
    let cfg = alarm_config("t", Duration::from_secs(1));
    voltvend::alarm::engine::pass(&store, &cfg, now).expect("alarm pass");
    let time = Grace {
        amount: Fen(0),
        time: Duration::from_secs(300),
    };
    assert!(
        enforce_with(&store, &time, now + jiff::SignedDuration::from_mins(4))
            .expect("enforce")
            .is_empty()
    );
    let later =
        enforce_with(&store, &time, now + jiff::SignedDuration::from_mins(6)).expect("enforce");
    assert_eq!(later.len(), 1);
    let rec = control::command(&store, later[0])
        .expect("read")
        .expect("record");
    assert_eq!(
        (rec.meter.as_str(), &rec.command),
        ("M2", &MeterCommand::Trip)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_close_in_arrears_is_tripped_again_once() {
    let HostSite {
        clock,
        sim,
        dir: _dir,
        db,
        store,
    } = two_meter_host_site().await;
    let ledger = Ledger::open(store.clone()).expect("ledger");
    sell(&ledger, "T-M1", 100, "sale-1");
    sell(&ledger, "T-M2", 10_000, "sale-2");
    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger.clone()));
    let collector = Arc::new(
        Collector::spawn(
            store.clone(),
            charger,
            &ProfileSet::builtin(),
            CollectorConfig {
                collection_interval: Duration::from_millis(300),
                live_floor: Duration::from_millis(200),
                // The test jumps simulated time by hours within seconds.
                plausibility: voltvend::field::plausible::Plausibility {
                    time_scale: 1_000_000,
                    ..Default::default()
                },
                ..CollectorConfig::default()
            },
        )
        .expect("collector"),
    );
    let mut daemon = Daemon::start_with(
        crate::support::field::daemon_config(&db),
        store.clone(),
        ledger.clone(),
        LiveState::new(),
    )
    .await
    .expect("daemon");
    daemon.run_control(collector.clone(), quick());
    // The first reading is the charge basis: take it before the clock jumps.
    until("M1's first reading", 20, || {
        voltvend::field::readings::latest(&store, &MeterId::new("M1"))
            .expect("readings")
            .is_some()
    })
    .await;
    // An hour of 2 kW: T-M1 goes to −1.00 and M1 is tripped.
    clock.advance(jiff::SignedDuration::from_hours(1));
    until("the arrears trip of M1 confirmed", 20, || {
        record_for(&store, "M1", &MeterCommand::Trip, 0)
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    let m1 = sim.meter(0, "1").expect("sim meter 1");
    assert_eq!(m1.value(names::RELAY_OPEN), Some(1));

    // Staff switch M1 on while the tenant is still in arrears (the ledger's mark still says
    // tripped: no sale cleared it).
    let close = {
        let txn = store.db().begin_write().expect("txn");
        let id = outbox::push_in(&txn, &MeterId::new("M1"), MeterCommand::Close, 0).expect("push");
        txn.commit().expect("commit");
        id
    };
    until("the staff close confirmed", 20, || {
        control::command(&store, close)
            .expect("record")
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    // The meter reads closed again, so enforcement trips it again, confirmed by read-back.
    until("M1 tripped again after the staff close", 20, || {
        record_for(&store, "M1", &MeterCommand::Trip, close)
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    assert_eq!(m1.value(names::RELAY_OPEN), Some(1), "power is off again");
    assert!(
        ledger
            .account(&"T-M1".into())
            .expect("account")
            .is_some_and(|a| a.balance.0 < 0)
    );
    // Relays stay calm: one trip for the one close, nothing more while it stays off.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let trips_after_close = control::commands(&store)
        .expect("commands")
        .into_iter()
        .filter(|c| c.meter.as_str() == "M1" && c.command == MeterCommand::Trip && c.id > close)
        .count();
    assert_eq!(trips_after_close, 1);
    let m1_trip = record_for(&store, "M1", &MeterCommand::Trip, close).expect("trip");
    assert_eq!(m1_trip.sends, 1);
    // M2's tenant is in credit: never tripped.
    assert!(record_for(&store, "M2", &MeterCommand::Trip, 0).is_none());
    daemon.stop().await;
    drop(collector);
}
