//! TestBackend snapshots of the batch, site and staff screens at 80×24 and 160×48, and the
//! key flows that need no daemon (marking, the filter's building/floor words, what the
//! batch confirmation says).

use crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;
use voltvend_tui::app::{App, Pending, Screen};
use voltvend_tui::screens::{batch, sales, site};
use voltvend_tui::types::{
    Actor, AuditEntry, BuildingView, ItemProgress, MeterCommand, OperatorView, Progress, RoleRow,
    SiteSettings, TariffRequest, TariffSaved, TenantView,
};

use crate::support::{fixture, press, snapshot, typed};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Building/floor on the fixture's meters (unit "A-101" → building A, floor 1).
fn with_places(mut app: App) -> App {
    let mut rows: Vec<_> = app.meters.rows.iter().map(|r| r.view.clone()).collect();
    for r in &mut rows {
        if let Some(u) = &r.unit {
            let (b, rest) = u.split_once('-').unwrap_or(("", ""));
            r.building = Some(b.to_string());
            r.floor = rest
                .get(..rest.len().saturating_sub(2))
                .and_then(|f| f.parse().ok());
        }
    }
    app.set_meters(rows);
    app
}

fn batch_fixture() -> App {
    let mut app = with_places(fixture(40));
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "b:A f:1");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('b'));
    let items: Vec<ItemProgress> = app
        .batch
        .selection
        .iter()
        .enumerate()
        .map(|(i, m)| ItemProgress {
            meter: m.clone(),
            state: match i {
                1 => "skipped",
                3 => "failed",
                7 | 8 => "sent",
                _ => "confirmed",
            }
            .into(),
            reason: match i {
                1 => Some("on keep-power (保电): never tripped".into()),
                3 => Some("no answer in time (after 5 attempts)".into()),
                _ => None,
            },
            outbox: (i != 1).then_some(500 + i as u64),
        })
        .collect();
    let total = items.len();
    app.batch.op = 6;
    app.batch.running = Some((12, "trip (cut power)".into()));
    app.batch.progress = Some(Progress {
        id: 12,
        at: "2026-11-25T10:15:00Z".into(),
        by: "admin".into(),
        command: MeterCommand::Trip,
        total,
        done: total - 3,
        confirmed: total - 4,
        failed: 1,
        skipped: 1,
        pending: 2,
        finished: false,
        items,
    });
    app.message = None;
    app
}

#[test]
fn batch_screen_with_progress() {
    let app = batch_fixture();
    assert_eq!(app.screen, Screen::Batch);
    for (w, h) in SIZES {
        let s = snapshot("batch_progress", &app, w, h);
        assert!(s.contains("Batch #12: trip (cut power)"), "{s}");
        assert!(s.contains("failed"), "{s}");
        assert!(s.contains("keep-power"), "{s}");
    }
}

