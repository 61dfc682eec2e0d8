//! Refunds and closing through the operator API on the demo site without a field (no meter
//! answers): a refund on a meter-mode meter is answered as pending, in Chinese and English,
//! and the account cannot be closed until it is settled; a host-mode refund is paid at once.

use serde_json::json;

use crate::support::http::{blocking, demo_admin_token, http, start_site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_mode_refund_is_pending_until_its_meter_confirms() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        let admin = demo_admin_token(a, "admin-pass-2");

        // T0001 is meter-billed: the credit is withdrawn from its meter first.
        let refund = json!({"tenant": "T0001", "amount_fen": 1_000, "reason": "moving", "idempotency_key": "rf1"});
        let r = http(a, "POST", "/api/v1/refunds", Some(&admin), Some(&refund));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["balance_after_fen"], 18_650 - 1_000);
        let pending = r.json()["pending"].as_str().unwrap_or_default().to_string();
        assert!(pending.contains("退费待完成") && pending.contains("refund pending"), "{pending}");
        assert!(pending.contains("310000000001"), "names the meter: {pending}");
        // The operation records the withdrawal, and the outbox holds it.
        let ops = http(a, "GET", "/api/v1/operations?tenant=T0001", Some(&admin), None).json();
        let op = ops.as_array().unwrap().iter().find(|o| o["op"] == r.json()["op"] || o["id"] == r.json()["op"]).cloned().unwrap_or_default();
        assert!(op.to_string().contains("withdraw"), "{op}");
        let outbox = http(a, "GET", "/api/v1/outbox", Some(&admin), None).json();
        assert!(outbox.to_string().contains("withdraw_credit"), "{outbox}");
        // No closing while it waits; the refusal is in both languages.
        let r = http(a, "POST", "/api/v1/accounts/T0001/close", Some(&admin), Some(&json!({"final_charge_fen": 0, "idempotency_key": "c1"})));
        assert_eq!(r.status, 422, "{}", r.text());
        let m = r.json()["message"].as_str().unwrap().to_string();
        assert!(m.contains("销户") && m.contains("can be closed once"), "{m}");

        // T0003 is host-billed: paid at once, nothing pending.
        let refund = json!({"tenant": "T0003", "amount_fen": 500, "reason": "overpaid", "idempotency_key": "rf2"});
        let r = http(a, "POST", "/api/v1/refunds", Some(&admin), Some(&refund));
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.json().get("pending").is_none(), "{}", r.text());
    })
    .await;
}
