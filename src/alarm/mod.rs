//! Alarm rules (balance level 1/2, arrears, overload, meter/gateway offline) and SMS.
pub mod sms;
