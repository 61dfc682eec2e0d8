//! Packed BCD (binary-coded decimal), as meters put numbers on the wire.
//!
//! DL/T 645-2007 sends every number as packed BCD, lowest byte first, and marks negative
//! values by the top bit of the highest byte (clause 4.3.5 / appendix A data formats such as
//! XXX.XXX for current). Values come back as exact integers in units of the format's last
//! decimal place: never floats.

/// Why bytes are not the BCD number expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BcdError {
    #[error("byte 0x{byte:02X} at offset {offset} is not packed BCD")]
    NotBcd { offset: usize, byte: u8 },
    #[error("value {value} does not fit in {digits} BCD digits")]
    TooLarge { value: u64, digits: usize },
    #[error("expected {expected} bytes of BCD, got {got}")]
    Length { expected: usize, got: usize },
}

/// One byte 0..=99 to packed BCD (`42` → `0x42`); `None` above 99.
pub fn to_bcd(value: u8) -> Option<u8> {
    if value <= 99 {
        Some(((value / 10) << 4) | (value % 10))
    } else {
        None
    }
}

/// One packed BCD byte to its value (`0x42` → `42`); `None` when a nibble is above 9.
pub fn from_bcd(byte: u8) -> Option<u8> {
    let (hi, lo) = (byte >> 4, byte & 0x0F);
    (hi <= 9 && lo <= 9).then_some(hi * 10 + lo)
}

/// Decodes unsigned packed BCD stored lowest byte first (`56 34 12 00` → 123456).
pub fn decode_le(bytes: &[u8]) -> Result<u64, BcdError> {
    if bytes.len() > 9 {
        return Err(BcdError::Length {
            expected: 9,
            got: bytes.len(),
        });
    }
    let mut value: u64 = 0;
    for (offset, &byte) in bytes.iter().enumerate().rev() {
        let digits = from_bcd(byte).ok_or(BcdError::NotBcd { offset, byte })?;
        value = value * 100 + u64::from(digits);
    }
    Ok(value)
}

/// Encodes `value` as `len` bytes of packed BCD, lowest byte first.
pub fn encode_le(value: u64, len: usize) -> Result<Vec<u8>, BcdError> {
    let too_large = BcdError::TooLarge {
        value,
        digits: len * 2,
    };
    if len > 9 {
        return Err(too_large);
    }
    let mut out = Vec::with_capacity(len);
    let mut rest = value;
    for _ in 0..len {
        // `rest % 100` is below 100, so `to_bcd` always succeeds.
        out.push(to_bcd((rest % 100) as u8).ok_or(too_large.clone())?);
        rest /= 100;
    }
    if rest != 0 {
        return Err(too_large);
    }
    Ok(out)
}

/// Decodes signed packed BCD, lowest byte first, sign in bit 7 of the last (highest) byte.
pub fn decode_signed_le(bytes: &[u8]) -> Result<i64, BcdError> {
    let Some((&top, low)) = bytes.split_last() else {
        return Ok(0);
    };
    let negative = top & 0x80 != 0;
    let mut magnitude_bytes = low.to_vec();
    magnitude_bytes.push(top & 0x7F);
    let magnitude = decode_le(&magnitude_bytes)?;
    // At most 8 bytes of digits fit an i64 (9 bytes are refused by decode_le above 18 digits).
    let magnitude = i64::try_from(magnitude).map_err(|_| BcdError::Length {
        expected: 8,
        got: bytes.len(),
    })?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Encodes a signed value as `len` bytes of packed BCD with the sign in bit 7 of the top byte.
pub fn encode_signed_le(value: i64, len: usize) -> Result<Vec<u8>, BcdError> {
    let magnitude = value.unsigned_abs();
    let mut out = encode_le(magnitude, len)?;
    if let Some(top) = out.last_mut() {
        // The top digit must leave bit 7 free for the sign: at most 7 in the high nibble.
        if *top & 0x80 != 0 {
            return Err(BcdError::TooLarge {
                value: magnitude,
                digits: len * 2 - 1,
            });
        }
        if value < 0 {
            *top |= 0x80;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_bytes() {
        assert_eq!(to_bcd(42), Some(0x42));
        assert_eq!(to_bcd(100), None);
        assert_eq!(from_bcd(0x99), Some(99));
        assert_eq!(from_bcd(0x9A), None);
        assert_eq!(from_bcd(0xA0), None);
    }

    #[test]
    fn multi_byte_low_first() {
        // test-vectors §6.2: 1234.56 kWh is 56 34 12 00 on the wire (before +0x33).
        assert_eq!(decode_le(&[0x56, 0x34, 0x12, 0x00]), Ok(123456));
        assert_eq!(encode_le(123456, 4), Ok(vec![0x56, 0x34, 0x12, 0x00]));
        assert!(encode_le(100_000_000, 4).is_err());
        assert_eq!(
            decode_le(&[0x5A]),
            Err(BcdError::NotBcd {
                offset: 0,
                byte: 0x5A
            })
        );
    }

    #[test]
    fn signed() {
        assert_eq!(decode_signed_le(&[0x34, 0x12, 0x80]), Ok(-1234));
        assert_eq!(encode_signed_le(-1234, 3), Ok(vec![0x34, 0x12, 0x80]));
        assert!(encode_signed_le(800_000, 3).is_err());
        assert_eq!(encode_signed_le(799_999, 3), Ok(vec![0x99, 0x99, 0x79]));
    }
}
