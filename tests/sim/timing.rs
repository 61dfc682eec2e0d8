//! Timing and physics of the simulated meters: byte pacing at the baud rate, TOU energy by
//! local time of day, and a meter-mode trip at zero balance under accelerated time.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_modbus::prelude::*;
use voltvend::protocol::profile::names;
use voltvend::sim::{
    Building, BusConfig, Endpoint, MeterConfig, SimBilling, SimClock, SimConfig, SimEnv,
    SimProtocol,
};

use crate::support::bytes::crc16 as crc;
use crate::support::sim::manual_env;
use crate::support::time::shanghai as tz;

/// A 17-register read returns 1 + 1 + 1 + 34 + 2 = 39 bytes; at 9600 baud 8E1 each byte
/// takes 11/9600 s, so the reply takes at least 39 × 11/9600 s = 44.7 ms and the whole
/// exchange at least (8 + 39) × 11/9600 s + the 20 ms turnaround = 73.9 ms (an unpaced
/// reply would take about 29 ms).
#[tokio::test]
async fn replies_are_paced_at_the_baud_rate() {
    let mut b = BusConfig::quick(1, SimProtocol::Modbus, "pty", 9600);
    b.turnaround_ms = 20;
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    let building = Building::spawn_in(cfg, manual_env(1))
        .await
        .expect("building");
    let Endpoint::Pty(path) = building.bus(0).expect("bus").endpoint().clone() else {
        panic!("pty")
    };
    let mut port = tokio_serial::SerialStream::open(
        &tokio_serial::new(path.to_string_lossy(), 9600).parity(tokio_serial::Parity::Even),
    )
    .expect("open");
    let mut req = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x11];
    let c = crc(&req);
    req.extend(c);
    let char_time = Duration::from_nanos(11 * 1_000_000_000 / 9600);
    for _ in 0..2 {
        let sent = Instant::now();
        port.write_all(&req).await.expect("write");
        let mut reply = Vec::new();
        let mut first_at = None;
        let mut buf = [0u8; 64];
        while reply.len() < 39 {
            let n = tokio::time::timeout(Duration::from_secs(2), port.read(&mut buf))
                .await
                .expect("reply in time")
                .expect("read");
            first_at.get_or_insert(Instant::now());
            reply.extend_from_slice(&buf[..n]);
        }
        let done = Instant::now();
        assert_eq!(reply.len(), 39);
        assert_eq!(crc(&reply[..37]), [reply[37], reply[38]]);
        let body = done - first_at.expect("first byte");
        let whole = done - sent;
        // The body time seen by a reader is only indicative (a late wake-up sees several
        // bytes at once); the sound bound is the whole exchange: the simulator cannot put
        // the last reply byte on the line before request + turnaround + 39 characters.
        assert!(
            whole >= char_time * (8 + 39) + Duration::from_millis(20),
            "exchange took {whole:?}"
        );
        eprintln!(
            "39-byte reply: body {body:?} (floor {:?}), exchange {whole:?} (floor {:?})",
            char_time * 38,
            char_time * 47 + Duration::from_millis(20)
        );
    }
}

