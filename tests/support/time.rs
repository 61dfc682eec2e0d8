//! The tests' time zone and reference instant.

/// Monday 2026-06-01 10:30 in Shanghai: outside the quiet hours, in the sharp band of the
/// default schedule.
pub const T0: &str = "2026-06-01T02:30:00Z";

pub fn t0() -> jiff::Timestamp {
    T0.parse().expect("timestamp")
}

/// Asia/Shanghai, from the bundled tzdb.
pub fn shanghai() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").expect("bundled tzdb")
}
