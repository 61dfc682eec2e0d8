//! Modbus RTU framing details voltvend owns: CRC-16, character and silence times on the
//! wire, response timeouts, expected frame lengths, and the ADUs of functions 03, 06, 16 and
//! exception replies.
//!
//! The collector talks Modbus through `tokio-modbus`; this module exists for the parts that
//! crate does not expose: the simulator (which must answer byte-exact frames at the bus's
//! pace), the bus-floor arithmetic of the benchmark, and timeouts computed from the baud rate.
//!
//! References: "MODBUS over Serial Line Specification and Implementation Guide V1.02"
//! (modbus.org, 2006), and "MODBUS Application Protocol Specification V1.1b3" (2012).

use std::time::Duration;

/// The largest RTU ADU: address (1) + PDU (253) + CRC (2). Serial Line V1.02 §2.5.1.1.
pub const MAX_ADU_LEN: usize = 256;
/// Registers per read request (FC 03): 1..=125. Application Protocol V1.1b3 §6.3.
pub const MAX_READ_REGISTERS: u16 = 125;
/// Registers per write-multiple request (FC 16): 1..=123. Application Protocol V1.1b3 §6.12.
pub const MAX_WRITE_REGISTERS: u16 = 123;
/// Above this baud rate the inter-frame and inter-character times are fixed.
/// Serial Line V1.02 §2.5.1.1: "for baud rates greater than 19200 Bps, fixed values for the
/// 2 timers should be used: 750 µs for the inter-character time-out (t1.5) and a value of
/// 1.750 ms for inter-frame delay (t3.5)".
pub const FIXED_TIMING_ABOVE_BAUD: u32 = 19_200;
/// t3.5 above 19200 baud (Serial Line V1.02 §2.5.1.1).
pub const FIXED_T3_5: Duration = Duration::from_micros(1_750);
/// t1.5 above 19200 baud (Serial Line V1.02 §2.5.1.1).
pub const FIXED_T1_5: Duration = Duration::from_micros(750);
/// Bits of the character the Modbus timers are defined on: start + 8 data + parity + stop
/// (Serial Line V1.02 §2.5.1: "Bits per Byte: 1 start bit, 8 data bits, 1 bit for parity
/// completion, 1 stop bit"; no parity requires 2 stop bits, keeping 11 bits).
pub const MODBUS_CHAR_BITS: u32 = 11;
/// Assumed worst meter turnaround (end of request → first byte of reply) when the caller has
/// none configured. An assumption, not a standard value: prepaid meters such as the Acrel
/// DDSY1352 answer within tens of milliseconds; the collector may configure its own.
pub const DEFAULT_TURNAROUND: Duration = Duration::from_millis(50);

/// Function codes handled here.
pub const FC_READ_HOLDING: u8 = 0x03;
pub const FC_WRITE_SINGLE: u8 = 0x06;
pub const FC_WRITE_MULTIPLE: u8 = 0x10;

/// CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF; Serial Line V1.02
/// §6.2.2. On the wire the low byte goes first.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte);
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

