//! A simulated DL/T 645-2007 meter on a pty (and on TCP) answers reads, relay control and
//! writes, with frames built here from the standard (not by the simulator's own encoder).

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voltvend::protocol::dlt645;
use voltvend::protocol::profile::names;
use voltvend::sim::{Building, BusConfig, Endpoint, Faults, MeterConfig, SimConfig, SimProtocol};

use crate::support::sim::manual_env;

const ADDR: &str = "202208310002";
/// A0..A5, lowest pair first (DL/T 645-2007 §5.1.2).
const ADDR_WIRE: [u8; 6] = [0x02, 0x00, 0x31, 0x08, 0x22, 0x20];

/// 4 × FE, 68, A0..A5, 68, C, L, DATA + 33H, CS, 16 (DL/T 645-2007 §5.1).
fn frame(addr: [u8; 6], c: u8, data: &[u8]) -> Vec<u8> {
    let mut f = vec![0xFE, 0xFE, 0xFE, 0xFE, 0x68];
    f.extend(addr);
    f.push(0x68);
    f.push(c);
    f.push(data.len() as u8);
    f.extend(data.iter().map(|b| b.wrapping_add(0x33)));
    let cs = f[4..].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    f.push(cs);
    f.push(0x16);
    f
}

/// Parses a reply: (address, control, data) or None when malformed.
fn parse(bytes: &[u8]) -> Option<([u8; 6], u8, Vec<u8>)> {
    let s = bytes.iter().position(|b| *b == 0x68)?;
    let f = &bytes[s..];
    let len = usize::from(*f.get(9)?);
    if f.len() < 12 + len || f[7] != 0x68 || f[11 + len] != 0x16 {
        return None;
    }
    let cs = f[..10 + len].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if cs != f[10 + len] {
        return None;
    }
    let mut a = [0u8; 6];
    a.copy_from_slice(&f[1..7]);
    Some((
        a,
        f[8],
        f[10..10 + len]
            .iter()
            .map(|b| b.wrapping_sub(0x33))
            .collect(),
    ))
}

fn read_req(di: u32) -> Vec<u8> {
    frame(ADDR_WIRE, 0x11, &di.to_le_bytes())
}

async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    req: &[u8],
) -> Vec<u8> {
    s.write_all(req).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    // Read until the bytes form a whole frame (or a definite error), not until a pause:
    // a loaded CI machine can stall the reader longer than any inter-byte gap we'd pick.
    loop {
        let started = out.contains(&0x68);
        let wait = match dlt645::decode(&out) {
            Ok(_) => return out,
            Err(e) if !started || e.is_incomplete() => 2000,
            // A definite error (e.g. the checksum fault): take what else arrives promptly.
            Err(_) => 300,
        };
        match tokio::time::timeout(Duration::from_millis(wait), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return out,
        }
    }
}

async fn building(transport: &str, baud: u32) -> Building {
    let mut b = BusConfig::quick(0, SimProtocol::Dlt645, transport, baud);
    b.turnaround_ms = 2;
    b.meter.push(MeterConfig {
        address: ADDR.into(),
        balance: Some("123.45".into()),
        energy_kwh: Some([
            "1.00".into(),
            "2.00".into(),
            "3.00".into(),
            "5634.12".into(),
        ]),
        fixed_w: Some(1500),
        ..MeterConfig::default()
    });
    b.meter.push(MeterConfig {
        address: "1".into(),
        ..MeterConfig::default()
    });
    let cfg = SimConfig {
        buses: vec![b],
        ..SimConfig::default()
    };
    Building::spawn_in(cfg, manual_env(9))
        .await
        .expect("building")
}

