//! DL/T 645-2007 ("multi-function watt-hour meter communication protocol"), written by hand.
//!
//! No maintained Rust crate implements it: the only one, `rs-dlt645` (fdxxw/rs-dlt645), is
//! unmaintained and covers a few frame kinds only, so voltvend owns this codec. It is pure:
//! bytes in, frames or error values out, never a panic.
//!
//! Frame (DL/T 645-2007 clause 4.1, Figure 1), preceded on the wire by 0–4 × 0xFE wake-up
//! bytes (clause 4.2.1, which a reader must tolerate, along with line noise):
//!
//! ```text
//! 68 | A0 A1 A2 A3 A4 A5 | 68 | C | L | DATA (L bytes, each +0x33) | CS | 16
//! ```
//!
//! The address is 12 BCD digits, lowest byte first (clause 4.1.3); CS is the sum mod 256 of
//! every byte from the first 0x68 to the last DATA byte (clause 4.1.7). DATA bytes are sent
//! plus 0x33 and received minus 0x33 (clause 4.1.6); [`Frame::data`] always holds the plain
//! bytes. Known answers: docs/reference/test-vectors.md §6.

pub mod build;
pub mod di;
pub mod status;
pub mod value;

pub use build::*;
pub use di::Di;
pub use status::{PrepaidType, StatusWord3};
pub use value::BcdFormat;

use super::bcd;

/// Start and end delimiters (clause 4.1.1 / 4.1.8) and the wake-up byte (clause 4.2.1).
pub const START: u8 = 0x68;
pub const END: u8 = 0x16;
pub const PREAMBLE: u8 = 0xFE;
/// Wake-up bytes voltvend sends before every request (clause 4.2.1: up to four 0xFE).
pub const WAKE_UP_LEN: usize = 4;
/// The DATA scrambling offset (clause 4.1.6).
pub const SCRAMBLE: u8 = 0x33;
/// Longest DATA field a master may send (clause 4.1.5: L ≤ 200 for reads).
pub const MAX_DATA_LEN: usize = 200;
/// Bytes around DATA: 68 + 6 address + 68 + C + L + CS + 16.
pub const OVERHEAD: usize = 12;

/// Why bytes are not the DL/T 645 frame expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dlt645Error {
    /// Not an error in the data: the frame is not complete yet (stream readers wait).
    #[error("incomplete frame: need at least {needed} bytes, have {got}")]
    Incomplete { needed: usize, got: usize },
    #[error("no frame start (0x68) in {0} bytes")]
    NoStart(usize),
    #[error("checksum mismatch: computed 0x{expected:02X}, frame carries 0x{found:02X}")]
    BadChecksum { expected: u8, found: u8 },
    #[error("frame does not end with 0x16 (found 0x{0:02X})")]
    MissingEnd(u8),
    #[error("address byte 0x{0:02X} is neither BCD nor the wildcard 0xAA")]
    BadAddress(u8),
    #[error("address text '{0}' is not 12 decimal digits")]
    BadAddressText(String),
    #[error("data field of {0} bytes is longer than the 200 allowed")]
    DataTooLong(usize),
    #[error("reply from {got}, expected {expected}")]
    WrongAddress { expected: String, got: String },
    #[error("reply control 0x{got:02X} does not answer function 0x{expected:02X}")]
    WrongControl { expected: u8, got: u8 },
    #[error("reply carries data identifier {got}, expected {expected}")]
    WrongDi { expected: Di, got: Di },
    #[error("meter refused function 0x{function:02X}: {errors}")]
    Abnormal { function: u8, errors: ErrorFlags },
    #[error("reply data of {got} bytes, expected {expected}")]
    BadLength { expected: String, got: usize },
    #[error("bad value: {0}")]
    Bcd(#[from] bcd::BcdError),
    #[error("bad time: {0}")]
    BadTime(String),
}

impl Dlt645Error {
    /// True when more bytes may complete the frame (not a protocol error).
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Dlt645Error::Incomplete { .. })
    }
}

/// A meter address: 6 bytes, lowest first on the wire, each two BCD digits or the wildcard
/// 0xAA (clause 4.1.3; trailing high bytes 0xAA address meters by their low digits only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; 6]);

impl Address {
    /// 99 99 99 99 99 99: broadcast, used only for broadcast time (clause 4.1.3).
    pub const BROADCAST: Address = Address([0x99; 6]);
    /// AA AA AA AA AA AA: wildcard, e.g. to read the address of the only meter on a bus.
    pub const WILDCARD: Address = Address([0xAA; 6]);

