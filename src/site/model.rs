//! Site records: buildings → floors → units (户号), gateways with their buses, meters,
//! tenants and the site-wide defaults.
//!
//! Every field that staff type (in an import file, the TUI or the API) has a `parse` here
//! that returns the reason in words on bad input, e.g. `'300' is not a valid address
//! (1-247)`, so that every entry path reports the same message.

use crate::units::Fen;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use super::ids::{BuildingId, GatewayId, MeterId, TenantId, UnitNo};

/// A building of the site, e.g. `A` "Tower A".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Building {
    pub id: BuildingId,
    pub name: String,
    /// Number of floors above ground, when known (reports list floors 1..=floors).
    #[serde(default)]
    pub floors: Option<u32>,
}

/// A tenant unit (户号) on one floor of a building.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub no: UnitNo,
    pub building: BuildingId,
    /// Floor number; basements are negative (`B1` is -1). There is no floor 0.
    pub floor: i32,
    /// Floor area in 0.01 m², when known (for per-area reports).
    #[serde(default)]
    pub area_m2_x100: Option<i64>,
}

pub use crate::protocol::serial::{Framing, Parity};

/// Baud rates meters and serial servers offer. Anything else is almost always a typo.
pub const BAUD_RATES: [u32; 10] = [
    300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
];

/// Parses a baud rate from [`BAUD_RATES`].
pub fn parse_baud(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(b) if BAUD_RATES.contains(&b) => Ok(b),
        _ => Err(format!(
            "'{text}' is not a valid baud rate (one of {})",
            BAUD_RATES.map(|b| b.to_string()).join(", ")
        )),
    }
}

/// How the appliance reaches a gateway (communication manager).
///
/// Text form (in import files and the API):
/// - `tcp:HOST:PORT`: Modbus TCP gateway (it turns Modbus TCP into RTU on its buses);
/// - `rtu-over-tcp:HOST:PORT`: transparent serial server (RTU / DL/T 645 frames over TCP);
/// - `serial:PATH@BAUD,FRAMING`: a serial port on the appliance itself, e.g.
///   `serial:/dev/ttyUSB0@9600,8E1`;
/// - `secure:HOST:PORT`: `voltvend gateway` on a gateway box, over the 3DES-secured link.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GatewayLink {
    Tcp {
        host: String,
        port: u16,
    },
    RtuOverTcp {
        host: String,
        port: u16,
    },
    Serial {
        path: String,
        baud: u32,
        framing: Framing,
    },
    Secure {
        host: String,
        port: u16,
    },
}

fn parse_host_port(text: &str, rest: &str) -> Result<(String, u16), String> {
    let bad = |why: &str| format!("'{text}' is not a valid gateway link: {why}");
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| bad("expected HOST:PORT after the kind"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(bad("the host is empty or has blanks"));
    }
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 => p,
        _ => return Err(bad("the port must be 1-65535")),
    };
    Ok((host.to_string(), port))
}

impl GatewayLink {
    pub fn parse(text: &str) -> Result<GatewayLink, String> {
        let t = text.trim();
        let (kind, rest) = t.split_once(':').ok_or_else(|| {
            format!(
                "'{text}' is not a valid gateway link (tcp:HOST:PORT, rtu-over-tcp:HOST:PORT, \
                 serial:PATH@BAUD,FRAMING or secure:HOST:PORT)"
            )
        })?;
        match kind.to_ascii_lowercase().as_str() {
            "tcp" => {
                parse_host_port(text, rest).map(|(host, port)| GatewayLink::Tcp { host, port })
            }
            "rtu-over-tcp" => parse_host_port(text, rest)
                .map(|(host, port)| GatewayLink::RtuOverTcp { host, port }),
            "secure" => {
                parse_host_port(text, rest).map(|(host, port)| GatewayLink::Secure { host, port })
            }
            "serial" => {
                let bad = |why: &str| format!("'{text}' is not a valid gateway link: {why}");
                let (path, line) = rest
                    .rsplit_once('@')
                    .ok_or_else(|| bad("expected serial:PATH@BAUD,FRAMING"))?;
                if !path.starts_with('/') {
                    return Err(bad(
                        "the serial port path must be absolute, e.g. /dev/ttyUSB0",
                    ));
                }
                let (baud, framing) = line.split_once(',').unwrap_or((line, "8N1"));
                let baud = parse_baud(baud).map_err(|w| bad(&w))?;
                let framing = Framing::parse(framing).map_err(|w| bad(&w))?;
                Ok(GatewayLink::Serial {
                    path: path.to_string(),
                    baud,
                    framing,
                })
            }
            _ => Err(format!(
                "'{text}' is not a valid gateway link: unknown kind '{kind}' (tcp, rtu-over-tcp, \
                 serial or secure)"
            )),
        }
    }
}

