//! The simulated meter's DL/T 645-2007 side.
//!
//! Frame (DL/T 645-2007 §5.1): 0–4 × FE preamble, 68, A0..A5 (BCD, lowest first), 68, C, L,
//! DATA (each byte + 33H on the wire), CS (sum mod 256 from the first 68 to the byte before
//! CS), 16. Replies set bit 7 of C (normal: C | 80H; abnormal: C | C0H + one error byte).
//! Framing comes from `protocol::dlt645` (the collector's codec); this module is the meter
//! behind it.

use super::bus::{BusShared, Frame, SimAddress, Transaction};
use super::meter::{CreditVerifier, Refused, SimMeter};
use crate::protocol::dlt645 as proto;
use crate::protocol::profile::{Access, CommandKind, RegType};

/// Control codes (DL/T 645-2007 §5.1.3 / §7).
pub const C_BROADCAST_TIME: u8 = 0x08;
pub const C_READ: u8 = 0x11;
pub const C_READ_ADDRESS: u8 = 0x13;
pub const C_WRITE: u8 = 0x14;
pub const C_CONTROL: u8 = 0x1C;

/// Error byte bits of an abnormal reply (DL/T 645-2007 §7.1 表 "错误信息字 SERR").
pub const ERR_OTHER: u8 = 0x01;
pub const ERR_NO_DATA: u8 = 0x02;
pub const ERR_UNAUTHORISED: u8 = 0x04;

/// Relay control N1 codes (DL/T 645-2007 §7.8).
pub const N1_TRIP: u8 = 0x1A;
pub const N1_CLOSE_PERMITTED: u8 = 0x1B;
pub const N1_CLOSE_DIRECT: u8 = 0x1C;
pub const N1_ALARM: u8 = 0x2A;
pub const N1_ALARM_CLEAR: u8 = 0x2B;
pub const N1_KEEP_POWER: u8 = 0x3A;
pub const N1_KEEP_POWER_RELEASE: u8 = 0x3B;

/// Encodes a reply frame behind the four FE wake-up bytes meters commonly send.
pub fn encode(address: [u8; 6], control: u8, data: &[u8]) -> Vec<u8> {
    let frame = proto::Frame {
        address: match proto::Address::from_wire(address) {
            Ok(a) => a,
            Err(_) => return Vec::new(),
        },
        control: proto::Control(control),
        data: data.to_vec(),
    };
    proto::encode_with_preamble(&frame).unwrap_or_default()
}

/// A decoded frame: address, control code, un-scrambled data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub address: [u8; 6],
    pub control: u8,
    pub data: Vec<u8>,
}

/// Decodes one frame (`None` on any defect).
pub fn decode(f: &[u8]) -> Option<Decoded> {
    let (frame, _) = proto::decode(f).ok()?;
    Some(Decoded {
        address: frame.address.wire(),
        control: frame.control.0,
        data: frame.data,
    })
}

/// Takes one complete, checksum-correct frame off the receive buffer, skipping preamble and
/// noise before it (DL/T 645-2007 §5.1: the master may send up to four FE first).
pub(crate) fn take_frame(buf: &mut Vec<u8>) -> Option<Frame> {
    loop {
        match proto::decode(buf) {
            Ok((_, used)) => {
                let start = buf[..used].iter().position(|b| *b == 0x68).unwrap_or(0);
                let body = buf[start..used].to_vec();
                buf.drain(..used);
                return Some(Frame {
                    body,
                    wire_len: used,
                });
            }
            Err(e) if e.is_incomplete() => return None,
            Err(proto::Dlt645Error::NoStart(_)) => {
                buf.clear();
                return None;
            }
            Err(_) => {
                // A bad frame: drop through its first 0x68 and scan on.
                let start = buf.iter().position(|b| *b == 0x68).unwrap_or(0);
                buf.drain(..=start.min(buf.len().saturating_sub(1)));
                if buf.is_empty() {
                    return None;
                }
            }
        }
    }
}

fn matches(meter: &[u8; 6], requested: &[u8; 6]) -> bool {
    match (
        proto::Address::from_wire(*meter),
        proto::Address::from_wire(*requested),
    ) {
        (Ok(m), Ok(r)) => !r.is_broadcast() && m.accepts(&r),
        _ => false,
    }
}

