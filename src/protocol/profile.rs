//! Meter profiles: the register map and the commands of a meter model, as data.
//!
//! A profile is a TOML file (see docs/meter-profiles.md). The built-in profiles live in
//! `src/protocol/profiles/*.toml` and are embedded in the binary with `include_str!`; a site
//! may add its own from its config directory with [`ProfileSet::load_dir`]. Adding a meter
//! model is a file, not code (the idea of evcc's per-model register templates, see
//! docs/reference/meter-protocols.md).
//!
//! Every value decodes to an exact integer in a canonical unit ([`Quantity`]): energy in Wh,
//! voltage in 0.1 V, current in mA, power in W, money in fen, prices in 0.0001 fen/kWh
//! ([`crate::units::Price`]), power factor and ratios in 0.001, frequency in 0.01 Hz. A
//! register's `scale` is an exact decimal exponent (`-2` = 0.01 of `unit`); a profile whose
//! scale cannot be converted exactly into the canonical unit is refused when it is loaded, so
//! no float ever appears between the wire and the ledger.
//!
//! This module is pure (no I/O) apart from [`ProfileSet::load_dir`], which reads files.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Well-known value names shared by every profile, so the collector, the control queue and
/// the simulator agree without string typos.
pub mod names {
    pub const ENERGY_TOTAL: &str = "energy_total";
    pub const ENERGY_SHARP: &str = "energy_sharp";
    pub const ENERGY_PEAK: &str = "energy_peak";
    pub const ENERGY_FLAT: &str = "energy_flat";
    pub const ENERGY_VALLEY: &str = "energy_valley";
    /// The four TOU energy registers in band order sharp, peak, flat, valley.
    pub const ENERGY_BANDS: [&str; 4] = [ENERGY_SHARP, ENERGY_PEAK, ENERGY_FLAT, ENERGY_VALLEY];
    pub const VOLTAGE: &str = "voltage";
    pub const VOLTAGE_A: &str = "voltage_a";
    pub const VOLTAGE_B: &str = "voltage_b";
    pub const VOLTAGE_C: &str = "voltage_c";
    pub const CURRENT: &str = "current";
    pub const CURRENT_A: &str = "current_a";
    pub const CURRENT_B: &str = "current_b";
    pub const CURRENT_C: &str = "current_c";
    /// Total active power (all phases).
    pub const POWER: &str = "power";
    pub const POWER_A: &str = "power_a";
    pub const POWER_B: &str = "power_b";
    pub const POWER_C: &str = "power_c";
    pub const APPARENT_POWER: &str = "apparent_power";
    pub const POWER_FACTOR: &str = "power_factor";
    pub const FREQUENCY: &str = "frequency";
    pub const BALANCE: &str = "balance";
    pub const PURCHASE_COUNT: &str = "purchase_count";
    /// 1 = relay open (tripped, no power), 0 = closed.
    pub const RELAY_OPEN: &str = "relay_open";
    pub const KEEP_POWER: &str = "keep_power";
    pub const PREPAID_MODE: &str = "prepaid_mode";
    pub const ALARM1: &str = "alarm1";
    pub const ALARM2: &str = "alarm2";
    pub const OVERLOAD_LIMIT: &str = "overload_limit";
    pub const PRICE_SHARP: &str = "price_sharp";
    pub const PRICE_PEAK: &str = "price_peak";
    pub const PRICE_FLAT: &str = "price_flat";
    pub const PRICE_VALLEY: &str = "price_valley";
    /// The four TOU prices in band order sharp, peak, flat, valley.
    pub const PRICES: [&str; 4] = [PRICE_SHARP, PRICE_PEAK, PRICE_FLAT, PRICE_VALLEY];
    pub const CREDIT_TOKEN: &str = "credit_token";
}

/// Built-in profiles, embedded in the binary.
const BUILTIN: [(&str, &str); 3] = [
    (
        "acrel-ddsy1352-nk.toml",
        include_str!("profiles/acrel-ddsy1352-nk.toml"),
    ),
    (
        "acrel-dtsy1352-nk.toml",
        include_str!("profiles/acrel-dtsy1352-nk.toml"),
    ),
    (
        "dlt645-2007-prepaid.toml",
        include_str!("profiles/dlt645-2007-prepaid.toml"),
    ),
];

/// Name of the built-in 1-phase Modbus prepaid profile (the default for `voltvend read`).
pub const DEFAULT_MODBUS_1P: &str = "acrel-ddsy1352-nk";
/// Name of the built-in 3-phase Modbus prepaid profile.
pub const DEFAULT_MODBUS_3P: &str = "acrel-dtsy1352-nk";
/// Name of the built-in DL/T 645-2007 prepaid profile.
pub const DEFAULT_DLT645: &str = "dlt645-2007-prepaid";

/// Modbus function 03 may return at most 125 registers (Modbus Application Protocol
/// V1.1b3, §6.3: "Quantity of Registers 1 to 125 (0x7D)").
pub const MODBUS_MAX_READ_REGISTERS: u16 = 125;

/// Why a profile was refused: the origin (file name), the TOML line when known, the field
/// and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}{}: {what}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ProfileError {
    pub origin: String,
    pub line: Option<usize>,
    pub what: String,
}

/// Why a register's words could not be turned into a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("register '{name}' needs {need} words, got {got}")]
    Short {
        name: String,
        need: usize,
        got: usize,
    },
    #[error("register '{name}': byte 0x{byte:02x} is not BCD")]
    NotBcd { name: String, byte: u8 },
    #[error("register '{name}': value out of range")]
    Overflow { name: String },
    #[error("register '{name}' is not a number (it holds bytes)")]
    NotANumber { name: String },
}

/// The protocol a profile speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileProtocol {
    Modbus,
    Dlt645,
}

impl fmt::Display for ProfileProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileProtocol::Modbus => "modbus",
            ProfileProtocol::Dlt645 => "dlt645",
        })
    }
}

/// Serial line defaults (an installer may override them per bus).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialDefaults {
    pub baud: u32,
    /// Data bits, parity (N/E/O) and stop bits, e.g. `8E1`.
    pub framing: String,
}

/// How a register's words hold the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegType {
    U16,
    I16,
    U32,
    I32,
    /// DL/T 645 BCD number (`format` gives digits and decimals; `signed` uses the top bit).
    Bcd,
    /// A binary word (DL/T 645 status words, little-endian on the wire); read bits with `bit`.
    Bits,
    /// Opaque bytes (credit token): written, never decoded to a number.
    Bytes,
}

