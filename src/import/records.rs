//! Turning one row into one site record, checking each field on its own.
//!
//! Column rules (docs/import.md): a required column must be present and non-empty; an
//! optional column that is absent from the file keeps the stored value of an existing
//! record (so a file without `tariff` does not wipe overrides); an optional cell that is
//! present but empty clears the value (or sets the documented default).

use super::columns::RowView;
use crate::site::model::{
    BillingMode, Building, BuildingId, Gateway, GatewayId, GatewayLink, Meter, MeterAddress,
    MeterId, Phases, Protocol, Tenant, TenantId, Unit, UnitNo, parse_area_x100, parse_billing,
    parse_category, parse_floor, parse_key, parse_phone,
};
use crate::units::Fen;
use std::collections::BTreeMap;

/// A problem with one cell: the column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub column: &'static str,
    pub why: String,
}

struct Fields<'r, 'a> {
    r: &'r RowView<'a>,
    problems: Vec<FieldProblem>,
}

impl<'r, 'a> Fields<'r, 'a> {
    fn new(r: &'r RowView<'a>) -> Self {
        Fields {
            r,
            problems: Vec::new(),
        }
    }

    fn push(&mut self, column: &'static str, why: String) {
        self.problems.push(FieldProblem { column, why });
    }

    fn check<T>(&mut self, column: &'static str, v: Result<T, String>) -> Option<T> {
        v.map_err(|why| self.push(column, why)).ok()
    }

    /// A required cell: empty is a problem.
    fn required<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match self.r.get(column) {
            None | Some("") => {
                self.push(column, "the value is empty".to_string());
                None
            }
            Some(t) => self.check(column, parse(t)),
        }
    }

    /// An optional cell: absent column keeps `old`, empty cell clears. The outer Option is
    /// None when the cell is bad.
    fn optional<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        old: Option<T>,
    ) -> Option<Option<T>> {
        match self.r.get(column) {
            None => Some(old),
            Some("") => Some(None),
            Some(t) => self.check(column, parse(t)).map(Some),
        }
    }

    /// An optional cell with a default: absent column keeps `old` (or the default for a new
    /// record), empty cell sets the default.
    fn defaulted<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        old: Option<T>,
        default: T,
    ) -> Option<T> {
        match self.r.get(column) {
            None => Some(old.unwrap_or(default)),
            Some("") => Some(default),
            Some(t) => self.check(column, parse(t)),
        }
    }

    fn done<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldProblem>> {
        if self.problems.is_empty()
            && let Some(v) = build()
        {
            return Ok(v);
        }
        Err(self.problems)
    }
}

fn text(t: &str) -> Result<String, String> {
    Ok(t.to_string())
}

fn key(t: &str) -> Result<String, String> {
    parse_key(t)
}

fn floors(t: &str) -> Result<u32, String> {
    match t.parse::<u32>() {
        Ok(n @ 1..=200) => Ok(n),
        _ => Err(format!("'{t}' is not a valid floor count (1-200)")),
    }
}

fn bus(t: &str) -> Result<u8, String> {
    match t.parse::<u8>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{t}' is not a valid bus number (1-255)")),
    }
}

fn watts(t: &str) -> Result<i64, String> {
    match t.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "'{t}' is not a valid power in W (a whole number above 0)"
        )),
    }
}

fn yuan(t: &str) -> Result<Fen, String> {
    Fen::parse(t).map_err(|e| format!("{e} (an amount in yuan, e.g. 50.00)"))
}

