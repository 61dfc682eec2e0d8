//! Every injectable fault is observed by a client on the wire: raw RTU over a pty, RTU over
//! TCP and the Modbus TCP gateway. Faults are set at start (config) and at run time
//! (handles and the watched faults file).

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_modbus::prelude::*;
use voltvend::sim::{Building, BusConfig, Endpoint, Faults, MeterConfig, SimConfig, SimProtocol};

// CRC-16/MODBUS written out in the support code, so the test does not trust the
// simulator's own.
use crate::support::bytes::crc16 as crc;
use crate::support::sim::manual_env;

async fn building(transport: &str) -> Building {
    let mut b = BusConfig::quick(3, SimProtocol::Modbus, transport, 0);
    b.turnaround_ms = 1;
    b.gateway_timeout_ms = 80;
    // Meter 3 starts with a fault from the config.
    b.meter.push(MeterConfig {
        address: "4".into(),
        faults: Faults::parse_list("crc_error").expect("faults"),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    Building::spawn_in(cfg, manual_env(7))
        .await
        .expect("building")
}

fn read_request(unit: u8) -> Vec<u8> {
    // Read 2 holding registers from 0x0000 (total energy).
    let mut f = vec![unit, 0x03, 0x00, 0x00, 0x00, 0x02];
    let c = crc(&f);
    f.extend(c);
    f
}

/// Sends one request and collects whatever comes back until 60 ms of silence (or 1 s).
async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    req: &[u8],
) -> (Vec<u8>, Option<Duration>) {
    s.write_all(req).await.expect("write");
    let t0 = Instant::now();
    let mut out = Vec::new();
    let mut first = None;
    let mut buf = [0u8; 256];
    loop {
        let wait = if out.is_empty() { 300 } else { 60 };
        match tokio::time::timeout(Duration::from_millis(wait), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                first.get_or_insert(t0.elapsed());
                out.extend_from_slice(&buf[..n]);
            }
            _ => break,
        }
    }
    (out, first)
}

fn valid(frame: &[u8]) -> bool {
    frame.len() >= 5 && crc(&frame[..frame.len() - 2]) == frame[frame.len() - 2..]
}

async fn check_raw_faults<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    b: &Building,
    s: &mut S,
) {
    let bus = b.bus(0).expect("bus");
    // Healthy: a valid 9-byte reply from address 1.
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(valid(&r) && r[0] == 1 && r.len() == 9, "healthy: {r:02x?}");

    // Set at start from the config: meter 4 answers with a bad CRC.
    let (r, _) = exchange(s, &read_request(4)).await;
    assert_eq!(r.len(), 9, "crc_error keeps the length: {r:02x?}");
    assert!(!valid(&r), "crc_error must break the CRC: {r:02x?}");

    let m1 = bus.modbus_meter(1).expect("meter 1");
    m1.set_faults(Faults::parse_list("no_reply").expect("f"));
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(r.is_empty(), "no_reply: {r:02x?}");

    m1.set_faults(Faults::parse_list("garbage").expect("f"));
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(!r.is_empty() && !valid(&r), "garbage: {r:02x?}");

    m1.set_faults(Faults::parse_list("slow_reply=150").expect("f"));
    let (r, first) = exchange(s, &read_request(1)).await;
    assert!(valid(&r), "slow reply is still valid");
    assert!(
        first.expect("answered") >= Duration::from_millis(150),
        "{first:?}"
    );

    m1.set_faults(Faults::parse_list("wrong_address").expect("f"));
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(valid(&r) && r[0] != 1, "wrong_address: {r:02x?}");

    m1.set_faults(Faults::parse_list("removed").expect("f"));
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(r.is_empty(), "removed: {r:02x?}");

    // Half the requests hit: over 40 tries both outcomes occur (seeded, so stable).
    m1.set_faults(Faults::parse_list("no_reply,permille=500").expect("f"));
    let mut answered = 0;
    for _ in 0..16 {
        if !exchange(s, &read_request(1)).await.0.is_empty() {
            answered += 1;
        }
    }
    assert!(
        (1..16).contains(&answered),
        "permille=500 answered {answered}/16"
    );

    // Cleared at run time: healthy again.
    m1.set_faults(Faults::none());
    let (r, _) = exchange(s, &read_request(1)).await;
    assert!(valid(&r) && r[0] == 1);

    // Bus-wide noise hits every meter.
    bus.set_faults(Faults::parse_list("garbage").expect("f"));
    let (r, _) = exchange(s, &read_request(2)).await;
    assert!(!valid(&r), "bus garbage: {r:02x?}");
    bus.set_faults(Faults::none());
}

