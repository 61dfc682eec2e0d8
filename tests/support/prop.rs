//! proptest settings shared by the property tests.

use proptest::test_runner::{Config, FileFailurePersistence};

/// proptest's defaults, except that failing cases are saved beside the test's source file
/// (tests/GROUP/FILE.proptest-regressions) and replayed first. The default would find the
/// group's main.rs and use tests/proptest-regressions/FILE.txt, one file for every group's
/// FILE.rs (protocol/credit.rs and sim/credit.rs would share one).
pub fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}
