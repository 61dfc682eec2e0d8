//! A million readings charged one by one, with the sub-fen remainder carried the way the
//! ledger carries it (`carry += cost; (fen, carry) = carry.split()`), must add up to the
//! exact total to the fen. The exact total is computed independently: energy is summed per
//! price first and multiplied once, with the band of each quarter hour taken from a plain
//! table of Shanghai clock hours (UTC+8 all year), not from the tariff code.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use voltvend::tariff::{self, DaySchedule, EffectiveTariff, Tariff, Tier, TouPrices, Usage};
use voltvend::units::{Fen, Price, SUBFEN_PER_FEN, SubFen, Wh};

use crate::support::tariff::{TOU_DAY, price};
use crate::support::time::shanghai;

/// xorshift64*: deterministic readings without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Band by Shanghai clock hour (index 0..24), matching `schedule()` below.
const BAND_BY_HOUR: [usize; 24] = [
    3, 3, 3, 3, 3, 3, // 00–06 valley
    2, 2, // 06–08 flat
    1, 1, 1, // 08–11 peak
    0, 0, // 11–13 sharp
    2, 2, 2, 2, 2, // 13–18 flat
    1, 1, 1, 1, // 18–22 peak
    3, 3, // 22–24 valley
];

fn schedule() -> DaySchedule {
    DaySchedule::from_pairs(TOU_DAY).unwrap()
}

#[test]
fn a_million_tou_readings_add_up_to_the_exact_total_to_the_fen() {
    const READINGS: i64 = 1_000_000;
    const STEP: i64 = 15 * 60;
    let tz = shanghai();
    let start = "2026-01-01T00:00:00+08:00"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    // A price change halfway through (on a quarter hour): prices with six decimals so
    // almost every reading leaves a sub-fen remainder.
    let change = start + (READINGS / 2) * STEP;
    let prices = [
        [
            price("1.234567"),
            price("0.987653"),
            price("0.612347"),
            price("0.298761"),
        ],
        [
            price("1.301579"),
            price("1.050001"),
            price("0.650003"),
            price("0.310007"),
        ],
    ];
    let tou = |p: [Price; 4]| Tariff::TimeOfUse {
        prices: TouPrices {
            sharp: p[0],
            peak: p[1],
            flat: p[2],
            valley: p[3],
        },
        schedule: schedule(),
    };
    let t = EffectiveTariff::new(vec![
        (Timestamp::from_second(start).unwrap(), tou(prices[0])),
        (Timestamp::from_second(change).unwrap(), tou(prices[1])),
    ])
    .unwrap();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut carry = SubFen::ZERO;
    let mut charged = Fen::ZERO;
    let mut truncated = Fen::ZERO; // what rounding each reading down would have charged
    let mut wh_by_price = [[0i64; 4]; 2];
    for i in 0..READINGS {
        let from = start + i * STEP;
        let energy = (rng.next() % 400) as i64;
        let usage = Usage::total(
            Timestamp::from_second(from).unwrap(),
            Timestamp::from_second(from + STEP).unwrap(),
            Wh(energy),
        );
        let cost = tariff::cost(&t, &usage, Wh::ZERO, &tz).unwrap();
        carry += cost;
        let (fen, rest) = carry.split().unwrap();
        charged += fen;
        carry = rest;
        truncated += cost.split().unwrap().0;

        let hour = ((from + 8 * 3600).rem_euclid(86_400) / 3600) as usize;
        let version = usize::from(from >= change);
        wh_by_price[version][BAND_BY_HOUR[hour]] += energy;
    }
    let mut exact: i128 = 0;
    for v in 0..2 {
        for b in 0..4 {
            exact += i128::from(wh_by_price[v][b]) * i128::from(prices[v][b].0);
        }
    }
    assert_eq!(i128::from(charged.0), exact.div_euclid(SUBFEN_PER_FEN));
    assert_eq!(carry.0, exact.rem_euclid(SUBFEN_PER_FEN));
    // The carry matters: rounding each reading down would lose about half a fen each.
    assert!(
        charged.0 - truncated.0 > READINGS / 4,
        "{charged:?} vs {truncated:?}"
    );
}

#[test]
fn tiered_readings_add_up_to_each_months_tier_bill() {
    // 200,000 half-hour readings (about 11 years). A month's tiered bill depends only on the
    // month's total, so the exact total is Σ over months of bill(month total).
    const READINGS: i64 = 200_000;
    const STEP: i64 = 30 * 60;
    let tz = shanghai();
    let tiers = vec![
        Tier {
            up_to: Some(Wh(200_000)),
            price: price("0.528301"),
        },
        Tier {
            up_to: Some(Wh(400_000)),
            price: price("0.578307"),
        },
        Tier {
            up_to: None,
            price: price("0.828311"),
        },
    ];
    let bill = |total: i64| -> i128 {
        // By hand: the parts of [0, total) inside [0,200k), [200k,400k), [400k,∞).
        let t1 = total.min(200_000);
        let t2 = (total.min(400_000) - 200_000).max(0);
        let t3 = (total - 400_000).max(0);
        i128::from(t1) * i128::from(tiers[0].price.0)
            + i128::from(t2) * i128::from(tiers[1].price.0)
            + i128::from(t3) * i128::from(tiers[2].price.0)
    };
    let t = EffectiveTariff::single(Tariff::Tiered {
        tiers: tiers.clone(),
    });
    let start = "2026-01-01T00:00:00+08:00"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    let mut rng = Rng(42);
    let mut carry = SubFen::ZERO;
    let mut charged = Fen::ZERO;
    let mut mtd = Wh::ZERO;
    let mut month_totals: Vec<i64> = vec![0];
    let mut month = (2026, 1);
    for i in 0..READINGS {
        let from = start + i * STEP;
        let at = Timestamp::from_second(from).unwrap();
        // Month of the reading, from the UTC+8 civil date (the oracle's own arithmetic).
        let dt = at
            .to_zoned_datetime(TimeZone::fixed(jiff::tz::offset(8)))
            .datetime();
        if (dt.year(), dt.month()) != month {
            month = (dt.year(), dt.month());
            month_totals.push(0);
        }
        // Up to 1.6 kWh per half hour: a busy shop crosses both tier bounds every month.
        let energy = (rng.next() % 1600) as i64;
        *month_totals.last_mut().unwrap() += energy;
        let charge = tariff::charge(
            &t,
            &Usage::total(at, Timestamp::from_second(from + STEP).unwrap(), Wh(energy)),
            mtd,
            &tz,
        )
        .unwrap();
        mtd = charge.month_to_date_after;
        carry += charge.cost;
        let (fen, rest) = carry.split().unwrap();
        charged += fen;
        carry = rest;
    }
    assert!(month_totals.iter().filter(|m| **m > 400_000).count() > 100);
    let exact: i128 = month_totals.iter().map(|m| bill(*m)).sum();
    assert_eq!(i128::from(charged.0), exact.div_euclid(SUBFEN_PER_FEN));
    assert_eq!(carry.0, exact.rem_euclid(SUBFEN_PER_FEN));
}
