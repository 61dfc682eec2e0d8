//! Why a tariff definition or a usage record cannot be charged.

use crate::units::Wh;
use jiff::Timestamp;

/// A mistake inside one tariff version's definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("a tiered tariff needs at least one tier")]
    NoTiers,
    #[error(
        "tier {tier}: bound {up_to} kWh is not above tier {prev_tier}'s bound {prev} kWh (tier bounds must increase)"
    )]
    TierNotIncreasing {
        tier: usize,
        up_to: Wh,
        prev_tier: usize,
        prev: Wh,
    },
    #[error("tier {tier}: bound 0 kWh leaves the tier empty (bounds must be above 0)")]
    TierEmpty { tier: usize },
    #[error("tier {tier} has no bound but is not the last tier (only the last tier is open)")]
    OpenTierNotLast { tier: usize },
    #[error(
        "the last tier (tier {tier}) has bound {up_to} kWh; remove `up_to_kwh` from it so energy above every bound has a price"
    )]
    LastTierBounded { tier: usize, up_to: Wh },
    #[error("{what} price {price} is negative")]
    NegativePrice { what: String, price: String },
    #[error("a time-of-use schedule needs at least one entry")]
    EmptySchedule,
    #[error(
        "schedule entry {entry} starts at {start}, not after entry {prev_entry} at {prev}; entries must be in time order without overlap or repeats"
    )]
    ScheduleOverlap {
        entry: usize,
        start: String,
        prev_entry: usize,
        prev: String,
    },
}

/// Why a charge cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("the tariff has no versions")]
    NoVersions,
    #[error(
        "tariff version {version} starts at {start}, not after version {prev_version} at {prev}; versions must be in order of start"
    )]
    VersionOrder {
        version: usize,
        start: Timestamp,
        prev_version: usize,
        prev: Timestamp,
    },
    #[error("tariff version {version}: {why}")]
    Definition {
        version: usize,
        why: DefinitionError,
    },
    #[error("usage ends at {to}, before it starts at {from}")]
    Backwards { from: Timestamp, to: Timestamp },
    #[error("usage energy {0} Wh is negative (was the meter reset or replaced?)")]
    NegativeEnergy(i64),
    #[error("usage per-band energies sum to {bands} Wh but the total is {total} Wh")]
    BandsMismatch { bands: i64, total: i64 },
    #[error("usage from {from} to {to} spans more than {max_days} days; charge it in parts")]
    TooLong {
        from: Timestamp,
        to: Timestamp,
        max_days: i64,
    },
    #[error("time zone arithmetic failed near {at}: {why}")]
    Time { at: Timestamp, why: String },
    #[error("the charge overflows")]
    Overflow,
}
