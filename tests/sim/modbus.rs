//! The simulated Modbus meters answer a real tokio-modbus client over a pty, over a Modbus
//! TCP gateway and over RTU-over-TCP with their profile's values; writes and commands act.

use std::time::Duration;
use tokio_modbus::prelude::*;
use voltvend::protocol::profile::{CommandAction, CommandKind, Group, ReadRequest, names};
use voltvend::sim::{Building, BusConfig, Endpoint, MeterConfig, SimConfig, SimProtocol};

use crate::support::sim::manual_env;

fn bus(transport: &str, baud: u32) -> BusConfig {
    let mut b = BusConfig::quick(2, SimProtocol::Modbus, transport, baud);
    b.turnaround_ms = 2;
    b.meter.push(MeterConfig {
        address: "7".into(),
        billing: Some(voltvend::sim::SimBilling::Meter),
        balance: Some("88.80".into()),
        fixed_w: Some(1500),
        ..MeterConfig::default()
    });
    b
}

async fn building(transport: &str, baud: u32) -> Building {
    let cfg = SimConfig {
        buses: vec![bus(transport, baud)],
        ..SimConfig::default()
    };
    Building::spawn_in(cfg, manual_env(42))
        .await
        .expect("building")
}

fn t<T>(r: Result<T, tokio::time::error::Elapsed>) -> T {
    r.expect("timed out")
}

/// Reads the full plan of the meter's profile through `ctx` and checks every value against
/// the simulated meter's own state.
async fn read_and_compare(ctx: &mut tokio_modbus::client::Context, b: &Building, address: &str) {
    let meter = b.meter(0, address).expect("meter");
    let profile = meter.with(|m| m.profile.clone());
    let plan = profile.plan_reads(Group::Full, 125);
    assert!(!plan.is_empty());
    let mut seen = 0;
    for block in &plan {
        let ReadRequest::Holding { start, count } = block.request else {
            panic!("modbus plan")
        };
        let words = t(tokio::time::timeout(
            Duration::from_secs(2),
            ctx.read_holding_registers(start, count),
        )
        .await)
        .expect("transport")
        .expect("no exception");
        assert_eq!(words.len(), usize::from(count));
        for (name, value) in profile.decode_block(block, &words) {
            let expected = meter.value(&name).expect("meter knows every profile value");
            let reg = profile.register(&name).expect("reg");
            // The register holds the value at its own resolution.
            let m = 10i64.pow(reg.exponent().unsigned_abs());
            assert_eq!(value, Ok(expected.div_euclid(m) * m), "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 20, "read {seen} values");
}

#[tokio::test]
async fn tokio_modbus_client_reads_profile_values_over_a_pty() {
    let b = building("pty", 115_200).await;
    let Endpoint::Pty(path) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("pty endpoint")
    };
    let port = tokio_serial::SerialStream::open(
        &tokio_serial::new(path.to_string_lossy(), 115_200).parity(tokio_serial::Parity::Even),
    )
    .expect("open pty slave");
    let mut ctx = tokio_modbus::client::rtu::attach_slave(port, Slave(7));
    read_and_compare(&mut ctx, &b, "7").await;
    ctx.set_slave(Slave(1));
    read_and_compare(&mut ctx, &b, "1").await;

    // The profile's trip command opens the relay; power reads zero.
    let profile = b.meter(0, "7").expect("m").with(|m| m.profile.clone());
    let Some(CommandAction::WriteWords { address, values }) = profile
        .command(CommandKind::RelayTrip)
        .map(|c| c.action.clone())
    else {
        panic!("trip command")
    };
    ctx.set_slave(Slave(7));
    t(tokio::time::timeout(
        Duration::from_secs(2),
        ctx.write_multiple_registers(address, &values),
    )
    .await)
    .expect("transport")
    .expect("accepted");
    let relay = profile
        .register(names::RELAY_OPEN)
        .and_then(|r| r.address())
        .expect("relay");
    let w = t(
        tokio::time::timeout(Duration::from_secs(2), ctx.read_holding_registers(relay, 1)).await,
    )
    .expect("transport")
    .expect("ok");
    assert_eq!(w, vec![1]);
    assert_eq!(b.meter(0, "7").expect("m").value(names::POWER), Some(0));

    // An address nobody has: silence, like a real bus.
    ctx.set_slave(Slave(99));
    let r =
        tokio::time::timeout(Duration::from_millis(150), ctx.read_holding_registers(0, 2)).await;
    assert!(r.is_err(), "address 99 must stay silent: {r:?}");
}

#[tokio::test]
async fn tokio_modbus_client_reads_profile_values_over_modbus_tcp() {
    let b = building("tcp:127.0.0.1:0", 0).await;
    let Endpoint::ModbusTcp(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("tcp endpoint")
    };
    let mut ctx = tokio_modbus::client::tcp::connect_slave(addr, Slave(7))
        .await
        .expect("connect");
    read_and_compare(&mut ctx, &b, "7").await;
    // Write the four prices through the profile's register map and read them back.
    let profile = b.meter(0, "7").expect("m").with(|m| m.profile.clone());
    let first = profile.register(names::PRICE_SHARP).expect("price");
    let mut words = Vec::new();
    for (i, n) in names::PRICES.iter().enumerate() {
        let r = profile.register(n).expect("price reg");
        words.extend(r.encode_words(1_000_000 + 100 * i as i64).expect("encode"));
    }
    ctx.write_multiple_registers(first.address().expect("addr"), &words)
        .await
        .expect("transport")
        .expect("accepted");
    let m = b.meter(0, "7").expect("m");
    assert_eq!(m.value(names::PRICE_VALLEY), Some(1_000_300));
    // A missing unit: the gateway answers 0x0B after its timeout.
    ctx.set_slave(Slave(200));
    let r = ctx.read_holding_registers(0, 2).await.expect("transport");
    assert_eq!(r, Err(ExceptionCode::GatewayTargetDevice));
}

#[tokio::test]
async fn tokio_modbus_client_reads_over_rtu_over_tcp() {
    let b = building("rtu-over-tcp:127.0.0.1:0", 0).await;
    let Endpoint::SerialServer(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("serial server endpoint")
    };
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut ctx = tokio_modbus::client::rtu::attach_slave(stream, Slave(2));
    read_and_compare(&mut ctx, &b, "2").await;
}
