//! Status word 3 (电表运行状态字3, DI 04000503; DL/T 645-2007 appendix A, status words):
//! the word that confirms a relay command.
//!
//! Bits (of the 16-bit word, sent low byte first): 0 current time-slot table, 1–2 supply
//! (main/auxiliary/battery), 3 programming allowed, 4 relay state (0 closed, 1 open),
//! 5 current time-zone table, 6 relay command state (0 close, 1 open), 7 pre-trip alarm,
//! 8–9 meter type (00 not prepaid, 01 energy prepaid, 10 money prepaid), 10 current tariff
//! table, 11 current step table, 12 keep power (保电), 13–15 reserved.

use super::Dlt645Error;

/// Prepaid type, bits 8–9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrepaidType {
    NotPrepaid,
    Energy,
    Money,
    /// 11: not defined by the standard.
    Reserved,
}

/// Decoded status word 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord3(pub u16);

impl StatusWord3 {
    pub const RELAY_OPEN: u16 = 1 << 4;
    pub const RELAY_COMMAND_OPEN: u16 = 1 << 6;
    pub const PRE_TRIP_ALARM: u16 = 1 << 7;
    pub const KEEP_POWER: u16 = 1 << 12;

    /// From the two plain value bytes (low byte first).
    pub fn from_bytes(bytes: &[u8]) -> Result<StatusWord3, Dlt645Error> {
        match bytes {
            [lo, hi] => Ok(StatusWord3(u16::from_le_bytes([*lo, *hi]))),
            _ => Err(Dlt645Error::BadLength {
                expected: "2 bytes of status word".into(),
                got: bytes.len(),
            }),
        }
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_le_bytes()
    }

    /// Bit 4: the relay is actually open (tripped).
    pub fn relay_open(self) -> bool {
        self.0 & Self::RELAY_OPEN != 0
    }

    /// Bit 6: the last relay command asked for open. Open command + closed relay means
    /// "not yet tripped"; close command + open relay means "close permitted, waiting for the
    /// tenant to press the button" after an N1 = 0x1B command.
    pub fn relay_command_open(self) -> bool {
        self.0 & Self::RELAY_COMMAND_OPEN != 0
    }

    /// Bit 7: pre-trip alarm.
    pub fn pre_trip_alarm(self) -> bool {
        self.0 & Self::PRE_TRIP_ALARM != 0
    }

    /// Bit 12: keep power (保电) is on; the meter will not trip.
    pub fn keep_power(self) -> bool {
        self.0 & Self::KEEP_POWER != 0
    }

    /// Bits 8–9.
    pub fn prepaid_type(self) -> PrepaidType {
        match (self.0 >> 8) & 0b11 {
            0 => PrepaidType::NotPrepaid,
            1 => PrepaidType::Energy,
            2 => PrepaidType::Money,
            _ => PrepaidType::Reserved,
        }
    }

    /// Builds a word from the fields the simulator tracks (other bits zero).
    pub fn build(
        relay_open: bool,
        command_open: bool,
        keep_power: bool,
        prepaid: PrepaidType,
    ) -> StatusWord3 {
        let mut w = 0u16;
        if relay_open {
            w |= Self::RELAY_OPEN;
        }
        if command_open {
            w |= Self::RELAY_COMMAND_OPEN;
        }
        if keep_power {
            w |= Self::KEEP_POWER;
        }
        w |= match prepaid {
            PrepaidType::NotPrepaid => 0,
            PrepaidType::Energy => 1 << 8,
            PrepaidType::Money => 2 << 8,
            PrepaidType::Reserved => 3 << 8,
        };
        StatusWord3(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits() {
        // 0x1210: keep power, money prepaid, relay open, command closed.
        let s = StatusWord3::from_bytes(&[0x10, 0x12]).unwrap();
        assert!(s.relay_open());
        assert!(!s.relay_command_open());
        assert!(s.keep_power());
        assert_eq!(s.prepaid_type(), PrepaidType::Money);
        assert_eq!(
            StatusWord3::build(true, false, true, PrepaidType::Money),
            StatusWord3(0x1210)
        );
        assert!(StatusWord3::from_bytes(&[0x10]).is_err());
    }
}
