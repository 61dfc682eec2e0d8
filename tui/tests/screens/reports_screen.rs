//! The reports screen: choose a report, see its table with yuan and kWh decimals, scroll
//! columns, save it as Excel on the appliance — against a transport that answers like the
//! daemon's report API (the request paths are checked too).

use crossterm::event::{KeyCode, KeyEvent};
use serde::Serialize;
use serde_json::Value;
use voltvend_tui::api::{ApiErr, Transport};
use voltvend_tui::app::Screen;
use voltvend_tui::types::{
    AlarmView, Cell, ColumnKind, ExportDone, ReportColumn, ReportParam, ReportTable,
};

use crate::support::{fixture, key as press, snapshot};

/// A body as the daemon sends it: the contract's type, serialised.
fn wire(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("a body serialises")
}

/// The daemon's answer to a path these fakes do not serve.
fn not_found(path: &str) -> ApiErr {
    ApiErr {
        details: Vec::new(),
        status: 404,
        code: "not_found".into(),
        message: format!("no {path}"),
    }
}

fn columns(cols: &[(&str, ColumnKind)]) -> Vec<ReportColumn> {
    cols.iter()
        .map(|(name, kind)| ReportColumn {
            name: name.to_string(),
            kind: *kind,
        })
        .collect()
}

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

#[derive(Default)]
struct ReportApi {
    calls: Vec<String>,
}

impl Transport for ReportApi {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _t: Option<&str>,
        _b: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        self.calls.push(format!("{method} {path}"));
        Ok(match (method, path) {
            ("GET", "/api/v1/reports/energy") => {
                use ColumnKind::{Energy, Text};
                let row = |unit: &str, wh: [i64; 4]| {
                    let mut r = vec![text(unit)];
                    r.extend(wh.map(Cell::Int));
                    r
                };
                wire(ReportTable {
                    title: "Energy 用电量分析 (kWh)".into(),
                    params: [("from", "2026-11-01"), ("to", "2026-11-03"), ("by", "unit")]
                        .map(|(k, v)| ReportParam(k.into(), v.into()))
                        .to_vec(),
                    columns: columns(&[
                        ("unit", Text),
                        ("11-01", Energy),
                        ("11-02", Energy),
                        ("11-03", Energy),
                        ("total kWh", Energy),
                    ]),
                    rows: vec![
                        row("(common)", [1200, 0, 0, 1200]),
                        row("A-101", [2500, 2500, 0, 5000]),
                        row("A-201", [0, 750, 0, 750]),
                        row("total", [3700, 3250, 0, 6950]),
                    ],
                })
            }
            ("POST", p) if p.starts_with("/api/v1/reports/energy/export") => wire(ExportDone {
                path: "/var/lib/voltvend/exports/energy-20261125-101500.xlsx".into(),
                rows: 4,
                bytes: 6123,
            }),
            _ => return Err(not_found(path)),
        })
    }
}

#[test]
fn energy_report_on_screen_and_saved_as_excel() {
    let mut app = fixture(40);
    let mut api = ReportApi::default();
    press(&mut app, &mut api, KeyCode::Char('4'));
    assert_eq!(app.screen, Screen::Reports);
    press(&mut app, &mut api, KeyCode::Down);
    press(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(api.calls, ["GET /api/v1/reports/energy"]);
    for (w, h) in [(80, 24), (160, 48)] {
        let s = snapshot("reports_energy", &app, w, h);
        assert!(s.contains("Energy") && s.contains("4 rows"), "{s}");
        assert!(
            s.contains("A-101") && s.contains("2.50") && s.contains("6.95"),
            "{s}"
        );
    }
    press(&mut app, &mut api, KeyCode::Char('x'));
    assert_eq!(
        api.calls[1],
        "POST /api/v1/reports/energy/export?format=xlsx"
    );
    let s = crate::support::text(&crate::support::render(&app, 80, 24));
    assert!(
        s.contains("saved 4 rows to /var/lib/voltvend/exports/energy-"),
        "{s}"
    );
    // Columns scroll right, the first stays.
    press(&mut app, &mut api, KeyCode::Right);
    assert_eq!(app.reports.col, 1);
    // ? shows the keys of this screen.
    press(&mut app, &mut api, KeyCode::Char('?'));
    let s = crate::support::text(&crate::support::render(&app, 80, 24));
    assert!(s.contains("save as Excel"), "{s}");
}

/// Answers like the daemon for the alarms report and its acknowledgement.
#[derive(Default)]
struct AlarmApi {
    calls: Vec<String>,
    acked: bool,
}

impl Transport for AlarmApi {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _t: Option<&str>,
        _b: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        self.calls.push(format!("{method} {path}"));
        match (method, path) {
            ("GET", "/api/v1/reports/alarms") => {
                use ColumnKind::{Int, Text};
                let rows = if self.acked {
                    Vec::new()
                } else {
                    vec![vec![
                        Cell::Int(7),
                        text("arrears"),
                        text("tenant:T0004"),
                        text("2026-11-25 10:00"),
                        Cell::Int(-2500),
                        text("balance -25.00"),
                        text(""),
                        text(""),
                    ]]
                };
                Ok(wire(ReportTable {
                    title: "Real-time alarms 实时报警".into(),
                    params: Vec::new(),
                    columns: columns(&[
                        ("id", Int),
                        ("kind", Text),
                        ("subject", Text),
                        ("raised", Text),
                        ("value", Int),
                        ("detail", Text),
                        ("acknowledged by", Text),
                        ("cleared", Text),
                    ]),
                    rows,
                }))
            }
            ("POST", "/api/v1/alarms/7/ack") => {
                self.acked = true;
                Ok(wire(AlarmView {
                    id: 7,
                    kind: "arrears".into(),
                    subject: "tenant:T0004".into(),
                    raised_at: "2026-11-25T02:00:00Z".into(),
                    value: Some(-2500),
                    detail: "balance -25.00".into(),
                    acked_by: Some("cashier1".into()),
                    acked_at: Some("2026-11-25T02:10:00Z".into()),
                    cleared_at: None,
                    active: true,
                }))
            }
            _ => Err(not_found(path)),
        }
    }
}

#[test]
fn the_top_alarm_is_acknowledged_from_the_alarms_report() {
    let mut app = fixture(10);
    let mut api = AlarmApi::default();
    app.on_key(KeyEvent::from(KeyCode::Char('4')), &mut api);
    // `a` elsewhere explains itself and changes nothing.
    app.on_key(KeyEvent::from(KeyCode::Char('a')), &mut api);
    assert!(api.calls.is_empty());
    for _ in 0..3 {
        app.on_key(KeyEvent::from(KeyCode::Down), &mut api);
    }
    app.on_key(KeyEvent::from(KeyCode::Enter), &mut api);
    let s = crate::support::text(&crate::support::render(&app, 160, 48));
    assert!(s.contains("tenant:T0004"), "{s}");
    app.on_key(KeyEvent::from(KeyCode::Char('a')), &mut api);
    assert_eq!(
        api.calls,
        [
            "GET /api/v1/reports/alarms",
            "POST /api/v1/alarms/7/ack",
            "GET /api/v1/reports/alarms"
        ]
    );
    let s = crate::support::text(&crate::support::render(&app, 80, 24));
    assert!(
        s.contains("alarm 7 acknowledged") && s.contains("0 rows"),
        "{s}"
    );
}
