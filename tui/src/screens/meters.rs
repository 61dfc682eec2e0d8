//! Meters table (filter, sort, status colours, legend) and meter detail: the state, what
//! the keys do, and the draw.
//!
//! Only the visible page of rows is turned into widgets, so thousands of meters draw fast.

use crate::api::ApiErr;
use crate::app::{App, Confirm, Pending as AnyPending};
use crate::data::SiteData;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{self, Action, Context};
use crate::types::{CommandLine, CommandQueued, CommandRequest, MeterView, ReadingView};
use crate::widgets::{Status, legend, meter_status, money};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};
use std::collections::{BTreeSet, HashMap};

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

/// The meters filter: every word must match. `b:A` is building A, `f:3` floor 3 (`f:-1`
/// or `f:b1` a basement); any other word is searched in meter, unit, tenant and status, or
/// matches a gateway id exactly.
#[derive(Debug, Default)]
pub struct Filter {
    building: Option<String>,
    floor: Option<i32>,
    words: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter::default();
        for w in text.split_whitespace() {
            let lw = w.to_lowercase();
            if let Some(b) = lw.strip_prefix("b:").filter(|b| !b.is_empty()) {
                f.building = Some(b.to_string());
            } else if let Some(fl) = lw.strip_prefix("f:").and_then(parse_floor) {
                f.floor = Some(fl);
            } else {
                f.words.push(lw);
            }
        }
        f
    }

    pub fn matches(&self, r: &MeterRow) -> bool {
        self.building.as_ref().is_none_or(|b| {
            r.building
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(b))
        }) && self.floor.is_none_or(|fl| r.floor == Some(fl))
            && self
                .words
                .iter()
                .all(|w| r.search.contains(w.as_str()) || r.gateway.eq_ignore_ascii_case(w))
    }
}

fn parse_floor(text: &str) -> Option<i32> {
    match text.strip_prefix('b') {
        Some(n) => n.parse::<i32>().ok().filter(|n| *n > 0).map(|n| -n),
        None => text.parse().ok().filter(|n| *n != 0),
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let [filter, main, leg] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let ms = &app.meters;
    let fst = if ms.filtering {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::Gray)
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!(" / {}{}", ms.filter, if ms.filtering { "█" } else { "" }),
                fst,
            ),
            Span::raw(format!(
                "   {} of {} meters  sort: {}{}",
                ms.view.len(),
                ms.rows.len(),
                ms.sort.label(),
                if ms.desc { " ↓" } else { " ↑" }
            )),
            Span::styled(
                if ms.marked.is_empty() {
                    String::new()
                } else {
                    format!("  ● {} marked (b: batch)", ms.marked.len())
                },
                Style::default().fg(Color::Yellow),
            ),
        ])),
        filter,
    );
    let (table_area, detail_area) = if ms.detail.is_some() {
        if main.width >= 120 {
            let [a, b] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(main);
            (Some(a), b)
        } else {
            (None, main)
        }
    } else {
        (Some(main), Rect::default())
    };
    if let Some(a) = table_area {
        table(f, a, app);
    }
    if ms.detail.is_some() {
        detail(f, detail_area, app);
    }
    f.render_widget(Paragraph::new(legend(app.colors256)), leg);
}

fn table(f: &mut Frame, area: Rect, app: &App) {
    let ms = &app.meters;
    let page = area.height.saturating_sub(3).max(1) as usize;
    let offset = (ms.selected / page) * page;
    let wide = area.width >= 110;
    let rows: Vec<Row> = ms
        .view
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, idx)| {
            let m = &ms.rows[*idx];
            let mark = format!(
                "{}{}{}{}",
                if ms.marked.contains(&m.meter) {
                    "●"
                } else {
                    " "
                },
                if m.lock.is_some() { "⚷" } else { " " },
                if m.keep_power { "∞" } else { " " },
                if m.relay == "open" { "⏻" } else { " " }
            );
            let mut cells = vec![
                m.unit.clone().unwrap_or_else(|| "-".into()),
                m.meter.clone(),
                m.tenant_name.clone(),
                m.status().label().to_string(),
                mark,
                m.balance_fen.map(money).unwrap_or_default(),
                m.power_w
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "-".into()),
            ];
            if wide {
                cells.push(
                    m.total_wh
                        .map(|w| format!("{}.{:03}", w / 1000, w % 1000))
                        .unwrap_or_else(|| "-".into()),
                );
                cells.push(format!("{}/{}", m.gateway, m.bus));
                cells.push(m.billing.clone());
                cells.push(m.protocol.clone());
            }
            let mut st = m.status().style(app.colors256);
            if i == ms.selected {
                st = st.add_modifier(Modifier::REVERSED);
            }
            Row::new(cells).style(st)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Min(8),
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(6),
    ];
    let mut header = vec!["unit", "meter", "tenant", "status", "", "balance", "W"];
    if wide {
        widths.extend([
            Constraint::Length(12),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(7),
        ]);
        header.extend(["kWh", "gw/bus", "billing", "proto"]);
    }
    let t = Table::new(rows, widths)
        .header(
            Row::new(header).style(
                Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::BOLD),
            ),
        )
        .block(Block::default().borders(Borders::ALL).title(" Meters "));
    f.render_widget(t, area);
}