#[tokio::test]
async fn every_fault_is_seen_on_a_pty() {
    let b = building("pty").await;
    let Endpoint::Pty(path) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("pty")
    };
    let mut port =
        tokio_serial::SerialStream::open(&tokio_serial::new(path.to_string_lossy(), 115_200))
            .expect("open");
    check_raw_faults(&b, &mut port).await;
    // Gateway down on a pty: the whole bus is silent.
    let bus = b.bus(0).expect("bus");
    bus.set_faults(Faults::parse_list("gateway_down").expect("f"));
    assert!(exchange(&mut port, &read_request(2)).await.0.is_empty());
    bus.set_faults(Faults::none());
    assert!(valid(&exchange(&mut port, &read_request(2)).await.0));
}

#[tokio::test]
async fn every_fault_is_seen_over_rtu_over_tcp() {
    let b = building("rtu-over-tcp:127.0.0.1:0").await;
    let Endpoint::SerialServer(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("serial server")
    };
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    check_raw_faults(&b, &mut s).await;
    // Gateway down: the connection is closed and new ones are dropped at once.
    let bus = b.bus(0).expect("bus");
    bus.set_faults(Faults::parse_list("gateway_down").expect("f"));
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf))
        .await
        .expect("closed promptly");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    let mut s2 = tokio::net::TcpStream::connect(addr)
        .await
        .expect("accepts, then drops");
    let n = tokio::time::timeout(Duration::from_secs(1), s2.read(&mut buf))
        .await
        .expect("dropped promptly");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    bus.set_faults(Faults::none());
    let mut s3 = tokio::net::TcpStream::connect(addr).await.expect("back up");
    assert!(valid(&exchange(&mut s3, &read_request(1)).await.0));
}

#[tokio::test]
async fn gateway_reports_silent_and_broken_meters_as_exception_0x0b() {
    let b = building("tcp:127.0.0.1:0").await;
    let Endpoint::ModbusTcp(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("tcp")
    };
    let mut ctx = tokio_modbus::client::tcp::connect_slave(addr, Slave(1))
        .await
        .expect("connect");
    assert!(ctx.read_holding_registers(0, 2).await.expect("io").is_ok());
    let bus = b.bus(0).expect("bus");
    let m1 = bus.modbus_meter(1).expect("m1");
    for fault in ["no_reply", "removed", "crc_error", "slow_reply=500"] {
        m1.set_faults(Faults::parse_list(fault).expect("f"));
        let t0 = Instant::now();
        let r = ctx.read_holding_registers(0, 2).await.expect("io");
        assert_eq!(r, Err(ExceptionCode::GatewayTargetDevice), "{fault}");
        assert!(
            t0.elapsed() >= Duration::from_millis(80),
            "{fault}: gateway timeout"
        );
    }
    m1.set_faults(Faults::parse_list("slow_reply=30").expect("f"));
    assert!(ctx.read_holding_registers(0, 2).await.expect("io").is_ok());
    m1.set_faults(Faults::parse_list("wrong_address").expect("f"));
    let r = ctx.read_holding_registers(0, 2).await;
    assert!(
        !matches!(r, Ok(Ok(_))),
        "wrong unit id must not pass as a good reply: {r:?}"
    );
    m1.set_faults(Faults::none());
    // Gateway down: the TCP connection closes.
    bus.set_faults(Faults::parse_list("gateway_down").expect("f"));
    let r = tokio::time::timeout(Duration::from_secs(1), ctx.read_holding_registers(0, 2))
        .await
        .expect("fails promptly");
    assert!(r.is_err(), "{r:?}");
}

#[tokio::test]
async fn faults_file_sets_and_clears_faults() {
    let b = building("pty").await;
    let handles: Vec<_> = b.buses().iter().map(|x| x.handle()).collect();
    let text = "[[meter]]\nbus = 0\naddress = \"2\"\nfaults = \"no_reply,slow_reply=40\"\n\n[[bus]]\nindex = 0\nfaults = { garbage = true, permille = 10 }\n";
    let n =
        voltvend::sim::control::apply_faults_text(text, "faults.toml", &handles).expect("applies");
    assert_eq!(n, 2);
    let bus = b.bus(0).expect("bus");
    assert!(bus.modbus_meter(2).expect("m2").faults().no_reply);
    assert_eq!(bus.faults().permille, Some(10));
    // Meter 4's start-up fault is cleared: the file is the whole truth.
    assert!(bus.modbus_meter(4).expect("m4").faults().is_clear());
    // A bad file changes nothing and names the line.
    let e = voltvend::sim::control::apply_faults_text(
        "[[meter]]\naddress = \"2\"\nfaults = \"melted\"\n",
        "faults.toml",
        &handles,
    )
    .expect_err("bad fault");
    assert!(e.contains("melted"), "{e}");
    let e = voltvend::sim::control::apply_faults_text(
        "[[meter]]\nadress = 2\n",
        "faults.toml",
        &handles,
    )
    .expect_err("bad key");
    assert!(e.starts_with("faults.toml:2"), "{e}");
    assert!(bus.modbus_meter(2).expect("m2").faults().no_reply);
    voltvend::sim::control::apply_faults_text("", "faults.toml", &handles).expect("empty");
    assert!(bus.modbus_meter(2).expect("m2").faults().is_clear());
    assert!(bus.faults().is_clear());
}
