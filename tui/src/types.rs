//! The request and response bodies of the operator API and its route paths: the shared
//! contract crate (`voltvend-api-types`), which the daemon's handlers use too. The console
//! keeps no copies of its own, so a body that changes on one side changes on both.

pub use voltvend_api_types::*;
