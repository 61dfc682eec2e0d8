//! Tariff and reading data shared by the tariff, report and archival tests.

use voltvend::field::readings::Reading;
use voltvend::site::MeterId;
use voltvend::tariff::{Band, DaySchedule, EffectiveTariff, Tariff, Tier, TouPrices};
use voltvend::units::{Price, Wh};

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

pub fn price(yuan_per_kwh: &str) -> Price {
    Price::parse_yuan_per_kwh(yuan_per_kwh).expect("test price")
}

/// Three tiers: 0–200 kWh at 0.5283, 200–400 kWh at 0.5783, above at 0.8283.
pub fn tiered() -> EffectiveTariff {
    EffectiveTariff::single(Tariff::Tiered {
        tiers: vec![
            Tier {
                up_to: Some(Wh(200_000)),
                price: price("0.5283"),
            },
            Tier {
                up_to: Some(Wh(400_000)),
                price: price("0.5783"),
            },
            Tier {
                up_to: None,
                price: price("0.8283"),
            },
        ],
    })
}

/// sharp 1.2, peak 1.0, flat 0.6, valley 0.3 yuan/kWh;
/// 06:00 flat, 08:00 peak, 11:00 sharp, 13:00 flat, 18:00 peak, 22:00 valley (to 06:00).
pub fn tou() -> Tariff {
    Tariff::TimeOfUse {
        prices: TouPrices {
            sharp: price("1.2"),
            peak: price("1.0"),
            flat: price("0.6"),
            valley: price("0.3"),
        },
        schedule: DaySchedule::from_pairs(TOU_DAY).expect("schedule"),
    }
}

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
