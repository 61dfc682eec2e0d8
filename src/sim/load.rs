//! Load profiles: how much power a shop draws at a given local time. Deterministic: the
//! noise comes from a hash of (seed, meter, minute), so a run replays from its seed.

use super::tou::LocalTime;
use serde::{Deserialize, Serialize};

/// The kind of tenant, which shapes the daily load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    #[default]
    Retail,
    Restaurant,
    Supermarket,
    Cinema,
    Office,
    /// Cold store: a steady load day and night (a keep-power candidate).
    Coldstore,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Retail,
        Category::Restaurant,
        Category::Supermarket,
        Category::Cinema,
        Category::Office,
        Category::Coldstore,
    ];

    /// Typical peak load in W.
    pub fn typical_peak_w(self) -> i64 {
        match self {
            Category::Retail => 3_000,
            Category::Restaurant => 8_000,
            Category::Supermarket => 20_000,
            Category::Cinema => 12_000,
            Category::Office => 2_500,
            Category::Coldstore => 5_000,
        }
    }

    /// Load in permille of peak for a local hour, weekday or weekend.
    fn shape(self, hour: u16, weekend: bool) -> i64 {
        let open = |from: u16, to: u16| hour >= from && hour < to;
        match self {
            Category::Retail => match (open(10, 22), weekend) {
                (true, true) => 1000,
                (true, false) => 750,
                (false, _) => 40,
            },
            Category::Restaurant => {
                if open(11, 14) || open(17, 21) {
                    1000
                } else if open(9, 22) {
                    450
                } else {
                    60
                }
            }
            Category::Supermarket => {
                let base = if open(8, 22) { 900 } else { 300 }; // refrigeration at night
                if weekend { base + 100 } else { base }
            }
            Category::Cinema => {
                if open(10, 24) {
                    if weekend { 1000 } else { 700 }
                } else {
                    50
                }
            }
            Category::Office => {
                if !weekend && open(8, 18) {
                    1000
                } else {
                    80
                }
            }
            Category::Coldstore => 800,
        }
    }
}

/// One meter's load model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadModel {
    pub category: Category,
    /// Peak load in W.
    pub peak_w: i64,
    /// A constant load in W instead of the profile (tests that need exact energy).
    pub fixed_w: Option<i64>,
    /// Noise amplitude in permille (±).
    pub noise_permille: i64,
    /// Noise key: the run seed mixed with the meter's identity.
    pub key: u64,
}

impl LoadModel {
    /// Active power in W at a local time.
    pub fn power_w(&self, t: LocalTime) -> i64 {
        if let Some(w) = self.fixed_w {
            return w;
        }
        let shape = self.category.shape(t.minute_of_day / 60, t.is_weekend());
        let noise = if self.noise_permille > 0 {
            let span = (2 * self.noise_permille + 1) as u64;
            (mix(self.key ^ (t.local_minute as u64)) % span) as i64 - self.noise_permille
        } else {
            0
        };
        (self.peak_w * shape / 1000 * (1000 + noise) / 1000).max(0)
    }
}

/// SplitMix64 finaliser: a stable, well-mixed hash (the simulator's only randomness source).
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A tiny seeded generator for fault dice and garbage bytes.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// True with probability `permille`/1000.
    pub fn chance(&mut self, permille: u16) -> bool {
        permille >= 1000 || (self.next_u64() % 1000) < u64::from(permille)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(weekday: u8, hour: u16, minute: i64) -> LocalTime {
        LocalTime {
            weekday,
            minute_of_day: hour * 60,
            local_minute: minute,
        }
    }

    #[test]
    fn shops_draw_more_when_open_and_noise_is_seeded() {
        let m = LoadModel {
            category: Category::Retail,
            peak_w: 3000,
            fixed_w: None,
            noise_permille: 100,
            key: 42,
        };
        let open = m.power_w(at(5, 15, 1));
        let closed = m.power_w(at(5, 3, 1));
        assert!(open > 10 * closed, "open {open} closed {closed}");
        assert!((2700..=3300).contains(&open));
        assert_eq!(m.power_w(at(5, 15, 7)), m.power_w(at(5, 15, 7)));
        let office = LoadModel {
            category: Category::Office,
            ..m.clone()
        };
        assert!(office.power_w(at(1, 10, 1)) > 5 * office.power_w(at(6, 10, 1)));
    }
}
