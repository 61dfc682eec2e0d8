//! Who enforces a meter's prepaid balance. Owned here until the site model re-exports it.

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

impl fmt::Display for BillingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BillingMode::Meter => "meter",
            BillingMode::Host => "host",
        })
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
