//! The site screen (defaults, buildings, gateways, batch import from a file on the
//! appliance) and the staff screen (operators, roles, the audit log): state and actions.

use crate::api::Transport;
use crate::app::{App, Confirm, Pending};
use crate::keys::Action;
use crate::widgets::{money, parse_money};
use serde::Deserialize;
use serde_json::{Value, json};

/// Import kinds, in the order a site is imported; the last, a tariff, is a TOML file
/// (docs/tariffs.md) that the daemon checks and stores through `/api/v1/tariffs`.
pub const KINDS: [&str; 6] = [
    "buildings",
    "units",
    "gateways",
    "meters",
    "tenants",
    "tariff",
];

/// Roles in the order `o` cycles through them.
pub const ROLES: [&str; 4] = ["cashier", "viewer", "installer", "admin"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// Whole number.
    Int,
    /// Yuan on screen, fen in the API.
    Money,
    Text,
    /// Text; empty means none.
    OptText,
}

/// (API key, label, kind): the site defaults the console edits.
pub const SETTINGS: [(&str, &str, SettingKind); 8] = [
    ("power_limit_w", "power threshold (W)", SettingKind::Int),
    (
        "collection_interval_s",
        "collection interval (s)",
        SettingKind::Int,
    ),
    ("alarm1", "balance alarm level 1", SettingKind::Money),
    ("alarm2", "balance alarm level 2", SettingKind::Money),
    (
        "hoarding_cap",
        "hoarding cap (囤积上限)",
        SettingKind::Money,
    ),
    ("default_tariff", "default tariff", SettingKind::Text),
    ("alarm_sms", "alarm SMS number", SettingKind::OptText),
    ("timezone", "time zone", SettingKind::Text),
];

