//! Drawing the office screen (a pure function of the app).

use super::Pane;
use crate::app::App;
use crate::data::OpLine;
use crate::widgets::{money, site_time};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

/// "MM-DD HH:MM" in site time.
fn short(at: &str, tz: &str) -> String {
    site_time(at, tz).chars().skip(5).take(11).collect()
}

fn right<'a>(s: String) -> Cell<'a> {
    Cell::from(Line::from(s).right_aligned())
}

fn header(cols: &[&'static str]) -> Row<'static> {
    Row::new(cols.to_vec()).style(
        Style::default()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    )
}

fn block(title: String, focused: bool) -> Block<'static> {
    let b = Block::default().borders(Borders::ALL).title(title);
    if focused {
        b.border_style(Style::default().fg(Color::Cyan))
    } else {
        b
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.office;
    let tz = app.data.timezone.as_str();
    let shown = |n: usize| n.clamp(1, 4) as u16;
    let [refunds, settlements, history] = Layout::vertical([
        // Borders, header, rows, three lines for the selected refund's message (zh/en).
        Constraint::Length(shown(s.refunds.len()) + 6),
        Constraint::Length(shown(s.settlements.len()) + 3),
        Constraint::Min(4),
    ])
    .areas(area);

    // Pending refunds.
    let b = block(
        format!(" Refunds waiting for their meter ({}) ", s.refunds.len()),
        s.pane == Pane::Refunds,
    );
    let inner = b.inner(refunds);
    f.render_widget(b, refunds);
    let [table, message] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(3)]).areas(inner);
    if s.refunds.is_empty() {
        f.render_widget(Paragraph::new("none: every refund is paid out"), table);
    } else {
        let rows: Vec<Row> = s
            .refunds
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let state = match (&r.last_error, r.attempts) {
                    (Some(e), n) if n > 0 => format!("{} ({n}×): {e}", r.state),
                    _ => r.state.clone(),
                };
                let mut st = Style::default().fg(Color::Yellow);
                if i == s.refund_sel && s.pane == Pane::Refunds {
                    st = st.add_modifier(Modifier::REVERSED);
                }
                Row::new(vec![
                    Cell::from(short(&r.at, tz)),
                    Cell::from(r.tenant.clone()),
                    Cell::from(r.meter.clone()),
                    right(money(r.amount_fen)),
                    Cell::from(state),
                ])
                .style(st)
            })
            .collect();
        let mut t = Table::new(
            rows,
            [
                Constraint::Length(11),
                Constraint::Length(8),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Min(10),
            ],
        )
        .header(header(&[
            "booked",
            "tenant",
            "meter",
            "amount",
            "withdrawal",
        ]));
        let mut st = ratatui::widgets::TableState::default();
        st.select(Some(s.refund_sel));
        t = t.row_highlight_style(Style::default());
        f.render_stateful_widget(t, table, &mut st);
        if let Some(r) = s.refunds.get(s.refund_sel) {
            f.render_widget(
                Paragraph::new(r.message.clone()).wrap(Wrap { trim: true }),
                message,
            );
        }
    }

    // Close settlements.
    let b = block(
        format!(
            " Close settlements ({} to settle) ",
            s.settlements.iter().filter(|c| !c.cleared).count()
        ),
        s.pane == Pane::Settlements,
    );
    if s.settlements.is_empty() {
        f.render_widget(
            Paragraph::new("none: no meter-mode account was closed").block(b),
            settlements,
        );
    } else {
        let rows: Vec<Row> = s
            .settlements
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (state, mut st) = if c.cleared {
                    ("cleared", Style::default())
                } else {
                    ("TO SETTLE", Style::default().fg(Color::Red))
                };
                if i == s.settlement_sel && s.pane == Pane::Settlements {
                    st = st.add_modifier(Modifier::REVERSED);
                }
                Row::new(vec![
                    Cell::from(short(&c.at, tz)),
                    Cell::from(c.meter.clone()),
                    Cell::from(c.tenant.clone().unwrap_or_default()),
                    Cell::from(state),
                    right(
                        c.balance_before_fen
                            .map(money)
                            .unwrap_or_else(|| "?".into()),
                    ),
                    Cell::from(c.why.clone().unwrap_or_default()),
                ])
                .style(st)
            })
            .collect();
        let t = Table::new(
            rows,
            [
                Constraint::Length(11),
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(10),
                Constraint::Min(8),
            ],
        )
        .header(header(&[
            "closed",
            "meter",
            "tenant",
            "credit",
            "on meter",
            "why not cleared",
        ]))
        .block(b);
        let mut st = ratatui::widgets::TableState::default();
        st.select(Some(s.settlement_sel));
        f.render_stateful_widget(t, settlements, &mut st);
    }

    // Account history.
    let focused = s.pane == Pane::History;
    let title = match (&s.lookup, &s.history) {
        (Some(l), _) => format!(" Account history of tenant: {l}█ "),
        (None, Some(h)) => format!(
            " Account history of {} ({} accounts) — / another tenant ",
            h.tenant,
            h.accounts.len()
        ),
        (None, None) => " Account history — / and a tenant id ".to_string(),
    };
    let mut lines: Vec<Line> = Vec::new();
    if let Some(h) = &s.history {
        for (i, a) in h.accounts.iter().enumerate() {
            let when = |at: &Option<String>, op: Option<u64>| match (at, op) {
                (Some(at), Some(op)) => format!("{} (op {op})", short(at, tz)),
                (None, Some(op)) => format!("op {op}"),
                _ => "-".into(),
            };
            let status = if a.status == "closed" {
                Span::styled("closed", Style::default().fg(Color::DarkGray))
            } else {
                Span::styled("open", Style::default().fg(Color::Green))
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("account {} ", i + 1),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                status,
                Span::raw(format!(
                    " · opened {} · closed {} · {}{}",
                    when(&a.opened_at, Some(a.opened_op)),
                    when(&a.closed_at, a.closed_op),
                    a.meters.join(", "),
                    if a.truncated {
                        " · more not shown"
                    } else {
                        ""
                    }
                )),
            ]));
            for o in &a.operations {
                let l = OpLine::from_op(o);
                lines.push(Line::from(format!(
                    "  #{:<5} {} {:<14} {:>10} {:>12}",
                    l.id,
                    short(&o.at, tz),
                    l.kind,
                    l.amount_fen.map(money).unwrap_or_default(),
                    l.balance_after_fen
                        .map(|b| format!("→ {}", money(b)))
                        .unwrap_or_default()
                )));
            }
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .scroll((s.history_scroll.min(u16::MAX as usize) as u16, 0))
            .block(block(title, focused)),
        history,
    );
}
