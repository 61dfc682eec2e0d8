//! Settings of the simulated building shared by the field and simulator tests.

use voltvend::sim::{SimClock, SimEnv};

use super::time::{shanghai, t0};

/// A manual clock at [`super::time::T0`] (energy only moves when the test says, so values
/// compare exactly), Shanghai time, the simulator's random values from `seed`.
pub fn manual_env(seed: u64) -> SimEnv {
    SimEnv::new(SimClock::manual(t0()), shanghai(), seed)
}
