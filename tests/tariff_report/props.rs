//! Properties of the charge over random tariffs and intervals: the apportioned parts add
//! up to the energy and the cost, and using more energy never costs less.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use voltvend::tariff::{self, Band, DaySchedule, EffectiveTariff, Tariff, Tier, TouPrices, Usage};
use voltvend::units::{Price, Wh};

use crate::support::tariff::TOU_DAY;
use crate::support::time::shanghai;

const SCHEDULES: &[&[(&str, Band)]] = &[
    TOU_DAY,
    &[
        ("00:00", Band::Valley),
        ("08:00", Band::Flat),
        ("23:00", Band::Peak),
    ],
    &[
        ("07:13", Band::Sharp),
        ("07:14", Band::Valley),
        ("19:59", Band::Peak),
    ],
    &[("12:00", Band::Flat)],
];

fn any_price() -> impl Strategy<Value = Price> {
    (0i64..3_000_000).prop_map(Price)
}

fn any_tariff() -> impl Strategy<Value = Tariff> {
    prop_oneof![
        any_price().prop_map(|price| Tariff::Flat { price }),
        (
            proptest::collection::vec((1i64..300_000, any_price()), 0..4),
            any_price()
        )
            .prop_map(|(steps, last)| {
                let mut bound = 0;
                let mut tiers: Vec<Tier> = steps
                    .into_iter()
                    .map(|(step, price)| {
                        bound += step;
                        Tier {
                            up_to: Some(Wh(bound)),
                            price,
                        }
                    })
                    .collect();
                tiers.push(Tier {
                    up_to: None,
                    price: last,
                });
                Tariff::Tiered { tiers }
            }),
        (
            [any_price(), any_price(), any_price(), any_price()],
            0..SCHEDULES.len()
        )
            .prop_map(|(p, s)| Tariff::TimeOfUse {
                prices: TouPrices {
                    sharp: p[0],
                    peak: p[1],
                    flat: p[2],
                    valley: p[3],
                },
                schedule: DaySchedule::from_pairs(SCHEDULES[s]).unwrap(),
            }),
    ]
}

/// Intervals up to two days long near the end of March 2026 (month starts, midnights) or
/// around New York's 2026 DST changes (a gap on Mar 8, a fold on Nov 1).
fn any_interval() -> impl Strategy<Value = (Timestamp, Timestamp)> {
    let bases: Vec<i64> = [
        "2026-03-30T00:00:00+08:00",
        "2026-03-07T00:00:00-05:00",
        "2026-10-31T00:00:00-04:00",
    ]
    .iter()
    .map(|s| s.parse::<Timestamp>().unwrap().as_second())
    .collect();
    (0..bases.len(), 0i64..4 * 86_400, 0i64..2 * 86_400).prop_map(move |(b, off, len)| {
        (
            Timestamp::from_second(bases[b] + off).unwrap(),
            Timestamp::from_second(bases[b] + off + len).unwrap(),
        )
    })
}

/// One or two versions; the second starts somewhere in the same window.
fn any_effective() -> impl Strategy<Value = EffectiveTariff> {
    let base = "2026-03-30T00:00:00+08:00"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    (
        any_tariff(),
        proptest::option::of((any_tariff(), 1i64..4 * 86_400)),
    )
        .prop_map(move |(first, second)| {
            let mut v = vec![(Timestamp::from_second(base - 86_400).unwrap(), first)];
            if let Some((t, off)) = second {
                v.push((Timestamp::from_second(base + off).unwrap(), t));
            }
            EffectiveTariff::new(v).unwrap()
        })
}

fn zones() -> [TimeZone; 3] {
    [
        shanghai(),
        TimeZone::UTC,
        TimeZone::get("America/New_York").unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..crate::support::prop::config() })]

    #[test]
    fn parts_add_up_to_the_energy_and_the_cost(
        t in any_effective(),
        (from, to) in any_interval(),
        energy in 0i64..50_000_000,
        mtd in 0i64..1_000_000,
        zone in 0usize..3,
    ) {
        let tz = &zones()[zone];
        let c = tariff::charge(&t, &Usage::total(from, to, Wh(energy)), Wh(mtd), tz).unwrap();
        prop_assert_eq!(c.parts.iter().map(|p| p.energy.0).sum::<i64>(), energy);
        prop_assert_eq!(c.parts.iter().map(|p| p.cost.0).sum::<i128>(), c.cost.0);
        for p in &c.parts {
            prop_assert_eq!(p.price.cost(p.energy), p.cost);
        }
    }

    #[test]
    fn per_band_parts_add_up_too(
        t in any_effective(),
        (from, to) in any_interval(),
        bands in [0i64..100_000, 0i64..100_000, 0i64..100_000, 0i64..100_000],
    ) {
        let tz = shanghai();
        let u = Usage::banded(from, to, bands.map(Wh));
        let c = tariff::charge(&t, &u, Wh::ZERO, &tz).unwrap();
        prop_assert_eq!(c.parts.iter().map(|p| p.energy.0).sum::<i64>(), u.total.0);
    }

    #[test]
    fn more_energy_never_costs_less(
        tariff in any_tariff(),
        (from, to) in any_interval(),
        energy in 0i64..10_000_000,
        extra in 1i64..3,
        mtd in 0i64..1_000_000,
        zone in 0usize..3,
    ) {
        let tz = &zones()[zone];
        let t = EffectiveTariff::single(tariff);
        let a = tariff::cost(&t, &Usage::total(from, to, Wh(energy)), Wh(mtd), tz).unwrap();
        let b = tariff::cost(&t, &Usage::total(from, to, Wh(energy + extra)), Wh(mtd), tz).unwrap();
        prop_assert!(b >= a, "{:?} then {:?}", a, b);
    }

    #[test]
    fn more_energy_never_costs_less_across_a_price_change(
        t in any_effective(),
        (from, to) in any_interval(),
        energy in 0i64..10_000_000,
    ) {
        // Flat and TOU versions only: every piece then has one price, which is where the
        // ordering argument in docs/tariffs.md applies.
        prop_assume!(t.versions.iter().all(|v| !matches!(v.tariff, Tariff::Tiered { .. })));
        let tz = shanghai();
        let a = tariff::cost(&t, &Usage::total(from, to, Wh(energy)), Wh::ZERO, &tz).unwrap();
        let b = tariff::cost(&t, &Usage::total(from, to, Wh(energy + 1)), Wh::ZERO, &tz).unwrap();
        prop_assert!(b >= a, "{:?} then {:?}", a, b);
    }
}
