//! The simulated meter's Modbus side: request PDU in, response PDU out (pure, no I/O), plus
//! the RTU framing the byte-stream transports need.
//!
//! Function codes follow the Modbus Application Protocol V1.1b3: 03/04 read (§6.3/6.4,
//! 1..125 registers), 06 write single (§6.6), 0x10 write multiple (§6.12, 1..123
//! registers); exceptions 01 illegal function, 02 illegal data address, 03 illegal data
//! value, 04 server device failure (§7).

use super::meter::{CreditVerifier, Refused, SimMeter};
use crate::protocol::profile::{Access, CommandAction, RegType, names};
use crate::protocol::rtu;

pub const EXC_ILLEGAL_FUNCTION: u8 = 0x01;
pub const EXC_ILLEGAL_ADDRESS: u8 = 0x02;
pub const EXC_ILLEGAL_VALUE: u8 = 0x03;
pub const EXC_DEVICE_FAILURE: u8 = 0x04;
/// Modbus Application Protocol V1.1b3 §7: gateway target device failed to respond.
pub const EXC_GATEWAY_TARGET_FAILED: u8 = 0x0B;

/// An RTU ADU: address, PDU, CRC (low byte first; `protocol::rtu`).
pub fn rtu_adu(address: u8, pdu: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(pdu.len() + 3);
    v.push(address);
    v.extend_from_slice(pdu);
    rtu::with_crc(v)
}

/// True when the last two bytes are the CRC of the rest.
pub fn rtu_crc_ok(adu: &[u8]) -> bool {
    rtu::check_crc(adu).is_ok()
}

