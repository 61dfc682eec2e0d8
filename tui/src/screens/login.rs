//! Login and (forced) password change.

use crate::app::{App, Screen};
use crate::ui::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

fn field<'a>(label: &'a str, value: String, focused: bool) -> Line<'a> {
    let st = if focused {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    let cursor = if focused { "█" } else { "" };
    Line::from(vec![
        Span::styled(format!("{label:>16}: "), st),
        Span::raw(value),
        Span::styled(cursor, st),
    ])
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let r = centered(area, 60, 9);
    let (title, lines) = if app.screen == Screen::Login {
        (
            " Staff login ",
            vec![
                Line::from(""),
                field("Operator", app.form.name.clone(), app.form.focus == 0),
                field(
                    "Password",
                    "•".repeat(app.form.password.chars().count()),
                    app.form.focus == 1,
                ),
                Line::from(""),
                Line::from(Span::styled(
                    "   Enter: next / log in   Tab: switch field   Esc: quit",
                    Style::default().fg(Color::DarkGray),
                )),
            ],
        )
    } else {
        (
            " Choose a new password ",
            vec![
                Line::from(format!(
                    "   Operator {} must set a new password.",
                    app.operator.as_ref().map(|o| o.0.as_str()).unwrap_or("")
                )),
                field(
                    "New password",
                    "•".repeat(app.form.new_password.chars().count()),
                    app.form.focus == 0,
                ),
                field(
                    "Repeat",
                    "•".repeat(app.form.repeat.chars().count()),
                    app.form.focus == 1,
                ),
                Line::from(""),
                Line::from(Span::styled(
                    "   Enter: next / save   Esc: back to login",
                    Style::default().fg(Color::DarkGray),
                )),
            ],
        )
    };
    let p = Paragraph::new(lines).block(
        Block::default()
            .borders(Borders::ALL)
            .title(title)
            .border_style(Style::default().fg(Color::Cyan)),
    );
    f.render_widget(p, r);
}