    /// From the 6 bytes as they appear on the wire (lowest first).
    pub fn from_wire(bytes: [u8; 6]) -> Result<Address, Dlt645Error> {
        for &b in &bytes {
            if b != 0xAA && bcd::from_bcd(b).is_none() {
                return Err(Dlt645Error::BadAddress(b));
            }
        }
        Ok(Address(bytes))
    }

    /// From the 12-digit text printed on the meter, most significant digit first
    /// ("000000001234" → wire 34 12 00 00 00 00). 'A'/'a' pairs stand for wildcard bytes.
    pub fn parse(text: &str) -> Result<Address, Dlt645Error> {
        let bad = || Dlt645Error::BadAddressText(text.to_string());
        let t = text.trim().as_bytes();
        if t.len() != 12 {
            return Err(bad());
        }
        let mut bytes = [0u8; 6];
        for (i, pair) in t.chunks(2).enumerate() {
            let b = match pair {
                [b'A' | b'a', b'A' | b'a'] => 0xAA,
                [h, l] if h.is_ascii_digit() && l.is_ascii_digit() => {
                    ((h - b'0') << 4) | (l - b'0')
                }
                _ => return Err(bad()),
            };
            bytes[5 - i] = b;
        }
        Ok(Address(bytes))
    }

    /// The number printed on the meter, as an integer (wildcard bytes make it `None`).
    pub fn to_u64(&self) -> Option<u64> {
        bcd::decode_le(&self.0).ok()
    }

    /// From the meter number as an integer (at most 12 digits).
    pub fn from_u64(number: u64) -> Result<Address, Dlt645Error> {
        let v = bcd::encode_le(number, 6)?;
        let mut bytes = [0u8; 6];
        bytes.copy_from_slice(&v);
        Ok(Address(bytes))
    }

    pub fn wire(&self) -> [u8; 6] {
        self.0
    }

    pub fn is_broadcast(&self) -> bool {
        *self == Address::BROADCAST
    }

    pub fn has_wildcard(&self) -> bool {
        self.0.contains(&0xAA)
    }