impl fmt::Display for GatewayLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hp = |f: &mut fmt::Formatter<'_>, kind: &str, host: &str, port: u16| {
            if host.contains(':') {
                write!(f, "{kind}:[{host}]:{port}")
            } else {
                write!(f, "{kind}:{host}:{port}")
            }
        };
        match self {
            GatewayLink::Tcp { host, port } => hp(f, "tcp", host, *port),
            GatewayLink::RtuOverTcp { host, port } => hp(f, "rtu-over-tcp", host, *port),
            GatewayLink::Secure { host, port } => hp(f, "secure", host, *port),
            GatewayLink::Serial {
                path,
                baud,
                framing,
            } => write!(f, "serial:{path}@{baud},{framing}"),
        }
    }
}

impl TryFrom<String> for GatewayLink {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        GatewayLink::parse(&s)
    }
}

impl From<GatewayLink> for String {
    fn from(l: GatewayLink) -> String {
        l.to_string()
    }
}

/// One RS-485 bus (port) of a gateway. A bus is strictly sequential: one request at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bus {
    pub gateway: GatewayId,
    /// Port number on the gateway, from 1.
    pub index: u8,
    pub baud: u32,
    pub framing: Framing,
}

/// A gateway (communication manager) and its buses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    pub id: GatewayId,
    pub name: String,
    pub link: GatewayLink,
    pub buses: Vec<Bus>,
}

impl Gateway {
    pub fn bus(&self, index: u8) -> Option<&Bus> {
        self.buses.iter().find(|b| b.index == index)
    }

    /// Parses a bus list `INDEX:BAUD:FRAMING[;…]`, e.g. `1:9600:8N1;2:2400:8E1`.
    pub fn parse_buses(gateway: &GatewayId, text: &str) -> Result<Vec<Bus>, String> {
        let mut buses: Vec<Bus> = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let fields: Vec<&str> = part.split(':').map(str::trim).collect();
            let [index, baud, framing] = fields.as_slice() else {
                return Err(format!(
                    "'{part}' is not a valid bus (INDEX:BAUD:FRAMING, e.g. 1:9600:8N1)"
                ));
            };
            let index = match index.parse::<u8>() {
                Ok(i) if i >= 1 => i,
                _ => return Err(format!("'{index}' is not a valid bus number (1-255)")),
            };
            if buses.iter().any(|b| b.index == index) {
                return Err(format!("bus {index} is listed twice"));
            }
            buses.push(Bus {
                gateway: gateway.clone(),
                index,
                baud: parse_baud(baud)?,
                framing: Framing::parse(framing)?,
            });
        }
        if buses.is_empty() {
            return Err(format!(
                "'{text}' lists no bus (INDEX:BAUD:FRAMING, e.g. 1:9600:8N1)"
            ));
        }
        buses.sort_by_key(|b| b.index);
        Ok(buses)
    }

    /// The bus list in the text form [`Gateway::parse_buses`] reads.
    pub fn buses_text(&self) -> String {
        self.buses
            .iter()
            .map(|b| format!("{}:{}:{}", b.index, b.baud, b.framing))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The protocol a meter speaks on its bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Modbus RTU (or Modbus TCP through the gateway).
    Modbus,
    /// DL/T 645-2007.
    Dlt645,
}

