//! Value formats of DL/T 645-2007 appendix A ("XXXXXX.XX", "XXX.XXX", …) as exact integers.
//!
//! A value is decoded to an integer count of its last decimal place: "XXXXXX.XX" kWh gives
//! centi-kWh, "XXX.X" V gives decivolts. Energy converts exactly to [`Wh`] (× 10) and money
//! exactly to [`Fen`] (yuan with 2 decimals = fen). No floats.

use super::Dlt645Error;
use crate::protocol::bcd;
use crate::units::{Fen, Wh};

/// One value format: its width, decimal places, and whether bit 7 of the top byte is a sign.
/// `raw` formats are bit fields or byte strings, not numbers (status words, addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BcdFormat {
    pub bytes: u8,
    pub decimals: u8,
    pub signed: bool,
    pub raw: bool,
}

const fn num(bytes: u8, decimals: u8, signed: bool) -> BcdFormat {
    BcdFormat {
        bytes,
        decimals,
        signed,
        raw: false,
    }
}

const fn raw(bytes: u8) -> BcdFormat {
    BcdFormat {
        bytes,
        decimals: 0,
        signed: false,
        raw: true,
    }
}

impl BcdFormat {
    /// XXXXXX.XX kWh (energy registers).
    pub const ENERGY: BcdFormat = num(4, 2, false);
    /// XXXXXX.XX yuan (remaining and alarm amounts).
    pub const MONEY: BcdFormat = num(4, 2, false);
    /// XXX.X V.
    pub const VOLTAGE: BcdFormat = num(2, 1, false);
    /// XXX.XXX A, signed.
    pub const CURRENT: BcdFormat = num(3, 3, true);
    /// XX.XXXX kW, signed.
    pub const POWER: BcdFormat = num(3, 4, true);
    /// X.XXX, signed.
    pub const POWER_FACTOR: BcdFormat = num(2, 3, true);
    /// XX.XX Hz.
    pub const FREQUENCY: BcdFormat = num(2, 2, false);
    /// NNNN (a count).
    pub const COUNT: BcdFormat = num(2, 0, false);
    pub const RAW2: BcdFormat = raw(2);
    pub const RAW3: BcdFormat = raw(3);
    pub const RAW4: BcdFormat = raw(4);
    pub const RAW6: BcdFormat = raw(6);

    /// Decodes exactly `self.bytes` bytes (lowest first) to an integer of the last decimal
    /// place. Raw formats decode as a little-endian unsigned integer.
    pub fn decode(&self, bytes: &[u8]) -> Result<i64, Dlt645Error> {
        if bytes.len() != usize::from(self.bytes) {
            return Err(Dlt645Error::BadLength {
                expected: format!("{} value bytes", self.bytes),
                got: bytes.len(),
            });
        }
        if self.raw {
            return Ok(bytes
                .iter()
                .rev()
                .fold(0i64, |acc, b| (acc << 8) | i64::from(*b)));
        }
        if self.signed {
            Ok(bcd::decode_signed_le(bytes)?)
        } else {
            // At most 4 bytes = 8 digits here, always within i64.
            Ok(bcd::decode_le(bytes)? as i64)
        }
    }

    /// Encodes an integer of the last decimal place into `self.bytes` bytes.
    pub fn encode(&self, value: i64) -> Result<Vec<u8>, Dlt645Error> {
        let len = usize::from(self.bytes);
        if self.raw {
            let v = u64::try_from(value).map_err(|_| {
                Dlt645Error::Bcd(bcd::BcdError::TooLarge {
                    value: 0,
                    digits: len * 2,
                })
            })?;
            let le = v.to_le_bytes();
            if len < 8 && (v >> (8 * len)) != 0 {
                return Err(Dlt645Error::Bcd(bcd::BcdError::TooLarge {
                    value: v,
                    digits: len * 2,
                }));
            }
            return Ok(le[..len.min(8)].to_vec());
        }
        if self.signed {
            Ok(bcd::encode_signed_le(value, len)?)
        } else {
            let v = u64::try_from(value).map_err(|_| {
                Dlt645Error::Bcd(bcd::BcdError::TooLarge {
                    value: 0,
                    digits: len * 2,
                })
            })?;
            Ok(bcd::encode_le(v, len)?)
        }
    }

    /// Decodes `n` consecutive values (a data block such as 0201FF00).
    pub fn decode_many(&self, bytes: &[u8], n: usize) -> Result<Vec<i64>, Dlt645Error> {
        let w = usize::from(self.bytes);
        if bytes.len() != w * n {
            return Err(Dlt645Error::BadLength {
                expected: format!("{n} × {w} value bytes"),
                got: bytes.len(),
            });
        }
        bytes.chunks(w).map(|c| self.decode(c)).collect()
    }
}

/// XXXXXX.XX kWh → Wh, exactly (1 centi-kWh = 10 Wh).
pub fn energy_wh(bytes: &[u8]) -> Result<Wh, Dlt645Error> {
    Ok(Wh::from_centi_kwh(BcdFormat::ENERGY.decode(bytes)?))
}

/// Wh → XXXXXX.XX kWh bytes; refuses energy that is not a whole 10 Wh or out of range.
pub fn encode_energy(energy: Wh) -> Result<Vec<u8>, Dlt645Error> {
    if energy.0 % 10 != 0 {
        return Err(Dlt645Error::Bcd(bcd::BcdError::TooLarge {
            value: energy.0.unsigned_abs(),
            digits: 8,
        }));
    }
    BcdFormat::ENERGY.encode(energy.0 / 10)
}

/// XXXXXX.XX yuan → fen, exactly.
pub fn money_fen(bytes: &[u8]) -> Result<Fen, Dlt645Error> {
    Ok(Fen(BcdFormat::MONEY.decode(bytes)?))
}

/// Fen → XXXXXX.XX yuan bytes (0..=999999.99 yuan).
pub fn encode_money(amount: Fen) -> Result<Vec<u8>, Dlt645Error> {
    BcdFormat::MONEY.encode(amount.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_formats() {
        // test-vectors §6.2: 56 34 12 00 = 1234.56 kWh = 1 234 560 Wh.
        assert_eq!(energy_wh(&[0x56, 0x34, 0x12, 0x00]), Ok(Wh(1_234_560)));
        assert_eq!(money_fen(&[0x50, 0x18, 0x00, 0x00]), Ok(Fen(1850)));
        assert_eq!(BcdFormat::VOLTAGE.decode(&[0x05, 0x22]), Ok(2205));
        assert_eq!(BcdFormat::CURRENT.decode(&[0x00, 0x50, 0x80]), Ok(-5000));
        assert_eq!(BcdFormat::RAW2.decode(&[0x10, 0x10]), Ok(0x1010));
        assert!(BcdFormat::ENERGY.decode(&[0x56, 0x34, 0x12]).is_err());
        assert!(encode_money(Fen(-1)).is_err());
        assert!(encode_energy(Wh(15)).is_err());
        assert_eq!(
            encode_energy(Wh(1_234_560)),
            Ok(vec![0x56, 0x34, 0x12, 0x00])
        );
    }
}
