//! Time-of-day bands (尖峰平谷) for the simulated meters, in the site's time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// A TOU band, in the order of the meter's energy registers and prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    Sharp = 0,
    Peak = 1,
    Flat = 2,
    Valley = 3,
}

impl Band {
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Local wall-clock facts the load and TOU models need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Monday = 0 … Sunday = 6.
    pub weekday: u8,
    /// Minutes since local midnight, 0..1440.
    pub minute_of_day: u16,
    /// Whole minutes since the Unix epoch in local time (a stable noise key).
    pub local_minute: i64,
}

impl LocalTime {
    pub fn at(t: Timestamp, tz: &TimeZone) -> LocalTime {
        let local = t.as_second() + i64::from(tz.to_offset(t).seconds());
        let days = local.div_euclid(86_400);
        let sec = local.rem_euclid(86_400);
        // 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3).
        let weekday = (days + 3).rem_euclid(7) as u8;
        LocalTime {
            weekday,
            minute_of_day: (sec / 60) as u16,
            local_minute: local.div_euclid(60),
        }
    }

    pub fn is_weekend(self) -> bool {
        self.weekday >= 5
    }
}

/// A day schedule: each entry starts a band at minute-of-day; sorted, first at 00:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouSchedule {
    starts: Vec<(u16, Band)>,
}

/// Why a schedule entry is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TouError {
    #[error("'{0}' is not a time HH:MM")]
    BadTime(String),
    #[error("the schedule must start at 00:00 and be in time order")]
    Order,
}

impl TouSchedule {
    /// A common commercial schedule (valley at night, sharp at the late-morning and evening
    /// peaks). Sites give their own in sim.toml `[tou]`.
    pub fn default_commercial() -> TouSchedule {
        use Band::*;
        let t = |h: u16, b| (h * 60, b);
        TouSchedule {
            starts: vec![
                t(0, Valley),
                t(8, Peak),
                t(10, Sharp),
                t(11, Peak),
                t(12, Flat),
                t(17, Peak),
                t(19, Sharp),
                t(21, Peak),
                t(22, Flat),
                t(23, Valley),
            ],
        }
    }

    /// From ("HH:MM", band) entries.
    pub fn from_entries(entries: &[(String, Band)]) -> Result<TouSchedule, TouError> {
        let mut starts = Vec::with_capacity(entries.len());
        for (text, band) in entries {
            let bad = || TouError::BadTime(text.clone());
            let (h, m) = text.split_once(':').ok_or_else(bad)?;
            let h: u16 = h.parse().map_err(|_| bad())?;
            let m: u16 = m.parse().map_err(|_| bad())?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            starts.push((h * 60 + m, *band));
        }
        if starts.first().map(|s| s.0) != Some(0) || starts.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(TouError::Order);
        }
        Ok(TouSchedule { starts })
    }

    /// The band at a minute of the day.
    pub fn band_at(&self, minute_of_day: u16) -> Band {
        self.starts
            .iter()
            .rev()
            .find(|(s, _)| *s <= minute_of_day)
            .map_or(Band::Flat, |(_, b)| *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_in_shanghai() {
        let tz = TimeZone::get("Asia/Shanghai").expect("tz");
        // 2026-06-01 is a Monday; 02:30 UTC = 10:30 in Shanghai (UTC+8).
        let t: Timestamp = "2026-06-01T02:30:00Z".parse().expect("ts");
        let l = LocalTime::at(t, &tz);
        assert_eq!((l.weekday, l.minute_of_day), (0, 630));
        // 2026-06-06T16:00Z = Sunday 00:00 local.
        let t: Timestamp = "2026-06-06T16:00:00Z".parse().expect("ts");
        let l = LocalTime::at(t, &tz);
        assert_eq!((l.weekday, l.minute_of_day), (6, 0));
        assert!(l.is_weekend());
    }

    #[test]
    fn default_schedule_bands() {
        let s = TouSchedule::default_commercial();
        assert_eq!(s.band_at(3 * 60), Band::Valley);
        assert_eq!(s.band_at(10 * 60 + 30), Band::Sharp);
        assert_eq!(s.band_at(14 * 60), Band::Flat);
        assert_eq!(s.band_at(23 * 60 + 59), Band::Valley);
        let e = TouSchedule::from_entries(&[("01:00".into(), Band::Peak)]);
        assert_eq!(e, Err(TouError::Order));
    }
}