/// Order of the two 16-bit words of a 32-bit Modbus value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordOrder {
    /// High word at the lower address (Modbus convention, Acrel manual T1.0 §8.1).
    #[default]
    HighFirst,
    LowFirst,
}

/// Read-only or read/write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    R,
    Rw,
    /// Write-only (credit token).
    W,
}

/// The unit a register is expressed in on the wire (before `scale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Unit {
    #[serde(rename = "kWh")]
    Kwh,
    #[serde(rename = "Wh")]
    Wh,
    V,
    A,
    #[serde(rename = "kW")]
    Kw,
    W,
    #[serde(rename = "kVA")]
    Kva,
    #[serde(rename = "VA")]
    Va,
    Hz,
    #[serde(rename = "yuan")]
    Yuan,
    #[serde(rename = "fen")]
    Fen,
    #[serde(rename = "yuan/kWh")]
    YuanPerKwh,
    /// Power factor (a ratio, 1 = unity).
    #[serde(rename = "pf")]
    Pf,
    #[serde(rename = "count")]
    Count,
    #[serde(rename = "flag")]
    Flag,
    /// A code or raw number with no physical unit (user code, CT ratio).
    #[serde(rename = "code")]
    Code,
    #[serde(rename = "bytes")]
    Bytes,
}

/// The canonical integer unit a value decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Wh.
    Energy,
    /// 0.1 V.
    Voltage,
    /// mA.
    Current,
    /// W.
    Power,
    /// VA.
    ApparentPower,
    /// 0.01 Hz.
    Frequency,
    /// fen.
    Money,
    /// 0.0001 fen/kWh ([`crate::units::Price`] units).
    Price,
    /// 0.001.
    Ratio,
    /// A plain count.
    Count,
    /// 0 or 1.
    Flag,
    /// A raw code.
    Code,
    /// Opaque bytes.
    Bytes,
}

impl Quantity {
    /// Short name of the canonical unit, for listings.
    pub fn unit_label(self) -> &'static str {
        match self {
            Quantity::Energy => "Wh",
            Quantity::Voltage => "0.1 V",
            Quantity::Current => "mA",
            Quantity::Power => "W",
            Quantity::ApparentPower => "VA",
            Quantity::Frequency => "0.01 Hz",
            Quantity::Money => "fen",
            Quantity::Price => "0.0001 fen/kWh",
            Quantity::Ratio => "0.001",
            Quantity::Count => "",
            Quantity::Flag => "flag",
            Quantity::Code => "",
            Quantity::Bytes => "bytes",
        }
    }
}

impl Unit {
    /// The canonical quantity and the decimal exponent from this unit to it
    /// (1 kWh = 10^3 Wh, 1 yuan/kWh = 100 fen/kWh = 10^6 price units).
    pub fn canonical(self) -> (Quantity, i32) {
        match self {
            Unit::Kwh => (Quantity::Energy, 3),
            Unit::Wh => (Quantity::Energy, 0),
            Unit::V => (Quantity::Voltage, 1),
            Unit::A => (Quantity::Current, 3),
            Unit::Kw => (Quantity::Power, 3),
            Unit::W => (Quantity::Power, 0),
            Unit::Kva => (Quantity::ApparentPower, 3),
            Unit::Va => (Quantity::ApparentPower, 0),
            Unit::Hz => (Quantity::Frequency, 2),
            Unit::Yuan => (Quantity::Money, 2),
            Unit::Fen => (Quantity::Money, 0),
            Unit::YuanPerKwh => (Quantity::Price, 6),
            Unit::Pf => (Quantity::Ratio, 3),
            Unit::Count => (Quantity::Count, 0),
            Unit::Flag => (Quantity::Flag, 0),
            Unit::Code => (Quantity::Code, 0),
            Unit::Bytes => (Quantity::Bytes, 0),
        }
    }
}

/// Where a register lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// Modbus holding register address (function 03 read, 0x10 write).
    Holding(u16),
    /// DL/T 645-2007 data identifier (DI3 DI2 DI1 DI0 as a number, e.g. 0x00010000).
    Dlt645(u32),
}

/// One named value of a meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub name: String,
    pub location: Location,
    pub kind: RegType,
    pub word_order: WordOrder,
    /// Decimal exponent: the wire integer × 10^scale is the value in `unit`.
    pub scale: i32,
    pub unit: Unit,
    pub access: Access,
    /// Modbus: number of 16-bit registers. DL/T 645: number of data bytes.
    pub size: u16,
    /// DL/T 645 `bits` registers: first bit and number of bits of the value.
    pub bit: Option<(u8, u8)>,
    /// DL/T 645 BCD: the most significant bit of the top byte is a sign.
    pub signed: bool,
    /// Where this register's definition comes from (manual and page), or `assumed`.
    pub source: String,
    /// Human description (optional).
    pub description: String,
}

impl Register {
    /// The quantity this register decodes to.
    pub fn quantity(&self) -> Quantity {
        self.unit.canonical().0
    }

    /// Exponent from the wire integer to the canonical unit. Negative only for registers
    /// that declare `truncate = true` (never energy, money or prices).
    pub fn exponent(&self) -> i32 {
        self.scale + self.unit.canonical().1
    }

    /// True when this register's source says it is an assumption, not a published fact.
    pub fn is_assumed(&self) -> bool {
        self.source.trim_start().starts_with("assumed")
    }

    /// Modbus holding address, if any.
    pub fn address(&self) -> Option<u16> {
        match self.location {
            Location::Holding(a) => Some(a),
            Location::Dlt645(_) => None,
        }
    }

    /// DL/T 645 data identifier, if any.
    pub fn di(&self) -> Option<u32> {
        match self.location {
            Location::Dlt645(d) => Some(d),
            Location::Holding(_) => None,
        }
    }

