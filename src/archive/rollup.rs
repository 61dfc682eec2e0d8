//! Daily and monthly energy rollups of the raw readings, kept forever.
//!
//! A reading's energy is its increase over the meter's previous reading, counted on the
//! (site-local) day of the later reading; a register rollback counts nothing and starts a
//! new baseline. Exactly the rule the energy report applies to raw readings
//! ([`fold`] is shared by both), so a report over rollups equals one over raw readings.
//!
//! Incremental and idempotent: per meter a [`Mark`] records the last reading rolled up
//! (its time and registers) and `until`, before which every reading is rolled. A pass
//! rolls the readings after the mark and before the start of the current day, at most
//! `batch` per write transaction, adding them to the day and month rows **and** moving the
//! mark in that same transaction: a crash loses nothing and a second pass adds nothing.
//!
//! Late readings: a reading stored at or before a meter's mark (a replayed reading, a clock
//! put back) changes deltas already rolled up. `note_if_late` — called by the one
//! function that stores readings — records it; the next pass recomputes the day of the late
//! reading and the day of the reading after it from the raw readings, and corrects the
//! month rows by the difference.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::{Deserialize, Serialize};

use super::ArchiveError;
// The marks are kept below the readings they mark (see that module); they are the
// archive's state and part of its interface.
pub use crate::field::readings::mark::{Base, Mark, mark, mark_in_read};
use crate::field::readings::mark::{LATE, MARKS, get_mark};
use crate::field::readings::{self, READINGS, Reading};
use crate::site::repo;
use crate::store::{Store, StoreError, decode, encode};

/// (meter, YYYYMMDD) → JSON [`Totals`] of that local day.
pub const DAILY: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("archive_daily");
/// (meter, YYYYMM) → JSON [`Totals`] of that local month.
pub const MONTHLY: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("archive_monthly");
/// What a day or month adds up to. Energy in Wh (0.001 kWh), integers only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub energy_wh: i64,
    /// Sharp, peak, flat, valley (meters that have the registers).
    pub bands_wh: [i64; 4],
    pub readings: u32,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.energy_wh += o.energy_wh;
        for i in 0..4 {
            self.bands_wh[i] += o.bands_wh[i];
        }
        self.readings += o.readings;
    }
    fn sub(&mut self, o: &Totals) {
        self.energy_wh -= o.energy_wh;
        for i in 0..4 {
            self.bands_wh[i] -= o.bands_wh[i];
        }
        self.readings = self.readings.saturating_sub(o.readings);
    }
}

fn base_of(r: &Reading) -> Base {
    Base {
        at_ms: r.at_ms(),
        total_wh: r.total.0,
        bands_wh: r.bands.map(|b| b.map(|w| w.0)),
    }
}

pub fn day_key(d: Date) -> u32 {
    (d.year() as u32) * 10_000 + (d.month() as u32) * 100 + d.day() as u32
}

pub fn month_key(d: Date) -> u32 {
    (d.year() as u32) * 100 + d.month() as u32
}

fn date_of_key(k: u32) -> Option<Date> {
    Date::new(
        (k / 10_000) as i16,
        ((k / 100) % 100) as i8,
        (k % 100) as i8,
    )
    .ok()
}

fn local_date(ms: i64, tz: &TimeZone) -> Option<Date> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned_datetime(tz.clone()).date())
}

fn time_err(why: String) -> StoreError {
    StoreError::Corrupt {
        table: "archive",
        why,
    }
}

/// Start of local day `d` in ms.
pub fn day_start_ms(d: Date, tz: &TimeZone) -> Result<i64, StoreError> {
    d.to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| time_err(format!("day {d}: {e}")))
}

fn next_day(d: Date) -> Result<Date, StoreError> {
    d.checked_add(1.day())
        .map_err(|e| time_err(format!("day after {d}: {e}")))
}

