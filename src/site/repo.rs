//! Site records in redb: one table per kind, keyed by the record's natural key, JSON values.
//!
//! Reads take `&Store` (their own read transaction) or, with the `_in` suffix, the caller's
//! write transaction. Every write takes the caller's `&WriteTransaction` and an actor, checks
//! the record and its references (a meter's gateway, bus and unit; a unit's building; a
//! tenant's units), and appends an audit entry in that same transaction, so a change never
//! exists without its audit record and a batch of changes commits or aborts as one.

use super::model::{
    Building, BuildingId, Gateway, GatewayId, Meter, MeterId, SiteDefaults, Tenant, TenantId, Unit,
    UnitNo, parse_category, parse_key, parse_phone,
};
use crate::auth::Actor;
use crate::auth::audit;
use crate::store::{Store, StoreError, decode, encode};
use crate::tariff::{EffectiveTariff, Tariff};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

type KeyTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// building id → JSON [`Building`].
pub const BUILDINGS: KeyTable = TableDefinition::new("site_buildings");
/// unit no → JSON [`Unit`].
pub const UNITS: KeyTable = TableDefinition::new("site_units");
/// gateway id → JSON [`Gateway`] (with its buses).
pub const GATEWAYS: KeyTable = TableDefinition::new("site_gateways");
/// meter id → JSON [`Meter`].
pub const METERS: KeyTable = TableDefinition::new("site_meters");
/// `gateway \t bus \t address` → meter id: one meter per address on a bus.
pub const METER_ADDRESSES: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("site_meter_addresses");
/// `unit \t meter id` → (): the meters supplying a unit, found by a range read instead
/// of decoding every meter (the kiosk asks on every poll).
pub const UNIT_METERS: TableDefinition<'static, &'static str, ()> =
    TableDefinition::new("site_unit_meters");
/// tenant id → JSON [`Tenant`].
pub const TENANTS: KeyTable = TableDefinition::new("site_tenants");
/// unit no → tenant id: a unit belongs to at most one tenant.
pub const UNIT_TENANTS: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("site_unit_tenants");
/// tariff name → JSON tariff.
pub const TARIFFS: KeyTable = TableDefinition::new("site_tariffs");
/// `defaults` → JSON [`SiteDefaults`].
pub const SETTINGS: KeyTable = TableDefinition::new("site_settings");

const DEFAULTS_KEY: &str = "defaults";

/// Errors of the site repository.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A field is invalid or refers to something that does not exist.
    #[error("{kind} '{key}': {field}: {why}")]
    Invalid {
        kind: &'static str,
        key: String,
        field: &'static str,
        why: String,
    },
    /// The record is still referred to and cannot be removed or narrowed.
    #[error("{kind} '{key}' is still used by {by}")]
    InUse {
        kind: &'static str,
        key: String,
        by: String,
    },
}

impl From<redb::TransactionError> for SiteError {
    fn from(e: redb::TransactionError) -> Self {
        SiteError::Store(e.into())
    }
}
impl From<redb::TableError> for SiteError {
    fn from(e: redb::TableError) -> Self {
        SiteError::Store(e.into())
    }
}
impl From<redb::StorageError> for SiteError {
    fn from(e: redb::StorageError) -> Self {
        SiteError::Store(e.into())
    }
}
impl From<redb::CommitError> for SiteError {
    fn from(e: redb::CommitError) -> Self {
        SiteError::Store(e.into())
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Updated,
    Unchanged,
}

impl Change {
    /// As the API and messages say it: added, updated, unchanged.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        }
    }
}

