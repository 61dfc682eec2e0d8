//! The suspect readings screen against a transport that keeps suspect readings as the daemon
//! does (a decided reading leaves the pending list; a decided one cannot be decided again)
//! and answers the refresh: the list in site time, accept / reject / re-baseline behind the
//! dialog with the request paths and bodies checked, the result shown, the list reloaded,
//! and the dashboard counting them as alarms.

use crossterm::event::KeyCode;
use serde::Serialize;
use serde_json::{Value, json};
use voltvend_tui::api::{ApiErr, Transport};
use voltvend_tui::app::{App, Screen};
use voltvend_tui::keys::Context;
use voltvend_tui::types::{
    GatewayView, MeterView, SiteSettings, SiteStatus, SuspectReadingView, TenantRow,
};

use crate::support::{fixture, key as press, render, snapshot, text};

fn wire(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("a body serialises")
}

fn err(status: u16, code: &str, message: &str) -> ApiErr {
    ApiErr {
        status,
        code: code.into(),
        message: message.into(),
        details: Vec::new(),
    }
}

/// The readings of the issue: a zero answer (decrease) on meter 1, a spike on meter 3.
fn suspects() -> Vec<SuspectReadingView> {
    let s =
        |meter: &str, at: &str, at_ms, basis_wh, total_wh, why: &str, max_wh| SuspectReadingView {
            meter: meter.into(),
            at: at.into(),
            at_ms,
            total_wh,
            basis_at: "2026-11-25T01:00:00Z".into(),
            basis_wh,
            why: why.into(),
            max_wh,
            state: "pending".into(),
            decided_by: None,
            decided_at: None,
            charged_wh: None,
            rebaseline: None,
        };
    vec![
        s(
            "310000000001",
            "2026-11-25T01:30:05Z",
            1_795_657_805_000,
            1_318_920,
            0,
            "decrease",
            None,
        ),
        s(
            "310000000003",
            "2026-11-25T01:31:00Z",
            1_795_657_860_000,
            1_024_690,
            1_675_740,
            "too_high",
            Some(11_000),
        ),
    ]
}

/// The daemon as far as this screen and the refresh use it.
struct SuspectDaemon {
    calls: Vec<String>,
    pending: Vec<SuspectReadingView>,
    meters: Vec<MeterView>,
    tenants: Vec<TenantRow>,
    gateways: Vec<GatewayView>,
    status: Option<SiteStatus>,
    /// Refuse decisions as a cashier's session is refused.
    refuse: bool,
}

impl SuspectDaemon {
    fn new(app: &App) -> SuspectDaemon {
        SuspectDaemon {
            calls: Vec::new(),
            pending: suspects(),
            meters: app.meters.rows.iter().map(|r| r.view.clone()).collect(),
            tenants: app.data.tenants.clone(),
            gateways: app.data.gateways.clone(),
            status: app.data.status.clone(),
            refuse: false,
        }
    }

    fn decide(&mut self, path: &str, body: Option<&Value>) -> Result<Value, ApiErr> {
        if self.refuse {
            return Err(err(
                403,
                "forbidden",
                "cashier may not decide suspect readings",
            ));
        }
        let parts: Vec<&str> = path.split('/').collect();
        // /api/v1/meters/{m}/suspect-readings/{at_ms}/{accept|reject}
        let (meter, at_ms, verb) = (parts[4], parts[6].parse::<i64>().unwrap_or(0), parts[7]);
        let Some(i) = self
            .pending
            .iter()
            .position(|s| s.meter == meter && s.at_ms == at_ms)
        else {
            return Err(err(409, "already_decided", "already decided"));
        };
        let mut s = self.pending.remove(i);
        s.decided_by = Some("installer1".into());
        if verb == "accept" {
            s.state = "accepted".into();
            s.charged_wh = Some(s.total_wh - s.basis_wh);
        } else {
            s.state = "rejected".into();
            s.rebaseline = body.and_then(|b| b["rebaseline"].as_bool());
        }
        Ok(wire(s))
    }
}

