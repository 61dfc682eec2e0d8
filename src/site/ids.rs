//! Identifiers of site records. Each is the natural key staff use (a building code, a unit
//! number 户号, a gateway code, a meter number 表号, a tenant code), so imports can update
//! by key and reports read like the building's own paperwork.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    };
}

text_id!(
    /// A building code, e.g. `A`.
    BuildingId
);
text_id!(
    /// A tenant unit number (户号), e.g. `A-101`.
    UnitNo
);
text_id!(
    /// A gateway (communication manager) code, e.g. `GW1`.
    GatewayId
);
text_id!(
    /// A meter number (表号), e.g. `000000001234`; unique on the site.
    MeterId
);
text_id!(
    /// A tenant code, e.g. `T0001`.
    TenantId
);
