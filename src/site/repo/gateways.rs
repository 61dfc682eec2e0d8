//! Gateways with their buses: a bus that meters use cannot be dropped.

use super::{
    Change, KeyTable, Record, SiteError, check_key, check_name, delete, get, get_in, invalid, list,
    list_in, put,
};
use crate::auth::Actor;
use crate::site::model::{Gateway, GatewayId, Meter};
use crate::store::Store;
use redb::{TableDefinition, WriteTransaction};

/// gateway id → JSON [`Gateway`] (with its buses).
pub const GATEWAYS: KeyTable = TableDefinition::new("site_gateways");

impl Record for Gateway {
    const TABLE: KeyTable = GATEWAYS;
    const KIND: &'static str = "gateway";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}

pub fn get_gateway(store: &Store, id: &GatewayId) -> Result<Option<Gateway>, SiteError> {
    get(store, id.as_str())
}

pub fn list_gateways(store: &Store) -> Result<Vec<Gateway>, SiteError> {
    list(store)
}

/// Adds or updates a gateway with its buses. A bus that meters still use cannot be dropped.
pub fn upsert_gateway(
    txn: &WriteTransaction,
    actor: &Actor,
    g: &Gateway,
) -> Result<Change, SiteError> {
    let key = g.id.as_str();
    check_key("gateway", "id", key)?;
    check_name("gateway", key, &g.name)?;
    if g.buses.is_empty() {
        return Err(invalid("gateway", key, "buses", "no bus is listed".into()));
    }
    for (i, b) in g.buses.iter().enumerate() {
        if b.gateway != g.id {
            return Err(invalid(
                "gateway",
                key,
                "buses",
                format!("bus {} names gateway '{}'", b.index, b.gateway),
            ));
        }
        if b.index == 0 || g.buses[..i].iter().any(|o| o.index == b.index) {
            return Err(invalid(
                "gateway",
                key,
                "buses",
                format!("bus {} is 0 or listed twice", b.index),
            ));
        }
    }
    let before: Option<Gateway> = get_in(txn, key)?;
    let drops_a_bus = before.is_some_and(|b| b.buses.iter().any(|o| g.bus(o.index).is_none()));
    let meters = if drops_a_bus {
        list_in::<Meter>(txn)?
    } else {
        Vec::new()
    };
    for m in meters {
        if m.gateway == g.id && g.bus(m.bus).is_none() {
            return Err(SiteError::InUse {
                kind: "gateway bus",
                key: format!("{key} bus {}", m.bus),
                by: format!("meter '{}'", m.id),
            });
        }
    }
    put(txn, actor, g)
}

/// The message for a bus number that `g` does not have.
pub fn no_such_bus(g: &Gateway, bus: u8) -> String {
    let have: Vec<String> = g.buses.iter().map(|b| b.index.to_string()).collect();
    format!(
        "gateway '{}' has no bus {bus} (it has {})",
        g.id,
        have.join(", ")
    )
}

/// Removes a gateway that no meter is on.
pub fn remove_gateway(
    txn: &WriteTransaction,
    actor: &Actor,
    id: &GatewayId,
) -> Result<bool, SiteError> {
    if let Some(m) = list_in::<Meter>(txn)?
        .into_iter()
        .find(|m| &m.gateway == id)
    {
        return Err(SiteError::InUse {
            kind: "gateway",
            key: id.to_string(),
            by: format!("meter '{}'", m.id),
        });
    }
    delete::<Gateway>(txn, actor, id.as_str())
}
