//! From an energy delta over an interval to an exact charge.
//!
//! The interval is cut wherever the price could change: a tariff version's start, the start
//! of a calendar month (tiers restart) and, under time-of-use, every band change of the
//! daily schedule, all in the site time zone. A total-only delta is apportioned over the
//! pieces in proportion to their time (see `apportion`); per-band deltas from a meter with
//! TOU registers are trusted as they are and only apportioned over price changes and month
//! starts. Each piece is then priced exactly; nothing is rounded.

use super::apportion::apportion;
use super::error::TariffError;
use super::model::{Band, EffectiveTariff, Tariff, Tier};
use crate::units::{Price, SubFen, Wh};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};

/// The longest interval charged in one go: a meter offline for years should be charged in
/// parts someone has looked at.
pub const MAX_INTERVAL_DAYS: i64 = 3660;

/// Energy used over `[from, to)`: register deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub from: Timestamp,
    pub to: Timestamp,
    pub total: Wh,
    /// Per-band deltas `[sharp, peak, flat, valley]` when the meter has TOU registers; they
    /// must sum to `total`.
    pub by_band: Option<[Wh; 4]>,
}

impl Usage {
    /// A total-only delta.
    pub fn total(from: Timestamp, to: Timestamp, total: Wh) -> Usage {
        Usage {
            from,
            to,
            total,
            by_band: None,
        }
    }

    /// Per-band deltas; the total is their sum (a meter's own total register can differ from
    /// the sum of its band registers by rounding, and TOU billing follows the bands).
    pub fn banded(from: Timestamp, to: Timestamp, bands: [Wh; 4]) -> Usage {
        Usage {
            from,
            to,
            total: bands.iter().copied().sum(),
            by_band: Some(bands),
        }
    }
}

/// One priced piece of a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargePart {
    /// Index into `EffectiveTariff::versions`.
    pub version: usize,
    /// First day of the calendar month (site time zone) the energy falls in.
    pub month: Date,
    /// The TOU band, for a time-of-use version or per-band usage.
    pub band: Option<Band>,
    /// The tier (1-based) for a tiered version.
    pub tier: Option<usize>,
    pub energy: Wh,
    pub price: Price,
    pub cost: SubFen,
}

/// An exact charge with its breakdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub cost: SubFen,
    pub parts: Vec<ChargePart>,
    /// Energy used in the calendar month containing `usage.to`, up to `usage.to`: the
    /// `month_to_date` to pass with the next interval.
    pub month_to_date_after: Wh,
}

/// The exact cost of `usage` under `t`. `month_to_date` is the energy already used in the
/// calendar month (site time zone) containing `usage.from`, before `usage.from`; it only
/// matters for tiered versions.
pub fn cost(
    t: &EffectiveTariff,
    usage: &Usage,
    month_to_date: Wh,
    tz: &TimeZone,
) -> Result<SubFen, TariffError> {
    charge(t, usage, month_to_date, tz).map(|c| c.cost)
}

/// Like [`cost`], with the priced pieces and the month-to-date energy after the interval.
pub fn charge(
    t: &EffectiveTariff,
    usage: &Usage,
    month_to_date: Wh,
    tz: &TimeZone,
) -> Result<Charge, TariffError> {
    t.validate()?;
    check_usage(usage)?;
    if month_to_date.0 < 0 {
        return Err(TariffError::NegativeEnergy(month_to_date.0));
    }
    let groups = group(segments(t, usage.from, usage.to, tz)?);
    let first_month = month_of(tz, usage.from);
    let lots = match usage.by_band {
        None => lots_from_total(t, &groups, usage.total, first_month, month_to_date)?,
        Some(bands) => lots_from_bands(t, &groups, bands, first_month, month_to_date)?,
    };
    price_lots(t, &lots, usage, first_month, month_to_date, tz)
}

fn check_usage(u: &Usage) -> Result<(), TariffError> {
    if u.to < u.from {
        return Err(TariffError::Backwards {
            from: u.from,
            to: u.to,
        });
    }
    if u.to.as_second() - u.from.as_second() > MAX_INTERVAL_DAYS * 86_400 {
        return Err(TariffError::TooLong {
            from: u.from,
            to: u.to,
            max_days: MAX_INTERVAL_DAYS,
        });
    }
    if u.total.0 < 0 {
        return Err(TariffError::NegativeEnergy(u.total.0));
    }
    if let Some(bands) = u.by_band {
        if let Some(neg) = bands.iter().find(|b| b.0 < 0) {
            return Err(TariffError::NegativeEnergy(neg.0));
        }
        let sum = bands
            .iter()
            .try_fold(0i64, |acc, b| acc.checked_add(b.0))
            .ok_or(TariffError::Overflow)?;
        if sum != u.total.0 {
            return Err(TariffError::BandsMismatch {
                bands: sum,
                total: u.total.0,
            });
        }
    }
    Ok(())
}

/// What decides the price of a piece of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    version: usize,
    month: Date,
    /// Set for time-of-use versions only.
    band: Option<Band>,
}