/// A kind of site record stored in its own table under its natural key.
pub trait Record: Serialize + DeserializeOwned + PartialEq + Clone {
    const TABLE: KeyTable;
    /// Singular name used in messages and audit actions, e.g. `meter`.
    const KIND: &'static str;
    fn key(&self) -> &str;
}

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
impl Record for Gateway {
    const TABLE: KeyTable = GATEWAYS;
    const KIND: &'static str = "gateway";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}
impl Record for Meter {
    const TABLE: KeyTable = METERS;
    const KIND: &'static str = "meter";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}
impl Record for Tenant {
    const TABLE: KeyTable = TENANTS;
    const KIND: &'static str = "tenant";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}

fn read_one<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
    key: &str,
) -> Result<Option<T>, SiteError> {
    match table.get(key)? {
        Some(v) => Ok(Some(decode(name, v.value())?)),
        None => Ok(None),
    }
}

fn read_all<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    name: &'static str,
) -> Result<Vec<T>, SiteError> {
    let mut out = Vec::new();
    for row in table.iter()? {
        let (_, v) = row?;
        out.push(decode(name, v.value())?);
    }
    Ok(out)
}

/// Reads one record in its own read transaction.
pub fn get<R: Record>(store: &Store, key: &str) -> Result<Option<R>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(R::TABLE) {
        Ok(t) => read_one(&t, R::KIND, key),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads every record of a kind, in key order.
pub fn list<R: Record>(store: &Store) -> Result<Vec<R>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(R::TABLE) {
        Ok(t) => read_all(&t, R::KIND),
        Err(TableError::TableDoesNotExist(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Reads one record inside a write transaction (sees the transaction's own changes).
pub fn get_in<R: Record>(txn: &WriteTransaction, key: &str) -> Result<Option<R>, SiteError> {
    let t = txn.open_table(R::TABLE)?;
    read_one(&t, R::KIND, key)
}

/// Reads every record of a kind inside a write transaction, in key order.
pub fn list_in<R: Record>(txn: &WriteTransaction) -> Result<Vec<R>, SiteError> {
    let t = txn.open_table(R::TABLE)?;
    read_all(&t, R::KIND)
}

/// Stores `rec` (insert or replace) and audits the change; unchanged records are not
/// rewritten and not audited.
fn put<R: Record>(txn: &WriteTransaction, actor: &Actor, rec: &R) -> Result<Change, SiteError> {
    let before: Option<R> = get_in(txn, rec.key())?;
    let change = match &before {
        Some(b) if b == rec => return Ok(Change::Unchanged),
        Some(_) => Change::Updated,
        None => Change::Added,
    };
    {
        let mut t = txn.open_table(R::TABLE)?;
        t.insert(rec.key(), encode(rec).as_slice())?;
    }
    let action = match change {
        Change::Added => format!("site.{}.add", R::KIND),
        _ => format!("site.{}.update", R::KIND),
    };
    audit::append_in(
        txn,
        actor,
        &action,
        json!({ "key": rec.key(), "before": before, "after": rec }),
    )?;
    Ok(change)
}

/// Removes the record under `key` and audits it; false if there was none.
fn delete<R: Record>(txn: &WriteTransaction, actor: &Actor, key: &str) -> Result<bool, SiteError> {
    let before: Option<R> = get_in(txn, key)?;
    let Some(before) = before else {
        return Ok(false);
    };
    {
        let mut t = txn.open_table(R::TABLE)?;
        t.remove(key)?;
    }
    audit::append_in(
        txn,
        actor,
        &format!("site.{}.remove", R::KIND),
        json!({ "key": key, "before": before }),
    )?;
    Ok(true)
}

fn invalid(kind: &'static str, key: &str, field: &'static str, why: String) -> SiteError {
    SiteError::Invalid {
        kind,
        key: key.to_string(),
        field,
        why,
    }
}

fn check_key(kind: &'static str, field: &'static str, key: &str) -> Result<(), SiteError> {
    match parse_key(key) {
        Ok(k) if k == key => Ok(()),
        Ok(_) => Err(invalid(
            kind,
            key,
            field,
            format!("'{key}' has blanks around it"),
        )),
        Err(why) => Err(invalid(kind, key, field, why)),
    }
}

fn check_name(kind: &'static str, key: &str, name: &str) -> Result<(), SiteError> {
    if name.trim().is_empty() {
        return Err(invalid(kind, key, "name", "the name is empty".to_string()));
    }
    Ok(())
}

// ---- typed reads (the agreed interface) ----

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
pub fn get_gateway(store: &Store, id: &GatewayId) -> Result<Option<Gateway>, SiteError> {
    get(store, id.as_str())
}
pub fn list_gateways(store: &Store) -> Result<Vec<Gateway>, SiteError> {
    list(store)
}
pub fn get_meter(store: &Store, id: &MeterId) -> Result<Option<Meter>, SiteError> {
    get(store, id.as_str())
}
pub fn list_meters(store: &Store) -> Result<Vec<Meter>, SiteError> {
    list(store)
}
pub fn get_tenant(store: &Store, id: &TenantId) -> Result<Option<Tenant>, SiteError> {
    get(store, id.as_str())
}
pub fn list_tenants(store: &Store) -> Result<Vec<Tenant>, SiteError> {
    list(store)
}

fn unit_meter_key(unit: &UnitNo, meter: &MeterId) -> String {
    format!("{unit}\t{meter}")
}

/// Meters supplying `unit`, in meter id order.
pub fn meters_of_unit(store: &Store, unit: &UnitNo) -> Result<Vec<Meter>, SiteError> {
    let txn = store.db().begin_read()?;
    let (idx, meters) = match (txn.open_table(UNIT_METERS), txn.open_table(METERS)) {
        (Ok(i), Ok(m)) => (i, m),
        (Err(TableError::TableDoesNotExist(_)), _) | (_, Err(TableError::TableDoesNotExist(_))) => {
            return Ok(Vec::new());
        }
        (Err(e), _) | (_, Err(e)) => return Err(e.into()),
    };
    let from = format!("{unit}\t");
    let to = format!("{unit}\u{b}");
    let mut out = Vec::new();
    for row in idx.range(from.as_str()..to.as_str())? {
        let (k, _) = row?;
        let id = k
            .value()
            .split_once('\t')
            .map_or("", |(_, m)| m)
            .to_string();
        if let Some(m) = read_one::<Meter>(&meters, "meter", &id)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Rebuilds the unit → meters index from the meter table (schema migration 2).
pub fn rebuild_unit_meters(txn: &WriteTransaction) -> Result<(), SiteError> {
    let meters: Vec<Meter> = list_in(txn)?;
    let mut idx = txn.open_table(UNIT_METERS)?;
    idx.retain(|_, _| false)?;
    for m in meters {
        if let Some(u) = &m.unit {
            idx.insert(unit_meter_key(u, &m.id).as_str(), ())?;
        }
    }
    Ok(())
}

/// The tenant that holds `unit`, if any (through the unit → tenant index).
pub fn tenant_of_unit(store: &Store, unit: &UnitNo) -> Result<Option<Tenant>, SiteError> {
    let id = {
        let txn = store.db().begin_read()?;
        match txn.open_table(UNIT_TENANTS) {
            Ok(t) => t.get(unit.as_str())?.map(|v| v.value().to_string()),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        }
    };
    match id {
        Some(id) => get_tenant(store, &TenantId::new(id)),
        None => Ok(None),
    }
}

// ---- writes ----

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

fn address_key(m: &Meter) -> String {
    format!("{}\t{}\t{}", m.gateway, m.bus, m.address)
}

/// Which meter uses `address` on `gateway` bus `bus`, inside `txn`.
pub fn meter_at_in(
    txn: &WriteTransaction,
    gateway: &GatewayId,
    bus: u8,
    address: &super::model::MeterAddress,
) -> Result<Option<MeterId>, SiteError> {
    let t = txn.open_table(METER_ADDRESSES)?;
    let k = format!("{gateway}\t{bus}\t{address}");
    Ok(t.get(k.as_str())?.map(|v| MeterId::new(v.value())))
}

/// Adds or updates a meter. Checks its fields, that its gateway has its bus, that its unit
/// and tariff override exist, and that no other meter has its address on that bus.
pub fn upsert_meter(txn: &WriteTransaction, actor: &Actor, m: &Meter) -> Result<Change, SiteError> {
    let key = m.id.as_str();
    check_key("meter", "id", key)?;
    if let Some((field, why)) = m.problems().into_iter().next() {
        return Err(invalid("meter", key, field, why));
    }
    let gateway: Option<Gateway> = get_in(txn, m.gateway.as_str())?;
    match gateway {
        None => {
            return Err(invalid(
                "meter",
                key,
                "gateway",
                format!("gateway '{}' does not exist", m.gateway),
            ));
        }
        Some(g) if g.bus(m.bus).is_none() => {
            return Err(invalid("meter", key, "bus", no_such_bus(&g, m.bus)));
        }
        Some(_) => {}
    }
    if let Some(u) = &m.unit
        && get_in::<Unit>(txn, u.as_str())?.is_none()
    {
        return Err(invalid(
            "meter",
            key,
            "unit",
            format!("unit '{u}' does not exist"),
        ));
    }
    if let Some(t) = &m.tariff
        && get_tariff_in(txn, t)?.is_none()
    {
        return Err(invalid(
            "meter",
            key,
            "tariff",
            format!("tariff '{t}' does not exist"),
        ));
    }
    if let Some(other) = meter_at_in(txn, &m.gateway, m.bus, &m.address)?
        && other != m.id
    {
        return Err(invalid(
            "meter",
            key,
            "address",
            format!(
                "address {} on gateway '{}' bus {} is already used by meter '{other}'",
                m.address, m.gateway, m.bus
            ),
        ));
    }
    let before: Option<Meter> = get_in(txn, key)?;
    let change = put(txn, actor, m)?;
    if change != Change::Unchanged {
        let mut idx = txn.open_table(METER_ADDRESSES)?;
        let mut units = txn.open_table(UNIT_METERS)?;
        if let Some(b) = &before {
            idx.remove(address_key(b).as_str())?;
            if let Some(u) = &b.unit {
                units.remove(unit_meter_key(u, &b.id).as_str())?;
            }
        }
        idx.insert(address_key(m).as_str(), key)?;
        if let Some(u) = &m.unit {
            units.insert(unit_meter_key(u, &m.id).as_str(), ())?;
        }
    }
    Ok(change)
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

/// Adds or updates a tenant; its units must exist and belong to no other tenant.
pub fn upsert_tenant(
    txn: &WriteTransaction,
    actor: &Actor,
    t: &Tenant,
) -> Result<Change, SiteError> {
    let key = t.id.as_str();
    check_key("tenant", "id", key)?;
    check_name("tenant", key, &t.name)?;
    match parse_category(&t.category) {
        Ok(c) if c == t.category => {}
        Ok(c) => {
            return Err(invalid(
                "tenant",
                key,
                "category",
                format!("'{}' must be stored as '{c}'", t.category),
            ));
        }
        Err(why) => return Err(invalid("tenant", key, "category", why)),
    }
    if let Some(p) = &t.phone
        && let Err(why) = parse_phone(p)
    {
        return Err(invalid("tenant", key, "phone", why));
    }
    for (i, u) in t.units.iter().enumerate() {
        if t.units[..i].contains(u) {
            return Err(invalid(
                "tenant",
                key,
                "units",
                format!("unit '{u}' is listed twice"),
            ));
        }
        if get_in::<Unit>(txn, u.as_str())?.is_none() {
            return Err(invalid(
                "tenant",
                key,
                "units",
                format!("unit '{u}' does not exist"),
            ));
        }
        if let Some(o) = tenant_of_unit_in(txn, u)?
            && o != t.id
        {
            return Err(invalid(
                "tenant",
                key,
                "units",
                format!("unit '{u}' already belongs to tenant '{o}'"),
            ));
        }
    }
    let before: Option<Tenant> = get_in(txn, key)?;
    let change = put(txn, actor, t)?;
    if change != Change::Unchanged {
        let mut idx = txn.open_table(UNIT_TENANTS)?;
        for u in before.iter().flat_map(|b| &b.units) {
            idx.remove(u.as_str())?;
        }
        for u in &t.units {
            idx.insert(u.as_str(), key)?;
        }
    }
    Ok(change)
}

/// Which tenant holds `unit`, inside `txn`.
pub fn tenant_of_unit_in(
    txn: &WriteTransaction,
    unit: &UnitNo,
) -> Result<Option<TenantId>, SiteError> {
    let t = txn.open_table(UNIT_TENANTS)?;
    Ok(t.get(unit.as_str())?.map(|v| TenantId::new(v.value())))
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

/// Removes a meter from the site model (its ledger account, if any, is the ledger's).
pub fn remove_meter(
    txn: &WriteTransaction,
    actor: &Actor,
    id: &MeterId,
) -> Result<bool, SiteError> {
    let before: Option<Meter> = get_in(txn, id.as_str())?;
    if let Some(b) = before {
        txn.open_table(METER_ADDRESSES)?
            .remove(address_key(&b).as_str())?;
        if let Some(u) = &b.unit {
            txn.open_table(UNIT_METERS)?
                .remove(unit_meter_key(u, &b.id).as_str())?;
        }
    }
    delete::<Meter>(txn, actor, id.as_str())
}

/// Removes a tenant from the site model (its ledger account, if any, is the ledger's).
pub fn remove_tenant(
    txn: &WriteTransaction,
    actor: &Actor,
    id: &TenantId,
) -> Result<bool, SiteError> {
    let before: Option<Tenant> = get_in(txn, id.as_str())?;
    if let Some(b) = before {
        let mut idx = txn.open_table(UNIT_TENANTS)?;
        for u in &b.units {
            idx.remove(u.as_str())?;
        }
    }
    delete::<Tenant>(txn, actor, id.as_str())
}

// ---- defaults ----

/// The site defaults (the built-in ones until set).
pub fn defaults(store: &Store) -> Result<SiteDefaults, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(SETTINGS) {
        Ok(t) => Ok(read_one(&t, "site_settings", DEFAULTS_KEY)?.unwrap_or_default()),
        Err(TableError::TableDoesNotExist(_)) => Ok(SiteDefaults::default()),
        Err(e) => Err(e.into()),
    }
}

/// The site defaults as seen inside `txn`.
pub fn defaults_in(txn: &WriteTransaction) -> Result<SiteDefaults, SiteError> {
    let t = txn.open_table(SETTINGS)?;
    Ok(read_one(&t, "site_settings", DEFAULTS_KEY)?.unwrap_or_default())
}

/// Replaces the site defaults after checking every field.
pub fn set_defaults(
    txn: &WriteTransaction,
    actor: &Actor,
    d: &SiteDefaults,
) -> Result<Change, SiteError> {
    if let Some((field, why)) = d.problems().into_iter().next() {
        return Err(invalid("site defaults", "defaults", field, why));
    }
    let before = {
        let t = txn.open_table(SETTINGS)?;
        read_one::<SiteDefaults>(&t, "site_settings", DEFAULTS_KEY)?
    };
    if before.as_ref() == Some(d) {
        return Ok(Change::Unchanged);
    }
    txn.open_table(SETTINGS)?
        .insert(DEFAULTS_KEY, encode(d).as_slice())?;
    audit::append_in(
        txn,
        actor,
        "site.defaults.set",
        json!({ "before": before, "after": d }),
    )?;
    Ok(if before.is_some() {
        Change::Updated
    } else {
        Change::Added
    })
}

// ---- tariffs ----
// Stored as JSON of a `crate::tariff::EffectiveTariff` (dated versions) or of a single
// `crate::tariff::Tariff`; both are checked on every write. `get_tariff` returns the JSON
// as stored, `effective_tariff` the typed, validated form.

/// Reads stored tariff JSON: an `EffectiveTariff`, or a single `Tariff` that never changes.
pub fn decode_tariff(value: &serde_json::Value) -> Result<EffectiveTariff, String> {
    let t = match serde_json::from_value::<EffectiveTariff>(value.clone()) {
        Ok(t) => t,
        Err(_) => serde_json::from_value::<Tariff>(value.clone())
            .map(EffectiveTariff::single)
            .map_err(|e| format!("not a tariff: {e}"))?,
    };
    t.validate().map_err(|e| e.to_string())?;
    Ok(t)
}

/// The tariff stored under `name`, typed and validated.
pub fn effective_tariff(store: &Store, name: &str) -> Result<Option<EffectiveTariff>, SiteError> {
    match get_tariff(store, name)? {
        None => Ok(None),
        Some(v) => decode_tariff(&v)
            .map(Some)
            .map_err(|why| invalid("tariff", name, "definition", why)),
    }
}

/// Stores a typed tariff under `name` (insert or replace) and audits it.
pub fn set_effective_tariff(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    tariff: &EffectiveTariff,
) -> Result<Change, SiteError> {
    let value = serde_json::to_value(tariff)
        .map_err(|e| invalid("tariff", name, "definition", e.to_string()))?;
    set_tariff(txn, actor, name, &value)
}

/// Removes a tariff that no meter overrides with and that is not the site default.
pub fn remove_tariff(txn: &WriteTransaction, actor: &Actor, name: &str) -> Result<bool, SiteError> {
    let in_use = |by: String| SiteError::InUse {
        kind: "tariff",
        key: name.to_string(),
        by,
    };
    if defaults_in(txn)?.default_tariff == name {
        return Err(in_use("the site defaults (default_tariff)".to_string()));
    }
    if let Some(m) = list_in::<Meter>(txn)?
        .into_iter()
        .find(|m| m.tariff.as_deref() == Some(name))
    {
        return Err(in_use(format!("meter '{}'", m.id)));
    }
    let Some(before) = get_tariff_in(txn, name)? else {
        return Ok(false);
    };
    txn.open_table(TARIFFS)?.remove(name)?;
    audit::append_in(
        txn,
        actor,
        "site.tariff.remove",
        json!({ "key": name, "before": before }),
    )?;
    Ok(true)
}

/// The tariff stored under `name`.
pub fn get_tariff(store: &Store, name: &str) -> Result<Option<serde_json::Value>, SiteError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(TARIFFS) {
        Ok(t) => read_one(&t, "site_tariffs", name),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The tariff stored under `name`, inside `txn`.
pub fn get_tariff_in(
    txn: &WriteTransaction,
    name: &str,
) -> Result<Option<serde_json::Value>, SiteError> {
    let t = txn.open_table(TARIFFS)?;
    read_one(&t, "site_tariffs", name)
}

/// Every stored tariff by name.
pub fn list_tariffs(store: &Store) -> Result<Vec<(String, serde_json::Value)>, SiteError> {
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(TARIFFS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        out.push((k.value().to_string(), decode("site_tariffs", v.value())?));
    }
    Ok(out)
}

/// Stores a named tariff given as JSON (insert or replace) after checking that it is a
/// valid `EffectiveTariff` or `Tariff`, and audits it.
pub fn set_tariff(
    txn: &WriteTransaction,
    actor: &Actor,
    name: &str,
    tariff: &serde_json::Value,
) -> Result<Change, SiteError> {
    check_key("tariff", "name", name)?;
    if let Err(why) = decode_tariff(tariff) {
        return Err(invalid("tariff", name, "definition", why));
    }
    let before = get_tariff_in(txn, name)?;
    if before.as_ref() == Some(tariff) {
        return Ok(Change::Unchanged);
    }
    txn.open_table(TARIFFS)?
        .insert(name, encode(tariff).as_slice())?;
    audit::append_in(
        txn,
        actor,
        "site.tariff.set",
        json!({ "key": name, "before": before, "after": tariff }),
    )?;
    Ok(if before.is_some() {
        Change::Updated
    } else {
        Change::Added
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::model::*;
    use crate::units::Fen;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("site.redb")).unwrap();
        (dir, store)
    }

    fn actor() -> Actor {
        Actor::system("test")
    }

    fn gateway(id: &str) -> Gateway {
        let gid = GatewayId::from(id);
        Gateway {
            buses: Gateway::parse_buses(&gid, "1:9600:8N1;2:2400:8E1").unwrap(),
            id: gid,
            name: "Gateway".into(),
            link: GatewayLink::parse("tcp:10.0.0.5:502").unwrap(),
        }
    }

    fn meter(id: &str, addr: u8) -> Meter {
        Meter {
            id: MeterId::from(id),
            address: MeterAddress::Modbus(addr),
            protocol: Protocol::Modbus,
            profile: "generic-modbus".into(),
            phases: Phases::One,
            gateway: GatewayId::from("GW1"),
            bus: 1,
            unit: Some(UnitNo::from("A-101")),
            billing: BillingMode::Host,
            tariff: None,
            power_limit_w: None,
            alarm1: Some(Fen(3000)),
            alarm2: Some(Fen(1000)),
        }
    }

    fn seed(store: &Store) {
        let txn = store.db().begin_write().unwrap();
        let a = actor();
        upsert_building(
            &txn,
            &a,
            &Building {
                id: "A".into(),
                name: "Tower A".into(),
                floors: Some(10),
            },
        )
        .unwrap();
        upsert_unit(
            &txn,
            &a,
            &Unit {
                no: "A-101".into(),
                building: "A".into(),
                floor: 1,
                area_m2_x100: Some(8550),
            },
        )
        .unwrap();
        upsert_gateway(&txn, &a, &gateway("GW1")).unwrap();
        txn.commit().unwrap();
    }

    #[test]
    fn upsert_reports_added_updated_unchanged_and_audits_changes_only() {
        let (_d, store) = store();
        seed(&store);
        let a = actor();
        let txn = store.db().begin_write().unwrap();
        assert_eq!(
            upsert_meter(&txn, &a, &meter("M1", 5)).unwrap(),
            Change::Added
        );
        assert_eq!(
            upsert_meter(&txn, &a, &meter("M1", 5)).unwrap(),
            Change::Unchanged
        );
        assert_eq!(
            upsert_meter(&txn, &a, &meter("M1", 6)).unwrap(),
            Change::Updated
        );
        txn.commit().unwrap();
        assert_eq!(
            get_meter(&store, &"M1".into()).unwrap(),
            Some(meter("M1", 6))
        );
        let rtxn = store.db().begin_read().unwrap();
        let audit_table = rtxn.open_table(audit::AUDIT).unwrap();
        let actions: Vec<String> = audit_table
            .iter()
            .unwrap()
            .map(|r| {
                let (_, v) = r.unwrap();
                decode::<audit::AuditEntry>("audit", v.value())
                    .unwrap()
                    .action
            })
            .collect();
        assert_eq!(
            actions,
            [
                "site.building.add",
                "site.unit.add",
                "site.gateway.add",
                "site.meter.add",
                "site.meter.update"
            ]
        );
    }

    #[test]
    fn address_is_unique_per_bus_and_follows_moves() {
        let (_d, store) = store();
        seed(&store);
        let a = actor();
        let txn = store.db().begin_write().unwrap();
        upsert_meter(&txn, &a, &meter("M1", 5)).unwrap();
        let err = upsert_meter(&txn, &a, &meter("M2", 5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "meter 'M2': address: address 5 on gateway 'GW1' bus 1 is already used by meter 'M1'"
        );
        // The same address on another bus is fine.
        let mut m2 = meter("M2", 5);
        m2.bus = 2;
        upsert_meter(&txn, &a, &m2).unwrap();
        // Moving M1 frees address 5 on bus 1.
        upsert_meter(&txn, &a, &meter("M1", 7)).unwrap();
        upsert_meter(&txn, &a, &meter("M3", 5)).unwrap();
        assert!(remove_meter(&txn, &a, &"M3".into()).unwrap());
        upsert_meter(&txn, &a, &meter("M4", 5)).unwrap();
        txn.commit().unwrap();
    }

    #[test]
    fn unit_index_follows_moves_and_removals() {
        let (_d, store) = store();
        seed(&store);
        let a = actor();
        let txn = store.db().begin_write().unwrap();
        upsert_unit(
            &txn,
            &a,
            &Unit {
                no: "A-1010".into(),
                building: "A".into(),
                floor: 1,
                area_m2_x100: None,
            },
        )
        .unwrap();
        upsert_meter(&txn, &a, &meter("M2", 2)).unwrap();
        upsert_meter(&txn, &a, &meter("M1", 1)).unwrap();
        // A-1010 starts with "A-101": the index must not mix the two units.
        let mut m3 = meter("M3", 3);
        m3.unit = Some("A-1010".into());
        upsert_meter(&txn, &a, &m3).unwrap();
        txn.commit().unwrap();
        let ids = |u: &str| -> Vec<String> {
            meters_of_unit(&store, &UnitNo::from(u))
                .unwrap()
                .iter()
                .map(|m| m.id.to_string())
                .collect()
        };
        assert_eq!(ids("A-101"), ["M1", "M2"]);
        assert_eq!(ids("A-1010"), ["M3"]);
        let txn = store.db().begin_write().unwrap();
        let mut m1 = meter("M1", 1);
        m1.unit = Some("A-1010".into());
        upsert_meter(&txn, &a, &m1).unwrap();
        remove_meter(&txn, &a, &"M2".into()).unwrap();
        txn.commit().unwrap();
        assert_eq!(ids("A-101"), Vec::<String>::new());
        assert_eq!(ids("A-1010"), ["M1", "M3"]);
        // The migration's rebuild gives the same index.
        let txn = store.db().begin_write().unwrap();
        rebuild_unit_meters(&txn).unwrap();
        txn.commit().unwrap();
        assert_eq!(ids("A-1010"), ["M1", "M3"]);
    }

    #[test]
    fn references_are_checked() {
        let (_d, store) = store();
        seed(&store);
        let a = actor();
        let txn = store.db().begin_write().unwrap();
        let mut m = meter("M1", 5);
        m.gateway = "GW9".into();
        assert_eq!(
            upsert_meter(&txn, &a, &m).unwrap_err().to_string(),
            "meter 'M1': gateway: gateway 'GW9' does not exist"
        );
        let mut m = meter("M1", 5);
        m.bus = 3;
        assert_eq!(
            upsert_meter(&txn, &a, &m).unwrap_err().to_string(),
            "meter 'M1': bus: gateway 'GW1' has no bus 3 (it has 1, 2)"
        );
        let mut m = meter("M1", 5);
        m.unit = Some("Z-9".into());
        assert!(upsert_meter(&txn, &a, &m).is_err());
        let mut m = meter("M1", 5);
        m.tariff = Some("night".into());
        assert!(upsert_meter(&txn, &a, &m).is_err());
        let bad = serde_json::json!({"flat": {"price": 6000}});
        assert!(set_tariff(&txn, &a, "night", &bad).is_err());
        let night = Tariff::Flat {
            price: crate::units::Price::parse_yuan_per_kwh("0.60").unwrap(),
        };
        set_effective_tariff(&txn, &a, "night", &EffectiveTariff::single(night)).unwrap();
        upsert_meter(&txn, &a, &m).unwrap();
        assert!(matches!(
            remove_tariff(&txn, &a, "night"),
            Err(SiteError::InUse { .. })
        ));
        // A gateway cannot drop a bus in use, a unit with a meter cannot go.
        let mut g = gateway("GW1");
        g.buses.retain(|b| b.index == 2);
        assert!(matches!(
            upsert_gateway(&txn, &a, &g),
            Err(SiteError::InUse { .. })
        ));
        assert!(matches!(
            remove_unit(&txn, &a, &"A-101".into()),
            Err(SiteError::InUse { .. })
        ));
        let t = Tenant {
            id: "T1".into(),
            name: "Noodles".into(),
            category: "restaurant".into(),
            phone: Some("13800138000".into()),
            units: vec!["A-101".into()],
            pin_hash: None,
        };
        upsert_tenant(&txn, &a, &t).unwrap();
        let t2 = Tenant {
            id: "T2".into(),
            ..t.clone()
        };
        assert_eq!(
            upsert_tenant(&txn, &a, &t2).unwrap_err().to_string(),
            "tenant 'T2': units: unit 'A-101' already belongs to tenant 'T1'"
        );
    }

    #[test]
    fn defaults_round_trip_and_are_checked() {
        let (_d, store) = store();
        assert_eq!(defaults(&store).unwrap(), SiteDefaults::default());
        let a = actor();
        let txn = store.db().begin_write().unwrap();
        let d = SiteDefaults {
            alarm_sms: Some("13900000000".into()),
            ..SiteDefaults::default()
        };
        assert_eq!(set_defaults(&txn, &a, &d).unwrap(), Change::Added);
        assert_eq!(set_defaults(&txn, &a, &d).unwrap(), Change::Unchanged);
        let bad = SiteDefaults {
            alarm1: Fen(1),
            ..d.clone()
        };
        assert!(set_defaults(&txn, &a, &bad).is_err());
        txn.commit().unwrap();
        assert_eq!(defaults(&store).unwrap(), d);
    }
}
