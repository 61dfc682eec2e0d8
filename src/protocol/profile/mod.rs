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
//!
//! Its parts: the value codec ([`value`]: register types, units, exact conversion), read
//! planning ([`plan`]), the profile set ([`set`]) and the TOML parsing (`parse`). This file
//! holds the profile itself, its commands and the built-in profiles.

mod parse;
pub mod plan;
pub mod set;
pub mod value;

pub use plan::{Group, ReadBlock, ReadRequest};
pub use set::{ProfileSet, builtin, builtin_named};
pub use value::{Access, DecodeError, Location, Quantity, RegType, Register, Unit, WordOrder};

use crate::protocol::serial::SerialLine;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

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
        include_str!("../profiles/acrel-ddsy1352-nk.toml"),
    ),
    (
        "acrel-dtsy1352-nk.toml",
        include_str!("../profiles/acrel-dtsy1352-nk.toml"),
    ),
    (
        "dlt645-2007-prepaid.toml",
        include_str!("../profiles/dlt645-2007-prepaid.toml"),
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

/// Whether a register or command source cites a public vendor map (documented) rather than
/// saying `assumed: why`. Every source is one or the other (the parser refuses an empty
/// one); an assumed register may be missing from a real meter, which then answers "no such
/// register", and is not needed to run the meter (see `field::unsupported`).
pub fn is_documented(source: &str) -> bool {
    !source
        .trim_start()
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("assumed"))
}

/// Documented or assumed: where a register block's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Every register of the block is in a public vendor map.
    Documented,
    /// At least one register is assumed (not in any public source).
    Assumed,
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
    /// Serial line defaults (an installer may override them per bus).
    pub serial: SerialLine,
    /// Largest gap of unused registers a merged read may read through.
    pub read_through_gap: u16,
    /// Largest read this meter accepts (registers per request).
    pub max_registers_per_request: u16,
    pub registers: Vec<Register>,
    pub live: Vec<String>,
    pub full: Vec<String>,
    pub commands: Vec<Command>,
    /// Rated power of the meter (`[rating]`: phases × Imax × nominal voltage), in W; `None`
    /// = not given (reading plausibility then assumes a default).
    pub max_power_w: Option<i64>,
    /// How soon the meter answers (`[timing] turnaround_ms`): from the end of a request
    /// (after its t3.5 silence for Modbus) to the first reply byte. The bus floor
    /// (`protocol::floor`) counts it; zero when the profile gives none.
    pub turnaround: Duration,
    /// Where the profile came from (built-in file name or path).
    pub origin: String,
}

impl Profile {
    /// Parses and validates a profile. `origin` names it in errors (file name or path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        parse::parse(text, origin)
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

    /// Whether a read block's registers are all documented.
    pub fn provenance(&self, block: &ReadBlock) -> Provenance {
        let all = block
            .registers
            .iter()
            .filter_map(|n| self.register(n))
            .all(Register::documented);
        if all {
            Provenance::Documented
        } else {
            Provenance::Assumed
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
}

#[cfg(test)]
mod tests;