impl Transport for SuspectDaemon {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _t: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        self.calls.push(match body {
            Some(b) => format!("{method} {path} {b}"),
            None => format!("{method} {path}"),
        });
        Ok(match (method, path) {
            ("GET", "/api/v1/suspect-readings") => wire(&self.pending),
            ("POST", p) if p.contains("/suspect-readings/") => return self.decide(p, body),
            ("GET", "/api/v1/site/settings") => wire(SiteSettings {
                power_limit_w: 10_000,
                collection_interval_s: 1800,
                alarm1: 10_000,
                alarm2: 3_000,
                default_tariff: "flat".into(),
                hoarding_cap: 300_000,
                alarm_sms: None,
                timezone: "Asia/Shanghai".into(),
            }),
            ("GET", "/api/v1/status") => wire(&self.status),
            ("GET", "/api/v1/gateways") => wire(&self.gateways),
            ("GET", "/api/v1/tenants") => wire(&self.tenants),
            ("GET", "/api/v1/meters") => wire(&self.meters),
            ("GET", p) if p.starts_with("/api/v1/operations") => json!([]),
            _ => return Err(err(404, "not_found", &format!("no {path}"))),
        })
    }
}

/// The fixture, on screen 8 with the list loaded and the site's zone known.
fn on_screen() -> (App, SuspectDaemon) {
    let mut app = fixture(40);
    app.data.timezone = "Asia/Shanghai".into();
    let mut api = SuspectDaemon::new(&app);
    press(&mut app, &mut api, KeyCode::Char('8'));
    assert_eq!(app.screen, Screen::Suspect);
    assert_eq!(app.context(), Context::Suspect);
    assert_eq!(api.calls, ["GET /api/v1/suspect-readings"]);
    api.calls.clear();
    (app, api)
}

#[test]
fn suspect_readings_listed_in_site_time_with_tenant_and_why() {
    let (app, _api) = on_screen();
    for (w, h) in [(80, 24), (160, 48)] {
        let s = snapshot("suspect", &app, w, h);
        assert!(s.contains("Suspect readings (2 pending)"), "{s}");
        assert!(s.contains("time Asia/Shanghai"), "{s}");
        // 01:30:05 UTC is 09:30:05 in Shanghai.
        assert!(
            s.contains("11-25 09:30 ") && s.contains("2026-11-25 09:30:05"),
            "{s}"
        );
        // Charged basis, the suspect total, the increase, why.
        assert!(s.contains("1,318.920") && s.contains("-1,318.920"), "{s}");
        assert!(s.contains("+651.050") && s.contains("too high"), "{s}");
        assert!(s.contains("lower"), "{s}");
        // The selected reading's tenant and unit, and why in full.
        assert!(s.contains("A-101 Noodle House 1 (T0001)"), "{s}");
        assert!(s.contains("below the last charged total"), "{s}");
    }
    // The tenant column only where it has room.
    let wide = text(&render(&app, 160, 48));
    assert!(wide.contains("tenant"), "{wide}");
}

#[test]
fn accept_asks_first_then_charges_shows_the_result_and_reloads() {
    let (mut app, mut api) = on_screen();
    // The decrease cannot be charged: refused here, nothing sent.
    press(&mut app, &mut api, KeyCode::Char('a'));
    assert!(app.confirm.is_none());
    assert!(api.calls.is_empty(), "{:?}", api.calls);
    let s = text(&render(&app, 80, 24));
    assert!(s.contains("cannot be charged"), "{s}");
    // The spike: the dialog says what accepting does.
    press(&mut app, &mut api, KeyCode::Char('j'));
    press(&mut app, &mut api, KeyCode::Char('a'));
    let s = snapshot("suspect_accept_confirm", &app, 80, 24);
    assert!(s.contains("Accept a suspect reading"), "{s}");
    assert!(s.contains("651.050 kWh is charged"), "{s}");
    assert!(s.contains("at most 11.000 kWh"), "{s}");
    assert!(api.calls.is_empty(), "nothing before y: {:?}", api.calls);
    press(&mut app, &mut api, KeyCode::Char('y'));
    assert_eq!(
        api.calls[0],
        "POST /api/v1/meters/310000000003/suspect-readings/1795657860000/accept {}"
    );
    // An accept moves a balance: the whole refresh runs, the list with it.
    assert!(
        api.calls
            .contains(&"GET /api/v1/suspect-readings".to_string()),
        "{:?}",
        api.calls
    );
    assert_eq!(app.suspect.rows.len(), 1);
    let s = text(&render(&app, 80, 24));
    assert!(
        s.contains(
            "ACCEPTED meter 310000000003 (B-102) at 2026-11-25 09:31:00: 651.050 kWh charged"
        ),
        "{s}"
    );
    assert!(s.contains("Suspect readings (1 pending)"), "{s}");
}

