//! Fault injection, per meter and per bus. Settable at start (CLI/TOML), at run time through
//! the in-process handles, and from the CLI through a watched faults file (see control.rs).

use serde::{Deserialize, Serialize};

/// The faults active on a meter or a bus. Several may be on at once. In TOML either a table
/// (`{ no_reply = true, permille = 200 }`) or the CLI list (`"no_reply,permille=200"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultsRepr")]
pub struct Faults {
    /// The meter hears nothing and says nothing (dead meter, cut wire).
    pub no_reply: bool,
    /// The reply's CRC (DL/T 645: checksum) is wrong.
    pub crc_error: bool,
    /// Random bytes instead of the reply (line noise).
    pub garbage: bool,
    /// Extra delay before the reply, in ms (real time).
    pub slow_reply_ms: u64,
    /// The reply carries another meter's address.
    pub wrong_address: bool,
    /// The meter is gone from the bus (as if unplugged): silent, and the gateway says so.
    pub removed: bool,
    /// Bus only: the gateway or serial server is down (TCP connections closed, pty silent).
    pub gateway_down: bool,
    /// Chance that each request is hit, in permille (default 1000 = every request).
    pub permille: Option<u16>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsRepr {
    List(String),
    Table(FaultsTable),
}

/// The table form of [`Faults`] (same keys).
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct FaultsTable {
    no_reply: bool,
    crc_error: bool,
    garbage: bool,
    slow_reply_ms: u64,
    wrong_address: bool,
    removed: bool,
    gateway_down: bool,
    permille: Option<u16>,
}

impl TryFrom<FaultsRepr> for Faults {
    type Error = FaultParseError;

    fn try_from(r: FaultsRepr) -> Result<Faults, FaultParseError> {
        match r {
            FaultsRepr::List(s) => Faults::parse_list(&s),
            FaultsRepr::Table(t) => Ok(Faults {
                no_reply: t.no_reply,
                crc_error: t.crc_error,
                garbage: t.garbage,
                slow_reply_ms: t.slow_reply_ms,
                wrong_address: t.wrong_address,
                removed: t.removed,
                gateway_down: t.gateway_down,
                permille: t.permille.map(|p| p.min(1000)),
            }),
        }
    }
}

/// Why a fault list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault '{0}' (known: no_reply, crc_error, garbage, slow_reply=MS, wrong_address, removed, gateway_down, permille=N)"
)]
pub struct FaultParseError(pub String);

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    /// True when nothing is injected.
    pub fn is_clear(&self) -> bool {
        *self == Faults::default()
            || Faults {
                permille: None,
                ..self.clone()
            } == Faults::default()
    }

    /// Parses `no_reply,slow_reply=300,permille=500` (the CLI form).
    pub fn parse_list(text: &str) -> Result<Faults, FaultParseError> {
        let mut f = Faults::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, val) = item.split_once('=').unwrap_or((item, ""));
            let num = || {
                val.parse::<u64>()
                    .map_err(|_| FaultParseError(item.to_string()))
            };
            match key {
                "no_reply" => f.no_reply = true,
                "crc_error" => f.crc_error = true,
                "garbage" => f.garbage = true,
                "slow_reply" => f.slow_reply_ms = if val.is_empty() { 500 } else { num()? },
                "wrong_address" => f.wrong_address = true,
                "removed" => f.removed = true,
                "gateway_down" => f.gateway_down = true,
                "permille" => {
                    f.permille = Some(u16::try_from(num()?.min(1000)).unwrap_or(1000));
                }
                _ => return Err(FaultParseError(item.to_string())),
            }
        }
        Ok(f)
    }

    /// The bus's and the meter's faults together (either one on = on).
    pub fn merged(&self, other: &Faults) -> Faults {
        Faults {
            no_reply: self.no_reply || other.no_reply,
            crc_error: self.crc_error || other.crc_error,
            garbage: self.garbage || other.garbage,
            slow_reply_ms: self.slow_reply_ms.max(other.slow_reply_ms),
            wrong_address: self.wrong_address || other.wrong_address,
            removed: self.removed || other.removed,
            gateway_down: self.gateway_down || other.gateway_down,
            permille: match (self.permille, other.permille) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// What happens to one reply after the dice are rolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub silent: bool,
    pub crc_error: bool,
    pub garbage: bool,
    pub wrong_address: bool,
    pub extra_delay_ms: u64,
}

impl Faults {
    /// Rolls the dice for one request.
    pub fn roll(&self, rng: &mut super::load::SimRng) -> Outcome {
        if self.removed {
            return Outcome {
                silent: true,
                ..Outcome::default()
            };
        }
        if self.is_clear() || !rng.chance(self.permille.unwrap_or(1000)) {
            return Outcome::default();
        }
        Outcome {
            silent: self.no_reply || self.gateway_down,
            crc_error: self.crc_error,
            garbage: self.garbage,
            wrong_address: self.wrong_address,
            extra_delay_ms: self.slow_reply_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_merge() {
        let f = Faults::parse_list("no_reply, slow_reply=300").expect("parse");
        assert!(f.no_reply && f.slow_reply_ms == 300);
        assert!(Faults::parse_list("melted").is_err());
        let g = Faults::parse_list("crc_error").expect("parse").merged(&f);
        assert!(g.no_reply && g.crc_error && g.slow_reply_ms == 300);
        assert!(Faults::none().is_clear());
        assert!(!g.is_clear());
    }

    #[test]
    fn toml_takes_a_table_or_a_list() {
        #[derive(Deserialize)]
        struct W {
            a: Faults,
            b: Faults,
        }
        let w: W = toml::from_str("a = \"no_reply,slow_reply=5\"\nb = { garbage = true }")
            .expect("both forms");
        assert!(w.a.no_reply && w.a.slow_reply_ms == 5 && w.b.garbage);
        assert!(toml::from_str::<W>("a = \"melted\"\nb = {}").is_err());
    }
}
