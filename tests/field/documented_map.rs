//! A meter that implements only the documented Acrel map (issue 13 item 8), end to end: the
//! simulated meter answers every register of the assumed prepaid block at 0x0100 with
//! Modbus exception 02, on a pty bus; the real collector and the daemon's control queue run.
//! The collector remembers the block as unsupported and stops polling it; a trip is
//! confirmed from the acknowledged write and the power dropping to zero, a close from the
//! acknowledged write (the manual clock stands still, so the load reads 0 W: the case where
//! only the acknowledgement can tell); each command switches the relay once; a trip and
//! a close both waiting for the meter are not both pursued: only the newest is sent.

use std::sync::Arc;
use std::time::Duration;

use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::daemon::Daemon;
use voltvend::field::charge::LedgerCharger;
use voltvend::field::collector::{Collector, CollectorConfig};
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::protocol::profile::{ProfileSet, names};
use voltvend::site::MeterId;
use voltvend::store::Store;

use crate::support::field::{HostSite, sell, two_meter_host_site};
use crate::support::wait::until;

fn quick() -> ControlConfig {
    ControlConfig {
        poll: Duration::from_millis(100),
        max_attempts: 5,
        backoff: Duration::from_millis(100),
        answer_timeout: Duration::from_secs(5),
        ..ControlConfig::default()
    }
}

fn queue(store: &Store, meter: &str, command: MeterCommand) -> u64 {
    let txn = store.db().begin_write().expect("txn");
    let id = outbox::push_in(&txn, &MeterId::new(meter), command, 0).expect("push");
    txn.commit().expect("commit");
    id
}

fn state(store: &Store, id: u64) -> Option<CommandState> {
    control::command(store, id)
        .expect("record")
        .map(|r| r.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_map_only_meter_is_tripped_and_closed_with_confirmation() {
    let HostSite {
        clock: _clock,
        sim,
        dir: _dir,
        db,
        store,
    } = two_meter_host_site().await;
    let m1 = sim.meter(0, "1").expect("sim meter 1");
    m1.set_documented_only(true);
    let ledger = Ledger::open(store.clone()).expect("ledger");
    sell(&ledger, "T-M1", 10_000, "sale-1");
    sell(&ledger, "T-M2", 10_000, "sale-2");

    let charger = Arc::new(LedgerCharger::new(store.clone(), ledger.clone()));
    let collector = Arc::new(
        Collector::spawn(
            store.clone(),
            charger,
            &ProfileSet::builtin(),
            CollectorConfig {
                collection_interval: Duration::from_millis(300),
                live_floor: Duration::from_millis(150),
                ..CollectorConfig::default()
            },
        )
        .expect("collector"),
    );
    // The collector reads M1 (documented registers only) and finds the block unsupported.
    until("M1 read and the prepaid block refused", 20, || {
        m1.assumed_requests() > 0 && sim.bus(0).expect("bus").stats().requests > 20
    })
    .await;

    // Not polled every cycle: over many more cycles the refused block is not asked again.
    let refused = m1.assumed_requests();
    let requests = sim.bus(0).expect("bus").stats().requests;
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let cycles_requests = sim.bus(0).expect("bus").stats().requests - requests;
    assert!(
        cycles_requests > 20,
        "the collector kept sweeping ({cycles_requests} requests)"
    );
    assert_eq!(
        m1.assumed_requests(),
        refused,
        "the unsupported block was polled again within the day"
    );
    // At most once per distinct planned block (live sweep, full read).
    assert!(refused <= 3, "{refused} refused requests");

    let mut daemon = Daemon::start_with(
        crate::support::field::daemon_config(&db),
        store.clone(),
        ledger.clone(),
        LiveState::new(),
    )
    .await
    .expect("daemon");
    daemon.run_control(collector.clone(), quick());

    // Trip: acknowledged, power to zero → confirmed, sent once, relay switched once.
    let trip = queue(&store, "M1", MeterCommand::Trip);
    until("the trip of M1 confirmed", 20, || {
        state(&store, trip) == Some(CommandState::Confirmed)
    })
    .await;
    let rec = control::command(&store, trip).expect("rec").expect("rec");
    assert_eq!(rec.sends, 1, "{rec:?}");
    assert_eq!(rec.attempts, 0, "confirmed at the first read-back: {rec:?}");
    assert_eq!(m1.value(names::RELAY_OPEN), Some(1));
    assert_eq!(m1.value(names::POWER), Some(0));
    assert_eq!(m1.relay_switches(), 1);

    // Close: acknowledged, power back → confirmed.
    let close = queue(&store, "M1", MeterCommand::Close);
    until("the close of M1 confirmed", 20, || {
        state(&store, close) == Some(CommandState::Confirmed)
    })
    .await;
    let rec = control::command(&store, close).expect("rec").expect("rec");
    assert_eq!(rec.sends, 1, "{rec:?}");
    assert_eq!(m1.value(names::RELAY_OPEN), Some(0));
    assert_eq!(m1.relay_switches(), 2);

    // A trip and then a close wait while the queue is down: only the close (the newest
    // wanted state) is pursued; the trip is never sent, the relay never flaps.
    daemon.stop().await;
    let old_trip = queue(&store, "M1", MeterCommand::Trip);
    let new_close = queue(&store, "M1", MeterCommand::Close);
    let mut daemon = Daemon::start_with(
        crate::support::field::daemon_config(&db),
        store.clone(),
        ledger.clone(),
        LiveState::new(),
    )
    .await
    .expect("daemon again");
    daemon.run_control(collector.clone(), quick());
    until("the newest close confirmed", 20, || {
        state(&store, new_close) == Some(CommandState::Confirmed)
    })
    .await;
    let old = control::command(&store, old_trip)
        .expect("rec")
        .expect("rec");
    assert_eq!(old.sends, 0, "the superseded trip was never sent: {old:?}");
    assert!(
        matches!(&old.state, CommandState::Failed(why) if why.contains("superseded")),
        "{old:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(m1.relay_switches(), 2, "no switching beyond the two due");
    assert_eq!(m1.value(names::RELAY_OPEN), Some(0));
    assert!(outbox::pending(&store).expect("pending").is_empty());
    // Still not polling the refused block.
    assert_eq!(m1.assumed_requests(), refused);
    daemon.stop().await;
    drop(collector);
}
