//! Drawing the site screen (a pure function of the app).

use super::{KINDS, SETTINGS, setting_text};
use crate::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.site;
    // Every problem wrapped in full, up to half the screen; the tables give way.
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let wrapped: usize = s
        .problems
        .iter()
        .map(|p| Line::from(p.as_str()).width().div_ceil(inner).max(1))
        .sum();
    let import_h = ((wrapped + 3) as u16).clamp(3, (area.height / 2).max(4));
    let [top, bottom, import] = Layout::vertical([
        Constraint::Length(SETTINGS.len() as u16 + 3),
        Constraint::Min(0),
        Constraint::Length(import_h),
    ])
    .areas(area);
    settings(f, top, app);
    let wide = area.width >= 120;
    let [bl, gw, tf] = Layout::horizontal(if wide {
        [
            Constraint::Percentage(30),
            Constraint::Percentage(35),
            Constraint::Percentage(35),
        ]
    } else {
        [
            Constraint::Percentage(45),
            Constraint::Percentage(55),
            Constraint::Length(0),
        ]
    })
    .areas(bottom);
    if wide {
        let rows: Vec<Row> = s
            .tariffs
            .iter()
            .map(|(n, t)| Row::new(vec![n.clone(), t.clone()]))
            .collect();
        f.render_widget(
            Table::new(rows, [Constraint::Length(10), Constraint::Min(10)])
                .header(header(&["tariff", "prices"]))
                .block(Block::default().borders(Borders::ALL).title(" Tariffs ")),
            tf,
        );
    }
    let rows: Vec<Row> = s
        .buildings
        .iter()
        .map(|b| {
            Row::new(vec![
                b.building.clone(),
                b.name.clone(),
                b.floors.map(|n| n.to_string()).unwrap_or_default(),
                b.units.to_string(),
                b.meters.to_string(),
            ])
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Min(6),
                Constraint::Length(3),
                Constraint::Length(5),
                Constraint::Length(6),
            ],
        )
        .header(header(&["id", "building", "fl", "units", "meters"]))
        .block(Block::default().borders(Borders::ALL).title(" Buildings ")),
        bl,
    );
    let rows: Vec<Row> = app
        .data
        .gateways
        .iter()
        .map(|g| {
            Row::new(vec![
                g.gateway.clone(),
                g.name.clone(),
                g.buses.to_string(),
                if g.online { "online" } else { "OFFLINE" }.to_string(),
            ])
            .style(if g.online {
                Style::default()
            } else {
                Style::default().fg(Color::Red)
            })
        })
        .collect();
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(5),
                Constraint::Min(8),
                Constraint::Length(5),
                Constraint::Length(7),
            ],
        )
        .header(header(&["id", "gateway", "buses", "state"]))
        .block(Block::default().borders(Borders::ALL).title(" Gateways ")),
        gw,
    );
    import_panel(f, import, app);
}

fn header(cols: &[&'static str]) -> Row<'static> {
    Row::new(cols.to_vec()).style(
        Style::default()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    )
}

fn settings(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.site;
    let mut rows = Vec::new();
    for (i, (_, label, _)) in SETTINGS.iter().enumerate() {
        let mut value = match (&s.editing, &s.settings) {
            (Some(t), _) if i == s.selected => format!("{t}█"),
            (_, Some(v)) => setting_text(v, i),
            _ => "-".into(),
        };
        if SETTINGS[i].0 == "default_tariff"
            && let Some((_, t)) = s.tariffs.iter().find(|(n, _)| *n == value)
        {
            value = format!("{value} ({t})");
        }
        let mut st = Style::default();
        if i == s.selected {
            st = if s.editing.is_some() {
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD)
            } else {
                st.add_modifier(Modifier::REVERSED)
            };
        }
        rows.push(Row::new(vec![label.to_string(), value]).style(st));
    }
    f.render_widget(
        Table::new(rows, [Constraint::Length(26), Constraint::Min(10)])
            .header(header(&["default parameter", "value"]))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Site defaults — Enter change · i import "),
            ),
        area,
    );
}

fn import_panel(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.site;
    let mut lines = Vec::new();
    match &s.importing {
        Some(p) => lines.push(Line::from(vec![
            Span::styled("file: ", Style::default().fg(Color::Yellow)),
            Span::styled(
                format!("{p}█"),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("   holds: {} (Tab)", KINDS[s.kind])),
        ])),
        None => lines.push(Line::from(Span::styled(
            "i: import a file on the appliance: site records (CSV/XLSX) or a tariff (TOML)",
            Style::default().fg(Color::DarkGray),
        ))),
    }
    for p in &s.problems {
        lines.push(Line::from(Span::styled(
            p.clone(),
            Style::default().fg(Color::Red),
        )));
    }
    if s.problems.is_empty()
        && let Some(l) = &s.last_import
    {
        lines.push(Line::from(Span::styled(
            l.clone(),
            Style::default().fg(Color::Green),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" Import ")),
        area,
    );
}