impl Protocol {
    pub fn parse(text: &str) -> Result<Protocol, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "modbus" | "modbus-rtu" | "rtu" => Ok(Protocol::Modbus),
            "dlt645" | "dl/t645" | "dl/t 645" | "645" | "dlt645-2007" => Ok(Protocol::Dlt645),
            _ => Err(format!(
                "'{text}' is not a valid protocol (modbus or dlt645)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Modbus => "modbus",
            Protocol::Dlt645 => "dlt645",
        }
    }
}

/// A meter's address on its bus.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeterAddress {
    /// Modbus slave id, 1-247 (Modbus over Serial Line V1.02 §2.2: 0 is broadcast,
    /// 248-255 reserved).
    Modbus(u8),
    /// DL/T 645 communication address: 12 decimal digits as printed on the nameplate
    /// (most significant first; the frame carries it reversed in BCD).
    Dlt645(String),
}

impl MeterAddress {
    /// Parses an address for `protocol`.
    pub fn parse(text: &str, protocol: Protocol) -> Result<MeterAddress, String> {
        let t = text.trim();
        match protocol {
            Protocol::Modbus => match t.parse::<u16>() {
                Ok(a @ 1..=247) => Ok(MeterAddress::Modbus(a as u8)),
                _ => Err(format!("'{text}' is not a valid address (1-247)")),
            },
            Protocol::Dlt645 => {
                if t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(MeterAddress::Dlt645(t.to_string()))
                } else {
                    Err(format!(
                        "'{text}' is not a valid DL/T 645 address (12 decimal digits)"
                    ))
                }
            }
        }
    }

    pub fn protocol(&self) -> Protocol {
        match self {
            MeterAddress::Modbus(_) => Protocol::Modbus,
            MeterAddress::Dlt645(_) => Protocol::Dlt645,
        }
    }
}

impl fmt::Display for MeterAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MeterAddress::Modbus(a) => write!(f, "{a}"),
            MeterAddress::Dlt645(a) => f.write_str(a),
        }
    }
}

/// Single- or three-phase meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phases {
    One,
    Three,
}

impl Phases {
    pub fn parse(text: &str) -> Result<Phases, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "one" | "single" | "1p" | "单相" => Ok(Phases::One),
            "3" | "three" | "3p" | "三相" => Ok(Phases::Three),
            _ => Err(format!("'{text}' is not a valid phase count (1 or 3)")),
        }
    }

    pub fn count(self) -> u8 {
        match self {
            Phases::One => 1,
            Phases::Three => 3,
        }
    }
}

/// Who enforces prepayment for a meter (defined in `site::billing`).
pub use super::billing::BillingMode;

/// Parses a billing mode: `meter` (表端) or `host` (主站).
pub fn parse_billing(text: &str) -> Result<BillingMode, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "meter" | "表端" => Ok(BillingMode::Meter),
        "host" | "主站" => Ok(BillingMode::Host),
        _ => Err(format!(
            "'{text}' is not a valid billing mode (meter or host)"
        )),
    }
}

/// An electricity meter on a bus of a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    /// Meter number (表号), unique on the site; also the serial the credit key is
    /// diversified with.
    pub id: MeterId,
    pub address: MeterAddress,
    pub protocol: Protocol,
    /// Name of the meter profile (register map), e.g. `generic-dlt645`.
    pub profile: String,
    pub phases: Phases,
    pub gateway: GatewayId,
    pub bus: u8,
    /// The unit it supplies; `None` for common areas or a meter not yet assigned.
    #[serde(default)]
    pub unit: Option<UnitNo>,
    pub billing: BillingMode,
    /// Name of a tariff that overrides the site default for this meter.
    #[serde(default)]
    pub tariff: Option<String>,
    /// Overload threshold in W; `None` = the site default.
    #[serde(default)]
    pub power_limit_w: Option<i64>,
    /// Balance alarm level 1 (early warning); `None` = the site default.
    #[serde(default)]
    pub alarm1: Option<Fen>,
    /// Balance alarm level 2 (last warning before trip); `None` = the site default.
    #[serde(default)]
    pub alarm2: Option<Fen>,
}