    /// Decodes this register from the Modbus words that hold it (exactly `size` words).
    pub fn decode_words(&self, words: &[u16]) -> Result<i64, DecodeError> {
        let need = usize::from(self.size);
        if words.len() < need {
            return Err(DecodeError::Short {
                name: self.name.clone(),
                need,
                got: words.len(),
            });
        }
        let pair = |w: &[u16]| -> u32 {
            let (hi, lo) = match self.word_order {
                WordOrder::HighFirst => (w[0], w[1]),
                WordOrder::LowFirst => (w[1], w[0]),
            };
            (u32::from(hi) << 16) | u32::from(lo)
        };
        let raw: i64 = match self.kind {
            RegType::U16 | RegType::Bits => i64::from(words[0]),
            RegType::I16 => i64::from(words[0] as i16),
            RegType::U32 => i64::from(pair(words)),
            RegType::I32 => i64::from(pair(words) as i32),
            RegType::Bcd => {
                // BCD over Modbus: high word first, each nibble a digit.
                let mut v: i64 = 0;
                for w in &words[..need] {
                    for shift in [12u32, 8, 4, 0] {
                        let d = (w >> shift) & 0xF;
                        if d > 9 {
                            return Err(DecodeError::NotBcd {
                                name: self.name.clone(),
                                byte: (*w >> (shift & !4)) as u8,
                            });
                        }
                        v = v * 10 + i64::from(d);
                    }
                }
                v
            }
            RegType::Bytes => {
                return Err(DecodeError::NotANumber {
                    name: self.name.clone(),
                });
            }
        };
        self.to_canonical(self.apply_bits(raw))
    }

    /// Encodes a canonical value into this register's Modbus words (the simulator's side,
    /// and the control queue's writes). Values finer than the register resolution are
    /// truncated toward negative infinity, as a meter's register does.
    pub fn encode_words(&self, canonical: i64) -> Result<Vec<u16>, DecodeError> {
        let raw = self.raw_of_canonical(canonical)?;
        let overflow = || DecodeError::Overflow {
            name: self.name.clone(),
        };
        let split = |v: u32| -> Vec<u16> {
            let (hi, lo) = ((v >> 16) as u16, v as u16);
            match self.word_order {
                WordOrder::HighFirst => vec![hi, lo],
                WordOrder::LowFirst => vec![lo, hi],
            }
        };
        Ok(match self.kind {
            RegType::U16 | RegType::Bits => vec![u16::try_from(raw).map_err(|_| overflow())?],
            RegType::I16 => vec![i16::try_from(raw).map_err(|_| overflow())? as u16],
            RegType::U32 => split(u32::try_from(raw).map_err(|_| overflow())?),
            RegType::I32 => split(i32::try_from(raw).map_err(|_| overflow())? as u32),
            RegType::Bcd | RegType::Bytes => {
                return Err(DecodeError::NotANumber {
                    name: self.name.clone(),
                });
            }
        })
    }

    /// Decodes a DL/T 645 value from its data bytes (already un-scrambled, lowest byte
    /// first as on the wire, DL/T 645-2007 §5.2: "数据项…低字节在前").
    pub fn decode_dlt645(&self, data: &[u8]) -> Result<i64, DecodeError> {
        let need = usize::from(self.size);
        if data.len() < need {
            return Err(DecodeError::Short {
                name: self.name.clone(),
                need,
                got: data.len(),
            });
        }
        let data = &data[..need];
        let raw: i64 = match self.kind {
            RegType::Bcd => {
                let mut v: i64 = 0;
                let mut negative = false;
                for (i, b) in data.iter().rev().enumerate() {
                    let mut b = *b;
                    if i == 0 && self.signed {
                        negative = b & 0x80 != 0;
                        b &= 0x7F;
                    }
                    let (hi, lo) = (b >> 4, b & 0x0F);
                    if hi > 9 || lo > 9 {
                        return Err(DecodeError::NotBcd {
                            name: self.name.clone(),
                            byte: b,
                        });
                    }
                    v = v * 100 + i64::from(hi * 10 + lo);
                }
                if negative { -v } else { v }
            }
            RegType::Bits | RegType::U16 | RegType::U32 => {
                let mut v: i64 = 0;
                for b in data.iter().rev() {
                    v = (v << 8) | i64::from(*b);
                }
                v
            }
            _ => {
                return Err(DecodeError::NotANumber {
                    name: self.name.clone(),
                });
            }
        };
        self.to_canonical(self.apply_bits(raw))
    }

    /// Encodes a canonical value into DL/T 645 data bytes (lowest byte first). For `bits`
    /// registers only the register's own bits are set; merge several with OR.
    pub fn encode_dlt645(&self, canonical: i64) -> Result<Vec<u8>, DecodeError> {
        let raw = self.raw_of_canonical(canonical)?;
        let overflow = || DecodeError::Overflow {
            name: self.name.clone(),
        };
        let n = usize::from(self.size);
        match self.kind {
            RegType::Bcd => {
                let negative = raw < 0;
                if negative && !self.signed {
                    return Err(overflow());
                }
                let mut v = raw.unsigned_abs();
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let pair = (v % 100) as u8;
                    v /= 100;
                    out.push(((pair / 10) << 4) | (pair % 10));
                }
                if v != 0 {
                    return Err(overflow());
                }
                if let Some(top) = out.last_mut() {
                    if negative {
                        if *top & 0x80 != 0 {
                            return Err(overflow());
                        }
                        *top |= 0x80;
                    } else if self.signed && *top & 0x80 != 0 {
                        return Err(overflow());
                    }
                }
                Ok(out)
            }
            RegType::Bits | RegType::U16 | RegType::U32 => {
                let mut v = u64::try_from(raw).map_err(|_| overflow())?;
                if let Some((bit, len)) = self.bit {
                    if v >= (1u64 << len) {
                        return Err(overflow());
                    }
                    v <<= bit;
                }
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push(v as u8);
                    v >>= 8;
                }
                if v != 0 {
                    return Err(overflow());
                }
                Ok(out)
            }
            _ => Err(DecodeError::NotANumber {
                name: self.name.clone(),
            }),
        }
    }

    fn apply_bits(&self, raw: i64) -> i64 {
        match self.bit {
            Some((bit, len)) => (raw >> bit) & ((1i64 << len) - 1),
            None => raw,
        }
    }

    fn to_canonical(&self, raw: i64) -> Result<i64, DecodeError> {
        let e = self.exponent();
        let m = 10i64
            .checked_pow(e.unsigned_abs())
            .ok_or_else(|| DecodeError::Overflow {
                name: self.name.clone(),
            })?;
        if e >= 0 {
            raw.checked_mul(m).ok_or_else(|| DecodeError::Overflow {
                name: self.name.clone(),
            })
        } else {
            // Declared `truncate`: drop the digits below the canonical unit.
            Ok(raw / m)
        }
    }

    fn raw_of_canonical(&self, canonical: i64) -> Result<i64, DecodeError> {
        let e = self.exponent();
        let m = 10i64
            .checked_pow(e.unsigned_abs())
            .ok_or_else(|| DecodeError::Overflow {
                name: self.name.clone(),
            })?;
        if e >= 0 {
            Ok(canonical.div_euclid(m))
        } else {
            canonical
                .checked_mul(m)
                .ok_or_else(|| DecodeError::Overflow {
                    name: self.name.clone(),
                })
        }
    }
}

