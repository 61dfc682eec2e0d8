//! Alarms and SMS on a real store, a real modem driver and a simulated GSM modem on a pty:
//! balance alarms are raised once per crossing and text the tenant once; a sale clears
//! them; offline alarms wait out their grace; acknowledgements are audited; Chinese and
//! long (concatenated) messages arrive exactly; `+CMS ERROR: 500` is retried; no SIM ends
//! in "failed" with the reason; a restart in the middle of the queue sends each message
//! exactly once.

use std::time::Duration;

use jiff::Timestamp;
use voltvend::alarm::AlarmKind;
use voltvend::alarm::book;
use voltvend::alarm::engine::{AlarmConfig, balance_text, pass};
use voltvend::alarm::sms::queue::{self, SmsState};
use voltvend::alarm::sms::sender::{SenderConfig, drain_once};
use voltvend::auth::roles::{Actor, Role};
use voltvend::daemon::seed::seed_demo_days;
use voltvend::field::events::{self, FieldEventKind};
use voltvend::ledger::{Ledger, Sale};
use voltvend::sim::modem::SimModem;
use voltvend::site::{MeterId, TenantId, repo};
use voltvend::store::Store;
use voltvend::units::{Fen, Wh};

use crate::support::field::{alarm_config, charge};
use crate::support::store::temp_db;
use crate::support::store::temp_ledger;

fn config() -> AlarmConfig {
    alarm_config("星河广场", Duration::from_secs(1))
}

/// The demo site with one day of history.
fn site() -> (tempfile::TempDir, Store, Ledger) {
    let (dir, store, ledger) = temp_ledger();
    seed_demo_days(&store, &ledger, Timestamp::now(), 1).expect("seed");
    (dir, store, ledger)
}

fn kinds(store: &Store, subject: &str) -> Vec<AlarmKind> {
    book::active(store)
        .expect("active")
        .into_iter()
        .filter(|a| a.subject == subject)
        .map(|a| a.kind)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn balance_alarms_are_raised_once_per_crossing_and_text_the_tenant_once() {
    let (_d, store, ledger) = site();
    let cfg = config();
    let now = Timestamp::now();
    // The seed: A-102 at 80.00 (≤ 100.00), A-103 at 25.00 (≤ 30.00), A-104 at −25.00.
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.sms, 3, "{r:?}");
    assert_eq!(kinds(&store, "tenant:T0002"), [AlarmKind::Level1]);
    assert_eq!(kinds(&store, "tenant:T0003"), [AlarmKind::Level2]);
    assert_eq!(kinds(&store, "tenant:T0004"), [AlarmKind::Arrears]);
    assert_eq!(kinds(&store, "tenant:T0001"), []);
    // Polling again changes nothing and texts nobody.
    let again = pass(&store, &cfg, now).expect("pass");
    assert_eq!(again, Default::default());

    // A-101 (186.50) uses 90.00: level 1, one SMS with the balance in it.
    charge(&ledger, "310000000001", 9_000, "c1");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!((r.raised.len(), r.sms), (1, 1), "{r:?}");
    assert_eq!(kinds(&store, "tenant:T0001"), [AlarmKind::Level1]);
    let sms = queue::list(&store).expect("sms");
    let last = sms.last().expect("an sms");
    let t1 = repo::get_tenant(&store, &TenantId::new("T0001"))
        .expect("read")
        .expect("tenant");
    assert_eq!(last.to, t1.phone.clone().expect("phone"));
    assert_eq!(
        last.text,
        balance_text("星河广场", &t1, AlarmKind::Level1, Fen(9_650), Fen(10_000))
    );
    assert!(last.text.contains("96.50元"), "{}", last.text);
    // Down to level 2: level 1 clears, level 2 is raised and texted.
    charge(&ledger, "310000000001", 7_000, "c2");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.cleared, [(AlarmKind::Level1, "tenant:T0001".to_string())]);
    assert_eq!((r.raised.len(), r.sms), (1, 1));
    // A sale lifts the arrears tenant to 50.00: arrears clears, level 1 is raised, but
    // nobody is texted for good news.
    ledger
        .sale(
            &Actor::operator("cashier", Role::Cashier),
            "s1",
            Sale {
                tenant: TenantId::new("T0004"),
                amount: Fen(7_500),
                method: "cash".into(),
                receipt_no: None,
                meter: None,
            },
        )
        .expect("sale");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(kinds(&store, "tenant:T0004"), [AlarmKind::Level1]);
    assert_eq!(r.sms, 0, "{r:?}");
    // The history keeps the cleared ones.
    let history = book::history(&store, Timestamp::MIN, Timestamp::MAX).expect("history");
    assert!(history.iter().any(|a| a.kind == AlarmKind::Arrears
        && a.subject == "tenant:T0004"
        && a.cleared_at.is_some()));
}

