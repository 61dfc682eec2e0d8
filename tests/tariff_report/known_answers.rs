//! Hand-computed charges for every tariff kind and every kind of boundary an interval can
//! cross. The arithmetic is in the comments; 1 Wh at Price(1) (0.0001 fen/kWh) = 1 SubFen
//! (1e-7 fen), so a cost is `Wh × price units`, and 1 yuan/kWh = 1,000,000 price units.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use voltvend::tariff::{
    self, Band, DaySchedule, DefinitionError, EffectiveTariff, Tariff, TariffError, Tier, Usage,
};
use voltvend::units::{Price, SubFen, Wh};

use crate::support::tariff::{price, tiered, tou};
use crate::support::time::shanghai;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn usage(from: &str, to: &str, wh: i64) -> Usage {
    Usage::total(ts(from), ts(to), Wh(wh))
}

fn cost_of(t: &EffectiveTariff, from: &str, to: &str, wh: i64, mtd: i64) -> SubFen {
    tariff::cost(t, &usage(from, to, wh), Wh(mtd), &shanghai()).expect("chargeable")
}

/// The whole charge (its parts by band and tier) of `wh` from `from` to `to` in `tz`.
fn charge_of(
    t: &EffectiveTariff,
    (from, to, wh): (&str, &str, i64),
    mtd: i64,
    tz: &TimeZone,
) -> tariff::Charge {
    tariff::charge(t, &usage(from, to, wh), Wh(mtd), tz).expect("chargeable")
}

fn flat(yuan_per_kwh: &str) -> Tariff {
    Tariff::Flat {
        price: price(yuan_per_kwh),
    }
}

/// [`tou`] with another day schedule (not validated, so a bad one can be tested).
fn tou_with(pairs: &[(&str, Band)]) -> Tariff {
    let mut t = tou();
    if let Tariff::TimeOfUse { schedule, .. } = &mut t {
        *schedule = DaySchedule::from_pairs(pairs).unwrap();
    }
    t
}

#[test]
fn flat_is_energy_times_price() {
    let t = EffectiveTariff::single(flat("0.8523"));
    // 1234 Wh × 852,300 = 1,051,738,200 SubFen = 105.17382 fen.
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T10:00:00+08:00",
            "2026-03-10T10:30:00+08:00",
            1234,
            0
        ),
        SubFen(1_051_738_200)
    );
    // A flat price is not split by anything: across midnight and a month start the charge
    // is still 1234 × 852,300.
    assert_eq!(
        cost_of(
            &t,
            "2026-03-31T23:00:00+08:00",
            "2026-04-01T01:00:00+08:00",
            1234,
            0
        ),
        SubFen(1_051_738_200)
    );
}

#[test]
fn tiered_inside_one_tier() {
    // 150 kWh used this month, 1 kWh more, all in tier 1: 1000 × 528,300 = 528,300,000.
    assert_eq!(
        cost_of(
            &tiered(),
            "2026-03-10T10:00:00+08:00",
            "2026-03-10T10:30:00+08:00",
            1000,
            150_000
        ),
        SubFen(528_300_000)
    );
}

#[test]
fn tiered_interval_crossing_one_tier_bound_is_split_exactly() {
    // 199.5 kWh used, 1 kWh more: 500 Wh in tier 1, 500 Wh in tier 2.
    // 500 × 528,300 + 500 × 578,300 = 264,150,000 + 289,150,000 = 553,300,000 (55.33 fen).
    let c = charge_of(
        &tiered(),
        (
            "2026-03-10T10:00:00+08:00",
            "2026-03-10T10:30:00+08:00",
            1000,
        ),
        199_500,
        &shanghai(),
    );
    assert_eq!(c.cost, SubFen(553_300_000));
    let tiers: Vec<(Option<usize>, Wh)> = c.parts.iter().map(|p| (p.tier, p.energy)).collect();
    assert_eq!(tiers, vec![(Some(1), Wh(500)), (Some(2), Wh(500))]);
    assert_eq!(c.month_to_date_after, Wh(200_500));
}