    /// Whether a meter whose own address is `self` must act on a frame sent to `to`:
    /// its own address, broadcast, or a (partial) wildcard matching every non-AA byte.
    pub fn accepts(&self, to: &Address) -> bool {
        to.is_broadcast()
            || self
                .0
                .iter()
                .zip(to.0.iter())
                .all(|(mine, theirs)| *theirs == 0xAA || mine == theirs)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0.iter().rev() {
            if *b == 0xAA {
                f.write_str("AA")?;
            } else {
                write!(f, "{b:02X}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Address {
    type Err = Dlt645Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

/// Function codes (control byte bits D4..D0; clause 4.1.4 and meter-protocols.md).
pub mod function {
    pub const SECURITY: u8 = 0x03;
    pub const BROADCAST_TIME: u8 = 0x08;
    pub const READ: u8 = 0x11;
    pub const READ_FOLLOW_ON: u8 = 0x12;
    pub const READ_ADDRESS: u8 = 0x13;
    pub const WRITE: u8 = 0x14;
    pub const WRITE_ADDRESS: u8 = 0x15;
    pub const FREEZE: u8 = 0x16;
    pub const CHANGE_BAUD: u8 = 0x17;
    pub const CHANGE_PASSWORD: u8 = 0x18;
    pub const CLEAR_DEMAND: u8 = 0x19;
    pub const CLEAR_METER: u8 = 0x1A;
    pub const CLEAR_EVENTS: u8 = 0x1B;
    pub const RELAY_CONTROL: u8 = 0x1C;
}

/// The control byte C (clause 4.1.4): D7 direction (1 = reply from the meter), D6 abnormal
/// reply, D5 follow-on frames exist, D4..D0 function code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control(pub u8);

impl Control {
    const REPLY: u8 = 0x80;
    const ABNORMAL: u8 = 0x40;
    const FOLLOW_ON: u8 = 0x20;

    pub fn request(function: u8) -> Control {
        Control(function & 0x1F)
    }

    /// Normal reply, with the follow-on bit when more frames carry the rest of the data.
    pub fn reply(function: u8, follow_on: bool) -> Control {
        let f = if follow_on { Self::FOLLOW_ON } else { 0 };
        Control(Self::REPLY | f | (function & 0x1F))
    }

    /// Abnormal reply: C | 0xC0 (clause 4.1.4).
    pub fn abnormal(function: u8) -> Control {
        Control(Self::REPLY | Self::ABNORMAL | (function & 0x1F))
    }

    pub fn function(self) -> u8 {
        self.0 & 0x1F
    }
    pub fn is_reply(self) -> bool {
        self.0 & Self::REPLY != 0
    }
    pub fn is_abnormal(self) -> bool {
        self.0 & Self::ABNORMAL != 0
    }
    pub fn has_follow_on(self) -> bool {
        self.0 & Self::FOLLOW_ON != 0
    }
}

/// The error byte of an abnormal reply (DL/T 645-2007 Table 4 "error information word").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorFlags(pub u8);

/// One bit of [`ErrorFlags`], named after the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeterError {
    /// bit 0: other error (其他错误).
    Other,
    /// bit 1: no data requested / unknown identifier (无请求数据).
    NoData,
    /// bit 2: wrong password or not authorised (密码错/未授权).
    Unauthorized,
    /// bit 3: baud rate cannot be changed (通信速率不能更改).
    BaudUnchangeable,
    /// bit 4: too many annual time zones (年时区数超).
    YearZonesExceeded,
    /// bit 5: too many daily time slots (日时段数超).
    DaySlotsExceeded,
    /// bit 6: too many tariffs (费率数超).
    TariffsExceeded,
    /// bit 7: reserved.
    Reserved,
}

impl MeterError {
    const ALL: [MeterError; 8] = [
        MeterError::Other,
        MeterError::NoData,
        MeterError::Unauthorized,
        MeterError::BaudUnchangeable,
        MeterError::YearZonesExceeded,
        MeterError::DaySlotsExceeded,
        MeterError::TariffsExceeded,
        MeterError::Reserved,
    ];

    pub fn bit(self) -> u8 {
        1 << (MeterError::ALL.iter().position(|e| *e == self).unwrap_or(7) as u8)
    }

    pub fn description(self) -> &'static str {
        match self {
            MeterError::Other => "other error",
            MeterError::NoData => "no such data",
            MeterError::Unauthorized => "wrong password or not authorised",
            MeterError::BaudUnchangeable => "baud rate cannot be changed",
            MeterError::YearZonesExceeded => "too many annual time zones",
            MeterError::DaySlotsExceeded => "too many daily time slots",
            MeterError::TariffsExceeded => "too many tariffs",
            MeterError::Reserved => "reserved error bit 7",
        }
    }
}

impl ErrorFlags {
    pub fn from_errors(errors: &[MeterError]) -> ErrorFlags {
        ErrorFlags(errors.iter().fold(0, |acc, e| acc | e.bit()))
    }

    pub fn errors(self) -> Vec<MeterError> {
        MeterError::ALL
            .iter()
            .copied()
            .filter(|e| self.0 & e.bit() != 0)
            .collect()
    }

    pub fn contains(self, e: MeterError) -> bool {
        self.0 & e.bit() != 0
    }
}

impl std::fmt::Display for ErrorFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.errors().iter().map(|e| e.description()).collect();
        if names.is_empty() {
            write!(f, "error byte 0x00 (no reason given)")
        } else {
            write!(f, "error byte 0x{:02X} ({})", self.0, names.join(", "))
        }
    }
}

/// One DL/T 645 frame; `data` is plain (the +0x33 is added and removed by the codec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub address: Address,
    pub control: Control,
    pub data: Vec<u8>,
}

/// Encodes a frame without preamble. Fails only when `data` is longer than 200 bytes.
pub fn encode(frame: &Frame) -> Result<Vec<u8>, Dlt645Error> {
    if frame.data.len() > MAX_DATA_LEN {
        return Err(Dlt645Error::DataTooLong(frame.data.len()));
    }
    let mut out = Vec::with_capacity(OVERHEAD + frame.data.len());
    out.push(START);
    out.extend_from_slice(&frame.address.0);
    out.push(START);
    out.push(frame.control.0);
    out.push(frame.data.len() as u8);
    out.extend(frame.data.iter().map(|b| b.wrapping_add(SCRAMBLE)));
    let cs = checksum(&out);
    out.push(cs);
    out.push(END);
    Ok(out)
}

/// Encodes a frame behind the usual four 0xFE wake-up bytes (what masters send).
pub fn encode_with_preamble(frame: &Frame) -> Result<Vec<u8>, Dlt645Error> {
    let mut out = vec![PREAMBLE; WAKE_UP_LEN];
    out.extend(encode(frame)?);
    Ok(out)
}

