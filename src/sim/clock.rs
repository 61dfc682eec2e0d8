//! The simulator's clock: simulated time runs `accel` times faster than real time, and a test
//! may also jump it forward. Everything the meters do (load, energy, balance, trips) follows
//! this clock; the bus timing (pacing, turnaround) stays in real time because that is what a
//! master measures.

use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A shared, cloneable simulated clock.
#[derive(Debug, Clone)]
pub struct SimClock(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    start_sim: Timestamp,
    start_real: Instant,
    accel: u64,
    jumped: Mutex<SignedDuration>,
}

impl SimClock {
    /// Simulated time starts at `start` and runs `accel` times real time (1 = real time).
    pub fn accelerated(start: Timestamp, accel: u64) -> SimClock {
        SimClock(Arc::new(Inner {
            start_sim: start,
            start_real: Instant::now(),
            accel,
            jumped: Mutex::new(SignedDuration::ZERO),
        }))
    }

    /// A clock that stands still until [`SimClock::advance`] moves it.
    pub fn manual(start: Timestamp) -> SimClock {
        SimClock::accelerated(start, 0)
    }

    /// The acceleration factor (0 = manual).
    pub fn accel(&self) -> u64 {
        self.0.accel
    }

    /// Jumps simulated time forward (or back, for tests of register rollback).
    pub fn advance(&self, by: SignedDuration) {
        let mut j = self.0.jumped.lock().unwrap_or_else(|p| p.into_inner());
        *j = j.saturating_add(by);
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        let real = self.0.start_real.elapsed();
        let nanos = real.as_nanos().saturating_mul(u128::from(self.0.accel));
        let scaled = SignedDuration::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX));
        let jumped = *self.0.jumped.lock().unwrap_or_else(|p| p.into_inner());
        self.0
            .start_sim
            .saturating_add(scaled.saturating_add(jumped))
            .unwrap_or(self.0.start_sim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().expect("ts");
        let c = SimClock::manual(t0);
        assert_eq!(c.now(), t0);
        c.advance(SignedDuration::from_hours(25));
        assert_eq!(c.now(), t0 + SignedDuration::from_hours(25));
    }

    #[test]
    fn accelerated_clock_runs_fast() {
        let t0: Timestamp = "2026-06-01T00:00:00Z".parse().expect("ts");
        let c = SimClock::accelerated(t0, 3600);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // 20 ms × 3600 = 72 s of simulated time at least.
        assert!(c.now() >= t0 + SignedDuration::from_secs(72));
    }
}