#[test]
fn tiered_interval_crossing_two_tier_bounds() {
    // 199 kWh used, 202 kWh more: tier 1 gets 1 kWh (to 200), tier 2 200 kWh (to 400),
    // tier 3 1 kWh. 1000 × 528,300 = 528,300,000; 200,000 × 578,300 = 115,660,000,000;
    // 1000 × 828,300 = 828,300,000; sum 117,016,600,000 (11,701.66 fen).
    assert_eq!(
        cost_of(
            &tiered(),
            "2026-03-10T00:00:00+08:00",
            "2026-03-20T00:00:00+08:00",
            202_000,
            199_000
        ),
        SubFen(117_016_600_000)
    );
}

#[test]
fn tiers_restart_at_the_month_start_in_the_site_time_zone() {
    // 399.9 kWh used in March; 2 kWh from 23:00 Mar 31 to 01:00 Apr 1 (Shanghai).
    // One hour each side: March's piece is priced higher (tier 2, 0.5783) than April's
    // (tier 1, 0.5283), so it comes first: boundary floor(2000 × 1/2) = 1000 → 1000 / 1000.
    // March: 100 Wh × 578,300 (to 400 kWh) = 57,830,000 + 900 Wh × 828,300 = 745,470,000.
    // April: 1000 Wh × 528,300 = 528,300,000. Sum 1,331,600,000.
    let c = charge_of(
        &tiered(),
        (
            "2026-03-31T23:00:00+08:00",
            "2026-04-01T01:00:00+08:00",
            2000,
        ),
        399_900,
        &shanghai(),
    );
    assert_eq!(c.cost, SubFen(1_331_600_000));
    assert_eq!(c.month_to_date_after, Wh(1000));
    // The same interval in UTC is 15:00–17:00 on Mar 31 in UTC, all in March there:
    // 100 × 578,300 + 1900 × 828,300 = 57,830,000 + 1,573,770,000 = 1,631,600,000.
    let utc = tariff::cost(
        &tiered(),
        &usage(
            "2026-03-31T23:00:00+08:00",
            "2026-04-01T01:00:00+08:00",
            2000,
        ),
        Wh(399_900),
        &TimeZone::UTC,
    )
    .unwrap();
    assert_eq!(utc, SubFen(1_631_600_000));
}

#[test]
fn tou_inside_one_band() {
    // 10:00–10:30 is peak: 500 Wh × 1,000,000 = 500,000,000 (50 fen).
    let t = EffectiveTariff::single(tou());
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T10:00:00+08:00",
            "2026-03-10T10:30:00+08:00",
            500,
            0
        ),
        SubFen(500_000_000)
    );
    // 03:00 is before the first entry (06:00): the 22:00 valley runs over midnight.
    // 200 Wh × 300,000 = 60,000,000.
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T03:00:00+08:00",
            "2026-03-10T03:30:00+08:00",
            200,
            0
        ),
        SubFen(60_000_000)
    );
}

#[test]
fn tou_band_boundary_splits_by_time() {
    // 10:45–11:15: 15 min peak, 15 min sharp, 301 Wh. Highest price first: sharp gets
    // floor(301 × 15/30) = 150, peak the other 151.
    // 150 × 1,200,000 + 151 × 1,000,000 = 180,000,000 + 151,000,000 = 331,000,000.
    let t = EffectiveTariff::single(tou());
    let c = charge_of(
        &t,
        (
            "2026-03-10T10:45:00+08:00",
            "2026-03-10T11:15:00+08:00",
            301,
        ),
        0,
        &shanghai(),
    );
    assert_eq!(c.cost, SubFen(331_000_000));
    let bands: Vec<(Option<Band>, Wh)> = c.parts.iter().map(|p| (p.band, p.energy)).collect();
    assert_eq!(
        bands,
        vec![(Some(Band::Peak), Wh(151)), (Some(Band::Sharp), Wh(150))]
    );
}

