//! Who enforces a meter's prepaid balance (the site model re-exports it as
//! `site::model::BillingMode`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Billing mode of a meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingMode {
    /// The meter keeps its own balance and prices and trips itself; we push credit tokens.
    Meter,
    /// A plain metering meter: the host charges from energy deltas and trips on arrears.
    Host,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::Meter => "meter",
            BillingMode::Host => "host",
        }
    }
}

impl fmt::Display for BillingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BillingMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "meter" => Ok(BillingMode::Meter),
            "host" => Ok(BillingMode::Host),
            _ => Err(format!(
                "'{s}' is not a billing mode (expected 'meter' or 'host')"
            )),
        }
    }
}
