//! Site screen: default parameters (editable), buildings, gateways, tariffs and batch
//! import from a file on the appliance — the state, what the keys do, and the draw.

use crate::api::{Api, ApiErr};
use crate::app::{Confirm, Pending as AnyPending};
use crate::data::SiteData;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{Action, Context};
use crate::types::{
    BuildingView, GatewayView, ImportDone, ImportRequest, SiteSettings, TariffRequest, TariffSaved,
    TariffView,
};
use crate::widgets::{money, parse_money};

mod draw;
pub use draw::draw;

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
pub fn setting_text(s: &SiteSettings, i: usize) -> String {
    match SETTINGS[i].0 {
        "power_limit_w" => s.power_limit_w.to_string(),
        "collection_interval_s" => s.collection_interval_s.to_string(),
        "alarm1" => money(s.alarm1),
        "alarm2" => money(s.alarm2),
        "hoarding_cap" => money(s.hoarding_cap),
        "default_tariff" => s.default_tariff.clone(),
        "alarm_sms" => s.alarm_sms.clone().unwrap_or_default(),
        _ => s.timezone.clone(),
    }
}

/// `s` with setting `i` set from the typed text, or None when the text is not a valid
/// value of that setting.
pub fn with_setting(s: &SiteSettings, i: usize, text: &str) -> Option<SiteSettings> {
    let t = text.trim();
    let text = || (!t.is_empty()).then(|| t.to_string());
    let mut s = s.clone();
    match SETTINGS[i].0 {
        "power_limit_w" => s.power_limit_w = t.parse().ok()?,
        "collection_interval_s" => s.collection_interval_s = t.parse().ok()?,
        "alarm1" => s.alarm1 = parse_money(t)?,
        "alarm2" => s.alarm2 = parse_money(t)?,
        "hoarding_cap" => s.hoarding_cap = parse_money(t)?,
        "default_tariff" => s.default_tariff = text()?,
        "alarm_sms" => s.alarm_sms = text(),
        _ => s.timezone = text()?,
    }
    Some(s)
}

#[derive(Debug, Clone, Default)]
pub struct SiteState {
    pub settings: Option<SiteSettings>,
    pub buildings: Vec<BuildingView>,
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

/// A site change waiting for the operator's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Import { kind: String, path: String },
    SaveSettings { body: SiteSettings, what: String },
}

/// What the site screen shows, as far as it loaded.
pub struct Loaded {
    settings: Result<SiteSettings, ApiErr>,
    buildings: Result<Vec<BuildingView>, ApiErr>,
    gateways: Option<Vec<GatewayView>>,
    tariffs: Option<Vec<TariffView>>,
}

pub enum Reply {
    Loaded(Loaded),
    Imported {
        kind: String,
        path: String,
        dry_run: bool,
        result: Result<ImportDone, ApiErr>,
    },
    Tariff {
        path: String,
        dry_run: bool,
        result: Result<TariffSaved, ApiErr>,
    },
    Saved {
        what: String,
        result: Result<SiteSettings, ApiErr>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Site(r)
    }
}

fn fetch(api: &mut Api<'_>) -> Loaded {
    Loaded {
        settings: api.settings(),
        buildings: api.buildings(),
        gateways: api.gateways().ok(),
        tariffs: api.tariffs().ok(),
    }
}

/// Loads what the site screen shows.
pub fn load() -> Effect {
    Effect::call(|api| Reply::Loaded(fetch(api)).into())
}

/// Checks (`dry_run`) or imports a file of `kind`.
fn import(kind: String, path: String, dry_run: bool) -> Effect {
    if kind == "tariff" {
        return Effect::call(move |api| {
            let result = api.set_tariff(&TariffRequest {
                path: Some(path.clone()),
                dry_run,
                ..Default::default()
            });
            Reply::Tariff {
                path,
                dry_run,
                result,
            }
            .into()
        });
    }
    Effect::call(move |api| {
        let result = api.import(&ImportRequest {
            kind: kind.clone(),
            path: path.clone(),
            dry_run,
        });
        Reply::Imported {
            kind,
            path,
            dry_run,
            result,
        }
        .into()
    })
}

impl SiteState {
    pub fn context(&self) -> Context {
        if self.editing.is_some() || self.importing.is_some() {
            Context::Typing
        } else {
            Context::Site
        }
    }

    fn field_mut(&mut self) -> Option<&mut String> {
        self.editing.as_mut().or(self.importing.as_mut())
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(f) = self.field_mut() {
            crate::screens::push_char(f, c);
        }
    }

    pub fn typing(&mut self, a: Action) -> Effect {
        match a {
            Action::Backspace => {
                if let Some(f) = self.field_mut() {
                    f.pop();
                }
                Effect::None
            }
            Action::NextField => {
                if self.importing.is_some() {
                    self.kind = (self.kind + 1) % KINDS.len();
                }
                Effect::None
            }
            Action::Back => {
                self.editing = None;
                self.importing = None;
                Effect::info("cancelled: nothing was changed")
            }
            Action::Submit => self.submit(),
            _ => Effect::None,
        }
    }

