//! The suspect-reading routes on the real daemon (issue 13 item 1, the staff side): simulated
//! meters over a pty read by the real `voltvend collect --once` make a zero answered once (M1)
//! and a spike (M2) suspect; then over HTTP: the list names both, a cashier may read but not
//! decide, an installer's accept charges the spike's interval exactly once, a second accept is
//! refused with who decided and what was charged, a decrease cannot be accepted, a reject
//! charges nothing, and every decision is in the audit log under the operator's name.

use serde_json::{Value, json};
use std::net::SocketAddr;
use voltvend::auth::Actor;
use voltvend::auth::roles::Role;
use voltvend::field::live::LiveState;
use voltvend::ledger::Ledger;
use voltvend::sim::EnergyFault;
use voltvend::store::Store;
use voltvend::units::{Fen, Wh};
use voltvend_api_types::routes;

use super::suspect_readings::{balance, fen, read_once, sim, two_meter_site};
use crate::support::field::daemon_config;
use crate::support::http::{blocking, http};
use crate::support::store::temp_db;

/// An operator with `role`, logged in past the forced first-login change; the token.
fn staff_token(store: &Store, addr: SocketAddr, name: &str, role: Role) -> String {
    let first = format!("{name}-first-pw");
    let admin = Actor::operator("admin", Role::Admin);
    voltvend::auth::operators::add(store, &admin, name, role, &first).expect("operator");
    let login = |pw: &str| {
        let r = http(
            addr,
            "POST",
            routes::LOGIN,
            None,
            Some(&json!({"name": name, "password": pw})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["token"].as_str().expect("token").to_string()
    };
    let t = login(&first);
    let next = format!("{name}-second-pw");
    let r = http(
        addr,
        "POST",
        routes::PASSWORD,
        Some(&t),
        Some(&json!({"old_password": first, "new_password": next})),
    );
    assert!(r.status < 300, "{}", r.text());
    login(&next)
}

fn pending(addr: SocketAddr, token: &str) -> Vec<Value> {
    let r = http(addr, "GET", routes::SUSPECT_READINGS, Some(token), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json().as_array().expect("a list").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_decide_suspect_readings_over_http_charged_once_and_audited() {
    let b = sim().await;
    let (_dir, db) = temp_db();
    two_meter_site(&b, &db);
    let (m1, m2) = (b.meter(0, "1").expect("m1"), b.meter(0, "2").expect("m2"));
    read_once(&db);
    b.clock().advance(jiff::SignedDuration::from_mins(4));
    m1.with(|m| m.energy_fault = Some(EnergyFault::ZeroOnce));
    m2.with(|m| m.energy_fault = Some(EnergyFault::SpikeOnce(Wh(100_000_000))));
    read_once(&db);

    // The collector is done with the file: the daemon opens it.
    let store = Store::open(&db).expect("store");
    let ledger = Ledger::open(store.clone()).expect("ledger");
    assert_eq!(balance(&ledger, "M1"), Fen(0), "nothing charged for a zero");
    assert_eq!(
        balance(&ledger, "M2"),
        Fen(0),
        "nothing charged for a spike"
    );
    let daemon = voltvend::daemon::Daemon::start_with(
        daemon_config(&db),
        store.clone(),
        ledger.clone(),
        LiveState::new(),
    )
    .await
    .expect("daemon");
    let addr = daemon.addr;
    let (s2, l2) = (store.clone(), ledger.clone());
    blocking(move || {
        let (store, ledger) = (s2, l2);
        let cashier = staff_token(&store, addr, "cash1", Role::Cashier);
        let installer = staff_token(&store, addr, "inst1", Role::Installer);

        // Listed for anyone who may read; no token, no list.
        let r = http(addr, "GET", routes::SUSPECT_READINGS, None, None);
        assert_eq!(r.status, 401, "{}", r.text());
        let list = pending(addr, &cashier);
        assert_eq!(list.len(), 2, "{list:?}");
        let (zero, spike) = (&list[0], &list[1]);
        assert_eq!(
            (zero["meter"].as_str(), zero["why"].as_str()),
            (Some("M1"), Some("decrease"))
        );
        assert_eq!(zero["total_wh"], 0);
        assert_eq!(
            (spike["meter"].as_str(), spike["why"].as_str()),
            (Some("M2"), Some("too_high"))
        );
        assert!(spike["max_wh"].as_i64().is_some_and(|m| m > 0), "{spike}");
        assert!(list.iter().all(|s| s["state"] == "pending"), "{list:?}");
        let spike_at = spike["at_ms"].as_i64().expect("at_ms");
        let zero_at = zero["at_ms"].as_i64().expect("at_ms");
        let spike_wh =
            spike["total_wh"].as_i64().expect("wh") - spike["basis_wh"].as_i64().expect("wh");
        let accept_spike = routes::suspect_reading_accept("M2", spike_at);

        // Every decision is a POST with a JSON body as one staff member.
        let post = |path: &str, token: &str, body: serde_json::Value| {
            http(addr, "POST", path, Some(token), Some(&body))
        };

        // A cashier may not decide: refused, nothing charged, still pending.
        let r = post(&accept_spike, &cashier, json!({}));
        assert_eq!(r.status, 403, "{}", r.text());
        let r = post(
            &routes::suspect_reading_reject("M1", zero_at),
            &cashier,
            json!({"rebaseline": false}),
        );
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(balance(&ledger, "M2"), Fen(0));
        assert_eq!(pending(addr, &cashier).len(), 2);

        // The installer accepts the spike: exactly its interval is charged.
        let r = post(&accept_spike, &installer, json!({}));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["state"], "accepted", "{v}");
        assert_eq!(
            v["decided_by"].as_str().map(|s| s.contains("inst1")),
            Some(true),
            "{v}"
        );
        assert_eq!(v["charged_wh"], spike_wh, "{v}");
        assert_eq!(balance(&ledger, "M2"), fen(spike_wh));

        // A second accept is refused, says who charged what, and charges nothing more.
        let r = post(&accept_spike, &installer, json!({}));
        assert_eq!(r.status, 409, "{}", r.text());
        let e = r.json();
        assert_eq!(e["code"], "already_decided", "{e}");
        let m = e["message"].as_str().unwrap_or_default();
        assert!(
            m.contains("already accepted")
                && m.contains("inst1")
                && m.contains("nothing charged again"),
            "{m}"
        );
        assert_eq!(balance(&ledger, "M2"), fen(spike_wh), "charged once");

        // The zero is a decrease: it cannot be accepted, only rejected; rejecting charges nothing.
        let r = post(
            &routes::suspect_reading_accept("M1", zero_at),
            &installer,
            json!({}),
        );
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["code"], "decrease", "{}", r.text());
        let r = post(
            &routes::suspect_reading_reject("M1", zero_at),
            &installer,
            json!({"rebaseline": false}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(
            (r.json()["state"].as_str(), r.json()["rebaseline"].as_bool()),
            (Some("rejected"), Some(false))
        );
        assert_eq!(balance(&ledger, "M1"), Fen(0), "a reject charges nothing");
        // A rejected reading cannot be accepted afterwards.
        let r = post(
            &routes::suspect_reading_accept("M1", zero_at),
            &installer,
            json!({}),
        );
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(balance(&ledger, "M1"), Fen(0));
        // An unknown reading: not found, nothing changed.
        let r = post(
            &routes::suspect_reading_accept("M1", 1),
            &installer,
            json!({}),
        );
        assert_eq!(r.status, 404, "{}", r.text());

        // Nothing pending; the decided ones are still listed with `all`.
        assert!(pending(addr, &cashier).is_empty());
        let r = http(
            addr,
            "GET",
            &format!("{}?all=true", routes::SUSPECT_READINGS),
            Some(&cashier),
            None,
        );
        let all = r.json();
        assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");

        // Audited: one accept and one reject, by the installer; refusals left no entry.
        let audit = voltvend::auth::audit::recent(&store, 100).expect("audit");
        let decided: Vec<(String, String)> = audit
            .iter()
            .filter(|a| a.action.starts_with("field.suspect_reading."))
            .map(|a| (a.action.clone(), format!("{:?}", a.actor)))
            .collect();
        assert_eq!(decided.len(), 2, "{decided:?}");
        assert!(
            decided
                .iter()
                .any(|(a, _)| a == "field.suspect_reading.accept"),
            "{decided:?}"
        );
        assert!(
            decided
                .iter()
                .any(|(a, _)| a == "field.suspect_reading.reject"),
            "{decided:?}"
        );
        assert!(
            decided.iter().all(|(_, who)| who.contains("inst1")),
            "{decided:?}"
        );
    })
    .await;
    daemon.stop().await;
}
