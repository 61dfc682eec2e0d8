//! Request builders (master side), reply builders (the simulator's meter side) and reply
//! parsers for the DL/T 645-2007 functions voltvend uses.

use super::di::Di;
use super::{Address, Control, Dlt645Error, ErrorFlags, Frame, function};
use crate::protocol::bcd;

/// Password field PA P0 P1 P2 (clause 7.x: level then 3 bytes of password, low first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Password {
    pub level: u8,
    pub code: [u8; 3],
}

impl Password {
    /// Level 02, password 000000: the factory default of most meters (and test-vectors §6.3).
    pub const DEFAULT_LEVEL2: Password = Password {
        level: 0x02,
        code: [0, 0, 0],
    };

    fn wire(&self) -> [u8; 4] {
        [self.level, self.code[0], self.code[1], self.code[2]]
    }

    fn from_wire(b: &[u8]) -> Password {
        Password {
            level: b[0],
            code: [b[1], b[2], b[3]],
        }
    }
}

/// Operator code C0..C3 (who issued a write or relay command; recorded in the meter's log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OperatorCode(pub [u8; 4]);

/// Relay control command N1 (meter-protocols.md; DL/T 645-2007 clause 7.x "控制命令").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayCommand {
    /// 0x1A: trip (拉闸).
    Trip,
    /// 0x1B: close permitted: the tenant must press the meter's button (合闸允许).
    ClosePermitted,
    /// 0x1C: direct close (直接合闸), preferred where the meter accepts it.
    DirectClose,
    /// 0x2A / 0x2B: alarm on / off.
    Alarm,
    AlarmClear,
    /// 0x3A / 0x3B: keep power on (保电) / release keep power (保电解除).
    KeepPowerOn,
    KeepPowerOff,
}

impl RelayCommand {
    pub fn n1(self) -> u8 {
        match self {
            RelayCommand::Trip => 0x1A,
            RelayCommand::ClosePermitted => 0x1B,
            RelayCommand::DirectClose => 0x1C,
            RelayCommand::Alarm => 0x2A,
            RelayCommand::AlarmClear => 0x2B,
            RelayCommand::KeepPowerOn => 0x3A,
            RelayCommand::KeepPowerOff => 0x3B,
        }
    }

    pub fn from_n1(n1: u8) -> Option<RelayCommand> {
        Some(match n1 {
            0x1A => RelayCommand::Trip,
            0x1B => RelayCommand::ClosePermitted,
            0x1C => RelayCommand::DirectClose,
            0x2A => RelayCommand::Alarm,
            0x2B => RelayCommand::AlarmClear,
            0x3A => RelayCommand::KeepPowerOn,
            0x3B => RelayCommand::KeepPowerOff,
            _ => return None,
        })
    }
}

