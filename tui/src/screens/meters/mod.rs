//! Meters table (filter, sort, status colours, legend) and meter detail: the state, what
//! the keys do, and the draw.
//!
//! Only the visible page of rows is turned into widgets, so thousands of meters draw fast.

use crate::api::ApiErr;
use crate::app::{Confirm, Pending as AnyPending};
use crate::data::SiteData;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{self, Action, Context};
use crate::types::{CommandLine, CommandQueued, CommandRequest, MeterView, ReadingView};
use crate::widgets::{Status, meter_status};
use std::collections::{BTreeSet, HashMap};

mod draw;
mod filter;
pub use draw::draw;
pub use filter::Filter;

/// A meter as the table shows it: the daemon's view, joined with its tenant.
#[derive(Debug, Clone)]
pub struct MeterRow {
    pub view: MeterView,
    pub tenant_name: String,
    /// The tenant's account balance, when it has an account.
    pub balance_fen: Option<i64>,
    pub status: Status,
    /// Lower-case text the `/` filter searches (meter, unit, tenant id and name, status).
    pub search: String,
}

impl std::ops::Deref for MeterRow {
    type Target = MeterView;
    fn deref(&self) -> &MeterView {
        &self.view
    }
}

impl MeterRow {
    pub fn status(&self) -> Status {
        self.status
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Unit,
    Meter,
    Status,
    Power,
    Balance,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Unit => SortKey::Meter,
            SortKey::Meter => SortKey::Status,
            SortKey::Status => SortKey::Power,
            SortKey::Power => SortKey::Balance,
            SortKey::Balance => SortKey::Unit,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Unit => "unit",
            SortKey::Meter => "meter",
            SortKey::Status => "status",
            SortKey::Power => "power",
            SortKey::Balance => "balance",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MeterDetail {
    pub meter: String,
    /// Recent power readings (W), oldest first, for the sparkline.
    pub power: Vec<u64>,
    pub energy_wh: Vec<i64>,
    /// Commands sent from this console session: (outbox id, command).
    pub history: Vec<(u64, String)>,
    /// The meter's command history from the daemon, newest first: (id, command, state, by).
    pub commands: Vec<(u64, String, String, String)>,
}

impl MeterDetail {
    fn set_commands(&mut self, list: Vec<CommandLine>) {
        self.commands = list
            .into_iter()
            .map(|c| (c.id, c.command, c.state, c.by))
            .collect();
    }
}

#[derive(Debug, Clone)]
pub struct MetersState {
    pub rows: Vec<MeterRow>,
    /// Indices into `rows` after filter and sort (recomputed on change, not per frame).
    pub view: Vec<usize>,
    pub filter: String,
    pub filtering: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub selected: usize,
    pub detail: Option<MeterDetail>,
    /// Meters marked for a batch (by id, so marks survive refresh, filter and sort).
    pub marked: BTreeSet<String>,
}

impl Default for MetersState {
    fn default() -> Self {
        MetersState {
            rows: Vec::new(),
            view: Vec::new(),
            filter: String::new(),
            filtering: false,
            sort: SortKey::Unit,
            desc: false,
            selected: 0,
            detail: None,
            marked: BTreeSet::new(),
        }
    }
}

/// A meter command waiting for the operator's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub meter: String,
    pub command: String,
}

pub enum Reply {
    Detail {
        meter: String,
        readings: Result<Vec<ReadingView>, ApiErr>,
        commands: Option<Vec<CommandLine>>,
    },
    Commands {
        meter: String,
        list: Vec<CommandLine>,
    },
    Queued {
        meter: String,
        command: String,
        result: Result<CommandQueued, ApiErr>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Meters(r)
    }
}

/// The meter's command history, or nothing when it cannot be read (the detail shows the
/// rest).
fn load_commands(meter: String) -> Effect {
    Effect::call(move |api| {
        let r = api.meter_commands(&meter);
        match r {
            Ok(list) => Reply::Commands { meter, list }.into(),
            Err(_) => AnyReply::None,
        }
    })
}

impl MetersState {
    pub fn context(&self) -> Context {
        if self.filtering {
            Context::Typing
        } else if self.detail.is_some() {
            Context::MeterDetail
        } else {
            Context::Meters
        }
    }

