//! The site model: buildings → floors → units, gateways and their buses, meters, tenants,
//! the site-wide defaults and the named tariffs, stored in redb (`repo`).

pub mod billing;
pub mod ids;
pub mod model;
pub mod pin;
pub mod repo;
pub mod tariff_file;

pub use billing::BillingMode;
pub use ids::{BuildingId, GatewayId, MeterId, TenantId, UnitNo};
pub use model::{
    Building, Bus, Framing, Gateway, GatewayLink, Meter, MeterAddress, Phases, Protocol,
    SiteDefaults, Tenant, Unit,
};
pub use repo::{Change, SiteError};