fn exception(fc: u8, code: u8) -> Vec<u8> {
    vec![fc | 0x80, code]
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// Handles one request PDU for a meter and returns the response PDU (normal or exception).
pub fn handle_pdu(
    meter: &mut SimMeter,
    pdu: &[u8],
    verifier: Option<&dyn CreditVerifier>,
) -> Vec<u8> {
    let Some(&fc) = pdu.first() else {
        return exception(0, EXC_ILLEGAL_FUNCTION);
    };
    if meter.documented_only && touches_assumed(meter, pdu) {
        meter.assumed_requests += 1;
        return exception(fc, EXC_ILLEGAL_ADDRESS);
    }
    match fc {
        0x03 | 0x04 => {
            let (Some(start), Some(count)) = (be16(pdu, 1), be16(pdu, 3)) else {
                return exception(fc, EXC_ILLEGAL_VALUE);
            };
            match read_words(meter, start, count) {
                Ok(words) => {
                    // An energy fault is answered once: the read of the total ends it.
                    let (q0, q1) = (u32::from(start), u32::from(start) + u32::from(count));
                    if meter.profile.registers.iter().any(|r| {
                        r.name == names::ENERGY_TOTAL
                            && r.address().is_some_and(|a| {
                                u32::from(a) < q1 && u32::from(a) + u32::from(r.size) > q0
                            })
                    }) {
                        meter.energy_fault = None;
                    }
                    let mut out = Vec::with_capacity(2 + words.len() * 2);
                    out.push(fc);
                    out.push((words.len() * 2) as u8);
                    for w in words {
                        out.extend_from_slice(&w.to_be_bytes());
                    }
                    out
                }
                Err(code) => exception(fc, code),
            }
        }
        0x06 => {
            let (Some(addr), Some(value)) = (be16(pdu, 1), be16(pdu, 3)) else {
                return exception(fc, EXC_ILLEGAL_VALUE);
            };
            match write_words(meter, addr, &[value], verifier) {
                Ok(()) => pdu[..5].to_vec(),
                Err(code) => exception(fc, code),
            }
        }
        0x10 => {
            let (Some(start), Some(count), Some(&n)) = (be16(pdu, 1), be16(pdu, 3), pdu.get(5))
            else {
                return exception(fc, EXC_ILLEGAL_VALUE);
            };
            if !(1..=123).contains(&count) || usize::from(n) != usize::from(count) * 2 {
                return exception(fc, EXC_ILLEGAL_VALUE);
            }
            let Some(data) = pdu.get(6..6 + usize::from(n)) else {
                return exception(fc, EXC_ILLEGAL_VALUE);
            };
            let values: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            match write_words(meter, start, &values, verifier) {
                Ok(()) => pdu[..5].to_vec(),
                Err(code) => exception(fc, code),
            }
        }
        _ => exception(fc, EXC_ILLEGAL_FUNCTION),
    }
}

/// Whether a read or write PDU touches a register (or fixed command) whose profile source
/// is `assumed`.
fn touches_assumed(meter: &SimMeter, pdu: &[u8]) -> bool {
    let (Some(start), Some(count)) = (be16(pdu, 1), be16(pdu, 3)) else {
        return false;
    };
    let count = if pdu.first() == Some(&0x06) { 1 } else { count };
    let (q_start, q_end) = (u32::from(start), u32::from(start) + u32::from(count));
    let regs = meter.profile.registers.iter().filter(|r| !r.documented());
    let reg_hit = regs
        .filter_map(|r| r.address().map(|a| (u32::from(a), r.size)))
        .any(|(a, size)| a < q_end && a + u32::from(size) > q_start);
    let cmd_hit = meter.profile.commands.iter().any(|c| {
        !crate::protocol::profile::is_documented(&c.source)
            && matches!(&c.action, CommandAction::WriteWords { address, .. } if u32::from(*address) == q_start)
    });
    reg_hit || cmd_hit
}

/// The words of `count` registers from `start`. Unused addresses between registers read as
/// 0 (so masters may read through small gaps); a range touching no register at all is an
/// illegal data address, as on the real meter.
pub fn read_words(meter: &SimMeter, start: u16, count: u16) -> Result<Vec<u16>, u8> {
    if count == 0 || count > 125 || u32::from(start) + u32::from(count) > 0x1_0000 {
        return Err(EXC_ILLEGAL_VALUE);
    }
    let profile = meter.profile.clone();
    let mut words = vec![0u16; usize::from(count)];
    let mut any = false;
    for r in &profile.registers {
        let Some(a) = r.address() else { continue };
        let (r_start, r_end) = (u32::from(a), u32::from(a) + u32::from(r.size));
        let (q_start, q_end) = (u32::from(start), u32::from(start) + u32::from(count));
        if r_end <= q_start || r_start >= q_end {
            continue;
        }
        any = true;
        if r.kind == RegType::Bytes || r.access == Access::W {
            continue; // write-only registers read as zero
        }
        let value = meter.value(&r.name).unwrap_or(0);
        let enc = r
            .encode_words(value)
            .unwrap_or_else(|_| vec![0xFFFF; usize::from(r.size)]);
        for (i, w) in enc.iter().enumerate() {
            let at = r_start + i as u32;
            if at >= q_start && at < q_end {
                words[(at - q_start) as usize] = *w;
            }
        }
    }
    if any {
        Ok(words)
    } else {
        Err(EXC_ILLEGAL_ADDRESS)
    }
}

fn refused_code(r: &Refused) -> u8 {
    match r {
        Refused::NoSuchRegister(_) | Refused::ReadOnly(_) => EXC_ILLEGAL_ADDRESS,
        Refused::BadValue { .. } => EXC_ILLEGAL_VALUE,
        Refused::Credit(_) | Refused::Unsupported(_) => EXC_DEVICE_FAILURE,
    }
}

/// Applies a write: a profile command (exact fixed words), a credit token, or whole
/// read/write registers. All or nothing.
pub fn write_words(
    meter: &mut SimMeter,
    start: u16,
    values: &[u16],
    verifier: Option<&dyn CreditVerifier>,
) -> Result<(), u8> {
    let profile = meter.profile.clone();
    for c in &profile.commands {
        if let CommandAction::WriteWords { address, values: v } = &c.action
            && *address == start
            && v.as_slice() == values
        {
            return meter.command(c.kind).map_err(|e| refused_code(&e));
        }
    }
    if let Some(tok) = profile
        .registers
        .iter()
        .find(|r| r.kind == RegType::Bytes && r.address() == Some(start))
    {
        if values.len() > usize::from(tok.size) {
            return Err(EXC_ILLEGAL_ADDRESS);
        }
        let bytes: Vec<u8> = values.iter().flat_map(|w| w.to_be_bytes()).collect();
        return meter
            .accept_credit(&bytes, verifier)
            .map(|_| ())
            .map_err(|e| refused_code(&e));
    }
    let backup = meter.state.clone();
    let mut off = 0usize;
    while off < values.len() {
        let addr = start.wrapping_add(off as u16);
        let Some(r) = profile
            .registers
            .iter()
            .find(|r| r.address() == Some(addr) && r.kind != RegType::Bytes)
        else {
            meter.state = backup;
            return Err(EXC_ILLEGAL_ADDRESS);
        };
        let size = usize::from(r.size);
        let Some(words) = values.get(off..off + size) else {
            meter.state = backup;
            return Err(EXC_ILLEGAL_ADDRESS);
        };
        let result = r
            .decode_words(words)
            .map_err(|_| EXC_ILLEGAL_VALUE)
            .and_then(|v| meter.write(&r.name, v).map_err(|e| refused_code(&e)));
        if let Err(code) = result {
            meter.state = backup;
            return Err(code);
        }
        off += size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::profile::{builtin_named, names};
    use crate::sim::load::{Category, LoadModel};
    use crate::sim::meter::MeterInit;
    use std::sync::Arc;

    fn meter() -> SimMeter {
        let p = Arc::new(builtin_named("acrel-ddsy1352-nk").expect("profile"));
        let load = LoadModel {
            category: Category::Retail,
            peak_w: 0,
            fixed_w: Some(0),
            noise_permille: 0,
            key: 0,
        };
        let t0 = "2026-06-01T00:00:00Z".parse().expect("ts");
        SimMeter::new(p, load, MeterInit::default(), t0)
    }

    /// Modbus over Serial Line V1.02, §6.2.2 / Modbus Application Protocol examples: the
    /// request "01 03 00 00 00 0A" carries CRC C5 CD (a widely published known answer).
    #[test]
    fn crc_known_answer() {
        assert_eq!(
            rtu_adu(0x01, &[0x03, 0x00, 0x00, 0x00, 0x0A])[6..],
            [0xC5, 0xCD]
        );
        assert!(rtu_crc_ok(&[
            0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD
        ]));
        assert!(!rtu_crc_ok(&[
            0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCE
        ]));
    }

    #[test]
    fn read_and_exceptions() {
        let mut m = meter();
        let r = handle_pdu(&mut m, &[0x03, 0x01, 0x00, 0x00, 0x02], None);
        // balance 100.00 yuan = 10000 = 0x00002710.
        assert_eq!(r, vec![0x03, 0x04, 0x00, 0x00, 0x27, 0x10]);
        assert_eq!(
            handle_pdu(&mut m, &[0x03, 0x30, 0x00, 0x00, 0x02], None),
            vec![0x83, EXC_ILLEGAL_ADDRESS]
        );
        assert_eq!(
            handle_pdu(&mut m, &[0x03, 0x00, 0x00, 0x00, 0x7E], None),
            vec![0x83, EXC_ILLEGAL_VALUE]
        );
        assert_eq!(
            handle_pdu(&mut m, &[0x2B], None),
            vec![0xAB, EXC_ILLEGAL_FUNCTION]
        );
    }

    #[test]
    fn relay_command_and_register_writes() {
        let mut m = meter();
        let trip = [0x10, 0x00, 0x57, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x01];
        assert_eq!(handle_pdu(&mut m, &trip, None), trip[..5].to_vec());
        assert_eq!(m.value(names::RELAY_OPEN), Some(1));
        // Write alarm1 = 30.00 yuan (3000 = 0x0BB8) at 0x0110.
        let w = [0x10, 0x01, 0x10, 0x00, 0x02, 0x04, 0x00, 0x00, 0x0B, 0xB8];
        assert_eq!(handle_pdu(&mut m, &w, None), w[..5].to_vec());
        assert_eq!(m.value(names::ALARM1), Some(3000));
        // Balance is read-only.
        let w = [0x10, 0x01, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x0B, 0xB8];
        assert_eq!(
            handle_pdu(&mut m, &w, None),
            vec![0x90, EXC_ILLEGAL_ADDRESS]
        );
        // Credit without a verifier is refused.
        let w = [0x10, 0x01, 0x20, 0x00, 0x01, 0x02, 0xAB, 0xCD];
        assert_eq!(handle_pdu(&mut m, &w, None), vec![0x90, EXC_DEVICE_FAILURE]);
    }

    proptest::proptest! {
        #[test]
        fn garbage_pdus_never_panic(pdu in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let mut m = meter();
            let _ = handle_pdu(&mut m, &pdu, None);
            let _ = rtu::request_frame_len(&pdu);
        }
    }
}
