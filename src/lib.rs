//! voltvend: a prepaid electricity management appliance for multi-tenant buildings.
//!
//! The library holds every part of the appliance; the `voltvend` binary (src/main.rs) is a
//! thin command line over it. See docs/ and docs/architecture.md for the architecture:
//! meters → collector (`field`) → ledger (`ledger`) → control queue (`control`) → meters,
//! with alarms, reports, receipts and the API around them.

pub mod alarm;
pub mod api;
pub mod archive;
pub mod auth;
pub mod config;
pub mod control;
pub mod daemon;
pub mod field;
pub mod import;
pub mod ledger;
pub mod payment;
pub mod protocol;
pub mod receipt;
pub mod report;
pub mod sim;
pub mod site;
pub mod store;
pub mod tariff;
pub mod units;
