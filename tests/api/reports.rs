//! Reports through the operator API: JSON table, CSV and XLSX downloads, clear errors.

use crate::support::http::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_come_as_json_csv_and_xlsx() {
    let site = start_site().await;
    let a = site.addr;
    blocking(move || {
        let t = demo_admin_token(a, "reports-pw-1");
        let r = http(
            a,
            "GET",
            "/api/v1/reports/metering-energy?period=month",
            Some(&t),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["columns"][0]["name"], "meter (circuit)");
        let r = http(a, "GET", "/api/v1/reports/status", Some(&t), None);
        assert_eq!(r.status, 200, "{}", r.text());
        let j = r.json();
        assert_eq!(j["columns"][0]["name"], "meter");
        assert_eq!(j["rows"].as_array().map(|r| r.len()), Some(101));
        let r = http(
            a,
            "GET",
            "/api/v1/reports/energy?group=building&format=csv",
            Some(&t),
            None,
        );
        assert_eq!(r.status, 200);
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("content-type: text/csv"),
            "{}",
            r.head
        );
        assert!(r.head.contains("report.csv"));
        assert_eq!(&r.body[..3], &[0xEF, 0xBB, 0xBF]);
        let r = http(
            a,
            "GET",
            "/api/v1/reports/sales?period=month&format=xlsx",
            Some(&t),
            None,
        );
        assert_eq!(r.status, 200);
        assert_eq!(&r.body[..2], b"PK", "not an xlsx (zip) file");
        let r = http(a, "GET", "/api/v1/reports/nope", Some(&t), None);
        assert_eq!(r.status, 404);
        let r = http(
            a,
            "GET",
            "/api/v1/reports/energy?from=2026-13-01",
            Some(&t),
            None,
        );
        assert_eq!(r.status, 400);
        assert!(
            r.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("--from '2026-13-01'"))
        );
        assert_eq!(
            http(a, "GET", "/api/v1/reports/status", None, None).status,
            401
        );
    })
    .await;
}