    pub fn on_action(&mut self, a: Action) -> Effect {
        match a {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(SETTINGS.len() - 1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = SETTINGS.len() - 1,
            Action::Edit => return self.start_edit(),
            Action::Import => {
                self.importing = Some(String::new());
                self.problems.clear();
                return Effect::info(
                    "path of a file on the appliance (CSV/XLSX; a tariff: TOML); Tab: what it holds",
                );
            }
            _ => {}
        }
        Effect::None
    }

    fn start_edit(&mut self) -> Effect {
        let Some(s) = &self.settings else {
            return Effect::error("the settings are not loaded: press R");
        };
        let (_, label, _) = SETTINGS[self.selected];
        self.editing = Some(setting_text(s, self.selected).replace(',', ""));
        Effect::info(format!("new {label}; Enter to review, Esc to cancel"))
    }

    fn submit(&mut self) -> Effect {
        if let Some(text) = self.editing.take() {
            let Some(settings) = self.settings.clone() else {
                return Effect::None;
            };
            let (_, label, _) = SETTINGS[self.selected];
            let Some(body) = with_setting(&settings, self.selected, &text) else {
                let e = Effect::error(format!("{text:?} is not a valid {label}"));
                self.editing = Some(text);
                return e;
            };
            let before = setting_text(&settings, self.selected);
            let after = setting_text(&body, self.selected);
            return Effect::Confirm(Confirm {
                title: "Change a site setting".into(),
                lines: vec![
                    format!("{label}: {before} → {after}"),
                    "applies to every meter that does not override it".into(),
                ],
                pending: AnyPending::Site(Pending::SaveSettings {
                    body,
                    what: format!("{label} {after}"),
                }),
            });
        }
        let Some(path) = self.importing.as_deref().map(str::trim) else {
            return Effect::None;
        };
        if path.is_empty() {
            return Effect::error(
                "type the file's path, e.g. /var/lib/voltvend/import/meters.xlsx",
            );
        }
        // Check first (nothing written), then ask.
        import(KINDS[self.kind].to_string(), path.to_string(), true)
    }

    /// `y` on a site dialog.
    pub fn confirmed(&self, p: Pending) -> Effect {
        match p {
            Pending::Import { kind, path } => import(kind, path, false),
            Pending::SaveSettings { body, what } => Effect::call(move |api| {
                let result = api.save_settings(&body);
                Reply::Saved { what, result }.into()
            }),
        }
    }

    /// A refused import or tariff: every problem listed (nothing was changed).
    fn refused(&mut self, e: ApiErr, problems: Vec<String>, what: &str) -> Effect {
        self.problems = problems;
        Effect::error(format!("{} — {what}", e.message))
    }

    pub fn on_reply(&mut self, r: Reply, data: &mut SiteData) -> Effect {
        match r {
            Reply::Loaded(l) => {
                let mut e = Effect::None;
                match l.settings {
                    Ok(v) => self.settings = Some(v),
                    Err(err) => e = Effect::error(format!("settings: {}", err.message)),
                }
                match l.buildings {
                    Ok(b) => self.buildings = b,
                    Err(err) => e = Effect::error(format!("buildings: {}", err.message)),
                }
                if let Some(g) = l.gateways {
                    data.gateways = g;
                }
                if let Some(t) = l.tariffs {
                    self.tariffs = t.into_iter().map(|x| (x.name, x.summary)).collect();
                }
                e
            }
            Reply::Imported {
                kind,
                path,
                dry_run,
                result: Ok(v),
            } => {
                self.problems.clear();
                let counts = format!(
                    "{} added, {} updated, {} unchanged",
                    v.added, v.updated, v.unchanged
                );
                if dry_run {
                    self.importing = None;
                    return Effect::Confirm(Confirm {
                        title: format!("Import {kind}"),
                        lines: vec![
                            format!("{path}: the whole file checked, no problems"),
                            format!("{kind}: {counts}"),
                            "written in one transaction, every change audited".into(),
                        ],
                        pending: AnyPending::Site(Pending::Import { kind, path }),
                    });
                }
                let msg = format!("IMPORTED {kind} from {path}: {counts}");
                self.last_import = Some(msg.clone());
                // The other screens show what was imported.
                Effect::info(msg).and(load()).and(Effect::Refresh)
            }
            Reply::Imported { result: Err(e), .. } => {
                let mut problems = e.details.clone();
                if problems.is_empty() {
                    problems.push(e.message.clone());
                }
                self.refused(e, problems, "nothing was imported")
            }
            Reply::Tariff {
                path,
                dry_run,
                result: Ok(v),
            } => {
                self.problems.clear();
                if dry_run {
                    self.importing = None;
                    let before = v.before.as_deref().unwrap_or("(new tariff)");
                    return Effect::Confirm(Confirm {
                        title: format!("Set tariff {}", v.name),
                        lines: vec![
                            format!("{path}: checked, no problems ({})", v.change),
                            format!("before: {before}"),
                            format!("after:  {}", v.after),
                            "used from the next reading; meter-billed meters get the new prices"
                                .into(),
                        ],
                        pending: AnyPending::Site(Pending::Import {
                            kind: "tariff".into(),
                            path,
                        }),
                    });
                }
                let msg = format!("TARIFF {} {}: {}", v.name, v.change, v.after);
                self.last_import = Some(msg.clone());
                Effect::info(msg).and(load())
            }
            Reply::Tariff { result: Err(e), .. } => {
                let problems = vec![e.message.clone()];
                self.refused(e, problems, "the tariff was not changed")
            }
            Reply::Saved { what, result } => match result {
                Ok(v) => {
                    self.settings = Some(v);
                    Effect::info(format!("saved: {what}"))
                }
                Err(e) => Effect::error(format!("not saved: {}", e.message)),
            },
        }
    }
}