/// Splits a list cell on `;`, `,`, `、` (and their full-width forms).
fn list(t: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in t
        .split([';', ',', '、', '；', '，'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let k = parse_key(part)?;
        if out.contains(&k) {
            return Err(format!("'{k}' is listed twice"));
        }
        out.push(k);
    }
    Ok(out)
}

/// The key of a row (for looking up the stored record), if the key cell is valid.
pub fn row_key(r: &RowView, column: &str) -> Option<String> {
    r.get(column).and_then(|t| parse_key(t).ok())
}

pub fn building(
    r: &RowView,
    existing: &BTreeMap<String, Building>,
) -> Result<Building, Vec<FieldProblem>> {
    let old = row_key(r, "id").and_then(|k| existing.get(&k));
    let mut f = Fields::new(r);
    let id = f.required("id", key);
    let name = f.required("name", text);
    let floors = f.optional("floors", floors, old.and_then(|o| o.floors));
    f.done(|| {
        Some(Building {
            id: BuildingId(id?),
            name: name?,
            floors: floors?,
        })
    })
}

pub fn unit(r: &RowView, existing: &BTreeMap<String, Unit>) -> Result<Unit, Vec<FieldProblem>> {
    let old = row_key(r, "unit").and_then(|k| existing.get(&k));
    let mut f = Fields::new(r);
    let no = f.required("unit", key);
    let building = f.required("building", key);
    let floor = f.required("floor", parse_floor);
    let area = f.optional("area_m2", parse_area_x100, old.and_then(|o| o.area_m2_x100));
    f.done(|| {
        Some(Unit {
            no: UnitNo(no?),
            building: BuildingId(building?),
            floor: floor?,
            area_m2_x100: area?,
        })
    })
}

pub fn gateway(
    r: &RowView,
    _existing: &BTreeMap<String, Gateway>,
) -> Result<Gateway, Vec<FieldProblem>> {
    let mut f = Fields::new(r);
    let id = f.required("id", key);
    let gid = GatewayId(id.clone().unwrap_or_default());
    let name = f.required("name", text);
    let link = f.required("link", GatewayLink::parse);
    let buses = f.required("buses", |t| Gateway::parse_buses(&gid, t));
    f.done(|| {
        Some(Gateway {
            id: GatewayId(id?),
            name: name?,
            link: link?,
            buses: buses?,
        })
    })
}

/// The protocol an address is written for, when the file does not say: 12 digits is a
/// DL/T 645 address, anything else a Modbus slave id.
fn infer_protocol(address: &str) -> Protocol {
    if address.len() == 12 && address.bytes().all(|b| b.is_ascii_digit()) {
        Protocol::Dlt645
    } else {
        Protocol::Modbus
    }
}

pub fn meter(r: &RowView, existing: &BTreeMap<String, Meter>) -> Result<Meter, Vec<FieldProblem>> {
    let old = row_key(r, "id").and_then(|k| existing.get(&k));
    let mut f = Fields::new(r);
    let id = f.required("id", key);
    let address_text = r.get("address").unwrap_or("");
    let protocol = match r.get("protocol") {
        Some(t) if !t.is_empty() => f.check("protocol", Protocol::parse(t)),
        _ => Some(infer_protocol(address_text)),
    };
    let numeric = r.is_numeric("address");
    let address = match protocol {
        Some(p) => f.required("address", |t| {
            MeterAddress::parse(t, p).map_err(|why| {
                if numeric && t.len() > 3 {
                    format!(
                        "{why}; the cell is a number, so leading zeros are lost: format the \
                         column as text"
                    )
                } else {
                    why
                }
            })
        }),
        None => None,
    };
    let profile = f.required("profile", key);
    let phases = f.defaulted("phases", Phases::parse, old.map(|o| o.phases), Phases::One);
    let gateway = f.required("gateway", key);
    let bus = f.required("bus", bus);
    let unit = f.optional("unit", key, old.and_then(|o| o.unit.clone()).map(|u| u.0));
    let billing = f.defaulted(
        "billing",
        parse_billing,
        old.map(|o| o.billing),
        BillingMode::Host,
    );
    let tariff = f.optional("tariff", key, old.and_then(|o| o.tariff.clone()));
    let power = f.optional("power_limit_w", watts, old.and_then(|o| o.power_limit_w));
    let alarm1 = f.optional("alarm1", yuan, old.and_then(|o| o.alarm1));
    let alarm2 = f.optional("alarm2", yuan, old.and_then(|o| o.alarm2));
    let built = (|| {
        Some(Meter {
            id: MeterId(id.clone()?),
            address: address.clone()?,
            protocol: protocol?,
            profile: profile.clone()?,
            phases: phases?,
            gateway: GatewayId(gateway.clone()?),
            bus: bus?,
            unit: unit.clone()?.map(UnitNo),
            billing: billing?,
            tariff: tariff.clone()?,
            power_limit_w: power?,
            alarm1: alarm1?,
            alarm2: alarm2?,
        })
    })();
    if let Some(m) = &built {
        for (column, why) in m.problems() {
            f.push(column, why);
        }
    }
    f.done(|| built)
}

pub fn tenant(
    r: &RowView,
    existing: &BTreeMap<String, Tenant>,
) -> Result<Tenant, Vec<FieldProblem>> {
    let old = row_key(r, "id").and_then(|k| existing.get(&k));
    let mut f = Fields::new(r);
    let id = f.required("id", key);
    let name = f.required("name", text);
    let category = f.required("category", parse_category);
    let phone = f.optional("phone", parse_phone, old.and_then(|o| o.phone.clone()));
    let units = f.defaulted(
        "units",
        list,
        old.map(|o| o.units.iter().map(|u| u.0.clone()).collect()),
        Vec::new(),
    );
    // PINs are never imported: they are set by the tenant or at the counter.
    let pin_hash = old.and_then(|o| o.pin_hash.clone());
    f.done(|| {
        Some(Tenant {
            id: TenantId(id?),
            name: name?,
            category: category?,
            phone: phone?,
            units: units?.into_iter().map(UnitNo).collect(),
            pin_hash,
        })
    })
}