/// Appends the CRC (low byte first) to a frame body.
pub fn with_crc(mut body: Vec<u8>) -> Vec<u8> {
    let crc = crc16(&body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// Checks that `frame` is exactly the one whole frame `framing` says it should be, with a
/// good CRC: the common first step of decoding a request or a response.
fn check_whole(frame: &[u8], framing: FrameLen) -> Result<(), RtuError> {
    let len = match framing {
        FrameLen::Complete(n) => n,
        FrameLen::NeedMore(n) => {
            return Err(RtuError::Truncated {
                needed: n,
                got: frame.len(),
            });
        }
    };
    if frame.len() > len {
        return Err(RtuError::TooLong {
            len: frame.len(),
            expected: len,
        });
    }
    check_crc(frame)
}

/// Checks the trailing CRC of a complete frame.
pub fn check_crc(frame: &[u8]) -> Result<(), RtuError> {
    if frame.len() < 4 {
        return Err(RtuError::Truncated {
            needed: 4,
            got: frame.len(),
        });
    }
    let (body, tail) = frame.split_at(frame.len() - 2);
    let expected = crc16(body);
    let found = u16::from_le_bytes([tail[0], tail[1]]);
    if expected != found {
        return Err(RtuError::BadCrc { expected, found });
    }
    Ok(())
}

pub use super::serial::Framing;

/// The inter-frame silence t3.5: 3.5 Modbus characters (11 bits each), or a fixed 1.75 ms
/// above 19200 baud (Serial Line V1.02 §2.5.1.1). 9600 baud → 38.5 bits → 4.0104 ms.
pub fn silence_3_5(baud: u32) -> Duration {
    if baud > FIXED_TIMING_ABOVE_BAUD {
        FIXED_T3_5
    } else {
        // 3.5 × 11 bits = 38.5 bits = 77 half bits.
        let baud2 = u64::from(baud.max(1)) * 2;
        Duration::from_nanos((77 * 1_000_000_000u64).div_ceil(baud2))
    }
}

/// The inter-character limit t1.5: 1.5 characters, or 750 µs above 19200 baud
/// (Serial Line V1.02 §2.5.1.1). A gap longer than this inside a frame makes it incomplete.
pub fn silence_1_5(baud: u32) -> Duration {
    if baud > FIXED_TIMING_ABOVE_BAUD {
        FIXED_T1_5
    } else {
        // 1.5 × 11 bits = 16.5 bits = 33 half bits.
        let baud2 = u64::from(baud.max(1)) * 2;
        Duration::from_nanos((33 * 1_000_000_000u64).div_ceil(baud2))
    }
}

/// Wire time of one request/response exchange that no master can beat: the request's and
/// the response's characters, a t3.5 silence after each, and the slave's turnaround.
pub fn exchange_floor(
    baud: u32,
    framing: Framing,
    req_len: usize,
    resp_len: usize,
    turnaround: Duration,
) -> Duration {
    framing.wire_time(baud, req_len + resp_len) + silence_3_5(baud) * 2 + turnaround
}

/// Response timeout measured from the moment the master starts writing a request of
/// `req_len` bytes: request and response wire time (8E1, 11 bits per character), two t3.5
/// silences, [`DEFAULT_TURNAROUND`], plus a margin of 25 % and 10 ms for UART and OS
/// scheduling jitter. See [`response_timeout_with`] for other framings and turnarounds.
pub fn response_timeout(baud: u32, req_len: usize, resp_len: usize) -> Duration {
    response_timeout_with(baud, Framing::E81, req_len, resp_len, DEFAULT_TURNAROUND)
}

/// [`response_timeout`] with an explicit framing and meter turnaround.
pub fn response_timeout_with(
    baud: u32,
    framing: Framing,
    req_len: usize,
    resp_len: usize,
    turnaround: Duration,
) -> Duration {
    let floor = exchange_floor(baud, framing, req_len, resp_len, turnaround);
    floor + floor / 4 + Duration::from_millis(10)
}

/// Modbus exception codes (Application Protocol V1.1b3 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionCode {
    IllegalFunction,
    IllegalDataAddress,
    IllegalDataValue,
    ServerDeviceFailure,
    Acknowledge,
    ServerDeviceBusy,
    MemoryParityError,
    GatewayPathUnavailable,
    GatewayTargetFailedToRespond,
    Other(u8),
}

impl ExceptionCode {
    pub fn from_u8(code: u8) -> ExceptionCode {
        match code {
            0x01 => ExceptionCode::IllegalFunction,
            0x02 => ExceptionCode::IllegalDataAddress,
            0x03 => ExceptionCode::IllegalDataValue,
            0x04 => ExceptionCode::ServerDeviceFailure,
            0x05 => ExceptionCode::Acknowledge,
            0x06 => ExceptionCode::ServerDeviceBusy,
            0x08 => ExceptionCode::MemoryParityError,
            0x0A => ExceptionCode::GatewayPathUnavailable,
            0x0B => ExceptionCode::GatewayTargetFailedToRespond,
            other => ExceptionCode::Other(other),
        }
    }

    pub fn code(self) -> u8 {
        match self {
            ExceptionCode::IllegalFunction => 0x01,
            ExceptionCode::IllegalDataAddress => 0x02,
            ExceptionCode::IllegalDataValue => 0x03,
            ExceptionCode::ServerDeviceFailure => 0x04,
            ExceptionCode::Acknowledge => 0x05,
            ExceptionCode::ServerDeviceBusy => 0x06,
            ExceptionCode::MemoryParityError => 0x08,
            ExceptionCode::GatewayPathUnavailable => 0x0A,
            ExceptionCode::GatewayTargetFailedToRespond => 0x0B,
            ExceptionCode::Other(c) => c,
        }
    }

    /// The standard's name, for messages like "exception 0x02 (illegal data address)".
    pub fn description(self) -> &'static str {
        match self {
            ExceptionCode::IllegalFunction => "illegal function",
            ExceptionCode::IllegalDataAddress => "illegal data address",
            ExceptionCode::IllegalDataValue => "illegal data value",
            ExceptionCode::ServerDeviceFailure => "server device failure",
            ExceptionCode::Acknowledge => "acknowledge",
            ExceptionCode::ServerDeviceBusy => "server device busy",
            ExceptionCode::MemoryParityError => "memory parity error",
            ExceptionCode::GatewayPathUnavailable => "gateway path unavailable",
            ExceptionCode::GatewayTargetFailedToRespond => "gateway target failed to respond",
            ExceptionCode::Other(_) => "unknown exception",
        }
    }
}

