//! From two consecutive stored readings to an exact consumption charge: the energy delta
//! (per TOU band when both readings carry the band registers), the month-to-date energy for
//! tiered tariffs, the meter's tariff from the site store, and `tariff::cost`.

use super::readings::{self, Reading};
use crate::site::model::{Meter, SiteDefaults};
use crate::store::Store;
use crate::tariff::{self, EffectiveTariff, Tariff, Usage};
use crate::units::{SubFen, Wh};

#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error("meter {meter}: tariff '{name}' is not in the site store")]
    NoTariff { meter: String, name: String },
    #[error("meter {meter}: tariff '{name}' is stored but unreadable: {why}")]
    BadTariff {
        meter: String,
        name: String,
        why: String,
    },
    #[error("meter {meter}: {why}")]
    Cost { meter: String, why: String },
    #[error("meter {meter}: cannot read the site store: {why}")]
    Store { meter: String, why: String },
}

/// The usage between two readings of the same baseline (`cur.total >= prev.total`).
/// Band deltas are used when both readings have them and none went backwards.
pub fn usage(prev: &Reading, cur: &Reading) -> Usage {
    if let (Some(a), Some(b)) = (prev.bands, cur.bands) {
        let d: [Wh; 4] = std::array::from_fn(|i| b[i] - a[i]);
        if d.iter().all(|w| w.0 >= 0) && d.iter().any(|w| w.0 > 0) {
            return Usage::banded(prev.at, cur.at, d);
        }
    }
    Usage::total(prev.at, cur.at, cur.total - prev.total)
}

/// A stored tariff: dated versions, or one plain tariff.
pub fn parse_tariff(value: serde_json::Value) -> Result<EffectiveTariff, String> {
    match serde_json::from_value::<EffectiveTariff>(value.clone()) {
        Ok(t) => Ok(t),
        Err(_) => serde_json::from_value::<Tariff>(value)
            .map(EffectiveTariff::single)
            .map_err(|e| e.to_string()),
    }
}

/// Energy used in the calendar month (site time zone) holding `at`, before `at`, from the
/// stored readings: `at`'s reading total minus the month's baseline (the last reading before
/// the month began, else the month's first reading). Never negative.
pub fn month_to_date(
    store: &Store,
    meter: &Meter,
    reading_before: &Reading,
    tz: &jiff::tz::TimeZone,
) -> Result<Wh, crate::store::StoreError> {
    let month = tz.to_datetime(reading_before.at).date().first_of_month();
    let Ok(start) = tz.to_timestamp(month.at(0, 0, 0, 0)) else {
        return Ok(Wh::ZERO);
    };
    let baseline = match readings::latest_before(store, &meter.id, start)? {
        Some(r) => Some(r),
        None => readings::history(store, &meter.id, start, reading_before.at)?
            .into_iter()
            .next(),
    };
    Ok(match baseline {
        Some(b) if b.total <= reading_before.total => reading_before.total - b.total,
        _ => Wh::ZERO,
    })
}

/// The exact cost of the energy between `prev` and `cur` for `meter`.
pub fn cost_between(
    store: &Store,
    meter: &Meter,
    defaults: &SiteDefaults,
    prev: &Reading,
    cur: &Reading,
) -> Result<(Usage, SubFen), ChargeError> {
    let id = meter.id.to_string();
    let name = meter.tariff_name(defaults).to_string();
    let value = crate::site::repo::get_tariff(store, &name)
        .map_err(|e| ChargeError::Store {
            meter: id.clone(),
            why: e.to_string(),
        })?
        .ok_or_else(|| ChargeError::NoTariff {
            meter: id.clone(),
            name: name.clone(),
        })?;
    let t = parse_tariff(value).map_err(|why| ChargeError::BadTariff {
        meter: id.clone(),
        name: name.clone(),
        why,
    })?;
    let tz = defaults.tz();
    let mtd = month_to_date(store, meter, prev, &tz).map_err(|e| ChargeError::Store {
        meter: id.clone(),
        why: e.to_string(),
    })?;
    let u = usage(prev, cur);
    let c = tariff::cost(&t, &u, mtd, &tz).map_err(|e| ChargeError::Cost {
        meter: id,
        why: e.to_string(),
    })?;
    Ok((u, c))
}
