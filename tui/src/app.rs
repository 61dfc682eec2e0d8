//! The console: the session, the screen shown, the message line and the confirm dialog.
//!
//! Each screen ([`crate::screens`]) owns its state, turns the keys of its context into an
//! [`Effect`] and draws itself; the app routes keys and replies to the screen they belong
//! to and applies the effects. API calls never run here: they queue as [`Request`]s that
//! the event loop hands to the worker thread ([`crate::worker`]), or that [`App::settle`]
//! runs inline (tests, benches), so a slow daemon never freezes the screen.

use crate::api::{ApiErr, Transport};
use crate::data::{self, Refreshed, SiteData};
use crate::effect::{Done, Effect, Reply, Request};
use crate::keys::{self, Action, Context};
use crate::screens::{batch, login, meters, office, reports, sales, site, staff, suspect};
use crate::types::MeterView;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::VecDeque;

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
    Suspect,
    Office,
}

/// What a confirmation dialog will do, owned by the screen that asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Meters(meters::Pending),
    Sales(sales::Pending),
    Batch(batch::Run),
    Site(site::Pending),
    Staff(staff::Pending),
    Suspect(suspect::Pending),
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

/// Who is logged in.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub token: Option<String>,
    /// (name, role).
    pub operator: Option<(String, String)>,
    /// Numbers the idempotency keys of this console's money operations.
    seq: u64,
}

impl Session {
    /// A key no other confirmation of any console uses (process, time, sequence).
    fn idempotency_key(&mut self) -> String {
        self.seq += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("tui-{}-{nanos}-{}", std::process::id(), self.seq)
    }
}

pub struct App {
    pub session: Session,
    pub screen: Screen,
    pub colors256: bool,
    /// Today's date "YYYY-MM-DD" (UTC), injected so drawing and tests are deterministic.
    pub today: String,
    /// What the refresh loads, read by several screens.
    pub data: SiteData,
    pub form: login::Form,
    pub meters: meters::MetersState,
    pub sales: sales::SalesState,
    pub reports: reports::ReportsState,
    pub batch: batch::BatchState,
    pub site: site::SiteState,
    pub staff: staff::StaffState,
    pub suspect: suspect::SuspectState,
    pub office: office::OfficeState,
    pub confirm: Option<Confirm>,
    pub help: bool,
    pub message: Option<(Level, String)>,
    pub quit: bool,
    /// Calls not yet handed to the worker (or run by `settle`).
    queued: VecDeque<Request>,
    /// Calls with the worker whose reply has not come back.
    in_flight: usize,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

impl App {
    pub fn new() -> App {
        App {
            session: Session::default(),
            screen: Screen::Login,
            colors256: true,
            today: data::today_utc(),
            data: SiteData::default(),
            form: Default::default(),
            meters: Default::default(),
            sales: Default::default(),
            reports: Default::default(),
            batch: Default::default(),
            site: Default::default(),
            staff: Default::default(),
            suspect: Default::default(),
            office: Default::default(),
            confirm: None,
            help: false,
            message: None,
            quit: false,
            queued: VecDeque::new(),
            in_flight: 0,
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
            Screen::Meters => self.meters.context(),
            Screen::Sales => self.sales.context(),
            Screen::Reports => Context::Reports,
            Screen::Batch => Context::Batch,
            Screen::Site => self.site.context(),
            Screen::Staff => self.staff.context(),
            Screen::Suspect => Context::Suspect,
            Screen::Office => self.office.context(),
        }
    }

    pub fn info(&mut self, m: impl Into<String>) {
        self.message = Some((Level::Info, m.into()));
    }
    pub fn error(&mut self, m: impl Into<String>) {
        self.message = Some((Level::Error, m.into()));
    }

    /// Waiting for the daemon: calls are queued or with the worker.
    pub fn busy(&self) -> bool {
        self.in_flight > 0 || !self.queued.is_empty()
    }

    // ---------- keys ----------

    /// One key press, its calls run at once on `api` (tests and benches; the event loop
    /// uses [`App::key`] and the worker).
    pub fn on_key(&mut self, key: KeyEvent, api: &mut dyn Transport) {
        self.key(key);
        self.settle(api);
    }

