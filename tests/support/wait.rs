//! Polling until something holds, in real time.

use std::time::{Duration, Instant};

/// Waits (real time, polling every 50 ms) until `f` holds; fails the test after `secs`
/// seconds, naming `what`.
pub async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The blocking form of [`until`], for tests without a runtime.
pub fn until_blocking(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
