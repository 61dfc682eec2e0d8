//! Tenants: each holds existing units, a unit belongs to at most one tenant (the unit →
//! tenant index, kept in the same transaction).

use super::{
    Change, KeyTable, Record, SiteError, check_key, check_name, delete, get, get_in, invalid, list,
    put,
};
use crate::auth::Actor;
use crate::site::model::{Tenant, TenantId, Unit, UnitNo, parse_category, parse_phone};
use crate::store::Store;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction};

/// tenant id → JSON [`Tenant`].
pub const TENANTS: KeyTable = TableDefinition::new("site_tenants");

/// unit no → tenant id: a unit belongs to at most one tenant.
pub const UNIT_TENANTS: TableDefinition<'static, &'static str, &'static str> =
    TableDefinition::new("site_unit_tenants");

impl Record for Tenant {
    const TABLE: KeyTable = TENANTS;
    const KIND: &'static str = "tenant";
    fn key(&self) -> &str {
        self.id.as_str()
    }
}

pub fn get_tenant(store: &Store, id: &TenantId) -> Result<Option<Tenant>, SiteError> {
    get(store, id.as_str())
}

pub fn list_tenants(store: &Store) -> Result<Vec<Tenant>, SiteError> {
    list(store)
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
