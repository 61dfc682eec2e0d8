//! Tariffs: flat, tiered (monthly cumulative), time-of-use (sharp/peak/flat/valley), with
//! dated price changes. Pure functions from energy deltas to exact charges: no I/O, no
//! rounding. The caller (the ledger) carries each meter's sub-fen remainder.
//!
//! ```
//! use voltvend::tariff::{self, EffectiveTariff, Tariff, Usage};
//! use voltvend::units::{Price, SubFen, Wh};
//!
//! let flat = EffectiveTariff::single(Tariff::Flat { price: Price::parse_yuan_per_kwh("0.8523").unwrap() });
//! let from: jiff::Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
//! let to: jiff::Timestamp = "2026-03-01T00:30:00Z".parse().unwrap();
//! let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
//! // 1.5 kWh at 0.8523 yuan/kWh = 127.845 fen.
//! let cost = tariff::cost(&flat, &Usage::total(from, to, Wh(1500)), Wh::ZERO, &tz).unwrap();
//! assert_eq!(cost, SubFen(1_278_450_000));
//! ```
//!
//! See docs/tariffs.md for the file format and the rule that splits a total-only delta.

mod apportion;
mod cost;
mod error;
mod model;
mod validate;

pub use apportion::apportion;
pub use cost::{Charge, ChargePart, MAX_INTERVAL_DAYS, Usage, charge, cost};
pub use error::{DefinitionError, TariffError};
pub use model::{
    Band, ClockTime, DaySchedule, EffectiveTariff, ScheduleEntry, Tariff, TariffVersion, Tier,
    TouPrices,
};

/// The site time zone used when the configuration names none.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";
