//! Registers a meter does not implement: a block answered with Modbus exception 02 (illegal
//! data address) or DL/T 645 error bit 1 (无请求数据, no such data) is remembered per meter
//! and left out of the collector's sweeps, retried once a day (a firmware update or a
//! replaced meter may bring it). `voltvend read` always tries every block.
//!
//! Kept in the bus task's memory, not in the store: it costs no durable write, and after a
//! restart each block is probed once again, which is the retry a swapped meter deserves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::error::FieldError;

/// How long a block answered "no such register" is left out of the sweeps.
pub const RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// True when the meter said it does not have the registers (not a transient failure).
pub fn is_unsupported(error: &FieldError) -> bool {
    match error {
        FieldError::Exception { code, .. } => *code == 0x02,
        FieldError::Abnormal { code, .. } => code & 0x02 != 0,
        _ => false,
    }
}

/// Blocks (by their description, e.g. `registers 0x0100..0x0106`) each meter refused, and
/// when.
#[derive(Debug, Default)]
pub struct Unsupported {
    since: HashMap<(String, String), Instant>,
}

impl Unsupported {
    /// Whether the block should be left out of a sweep at `now`.
    pub fn skip(&self, address: &str, block: &str, now: Instant) -> bool {
        self.since
            .get(&(address.to_string(), block.to_string()))
            .is_some_and(|at| now.saturating_duration_since(*at) < RETRY_AFTER)
    }

    pub fn mark(&mut self, address: &str, block: &str, now: Instant) {
        self.since
            .insert((address.to_string(), block.to_string()), now);
    }

    /// The meter answered the block: it is supported (again).
    pub fn clear(&mut self, address: &str, block: &str) {
        self.since.remove(&(address.to_string(), block.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_until_the_daily_retry() {
        let mut u = Unsupported::default();
        let t0 = Instant::now();
        assert!(!u.skip("7", "registers 0x0100..0x0106", t0));
        u.mark("7", "registers 0x0100..0x0106", t0);
        assert!(u.skip(
            "7",
            "registers 0x0100..0x0106",
            t0 + Duration::from_secs(3600)
        ));
        assert!(!u.skip("8", "registers 0x0100..0x0106", t0), "per meter");
        assert!(!u.skip("7", "registers 0x0100..0x0106", t0 + RETRY_AFTER));
        u.clear("7", "registers 0x0100..0x0106");
        assert!(!u.skip("7", "registers 0x0100..0x0106", t0));
    }

    #[test]
    fn only_no_such_register_counts() {
        assert!(is_unsupported(&FieldError::Exception {
            code: 2,
            register: 0x100
        }));
        assert!(!is_unsupported(&FieldError::Exception {
            code: 4,
            register: 0x100
        }));
        assert!(is_unsupported(&FieldError::Abnormal { code: 0x02, di: 0 }));
        assert!(!is_unsupported(&FieldError::Abnormal { code: 0x04, di: 0 }));
    }
}
