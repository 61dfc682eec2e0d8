//! Staff screen: operators with their role and state, what the selected role may do, and
//! the audit log (newest first) — the state, what the keys do, and the draw.

use crate::api::{Api, ApiErr};
use crate::app::{Confirm, Pending as AnyPending};
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{Action, Context};
use crate::types::{
    AuditEntry, NewOperator, OperatorAdded, OperatorChange, OperatorView, PasswordReset, RoleRow,
};

mod draw;
pub use draw::draw;

/// Roles in the order `o` cycles through them.
pub const ROLES: [&str; 4] = ["cashier", "viewer", "installer", "admin"];

/// The operator being added.
#[derive(Debug, Clone, Default)]
pub struct Adding {
    pub name: String,
    /// Index into [`ROLES`].
    pub role: usize,
}

#[derive(Debug, Clone, Default)]
pub struct StaffState {
    pub operators: Vec<OperatorView>,
    pub roles: Vec<RoleRow>,
    pub selected: usize,
    /// Newest first.
    pub audit: Vec<AuditEntry>,
    pub audit_scroll: usize,
    /// Arrow keys move in the audit log instead of the operators.
    pub audit_focus: bool,
    pub adding: Option<Adding>,
    /// A generated password, shown once on screen for the admin to hand over.
    pub new_password: Option<String>,
    /// Why the lists are empty (e.g. the role may not manage operators).
    pub note: Option<String>,
}

/// A staff change waiting for the admin's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    AddOperator {
        name: String,
        role: String,
    },
    ResetPassword {
        name: String,
    },
    ChangeOperator {
        name: String,
        body: OperatorChange,
        what: String,
    },
}

/// The staff lists, as far as the operator may read them.
pub struct Loaded {
    roles: Option<Vec<RoleRow>>,
    operators: Result<Vec<OperatorView>, ApiErr>,
    audit: Option<Vec<AuditEntry>>,
}

pub enum Reply {
    Loaded(Loaded),
    Added {
        name: String,
        role: String,
        result: Result<OperatorAdded, ApiErr>,
    },
    Reset {
        name: String,
        result: Result<PasswordReset, ApiErr>,
    },
    Changed {
        what: String,
        result: Result<(), ApiErr>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Staff(r)
    }
}

fn fetch(api: &mut Api<'_>) -> Loaded {
    Loaded {
        roles: api.roles().ok(),
        operators: api.operators(),
        // Non-admins may not read the audit log: the pane stays as it is.
        audit: api.audit(300).ok(),
    }
}

/// Loads the operators, roles and audit log.
pub fn load() -> Effect {
    Effect::call(|api| Reply::Loaded(fetch(api)).into())
}

fn confirm(title: impl Into<String>, lines: Vec<String>, p: Pending) -> Effect {
    Effect::Confirm(Confirm {
        title: title.into(),
        lines,
        pending: AnyPending::Staff(p),
    })
}

impl StaffState {
    pub fn context(&self) -> Context {
        if self.adding.is_some() {
            Context::Typing
        } else {
            Context::Staff
        }
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(a) = self.adding.as_mut() {
            crate::screens::push_char(&mut a.name, c);
        }
    }

    pub fn typing(&mut self, a: Action) -> Effect {
        match a {
            Action::Backspace => {
                if let Some(a) = self.adding.as_mut() {
                    a.name.pop();
                }
                Effect::None
            }
            Action::NextField => {
                if let Some(a) = self.adding.as_mut() {
                    a.role = (a.role + 1) % ROLES.len();
                }
                Effect::None
            }
            Action::Back => {
                self.adding = None;
                Effect::info("cancelled: nothing was changed")
            }
            Action::Submit => self.submit(),
            _ => Effect::None,
        }
    }

    pub fn on_action(&mut self, a: Action) -> Effect {
        match a {
            Action::AddOperator => {
                self.adding = Some(Adding::default());
                self.new_password = None;
                Effect::info("name of the new operator; Tab chooses the role")
            }
            Action::ResetPassword => self.ask_reset_password(),
            Action::ToggleDisabled => self.ask_toggle_disabled(),
            Action::NextRole => self.ask_next_role(),
            Action::NextPane => {
                self.audit_focus = !self.audit_focus;
                Effect::None
            }
            _ => {
                self.cursor(a);
                Effect::None
            }
        }
    }

    fn cursor(&mut self, a: Action) {
        let page = 10;
        if self.audit_focus {
            let n = self.audit.len().saturating_sub(1);
            self.audit_scroll = match a {
                Action::Up => self.audit_scroll.saturating_sub(1),
                Action::Down => (self.audit_scroll + 1).min(n),
                Action::PageUp => self.audit_scroll.saturating_sub(page),
                Action::PageDown => (self.audit_scroll + page).min(n),
                Action::Top => 0,
                Action::Bottom => n,
                _ => self.audit_scroll,
            };
            return;
        }
        let n = self.operators.len().saturating_sub(1);
        match a {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(n),
            Action::PageUp => self.audit_scroll = self.audit_scroll.saturating_sub(page),
            Action::PageDown => {
                self.audit_scroll =
                    (self.audit_scroll + page).min(self.audit.len().saturating_sub(1))
            }
            _ => {}
        }
    }