#[test]
fn tou_three_bands_in_one_interval() {
    // 10:00–13:30: peak 60 min, sharp 120 min, flat 30 min (210 min), 1000 Wh.
    // Order sharp, peak, flat: boundaries floor(1000·120/210) = 571, floor(1000·180/210) = 857,
    // 1000 → sharp 571, peak 286, flat 143 (exact shares 571.43, 285.71, 142.86).
    // 571 × 1,200,000 + 286 × 1,000,000 + 143 × 600,000
    //   = 685,200,000 + 286,000,000 + 85,800,000 = 1,057,000,000.
    let t = EffectiveTariff::single(tou());
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T10:00:00+08:00",
            "2026-03-10T13:30:00+08:00",
            1000,
            0
        ),
        SubFen(1_057_000_000)
    );
}

#[test]
fn tou_midnight_uses_the_next_days_schedule() {
    // 00:00 valley, 08:00 flat, 23:00 peak. 23:30–00:30: 30 min peak, 30 min valley,
    // 1000 Wh → peak floor(1000/2) = 500, valley 500.
    // 500 × 1,000,000 + 500 × 300,000 = 650,000,000.
    let t = EffectiveTariff::single(tou_with(&[
        ("00:00", Band::Valley),
        ("08:00", Band::Flat),
        ("23:00", Band::Peak),
    ]));
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T23:30:00+08:00",
            "2026-03-11T00:30:00+08:00",
            1000,
            0
        ),
        SubFen(650_000_000)
    );
}

#[test]
fn tou_month_start_at_midnight_keeps_the_band() {
    // 23:45 Mar 31 – 00:15 Apr 1 is valley on both sides; the month start splits it into
    // two valley pieces of 15 min (same price → time order): March floor(101/2) = 50,
    // April 51. Cost 101 × 300,000 = 30,300,000; April's 51 Wh start the new month.
    let t = EffectiveTariff::single(tou());
    let c = charge_of(
        &t,
        (
            "2026-03-31T23:45:00+08:00",
            "2026-04-01T00:15:00+08:00",
            101,
        ),
        5000,
        &shanghai(),
    );
    assert_eq!(c.cost, SubFen(30_300_000));
    assert_eq!(c.month_to_date_after, Wh(51));
}

#[test]
fn price_change_applies_to_energy_after_its_start() {
    // Flat 0.50 until 2026-07-01 00:00 Shanghai, 0.60 from then. 23:30–00:30, 1001 Wh:
    // 30 min each; the new (higher) price first: floor(1001/2) = 500 → new 500, old 501.
    // 501 × 500,000 + 500 × 600,000 = 250,500,000 + 300,000,000 = 550,500,000.
    let t = EffectiveTariff::new(vec![
        (ts("2026-01-01T00:00:00+08:00"), flat("0.50")),
        (ts("2026-07-01T00:00:00+08:00"), flat("0.60")),
    ])
    .unwrap();
    assert_eq!(
        cost_of(
            &t,
            "2026-06-30T23:30:00+08:00",
            "2026-07-01T00:30:00+08:00",
            1001,
            0
        ),
        SubFen(550_500_000)
    );
    // Entirely before / after the change.
    assert_eq!(
        cost_of(
            &t,
            "2026-06-30T22:00:00+08:00",
            "2026-06-30T23:00:00+08:00",
            1000,
            0
        ),
        SubFen(500_000_000)
    );
    assert_eq!(
        cost_of(
            &t,
            "2026-07-01T00:00:00+08:00",
            "2026-07-01T01:00:00+08:00",
            1000,
            0
        ),
        SubFen(600_000_000)
    );
    // Energy before the first version is charged at the first version.
    assert_eq!(
        cost_of(
            &t,
            "2025-12-01T00:00:00+08:00",
            "2025-12-01T01:00:00+08:00",
            1000,
            0
        ),
        SubFen(500_000_000)
    );
}

#[test]
fn price_change_from_flat_to_tou_mid_interval() {
    // Flat 0.50 until 12:00, then the TOU tariff. 11:30–12:30 (12:00–12:30 is sharp),
    // 600 Wh: sharp (1.2) first: floor(600/2) = 300, flat-tariff piece 300.
    // 300 × 1,200,000 + 300 × 500,000 = 360,000,000 + 150,000,000 = 510,000,000.
    let t = EffectiveTariff::new(vec![
        (ts("2026-01-01T00:00:00+08:00"), flat("0.50")),
        (ts("2026-03-10T12:00:00+08:00"), tou()),
    ])
    .unwrap();
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T11:30:00+08:00",
            "2026-03-10T12:30:00+08:00",
            600,
            0
        ),
        SubFen(510_000_000)
    );
}