#[test]
fn reject_and_rebaseline_send_their_body_and_cancel_sends_nothing() {
    let (mut app, mut api) = on_screen();
    press(&mut app, &mut api, KeyCode::Char('r'));
    assert!(
        app.confirm.as_ref().is_some_and(|c| c
            .lines
            .iter()
            .any(|l| l.contains("measured from 1,318.920"))),
        "{:?}",
        app.confirm
    );
    press(&mut app, &mut api, KeyCode::Char('n'));
    assert!(api.calls.is_empty(), "{:?}", api.calls);
    assert_eq!(app.suspect.rows.len(), 2);

    press(&mut app, &mut api, KeyCode::Char('b'));
    let c = app.confirm.clone().expect("dialog");
    assert_eq!(c.title, "Re-baseline a meter");
    press(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(
        api.calls,
        [
            r#"POST /api/v1/meters/310000000001/suspect-readings/1795657805000/reject {"rebaseline":true}"#,
            "GET /api/v1/suspect-readings",
        ]
    );
    let s = text(&render(&app, 80, 24));
    assert!(
        s.contains("REJECTED and RE-BASELINED meter 310000000001"),
        "{s}"
    );
    assert!(
        s.contains("later readings are measured from 0.000 kWh"),
        "{s}"
    );
    api.calls.clear();

    // The spike, rejected: the basis stays.
    press(&mut app, &mut api, KeyCode::Char('r'));
    press(&mut app, &mut api, KeyCode::Char('y'));
    assert_eq!(
        api.calls[0],
        r#"POST /api/v1/meters/310000000003/suspect-readings/1795657860000/reject {"rebaseline":false}"#
    );
    assert!(app.suspect.rows.is_empty());
    let s = text(&render(&app, 80, 24));
    assert!(s.contains("REJECTED meter 310000000003"), "{s}");
    assert!(s.contains("nothing charged"), "{s}");
    assert!(s.contains("none pending"), "{s}");
}

#[test]
fn a_refusal_is_shown_and_the_list_kept() {
    let (mut app, mut api) = on_screen();
    api.refuse = true;
    press(&mut app, &mut api, KeyCode::Char('r'));
    press(&mut app, &mut api, KeyCode::Char('y'));
    let s = text(&render(&app, 80, 24));
    assert!(
        s.contains("REFUSED meter 310000000001 (A-101)") && s.contains("cashier may not"),
        "{s}"
    );
    assert_eq!(app.suspect.rows.len(), 2);
}

#[test]
fn dashboard_counts_suspect_readings_as_alarms() {
    let mut app = fixture(40);
    let base = text(&render(&app, 80, 24));
    let count = |s: &str| -> usize {
        s.split(" Live alarms (")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse().ok())
            .expect("the alarm count")
    };
    let before = count(&base);
    assert!(base.contains("Suspect readings (8)     0"), "{base}");
    // The refresh brings them.
    let mut api = SuspectDaemon::new(&app);
    app.refresh(&mut api);
    let s = snapshot("dashboard_suspect", &app, 80, 24);
    assert_eq!(count(&s), before + 2, "{s}");
    assert!(s.contains("Suspect readings (8)     2"), "{s}");
    assert!(s.contains("suspect") && s.contains("too high"), "{s}");
    assert_eq!(app.data.timezone, "Asia/Shanghai");
}
