//! Buildings and their units: a unit is on a floor of an existing building.

use super::{
    Change, KeyTable, Record, SiteError, check_key, check_name, delete, get, get_in, invalid, list,
    list_in, put,
};
use crate::auth::Actor;
use crate::site::model::{Building, BuildingId, Meter, Tenant, Unit, UnitNo};
use crate::store::Store;
use redb::{TableDefinition, WriteTransaction};

/// building id → JSON [`Building`].
pub const BUILDINGS: KeyTable = TableDefinition::new("site_buildings");

/// unit no → JSON [`Unit`].
pub const UNITS: KeyTable = TableDefinition::new("site_units");

impl Record for Building {
    const TABLE: KeyTable = BUILDINGS;
    const KIND: &'static str = "building";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}

impl Record for Unit {
    const TABLE: KeyTable = UNITS;
    const KIND: &'static str = "unit";
    fn key(&self) -> &str {
        self.no.as_str()
    }
}

pub fn get_building(store: &Store, id: &BuildingId) -> Result<Option<Building>, SiteError> {
    get(store, id.as_str())
}

pub fn list_buildings(store: &Store) -> Result<Vec<Building>, SiteError> {
    list(store)
}

pub fn get_unit(store: &Store, no: &UnitNo) -> Result<Option<Unit>, SiteError> {
    get(store, no.as_str())
}

pub fn list_units(store: &Store) -> Result<Vec<Unit>, SiteError> {
    list(store)
}

/// Adds or updates a building.
pub fn upsert_building(
    txn: &WriteTransaction,
    actor: &Actor,
    b: &Building,
) -> Result<Change, SiteError> {
    check_key("building", "id", b.id.as_str())?;
    check_name("building", b.id.as_str(), &b.name)?;
    if b.floors == Some(0) {
        return Err(invalid(
            "building",
            b.id.as_str(),
            "floors",
            "'0' is not a valid floor count (at least 1)".to_string(),
        ));
    }
    put(txn, actor, b)
}

/// Adds or updates a unit; its building must exist and, when the building's floor count
/// is known, its floor must be within it.
pub fn upsert_unit(txn: &WriteTransaction, actor: &Actor, u: &Unit) -> Result<Change, SiteError> {
    let key = u.no.as_str();
    check_key("unit", "unit", key)?;
    let building: Option<Building> = get_in(txn, u.building.as_str())?;
    let Some(building) = building else {
        return Err(invalid(
            "unit",
            key,
            "building",
            format!("building '{}' does not exist", u.building),
        ));
    };
    if let Some(why) = floor_problem(&building, u.floor) {
        return Err(invalid("unit", key, "floor", why));
    }
    if let Some(a) = u.area_m2_x100
        && a < 0
    {
        return Err(invalid(
            "unit",
            key,
            "area_m2",
            "the area is negative".into(),
        ));
    }
    put(txn, actor, u)
}

/// Why `floor` does not fit `building`, if it does not.
pub fn floor_problem(building: &Building, floor: i32) -> Option<String> {
    match building.floors {
        Some(n) if floor > 0 && floor as u32 > n => Some(format!(
            "'{floor}' is above the top floor of building '{}' ({n})",
            building.id
        )),
        _ => None,
    }
}

/// Removes a building that no unit is on.
pub fn remove_building(
    txn: &WriteTransaction,
    actor: &Actor,
    id: &BuildingId,
) -> Result<bool, SiteError> {
    if let Some(u) = list_in::<Unit>(txn)?
        .into_iter()
        .find(|u| &u.building == id)
    {
        return Err(SiteError::InUse {
            kind: "building",
            key: id.to_string(),
            by: format!("unit '{}'", u.no),
        });
    }
    delete::<Building>(txn, actor, id.as_str())
}

/// Removes a unit that no meter supplies and no tenant holds.
pub fn remove_unit(txn: &WriteTransaction, actor: &Actor, no: &UnitNo) -> Result<bool, SiteError> {
    let in_use = |by: String| SiteError::InUse {
        kind: "unit",
        key: no.to_string(),
        by,
    };
    if let Some(m) = list_in::<Meter>(txn)?
        .into_iter()
        .find(|m| m.unit.as_ref() == Some(no))
    {
        return Err(in_use(format!("meter '{}'", m.id)));
    }
    if let Some(t) = list_in::<Tenant>(txn)?
        .into_iter()
        .find(|t| t.units.contains(no))
    {
        return Err(in_use(format!("tenant '{}'", t.id)));
    }
    delete::<Unit>(txn, actor, no.as_str())
}