#[test]
fn per_band_registers_are_priced_as_reported() {
    // [sharp 100, peak 200, flat 300, valley 400] Wh, whatever the clock says:
    // 100 × 1,200,000 + 200 × 1,000,000 + 300 × 600,000 + 400 × 300,000
    //   = 120,000,000 + 200,000,000 + 180,000,000 + 120,000,000 = 620,000,000.
    let t = EffectiveTariff::single(tou());
    let u = Usage::banded(
        ts("2026-03-10T10:00:00+08:00"),
        ts("2026-03-10T10:30:00+08:00"),
        [Wh(100), Wh(200), Wh(300), Wh(400)],
    );
    assert_eq!(u.total, Wh(1000));
    assert_eq!(
        tariff::cost(&t, &u, Wh::ZERO, &shanghai()),
        Ok(SubFen(620_000_000))
    );
    // Under a flat tariff the bands are just energy: 1000 × 500,000.
    let flat_tariff = EffectiveTariff::single(flat("0.5"));
    assert_eq!(
        tariff::cost(&flat_tariff, &u, Wh::ZERO, &shanghai()),
        Ok(SubFen(500_000_000))
    );
}

#[test]
fn zero_length_interval_charges_at_its_instant() {
    // from == to at 11:00 (sharp): 10 Wh × 1,200,000 = 12,000,000.
    let t = EffectiveTariff::single(tou());
    assert_eq!(
        cost_of(
            &t,
            "2026-03-10T11:00:00+08:00",
            "2026-03-10T11:00:00+08:00",
            10,
            0
        ),
        SubFen(12_000_000)
    );
}

#[test]
fn bad_usage_is_refused_with_a_reason() {
    let t = EffectiveTariff::single(tou());
    let tz = shanghai();
    let a = ts("2026-03-10T11:00:00+08:00");
    let b = ts("2026-03-10T11:30:00+08:00");
    assert_eq!(
        tariff::cost(&t, &Usage::total(b, a, Wh(1)), Wh::ZERO, &tz),
        Err(TariffError::Backwards { from: b, to: a })
    );
    assert_eq!(
        tariff::cost(&t, &Usage::total(a, b, Wh(-10)), Wh::ZERO, &tz)
            .unwrap_err()
            .to_string(),
        "usage energy -10 Wh is negative (was the meter reset or replaced?)"
    );
    let mut u = Usage::banded(a, b, [Wh(1), Wh(2), Wh(3), Wh(4)]);
    u.total = Wh(11);
    assert_eq!(
        tariff::cost(&t, &u, Wh::ZERO, &tz),
        Err(TariffError::BandsMismatch {
            bands: 10,
            total: 11
        })
    );
    let far = ts("2040-03-10T11:00:00+08:00");
    assert!(matches!(
        tariff::cost(&t, &Usage::total(a, far, Wh(1)), Wh::ZERO, &tz),
        Err(TariffError::TooLong { .. })
    ));
}

