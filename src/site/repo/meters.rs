//! Meters, with the two indexes kept in the transaction that changes a meter: one meter per
//! address on a bus, and the meters supplying each unit.

use super::gateways::no_such_bus;
use super::tariffs::get_tariff_in;
use super::{
    Change, KeyTable, Record, SiteError, check_key, delete, get, get_in, invalid, list, list_in,
    put, read_one,
};
use crate::auth::Actor;
use crate::site::model::{Gateway, GatewayId, Meter, MeterId, Unit, UnitNo};
use crate::store::{Migration, Store, StoreError};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};

/// meter id → JSON [`Meter`].
pub const METERS: KeyTable = TableDefinition::new("site_meters");

/// `gateway \t bus \t address` → meter id: one meter per address on a bus.
pub const METER_ADDRESSES: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("site_meter_addresses");

/// `unit \t meter id` → (): the meters supplying a unit, found by a range read instead
/// of decoding every meter (the kiosk asks on every poll).
pub const UNIT_METERS: TableDefinition<'static, &'static str, ()> =
    TableDefinition::new("site_unit_meters");

impl Record for Meter {
    const TABLE: KeyTable = METERS;
    const KIND: &'static str = "meter";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}

pub fn get_meter(store: &Store, id: &MeterId) -> Result<Option<Meter>, SiteError> {
    get(store, id.as_str())
}

pub fn list_meters(store: &Store) -> Result<Vec<Meter>, SiteError> {
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

/// Schema version 2: the unit → meters index, built from the meters already stored.
pub const UNIT_METERS_INDEX: Migration = Migration {
    version: 2,
    name: "unit to meters index",
    run: |txn| {
        rebuild_unit_meters(txn).map_err(|e| StoreError::Corrupt {
            table: "site_unit_meters",
            why: e.to_string(),
        })
    },
};

/// Rebuilds the unit → meters index from the meter table ([`UNIT_METERS_INDEX`]).
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

fn address_key(m: &Meter) -> String {
    format!("{}\t{}\t{}", m.gateway, m.bus, m.address)
}

/// Which meter uses `address` on `gateway` bus `bus`, inside `txn`.
pub fn meter_at_in(
    txn: &WriteTransaction,
    gateway: &GatewayId,
    bus: u8,
    address: &crate::site::model::MeterAddress,
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