/// Which registers a read covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The fast live-status sweep (balance, relay, power, alarms).
    Live,
    /// The full archival read (every readable register).
    Full,
}

/// One request of a read plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadRequest {
    /// Modbus function 03 of `count` registers from `start`.
    Holding { start: u16, count: u16 },
    /// DL/T 645 read (C = 0x11) of one data identifier.
    Dlt645 { di: u32 },
}

/// A request and the registers it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBlock {
    pub request: ReadRequest,
    /// Names of the registers this block covers, in address order.
    pub registers: Vec<String>,
}

/// What a command does on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandAction {
    /// Write these fixed words from `address` (Modbus 0x10).
    WriteWords { address: u16, values: Vec<u16> },
    /// Write caller-supplied values into these registers (Modbus 0x10 or DL/T 645 0x14),
    /// in the order given (e.g. the four prices).
    WriteRegisters { registers: Vec<String> },
    /// DL/T 645-2007 relay control (C = 0x1C) with this N1 code (0x1A trip, 0x1C direct
    /// close, 0x1B close permitted, 0x3A keep power, 0x3B release keep power).
    Dlt645Control { n1: u8 },
}

/// The commands a profile may define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    RelayTrip,
    RelayClose,
    KeepPowerOn,
    KeepPowerOff,
    PrepaidOn,
    WritePrices,
    WriteThresholds,
    WriteCredit,
}

impl CommandKind {
    pub const ALL: [CommandKind; 8] = [
        CommandKind::RelayTrip,
        CommandKind::RelayClose,
        CommandKind::KeepPowerOn,
        CommandKind::KeepPowerOff,
        CommandKind::PrepaidOn,
        CommandKind::WritePrices,
        CommandKind::WriteThresholds,
        CommandKind::WriteCredit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::RelayTrip => "relay_trip",
            CommandKind::RelayClose => "relay_close",
            CommandKind::KeepPowerOn => "keep_power_on",
            CommandKind::KeepPowerOff => "keep_power_off",
            CommandKind::PrepaidOn => "prepaid_on",
            CommandKind::WritePrices => "write_prices",
            CommandKind::WriteThresholds => "write_thresholds",
            CommandKind::WriteCredit => "write_credit",
        }
    }
}

/// One command of a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub kind: CommandKind,
    pub action: CommandAction,
    pub source: String,
}

/// A meter model's register map and commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub manufacturer: String,
    pub models: Vec<String>,
    pub protocol: ProfileProtocol,
    pub phases: u8,
    pub description: String,
    pub source: String,
    pub serial: SerialDefaults,
    /// Largest gap of unused registers a merged read may read through.
    pub read_through_gap: u16,
    /// Largest read this meter accepts (registers per request).
    pub max_registers_per_request: u16,
    pub registers: Vec<Register>,
    pub live: Vec<String>,
    pub full: Vec<String>,
    pub commands: Vec<Command>,
    /// Where the profile came from (built-in file name or path).
    pub origin: String,
}

impl Profile {
    /// Parses and validates a profile. `origin` names it in errors (file name or path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        raw::parse(text, origin)
    }

    /// The register called `name`.
    pub fn register(&self, name: &str) -> Option<&Register> {
        self.registers.iter().find(|r| r.name == name)
    }

    /// The command of this kind, if the meter has it.
    pub fn command(&self, kind: CommandKind) -> Option<&Command> {
        self.commands.iter().find(|c| c.kind == kind)
    }

    /// The register names of a group.
    pub fn group(&self, group: Group) -> &[String] {
        match group {
            Group::Live => &self.live,
            Group::Full => &self.full,
        }
    }

    /// The register whose Modbus words include `address`, if any.
    pub fn register_at(&self, address: u16) -> Option<&Register> {
        self.registers.iter().find(|r| match r.location {
            Location::Holding(a) => {
                address >= a && u32::from(address) < u32::from(a) + u32::from(r.size)
            }
            Location::Dlt645(_) => false,
        })
    }

    /// Plans the reads of a group: adjacent registers merged into as few requests as
    /// `max_regs_per_request` allows (capped by the profile's own limit), reading through
    /// gaps of at most `read_through_gap` unused registers.
    pub fn plan_reads(&self, group: Group, max_regs_per_request: u16) -> Vec<ReadBlock> {
        let names: Vec<&str> = self.group(group).iter().map(String::as_str).collect();
        self.plan_reads_for(&names, max_regs_per_request)
    }

    /// Plans the reads of the named registers (unknown and write-only names are skipped).
    pub fn plan_reads_for(&self, names: &[&str], max_regs_per_request: u16) -> Vec<ReadBlock> {
        let mut regs: Vec<&Register> = names
            .iter()
            .filter_map(|n| self.register(n))
            .filter(|r| r.access != Access::W)
            .collect();
        match self.protocol {
            ProfileProtocol::Dlt645 => {
                // One request per data identifier; registers sharing a DI share the read.
                let mut by_di: BTreeMap<u32, Vec<String>> = BTreeMap::new();
                for r in regs {
                    if let Location::Dlt645(di) = r.location {
                        let v = by_di.entry(di).or_default();
                        if !v.contains(&r.name) {
                            v.push(r.name.clone());
                        }
                    }
                }
                by_di
                    .into_iter()
                    .map(|(di, registers)| ReadBlock {
                        request: ReadRequest::Dlt645 { di },
                        registers,
                    })
                    .collect()
            }
            ProfileProtocol::Modbus => {
                regs.sort_by_key(|r| r.address().unwrap_or(0));
                regs.dedup_by_key(|r| r.name.clone());
                let max = max_regs_per_request
                    .min(self.max_registers_per_request)
                    .clamp(1, MODBUS_MAX_READ_REGISTERS);
                let mut blocks: Vec<ReadBlock> = Vec::new();
                let mut cur: Option<(u16, u32, Vec<String>)> = None; // start, end (excl), names
                for r in regs {
                    let Some(a) = r.address() else { continue };
                    let end = u32::from(a) + u32::from(r.size);
                    if let Some((start, cur_end, names)) = cur.as_mut() {
                        let gap_ok = u32::from(a) <= *cur_end + u32::from(self.read_through_gap);
                        let new_end = end.max(*cur_end);
                        if gap_ok && new_end - u32::from(*start) <= u32::from(max) {
                            *cur_end = new_end;
                            names.push(r.name.clone());
                            continue;
                        }
                        let (s, e, n) = cur.take().unwrap_or_default();
                        blocks.push(holding_block(s, e, n));
                    }
                    cur = Some((a, end, vec![r.name.clone()]));
                }
                if let Some((s, e, n)) = cur {
                    blocks.push(holding_block(s, e, n));
                }
                blocks
            }
        }
    }

    /// Decodes the registers of a Modbus block from the words it returned.
    pub fn decode_block(
        &self,
        block: &ReadBlock,
        words: &[u16],
    ) -> Vec<(String, Result<i64, DecodeError>)> {
        let ReadRequest::Holding { start, .. } = block.request else {
            return Vec::new();
        };
        block
            .registers
            .iter()
            .filter_map(|n| self.register(n))
            .map(|r| {
                let off = usize::from(r.address().unwrap_or(start).saturating_sub(start));
                let slice = words.get(off..).unwrap_or(&[]);
                (r.name.clone(), r.decode_words(slice))
            })
            .collect()
    }
}

