//! The reports: pure functions from the store (ledger operations, readings, site model,
//! alarm book) to a [`Table`]. Days, months and years are the site's (time zone from the
//! site defaults); ranges are whole local days, `from` and `to` both included.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;

use super::params::{Group, Params, Period, ReportError, other};
use super::table::{Cell, Kind, Table};
use crate::alarm::{AlarmKind, book};
use crate::field::readings;
use crate::ledger::{OpDetail, OpFilter, reads};
use crate::site::model::{Meter, Tenant};
use crate::site::repo;
use crate::store::{Store, StoreError};
use crate::units::{Fen, Wh};

/// Every report: (name, what it shows).
pub const REPORTS: &[(&str, &str)] = &[
    (
        "sales",
        "sales, refunds, reversals and net by day/month/year, payment method and operator",
    ),
    (
        "energy",
        "energy per day by building, floor, unit or meter (common-area meters under \"(common)\"), with totals",
    ),
    (
        "metering-energy",
        "energy of metering meters (common-area circuits, meters on no open account) per day, month or year, with totals",
    ),
    (
        "status",
        "every meter's status now: balance, relay, reading, status colour",
    ),
    ("offline-meters", "meters offline now, since when"),
    ("offline-gateways", "gateways offline now, since when"),
    ("alarms", "real-time (active) alarms"),
    ("alarm-history", "every alarm raised in the range"),
    ("readings", "the stored readings of one meter (--meter)"),
    ("accounts", "open and close records"),
];

struct Ctx {
    tz: jiff::tz::TimeZone,
    start: Timestamp,
    end: Timestamp,
}

fn ctx(store: &Store, p: &Params) -> Result<Ctx, ReportError> {
    let tz = repo::defaults(store).map_err(other)?.tz();
    let at = |d: Date| -> Result<Timestamp, ReportError> {
        d.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(other)
    };
    let end_day = p.to.tomorrow().map_err(other)?;
    Ok(Ctx {
        start: at(p.from)?,
        end: at(end_day)?,
        tz,
    })
}

