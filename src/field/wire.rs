//! Wire-time arithmetic the bus tasks need: how long characters take on the line, the
//! 3.5-character silence between frames, and how long to wait for a reply.
//!
//! The arithmetic itself belongs to `protocol::rtu` (owned by the protocol helper); this
//! module only adapts it to the link settings of a bus and adds the turnaround and network
//! allowances the collector chooses.

use std::time::Duration;

use super::link::{Framing, Via};

/// Line speed and character framing of one RS-485 bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTiming {
    pub baud: u32,
    pub framing: Framing,
}

impl LineTiming {
    pub fn new(baud: u32, framing: Framing) -> LineTiming {
        LineTiming { baud, framing }
    }

    /// The bus behind a link: a serial link says its speed; for a TCP gateway the bus record
    /// does (`bus_baud`), else 9600 8E1 is assumed.
    pub fn for_via(via: &Via, bus_baud: Option<u32>, bus_framing: Option<Framing>) -> LineTiming {
        LineTiming {
            baud: via.baud().or(bus_baud).unwrap_or(super::link::DEFAULT_BAUD),
            framing: via
                .framing()
                .or(bus_framing)
                .unwrap_or(super::link::DEFAULT_FRAMING),
        }
    }

    /// Time on the wire of `chars` characters.
    pub fn chars(&self, chars: usize) -> Duration {
        let bits = chars as u64 * u64::from(self.framing.bits_per_char());
        Duration::from_nanos(bits * 1_000_000_000 / u64::from(self.baud.max(1)))
    }

    /// The inter-frame silence: 3.5 characters, and a fixed 1.75 ms above 19200 baud
    /// (Modbus over Serial Line V1.02, §2.5.1.1).
    pub fn silence(&self) -> Duration {
        if self.baud > 19_200 {
            Duration::from_micros(1750)
        } else {
            // 3.5 characters = 7 half characters.
            let bits = 7 * u64::from(self.framing.bits_per_char());
            Duration::from_nanos(bits * 1_000_000_000 / (2 * u64::from(self.baud.max(1))))
        }
    }

    /// The wire time one exchange costs at best: request and reply characters plus the
    /// silence that must follow it. The bus benchmark's floor is the sum of these plus the
    /// meters' turnaround.
    pub fn exchange(&self, req_len: usize, resp_len: usize) -> Duration {
        self.chars(req_len + resp_len) + self.silence()
    }

    /// How long to wait for a reply of `resp_len` characters to a request of `req_len`:
    /// the wire time both ways plus the meter's allowed turnaround and, for gateways, a
    /// network allowance.
    pub fn reply_timeout(&self, req_len: usize, resp_len: usize, allowance: Duration) -> Duration {
        self.chars(req_len + resp_len) + self.silence() + allowance
    }
}

/// CRC-16/MODBUS of an RTU frame body. TEMPORARY until `protocol::rtu::crc16` lands.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_thousand_six_hundred_8e1_is_eleven_bits_a_char() {
        let t = LineTiming::new(9600, Framing::E81);
        // 96 characters × 11 bits / 9600 baud = 110 ms exactly.
        assert_eq!(t.chars(96), Duration::from_millis(110));
        // 3.5 × 11 / 9600 s = 4.0104 ms.
        assert_eq!(t.silence(), Duration::from_nanos(4_010_416));
        let fast = LineTiming::new(38_400, Framing::E81);
        assert_eq!(fast.silence(), Duration::from_micros(1750));
    }
}
