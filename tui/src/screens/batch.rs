//! Batch screen: the selection, the operations, the running batch's progress bar and
//! every meter's result.

use crate::app::App;
use crate::batch::OPS;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, Paragraph, Row, Table};

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
