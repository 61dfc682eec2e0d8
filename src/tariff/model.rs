//! Tariff definitions as data: what a site's price list says, with serde forms meant for
//! people (prices as yuan-per-kWh text, tier bounds in kWh, schedule times as "HH:MM").

use crate::units::{Price, Wh};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the four time-of-use rates. The order is the DL/T 645 register order
/// (rate 1 = sharp 尖, 2 = peak 峰, 3 = flat 平, 4 = valley 谷), which is also the index
/// into [`Usage::by_band`](super::Usage::by_band).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    #[serde(alias = "尖")]
    Sharp,
    #[serde(alias = "峰")]
    Peak,
    #[serde(alias = "平")]
    Flat,
    #[serde(alias = "谷")]
    Valley,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Sharp, Band::Peak, Band::Flat, Band::Valley];

    /// Position in `[sharp, peak, flat, valley]`.
    pub fn index(self) -> usize {
        match self {
            Band::Sharp => 0,
            Band::Peak => 1,
            Band::Flat => 2,
            Band::Valley => 3,
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Band::Sharp => "sharp",
            Band::Peak => "peak",
            Band::Flat => "flat",
            Band::Valley => "valley",
        })
    }
}

/// The four time-of-use prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouPrices {
    #[serde(with = "price_text")]
    pub sharp: Price,
    #[serde(with = "price_text")]
    pub peak: Price,
    #[serde(with = "price_text")]
    pub flat: Price,
    #[serde(with = "price_text")]
    pub valley: Price,
}

impl TouPrices {
    pub fn get(&self, band: Band) -> Price {
        match band {
            Band::Sharp => self.sharp,
            Band::Peak => self.peak,
            Band::Flat => self.flat,
            Band::Valley => self.valley,
        }
    }
}

/// A time of day with minute precision, written "HH:MM" (00:00 to 23:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    minute_of_day: u16,
}

impl ClockTime {
    pub fn new(hour: u8, minute: u8) -> Option<ClockTime> {
        (hour < 24 && minute < 60).then_some(ClockTime {
            minute_of_day: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// Parses "HH:MM" (a one-digit hour is accepted: "7:00").
    pub fn parse(text: &str) -> Option<ClockTime> {
        let (h, m) = text.trim().split_once(':')?;
        let digits = |s: &str, max_len: usize| {
            (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u8>().ok())
                .flatten()
        };
        if m.len() != 2 {
            return None;
        }
        ClockTime::new(digits(h, 2)?, digits(m, 2)?)
    }

    pub fn minute_of_day(self) -> u16 {
        self.minute_of_day
    }

    pub fn hour(self) -> i8 {
        // < 24 by construction.
        (self.minute_of_day / 60) as i8
    }

    pub fn minute(self) -> i8 {
        (self.minute_of_day % 60) as i8
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ClockTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a time of day; write \"HH:MM\" from 00:00 to 23:59"
            ))
        })
    }
}

/// From `start` (local time in the site's time zone) the `band` applies until the next
/// entry's start; the last entry runs over midnight to the first entry's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleEntry {
    pub start: ClockTime,
    pub band: Band,
}

/// A daily time-of-use schedule: entries in increasing start order, at least one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DaySchedule(pub Vec<ScheduleEntry>);

impl DaySchedule {
    /// Builds a schedule from `("HH:MM", band)` pairs; `None` if a time does not parse.
    pub fn from_pairs(pairs: &[(&str, Band)]) -> Option<DaySchedule> {
        pairs
            .iter()
            .map(|(t, band)| {
                Some(ScheduleEntry {
                    start: ClockTime::parse(t)?,
                    band: *band,
                })
            })
            .collect::<Option<Vec<_>>>()
            .map(DaySchedule)
    }

    /// Index of the entry in force at `minute_of_day` (the schedule must be valid: sorted,
    /// not empty). Before the first start, the last entry (running over midnight) applies.
    pub(crate) fn entry_at(&self, minute_of_day: u16) -> usize {
        let after = self
            .0
            .partition_point(|e| e.start.minute_of_day() <= minute_of_day);
        if after == 0 {
            self.0.len() - 1
        } else {
            after - 1
        }
    }
}

/// One tier of a tiered tariff: cumulative monthly energy up to `up_to` (inclusive) costs
/// `price`; the last tier has no bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    #[serde(
        rename = "up_to_kwh",
        default,
        with = "opt_kwh_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub up_to: Option<Wh>,
    #[serde(with = "price_text")]
    pub price: Price,
}

