//! The wire floor of a bus cycle: the time no master can beat for a given list of
//! request/reply exchanges, whatever the protocol. The collector's cycle log and
//! `cargo bench --bench bus` both compute it here, so "ratio" means the same in both.
//!
//! Per exchange, on a line of `baud` and `framing` (bits per character from the framing:
//! 8E1, 8O1 and 8N2 = 11, 8N1 = 10):
//! - **Modbus RTU**: the request's and the reply's characters, one t3.5 silence after each
//!   frame (the receiver knows a frame has ended only after 3.5 characters of silence,
//!   Modbus over Serial Line V1.02 §2.5.1.1; fixed 1.75 ms above 19200 baud), and the
//!   meter's turnaround.
//! - **DL/T 645-2007**: the request's and the reply's characters with the wake-up bytes
//!   (FE) in front of each frame, the meter's turnaround, and the inter-frame gap the
//!   master keeps before its next request ([`dlt645_gap`]). A DL/T 645 frame carries its
//!   length and ends with 0x16, so the meter needs no silence to see the request end.
//!
//! The turnaround (end of request, after its silence for Modbus, to the first reply
//! character) is the profile's documented one (`Profile::turnaround`).

use std::time::Duration;

use super::serial::Framing;
use super::{dlt645, rtu};

/// Which frame rules a bus follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireProtocol {
    ModbusRtu,
    Dlt645,
}

/// A bus line: its protocol, speed and character framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusLine {
    pub protocol: WireProtocol,
    pub baud: u32,
    pub framing: Framing,
}

/// One request and its reply, in characters on the wire. For DL/T 645 the wake-up bytes
/// in front of each frame are included (see [`Exchange::dlt645`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub request: usize,
    pub reply: usize,
}

impl Exchange {
    /// A Modbus RTU exchange: request and reply ADUs (address … CRC).
    pub const fn modbus(request_adu: usize, reply_adu: usize) -> Exchange {
        Exchange {
            request: request_adu,
            reply: reply_adu,
        }
    }

    /// A DL/T 645 exchange: the frames from the first 0x68 to 0x16; the master's
    /// [`dlt645::WAKE_UP_LEN`] FE bytes go in front of the request, and `reply_wake_up` FE
    /// bytes (what the meter sends, 0 to 4) in front of the reply.
    pub const fn dlt645(
        request_frame: usize,
        reply_frame: usize,
        reply_wake_up: usize,
    ) -> Exchange {
        Exchange {
            request: dlt645::WAKE_UP_LEN + request_frame,
            reply: reply_wake_up + reply_frame,
        }
    }
}

/// The gap a DL/T 645 master keeps between the end of a reply and its next request:
/// 3.5 characters (11-bit), 1.75 ms above 19200 baud, the same rule as Modbus RTU's t3.5.
/// DL/T 645-2007 sets no such gap; it is voltvend's rule, so that a meter's receiver has
/// seen the line idle before the next wake-up bytes. The DL/T 645 transport waits it.
pub fn dlt645_gap(baud: u32) -> Duration {
    rtu::silence_3_5(baud)
}

/// The floor of one exchange on `line`, the meter answering after `turnaround`.
pub fn exchange_floor(line: BusLine, ex: Exchange, turnaround: Duration) -> Duration {
    let chars = line.framing.wire_time(line.baud, ex.request + ex.reply);
    match line.protocol {
        WireProtocol::ModbusRtu => chars + rtu::silence_3_5(line.baud) * 2 + turnaround,
        WireProtocol::Dlt645 => chars + turnaround + dlt645_gap(line.baud),
    }
}