impl std::fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exception 0x{:02X} ({})",
            self.code(),
            self.description()
        )
    }
}

/// Why bytes are not the RTU frame expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtuError {
    #[error("frame truncated: need {needed} bytes, got {got}")]
    Truncated { needed: usize, got: usize },
    #[error("frame too long: {len} bytes (expected {expected})")]
    TooLong { len: usize, expected: usize },
    #[error("CRC mismatch: computed 0x{expected:04X}, frame carries 0x{found:04X}")]
    BadCrc { expected: u16, found: u16 },
    #[error("reply from address {got}, expected {expected}")]
    WrongSlave { expected: u8, got: u8 },
    #[error("reply has function 0x{got:02X}, expected 0x{expected:02X}")]
    WrongFunction { expected: u8, got: u8 },
    #[error("unsupported function code 0x{0:02X}")]
    UnsupportedFunction(u8),
    #[error("register count {count} out of range 1..={max}")]
    BadQuantity { count: usize, max: u16 },
    #[error("byte count {byte_count} does not match {detail}")]
    BadByteCount { byte_count: u8, detail: String },
    #[error("slave address {0} is not a unicast address 1..=247")]
    BadSlave(u8),
    #[error("reply {got:?} does not answer request {expected:?}")]
    Mismatch { expected: String, got: String },
}

/// A request ADU for the functions voltvend uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// FC 03: read `count` holding registers from `addr`.
    ReadHolding { slave: u8, addr: u16, count: u16 },
    /// FC 06: write one register.
    WriteSingle { slave: u8, addr: u16, value: u16 },
    /// FC 16 (0x10): write consecutive registers.
    WriteMultiple {
        slave: u8,
        addr: u16,
        values: Vec<u16>,
    },
}

/// A response ADU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    ReadHolding {
        slave: u8,
        values: Vec<u16>,
    },
    WriteSingle {
        slave: u8,
        addr: u16,
        value: u16,
    },
    WriteMultiple {
        slave: u8,
        addr: u16,
        count: u16,
    },
    /// The function code without its 0x80 bit, and the exception.
    Exception {
        slave: u8,
        function: u8,
        code: ExceptionCode,
    },
}

impl Request {
    pub fn slave(&self) -> u8 {
        match self {
            Request::ReadHolding { slave, .. }
            | Request::WriteSingle { slave, .. }
            | Request::WriteMultiple { slave, .. } => *slave,
        }
    }

    pub fn function(&self) -> u8 {
        match self {
            Request::ReadHolding { .. } => FC_READ_HOLDING,
            Request::WriteSingle { .. } => FC_WRITE_SINGLE,
            Request::WriteMultiple { .. } => FC_WRITE_MULTIPLE,
        }
    }