impl Meter {
    /// Checks the fields against each other; returns (field, why) for each problem.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.address.protocol() != self.protocol {
            out.push((
                "address",
                format!(
                    "'{}' is not a {} address",
                    self.address,
                    self.protocol.as_str()
                ),
            ));
        }
        if self.bus == 0 {
            out.push(("bus", "'0' is not a valid bus number (1-255)".to_string()));
        }
        if self.profile.trim().is_empty() {
            out.push(("profile", "the profile name is empty".to_string()));
        }
        if let Some(p) = self.power_limit_w
            && p <= 0
        {
            out.push(("power_limit_w", format!("'{p}' must be above 0")));
        }
        if let (Some(a1), Some(a2)) = (self.alarm1, self.alarm2)
            && a1 < a2
        {
            out.push((
                "alarm2",
                format!(
                    "level 2 ({}) must not be above level 1 ({})",
                    a2.yuan(),
                    a1.yuan()
                ),
            ));
        }
        out
    }

    /// The overload threshold in effect.
    pub fn power_limit(&self, d: &SiteDefaults) -> i64 {
        self.power_limit_w.unwrap_or(d.power_limit_w)
    }

    /// The balance alarm levels (1, 2) in effect.
    pub fn alarm_levels(&self, d: &SiteDefaults) -> (Fen, Fen) {
        (
            self.alarm1.unwrap_or(d.alarm1),
            self.alarm2.unwrap_or(d.alarm2),
        )
    }

    /// The name of the tariff in effect.
    pub fn tariff_name<'a>(&'a self, d: &'a SiteDefaults) -> &'a str {
        self.tariff.as_deref().unwrap_or(&d.default_tariff)
    }
}

/// Tenant categories (业态) the reports group by; others are accepted as written.
pub const CATEGORIES: [(&str, &str); 8] = [
    ("retail", "零售"),
    ("restaurant", "餐饮"),
    ("supermarket", "超市"),
    ("cinema", "影院"),
    ("office", "办公"),
    ("entertainment", "娱乐"),
    ("service", "服务"),
    ("other", "其他"),
];

/// Parses a category: an English name, its Chinese name from [`CATEGORIES`], or any other
/// lowercase word (letters, digits, `-`, `_`).
pub fn parse_category(text: &str) -> Result<String, String> {
    let t = text.trim();
    if let Some((en, _)) = CATEGORIES
        .iter()
        .find(|(en, zh)| *zh == t || en.eq_ignore_ascii_case(t))
    {
        return Ok(en.to_string());
    }
    let lower = t.to_ascii_lowercase();
    if !lower.is_empty()
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Ok(lower);
    }
    Err(format!(
        "'{text}' is not a valid category (e.g. {})",
        CATEGORIES.map(|(en, zh)| format!("{en}/{zh}")).join(", ")
    ))
}

/// Parses a phone number for SMS: digits with an optional leading `+`; blanks and dashes
/// are dropped. Mainland mobile numbers are 11 digits starting with 1.
pub fn parse_phone(text: &str) -> Result<String, String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(cleaned)
    } else {
        Err(format!(
            "'{text}' is not a valid phone number (digits, optionally starting with +)"
        ))
    }
}

/// A tenant: the party that pays for one or more units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// Business category (业态), e.g. `retail`, `restaurant`.
    pub category: String,
    /// Mobile number for balance SMS.
    #[serde(default)]
    pub phone: Option<String>,
    pub units: Vec<UnitNo>,
    /// Argon2id PHC string of the kiosk PIN (set and checked by `site::pin`).
    #[serde(default)]
    pub pin_hash: Option<String>,
}

/// Site-wide defaults that meters inherit unless they override them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteDefaults {
    /// Overload threshold in W.
    pub power_limit_w: i64,
    /// Seconds between two full reading rounds of a meter (default 30 min).
    pub collection_interval_s: u32,
    /// Balance alarm level 1 (early warning).
    pub alarm1: Fen,
    /// Balance alarm level 2 (last warning); never above level 1.
    pub alarm2: Fen,
    /// Tariff that meters without an override use.
    pub default_tariff: String,
    /// Largest balance a tenant may hold (囤积金额上限); a sale above it is refused.
    pub hoarding_cap: Fen,
    /// Number that receives site alarms by SMS (meter offline, gateway offline, …).
    pub alarm_sms: Option<String>,
    /// IANA time zone of the site, for TOU periods, days and months.
    pub timezone: String,
}