fn detail(f: &mut Frame, area: Rect, app: &App) {
    let (Some(d), Some(m)) = (&app.meters.detail, app.meters.selected_meter()) else {
        return;
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Meter {} ", d.meter))
        .border_style(m.status().style(app.colors256));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [info, spark, hist] = Layout::vertical([
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Min(1),
    ])
    .areas(inner);
    let online = match m.online {
        Some(true) => "online",
        Some(false) => "OFFLINE",
        None => "not polled yet",
    };
    let lines = vec![
        Line::from(format!(
            "unit {}  tenant {} {}",
            m.unit.as_deref().unwrap_or("-"),
            m.tenant.as_deref().unwrap_or("-"),
            m.tenant_name
        )),
        Line::from(vec![
            Span::raw("status "),
            Span::styled(m.status().label(), m.status().style(app.colors256)),
            Span::raw(format!(
                "  balance {}",
                m.balance_fen.map(money).unwrap_or_else(|| "-".into())
            )),
        ]),
        Line::from(format!(
            "{online}  relay {}  power {} W",
            m.relay,
            m.power_w
                .map(|w| w.to_string())
                .unwrap_or_else(|| "-".into())
        )),
        Line::from(format!(
            "total {} kWh  meter balance {}",
            m.total_wh
                .map(|w| format!("{}.{:03}", w / 1000, w % 1000))
                .unwrap_or_else(|| "-".into()),
            m.meter_balance_fen.map(money).unwrap_or_else(|| "-".into())
        )),
        Line::from(format!(
            "{} {} on {}/bus {}  billing {}",
            m.protocol, "", m.gateway, m.bus, m.billing
        )),
        Line::from(format!(
            "last ok {}  {}",
            m.last_ok.as_deref().unwrap_or("-"),
            m.last_error.as_deref().unwrap_or("")
        )),
        Line::from(Span::styled(
            "t trip  c close  k/K keep power  r restore  p prices  x settings",
            Style::default().fg(Color::DarkGray),
        )),
    ];
    let mut lines = lines;
    if m.total_wh.is_none()
        && let Some(last) = d.energy_wh.last()
    {
        // No live value yet: show the last stored reading instead.
        lines[3] = Line::from(format!(
            "last stored reading {}.{:03} kWh, {} W",
            last / 1000,
            last % 1000,
            d.power.last().copied().unwrap_or(0)
        ));
    }
    f.render_widget(Paragraph::new(lines), info);
    let max = d.power.iter().copied().max().unwrap_or(0);
    f.render_widget(
        Sparkline::default()
            .data(&d.power)
            .style(Style::default().fg(Color::Cyan))
            .block(Block::default().title(format!(
                "power, last {} readings (max {max} W)",
                d.power.len()
            ))),
        spark,
    );
    let mut h: Vec<Line> = vec![Line::from(Span::styled(
        "command history (newest first):",
        Style::default().fg(Color::DarkGray),
    ))];
    for (id, c, state, by) in &d.commands {
        let st = if state.starts_with("failed") {
            Style::default().fg(Color::Red)
        } else if state == "confirmed" {
            Style::default().fg(Color::Green)
        } else {
            Style::default()
        };
        h.push(Line::from(vec![
            Span::raw(format!("  #{id} {c} ")),
            Span::styled(state.clone(), st),
            Span::styled(format!("  {by}"), Style::default().fg(Color::DarkGray)),
        ]));
    }
    // Queued from this console but not in the daemon's history yet.
    for (id, c) in d.history.iter().rev() {
        if !d.commands.iter().any(|x| x.0 == *id) {
            h.push(Line::from(format!("  #{id} {c} queued")));
        }
    }
    f.render_widget(Paragraph::new(h), hist);
}
