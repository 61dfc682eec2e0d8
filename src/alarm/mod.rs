//! Alarms: balance level 1 / level 2 / arrears, overload, meter and gateway offline,
//! register rollback, credit mismatch, balance drift, not self-tripped ([`model`]); the
//! book of active alarms and history with acknowledgement ([`book`]); the engine that
//! raises and clears them once per crossing ([`engine`]); SMS to tenants ([`sms`]).

pub mod book;
pub mod engine;
pub mod model;
pub mod sms;

pub use model::{Alarm, AlarmKind};
