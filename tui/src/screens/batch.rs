//! Batch operations: one command over the marked meters (or the filtered list), a
//! confirmation naming the count, then the progress and every meter's result, polled from
//! the daemon (`/api/v1/batches`) — the state, what the keys do, and the draw.

use crate::api::ApiErr;
use crate::app::{App, Confirm, Pending as AnyPending, Screen};
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::Action;
use crate::screens::meters::MetersState;
use crate::types::{BatchRequest, BatchStarted, Progress};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, Paragraph, Row, Table};
use std::time::{Duration, Instant};

/// (API name, what the operator reads).
pub const OPS: [(&str, &str); 8] = [
    ("read", "read status now"),
    ("push_prices", "push prices"),
    ("push_settings", "push settings"),
    ("keep_power_on", "keep power on (保电)"),
    ("keep_power_off", "end keep power"),
    ("restore_prepaid", "restore prepaid mode"),
    ("trip", "trip (cut power)"),
    ("close", "close (restore power)"),
];

/// How often a running batch is polled.
pub const POLL_EVERY: Duration = Duration::from_millis(700);

#[derive(Debug, Clone, Default)]
pub struct BatchState {
    /// Meter ids the next batch covers.
    pub selection: Vec<String>,
    /// Where the selection came from, e.g. "3 marked meters".
    pub scope: String,
    /// Index into [`OPS`].
    pub op: usize,
    /// The batch being shown: (id, what it does).
    pub running: Option<(u64, String)>,
    pub progress: Option<Progress>,
    pub scroll: usize,
    pub last_poll: Option<Instant>,
    /// A poll is on its way (a slow daemon is not asked again meanwhile).
    polling: bool,
}

/// A batch waiting for the operator's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub command: String,
    pub meters: Vec<String>,
}

pub enum Reply {
    Started {
        command: String,
        result: Result<BatchStarted, ApiErr>,
    },
    Progress {
        id: u64,
        result: Result<Progress, ApiErr>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Batch(r)
    }
}

fn label_of(command: &str) -> &str {
    OPS.iter().find(|o| o.0 == command).map_or(command, |o| o.1)
}

impl BatchState {
    /// Opens the batch screen on the marked meters, or on the meters the filter shows.
    pub fn open(&mut self, ms: &MetersState) {
        let (selection, scope): (Vec<String>, String) = if ms.marked.is_empty() {
            let ids: Vec<String> = ms.view.iter().map(|i| ms.rows[*i].meter.clone()).collect();
            let scope = if ms.filter.trim().is_empty() {
                format!("all {} meters", ids.len())
            } else {
                format!(
                    "{} meters shown by the filter '{}'",
                    ids.len(),
                    ms.filter.trim()
                )
            };
            (ids, scope)
        } else {
            // Marked meters in the order the table shows them, then any marked meter the
            // current filter hides.
            let mut ids: Vec<String> = ms
                .view
                .iter()
                .map(|i| &ms.rows[*i].meter)
                .filter(|m| ms.marked.contains(*m))
                .cloned()
                .collect();
            for m in &ms.marked {
                if !ids.contains(m) {
                    ids.push(m.clone());
                }
            }
            let scope = format!("{} marked meters", ids.len());
            (ids, scope)
        };
        self.selection = selection;
        self.scope = scope;
    }

    pub fn on_action(&mut self, a: Action, ms: &MetersState) -> Effect {
        let n = self.progress.as_ref().map_or(0, |p| p.items.len());
        match a {
            Action::Up => self.op = self.op.saturating_sub(1),
            Action::Down => self.op = (self.op + 1).min(OPS.len() - 1),
            Action::PageDown => self.scroll = (self.scroll + 10).min(n.saturating_sub(1)),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Action::Run => return self.ask(ms),
            Action::Back => return Effect::Switch(Screen::Meters),
            _ => {}
        }
        Effect::None
    }