#[test]
fn batch_confirmation_names_the_count_and_the_skipped() {
    let mut app = with_places(fixture(40));
    press(&mut app, KeyCode::Char('2'));
    // Mark three rows with Space (each moves down), one of them on keep-power.
    for _ in 0..3 {
        press(&mut app, KeyCode::Char(' '));
    }
    assert_eq!(app.meters.marked.len(), 3);
    press(&mut app, KeyCode::Char('b'));
    assert_eq!(app.screen, Screen::Batch);
    assert_eq!(app.batch.selection.len(), 3);
    assert_eq!(app.batch.scope, "3 marked meters");
    for _ in 0..6 {
        press(&mut app, KeyCode::Down);
    }
    press(&mut app, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirmation");
    assert_eq!(c.title, "Batch: trip (cut power)");
    assert_eq!(c.lines[0], "trip (cut power) on 3 meter(s)");
    assert!(c.lines[3].starts_with("1 on keep-power"), "{:?}", c.lines);
    match &c.pending {
        Pending::Batch(batch::Run { command, meters }) => {
            assert_eq!(command, "trip");
            assert_eq!(meters.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    for (w, h) in SIZES {
        snapshot("batch_confirm", &app, w, h);
    }
    // n cancels; nothing ran.
    press(&mut app, KeyCode::Char('n'));
    assert!(app.confirm.is_none() && app.batch.running.is_none());
    // Esc goes back to the meters; U clears the marks; b then takes the filtered list.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Meters);
    press(&mut app, KeyCode::Char('U'));
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "b:b f:2");
    assert_eq!(app.meters.view.len(), 0, "no floor 2 in the fixture");
    press(&mut app, KeyCode::Backspace);
    typed(&mut app, "1");
    press(&mut app, KeyCode::Enter);
    let shown = app.meters.view.len();
    assert_eq!(shown, 20, "half of the 40 meters are in building B");
    assert!(app.meters.view.iter().all(|i| {
        let r = &app.meters.rows[*i];
        r.building.as_deref() == Some("B") && r.floor == Some(1)
    }));
    press(&mut app, KeyCode::Char('b'));
    assert_eq!(app.batch.selection.len(), shown);
    assert!(
        app.batch.scope.contains("filter 'b:b f:1'"),
        "{}",
        app.batch.scope
    );
}

fn site_fixture() -> App {
    let mut app = fixture(40);
    app.screen = Screen::Site;
    app.site.settings = Some(SiteSettings {
        power_limit_w: 10000,
        collection_interval_s: 1800,
        alarm1: 10000,
        alarm2: 3000,
        default_tariff: "default".into(),
        hoarding_cap: 300000,
        alarm_sms: Some("13800138000".into()),
        timezone: "Asia/Shanghai".into(),
    });
    let building = |id: &str, name: &str, meters| BuildingView {
        building: id.into(),
        name: name.into(),
        floors: Some(5),
        units: 40,
        meters,
    };
    app.site.buildings = vec![
        building("A", "A座 Tower A", 52),
        building("B", "B座 Tower B", 49),
    ];
    app.site.tariffs = vec![
        ("default".into(), "flat 1.2000 ¥/kWh".into()),
        (
            "restaurant".into(),
            "tiered ≤200 kWh 1.0500, above 1.3000".into(),
        ),
    ];
    app.site.selected = 2;
    app
}

#[test]
fn site_screen_edit_and_import_problems() {
    let mut app = site_fixture();
    for (w, h) in SIZES {
        let s = snapshot("site", &app, w, h);
        assert!(
            s.contains("balance alarm level 1") && s.contains("100.00"),
            "{s}"
        );
        assert!(s.contains("Tower B"), "{s}");
        assert!(s.contains("default (flat 1.2000 ¥/kWh)"), "{s}");
        if w >= 120 {
            assert!(
                s.contains("restaurant") && s.contains("≤200 kWh 1.0500"),
                "{s}"
            );
        }
    }
    // Change alarm level 1 to 80.00: the confirmation shows before → after in yuan and
    // the body sends fen.
    press(&mut app, KeyCode::Enter);
    for _ in 0..6 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "80");
    press(&mut app, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirm");
    assert_eq!(c.lines[0], "balance alarm level 1: 100.00 → 80.00");
    match c.pending {
        Pending::Site(site::Pending::SaveSettings { body, .. }) => assert_eq!(body.alarm1, 8000),
        other => panic!("{other:?}"),
    }
    press(&mut app, KeyCode::Esc);
    // A bad value is refused on the spot and stays editable.
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "x");
    press(&mut app, KeyCode::Enter);
    assert!(app.confirm.is_none());
    assert!(app.site.editing.is_some());
    press(&mut app, KeyCode::Esc);

    // Import: the path field, Tab chooses the kind; problems listed one per line.
    press(&mut app, KeyCode::Char('i'));
    typed(&mut app, "/var/lib/voltvend/import/meters.csv");
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    assert_eq!(site::KINDS[app.site.kind], "meters");
    app.site.problems = vec![
        "/var/lib/voltvend/import/meters.csv:3: column 'address': '300' is not a valid address (1-247)".into(),
        "/var/lib/voltvend/import/meters.csv:4: column 'gateway': gateway 'GW9' does not exist; import it first (voltvend import gateways)".into(),
    ];
    app.message = None;
    for (w, h) in SIZES {
        let s = snapshot("site_import", &app, w, h);
        assert!(s.contains("meters.csv:3"), "{s}");
        assert!(s.contains("holds: meters"), "{s}");
    }
}

fn staff_fixture() -> App {
    let mut app = fixture(10);
    app.session.operator = Some(("admin".into(), "admin".into()));
    app.screen = Screen::Staff;
    let operator = |name: &str, role: &str, last_login: Option<&str>| OperatorView {
        name: name.into(),
        role: role.into(),
        must_change_password: false,
        disabled: false,
        locked_until: None,
        last_login: last_login.map(String::from),
    };
    app.staff.operators = vec![
        operator("admin", "admin", Some("2026-11-25T08:01:12Z")),
        operator("cashier1", "cashier", Some("2026-11-25T07:40:00Z")),
        OperatorView {
            disabled: true,
            ..operator("night", "cashier", None)
        },
        OperatorView {
            must_change_password: true,
            ..operator("li.wei", "installer", None)
        },
    ];
    app.staff.roles = vec![
        RoleRow {
            role: "admin".into(),
            allows: vec!["read_all".into(), "sell".into(), "manage_operators".into()],
        },
        RoleRow {
            role: "cashier".into(),
            allows: [
                "read_all",
                "sell",
                "refund",
                "reverse",
                "open_account",
                "close_account",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        },
    ];
    app.staff.selected = 1;
    app.staff.audit = (0..40)
        .rev()
        .map(|i| AuditEntry {
            seq: 1000 + i,
            at: format!("2026-11-25T07:{:02}:00Z", i),
            actor: Actor::Operator {
                name: "cashier1".into(),
                role: "cashier".into(),
            },
            action: if i % 3 == 0 {
                "ledger.sale"
            } else {
                "control.command"
            }
            .into(),
            detail: json!({"tenant": "T0001", "amount": 5000}),
            prev: "0".repeat(64),
            hash: "f".repeat(64),
        })
        .collect();
    app
}

#[test]
fn staff_screen_operators_roles_and_audit() {
    let mut app = staff_fixture();
    for (w, h) in SIZES {
        let s = snapshot("staff", &app, w, h);
        assert!(s.contains("cashier may: read_all, sell, refund"), "{s}");
        assert!(
            s.contains("disabled") && s.contains("must change pw"),
            "{s}"
        );
        assert!(s.contains("ledger.sale"), "{s}");
    }
    // Role change: o asks, naming from → to.
    press(&mut app, KeyCode::Char('o'));
    let c = app.confirm.clone().expect("confirm");
    assert_eq!(c.lines[0], "cashier1: cashier → viewer");
    press(&mut app, KeyCode::Char('n'));
    // Add: name, Tab for the role, Enter asks.
    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "zhang.san");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirm");
    assert_eq!(c.lines[0], "Add zhang.san as viewer");
    press(&mut app, KeyCode::Esc);
    // Tab moves the arrows to the audit log.
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!((app.staff.audit_scroll, app.staff.selected), (2, 1));
}

#[test]
fn open_account_with_a_carried_balance_asks_for_the_old_meter() {
    let mut app = fixture(40);
    app.screen = Screen::Sales;
    app.sales.field = sales::SalesField::None;
    app.sales.tenant = Some(TenantView {
        tenant: "T0006".into(),
        name: "Bakery 6".into(),
        units: vec!["B-106".into()],
        balance_fen: 0,
        status: "unopened".into(),
        max_topup_fen: 300_000,
        meters: vec![],
        alarm1_fen: 10_000,
        alarm2_fen: 3_000,
        hoarding_cap_fen: 300_000,
    });
    app.data.tenants[5].has_account = false;
    press(&mut app, KeyCode::Char('o'));
    typed(&mut app, "120.50");
    press(&mut app, KeyCode::Enter);
    typed(&mut app, "OLD-7781");
    for (w, h) in SIZES {
        let s = snapshot("open_transfer", &app, w, h);
        assert!(s.contains("Old meter number: OLD-7781"), "{s}");
    }
    press(&mut app, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirm");
    assert!(
        c.lines
            .iter()
            .any(|l| l == "carried over from old meter OLD-7781: 120.50"),
        "{:?}",
        c.lines
    );
    assert_eq!(
        c.pending,
        Pending::Sales(sales::Pending::Open {
            tenant: "T0006".into(),
            transfer_in: Some((12_050, "OLD-7781".into()))
        })
    );
}

/// Answers the tariff check as the daemon does (its reply to a dry run of a tariff file).
struct TariffCheck;

impl voltvend_tui::api::Transport for TariffCheck {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, voltvend_tui::api::ApiErr> {
        assert_eq!((method, path), ("POST", "/api/v1/tariffs"));
        let body: TariffRequest =
            serde_json::from_value(body.expect("body").clone()).expect("a tariff request");
        assert_eq!(
            body,
            TariffRequest {
                path: Some("/var/lib/voltvend/import/default.toml".into()),
                dry_run: true,
                ..TariffRequest::default()
            }
        );
        let saved = TariffSaved {
            name: "default".into(),
            change: "updated".into(),
            before: Some("flat 1.2000 ¥/kWh".into()),
            after: "tiered ≤200 kWh 0.9500, above 1.3000".into(),
            dry_run: true,
        };
        Ok(serde_json::to_value(saved).expect("serialise"))
    }
}

#[test]
fn tariff_file_confirmation_shows_the_prices_before_and_after() {
    let mut app = site_fixture();
    press(&mut app, KeyCode::Char('i'));
    typed(&mut app, "/var/lib/voltvend/import/default.toml");
    while site::KINDS[app.site.kind] != "tariff" {
        press(&mut app, KeyCode::Tab);
    }
    app.on_key(KeyEvent::from(KeyCode::Enter), &mut TariffCheck);
    let c = app.confirm.clone().expect("confirm");
    assert_eq!(c.title, "Set tariff default");
    match &c.pending {
        Pending::Site(site::Pending::Import { kind, path }) => {
            assert_eq!(
                (kind.as_str(), path.as_str()),
                ("tariff", "/var/lib/voltvend/import/default.toml")
            )
        }
        other => panic!("{other:?}"),
    }
    for (w, h) in SIZES {
        let s = snapshot("tariff_confirm", &app, w, h);
        assert!(s.contains("before: flat 1.2000"), "{s}");
        assert!(
            s.contains("after:  tiered ≤200 kWh 0.9500, above 1.3000"),
            "{s}"
        );
    }
}