fn holding_block(start: u16, end: u32, registers: Vec<String>) -> ReadBlock {
    ReadBlock {
        request: ReadRequest::Holding {
            start,
            count: (end - u32::from(start)) as u16,
        },
        registers,
    }
}

/// A set of profiles by name: the built-ins plus a site's own.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    by_name: BTreeMap<String, Profile>,
}

impl ProfileSet {
    /// The built-in profiles.
    pub fn builtin() -> ProfileSet {
        let mut set = ProfileSet::default();
        for p in builtin() {
            set.by_name.insert(p.name.clone(), p);
        }
        set
    }

    /// Adds every `*.toml` file of `dir` (a site's own profiles). A file with the name of an
    /// existing profile replaces it. Missing directory = nothing added.
    pub fn load_dir(&mut self, dir: &Path) -> Result<usize, ProfileError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(ProfileError {
                    origin: dir.display().to_string(),
                    line: None,
                    what: format!("cannot list directory: {e}"),
                });
            }
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in &paths {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
                origin: origin.clone(),
                line: None,
                what: format!("cannot read: {e}"),
            })?;
            let p = Profile::from_toml_str(&text, &origin)?;
            self.by_name.insert(p.name.clone(), p);
        }
        Ok(paths.len())
    }

    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Profile> {
        self.by_name.values()
    }
}

/// Parses the built-in profiles. They are tested, so a failure here is a build defect; a
/// broken one is skipped (and logged) rather than taking the appliance down.
pub fn builtin() -> Vec<Profile> {
    BUILTIN
        .iter()
        .filter_map(
            |(origin, text)| match Profile::from_toml_str(text, origin) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::error!("built-in profile refused: {e}");
                    None
                }
            },
        )
        .collect()
}

/// The built-in profile called `name`.
pub fn builtin_named(name: &str) -> Option<Profile> {
    builtin().into_iter().find(|p| p.name == name)
}

