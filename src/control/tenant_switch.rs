//! Whether a tenant may switch their own meter remotely, and the record that limits how often.
//!
//! A tenant's switch is a relay operation the site did not decide, so it must never undo one
//! the site did: it is refused in arrears (the one meaning of zero, `ledger::arrears`), while
//! a rationing window (限电) holds the meter off, and for [`OVERLOAD_HOLD`] after an overload
//! trip; and every meter takes at most [`MAX_PER_HOUR`] tenant switches in an hour, because
//! each one wears the relay and the load behind it (a compressor, a water heater) is switched
//! with it. Every refusal names its reason in Chinese and English.
//!
//! The checks read the control queue's own tables; [`try_switch_in`] checks and records the
//! switch in the caller's write transaction, so two switches at once cannot both slip under
//! the limit.

use jiff::{SignedDuration, Timestamp};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::rationing::{Phase, RATIONING, Rationing};
use crate::site::MeterId;
use crate::store::{Store, StoreError, decode, encode};
use crate::units::Fen;

/// meter id → JSON [`OverloadTrip`]: the last overload trip of the meter.
pub const OVERLOAD_TRIPS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("control_overload_trips");
/// meter id → JSON list of the times of its accepted tenant switches within the last hour.
pub const TENANT_SWITCHES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("control_tenant_switches");

/// Tenant switches per meter in any hour.
pub const MAX_PER_HOUR: usize = 6;
/// How long after an overload trip the tenant may not switch the meter on again: long enough
/// for the tenant to unplug what overloaded it; staff can close it earlier.
pub const OVERLOAD_HOLD: SignedDuration = SignedDuration::from_mins(30);
const HOUR: SignedDuration = SignedDuration::from_hours(1);

/// An overload trip, as the meter watch recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverloadTrip {
    pub at: Timestamp,
    pub power_w: i64,
    pub limit_w: i64,
}

/// Why a tenant's switch is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchRefusal {
    /// `in_arrears`, `rationing`, `overload` or `rate_limited`.
    pub code: &'static str,
    pub message: String,
    pub message_en: String,
}

/// Refused in arrears (balance ≤ 0, the one meaning of zero), with or without a debt to name.
pub fn arrears_refusal(balance: Fen) -> Option<SwitchRefusal> {
    if !crate::ledger::arrears::in_arrears(balance) {
        return None;
    }
    Some(if balance < Fen::ZERO {
        SwitchRefusal {
            code: "in_arrears",
            message: format!("账户已欠费 {} 元，请先充值后再操作电表。", -balance),
            message_en: format!(
                "Your account is in arrears by ¥{}. Top up first to switch your meter.",
                -balance
            ),
        }
    } else {
        SwitchRefusal {
            code: "in_arrears",
            message: "账户余额已用完（0.00 元），请先充值后再操作电表。".into(),
            message_en: "Your balance is used up (¥0.00), so your account is in arrears. \
                         Top up first to switch your meter."
                .into(),
        }
    })
}

/// Records an overload trip of `meter` inside `txn` (the meter watch, with the trip).
pub(crate) fn record_overload_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    trip: &OverloadTrip,
) -> Result<(), StoreError> {
    txn.open_table(OVERLOAD_TRIPS)?
        .insert(meter.as_str(), encode(trip).as_slice())?;
    Ok(())
}

