//! TestBackend snapshots of every screen at 80×24 (the minimum) and 160×48, plus checks
//! that colours, legend and help come from the right places.

use crossterm::event::KeyCode;
use ratatui::style::Color;
use voltvend_tui::app::{App, Screen};
use voltvend_tui::data::OpLine;
use voltvend_tui::screens::meters::{MeterDetail, SortKey};
use voltvend_tui::screens::sales::SalesField;
use voltvend_tui::types::{TenantMeter, TenantView};

use crate::support::{fixture, press, render, snapshot};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn sales_fixture() -> App {
    let mut app = fixture(40);
    app.screen = Screen::Sales;
    app.sales.field = SalesField::None;
    app.sales.lookup = "A-101".into();
    app.sales.tenant = Some(TenantView {
        tenant: "T0001".into(),
        name: "Noodle House 1".into(),
        units: vec!["A-101".into()],
        balance_fen: 23_650,
        status: "normal".into(),
        max_topup_fen: 276_350,
        meters: vec![TenantMeter {
            meter: "310000000001".into(),
            unit: Some("A-101".into()),
            online: Some(true),
            power_w: Some(3792),
            relay: "closed".into(),
            total_wh: Some(7_325_670),
            phases: "one".into(),
            billing: "meter".into(),
            purchase_count: 4,
            switch_refused: None,
        }],
        alarm1_fen: 10_000,
        alarm2_fen: 3_000,
        hoarding_cap_fen: 300_000,
    });
    app.sales.ops = vec![
        OpLine {
            id: 81,
            at: "2026-11-25 01:30".into(),
            kind: "sale".into(),
            amount_fen: Some(5_000),
            balance_after_fen: Some(23_650),
        },
        OpLine {
            id: 1,
            at: "2026-11-25 01:28".into(),
            kind: "open_account".into(),
            amount_fen: None,
            balance_after_fen: Some(18_650),
        },
    ];
    app.sales.last_result =
        Some("SOLD 50.00 — new balance 236.50 — receipt R00000081 (printed)".into());
    app
}

#[test]
fn login_screen() {
    let mut app = App::new();
    app.form.name = "admin".into();
    app.form.password = "secret".into();
    app.form.focus = 1;
    for (w, h) in SIZES {
        let s = snapshot("login", &app, w, h);
        assert!(s.contains("Staff login") && s.contains("admin") && s.contains("••••••"));
        assert!(!s.contains("secret"), "password must never be drawn");
    }
}

#[test]
fn forced_password_change_screen() {
    let mut app = App::new();
    app.screen = Screen::ChangePassword;
    app.session.operator = Some(("admin".into(), "admin".into()));
    app.form.new_password = "abc".into();
    for (w, h) in SIZES {
        let s = snapshot("password", &app, w, h);
        assert!(s.contains("Choose a new password") && s.contains("must set a new password"));
    }
}

#[test]
fn dashboard() {
    let app = fixture(40);
    for (w, h) in SIZES {
        let s = snapshot("dashboard", &app, w, h);
        assert!(
            s.contains("Meters by status") && s.contains("Gateways") && s.contains("Live alarms")
        );
        assert!(s.contains("350.00"), "today's sales total");
    }
}

#[test]
fn meters_table_and_filter() {
    let mut app = fixture(200);
    app.screen = Screen::Meters;
    for (w, h) in SIZES {
        let s = snapshot("meters", &app, w, h);
        assert!(s.contains("200 of 200 meters") && s.contains("arrears") && s.contains("opened"));
        assert!(
            s.contains("∞ keep"),
            "the legend names the keep-power marker"
        );
    }
    // The keep-power meter carries its marker in the table.
    let s = snapshot("meters", &app, 160, 48);
    let row = s
        .lines()
        .find(|l| l.contains("310000000002"))
        .expect("the keep-power meter's row");
    assert!(row.contains('∞'), "{row}");
    press(&mut app, KeyCode::Char('/'));
    for c in "arrears".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    for (w, h) in SIZES {
        let s = snapshot("meters_filtered", &app, w, h);
        assert!(s.contains(&format!("{} of 200 meters", app.meters.view.len())));
    }
}

