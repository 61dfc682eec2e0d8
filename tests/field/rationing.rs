//! Rationing (限电) on the demo site's simulated building: floor A-1 is rationed for a short
//! window. Every meter of the floor is tripped (confirmed by read-back) except the one on
//! keep-power, which is skipped and listed; at the end of the window exactly those meters
//! are restored, except the arrears tenant's, which stays off.

use jiff::Timestamp;
use voltvend::auth::roles::{Actor, Role};
use voltvend::control::rationing::{self, Phase, Selector};
use voltvend::control::{self, CommandState};
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::site::MeterId;

use crate::support::demo::quick_control;
use crate::support::wait::until;

fn done(s: &CommandState) -> bool {
    matches!(s, CommandState::Confirmed | CommandState::WaitingForTenant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_floor_is_rationed_and_exactly_its_meters_restored() {
    let mut site = crate::support::demo::start().await;
    let store = site.store.clone();
    // A-102's meter (a cold store, say) is on keep-power.
    let kp = MeterId::new("310000000003");
    {
        let txn = store.db().begin_write().expect("txn");
        outbox::push_in(&txn, &kp, MeterCommand::KeepPower(true), 0).expect("kp");
        txn.commit().expect("commit");
    }
    site.run_control(quick_control());
    until("keep-power confirmed", 60, || {
        control::keep_power(&store, &kp).unwrap_or(false)
    })
    .await;

    let now = Timestamp::now();
    let r = rationing::create(
        &store,
        &Actor::operator("admin", Role::Admin),
        Selector {
            building: Some("A".into()),
            floor: Some(1),
            category: None,
        },
        now,
        now + jiff::SignedDuration::from_secs(40),
        "grid operator request",
    )
    .expect("create");
    let get = || {
        rationing::list(&store)
            .expect("list")
            .into_iter()
            .find(|x| x.id == r.id)
            .expect("rationing")
    };
    until("the window to start", 30, || get().phase == Phase::Active).await;
    let active = get();
    assert_eq!(active.skipped_keep_power, vec![kp.clone()]);
    // A-101..A-108 have 10 meters; one is on keep-power.
    assert_eq!(active.tripped.len(), 9, "{:?}", active.tripped);
    assert!(active.tripped.iter().all(|(m, _)| m != &kp));
    until("every trip confirmed", 120, || {
        get().tripped.iter().all(|(_, id)| {
            control::command(&store, *id)
                .ok()
                .flatten()
                .is_some_and(|c| c.state == CommandState::Confirmed)
        })
    })
    .await;
    until("the window to end", 60, || get().phase == Phase::Restored).await;
    let ended = get();
    // A-104 (−25.00) stays off; the other eight are restored.
    assert_eq!(ended.left_off_arrears, vec![MeterId::new("310000000006")]);
    assert_eq!(ended.restored.len(), 8);
    until("every close confirmed", 120, || {
        get().restored.iter().all(|(_, id)| {
            control::command(&store, *id)
                .ok()
                .flatten()
                .is_some_and(|c| done(&c.state))
        })
    })
    .await;
    site.stop().await;
}