#[test]
fn field_alarms_wait_their_grace_clear_and_are_acknowledged() {
    let (_d, store, _ledger) = site();
    let cfg = config();
    let t0 = Timestamp::now();
    let m = MeterId::new("310000000007");
    events::append(
        &store,
        t0,
        FieldEventKind::MeterOffline {
            meter: m.clone(),
            why: "no answer".into(),
        },
    )
    .expect("event");
    events::append(
        &store,
        t0,
        FieldEventKind::RegisterRollback {
            meter: m.clone(),
            previous: Wh(5_000),
            current: Wh(10),
        },
    )
    .expect("event");
    pass(&store, &cfg, t0).expect("pass");
    let subject = format!("meter:{m}");
    // Within the grace: only the rollback.
    assert_eq!(kinds(&store, &subject), [AlarmKind::RegisterRollback]);
    let later = t0 + jiff::SignedDuration::from_mins(11);
    pass(&store, &cfg, later).expect("pass");
    assert_eq!(
        kinds(&store, &subject),
        [AlarmKind::MeterOffline, AlarmKind::RegisterRollback]
    );
    // Back online: the offline alarm clears itself; the rollback stays until acknowledged.
    events::append(
        &store,
        later,
        FieldEventKind::MeterOnline { meter: m.clone() },
    )
    .expect("event");
    pass(&store, &cfg, later).expect("pass");
    assert_eq!(kinds(&store, &subject), [AlarmKind::RegisterRollback]);
    let rollback = book::active(&store)
        .expect("active")
        .into_iter()
        .find(|a| a.subject == subject)
        .expect("alarm");
    let acked = book::ack(&store, &Actor::operator("ops", Role::Admin), rollback.id).expect("ack");
    assert_eq!(acked.acked_by.as_deref(), Some("op:ops"));
    assert!(acked.cleared_at.is_some());
    assert_eq!(kinds(&store, &subject), []);
    let audit = voltvend::auth::audit::recent(&store, 5).expect("audit");
    assert!(audit.iter().any(|e| e.action == "alarm.ack"));
    // A short outage inside the grace never alarms.
    events::append(
        &store,
        later,
        FieldEventKind::GatewayOffline {
            gateway: "GW2".into(),
            why: "x".into(),
        },
    )
    .expect("event");
    events::append(
        &store,
        later,
        FieldEventKind::GatewayOnline {
            gateway: "GW2".into(),
        },
    )
    .expect("event");
    pass(&store, &cfg, later + jiff::SignedDuration::from_mins(30)).expect("pass");
    assert_eq!(kinds(&store, "gateway:GW2"), []);
}

fn sender(modem: &SimModem) -> SenderConfig {
    let mut c = SenderConfig::new(&modem.path.display().to_string(), 115_200, None);
    c.backoff = Duration::ZERO;
    c.max_attempts = 3;
    c.timeout = Duration::from_secs(5);
    c
}

fn enqueue(store: &Store, to: &str, text: &str) -> u64 {
    let txn = store.db().begin_write().expect("txn");
    let now = Timestamp::now();
    let id = queue::enqueue_in(&txn, to, text, None, now, now).expect("enqueue");
    txn.commit().expect("commit");
    id
}

