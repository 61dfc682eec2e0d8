//! Removal of old raw readings, in small batches.
//!
//! A reading is removed only when all of these hold: it is older than the retention, its
//! whole day is rolled up (before the start of the day holding the meter's rollup mark),
//! and it is not the meter's latest reading (the next consumption charge is taken from
//! it, however old). Each [`prune_step`] deletes at most `batch` readings in one short
//! write transaction and returns; the daemon pauses between steps, so the collector's
//! writes wait at most one small transaction.

use jiff::Timestamp;
use redb::{ReadableTable, TableError};

use super::ArchiveError;
use super::rollup::day_start_ms;
use crate::field::readings::READINGS;
use crate::field::readings::mark::{MARKS, Mark};
use crate::site::repo;
use crate::store::{Store, decode};

/// Deletes up to `batch` removable readings (oldest of each meter first, meters in id
/// order) with the retention counted back from `now`. Returns how many it deleted; 0 when
/// nothing is left to remove.
pub fn prune_step(
    store: &Store,
    now: Timestamp,
    retention: std::time::Duration,
    batch: usize,
) -> Result<usize, ArchiveError> {
    let tz = repo::defaults(store)?.tz();
    let keep_from = now.as_millisecond() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    store.write(move |txn| {
        let marks: Vec<(String, Mark)> = {
            let t = match txn.open_table(MARKS) {
                Ok(t) => t,
                Err(TableError::TableDoesNotExist(_)) => return Ok(0),
                Err(e) => return Err(e.into()),
            };
            let mut v = Vec::new();
            for row in t.iter()? {
                let (k, val) = row?;
                v.push((k.value().to_string(), decode("archive_marks", val.value())?));
            }
            v
        };
        let mut doomed: Vec<(String, i64)> = Vec::new();
        {
            let t = txn.open_table(READINGS)?;
            for (meter, mark) in &marks {
                if doomed.len() >= batch {
                    break;
                }
                let Some(until) = jiff::Timestamp::from_millisecond(mark.until_ms).ok() else {
                    continue;
                };
                // Only whole rolled-up days.
                let rolled_days_end =
                    day_start_ms(until.to_zoned_datetime(tz.clone()).date(), &tz)?;
                let latest = match t
                    .range((meter.as_str(), i64::MIN)..=(meter.as_str(), i64::MAX))?
                    .next_back()
                {
                    Some(row) => row?.0.value().1,
                    None => continue,
                };
                let bound = keep_from.min(rolled_days_end).min(latest);
                for row in t
                    .range((meter.as_str(), i64::MIN)..(meter.as_str(), bound))?
                    .take(batch - doomed.len())
                {
                    doomed.push((meter.clone(), row?.0.value().1));
                }
            }
        }
        {
            let mut t = txn.open_table(READINGS)?;
            for (m, ms) in &doomed {
                t.remove((m.as_str(), *ms))?;
            }
        }
        Ok(doomed.len())
    })
}
