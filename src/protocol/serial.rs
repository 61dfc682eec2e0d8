//! Serial line settings: the baud rate and the character framing (data bits, parity, stop
//! bits), written `9600 8E1`, and the time characters take on the wire.
//!
//! The one framing type of the crate: a gateway bus in the site model, a serial link, a
//! meter profile's defaults, the simulator's buses and the Modbus timing arithmetic
//! (`rtu`) all use it. DL/T 645 meters default to 8E1 (DL/T 645-2007 §5.1); Modbus RTU
//! meters usually to 8N1 or 8E1 (Modbus over Serial Line V1.02 §2.5.1: even parity is the
//! default, and no parity asks for 2 stop bits).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Parity of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// Character framing of a serial line, written `8N1`, `8E1`, `7E1`, `8N2`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Framing {
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
}

impl Framing {
    /// 8 data bits, no parity, 1 stop bit: common in the field, 10 bits per character.
    pub const N81: Framing = Framing {
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 1,
    };
    /// 8 data bits, even parity, 1 stop bit: the Modbus and DL/T 645 default.
    pub const E81: Framing = Framing {
        data_bits: 8,
        parity: Parity::Even,
        stop_bits: 1,
    };
    /// 8 data bits, odd parity, 1 stop bit.
    pub const O81: Framing = Framing {
        data_bits: 8,
        parity: Parity::Odd,
        stop_bits: 1,
    };
    /// 8 data bits, no parity, 2 stop bits (what Modbus asks for without parity).
    pub const N82: Framing = Framing {
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 2,
    };

    /// Bits on the wire per character: start + data + parity + stop.
    pub fn bits_per_char(self) -> u32 {
        1 + u32::from(self.data_bits)
            + u32::from(self.parity != Parity::None)
            + u32::from(self.stop_bits)
    }

    /// Parses `8N1`, `8E1`, `8O1`, `7E1`, `8N2`, … (case-insensitive).
    pub fn parse(text: &str) -> Result<Framing, String> {
        let t = text.trim().to_ascii_uppercase();
        let bad = || format!("'{text}' is not a valid framing (e.g. 8N1, 8E1, 8O1, 7E1, 8N2)");
        let b = t.as_bytes();
        if b.len() != 3 {
            return Err(bad());
        }
        let data_bits = match b[0] {
            b'7' => 7,
            b'8' => 8,
            _ => return Err(bad()),
        };
        let parity = match b[1] {
            b'N' => Parity::None,
            b'E' => Parity::Even,
            b'O' => Parity::Odd,
            _ => return Err(bad()),
        };
        let stop_bits = match b[2] {
            b'1' => 1,
            b'2' => 2,
            _ => return Err(bad()),
        };
        Ok(Framing {
            data_bits,
            parity,
            stop_bits,
        })
    }

    /// Time one character takes on the wire at `baud` (9600 baud 8E1: 11 bits → 1.1458 ms).
    pub fn char_time(self, baud: u32) -> Duration {
        bit_times(u64::from(self.bits_per_char()), baud)
    }

    /// Time `chars` characters take on the wire at `baud`, back to back.
    pub fn wire_time(self, baud: u32, chars: usize) -> Duration {
        bit_times(u64::from(self.bits_per_char()) * chars as u64, baud)
    }
}

/// Time of `bits` bit-times at `baud`, rounded up to the nanosecond. A baud of 0 is treated
/// as 1 so the arithmetic never divides by zero.
fn bit_times(bits: u64, baud: u32) -> Duration {
    let baud = u64::from(baud.max(1));
    Duration::from_nanos((bits * 1_000_000_000).div_ceil(baud))
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(f, "{}{}{}", self.data_bits, p, self.stop_bits)
    }
}

impl TryFrom<String> for Framing {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Framing::parse(&s)
    }
}

impl From<Framing> for String {
    fn from(f: Framing) -> String {
        f.to_string()
    }
}

/// A serial line: baud rate and framing, written `9600 8E1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialLine {
    pub baud: u32,
    pub framing: Framing,
}

impl SerialLine {
    /// Parses `9600 8E1` (or `9600,8E1`).
    pub fn parse(text: &str) -> Result<SerialLine, String> {
        let bad = || format!("'{text}' is not a serial line (e.g. 9600 8E1)");
        let mut parts = text.split([' ', ',']).filter(|p| !p.is_empty());
        let (Some(baud), Some(framing), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        Ok(SerialLine {
            baud: baud.parse().map_err(|_| bad())?,
            framing: Framing::parse(framing)?,
        })
    }

    /// Time one character takes on this line.
    pub fn char_time(self) -> Duration {
        self.framing.char_time(self.baud)
    }
}

impl fmt::Display for SerialLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.baud, self.framing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framings_parse_print_and_count_their_bits() {
        for (text, bits) in [
            ("8E1", 11),
            ("8o1", 11),
            ("8N2", 11),
            ("8N1", 10),
            ("7E1", 10),
        ] {
            let f = Framing::parse(text).unwrap();
            assert_eq!(f.to_string(), text.to_ascii_uppercase());
            assert_eq!(f.bits_per_char(), bits, "{text}");
        }
        assert_eq!(Framing::parse("8n2"), Ok(Framing::N82));
        assert!(Framing::parse("9E1").is_err());
        assert!(Framing::parse("8X1").is_err());
        assert!(Framing::parse("8E3").is_err());
    }

    #[test]
    fn a_line_parses_prints_and_times_a_character() {
        let line = SerialLine::parse("9600 8E1").unwrap();
        assert_eq!(
            line,
            SerialLine {
                baud: 9600,
                framing: Framing::E81
            }
        );
        assert_eq!(
            SerialLine::parse("2400,8N1").unwrap().to_string(),
            "2400 8N1"
        );
        assert_eq!(line.char_time(), Duration::from_nanos(1_145_834));
        assert_eq!(Framing::N81.wire_time(9600, 96), Duration::from_millis(100));
        assert!(SerialLine::parse("fast 8E1").is_err());
        assert!(SerialLine::parse("9600").is_err());
    }
}