/// A stretch of time with one key; `nanos` long.
#[derive(Debug, Clone, Copy)]
struct Piece {
    key: Key,
    nanos: i128,
}

fn month_of(tz: &TimeZone, at: Timestamp) -> Date {
    tz.to_datetime(at).date().first_of_month()
}

fn time_error(at: Timestamp, e: impl std::fmt::Display) -> TariffError {
    TariffError::Time {
        at,
        why: e.to_string(),
    }
}

/// The start of the calendar month after `month`, on the clock of `offset`.
fn next_month_start(offset: Offset, month: Date, cur: Timestamp) -> Result<Timestamp, TariffError> {
    let next = if month.month() == 12 {
        Date::new(month.year() + 1, 1, 1)
    } else {
        Date::new(month.year(), month.month() + 1, 1)
    }
    .map_err(|e| time_error(cur, e))?;
    offset
        .to_timestamp(next.at(0, 0, 0, 0))
        .map_err(|e| time_error(cur, e))
}

/// The band in force at local time `local` and the first schedule boundary after it, on
/// the clock of `offset`.
fn band_and_next(
    schedule: &super::DaySchedule,
    offset: Offset,
    local: DateTime,
    cur: Timestamp,
) -> Result<(Band, Timestamp), TariffError> {
    let minute = u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute()))
        .map_err(|e| time_error(cur, e))?;
    let band = schedule.0[schedule.entry_at(minute)].band;
    // A later entry today, else the first entry tomorrow.
    let after = schedule
        .0
        .partition_point(|e| e.start.minute_of_day() <= minute);
    let (day, entry) = match schedule.0.get(after) {
        Some(e) => (local.date(), e),
        None => (
            local.date().tomorrow().map_err(|e| time_error(cur, e))?,
            &schedule.0[0],
        ),
    };
    let at = offset
        .to_timestamp(day.at(entry.start.hour(), entry.start.minute(), 0, 0))
        .map_err(|e| time_error(cur, e))?;
    Ok((band, at))
}

/// Cuts `[from, to)` at every version start, month start and TOU band change, and at
/// every change of the zone's UTC offset (DST), so that inside each piece the local clock
/// runs evenly and each boundary is an exact instant: a schedule time skipped by a DST gap
/// takes effect when the clock jumps past it, and one repeated in a DST fold applies twice.
fn segments(
    t: &EffectiveTariff,
    from: Timestamp,
    to: Timestamp,
    tz: &TimeZone,
) -> Result<Vec<Piece>, TariffError> {
    let mut out = Vec::new();
    let mut cur = from;
    loop {
        let version = t.version_at(cur);
        let offset = tz.to_offset(cur);
        let local = offset.to_datetime(cur);
        let month = local.date().first_of_month();
        let mut end = to.min(next_month_start(offset, month, cur)?);
        if let Some(next) = t.versions.get(version + 1) {
            end = end.min(next.start);
        }
        if let Some(transition) = tz.following(cur).next() {
            end = end.min(transition.timestamp());
        }
        let band = match &t.versions[version].tariff {
            Tariff::TimeOfUse { schedule, .. } => {
                let (band, next) = band_and_next(schedule, offset, local, cur)?;
                end = end.min(next);
                Some(band)
            }
            _ => None,
        };
        if end < cur || (end == cur && cur < to) {
            return Err(time_error(cur, "time zone boundaries out of order"));
        }
        out.push(Piece {
            key: Key {
                version,
                month,
                band,
            },
            nanos: end.as_nanosecond() - cur.as_nanosecond(),
        });
        if end >= to {
            return Ok(out);
        }
        cur = end;
    }
}

/// Sums the time of equal keys, in order of first appearance (which is time order).
fn group(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut groups: Vec<Piece> = Vec::new();
    for p in pieces {
        match groups.iter_mut().find(|g| g.key == p.key) {
            Some(g) => g.nanos += p.nanos,
            None => groups.push(p),
        }
    }
    groups
}

/// The price that orders a key for apportionment (highest first). For a tiered version it
/// is the tier the month's energy stands in at the start of the interval.
fn order_price(
    t: &EffectiveTariff,
    key: Key,
    band: Option<Band>,
    first_month: Date,
    month_to_date: Wh,
) -> Price {
    match &t.versions[key.version].tariff {
        Tariff::Flat { price } => *price,
        Tariff::TimeOfUse { prices, .. } => prices.get(band.unwrap_or(Band::Flat)),
        Tariff::Tiered { tiers } => {
            let at = if key.month == first_month {
                month_to_date
            } else {
                Wh::ZERO
            };
            tiers
                .iter()
                .find(|tier| tier.up_to.is_none_or(|up| at < up))
                .map_or(Price(0), |tier| tier.price)
        }
    }
}

/// Energy assigned to one key, before pricing.
#[derive(Debug, Clone, Copy)]
struct Lot {
    key: Key,
    energy: i64,
}

