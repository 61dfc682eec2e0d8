//! What went wrong talking to a meter, worded for the installer standing at the bus.
//!
//! Each message names the meter address, the link and the attempt count, e.g.
//! "no reply from address 7 on serial:/dev/ttyUSB0@9600 after 3 tries (timeout 120 ms)".

/// The name Modbus Application Protocol V1.1b3 §7 gives each exception code.
pub fn exception_name(code: u8) -> &'static str {
    match code {
        0x01 => "illegal function",
        0x02 => "illegal data address",
        0x03 => "illegal data value",
        0x04 => "server device failure",
        0x05 => "acknowledge",
        0x06 => "server device busy",
        0x08 => "memory parity error",
        0x0A => "gateway path unavailable",
        0x0B => "gateway target device failed to respond",
        _ => "unknown exception",
    }
}

/// DL/T 645-2007 §7.3.3 (abnormal reply, error information word): the first bit set names it.
pub fn dlt645_error_name(code: u8) -> &'static str {
    const BITS: [&str; 8] = [
        "other error",
        "no data requested",
        "password wrong or not authorised",
        "baud rate cannot be changed",
        "annual time zones exceeded",
        "daily time periods exceeded",
        "tariff count exceeded",
        "reserved",
    ];
    (0..8)
        .find(|b| code & (1 << b) != 0)
        .map_or("unspecified error", |b| BITS[b])
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
    #[error("meter answered error 0x{code:02X} ({}) for data identifier {di:08X}", dlt645_error_name(*code))]
    Abnormal { code: u8, di: u32 },
    #[error("cannot connect to {via}: {why}")]
    Connect { via: String, why: String },
    #[error("connection to {via} failed: {why}")]
    Io { via: String, why: String },
    #[error("{0}")]
    Other(String),
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
        assert_eq!(dlt645_error_name(0x04), "password wrong or not authorised");
        assert_eq!(dlt645_error_name(0x02), "no data requested");
    }
}