/// TOML shapes and their validation into [`Profile`].
mod raw {
    use super::*;
    use toml::Spanned;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawProfile {
        name: String,
        manufacturer: String,
        models: Vec<String>,
        protocol: ProfileProtocol,
        phases: u8,
        #[serde(default)]
        description: String,
        source: String,
        serial: SerialDefaults,
        #[serde(default)]
        reads: RawReads,
        #[serde(default)]
        registers: Vec<RawRegister>,
        #[serde(default)]
        commands: Vec<RawCommand>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct RawReads {
        read_through_gap: Option<u16>,
        max_registers_per_request: Option<u16>,
        #[serde(default)]
        live: Vec<Spanned<String>>,
        full: Option<Vec<Spanned<String>>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRegister {
        name: Spanned<String>,
        address: Option<u16>,
        di: Option<String>,
        #[serde(rename = "type")]
        kind: RegType,
        #[serde(default)]
        word_order: WordOrder,
        #[serde(default)]
        scale: i32,
        unit: Unit,
        #[serde(default)]
        access: Access,
        words: Option<u16>,
        bytes: Option<u16>,
        format: Option<String>,
        bit: Option<u8>,
        bits: Option<u8>,
        #[serde(default)]
        signed: bool,
        #[serde(default)]
        truncate: bool,
        source: String,
        #[serde(default)]
        description: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawCommand {
        name: Spanned<CommandKind>,
        write: Option<RawWrite>,
        write_registers: Option<Vec<String>>,
        dlt645_control: Option<u8>,
        source: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawWrite {
        address: u16,
        values: Vec<u16>,
    }

    pub(super) fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError {
            origin: origin.to_string(),
            line: e.span().map(|s| crate::config::line_col(text, s.start).0),
            what: e.message().to_string(),
        })?;
        let err = |span: Option<std::ops::Range<usize>>, what: String| ProfileError {
            origin: origin.to_string(),
            line: span.map(|s| crate::config::line_col(text, s.start).0),
            what,
        };
        if raw.name.trim().is_empty() {
            return Err(err(None, "field 'name' is empty".into()));
        }
        if !matches!(raw.phases, 1 | 3) {
            return Err(err(
                None,
                format!("field 'phases' is {}, must be 1 or 3", raw.phases),
            ));
        }
        let mut registers: Vec<Register> = Vec::new();
        let mut seen = BTreeSet::new();
        for r in raw.registers {
            let span = Some(r.name.span());
            let name = r.name.into_inner();
            let e = |what: String| err(span.clone(), format!("register '{name}': {what}"));
            if !seen.insert(name.clone()) {
                return Err(e("defined twice".into()));
            }
            if r.source.trim().is_empty() {
                return Err(e(
                    "field 'source' is empty (cite the manual and page, or write 'assumed: why')"
                        .into(),
                ));
            }
            let location = match (raw.protocol, r.address, &r.di) {
                (ProfileProtocol::Modbus, Some(a), None) => Location::Holding(a),
                (ProfileProtocol::Dlt645, None, Some(di)) => {
                    let di_ok = di.len() == 8 && di.bytes().all(|b| b.is_ascii_hexdigit());
                    let v = u32::from_str_radix(di, 16)
                        .ok()
                        .filter(|_| di_ok)
                        .ok_or_else(|| e(format!("field 'di' = '{di}' is not 8 hex digits")))?;
                    Location::Dlt645(v)
                }
                (ProfileProtocol::Modbus, _, _) => {
                    return Err(e("a modbus register needs 'address' (and no 'di')".into()));
                }
                (ProfileProtocol::Dlt645, _, _) => {
                    return Err(e("a dlt645 register needs 'di' (and no 'address')".into()));
                }
            };
            let mut scale = r.scale;
            let size: u16 = match (raw.protocol, r.kind) {
                (ProfileProtocol::Modbus, RegType::U16 | RegType::I16) => 1,
                (ProfileProtocol::Modbus, RegType::U32 | RegType::I32) => 2,
                (ProfileProtocol::Modbus, RegType::Bytes) => r
                    .words
                    .filter(|w| *w > 0)
                    .ok_or_else(|| e("type 'bytes' needs 'words' > 0".into()))?,
                (ProfileProtocol::Modbus, k) => {
                    return Err(e(format!("type {k:?} is not available on modbus")));
                }
                (ProfileProtocol::Dlt645, RegType::Bcd) => {
                    let f = r
                        .format
                        .as_deref()
                        .ok_or_else(|| e("type 'bcd' needs 'format', e.g. XXXXXX.XX".into()))?;
                    let (int, frac) = f.split_once('.').unwrap_or((f, ""));
                    if !int.chars().chain(frac.chars()).all(|c| c == 'X')
                        || (int.len() + frac.len()) % 2 != 0
                        || int.len() + frac.len() == 0
                    {
                        return Err(e(format!(
                            "field 'format' = '{f}' must be X digits with an even count"
                        )));
                    }
                    if r.scale != 0 {
                        return Err(e("give 'format' or 'scale', not both".into()));
                    }
                    scale = -(frac.len() as i32);
                    ((int.len() + frac.len()) / 2) as u16
                }
                (ProfileProtocol::Dlt645, RegType::Bits | RegType::Bytes) => r
                    .bytes
                    .filter(|b| *b > 0)
                    .ok_or_else(|| e("needs 'bytes' > 0".into()))?,
                (ProfileProtocol::Dlt645, k) => {
                    return Err(e(format!(
                        "type {k:?} is not available on dlt645 (use bcd, bits or bytes)"
                    )));
                }
            };
            let bit = match (r.bit, r.bits) {
                (Some(b), n) => {
                    let n = n.unwrap_or(1);
                    if n == 0 || u32::from(b) + u32::from(n) > u32::from(size) * 16 {
                        return Err(e(format!("bit {b} (+{n}) is outside the register")));
                    }
                    Some((b, n))
                }
                (None, Some(_)) => return Err(e("'bits' needs 'bit'".into())),
                (None, None) => None,
            };
            let (_, unit_exp) = r.unit.canonical();
            let exact_only = matches!(
                r.unit.canonical().0,
                Quantity::Energy | Quantity::Money | Quantity::Price | Quantity::Count
            );
            if scale + unit_exp < 0 && (exact_only || !r.truncate) {
                return Err(e(format!(
                    "scale {scale} of {:?} is finer than the canonical unit ({}): it cannot be \
                     decoded exactly (only non-money values may say `truncate = true`)",
                    r.unit,
                    r.unit.canonical().0.unit_label()
                )));
            }
            if scale + unit_exp > 15 {
                return Err(e(format!("scale {scale} is too large")));
            }
            if (r.kind == RegType::Bytes) != (r.unit == Unit::Bytes) {
                return Err(e(
                    "type 'bytes' goes with unit 'bytes' and only with it".into()
                ));
            }
            registers.push(Register {
                name,
                location,
                kind: r.kind,
                word_order: r.word_order,
                scale,
                unit: r.unit,
                access: r.access,
                size,
                bit,
                signed: r.signed,
                source: r.source,
                description: r.description,
            });
        }
        // Modbus registers must not overlap.
        if raw.protocol == ProfileProtocol::Modbus {
            let mut spans: Vec<(u32, u32, &str)> = registers
                .iter()
                .filter_map(|r| {
                    r.address().map(|a| {
                        (
                            u32::from(a),
                            u32::from(a) + u32::from(r.size),
                            r.name.as_str(),
                        )
                    })
                })
                .collect();
            spans.sort();
            for w in spans.windows(2) {
                if w[1].0 < w[0].1 {
                    return Err(err(
                        None,
                        format!("registers '{}' and '{}' overlap", w[0].2, w[1].2),
                    ));
                }
            }
        }
        let check_names =
            |list: &[Spanned<String>], what: &str| -> Result<Vec<String>, ProfileError> {
                list.iter()
                    .map(|n| {
                        let known = registers.iter().any(|r| r.name == *n.get_ref());
                        if known {
                            Ok(n.get_ref().clone())
                        } else {
                            Err(err(
                                Some(n.span()),
                                format!("reads.{what}: no register called '{}'", n.get_ref()),
                            ))
                        }
                    })
                    .collect()
            };
        let live = check_names(&raw.reads.live, "live")?;
        let full = match &raw.reads.full {
            Some(list) => check_names(list, "full")?,
            None => registers
                .iter()
                .filter(|r| r.access != Access::W)
                .map(|r| r.name.clone())
                .collect(),
        };
        let mut commands = Vec::new();
        let mut seen_cmd = BTreeSet::new();
        for c in raw.commands {
            let span = Some(c.name.span());
            let kind = c.name.into_inner();
            let e =
                |what: String| err(span.clone(), format!("command '{}': {what}", kind.as_str()));
            if !seen_cmd.insert(kind) {
                return Err(e("defined twice".into()));
            }
            let action = match (c.write, c.write_registers, c.dlt645_control) {
                (Some(w), None, None) => {
                    if raw.protocol != ProfileProtocol::Modbus {
                        return Err(e("'write' is for modbus profiles".into()));
                    }
                    if w.values.is_empty() || w.values.len() > 123 {
                        return Err(e("'write.values' must hold 1 to 123 words".into()));
                    }
                    CommandAction::WriteWords {
                        address: w.address,
                        values: w.values,
                    }
                }
                (None, Some(list), None) => {
                    for n in &list {
                        match registers.iter().find(|r| r.name == *n) {
                            None => return Err(e(format!("no register called '{n}'"))),
                            Some(r) if r.access == Access::R => {
                                return Err(e(format!("register '{n}' is read-only")));
                            }
                            Some(_) => {}
                        }
                    }
                    if list.is_empty() {
                        return Err(e("'write_registers' is empty".into()));
                    }
                    CommandAction::WriteRegisters { registers: list }
                }
                (None, None, Some(n1)) => {
                    if raw.protocol != ProfileProtocol::Dlt645 {
                        return Err(e("'dlt645_control' is for dlt645 profiles".into()));
                    }
                    CommandAction::Dlt645Control { n1 }
                }
                _ => {
                    return Err(e(
                        "give exactly one of 'write', 'write_registers', 'dlt645_control'".into(),
                    ));
                }
            };
            commands.push(Command {
                kind,
                action,
                source: c.source,
            });
        }
        let default_max = match raw.protocol {
            ProfileProtocol::Modbus => MODBUS_MAX_READ_REGISTERS,
            ProfileProtocol::Dlt645 => 1,
        };
        let max_registers_per_request = raw.reads.max_registers_per_request.unwrap_or(default_max);
        if max_registers_per_request == 0 || max_registers_per_request > MODBUS_MAX_READ_REGISTERS {
            return Err(err(
                None,
                "reads.max_registers_per_request must be 1 to 125".into(),
            ));
        }
        Ok(Profile {
            name: raw.name,
            manufacturer: raw.manufacturer,
            models: raw.models,
            protocol: raw.protocol,
            phases: raw.phases,
            description: raw.description,
            source: raw.source,
            serial: raw.serial,
            read_through_gap: raw.reads.read_through_gap.unwrap_or(4),
            max_registers_per_request,
            registers,
            live,
            full,
            commands,
            origin: origin.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ddsy() -> Profile {
        builtin_named(DEFAULT_MODBUS_1P).expect("built-in 1-phase profile")
    }

    #[test]
    fn every_builtin_profile_loads() {
        for (origin, text) in BUILTIN {
            let p = Profile::from_toml_str(text, origin).expect(origin);
            assert!(!p.registers.is_empty(), "{origin}");
            for kind in CommandKind::ALL {
                assert!(
                    p.command(kind).is_some(),
                    "{origin} lacks {}",
                    kind.as_str()
                );
            }
        }
        assert_eq!(builtin().len(), BUILTIN.len());
    }

    #[test]
    fn every_builtin_has_the_shared_value_names() {
        for p in builtin() {
            let mut need = vec![
                names::ENERGY_TOTAL,
                names::POWER,
                names::BALANCE,
                names::PURCHASE_COUNT,
                names::RELAY_OPEN,
                names::KEEP_POWER,
                names::PREPAID_MODE,
                names::ALARM1,
                names::ALARM2,
                names::OVERLOAD_LIMIT,
                names::CREDIT_TOKEN,
            ];
            need.extend(names::ENERGY_BANDS);
            need.extend(names::PRICES);
            if p.phases == 1 {
                need.extend([names::VOLTAGE, names::CURRENT]);
            } else {
                need.extend([names::VOLTAGE_A, names::VOLTAGE_B, names::VOLTAGE_C]);
                need.extend([names::CURRENT_A, names::CURRENT_B, names::CURRENT_C]);
            }
            for n in need {
                assert!(p.register(n).is_some(), "{} lacks {n}", p.name);
            }
        }
    }

    /// Known registers follow the Acrel manual T1.0 §8.1 / ems4j map
    /// (docs/reference/meter-protocols.md), not our own output.
    #[test]
    fn ddsy_known_addresses_follow_the_manual() {
        let p = ddsy();
        let at = |n: &str| p.register(n).and_then(Register::address);
        assert_eq!(at(names::ENERGY_TOTAL), Some(0x0000));
        assert_eq!(at(names::ENERGY_SHARP), Some(0x0002));
        assert_eq!(at(names::ENERGY_PEAK), Some(0x0004));
        assert_eq!(at(names::ENERGY_FLAT), Some(0x0006));
        assert_eq!(at(names::ENERGY_VALLEY), Some(0x0008));
        assert_eq!(at(names::VOLTAGE), Some(0x000B));
        assert_eq!(at(names::CURRENT), Some(0x000C));
        assert_eq!(at(names::POWER), Some(0x000D));
        assert_eq!(at(names::POWER_FACTOR), Some(0x0010));
        let trip = p.command(CommandKind::RelayTrip).expect("trip");
        assert_eq!(
            trip.action,
            CommandAction::WriteWords {
                address: 0x0057,
                values: vec![1, 1]
            }
        );
        let close = p.command(CommandKind::RelayClose).expect("close");
        assert_eq!(
            close.action,
            CommandAction::WriteWords {
                address: 0x0057,
                values: vec![1, 0]
            }
        );
        assert!(p.register(names::BALANCE).is_some_and(Register::is_assumed));
        assert!(
            !p.register(names::ENERGY_TOTAL)
                .is_some_and(Register::is_assumed)
        );
    }

    #[test]
    fn decodes_words_to_exact_canonical_integers() {
        let p = ddsy();
        let e = p.register(names::ENERGY_TOTAL).expect("energy");
        // 0x0001_E240 = 123456 × 0.01 kWh = 1234.56 kWh = 1_234_560 Wh.
        assert_eq!(e.decode_words(&[0x0001, 0xE240]), Ok(1_234_560));
        let v = p.register(names::VOLTAGE).expect("voltage");
        assert_eq!(v.decode_words(&[2201]), Ok(2201)); // 220.1 V in 0.1 V
        let i = p.register(names::CURRENT).expect("current");
        assert_eq!(i.decode_words(&[523]), Ok(5230)); // 5.23 A = 5230 mA
        let pw = p.register(names::POWER).expect("power");
        assert_eq!(pw.decode_words(&[0xFFFE]), Ok(-2)); // -0.002 kW = -2 W
        let b = p.register(names::BALANCE).expect("balance");
        assert_eq!(b.decode_words(&[0xFFFF, 0xFF9C]), Ok(-100)); // -1.00 yuan
        for (canon, reg) in [(1_234_560, e), (-100, b), (-2, pw)] {
            assert_eq!(
                reg.decode_words(&reg.encode_words(canon).expect("enc")),
                Ok(canon)
            );
        }
        assert!(matches!(
            e.decode_words(&[1]),
            Err(DecodeError::Short {
                need: 2,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn word_order_low_first() {
        let text = include_str!("profiles/acrel-ddsy1352-nk.toml").replacen(
            "word_order = \"high_first\"",
            "word_order = \"low_first\"",
            1,
        );
        let p = Profile::from_toml_str(&text, "t").expect("profile");
        let e = p.register(names::ENERGY_TOTAL).expect("energy");
        assert_eq!(e.decode_words(&[0xE240, 0x0001]), Ok(1_234_560));
    }

    #[test]
    fn dlt645_bcd_decodes_known_values() {
        let p = builtin_named(DEFAULT_DLT645).expect("dlt645 profile");
        let e = p.register(names::ENERGY_TOTAL).expect("energy");
        // XXXXXX.XX kWh, lowest byte first: 12 34 56 00 = 005634.12 kWh.
        assert_eq!(e.decode_dlt645(&[0x12, 0x34, 0x56, 0x00]), Ok(5_634_120));
        assert!(matches!(
            e.decode_dlt645(&[0x1A, 0, 0, 0]),
            Err(DecodeError::NotBcd { .. })
        ));
        let pw = p.register(names::POWER).expect("power");
        // XX.XXXX kW signed: 00 50 81 = -1.5000 kW (sign bit in the top byte).
        assert_eq!(pw.decode_dlt645(&[0x00, 0x50, 0x81]), Ok(-1500));
        assert_eq!(pw.encode_dlt645(-1500), Ok(vec![0x00, 0x50, 0x81]));
        let relay = p.register(names::RELAY_OPEN).expect("relay");
        // Status word 3 bit 4 = relay open (DL/T 645-2007 Appendix, 电表运行状态字3).
        assert_eq!(relay.decode_dlt645(&[0x10, 0x00]), Ok(1));
        assert_eq!(relay.decode_dlt645(&[0xEF, 0xFF]), Ok(0));
    }

    #[test]
    fn plan_merges_adjacent_registers_and_reads_through_small_gaps() {
        let p = ddsy();
        let full = p.plan_reads(Group::Full, 125);
        // Every readable register is covered exactly once.
        let covered: Vec<&String> = full.iter().flat_map(|b| &b.registers).collect();
        let readable = p.registers.iter().filter(|r| r.access != Access::W).count();
        assert_eq!(covered.len(), readable);
        // The measurement block 0x0000..=0x0011 is one request.
        assert!(full.iter().any(
            |b| matches!(b.request, ReadRequest::Holding { start: 0, .. })
                && b.registers.iter().any(|n| n == names::POWER_FACTOR)
        ));
        // A small limit splits blocks but never splits a register.
        for b in p.plan_reads(Group::Full, 4) {
            let ReadRequest::Holding { start, count } = b.request else {
                panic!("modbus")
            };
            assert!(count <= 4);
            for n in &b.registers {
                let r = p.register(n).expect("reg");
                let a = r.address().expect("addr");
                assert!(
                    a >= start && a + r.size <= start + count,
                    "{n} outside block"
                );
            }
        }
    }

    #[test]
    fn builtin_plans_are_small() {
        let count =
            |name: &str, g: Group| builtin_named(name).expect(name).plan_reads(g, 125).len();
        assert_eq!(count(DEFAULT_MODBUS_1P, Group::Live), 2);
        assert_eq!(count(DEFAULT_MODBUS_1P, Group::Full), 3);
        assert_eq!(count(DEFAULT_MODBUS_3P, Group::Live), 2);
        assert_eq!(count(DEFAULT_MODBUS_3P, Group::Full), 4);
        // DL/T 645: one per DI; the three status-word flags share 04000503.
        assert_eq!(count(DEFAULT_DLT645, Group::Live), 7); // relay_command shares 04000503 too
    }

    #[test]
    fn plan_does_not_read_through_large_gaps() {
        let p = ddsy();
        let plan = p.plan_reads_for(&[names::ENERGY_TOTAL, names::BALANCE], 125);
        assert_eq!(plan.len(), 2, "0x0000 and 0x0100 are far apart: {plan:?}");
    }

    #[test]
    fn refusals_name_the_line_and_field() {
        let base = include_str!("profiles/acrel-ddsy1352-nk.toml");
        let bad = base.replacen("scale = -2", "scale = -4", 1);
        let e = Profile::from_toml_str(&bad, "x.toml").expect_err("too fine");
        assert!(e.line.is_some() && e.what.contains("energy_total"), "{e}");
        let bad = base.replacen("type = \"u32\"", "type = \"u64\"", 1);
        let e = Profile::from_toml_str(&bad, "x.toml").expect_err("bad type");
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
        let bad = format!(
            "{base}\n[[registers]]\nname = \"dup\"\naddress = 0x0001\ntype = \"u16\"\nunit = \"code\"\nsource = \"assumed\"\n"
        );
        let e = Profile::from_toml_str(&bad, "x.toml").expect_err("overlap");
        assert!(e.what.contains("overlap"), "{e}");
        assert!(Profile::from_toml_str("garbage = [", "g.toml").is_err());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(words in proptest::collection::vec(proptest::num::u16::ANY, 0..6),
                               bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..6)) {
            for p in builtin() {
                for r in &p.registers {
                    let _ = r.decode_words(&words);
                    let _ = r.decode_dlt645(&bytes);
                }
            }
        }

        #[test]
        fn modbus_encode_decode_round_trip(v in 0i64..100_000_000) {
            let p = ddsy();
            let r = p.register(names::ENERGY_TOTAL).expect("energy");
            let w = r.encode_words(v * 10).expect("fits");
            proptest::prop_assert_eq!(r.decode_words(&w), Ok(v * 10));
        }
    }
}
