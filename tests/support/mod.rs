//! Shared by every test binary under tests/ (one copy of each helper): the `voltvend`
//! binary as a child process, polling, site builders, the demo site, a tiny HTTP client, a
//! Chromium driver, simulator settings and hex/CRC helpers written out independently of
//! the code under test.
//!
//! Each test binary links this whole tree and uses part of it, hence the `dead_code` allow.
//! Tests of one binary share one process: nothing here sets environment variables, changes
//! the current directory or binds fixed ports (ports come from port 0 or
//! `voltvend::sim::ports`).
#![allow(dead_code)]

pub mod bin;
pub mod bytes;
pub mod cdp;
pub mod demo;
pub mod field;
pub mod http;
pub mod prop;
pub mod sim;
pub mod source;
pub mod store;
pub mod tariff;
pub mod time;
pub mod wait;

/// The benches' 5,000-meter site (benches/support/site.rs), for the ignored scale tests.
#[path = "../../benches/support/site.rs"]
pub mod big_site;
/// Site records (a one-bus gateway, a host-billed meter), loaded once through big_site,
/// which the benches include as well.
pub use big_site::records;
