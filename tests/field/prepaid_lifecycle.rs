//! The prepaid cycle end to end (issue 4), host billing: simulated meters on a pty bus under
//! a manual clock, the real collector charging the ledger, the alarm engine, the SMS sender
//! through the real modem driver to a simulated GSM modem, and the control queue. As the
//! tenant's balance runs down through consumption: a level-1 SMS, a level-2 SMS, an arrears
//! SMS and a trip confirmed by reading the meter back; a sale closes the relay again
//! (confirmed), clears the alarm and texts nobody; a keep-power meter in arrears is texted
//! but never tripped. (Meter billing — the meter trips itself, a credit token closes it — is
//! tests/field/credit_push.rs.)

use std::time::Duration;

use voltvend::alarm::AlarmKind;
use voltvend::alarm::sms::sender::SenderConfig;
use voltvend::auth::roles::Actor;
use voltvend::control::{self, CommandState, ControlConfig};
use voltvend::ledger::Ledger;
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::protocol::profile::names;
use voltvend::sim::modem::SimModem;
use voltvend::site::model::{SiteDefaults, Tenant};
use voltvend::site::{MeterId, TenantId, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::field::{HostSite, two_meter_host_site};
use crate::support::field::{alarm_config, sell};
use crate::support::wait::until;

fn state_of(store: &Store, meter: &str, cmd: &MeterCommand) -> Option<CommandState> {
    control::commands(store)
        .expect("commands")
        .into_iter()
        .rev()
        .find(|c| c.meter.as_str() == meter && &c.command == cmd)
        .map(|c| c.state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_runs_down_to_sms_and_trip_and_a_sale_restores_power() {
    // 10:30 local: outside the quiet hours.
    // Host-billed, 1 yuan per kWh.
    let HostSite {
        clock,
        sim,
        dir: _dir,
        db,
        store,
    } = two_meter_host_site().await;
    {
        let a = Actor::system("test");
        let txn = store.db().begin_write().expect("txn");
        repo::set_defaults(
            &txn,
            &a,
            &SiteDefaults {
                alarm1: Fen(150),
                alarm2: Fen(80),
                ..SiteDefaults::default()
            },
        )
        .expect("defaults");
        for (t, phone) in [("T-M1", "13800000001"), ("T-M2", "13800000002")] {
            repo::upsert_tenant(
                &txn,
                &a,
                &Tenant {
                    id: TenantId::new(t),
                    name: format!("商户{t}"),
                    category: "retail".into(),
                    phone: Some(phone.into()),
                    units: vec![],
                    pin_hash: None,
                },
            )
            .expect("tenant");
        }
        outbox::push_in(&txn, &MeterId::new("M2"), MeterCommand::KeepPower(true), 0)
            .expect("keep power");
        txn.commit().expect("commit");
    }
    let ledger = Ledger::open(store.clone()).expect("ledger");
    sell(&ledger, "T-M1", 200, "s1");
    sell(&ledger, "T-M2", 200, "s2");

    let (_collector, mut daemon) = crate::support::field::field_daemon(
        &store,
        &ledger,
        &db,
        Duration::from_millis(300),
        ControlConfig {
            poll: Duration::from_millis(100),
            backoff: Duration::from_millis(100),
            answer_timeout: Duration::from_secs(5),
            ..ControlConfig::default()
        },
    )
    .await;
    let modem = SimModem::spawn(None).expect("modem");
    let mut sender = SenderConfig::new(&modem.path.display().to_string(), 115_200, None);
    sender.poll = Duration::from_millis(100);
    daemon.run_alarms(
        alarm_config("星河广场", Duration::from_millis(100)),
        Some(sender),
    );
    until("keep-power on M2", 30, || {
        state_of(&store, "M2", &MeterCommand::KeepPower(true)) == Some(CommandState::Confirmed)
    })
    .await;
    let texts_to = |phone: &str| -> Vec<String> {
        modem
            .delivered()
            .into_iter()
            .filter(|d| d.to == phone)
            .map(|d| d.text)
            .collect()
    };
    let balance = |t: &str| {
        ledger
            .account(&TenantId::new(t))
            .expect("account")
            .expect("acct")
            .balance
            .0
    };

    // 15 minutes of 2 kW = 0.50 yuan: 2.00 → 1.50, level 1 (≤ 1.50).
    clock.advance(jiff::SignedDuration::from_mins(15));
    until("level-1 SMS to M1's tenant", 30, || {
        texts_to("13800000001").len() == 1
    })
    .await;
    assert_eq!(balance("T-M1"), 150);
    assert!(
        texts_to("13800000001")[0].contains("1.50元")
            && texts_to("13800000001")[0].contains("报警金额1.50元")
    );
    // 21 minutes more = 0.70: 0.80, level 2 (≤ 0.80).
    clock.advance(jiff::SignedDuration::from_mins(21));
    until("level-2 SMS", 30, || texts_to("13800000001").len() == 2).await;
    assert!(
        texts_to("13800000001")[1].contains("二级报警"),
        "{:?}",
        texts_to("13800000001")
    );
    assert_eq!(
        state_of(&store, "M1", &MeterCommand::Trip),
        None,
        "no trip in credit"
    );
    // 30 minutes more = 1.00: −0.20, arrears: SMS and trip, confirmed by read-back.
    clock.advance(jiff::SignedDuration::from_mins(30));
    until("arrears SMS", 30, || texts_to("13800000001").len() == 3).await;
    assert!(
        texts_to("13800000001")[2].contains("欠费0.20元"),
        "{:?}",
        texts_to("13800000001")
    );
    until("the trip confirmed", 30, || {
        state_of(&store, "M1", &MeterCommand::Trip) == Some(CommandState::Confirmed)
    })
    .await;
    let m1 = sim.meter(0, "1").expect("sim meter");
    assert_eq!(m1.value(names::RELAY_OPEN), Some(1));
    // M2 (keep-power) went the same way: texted, never tripped.
    until("M2's arrears SMS", 30, || {
        texts_to("13800000002").len() == 3
    })
    .await;
    assert_eq!(state_of(&store, "M2", &MeterCommand::Trip), None);
    assert_eq!(
        sim.meter(0, "2").expect("m2").value(names::RELAY_OPEN),
        Some(0)
    );

    // A sale: the close is confirmed by read-back, the arrears alarm clears, no new SMS.
    sell(&ledger, "T-M1", 1_000, "s3");
    until("the close confirmed", 30, || {
        state_of(&store, "M1", &MeterCommand::Close) == Some(CommandState::Confirmed)
    })
    .await;
    assert_eq!(m1.value(names::RELAY_OPEN), Some(0));
    until("the arrears alarm cleared", 30, || {
        !voltvend::alarm::book::active(&store)
            .expect("active")
            .iter()
            .any(|a| a.subject == "tenant:T-M1" && a.kind == AlarmKind::Arrears)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(texts_to("13800000001").len(), 3, "good news is not texted");
    daemon.stop().await;
}