impl Default for SiteDefaults {
    fn default() -> Self {
        SiteDefaults {
            power_limit_w: 10_000,
            collection_interval_s: 1800,
            alarm1: Fen(5_000),
            alarm2: Fen(2_000),
            default_tariff: "default".to_string(),
            hoarding_cap: Fen(1_000_000),
            alarm_sms: None,
            timezone: "Asia/Shanghai".to_string(),
        }
    }
}

impl SiteDefaults {
    /// Checks every field; returns (field, why) for each problem.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.power_limit_w <= 0 {
            out.push((
                "power_limit_w",
                format!("'{}' must be above 0", self.power_limit_w),
            ));
        }
        if self.collection_interval_s < 60 {
            out.push((
                "collection_interval_s",
                format!(
                    "'{}' is too short (at least 60 seconds)",
                    self.collection_interval_s
                ),
            ));
        }
        if self.alarm2.is_negative() || self.alarm1.is_negative() {
            out.push(("alarm1", "alarm amounts must not be negative".to_string()));
        }
        if self.alarm1 < self.alarm2 {
            out.push((
                "alarm2",
                format!(
                    "level 2 ({}) must not be above level 1 ({})",
                    self.alarm2.yuan(),
                    self.alarm1.yuan()
                ),
            ));
        }
        if self.default_tariff.trim().is_empty() {
            out.push(("default_tariff", "the tariff name is empty".to_string()));
        }
        if self.hoarding_cap <= Fen::ZERO {
            out.push((
                "hoarding_cap",
                "the hoarding cap must be above 0".to_string(),
            ));
        }
        if let Some(n) = &self.alarm_sms
            && let Err(why) = parse_phone(n)
        {
            out.push(("alarm_sms", why));
        }
        if jiff::tz::TimeZone::get(&self.timezone).is_err() {
            out.push((
                "timezone",
                format!(
                    "'{}' is not a known time zone (e.g. Asia/Shanghai)",
                    self.timezone
                ),
            ));
        }
        out
    }

    /// The site time zone (falls back to Asia/Shanghai if the stored name is unknown,
    /// which [`SiteDefaults::problems`] prevents on every write).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone)
            .or_else(|_| jiff::tz::TimeZone::get("Asia/Shanghai"))
            .unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// Parses a floor: an integer (`3`, `-1`) or a basement written `B1`, `B2`, …. Floor 0
/// does not exist in Chinese numbering.
pub fn parse_floor(text: &str) -> Result<i32, String> {
    let t = text.trim();
    let bad = || format!("'{text}' is not a valid floor (e.g. 3, -1 or B1)");
    let value = if let Some(b) = t.strip_prefix(['B', 'b']) {
        b.parse::<i32>()
            .map_err(|_| bad())?
            .checked_neg()
            .ok_or_else(bad)?
    } else {
        t.parse::<i32>().map_err(|_| bad())?
    };
    if value == 0 || !(-20..=200).contains(&value) {
        return Err(bad());
    }
    Ok(value)
}

/// Parses an area in m² with at most 2 decimals into 0.01 m² units.
pub fn parse_area_x100(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("'{text}' is not a valid area in m² (e.g. 85.5)");
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty()
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() > 9
    {
        return Err(bad());
    }
    let int: i64 = int.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    Ok(int * 100 + frac)
}

