//! How long one consumption charge takes to price: `cargo bench --bench tariff`.
//! A site with 2,000 meters read every 30 minutes prices about 1.1 readings per second, so
//! anything under a millisecond is plenty; this keeps an eye on regressions.

// The time-of-use day of the tests, so the bench prices the same day.
#[allow(dead_code)]
#[path = "../tests/support/tariff.rs"]
mod test_tariff;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::hint::black_box;
use voltvend::tariff::{self, DaySchedule, EffectiveTariff, Tariff, Tier, TouPrices, Usage};
use voltvend::units::{Price, Wh};

fn price(s: &str) -> Price {
    Price::parse_yuan_per_kwh(s).unwrap()
}

fn bench(c: &mut Criterion) {
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    let flat = EffectiveTariff::single(Tariff::Flat {
        price: price("0.8523"),
    });
    let tou = EffectiveTariff::single(Tariff::TimeOfUse {
        prices: TouPrices {
            sharp: price("1.2"),
            peak: price("1.0"),
            flat: price("0.6"),
            valley: price("0.3"),
        },
        schedule: DaySchedule::from_pairs(test_tariff::TOU_DAY).unwrap(),
    });
    let tiered = EffectiveTariff::single(Tariff::Tiered {
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
    });
    let ts = |s: &str| s.parse::<Timestamp>().unwrap();
    let half_hour = Usage::total(
        ts("2026-03-10T10:00:00+08:00"),
        ts("2026-03-10T10:30:00+08:00"),
        Wh(1234),
    );
    let across_band = Usage::total(
        ts("2026-03-10T10:45:00+08:00"),
        ts("2026-03-10T11:15:00+08:00"),
        Wh(1234),
    );
    let whole_day = Usage::total(
        ts("2026-03-10T00:00:00+08:00"),
        ts("2026-03-11T00:00:00+08:00"),
        Wh(50_000),
    );
    c.bench_function("tariff flat, 30 min", |b| {
        b.iter(|| tariff::cost(black_box(&flat), black_box(&half_hour), Wh::ZERO, &tz))
    });
    c.bench_function("tariff tiered, 30 min across a tier bound", |b| {
        b.iter(|| tariff::cost(black_box(&tiered), black_box(&half_hour), Wh(199_500), &tz))
    });
    c.bench_function("tariff TOU, 30 min across a band change", |b| {
        b.iter(|| tariff::cost(black_box(&tou), black_box(&across_band), Wh::ZERO, &tz))
    });
    c.bench_function("tariff TOU, one whole day", |b| {
        b.iter(|| tariff::cost(black_box(&tou), black_box(&whole_day), Wh::ZERO, &tz))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
