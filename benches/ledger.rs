//! Durable sales per second through the voltvend ledger (redb, group commit), with 1 writer
//! and with 16 concurrent writers.
//!
//! `cargo bench --bench ledger` (VOLTVEND_BENCH_SECS sets the seconds per measurement,
//! default 3). Each sale does the idempotency-key lookup, balance read and cap check, two
//! balance updates, the operation record, two postings, the tenant-history index and a
//! hash-chained audit entry, and is acknowledged only after a durable (fsynced) commit.
//!
//! The same run against SQLite (same schema, same disk) is in benches/sqlite-compare/, a
//! crate of its own so that a plain `cargo test` does not compile bundled SQLite.

#[path = "support/ledger_run.rs"]
mod ledger_run;

use ledger_run::{start, voltvend_reported};

fn main() {
    let Some(dir) = start(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    voltvend_reported(dir.path(), 1);
    let v16 = voltvend_reported(dir.path(), 16);
    println!("ledger sales/s: voltvend={v16} (16 writers; against SQLite: benches/sqlite-compare)");
}
