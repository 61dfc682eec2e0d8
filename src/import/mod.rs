//! Batch import of buildings, units, gateways, meters and tenants from CSV and XLSX.
//!
//! The whole file is checked before anything is written: the header, every cell, keys
//! that appear twice, references to buildings, gateways, buses, units and tariffs (in the
//! store or earlier in the same import), and meter addresses or tenant units that would
//! clash. Any problem makes the import change nothing and every problem is reported as
//! `FILE:LINE: column 'address': '300' is not a valid address (1-247)`. A clean file is
//! written in one write transaction: rows whose record is unchanged are left alone (so a
//! re-import is a no-op), changed rows update the record with the same key. See
//! docs/import.md for the columns.

pub mod columns;
pub mod records;
pub mod sheet;

use crate::auth::Actor;
use crate::auth::audit;
use crate::site::model::{Building, Gateway, Meter, Tenant, Unit};
use crate::site::repo::{self, Change, Record, SiteError};
use crate::store::Store;
use columns::RowView;
use records::FieldProblem;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    Buildings,
    Units,
    Gateways,
    Meters,
    Tenants,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Buildings => "buildings",
            Kind::Units => "units",
            Kind::Gateways => "gateways",
            Kind::Meters => "meters",
            Kind::Tenants => "tenants",
        }
    }
}

/// One problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// CSV line or sheet row number, from 1.
    pub line: usize,
    pub column: Option<String>,
    pub why: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "{}:{}: column '{}': {}",
                self.file, self.line, c, self.why
            ),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.why),
        }
    }
}

/// Why an import changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {why}")]
    Read { file: String, why: String },
    #[error("{} problem(s) in {file}; nothing was imported", problems.len())]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
    #[error(transparent)]
    Site(#[from] SiteError),
}

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> Self {
        ImportError::Site(e.into())
    }
}
impl From<redb::TransactionError> for ImportError {
    fn from(e: redb::TransactionError) -> Self {
        ImportError::Site(e.into())
    }
}
impl From<redb::CommitError> for ImportError {
    fn from(e: redb::CommitError) -> Self {
        ImportError::Site(e.into())
    }
}
impl From<redb::StorageError> for ImportError {
    fn from(e: redb::StorageError) -> Self {
        ImportError::Site(e.into())
    }
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub kind: Kind,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub dry_run: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} added, {} updated, {} unchanged",
            self.kind.as_str(),
            if self.dry_run {
                "(dry run, nothing written)"
            } else {
                "imported"
            },
            self.added,
            self.updated,
            self.unchanged
        )
    }
}

/// The site as the import sees it: the store's records with the file's rows laid over.
#[derive(Default)]
struct State {
    buildings: BTreeMap<String, Building>,
    units: BTreeMap<String, Unit>,
    gateways: BTreeMap<String, Gateway>,
    meters: BTreeMap<String, Meter>,
    tenants: BTreeMap<String, Tenant>,
    tariffs: BTreeSet<String>,
}

fn by_key<R: Record>(v: Vec<R>) -> BTreeMap<String, R> {
    v.into_iter().map(|r| (r.key().to_string(), r)).collect()
}

impl State {
    fn load(txn: &WriteTransaction) -> Result<State, SiteError> {
        let tariffs = {
            let t = txn.open_table(repo::TARIFFS)?;
            let mut names = BTreeSet::new();
            for row in t.iter()? {
                names.insert(row?.0.value().to_string());
            }
            names
        };
        Ok(State {
            buildings: by_key(repo::list_in(txn)?),
            units: by_key(repo::list_in(txn)?),
            gateways: by_key(repo::list_in(txn)?),
            meters: by_key(repo::list_in(txn)?),
            tenants: by_key(repo::list_in(txn)?),
            tariffs,
        })
    }
}

fn problem(column: &'static str, why: String) -> FieldProblem {
    FieldProblem { column, why }
}

