//! The site model: buildings → floors → units, gateways and their buses, meters, tenants,
//! and the site-wide defaults.

pub mod billing;
pub mod ids;

pub use billing::BillingMode;
pub use ids::{BuildingId, GatewayId, MeterId, TenantId, UnitNo};
