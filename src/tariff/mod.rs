//! Tariffs: flat, tiered, time-of-use; pure functions from energy deltas to exact charges.