/// A meter date and time as DL/T 645 sends it (6 BCD bytes, seconds first: ss mm hh DD MM
/// YY; test-vectors §6 confirms the order), years 2000–2099. All-zero means "no limit" in a
/// relay command's valid-until field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeterTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl MeterTime {
    /// The all-zero field (no validity limit).
    pub const NONE: MeterTime = MeterTime {
        year: 2000,
        month: 0,
        day: 0,
        hour: 0,
        minute: 0,
        second: 0,
    };

    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<MeterTime, Dlt645Error> {
        let t = MeterTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        t.check()?;
        Ok(t)
    }

    fn check(&self) -> Result<(), Dlt645Error> {
        if *self == MeterTime::NONE {
            return Ok(());
        }
        let ok = (2000..=2099).contains(&self.year)
            && (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        if ok {
            Ok(())
        } else {
            Err(Dlt645Error::BadTime(format!("{self:?}")))
        }
    }

    /// From a civil date-time (e.g. site local time from jiff).
    pub fn from_civil(dt: jiff::civil::DateTime) -> Result<MeterTime, Dlt645Error> {
        let year = u16::try_from(dt.year()).map_err(|_| Dlt645Error::BadTime(dt.to_string()))?;
        MeterTime::new(
            year,
            dt.month() as u8,
            dt.day() as u8,
            dt.hour() as u8,
            dt.minute() as u8,
            dt.second() as u8,
        )
    }

    /// The 6 plain bytes ss mm hh DD MM YY.
    pub fn to_wire(&self) -> Result<[u8; 6], Dlt645Error> {
        self.check()?;
        let b = |v: u8| bcd::to_bcd(v).ok_or(Dlt645Error::BadTime(format!("{self:?}")));
        Ok([
            b(self.second)?,
            b(self.minute)?,
            b(self.hour)?,
            b(self.day)?,
            b(self.month)?,
            b((self.year % 100) as u8)?,
        ])
    }

    pub fn from_wire(bytes: &[u8]) -> Result<MeterTime, Dlt645Error> {
        if bytes.len() != 6 {
            return Err(Dlt645Error::BadLength {
                expected: "6 bytes of time".into(),
                got: bytes.len(),
            });
        }
        let mut v = [0u8; 6];
        for (i, &byte) in bytes.iter().enumerate() {
            v[i] = bcd::from_bcd(byte).ok_or(bcd::BcdError::NotBcd { offset: i, byte })?;
        }
        let t = MeterTime {
            year: 2000 + u16::from(v[5]),
            month: v[4],
            day: v[3],
            hour: v[2],
            minute: v[1],
            second: v[0],
        };
        t.check()?;
        Ok(t)
    }
}

fn frame(address: Address, control: Control, data: Vec<u8>) -> Frame {
    Frame {
        address,
        control,
        data,
    }
}

// ---- requests (master → meter) ----

/// Read one data identifier (C = 0x11, L = 4).
pub fn read(address: Address, di: Di) -> Frame {
    frame(
        address,
        Control::request(function::READ),
        di.to_wire().to_vec(),
    )
}

/// Ask for follow-on frame number `seq` of a reply that had the follow-on bit (C = 0x12).
pub fn read_follow_on(address: Address, di: Di, seq: u8) -> Frame {
    let mut data = di.to_wire().to_vec();
    data.push(seq);
    frame(address, Control::request(function::READ_FOLLOW_ON), data)
}

/// Read the address of the single meter on the bus (C = 0x13 to AA..AA, L = 0).
pub fn read_address() -> Frame {
    frame(
        Address::WILDCARD,
        Control::request(function::READ_ADDRESS),
        vec![],
    )
}

/// Write `value` (plain bytes, lowest first) to `di` (C = 0x14):
/// DI + password + operator code + value.
pub fn write(
    address: Address,
    di: Di,
    password: Password,
    operator: OperatorCode,
    value: &[u8],
) -> Frame {
    let mut data = di.to_wire().to_vec();
    data.extend_from_slice(&password.wire());
    data.extend_from_slice(&operator.0);
    data.extend_from_slice(value);
    frame(address, Control::request(function::WRITE), data)
}

/// Relay control (C = 0x1C, L = 16): password, operator, N1, N2 = 0, valid-until.
pub fn relay_control(
    address: Address,
    password: Password,
    operator: OperatorCode,
    command: RelayCommand,
    valid_until: MeterTime,
) -> Result<Frame, Dlt645Error> {
    let mut data = password.wire().to_vec();
    data.extend_from_slice(&operator.0);
    data.push(command.n1());
    data.push(0x00);
    data.extend_from_slice(&valid_until.to_wire()?);
    Ok(frame(
        address,
        Control::request(function::RELAY_CONTROL),
        data,
    ))
}

/// Broadcast time (C = 0x08 to 99..99, data ss mm hh DD MM YY); meters do not reply.
pub fn broadcast_time(now: MeterTime) -> Result<Frame, Dlt645Error> {
    Ok(frame(
        Address::BROADCAST,
        Control::request(function::BROADCAST_TIME),
        now.to_wire()?.to_vec(),
    ))
}

