//! Reports: the list of reports on the left, the chosen one's table on the right (this
//! month so far), export to XLSX or CSV on the appliance, acknowledging the top alarm.

use crate::api::ApiErr;
use crate::app::App;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::Action;
use crate::types::{Cell, ColumnKind, ExportDone, ReportTable};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Row, Table};

/// The reports screen: which report, its table, the first row shown.
#[derive(Debug, Clone, Default)]
pub struct ReportsState {
    pub selected: usize,
    pub table: Option<ReportTable>,
    pub scroll: usize,
    /// First column shown (the first column, the row's name, always stays).
    pub col: usize,
}

pub enum Reply {
    Report {
        name: &'static str,
        result: Result<ReportTable, ApiErr>,
    },
    Exported(Result<ExportDone, ApiErr>),
    /// The acknowledgement, then the alarms report again.
    Acked {
        id: u64,
        result: Result<(), ApiErr>,
        report: Option<Result<ReportTable, ApiErr>>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Reports(r)
    }
}

/// The reports the API offers: (name, label).
pub const REPORTS: &[(&str, &str)] = &[
    ("sales", "Daily sales"),
    ("energy", "Energy by unit"),
    ("status", "Meter status"),
    ("alarms", "Real-time alarms"),
    ("alarm-history", "Alarm history"),
    ("offline-meters", "Offline meters"),
    ("offline-gateways", "Offline gateways"),
    ("accounts", "Open / close"),
    ("metering-energy", "Metering meters"),
];

/// A cell as text: money (fen) and energy (Wh) columns get their decimals.
pub fn cell_text(kind: ColumnKind, c: &Cell) -> String {
    match (kind, c) {
        (ColumnKind::Money, Cell::Int(f)) => {
            let sign = if *f < 0 { "-" } else { "" };
            format!(
                "{sign}{}.{:02}",
                f.unsigned_abs() / 100,
                f.unsigned_abs() % 100
            )
        }
        (ColumnKind::Energy, Cell::Int(w)) => {
            let c = (w.unsigned_abs() + 5) / 10;
            let sign = if *w < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", c / 100, c % 100)
        }
        (_, Cell::Int(n)) => n.to_string(),
        (_, Cell::Text(s)) => s.clone(),
        (_, Cell::Empty) => String::new(),
    }
}