/// Apportions `total` over `groups` by time, parts ordered by price (highest first) so that
/// the charge is monotone in energy; returns lots in time order.
fn split_by_time(
    t: &EffectiveTariff,
    groups: &[Piece],
    total: i64,
    band: Option<Band>,
    first_month: Date,
    month_to_date: Wh,
) -> Result<Vec<Lot>, TariffError> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    // Stable: equal prices keep time order.
    order.sort_by_key(|&i| {
        std::cmp::Reverse(order_price(
            t,
            groups[i].key,
            band.or(groups[i].key.band),
            first_month,
            month_to_date,
        ))
    });
    let weights: Vec<i128> = order.iter().map(|&i| groups[i].nanos).collect();
    let parts = apportion(total, &weights).ok_or(TariffError::Overflow)?;
    let mut lots: Vec<Lot> = groups
        .iter()
        .map(|g| Lot {
            key: Key {
                band: band.or(g.key.band),
                ..g.key
            },
            energy: 0,
        })
        .collect();
    for (&i, part) in order.iter().zip(parts) {
        lots[i].energy = part;
    }
    Ok(lots)
}

fn lots_from_total(
    t: &EffectiveTariff,
    groups: &[Piece],
    total: Wh,
    first_month: Date,
    month_to_date: Wh,
) -> Result<Vec<Lot>, TariffError> {
    split_by_time(t, groups, total.0, None, first_month, month_to_date)
}

/// Per-band energy is the meter's word on when it was used; it is only spread over the
/// price versions and months of the interval, by time.
fn lots_from_bands(
    t: &EffectiveTariff,
    groups: &[Piece],
    bands: [Wh; 4],
    first_month: Date,
    month_to_date: Wh,
) -> Result<Vec<Lot>, TariffError> {
    let stretches = group(
        groups
            .iter()
            .map(|g| Piece {
                key: Key {
                    band: None,
                    ..g.key
                },
                nanos: g.nanos,
            })
            .collect(),
    );
    let mut per_band = Vec::with_capacity(4);
    for band in Band::ALL {
        per_band.push(split_by_time(
            t,
            &stretches,
            bands[band.index()].0,
            Some(band),
            first_month,
            month_to_date,
        )?);
    }
    // Time order: each stretch, then its bands in register order.
    let mut lots = Vec::with_capacity(stretches.len() * 4);
    for i in 0..stretches.len() {
        for band_lots in &per_band {
            lots.push(band_lots[i]);
        }
    }
    Ok(lots)
}

/// Splits `energy` used when the month already stood at `start` over the tiers.
fn tier_parts(tiers: &[Tier], start: i64, energy: i64) -> Vec<(usize, i64, Price)> {
    let mut out = Vec::new();
    let end = start.saturating_add(energy);
    let mut lo = 0i64;
    for (i, tier) in tiers.iter().enumerate() {
        let hi = tier.up_to.map_or(i64::MAX, |w| w.0);
        let used = end.min(hi) - start.max(lo);
        if used > 0 {
            out.push((i + 1, used, tier.price));
        }
        lo = hi;
    }
    out
}

fn price_lots(
    t: &EffectiveTariff,
    lots: &[Lot],
    usage: &Usage,
    first_month: Date,
    month_to_date: Wh,
    tz: &TimeZone,
) -> Result<Charge, TariffError> {
    let mut month_energy: Vec<(Date, i64)> = vec![(first_month, month_to_date.0)];
    let mut parts = Vec::new();
    let mut total = SubFen::ZERO;
    for lot in lots.iter().filter(|l| l.energy > 0) {
        let slot = match month_energy.iter().position(|(m, _)| *m == lot.key.month) {
            Some(i) => i,
            None => {
                month_energy.push((lot.key.month, 0));
                month_energy.len() - 1
            }
        };
        let before = month_energy[slot].1;
        let mut push = |tier: Option<usize>, energy: i64, price: Price| {
            let cost = price.cost(Wh(energy));
            total = SubFen(total.0 + cost.0);
            parts.push(ChargePart {
                version: lot.key.version,
                month: lot.key.month,
                band: lot.key.band,
                tier,
                energy: Wh(energy),
                price,
                cost,
            });
        };
        match &t.versions[lot.key.version].tariff {
            Tariff::Flat { price } => push(None, lot.energy, *price),
            // Every TOU lot carries its band: set by `segments` or by per-band usage.
            Tariff::TimeOfUse { prices, .. } => push(
                None,
                lot.energy,
                prices.get(lot.key.band.unwrap_or(Band::Flat)),
            ),
            Tariff::Tiered { tiers } => {
                for (tier, energy, price) in tier_parts(tiers, before, lot.energy) {
                    push(Some(tier), energy, price);
                }
            }
        }
        month_energy[slot].1 = before
            .checked_add(lot.energy)
            .ok_or(TariffError::Overflow)?;
    }
    let end_month = month_of(tz, usage.to);
    let month_to_date_after = month_energy
        .iter()
        .find(|(m, _)| *m == end_month)
        .map_or(0, |(_, e)| *e);
    Ok(Charge {
        cost: total,
        parts,
        month_to_date_after: Wh(month_to_date_after),
    })
}
