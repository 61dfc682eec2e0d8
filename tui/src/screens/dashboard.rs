//! Dashboard: meters by status, live alarms, gateways, today's sales.

use crate::app::App;
use crate::screens::suspect;
use crate::types::SiteStatus;
use crate::widgets::{Status, legend, money};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let [upper, lower, leg] = Layout::vertical([
        Constraint::Length(9),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let [counts, money_box] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(upper);
    let [alarms, gws] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lower);

    let mut lines = Vec::new();
    for s in Status::ALL {
        let n = app.meters.rows.iter().filter(|m| m.status() == s).count();
        lines.push(Line::from(vec![
            Span::styled("■ ", s.style(app.colors256)),
            Span::raw(format!("{:<9}{n:>6}", s.label())),
        ]));
    }
    lines.push(Line::from(format!(
        "  total    {:>6}",
        app.meters.rows.len()
    )));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Meters by status "),
        ),
        counts,
    );

    // Zeros until the first refresh.
    let st = app.data.status.clone().unwrap_or(SiteStatus {
        site_name: String::new(),
        meters: 0,
        meters_offline: 0,
        tenants: 0,
        tenants_in_arrears: 0,
        outbox_pending: 0,
        receipts_failed: 0,
        topups_needing_refund: 0,
    });
    let warn = |n: usize| {
        if n > 0 {
            Style::default().fg(Color::Red)
        } else {
            Style::default()
        }
    };
    let m = vec![
        Line::from(format!(
            "Sales today    {:>4}  {:>12}",
            app.data.sales_today.0,
            money(app.data.sales_today.1)
        )),
        Line::from(format!(
            "Tenants        {:>4}  in arrears {}",
            st.tenants, st.tenants_in_arrears
        )),
        Line::from(Span::styled(
            format!("Commands queued       {:>4}", st.outbox_pending),
            warn(0),
        )),
        Line::from(Span::styled(
            format!("Receipts not printed  {:>4}", st.receipts_failed),
            warn(st.receipts_failed),
        )),
        Line::from(Span::styled(
            format!("Top-ups to refund     {:>4}", st.topups_needing_refund),
            warn(st.topups_needing_refund),
        )),
        Line::from(Span::styled(
            format!("Meters offline        {:>4}", st.meters_offline),
            warn(st.meters_offline),
        )),
        Line::from(Span::styled(
            format!("Suspect readings (8)  {:>4}", app.suspect.rows.len()),
            warn(app.suspect.rows.len()),
        )),
    ];
    f.render_widget(
        Paragraph::new(m).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" Today {} ", app.today)),
        ),
        money_box,
    );

    let mut al: Vec<_> = app
        .meters
        .rows
        .iter()
        .filter(|m| {
            matches!(
                m.status(),
                Status::Arrears | Status::Alarm2 | Status::Offline
            )
        })
        .collect();
    al.sort_by_key(|m| (m.status(), m.unit.clone()));
    // Balance alarms belong to the account: one row per tenant; offline stays per meter.
    al.dedup_by(|a, b| {
        a.status() == b.status() && a.status() != Status::Offline && a.tenant == b.tenant
    });
    // Suspect readings first: each waits for staff (screen 8) and charges nothing meanwhile.
    let suspect_rows = app.suspect.rows.iter().map(|r| {
        let m = suspect::meter_row(&app.meters.rows, &r.meter);
        Row::new(vec![
            "suspect".to_string(),
            // A meter without a unit is named by its id.
            m.and_then(|m| m.unit.clone())
                .unwrap_or_else(|| r.meter.clone()),
            m.map(|m| m.tenant_name.clone()).unwrap_or_default(),
            suspect::why_short(r).to_string(),
        ])
        .style(Style::default().fg(Color::Yellow))
    });
    let rows: Vec<Row> = suspect_rows
        .chain(al.iter().map(|m| {
            Row::new(vec![
                m.status().label().to_string(),
                m.unit.clone().unwrap_or_default(),
                m.tenant_name.clone(),
                m.balance_fen.map(money).unwrap_or_default(),
            ])
            .style(m.status().style(app.colors256))
        }))
        .take(alarms.height.saturating_sub(2) as usize)
        .collect();
    let alarm_count = al.len() + app.suspect.rows.len();
    let t = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Min(6),
            Constraint::Length(10),
        ],
    )
    .block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Live alarms ({alarm_count}) ")),
    );
    f.render_widget(t, alarms);

    let rows: Vec<Row> = app
        .data
        .gateways
        .iter()
        .map(|g| {
            let (txt, st) = if g.online {
                ("online", Style::default().fg(Color::Green))
            } else {
                ("OFFLINE", Style::default().fg(Color::Red))
            };
            Row::new(vec![
                g.gateway.clone(),
                txt.to_string(),
                format!("{} bus", g.buses),
                g.last_cycle_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_else(|| "-".into()),
                g.last_error.clone().unwrap_or_else(|| g.name.clone()),
            ])
            .style(st)
        })
        .collect();
    let t = Table::new(
        rows,
        [
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Min(5),
        ],
    )
    .header(
        Row::new(vec!["gw", "link", "buses", "cycle", "name / last error"])
            .style(Style::default().fg(Color::DarkGray)),
    )
    .block(Block::default().borders(Borders::ALL).title(" Gateways "));
    f.render_widget(t, gws);
    f.render_widget(Paragraph::new(legend(app.colors256)), leg);
}