/// A kind of record an import file can hold.
trait Importable: Record {
    const FILE_KIND: Kind;
    /// The column holding the record's key.
    const KEY_COLUMN: &'static str;
    fn map(state: &mut State) -> &mut BTreeMap<String, Self>;
    fn from_row(r: &RowView, existing: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>>;
    /// Problems with what the record refers to, judged against the whole site after import.
    fn references(&self, state: &State) -> Vec<FieldProblem>;
    /// The same reference checks for a row that has bad cells (so no record), from the
    /// cells that are themselves valid: every problem is reported in one pass.
    fn raw_references(_r: &RowView, _state: &State) -> Vec<FieldProblem> {
        Vec::new()
    }
    /// Problems between records (two meters on one address, a unit held twice), as
    /// (line, problem), judged against the whole site after import.
    fn clashes(_rows: &[(usize, Self)], _state: &State) -> Vec<(usize, FieldProblem)> {
        Vec::new()
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError>;
}

fn missing(what: &str, key: &str, kind: &str) -> String {
    format!("{what} '{key}' does not exist; import it first (voltvend import {kind})")
}

impl Importable for Building {
    const FILE_KIND: Kind = Kind::Buildings;
    const KEY_COLUMN: &'static str = "id";
    fn map(s: &mut State) -> &mut BTreeMap<String, Self> {
        &mut s.buildings
    }
    fn from_row(r: &RowView, e: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>> {
        records::building(r, e)
    }
    fn references(&self, s: &State) -> Vec<FieldProblem> {
        // Lowering the floor count below a stored unit would strand it.
        s.units
            .values()
            .filter(|u| u.building == self.id)
            .filter_map(|u| repo::floor_problem(self, u.floor).map(|_| u))
            .take(1)
            .map(|u| {
                problem(
                    "floors",
                    format!(
                        "unit '{}' is on floor {}, above the new top floor",
                        u.no, u.floor
                    ),
                )
            })
            .collect()
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError> {
        repo::upsert_building(txn, actor, self)
    }
}

impl Importable for Unit {
    const FILE_KIND: Kind = Kind::Units;
    const KEY_COLUMN: &'static str = "unit";
    fn map(s: &mut State) -> &mut BTreeMap<String, Self> {
        &mut s.units
    }
    fn from_row(r: &RowView, e: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>> {
        records::unit(r, e)
    }
    fn references(&self, s: &State) -> Vec<FieldProblem> {
        match s.buildings.get(self.building.as_str()) {
            None => vec![problem(
                "building",
                missing("building", self.building.as_str(), "buildings"),
            )],
            Some(b) => repo::floor_problem(b, self.floor)
                .map(|why| problem("floor", why))
                .into_iter()
                .collect(),
        }
    }
    fn raw_references(r: &RowView, s: &State) -> Vec<FieldProblem> {
        match records::row_key(r, "building") {
            Some(b) if !s.buildings.contains_key(&b) => {
                vec![problem("building", missing("building", &b, "buildings"))]
            }
            _ => Vec::new(),
        }
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError> {
        repo::upsert_unit(txn, actor, self)
    }
}

impl Importable for Gateway {
    const FILE_KIND: Kind = Kind::Gateways;
    const KEY_COLUMN: &'static str = "id";
    fn map(s: &mut State) -> &mut BTreeMap<String, Self> {
        &mut s.gateways
    }
    fn from_row(r: &RowView, e: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>> {
        records::gateway(r, e)
    }
    fn references(&self, s: &State) -> Vec<FieldProblem> {
        s.meters
            .values()
            .filter(|m| m.gateway == self.id && self.bus(m.bus).is_none())
            .map(|m| {
                problem(
                    "buses",
                    format!(
                        "bus {} is used by meter '{}'; keep it in the list",
                        m.bus, m.id
                    ),
                )
            })
            .collect()
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError> {
        repo::upsert_gateway(txn, actor, self)
    }
}

impl Importable for Meter {
    const FILE_KIND: Kind = Kind::Meters;
    const KEY_COLUMN: &'static str = "id";
    fn map(s: &mut State) -> &mut BTreeMap<String, Self> {
        &mut s.meters
    }
    fn from_row(r: &RowView, e: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>> {
        records::meter(r, e)
    }
    fn references(&self, s: &State) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        match s.gateways.get(self.gateway.as_str()) {
            None => out.push(problem(
                "gateway",
                missing("gateway", self.gateway.as_str(), "gateways"),
            )),
            Some(g) if g.bus(self.bus).is_none() => {
                out.push(problem("bus", repo::no_such_bus(g, self.bus)))
            }
            Some(_) => {}
        }
        if let Some(u) = &self.unit
            && !s.units.contains_key(u.as_str())
        {
            out.push(problem("unit", missing("unit", u.as_str(), "units")));
        }
        if let Some(t) = &self.tariff
            && !s.tariffs.contains(t)
        {
            out.push(problem("tariff", format!("tariff '{t}' does not exist")));
        }
        out
    }
    fn clashes(rows: &[(usize, Self)], s: &State) -> Vec<(usize, FieldProblem)> {
        // Who holds each (gateway, bus, address) after the import: file rows first, then
        // stored meters the file does not touch.
        let mut slots: BTreeMap<(String, u8, String), (String, Option<usize>)> = BTreeMap::new();
        let in_file: BTreeSet<&str> = rows.iter().map(|(_, m)| m.key()).collect();
        for m in s.meters.values().filter(|m| !in_file.contains(m.key())) {
            slots.insert(slot(m), (m.id.to_string(), None));
        }
        let mut out = Vec::new();
        for (line, m) in rows {
            match slots.get(&slot(m)) {
                Some((other, _)) if other == m.id.as_str() => {}
                Some((other, other_line)) => {
                    let place = format!(
                        "address {} on gateway '{}' bus {}",
                        m.address, m.gateway, m.bus
                    );
                    let why = match other_line {
                        Some(l) => format!("{place} is also used by meter '{other}' (line {l})"),
                        None => format!("{place} is already used by meter '{other}'"),
                    };
                    out.push((*line, problem("address", why)));
                }
                None => {
                    slots.insert(slot(m), (m.id.to_string(), Some(*line)));
                }
            }
        }
        out
    }
    fn raw_references(r: &RowView, s: &State) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        if let Some(g) = records::row_key(r, "gateway") {
            match s.gateways.get(&g) {
                None => out.push(problem("gateway", missing("gateway", &g, "gateways"))),
                Some(gw) => {
                    if let Some(bus) = r.get("bus").and_then(|b| b.parse::<u8>().ok())
                        && bus >= 1
                        && gw.bus(bus).is_none()
                    {
                        out.push(problem("bus", repo::no_such_bus(gw, bus)));
                    }
                }
            }
        }
        if let Some(u) = records::row_key(r, "unit")
            && !s.units.contains_key(&u)
        {
            out.push(problem("unit", missing("unit", &u, "units")));
        }
        if let Some(t) = records::row_key(r, "tariff")
            && !s.tariffs.contains(&t)
        {
            out.push(problem("tariff", format!("tariff '{t}' does not exist")));
        }
        out
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError> {
        repo::upsert_meter(txn, actor, self)
    }
}

fn slot(m: &Meter) -> (String, u8, String) {
    (m.gateway.to_string(), m.bus, m.address.to_string())
}

impl Importable for Tenant {
    const FILE_KIND: Kind = Kind::Tenants;
    const KEY_COLUMN: &'static str = "id";
    fn map(s: &mut State) -> &mut BTreeMap<String, Self> {
        &mut s.tenants
    }
    fn from_row(r: &RowView, e: &BTreeMap<String, Self>) -> Result<Self, Vec<FieldProblem>> {
        records::tenant(r, e)
    }
    fn references(&self, s: &State) -> Vec<FieldProblem> {
        self.units
            .iter()
            .filter(|u| !s.units.contains_key(u.as_str()))
            .map(|u| problem("units", missing("unit", u.as_str(), "units")))
            .collect()
    }
    fn clashes(rows: &[(usize, Self)], s: &State) -> Vec<(usize, FieldProblem)> {
        let in_file: BTreeSet<&str> = rows.iter().map(|(_, t)| t.key()).collect();
        let mut holder: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
        for t in s.tenants.values().filter(|t| !in_file.contains(t.key())) {
            for u in &t.units {
                holder.insert(u.to_string(), (t.id.to_string(), None));
            }
        }
        let mut out = Vec::new();
        for (line, t) in rows {
            for u in &t.units {
                match holder.get(u.as_str()) {
                    Some((other, other_line)) => {
                        let why = match other_line {
                            Some(l) => {
                                format!("unit '{u}' is also given to tenant '{other}' (line {l})")
                            }
                            None => format!("unit '{u}' already belongs to tenant '{other}'"),
                        };
                        out.push((*line, problem("units", why)));
                    }
                    None => {
                        holder.insert(u.to_string(), (t.id.to_string(), Some(*line)));
                    }
                }
            }
        }
        out
    }
    fn raw_references(r: &RowView, s: &State) -> Vec<FieldProblem> {
        let cell = r.get("units").unwrap_or("");
        cell.split([';', ',', '、', '；', '，'])
            .map(str::trim)
            .filter(|u| !u.is_empty() && !s.units.contains_key(*u))
            .map(|u| problem("units", missing("unit", u, "units")))
            .collect()
    }
    fn upsert(&self, txn: &WriteTransaction, actor: &Actor) -> Result<Change, SiteError> {
        repo::upsert_tenant(txn, actor, self)
    }
}

/// Imports `path` as records of `kind`. With `dry_run` everything is checked and counted
/// but the transaction is aborted.
pub fn import_file(
    store: &Store,
    actor: &Actor,
    kind: Kind,
    path: &Path,
    dry_run: bool,
) -> Result<Report, ImportError> {
    match kind {
        Kind::Buildings => run::<Building>(store, actor, path, dry_run),
        Kind::Units => run::<Unit>(store, actor, path, dry_run),
        Kind::Gateways => run::<Gateway>(store, actor, path, dry_run),
        Kind::Meters => run::<Meter>(store, actor, path, dry_run),
        Kind::Tenants => run::<Tenant>(store, actor, path, dry_run),
    }
}

fn run<R: Importable + Send + 'static>(
    store: &Store,
    actor: &Actor,
    path: &Path,
    dry_run: bool,
) -> Result<Report, ImportError> {
    let file = path.display().to_string();
    let sheet = sheet::read(path, R::FILE_KIND.as_str()).map_err(|e| ImportError::Read {
        file: file.clone(),
        why: e.why,
    })?;
    let layout = columns::layout(R::FILE_KIND, &sheet).map_err(|hp| ImportError::Invalid {
        file: file.clone(),
        problems: hp
            .into_iter()
            .map(|why| problem_at(&file, sheet.header_line, None, why))
            .collect(),
    })?;

    // The checks run inside the write transaction so that they see exactly the state the
    // rows will be written over; any problem is an Err, which rolls it back. A dry run is
    // rolled back the same way, carrying its report out.
    let actor = actor.clone();
    let outcome = store.write(move |txn| {
        match check_and_write::<R>(txn, &actor, &sheet, &layout, &file, dry_run) {
            Ok(report) if dry_run => Err(Abandoned::DryRun(report)),
            Ok(report) => Ok(report),
            Err(e) => Err(Abandoned::Failed(e)),
        }
    });
    match outcome {
        Ok(report) | Err(Abandoned::DryRun(report)) => Ok(report),
        Err(Abandoned::Failed(e)) => Err(e),
    }
}

/// Why an import's transaction was not committed.
enum Abandoned {
    /// Checked, counted, and rolled back on purpose.
    DryRun(Report),
    Failed(ImportError),
}

impl From<crate::store::StoreError> for Abandoned {
    fn from(e: crate::store::StoreError) -> Self {
        Abandoned::Failed(e.into())
    }
}

fn problem_at(file: &str, line: usize, column: Option<&str>, why: String) -> Problem {
    Problem {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        why,
    }
}

/// Checks every row of `sheet` against the store as `txn` sees it and, when nothing is
/// wrong, writes them (and the audit entry) in `txn`.
fn check_and_write<R: Importable>(
    txn: &WriteTransaction,
    actor: &Actor,
    sheet: &sheet::Sheet,
    layout: &columns::Layout,
    file: &str,
    dry_run: bool,
) -> Result<Report, ImportError> {
    let at = |line: usize, column: Option<&str>, why: String| problem_at(file, line, column, why);
    let mut state = State::load(txn)?;
    let mut problems: Vec<Problem> = Vec::new();
    let mut rows: Vec<(usize, R)> = Vec::new();
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad_rows = Vec::new();
    for row in &sheet.rows {
        let extra = row.cells.len().saturating_sub(layout.width());
        if row.cells[layout.width().min(row.cells.len())..]
            .iter()
            .any(|c| !c.text.trim().is_empty())
        {
            problems.push(at(
                row.line,
                None,
                format!(
                    "the row has {} cells, the header has {}",
                    layout.width() + extra,
                    layout.width()
                ),
            ));
            continue;
        }
        let view = layout.view(row);
        match R::from_row(&view, R::map(&mut state)) {
            Ok(rec) => {
                if let Some(first) = first_line.get(rec.key()) {
                    problems.push(at(
                        row.line,
                        Some(R::KEY_COLUMN),
                        format!("'{}' is also on line {first}", rec.key()),
                    ));
                    continue;
                }
                first_line.insert(rec.key().to_string(), row.line);
                rows.push((row.line, rec));
            }
            Err(fps) => {
                // A bad row still claims its key, so a later duplicate is reported too.
                if let Some(k) = records::row_key(&view, R::KEY_COLUMN) {
                    if let Some(first) = first_line.get(&k) {
                        problems.push(at(
                            row.line,
                            Some(R::KEY_COLUMN),
                            format!("'{k}' is also on line {first}"),
                        ));
                    } else {
                        first_line.insert(k, row.line);
                    }
                }
                problems.extend(
                    fps.into_iter()
                        .map(|fp| at(row.line, Some(fp.column), fp.why)),
                );
                bad_rows.push(row);
            }
        }
    }
    for (_, rec) in &rows {
        R::map(&mut state).insert(rec.key().to_string(), rec.clone());
    }
    for (line, rec) in &rows {
        for fp in rec.references(&state) {
            problems.push(at(*line, Some(fp.column), fp.why));
        }
    }
    for row in bad_rows {
        for fp in R::raw_references(&layout.view(row), &state) {
            problems.push(at(row.line, Some(fp.column), fp.why));
        }
    }
    for (line, fp) in R::clashes(&rows, &state) {
        problems.push(at(line, Some(fp.column), fp.why));
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(ImportError::Invalid {
            file: file.to_string(),
            problems,
        });
    }

    let mut report = Report {
        kind: R::FILE_KIND,
        added: 0,
        updated: 0,
        unchanged: 0,
        dry_run,
    };
    for (line, rec) in &rows {
        match rec.upsert(txn, actor) {
            Ok(Change::Added) => report.added += 1,
            Ok(Change::Updated) => report.updated += 1,
            Ok(Change::Unchanged) => report.unchanged += 1,
            // The checks above should have caught this; report it the same way.
            Err(SiteError::Invalid { field, why, .. }) => {
                problems.push(at(*line, Some(field), why));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid {
            file: file.to_string(),
            problems,
        });
    }
    if report.added + report.updated > 0 {
        audit::append_in(
            txn,
            actor,
            &format!("import.{}", R::FILE_KIND.as_str()),
            serde_json::json!({
                "file": file,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }),
        )?;
    }
    Ok(report)
}

/// Every row of every table of the store as text, for checking that a failed import left
/// the store exactly as it was (tests, `voltvend check --store`).
pub fn dump(store: &Store) -> Result<Vec<String>, SiteError> {
    let txn = store.db().begin_read()?;
    let mut out = Vec::new();
    for def in [
        repo::BUILDINGS,
        repo::UNITS,
        repo::GATEWAYS,
        repo::METERS,
        repo::TENANTS,
        repo::TARIFFS,
        repo::SETTINGS,
    ] {
        if let Ok(t) = txn.open_table(def) {
            for row in t.iter()? {
                let (k, v) = row?;
                out.push(format!(
                    "{def}:{}={}",
                    k.value(),
                    String::from_utf8_lossy(v.value())
                ));
            }
        }
    }
    for def in [repo::METER_ADDRESSES, repo::UNIT_TENANTS] {
        if let Ok(t) = txn.open_table(def) {
            for row in t.iter()? {
                let (k, v) = row?;
                out.push(format!("{def}:{}={}", k.value(), v.value()));
            }
        }
    }
    if let Ok(t) = txn.open_table(audit::AUDIT) {
        for row in t.iter()? {
            let (k, v) = row?;
            out.push(format!(
                "audit:{}={}",
                k.value(),
                String::from_utf8_lossy(v.value())
            ));
        }
    }
    Ok(out)
}
