//! The SMS outbox in redb: a message is queued in the transaction that raised its alarm,
//! waits out quiet hours, is retried with backoff, and ends sent or failed (with the
//! modem's reason). Staff see every message and its state.

use jiff::Timestamp;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, decode, encode};

/// id → JSON [`SmsMessage`].
pub const SMS: TableDefinition<u64, &[u8]> = TableDefinition::new("sms_queue");
const SMS_META: TableDefinition<&str, u64> = TableDefinition::new("sms_meta");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum SmsState {
    Queued,
    Sent,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    pub id: u64,
    pub to: String,
    pub text: String,
    /// The alarm it tells of, if any.
    pub alarm: Option<u64>,
    pub created: Timestamp,
    /// Not before this (quiet hours, backoff).
    pub not_before: Timestamp,
    pub state: SmsState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    /// PDUs (concatenated parts) the message took.
    pub parts: u32,
}

/// Queues a message inside `txn`; returns its id.
pub fn enqueue_in(
    txn: &WriteTransaction,
    to: &str,
    text: &str,
    alarm: Option<u64>,
    now: Timestamp,
    not_before: Timestamp,
) -> Result<u64, StoreError> {
    let id = {
        let mut meta = txn.open_table(SMS_META)?;
        let id = meta.get("next_id")?.map_or(1, |v| v.value());
        meta.insert("next_id", id + 1)?;
        id
    };
    let m = SmsMessage {
        id,
        to: to.to_string(),
        text: text.to_string(),
        alarm,
        created: now,
        not_before,
        state: SmsState::Queued,
        attempts: 0,
        last_error: None,
        sent_at: None,
        parts: 0,
    };
    txn.open_table(SMS)?.insert(id, encode(&m).as_slice())?;
    Ok(id)
}

/// Every message, oldest first.
pub fn list(store: &Store) -> Result<Vec<SmsMessage>, StoreError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(SMS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        out.push(decode("sms_queue", row?.1.value())?);
    }
    Ok(out)
}

/// Queued messages whose time has come.
pub fn due(store: &Store, now: Timestamp) -> Result<Vec<SmsMessage>, StoreError> {
    Ok(list(store)?
        .into_iter()
        .filter(|m| m.state == SmsState::Queued && m.not_before <= now)
        .collect())
}

/// Applies `f` to message `id` on the store writer (`Fn`: the writer may run it twice).
async fn update(
    store: &Store,
    id: u64,
    f: impl Fn(&mut SmsMessage) + Send + 'static,
) -> Result<(), StoreError> {
    store
        .write_async(move |txn| {
            let mut t = txn.open_table(SMS)?;
            let current: Option<SmsMessage> = t
                .get(id)?
                .map(|v| decode("sms_queue", v.value()))
                .transpose()?;
            if let Some(mut m) = current {
                f(&mut m);
                t.insert(id, encode(&m).as_slice())?;
            }
            Ok(())
        })
        .await
}

pub async fn mark_sent(
    store: &Store,
    id: u64,
    at: Timestamp,
    parts: u32,
) -> Result<(), StoreError> {
    update(store, id, move |m| {
        m.state = SmsState::Sent;
        m.sent_at = Some(at);
        m.attempts += 1;
        m.parts = parts;
    })
    .await
}

/// A failed attempt: retried after `backoff` × 2^(attempts−1), failed after `max_attempts`.
pub async fn mark_failed_attempt(
    store: &Store,
    id: u64,
    why: &str,
    now: Timestamp,
    max_attempts: u32,
    backoff: std::time::Duration,
) -> Result<(), StoreError> {
    let why = why.to_string();
    update(store, id, move |m| {
        m.attempts += 1;
        m.last_error = Some(why.clone());
        if m.attempts >= max_attempts {
            m.state = SmsState::Failed(why.clone());
        } else {
            let wait = backoff.saturating_mul(1 << (m.attempts - 1).min(10));
            m.not_before =
                now + jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::ZERO);
        }
    })
    .await
}

/// The end of the quiet window (site time) if `now` falls in it, else `now`.
/// `window` is `(start, end)` as minutes after midnight; it may wrap midnight.
pub fn after_quiet_hours(
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
    window: Option<(u16, u16)>,
) -> Timestamp {
    let Some((start, end)) = window else {
        return now;
    };
    if start == end {
        return now;
    }
    let local = now.to_zoned_datetime(tz.clone());
    let minute =
        u16::try_from(local.hour()).unwrap_or(0) * 60 + u16::try_from(local.minute()).unwrap_or(0);
    let inside = if start < end {
        minute >= start && minute < end
    } else {
        minute >= start || minute < end
    };
    if !inside {
        return now;
    }
    // Minutes until `end`, crossing midnight if needed.
    let until = (i64::from(end) - i64::from(minute)).rem_euclid(24 * 60);
    let target = local
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .map(|z| z.timestamp())
        .unwrap_or(now);
    target + jiff::SignedDuration::from_mins(until)
}

/// Parses `HH:MM-HH:MM` (empty = no quiet hours).
pub fn parse_quiet_hours(text: &str) -> Result<Option<(u16, u16)>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let hm = |s: &str| -> Result<u16, String> {
        let (h, m) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not HH:MM"))?;
        let h: u16 = h.parse().map_err(|_| format!("'{s}' is not HH:MM"))?;
        let m: u16 = m.parse().map_err(|_| format!("'{s}' is not HH:MM"))?;
        if h > 23 || m > 59 {
            return Err(format!("'{s}' is not a time of day"));
        }
        Ok(h * 60 + m)
    };
    let (a, b) = t
        .split_once('-')
        .ok_or_else(|| format!("'{t}' is not HH:MM-HH:MM"))?;
    Ok(Some((hm(a)?, hm(b)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let w = parse_quiet_hours("22:00-07:00").unwrap();
        // 23:30 local (15:30Z) → 07:00 local next day (23:00Z).
        let at: Timestamp = "2026-11-24T15:30:00Z".parse().unwrap();
        assert_eq!(
            after_quiet_hours(at, &tz, w).to_string(),
            "2026-11-24T23:00:00Z"
        );
        // 06:59 local → 07:00 local.
        let at: Timestamp = "2026-11-24T22:59:00Z".parse().unwrap();
        assert_eq!(
            after_quiet_hours(at, &tz, w).to_string(),
            "2026-11-24T23:00:00Z"
        );
        // 12:00 local: not quiet.
        let at: Timestamp = "2026-11-24T04:00:00Z".parse().unwrap();
        assert_eq!(after_quiet_hours(at, &tz, w), at);
        assert_eq!(after_quiet_hours(at, &tz, None), at);
        assert!(parse_quiet_hours("25:00-07:00").is_err());
        assert!(parse_quiet_hours("22:00").is_err());
        assert_eq!(parse_quiet_hours(" ").unwrap(), None);
    }
}
