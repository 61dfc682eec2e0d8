//! The office's lists on the demo site without a field (no meter answers): a refund on a
//! meter-mode meter is listed as pending with its withdrawal's state and the zh/en message
//! until its meter confirms; a tenant id closed and opened again shows both accounts, the
//! closed one with its own operations; close settlements are empty until a meter-mode
//! closing records one (the field test `office_lists` shows one); reading needs a session.

use serde_json::json;

use crate::support::http::{blocking, demo_admin_token, http, start_site};
use voltvend_api_types::routes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_refunds_and_account_history_for_the_office() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        let admin = demo_admin_token(a, "admin-pass-2");
        for path in [
            routes::REFUNDS_PENDING.to_string(),
            routes::CLOSE_SETTLEMENTS.to_string(),
            routes::account_history("T0003"),
        ] {
            let r = http(a, "GET", &path, None, None);
            assert_eq!(r.status, 401, "{path}: {}", r.text());
        }
        let r = http(a, "GET", routes::REFUNDS_PENDING, Some(&admin), None);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json(), json!([]), "nothing pending on a fresh site");

        // T0001 is meter-billed: its refund waits for the meter.
        let refund = json!({"tenant": "T0001", "amount_fen": 1_000, "reason": "moving", "idempotency_key": "rf1"});
        let r = http(a, "POST", routes::REFUNDS, Some(&admin), Some(&refund));
        assert_eq!(r.status, 200, "{}", r.text());
        let op = r.json()["op"].as_u64().expect("op");
        // A host-mode refund is paid at once: never listed.
        let refund = json!({"tenant": "T0003", "amount_fen": 500, "reason": "overpaid", "idempotency_key": "rf2"});
        let r = http(a, "POST", routes::REFUNDS, Some(&admin), Some(&refund));
        assert_eq!(r.status, 200, "{}", r.text());

        let list = http(a, "GET", routes::REFUNDS_PENDING, Some(&admin), None).json();
        let list = list.as_array().expect("a list");
        assert_eq!(list.len(), 1, "{list:?}");
        let p = &list[0];
        assert_eq!(p["op"], op);
        assert_eq!(p["tenant"], "T0001");
        assert_eq!(p["meter"], "310000000001");
        assert_eq!(p["amount_fen"], 1_000);
        assert_eq!(p["reason"], "moving");
        // No control queue runs here: the withdrawal is still queued.
        assert_eq!(p["state"], "queued", "{p}");
        assert!(p["outbox"].as_u64().is_some(), "{p}");
        let m = p["message"].as_str().unwrap_or_default();
        assert!(m.contains("退费待完成") && m.contains("refund pending") && m.contains("310000000001"), "{m}");

        // No meter-mode closing yet: nothing to settle.
        let r = http(a, "GET", routes::CLOSE_SETTLEMENTS, Some(&admin), None);
        assert_eq!((r.status, r.json()), (200, json!([])), "{}", r.text());

        // T0003 closes and opens again: the history keeps the old account apart.
        let r = http(a, "POST", &routes::account_close("T0003"), Some(&admin), Some(&json!({"final_charge_fen": 0, "idempotency_key": "c3"})));
        assert_eq!(r.status, 200, "{}", r.text());
        let closed_op = r.json()["op"].as_u64().expect("op");
        let r = http(a, "POST", routes::ACCOUNTS, Some(&admin), Some(&json!({"tenant": "T0003", "idempotency_key": "o3"})));
        assert_eq!(r.status, 200, "{}", r.text());
        let reopened_op = r.json()["op"].as_u64().expect("op");
        let sale = json!({"tenant": "T0003", "amount_fen": 2_000, "method": "cash", "idempotency_key": "s3"});
        let r = http(a, "POST", routes::SALES, Some(&admin), Some(&sale));
        assert_eq!(r.status, 200, "{}", r.text());

        let r = http(a, "GET", &routes::account_history("T0003"), Some(&admin), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let h = r.json();
        assert_eq!(h["tenant"], "T0003");
        let accounts = h["accounts"].as_array().expect("accounts");
        assert_eq!(accounts.len(), 2, "{h}");
        let (old, new) = (&accounts[0], &accounts[1]);
        assert_eq!(old["status"], "closed", "{old}");
        assert_eq!(old["closed_op"], closed_op);
        assert!(old["closed_at"].is_string(), "{old}");
        let kinds = |acc: &serde_json::Value| -> Vec<String> {
            acc["operations"]
                .as_array()
                .expect("operations")
                .iter()
                // Externally tagged: `{"sale": {…}}`.
                .map(|o| match &o["detail"] {
                    serde_json::Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
                    v => v.as_str().unwrap_or_default().to_string(),
                })
                .collect()
        };
        let old_kinds = kinds(old);
        assert_eq!(old_kinds.first().map(String::as_str), Some("open_account"), "{old_kinds:?}");
        assert_eq!(old_kinds.last().map(String::as_str), Some("close_account"), "{old_kinds:?}");
        assert!(old_kinds.contains(&"refund".to_string()), "the refund of the old account: {old_kinds:?}");
        assert!(
            old["operations"].as_array().expect("ops").iter().all(|o| o["id"].as_u64() <= Some(closed_op)),
            "{old}"
        );
        assert_eq!(new["status"], "open", "{new}");
        assert_eq!(new["opened_op"], reopened_op);
        assert!(new["closed_op"].is_null(), "{new}");
        assert_eq!(kinds(new), ["open_account", "sale"], "{new}");
        assert!(!new["meters"].as_array().expect("meters").is_empty(), "{new}");

        // The limit cuts each account's list and says so.
        let r = http(a, "GET", &format!("{}?limit=1", routes::account_history("T0003")), Some(&admin), None);
        let h = r.json();
        assert_eq!(h["accounts"][0]["operations"].as_array().map(Vec::len), Some(1), "{h}");
        assert_eq!(h["accounts"][0]["truncated"], true, "{h}");

        // An id that never had an account: not found.
        let r = http(a, "GET", &routes::account_history("T9999"), Some(&admin), None);
        assert_eq!(r.status, 404, "{}", r.text());
    })
    .await;
}