/// A price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tariff {
    /// One price for all energy.
    Flat {
        #[serde(with = "price_text")]
        price: Price,
    },
    /// Prices by cumulative energy within the calendar month (site time zone).
    Tiered { tiers: Vec<Tier> },
    /// Prices by time of day (site time zone).
    TimeOfUse {
        prices: TouPrices,
        schedule: DaySchedule,
    },
}

/// A dated version of a tariff: applies to energy used from `start` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffVersion {
    pub start: Timestamp,
    pub tariff: Tariff,
}

/// A tariff with its dated price changes, oldest first. The first version also covers any
/// energy before its start (there is nothing older to charge at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveTariff {
    pub versions: Vec<TariffVersion>,
}

impl EffectiveTariff {
    /// A tariff that never changes.
    pub fn single(tariff: Tariff) -> EffectiveTariff {
        EffectiveTariff {
            versions: vec![TariffVersion {
                start: Timestamp::MIN,
                tariff,
            }],
        }
    }

    /// The tariff itself when it never changes (made by [`EffectiveTariff::single`]).
    pub fn as_single(&self) -> Option<&Tariff> {
        match self.versions.as_slice() {
            [only] if only.start == Timestamp::MIN => Some(&only.tariff),
            _ => None,
        }
    }

    /// From `(start, tariff)` pairs, validated.
    pub fn new(versions: Vec<(Timestamp, Tariff)>) -> Result<EffectiveTariff, super::TariffError> {
        let t = EffectiveTariff {
            versions: versions
                .into_iter()
                .map(|(start, tariff)| TariffVersion { start, tariff })
                .collect(),
        };
        t.validate()?;
        Ok(t)
    }

    /// Index of the version in force at `at`.
    pub(crate) fn version_at(&self, at: Timestamp) -> usize {
        self.versions
            .partition_point(|v| v.start <= at)
            .saturating_sub(1)
    }
}

impl From<Tariff> for EffectiveTariff {
    fn from(t: Tariff) -> EffectiveTariff {
        EffectiveTariff::single(t)
    }
}

/// Prices in files are yuan per kWh as text (`"0.8523"`, up to six decimals) or a whole
/// number of yuan (`1`). A TOML/JSON float is refused: it cannot hold a price exactly.
pub(crate) mod price_text {
    use crate::units::Price;
    use serde::de::{self, Visitor};
    use std::fmt;

    pub fn serialize<S: serde::Serializer>(p: &Price, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(p)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
        d.deserialize_any(PriceVisitor)
    }

    pub(crate) struct PriceVisitor;

    impl Visitor<'_> for PriceVisitor {
        type Value = Price;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a price in yuan per kWh written as text, e.g. \"0.8523\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Price, E> {
            Price::parse_yuan_per_kwh(v)
                .map_err(|e| E::custom(format!("price {e} (yuan per kWh, up to 6 decimals)")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Price, E> {
            i64::try_from(v)
                .ok()
                .and_then(|y| y.checked_mul(1_000_000))
                .map(Price)
                .ok_or_else(|| E::custom(format!("price {v} yuan per kWh is too large")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Price, E> {
            if v < 0 {
                return Err(E::custom(format!("price {v} is negative")));
            }
            self.visit_u64(v.unsigned_abs())
        }
    }
}

/// Tier bounds in files are kWh: a whole number (`200`) or text with up to three decimals
/// (`"200.5"`).
pub(crate) mod opt_kwh_text {
    use crate::units::Wh;
    use serde::de::{self, Visitor};
    use std::fmt;

    pub fn serialize<S: serde::Serializer>(w: &Option<Wh>, s: S) -> Result<S::Ok, S::Error> {
        match w {
            Some(w) => s.collect_str(w),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Wh>, D::Error> {
        d.deserialize_any(KwhVisitor)
    }

    struct KwhVisitor;

    impl<'de> Visitor<'de> for KwhVisitor {
        type Value = Option<Wh>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a tier bound in kWh, e.g. 200 or \"200.5\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Wh>, E> {
            Wh::parse_kwh(v)
                .map(Some)
                .map_err(|e| E::custom(format!("tier bound {e} (kWh, up to 3 decimals)")))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Wh>, E> {
            i64::try_from(v)
                .ok()
                .and_then(|k| k.checked_mul(1000))
                .map(|w| Some(Wh(w)))
                .ok_or_else(|| E::custom(format!("tier bound {v} kWh is too large")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Wh>, E> {
            if v < 0 {
                return Err(E::custom(format!("tier bound {v} kWh is negative")));
            }
            self.visit_u64(v.unsigned_abs())
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<Wh>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<Wh>, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Wh>, D::Error> {
            d.deserialize_any(KwhVisitor)
        }
    }
}
