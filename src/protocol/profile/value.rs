//! The value codec: how a register's words (Modbus) or bytes (DL/T 645) hold a value, and
//! their exact conversion to and from the canonical integer of its quantity.

use serde::Deserialize;

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
    fn not_a_number(&self) -> DecodeError {
        DecodeError::NotANumber {
            name: self.name.clone(),
        }
    }

    fn overflow(&self) -> DecodeError {
        DecodeError::Overflow {
            name: self.name.clone(),
        }
    }

    /// True when the register comes from a public vendor map; false when its source says
    /// `assumed` (see [`super::is_documented`]).
    pub fn documented(&self) -> bool {
        super::is_documented(&self.source)
    }

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
                return Err(self.not_a_number());
            }
        };
        self.to_canonical(self.apply_bits(raw))
    }

    /// Encodes a canonical value into this register's Modbus words (the simulator's side,
    /// and the control queue's writes). Values finer than the register resolution are
    /// truncated toward negative infinity, as a meter's register does.
    pub fn encode_words(&self, canonical: i64) -> Result<Vec<u16>, DecodeError> {
        let raw = self.raw_of_canonical(canonical)?;
        let split = |v: u32| -> Vec<u16> {
            let (hi, lo) = ((v >> 16) as u16, v as u16);
            match self.word_order {
                WordOrder::HighFirst => vec![hi, lo],
                WordOrder::LowFirst => vec![lo, hi],
            }
        };
        Ok(match self.kind {
            RegType::U16 | RegType::Bits => vec![u16::try_from(raw).map_err(|_| self.overflow())?],
            RegType::I16 => vec![i16::try_from(raw).map_err(|_| self.overflow())? as u16],
            RegType::U32 => split(u32::try_from(raw).map_err(|_| self.overflow())?),
            RegType::I32 => split(i32::try_from(raw).map_err(|_| self.overflow())? as u32),
            RegType::Bcd | RegType::Bytes => {
                return Err(self.not_a_number());
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
                return Err(self.not_a_number());
            }
        };
        self.to_canonical(self.apply_bits(raw))
    }

    /// Encodes a canonical value into DL/T 645 data bytes (lowest byte first). For `bits`
    /// registers only the register's own bits are set; merge several with OR.
    pub fn encode_dlt645(&self, canonical: i64) -> Result<Vec<u8>, DecodeError> {
        let raw = self.raw_of_canonical(canonical)?;
        let n = usize::from(self.size);
        match self.kind {
            RegType::Bcd => {
                let negative = raw < 0;
                if negative && !self.signed {
                    return Err(self.overflow());
                }
                let mut v = raw.unsigned_abs();
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let pair = (v % 100) as u8;
                    v /= 100;
                    out.push(((pair / 10) << 4) | (pair % 10));
                }
                if v != 0 {
                    return Err(self.overflow());
                }
                if let Some(top) = out.last_mut() {
                    if negative {
                        if *top & 0x80 != 0 {
                            return Err(self.overflow());
                        }
                        *top |= 0x80;
                    } else if self.signed && *top & 0x80 != 0 {
                        return Err(self.overflow());
                    }
                }
                Ok(out)
            }
            RegType::Bits | RegType::U16 | RegType::U32 => {
                let mut v = u64::try_from(raw).map_err(|_| self.overflow())?;
                if let Some((bit, len)) = self.bit {
                    if v >= (1u64 << len) {
                        return Err(self.overflow());
                    }
                    v <<= bit;
                }
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push(v as u8);
                    v >>= 8;
                }
                if v != 0 {
                    return Err(self.overflow());
                }
                Ok(out)
            }
            _ => Err(self.not_a_number()),
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
            .ok_or_else(|| self.overflow())?;
        if e >= 0 {
            raw.checked_mul(m).ok_or_else(|| self.overflow())
        } else {
            // Declared `truncate`: drop the digits below the canonical unit.
            Ok(raw / m)
        }
    }

    fn raw_of_canonical(&self, canonical: i64) -> Result<i64, DecodeError> {
        let e = self.exponent();
        let m = 10i64
            .checked_pow(e.unsigned_abs())
            .ok_or_else(|| self.overflow())?;
        if e >= 0 {
            Ok(canonical.div_euclid(m))
        } else {
            canonical.checked_mul(m).ok_or_else(|| self.overflow())
        }
    }
}
