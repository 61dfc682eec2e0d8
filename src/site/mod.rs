//! The site model: buildings → floors → units, gateways and their buses, meters, tenants,
//! and the site-wide defaults.

pub mod ids;

pub use ids::{BuildingId, GatewayId, MeterId, TenantId, UnitNo};
