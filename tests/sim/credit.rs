//! The simulated meter verifies credit tokens (protocol::credit) written over Modbus and
//! DL/T 645: a good token adds money and moves the purchase count; a replay, another
//! meter's token and a flipped bit are refused and change nothing; an arrears trip in meter
//! mode closes again once the credit brings the balance above zero.

use tokio_modbus::prelude::*;
use voltvend::protocol::credit::{CreditToken, diversify};
use voltvend::protocol::profile::names;
use voltvend::sim::{
    Building, BusConfig, Endpoint, MeterConfig, SimBilling, SimConfig, SimProtocol,
};
use voltvend::units::Fen;

const MASTER: &str = "0123456789abcdeffedcba9876543210";

fn master() -> [u8; 16] {
    let v = hex::decode(MASTER).expect("hex");
    v.try_into().expect("16 bytes")
}

fn token(serial: &str, count: u32, fen: i64) -> Vec<u8> {
    let key = diversify(&master(), serial).expect("key");
    let now = "2026-06-01T04:00:00Z".parse().expect("ts");
    CreditToken::issue(&key, serial, count, Fen(fen), now)
        .expect("issue")
        .to_vec()
}

fn words(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

async fn building(protocol: SimProtocol, address: &str) -> Building {
    let mut b = BusConfig::quick(0, protocol, "tcp:127.0.0.1:0", 0);
    b.turnaround_ms = 1;
    b.meter.push(MeterConfig {
        address: address.into(),
        serial: Some("240000000001".into()),
        billing: Some(SimBilling::Meter),
        balance: Some("0.00".into()),
        fixed_w: Some(1000),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        seed: Some(1),
        start: Some("2026-06-01T04:00:00Z".into()),
        credit_master_key: Some(MASTER.into()),
        buses: vec![b],
        ..SimConfig::default()
    };
    Building::spawn(cfg).await.expect("building")
}

#[tokio::test]
async fn modbus_meter_verifies_credit_tokens() {
    let b = building(SimProtocol::Modbus, "3").await;
    let Endpoint::ModbusTcp(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("tcp")
    };
    let m = b.meter(0, "3").expect("meter");
    // Zero balance in meter mode: tripped for arrears.
    assert_eq!(m.value(names::RELAY_OPEN), Some(1));
    let mut ctx = tokio_modbus::client::tcp::connect_slave(addr, Slave(3))
        .await
        .expect("connect");
    let good = token("240000000001", 1, 5_000);
    ctx.write_multiple_registers(0x0120, &words(&good))
        .await
        .expect("io")
        .expect("accepted");
    assert_eq!(m.value(names::PURCHASE_COUNT), Some(1));
    assert!(m.value(names::BALANCE).expect("balance") > 4_990);
    assert_eq!(m.value(names::RELAY_OPEN), Some(0), "credit restores power");
    let before = m.snapshot();
    // Replay, another meter's token, a flipped bit, a skipped count: all refused.
    let mut bad = vec![
        good.clone(),
        token("240000000002", 2, 5_000),
        token("240000000001", 3, 5_000),
    ];
    for i in [0, 13, 31] {
        let mut t = token("240000000001", 2, 5_000);
        t[i] ^= 0x01;
        bad.push(t);
    }
    for t in bad {
        let r = ctx
            .write_multiple_registers(0x0120, &words(&t))
            .await
            .expect("io");
        assert_eq!(r, Err(ExceptionCode::ServerDeviceFailure));
    }
    let after = m.snapshot();
    assert_eq!(after.purchase_count, before.purchase_count);
    assert_eq!(after.credits_refused, 6);
    // The in-process hook takes the next good token too.
    let c = m
        .accept_credit(&token("240000000001", 2, 100))
        .expect("good token");
    assert_eq!((c.amount, c.purchase_count), (Fen(100), 2));
}

#[tokio::test]
async fn dlt645_meter_verifies_credit_tokens() {
    let b = building(SimProtocol::Dlt645, "240000000001").await;
    let Endpoint::SerialServer(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("raw tcp")
    };
    let m = b.meter(0, "240000000001").expect("meter");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = voltvend::protocol::dlt645::Address::parse("240000000001").expect("addr");
    for (tok, ok) in [
        (token("240000000001", 1, 2_000), true),
        (token("240000000001", 1, 2_000), false),
    ] {
        // Write (14H): DI 070101FF, password, operator code, token.
        let mut data = 0x0701_01FFu32.to_le_bytes().to_vec();
        data.extend([0x02, 0, 0, 0, 0, 0, 0, 0]);
        data.extend(&tok);
        let req =
            voltvend::protocol::dlt645::encode_with_preamble(&voltvend::protocol::dlt645::Frame {
                address,
                control: voltvend::protocol::dlt645::Control(0x14),
                data,
            })
            .expect("encode");
        s.write_all(&req).await.expect("write");
        let mut buf = vec![0u8; 64];
        let mut got = Vec::new();
        let reply = loop {
            let n = tokio::time::timeout(std::time::Duration::from_secs(1), s.read(&mut buf))
                .await
                .expect("reply")
                .expect("read");
            got.extend_from_slice(&buf[..n]);
            if let Ok((f, _)) = voltvend::protocol::dlt645::decode(&got) {
                break f;
            }
        };
        assert_eq!(reply.control.0, if ok { 0x94 } else { 0xD4 }, "ok={ok}");
    }
    assert_eq!(m.value(names::PURCHASE_COUNT), Some(1));
    assert_eq!(m.snapshot().credits_refused, 1);
}
