//! Drawing the meters screen (a pure function of the app).

use crate::app::App;
use crate::widgets::{legend, money};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};

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