/// The floor of a cycle: the sum of its exchanges' floors, each with its meter's turnaround.
pub fn cycle_floor(
    line: BusLine,
    exchanges: impl IntoIterator<Item = (Exchange, Duration)>,
) -> Duration {
    exchanges
        .into_iter()
        .map(|(ex, turnaround)| exchange_floor(line, ex, turnaround))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn line(protocol: WireProtocol, baud: u32, framing: Framing) -> BusLine {
        BusLine {
            protocol,
            baud,
            framing,
        }
    }

    #[test]
    fn modbus_read_of_three_registers_at_9600_8e1() {
        // FC 03 request 8 bytes, reply 5 + 2 × 3 = 11 bytes: 19 characters × 11 bits =
        // 209 bits / 9600 = 21.770834 ms (rounded up to the ns); 2 × t3.5 = 2 × 38.5 bits =
        // 77 bits / 9600 = 8.020834 ms (each t3.5 is 4.010417 ms, rounded up); turnaround 20 ms.
        // 21.770834 + 2 × 4.010417 + 20 = 49.791668 ms.
        let l = line(WireProtocol::ModbusRtu, 9600, Framing::E81);
        let ex = Exchange::modbus(rtu::len::READ_REQUEST, rtu::len::read_reply(3));
        assert_eq!(
            ex,
            Exchange {
                request: 8,
                reply: 11
            }
        );
        assert_eq!(
            exchange_floor(l, ex, MS(20)),
            Duration::from_nanos(21_770_834 + 2 * 4_010_417 + 20_000_000)
        );
    }

    #[test]
    fn modbus_8n1_counts_ten_bits_but_keeps_the_11_bit_silence() {
        // 8N1: 19 × 10 = 190 bits / 9600 = 19.791667 ms; t3.5 stays 38.5 × 11-bit
        // characters by the standard (4.010417 ms each); no turnaround.
        let l = line(WireProtocol::ModbusRtu, 9600, Framing::N81);
        assert_eq!(
            exchange_floor(l, Exchange::modbus(8, 11), Duration::ZERO),
            Duration::from_nanos(19_791_667 + 2 * 4_010_417)
        );
        // 8N2 is 11 bits like 8E1: 209 bits again.
        let l2 = line(WireProtocol::ModbusRtu, 9600, Framing::N82);
        assert_eq!(
            exchange_floor(l2, Exchange::modbus(8, 11), Duration::ZERO),
            Duration::from_nanos(21_770_834 + 2 * 4_010_417)
        );
    }

    #[test]
    fn modbus_above_19200_uses_the_fixed_silence() {
        // 38400 8E1: 19 × 11 = 209 bits / 38400 = 5.442709 ms; t3.5 fixed 1.75 ms.
        let l = line(WireProtocol::ModbusRtu, 38_400, Framing::E81);
        assert_eq!(
            exchange_floor(l, Exchange::modbus(8, 11), MS(5)),
            Duration::from_nanos(5_442_709 + 2 * 1_750_000 + 5_000_000)
        );
    }

    #[test]
    fn dlt645_read_of_the_energy_total_at_2400_8e1() {
        // Read request: 12 bytes of overhead + 4 DI bytes = 16, + 4 FE = 20 characters.
        // Reply: 12 + 4 DI + 4 value bytes = 20, + 4 FE = 24 characters. 44 × 11 = 484 bits
        // / 2400 = 201.666667 ms; gap 38.5 bits / 2400 = 16.041667 ms; turnaround 20 ms.
        let l = line(WireProtocol::Dlt645, 2400, Framing::E81);
        let ex = Exchange::dlt645(dlt645::OVERHEAD + 4, dlt645::OVERHEAD + 8, 4);
        assert_eq!(
            ex,
            Exchange {
                request: 20,
                reply: 24
            }
        );
        assert_eq!(
            exchange_floor(l, ex, MS(20)),
            Duration::from_nanos(201_666_667 + 16_041_667 + 20_000_000)
        );
        // One gap per exchange, not two: at 9600 8E1 the same exchange is 484 bits / 9600
        // = 50.416667 ms + one 4.010417 ms gap + 20 ms.
        let fast = line(WireProtocol::Dlt645, 9600, Framing::E81);
        assert_eq!(
            exchange_floor(fast, ex, MS(20)),
            Duration::from_nanos(50_416_667 + 4_010_417 + 20_000_000)
        );
    }

    #[test]
    fn a_cycle_is_the_sum_of_its_exchanges() {
        // Two meters at 9600 8E1, each one read of 3 registers (49.791668 ms with 20 ms,
        // see above) and one of 7 (8 + 19 = 27 chars = 297 bits = 30.9375 ms, + 8.020834
        // + 20 = 58.958334 ms): 2 × (49.791668 + 58.958334) = 217.500004 ms.
        let l = line(WireProtocol::ModbusRtu, 9600, Framing::E81);
        let per_meter = [
            (Exchange::modbus(8, rtu::len::read_reply(3)), MS(20)),
            (Exchange::modbus(8, rtu::len::read_reply(7)), MS(20)),
        ];
        let cycle = cycle_floor(l, per_meter.iter().chain(per_meter.iter()).copied());
        assert_eq!(cycle, Duration::from_nanos(217_500_004));
        assert_eq!(cycle_floor(l, []), Duration::ZERO);
    }
}
