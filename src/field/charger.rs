//! The seam between reading and charging: the collector and the suspect-reading decisions
//! hand each interval to a [`Charger`] (the ledger in production, a recorder in tests). On
//! its own so that `suspect` (which charges) and `charge` (which skips untrusted readings)
//! do not import each other.

use super::readings::Reading;
use crate::site::model::Meter;

/// Posts consumption charges. The production implementation computes the cost with
/// `tariff::cost` and posts it with `Ledger::charge_consumption`; it must be idempotent by
/// `cur.key()`.
pub trait Charger: Send + Sync + 'static {
    /// Charges the energy between two consecutive stored readings of `meter`
    /// (`cur.total > prev.total`, both from the same register baseline).
    fn charge(&self, meter: &Meter, prev: &Reading, cur: &Reading) -> Result<(), String>;
}