impl ReportsState {
    fn report_name(&self) -> &'static str {
        REPORTS.get(self.selected).map_or("sales", |r| r.0)
    }

    pub fn on_action(&mut self, a: Action) -> Effect {
        match a {
            Action::Run => {
                let name = self.report_name();
                Effect::call(move |api| {
                    let result = api.report(name);
                    Reply::Report { name, result }.into()
                })
            }
            Action::ExportXlsx => self.export("xlsx"),
            Action::ExportCsv => self.export("csv"),
            Action::AckAlarm => self.ack_alarm(),
            Action::ColumnsRight => {
                let n = self.table.as_ref().map_or(1, |t| t.columns.len());
                self.col = (self.col + 1).min(n.saturating_sub(2));
                Effect::None
            }
            Action::ColumnsLeft => {
                self.col = self.col.saturating_sub(1);
                Effect::None
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let n = REPORTS.len();
                let rows = self.table.as_ref().map_or(0, |t| t.rows.len());
                match a {
                    Action::Up => self.selected = self.selected.saturating_sub(1),
                    Action::Down => self.selected = (self.selected + 1).min(n - 1),
                    Action::PageDown => {
                        self.scroll = (self.scroll + 10).min(rows.saturating_sub(1))
                    }
                    _ => self.scroll = self.scroll.saturating_sub(10),
                }
                Effect::None
            }
            _ => Effect::None,
        }
    }

    fn export(&self, format: &'static str) -> Effect {
        let name = self.report_name();
        Effect::call(move |api| Reply::Exported(api.export_report(name, format)).into())
    }

    /// Acknowledges the alarm in the top row of the real-time alarms report.
    fn ack_alarm(&self) -> Effect {
        if self.report_name() != "alarms" {
            return Effect::error("choose Real-time alarms first (a acknowledges its top row)");
        }
        let id = self
            .table
            .as_ref()
            .and_then(|t| t.rows.get(self.scroll))
            .and_then(|r| r.first())
            .and_then(|c| match c {
                Cell::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            });
        let Some(id) = id else {
            return Effect::error("no alarm to acknowledge: press Enter to load the alarms");
        };
        Effect::call(move |api| {
            let result = api.ack_alarm(id);
            let report = result.is_ok().then(|| api.report("alarms"));
            Reply::Acked { id, result, report }.into()
        })
    }

    fn show(&mut self, t: ReportTable) -> usize {
        let n = t.rows.len();
        self.table = Some(t);
        self.scroll = 0;
        self.col = 0;
        n
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Report {
                name,
                result: Ok(t),
            } => {
                let n = self.show(t);
                Effect::info(format!("{name}: {n} rows (this month so far)"))
            }
            Reply::Acked {
                id,
                result: Ok(()),
                report,
            } => {
                // The acknowledgement is the news, whatever the reload says.
                if let Some(Ok(t)) = report {
                    self.show(t);
                }
                Effect::info(format!("alarm {id} acknowledged"))
            }
            Reply::Exported(Ok(d)) => Effect::info(format!("saved {} rows to {}", d.rows, d.path)),
            Reply::Report { result: Err(e), .. }
            | Reply::Acked { result: Err(e), .. }
            | Reply::Exported(Err(e)) => Effect::error(e.to_string()),
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let [list_area, table_area] =
        Layout::horizontal([Constraint::Length(22), Constraint::Min(20)]).areas(area);
    let items: Vec<ListItem> = REPORTS
        .iter()
        .map(|(_, label)| ListItem::new(*label))
        .collect();
    let mut state = ListState::default().with_selected(Some(app.reports.selected));
    f.render_stateful_widget(
        List::new(items)
            .block(Block::default().borders(Borders::ALL).title(" Reports "))
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED)),
        list_area,
        &mut state,
    );
    let Some(t) = &app.reports.table else {
        f.render_widget(
            Paragraph::new(vec![
                Line::from("Enter: show the report (this month so far)"),
                Line::from("x: save as Excel, c: save as CSV (on the appliance)"),
            ])
            .block(Block::default().borders(Borders::ALL)),
            table_area,
        );
        return;
    };
    let title = t.title.clone();
    let cols: Vec<(String, ColumnKind)> =
        t.columns.iter().map(|c| (c.name.clone(), c.kind)).collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|cells| {
            cells
                .iter()
                .enumerate()
                .map(|(i, v)| cell_text(cols.get(i).map_or(ColumnKind::Text, |c| c.1), v))
                .collect()
        })
        .collect();
    let mut widths: Vec<u16> = cols.iter().map(|c| c.0.chars().count() as u16).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(
                    c.chars()
                        .map(|ch| if ch as u32 >= 0x2E80 { 2 } else { 1 })
                        .sum::<u16>(),
                );
            }
        }
    }
    // The first column stays; the others start at the scrolled-to column and go on as far
    // as they fit at their full width.
    let inner = table_area.width.saturating_sub(2);
    let mut shown = vec![0usize];
    let mut used = widths.first().copied().unwrap_or(0).min(24) + 1;
    for (i, width) in widths.iter().enumerate().skip(1 + app.reports.col) {
        let w = width.min(&24) + 1;
        if used + w > inner && shown.len() > 1 {
            break;
        }
        used += w;
        shown.push(i);
    }
    let pick = |r: &Vec<String>| -> Vec<String> {
        shown
            .iter()
            .map(|i| r.get(*i).cloned().unwrap_or_default())
            .collect()
    };
    let more = shown.last().is_some_and(|l| l + 1 < cols.len());
    let visible = table_area.height.saturating_sub(3) as usize;
    let start = app.reports.scroll.min(rows.len().saturating_sub(1));
    let body: Vec<Row> = rows
        .iter()
        .skip(start)
        .take(visible.max(1))
        .map(|r| Row::new(pick(r)))
        .collect();
    let names: Vec<String> = cols.iter().map(|c| c.0.clone()).collect();
    let header = Row::new(pick(&names)).style(Style::default().add_modifier(Modifier::BOLD));
    let n = rows.len();
    f.render_widget(
        Table::new(
            body,
            shown.iter().map(|i| Constraint::Length(widths[*i].min(24))),
        )
        .header(header)
        .block(Block::default().borders(Borders::ALL).title(format!(
            " {title} — {n} rows{} ",
            if more { "  → more" } else { "" }
        ))),
        table_area,
    );
}
