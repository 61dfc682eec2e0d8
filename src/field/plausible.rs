//! Reading plausibility (pure): may the energy between the last *charged* reading and a new
//! one be charged without a person looking at it?
//!
//! A new total is charged automatically only when it is at or above the last charged total
//! and the increase fits what the meter can physically pass in the elapsed time:
//! `rated power × margin × elapsed + slack`. Anything else is a *suspect reading* (see
//! [`super::suspect`]): a brownout answering zero, a firmware glitch, a corrupted or spoofed
//! reply, a replaced or reset meter. The rule and its figures are documented in
//! docs/ledger.md ("Suspect readings").

use serde::{Deserialize, Serialize};

use crate::protocol::profile::Profile;

const MS_PER_HOUR: i128 = 3_600_000;

/// The figures of the rule (collector settings; defaults below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plausibility {
    /// Power allowed above the rated power, in percent of it (150 = rated × 1.5): covers
    /// over-voltage, a meter running above its nominal Imax for a while and clock jitter.
    pub margin_pct: i64,
    /// Rated power per phase when the profile gives none: 60 A (the Imax of common
    /// direct-connected meters, e.g. 10(60) A) × 230 V.
    pub default_phase_w: i64,
    /// Energy always allowed on top, in Wh: two steps of a 0.01 kWh register, so readings
    /// seconds apart never look suspect for the register's own resolution.
    pub slack_wh: i64,
    /// Meter time runs this many times faster than the daemon's clock: 1 on a real site;
    /// simulators that jump or accelerate time set more.
    pub time_scale: i64,
}

impl Default for Plausibility {
    fn default() -> Self {
        Plausibility {
            margin_pct: 150,
            default_phase_w: 60 * 230,
            slack_wh: 20,
            time_scale: 1,
        }
    }
}

/// Why a reading is suspect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum SuspectWhy {
    /// The total is below the last charged total (glitch, meter replaced or reset).
    Decrease,
    /// The increase is more than the meter can pass in the time (`max_wh` allowed).
    TooHigh { max_wh: i64 },
}

impl SuspectWhy {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspectWhy::Decrease => "decrease",
            SuspectWhy::TooHigh { .. } => "too_high",
        }
    }
}

/// What to do with a new reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Charge `cur - base` (zero when the total did not move) and make it the new base.
    Charge,
    Suspect(SuspectWhy),
}

impl Plausibility {
    /// The rated power of a meter of `profile`, in W.
    pub fn rated_w(&self, profile: &Profile) -> i64 {
        profile
            .max_power_w
            .unwrap_or(self.default_phase_w * i64::from(profile.phases.max(1)))
    }

    /// The most energy (Wh) a meter of `rated_w` can pass in `elapsed_ms`.
    pub fn max_increase(&self, rated_w: i64, elapsed_ms: i64) -> i64 {
        let e = i128::from(rated_w.max(0))
            .checked_mul(i128::from(self.margin_pct.max(0)))
            .and_then(|x| x.checked_mul(i128::from(elapsed_ms.max(0))))
            .and_then(|x| x.checked_mul(i128::from(self.time_scale.max(1))))
            .map_or(i128::MAX, |x| x / (100 * MS_PER_HOUR));
        i64::try_from(e)
            .unwrap_or(i64::MAX)
            .saturating_add(self.slack_wh.max(0))
    }

