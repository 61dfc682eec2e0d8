//! Transports, bus tasks and the collector.
//!
//! - [`link`]: where a bus is (`serial:`, `tcp:`, `rtu-over-tcp:`, secure gateways);
//! - [`secure`], [`gateway`]: the two ends of the 3DES-secured gateway link;
//! - [`wire`]: wire-time arithmetic for timeouts, silences and the bus floor;
//! - [`transport`]: Modbus through `tokio-modbus` with timeouts, retries and precise errors;
//! - [`error`]: what went wrong, worded for the installer.

pub mod error;
pub mod link;
pub mod stream;
pub mod tap;
pub mod transport;
pub mod transport_dlt645;
pub mod wire;

pub use error::FieldError;
pub use link::Via;
pub mod charge;
pub mod charger;
pub mod collector;
pub mod events;
pub mod format;
pub mod gateway;
pub mod live;
pub mod meter_io;
pub mod plausible;
pub mod readings;
pub mod secure;
pub mod suspect;
pub mod unsupported;