    pub fn selected_meter(&self) -> Option<&MeterRow> {
        self.view.get(self.selected).map(|i| &self.rows[*i])
    }

    /// Replaces the meter rows, joining tenant names/balances and statuses.
    pub fn set_rows(&mut self, views: Vec<MeterView>, data: &SiteData) {
        // A map, not a scan per meter: sites have thousands of meters and tenants.
        let by_id: HashMap<&str, _> = data
            .tenants
            .iter()
            .map(|t| (t.tenant.as_str(), t))
            .collect();
        let rows = views
            .into_iter()
            .map(|view| {
                let t = view.tenant.as_deref().and_then(|id| by_id.get(id).copied());
                let tenant_name = t.map(|t| t.name.clone()).unwrap_or_default();
                let balance_fen = t.filter(|t| t.has_account).map(|t| t.balance_fen);
                let status =
                    meter_status(view.online, balance_fen, data.alarm1_fen, data.alarm2_fen);
                let search = format!(
                    "{} {} {} {} {}",
                    view.meter,
                    view.unit.as_deref().unwrap_or(""),
                    view.tenant.as_deref().unwrap_or(""),
                    tenant_name,
                    status.label()
                )
                .to_lowercase();
                MeterRow {
                    view,
                    tenant_name,
                    balance_fen,
                    status,
                    search,
                }
            })
            .collect();
        let keep = self.selected_meter().map(|r| r.meter.clone());
        self.rows = rows;
        self.apply_view();
        if let Some(k) = keep
            && let Some(p) = self.view.iter().position(|i| self.rows[*i].meter == k)
        {
            self.selected = p;
        }
    }