fn state(store: &Store, id: u64) -> SmsState {
    queue::list(store)
        .expect("list")
        .into_iter()
        .find(|m| m.id == id)
        .expect("msg")
        .state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinese_and_long_messages_arrive_exactly_through_a_real_dialogue() {
    let (_d, store, _l) = site();
    let out = tempfile::tempdir().expect("tmp");
    let modem = SimModem::spawn(Some(out.path().to_path_buf())).expect("modem");
    let cfg = sender(&modem);
    let short = "【星河广场】尊敬的小王面馆（A-101），您的电费余额为96.50元，已低于报警金额100.00元，请及时充值。";
    let long = short.repeat(3);
    let a = enqueue(&store, "13800138000", short);
    let b = enqueue(&store, "+8613900139000", &long);
    let mut port = None;
    assert_eq!(drain_once(&store, &cfg, &mut port).await, 2);
    let got = modem.delivered();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].to.as_str(), got[0].text.as_str(), got[0].parts),
        ("13800138000", short, 1)
    );
    assert_eq!(got[1].to, "+8613900139000");
    assert_eq!(got[1].text, long);
    // UCS-2: 67 characters per concatenated part.
    assert_eq!(got[1].parts, long.chars().count().div_ceil(67));
    assert!(got[1].parts > 1);
    assert_eq!(
        (state(&store, a), state(&store, b)),
        (SmsState::Sent, SmsState::Sent)
    );
    let file = std::fs::read_to_string(out.path().join("sms-0001.txt")).expect("file");
    assert!(file.contains(short));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modem_errors_are_retried_then_reported() {
    let (_d, store, _l) = site();
    let modem = SimModem::spawn(None).expect("modem");
    let cfg = sender(&modem);
    // +CMS ERROR: 500 once, then the message goes.
    modem.fail_next(500);
    let a = enqueue(&store, "13800138000", "余额不足");
    let mut port = None;
    assert_eq!(drain_once(&store, &cfg, &mut port).await, 0);
    let m = queue::list(&store)
        .expect("list")
        .into_iter()
        .find(|m| m.id == a)
        .expect("msg");
    assert_eq!(m.state, SmsState::Queued);
    assert!(
        m.last_error
            .as_deref()
            .is_some_and(|e| e.contains("+CMS ERROR: 500")),
        "{m:?}"
    );
    assert_eq!(drain_once(&store, &cfg, &mut port).await, 1);
    assert_eq!(state(&store, a), SmsState::Sent);
    assert_eq!(modem.delivered().len(), 1);
    // Without a SIM: three attempts, then failed with the modem's reason.
    modem.set_no_sim(true);
    let b = enqueue(&store, "13800138000", "欠费");
    for _ in 0..3 {
        drain_once(&store, &cfg, &mut port).await;
    }
    match state(&store, b) {
        SmsState::Failed(why) => assert!(
            why.contains("310") && why.contains("SIM not inserted"),
            "{why}"
        ),
        s => panic!("{s:?}"),
    }
    assert_eq!(modem.delivered().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_the_queue_sends_each_message_once() {
    let (_dir, db) = temp_db();
    let modem = SimModem::spawn(None).expect("modem");
    let cfg = sender(&modem);
    let ids: Vec<u64> = {
        let store = Store::open(&db).expect("store");
        let ids = (0..4)
            .map(|i| enqueue(&store, "13800138000", &format!("消息{i}")))
            .collect();
        // The first sender sends what is due, then "the process stops" before the rest
        // (simulated by failing the modem for the last two).
        modem.fail_next(500);
        modem.fail_next(500);
        let mut port = None;
        // Messages go in id order: 0 and 1 fail, then 2 and 3 are sent.
        drain_once(&store, &cfg, &mut port).await;
        ids
    };
    // A new process on the same store.
    let store = Store::open(&db).expect("reopen");
    let mut port = None;
    drain_once(&store, &cfg, &mut port).await;
    drain_once(&store, &cfg, &mut port).await;
    let texts: Vec<String> = modem.delivered().into_iter().map(|d| d.text).collect();
    let mut sorted = texts.clone();
    sorted.sort();
    assert_eq!(sorted, ["消息0", "消息1", "消息2", "消息3"], "{texts:?}");
    for id in ids {
        assert_eq!(state(&store, id), SmsState::Sent);
    }
}

#[test]
fn a_restart_neither_repeats_nor_loses_alarms_and_a_new_crossing_raises_again() {
    let (_dir, db) = temp_db();
    let cfg = config();
    let now = Timestamp::now();
    let m = MeterId::new("310000000007");
    let overload = format!("meter:{m}");
    {
        let store = Store::open(&db).expect("store");
        let ledger = Ledger::open(store.clone()).expect("ledger");
        seed_demo_days(&store, &ledger, now, 1).expect("seed");
        events::append(
            &store,
            now,
            FieldEventKind::Overload {
                meter: m.clone(),
                power_w: 9_000,
                limit_w: 6_000,
            },
        )
        .expect("event");
        let r = pass(&store, &cfg, now).expect("pass");
        assert_eq!(r.sms, 3, "{r:?}");
        assert!(r.raised.contains(&(AlarmKind::Overload, overload.clone())));
        // Written after the last pass: the process stops before consuming it.
        events::append(
            &store,
            now,
            FieldEventKind::OverloadCleared { meter: m.clone() },
        )
        .expect("event");
    }
    // A new process on the same store: nothing raised or texted twice, nothing lost.
    let store = Store::open(&db).expect("reopen");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.raised, [], "{r:?}");
    assert_eq!(r.sms, 0);
    assert_eq!(r.cleared, [(AlarmKind::Overload, overload.clone())]);
    assert_eq!(pass(&store, &cfg, now).expect("pass"), Default::default());
    assert_eq!(queue::list(&store).expect("sms").len(), 3);

    // A-102 (80.00, level 1) buys 50.00: the alarm clears. Then uses 40.00: a new
    // crossing, a new alarm (new id) and a new SMS.
    let first = book::active(&store)
        .expect("active")
        .into_iter()
        .find(|a| a.subject == "tenant:T0002")
        .expect("level 1");
    ledger
        .sale(
            &Actor::operator("cashier", Role::Cashier),
            "s-t2",
            Sale {
                tenant: TenantId::new("T0002"),
                amount: Fen(5_000),
                method: "cash".into(),
                receipt_no: None,
                meter: None,
            },
        )
        .expect("sale");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.cleared, [(AlarmKind::Level1, "tenant:T0002".to_string())]);
    assert_eq!(kinds(&store, "tenant:T0002"), []);
    let t2 = repo::get_tenant(&store, &TenantId::new("T0002"))
        .expect("read")
        .expect("tenant");
    let meter = repo::list_meters(&store)
        .expect("meters")
        .into_iter()
        .find(|m| m.unit.as_ref().is_some_and(|u| t2.units.contains(u)))
        .expect("A-102's meter")
        .id;
    charge(&ledger, meter.as_str(), 4_000, "c-t2");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(
        (r.raised.clone(), r.sms),
        (vec![(AlarmKind::Level1, "tenant:T0002".to_string())], 1),
        "{r:?}"
    );
    let second = book::active(&store)
        .expect("active")
        .into_iter()
        .find(|a| a.subject == "tenant:T0002")
        .expect("level 1 again");
    assert_ne!(second.id, first.id);
    assert_eq!(second.value, Some(9_000));
    let sms = queue::list(&store).expect("sms");
    assert_eq!(sms.len(), 4);
    assert_eq!(sms[3].alarm, Some(second.id));
    assert!(sms[3].text.contains("90.00元"), "{}", sms[3].text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_tenant_sms_until_the_window_ends() {
    let (_d, store, _l) = site();
    let tz = repo::defaults(&store).expect("defaults").tz();
    let now = Timestamp::now();
    let local = now.to_zoned_datetime(tz.clone());
    let minute =
        u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).expect("minute");
    // A two-hour window starting this minute (wrapping midnight if it must).
    let cfg = AlarmConfig {
        quiet_hours: Some((minute, (minute + 120) % (24 * 60))),
        ..config()
    };
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.sms, 3);
    let sms = queue::list(&store).expect("sms");
    let end = local
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .expect("minute")
        .timestamp()
        + jiff::SignedDuration::from_mins(120);
    assert!(sms.iter().all(|m| m.not_before == end), "{sms:?}");
    // The modem is there, but nothing goes during the quiet hours …
    let modem = SimModem::spawn(None).expect("modem");
    let mut port = None;
    assert_eq!(drain_once(&store, &sender(&modem), &mut port).await, 0);
    assert!(modem.delivered().is_empty());
    assert!(
        queue::due(&store, end - jiff::SignedDuration::from_secs(1))
            .expect("due")
            .is_empty()
    );
    // … and all of it when they end.
    assert_eq!(queue::due(&store, end).expect("due").len(), 3);
    // Outside the window the SMS is due at once.
    let open = AlarmConfig {
        quiet_hours: Some(((minute + 60) % 1440, (minute + 120) % 1440)),
        ..config()
    };
    let (_d2, store2, _l2) = site();
    pass(&store2, &open, now).expect("pass");
    assert!(
        queue::list(&store2)
            .expect("sms")
            .iter()
            .all(|m| m.not_before == now)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modem_that_does_not_answer_times_out_and_the_message_goes_later() {
    let (_d, store, _l) = site();
    let modem = SimModem::spawn(None).expect("modem");
    let mut cfg = sender(&modem);
    cfg.timeout = Duration::from_millis(300);
    modem.set_silent(true);
    let a = enqueue(&store, "13800138000", "您的电费余额不足");
    let mut port = None;
    let started = std::time::Instant::now();
    assert_eq!(drain_once(&store, &cfg, &mut port).await, 0);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(port.is_none(), "a modem that timed out is reopened");
    let m = queue::list(&store)
        .expect("list")
        .into_iter()
        .find(|m| m.id == a)
        .expect("msg");
    assert_eq!((m.state.clone(), m.attempts), (SmsState::Queued, 1));
    assert!(
        m.last_error
            .as_deref()
            .is_some_and(|e| e.contains("no answer from the modem to AT")),
        "{m:?}"
    );
    modem.set_silent(false);
    assert_eq!(drain_once(&store, &cfg, &mut port).await, 1);
    assert_eq!(state(&store, a), SmsState::Sent);
    let got = modem.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "您的电费余额不足");
}

#[test]
fn a_meter_override_sets_the_level_and_a_lasting_alarm_is_texted_again() {
    let (_d, store, _ledger) = site();
    let cfg = config();
    let now = Timestamp::now();
    // A-101 (186.50) is above the site's 100.00 — until its meter warns at 200.00.
    let t1 = repo::get_tenant(&store, &TenantId::new("T0001"))
        .expect("read")
        .expect("tenant");
    let mut meter = repo::list_meters(&store)
        .expect("meters")
        .into_iter()
        .find(|m| m.unit.as_ref().is_some_and(|u| t1.units.contains(u)))
        .expect("A-101's meter");
    meter.alarm1 = Some(Fen(20_000));
    let txn = store.db().begin_write().expect("txn");
    repo::upsert_meter(&txn, &Actor::operator("ops", Role::Admin), &meter).expect("meter");
    txn.commit().expect("commit");
    let r = pass(&store, &cfg, now).expect("pass");
    assert_eq!(r.sms, 4, "{r:?}");
    assert_eq!(kinds(&store, "tenant:T0001"), [AlarmKind::Level1]);
    let sms = queue::list(&store).expect("sms");
    let to_t1: Vec<_> = sms
        .iter()
        .filter(|m| Some(&m.to) == t1.phone.as_ref())
        .collect();
    assert_eq!(to_t1.len(), 1);
    assert!(to_t1[0].text.contains("200.00元"), "{}", to_t1[0].text);
    // Still low a day later: every still-active balance alarm is texted again, once.
    let later = now + jiff::SignedDuration::from_hours(24);
    assert_eq!(
        pass(&store, &cfg, later - jiff::SignedDuration::from_secs(1))
            .expect("pass")
            .sms,
        0
    );
    assert_eq!(pass(&store, &cfg, later).expect("pass").sms, 4);
    assert_eq!(pass(&store, &cfg, later).expect("pass").sms, 0);
    assert_eq!(queue::list(&store).expect("sms").len(), 8);
}