#[test]
fn meter_detail() {
    let mut app = fixture(40);
    app.screen = Screen::Meters;
    app.meters.detail = Some(MeterDetail {
        meter: app.selected_meter().unwrap().meter.clone(),
        power: vec![100, 900, 3000, 4200, 3800, 1200, 600, 2500, 5000, 4100],
        energy_wh: vec![],
        history: vec![(12, "trip".into())],
        commands: vec![
            (
                11,
                "push_prices".into(),
                "failed: no answer in time (after 5 attempts)".into(),
                "op:admin".into(),
            ),
            (
                7,
                "close".into(),
                "confirmed".into(),
                "system:control".into(),
            ),
        ],
    });
    for (w, h) in SIZES {
        let s = snapshot("meter_detail", &app, w, h);
        assert!(s.contains("Meter 310000000001") && s.contains("#12 trip queued"));
        assert!(s.contains("#11 push_prices failed: no answer"), "{s}");
    }
}

#[test]
fn sales_with_result_and_confirm_dialog() {
    let mut app = sales_fixture();
    for (w, h) in SIZES {
        let s = snapshot("sales", &app, w, h);
        assert!(s.contains("new balance 236.50") && s.contains("Operations"));
    }
    app.sales.last_result = None;
    press(&mut app, KeyCode::Char('s'));
    for c in "50.00".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    for (w, h) in SIZES {
        let s = snapshot("sale_confirm", &app, w, h);
        assert!(
            s.contains("Confirm sale") && s.contains("236.50 → 286.50"),
            "{s}"
        );
    }
}

#[test]
fn help_overlay_lists_the_key_table() {
    let mut app = fixture(40);
    app.screen = Screen::Meters;
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    for (w, h) in SIZES {
        let s = snapshot("help_meters", &app, w, h);
        for b in voltvend_tui::keys::METERS {
            assert!(s.contains(b.help) || h < 30, "help is missing {:?}", b.help);
        }
    }
}

#[test]
fn status_colours_256_and_16() {
    let mut app = fixture(40);
    app.screen = Screen::Meters;
    // Put the arrears meters on top and look at the first row's colour.
    app.meters.sort = SortKey::Status;
    app.meters.apply_view();
    app.meters.selected = 5;
    let arrears_row = 3; // top bar, filter line, table border, header
    let buf = render(&app, 80, 24);
    let first = app.selected_meter().is_some();
    assert!(first);
    let row_text: String = (0..80)
        .map(|x| buf[(x, arrears_row + 1)].symbol().to_string())
        .collect();
    assert!(
        row_text.contains("offline") || row_text.contains("arrears"),
        "{row_text}"
    );
    let fg = buf[(2, arrears_row + 1)].fg;
    assert!(
        matches!(fg, Color::Indexed(_)),
        "256-colour palette by default, got {fg:?}"
    );
    app.colors256 = false;
    let buf = render(&app, 80, 24);
    let fg = buf[(2, arrears_row + 1)].fg;
    assert!(
        matches!(fg, Color::Red | Color::DarkGray),
        "16-colour fallback, got {fg:?}"
    );
}

/// A snapshot test must be able to fail under CI: there a missing file fails (it is never
/// written to pass against itself), and only a developer's run writes one.
#[test]
fn a_missing_snapshot_fails_under_ci_and_is_written_only_locally() {
    use crate::support::SnapshotAction::{Compare, Missing, Write};
    use crate::support::snapshot_action;
    // (CI, UPDATE_SNAPSHOTS, file exists)
    assert_eq!(snapshot_action(true, false, false), Missing);
    assert_eq!(snapshot_action(true, true, false), Missing);
    assert_eq!(snapshot_action(true, false, true), Compare);
    assert_eq!(snapshot_action(true, true, true), Compare);
    assert_eq!(snapshot_action(false, false, false), Write);
    assert_eq!(snapshot_action(false, true, true), Write);
    assert_eq!(snapshot_action(false, false, true), Compare);
}
