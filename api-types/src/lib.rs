//! The voltvend HTTP API contract: every request and response body, the error body and
//! the route paths. The daemon's handlers return and accept these types and the staff
//! console deserialises them, so a change to a body is a change to one definition both
//! sides compile against.
//!
//! Serde only (plus `serde_json` for the few free-form values); the OpenAPI schema derives
//! are behind the `openapi` feature, which the daemon enables. Domain values travel in
//! their JSON form: money is integer fen (`*_fen: i64`), energy integer Wh, ids and times
//! (UTC, RFC 3339) are strings.

pub mod alarms;
pub mod audit;
pub mod batches;
pub mod error;
pub mod ledger;
pub mod meters;
pub mod money;
pub mod office;
pub mod public;
pub mod rationing;
pub mod receipts;
pub mod reports;
pub mod routes;
pub mod session;
pub mod site;
pub mod staff;
pub mod status;
pub mod tenant;
pub mod tenants;

pub use alarms::*;
pub use audit::*;
pub use batches::*;
pub use error::*;
pub use ledger::*;
pub use meters::*;
pub use money::*;
pub use office::*;
pub use public::*;
pub use rationing::*;
pub use receipts::*;
pub use reports::*;
pub use session::*;
pub use site::*;
pub use staff::*;
pub use status::*;
pub use tenant::*;
pub use tenants::*;
