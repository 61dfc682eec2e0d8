//! A tenant's remote switch on the demo site, through the real daemon's HTTP API with the
//! simulated building read by the collector and the control queue running: switching on is
//! refused while a rationing window holds the meter off and after an overload trip, and a
//! meter takes at most 6 tenant switches an hour; every refusal in Chinese and English.

use jiff::Timestamp;
use serde_json::{Value, json};
use voltvend::auth::roles::{Actor, Role};
use voltvend::control::meter_watch::WatchConfig;
use voltvend::control::rationing::{self, Phase, Selector};
use voltvend::control::{self, CommandState};
use voltvend::ledger::outbox::MeterCommand;
use voltvend::site::{MeterId, repo};

use crate::support::demo::quick_control;
use crate::support::http::{blocking, http, tenant_login};
use crate::support::wait::until;

fn first_meter(addr: std::net::SocketAddr, token: &str) -> String {
    let me = http(addr, "GET", "/api/v1/tenant/me", Some(token), None).json();
    me["meters"][0]["meter"]
        .as_str()
        .expect("a meter")
        .to_string()
}

fn switch(addr: std::net::SocketAddr, token: &str, meter: &str, on: bool) -> (u16, Value) {
    let r = http(
        addr,
        "POST",
        &format!("/api/v1/tenant/meters/{meter}/switch"),
        Some(token),
        Some(&json!({ "on": on })),
    );
    (r.status, r.json())
}

fn assert_refused(r: &(u16, Value), code: &str, en: &str) {
    assert_eq!(r.0, 409, "{}", r.1);
    assert_eq!(r.1["code"], code, "{}", r.1);
    let zh = r.1["message"].as_str().expect("message");
    assert!(
        zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "Chinese message: {zh}"
    );
    let msg_en = r.1["message_en"].as_str().expect("message_en");
    assert!(msg_en.contains(en), "{msg_en}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_on_refused_in_rationing_after_overload_and_over_the_rate_limit() {
    let mut site = crate::support::demo::start().await;
    let store = site.store.clone();
    let addr = site.daemon.addr;
    let (t101, t201, t301) = blocking(move || {
        (
            tenant_login(addr, "A-101", "1234"),
            tenant_login(addr, "B-201", "1234"),
            tenant_login(addr, "B-301", "1234"),
        )
    })
    .await;
    let (a101, b201, b301) = {
        let (t1, t2, t3) = (t101.clone(), t201.clone(), t301.clone());
        blocking(move || {
            (
                first_meter(addr, &t1),
                first_meter(addr, &t2),
                first_meter(addr, &t3),
            )
        })
        .await
    };
    // B-301's meter may draw 1 kW; the simulated load behind it draws 5 kW.
    {
        let id = MeterId::new(b301.clone());
        let mut m = repo::get_meter(&store, &id).expect("read").expect("meter");
        m.power_limit_w = Some(1_000);
        // Every other meter keeps far below the site's limit, so only this one overloads.
        let mut defaults = repo::defaults(&store).expect("defaults");
        defaults.power_limit_w = 1_000_000;
        let txn = store.db().begin_write().expect("txn");
        repo::set_defaults(&txn, &Actor::system("t"), &defaults).expect("defaults");
        repo::upsert_meter(&txn, &Actor::system("t"), &m).expect("upsert");
        txn.commit().expect("commit");
        site.sim_meter(&b301).set_load_w(Some(5_000));
    }
    let mut cfg = quick_control();
    cfg.watch = WatchConfig {
        overload_readings: 2,
        overload_trip: true,
        ..WatchConfig::default()
    };
    site.run_control(cfg);

    // Rationing of floor A-1: A-101's meter is tripped and may not be switched on.
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
        now + jiff::SignedDuration::from_mins(10),
        "grid operator request",
    )
    .expect("create");
    until("the rationing to start", 30, || {
        rationing::list(&store)
            .expect("list")
            .iter()
            .any(|x| x.id == r.id && x.phase == Phase::Active)
    })
    .await;
    let (t, m) = (t101.clone(), a101.clone());
    let (on, off, me) = blocking(move || {
        let on = switch(addr, &t, &m, true);
        let off = switch(addr, &t, &m, false);
        let me = http(addr, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        (on, off, me)
    })
    .await;
    assert_refused(&on, "rationing", "rationed");
    assert_eq!(off.0, 200, "switching off stays allowed: {}", off.1);
    assert_eq!(
        me["meters"][0]["switch_refused"]["code"], "rationing",
        "{me}"
    );

    // Overload: the meter watch trips B-301's meter; the tenant may not switch it on again.
    until("the overload trip of B-301's meter confirmed", 60, || {
        control::commands(&store)
            .expect("commands")
            .iter()
            .any(|c| {
                c.meter.as_str() == b301
                    && c.command == MeterCommand::Trip
                    && c.state == CommandState::Confirmed
            })
    })
    .await;
    let (t, m) = (t301.clone(), b301.clone());
    let on = blocking(move || switch(addr, &t, &m, true)).await;
    assert_refused(&on, "overload", "overload");

    // The rate limit: six switches of B-201's meter in the hour, the seventh refused.
    let (t, m) = (t201.clone(), b201.clone());
    let results = blocking(move || {
        (0..7)
            .map(|i| switch(addr, &t, &m, i % 2 == 1))
            .collect::<Vec<_>>()
    })
    .await;
    for (i, r) in results.iter().take(6).enumerate() {
        assert_eq!(r.0, 200, "switch {i}: {}", r.1);
    }
    assert_refused(&results[6], "rate_limited", "6 times an hour");
    // Every refusal is in the audit log.
    let refused = voltvend::auth::audit::recent(&store, 100_000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "tenant.switch_refused")
        .count();
    assert_eq!(refused, 3);
    site.stop().await;
}