    /// Judges a new total `cur_wh` at `cur_ms` against the last charged `base_wh` at
    /// `base_ms`.
    pub fn judge(
        &self,
        rated_w: i64,
        (base_ms, base_wh): (i64, i64),
        (cur_ms, cur_wh): (i64, i64),
    ) -> Verdict {
        if cur_wh < base_wh {
            return Verdict::Suspect(SuspectWhy::Decrease);
        }
        let max_wh = self.max_increase(rated_w, cur_ms.saturating_sub(base_ms));
        if cur_wh - base_wh > max_wh {
            return Verdict::Suspect(SuspectWhy::TooHigh { max_wh });
        }
        Verdict::Charge
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_bound_is_rated_power_times_margin_times_time_plus_slack() {
        let p = Plausibility::default();
        // 13.8 kW × 1.5 × 1 h = 20.7 kWh, + 20 Wh.
        assert_eq!(p.max_increase(13_800, HOUR), 20_720);
        assert_eq!(p.max_increase(13_800, 0), 20);
        let fast = Plausibility {
            time_scale: 3600,
            ..p
        };
        assert_eq!(fast.max_increase(13_800, 1000), 20_720);
        // No overflow at absurd figures.
        assert_eq!(p.max_increase(i64::MAX, i64::MAX), i64::MAX);
    }

    #[test]
    fn the_issue_13_readings() {
        // 1,318.92 → 0.00 → 1,385.66 kWh, 75 s apart each, a 13.8 kW meter.
        let p = Plausibility::default();
        let base = (0, 1_318_920);
        assert_eq!(
            p.judge(13_800, base, (75_000, 0)),
            Verdict::Suspect(SuspectWhy::Decrease)
        );
        // Against the last *charged* reading: 66.74 kWh in 150 s is too much for 13.8 kW
        // (0.88 kWh at most), over 4 hours it is real use and charged.
        assert!(matches!(
            p.judge(13_800, base, (150_000, 1_385_660)),
            Verdict::Suspect(SuspectWhy::TooHigh { max_wh: 882 })
        ));
        assert_eq!(
            p.judge(13_800, base, (4 * HOUR, 1_385_660)),
            Verdict::Charge
        );
        // Real use at the same load over an hour is charged.
        assert_eq!(
            p.judge(13_800, base, (HOUR, 1_318_920 + 13_000)),
            Verdict::Charge
        );
        assert_eq!(p.judge(13_800, base, (1, 1_318_920)), Verdict::Charge);
    }

    /// The collector's bookkeeping, pure: the base moves only on a charge; staff accept
    /// moves it to an increase and charges it.
    fn run(p: &Plausibility, rated: i64, readings: &[(i64, i64)], accept: &[bool]) -> (i64, i64) {
        let mut base = readings[0];
        let mut charged = 0i64;
        for (i, r) in readings.iter().enumerate().skip(1) {
            match p.judge(rated, base, *r) {
                Verdict::Charge => {
                    assert!(r.1 >= base.1, "charged a decrease");
                    charged += r.1 - base.1;
                    base = *r;
                }
                Verdict::Suspect(_) if accept[i % accept.len()] && r.1 >= base.1 => {
                    charged += r.1 - base.1;
                    base = *r;
                }
                Verdict::Suspect(_) => {}
            }
        }
        (charged, base.1)
    }

    proptest! {
        #[test]
        fn never_charges_a_decrease_and_charges_exactly_the_accepted_span(
            steps in proptest::collection::vec((1i64..4 * HOUR, -2_000_000i64..2_000_000), 1..40),
            accept in proptest::collection::vec(any::<bool>(), 1..8),
            rated in 1i64..100_000,
            first in 0i64..10_000_000,
        ) {
            let p = Plausibility::default();
            let mut readings = vec![(0i64, first)];
            let (mut t, mut e) = (0i64, first);
            for (dt, de) in steps {
                t += dt;
                e = (e + de).max(0);
                readings.push((t, e));
            }
            let (charged, last) = run(&p, rated, &readings, &accept);
            prop_assert!(charged >= 0);
            prop_assert_eq!(charged, last - first);
            // Never more than the meter could pass, except what staff accepted.
            let none = run(&p, rated, &readings, &[false]);
            prop_assert!(none.0 <= p.max_increase(rated, t) + p.slack_wh * readings.len() as i64);
        }

        #[test]
        fn a_verdict_is_charge_only_inside_the_bound(
            rated in 0i64..1_000_000, base in 0i64..1 << 40, d in -1i64 << 30..1 << 30,
            elapsed in -HOUR..100 * HOUR,
        ) {
            let p = Plausibility::default();
            let v = p.judge(rated, (0, base), (elapsed, base + d));
            let ok = d >= 0 && d <= p.max_increase(rated, elapsed);
            prop_assert_eq!(v == Verdict::Charge, ok);
        }
    }
}