/// Sum mod 256 (clause 4.1.7).
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// Decodes the first frame in `buf`, skipping wake-up bytes and garbage before it.
/// Returns the frame and the number of bytes consumed (everything up to its 0x16).
/// [`Dlt645Error::Incomplete`] means "read more bytes"; every other error means the bytes
/// at the frame start found are bad (a stream reader skips one byte and rescans, see
/// [`StreamDecoder`]).
pub fn decode(buf: &[u8]) -> Result<(Frame, usize), Dlt645Error> {
    let mut from = 0;
    loop {
        let Some(rel) = buf[from..].iter().position(|&b| b == START) else {
            return Err(if buf.is_empty() {
                Dlt645Error::Incomplete { needed: 1, got: 0 }
            } else {
                Dlt645Error::NoStart(buf.len())
            });
        };
        let s = from + rel;
        let frame = &buf[s..];
        if frame.len() < 10 {
            return Err(Dlt645Error::Incomplete {
                needed: s + OVERHEAD,
                got: buf.len(),
            });
        }
        if frame[7] != START {
            // A 0x68 in the noise, not a frame head: look for the next one.
            from = s + 1;
            continue;
        }
        let len = usize::from(frame[9]);
        let total = OVERHEAD + len;
        if frame.len() < total {
            return Err(Dlt645Error::Incomplete {
                needed: s + total,
                got: buf.len(),
            });
        }
        let expected = checksum(&frame[..10 + len]);
        let found = frame[10 + len];
        if expected != found {
            return Err(Dlt645Error::BadChecksum { expected, found });
        }
        if frame[11 + len] != END {
            return Err(Dlt645Error::MissingEnd(frame[11 + len]));
        }
        let mut addr = [0u8; 6];
        addr.copy_from_slice(&frame[1..7]);
        let address = Address::from_wire(addr)?;
        let data = frame[10..10 + len]
            .iter()
            .map(|b| b.wrapping_sub(SCRAMBLE))
            .collect();
        return Ok((
            Frame {
                address,
                control: Control(frame[8]),
                data,
            },
            s + total,
        ));
    }
}

/// Incremental decoder for a byte stream: push bytes as they arrive, pull frames out.
#[derive(Debug, Default, Clone)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    /// Bytes discarded as noise or bad frames so far.
    pub discarded: usize,
}

impl StreamDecoder {
    /// Refuse to hold more than this many undecoded bytes (a babbling line).
    pub const MAX_BUFFER: usize = 4096;

    pub fn new() -> StreamDecoder {
        StreamDecoder::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > Self::MAX_BUFFER {
            let drop = self.buf.len() - Self::MAX_BUFFER;
            self.buf.drain(..drop);
            self.discarded += drop;
        }
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// `Ok(Some(frame))` when a whole frame arrived, `Ok(None)` when more bytes are needed,
    /// `Err` for a bad frame (its first byte is dropped, so calling again goes on scanning).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, Dlt645Error> {
        match decode(&self.buf) {
            Ok((frame, used)) => {
                self.buf.drain(..used);
                Ok(Some(frame))
            }
            Err(Dlt645Error::Incomplete { .. }) => Ok(None),
            Err(Dlt645Error::NoStart(n)) => {
                self.buf.clear();
                self.discarded += n;
                Ok(None)
            }
            Err(e) => {
                let start = self.buf.iter().position(|&b| b == START).unwrap_or(0);
                self.buf
                    .drain(..=start.min(self.buf.len().saturating_sub(1)));
                self.discarded += start + 1;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_text_and_wire() {
        let a = Address::parse("000000001234").unwrap();
        assert_eq!(a.wire(), [0x34, 0x12, 0, 0, 0, 0]);
        assert_eq!(a.to_string(), "000000001234");
        assert_eq!(a.to_u64(), Some(1234));
        assert!(Address::parse("00000000123").is_err());
        assert!(Address::parse("00000000123x").is_err());
        assert_eq!(Address::parse("AAAAAAAAAAAA").unwrap(), Address::WILDCARD);
        assert!(a.accepts(&Address::WILDCARD));
        assert!(a.accepts(&Address::BROADCAST));
        assert!(a.accepts(&Address::parse("AAAAAAAA1234").unwrap()));
        assert!(!a.accepts(&Address::parse("000000001235").unwrap()));
    }

    #[test]
    fn error_flags_named() {
        let f = ErrorFlags(0x04);
        assert_eq!(f.errors(), vec![MeterError::Unauthorized]);
        assert_eq!(
            f.to_string(),
            "error byte 0x04 (wrong password or not authorised)"
        );
        assert_eq!(
            ErrorFlags::from_errors(&[MeterError::NoData, MeterError::Other]),
            ErrorFlags(0x03)
        );
    }
}