#[test]
fn bad_definitions_are_refused_with_a_reason() {
    let tier = |up: Option<i64>, p: &str| Tier {
        up_to: up.map(Wh),
        price: price(p),
    };
    let check = |t: Tariff| t.validate().unwrap_err();
    assert_eq!(
        check(Tariff::Tiered { tiers: vec![] }),
        DefinitionError::NoTiers
    );
    assert_eq!(
        check(Tariff::Tiered {
            tiers: vec![
                tier(Some(300_000), "0.5"),
                tier(Some(200_000), "0.6"),
                tier(None, "0.7")
            ]
        })
        .to_string(),
        "tier 2: bound 200.000 kWh is not above tier 1's bound 300.000 kWh (tier bounds must increase)"
    );
    assert_eq!(
        check(Tariff::Tiered {
            tiers: vec![tier(None, "0.5"), tier(None, "0.6")]
        }),
        DefinitionError::OpenTierNotLast { tier: 1 }
    );
    assert_eq!(
        check(Tariff::Tiered {
            tiers: vec![tier(Some(100), "0.5"), tier(Some(200), "0.6")]
        }),
        DefinitionError::LastTierBounded {
            tier: 2,
            up_to: Wh(200)
        }
    );
    assert_eq!(
        check(Tariff::Tiered {
            tiers: vec![tier(Some(0), "0.5"), tier(None, "0.6")]
        }),
        DefinitionError::TierEmpty { tier: 1 }
    );
    assert_eq!(
        check(Tariff::Flat { price: Price(-1) }).to_string(),
        "flat price -0.000001 is negative"
    );
    let overlapping = tou_with(&[
        ("08:00", Band::Peak),
        ("11:00", Band::Sharp),
        ("10:00", Band::Flat),
    ]);
    assert_eq!(
        check(overlapping).to_string(),
        "schedule entry 3 starts at 10:00, not after entry 2 at 11:00; entries must be in time order without overlap or repeats"
    );
    let mut empty = tou();
    if let Tariff::TimeOfUse { schedule, .. } = &mut empty {
        schedule.0.clear();
    }
    assert_eq!(check(empty), DefinitionError::EmptySchedule);

    let out_of_order = EffectiveTariff::new(vec![
        (ts("2026-07-01T00:00:00Z"), tou()),
        (ts("2026-01-01T00:00:00Z"), tou()),
    ]);
    assert_eq!(
        out_of_order.unwrap_err().to_string(),
        "tariff version 2 starts at 2026-01-01T00:00:00Z, not after version 1 at 2026-07-01T00:00:00Z; versions must be in order of start"
    );
    // A broken definition is refused by `cost` too, naming the version.
    let broken = EffectiveTariff::single(Tariff::Tiered { tiers: vec![] });
    assert_eq!(
        tariff::cost(
            &broken,
            &usage("2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", 1),
            Wh::ZERO,
            &shanghai()
        )
        .unwrap_err()
        .to_string(),
        "tariff version 1: a tiered tariff needs at least one tier"
    );
}

const EXAMPLE_TOML: &str = r#"
[[versions]]
start = "2026-01-01T00:00:00+08:00"
tariff = { kind = "tiered", tiers = [
  { up_to_kwh = 200, price = "0.5283" },
  { up_to_kwh = "400", price = "0.5783" },
  { price = "0.8283" },
] }

[[versions]]
start = "2026-07-01T00:00:00+08:00"
[versions.tariff]
kind = "time_of_use"
prices = { sharp = "1.2", peak = "1.0", flat = "0.6", valley = "0.3" }
schedule = [
  { start = "06:00", band = "flat" },
  { start = "08:00", band = "peak" },
  { start = "11:00", band = "sharp" },
  { start = "13:00", band = "flat" },
  { start = "18:00", band = "peak" },
  { start = "22:00", band = "valley" },
]
"#;