/// With a constant 1 kW load from 08:00 to 11:00 local time (default schedule: peak
/// 08:00-10:00, sharp 10:00-11:00), the TOU registers read over Modbus hold 2 kWh peak
/// and 1 kWh sharp.
#[tokio::test]
async fn energy_accumulates_into_tou_registers_by_local_time() {
    // 2026-06-01T00:00Z = 08:00 in Shanghai.
    let t0: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().expect("ts");
    let clock = SimClock::manual(t0);
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, "tcp:127.0.0.1:0", 0);
    b.meter.push(MeterConfig {
        address: "1".into(),
        fixed_w: Some(1000),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    let building = Building::spawn_in(cfg, SimEnv::new(clock.clone(), tz(), 3))
        .await
        .expect("building");
    let Endpoint::ModbusTcp(addr) = building.bus(0).expect("bus").endpoint().clone() else {
        panic!("tcp")
    };
    let mut ctx = tokio_modbus::client::tcp::connect_slave(addr, Slave(1))
        .await
        .expect("connect");
    let before = ctx
        .read_holding_registers(0x0000, 10)
        .await
        .expect("io")
        .expect("ok");
    clock.advance(jiff::SignedDuration::from_hours(3));
    let after = ctx
        .read_holding_registers(0x0000, 10)
        .await
        .expect("io")
        .expect("ok");
    let u32_at = |w: &[u16], i: usize| (u32::from(w[i]) << 16) | u32::from(w[i + 1]);
    // 0.01 kWh units: total, sharp, peak, flat, valley (Acrel manual T1.0 §8.1).
    let delta = |i| u32_at(&after, i) - u32_at(&before, i);
    assert_eq!(delta(0), 300, "total +3 kWh");
    assert_eq!(delta(2), 100, "sharp +1 kWh");
    assert_eq!(delta(4), 200, "peak +2 kWh");
    assert_eq!(delta(6), 0, "flat");
    assert_eq!(delta(8), 0, "valley");
}

/// In meter billing mode the meter deducts its own balance by its TOU prices and trips at
/// zero; accelerated time (1 h of simulated time per 0.1 s) lives through it quickly.
#[tokio::test]
async fn meter_mode_trips_at_zero_balance_with_accelerated_time() {
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, "tcp:127.0.0.1:0", 0);
    b.meter.push(MeterConfig {
        address: "5".into(),
        fixed_w: Some(2000),
        billing: Some(SimBilling::Meter),
        balance: Some("1.40".into()),
        // Flat price everywhere so the trip time does not depend on the band.
        prices: Some(["0.70".into(), "0.70".into(), "0.70".into(), "0.70".into()]),
        energy_kwh: Some(["0".into(), "0".into(), "0".into(), "0".into()]),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        seed: Some(11),
        accel: Some(36_000),
        start: Some("2026-06-01T04:00:00Z".into()),
        buses: vec![b],
        ..SimConfig::default()
    };
    let building = Building::spawn(cfg).await.expect("building");
    let Endpoint::ModbusTcp(addr) = building.bus(0).expect("bus").endpoint().clone() else {
        panic!("tcp")
    };
    let mut ctx = tokio_modbus::client::tcp::connect_slave(addr, Slave(5))
        .await
        .expect("connect");
    // 1.40 yuan at 0.70 yuan/kWh = 2 kWh = 1 h at 2 kW = 0.1 s of real time.
    let started = Instant::now();
    let relay = loop {
        let w = ctx
            .read_holding_registers(0x0100, 7)
            .await
            .expect("io")
            .expect("ok");
        if w[4] == 1 || started.elapsed() > Duration::from_secs(5) {
            break w;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(relay[4], 1, "relay open after the money ran out");
    assert_eq!(
        (u32::from(relay[0]) << 16) | u32::from(relay[1]),
        0,
        "balance 0.00"
    );
    let power = ctx
        .read_holding_registers(0x000D, 1)
        .await
        .expect("io")
        .expect("ok");
    assert_eq!(power, vec![0], "no power when tripped");
    let m = building.meter(0, "5").expect("meter");
    let s = m.snapshot();
    assert_eq!(s.trip_reason, Some(voltvend::sim::TripReason::Arrears));
    // It tripped at exactly 2 kWh of consumption, however late we looked.
    assert_eq!(m.value(names::ENERGY_TOTAL), Some(2000));
    // Keep-power would have prevented it: switch it on and the relay stays as it is until
    // a close; a close at zero balance trips again at once (the meter's own rule).
    ctx.write_multiple_registers(0x0057, &[1, 0])
        .await
        .expect("io")
        .expect("ok");
    assert_eq!(m.value(names::RELAY_OPEN), Some(1));
    ctx.write_single_register(0x0105, 1)
        .await
        .expect("io")
        .expect("ok");
    ctx.write_multiple_registers(0x0057, &[1, 0])
        .await
        .expect("io")
        .expect("ok");
    assert_eq!(
        m.value(names::RELAY_OPEN),
        Some(0),
        "keep-power: stays closed"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        m.value(names::RELAY_OPEN),
        Some(0),
        "keep-power never trips"
    );
    assert!(
        m.value(names::BALANCE).expect("balance") < 0,
        "runs into overdraft"
    );
}

/// Test helpers on the meter handle: a fixed load for overload tests, a balance override
/// that the meter's own rules act on at once.
#[tokio::test]
async fn handle_overrides_load_and_balance() {
    let t0: jiff::Timestamp = "2026-06-01T04:00:00Z".parse().expect("ts");
    let clock = SimClock::manual(t0);
    let mut b = BusConfig::quick(0, SimProtocol::Modbus, "tcp:127.0.0.1:0", 0);
    b.meter.push(MeterConfig {
        address: "1".into(),
        billing: Some(SimBilling::Meter),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    let building = Building::spawn_in(cfg, SimEnv::new(clock.clone(), tz(), 5))
        .await
        .expect("building");
    let m = building.meter(0, "1").expect("meter");
    m.set_load_w(Some(9_000));
    clock.advance(jiff::SignedDuration::from_mins(1));
    assert_eq!(m.value(names::POWER), Some(9_000));
    m.set_balance(voltvend::units::Fen(0));
    assert_eq!(
        m.value(names::RELAY_OPEN),
        Some(1),
        "meter mode trips at zero"
    );
    assert_eq!(m.value(names::POWER), Some(0));
}