    fn selected_operator(&self) -> Option<&OperatorView> {
        self.operators.get(self.selected)
    }

    fn allows_text(&self, role: &str) -> String {
        self.roles
            .iter()
            .find(|r| r.role == role)
            .map(|r| r.allows.join(", "))
            .unwrap_or_default()
    }

    fn submit(&mut self) -> Effect {
        let Some(a) = self.adding.take() else {
            return Effect::None;
        };
        let name = a.name.trim().to_string();
        if name.is_empty() {
            self.adding = Some(a);
            return Effect::error("type a name");
        }
        let role = ROLES[a.role];
        let may = self.allows_text(role);
        confirm(
            "Add an operator",
            vec![
                format!("Add {name} as {role}"),
                format!("{role} may: {may}"),
                "a first-login password is generated and shown once".into(),
            ],
            Pending::AddOperator {
                name,
                role: role.into(),
            },
        )
    }

    fn ask_reset_password(&self) -> Effect {
        let Some(o) = self.selected_operator() else {
            return Effect::None;
        };
        confirm(
            "Reset a password",
            vec![
                format!("Reset the password of {} ({})", o.name, o.role),
                "their sessions end; a new password is generated and shown once".into(),
            ],
            Pending::ResetPassword {
                name: o.name.clone(),
            },
        )
    }

    fn ask_toggle_disabled(&self) -> Effect {
        let Some(o) = self.selected_operator() else {
            return Effect::None;
        };
        let (what, line) = if o.disabled {
            ("enable", "they can log in again")
        } else {
            ("disable", "they cannot log in; their sessions end now")
        };
        confirm(
            format!(
                "{} an operator",
                if o.disabled { "Enable" } else { "Disable" }
            ),
            vec![format!("{what} {} ({})", o.name, o.role), line.into()],
            Pending::ChangeOperator {
                name: o.name.clone(),
                body: OperatorChange {
                    disabled: Some(!o.disabled),
                    role: None,
                },
                what: format!("{what}d {}", o.name),
            },
        )
    }

    fn ask_next_role(&self) -> Effect {
        let Some(o) = self.selected_operator() else {
            return Effect::None;
        };
        let i = ROLES.iter().position(|r| *r == o.role).unwrap_or(0);
        let to = ROLES[(i + 1) % ROLES.len()];
        let may = self.allows_text(to);
        confirm(
            "Change a role",
            vec![
                format!("{}: {} → {to}", o.name, o.role),
                format!("{to} may: {may}"),
            ],
            Pending::ChangeOperator {
                name: o.name.clone(),
                body: OperatorChange {
                    disabled: None,
                    role: Some(to.into()),
                },
                what: format!("{} is now {to}", o.name),
            },
        )
    }

    /// `y` on a staff dialog.
    pub fn confirmed(&self, p: Pending) -> Effect {
        match p {
            Pending::AddOperator { name, role } => Effect::call(move |api| {
                let result = api.add_operator(&NewOperator {
                    name: name.clone(),
                    role: role.clone(),
                    password: None,
                });
                Reply::Added { name, role, result }.into()
            }),
            Pending::ResetPassword { name } => Effect::call(move |api| {
                let result = api.reset_password(&name);
                Reply::Reset { name, result }.into()
            }),
            Pending::ChangeOperator { name, body, what } => Effect::call(move |api| {
                let result = api.change_operator(&name, &body);
                Reply::Changed { what, result }.into()
            }),
        }
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Loaded(l) => {
                self.note = None;
                if let Some(r) = l.roles {
                    self.roles = r;
                }
                let e = match l.operators {
                    Ok(v) => {
                        self.operators = v;
                        self.selected = self.selected.min(self.operators.len().saturating_sub(1));
                        Effect::None
                    }
                    Err(e) if e.status == 403 => {
                        self.note =
                            Some("only an admin manages operators and reads the audit log".into());
                        Effect::None
                    }
                    Err(e) => Effect::error(format!("operators: {}", e.message)),
                };
                if let Some(a) = l.audit {
                    self.audit = a;
                }
                e
            }
            Reply::Added { name, role, result } => match result {
                Ok(v) => {
                    let pw = v.password.as_deref().unwrap_or("?");
                    self.new_password = Some(format!(
                        "{name} ({role}): first-login password {pw} — hand it over; it must be changed at first login"
                    ));
                    Effect::info(format!("ADDED operator {name} ({role})")).and(load())
                }
                Err(e) => Effect::error(format!("not added: {}", e.message)),
            },
            Reply::Reset { name, result } => match result {
                Ok(v) => {
                    self.new_password = Some(format!(
                        "{name}: new password {} — it must be changed at the next login",
                        v.password
                    ));
                    Effect::info(format!("password of {name} reset")).and(load())
                }
                Err(e) => Effect::error(format!("not reset: {}", e.message)),
            },
            Reply::Changed { what, result } => match result {
                Ok(()) => Effect::info(what).and(load()),
                Err(e) => Effect::error(format!("refused: {}", e.message)),
            },
        }
    }
}
