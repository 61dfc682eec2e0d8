//! The stored form of a [`Reading`]: a compact binary record, versioned by its first byte.
//!
//! A 5,000-meter site stores 240,000 readings a day and keeps 400 days of them, so the
//! value is as small as it can be while staying exact: the meter id and the millisecond
//! are the table's key and are not repeated; every number is a (zigzag) LEB128 varint.
//!
//! Format version 1 (`0x01`), in order:
//! - `0x01`;
//! - a flags byte: bit 0 bands, 1 power, 2 balance, 3 purchase count, 4 relay present,
//!   5 relay open, 6 rollback; bit 7 must be 0;
//! - the sub-millisecond part of the time in ns (zigzag varint; the key holds the ms);
//! - total (zigzag varint, Wh);
//! - if bands: the four band registers (zigzag varints);
//! - voltages: a count (varint), then each (zigzag varint, 0.1 V); currents likewise (mA);
//! - if power: W; if balance: fen (zigzag varints); if purchase count: a varint (u32);
//! - nothing after (trailing bytes are an error).
//!
//! Records written before this format are JSON objects (first byte `{`); they decode as
//! before, so a store keeps every reading it had without a migration. Pure: no I/O.

use jiff::Timestamp;

use super::{Reading, Relay};
use crate::site::ids::MeterId;
use crate::units::{Fen, Wh};

/// The format [`encode`] writes.
pub const VERSION: u8 = 1;

const BANDS: u8 = 1;
const POWER: u8 = 1 << 1;
const BALANCE: u8 = 1 << 2;
const COUNT: u8 = 1 << 3;
const RELAY: u8 = 1 << 4;
const RELAY_OPEN: u8 = 1 << 5;
const ROLLBACK: u8 = 1 << 6;
const KNOWN: u8 = BANDS | POWER | BALANCE | COUNT | RELAY | RELAY_OPEN | ROLLBACK;