#[test]
fn toml_form_from_the_docs_parses_to_the_same_tariff() {
    let parsed: EffectiveTariff = toml::from_str(EXAMPLE_TOML).expect("docs example");
    let expected = EffectiveTariff::new(vec![
        (
            ts("2026-01-01T00:00:00+08:00"),
            tiered().versions[0].tariff.clone(),
        ),
        (ts("2026-07-01T00:00:00+08:00"), tou()),
    ])
    .unwrap();
    assert_eq!(parsed, expected);
    // JSON round trip (how the site store keeps it).
    let json = serde_json::to_string(&parsed).unwrap();
    assert!(json.contains(r#""price":"0.5283""#), "{json}");
    let back: EffectiveTariff = serde_json::from_str(&json).unwrap();
    assert_eq!(back, parsed);
    // The docs/tariffs.md example must be this one.
    let docs = include_str!("../../docs/tariffs.md");
    assert!(
        docs.contains(EXAMPLE_TOML.trim()),
        "docs/tariffs.md example differs"
    );
}

#[test]
fn toml_mistakes_are_named() {
    let float_price = "kind = \"flat\"\nprice = 0.85\n";
    let err = toml::from_str::<Tariff>(float_price)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a price in yuan per kWh written as text"),
        "{err}"
    );
    let bad_time = "kind = \"time_of_use\"\nprices = { sharp = \"1\", peak = \"1\", flat = \"1\", valley = \"1\" }\nschedule = [{ start = \"25:00\", band = \"peak\" }]\n";
    let err = toml::from_str::<Tariff>(bad_time).unwrap_err().to_string();
    assert!(err.contains("'25:00' is not a time of day"), "{err}");
    let too_precise = "kind = \"flat\"\nprice = \"0.1234567\"\n";
    let err = toml::from_str::<Tariff>(too_precise)
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than 6 decimal places"), "{err}");
    // Chinese band names are accepted.
    let zh = "kind = \"time_of_use\"\nprices = { sharp = \"1\", peak = \"1\", flat = \"1\", valley = \"1\" }\nschedule = [{ start = \"00:00\", band = \"谷\" }]\n";
    let t: Tariff = toml::from_str(zh).unwrap();
    assert!(
        matches!(t, Tariff::TimeOfUse { ref schedule, .. } if schedule.0[0].band == Band::Valley)
    );
}

fn band_energy(c: &tariff::Charge, band: Band) -> i64 {
    c.parts
        .iter()
        .filter(|p| p.band == Some(band))
        .map(|p| p.energy.0)
        .sum()
}

#[test]
fn tou_schedule_time_skipped_by_dst_takes_effect_when_the_clock_jumps() {
    // New York, 2026-03-08: at 07:00Z the clock jumps from 02:00 EST to 03:00 EDT, so the
    // 02:30 peak start is passed at 07:00Z. Schedule 00:00 valley, 02:30 peak, 12:00 flat.
    // 05:00Z–08:00Z (00:00 EST – 04:00 EDT), 600 Wh: valley 2 h, peak 1 h.
    // Peak first: floor(600 · 1/3) = 200 peak, 400 valley.
    // 200 × 1,000,000 + 400 × 300,000 = 200,000,000 + 120,000,000 = 320,000,000.
    let t = EffectiveTariff::single(tou_with(&[
        ("00:00", Band::Valley),
        ("02:30", Band::Peak),
        ("12:00", Band::Flat),
    ]));
    let ny = TimeZone::get("America/New_York").unwrap();
    let c = charge_of(
        &t,
        ("2026-03-08T05:00:00Z", "2026-03-08T08:00:00Z", 600),
        0,
        &ny,
    );
    assert_eq!(c.cost, SubFen(320_000_000));
    assert_eq!(band_energy(&c, Band::Peak), 200);
}

#[test]
fn tou_schedule_time_repeated_by_dst_applies_twice() {
    // New York, 2026-11-01: at 06:00Z the clock goes back from 02:00 EDT to 01:00 EST, so
    // 01:00–02:00 is lived twice. Schedule 00:00 valley, 01:30 peak, 12:00 flat.
    // 04:00Z–08:00Z: valley 04:00–05:30Z (00:00–01:30 EDT), peak 05:30–06:00Z, valley
    // again 06:00–06:30Z (01:00–01:30 EST), peak 06:30–08:00Z: valley 2 h, peak 2 h.
    // 800 Wh, peak first: floor(800 · 2/4) = 400 peak, 400 valley.
    // 400 × 1,000,000 + 400 × 300,000 = 400,000,000 + 120,000,000 = 520,000,000.
    // (Ignoring the fold would give peak 2.5 h: 500 Wh, 575,000,000.)
    let t = EffectiveTariff::single(tou_with(&[
        ("00:00", Band::Valley),
        ("01:30", Band::Peak),
        ("12:00", Band::Flat),
    ]));
    let ny = TimeZone::get("America/New_York").unwrap();
    let c = charge_of(
        &t,
        ("2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z", 800),
        0,
        &ny,
    );
    assert_eq!(c.cost, SubFen(520_000_000));
    assert_eq!(band_energy(&c, Band::Peak), 400);
    assert_eq!(band_energy(&c, Band::Valley), 400);
}
