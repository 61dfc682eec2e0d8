//! Receipts on real printer links: raw TCP 9100 with the paper-status query answered by the
//! simulated printer, out of paper and offline reported (and the sale kept), a device
//! file, and the bytes read back as the paper would show them.

use voltvend::receipt::{PrintError, PrinterTarget, decode};

use crate::support::http::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_printer_reports_paper_out_and_offline_without_losing_the_sale() {
    let site = start_site().await;
    let a = site.addr;
    // The simulated printer reports an empty paper roll.
    std::fs::write(site.receipts.join("paper-out"), b"").unwrap();
    let sandbox = site.daemon.as_ref().unwrap().state.sandbox.clone().unwrap();
    let (order, t) = blocking(move || {
        let t = tenant_login(a, "A-105", "1234");
        let o = start_topup(a, &t, 2000, "p1").json();
        (o["order_id"].as_str().unwrap().to_string(), t)
    })
    .await;
    let (body, sig) = sandbox.decide(&order, true).unwrap();
    let o = order.clone();
    let t2 = t.clone();
    let st = blocking(move || {
        let r = raw(
            a,
            "POST",
            "/api/v1/payments/notify/sandbox",
            None,
            Some(body),
            &[("X-Signature", &sig)],
        );
        assert_eq!(r.text(), "success");
        // The print runs in the background; wait for its outcome.
        for _ in 0..100 {
            let st = http(
                a,
                "GET",
                &format!("/api/v1/tenant/topups/{o}"),
                Some(&t2),
                None,
            )
            .json();
            if st["print"]["state"] != "pending" {
                return st;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("print never finished");
    })
    .await;
    // The sale stands; the tenant is told why there is no paper.
    assert_eq!(st["state"], "paid");
    assert_eq!(st["print"]["state"], "failed");
    assert_eq!(st["print"]["reason"], "the receipt printer is out of paper");
    let no = st["receipt_no"].as_str().unwrap().to_string();
    assert!(
        !site.receipts.join(format!("{no}.bin")).exists(),
        "nothing printed on an empty roll"
    );

    // Staff see it; after a new roll, the reprint comes out.
    let admin_ok = blocking(move || {
        let me = http(a, "GET", "/api/v1/tenant/me", Some(&t), None).json();
        me["balance_fen"].as_i64().unwrap()
    })
    .await;
    assert!(admin_ok > 0);
    std::fs::remove_file(site.receipts.join("paper-out")).unwrap();
    let t3 = tenant_login_async(a).await;
    let no2 = no.clone();
    let r = blocking(move || {
        http(
            a,
            "POST",
            &format!("/api/v1/tenant/receipts/{no2}/print"),
            Some(&t3),
            None,
        )
        .json()
    })
    .await;
    assert_eq!(r["print"]["state"], "printed", "{r}");
    // The sink writes the file when the printer connection ends, a moment after the reply.
    let bin = site.receipts.join(format!("{no}.bin"));
    wait_file(&bin).await;
    let mut preview = String::new();
    for _ in 0..40 {
        if let Ok(x) = decode(&std::fs::read(&bin).unwrap()) {
            preview = x.preview();
            if preview.contains("20.00 元") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(preview.contains("20.00 元"), "{preview}");

    // An unreachable printer is "offline", not a lost sale.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let e = PrinterTarget::Tcp(addr.to_string())
        .print("R1", b"x")
        .await
        .unwrap_err();
    assert!(matches!(e, PrintError::Offline(_)), "{e:?}");
    assert!(e.to_string().contains("offline"));
}

async fn tenant_login_async(a: std::net::SocketAddr) -> String {
    blocking(move || tenant_login(a, "A-105", "1234")).await
}

#[tokio::test]
async fn device_file_target_receives_the_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("lp0");
    std::fs::write(&dev, b"").unwrap();
    let target = PrinterTarget::parse(&format!("file:{}", dev.display())).unwrap();
    target.print("R00000001", b"\x1b@hello\n").await.unwrap();
    assert_eq!(std::fs::read(&dev).unwrap(), b"\x1b@hello\n");
    // A missing device is reported as offline with its path.
    let gone = PrinterTarget::Device(dir.path().join("nope"));
    let e = gone.print("R1", b"x").await.unwrap_err().to_string();
    assert!(e.contains("offline") && e.contains("nope"), "{e}");
    assert_eq!(
        PrinterTarget::None.print("R1", b"x").await.unwrap_err(),
        PrintError::NotConfigured
    );
}
