//! Operator API against a real daemon: login, first-login password change, roles (a viewer
//! cannot sell, a cashier cannot command meters), idempotent cashier sales with receipts,
//! the hoarding cap, meter commands into the outbox, staff locks seen by the tenant, the
//! audit trail, the OpenAPI document and the Unix socket.

use serde_json::{Value, json};
use std::net::SocketAddr;
use voltvend::daemon::seed::{DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD};

use crate::support::field::daemon_config;
use crate::support::http::*;
use crate::support::store::temp_db;

fn login(a: SocketAddr, name: &str, password: &str) -> Resp {
    http(
        a,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": name, "password": password})),
    )
}

/// Logs in and changes the first-login password; returns the token.
fn first_login(a: SocketAddr, name: &str, password: &str, new: &str) -> String {
    let r = login(a, name, password);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["must_change_password"], true);
    let t = r.json()["token"].as_str().unwrap().to_string();
    let blocked = http(a, "GET", "/api/v1/meters", Some(&t), None);
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.json()["code"], "must_change_password");
    let r = http(
        a,
        "POST",
        "/api/v1/password",
        Some(&t),
        Some(&json!({"old_password": password, "new_password": new})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    // A password change ends the operator's sessions: log in again with the new one.
    let r = login(a, name, new);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["must_change_password"], false);
    let _ = t;
    r.json()["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_sales_commands_locks_and_audit() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        // Wrong password: JSON 401 with a stable code.
        let r = login(a, DEMO_OPERATOR, "nope-nope");
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["code"], "bad_credentials");
        let admin = first_login(a, DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD, "admin-pass-2");
        let who = http(a, "GET", "/api/v1/whoami", Some(&admin), None).json();
        assert_eq!(who["role"], "admin");
        assert!(who["permissions"].as_array().unwrap().contains(&json!("manage_operators")));

        // The admin adds a viewer and a cashier.
        for (name, role) in [("vera", "viewer"), ("carl", "cashier")] {
            let r = http(a, "POST", "/api/v1/operators", Some(&admin), Some(&json!({"name": name, "role": role, "password": "first-pass-1"})));
            assert_eq!(r.status, 201, "{}", r.text());
        }
        let viewer = first_login(a, "vera", "first-pass-1", "viewer-pass-2");
        let cashier = first_login(a, "carl", "first-pass-1", "cashier-pass-2");

        // A viewer reads but cannot sell.
        let meters = http(a, "GET", "/api/v1/meters", Some(&viewer), None).json();
        assert!(meters.as_array().unwrap().len() > 80);
        let sale = json!({"tenant": "T0001", "amount_fen": 5000, "method": "cash", "idempotency_key": "s1"});
        let r = http(a, "POST", "/api/v1/sales", Some(&viewer), Some(&sale));
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.json()["code"], "forbidden");
        assert!(r.json()["message"].as_str().unwrap().contains("sell"));
        assert_eq!(http(a, "GET", "/api/v1/audit", Some(&viewer), None).status, 403);
        assert_eq!(http(a, "GET", "/api/v1/operators", Some(&viewer), None).status, 403);

        // A cashier sells; the retry with the same key is answered with the first sale.
        let r1 = http(a, "POST", "/api/v1/sales", Some(&cashier), Some(&sale));
        assert_eq!(r1.status, 200, "{}", r1.text());
        let r2 = http(a, "POST", "/api/v1/sales", Some(&cashier), Some(&sale));
        assert_eq!(r1.json()["op"], r2.json()["op"]);
        assert_eq!(r1.json()["receipt_no"], r2.json()["receipt_no"]);
        assert_eq!(r1.json()["balance_after_fen"], 18_650 + 5_000);
        assert_eq!(r1.json()["print"]["state"], "printed");
        let t = http(a, "GET", "/api/v1/tenants/T0001", Some(&cashier), None).json();
        assert_eq!(t["balance_fen"], 23_650, "charged once");
        // The hoarding cap: refused, naming the cap and the largest allowed sale.
        let big = json!({"tenant": "T0001", "amount_fen": 290_000, "method": "cash", "idempotency_key": "s2"});
        let r = http(a, "POST", "/api/v1/sales", Some(&cashier), Some(&big));
        assert_eq!(r.status, 422, "{}", r.text());
        let m = r.json()["message"].as_str().unwrap().to_string();
        assert!(m.contains("3000.00") || m.contains("3,000.00"), "{m}");
        assert!(m.contains("2763.50") || m.contains("2,763.50"), "{m}");
        // The receipt list shows the sale's receipt; no failed prints.
        let rs = http(a, "GET", "/api/v1/receipts?tenant=T0001", Some(&cashier), None).json();
        assert_eq!(rs[0]["receipt_no"], r1.json()["receipt_no"]);
        assert_eq!(http(a, "GET", "/api/v1/receipts?failed=true", Some(&cashier), None).json(), json!([]));
        // Reverse it (冲正), once.
        let op = r1.json()["op"].as_u64().unwrap();
        let rev = json!({"op": op, "reason": "wrong tenant", "idempotency_key": "rv1"});
        let r = http(a, "POST", "/api/v1/reversals", Some(&cashier), Some(&rev));
        assert_eq!(r.status, 200, "{}", r.text());
        let rev2 = json!({"op": op, "reason": "again", "idempotency_key": "rv2"});
        let r = http(a, "POST", "/api/v1/reversals", Some(&cashier), Some(&rev2));
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains("already reversed"));

        // A cashier cannot command meters; the admin can, and the command is queued.
        let meter = meters[0]["meter"].as_str().unwrap().to_string();
        let cmd = json!({"command": "trip"});
        let r = http(a, "POST", &format!("/api/v1/meters/{meter}/commands"), Some(&cashier), Some(&cmd));
        assert_eq!(r.status, 403);
        let r = http(a, "POST", &format!("/api/v1/meters/{meter}/commands"), Some(&admin), Some(&cmd));
        assert_eq!(r.status, 200, "{}", r.text());
        let id = r.json()["id"].clone();
        let outbox = http(a, "GET", "/api/v1/outbox", Some(&viewer), None).json();
        assert!(outbox.as_array().unwrap().iter().any(|e| e["id"] == id && e["command"] == "trip"), "{outbox}");
        let r = http(a, "POST", &format!("/api/v1/meters/{meter}/commands"), Some(&admin), Some(&json!({"command": "explode"})));
        assert_eq!(r.status, 400);
        assert!(r.json()["message"].as_str().unwrap().contains("one of read, trip, close"));

        // A staff lock: the tenant sees why and cannot switch.
        let r = http(a, "POST", &format!("/api/v1/meters/{meter}/lock"), Some(&admin), Some(&json!({"reason": "maintenance"})));
        assert_eq!(r.status, 200, "{}", r.text());
        let owner = meters[0]["unit"].as_str().unwrap().to_string();
        let tt = tenant_login(a, &owner, "1234");
        let r = http(a, "POST", &format!("/api/v1/tenant/meters/{meter}/switch"), Some(&tt), Some(&json!({"on": false})));
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["code"], "locked_by_staff");
        assert!(r.json()["message_en"].as_str().unwrap().contains("maintenance"));
        assert_eq!(http(a, "DELETE", &format!("/api/v1/meters/{meter}/lock"), Some(&admin), None).status, 204);
        let r = http(a, "POST", &format!("/api/v1/tenant/meters/{meter}/switch"), Some(&tt), Some(&json!({"on": false})));
        assert_eq!(r.status, 200, "{}", r.text());

        // Every change is in the audit log, refused tenant switches too.
        let audit = http(a, "GET", "/api/v1/audit?limit=5000", Some(&admin), None).json();
        let actions: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        for want in ["operator.add", "meter.command", "meter.lock", "meter.unlock", "tenant.switch_refused", "tenant.switch"] {
            assert!(actions.contains(&want), "no {want} in {actions:?}");
        }
        // A tenant token does not open the operator API, and vice versa.
        assert_eq!(http(a, "GET", "/api/v1/meters", Some(&tt), None).status, 403);
        assert_eq!(http(a, "GET", "/api/v1/tenant/me", Some(&admin), None).status, 403);
        // Logout ends the operator session.
        assert_eq!(http(a, "POST", "/api/v1/logout", Some(&viewer), None).status, 204);
        assert_eq!(http(a, "GET", "/api/v1/meters", Some(&viewer), None).status, 401);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_route_and_metrics_count() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        let doc: Value = http(a, "GET", "/api/v1/openapi.json", None, None).json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/login",
            "/api/v1/password",
            "/api/v1/operators",
            "/api/v1/status",
            "/api/v1/meters",
            "/api/v1/meters/{meter}/commands",
            "/api/v1/meters/{meter}/lock",
            "/api/v1/tenants/{tenant}",
            "/api/v1/accounts",
            "/api/v1/accounts/{tenant}/close",
            "/api/v1/sales",
            "/api/v1/refunds",
            "/api/v1/reversals",
            "/api/v1/operations",
            "/api/v1/receipts",
            "/api/v1/site/settings",
            "/api/v1/audit",
            "/api/v1/outbox",
            "/api/v1/gateways",
            "/api/v1/topups",
            "/api/v1/tenant/login",
            "/api/v1/tenant/me",
            "/api/v1/tenant/usage",
            "/api/v1/tenant/topups",
            "/api/v1/tenant/topups/{order_id}",
            "/api/v1/tenant/meters/{meter}/switch",
            "/api/v1/payments/notify/{provider}",
        ] {
            assert!(paths.contains_key(p), "OpenAPI lacks {p}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        assert!(doc["components"]["schemas"]["TenantView"].is_object());
        // The served document is the one checked in (what integrators and the console read).
        let file = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
        let checked_in: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap_or_default())
                .unwrap_or_default();
        assert!(
            doc == checked_in,
            "the served /api/v1/openapi.json differs from docs/openapi.json: run `{}` and commit it",
            voltvend::api::openapi::REGENERATE
        );
        // Metrics in the Prometheus text format.
        let _ = http(
            a,
            "POST",
            "/api/v1/tenant/login",
            None,
            Some(&json!({"unit": "A-101", "pin": "0000"})),
        );
        let m = http(a, "GET", "/metrics", None, None);
        assert!(m.head.contains("text/plain; version=0.0.4"));
        let text = m.text();
        assert!(text.contains("# TYPE voltvend_http_requests_total counter"));
        assert!(
            text.contains("voltvend_tenant_login_failures_total 1"),
            "{text}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_api_answers_on_the_unix_socket() {
    let (dir, db) = temp_db();
    let sock = dir.path().join("api.sock");
    let store = voltvend::store::Store::open(&db).unwrap();
    let ledger = voltvend::ledger::Ledger::open(store.clone()).unwrap();
    let d = voltvend::daemon::Daemon::start_with(
        voltvend::daemon::DaemonConfig {
            socket: Some(sock.clone()),
            ..daemon_config(&db)
        },
        store,
        ledger,
        voltvend::field::live::LiveState::new(),
    )
    .await
    .unwrap();
    let s2 = sock.clone();
    let (health, tenant) = blocking(move || {
        use std::io::{Read, Write};
        let ask = |path: &str| {
            let mut c = std::os::unix::net::UnixStream::connect(&s2).unwrap();
            write!(
                c,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).unwrap();
            out
        };
        (ask("/api/v1/health"), ask("/api/v1/tenant/me"))
    })
    .await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("\"status\":\"ok\""),
        "{health}"
    );
    assert!(
        tenant.starts_with("HTTP/1.1 404"),
        "tenant routes are not on the staff socket: {tenant}"
    );
    d.stop().await;
    assert!(!sock.exists(), "socket removed on stop");
}
