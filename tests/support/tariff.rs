//! Tariff and reading data shared by the tariff, report and archival tests.

use voltvend::field::readings::Reading;
use voltvend::site::MeterId;
use voltvend::tariff::Band;
use voltvend::units::Wh;

/// The time-of-use day of the tests (Shanghai's commercial schedule): valley until 06:00,
/// flat 06–08, peak 08–11, sharp 11–13, flat 13–18, peak 18–22, valley from 22:00.
pub const TOU_DAY: &[(&str, Band)] = &[
    ("06:00", Band::Flat),
    ("08:00", Band::Peak),
    ("11:00", Band::Sharp),
    ("13:00", Band::Flat),
    ("18:00", Band::Peak),
    ("22:00", Band::Valley),
];

/// A reading of `wh` on the register of `meter` at `at`, drawing 100 W, nothing else read.
pub fn reading(meter: &str, at: jiff::Timestamp, wh: i64, rollback: bool) -> Reading {
    Reading {
        meter: MeterId::new(meter),
        at,
        total: Wh(wh),
        bands: None,
        voltage_dv: vec![],
        current_ma: vec![],
        power_w: Some(100),
        balance: None,
        purchase_count: None,
        relay: None,
        rollback,
    }
}