    /// Encodes the request with its CRC. Address 0 (broadcast) is allowed for writes only.
    pub fn encode(&self) -> Result<Vec<u8>, RtuError> {
        let slave = self.slave();
        check_slave(slave, self.function())?;
        let mut body = vec![slave, self.function()];
        match self {
            Request::ReadHolding { addr, count, .. } => {
                check_quantity(usize::from(*count), MAX_READ_REGISTERS)?;
                body.extend_from_slice(&addr.to_be_bytes());
                body.extend_from_slice(&count.to_be_bytes());
            }
            Request::WriteSingle { addr, value, .. } => {
                body.extend_from_slice(&addr.to_be_bytes());
                body.extend_from_slice(&value.to_be_bytes());
            }
            Request::WriteMultiple { addr, values, .. } => {
                check_quantity(values.len(), MAX_WRITE_REGISTERS)?;
                body.extend_from_slice(&addr.to_be_bytes());
                body.extend_from_slice(&(values.len() as u16).to_be_bytes());
                body.push((values.len() * 2) as u8);
                for v in values {
                    body.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        Ok(with_crc(body))
    }

    /// Decodes a complete request frame (what a simulated meter receives).
    pub fn decode(frame: &[u8]) -> Result<Request, RtuError> {
        check_whole(frame, request_frame_len(frame)?)?;
        let slave = frame[0];
        check_slave(slave, frame[1])?;
        let word = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
        match frame[1] {
            FC_READ_HOLDING => {
                let count = word(4);
                check_quantity(usize::from(count), MAX_READ_REGISTERS)?;
                Ok(Request::ReadHolding {
                    slave,
                    addr: word(2),
                    count,
                })
            }
            FC_WRITE_SINGLE => Ok(Request::WriteSingle {
                slave,
                addr: word(2),
                value: word(4),
            }),
            FC_WRITE_MULTIPLE => {
                let count = word(4);
                check_quantity(usize::from(count), MAX_WRITE_REGISTERS)?;
                let byte_count = frame[6];
                if usize::from(byte_count) != usize::from(count) * 2 {
                    return Err(RtuError::BadByteCount {
                        byte_count,
                        detail: format!("{count} registers"),
                    });
                }
                let values = (0..usize::from(count)).map(|i| word(7 + 2 * i)).collect();
                Ok(Request::WriteMultiple {
                    slave,
                    addr: word(2),
                    values,
                })
            }
            other => Err(RtuError::UnsupportedFunction(other)),
        }
    }

    /// Length of the normal (non-exception) response to this request, CRC included:
    /// FC 03 → 5 + 2 × count; FC 06 and FC 16 → 8. An exception reply is always 5 bytes.
    pub fn expected_response_len(&self) -> usize {
        match self {
            Request::ReadHolding { count, .. } => len::read_reply(*count),
            Request::WriteSingle { .. } | Request::WriteMultiple { .. } => len::WRITE_REPLY,
        }
    }

    /// Encoded length of this request, CRC included.
    pub fn encoded_len(&self) -> usize {
        match self {
            Request::ReadHolding { .. } => len::READ_REQUEST,
            Request::WriteSingle { .. } => len::WRITE_SINGLE_REQUEST,
            Request::WriteMultiple { values, .. } => len::write_request(values.len()),
        }
    }

    /// Decodes the reply to this request, checking slave, function and lengths; an
    /// exception reply decodes to `Response::Exception` (not an error: the meter answered).
    pub fn decode_response(&self, frame: &[u8]) -> Result<Response, RtuError> {
        let resp = Response::decode(frame)?;
        let got_slave = resp.slave();
        if got_slave != self.slave() {
            return Err(RtuError::WrongSlave {
                expected: self.slave(),
                got: got_slave,
            });
        }
        let ok = match (self, &resp) {
            (_, Response::Exception { function, .. }) => *function == self.function(),
            (Request::ReadHolding { count, .. }, Response::ReadHolding { values, .. }) => {
                values.len() == usize::from(*count)
            }
            (
                Request::WriteSingle { addr, value, .. },
                Response::WriteSingle {
                    addr: a, value: v, ..
                },
            ) => a == addr && v == value,
            (
                Request::WriteMultiple { addr, values, .. },
                Response::WriteMultiple { addr: a, count, .. },
            ) => a == addr && usize::from(*count) == values.len(),
            _ => false,
        };
        if !ok {
            return Err(RtuError::Mismatch {
                expected: format!("{self:?}"),
                got: format!("{resp:?}"),
            });
        }
        Ok(resp)
    }
}

/// Unicast 1..=247; 0 is broadcast, allowed for writes only (Serial Line V1.02 §2.2).
fn check_slave(slave: u8, function: u8) -> Result<(), RtuError> {
    if slave > 247 || (slave == 0 && function == FC_READ_HOLDING) {
        return Err(RtuError::BadSlave(slave));
    }
    Ok(())
}

fn check_quantity(count: usize, max: u16) -> Result<(), RtuError> {
    if count == 0 || count > usize::from(max) {
        return Err(RtuError::BadQuantity { count, max });
    }
    Ok(())
}

impl Response {
    pub fn slave(&self) -> u8 {
        match self {
            Response::ReadHolding { slave, .. }
            | Response::WriteSingle { slave, .. }
            | Response::WriteMultiple { slave, .. }
            | Response::Exception { slave, .. } => *slave,
        }
    }

    /// The normal reply to `req` carrying `values` (for FC 03) — what a simulator sends.
    pub fn ok_for(req: &Request, values: Vec<u16>) -> Response {
        match req {
            Request::ReadHolding { slave, .. } => Response::ReadHolding {
                slave: *slave,
                values,
            },
            Request::WriteSingle { slave, addr, value } => Response::WriteSingle {
                slave: *slave,
                addr: *addr,
                value: *value,
            },
            Request::WriteMultiple {
                slave,
                addr,
                values,
            } => Response::WriteMultiple {
                slave: *slave,
                addr: *addr,
                count: values.len() as u16,
            },
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, RtuError> {
        let body = match self {
            Response::ReadHolding { slave, values } => {
                check_quantity(values.len(), MAX_READ_REGISTERS)?;
                let mut b = vec![*slave, FC_READ_HOLDING, (values.len() * 2) as u8];
                for v in values {
                    b.extend_from_slice(&v.to_be_bytes());
                }
                b
            }
            Response::WriteSingle { slave, addr, value } => {
                let mut b = vec![*slave, FC_WRITE_SINGLE];
                b.extend_from_slice(&addr.to_be_bytes());
                b.extend_from_slice(&value.to_be_bytes());
                b
            }
            Response::WriteMultiple { slave, addr, count } => {
                check_quantity(usize::from(*count), MAX_WRITE_REGISTERS)?;
                let mut b = vec![*slave, FC_WRITE_MULTIPLE];
                b.extend_from_slice(&addr.to_be_bytes());
                b.extend_from_slice(&count.to_be_bytes());
                b
            }
            Response::Exception {
                slave,
                function,
                code,
            } => vec![*slave, function | 0x80, code.code()],
        };
        Ok(with_crc(body))
    }

    /// Decodes a complete response frame.
    pub fn decode(frame: &[u8]) -> Result<Response, RtuError> {
        check_whole(frame, response_frame_len(frame)?)?;
        let slave = frame[0];
        let word = |i: usize| u16::from_be_bytes([frame[i], frame[i + 1]]);
        let function = frame[1];
        if function & 0x80 != 0 {
            return Ok(Response::Exception {
                slave,
                function: function & 0x7F,
                code: ExceptionCode::from_u8(frame[2]),
            });
        }
        match function {
            FC_READ_HOLDING => {
                let n = usize::from(frame[2]) / 2;
                Ok(Response::ReadHolding {
                    slave,
                    values: (0..n).map(|i| word(3 + 2 * i)).collect(),
                })
            }
            FC_WRITE_SINGLE => Ok(Response::WriteSingle {
                slave,
                addr: word(2),
                value: word(4),
            }),
            FC_WRITE_MULTIPLE => {
                let count = word(4);
                check_quantity(usize::from(count), MAX_WRITE_REGISTERS)?;
                Ok(Response::WriteMultiple {
                    slave,
                    addr: word(2),
                    count,
                })
            }
            other => Err(RtuError::UnsupportedFunction(other)),
        }
    }
}

/// Modbus RTU ADU sizes (slave + PDU + CRC): the one place frame lengths are counted, for
/// framing a byte stream, checking replies and the wire time of every exchange.
pub mod len {
    /// Request to read holding registers (03): slave, fc, addr(2), count(2), crc(2). Every
    /// request of functions 01 to 06 has this length.
    pub const READ_REQUEST: usize = 8;
    /// Reply to 03: slave, fc, byte count, 2 × n, crc(2).
    pub const fn read_reply(count: u16) -> usize {
        read_reply_bytes(2 * count as usize)
    }
    /// Reply carrying `byte_count` data bytes (the byte count field).
    pub const fn read_reply_bytes(byte_count: usize) -> usize {
        5 + byte_count
    }
    /// Request to write multiple registers (0x10): slave, fc, addr, count, byte count, data, crc.
    pub const fn write_request(count: usize) -> usize {
        write_request_bytes(2 * count)
    }
    /// Write-multiple request (0x0F coils, 0x10 registers) carrying `byte_count` data bytes.
    pub const fn write_request_bytes(byte_count: usize) -> usize {
        9 + byte_count
    }
    /// Reply to 06 and 0x10: slave, fc, addr(2), value or count(2), crc(2).
    pub const WRITE_REPLY: usize = 8;
    /// Request to write a single register (06): slave, fc, addr(2), value(2), crc(2).
    pub const WRITE_SINGLE_REQUEST: usize = 8;
    /// Exception reply: slave, fc | 0x80, code, crc(2).
    pub const EXCEPTION_REPLY: usize = 5;
}

/// How long a frame is, judged from its first bytes: a stream reader reads until
/// `Complete(n)` and then takes exactly `n` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLen {
    /// At least this many bytes are needed before the length is known or the frame is whole.
    NeedMore(usize),
    /// The frame is this many bytes long (CRC included) and that many are present.
    Complete(usize),
}

fn have(buf: &[u8], total: usize) -> FrameLen {
    if buf.len() >= total {
        FrameLen::Complete(total)
    } else {
        FrameLen::NeedMore(total)
    }
}

/// Length of a frame that carries registers, from its byte count at `buf[at]`: two bytes a
/// register, at most `max`; `total` is the frame length for that many data bytes.
fn register_frame(
    buf: &[u8],
    at: usize,
    max: u8,
    total: fn(usize) -> usize,
) -> Result<FrameLen, RtuError> {
    let Some(&byte_count) = buf.get(at) else {
        return Ok(FrameLen::NeedMore(at + 1));
    };
    if byte_count == 0 || byte_count % 2 != 0 || byte_count > max {
        return Err(RtuError::BadByteCount {
            byte_count,
            detail: format!("an even count of 2..={max} bytes"),
        });
    }
    Ok(have(buf, total(usize::from(byte_count))))
}

/// Length of the response frame starting at `buf[0]` (slave), from its first bytes.
pub fn response_frame_len(buf: &[u8]) -> Result<FrameLen, RtuError> {
    let Some(&function) = buf.get(1) else {
        return Ok(FrameLen::NeedMore(2));
    };
    if function & 0x80 != 0 {
        return Ok(have(buf, len::EXCEPTION_REPLY));
    }
    match function {
        FC_READ_HOLDING => register_frame(buf, 2, 250, len::read_reply_bytes),
        FC_WRITE_SINGLE | FC_WRITE_MULTIPLE => Ok(have(buf, len::WRITE_REPLY)),
        other => Err(RtuError::UnsupportedFunction(other)),
    }
}

/// Length of the request frame starting at `buf[0]` (slave), from its first bytes. Besides
/// the functions voltvend sends, it frames the other fixed-length requests (01 to 06), so a
/// slave on a shared bus can skip them.
pub fn request_frame_len(buf: &[u8]) -> Result<FrameLen, RtuError> {
    let Some(&function) = buf.get(1) else {
        return Ok(FrameLen::NeedMore(2));
    };
    match function {
        0x01..=0x06 => Ok(have(buf, len::READ_REQUEST)),
        // Write multiple coils: slave, fc, addr(2), count(2), byte count, data, crc(2).
        0x0F => match buf.get(6) {
            None => Ok(FrameLen::NeedMore(7)),
            Some(&0) => Err(RtuError::BadByteCount {
                byte_count: 0,
                detail: "1..=246 bytes".into(),
            }),
            Some(&n) => Ok(have(buf, len::write_request_bytes(usize::from(n)))),
        },
        FC_WRITE_MULTIPLE => register_frame(buf, 6, 246, len::write_request_bytes),
        other => Err(RtuError::UnsupportedFunction(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_and_silence_times() {
        // 9600 baud, 11 bits: 1145.833 µs per character, t3.5 = 38.5 bits = 4010.417 µs.
        assert_eq!(
            Framing::E81.char_time(9600),
            Duration::from_nanos(1_145_834)
        );
        assert_eq!(
            Framing::N81.char_time(9600),
            Duration::from_nanos(1_041_667)
        );
        assert_eq!(silence_3_5(9600), Duration::from_nanos(4_010_417));
        assert_eq!(silence_1_5(9600), Duration::from_nanos(1_718_750));
        assert_eq!(silence_3_5(19_200), Duration::from_nanos(2_005_209));
        assert_eq!(silence_3_5(38_400), FIXED_T3_5);
        assert_eq!(silence_1_5(115_200), FIXED_T1_5);
    }
}