    /// One key press; any API calls it makes are queued ([`App::take_requests`]).
    pub fn key(&mut self, key: KeyEvent) {
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
                    | Context::Suspect
                    | Context::Office
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
                    self.type_char(c);
                }
            }
            (Context::Typing, Some(a)) => {
                let e = self.typing(a);
                self.apply(e);
            }
            (Context::Confirm, Some(Action::Confirm)) => self.run_confirmed(),
            (Context::Confirm, Some(_)) => {
                self.confirm = None;
                self.info("cancelled: nothing was changed");
            }
            (_, Some(a)) => self.act(a),
            _ => {}
        }
    }

    fn type_char(&mut self, c: char) {
        match self.screen {
            Screen::Login | Screen::ChangePassword => self.form.type_char(self.screen, c),
            Screen::Meters => self.meters.type_char(c),
            Screen::Sales => self.sales.type_char(c),
            Screen::Site => self.site.type_char(c),
            Screen::Staff => self.staff.type_char(c),
            Screen::Office => self.office.type_char(c),
            Screen::Dashboard | Screen::Reports | Screen::Batch | Screen::Suspect => {}
        }
    }

    fn typing(&mut self, a: Action) -> Effect {
        match self.screen {
            Screen::Login | Screen::ChangePassword => {
                self.form
                    .typing(a, self.screen, &mut self.session, &self.today)
            }
            Screen::Meters => self.meters.typing(a),
            Screen::Sales => self.sales.typing(a, &self.data),
            Screen::Site => self.site.typing(a),
            Screen::Staff => self.staff.typing(a),
            Screen::Office => self.office.typing(a),
            Screen::Dashboard | Screen::Reports | Screen::Batch | Screen::Suspect => Effect::None,
        }
    }

    /// The global keys here; every other key goes to the screen shown.
    fn act(&mut self, a: Action) {
        let e = match a {
            Action::Quit => Effect::Quit,
            Action::GoDashboard => Effect::Switch(Screen::Dashboard),
            Action::GoMeters => Effect::Switch(Screen::Meters),
            Action::GoReports => Effect::Switch(Screen::Reports),
            Action::GoBatch | Action::BatchOnSelection => {
                self.batch.open(&self.meters);
                Effect::Switch(Screen::Batch)
            }
            Action::GoSite => Effect::Switch(Screen::Site).and(site::load()),
            Action::GoStaff => Effect::Switch(Screen::Staff).and(staff::load()),
            Action::GoSuspect => Effect::Switch(Screen::Suspect).and(suspect::load()),
            Action::GoOffice => Effect::Switch(Screen::Office).and(office::load()),
            Action::GoSales => {
                self.sales.entered();
                Effect::Switch(Screen::Sales)
            }
            Action::Refresh => {
                let tenant = self.sales.tenant.as_ref().map(|t| t.tenant.clone());
                let office = if self.screen == Screen::Office {
                    self.office.reload()
                } else {
                    Effect::None
                };
                Effect::Refresh
                    .and(tenant.map_or(Effect::None, sales::load_tenant))
                    .and(office)
            }
            Action::Logout => {
                if self.session.token.is_some() {
                    // Queued with the token it ends; the console forgets it at once.
                    self.apply(Effect::call(|api| {
                        api.logout();
                        Reply::None
                    }));
                }
                self.session.token = None;
                self.form = login::Form::default();
                Effect::Switch(Screen::Login).and(Effect::info("logged out"))
            }
            Action::ChangePassword => {
                self.form.start_change();
                Effect::Switch(Screen::ChangePassword).and(Effect::info(
                    "current password is the one you logged in with; type the new one twice",
                ))
            }
            _ => match self.screen {
                Screen::Meters => self.meters.on_action(a),
                Screen::Sales => self.sales.on_action(a, &self.data),
                Screen::Reports => self.reports.on_action(a),
                Screen::Batch => self.batch.on_action(a, &self.meters),
                Screen::Site => self.site.on_action(a),
                Screen::Staff => self.staff.on_action(a),
                Screen::Suspect => self.suspect.on_action(a, &self.meters.rows, &self.data),
                Screen::Office => self.office.on_action(a),
                Screen::Login | Screen::ChangePassword | Screen::Dashboard => Effect::None,
            },
        };
        self.apply(e);
    }

    /// `y` on the dialog: the screen that asked does it.
    fn run_confirmed(&mut self) {
        let Some(c) = self.confirm.take() else { return };
        let key = self.session.idempotency_key();
        let e = match c.pending {
            Pending::Meters(p) => self.meters.confirmed(p),
            Pending::Sales(p) => self.sales.confirmed(p, key),
            Pending::Batch(r) => self.batch.confirmed(r),
            Pending::Site(p) => self.site.confirmed(p),
            Pending::Staff(p) => self.staff.confirmed(p),
            Pending::Suspect(p) => self.suspect.confirmed(p),
        };
        self.apply(e);
    }

    // ---------- effects and replies ----------

    fn apply(&mut self, e: Effect) {
        match e {
            Effect::None => {}
            Effect::Call(c) => self
                .queued
                .push_back(Request::new(c, self.session.token.clone())),
            Effect::Confirm(c) => self.confirm = Some(c),
            Effect::Switch(s) => self.screen = s,
            Effect::Message(l, m) => self.message = Some((l, m)),
            Effect::Refresh => {
                let e = self.refresh_call();
                self.apply(e);
            }
            Effect::Quit => self.quit = true,
            Effect::All(v) => v.into_iter().for_each(|e| self.apply(e)),
        }
    }

    /// The calls to hand to the worker; their replies come back through [`App::on_done`].
    pub fn take_requests(&mut self) -> Vec<Request> {
        self.in_flight += self.queued.len();
        self.queued.drain(..).collect()
    }

    /// Runs every queued call on `api` now, and the calls their replies make.
    pub fn settle(&mut self, api: &mut dyn Transport) {
        while let Some(r) = self.queued.pop_front() {
            let done = r.run(api);
            self.apply_done(done);
        }
    }

    /// A reply from the worker.
    pub fn on_done(&mut self, done: Done) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.apply_done(done);
    }

    fn apply_done(&mut self, done: Done) {
        if let Some(e) = &done.session_end {
            self.session_ended(e);
        }
        let e = match done.reply {
            Reply::None => Effect::None,
            Reply::Login(r) => return self.logged_in(r),
            Reply::Refresh(r) => return self.apply_refresh(*r),
            Reply::Meters(r) => self.meters.on_reply(r),
            Reply::Sales(r) => self.sales.on_reply(r, &mut self.data),
            Reply::Reports(r) => self.reports.on_reply(r),
            Reply::Batch(r) => self.batch.on_reply(r),
            Reply::Site(r) => self.site.on_reply(r, &mut self.data),
            Reply::Staff(r) => self.staff.on_reply(r),
            Reply::Suspect(r) => self.suspect.on_reply(r),
            Reply::Office(r) => self.office.on_reply(r),
        };
        self.apply(e);
    }

    /// A call found the session over (401) or the password due: back to the form.
    fn session_ended(&mut self, e: &ApiErr) {
        if e.status == 401 {
            self.session.token = None;
            self.screen = Screen::Login;
            self.form.password.clear();
            self.form.focus = 1;
            self.error(format!("{} — log in again", e.message));
        } else {
            self.screen = Screen::ChangePassword;
            self.form.focus = 0;
            self.error(e.message.clone());
        }
    }

    fn logged_in(&mut self, r: login::Reply) {
        let (login, changed) = match r {
            login::Reply::Login(l) => (l, false),
            login::Reply::PasswordChanged(r) => {
                let e = self.form.password_changed(&r);
                self.apply(e);
                match r {
                    Ok(l) => (l, true),
                    Err(_) => return,
                }
            }
        };
        let e = self.form.logged_in(login.result, &mut self.session);
        self.apply(e);
        if let Some(r) = login.refreshed {
            self.apply_refresh(*r);
        }
        if changed && self.screen == Screen::Dashboard {
            self.info("password changed");
        }
    }

    // ---------- data ----------

    /// The reload of everything the dashboard and tables show (nothing when logged out).
    fn refresh_call(&self) -> Effect {
        if self.session.token.is_none() {
            return Effect::None;
        }
        let today = self.today.clone();
        Effect::call(move |api| Reply::Refresh(Box::new(data::fetch(api, &today))))
    }

    /// Queues the reload of what the dashboard and tables show (the event loop's timer).
    pub fn request_refresh(&mut self) {
        self.apply(Effect::Refresh);
    }

    /// Reloads now, on `api`.
    pub fn refresh(&mut self, api: &mut dyn Transport) {
        self.request_refresh();
        self.settle(api);
    }

    fn apply_refresh(&mut self, r: Refreshed) {
        if let Some((a1, a2)) = r.alarms {
            self.data.alarm1_fen = a1;
            self.data.alarm2_fen = a2;
        }
        if let Some(tz) = r.timezone {
            self.data.timezone = tz;
        }
        if let Some(s) = r.status {
            self.data.status = Some(s);
        }
        if let Some(g) = r.gateways {
            self.data.gateways = g;
        }
        if let Some(t) = r.tenants {
            self.data.tenants = t;
        }
        if let Some((rows, sales_today)) = r.meters {
            self.data.sales_today = sales_today;
            self.set_meters(rows);
        }
        if let Some(s) = r.suspects {
            self.suspect.set_rows(s);
        }
        if let Some(e) = r.failed
            && e.status != 401
        {
            self.error(format!("refresh failed: {}", e.message));
        }
    }

    /// Replaces the meter rows, joined with the tenants and alarm levels loaded.
    pub fn set_meters(&mut self, rows: Vec<MeterView>) {
        self.meters.set_rows(rows, &self.data);
    }

    pub fn selected_meter(&self) -> Option<&meters::MeterRow> {
        self.meters.selected_meter()
    }

    /// Whether the tenant on the sales screen has an open account.
    pub fn has_account(&self) -> Option<bool> {
        self.sales.has_account(&self.data)
    }

    /// The event loop's tick: the running batch's next poll, when due.
    pub fn schedule_tick(&mut self) {
        let e = self.batch.tick();
        self.apply(e);
    }

    /// A tick with its calls run at once on `api`.
    pub fn tick(&mut self, api: &mut dyn Transport) {
        self.schedule_tick();
        self.settle(api);
    }
}
