//! What went wrong talking to a meter, worded for the installer standing at the bus.
//!
//! Each message names the meter address, the link and the attempt count, e.g.
//! "no reply from address 7 on serial:/dev/ttyUSB0@9600 after 3 tries (timeout 120 ms)".

use crate::protocol::dlt645::ErrorFlags;
use crate::protocol::rtu::ExceptionCode;

/// The name Modbus Application Protocol V1.1b3 §7 gives an exception code.
pub fn exception_name(code: u8) -> &'static str {
    ExceptionCode::from_u8(code).description()
}

/// An error of one request on a bus (after its retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error(
        "no reply from address {address} on {via} after {tries} tries (timeout {timeout_ms} ms)"
    )]
    NoReply {
        address: String,
        via: String,
        tries: u32,
        timeout_ms: u64,
    },
    /// A Modbus TCP gateway said its meter did not answer (exception 0x0A or 0x0B).
    #[error("no reply from address {address} on {via} after {tries} tries (the gateway answered exception 0x{code:02X} ({}))", exception_name(*code))]
    GatewayNoTarget {
        address: String,
        via: String,
        tries: u32,
        code: u8,
    },
    #[error("CRC mismatch in the reply from address {address} on {via} after {tries} tries")]
    Crc {
        address: String,
        via: String,
        tries: u32,
    },
    #[error("reply from address {got} instead of {address} on {via} after {tries} tries")]
    WrongAddress {
        address: String,
        got: String,
        via: String,
        tries: u32,
    },
    #[error("garbled reply from address {address} on {via} after {tries} tries: {detail}")]
    Garbled {
        address: String,
        via: String,
        tries: u32,
        detail: String,
    },
    #[error("meter answered exception 0x{code:02X} ({}) for register 0x{register:04X}", exception_name(*code))]
    Exception { code: u8, register: u16 },
    #[error("meter answered {} for data identifier {di:08X}", ErrorFlags(*code))]
    Abnormal { code: u8, di: u32 },
    #[error("cannot connect to {via}: {why}")]
    Connect { via: String, why: String },
    #[error("connection to {via} failed: {why}")]
    Io { via: String, why: String },
    #[error("{0}")]
    Other(String),
}

/// How one try at a request on a bus ended, when it did not end with a reply; a transport
/// keeps the last one and, when its tries run out, turns it into the [`FieldError`].
#[derive(Debug)]
pub(crate) enum Attempt {
    Timeout,
    /// A gateway answered for a meter that did not (Modbus exception 0x0A / 0x0B).
    NoTarget(u8),
    /// The frame's check (Modbus CRC, DL/T 645 checksum) did not match.
    BadCheck,
    WrongAddress(String),
    Garbled(String),
    Broken(String),
}

impl Attempt {
    /// The error for a request to `address` on `via` that failed `tries` times, the last
    /// time like this; `timeout` is the reply timeout each try had.
    pub(crate) fn into_error(
        self,
        address: String,
        via: String,
        tries: u32,
        timeout: std::time::Duration,
    ) -> FieldError {
        match self {
            Attempt::Timeout => FieldError::NoReply {
                address,
                via,
                tries,
                timeout_ms: timeout.as_millis() as u64,
            },
            Attempt::NoTarget(code) => FieldError::GatewayNoTarget {
                address,
                via,
                tries,
                code,
            },
            Attempt::BadCheck => FieldError::Crc {
                address,
                via,
                tries,
            },
            Attempt::WrongAddress(got) => FieldError::WrongAddress {
                address,
                got,
                via,
                tries,
            },
            Attempt::Garbled(detail) => FieldError::Garbled {
                address,
                via,
                tries,
                detail,
            },
            Attempt::Broken(why) => FieldError::Io { via, why },
        }
    }
}

impl FieldError {
    /// True when the meter itself answered (it is alive even though it refused).
    pub fn meter_answered(&self) -> bool {
        matches!(
            self,
            FieldError::Exception { .. } | FieldError::Abnormal { .. }
        )
    }

    /// True when the link to the gateway/port is down, not just one meter.
    pub fn link_down(&self) -> bool {
        matches!(self, FieldError::Connect { .. } | FieldError::Io { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_failed() {
        let e = FieldError::NoReply {
            address: "7".into(),
            via: "serial:/dev/ttyUSB0@9600".into(),
            tries: 3,
            timeout_ms: 120,
        };
        assert_eq!(
            e.to_string(),
            "no reply from address 7 on serial:/dev/ttyUSB0@9600 after 3 tries (timeout 120 ms)"
        );
        let e = FieldError::Exception {
            code: 2,
            register: 0x0100,
        };
        assert_eq!(
            e.to_string(),
            "meter answered exception 0x02 (illegal data address) for register 0x0100"
        );
        let e = FieldError::Abnormal {
            code: 0x02,
            di: 0x0090_0200,
        };
        assert!(
            e.to_string().starts_with("meter answered error byte 0x02"),
            "{e}"
        );
        assert!(
            e.to_string().ends_with("for data identifier 00900200"),
            "{e}"
        );
    }
}