/// Runs the report `name`.
pub fn run(store: &Store, name: &str, p: &Params) -> Result<Table, ReportError> {
    match name {
        "sales" => sales(store, p),
        "energy" => energy(store, p),
        "metering-energy" => super::metering::metering_energy(store, p),
        "status" => status(store),
        "offline-meters" => offline(store, AlarmKind::MeterOffline),
        "offline-gateways" => offline(store, AlarmKind::GatewayOffline),
        "alarms" => alarms(store, None),
        "alarm-history" => alarms(store, Some(p)),
        "readings" => meter_readings(store, p),
        "accounts" => accounts(store, p),
        n => Err(ReportError::Unknown(
            n.to_string(),
            REPORTS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

fn period_key(at: Timestamp, tz: &jiff::tz::TimeZone, p: Period) -> String {
    p.key(at.to_zoned_datetime(tz.clone()).date())
}

fn all_ops(store: &Store) -> Result<Vec<crate::ledger::Operation>, ReportError> {
    reads::operations(store, &OpFilter::default()).map_err(other)
}

/// The effect of an operation on tenant balances (sum of its tenant postings).
fn tenant_effect(op: &crate::ledger::Operation) -> i64 {
    op.postings
        .iter()
        .filter(|p| p.account.starts_with("tenant:"))
        .map(|p| p.amount.0)
        .sum()
}

fn sales(store: &Store, p: &Params) -> Result<Table, ReportError> {
    let c = ctx(store, p)?;
    // (period, method, operator) → (count, sales, refunds, reversals)
    type Key = (String, String, String);
    let mut rows: BTreeMap<Key, (i64, i64, i64, i64)> = BTreeMap::new();
    for op in all_ops(store)? {
        if op.at < c.start || op.at >= c.end {
            continue;
        }
        let (method, add) = match &op.detail {
            OpDetail::Sale { amount, method, .. } => (method.clone(), (1, amount.0, 0, 0)),
            OpDetail::Refund { amount, .. } => ("refund".to_string(), (0, 0, amount.0, 0)),
            // A meter-mode refund the meter refused: the money went back on the account.
            OpDetail::RefundSettled {
                amount,
                paid: false,
                ..
            } => ("refund".to_string(), (0, 0, -amount.0, 0)),
            OpDetail::Reverse { .. } => ("reversal".to_string(), (0, 0, 0, tenant_effect(&op))),
            _ => continue,
        };
        let key = (period_key(op.at, &c.tz, p.period), method, op.actor.label());
        let e = rows.entry(key).or_default();
        e.0 += add.0;
        e.1 += add.1;
        e.2 += add.2;
        e.3 += add.3;
    }
    let title = match p.period {
        Period::Day => "Daily sales 日售电",
        Period::Month => "Monthly sales 月售电",
        Period::Year => "Yearly sales 年售电",
    };
    let mut t = Table::new(
        title,
        p.range_params(),
        &[
            ("period", Kind::Text),
            ("method", Kind::Text),
            ("operator", Kind::Text),
            ("sales", Kind::Int),
            ("sales amount", Kind::Money),
            ("refunds", Kind::Money),
            ("reversals", Kind::Money),
            ("net", Kind::Money),
        ],
    );
    let mut total = (0, 0, 0, 0);
    for ((period, method, operator), (n, s, r, v)) in rows {
        total = (total.0 + n, total.1 + s, total.2 + r, total.3 + v);
        t.rows.push(vec![
            Cell::text(period),
            Cell::text(method),
            Cell::text(operator),
            Cell::Int(n),
            Cell::money(Fen(s)),
            Cell::money(Fen(r)),
            Cell::money(Fen(v)),
            Cell::money(Fen(s - r + v)),
        ]);
    }
    t.rows.push(vec![
        Cell::text("total"),
        Cell::Empty,
        Cell::Empty,
        Cell::Int(total.0),
        Cell::money(Fen(total.1)),
        Cell::money(Fen(total.2)),
        Cell::money(Fen(total.3)),
        Cell::money(Fen(total.1 - total.2 + total.3)),
    ]);
    Ok(t)
}

fn group_key(m: &Meter, units: &HashMap<String, crate::site::model::Unit>, g: Group) -> String {
    let unit = m.unit.as_ref().and_then(|u| units.get(u.as_str()));
    match g {
        Group::Meter => m.id.to_string(),
        Group::Unit => m.unit.as_ref().map_or("(common)".into(), |u| u.to_string()),
        Group::Floor => unit.map_or("(common)".into(), |u| {
            format!("{} F{}", u.building, u.floor)
        }),
        Group::Building => unit.map_or("(common)".into(), |u| u.building.to_string()),
    }
}

fn energy(store: &Store, p: &Params) -> Result<Table, ReportError> {
    let c = ctx(store, p)?;
    let meters = repo::list_meters(store).map_err(other)?;
    let units: HashMap<String, crate::site::model::Unit> = repo::list_units(store)
        .map_err(other)?
        .into_iter()
        .map(|u| (u.no.to_string(), u))
        .collect();
    let mut days = Vec::new();
    let mut d = p.from;
    while d <= p.to {
        days.push(d);
        d = d.tomorrow().map_err(other)?;
    }
    if days.len() > 400 {
        return Err(ReportError::Param(format!(
            "{} days is more than 400: make the range shorter",
            days.len()
        )));
    }
    let mut by_group: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    // One read transaction: the whole report sees one state of rollups and readings.
    let txn = redb::ReadableDatabase::begin_read(store.db()).map_err(StoreError::from)?;
    for m in &meters {
        // Closed days from the daily rollups, the rest from raw readings (same rule).
        let per_day =
            crate::archive::rollup::daily_energy_in(&txn, m.id.as_str(), p.from, p.to, &c.tz)?;
        let row = by_group
            .entry(group_key(m, &units, p.group))
            .or_insert_with(|| vec![0; days.len()]);
        for (i, d) in days.iter().enumerate() {
            row[i] += per_day.get(d).copied().unwrap_or(0);
        }
    }
    let g = match p.group {
        Group::Building => "building",
        Group::Floor => "floor",
        Group::Unit => "unit",
        Group::Meter => "meter",
    };
    let mut params = p.range_params();
    params.push(("by".into(), g.into()));
    let day_names: Vec<String> = days
        .iter()
        .map(|d| format!("{:02}-{:02}", d.month(), d.day()))
        .collect();
    let mut cols: Vec<(&str, Kind)> = vec![(g, Kind::Text)];
    cols.extend(day_names.iter().map(|n| (n.as_str(), Kind::Energy)));
    cols.push(("total kWh", Kind::Energy));
    let mut t = Table::new("Energy 用电量分析 (kWh)", params, &cols);
    let mut totals = vec![0i64; days.len()];
    for (k, v) in by_group {
        let mut row = vec![Cell::text(k)];
        for (i, x) in v.iter().enumerate() {
            totals[i] += x;
            row.push(Cell::energy(Wh(*x)));
        }
        row.push(Cell::energy(Wh(v.iter().sum())));
        t.rows.push(row);
    }
    let mut row = vec![Cell::text("total")];
    row.extend(totals.iter().map(|x| Cell::energy(Wh(*x))));
    row.push(Cell::energy(Wh(totals.iter().sum())));
    t.rows.push(row);
    Ok(t)
}

fn tenant_of<'a>(m: &Meter, tenants: &'a [Tenant]) -> Option<&'a Tenant> {
    let u = m.unit.as_ref()?;
    tenants.iter().find(|t| t.units.contains(u))
}

fn status(store: &Store) -> Result<Table, ReportError> {
    let meters = repo::list_meters(store).map_err(other)?;
    let tenants = repo::list_tenants(store).map_err(other)?;
    let defaults = repo::defaults(store).map_err(other)?;
    let balances = reads::balances(store).map_err(other)?;
    let offline: std::collections::HashSet<String> = book::active(store)?
        .into_iter()
        .filter(|a| a.kind == AlarmKind::MeterOffline)
        .map(|a| a.subject)
        .collect();
    let mut t = Table::new(
        "Meter status 电表实时状态",
        vec![(
            "at".into(),
            Timestamp::now()
                .to_zoned_datetime(defaults.tz())
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
        )],
        &[
            ("meter", Kind::Text),
            ("unit", Kind::Text),
            ("tenant", Kind::Text),
            ("billing", Kind::Text),
            ("status", Kind::Text),
            ("balance", Kind::Money),
            ("relay", Kind::Text),
            ("power W", Kind::Int),
            ("reading kWh", Kind::Energy),
            ("read at", Kind::Text),
        ],
    );
    for m in &meters {
        let tenant = tenant_of(m, &tenants);
        let balance = tenant.and_then(|t| balances.get(&format!("tenant:{}", t.id)).copied());
        let latest = readings::latest(store, &m.id)?;
        let (a1, a2) = m.alarm_levels(&defaults);
        let status = if offline.contains(&format!("meter:{}", m.id)) {
            "offline"
        } else {
            match balance {
                None => "unopened",
                Some(b) => match crate::alarm::model::balance_level(b, a1, a2) {
                    Some(AlarmKind::Arrears) => "arrears",
                    Some(AlarmKind::Level2) => "alarm 2",
                    Some(AlarmKind::Level1) => "alarm 1",
                    _ => "opened",
                },
            }
        };
        t.rows.push(vec![
            Cell::text(m.id.to_string()),
            Cell::text(m.unit.as_ref().map(|u| u.to_string()).unwrap_or_default()),
            Cell::text(tenant.map(|t| t.name.clone()).unwrap_or_default()),
            Cell::text(m.billing.to_string()),
            Cell::text(status),
            balance.map_or(Cell::Empty, Cell::money),
            Cell::text(
                latest
                    .as_ref()
                    .and_then(|r| r.relay)
                    .map(|r| r.as_str())
                    .unwrap_or(""),
            ),
            latest
                .as_ref()
                .and_then(|r| r.power_w)
                .map_or(Cell::Empty, Cell::Int),
            latest
                .as_ref()
                .map_or(Cell::Empty, |r| Cell::energy(r.total)),
            Cell::text(
                latest
                    .map(|r| {
                        r.at.to_zoned_datetime(defaults.tz())
                            .strftime("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
            ),
        ]);
    }
    Ok(t)
}

fn offline(store: &Store, kind: AlarmKind) -> Result<Table, ReportError> {
    let tz = repo::defaults(store).map_err(other)?.tz();
    let title = if kind == AlarmKind::MeterOffline {
        "Offline meters 离线电表"
    } else {
        "Offline gateways 离线网关"
    };
    let meters: HashMap<String, Meter> = repo::list_meters(store)
        .map_err(other)?
        .into_iter()
        .map(|m| (m.id.to_string(), m))
        .collect();
    let mut t = Table::new(
        title,
        vec![],
        &[
            ("id", Kind::Text),
            ("unit", Kind::Text),
            ("gateway", Kind::Text),
            ("offline since", Kind::Text),
            ("detail", Kind::Text),
        ],
    );
    for a in book::active(store)?.into_iter().filter(|a| a.kind == kind) {
        let id = a
            .subject
            .split_once(':')
            .map_or(a.subject.as_str(), |(_, x)| x)
            .to_string();
        let m = meters.get(&id);
        t.rows.push(vec![
            Cell::text(id.clone()),
            Cell::text(
                m.and_then(|m| m.unit.as_ref())
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
            ),
            Cell::text(
                m.map(|m| format!("{} bus {}", m.gateway, m.bus))
                    .unwrap_or_else(|| id.clone()),
            ),
            Cell::text(
                a.raised_at
                    .to_zoned_datetime(tz.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string(),
            ),
            Cell::text(a.detail),
        ]);
    }
    Ok(t)
}

fn alarms(store: &Store, range: Option<&Params>) -> Result<Table, ReportError> {
    let tz = repo::defaults(store).map_err(other)?.tz();
    let (list, title, params) = match range {
        None => (book::active(store)?, "Real-time alarms 实时报警", vec![]),
        Some(p) => {
            let c = ctx(store, p)?;
            (
                book::history(store, c.start, c.end)?,
                "Alarm history 历史报警",
                p.range_params(),
            )
        }
    };
    let mut t = Table::new(
        title,
        params,
        &[
            ("id", Kind::Int),
            ("kind", Kind::Text),
            ("subject", Kind::Text),
            ("raised", Kind::Text),
            ("value", Kind::Int),
            ("detail", Kind::Text),
            ("acknowledged by", Kind::Text),
            ("cleared", Kind::Text),
        ],
    );
    let fmt = |ts: Timestamp| {
        ts.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    for a in list {
        t.rows.push(vec![
            Cell::Int(a.id as i64),
            Cell::text(a.kind.as_str()),
            Cell::text(a.subject),
            Cell::text(fmt(a.raised_at)),
            a.value.map_or(Cell::Empty, Cell::Int),
            Cell::text(a.detail),
            Cell::text(a.acked_by.unwrap_or_default()),
            Cell::text(a.cleared_at.map(fmt).unwrap_or_default()),
        ]);
    }
    Ok(t)
}

fn meter_readings(store: &Store, p: &Params) -> Result<Table, ReportError> {
    let meter = p
        .meter
        .clone()
        .ok_or_else(|| ReportError::Param("the readings report needs --meter".into()))?;
    if repo::get_meter(store, &meter).map_err(other)?.is_none() {
        return Err(ReportError::Param(format!("no meter {meter}")));
    }
    let c = ctx(store, p)?;
    let mut params = vec![("meter".into(), meter.to_string())];
    params.extend(p.range_params());
    let mut t = Table::new(
        "Readings 抄表记录",
        params,
        &[
            ("time", Kind::Text),
            ("reading kWh", Kind::Energy),
            ("power W", Kind::Int),
            ("balance", Kind::Money),
            ("relay", Kind::Text),
        ],
    );
    for r in readings::history(store, &meter, c.start, c.end)? {
        t.rows.push(vec![
            Cell::text(
                r.at.to_zoned_datetime(c.tz.clone())
                    .strftime("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            ),
            Cell::energy(r.total),
            r.power_w.map_or(Cell::Empty, Cell::Int),
            r.balance.map_or(Cell::Empty, Cell::money),
            Cell::text(r.relay.map(|x| x.as_str()).unwrap_or("")),
        ]);
    }
    Ok(t)
}

fn accounts(store: &Store, p: &Params) -> Result<Table, ReportError> {
    let c = ctx(store, p)?;
    let mut t = Table::new(
        "Open and close records 开户销户记录",
        p.range_params(),
        &[
            ("time", Kind::Text),
            ("record", Kind::Text),
            ("tenant", Kind::Text),
            ("meters", Kind::Text),
            ("transferred in", Kind::Money),
            ("refunded", Kind::Money),
            ("arrears written off", Kind::Money),
            ("operator", Kind::Text),
        ],
    );
    for op in all_ops(store)? {
        if op.at < c.start || op.at >= c.end {
            continue;
        }
        let time = Cell::text(
            op.at
                .to_zoned_datetime(c.tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
        );
        let tenant = Cell::text(
            op.tenant
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
        );
        let row = match &op.detail {
            OpDetail::OpenAccount {
                meters,
                transfer_in,
            } => vec![
                time,
                Cell::text("open"),
                tenant,
                Cell::text(
                    meters
                        .iter()
                        .map(|m| m.meter.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                transfer_in
                    .as_ref()
                    .map_or(Cell::Empty, |x| Cell::money(x.amount)),
                Cell::Empty,
                Cell::Empty,
                Cell::text(op.actor.label()),
            ],
            OpDetail::CloseAccount {
                refunded,
                arrears,
                meters,
                ..
            } => vec![
                time,
                Cell::text("close"),
                tenant,
                Cell::text(
                    meters
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Cell::Empty,
                Cell::money(*refunded),
                Cell::money(*arrears),
                Cell::text(op.actor.label()),
            ],
            _ => continue,
        };
        t.rows.push(row);
    }
    Ok(t)
}