async fn dlt645_dialogue<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    b: &Building,
    s: &mut S,
) {
    // Known request frame (docs/reference/meter-protocols.md) is what we send.
    assert_eq!(
        read_req(0x0280_22FF),
        vec![
            0xfe, 0xfe, 0xfe, 0xfe, 0x68, 0x02, 0x00, 0x31, 0x08, 0x22, 0x20, 0x68, 0x11, 0x04,
            0x32, 0x55, 0xb3, 0x35, 0xd1, 0x16
        ]
    );
    // Forward active energy rate 4 (valley) 00010400: XXXXXX.XX kWh, BCD, low byte first.
    let raw = exchange(s, &read_req(0x0001_0400)).await;
    let r = parse(&raw).unwrap_or_else(|| panic!("valid reply: {raw:02x?}"));
    assert_eq!(r.0, ADDR_WIRE);
    assert_eq!(r.1, 0x91, "normal read reply");
    assert_eq!(r.2[..4], 0x0001_0400u32.to_le_bytes());
    assert_eq!(r.2[4..], [0x12, 0x34, 0x56, 0x00], "5634.12 kWh");
    // Total 00010000 = 1 + 2 + 3 + 5634.12 = 5640.12 kWh.
    let r = parse(&exchange(s, &read_req(0x0001_0000)).await).expect("valid reply");
    assert_eq!(r.2[4..], [0x12, 0x40, 0x56, 0x00]);
    // Remaining amount 00900200: 123.45 yuan.
    let r = parse(&exchange(s, &read_req(0x0090_0200)).await).expect("valid reply");
    assert_eq!(r.2[4..], [0x45, 0x23, 0x01, 0x00]);
    // An identifier the meter does not have: abnormal reply D1 with "no data" (bit 1).
    let r = parse(&exchange(s, &read_req(0x0401_0001)).await).expect("valid reply");
    assert_eq!((r.1, r.2.clone()), (0xD1, vec![0x02]));
    // Status word 3 (04000503): relay closed (bit 4 = 0), money prepaid (bit 9).
    let r = parse(&exchange(s, &read_req(0x0400_0503)).await).expect("valid reply");
    let sw3 = u16::from_le_bytes([r.2[4], r.2[5]]);
    assert_eq!(sw3 & 0x0010, 0, "relay closed");
    // Relay control 1C: password, operator, N1 = 1A (trip), N2, valid until (§7.8).
    let mut ctl = vec![0x02, 0, 0, 0, 0, 0, 0, 0, 0x1A, 0x00];
    ctl.extend([0x00, 0x00, 0x00, 0x31, 0x12, 0x30]); // 2030-12-31 00:00:00
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x1C, &ctl)).await).expect("valid reply");
    assert_eq!(r.1, 0x9C, "relay control accepted");
    let r = parse(&exchange(s, &read_req(0x0400_0503)).await).expect("valid reply");
    let sw3 = u16::from_le_bytes([r.2[4], r.2[5]]);
    assert_eq!(sw3 & 0x0010, 0x0010, "relay open after 1A");
    let m = b.meter(0, ADDR).expect("meter");
    assert_eq!(m.value(names::RELAY_OPEN), Some(1));
    assert_eq!(m.value(names::POWER), Some(0));
    // Close permitted (1B): the relay stays open, status word 3 shows relay open (bit 4)
    // with no trip command in force (bit 6 clear), until the tenant presses the button.
    ctl[8] = 0x1B;
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x1C, &ctl)).await).expect("valid reply");
    assert_eq!(r.1, 0x9C);
    let r = parse(&exchange(s, &read_req(0x0400_0503)).await).expect("valid reply");
    let sw3 = u16::from_le_bytes([r.2[4], r.2[5]]);
    assert_eq!(sw3 & 0x0050, 0x0010, "open, close permitted: {sw3:04x}");
    assert!(m.press_button(), "the tenant closes it");
    assert_eq!(m.value(names::RELAY_OPEN), Some(0));
    ctl[8] = 0x1A;
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x1C, &ctl)).await).expect("valid reply");
    assert_eq!(r.1, 0x9C);
    let r = parse(&exchange(s, &read_req(0x0400_0503)).await).expect("valid reply");
    let sw3 = u16::from_le_bytes([r.2[4], r.2[5]]);
    assert_eq!(sw3 & 0x0050, 0x0050, "open by command: {sw3:04x}");
    assert!(!m.press_button(), "the button cannot undo a trip command");
    // Direct close (1C).
    ctl[8] = 0x1C;
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x1C, &ctl)).await).expect("valid reply");
    assert_eq!(r.1, 0x9C);
    assert_eq!(m.value(names::RELAY_OPEN), Some(0));
    // Write alarm amount 1 (04001001) = 30.00 yuan: DI, password, operator, value.
    let mut w = 0x0400_1001u32.to_le_bytes().to_vec();
    w.extend([0x02, 0, 0, 0, 0, 0, 0, 0]);
    w.extend([0x00, 0x30, 0x00, 0x00]);
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x14, &w)).await).expect("valid reply");
    assert_eq!(r.1, 0x94, "write accepted");
    assert_eq!(m.value(names::ALARM1), Some(3000));
    // Writing a read-only value is refused (D4, unauthorised).
    let mut w = 0x0001_0000u32.to_le_bytes().to_vec();
    w.extend([0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let r = parse(&exchange(s, &frame(ADDR_WIRE, 0x14, &w)).await).expect("valid reply");
    assert_eq!((r.1, r.2.clone()), (0xD4, vec![0x04]));
    // Another address on the bus: the meter stays silent; the other one answers.
    let other = [0x01, 0, 0, 0, 0, 0];
    let r = parse(&exchange(s, &frame(other, 0x11, &0x0001_0000u32.to_le_bytes())).await)
        .expect("meter 1 answers");
    assert_eq!(r.0, other);
    let nobody = [0x77, 0, 0, 0, 0, 0];
    assert!(
        exchange(s, &frame(nobody, 0x11, &0x0001_0000u32.to_le_bytes()))
            .await
            .is_empty()
    );
    // A checksum fault shows on the wire.
    m.set_faults(Faults::parse_list("crc_error").expect("f"));
    let raw = exchange(s, &read_req(0x0001_0000)).await;
    assert!(
        !raw.is_empty() && parse(&raw).is_none(),
        "bad checksum: {raw:02x?}"
    );
    m.set_faults(Faults::none());
}

#[tokio::test]
async fn dlt645_meter_on_a_pty() {
    let b = building("pty", 19_200).await;
    let Endpoint::Pty(path) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("pty")
    };
    let mut port = tokio_serial::SerialStream::open(
        &tokio_serial::new(path.to_string_lossy(), 19_200).parity(tokio_serial::Parity::Even),
    )
    .expect("open");
    dlt645_dialogue(&b, &mut port).await;
}

#[tokio::test]
async fn dlt645_meter_on_tcp() {
    let b = building("tcp:127.0.0.1:0", 0).await;
    let Endpoint::SerialServer(addr) = b.bus(0).expect("bus").endpoint().clone() else {
        panic!("raw tcp")
    };
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    dlt645_dialogue(&b, &mut s).await;
}
