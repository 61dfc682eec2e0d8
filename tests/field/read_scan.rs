//! `voltvend read` and `voltvend scan` (the real binary) against simulated meters over a pty
//! and over TCP, with faults: values match the meter's own state, a refused block does not
//! hide the rest, silence and CRC errors are named precisely.

use voltvend::sim::{Building, BusConfig, Faults, MeterConfig, SimConfig, SimProtocol};

use crate::support::bin::run;
use crate::support::sim::manual_env;

/// The built-in 1-phase profile without its prepaid block: a plain metering meter that
/// answers exception 0x02 for 0x0100.. as a real one does.
fn plain_profile_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let text = include_str!("../../src/protocol/profiles/acrel-ddsy1352-nk.toml");
    let head = text
        .split("# ---- Prepaid block")
        .next()
        .expect("measurement part");
    let head = head
        .replace("name = \"acrel-ddsy1352-nk\"", "name = \"plain-ddsy1352\"")
        .lines()
        .map(|l| {
            if l.starts_with("live = ") {
                "live = [\"voltage\", \"current\", \"power\"]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("plain.toml"), head).expect("write profile");
    dir
}

fn modbus_bus(transport: &str, profiles: &std::path::Path) -> SimConfig {
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, transport, 9600);
    b.turnaround_ms = 5;
    b.meter.push(MeterConfig {
        address: "1".into(),
        balance: Some("123.45".into()),
        purchase_count: Some(7),
        fixed_w: Some(1500),
        ..MeterConfig::default()
    });
    b.meter.push(MeterConfig {
        address: "2".into(),
        profile: Some("plain-ddsy1352".into()),
        fixed_w: Some(800),
        ..MeterConfig::default()
    });
    b.meter.push(MeterConfig {
        address: "3".into(),
        faults: Faults {
            crc_error: true,
            ..Faults::none()
        },
        ..MeterConfig::default()
    });
    SimConfig {
        profiles_dir: Some(profiles.to_path_buf()),
        buses: vec![b],
        ..SimConfig::default()
    }
}

async fn bin(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&a)
    })
    .await
    .expect("join")
}

fn json_field<'a>(json: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let at = json.find(&pat).unwrap_or_else(|| panic!("{key} in {json}")) + pat.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

/// Expected kWh text of an energy register value (Wh) at the meter's 0.01 kWh resolution.
fn kwh(wh: i64) -> String {
    let c = wh / 10;
    format!("{}.{:02}", c / 100, c % 100)
}

