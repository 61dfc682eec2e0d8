//! Drawing the sales screen (a pure function of the app).

use super::{METHODS, MoneyOp, SalesField};
use crate::app::App;
use crate::widgets::money;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

fn input<'a>(label: &'a str, value: &str, active: bool) -> Line<'a> {
    let st = if active {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::Gray)
    };
    Line::from(vec![
        Span::styled(format!("{label}: "), st),
        Span::styled(format!("{value}{}", if active { "█" } else { "" }), st),
    ])
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.sales;
    let [form, main] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut l = vec![input(
        "Unit / tenant",
        &s.lookup,
        s.field == SalesField::Lookup,
    )];
    match (s.field, s.op) {
        (SalesField::Amount, MoneyOp::Sale) => {
            let mut spans = input("Sell amount ¥", &s.amount, true).spans;
            spans.push(Span::raw(format!("   method: {} (Tab)", METHODS[s.method])));
            l.push(Line::from(spans));
        }
        (SalesField::Amount, MoneyOp::Close) => l.push(input("Final charge ¥", &s.amount, true)),
        (SalesField::Amount, MoneyOp::Open) => {
            l.push(input("Carried over from an old meter ¥", &s.amount, true))
        }
        (SalesField::Reason, MoneyOp::Open) => l.push(input("Old meter number", &s.reason, true)),
        (SalesField::Reason, MoneyOp::AddMeter) => l.push(input("Meter to add", &s.reason, true)),
        (SalesField::Reason, MoneyOp::Sale) => {
            l.push(input("Meter for the credit", &s.reason, true))
        }
        (SalesField::Amount, _) => l.push(input("Refund amount ¥", &s.amount, true)),
        (SalesField::Reason, _) => l.push(input("Reason", &s.reason, true)),
        _ => l.push(Line::from(Span::styled(
            "/ find  s sell  f refund  v reverse  o open  m add meter  C close  Esc clear",
            Style::default().fg(Color::DarkGray),
        ))),
    }
    f.render_widget(
        Paragraph::new(l).block(Block::default().borders(Borders::BOTTOM)),
        form,
    );
    let Some(t) = &s.tenant else {
        f.render_widget(
            Paragraph::new("Type a unit (e.g. A-101), a tenant id or part of a name, then Enter.")
                .block(Block::default().borders(Borders::ALL).title(" Tenant ")),
            main,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
    let status_style = match t.status.as_str() {
        "arrears" | "tripped" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "alarm2" => Style::default().fg(Color::LightRed),
        "alarm1" => Style::default().fg(Color::Yellow),
        _ => Style::default().fg(Color::Green),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!("{} {}", t.tenant, t.name),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Line::from(format!(
            "units {}  account {}",
            t.units.join(", "),
            match s.has_account(&app.data) {
                Some(true) => "on file",
                Some(false) => "NOT OPEN (o opens it)",
                None => "?",
            }
        )),
        Line::from(vec![
            Span::raw("balance "),
            Span::styled(
                format!("¥{}", money(t.balance_fen)),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw("  "),
            Span::styled(t.status.clone(), status_style),
        ]),
        Line::from(format!("can top up at most ¥{}", money(t.max_topup_fen))),
    ];
    for m in &t.meters {
        lines.push(Line::from(format!(
            " {} {} {} {}",
            m.meter,
            m.unit.as_deref().unwrap_or(""),
            // Relay "closed" means power flows; say it the way a cashier would.
            match m.relay.as_str() {
                "closed" => "power on",
                "open" => "POWER OFF",
                _ => "power ?",
            },
            match m.online {
                Some(false) => "OFFLINE",
                _ => "",
            }
        )));
    }
    if let Some(r) = &s.last_result {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            r.clone(),
            Style::default()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" Tenant ")),
        left,
    );
    // Below 60 columns the time is left out so kind and amounts stay readable.
    let wide = right.width >= 60;
    let rows: Vec<Row> = s
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut cells = vec![format!("#{}", o.id)];
            if wide {
                cells.push(o.at.get(5..).unwrap_or(&o.at).to_string());
            }
            cells.extend([
                o.kind.clone(),
                o.amount_fen.map(money).unwrap_or_default(),
                o.balance_after_fen.map(money).unwrap_or_default(),
            ]);
            let r = Row::new(cells);
            if i == s.selected_op {
                r.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                r
            }
        })
        .collect();
    let (widths, header) = if wide {
        (
            vec![
                Constraint::Length(5),
                Constraint::Length(11),
                Constraint::Min(8),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
            vec!["op", "at (UTC)", "kind", "amount", "balance"],
        )
    } else {
        (
            vec![
                Constraint::Length(5),
                Constraint::Min(8),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
            vec!["op", "kind", "amount", "balance"],
        )
    };
    let t = Table::new(rows, widths)
        .header(Row::new(header).style(Style::default().fg(Color::DarkGray)))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Operations (↑↓ select, v reverse) "),
        );
    f.render_widget(t, right);
}