    /// The confirmation: what, on how many meters, which are skipped.
    fn ask(&self, ms: &MetersState) -> Effect {
        if let Some(p) = &self.progress
            && !p.finished
        {
            return Effect::error(format!(
                "batch #{} is still running: wait for its results",
                p.id
            ));
        }
        let n = self.selection.len();
        if n == 0 {
            return Effect::error(
                "no meters selected: mark rows (Space) or filter the meters table (2)",
            );
        }
        let (command, label) = OPS[self.op];
        let mut lines = vec![
            format!("{label} on {n} meter(s)"),
            format!("selection: {}", self.scope),
        ];
        let units: Vec<String> = self
            .selection
            .iter()
            .take(6)
            .map(|id| {
                ms.rows
                    .iter()
                    .find(|r| &r.meter == id)
                    .and_then(|r| r.unit.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect();
        lines.push(format!(
            "{}{}",
            units.join(", "),
            if n > units.len() {
                format!(" and {} more", n - units.len())
            } else {
                String::new()
            }
        ));
        match command {
            "trip" => {
                let kp = ms
                    .rows
                    .iter()
                    .filter(|r| r.keep_power && self.selection.contains(&r.meter))
                    .count();
                lines.push(format!(
                    "{kp} on keep-power (保电) will be skipped; every trip is confirmed by reading the meter"
                ));
            }
            "close" => lines.push(
                "meters of tenants in arrears are skipped (they would be tripped again)".into(),
            ),
            _ => {}
        }
        Effect::Confirm(Confirm {
            title: format!("Batch: {label}"),
            lines,
            pending: AnyPending::Batch(Run {
                command: command.into(),
                meters: self.selection.clone(),
            }),
        })
    }

    /// `y` on the batch dialog: start it.
    pub fn confirmed(&self, r: Run) -> Effect {
        Effect::call(move |api| {
            let result = api.start_batch(&BatchRequest {
                command: r.command.clone(),
                meters: Some(r.meters),
                ..Default::default()
            });
            Reply::Started {
                command: r.command,
                result,
            }
            .into()
        })
    }

    /// The next poll of the running batch, when one is due (the event loop asks every
    /// tick; the daemon is asked at most every [`POLL_EVERY`]).
    pub fn tick(&mut self) -> Effect {
        let due = self.last_poll.is_none_or(|t| t.elapsed() >= POLL_EVERY);
        if due { self.poll() } else { Effect::None }
    }

    fn poll(&mut self) -> Effect {
        let Some((id, _)) = self.running.clone() else {
            return Effect::None;
        };
        if self.polling || self.progress.as_ref().is_some_and(|p| p.finished) {
            return Effect::None;
        }
        self.last_poll = Some(Instant::now());
        self.polling = true;
        Effect::call(move |api| {
            let result = api.batch(id);
            Reply::Progress { id, result }.into()
        })
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Started {
                command,
                result: Ok(v),
            } => {
                let label = label_of(&command).to_string();
                self.running = Some((v.id, label.clone()));
                self.progress = None;
                self.scroll = 0;
                Effect::info(format!(
                    "batch #{}: {label} queued for {} meter(s), {} skipped",
                    v.id, v.queued, v.skipped
                ))
                .and(self.poll())
            }
            Reply::Started { result: Err(e), .. } => {
                Effect::error(format!("batch refused: {}", e.message))
            }
            Reply::Progress { id, result } => {
                self.polling = false;
                match result {
                    Ok(p) => {
                        let e = if p.finished {
                            Effect::info(format!(
                                "batch #{id} finished: {} confirmed, {} failed, {} skipped",
                                p.confirmed, p.failed, p.skipped
                            ))
                        } else {
                            Effect::None
                        };
                        self.progress = Some(p);
                        e
                    }
                    Err(e) => Effect::error(format!("batch #{id}: {}", e.message)),
                }
            }
        }
    }
}

fn state_style(state: &str) -> Style {
    match state {
        "confirmed" => Style::default().fg(Color::Green),
        "waiting_for_tenant" => Style::default().fg(Color::Cyan),
        "failed" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "skipped" => Style::default().fg(Color::Yellow),
        _ => Style::default().fg(Color::Gray),
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let b = &app.batch;
    let [sel, main] = Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(
                    " Selection: ",
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(if b.selection.is_empty() {
                    "none — mark rows with Space on the meters screen (2), or filter it".into()
                } else {
                    b.scope.clone()
                }),
            ]),
            Line::from(Span::styled(
                " ↑↓ choose · Enter run (asks first) · Esc change the selection",
                Style::default().fg(Color::DarkGray),
            )),
        ]),
        sel,
    );
    let ops_w = if main.width >= 100 { 34 } else { 26 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(ops_w), Constraint::Min(20)]).areas(main);
    let items: Vec<ListItem> = OPS
        .iter()
        .enumerate()
        .map(|(i, (_, label))| {
            let st = if i == b.op {
                Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            } else {
                Style::default()
            };
            ListItem::new(Line::from(Span::styled(format!(" {label}"), st)))
        })
        .collect();
    f.render_widget(
        List::new(items).block(Block::default().borders(Borders::ALL).title(" Operation ")),
        left,
    );
    let title = match &b.running {
        Some((id, label)) => format!(" Batch #{id}: {label} "),
        None => " Results ".into(),
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(right);
    f.render_widget(block, right);
    let Some(p) = &b.progress else {
        f.render_widget(
            Paragraph::new(if b.running.is_some() {
                "queued; waiting for the first results…"
            } else {
                "No batch run in this session yet. Every command is queued, retried and \
                 confirmed by reading the meter back; results appear here per meter."
            })
            .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    };
    let [gauge, counts, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    let finished = p.done + p.skipped;
    let percent = (finished * 100)
        .checked_div(p.total)
        .unwrap_or(100)
        .min(100) as u16;
    f.render_widget(
        Gauge::default()
            .percent(percent)
            .label(format!(
                "{finished}/{} {}",
                p.total,
                if p.finished { "done" } else { "running" }
            ))
            .gauge_style(Style::default().fg(if p.failed > 0 {
                Color::Red
            } else {
                Color::Green
            })),
        gauge,
    );
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("✓ {} confirmed ", p.confirmed),
                state_style("confirmed"),
            ),
            Span::styled(format!("✗ {} failed ", p.failed), state_style("failed")),
            Span::styled(format!("– {} skipped ", p.skipped), state_style("skipped")),
            Span::styled(format!("… {} pending", p.pending), state_style("queued")),
        ])),
        counts,
    );
    let page = table.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = p
        .items
        .iter()
        .skip(b.scroll)
        .take(page)
        .map(|it| {
            let unit = app
                .meters
                .rows
                .iter()
                .find(|r| r.meter == it.meter)
                .and_then(|r| r.unit.clone())
                .unwrap_or_default();
            Row::new(vec![
                it.meter.clone(),
                unit,
                it.state.replace('_', " "),
                it.reason.clone().unwrap_or_default(),
            ])
            .style(state_style(&it.state))
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(7),
                Constraint::Length(10),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new(vec!["meter", "unit", "result", "why"]).style(
                Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::BOLD),
            ),
        ),
        table,
    );
}