/// The reply body (control + data) for a request, or `None` to stay silent.
fn handle(m: &mut SimMeter, req: &Decoded, v: Option<&dyn CreditVerifier>) -> Option<Vec<u8>> {
    let c = req.control;
    let normal = |data: Vec<u8>| {
        let mut out = vec![c | 0x80];
        out.extend(data);
        Some(out)
    };
    let abnormal = |err: u8| Some(vec![c | 0xC0, err]);
    match c {
        C_BROADCAST_TIME => None,
        C_READ_ADDRESS => None, // answered by the caller, which knows the address
        C_READ => {
            let Some(di) = req.data.get(..4) else {
                return abnormal(ERR_OTHER);
            };
            let di_n = u32::from_le_bytes([di[0], di[1], di[2], di[3]]);
            match read_di(m, di_n) {
                Some(value) => {
                    let mut data = di.to_vec();
                    data.extend(value);
                    normal(data)
                }
                None => abnormal(ERR_NO_DATA),
            }
        }
        C_WRITE => {
            // DI(4) + password(4) + operator code(4) + value (DL/T 645-2007 §7.4).
            let (Some(di), Some(value)) = (req.data.get(..4), req.data.get(12..)) else {
                return abnormal(ERR_OTHER);
            };
            let di_n = u32::from_le_bytes([di[0], di[1], di[2], di[3]]);
            match write_di(m, di_n, value, v) {
                Ok(()) => normal(Vec::new()),
                Err(Refused::ReadOnly(_)) | Err(Refused::Credit(_)) => abnormal(ERR_UNAUTHORISED),
                Err(Refused::NoSuchRegister(_)) => abnormal(ERR_NO_DATA),
                Err(_) => abnormal(ERR_OTHER),
            }
        }
        C_CONTROL => {
            // password(4) + operator(4) + N1 + N2 + valid-until(6) (§7.8).
            let Some(&n1) = req.data.get(8) else {
                return abnormal(ERR_OTHER);
            };
            let kind = match n1 {
                N1_TRIP => Some(CommandKind::RelayTrip),
                N1_CLOSE_DIRECT => Some(CommandKind::RelayClose),
                N1_KEEP_POWER => Some(CommandKind::KeepPowerOn),
                N1_KEEP_POWER_RELEASE => Some(CommandKind::PrepaidOn),
                // Close permitted: the tenant must press the button; the relay stays open.
                N1_CLOSE_PERMITTED => {
                    m.permit_close();
                    None
                }
                N1_ALARM | N1_ALARM_CLEAR => None,
                _ => return abnormal(ERR_OTHER),
            };
            match kind.map(|k| m.command(k)) {
                None | Some(Ok(())) => normal(Vec::new()),
                Some(Err(_)) => abnormal(ERR_OTHER),
            }
        }
        _ => abnormal(ERR_OTHER),
    }
}

/// The data bytes for a DI (lowest byte first), merging registers that share it (status
/// word bits) and answering phase blocks (xx xx FF xx) from the single phases.
pub fn read_di(m: &SimMeter, di: u32) -> Option<Vec<u8>> {
    if di & 0x0000_FF00 == 0x0000_FF00 {
        let mut out = Vec::new();
        let mut any = false;
        for phase in 1..=3u32 {
            let one = (di & 0xFFFF_00FF) | (phase << 8);
            match read_di(m, one) {
                Some(v) => {
                    any = true;
                    out.extend(v);
                }
                None => {
                    // A single-phase meter answers B and C with zeros of A's size.
                    let size = m
                        .profile
                        .registers
                        .iter()
                        .find(|r| r.di() == Some((di & 0xFFFF_00FF) | (1 << 8)))
                        .map_or(0, |r| usize::from(r.size));
                    out.extend(std::iter::repeat_n(0u8, size));
                }
            }
        }
        return any.then_some(out);
    }
    let profile = m.profile.clone();
    let regs: Vec<_> = profile
        .registers
        .iter()
        .filter(|r| r.di() == Some(di) && r.access != Access::W)
        .collect();
    let first = regs.first()?;
    let mut out = vec![0u8; usize::from(first.size)];
    for r in regs {
        let value = m.value(&r.name).unwrap_or(0);
        let bytes = r.encode_dlt645(value).ok()?;
        for (o, b) in out.iter_mut().zip(bytes) {
            *o |= b;
        }
    }
    Some(out)
}

