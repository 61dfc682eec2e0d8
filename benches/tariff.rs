//! How long one consumption charge takes to price: `cargo bench --bench tariff`.
//! A site with 2,000 meters read every 30 minutes prices about 1.1 readings per second, so
//! anything under a millisecond is plenty; this keeps an eye on regressions.

// The tariffs of the known-answer tests, so the bench prices the same ones.
#[allow(dead_code)]
#[path = "../tests/support/tariff.rs"]
mod test_tariff;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::hint::black_box;
use voltvend::tariff::{self, EffectiveTariff, Tariff, Usage};
use voltvend::units::Wh;

fn bench(c: &mut Criterion) {
    let tz = TimeZone::get("Asia/Shanghai").unwrap();
    let flat = EffectiveTariff::single(Tariff::Flat {
        price: test_tariff::price("0.8523"),
    });
    let tou = EffectiveTariff::single(test_tariff::tou());
    let tiered = test_tariff::tiered();
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