// ---- replies (meter → master), for the simulator ----

/// Normal read reply (C = 0x91, or 0xB1 with follow-on frames): DI + value bytes.
pub fn read_reply(address: Address, di: Di, value: &[u8], follow_on: bool) -> Frame {
    let mut data = di.to_wire().to_vec();
    data.extend_from_slice(value);
    frame(address, Control::reply(function::READ, follow_on), data)
}

/// Follow-on read reply (C = 0x92 / 0xB2): DI + value bytes + SEQ.
pub fn read_follow_on_reply(address: Address, di: Di, value: &[u8], seq: u8, more: bool) -> Frame {
    let mut data = di.to_wire().to_vec();
    data.extend_from_slice(value);
    data.push(seq);
    frame(
        address,
        Control::reply(function::READ_FOLLOW_ON, more),
        data,
    )
}

/// Reply to read address (C = 0x93): the meter's address, lowest byte first.
pub fn read_address_reply(address: Address) -> Frame {
    frame(
        address,
        Control::reply(function::READ_ADDRESS, false),
        address.wire().to_vec(),
    )
}

/// Empty normal reply (write → 0x94, relay control → 0x9C).
pub fn ok_reply(address: Address, function: u8) -> Frame {
    frame(address, Control::reply(function, false), vec![])
}

/// Abnormal reply: C | 0xC0 and one error byte.
pub fn abnormal_reply(address: Address, function: u8, errors: ErrorFlags) -> Frame {
    frame(address, Control::abnormal(function), vec![errors.0])
}

// ---- parsing requests (what a simulated meter receives) ----

/// A request as a meter understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterRequest {
    Read {
        di: Di,
    },
    ReadFollowOn {
        di: Di,
        seq: u8,
    },
    ReadAddress,
    Write {
        di: Di,
        password: Password,
        operator: OperatorCode,
        value: Vec<u8>,
    },
    RelayControl {
        password: Password,
        operator: OperatorCode,
        command: u8,
        valid_until: MeterTime,
    },
    BroadcastTime(MeterTime),
    /// A function voltvend does not implement; the meter should answer abnormal "other".
    Other {
        function: u8,
        data: Vec<u8>,
    },
}

fn need(data: &[u8], n: usize, what: &str) -> Result<(), Dlt645Error> {
    if data.len() < n {
        return Err(Dlt645Error::BadLength {
            expected: format!("at least {n} bytes for {what}"),
            got: data.len(),
        });
    }
    Ok(())
}

/// Interprets a request frame (master → meter).
pub fn parse_request(f: &Frame) -> Result<MeterRequest, Dlt645Error> {
    if f.control.is_reply() {
        return Err(Dlt645Error::WrongControl {
            expected: f.control.function(),
            got: f.control.0,
        });
    }
    let d = &f.data;
    let di = |d: &[u8]| Di::from_wire(d).unwrap_or(Di(0));
    Ok(match f.control.function() {
        function::READ => {
            need(d, 4, "a read")?;
            MeterRequest::Read { di: di(d) }
        }
        function::READ_FOLLOW_ON => {
            need(d, 5, "a follow-on read")?;
            MeterRequest::ReadFollowOn {
                di: di(d),
                seq: d[4],
            }
        }
        function::READ_ADDRESS => MeterRequest::ReadAddress,
        function::WRITE => {
            need(d, 12, "a write")?;
            MeterRequest::Write {
                di: di(d),
                password: Password::from_wire(&d[4..8]),
                operator: OperatorCode([d[8], d[9], d[10], d[11]]),
                value: d[12..].to_vec(),
            }
        }
        function::RELAY_CONTROL => {
            if d.len() != 16 {
                return Err(Dlt645Error::BadLength {
                    expected: "16 bytes for relay control".into(),
                    got: d.len(),
                });
            }
            MeterRequest::RelayControl {
                password: Password::from_wire(&d[0..4]),
                operator: OperatorCode([d[4], d[5], d[6], d[7]]),
                command: d[8],
                valid_until: MeterTime::from_wire(&d[10..16])?,
            }
        }
        function::BROADCAST_TIME => MeterRequest::BroadcastTime(MeterTime::from_wire(d)?),
        other => MeterRequest::Other {
            function: other,
            data: d.clone(),
        },
    })
}

