//! A tenant with two meter-mode meters (`WhichMeter` before): the cashier's sale names the
//! meter that receives the credit, a sale that names none is refused with the meters listed,
//! and the kiosk's top-up asks for the meter before any order or payment exists.

use serde_json::json;
use voltvend::auth::roles::Actor;
use voltvend::ledger::{AddMeter, Ledger, MeterAccountInit};
use voltvend::site::billing::BillingMode;
use voltvend::site::model::{MeterAddress, Protocol};
use voltvend::site::{MeterId, UnitNo, repo};
use voltvend::store::Store;

use crate::support::http::{blocking, demo_admin_token, http, start_on, start_site, tenant_login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_names_the_meter_of_a_two_meter_mode_meter_tenant() {
    let mut site = start_site().await;
    let db = site.db();
    site.daemon.take().expect("daemon").stop().await;
    // A-101 gets a second meter-mode meter on its account.
    let (first, second) = {
        let store = Store::open(&db).expect("store");
        let ledger = Ledger::open(store.clone()).expect("ledger");
        let unit = UnitNo::new("A-101");
        let tenant = repo::tenant_of_unit(&store, &unit)
            .expect("read")
            .expect("tenant");
        let m0 = repo::meters_of_unit(&store, &unit)
            .expect("meters")
            .into_iter()
            .find(|m| m.billing == BillingMode::Meter)
            .expect("a meter-mode meter");
        let mut m2 = m0.clone();
        m2.id = MeterId::new("990000000101");
        m2.address = MeterAddress::parse("990000000101", Protocol::Dlt645).expect("address");
        let txn = store.db().begin_write().expect("txn");
        repo::upsert_meter(&txn, &Actor::system("t"), &m2).expect("upsert");
        txn.commit().expect("commit");
        ledger
            .add_meter(
                &Actor::system("t"),
                "add-second",
                AddMeter {
                    tenant: tenant.id.clone(),
                    meter: MeterAccountInit {
                        meter: m2.id.clone(),
                        billing: BillingMode::Meter,
                    },
                },
            )
            .expect("add meter");
        (m0.id.to_string(), m2.id.to_string())
    };
    let d = start_on(db, site.printer, false).await;
    let a = d.addr;
    blocking(move || {
        let op = demo_admin_token(a, "a-long-new-password-1");
        let tenant_meters = |t: &str| {
            let me = http(a, "GET", "/api/v1/tenant/me", Some(t), None).json();
            me["meters"]
                .as_array()
                .expect("meters")
                .iter()
                .map(|m| {
                    (
                        m["meter"].as_str().unwrap_or("").to_string(),
                        m["purchase_count"].as_u64().unwrap_or(0),
                    )
                })
                .collect::<Vec<_>>()
        };
        let t = tenant_login(a, "A-101", "1234");
        let before = tenant_meters(&t);
        let count = |v: &[(String, u64)], m: &str| v.iter().find(|x| x.0 == m).map(|x| x.1);
        let tenant = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json()["tenant"]
            .as_str()
            .expect("tenant")
            .to_string();
        // No meter named: refused, the meters listed, nothing sold.
        let r = http(
            a,
            "POST",
            "/api/v1/sales",
            Some(&op),
            Some(
                &json!({"tenant": tenant, "amount_fen": 1_000, "method": "cash",
                "idempotency_key": "no-meter", "print": false}),
            ),
        );
        assert!(r.status >= 400, "{}", r.text());
        assert!(r.text().contains(&second), "{}", r.text());
        // The second meter named: its purchase count goes up, the first one's does not.
        let r = http(
            a,
            "POST",
            "/api/v1/sales",
            Some(&op),
            Some(
                &json!({"tenant": tenant, "amount_fen": 1_000, "method": "cash",
                "idempotency_key": "to-second", "print": false, "meter": second}),
            ),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let after = tenant_meters(&t);
        assert_eq!(
            count(&after, &second),
            count(&before, &second).map(|c| c + 1)
        );
        assert_eq!(count(&after, &first), count(&before, &first));
        // A meter that is not the tenant's: refused.
        let r = http(
            a,
            "POST",
            "/api/v1/sales",
            Some(&op),
            Some(
                &json!({"tenant": tenant, "amount_fen": 1_000, "method": "cash",
                "idempotency_key": "not-theirs", "print": false, "meter": "310000000006"}),
            ),
        );
        assert!(r.status >= 400, "{}", r.text());

        // The kiosk: a top-up without the meter is refused before any order exists, in
        // Chinese and English; with the meter the order is made.
        let r = http(
            a,
            "POST",
            "/api/v1/tenant/topups",
            Some(&t),
            Some(&json!({"amount_fen": 2_000, "idempotency_key": "k-1"})),
        );
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["code"], "which_meter");
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap_or("")
                .contains("请先选择")
        );
        assert!(
            r.json()["message_en"]
                .as_str()
                .unwrap_or("")
                .contains(&second)
        );
        assert!(r.json()["order_id"].is_null());
        let r = http(
            a,
            "POST",
            "/api/v1/tenant/topups",
            Some(&t),
            Some(&json!({"amount_fen": 2_000, "idempotency_key": "k-2", "meter": second})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["state"], "waiting");
        let r = http(
            a,
            "POST",
            "/api/v1/tenant/topups",
            Some(&t),
            Some(&json!({"amount_fen": 2_000, "idempotency_key": "k-3", "meter": "310000000006"})),
        );
        assert_eq!(r.status, 422, "{}", r.text());
        assert_eq!(r.json()["code"], "not_your_meter");
    })
    .await;
    d.stop().await;
}