/// Per-day totals of `readings` (oldest first) after `prev`; returns them and the new base.
pub fn fold<'a>(
    mut prev: Option<Base>,
    readings: impl IntoIterator<Item = &'a Reading>,
    tz: &TimeZone,
) -> (BTreeMap<Date, Totals>, Option<Base>) {
    let mut out: BTreeMap<Date, Totals> = BTreeMap::new();
    for r in readings {
        let day = r.at.to_zoned_datetime(tz.clone()).date();
        let t = out.entry(day).or_default();
        t.readings += 1;
        if let Some(p) = prev
            && !r.rollback
            && r.total.0 >= p.total_wh
        {
            t.energy_wh += r.total.0 - p.total_wh;
            if let (Some(pb), Some(rb)) = (p.bands_wh, r.bands) {
                for i in 0..4 {
                    t.bands_wh[i] += (rb[i].0 - pb[i]).max(0);
                }
            }
        }
        prev = Some(base_of(r));
    }
    (out, prev)
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub readings: usize,
    pub days_recomputed: usize,
    pub transactions: usize,
}

fn add_rows(
    txn: &redb::WriteTransaction,
    meter: &str,
    days: &BTreeMap<Date, Totals>,
    sign_negative: bool,
) -> Result<(), StoreError> {
    let mut daily = txn.open_table(DAILY)?;
    let mut monthly = txn.open_table(MONTHLY)?;
    let mut months: BTreeMap<u32, Totals> = BTreeMap::new();
    for (d, t) in days {
        let k = (meter, day_key(*d));
        let mut row: Totals = match daily.get(k)? {
            Some(v) => decode("archive_daily", v.value())?,
            None => Totals::default(),
        };
        if sign_negative {
            row.sub(t);
        } else {
            row.add(t);
        }
        daily.insert(k, encode(&row).as_slice())?;
        months.entry(month_key(*d)).or_default().add(t);
    }
    for (m, t) in months {
        let k = (meter, m);
        let mut row: Totals = match monthly.get(k)? {
            Some(v) => decode("archive_monthly", v.value())?,
            None => Totals::default(),
        };
        if sign_negative {
            row.sub(&t);
        } else {
            row.add(&t);
        }
        monthly.insert(k, encode(&row).as_slice())?;
    }
    Ok(())
}

/// Rolls up to `batch` readings of `meter` before `cutoff_ms` in one write transaction.
/// Returns how many it rolled (fewer than `batch`: the meter is done).
fn roll_meter(
    store: &Store,
    meter: &str,
    cutoff_ms: i64,
    tz: &TimeZone,
    batch: usize,
) -> Result<usize, StoreError> {
    let (meter, tz) = (meter.to_string(), tz.clone());
    store.write(move |txn| {
        let mark = get_mark(&txn.open_table(MARKS)?, &meter)?;
        let from = mark.and_then(|m| m.last).map_or(i64::MIN, |b| b.at_ms + 1);
        let rs: Vec<Reading> = {
            let t = txn.open_table(READINGS)?;
            let mut v = Vec::new();
            for row in t
                .range((meter.as_str(), from)..(meter.as_str(), cutoff_ms))?
                .take(batch)
            {
                v.push({
                    let (k, v) = row?;
                    readings::from_row(k.value(), v.value())?
                });
            }
            v
        };
        let exhausted = rs.len() < batch;
        let (days, last) = fold(mark.and_then(|m| m.last), &rs, &tz);
        add_rows(txn, &meter, &days, false)?;
        let until_ms = if exhausted {
            cutoff_ms
        } else {
            last.map_or(cutoff_ms, |b| b.at_ms + 1)
        };
        // The mark only moves forward (a pass with an older cutoff changes nothing).
        let until_ms = until_ms.max(mark.map_or(i64::MIN, |m| m.until_ms));
        txn.open_table(MARKS)?
            .insert(meter.as_str(), encode(&Mark { last, until_ms }).as_slice())?;
        Ok(rs.len())
    })
}