/// A setting's value as the screen shows it.
pub fn setting_text(settings: &Value, i: usize) -> String {
    let (key, _, kind) = SETTINGS[i];
    let v = &settings[key];
    match kind {
        SettingKind::Money => v.as_i64().map(money).unwrap_or_default(),
        SettingKind::Int => v.as_i64().map(|n| n.to_string()).unwrap_or_default(),
        SettingKind::Text | SettingKind::OptText => v.as_str().unwrap_or("").to_string(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct SiteState {
    pub settings: Option<Value>,
    pub buildings: Vec<Value>,
    /// (name, its prices in one line as the daemon words them).
    pub tariffs: Vec<(String, String)>,
    pub selected: usize,
    /// The new value being typed for the selected setting.
    pub editing: Option<String>,
    /// The file path being typed for an import.
    pub importing: Option<String>,
    /// Index into [`KINDS`].
    pub kind: usize,
    /// Every problem of the last import attempt (nothing was imported).
    pub problems: Vec<String>,
    pub last_import: Option<String>,
}

impl SiteState {
    pub fn typing(&self) -> bool {
        self.editing.is_some() || self.importing.is_some()
    }
    pub fn field_mut(&mut self) -> Option<&mut String> {
        self.editing.as_mut().or(self.importing.as_mut())
    }
    pub fn next_kind(&mut self) {
        if self.importing.is_some() {
            self.kind = (self.kind + 1) % KINDS.len();
        }
    }
    pub fn cursor(&mut self, a: Action) {
        match a {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(SETTINGS.len() - 1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = SETTINGS.len() - 1,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OperatorRow {
    pub name: String,
    pub role: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub locked_until: Option<String>,
    pub last_login: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleRow {
    pub role: String,
    pub allows: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewOperator {
    pub name: String,
    /// Index into [`ROLES`].
    pub role: usize,
}

#[derive(Debug, Clone, Default)]
pub struct StaffState {
    pub operators: Vec<OperatorRow>,
    pub roles: Vec<RoleRow>,
    pub selected: usize,
    /// Newest first.
    pub audit: Vec<Value>,
    pub audit_scroll: usize,
    /// Arrow keys move in the audit log instead of the operators.
    pub audit_focus: bool,
    pub adding: Option<NewOperator>,
    /// A generated password, shown once on screen for the admin to hand over.
    pub new_password: Option<String>,
    /// Why the lists are empty (e.g. the role may not manage operators).
    pub note: Option<String>,
}

impl StaffState {
    pub fn cursor(&mut self, a: Action) {
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
    fn selected_operator(&self) -> Option<&OperatorRow> {
        self.operators.get(self.selected)
    }
}

impl App {
    // ---------- site ----------

    pub fn load_site(&mut self, api: &mut dyn Transport) {
        match self.call(api, "GET", "/api/v1/site/settings", None) {
            Ok(v) => self.site.settings = Some(v),
            Err(e) => self.error(format!("settings: {}", e.message)),
        }
        match self.call(api, "GET", "/api/v1/buildings", None) {
            Ok(Value::Array(b)) => self.site.buildings = b,
            Ok(_) => {}
            Err(e) => self.error(format!("buildings: {}", e.message)),
        }
        if let Ok(g) = self.call(api, "GET", "/api/v1/gateways", None) {
            self.gateways = serde_json::from_value(g).unwrap_or_default();
        }
        if let Ok(Value::Array(t)) = self.call(api, "GET", "/api/v1/tariffs", None) {
            self.site.tariffs = t
                .into_iter()
                .map(|x| {
                    (
                        x["name"].as_str().unwrap_or("").to_string(),
                        x["summary"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
        }
    }

    pub fn start_edit(&mut self) {
        let Some(s) = &self.site.settings else {
            self.error("the settings are not loaded: press R");
            return;
        };
        let (_, label, _) = SETTINGS[self.site.selected];
        self.site.editing = Some(setting_text(s, self.site.selected).replace(',', ""));
        self.info(format!("new {label}; Enter to review, Esc to cancel"));
    }

    pub fn start_import(&mut self) {
        self.site.importing = Some(String::new());
        self.site.problems.clear();
        self.info("path of a file on the appliance (CSV/XLSX; a tariff: TOML); Tab: what it holds");
    }

    pub fn site_submit(&mut self, api: &mut dyn Transport) {
        if let Some(text) = self.site.editing.take() {
            let Some(settings) = self.site.settings.clone() else {
                return;
            };
            let (key, label, kind) = SETTINGS[self.site.selected];
            let t = text.trim();
            let value = match kind {
                SettingKind::Int => t.parse::<i64>().ok().map(Value::from),
                SettingKind::Money => parse_money(t).map(Value::from),
                SettingKind::Text => (!t.is_empty()).then(|| Value::from(t)),
                SettingKind::OptText if t.is_empty() => Some(Value::Null),
                SettingKind::OptText => Some(Value::from(t)),
            };
            let Some(value) = value else {
                self.site.editing = Some(text.clone());
                self.error(format!("{text:?} is not a valid {label}"));
                return;
            };
            let before = setting_text(&settings, self.site.selected);
            let mut body = settings;
            body[key] = value;
            let after = setting_text(&body, self.site.selected);
            self.confirm = Some(Confirm {
                title: "Change a site setting".into(),
                lines: vec![
                    format!("{label}: {before} → {after}"),
                    "applies to every meter that does not override it".into(),
                ],
                pending: Pending::SaveSettings {
                    body,
                    what: format!("{label} {after}"),
                },
            });
        } else if let Some(path) = self.site.importing.clone() {
            let path = path.trim().to_string();
            if path.is_empty() {
                self.error("type the file's path, e.g. /var/lib/voltvend/import/meters.xlsx");
                return;
            }
            let kind = KINDS[self.site.kind];
            // Check first (nothing written), then ask.
            self.run_import(kind, &path, true, api);
        }
    }

    pub fn run_import(&mut self, kind: &str, path: &str, dry_run: bool, api: &mut dyn Transport) {
        if kind == "tariff" {
            return self.run_tariff(path, dry_run, api);
        }
        let body = json!({"kind": kind, "path": path, "dry_run": dry_run});
        match self.call(api, "POST", "/api/v1/site/import", Some(&body)) {
            Ok(v) => {
                self.site.problems.clear();
                let counts = format!(
                    "{} added, {} updated, {} unchanged",
                    v["added"].as_u64().unwrap_or(0),
                    v["updated"].as_u64().unwrap_or(0),
                    v["unchanged"].as_u64().unwrap_or(0)
                );
                if dry_run {
                    self.site.importing = None;
                    self.confirm = Some(Confirm {
                        title: format!("Import {kind}"),
                        lines: vec![
                            format!("{path}: the whole file checked, no problems"),
                            format!("{kind}: {counts}"),
                            "written in one transaction, every change audited".into(),
                        ],
                        pending: Pending::Import {
                            kind: kind.into(),
                            path: path.into(),
                        },
                    });
                } else {
                    let msg = format!("IMPORTED {kind} from {path}: {counts}");
                    self.site.last_import = Some(msg.clone());
                    self.info(msg);
                    self.load_site(api);
                    self.refresh(api);
                }
            }
            Err(e) => {
                self.site.problems = e.details.clone();
                if self.site.problems.is_empty() {
                    self.site.problems.push(e.message.clone());
                }
                self.error(format!("{} — nothing was imported", e.message));
            }
        }
    }

    /// A tariff file: checked and compared first (the confirmation shows the prices before
    /// and after), stored after `y`.
    fn run_tariff(&mut self, path: &str, dry_run: bool, api: &mut dyn Transport) {
        let body = json!({"path": path, "dry_run": dry_run});
        match self.call(api, "POST", "/api/v1/tariffs", Some(&body)) {
            Ok(v) => {
                self.site.problems.clear();
                let name = v["name"].as_str().unwrap_or("?").to_string();
                let after = v["after"].as_str().unwrap_or("").to_string();
                let change = v["change"].as_str().unwrap_or("").to_string();
                if dry_run {
                    self.site.importing = None;
                    let before = v["before"].as_str().unwrap_or("(new tariff)");
                    self.confirm = Some(Confirm {
                        title: format!("Set tariff {name}"),
                        lines: vec![
                            format!("{path}: checked, no problems ({change})"),
                            format!("before: {before}"),
                            format!("after:  {after}"),
                            "used from the next reading; meter-billed meters get the new prices"
                                .into(),
                        ],
                        pending: Pending::Import {
                            kind: "tariff".into(),
                            path: path.into(),
                        },
                    });
                } else {
                    let msg = format!("TARIFF {name} {change}: {after}");
                    self.site.last_import = Some(msg.clone());
                    self.info(msg);
                    self.load_site(api);
                }
            }
            Err(e) => {
                self.site.problems = vec![e.message.clone()];
                self.error(format!("{} — the tariff was not changed", e.message));
            }
        }
    }

    pub fn save_settings(&mut self, body: Value, what: &str, api: &mut dyn Transport) {
        match self.call(api, "PUT", "/api/v1/site/settings", Some(&body)) {
            Ok(v) => {
                self.site.settings = Some(v);
                self.info(format!("saved: {what}"));
            }
            Err(e) => self.error(format!("not saved: {}", e.message)),
        }
    }

    // ---------- staff ----------

    pub fn load_staff(&mut self, api: &mut dyn Transport) {
        self.staff.note = None;
        if let Ok(r) = self.call(api, "GET", "/api/v1/roles", None) {
            self.staff.roles = serde_json::from_value(r).unwrap_or_default();
        }
        match self.call(api, "GET", "/api/v1/operators", None) {
            Ok(v) => {
                self.staff.operators = serde_json::from_value(v).unwrap_or_default();
                self.staff.selected = self
                    .staff
                    .selected
                    .min(self.staff.operators.len().saturating_sub(1));
            }
            Err(e) if e.status == 403 => {
                self.staff.note =
                    Some("only an admin manages operators and reads the audit log".into())
            }
            Err(e) => self.error(format!("operators: {}", e.message)),
        }
        // Non-admins may not read the audit log: the pane stays empty (note above says why).
        if let Ok(Value::Array(a)) =
            self.call(api, "GET", "/api/v1/audit?newest=true&limit=300", None)
        {
            self.staff.audit = a;
        }
    }

    pub fn start_add_operator(&mut self) {
        self.staff.adding = Some(NewOperator::default());
        self.staff.new_password = None;
        self.info("name of the new operator; Tab chooses the role");
    }

    pub fn staff_submit(&mut self) {
        let Some(a) = self.staff.adding.take() else {
            return;
        };
        let name = a.name.trim().to_string();
        if name.is_empty() {
            self.staff.adding = Some(a);
            self.error("type a name");
            return;
        }
        let role = ROLES[a.role];
        let may = self.allows_text(role);
        self.confirm = Some(Confirm {
            title: "Add an operator".into(),
            lines: vec![
                format!("Add {name} as {role}"),
                format!("{role} may: {may}"),
                "a first-login password is generated and shown once".into(),
            ],
            pending: Pending::AddOperator {
                name,
                role: role.into(),
            },
        });
    }

    fn allows_text(&self, role: &str) -> String {
        self.staff
            .roles
            .iter()
            .find(|r| r.role == role)
            .map(|r| r.allows.join(", "))
            .unwrap_or_default()
    }

    pub fn add_operator(&mut self, name: &str, role: &str, api: &mut dyn Transport) {
        let body = json!({"name": name, "role": role});
        match self.call(api, "POST", "/api/v1/operators", Some(&body)) {
            Ok(v) => {
                let pw = v["password"].as_str().unwrap_or("?");
                self.staff.new_password = Some(format!(
                    "{name} ({role}): first-login password {pw} — hand it over; it must be changed at first login"
                ));
                self.info(format!("ADDED operator {name} ({role})"));
                self.load_staff(api);
            }
            Err(e) => self.error(format!("not added: {}", e.message)),
        }
    }

    pub fn ask_reset_password(&mut self) {
        let Some(o) = self.staff.selected_operator() else {
            return;
        };
        self.confirm = Some(Confirm {
            title: "Reset a password".into(),
            lines: vec![
                format!("Reset the password of {} ({})", o.name, o.role),
                "their sessions end; a new password is generated and shown once".into(),
            ],
            pending: Pending::ResetPassword {
                name: o.name.clone(),
            },
        });
    }

    pub fn reset_password(&mut self, name: &str, api: &mut dyn Transport) {
        let path = format!("/api/v1/operators/{name}/reset-password");
        match self.call(api, "POST", &path, None) {
            Ok(v) => {
                self.staff.new_password = Some(format!(
                    "{name}: new password {} — it must be changed at the next login",
                    v["password"].as_str().unwrap_or("?")
                ));
                self.info(format!("password of {name} reset"));
                self.load_staff(api);
            }
            Err(e) => self.error(format!("not reset: {}", e.message)),
        }
    }

    pub fn ask_toggle_disabled(&mut self) {
        let Some(o) = self.staff.selected_operator() else {
            return;
        };
        let (what, line) = if o.disabled {
            ("enable", "they can log in again")
        } else {
            ("disable", "they cannot log in; their sessions end now")
        };
        self.confirm = Some(Confirm {
            title: format!(
                "{} an operator",
                if o.disabled { "Enable" } else { "Disable" }
            ),
            lines: vec![format!("{what} {} ({})", o.name, o.role), line.into()],
            pending: Pending::ChangeOperator {
                name: o.name.clone(),
                body: json!({"disabled": !o.disabled}),
                what: format!("{what}d {}", o.name),
            },
        });
    }

    pub fn ask_next_role(&mut self) {
        let Some(o) = self.staff.selected_operator() else {
            return;
        };
        let i = ROLES.iter().position(|r| *r == o.role).unwrap_or(0);
        let to = ROLES[(i + 1) % ROLES.len()];
        let may = self.allows_text(to);
        let Some(o) = self.staff.selected_operator() else {
            return;
        };
        self.confirm = Some(Confirm {
            title: "Change a role".into(),
            lines: vec![
                format!("{}: {} → {to}", o.name, o.role),
                format!("{to} may: {may}"),
            ],
            pending: Pending::ChangeOperator {
                name: o.name.clone(),
                body: json!({"role": to}),
                what: format!("{} is now {to}", o.name),
            },
        });
    }

    pub fn change_operator(
        &mut self,
        name: &str,
        body: &Value,
        what: &str,
        api: &mut dyn Transport,
    ) {
        match self.call(
            api,
            "POST",
            &format!("/api/v1/operators/{name}"),
            Some(body),
        ) {
            Ok(_) => {
                self.info(what.to_string());
                self.load_staff(api);
            }
            Err(e) => self.error(format!("refused: {}", e.message)),
        }
    }
}