/// Why a stored value is not a reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty reading record")]
    Empty,
    #[error("reading record format {0} is unknown to this voltvend")]
    UnknownVersion(u8),
    #[error("reading record flags {0:#04x} carry unknown bits")]
    UnknownFlags(u8),
    #[error("reading record ends inside a field ({0})")]
    Truncated(&'static str),
    #[error("reading record: a number in {0} is longer than 64 bits")]
    Overflow(&'static str),
    #[error("reading record: a number in {0} is padded")]
    Padded(&'static str),
    #[error("reading record: {0} out of range")]
    Range(&'static str),
    #[error("reading record has {0} bytes after its last field")]
    Trailing(usize),
    #[error("reading record time is out of range")]
    Time,
    #[error("old (JSON) reading record: {0}")]
    Json(String),
}

/// The stored value of `r` (its meter and millisecond go in the key).
pub fn encode(r: &Reading) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.push(VERSION);
    let mut flags = 0u8;
    flags |= if r.bands.is_some() { BANDS } else { 0 };
    flags |= if r.power_w.is_some() { POWER } else { 0 };
    flags |= if r.balance.is_some() { BALANCE } else { 0 };
    flags |= if r.purchase_count.is_some() { COUNT } else { 0 };
    flags |= match r.relay {
        None => 0,
        Some(Relay::Closed) => RELAY,
        Some(Relay::Open) => RELAY | RELAY_OPEN,
    };
    flags |= if r.rollback { ROLLBACK } else { 0 };
    out.push(flags);
    put_i(&mut out, sub_ms_ns(r.at));
    put_i(&mut out, r.total.0);
    if let Some(b) = r.bands {
        for w in b {
            put_i(&mut out, w.0);
        }
    }
    for list in [&r.voltage_dv, &r.current_ma] {
        put_u(&mut out, list.len() as u64);
        for v in list {
            put_i(&mut out, *v);
        }
    }
    if let Some(p) = r.power_w {
        put_i(&mut out, p);
    }
    if let Some(b) = r.balance {
        put_i(&mut out, b.0);
    }
    if let Some(c) = r.purchase_count {
        put_u(&mut out, u64::from(c));
    }
    out
}

/// The reading stored under key `(meter, at_ms)` with value `bytes`: this format, or the
/// JSON of earlier versions.
pub fn decode(meter: &str, at_ms: i64, bytes: &[u8]) -> Result<Reading, CodecError> {
    match bytes.first() {
        None => Err(CodecError::Empty),
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| CodecError::Json(e.to_string())),
        Some(&VERSION) => decode_v1(meter, at_ms, &bytes[1..]),
        Some(&v) => Err(CodecError::UnknownVersion(v)),
    }
}

fn decode_v1(meter: &str, at_ms: i64, bytes: &[u8]) -> Result<Reading, CodecError> {
    let mut c = Cursor { bytes, pos: 0 };
    let flags = c.byte("flags")?;
    if flags & !KNOWN != 0 {
        return Err(CodecError::UnknownFlags(flags));
    }
    if flags & RELAY_OPEN != 0 && flags & RELAY == 0 {
        return Err(CodecError::UnknownFlags(flags));
    }
    let sub = c.int("time")?;
    if !(-999_999..=999_999).contains(&sub) {
        return Err(CodecError::Range("sub-millisecond time"));
    }
    let ns = i128::from(at_ms) * 1_000_000 + i128::from(sub);
    let at = Timestamp::from_nanosecond(ns).map_err(|_| CodecError::Time)?;
    if at.as_millisecond() != at_ms {
        return Err(CodecError::Time);
    }
    let total = Wh(c.int("total")?);
    let bands = if flags & BANDS != 0 {
        let mut b = [Wh::ZERO; 4];
        for w in &mut b {
            *w = Wh(c.int("bands")?);
        }
        Some(b)
    } else {
        None
    };
    let voltage_dv = c.list("voltages")?;
    let current_ma = c.list("currents")?;
    let power_w = (flags & POWER != 0).then(|| c.int("power")).transpose()?;
    let balance = (flags & BALANCE != 0)
        .then(|| c.int("balance").map(Fen))
        .transpose()?;
    let purchase_count = (flags & COUNT != 0)
        .then(|| {
            c.uint("purchase count")
                .and_then(|n| u32::try_from(n).map_err(|_| CodecError::Range("purchase count")))
        })
        .transpose()?;
    let relay = match (flags & RELAY != 0, flags & RELAY_OPEN != 0) {
        (false, _) => None,
        (true, false) => Some(Relay::Closed),
        (true, true) => Some(Relay::Open),
    };
    let left = bytes.len() - c.pos;
    if left != 0 {
        return Err(CodecError::Trailing(left));
    }
    Ok(Reading {
        meter: MeterId::new(meter),
        at,
        total,
        bands,
        voltage_dv,
        current_ma,
        power_w,
        balance,
        purchase_count,
        relay,
        rollback: flags & ROLLBACK != 0,
    })
}

/// The part of `at` below its millisecond, in ns (the sign of `at`'s own rounding, so
/// `at_ms × 10^6 + sub` is `at` again).
fn sub_ms_ns(at: Timestamp) -> i64 {
    let sub = at.as_nanosecond() - i128::from(at.as_millisecond()) * 1_000_000;
    // |sub| < 10^6 by construction.
    sub as i64
}

fn put_u(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, ((v << 1) ^ (v >> 63)) as u64);
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self, what: &'static str) -> Result<u8, CodecError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(CodecError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    fn uint(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte(what)?;
            let part = u64::from(b & 0x7f);
            // The tenth byte holds only the 64th bit.
            if i == 9 && part > 1 {
                return Err(CodecError::Overflow(what));
            }
            v |= part << (7 * i);
            if b & 0x80 == 0 {
                // A last byte of 0 (after the first) pads the number: one encoding only.
                if i > 0 && b == 0 {
                    return Err(CodecError::Padded(what));
                }
                return Ok(v);
            }
        }
        Err(CodecError::Overflow(what))
    }

    fn int(&mut self, what: &'static str) -> Result<i64, CodecError> {
        let u = self.uint(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn list(&mut self, what: &'static str) -> Result<Vec<i64>, CodecError> {
        let n = self.uint(what)?;
        // Each value takes at least one byte: a count beyond what is left is corrupt (and
        // never an allocation of that size).
        if n > (self.bytes.len() - self.pos) as u64 {
            return Err(CodecError::Truncated(what));
        }
        (0..n).map(|_| self.int(what)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full(ms: i64) -> Reading {
        Reading {
            meter: MeterId::new("A101-1"),
            at: Timestamp::from_millisecond(ms).unwrap(),
            total: Wh(1_318_920),
            bands: Some([Wh(1), Wh(300_000), Wh(500_000), Wh(518_919)]),
            voltage_dv: vec![2201],
            current_ma: vec![4_350],
            power_w: Some(1_003),
            balance: Some(Fen(-4_750)),
            purchase_count: Some(17),
            relay: Some(Relay::Open),
            rollback: true,
        }
    }

    fn reading() -> impl Strategy<Value = Reading> {
        (
            (
                "[A-Za-z0-9-]{1,12}",
                -62_135_596_800_000i64..253_402_207_200_000,
                0i64..1_000_000,
                any::<i64>(),
                proptest::option::of(any::<[i64; 4]>()),
                proptest::collection::vec(any::<i64>(), 0..4),
            ),
            (
                proptest::collection::vec(any::<i64>(), 0..4),
                proptest::option::of(any::<i64>()),
                proptest::option::of(any::<i64>()),
                proptest::option::of(any::<u32>()),
                proptest::option::of(prop_oneof![Just(Relay::Closed), Just(Relay::Open)]),
                any::<bool>(),
            ),
        )
            .prop_map(
                |((m, ms, sub, total, bands, volt), (cur, power, bal, count, relay, rb))| {
                    let ns = i128::from(ms) * 1_000_000
                        + if ms < 0 {
                            -i128::from(sub)
                        } else {
                            i128::from(sub)
                        };
                    Reading {
                        meter: MeterId::new(m),
                        at: Timestamp::from_nanosecond(ns).unwrap(),
                        total: Wh(total),
                        bands: bands.map(|b| b.map(Wh)),
                        voltage_dv: volt,
                        current_ma: cur,
                        power_w: power,
                        balance: bal.map(Fen),
                        purchase_count: count,
                        relay,
                        rollback: rb,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn every_reading_round_trips(r in reading()) {
            let bytes = encode(&r);
            prop_assert_eq!(bytes[0], VERSION);
            prop_assert_eq!(decode(r.meter.as_str(), r.at_ms(), &bytes), Ok(r.clone()));
            // Every cut short is refused, never misread.
            for n in 0..bytes.len() {
                prop_assert!(decode(r.meter.as_str(), r.at_ms(), &bytes[..n]).is_err());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert_eq!(
                decode(r.meter.as_str(), r.at_ms(), &longer),
                Err(CodecError::Trailing(1))
            );
        }

        #[test]
        fn garbage_is_an_error_or_a_reading_never_a_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            ms in any::<i64>(),
        ) {
            if let Ok(r) = decode("M", ms, &bytes) {
                // Whatever decodes is a reading that encodes to the same bytes
                // (one encoding per reading: nothing is read two ways).
                if bytes[0] == VERSION {
                    prop_assert_eq!(encode(&r), bytes);
                }
            }
        }
    }

    #[test]
    fn a_full_reading_is_small() {
        let r = full(1_765_000_000_000);
        let bytes = encode(&r);
        assert!(bytes.len() <= 32, "{} bytes", bytes.len());
        assert!(crate::store::encode(&r).len() > 6 * bytes.len());
    }

    #[test]
    fn old_json_records_still_read() {
        let r = full(1_765_000_000_000);
        let json = crate::store::encode(&r);
        assert_eq!(json[0], b'{');
        assert_eq!(decode("A101-1", r.at_ms(), &json), Ok(r));
        assert!(matches!(
            decode("A101-1", 0, b"{\"total\":"),
            Err(CodecError::Json(_))
        ));
    }

    #[test]
    fn bad_records_get_one_precise_error() {
        let r = full(1_765_000_000_000);
        let ms = r.at_ms();
        assert_eq!(decode("M", ms, &[]), Err(CodecError::Empty));
        assert_eq!(decode("M", ms, &[7, 0]), Err(CodecError::UnknownVersion(7)));
        assert_eq!(
            decode("M", ms, &[VERSION, 0x80]),
            Err(CodecError::UnknownFlags(0x80))
        );
        assert_eq!(
            decode("M", ms, &[VERSION, RELAY_OPEN, 0, 0, 0, 0]),
            Err(CodecError::UnknownFlags(RELAY_OPEN))
        );
        assert_eq!(
            decode("M", ms, &[VERSION, 0, 0, 0xff]),
            Err(CodecError::Truncated("total"))
        );
        assert_eq!(
            decode("M", ms, &[VERSION, 0, 0, 0x82, 0x00, 0, 0]),
            Err(CodecError::Padded("total"))
        );
        let mut long = vec![VERSION, 0, 0];
        long.extend([0xff; 10]);
        assert_eq!(decode("M", ms, &long), Err(CodecError::Overflow("total")));
        // A count of voltages far beyond the record: refused, not allocated.
        let mut huge = vec![VERSION, 0, 0, 2];
        huge.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(
            decode("M", ms, &huge),
            Err(CodecError::Truncated("voltages"))
        );
        // A purchase count above u32.
        let mut count = vec![VERSION, COUNT, 0, 2, 0, 0];
        count.extend([0x80, 0x80, 0x80, 0x80, 0x10]);
        assert_eq!(
            decode("M", ms, &count),
            Err(CodecError::Range("purchase count"))
        );
    }
}