/// Recomputes `meter`'s day `d` from raw readings (the part of it before the mark's
/// `until`) and corrects the day and month rows by the difference.
fn recompute_day(
    txn: &redb::WriteTransaction,
    meter: &str,
    d: Date,
    until_ms: i64,
    tz: &TimeZone,
) -> Result<bool, StoreError> {
    let start = day_start_ms(d, tz)?;
    let end = day_start_ms(next_day(d)?, tz)?.min(until_ms);
    if end <= start {
        return Ok(false);
    }
    let (prev, rs) = {
        let t = txn.open_table(READINGS)?;
        let prev: Option<Reading> = match t.range((meter, i64::MIN)..(meter, start))?.next_back() {
            Some(row) => Some({
                let (k, v) = row?;
                readings::from_row(k.value(), v.value())?
            }),
            None => None,
        };
        let mut rs: Vec<Reading> = Vec::new();
        for row in t.range((meter, start)..(meter, end))? {
            rs.push({
                let (k, v) = row?;
                readings::from_row(k.value(), v.value())?
            });
        }
        (prev, rs)
    };
    let (days, _) = fold(prev.as_ref().map(base_of), &rs, tz);
    let new = days.get(&d).copied().unwrap_or_default();
    let old: Totals = match txn.open_table(DAILY)?.get((meter, day_key(d)))? {
        Some(v) => decode("archive_daily", v.value())?,
        None => Totals::default(),
    };
    if new == old {
        return Ok(false);
    }
    // Replace the day; move the month by the difference, field by field.
    txn.open_table(DAILY)?
        .insert((meter, day_key(d)), encode(&new).as_slice())?;
    let mut monthly = txn.open_table(MONTHLY)?;
    let mk = (meter, month_key(d));
    let mut m: Totals = match monthly.get(mk)? {
        Some(v) => decode("archive_monthly", v.value())?,
        None => Totals::default(),
    };
    m.energy_wh += new.energy_wh - old.energy_wh;
    for i in 0..4 {
        m.bands_wh[i] += new.bands_wh[i] - old.bands_wh[i];
    }
    m.readings =
        (i64::from(m.readings) + i64::from(new.readings) - i64::from(old.readings)).max(0) as u32;
    monthly.insert(mk, encode(&m).as_slice())?;
    Ok(true)
}

