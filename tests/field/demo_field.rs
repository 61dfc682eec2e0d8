//! `voltvend demo` runs a real simulated building: the binary seeds the site, starts the
//! simulator behind three gateways (Modbus TCP, a raw serial server and the secure link
//! bridged by the gateway code), and the collector reads every meter of it. Checked through
//! the operator API: every gateway and all 101 meters come online with live values, the
//! first readings continue the seeded history (no rollback, no charge for the past), and
//! Ctrl-C stops it cleanly.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::bin::{Daemon, voltvend};
use crate::support::http::*;

#[test]
fn demo_reads_its_simulated_building_through_all_three_gateway_kinds() {
    let dir = tempfile::tempdir().expect("tmp");
    // Port 0: the demo binds a free port itself and names it in its ready line.
    let mut cmd = voltvend();
    cmd.args(["demo", "--port", "0", "--data"])
        .arg(dir.path())
        .args(["--interval-s", "5"])
        // Warnings, and the collector's line per bus cycle: routine, so it must reach the
        // log file and not the terminal.
        .env("RUST_LOG", "warn,voltvend::collector=info")
        .stdout(Stdio::piped());
    let mut demo = Daemon::spawn(cmd);
    let mut banner = BufReader::new(demo.take_stdout());
    let mut line = String::new();
    banner.read_line(&mut line).expect("ready line");
    assert!(line.contains("voltvend demo ready in"), "{line}");
    // The rest of the banner: logins, the console command, where receipts, SMS and the log go.
    let mut rest = String::new();
    while !rest.contains("Ctrl-C stops the demo.") {
        assert!(banner.read_line(&mut rest).expect("banner") > 0, "{rest}");
    }
    drop(banner);
    let data = std::fs::canonicalize(dir.path()).expect("data dir");
    let log = data.join("voltvend.log");
    for want in [
        "unit A-101, PIN 1234".to_string(),
        "admin / voltvend".to_string(),
        format!(
            "cargo run -p voltvend-tui -- --socket {}",
            data.join("api.sock").display()
        ),
        data.join("receipts").display().to_string(),
        data.join("sms").display().to_string(),
        log.display().to_string(),
    ] {
        assert!(rest.contains(&want), "banner lacks {want:?}:\n{line}{rest}");
    }
    let secs: f64 = line
        .split("ready in ")
        .nth(1)
        .and_then(|s| s.split('s').next())
        .and_then(|s| s.parse().ok())
        .expect("seconds");
    assert!(secs < 5.0, "ready in {secs} s");
    let port: u16 = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .expect("the kiosk URL in the ready line");

    let a: SocketAddr = ([127, 0, 0, 1], port).into();
    let t = demo_admin_token(a, "field-test-pw-1");
    // A DL/T 645 bus of 13 prepaid meters needs about 22 s for its first full read at
    // 9600 baud; live values of every meter follow.
    let deadline = Instant::now() + Duration::from_secs(90);
    let meters = loop {
        let gws = http(a, "GET", "/api/v1/gateways", Some(&t), None).json();
        let ms = http(a, "GET", "/api/v1/meters", Some(&t), None).json();
        let ms = ms.as_array().cloned().unwrap_or_default();
        let gws_online = gws
            .as_array()
            .is_some_and(|g| g.len() == 3 && g.iter().all(|g| g["online"] == true));
        let live = ms
            .iter()
            .filter(|m| m["online"] == true && m["power_w"].is_number() && m["relay"].is_string())
            .count();
        if gws_online && ms.len() == 101 && live == 101 {
            break ms;
        }
        assert!(
            Instant::now() < deadline,
            "gateways {gws}\n{live} of {} meters live",
            ms.len()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let gws = http(a, "GET", "/api/v1/gateways", Some(&t), None).json();
    let links: Vec<&str> = gws
        .as_array()
        .expect("gateways")
        .iter()
        .filter_map(|g| g["link"].as_str())
        .collect();
    assert!(links[0].starts_with("tcp:127.0.0.1:"), "{links:?}");
    assert!(links[1].starts_with("rtu-over-tcp:127.0.0.1:"), "{links:?}");
    assert!(links[2].starts_with("secure:127.0.0.1:"), "{links:?}");
    // Both protocols are read: DL/T 645 prepaid meters report their own balance.
    assert!(
        meters
            .iter()
            .any(|m| m["protocol"] == "dlt645" && m["meter_balance_fen"].is_number())
    );
    assert!(meters.iter().any(|m| m["protocol"] == "modbus"));

    // The first live readings continue the seeded history: A-101's stored readings never
    // go backwards, and its balance is the seeded one less at most a few minutes of use
    // (the seeded history itself is never charged a second time).
    let r = http(
        a,
        "GET",
        "/api/v1/meters/310000000002/readings",
        Some(&t),
        None,
    )
    .json();
    let totals: Vec<i64> = r
        .as_array()
        .expect("readings")
        .iter()
        .filter_map(|x| x["total_wh"].as_i64())
        .collect();
    assert!(totals.len() >= 2, "{} readings", totals.len());
    assert!(totals.windows(2).all(|w| w[1] >= w[0]), "went backwards");
    let tenant = tenant_login(a, "A-101", "1234");
    let me = http(a, "GET", "/api/v1/tenant/me", Some(&tenant), None).json();
    let balance = me["balance_fen"].as_i64().expect("balance");
    assert!(
        (18_000..=18_650).contains(&balance),
        "A-101 balance {balance}"
    );

    // Ctrl-C: a clean stop, quickly.
    let pid = nix::unistd::Pid::from_raw(demo.pid());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = demo.try_wait() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "demo did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    let w = demo.lines();
    assert!(
        !w.iter().any(|l| l.contains("bus cycle")),
        "routine logs in the terminal:\n{}",
        w.join("\n")
    );
    let logged = std::fs::read_to_string(&log).expect("the demo's log file");
    assert!(
        logged.contains("bus cycle"),
        "no bus cycle in {}",
        log.display()
    );
    for l in w.iter().map(String::as_str).chain(logged.lines()) {
        assert!(!(l.contains("rollback") || l.contains("ERROR")), "{l}");
    }
}
