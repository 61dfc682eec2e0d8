//! Login and (forced) password change: the form, what its keys do, and its draw.

use crate::api::{Api, ApiErr};
use crate::app::App;
use crate::app::{Screen, Session};
use crate::data::{self, Refreshed};
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::Action;
use crate::types::{LoginRequest, LoginResponse, PasswordChange};
use crate::ui::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The login and password-change form.
#[derive(Debug, Clone, Default)]
pub struct Form {
    pub name: String,
    pub password: String,
    pub new_password: String,
    pub repeat: String,
    pub focus: usize,
}

/// A login's answer, with the first refresh when it let the operator in.
pub struct LoggedIn {
    pub result: Result<LoginResponse, ApiErr>,
    pub refreshed: Option<Box<Refreshed>>,
}

pub enum Reply {
    Login(LoggedIn),
    /// The password change, then the login with the new password when it was taken.
    PasswordChanged(Result<LoggedIn, ApiErr>),
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Login(r)
    }
}

/// Logs in and, unless the password must be changed first, loads the dashboard in the
/// same job (so the first screen shows at once).
fn log_in(api: &mut Api<'_>, body: &LoginRequest, today: &str) -> LoggedIn {
    let result = api.login(body);
    let refreshed = match &result {
        Ok(l) if !l.must_change_password => Some(Box::new(data::fetch(api, today))),
        _ => None,
    };
    LoggedIn { result, refreshed }
}

impl Form {
    /// The field the keyboard types into.
    fn field_mut(&mut self, screen: Screen) -> &mut String {
        match (screen, self.focus) {
            (Screen::ChangePassword, 0) => &mut self.new_password,
            (Screen::ChangePassword, _) => &mut self.repeat,
            (_, 0) => &mut self.name,
            _ => &mut self.password,
        }
    }

    pub fn type_char(&mut self, screen: Screen, c: char) {
        crate::screens::push_char(self.field_mut(screen), c);
    }

    /// Typing keys on the login (`screen` Login) or password-change screen.
    pub fn typing(
        &mut self,
        a: Action,
        screen: Screen,
        session: &mut Session,
        today: &str,
    ) -> Effect {
        match a {
            Action::Backspace => {
                self.field_mut(screen).pop();
                Effect::None
            }
            Action::NextField => {
                self.focus = (self.focus + 1) % 2;
                Effect::None
            }
            Action::Back if screen == Screen::Login => Effect::Quit,
            Action::Back => {
                session.token = None;
                Effect::Switch(Screen::Login)
            }
            Action::Submit if self.focus == 0 => {
                self.focus = 1;
                Effect::None
            }
            Action::Submit if screen == Screen::Login => self.login(today),
            Action::Submit => self.change_password(today),
            _ => Effect::None,
        }
    }

    fn login(&self, today: &str) -> Effect {
        let body = LoginRequest {
            name: self.name.trim().to_string(),
            password: self.password.clone(),
        };
        let today = today.to_string();
        Effect::call(move |api| Reply::Login(log_in(api, &body, &today)).into())
    }

    fn change_password(&mut self, today: &str) -> Effect {
        if self.new_password != self.repeat {
            self.repeat.clear();
            self.focus = 1;
            return Effect::error("the two new passwords differ: type it again");
        }
        let change = PasswordChange {
            old_password: self.password.clone(),
            new_password: self.new_password.clone(),
        };
        // The daemon ends every session of the operator on a change: log in again.
        let login = LoginRequest {
            name: self.name.trim().to_string(),
            password: self.new_password.clone(),
        };
        let today = today.to_string();
        Effect::call(move |api| {
            let r = api
                .change_password(&change)
                .map(|()| log_in(api, &login, &today));
            Reply::PasswordChanged(r).into()
        })
    }

    /// A login's answer: the session, and which screen comes next.
    pub fn logged_in(
        &mut self,
        result: Result<LoginResponse, ApiErr>,
        session: &mut Session,
    ) -> Effect {
        match result {
            Ok(l) => {
                session.token = Some(l.token);
                session.operator = Some((l.name, l.role));
                if l.must_change_password {
                    self.focus = 0;
                    Effect::Switch(Screen::ChangePassword).and(Effect::info(
                        "first login: choose a new password before you continue",
                    ))
                } else {
                    self.password.clear();
                    Effect::Switch(Screen::Dashboard).and(Effect::info("logged in"))
                }
            }
            Err(e) => {
                self.password.clear();
                Effect::error(format!("login refused: {}", e.message))
            }
        }
    }

    /// The password change's answer; the login that follows it is applied by the app.
    pub fn password_changed(&mut self, result: &Result<LoggedIn, ApiErr>) -> Effect {
        match result {
            Ok(_) => {
                self.password = std::mem::take(&mut self.new_password);
                self.repeat.clear();
                self.focus = 1;
                Effect::Switch(Screen::Login)
            }
            Err(e) => {
                self.new_password.clear();
                self.repeat.clear();
                self.focus = 0;
                Effect::error(format!("password not changed: {}", e.message))
            }
        }
    }

    /// `P`: the password-change form, empty.
    pub fn start_change(&mut self) {
        self.new_password.clear();
        self.repeat.clear();
        self.focus = 0;
    }
}

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
                    app.session
                        .operator
                        .as_ref()
                        .map(|o| o.0.as_str())
                        .unwrap_or("")
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