/// Parses a record key (building, unit, gateway, meter or tenant id): non-empty, no
/// blanks or control characters, at most 64 characters.
pub fn parse_key(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the value is empty".to_string());
    }
    if t.chars().count() > 64 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{text}' is not a valid key (at most 64 characters, no blanks)"
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip() {
        for text in [
            "tcp:10.0.0.5:502",
            "rtu-over-tcp:gw1.local:4001",
            "serial:/dev/ttyUSB0@9600,8E1",
            "secure:[fe80::1]:7001",
        ] {
            let link = GatewayLink::parse(text).unwrap();
            assert_eq!(link.to_string(), text);
        }
        assert_eq!(
            GatewayLink::parse("serial:/dev/ttyS1@2400").unwrap(),
            GatewayLink::Serial {
                path: "/dev/ttyS1".into(),
                baud: 2400,
                framing: Framing::N81
            }
        );
        assert!(GatewayLink::parse("tcp:10.0.0.5").is_err());
        assert!(GatewayLink::parse("tcp:10.0.0.5:0").is_err());
        assert!(GatewayLink::parse("udp:10.0.0.5:502").is_err());
        assert!(GatewayLink::parse("serial:/dev/ttyS1@9601,8N1").is_err());
    }

    #[test]
    fn addresses_follow_the_protocol() {
        assert_eq!(
            MeterAddress::parse("247", Protocol::Modbus),
            Ok(MeterAddress::Modbus(247))
        );
        assert_eq!(
            MeterAddress::parse("300", Protocol::Modbus),
            Err("'300' is not a valid address (1-247)".to_string())
        );
        assert!(MeterAddress::parse("0", Protocol::Modbus).is_err());
        assert!(MeterAddress::parse("000000001234", Protocol::Dlt645).is_ok());
        assert!(MeterAddress::parse("00000000123", Protocol::Dlt645).is_err());
        assert!(MeterAddress::parse("00000000123A", Protocol::Dlt645).is_err());
    }

    #[test]
    fn framing_and_buses() {
        assert_eq!(Framing::parse("8e1"), Ok(Framing::E81));
        assert_eq!(Framing::E81.bits_per_char(), 11);
        assert_eq!(Framing::N81.bits_per_char(), 10);
        assert!(Framing::parse("9N1").is_err());
        let gw = GatewayId::from("GW1");
        let buses = Gateway::parse_buses(&gw, "2:2400:8E1; 1:9600:8N1").unwrap();
        assert_eq!(buses.iter().map(|b| b.index).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            Gateway::parse_buses(&gw, "1:9600:8N1;1:2400:8E1"),
            Err("bus 1 is listed twice".to_string())
        );
        assert!(Gateway::parse_buses(&gw, "").is_err());
        assert!(Gateway::parse_buses(&gw, "0:9600:8N1").is_err());
    }

    #[test]
    fn floors_areas_categories_phones() {
        assert_eq!(parse_floor("B2"), Ok(-2));
        assert_eq!(parse_floor("12"), Ok(12));
        assert!(parse_floor("0").is_err());
        assert!(parse_floor("first").is_err());
        assert_eq!(parse_area_x100("85.5"), Ok(8550));
        assert_eq!(parse_area_x100("120"), Ok(12000));
        assert!(parse_area_x100("1.234").is_err());
        assert!(parse_area_x100("-3").is_err());
        assert_eq!(parse_category("餐饮"), Ok("restaurant".to_string()));
        assert_eq!(parse_category("Cinema"), Ok("cinema".to_string()));
        assert_eq!(parse_category("bank"), Ok("bank".to_string()));
        assert!(parse_category("").is_err());
        assert_eq!(parse_phone("138-0013 8000"), Ok("13800138000".to_string()));
        assert!(parse_phone("call me").is_err());
    }

    #[test]
    fn defaults_are_valid_and_checked() {
        assert!(SiteDefaults::default().problems().is_empty());
        let bad = SiteDefaults {
            alarm1: Fen(100),
            alarm2: Fen(200),
            timezone: "Mars/Base".into(),
            ..SiteDefaults::default()
        };
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["alarm2", "timezone"]);
    }

    #[test]
    fn meter_json_is_stable() {
        let m = Meter {
            id: MeterId::from("M1"),
            address: MeterAddress::Dlt645("000000001234".into()),
            protocol: Protocol::Dlt645,
            profile: "generic-dlt645".into(),
            phases: Phases::Three,
            gateway: GatewayId::from("GW1"),
            bus: 1,
            unit: None,
            billing: BillingMode::Host,
            tariff: None,
            power_limit_w: None,
            alarm1: Some(Fen(3000)),
            alarm2: None,
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains(r#""address":{"dlt645":"000000001234"}"#),
            "{json}"
        );
        assert!(json.contains(r#""billing":"host""#), "{json}");
        let back: Meter = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert!(m.problems().is_empty());
    }
}