fn local(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The refusal of switching `meter` on (`on`) or off at `now` by the site's own reasons
/// (rationing, an overload trip, the rate limit), from the three tables given.
fn check(
    rationing: Option<&impl ReadableTable<u64, &'static [u8]>>,
    overload: Option<&impl ReadableTable<&'static str, &'static [u8]>>,
    switches: Option<&impl ReadableTable<&'static str, &'static [u8]>>,
    meter: &MeterId,
    on: bool,
    now: Timestamp,
) -> Result<Option<SwitchRefusal>, StoreError> {
    // Switching off is always safe; only switching on can undo the site's own trip.
    if on && let Some(t) = rationing {
        for row in t.iter()? {
            let r: Rationing = decode("control_rationing", row?.1.value())?;
            if r.phase == Phase::Active && r.tripped.iter().any(|(m, _)| m == meter) {
                return Ok(Some(SwitchRefusal {
                    code: "rationing",
                    message: format!(
                        "限电期间（至 {}）不能合闸：{}。限电结束后自动恢复供电。",
                        local(r.to),
                        r.reason
                    ),
                    message_en: format!(
                        "Power is rationed until {} ({}); it comes back on by itself when the \
                         rationing ends.",
                        local(r.to),
                        r.reason
                    ),
                }));
            }
        }
    }
    if on
        && let Some(t) = overload
        && let Some(v) = t.get(meter.as_str())?
    {
        let trip: OverloadTrip = decode("control_overload_trips", v.value())?;
        let until = trip.at + OVERLOAD_HOLD;
        if now < until {
            return Ok(Some(SwitchRefusal {
                code: "overload",
                message: format!(
                    "电表因超负荷（{} W，限值 {} W）已断电，{} 前不能远程合闸。请先减少用电设备，\
                     如需提前恢复请联系管理处。",
                    trip.power_w,
                    trip.limit_w,
                    local(until)
                ),
                message_en: format!(
                    "The meter was switched off for overload ({} W, limit {} W) and cannot be \
                     switched on remotely before {}. Unplug some appliances first, or ask the \
                     management office.",
                    trip.power_w,
                    trip.limit_w,
                    local(until)
                ),
            }));
        }
    }
    if let Some(t) = switches {
        let recent = recent_switches(t, meter, now)?;
        if recent.len() >= MAX_PER_HOUR {
            let next = recent.iter().min().copied().unwrap_or(now) + HOUR;
            return Ok(Some(SwitchRefusal {
                code: "rate_limited",
                message: format!(
                    "此电表一小时内最多远程开关 {MAX_PER_HOUR} 次，请于 {} 后再试。",
                    local(next)
                ),
                message_en: format!(
                    "A meter can be switched remotely at most {MAX_PER_HOUR} times an hour; \
                     try again after {}.",
                    local(next)
                ),
            }));
        }
    }
    Ok(None)
}

fn recent_switches(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    meter: &MeterId,
    now: Timestamp,
) -> Result<Vec<Timestamp>, StoreError> {
    let all: Vec<Timestamp> = match t.get(meter.as_str())? {
        Some(v) => decode("control_tenant_switches", v.value())?,
        None => Vec::new(),
    };
    Ok(all.into_iter().filter(|at| *at + HOUR > now).collect())
}

fn opened<T>(r: Result<T, TableError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Why a switch of `meter` (on or off) would be refused now, as the tenant's view shows it
/// before they try. Read only.
pub fn refusal(
    store: &Store,
    meter: &MeterId,
    on: bool,
    now: Timestamp,
) -> Result<Option<SwitchRefusal>, StoreError> {
    let txn = store.db().begin_read()?;
    check(
        opened(txn.open_table(RATIONING))?.as_ref(),
        opened(txn.open_table(OVERLOAD_TRIPS))?.as_ref(),
        opened(txn.open_table(TENANT_SWITCHES))?.as_ref(),
        meter,
        on,
        now,
    )
}

/// Checks a tenant's switch of `meter` and, when it is allowed, counts it against the rate
/// limit, inside `txn`. The caller queues the command in the same transaction.
pub fn try_switch_in(
    txn: &WriteTransaction,
    meter: &MeterId,
    on: bool,
    now: Timestamp,
) -> Result<Result<(), SwitchRefusal>, StoreError> {
    let refused = {
        let switches = txn.open_table(TENANT_SWITCHES)?;
        check(
            Some(&txn.open_table(RATIONING)?),
            Some(&txn.open_table(OVERLOAD_TRIPS)?),
            Some(&switches),
            meter,
            on,
            now,
        )?
    };
    if let Some(r) = refused {
        return Ok(Err(r));
    }
    let mut t = txn.open_table(TENANT_SWITCHES)?;
    let mut recent = recent_switches(&t, meter, now)?;
    recent.push(now);
    t.insert(meter.as_str(), encode(&recent).as_slice())?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_arrears_and_names_no_debt() {
        assert!(arrears_refusal(Fen(1)).is_none());
        let zero = arrears_refusal(Fen::ZERO).expect("refused at zero");
        assert_eq!(zero.code, "in_arrears");
        assert!(zero.message.contains("余额已用完"), "{}", zero.message);
        assert!(!zero.message.contains("欠费 0"), "{}", zero.message);
        let owed = arrears_refusal(Fen(-2_500)).expect("refused below zero");
        assert!(owed.message.contains("25.00"), "{}", owed.message);
        assert!(owed.message_en.contains("¥25.00"), "{}", owed.message_en);
    }
}
