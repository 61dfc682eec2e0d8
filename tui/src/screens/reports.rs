//! Reports: the list of reports on the left, the chosen one's table on the right (this
//! month so far), export to XLSX or CSV on the appliance.

use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Row, Table};

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
pub fn cell_text(kind: &str, v: &serde_json::Value) -> String {
    match (kind, v) {
        ("money", serde_json::Value::Number(n)) => {
            let f = n.as_i64().unwrap_or(0);
            let sign = if f < 0 { "-" } else { "" };
            format!(
                "{sign}{}.{:02}",
                f.unsigned_abs() / 100,
                f.unsigned_abs() % 100
            )
        }
        ("energy", serde_json::Value::Number(n)) => {
            let w = n.as_i64().unwrap_or(0);
            let c = (w.unsigned_abs() + 5) / 10;
            let sign = if w < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", c / 100, c % 100)
        }
        (_, serde_json::Value::String(s)) => s.clone(),
        (_, serde_json::Value::Null) => String::new(),
        (_, other) => other.to_string(),
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
    let title = t["title"].as_str().unwrap_or("report").to_string();
    let cols: Vec<(String, String)> = t["columns"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["kind"].as_str().unwrap_or("text").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = t["rows"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    r.as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .enumerate()
                                .map(|(i, v)| {
                                    cell_text(cols.get(i).map_or("text", |c| c.1.as_str()), v)
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
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
