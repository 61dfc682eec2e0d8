//! Console state and what keys do to it. Drawing (`ui`) only reads this; the API is
//! reached through a `Transport` passed in, so state changes are testable.

use crate::api::{ApiErr, Transport};
use crate::keys::{self, Action, Context};
use crate::widgets::{Status, meter_status, money, parse_money};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Login,
    ChangePassword,
    Dashboard,
    Meters,
    Sales,
    Reports,
    Batch,
    Site,
    Staff,
}

/// The reports screen: which report, its table (the API's JSON), the first row shown.
#[derive(Debug, Clone, Default)]
pub struct ReportsState {
    pub selected: usize,
    pub table: Option<Value>,
    pub scroll: usize,
    /// First column shown (the first column, the row's name, always stays).
    pub col: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteStatus {
    pub site_name: String,
    pub meters: usize,
    pub meters_offline: usize,
    pub tenants: usize,
    pub tenants_in_arrears: usize,
    pub outbox_pending: usize,
    pub receipts_failed: usize,
    pub topups_needing_refund: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Gateway {
    pub gateway: String,
    pub name: String,
    pub buses: usize,
    pub online: bool,
    pub last_error: Option<String>,
    pub last_cycle_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MeterRow {
    pub meter: String,
    pub unit: Option<String>,
    pub tenant: Option<String>,
    pub gateway: String,
    pub bus: u8,
    pub protocol: String,
    pub billing: String,
    pub online: Option<bool>,
    pub last_ok: Option<String>,
    pub last_error: Option<String>,
    pub power_w: Option<i64>,
    pub total_wh: Option<i64>,
    pub relay: String,
    pub meter_balance_fen: Option<i64>,
    pub lock: Option<Value>,
    /// On keep-power (保电).
    #[serde(default)]
    pub keep_power: bool,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub floor: Option<i32>,
    /// Filled in from the tenant list.
    #[serde(skip)]
    pub tenant_name: String,
    #[serde(skip)]
    pub balance_fen: Option<i64>,
    #[serde(skip)]
    pub status: Option<Status>,
    /// Lower-case text the `/` filter searches (meter, unit, tenant id and name, status).
    #[serde(skip)]
    pub search: String,
}

impl MeterRow {
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::Unopened)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenantRow {
    pub tenant: String,
    pub name: String,
    pub units: Vec<String>,
    pub has_account: bool,
    pub balance_fen: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenantMeter {
    pub meter: String,
    pub unit: Option<String>,
    pub online: Option<bool>,
    pub power_w: Option<i64>,
    pub relay: String,
    pub total_wh: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenantView {
    pub tenant: String,
    pub name: String,
    pub units: Vec<String>,
    pub balance_fen: i64,
    pub status: String,
    pub max_topup_fen: i64,
    pub meters: Vec<TenantMeter>,
}

/// One ledger operation as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpLine {
    pub id: u64,
    pub at: String,
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub balance_after_fen: Option<i64>,
}

impl OpLine {
    pub fn from_json(v: &Value) -> Option<OpLine> {
        let detail = v.get("detail")?.as_object()?;
        let (kind, body) = detail.iter().next()?;
        Some(OpLine {
            id: v.get("id")?.as_u64()?,
            at: v
                .get("at")
                .and_then(Value::as_str)
                .unwrap_or("")
                .chars()
                .take(16)
                .collect::<String>()
                .replace('T', " "),
            kind: kind.clone(),
            amount_fen: body.get("amount").and_then(Value::as_i64),
            balance_after_fen: v.get("balance_after").and_then(Value::as_i64),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Unit,
    Meter,
    Status,
    Power,
    Balance,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Unit => SortKey::Meter,
            SortKey::Meter => SortKey::Status,
            SortKey::Status => SortKey::Power,
            SortKey::Power => SortKey::Balance,
            SortKey::Balance => SortKey::Unit,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Unit => "unit",
            SortKey::Meter => "meter",
            SortKey::Status => "status",
            SortKey::Power => "power",
            SortKey::Balance => "balance",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Form {
    pub name: String,
    pub password: String,
    pub new_password: String,
    pub repeat: String,
    pub focus: usize,
}

#[derive(Debug, Clone)]
pub struct MetersState {
    pub rows: Vec<MeterRow>,
    /// Indices into `rows` after filter and sort (recomputed on change, not per frame).
    pub view: Vec<usize>,
    pub filter: String,
    pub filtering: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub selected: usize,
    pub detail: Option<MeterDetail>,
    /// Meters marked for a batch (by id, so marks survive refresh, filter and sort).
    pub marked: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MeterDetail {
    pub meter: String,
    /// Recent power readings (W), oldest first, for the sparkline.
    pub power: Vec<u64>,
    pub energy_wh: Vec<i64>,
    /// Commands sent from this console session: (outbox id, command).
    pub history: Vec<(u64, String)>,
    /// The meter's command history from the daemon, newest first: (id, command, state, by).
    pub commands: Vec<(u64, String, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesField {
    None,
    Lookup,
    Amount,
    Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyOp {
    Sale,
    Refund,
    Reverse,
    Close,
    /// Open the account (with a balance carried over from an old meter).
    Open,
    /// Add a meter to the open account.
    AddMeter,
}

pub const METHODS: [&str; 5] = ["cash", "wechat", "alipay", "unionpay", "card"];

#[derive(Debug, Clone)]
pub struct SalesState {
    pub lookup: String,
    pub field: SalesField,
    pub op: MoneyOp,
    pub amount: String,
    pub method: usize,
    pub reason: String,
    pub tenant: Option<TenantView>,
    pub ops: Vec<OpLine>,
    pub selected_op: usize,
    /// The last completed sale/refund/reversal, shown large so the cashier can read it out.
    pub last_result: Option<String>,
}

/// What a confirmation dialog will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Sale {
        tenant: String,
        amount_fen: i64,
        method: String,
    },
    Refund {
        tenant: String,
        amount_fen: i64,
        reason: String,
    },
    Reverse {
        op: u64,
        reason: String,
    },
    Open {
        tenant: String,
        /// (fen, old meter number) carried over from an old meter.
        transfer_in: Option<(i64, String)>,
    },
    AddMeter {
        tenant: String,
        meter: String,
    },
    Batch {
        command: String,
        meters: Vec<String>,
    },
    Import {
        kind: String,
        path: String,
    },
    SaveSettings {
        body: Value,
        what: String,
    },
    AddOperator {
        name: String,
        role: String,
    },
    ResetPassword {
        name: String,
    },
    ChangeOperator {
        name: String,
        body: Value,
        what: String,
    },
    Close {
        tenant: String,
        final_charge_fen: i64,
    },
    Command {
        meter: String,
        command: String,
    },
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub pending: Pending,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

pub struct App {
    pub screen: Screen,
    pub colors256: bool,
    pub token: Option<String>,
    pub operator: Option<(String, String)>,
    pub form: Form,
    pub status: Option<SiteStatus>,
    pub gateways: Vec<Gateway>,
    pub tenants: Vec<TenantRow>,
    /// (count, total fen) of sales today (UTC day) among the latest operations.
    pub sales_today: (usize, i64),
    pub alarm1_fen: i64,
    pub alarm2_fen: i64,
    pub meters: MetersState,
    pub sales: SalesState,
    pub reports: ReportsState,
    pub batch: crate::batch::BatchState,
    pub site: crate::admin::SiteState,
    pub staff: crate::admin::StaffState,
    pub confirm: Option<Confirm>,
    pub help: bool,
    pub message: Option<(Level, String)>,
    pub quit: bool,
    /// Today's date "YYYY-MM-DD" (UTC), injected so drawing and tests are deterministic.
    pub today: String,
    seq: u64,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    pub fn new() -> App {
        App {
            screen: Screen::Login,
            colors256: true,
            token: None,
            operator: None,
            form: Form::default(),
            status: None,
            gateways: Vec::new(),
            tenants: Vec::new(),
            sales_today: (0, 0),
            alarm1_fen: 10_000,
            alarm2_fen: 3_000,
            meters: MetersState {
                rows: Vec::new(),
                view: Vec::new(),
                filter: String::new(),
                filtering: false,
                sort: SortKey::Unit,
                desc: false,
                selected: 0,
                detail: None,
                marked: Default::default(),
            },
            sales: SalesState {
                lookup: String::new(),
                field: SalesField::Lookup,
                op: MoneyOp::Sale,
                amount: String::new(),
                method: 0,
                reason: String::new(),
                tenant: None,
                ops: Vec::new(),
                selected_op: 0,
                last_result: None,
            },
            reports: ReportsState::default(),
            batch: Default::default(),
            site: Default::default(),
            staff: Default::default(),
            confirm: None,
            help: false,
            message: None,
            quit: false,
            today: today_utc(),
            seq: 0,
        }
    }

    /// Which key table applies now.
    pub fn context(&self) -> Context {
        if self.confirm.is_some() {
            return Context::Confirm;
        }
        match self.screen {
            Screen::Login | Screen::ChangePassword => Context::Typing,
            Screen::Dashboard => Context::Global,
            Screen::Meters if self.meters.filtering => Context::Typing,
            Screen::Meters if self.meters.detail.is_some() => Context::MeterDetail,
            Screen::Meters => Context::Meters,
            Screen::Sales if self.sales.field != SalesField::None => Context::Typing,
            Screen::Sales => Context::Sales,
            Screen::Reports => Context::Reports,
            Screen::Batch => Context::Batch,
            Screen::Site if self.site.typing() => Context::Typing,
            Screen::Site => Context::Site,
            Screen::Staff if self.staff.adding.is_some() => Context::Typing,
            Screen::Staff => Context::Staff,
        }
    }

    pub fn info(&mut self, m: impl Into<String>) {
        self.message = Some((Level::Info, m.into()));
    }
    pub fn error(&mut self, m: impl Into<String>) {
        self.message = Some((Level::Error, m.into()));
    }

    /// One key press.
    pub fn on_key(&mut self, key: KeyEvent, api: &mut dyn Transport) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.help {
            // Any key closes help; it never acts on the screen underneath.
            self.help = false;
            return;
        }
        let ctx = self.context();
        let action = keys::lookup(ctx, key.code).or_else(|| {
            if matches!(
                ctx,
                Context::Meters
                    | Context::MeterDetail
                    | Context::Sales
                    | Context::Reports
                    | Context::Batch
                    | Context::Site
                    | Context::Staff
            ) {
                keys::lookup(Context::Global, key.code)
            } else {
                None
            }
        });
        match (ctx, action) {
            (_, Some(Action::Help)) => self.help = true,
            (Context::Typing, None) => {
                if let KeyCode::Char(c) = key.code {
                    self.type_char(c, api);
                }
            }
            (Context::Typing, Some(a)) => self.typing_action(a, api),
            (Context::Confirm, Some(Action::Confirm)) => self.run_confirmed(api),
            (Context::Confirm, Some(_)) => {
                self.confirm = None;
                self.info("cancelled: nothing was changed");
            }
            (_, Some(a)) => self.act(a, api),
            _ => {}
        }
    }

    fn field_mut(&mut self) -> Option<&mut String> {
        Some(match self.screen {
            Screen::Login => match self.form.focus {
                0 => &mut self.form.name,
                _ => &mut self.form.password,
            },
            Screen::ChangePassword => match self.form.focus {
                0 => &mut self.form.new_password,
                _ => &mut self.form.repeat,
            },
            Screen::Meters => &mut self.meters.filter,
            Screen::Sales => match self.sales.field {
                SalesField::Lookup => &mut self.sales.lookup,
                SalesField::Amount => &mut self.sales.amount,
                SalesField::Reason => &mut self.sales.reason,
                SalesField::None => return None,
            },
            Screen::Site => return self.site.field_mut(),
            Screen::Staff => return self.staff.adding.as_mut().map(|a| &mut a.name),
            Screen::Dashboard | Screen::Reports | Screen::Batch => return None,
        })
    }

    fn type_char(&mut self, c: char, _api: &mut dyn Transport) {
        if let Some(f) = self.field_mut()
            && f.chars().count() < 64
        {
            f.push(c);
        }
        if self.screen == Screen::Meters {
            self.apply_view();
        }
    }

    fn typing_action(&mut self, a: Action, api: &mut dyn Transport) {
        match a {
            Action::Backspace => {
                if let Some(f) = self.field_mut() {
                    f.pop();
                }
                if self.screen == Screen::Meters {
                    self.apply_view();
                }
            }
            Action::NextField => match self.screen {
                Screen::Login | Screen::ChangePassword => {
                    self.form.focus = (self.form.focus + 1) % 2
                }
                Screen::Sales
                    if self.sales.field == SalesField::Amount && self.sales.op == MoneyOp::Sale =>
                {
                    self.sales.method = (self.sales.method + 1) % METHODS.len()
                }
                Screen::Site => self.site.next_kind(),
                Screen::Staff => {
                    if let Some(a) = self.staff.adding.as_mut() {
                        a.role = (a.role + 1) % crate::admin::ROLES.len();
                    }
                }
                _ => {}
            },
            Action::Back => match self.screen {
                Screen::Login => self.quit = true,
                Screen::ChangePassword => {
                    self.screen = Screen::Login;
                    self.token = None;
                }
                Screen::Meters => {
                    self.meters.filtering = false;
                    self.meters.filter.clear();
                    self.apply_view();
                }
                Screen::Sales => {
                    self.sales.field = SalesField::None;
                    self.info("cancelled");
                }
                Screen::Site => {
                    self.site.editing = None;
                    self.site.importing = None;
                    self.info("cancelled: nothing was changed");
                }
                Screen::Staff => {
                    self.staff.adding = None;
                    self.info("cancelled: nothing was changed");
                }
                Screen::Dashboard | Screen::Reports | Screen::Batch => {}
            },
            Action::Submit => self.submit(api),
            _ => {}
        }
    }

    fn submit(&mut self, api: &mut dyn Transport) {
        match self.screen {
            Screen::Login => {
                if self.form.focus == 0 {
                    self.form.focus = 1;
                } else {
                    self.login(api);
                }
            }
            Screen::ChangePassword => {
                if self.form.focus == 0 {
                    self.form.focus = 1;
                } else {
                    self.change_password(api);
                }
            }
            Screen::Meters => self.meters.filtering = false,
            Screen::Sales => match self.sales.field {
                SalesField::Lookup => self.find_tenant(api),
                SalesField::Amount => self.amount_entered(),
                SalesField::Reason => self.reason_entered(),
                SalesField::None => {}
            },
            Screen::Site => self.site_submit(api),
            Screen::Staff => self.staff_submit(),
            Screen::Dashboard | Screen::Reports | Screen::Batch => {}
        }
    }

    fn act(&mut self, a: Action, api: &mut dyn Transport) {
        match a {
            Action::Quit => self.quit = true,
            Action::GoDashboard => {
                self.screen = Screen::Dashboard;
            }
            Action::GoMeters => self.screen = Screen::Meters,
            Action::GoReports => self.screen = Screen::Reports,
            Action::GoBatch | Action::BatchOnSelection => self.open_batch(),
            Action::GoSite => {
                self.screen = Screen::Site;
                self.load_site(api);
            }
            Action::GoStaff => {
                self.screen = Screen::Staff;
                self.load_staff(api);
            }
            Action::Mark => self.toggle_mark(),
            Action::ClearMarks => {
                let n = self.meters.marked.len();
                self.meters.marked.clear();
                self.info(format!("{n} marks cleared"));
            }
            Action::Edit => self.start_edit(),
            Action::Import => self.start_import(),
            Action::AddOperator => self.start_add_operator(),
            Action::ResetPassword => self.ask_reset_password(),
            Action::ToggleDisabled => self.ask_toggle_disabled(),
            Action::NextRole => self.ask_next_role(),
            Action::NextPane => self.staff.audit_focus = !self.staff.audit_focus,
            Action::AddMeter => self.start_add_meter(),
            Action::Run if self.screen == Screen::Batch => self.ask_batch(),
            Action::Run => self.run_report(api),
            Action::ExportXlsx => self.export_report("xlsx", api),
            Action::ExportCsv => self.export_report("csv", api),
            Action::ColumnsRight => {
                let n = self
                    .reports
                    .table
                    .as_ref()
                    .and_then(|t| t["columns"].as_array().map(|c| c.len()))
                    .unwrap_or(1);
                self.reports.col = (self.reports.col + 1).min(n.saturating_sub(2));
            }
            Action::ColumnsLeft => self.reports.col = self.reports.col.saturating_sub(1),
            Action::AckAlarm => self.ack_alarm(api),
            Action::GoSales => {
                self.screen = Screen::Sales;
                if self.sales.tenant.is_none() {
                    self.sales.field = SalesField::Lookup;
                }
            }
            Action::Refresh => {
                self.refresh(api);
                if let Some(t) = self.sales.tenant.as_ref().map(|t| t.tenant.clone()) {
                    self.load_tenant(&t, api);
                }
            }
            Action::Logout => {
                if let Some(t) = self.token.take() {
                    let _ = api.request("POST", "/api/v1/logout", Some(&t), None);
                }
                self.screen = Screen::Login;
                self.form = Form::default();
                self.info("logged out");
            }
            Action::ChangePassword => {
                self.form.new_password.clear();
                self.form.repeat.clear();
                self.form.focus = 0;
                self.screen = Screen::ChangePassword;
                self.info("current password is the one you logged in with; type the new one twice");
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => self.move_cursor(a),
            Action::StartFilter => {
                self.meters.filtering = true;
                self.meters.detail = None;
            }
            Action::CycleSort => {
                self.meters.sort = self.meters.sort.next();
                self.apply_view();
            }
            Action::ReverseSort => {
                self.meters.desc = !self.meters.desc;
                self.apply_view();
            }
            Action::Open => self.open_meter(api),
            Action::Back => match self.screen {
                Screen::Meters if self.meters.detail.is_some() => self.meters.detail = None,
                Screen::Meters => {
                    self.meters.filter.clear();
                    self.apply_view();
                }
                Screen::Sales => {
                    self.sales.tenant = None;
                    self.sales.ops.clear();
                    self.sales.field = SalesField::Lookup;
                    self.sales.lookup.clear();
                }
                Screen::Batch => self.screen = Screen::Meters,
                _ => {}
            },
            Action::Lookup => {
                self.sales.lookup.clear();
                self.sales.field = SalesField::Lookup;
            }
            Action::Sell | Action::Refund | Action::Reverse | Action::CloseAccount => {
                self.start_money(a)
            }
            Action::OpenAccount => self.ask_open(),
            Action::Command(c) => self.ask_command(c),
            _ => {}
        }
    }

    fn report_name(&self) -> &'static str {
        crate::screens::reports::REPORTS
            .get(self.reports.selected)
            .map_or("sales", |r| r.0)
    }

    fn run_report(&mut self, api: &mut dyn Transport) {
        let Some(t) = self.token.clone() else { return };
        let name = self.report_name();
        match api.request("GET", &format!("/api/v1/reports/{name}"), Some(&t), None) {
            Ok(v) => {
                let n = v["rows"].as_array().map_or(0, |r| r.len());
                self.reports.table = Some(v);
                self.reports.scroll = 0;
                self.reports.col = 0;
                self.info(format!("{name}: {n} rows (this month so far)"));
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    /// Acknowledges the alarm in the top row of the real-time alarms report.
    fn ack_alarm(&mut self, api: &mut dyn Transport) {
        if self.report_name() != "alarms" {
            self.error("choose Real-time alarms first (a acknowledges its top row)");
            return;
        }
        let Some(t) = self.token.clone() else { return };
        let id = self
            .reports
            .table
            .as_ref()
            .and_then(|t| t["rows"].get(self.reports.scroll))
            .and_then(|r| r.get(0))
            .and_then(|v| v.as_u64());
        let Some(id) = id else {
            self.error("no alarm to acknowledge: press Enter to load the alarms");
            return;
        };
        match api.request("POST", &format!("/api/v1/alarms/{id}/ack"), Some(&t), None) {
            Ok(_) => {
                self.run_report(api);
                self.info(format!("alarm {id} acknowledged"));
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    fn export_report(&mut self, format: &str, api: &mut dyn Transport) {
        let Some(t) = self.token.clone() else { return };
        let name = self.report_name();
        let path = format!("/api/v1/reports/{name}/export?format={format}");
        match api.request("POST", &path, Some(&t), None) {
            Ok(v) => self.info(format!(
                "saved {} rows to {}",
                v["rows"].as_u64().unwrap_or(0),
                v["path"].as_str().unwrap_or("?")
            )),
            Err(e) => self.error(e.to_string()),
        }
    }

    fn move_cursor(&mut self, a: Action) {
        match self.screen {
            Screen::Batch => return self.batch_cursor(a),
            Screen::Site => return self.site.cursor(a),
            Screen::Staff => return self.staff.cursor(a),
            _ => {}
        }
        if self.screen == Screen::Reports {
            let n = crate::screens::reports::REPORTS.len();
            let rows = self
                .reports
                .table
                .as_ref()
                .and_then(|t| t["rows"].as_array().map(|r| r.len()))
                .unwrap_or(0);
            match a {
                Action::Up => self.reports.selected = self.reports.selected.saturating_sub(1),
                Action::Down => self.reports.selected = (self.reports.selected + 1).min(n - 1),
                Action::PageDown => {
                    self.reports.scroll = (self.reports.scroll + 10).min(rows.saturating_sub(1))
                }
                Action::PageUp => self.reports.scroll = self.reports.scroll.saturating_sub(10),
                _ => {}
            }
            return;
        }
        let (len, cur) = match self.screen {
            Screen::Meters => (self.meters.view.len(), &mut self.meters.selected),
            Screen::Sales => (self.sales.ops.len(), &mut self.sales.selected_op),
            _ => return,
        };
        if len == 0 {
            *cur = 0;
            return;
        }
        let page = 20;
        *cur = match a {
            Action::Up => cur.saturating_sub(1),
            Action::Down => (*cur + 1).min(len - 1),
            Action::PageUp => cur.saturating_sub(page),
            Action::PageDown => (*cur + page).min(len - 1),
            Action::Top => 0,
            _ => len - 1,
        };
    }

    // ---------- session ----------

    fn login(&mut self, api: &mut dyn Transport) {
        let body = json!({"name": self.form.name.trim(), "password": self.form.password});
        match api.request("POST", "/api/v1/login", None, Some(&body)) {
            Ok(v) => {
                self.token = v.get("token").and_then(Value::as_str).map(String::from);
                let name = v
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let role = v
                    .get("role")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.operator = Some((name, role));
                if v.get("must_change_password").and_then(Value::as_bool) == Some(true) {
                    self.form.focus = 0;
                    self.screen = Screen::ChangePassword;
                    self.info("first login: choose a new password before you continue");
                } else {
                    self.form.password.clear();
                    self.screen = Screen::Dashboard;
                    self.info("logged in");
                    self.refresh(api);
                }
            }
            Err(e) => {
                self.form.password.clear();
                self.error(format!("login refused: {}", e.message));
            }
        }
    }

    fn change_password(&mut self, api: &mut dyn Transport) {
        if self.form.new_password != self.form.repeat {
            self.form.repeat.clear();
            self.form.focus = 1;
            self.error("the two new passwords differ: type it again");
            return;
        }
        let body =
            json!({"old_password": self.form.password, "new_password": self.form.new_password});
        match api.request(
            "POST",
            "/api/v1/password",
            self.token.as_deref(),
            Some(&body),
        ) {
            Ok(_) => {
                // The daemon ends every session of the operator on a change: log in again.
                self.form.password = std::mem::take(&mut self.form.new_password);
                self.form.repeat.clear();
                self.form.focus = 1;
                self.screen = Screen::Login;
                self.login(api);
                if self.screen == Screen::Dashboard {
                    self.info("password changed");
                }
            }
            Err(e) => {
                self.form.new_password.clear();
                self.form.repeat.clear();
                self.form.focus = 0;
                self.error(format!("password not changed: {}", e.message));
            }
        }
    }

    /// A call with the session token; 401 sends the operator back to the login screen.
    pub(crate) fn call(
        &mut self,
        api: &mut dyn Transport,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        let r = api.request(method, path, self.token.as_deref(), body);
        if let Err(e) = &r {
            if e.status == 401 {
                self.token = None;
                self.screen = Screen::Login;
                self.form.password.clear();
                self.form.focus = 1;
                self.error(format!("{} — log in again", e.message));
            } else if e.code == "must_change_password" {
                self.screen = Screen::ChangePassword;
                self.form.focus = 0;
                self.error(e.message.clone());
            }
        }
        r
    }

    // ---------- data ----------

    /// Reloads everything the dashboard and tables show.
    pub fn refresh(&mut self, api: &mut dyn Transport) {
        if self.token.is_none() {
            return;
        }
        let r = (|| -> Result<(), ApiErr> {
            let s = self.call(api, "GET", "/api/v1/site/settings", None)?;
            self.alarm1_fen = s
                .get("alarm1")
                .and_then(Value::as_i64)
                .unwrap_or(self.alarm1_fen);
            self.alarm2_fen = s
                .get("alarm2")
                .and_then(Value::as_i64)
                .unwrap_or(self.alarm2_fen);
            let st = self.call(api, "GET", "/api/v1/status", None)?;
            self.status = serde_json::from_value(st).ok();
            let g = self.call(api, "GET", "/api/v1/gateways", None)?;
            self.gateways = serde_json::from_value(g).unwrap_or_default();
            let t = self.call(api, "GET", "/api/v1/tenants", None)?;
            self.tenants = serde_json::from_value(t).unwrap_or_default();
            let m = self.call(api, "GET", "/api/v1/meters", None)?;
            let rows: Vec<MeterRow> = serde_json::from_value(m).unwrap_or_default();
            let ops = self.call(api, "GET", "/api/v1/operations?limit=500", None)?;
            self.sales_today = sales_on(&ops, &self.today);
            self.set_meters(rows);
            Ok(())
        })();
        if let Err(e) = r
            && e.status != 401
        {
            self.error(format!("refresh failed: {}", e.message));
        }
    }

    /// Replaces the meter rows, joining tenant names/balances and statuses.
    pub fn set_meters(&mut self, mut rows: Vec<MeterRow>) {
        // A map, not a scan per meter: sites have thousands of meters and tenants.
        let by_id: std::collections::HashMap<&str, &TenantRow> = self
            .tenants
            .iter()
            .map(|t| (t.tenant.as_str(), t))
            .collect();
        for r in &mut rows {
            let t = r.tenant.as_deref().and_then(|id| by_id.get(id).copied());
            r.tenant_name = t.map(|t| t.name.clone()).unwrap_or_default();
            r.balance_fen = t.filter(|t| t.has_account).map(|t| t.balance_fen);
            r.status = Some(meter_status(
                r.online,
                r.balance_fen,
                self.alarm1_fen,
                self.alarm2_fen,
            ));
            r.search = format!(
                "{} {} {} {} {}",
                r.meter,
                r.unit.as_deref().unwrap_or(""),
                r.tenant.as_deref().unwrap_or(""),
                r.tenant_name,
                r.status().label()
            )
            .to_lowercase();
        }
        let keep = self
            .meters
            .view
            .get(self.meters.selected)
            .and_then(|i| self.meters.rows.get(*i))
            .map(|r| r.meter.clone());
        self.meters.rows = rows;
        self.apply_view();
        if let Some(k) = keep
            && let Some(p) = self
                .meters
                .view
                .iter()
                .position(|i| self.meters.rows[*i].meter == k)
        {
            self.meters.selected = p;
        }
    }

    /// Recomputes the filtered, sorted index list.
    pub fn apply_view(&mut self) {
        let filter = Filter::parse(&self.meters.filter);
        let rows = &self.meters.rows;
        let mut v: Vec<usize> = (0..rows.len())
            .filter(|i| filter.matches(&rows[*i]))
            .collect();
        let key = self.meters.sort;
        v.sort_by(|a, b| {
            let (x, y) = (&rows[*a], &rows[*b]);
            let o = match key {
                // Meters without a unit (spares, common areas) go last.
                SortKey::Unit => (x.unit.is_none(), &x.unit).cmp(&(y.unit.is_none(), &y.unit)),
                SortKey::Meter => x.meter.cmp(&y.meter),
                SortKey::Status => x.status().cmp(&y.status()),
                SortKey::Power => x.power_w.cmp(&y.power_w),
                SortKey::Balance => x.balance_fen.cmp(&y.balance_fen),
            };
            o.then_with(|| x.meter.cmp(&y.meter))
        });
        if self.meters.desc {
            v.reverse();
        }
        self.meters.view = v;
        self.meters.selected = self
            .meters
            .selected
            .min(self.meters.view.len().saturating_sub(1));
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.selected_meter().map(|m| m.meter.clone()) else {
            return;
        };
        if !self.meters.marked.remove(&id) {
            self.meters.marked.insert(id);
        }
        // Marking moves on, so a run of meters is marked with repeated Space.
        self.move_cursor(Action::Down);
        self.info(format!(
            "{} marked — b runs a batch on them",
            self.meters.marked.len()
        ));
    }

    pub fn selected_meter(&self) -> Option<&MeterRow> {
        self.meters
            .view
            .get(self.meters.selected)
            .map(|i| &self.meters.rows[*i])
    }

    fn open_meter(&mut self, api: &mut dyn Transport) {
        let Some(id) = self.selected_meter().map(|m| m.meter.clone()) else {
            return;
        };
        let mut d = MeterDetail {
            meter: id.clone(),
            ..Default::default()
        };
        match self.call(api, "GET", &format!("/api/v1/meters/{id}/readings"), None) {
            Ok(Value::Array(list)) => {
                for r in list.iter().rev().take(60).rev() {
                    d.power
                        .push(r.get("power_w").and_then(Value::as_i64).unwrap_or(0).max(0) as u64);
                    d.energy_wh
                        .push(r.get("total_wh").and_then(Value::as_i64).unwrap_or(0));
                }
            }
            Ok(_) => {}
            Err(e) => self.error(format!("readings: {}", e.message)),
        }
        self.load_commands(&mut d, api);
        self.meters.detail = Some(d);
    }

    fn load_commands(&mut self, d: &mut MeterDetail, api: &mut dyn Transport) {
        if let Ok(Value::Array(list)) = self.call(
            api,
            "GET",
            &format!("/api/v1/meters/{}/commands", d.meter),
            None,
        ) {
            d.commands = list
                .iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
                    (
                        c["id"].as_u64().unwrap_or(0),
                        s("command"),
                        s("state"),
                        s("by"),
                    )
                })
                .collect();
        }
    }

    fn ask_command(&mut self, command: &'static str) {
        let Some(m) = self.selected_meter() else {
            return;
        };
        let what = keys::METER_DETAIL
            .iter()
            .find(|b| b.action == Action::Command(command))
            .map(|b| b.help)
            .unwrap_or(command);
        self.confirm = Some(Confirm {
            title: "Send meter command".into(),
            lines: vec![
                format!("{what} on meter {}", m.meter),
                format!(
                    "unit {}  tenant {}",
                    m.unit.as_deref().unwrap_or("-"),
                    m.tenant_name
                ),
            ],
            pending: Pending::Command {
                meter: m.meter.clone(),
                command: command.to_string(),
            },
        });
    }

    // ---------- tenants & money ----------

    fn find_tenant(&mut self, api: &mut dyn Transport) {
        let q = self.sales.lookup.trim().to_string();
        if q.is_empty() {
            return;
        }
        if self.tenants.is_empty()
            && let Ok(t) = self.call(api, "GET", "/api/v1/tenants", None)
        {
            self.tenants = serde_json::from_value(t).unwrap_or_default();
        }
        let ql = q.to_lowercase();
        let hit = self
            .tenants
            .iter()
            .find(|t| {
                t.units.iter().any(|u| u.eq_ignore_ascii_case(&q))
                    || t.tenant.eq_ignore_ascii_case(&q)
            })
            .or_else(|| {
                self.tenants
                    .iter()
                    .find(|t| t.name.to_lowercase().contains(&ql))
            })
            .map(|t| t.tenant.clone());
        match hit {
            Some(id) => {
                self.sales.field = SalesField::None;
                self.sales.last_result = None;
                self.load_tenant(&id, api);
            }
            None => self.error(format!("no tenant with unit, id or name {q:?}")),
        }
    }

    fn load_tenant(&mut self, id: &str, api: &mut dyn Transport) {
        match self.call(api, "GET", &format!("/api/v1/tenants/{id}"), None) {
            Ok(v) => match serde_json::from_value::<TenantView>(v) {
                Ok(t) => self.sales.tenant = Some(t),
                Err(e) => self.error(format!("tenant {id}: unexpected answer: {e}")),
            },
            Err(e) => self.error(format!("tenant {id}: {}", e.message)),
        }
        // The tenant list carries `has_account`; reload it so open/close show at once.
        if let Ok(t) = self.call(api, "GET", "/api/v1/tenants", None) {
            self.tenants = serde_json::from_value(t).unwrap_or_default();
        }
        if let Ok(Value::Array(ops)) = self.call(
            api,
            "GET",
            &format!("/api/v1/operations?tenant={id}&limit=20"),
            None,
        ) {
            self.sales.ops = ops.iter().filter_map(OpLine::from_json).collect();
            self.sales.selected_op = 0;
        }
    }

    /// Whether the shown tenant has an open account (from the tenant list).
    pub fn has_account(&self) -> Option<bool> {
        let t = self.sales.tenant.as_ref()?;
        self.tenants
            .iter()
            .find(|r| r.tenant == t.tenant)
            .map(|r| r.has_account)
    }

    fn ask_open(&mut self) {
        let Some(t) = self.sales.tenant.clone() else {
            self.error("find a tenant first: press / and type the unit");
            return;
        };
        if self.has_account() == Some(true) {
            self.error(format!("{} already has an account", t.tenant));
            return;
        }
        self.sales.amount.clear();
        self.sales.reason.clear();
        self.sales.op = MoneyOp::Open;
        self.sales.field = SalesField::Amount;
        self.info("balance carried over from an old meter, in yuan (0 if none)");
    }

    /// The open-account confirmation: every meter of the tenant's units is attached.
    fn confirm_open(&mut self, t: TenantView, transfer_in: Option<(i64, String)>) {
        let meters: Vec<String> = t.meters.iter().map(|m| m.meter.clone()).collect();
        let mut lines = vec![
            format!("Open the account of {} {}", t.tenant, t.name),
            format!("units {}", t.units.join(", ")),
            format!("{} meter(s): {}", meters.len(), meters.join(", ")),
        ];
        lines.push(match &transfer_in {
            Some((fen, old)) => format!("carried over from old meter {old}: {}", money(*fen)),
            None => "opening balance 0.00".into(),
        });
        self.sales.field = SalesField::None;
        self.confirm = Some(Confirm {
            title: "Open account".into(),
            lines,
            pending: Pending::Open {
                tenant: t.tenant,
                transfer_in,
            },
        });
    }

    fn start_add_meter(&mut self) {
        let Some(t) = &self.sales.tenant else {
            self.error("find a tenant first: press / and type the unit");
            return;
        };
        if self.has_account() != Some(true) {
            self.error(format!(
                "{} has no open account: open it first (o)",
                t.tenant
            ));
            return;
        }
        self.sales.reason.clear();
        self.sales.op = MoneyOp::AddMeter;
        self.sales.field = SalesField::Reason;
        self.info("number of the meter to add to the account (a meter installed later)");
    }

    fn start_money(&mut self, a: Action) {
        let Some(t) = &self.sales.tenant else {
            self.error("find a tenant first: press / and type the unit");
            return;
        };
        self.sales.amount.clear();
        self.sales.reason.clear();
        match a {
            Action::Sell => {
                self.sales.op = MoneyOp::Sale;
                self.sales.field = SalesField::Amount;
                self.info(format!(
                    "amount to sell to {} (at most {}); Tab changes the payment method",
                    t.name,
                    money(t.max_topup_fen)
                ));
            }
            Action::Refund => {
                self.sales.op = MoneyOp::Refund;
                self.sales.field = SalesField::Amount;
                self.info(format!(
                    "amount to refund (at most {})",
                    money(t.balance_fen.max(0))
                ));
            }
            Action::CloseAccount => {
                self.sales.op = MoneyOp::Close;
                self.sales.field = SalesField::Amount;
                self.info(format!(
                    "final charge for {} in yuan (0 if none); the settlement is shown before anything happens",
                    t.name
                ));
            }
            _ => {
                let Some(op) = self.sales.ops.get(self.sales.selected_op) else {
                    self.error("no operation selected to reverse");
                    return;
                };
                if !matches!(op.kind.as_str(), "sale" | "refund") {
                    self.error(format!(
                        "operation #{} is a {}; only sales and refunds can be reversed",
                        op.id, op.kind
                    ));
                    return;
                }
                self.sales.op = MoneyOp::Reverse;
                self.sales.field = SalesField::Reason;
                self.info(format!("reason for reversing #{}", op.id));
            }
        }
    }

    fn amount_entered(&mut self) {
        let Some(t) = self.sales.tenant.clone() else {
            return;
        };
        if self.sales.op == MoneyOp::Open {
            match parse_money(&self.sales.amount) {
                Some(0) => self.confirm_open(t, None),
                Some(_) => {
                    self.sales.field = SalesField::Reason;
                    self.info("number of the old meter the balance comes from");
                }
                None => self.error(format!(
                    "{:?} is not an amount: type yuan like 0 or 120.50",
                    self.sales.amount
                )),
            }
            return;
        }
        if self.sales.op == MoneyOp::Close {
            let Some(charge) = parse_money(&self.sales.amount) else {
                self.error(format!(
                    "{:?} is not an amount: type yuan like 0 or 12.50",
                    self.sales.amount
                ));
                return;
            };
            let left = t.balance_fen - charge;
            let settle = if left >= 0 {
                format!("pay back to the tenant: {}", money(left))
            } else {
                format!("collect from the tenant: {}", money(-left))
            };
            self.sales.field = SalesField::None;
            self.confirm = Some(Confirm {
                title: "Close account — settlement".into(),
                lines: vec![
                    format!("Close the account of {} {}", t.tenant, t.name),
                    format!(
                        "balance {}  − final charge {}",
                        money(t.balance_fen),
                        money(charge)
                    ),
                    settle,
                    "every meter of the account is closed; the balance ends at 0.00".into(),
                ],
                pending: Pending::Close {
                    tenant: t.tenant,
                    final_charge_fen: charge,
                },
            });
            return;
        }
        let Some(fen) = parse_money(&self.sales.amount).filter(|f| *f > 0) else {
            self.error(format!(
                "{:?} is not an amount: type yuan like 50 or 50.00",
                self.sales.amount
            ));
            return;
        };
        match self.sales.op {
            MoneyOp::Sale => {
                if fen > t.max_topup_fen {
                    self.error(format!(
                        "above the hoarding cap: at most {} now",
                        money(t.max_topup_fen)
                    ));
                    return;
                }
                let method = METHODS[self.sales.method].to_string();
                self.sales.field = SalesField::None;
                self.confirm = Some(Confirm {
                    title: "Confirm sale".into(),
                    lines: vec![
                        format!("Sell {} ({method}) to {} {}", money(fen), t.tenant, t.name),
                        format!("units {}", t.units.join(", ")),
                        format!(
                            "balance {} → {}",
                            money(t.balance_fen),
                            money(t.balance_fen + fen)
                        ),
                    ],
                    pending: Pending::Sale {
                        tenant: t.tenant.clone(),
                        amount_fen: fen,
                        method,
                    },
                });
            }
            _ => {
                if fen > t.balance_fen {
                    self.error(format!(
                        "a refund is at most the balance, {}",
                        money(t.balance_fen.max(0))
                    ));
                    return;
                }
                self.sales.field = SalesField::Reason;
                self.info("reason for the refund (goes into the audit log)");
            }
        }
    }

    fn reason_entered(&mut self) {
        let Some(t) = self.sales.tenant.clone() else {
            return;
        };
        let reason = self.sales.reason.trim().to_string();
        if reason.is_empty() {
            self.error(match self.sales.op {
                MoneyOp::Open => "the old meter's number is required",
                MoneyOp::AddMeter => "type the meter number",
                _ => "a reason is required",
            });
            return;
        }
        if self.sales.op == MoneyOp::Open {
            let fen = parse_money(&self.sales.amount).unwrap_or(0);
            return self.confirm_open(t, Some((fen, reason)));
        }
        if self.sales.op == MoneyOp::AddMeter {
            self.sales.field = SalesField::None;
            self.confirm = Some(Confirm {
                title: "Add a meter to the account".into(),
                lines: vec![
                    format!(
                        "Add meter {reason} to the account of {} {}",
                        t.tenant, t.name
                    ),
                    format!(
                        "balance {} (shared by all its meters)",
                        money(t.balance_fen)
                    ),
                ],
                pending: Pending::AddMeter {
                    tenant: t.tenant.clone(),
                    meter: reason,
                },
            });
            return;
        }
        self.sales.field = SalesField::None;
        if self.sales.op == MoneyOp::Refund {
            let fen = parse_money(&self.sales.amount).unwrap_or(0);
            self.confirm = Some(Confirm {
                title: "Confirm refund".into(),
                lines: vec![
                    format!("Refund {} to {} {}", money(fen), t.tenant, t.name),
                    format!("reason: {reason}"),
                    format!(
                        "balance {} → {}",
                        money(t.balance_fen),
                        money(t.balance_fen - fen)
                    ),
                ],
                pending: Pending::Refund {
                    tenant: t.tenant.clone(),
                    amount_fen: fen,
                    reason,
                },
            });
        } else if let Some(op) = self.sales.ops.get(self.sales.selected_op).cloned() {
            self.confirm = Some(Confirm {
                title: "Confirm reversal".into(),
                lines: vec![
                    format!(
                        "Reverse operation #{} ({} {}) of {}",
                        op.id,
                        op.kind,
                        op.amount_fen.map(money).unwrap_or_default(),
                        t.name
                    ),
                    format!("reason: {reason}"),
                    "a reversal is a new operation and can be done only once".into(),
                ],
                pending: Pending::Reverse { op: op.id, reason },
            });
        }
    }

    fn key(&mut self) -> String {
        self.seq += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("tui-{}-{nanos}-{}", std::process::id(), self.seq)
    }

    fn run_confirmed(&mut self, api: &mut dyn Transport) {
        let Some(c) = self.confirm.take() else { return };
        let key = self.key();
        match c.pending {
            Pending::Sale {
                tenant,
                amount_fen,
                method,
            } => {
                let body = json!({"tenant": tenant, "amount_fen": amount_fen, "method": method, "idempotency_key": key});
                match self.call(api, "POST", "/api/v1/sales", Some(&body)) {
                    Ok(v) => {
                        let bal = v
                            .get("balance_after_fen")
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        let no = v
                            .get("receipt_no")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_string();
                        let printed = v
                            .pointer("/print/state")
                            .and_then(Value::as_str)
                            .map(|s| format!(" ({s})"))
                            .unwrap_or_default();
                        let msg = format!(
                            "SOLD {} — new balance {} — receipt {no}{printed}",
                            money(amount_fen),
                            money(bal)
                        );
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                        self.load_tenant(&tenant, api);
                    }
                    Err(e) => self.error(format!("sale refused: {}", e.message)),
                }
            }
            Pending::Refund {
                tenant,
                amount_fen,
                reason,
            } => {
                let body = json!({"tenant": tenant, "amount_fen": amount_fen, "reason": reason, "idempotency_key": key});
                match self.call(api, "POST", "/api/v1/refunds", Some(&body)) {
                    Ok(v) => {
                        let bal = v.get("balance_after_fen").and_then(Value::as_i64);
                        let msg = format!(
                            "REFUNDED {} — new balance {}",
                            money(amount_fen),
                            bal.map(money).unwrap_or_else(|| "?".into())
                        );
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                        self.load_tenant(&tenant, api);
                    }
                    Err(e) => self.error(format!("refund refused: {}", e.message)),
                }
            }
            Pending::AddMeter { tenant, meter } => {
                let body = json!({"meter": meter, "idempotency_key": key});
                match self.call(
                    api,
                    "POST",
                    &format!("/api/v1/accounts/{tenant}/meters"),
                    Some(&body),
                ) {
                    Ok(_) => {
                        let msg = format!("ADDED meter {meter} to the account of {tenant}");
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                        self.load_tenant(&tenant, api);
                    }
                    Err(e) => self.error(format!("adding the meter refused: {}", e.message)),
                }
            }
            Pending::Batch { command, meters } => self.run_batch(&command, meters, api),
            Pending::Import { kind, path } => self.run_import(&kind, &path, false, api),
            Pending::SaveSettings { body, what } => self.save_settings(body, &what, api),
            Pending::AddOperator { name, role } => self.add_operator(&name, &role, api),
            Pending::ResetPassword { name } => self.reset_password(&name, api),
            Pending::ChangeOperator { name, body, what } => {
                self.change_operator(&name, &body, &what, api)
            }
            Pending::Open {
                tenant,
                transfer_in,
            } => {
                let mut body = json!({"tenant": tenant, "idempotency_key": key});
                if let Some((fen, old)) = transfer_in {
                    body["transfer_in_fen"] = json!(fen);
                    body["old_meter_serial"] = json!(old);
                }
                match self.call(api, "POST", "/api/v1/accounts", Some(&body)) {
                    Ok(v) => {
                        let bal = v
                            .get("balance_after_fen")
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        let msg = format!("OPENED account of {tenant} — balance {}", money(bal));
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                        self.load_tenant(&tenant, api);
                    }
                    Err(e) => self.error(format!("open refused: {}", e.message)),
                }
            }
            Pending::Close {
                tenant,
                final_charge_fen,
            } => {
                let body = json!({"final_charge_fen": final_charge_fen, "idempotency_key": key});
                match self.call(
                    api,
                    "POST",
                    &format!("/api/v1/accounts/{tenant}/close"),
                    Some(&body),
                ) {
                    Ok(_) => {
                        let msg = format!(
                            "CLOSED account of {tenant} — final charge {} — balance 0.00",
                            money(final_charge_fen)
                        );
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                        self.load_tenant(&tenant, api);
                    }
                    Err(e) => self.error(format!("close refused: {}", e.message)),
                }
            }
            Pending::Reverse { op, reason } => {
                let body = json!({"op": op, "reason": reason, "idempotency_key": key});
                match self.call(api, "POST", "/api/v1/reversals", Some(&body)) {
                    Ok(v) => {
                        let new = v.get("op").and_then(Value::as_u64).unwrap_or(0);
                        if let Some(t) = self.sales.tenant.as_ref().map(|t| t.tenant.clone()) {
                            self.load_tenant(&t, api);
                        }
                        let bal = self
                            .sales
                            .tenant
                            .as_ref()
                            .map(|t| money(t.balance_fen))
                            .unwrap_or_default();
                        let msg = format!("REVERSED #{op} as #{new} — new balance {bal}");
                        self.sales.last_result = Some(msg.clone());
                        self.info(msg);
                    }
                    Err(e) => self.error(format!("reversal refused: {}", e.message)),
                }
            }
            Pending::Command { meter, command } => {
                let body = json!({"command": command});
                match self.call(
                    api,
                    "POST",
                    &format!("/api/v1/meters/{meter}/commands"),
                    Some(&body),
                ) {
                    Ok(v) => {
                        let id = v.get("id").and_then(Value::as_u64).unwrap_or(0);
                        if let Some(mut d) = self.meters.detail.take() {
                            if d.meter == meter {
                                d.history.push((id, command.clone()));
                                self.load_commands(&mut d, api);
                            }
                            self.meters.detail = Some(d);
                        }
                        self.info(format!("{command} queued for meter {meter} (outbox #{id})"));
                    }
                    Err(e) => self.error(format!("{command} refused: {}", e.message)),
                }
            }
        }
    }
}

/// Count and total of sales whose timestamp falls on `day` (UTC).
pub fn sales_on(ops: &Value, day: &str) -> (usize, i64) {
    let mut n = 0;
    let mut total = 0;
    for o in ops.as_array().into_iter().flatten() {
        if let Some(l) = OpLine::from_json(o)
            && l.kind == "sale"
            && l.at.starts_with(day)
        {
            n += 1;
            total += l.amount_fen.unwrap_or(0);
        }
    }
    (n, total)
}

/// Today's UTC date as YYYY-MM-DD (civil-from-days, H. Hinnant's algorithm).
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The meters filter: every word must match. `b:A` is building A, `f:3` floor 3 (`f:-1`
/// or `f:b1` a basement); any other word is searched in meter, unit, tenant and status, or
/// matches a gateway id exactly.
#[derive(Debug, Default)]
pub struct Filter {
    building: Option<String>,
    floor: Option<i32>,
    words: Vec<String>,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter::default();
        for w in text.split_whitespace() {
            let lw = w.to_lowercase();
            if let Some(b) = lw.strip_prefix("b:").filter(|b| !b.is_empty()) {
                f.building = Some(b.to_string());
            } else if let Some(fl) = lw.strip_prefix("f:").and_then(parse_floor) {
                f.floor = Some(fl);
            } else {
                f.words.push(lw);
            }
        }
        f
    }

    pub fn matches(&self, r: &MeterRow) -> bool {
        self.building.as_ref().is_none_or(|b| {
            r.building
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(b))
        }) && self.floor.is_none_or(|fl| r.floor == Some(fl))
            && self
                .words
                .iter()
                .all(|w| r.search.contains(w.as_str()) || r.gateway.eq_ignore_ascii_case(w))
    }
}

fn parse_floor(text: &str) -> Option<i32> {
    match text.strip_prefix('b') {
        Some(n) => n.parse::<i32>().ok().filter(|n| *n > 0).map(|n| -n),
        None => text.parse().ok().filter(|n| *n != 0),
    }
}