// ---- parsing replies (what the master receives) ----

/// The useful part of a read reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReply {
    pub di: Di,
    /// Value bytes after the DI (and before SEQ in a follow-on reply), plain, lowest first.
    pub value: Vec<u8>,
    /// More follow-on frames are to be fetched with [`read_follow_on`].
    pub follow_on: bool,
    /// SEQ of a follow-on reply (0x92), `None` for the first reply (0x91).
    pub seq: Option<u8>,
}

/// Checks that `reply` answers `function` from `from`, turning abnormal replies into
/// [`Dlt645Error::Abnormal`].
pub fn check_reply(reply: &Frame, from: &Address, function: u8) -> Result<(), Dlt645Error> {
    if !from.has_wildcard() && reply.address != *from {
        return Err(Dlt645Error::WrongAddress {
            expected: from.to_string(),
            got: reply.address.to_string(),
        });
    }
    let c = reply.control;
    if !c.is_reply() || c.function() != function {
        return Err(Dlt645Error::WrongControl {
            expected: function,
            got: c.0,
        });
    }
    if c.is_abnormal() {
        return Err(Dlt645Error::Abnormal {
            function,
            errors: ErrorFlags(reply.data.first().copied().unwrap_or(0)),
        });
    }
    Ok(())
}

/// Parses the reply to [`read`] (0x11) or [`read_follow_on`] (0x12) of `di` sent to `from`.
pub fn parse_read_reply(reply: &Frame, from: &Address, di: Di) -> Result<ReadReply, Dlt645Error> {
    let function = reply.control.function();
    if function != super::function::READ && function != super::function::READ_FOLLOW_ON {
        return Err(Dlt645Error::WrongControl {
            expected: super::function::READ,
            got: reply.control.0,
        });
    }
    check_reply(reply, from, function)?;
    need(&reply.data, 4, "a read reply")?;
    let got = Di::from_wire(&reply.data).unwrap_or(Di(0));
    if got != di {
        return Err(Dlt645Error::WrongDi { expected: di, got });
    }
    let rest = &reply.data[4..];
    let (value, seq) = if function == super::function::READ_FOLLOW_ON {
        let (last, v) = rest.split_last().ok_or(Dlt645Error::BadLength {
            expected: "SEQ after the DI".into(),
            got: 4,
        })?;
        (v.to_vec(), Some(*last))
    } else {
        (rest.to_vec(), None)
    };
    let info_len = di.info().map(|i| i.value_len());
    if let (Some(n), None) = (info_len, seq)
        && !reply.control.has_follow_on()
        && value.len() != n
    {
        return Err(Dlt645Error::BadLength {
            expected: format!("{n} value bytes for {di}"),
            got: value.len(),
        });
    }
    Ok(ReadReply {
        di,
        value,
        follow_on: reply.control.has_follow_on(),
        seq,
    })
}

/// Parses the reply to [`read_address`]: the meter's address.
pub fn parse_read_address_reply(reply: &Frame) -> Result<Address, Dlt645Error> {
    check_reply(reply, &Address::WILDCARD, function::READ_ADDRESS)?;
    let b: [u8; 6] = reply
        .data
        .as_slice()
        .try_into()
        .map_err(|_| Dlt645Error::BadLength {
            expected: "6 address bytes".into(),
            got: reply.data.len(),
        })?;
    Address::from_wire(b)
}
