//! Alarms and SMS through the operator API on a real daemon: the engine and the SMS sender
//! run as daemon tasks (`Daemon::run_alarms`) with a simulated GSM modem on a pty; active
//! alarms with a kind filter, acknowledgement (audited, viewers refused), history, and the
//! SMS queue with what the modem delivered.

use std::time::{Duration, Instant};

use serde_json::Value;
use voltvend::alarm::sms::sender::SenderConfig;
use voltvend::sim::modem::SimModem;

use crate::support::field::alarm_config;
use crate::support::http::*;

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_and_sms_through_the_operator_api() {
    let mut site = start_site().await;
    let modem = SimModem::spawn(Some(site.dir.path().join("sms"))).expect("modem");
    let mut sender = SenderConfig::new(&modem.path.display().to_string(), 115_200, None);
    sender.poll = Duration::from_millis(200);
    site.daemon.as_mut().expect("daemon").run_alarms(
        alarm_config("测试广场", Duration::from_millis(200)),
        Some(sender),
    );
    let a = site.addr;
    let delivered = blocking(move || {
        let t = demo_admin_token(a, "alarms-pw-1");

        // The engine's first pass raises the seeded tenants' balance alarms; the sender
        // texts each of them through the modem.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (alarms, sms) = loop {
            let alarms = list(&http(a, "GET", "/api/v1/alarms", Some(&t), None).json());
            let sms = list(&http(a, "GET", "/api/v1/sms", Some(&t), None).json());
            let balance = alarms
                .iter()
                .filter(|x| {
                    ["level1", "level2", "arrears"].contains(&x["kind"].as_str().unwrap_or(""))
                })
                .count();
            if balance > 0 && sms.len() == balance && sms.iter().all(|m| m["state"] == "sent") {
                break (alarms, sms);
            }
            assert!(Instant::now() < deadline, "alarms {alarms:?}\nsms {sms:?}");
            std::thread::sleep(Duration::from_millis(100));
        };
        // Once per crossing: one alarm per (kind, subject), one SMS per balance alarm.
        let mut keys: Vec<(String, String)> = alarms
            .iter()
            .map(|x| (x["kind"].to_string(), x["subject"].to_string()))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), alarms.len());
        for m in &sms {
            let id = m["alarm"].as_u64().expect("sms tells of an alarm");
            assert!(alarms.iter().any(|x| x["id"] == id), "{m}");
            assert!(
                m["text"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("【测试广场】")),
                "{m}"
            );
            assert_eq!(m["parts"], 1);
        }

        // Kind filter, and a precise error for an unknown kind.
        let arrears = list(&http(a, "GET", "/api/v1/alarms?kind=arrears", Some(&t), None).json());
        assert!(!arrears.is_empty());
        assert!(arrears.iter().all(|x| x["kind"] == "arrears"));
        let r = http(a, "GET", "/api/v1/alarms?kind=fire", Some(&t), None);
        assert_eq!(r.status, 400);
        assert!(r.text().contains("fire"), "{}", r.text());

        // Acknowledge: recorded, audited; a balance alarm stays active until paid.
        let id = arrears[0]["id"].as_u64().expect("id");
        let r = http(
            a,
            "POST",
            &format!("/api/v1/alarms/{id}/ack"),
            Some(&t),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let acked = r.json();
        assert_eq!(acked["acked_by"], "op:admin");
        assert_eq!(acked["active"], true);
        let r = http(a, "POST", "/api/v1/alarms/999999/ack", Some(&t), None);
        assert_eq!(r.status, 404);
        let mut after = 0;
        let mut audited = false;
        loop {
            let page = list(
                &http(
                    a,
                    "GET",
                    &format!("/api/v1/audit?after={after}&limit=5000"),
                    Some(&t),
                    None,
                )
                .json(),
            );
            let Some(last) = page.last() else { break };
            after = last["seq"].as_u64().expect("seq");
            audited |= page
                .iter()
                .any(|e| e["action"] == "alarm.ack" && e["detail"]["alarm"] == id);
        }
        assert!(audited, "no alarm.ack audit record for alarm {id}");

        // History holds them all.
        let history = list(&http(a, "GET", "/api/v1/alarms/history", Some(&t), None).json());
        assert!(
            alarms
                .iter()
                .all(|x| history.iter().any(|h| h["id"] == x["id"]))
        );
        let r = http(
            a,
            "GET",
            "/api/v1/alarms/history?from=yesterday",
            Some(&t),
            None,
        );
        assert_eq!(r.status, 400);
        let r = http(a, "GET", "/api/v1/alarms", None, None);
        assert_eq!(r.status, 401);
        sms
    })
    .await;
    // What the staff see as sent is what the modem delivered, text for text.
    let got = modem.delivered();
    assert_eq!(got.len(), delivered.len());
    for m in &delivered {
        assert!(
            got.iter().any(|d| Some(d.to.as_str()) == m["to"].as_str()
                && Some(d.text.as_str()) == m["text"].as_str()),
            "{m}"
        );
    }
}
