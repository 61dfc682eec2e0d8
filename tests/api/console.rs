//! What the staff console needs from the operator API, on the demo site's simulated
//! building (real collector, real control queue, meters that really trip): batch
//! operations, site import, adding a meter to an account, staff accounts and permissions.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use voltvend::daemon::seed::DEMO_OPERATOR;

use crate::support::demo::quick_control;
use crate::support::http::http;

fn admin_token(a: SocketAddr) -> String {
    crate::support::http::demo_admin_token(a, "batches-pw-1")
}

async fn call(
    a: SocketAddr,
    method: &str,
    path: &str,
    t: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (m, p, t) = (method.to_string(), path.to_string(), t.to_string());
    tokio::task::spawn_blocking(move || {
        let r = http(a, &m, &p, Some(&t), body.as_ref());
        let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v)
    })
    .await
    .expect("join")
}

async fn finished(a: SocketAddr, t: &str, id: u64) -> Value {
    let end = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let (s, p) = call(a, "GET", &format!("/api/v1/batches/{id}"), t, None).await;
        assert_eq!(s, 200, "{p}");
        if p["finished"] == json!(true) {
            return p;
        }
        assert!(
            std::time::Instant::now() < end,
            "batch {id} never finished: {p}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn item<'a>(p: &'a Value, meter: &str) -> &'a Value {
    p["items"]
        .as_array()
        .and_then(|i| i.iter().find(|x| x["meter"] == meter))
        .unwrap_or_else(|| panic!("no item {meter} in {p}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_floor_is_tripped_as_a_batch_with_per_meter_results() {
    let mut site = crate::support::demo::start().await;
    site.run_control(quick_control());
    let a = site.daemon.addr;
    let t = tokio::task::spawn_blocking(move || admin_token(a))
        .await
        .expect("join");

    // A-102's meter is on keep-power (one meter, the ordinary single-meter command).
    let kp = "310000000003";
    let (s, v) = call(
        a,
        "POST",
        &format!("/api/v1/meters/{kp}/commands"),
        &t,
        Some(json!({"command": "keep_power_on"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    crate::support::wait::until("keep-power confirmed", 60, || {
        voltvend::control::keep_power(&site.store, &voltvend::site::MeterId::new(kp))
            .unwrap_or(false)
    })
    .await;

    // A bad batch is refused whole: one unknown meter, nothing queued.
    let outbox_before = voltvend::ledger::outbox::pending(&site.store)
        .expect("outbox")
        .len();
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/batches",
        &t,
        Some(json!({"command": "trip", "meters": ["310000000004", "NO-SUCH-METER"]})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("NO-SUCH-METER")),
        "{v}"
    );
    let (_, list) = call(a, "GET", "/api/v1/batches", &t, None).await;
    assert_eq!(list, json!([]));
    assert_eq!(
        voltvend::ledger::outbox::pending(&site.store)
            .expect("outbox")
            .len(),
        outbox_before
    );
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/batches",
        &t,
        Some(json!({"command": "explode", "building": "A"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");

    // Trip floor A-1: ten meters, the keep-power one skipped and said why.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/batches",
        &t,
        Some(json!({"command": "trip", "building": "A", "floor": 1})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["queued"].as_u64(), v["skipped"].as_u64()),
        (Some(9), Some(1)),
        "{v}"
    );
    let id = v["id"].as_u64().expect("id");
    let p = finished(a, &t, id).await;
    assert_eq!(p["total"], 10);
    assert_eq!(p["confirmed"], 9, "{p}");
    assert_eq!(p["failed"], 0, "{p}");
    assert_eq!(item(&p, kp)["state"], "skipped");
    assert!(
        item(&p, kp)["reason"]
            .as_str()
            .is_some_and(|r| r.contains("keep-power")),
        "{p}"
    );
    // The meters really are open; the keep-power one is not.
    for it in p["items"].as_array().expect("items") {
        let m = it["meter"].as_str().expect("meter");
        let open = site.sim_meter(m).snapshot().relay_open;
        assert_eq!(open, m != kp, "meter {m}");
    }

    // Close them again: the arrears tenant's meter stays off, said why.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/batches",
        &t,
        Some(json!({"command": "close", "building": "A", "floor": 1})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = finished(a, &t, v["id"].as_u64().expect("id")).await;
    let arrears = "310000000006";
    assert_eq!(item(&p, arrears)["state"], "skipped", "{p}");
    assert!(site.sim_meter(arrears).snapshot().relay_open);
    assert_eq!(p["failed"], 0, "{p}");
    assert_eq!(p["confirmed"], 9, "{p}");

    // "Read status now" over two marked meters.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/batches",
        &t,
        Some(json!({"command": "read", "meters": ["310000000004", "310000000005"]})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let p = finished(a, &t, v["id"].as_u64().expect("id")).await;
    assert_eq!(p["confirmed"], 2, "{p}");

    // One meter's history, newest first: the close, the trip, the keep-power.
    let (s, h) = call(a, "GET", "/api/v1/meters/310000000004/commands", &t, None).await;
    assert_eq!(s, 200, "{h}");
    let cmds: Vec<(&str, &str)> = h
        .as_array()
        .expect("history")
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap_or(""),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        &cmds[..3],
        &[
            ("read", "confirmed"),
            ("close", "confirmed"),
            ("trip", "confirmed")
        ],
        "{h}"
    );
    let (_, kh) = call(a, "GET", &format!("/api/v1/meters/{kp}/commands"), &t, None).await;
    // Oldest last: the keep-power this test asked for, by the operator who asked.
    let first = kh.as_array().and_then(|l| l.last()).expect("history");
    assert_eq!(first["command"], "keep_power_on", "{kh}");
    assert_eq!(first["by"], format!("op:{DEMO_OPERATOR}"), "{kh}");

    let (_, list) = call(a, "GET", "/api/v1/batches", &t, None).await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(3), "{list}");
    assert_eq!(list[0]["command"], "read");
    // Each batch is in the audit log.
    let (_, audit) = call(a, "GET", "/api/v1/audit?newest=true&limit=50", &t, None).await;
    let batches = audit
        .as_array()
        .map(|l| l.iter().filter(|e| e["action"] == "control.batch").count());
    assert_eq!(batches, Some(3), "{audit}");
    let seqs: Vec<u64> = audit
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_checks_the_whole_file_and_a_meter_joins_an_open_account() {
    let site = crate::support::demo::start().await;
    let a = site.daemon.addr;
    let t = tokio::task::spawn_blocking(move || admin_token(a))
        .await
        .expect("join");
    let meters_before = voltvend::site::repo::list_meters(&site.store)
        .expect("meters")
        .len();

    // Two bad rows: both reported with file, line and column; nothing imported.
    let bad = site.dir.path().join("meters-bad.csv");
    std::fs::write(
        &bad,
        "id,address,protocol,profile,gateway,bus,unit\n\
         A101-2,77,modbus,generic-modbus,GW1,1,A-101\n\
         A101-3,300,modbus,generic-modbus,GW1,1,A-101\n\
         A101-4,78,modbus,generic-modbus,GW9,1,A-101\n",
    )
    .expect("write");
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/site/import",
        &t,
        Some(json!({"kind": "meters", "path": bad.display().to_string()})),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["code"], "invalid_file");
    let problems: Vec<String> = v["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0]
            .ends_with("meters-bad.csv:3: column 'address': '300' is not a valid address (1-247)"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("meters-bad.csv:4: column 'gateway'"),
        "{problems:?}"
    );
    assert_eq!(
        voltvend::site::repo::list_meters(&site.store)
            .expect("meters")
            .len(),
        meters_before
    );
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/site/import",
        &t,
        Some(json!({"kind": "meters", "path": "relative.csv"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");

    // A clean file: the dry run counts, the import writes.
    let good = site.dir.path().join("meters.csv");
    std::fs::write(
        &good,
        "id,address,protocol,profile,gateway,bus,unit\nA101-2,77,modbus,generic-modbus,GW1,1,A-101\n",
    )
    .expect("write");
    for (dry, added_after) in [(true, 0), (false, 1)] {
        let (s, v) = call(
            a,
            "POST",
            "/api/v1/site/import",
            &t,
            Some(json!({"kind": "meters", "path": good.display().to_string(), "dry_run": dry})),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["added"], 1, "{v}");
        assert_eq!(
            voltvend::site::repo::list_meters(&site.store)
                .expect("meters")
                .len(),
            meters_before + added_after
        );
    }

    // The new meter joins A-101's open account; the tenant view lists it.
    let (_, tenants) = call(a, "GET", "/api/v1/tenants", &t, None).await;
    let tenant = tenants
        .as_array()
        .and_then(|l| l.iter().find(|x| x["units"][0] == "A-101"))
        .and_then(|x| x["tenant"].as_str())
        .expect("A-101's tenant")
        .to_string();
    let (s, v) = call(
        a,
        "POST",
        &format!("/api/v1/accounts/{tenant}/meters"),
        &t,
        Some(json!({"meter": "A101-2", "idempotency_key": "add-1"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["balance_after_fen"], 18_650, "{v}");
    let (_, view) = call(a, "GET", &format!("/api/v1/tenants/{tenant}"), &t, None).await;
    assert!(
        view["meters"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x["meter"] == "A101-2")),
        "{view}"
    );
    // Twice is refused (already on the account), not counted twice.
    let (s, v) = call(
        a,
        "POST",
        &format!("/api/v1/accounts/{tenant}/meters"),
        &t,
        Some(json!({"meter": "A101-2", "idempotency_key": "add-2"})),
    )
    .await;
    assert!(s >= 400, "{s} {v}");
    let (s, v) = call(a, "GET", "/api/v1/tariffs", &t, None).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["name"], "default", "{v}");
    assert_eq!(v[0]["tariff"]["kind"], "flat", "{v}");
    let (s, v) = call(a, "GET", "/api/v1/buildings", &t, None).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["building"], "A", "{v}");
    assert!(v[0]["meters"].as_u64().is_some_and(|n| n > 40), "{v}");
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_accounts_are_managed_and_the_permission_table_is_served() {
    let site = crate::support::demo::start().await;
    let a = site.daemon.addr;
    let t = tokio::task::spawn_blocking(move || admin_token(a))
        .await
        .expect("join");
    let (s, roles) = call(a, "GET", "/api/v1/roles", &t, None).await;
    assert_eq!(s, 200);
    let allows = |role: &str| -> Vec<String> {
        roles
            .as_array()
            .and_then(|r| r.iter().find(|x| x["role"] == role))
            .map(|x| serde_json::from_value(x["allows"].clone()).unwrap_or_default())
            .unwrap_or_default()
    };
    assert_eq!(allows("viewer"), vec!["read_all"]);
    assert!(allows("cashier").contains(&"sell".to_string()));
    assert!(!allows("cashier").contains(&"command_meters".to_string()));
    assert_eq!(allows("admin").len(), 12);

    // A new cashier with a generated password, which must be changed at first login.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/operators",
        &t,
        Some(json!({"name": "cashier7", "role": "cashier"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let pw = v["password"]
        .as_str()
        .expect("generated password")
        .to_string();
    let login = |pw: String| async move {
        let b = json!({"name": "cashier7", "password": pw});
        tokio::task::spawn_blocking(move || http(a, "POST", "/api/v1/login", None, Some(&b)))
            .await
            .expect("join")
    };
    let r = login(pw.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["must_change_password"], true);

    // Reset: the old password stops working, the new one works.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/operators/cashier7/reset-password",
        &t,
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let pw2 = v["password"].as_str().expect("password").to_string();
    assert_ne!(pw, pw2);
    assert_eq!(login(pw).await.status, 401);
    assert_eq!(login(pw2.clone()).await.status, 200);

    // Role change and disable; a disabled operator cannot log in; the last admin stays.
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/operators/cashier7",
        &t,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/operators/cashier7",
        &t,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(login(pw2).await.status, 401);
    let (_, ops) = call(a, "GET", "/api/v1/operators", &t, None).await;
    let c7 = ops
        .as_array()
        .and_then(|o| o.iter().find(|x| x["name"] == "cashier7"))
        .expect("cashier7")
        .clone();
    assert_eq!(
        (c7["role"].clone(), c7["disabled"].clone()),
        (json!("viewer"), json!(true))
    );
    let (s, v) = call(
        a,
        "POST",
        &format!("/api/v1/operators/{DEMO_OPERATOR}"),
        &t,
        Some(json!({"disabled": true})),
    )
    .await;
    assert!(s >= 400, "the only admin was disabled: {v}");
    let (s, _) = call(
        a,
        "POST",
        "/api/v1/operators/nobody",
        &t,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(s, 404);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tariffs_are_checked_set_and_removed_through_the_api() {
    let site = crate::support::demo::start().await;
    let a = site.daemon.addr;
    let t = tokio::task::spawn_blocking(move || admin_token(a))
        .await
        .expect("join");
    let names = |v: &Value| -> Vec<(String, String)> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                (
                    x["name"].as_str().unwrap_or("").to_string(),
                    x["summary"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let shops = json!({"kind": "flat", "price": "0.9"});

    // A dry run compares and stores nothing.
    let body = json!({"name": "shops", "tariff": shops, "dry_run": true});
    let (s, v) = call(a, "POST", "/api/v1/tariffs", &t, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["change"].clone(), v["before"].clone(), v["after"].clone()),
        (json!("added"), Value::Null, json!("flat 0.9000 ¥/kWh"))
    );
    let (_, list) = call(a, "GET", "/api/v1/tariffs", &t, None).await;
    assert_eq!(
        names(&list),
        vec![("default".to_string(), "flat 1.2000 ¥/kWh".to_string())]
    );

    // Stored, then the same again is unchanged.
    let body = json!({"name": "shops", "tariff": shops});
    let (s, v) = call(a, "POST", "/api/v1/tariffs", &t, Some(body.clone())).await;
    assert_eq!((s, v["change"].clone()), (200, json!("added")), "{v}");
    let (s, v) = call(a, "POST", "/api/v1/tariffs", &t, Some(body)).await;
    assert_eq!((s, v["change"].clone()), (200, json!("unchanged")), "{v}");
    let (_, list) = call(a, "GET", "/api/v1/tariffs", &t, None).await;
    assert!(names(&list).contains(&("shops".to_string(), "flat 0.9000 ¥/kWh".to_string())));

    // A bad tariff: one message, nothing changed.
    let bad = json!({"name": "shops", "tariff": {"kind": "flat", "price": "-0.1"}});
    let (s, v) = call(a, "POST", "/api/v1/tariffs", &t, Some(bad)).await;
    assert_eq!(
        (s, v["code"].clone()),
        (422, json!("invalid_tariff")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("tariff 'shops'") && m.contains("negative")),
        "{v}"
    );
    let (_, again) = call(a, "GET", "/api/v1/tariffs", &t, None).await;
    assert_eq!(names(&again), names(&list));
    // Neither a file nor a tariff, or a relative path: refused before anything is read.
    let (s, _) = call(a, "POST", "/api/v1/tariffs", &t, Some(json!({"name": "x"}))).await;
    assert_eq!(s, 400);
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/tariffs",
        &t,
        Some(json!({"path": "shops.toml"})),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = call(
        a,
        "POST",
        "/api/v1/tariffs",
        &t,
        Some(json!({"path": "/nonexistent/t.toml"})),
    )
    .await;
    assert_eq!(
        (s, v["code"].clone()),
        (422, json!("unreadable_file")),
        "{v}"
    );

    // The site default cannot be removed; an unused tariff can, once.
    let (s, v) = call(a, "DELETE", "/api/v1/tariffs/default", &t, None).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = call(a, "DELETE", "/api/v1/tariffs/shops", &t, None).await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(a, "DELETE", "/api/v1/tariffs/shops", &t, None).await;
    assert_eq!(s, 404);
}
