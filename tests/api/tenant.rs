//! Tenant API against a real daemon: login, wrong PIN, lockout after 5 failures, JSON
//! errors, views, usage, the top-up flow through the sandbox, idempotent confirmation
//! (twice and after a restart), receipts and their signature, remote switch refusals.

use serde_json::json;

use crate::support::http::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_login_wrong_pin_and_lockout_after_five_failures() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        // Unknown unit and wrong PIN look the same and count down.
        for left in (1..=4).rev() {
            let r = http(
                a,
                "POST",
                "/api/v1/tenant/login",
                None,
                Some(&json!({"unit": "A-102", "pin": "9999"})),
            );
            assert_eq!(r.status, 401, "{}", r.text());
            let j = r.json();
            assert_eq!(j["code"], "bad_credentials");
            assert_eq!(j["attempts_left"], left);
            assert!(j["message"].as_str().unwrap().contains("tries left"));
        }
        let r = http(
            a,
            "POST",
            "/api/v1/tenant/login",
            None,
            Some(&json!({"unit": "a-102", "pin": "0000"})),
        );
        assert_eq!(r.status, 423, "{}", r.text());
        assert_eq!(r.json()["code"], "locked");
        assert!(r.json()["until"].is_string());
        // Even the right PIN is refused while locked.
        let r = http(
            a,
            "POST",
            "/api/v1/tenant/login",
            None,
            Some(&json!({"unit": "A-102", "pin": "1234"})),
        );
        assert_eq!(r.status, 423);
        // Another unit is not affected; a good login resets nothing it should not.
        let t = tenant_login(a, "A-101", "1234");
        let me = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        assert_eq!(me["units"], json!(["A-101"]));
        assert_eq!(me["balance_fen"], 18650);
        assert_eq!(me["status"], "normal");
        assert!(!me["meters"].as_array().unwrap().is_empty());
        // Routes need a token; a bad token is a JSON 401.
        let r = http(a, "GET", "/api/v1/tenant/me", Some("nope"), None);
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["code"], "unauthorized");
        // Logout revokes.
        assert_eq!(
            http(a, "POST", "/api/v1/tenant/logout", Some(&t), None).status,
            204
        );
        assert_eq!(
            http(a, "GET", "/api/v1/tenant/me", Some(&t), None).status,
            401
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_colours_usage_and_switch_refusals() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        // The seed puts units A-102..A-104 at alarm 1, alarm 2 and arrears.
        for (unit, status) in [
            ("A-102", "alarm1"),
            ("A-103", "alarm2"),
            ("A-104", "arrears"),
        ] {
            let t = tenant_login(a, unit, "1234");
            let me = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json();
            assert_eq!(me["status"], status, "{unit}: {me}");
        }
        let t = tenant_login(a, "A-104", "1234");
        let me = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        assert_eq!(me["balance_fen"], -2500);
        let m = me["meters"][0]["meter"].as_str().unwrap().to_string();
        assert_eq!(me["meters"][0]["switch_refused"]["code"], "in_arrears");
        let r = http(
            a,
            "POST",
            &format!("/api/v1/tenant/meters/{m}/switch"),
            Some(&t),
            Some(&json!({"on": false})),
        );
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(r.json()["code"], "in_arrears");
        assert!(r.json()["message_en"].as_str().unwrap().contains("arrears"));
        // A meter that is not yours.
        let t1 = tenant_login(a, "A-101", "1234");
        let r = http(
            a,
            "POST",
            &format!("/api/v1/tenant/meters/{m}/switch"),
            Some(&t1),
            Some(&json!({"on": false})),
        );
        assert_eq!(r.status, 404);
        // Your own meter, in credit: queued.
        let me1 = http(a, "GET", "/api/v1/tenant/me", Some(&t1), None).json();
        let m1 = me1["meters"][0]["meter"].as_str().unwrap().to_string();
        let r = http(
            a,
            "POST",
            &format!("/api/v1/tenant/meters/{m1}/switch"),
            Some(&t1),
            Some(&json!({"on": false})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.json()["command_id"].as_u64().unwrap() > 0);
        // Usage: 90 days asked, 90 days returned, recent days non-zero.
        let u = http(a, "GET", "/api/v1/tenant/usage?days=90", Some(&t1), None).json();
        let days = u["days"].as_array().unwrap();
        assert_eq!(days.len(), 90);
        assert!(days[88]["wh"].as_i64().unwrap() > 0, "{:?}", &days[85..]);
        assert_eq!(
            days[0]["wh"], 0,
            "no readings that far back in the test seed"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_up_is_credited_once_even_if_confirmed_twice_or_after_restart() {
    let mut site = start_site().await;
    let a = site.addr;
    let (order, t) = blocking(move || {
        let t = tenant_login(a, "A-101", "1234");
        // Over the cap is refused before paying, with the largest amount allowed.
        let r = start_topup(a, &t, 300_000, "big");
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["code"], "over_cap");
        assert_eq!(r.json()["max_fen"], 300_000 - 18_650);
        let r = start_topup(a, &t, 10_000, "k1");
        assert_eq!(r.status, 200, "{}", r.text());
        let o = r.json();
        assert_eq!(o["state"], "waiting");
        assert!(o["qr_svg"].as_str().unwrap().contains("<svg"));
        // Same key: same order.
        let again = start_topup(a, &t, 10_000, "k1").json();
        assert_eq!(again["order_id"], o["order_id"]);
        (o["order_id"].as_str().unwrap().to_string(), t)
    })
    .await;

    // The payer approves: the sandbox signs a notification, which we keep to replay.
    let sandbox = site.daemon.as_ref().unwrap().state.sandbox.clone().unwrap();
    let (body, sig) = sandbox.decide(&order, true).unwrap();
    let (b, s, o) = (body.clone(), sig.clone(), order.clone());
    blocking(move || {
        let notify = |b: &[u8], s: &str| {
            raw(
                a,
                "POST",
                "/api/v1/payments/notify/sandbox",
                None,
                Some(b.to_vec()),
                &[("X-Signature", s)],
            )
        };
        // A tampered notification is refused and changes nothing.
        let tampered = String::from_utf8(b.clone())
            .unwrap()
            .replace("10000", "99900");
        let r = notify(tampered.as_bytes(), &s);
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(r.json()["code"], "bad_signature");
        // Delivered twice: one sale.
        assert_eq!(notify(&b, &s).text(), "success");
        assert_eq!(notify(&b, &s).text(), "success");
        let me = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        assert_eq!(me["balance_fen"], 18_650 + 10_000);
        let st = http(
            a,
            "GET",
            &format!("/api/v1/tenant/topups/{o}"),
            Some(&t),
            None,
        )
        .json();
        assert_eq!(st["state"], "paid");
        assert_eq!(st["balance_after_fen"], 28_650);
        let p = http(a, "GET", "/api/v1/tenant/purchases", Some(&t), None).json();
        assert_eq!(p.as_array().unwrap().len(), 1, "{p}");
        assert_eq!(p[0]["amount_fen"], 10_000);
        assert_eq!(p[0]["receipt_no"], st["receipt_no"]);
    })
    .await;

    // The receipt came out of the printer with a QR code that verifies.
    let bin = loop {
        let found = std::fs::read_dir(&site.receipts)
            .unwrap()
            .flatten()
            .map(|f| f.path())
            .find(|p| p.extension().is_some_and(|e| e == "bin"));
        if let Some(p) = found {
            break p;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let decoded = voltvend::receipt::decode(&std::fs::read(&bin).unwrap()).unwrap();
    let text = decoded.preview();
    assert!(
        text.contains("100.00 元") && text.contains("286.50 元") && text.contains("A-101"),
        "{text}"
    );
    let url = decoded.qr[0].clone();
    let path = url.split_once(&a.to_string()).unwrap().1.to_string();
    let (good, forged) = blocking(move || {
        (
            http(a, "GET", &path, None, None),
            http(a, "GET", &path.replace("sig=", "sig=00"), None, None),
        )
    })
    .await;
    assert_eq!(good.status, 200);
    assert!(good.text().contains("Genuine receipt"));
    assert_eq!(forged.status, 404);
    assert!(forged.text().contains("Not genuine"));

    // Restart the daemon on the same store and deliver the notification once more.
    let db = site.db();
    site.daemon.take().unwrap().stop().await;
    let d = start_on(db, site.printer, false).await;
    let a2 = d.addr;
    blocking(move || {
        let r = raw(
            a2,
            "POST",
            "/api/v1/payments/notify/sandbox",
            None,
            Some(body),
            &[("X-Signature", &sig)],
        );
        assert_eq!(r.text(), "success");
        let t = tenant_login(a2, "A-101", "1234");
        let me = http(a2, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        assert_eq!(
            me["balance_fen"], 28_650,
            "credited exactly once across a restart"
        );
        let st = http(
            a2,
            "GET",
            &format!("/api/v1/tenant/topups/{order}"),
            Some(&t),
            None,
        )
        .json();
        assert_eq!(st["state"], "paid");
    })
    .await;
    d.stop().await;
}
