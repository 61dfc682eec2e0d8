//! What an alarm is: its kind, what it is about, and the balance levels (pure).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::units::Fen;

/// The kinds of alarm (报警类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// Balance at or below the level-1 amount (一级报警).
    Level1,
    /// Balance at or below the level-2 amount (二级报警).
    Level2,
    /// Balance at or below zero (欠费): the third level; host-mode meters are tripped.
    Arrears,
    Overload,
    MeterOffline,
    GatewayOffline,
    /// The energy register read lower than before (meter replaced or reset).
    RegisterRollback,
    CreditMismatch,
    BalanceDrift,
    /// Meter mode: at or below zero but the meter did not trip itself.
    NotSelfTripped,
    /// A reading that was not charged until staff accept or reject it (`field::suspect`);
    /// cleared when no suspect reading of the meter is pending.
    SuspectReading,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 11] = [
        AlarmKind::Level1,
        AlarmKind::Level2,
        AlarmKind::Arrears,
        AlarmKind::Overload,
        AlarmKind::MeterOffline,
        AlarmKind::GatewayOffline,
        AlarmKind::RegisterRollback,
        AlarmKind::CreditMismatch,
        AlarmKind::BalanceDrift,
        AlarmKind::NotSelfTripped,
        AlarmKind::SuspectReading,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Level1 => "level1",
            AlarmKind::Level2 => "level2",
            AlarmKind::Arrears => "arrears",
            AlarmKind::Overload => "overload",
            AlarmKind::MeterOffline => "meter_offline",
            AlarmKind::GatewayOffline => "gateway_offline",
            AlarmKind::RegisterRollback => "register_rollback",
            AlarmKind::CreditMismatch => "credit_mismatch",
            AlarmKind::BalanceDrift => "balance_drift",
            AlarmKind::NotSelfTripped => "not_self_tripped",
            AlarmKind::SuspectReading => "suspect_reading",
        }
    }

    pub fn parse(text: &str) -> Option<AlarmKind> {
        AlarmKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Alarms of a moment rather than a state (no condition ends them): they stay active
    /// until an operator acknowledges them.
    pub fn cleared_by_ack(self) -> bool {
        matches!(
            self,
            AlarmKind::RegisterRollback | AlarmKind::NotSelfTripped
        )
    }

    pub fn is_balance(self) -> bool {
        matches!(
            self,
            AlarmKind::Level1 | AlarmKind::Level2 | AlarmKind::Arrears
        )
    }
}

/// What an alarm is about: `tenant:T0001`, `meter:310000000001`, `gateway:GW1`.
pub type Subject = String;

/// One alarm, from raised to cleared; kept for ever as history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub id: u64,
    pub kind: AlarmKind,
    pub subject: Subject,
    pub raised_at: Timestamp,
    /// The figure that raised it: balance in fen, power in W, …
    pub value: Option<i64>,
    pub detail: String,
    pub acked_by: Option<String>,
    pub acked_at: Option<Timestamp>,
    pub cleared_at: Option<Timestamp>,
    /// Last time an SMS went out for it (tenant balance alarms; `repeat_every`).
    pub last_sms_at: Option<Timestamp>,
}

impl Alarm {
    pub fn is_active(&self) -> bool {
        self.cleared_at.is_none()
    }
}

/// The balance alarm a tenant is in: the lowest level reached (levels do not stack).
pub fn balance_level(balance: Fen, level1: Fen, level2: Fen) -> Option<AlarmKind> {
    if crate::ledger::arrears::in_arrears(balance) {
        Some(AlarmKind::Arrears)
    } else if balance <= level2 {
        Some(AlarmKind::Level2)
    } else if balance <= level1 {
        Some(AlarmKind::Level1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_inclusive_and_do_not_stack() {
        let l = |b| balance_level(Fen(b), Fen(10_000), Fen(3_000));
        assert_eq!(l(10_001), None);
        assert_eq!(l(10_000), Some(AlarmKind::Level1));
        assert_eq!(l(3_001), Some(AlarmKind::Level1));
        assert_eq!(l(3_000), Some(AlarmKind::Level2));
        assert_eq!(l(1), Some(AlarmKind::Level2));
        assert_eq!(l(0), Some(AlarmKind::Arrears));
        assert_eq!(l(-500), Some(AlarmKind::Arrears));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in AlarmKind::ALL {
            assert_eq!(AlarmKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AlarmKind::parse("nope"), None);
    }
}
