//! Drawing: a pure function of `App`, so every screen snapshot-tests on `TestBackend`.

use crate::app::{App, Level, Screen};
use crate::keys::{self, Context};
use crate::screens;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, Wrap};

pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    top_bar(f, top, app);
    match app.screen {
        Screen::Login | Screen::ChangePassword => screens::login::draw(f, body, app),
        Screen::Dashboard => screens::dashboard::draw(f, body, app),
        Screen::Meters => screens::meters::draw(f, body, app),
        Screen::Sales => screens::sales::draw(f, body, app),
        Screen::Reports => screens::reports::draw(f, body, app),
        Screen::Batch => screens::batch::draw(f, body, app),
        Screen::Site => screens::site::draw(f, body, app),
        Screen::Staff => screens::staff::draw(f, body, app),
        Screen::Suspect => screens::suspect::draw(f, body, app),
        Screen::Office => screens::office::draw(f, body, app),
    }
    bottom_bar(f, bottom, app);
    if let Some(c) = &app.confirm {
        confirm(f, area, c);
    }
    if app.help {
        help(f, area, app);
    }
}

fn top_bar(f: &mut Frame, area: Rect, app: &App) {
    let site = app
        .data
        .status
        .as_ref()
        .map(|s| s.site_name.as_str())
        .unwrap_or("voltvend");
    let logged_in = app.session.token.is_some()
        && !matches!(app.screen, Screen::Login | Screen::ChangePassword);
    // On a narrow terminal the tabs need the room: the site name is shortened.
    let site: String = if logged_in && area.width < 120 && site.chars().count() > 12 {
        site.chars().take(11).chain(['…']).collect()
    } else {
        site.to_string()
    };
    let mut spans = vec![
        Span::styled(
            " voltvend ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" {site} ")),
    ];
    if logged_in {
        // Nine tabs with their names need 150 columns; narrower, a tab shows its number
        // and only the shown screen its name (the help and the dashboard's key line say
        // which number is which).
        let wide = area.width >= 150;
        for (i, (s, name)) in [
            (Screen::Dashboard, "Dashboard"),
            (Screen::Meters, "Meters"),
            (Screen::Sales, "Sales"),
            (Screen::Reports, "Reports"),
            (Screen::Batch, "Batch"),
            (Screen::Site, "Site"),
            (Screen::Staff, "Staff"),
            (Screen::Suspect, "Suspect"),
            (Screen::Office, "Office"),
        ]
        .iter()
        .enumerate()
        {
            let st = if app.screen == *s {
                Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            } else {
                Style::default()
            };
            spans.push(Span::styled(
                if wide {
                    format!(" {} {name} ", i + 1)
                } else if app.screen == *s {
                    format!("{} {name}", i + 1)
                } else {
                    format!("{}", i + 1)
                },
                st,
            ));
            if !wide {
                spans.push(Span::raw(" "));
            }
        }
    }
    if let Some((n, r)) = &app.session.operator {
        spans.push(Span::styled(
            if area.width < 120 {
                format!(" {n}")
            } else {
                format!("  {n} ({r})")
            },
            Style::default().fg(Color::Gray),
        ));
    }
    if app.busy() {
        spans.push(Span::styled(
            " ⧗ waiting for the daemon…",
            Style::default().fg(Color::Yellow),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn bottom_bar(f: &mut Frame, area: Rect, app: &App) {
    let line = match &app.message {
        Some((Level::Error, m)) => Line::from(Span::styled(
            format!(" ✗ {m}"),
            Style::default().fg(Color::White).bg(Color::Red),
        )),
        Some((Level::Info, m)) => Line::from(Span::styled(
            format!(" {m}"),
            Style::default().fg(Color::Green),
        )),
        None => {
            let ctx = app.context();
            let mut s = String::new();
            for b in keys::table(ctx).iter().take(6) {
                s.push_str(&format!(" {} {} │", b.label, b.help));
            }
            s.push_str(if ctx == Context::Typing {
                " F1 help"
            } else {
                " ? help"
            });
            Line::from(Span::styled(s, Style::default().fg(Color::DarkGray)))
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// A centred rectangle of at most w×h.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn confirm(f: &mut Frame, area: Rect, c: &crate::app::Confirm) {
    // Height for the wrapped text, so the y/n line is never cut off.
    let inner = usize::from(area.width.min(70).saturating_sub(2)).max(1);
    let rows: usize = c
        .lines
        .iter()
        .map(|l| Line::from(l.as_str()).width().div_ceil(inner).max(1))
        .sum();
    let r = centered(area, 70, rows as u16 + 4);
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = c.lines.iter().map(|l| Line::from(l.clone())).collect();
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(
            " y/Enter ",
            Style::default().fg(Color::Black).bg(Color::Green),
        ),
        Span::raw(" confirm   "),
        Span::styled(" n/Esc ", Style::default().fg(Color::Black).bg(Color::Red)),
        Span::raw(" cancel"),
    ]));
    let p = Paragraph::new(lines).wrap(Wrap { trim: true }).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" {} ", c.title))
            .border_style(Style::default().fg(Color::Yellow)),
    );
    f.render_widget(p, r);
}

/// Help overlay from the key tables: the current context's keys, then the global ones.
fn help(f: &mut Frame, area: Rect, app: &App) {
    let ctx = app.context();
    let mut rows = Vec::new();
    let mut tables = vec![(ctx, keys::table(ctx))];
    if matches!(
        ctx,
        Context::Meters
            | Context::MeterDetail
            | Context::Sales
            | Context::Batch
            | Context::Site
            | Context::Staff
            | Context::Suspect
            | Context::Office
            | Context::Reports
    ) {
        tables.push((Context::Global, keys::GLOBAL));
    }
    for (c, t) in tables {
        rows.push(
            Row::new(vec![format!("{c:?}"), String::new()])
                .style(Style::default().add_modifier(Modifier::BOLD)),
        );
        for b in t {
            rows.push(Row::new(vec![format!("  {}", b.label), b.help.to_string()]));
        }
    }
    let h = rows.len() as u16 + 3;
    let r = centered(area, 64, h);
    f.render_widget(Clear, r);
    let t = Table::new(rows, [Constraint::Length(12), Constraint::Min(10)]).block(
        Block::default()
            .borders(Borders::ALL)
            .title(" Keys — any key closes ")
            .border_style(Style::default().fg(Color::Cyan)),
    );
    f.render_widget(t, r);
}
