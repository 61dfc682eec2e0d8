//! Energy of metering meters (计量表): the meters no prepaid account pays for — common-area
//! circuits (lighting, lifts, pumps: meters without a unit) and meters whose account is
//! closed or was never opened — per day, month or year, one row per meter (circuit).
//!
//! Energy follows the energy report's rule and sources (day rollups for closed days, raw
//! readings for the rest: `archive::rollup::daily_energy_in`), summed into the period.

use std::collections::BTreeMap;

use super::params::{Params, ReportError, other};
use super::table::{Cell, Kind, Table};
use crate::ledger::reads;
use crate::site::repo;
use crate::store::{Store, StoreError};
use crate::units::Wh;

/// The `metering-energy` report.
pub fn metering_energy(store: &Store, p: &Params) -> Result<Table, ReportError> {
    let tz = repo::defaults(store).map_err(other)?.tz();
    let units: BTreeMap<String, crate::site::model::Unit> = repo::list_units(store)
        .map_err(other)?
        .into_iter()
        .map(|u| (u.no.to_string(), u))
        .collect();
    let mut meters = Vec::new();
    for m in repo::list_meters(store).map_err(other)? {
        let on_account = reads::meter_account(store, &m.id)
            .map_err(other)?
            .is_some_and(|a| !a.closed);
        if !on_account {
            meters.push(m);
        }
    }
    // The periods of the range, in order.
    let mut keys: Vec<String> = Vec::new();
    let mut d = p.from;
    while d <= p.to {
        let k = p.period.key(d);
        if keys.last() != Some(&k) {
            keys.push(k);
        }
        d = d.tomorrow().map_err(other)?;
    }
    if keys.len() > 400 {
        return Err(ReportError::Param(format!(
            "{} periods is more than 400: make the range shorter or the period longer",
            keys.len()
        )));
    }
    let mut params = vec![
        ("from".to_string(), p.from.to_string()),
        ("to".to_string(), p.to.to_string()),
        ("period".to_string(), p.period.as_str().to_string()),
    ];
    params.push(("meters".into(), meters.len().to_string()));
    let mut cols: Vec<(&str, Kind)> = vec![("meter (circuit)", Kind::Text), ("where", Kind::Text)];
    cols.extend(keys.iter().map(|k| (k.as_str(), Kind::Energy)));
    cols.push(("total kWh", Kind::Energy));
    let mut t = Table::new("Metering meters 计量表用电 (kWh)", params, &cols);
    let mut totals = vec![0i64; keys.len()];
    let txn = redb::ReadableDatabase::begin_read(store.db()).map_err(StoreError::from)?;
    for m in &meters {
        let days = crate::archive::rollup::daily_energy_in(&txn, m.id.as_str(), p.from, p.to, &tz)?;
        let mut row_sums = vec![0i64; keys.len()];
        for (day, wh) in days {
            let k = p.period.key(day);
            if let Some(i) = keys.iter().position(|x| *x == k) {
                row_sums[i] += wh;
            }
        }
        let place = match m.unit.as_ref().and_then(|u| units.get(u.as_str())) {
            Some(u) => format!("{} ({} F{}, no open account)", u.no, u.building, u.floor),
            None => "(common)".to_string(),
        };
        let mut row = vec![Cell::text(m.id.to_string()), Cell::text(place)];
        for (i, v) in row_sums.iter().enumerate() {
            totals[i] += v;
            row.push(Cell::energy(Wh(*v)));
        }
        row.push(Cell::energy(Wh(row_sums.iter().sum())));
        t.rows.push(row);
    }
    let mut row = vec![Cell::text("total"), Cell::text("")];
    row.extend(totals.iter().map(|v| Cell::energy(Wh(*v))));
    row.push(Cell::energy(Wh(totals.iter().sum())));
    t.rows.push(row);
    Ok(t)
}