async fn read_checks(link: &str, b: &Building) {
    let m1 = b.meter(0, "1").expect("meter 1");
    // --json: the named fields, exact decimals from the meter's own integers.
    let (ok, out, err) = bin(vec![
        "read".into(),
        "--via".into(),
        link.into(),
        "--protocol".into(),
        "modbus".into(),
        "--address".into(),
        "1".into(),
        "--json".into(),
    ])
    .await;
    assert!(ok, "read 1 failed: {err}");
    let total = m1.value("energy_total").expect("total");
    assert_eq!(json_field(&out, "energy_total_kwh"), kwh(total), "{out}");
    assert_eq!(json_field(&out, "balance_yuan"), "123.45", "{out}");
    assert_eq!(json_field(&out, "purchase_count"), "7", "{out}");
    assert_eq!(json_field(&out, "relay"), "\"closed\"", "{out}");
    let v = m1.value("voltage").expect("voltage");
    assert_eq!(
        json_field(&out, "voltage_v"),
        format!("{}.{}", v / 10, v % 10),
        "{out}"
    );
    assert_eq!(json_field(&out, "failed"), "[]", "{out}");

    // A plain meter refuses the prepaid block: the rest is still printed, exit 0.
    let (ok, out, err) = bin(vec![
        "read".into(),
        "--via".into(),
        link.into(),
        "--address".into(),
        "2".into(),
    ])
    .await;
    assert!(ok, "read 2 failed: {err}\n{out}");
    assert!(out.contains("energy_total"), "{out}");
    assert!(out.contains("voltage"), "{out}");
    assert!(
        out.contains("meter answered exception 0x02 (illegal data address) for register 0x0100"),
        "{out}"
    );
    assert!(out.contains("FAILED registers 0x0100"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_and_scan_over_a_pty_with_faults() {
    let profiles = plain_profile_dir();
    let b = Building::spawn_in(modbus_bus("pty", profiles.path()), manual_env(7))
        .await
        .expect("sim");
    let link = b.bus(0).expect("bus").link();
    let path = link
        .strip_prefix("serial:")
        .and_then(|l| l.split('@').next())
        .expect("pty path")
        .to_string();
    let via = format!("serial:{path}@9600,8E1");
    read_checks(&via, &b).await;

    // Silence: the exact message, with the timeout computed from the wire time.
    let (ok, _out, err) = bin(vec![
        "read".into(),
        "--via".into(),
        via.clone(),
        "--address".into(),
        "9".into(),
    ])
    .await;
    assert!(!ok, "nothing read must fail");
    let want = format!("no reply from address 9 on serial:{path}@9600 after 3 tries (timeout ");
    assert!(err.contains(&want), "{err}");
    assert!(err.contains(" ms)"), "{err}");

    // A meter whose replies carry a bad CRC.
    let (ok, _out, err) = bin(vec![
        "read".into(),
        "--via".into(),
        via.clone(),
        "--address".into(),
        "3".into(),
    ])
    .await;
    assert!(!ok);
    assert!(err.contains("CRC mismatch"), "{err}");

    // Scan finds the two healthy meters (the CRC-broken one does not count as an answer).
    let (ok, out, err) = bin(vec![
        "scan".into(),
        "--via".into(),
        via.clone(),
        "--from".into(),
        "1".into(),
        "--to".into(),
        "4".into(),
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("address 1  model DDSY1352-NK"), "{out}");
    assert!(out.contains("address 2  model DDSY1352-NK"), "{out}");
    assert!(!out.contains("address 3 "), "{out}");
    assert!(out.contains("2 meter(s) answered"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_over_modbus_tcp_and_rtu_over_tcp() {
    let profiles = plain_profile_dir();
    for transport in ["tcp:127.0.0.1:0", "rtu-over-tcp:127.0.0.1:0"] {
        let b = Building::spawn_in(modbus_bus(transport, profiles.path()), manual_env(7))
            .await
            .expect("sim");
        let link = b.bus(0).expect("bus").link();
        read_checks(&link, &b).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlt645_read_and_scan_over_tcp() {
    let mut bus = BusConfig::quick(0, SimProtocol::Dlt645, "rtu-over-tcp:127.0.0.1:0", 2400);
    bus.framing = "8E1".into();
    bus.turnaround_ms = 5;
    bus.meter.push(MeterConfig {
        address: "000000001234".into(),
        balance: Some("66.60".into()),
        fixed_w: Some(1000),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        buses: vec![bus],
        ..SimConfig::default()
    };
    let b = Building::spawn_in(cfg, manual_env(7)).await.expect("sim");
    let link = b.bus(0).expect("bus").link();
    let m = b.meter(0, "000000001234").expect("meter");
    let (ok, out, err) = bin(vec![
        "read".into(),
        "--via".into(),
        link.clone(),
        "--protocol".into(),
        "dlt645".into(),
        "--address".into(),
        "000000001234".into(),
        "--bus-baud".into(),
        "2400".into(),
        "--json".into(),
    ])
    .await;
    assert!(ok, "{err}\n{out}");
    assert_eq!(
        json_field(&out, "energy_total_kwh"),
        kwh(m.value("energy_total").expect("total")),
        "{out}"
    );
    assert_eq!(json_field(&out, "balance_yuan"), "66.60", "{out}");
    assert_eq!(json_field(&out, "relay"), "\"closed\"", "{out}");

    let (ok, out, err) = bin(vec![
        "scan".into(),
        "--via".into(),
        link,
        "--protocol".into(),
        "dlt645".into(),
        "--bus-baud".into(),
        "2400".into(),
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("address 000000001234"), "{out}");
    assert!(out.contains("serial 000000001234"), "{out}");
}
