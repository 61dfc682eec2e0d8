//! Credit to meter-billed meters end to end, on the demo site with its simulated building
//! (DL/T 645 prepaid meters that verify tokens with keys diversified from the site master
//! key): a sale to a tenant whose meter tripped itself in arrears pushes a token, the meter
//! takes it, the purchase count read back confirms it and the relay closes. A meter whose
//! purchase count disagrees (比对充值次数) refuses the token: the mismatch is an alarm event,
//! further credit to that meter is held until an operator resolves it.

use std::time::Duration;

use voltvend::auth::roles::{Actor, Role};
use voltvend::control::credit::{credit_hold, resolve_credit_hold};
use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::daemon::credit_master_key;
use voltvend::field::events::{self, FieldEventKind};
use voltvend::ledger::outbox::MeterCommand;
use voltvend::site::MeterId;
use voltvend::store::Store;

use crate::support::demo::quick_control;
use crate::support::field::sell;
use crate::support::wait::until;

fn credit_state(store: &Store, meter: &str, count: u32) -> Option<CommandState> {
    control::commands(store)
        .expect("commands")
        .into_iter()
        .find(|c| {
            c.meter.as_str() == meter
                && matches!(c.command, MeterCommand::PushCredit { purchase_count, .. } if purchase_count == count)
        })
        .map(|c| c.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_pushes_a_token_the_meter_verifies_and_a_mismatch_holds_credit() {
    let mut site = crate::support::demo::start().await;
    let (store, ledger, live) = (site.store.clone(), site.ledger.clone(), site.live.clone());
    // A-102's meter has had 5 purchases the ledger does not know of: its count disagrees.
    let a102 = "310000000003";
    site.sim_meter(a102).with(|m| m.state.purchase_count = 5);
    site.run_control(ControlConfig {
        credit_key: Some(credit_master_key(&store).expect("key")),
        ..quick_control()
    });

    // A-104 is at −25.00 and its meter-billed meter tripped itself.
    let a104 = "310000000006";
    until("A-104's meter to trip itself", 60, || {
        live.meter(&MeterId::new(a104))
            .is_some_and(|m| m.values.relay == Some(voltvend::field::readings::Relay::Open))
    })
    .await;
    sell(&ledger, "T0004", 10_000, "s-a104");
    until("the credit to be confirmed", 60, || {
        credit_state(&store, a104, 1) == Some(CommandState::Confirmed)
    })
    .await;
    let st = site.sim_meter(a104).snapshot();
    assert_eq!(st.purchase_count, 1);
    assert!(!st.relay_open, "the relay stayed open after the credit");
    // 100.00 credited onto −25.00 (less a few seconds of use).
    let bal = live
        .meter(&MeterId::new(a104))
        .and_then(|m| m.values.balance)
        .expect("balance");
    assert!((7_000..=7_500).contains(&bal.0), "meter balance {bal}");

    // the token for purchase 1 is refused (the meter expects 6) → mismatch, hold.
    sell(&ledger, "T0002", 5_000, "s-a102-1");
    until("the mismatch", 60, || {
        matches!(credit_state(&store, a102, 1), Some(CommandState::Failed(_)))
    })
    .await;
    let Some(CommandState::Failed(why)) = credit_state(&store, a102, 1) else {
        unreachable!()
    };
    assert!(
        why.contains("credit mismatch") && why.contains("purchase count is 5"),
        "{why}"
    );
    assert!(
        credit_hold(&store, &MeterId::new(a102))
            .expect("hold")
            .is_some()
    );
    assert!(events::since(&store, 0).expect("events").iter().any(
        |e| matches!(&e.kind, FieldEventKind::CreditMismatch { meter, .. } if meter.as_str() == a102)
    ));
    assert_eq!(
        site.sim_meter(a102).snapshot().purchase_count,
        5,
        "a refused token changed the meter"
    );
    // The next sale's credit waits on the hold, queued and visible.
    sell(&ledger, "T0002", 5_000, "s-a102-2");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = control::commands(&store)
        .expect("commands")
        .into_iter()
        .find(|c| {
            c.meter.as_str() == a102
                && matches!(
                    c.command,
                    MeterCommand::PushCredit {
                        purchase_count: 2,
                        ..
                    }
                )
        })
        .expect("second credit");
    assert_eq!(held.state, CommandState::Queued);
    assert!(
        held.last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("held:")),
        "{held:?}"
    );
    // An operator resolves it: the hold ends and the resolution is an event for the alarm.
    assert!(
        resolve_credit_hold(
            &store,
            &Actor::operator("admin", Role::Admin),
            &MeterId::new(a102)
        )
        .expect("resolve")
    );
    assert!(
        credit_hold(&store, &MeterId::new(a102))
            .expect("hold")
            .is_none()
    );
    assert!(events::since(&store, 0).expect("events").iter().any(
        |e| matches!(&e.kind, FieldEventKind::CreditMismatchResolved { by, .. } if by == "op:admin")
    ));
    site.stop().await;
}