/// Handles the late readings recorded since the last pass.
fn redo_late(store: &Store, tz: &TimeZone) -> Result<usize, StoreError> {
    let late: Vec<(String, i64)> = {
        let txn = store.db().begin_read()?;
        match txn.open_table(LATE) {
            Ok(t) => {
                let mut v = Vec::new();
                for row in t.iter()? {
                    let (k, _) = row?;
                    let (m, ms) = k.value();
                    v.push((m.to_string(), ms));
                }
                v
            }
            Err(TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        }
    };
    let mut days_done = 0;
    for (meter, ms) in late {
        let tz = tz.clone();
        days_done += store.write(move |txn| {
            let mut done = 0;
            let mark = get_mark(&txn.open_table(MARKS)?, &meter)?;
            let next_ms: Option<i64> = {
                let t = txn.open_table(READINGS)?;
                let next = t
                    .range((meter.as_str(), ms + 1)..(meter.as_str(), i64::MAX))?
                    .next();
                match next {
                    Some(row) => Some(row?.0.value().1),
                    None => None,
                }
            };
            if let Some(m) = mark {
                let mut days = BTreeSet::new();
                days.extend(local_date(ms, &tz));
                days.extend(next_ms.and_then(|n| local_date(n, &tz)));
                for d in days {
                    if recompute_day(txn, &meter, d, m.until_ms, &tz)? {
                        done += 1;
                    }
                }
            }
            txn.open_table(LATE)?.remove((meter.as_str(), ms))?;
            Ok::<_, StoreError>(done)
        })?;
    }
    Ok(days_done)
}

/// One rollup pass at `now`: late readings first, then every meter's readings before the
/// start of the current local day, `batch` readings per write transaction.
pub fn roll_up(store: &Store, now: Timestamp, batch: usize) -> Result<PassReport, ArchiveError> {
    let tz = repo::defaults(store)?.tz();
    let batch = batch.max(1);
    let mut report = PassReport {
        days_recomputed: redo_late(store, &tz)?,
        ..Default::default()
    };
    let today = now.to_zoned_datetime(tz.clone()).date();
    let cutoff_ms = day_start_ms(today, &tz)?;
    let mut meters: BTreeSet<String> = repo::list_meters(store)?
        .into_iter()
        .map(|m| m.id.to_string())
        .collect();
    {
        let txn = store.db().begin_read()?;
        if let Ok(t) = txn.open_table(MARKS) {
            for row in t.iter()? {
                meters.insert(row?.0.value().to_string());
            }
        }
    }
    for m in &meters {
        loop {
            let n = roll_meter(store, m, cutoff_ms, &tz, batch)?;
            report.readings += n;
            report.transactions += 1;
            if n < batch {
                break;
            }
        }
    }
    Ok(report)
}

/// Energy per local day of `meter` for the days `from..=to`: rolled-up days from the day
/// rows, the rest (today, anything not rolled up yet) from the raw readings — the same
/// rule either way.
pub fn daily_energy_in(
    txn: &ReadTransaction,
    meter: &str,
    from: Date,
    to: Date,
    tz: &TimeZone,
) -> Result<BTreeMap<Date, i64>, StoreError> {
    let until = mark_in_read(txn, meter)?.map_or(i64::MIN, |m| m.until_ms);
    let mut out = BTreeMap::new();
    // The first day not wholly rolled up.
    let mut raw_from = from;
    if until > i64::MIN {
        if let Ok(t) = txn.open_table(DAILY) {
            for row in t.range((meter, day_key(from))..=(meter, day_key(to)))? {
                let (k, v) = row?;
                let Some(d) = date_of_key(k.value().1) else {
                    continue;
                };
                if day_start_ms(next_day(d)?, tz)? <= until {
                    let t: Totals = decode("archive_daily", v.value())?;
                    out.insert(d, t.energy_wh);
                }
            }
        }
        while raw_from <= to && day_start_ms(next_day(raw_from)?, tz)? <= until {
            raw_from = next_day(raw_from)?;
        }
    }
    if raw_from > to {
        return Ok(out);
    }
    let start = day_start_ms(raw_from, tz)?;
    let end = day_start_ms(next_day(to)?, tz)?;
    let t = match txn.open_table(READINGS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(out),
        Err(e) => return Err(e.into()),
    };
    let prev: Option<Reading> = match t.range((meter, i64::MIN)..(meter, start))?.next_back() {
        Some(row) => Some({
            let (k, v) = row?;
            readings::from_row(k.value(), v.value())?
        }),
        None => None,
    };
    let mut rs = Vec::new();
    for row in t.range((meter, start)..(meter, end))? {
        rs.push({
            let (k, v) = row?;
            readings::from_row(k.value(), v.value())?
        });
    }
    let (days, _) = fold(prev.as_ref().map(base_of), &rs, tz);
    // Days from `raw_from` on are not in `out` yet: no day is counted twice.
    for (d, t) in days {
        out.insert(d, t.energy_wh);
    }
    Ok(out)
}

/// The month rows of `meter` for months `from..=to` (YYYYMM keys).
pub fn monthly_in(
    txn: &ReadTransaction,
    meter: &str,
    from: u32,
    to: u32,
) -> Result<BTreeMap<u32, Totals>, StoreError> {
    let mut out = BTreeMap::new();
    if let Ok(t) = txn.open_table(MONTHLY) {
        for row in t.range((meter, from)..=(meter, to))? {
            let (k, v) = row?;
            out.insert(k.value().1, decode("archive_monthly", v.value())?);
        }
    }
    Ok(out)
}
