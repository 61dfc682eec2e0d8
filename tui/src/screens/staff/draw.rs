//! Drawing the staff screen (a pure function of the app).

use super::ROLES;
use crate::app::App;
use crate::types::Actor;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

fn short_time(t: &str) -> String {
    t.chars().take(16).collect::<String>().replace('T', " ")
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.staff;
    let ops_h = (s.operators.len() as u16 + 3).clamp(5, 10);
    let [ops, perms, audit] = Layout::vertical([
        Constraint::Length(ops_h),
        Constraint::Length(3),
        Constraint::Min(3),
    ])
    .areas(area);
    let focus = |on: bool| {
        if on {
            Style::default().fg(Color::Cyan)
        } else {
            Style::default()
        }
    };
    let rows: Vec<Row> = s
        .operators
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let state = if o.disabled {
                "disabled".to_string()
            } else if o.locked_until.is_some() {
                "locked".to_string()
            } else if o.must_change_password {
                "must change pw".to_string()
            } else {
                "active".to_string()
            };
            let mut st = if o.disabled {
                Style::default().fg(Color::DarkGray)
            } else {
                Style::default()
            };
            if i == s.selected && !s.audit_focus {
                st = st.add_modifier(Modifier::REVERSED);
            }
            Row::new(vec![
                o.name.clone(),
                o.role.clone(),
                state,
                o.last_login.as_deref().map(short_time).unwrap_or_default(),
            ])
            .style(st)
        })
        .collect();
    let title = match &s.adding {
        Some(a) => format!(" New operator: {}█  role {} (Tab) ", a.name, ROLES[a.role]),
        None => " Operators — a add · r reset password · d disable/enable · o role ".into(),
    };
    let mut table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(15),
            Constraint::Min(16),
        ],
    )
    .header(
        Row::new(vec!["operator", "role", "state", "last login"]).style(
            Style::default()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        ),
    )
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(title)
            .border_style(focus(!s.audit_focus)),
    );
    if let Some(n) = &s.note {
        table = table.footer(Row::new(vec![n.clone()]));
    }
    f.render_widget(table, ops);
    let role = s
        .operators
        .get(s.selected)
        .map(|o| o.role.clone())
        .unwrap_or_default();
    let may = s
        .roles
        .iter()
        .find(|r| r.role == role)
        .map(|r| r.allows.join(", "))
        .unwrap_or_default();
    let line = match &s.new_password {
        Some(p) => Line::from(Span::styled(
            p.clone(),
            Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )),
        None => Line::from(vec![
            Span::styled(
                format!("{role} may: "),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(may),
        ]),
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), perms);
    let page = audit.height.saturating_sub(3) as usize;
    let rows: Vec<Row> = s
        .audit
        .iter()
        .skip(s.audit_scroll)
        .take(page)
        .map(|e| {
            let who = match &e.actor {
                Actor::Operator { name, .. } => name.clone(),
                Actor::System { component } => component.clone(),
                // As the console has always shown it (its old copy of the actor read only
                // `name` and `component`).
                Actor::Tenant { .. } => "?".to_string(),
            };
            let detail = e.detail.to_string();
            Row::new(vec![
                e.seq.to_string(),
                short_time(&e.at),
                who,
                e.action.clone(),
                detail.chars().take(120).collect(),
            ])
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Length(16),
                Constraint::Length(10),
                Constraint::Length(22),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new(vec!["seq", "time (UTC)", "who", "action", "detail"]).style(
                Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::BOLD),
            ),
        )
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(
                    " Audit log, newest first ({} loaded) — Tab here, ↑↓ PgUp/PgDn ",
                    s.audit.len()
                ))
                .border_style(focus(s.audit_focus)),
        ),
        audit,
    );
}
