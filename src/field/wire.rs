//! Wire-time arithmetic the bus tasks need: how long characters take on the line, the
//! 3.5-character silence between frames, and how long to wait for a reply. The floor of an
//! exchange is `protocol::floor`.
//!
//! The arithmetic itself belongs to `protocol::rtu` (owned by the protocol helper); this
//! module only adapts it to the link settings of a bus and adds the turnaround and network
//! allowances the collector chooses.

use std::time::Duration;

use super::link::{Framing, Via};
use crate::protocol::rtu;

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
        self.framing.wire_time(self.baud, chars)
    }

    /// The inter-frame silence t3.5 (fixed 1.75 ms above 19200 baud).
    pub fn silence(&self) -> Duration {
        rtu::silence_3_5(self.baud)
    }

    /// How long to wait for a reply of `resp_len` characters to a request of `req_len`,
    /// counted from the start of the request: `protocol::rtu::response_timeout_with` for the
    /// meter's allowed turnaround, plus a network allowance for gateways.
    pub fn reply_timeout(
        &self,
        req_len: usize,
        resp_len: usize,
        turnaround: Duration,
        network: Duration,
    ) -> Duration {
        rtu::response_timeout_with(self.baud, self.framing, req_len, resp_len, turnaround) + network
    }
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
        assert_eq!(t.silence(), Duration::from_nanos(4_010_417));
        let n1 = LineTiming::new(9600, Framing::N81);
        assert_eq!(n1.chars(96), Duration::from_millis(100));
        let fast = LineTiming::new(38_400, Framing::E81);
        assert_eq!(fast.silence(), Duration::from_micros(1750));
    }
}
