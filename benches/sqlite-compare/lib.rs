//! Empty: this crate is its two benchmarks (benches/ledger.rs, benches/reports.rs); Cargo
//! wants a library or binary target beside them.