    /// Recomputes the filtered, sorted index list.
    pub fn apply_view(&mut self) {
        let filter = Filter::parse(&self.filter);
        let rows = &self.rows;
        let mut v: Vec<usize> = (0..rows.len())
            .filter(|i| filter.matches(&rows[*i]))
            .collect();
        let key = self.sort;
        v.sort_by(|a, b| {
            let (x, y) = (&rows[*a], &rows[*b]);
            let o = match key {
                // Meters without a unit (spares, common areas) go last.
                SortKey::Unit => (x.unit.is_none(), &x.unit).cmp(&(y.unit.is_none(), &y.unit)),
                SortKey::Meter => x.meter.cmp(&y.meter),
                SortKey::Status => x.status().cmp(&y.status()),
                SortKey::Power => x.power_w.cmp(&y.power_w),
                SortKey::Balance => x.balance_fen.cmp(&y.balance_fen),
            };
            o.then_with(|| x.meter.cmp(&y.meter))
        });
        if self.desc {
            v.reverse();
        }
        self.view = v;
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    pub fn type_char(&mut self, c: char) {
        crate::screens::push_char(&mut self.filter, c);
        self.apply_view();
    }

    /// Keys while typing the filter.
    pub fn typing(&mut self, a: Action) -> Effect {
        match a {
            Action::Backspace => {
                self.filter.pop();
                self.apply_view();
            }
            Action::Back => {
                self.filtering = false;
                self.filter.clear();
                self.apply_view();
            }
            Action::Submit => self.filtering = false,
            _ => {}
        }
        Effect::None
    }

    pub fn on_action(&mut self, a: Action) -> Effect {
        match a {
            Action::Mark => return self.toggle_mark(),
            Action::ClearMarks => {
                let n = self.marked.len();
                self.marked.clear();
                return Effect::info(format!("{n} marks cleared"));
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.cursor(a),
            Action::StartFilter => {
                self.filtering = true;
                self.detail = None;
            }
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.apply_view();
            }
            Action::ReverseSort => {
                self.desc = !self.desc;
                self.apply_view();
            }
            Action::Open => return self.open_meter(),
            Action::Back if self.detail.is_some() => self.detail = None,
            Action::Back => {
                self.filter.clear();
                self.apply_view();
            }
            Action::Command(c) => return self.ask_command(c),
            _ => {}
        }
        Effect::None
    }

    fn cursor(&mut self, a: Action) {
        let len = self.view.len();
        let cur = &mut self.selected;
        if len == 0 {
            *cur = 0;
            return;
        }
        let page = 20;
        *cur = match a {
            Action::Up => cur.saturating_sub(1),
            Action::Down => (*cur + 1).min(len - 1),
            Action::PageUp => cur.saturating_sub(page),
            Action::PageDown => (*cur + page).min(len - 1),
            Action::Top => 0,
            _ => len - 1,
        };
    }

    fn toggle_mark(&mut self) -> Effect {
        let Some(id) = self.selected_meter().map(|m| m.meter.clone()) else {
            return Effect::None;
        };
        if !self.marked.remove(&id) {
            self.marked.insert(id);
        }
        // Marking moves on, so a run of meters is marked with repeated Space.
        self.cursor(Action::Down);
        Effect::info(format!(
            "{} marked — b runs a batch on them",
            self.marked.len()
        ))
    }

    fn open_meter(&mut self) -> Effect {
        let Some(meter) = self.selected_meter().map(|m| m.meter.clone()) else {
            return Effect::None;
        };
        Effect::call(move |api| {
            let readings = api.readings(&meter);
            let commands = api.meter_commands(&meter).ok();
            Reply::Detail {
                meter,
                readings,
                commands,
            }
            .into()
        })
    }

    fn ask_command(&self, command: &'static str) -> Effect {
        let Some(m) = self.selected_meter() else {
            return Effect::None;
        };
        let what = keys::METER_DETAIL
            .iter()
            .find(|b| b.action == Action::Command(command))
            .map(|b| b.help)
            .unwrap_or(command);
        Effect::Confirm(Confirm {
            title: "Send meter command".into(),
            lines: vec![
                format!("{what} on meter {}", m.meter),
                format!(
                    "unit {}  tenant {}",
                    m.unit.as_deref().unwrap_or("-"),
                    m.tenant_name
                ),
            ],
            pending: AnyPending::Meters(Pending {
                meter: m.meter.clone(),
                command: command.to_string(),
            }),
        })
    }

    /// `y` on the command dialog: queue it.
    pub fn confirmed(&mut self, p: Pending) -> Effect {
        Effect::call(move |api| {
            let result = api.command(
                &p.meter,
                &CommandRequest {
                    command: p.command.clone(),
                },
            );
            Reply::Queued {
                meter: p.meter,
                command: p.command,
                result,
            }
            .into()
        })
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Detail {
                meter,
                readings,
                commands,
            } => {
                let mut d = MeterDetail {
                    meter,
                    ..Default::default()
                };
                let mut e = Effect::None;
                match readings {
                    Ok(list) => {
                        let skip = list.len().saturating_sub(60);
                        for r in list.iter().skip(skip) {
                            d.power.push(r.power_w.unwrap_or(0).max(0) as u64);
                            d.energy_wh.push(r.total_wh);
                        }
                    }
                    Err(err) => e = Effect::error(format!("readings: {}", err.message)),
                }
                if let Some(c) = commands {
                    d.set_commands(c);
                }
                self.detail = Some(d);
                e
            }
            Reply::Commands { meter, list } => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.meter == meter) {
                    d.set_commands(list);
                }
                Effect::None
            }
            Reply::Queued {
                meter,
                command,
                result: Ok(q),
            } => {
                let mut e = Effect::None;
                if let Some(d) = self.detail.as_mut().filter(|d| d.meter == meter) {
                    d.history.push((q.id, command.clone()));
                    e = load_commands(meter.clone());
                }
                e.and(Effect::info(format!(
                    "{command} queued for meter {meter} (outbox #{})",
                    q.id
                )))
            }
            Reply::Queued {
                command,
                result: Err(e),
                ..
            } => Effect::error(format!("{command} refused: {}", e.message)),
        }
    }
}
