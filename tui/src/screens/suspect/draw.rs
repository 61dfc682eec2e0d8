//! Drawing the suspect readings screen (a pure function of the app).

use super::{increase_wh, meter_row, tenant_text, why_long, why_short};
use crate::app::App;
use crate::widgets::{kwh, site_time};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.suspect;
    let tz = app.data.timezone.as_str();
    // Two lines: a decision's result names the meter, its time and what was charged.
    let [result, list, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(4),
        Constraint::Length(5),
    ])
    .areas(area);

    let line = match &s.last_result {
        Some(r) => Line::from(Span::styled(
            r.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        None => Line::from(Span::styled(
            "Not charged until staff decide: a accept · r reject · b re-baseline",
            Style::default().fg(Color::DarkGray),
        )),
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), result);

    // The tenant column only where it has room; the detail pane always names the tenant.
    let wide = list.width >= 110;
    let mut header = vec!["meter", "unit"];
    if wide {
        header.push("tenant");
    }
    header.push("time");
    let mut header: Vec<Cell> = header.into_iter().map(Cell::from).collect();
    // Energy right-aligned, so the digits line up.
    header.extend(["charged", "reading", "increase"].map(right));
    header.push(Cell::from(" why"));
    let rows: Vec<Row> = s
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let m = meter_row(&app.meters.rows, &r.meter);
            let mut cells = vec![
                r.meter.clone(),
                m.and_then(|m| m.unit.clone()).unwrap_or_else(|| "-".into()),
            ];
            if wide {
                cells.push(m.map(|m| m.tenant_name.clone()).unwrap_or_default());
            }
            // "MM-DD HH:MM": the year and seconds are in the detail pane.
            cells.push(site_time(&r.at, tz).chars().skip(5).take(11).collect());
            let mut cells: Vec<Cell> = cells.into_iter().map(Cell::from).collect();
            cells.extend([kwh(r.basis_wh), kwh(r.total_wh), signed_kwh(increase_wh(r))].map(right));
            cells.push(Cell::from(format!(" {}", why_short(r))));
            let mut st = Style::default().fg(Color::Yellow);
            if i == s.selected {
                st = st.add_modifier(Modifier::REVERSED);
            }
            Row::new(cells).style(st)
        })
        .collect();
    let mut widths = vec![Constraint::Length(12), Constraint::Length(6)];
    if wide {
        widths.push(Constraint::Min(12));
    }
    // Room for a six-digit kWh register to three decimals ("110,402.700", "+100,000.100").
    widths.extend([
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(12),
        Constraint::Length(9),
    ]);
    let zone = if tz.is_empty() { "UTC" } else { tz };
    let block = Block::default().borders(Borders::ALL).title(format!(
        " Suspect readings ({} pending) — kWh, time {zone} ",
        s.rows.len()
    ));
    if s.rows.is_empty() {
        f.render_widget(
            Paragraph::new("none pending: nothing waits for a decision").block(block),
            list,
        );
    } else {
        let header = Row::new(header).style(
            Style::default()
                .fg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
        );
        f.render_widget(Table::new(rows, widths).header(header).block(block), list);
    }

    let lines = match s.selected_reading() {
        Some(r) => {
            let m = meter_row(&app.meters.rows, &r.meter);
            vec![
                Line::from(vec![
                    Span::styled(
                        format!("{} ", r.meter),
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(tenant_text(m)),
                ]),
                Line::from(format!(
                    "read {} · last charged {}",
                    site_time(&r.at, tz),
                    site_time(&r.basis_at, tz)
                )),
                Line::from(why_long(r)),
            ]
        }
        None => vec![Line::from("")],
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" Selected ")),
        detail,
    );
}

/// Energy with its sign, for the increase column ("+66.740", "-1,318.920").
fn signed_kwh(wh: i64) -> String {
    if wh >= 0 {
        format!("+{}", kwh(wh))
    } else {
        kwh(wh)
    }
}

fn right<'a>(s: impl Into<String>) -> Cell<'a> {
    Cell::from(Line::from(s.into()).right_aligned())
}