fn write_di(
    m: &mut SimMeter,
    di: u32,
    value: &[u8],
    v: Option<&dyn CreditVerifier>,
) -> Result<(), Refused> {
    let profile = m.profile.clone();
    let r = profile
        .registers
        .iter()
        .find(|r| r.di() == Some(di))
        .ok_or_else(|| Refused::NoSuchRegister(format!("{di:08X}")))?;
    if r.access == Access::R {
        return Err(Refused::ReadOnly(r.name.clone()));
    }
    if r.kind == RegType::Bytes {
        return m.accept_credit(value, v).map(|_| ());
    }
    let n = r.decode_dlt645(value).map_err(|_| Refused::BadValue {
        name: r.name.clone(),
        value: -1,
    })?;
    m.write(&r.name, n)
}

/// Runs a DL/T 645 request against the bus.
pub(crate) fn transaction(shared: &BusShared, frame: &[u8]) -> Transaction {
    let silent = Transaction {
        reply_address: None,
        reply: None,
        outcome: super::faults::Outcome {
            silent: true,
            ..Default::default()
        },
    };
    let Some(req) = decode(frame) else {
        return silent;
    };
    // Which meter: exact address, or the only one that matches a wildcard.
    let target = {
        let meters = shared.meters.lock().unwrap_or_else(|p| p.into_inner());
        let hits: Vec<SimAddress> = meters
            .iter()
            .filter(|m| !m.faults.removed)
            .filter(|m| {
                m.address
                    .dlt645_bytes()
                    .is_some_and(|a| matches(&a, &req.address))
            })
            .map(|m| m.address.clone())
            .collect();
        if req.address == [0x99; 6] {
            None // broadcast
        } else if hits.len() == 1 {
            hits.into_iter().next()
        } else {
            return silent; // nobody, or a wildcard collision nobody can win
        }
    };
    shared.transact(target.as_ref(), |m, v| {
        if req.control == C_READ_ADDRESS {
            // The address itself is added when the reply is framed.
            return Some(vec![C_READ_ADDRESS | 0x80]);
        }
        handle(m, &req, v)
    })
}

/// Frames a reply body (control + data) with the replying meter's address.
pub(crate) fn readdress(body: &[u8], address: &SimAddress) -> Vec<u8> {
    let a = address.dlt645_bytes().unwrap_or([0; 6]);
    let Some((&control, data)) = body.split_first() else {
        return Vec::new();
    };
    if control == C_READ_ADDRESS | 0x80 {
        return encode(a, control, &a);
    }
    encode(a, control, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known frame from docs/reference/meter-protocols.md: read DI 028022FF from
    /// address 202208310002.
    #[test]
    fn known_read_frame() {
        let known = [
            0xfe, 0xfe, 0xfe, 0xfe, 0x68, 0x02, 0x00, 0x31, 0x08, 0x22, 0x20, 0x68, 0x11, 0x04,
            0x32, 0x55, 0xb3, 0x35, 0xd1, 0x16,
        ];
        let addr = SimAddress::Dlt645("202208310002".into());
        let a = addr.dlt645_bytes().expect("bcd");
        assert_eq!(a, [0x02, 0x00, 0x31, 0x08, 0x22, 0x20]);
        assert_eq!(
            encode(a, C_READ, &0x0280_22FFu32.to_le_bytes()),
            known.to_vec()
        );
        let mut buf = known.to_vec();
        let f = take_frame(&mut buf).expect("frame");
        assert_eq!(f.wire_len, known.len());
        let d = decode(&f.body).expect("decode");
        assert_eq!(d.data, 0x0280_22FFu32.to_le_bytes().to_vec());
        assert!(buf.is_empty());
    }

    #[test]
    fn noise_and_bad_checksums_are_skipped() {
        let good = encode([1, 0, 0, 0, 0, 0], C_READ, &[0, 0, 1, 0]);
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 2] ^= 1;
        let mut buf = vec![0x68, 0x00, 0x13];
        buf.extend(&bad);
        buf.extend(&good);
        let f = take_frame(&mut buf).expect("the good one");
        assert_eq!(decode(&f.body).map(|d| d.control), Some(C_READ));
    }

    proptest::proptest! {
        #[test]
        fn take_frame_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut b = bytes.clone();
            while take_frame(&mut b).is_some() {}
            let _ = decode(&bytes);
        }
    }
}
