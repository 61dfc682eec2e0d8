//! Console flows against the real daemon (`voltvend demo`: real binary, real socket, its
//! simulated building read and commanded by the real collector and control queue): a
//! batch trip of one floor with the progress filling and a result per meter, then the
//! batch close; a site import refused with every problem, then accepted; a meter added
//! to an open account; an operator added and disabled — all by key presses.

use crossterm::event::KeyCode;
use std::time::{Duration, Instant};
use voltvend_tui::api::{Client, Endpoint, Transport};
use voltvend_tui::app::{App, Screen};

use crate::support::{Demo, key, keys};

fn log_in(app: &mut App, api: &mut dyn Transport) {
    keys(app, api, "admin");
    key(app, api, KeyCode::Enter);
    keys(app, api, "voltvend");
    key(app, api, KeyCode::Enter);
    keys(app, api, "Console-2026!");
    key(app, api, KeyCode::Enter);
    keys(app, api, "Console-2026!");
    key(app, api, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Dashboard, "{:?}", app.message);
}

/// Ticks the console as its event loop does until the running batch has finished.
fn run_to_end(app: &mut App, api: &mut dyn Transport) -> voltvend_tui::types::Progress {
    let end = Instant::now() + Duration::from_secs(180);
    loop {
        app.tick(api);
        if let Some(p) = app.batch.progress.as_ref().filter(|p| p.finished) {
            return p.clone();
        }
        assert!(
            Instant::now() < end,
            "batch never finished: {:?} {:?}",
            app.batch.progress,
            app.message
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn batch_trip_and_close_of_a_floor_on_the_demo() {
    let demo = Demo::start();
    let mut api = Client::new(Endpoint::Socket(demo.socket.clone()));
    let mut app = App::new();
    log_in(&mut app, &mut api);

    // Floor A-1 by the filter's building and floor words, then b for the batch screen.
    key(&mut app, &mut api, KeyCode::Char('2'));
    key(&mut app, &mut api, KeyCode::Char('/'));
    keys(&mut app, &mut api, "b:A f:1");
    key(&mut app, &mut api, KeyCode::Enter);
    let floor: Vec<String> = app
        .meters
        .view
        .iter()
        .map(|i| app.meters.rows[*i].meter.clone())
        .collect();
    assert_eq!(floor.len(), 10, "A-101..A-108 have ten meters");
    key(&mut app, &mut api, KeyCode::Char('b'));
    assert_eq!(app.screen, Screen::Batch);
    assert_eq!(app.batch.selection, floor);

    // trip is the seventh operation; the confirmation names the count.
    for _ in 0..6 {
        key(&mut app, &mut api, KeyCode::Down);
    }
    key(&mut app, &mut api, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirmation");
    assert_eq!(c.lines[0], "trip (cut power) on 10 meter(s)");
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(app.batch.running.is_some(), "{:?}", app.message);
    let p = run_to_end(&mut app, &mut api);
    assert_eq!(p.total, 10);
    assert_eq!(p.failed, 0, "{:?}", p.items);
    assert_eq!(p.confirmed + p.skipped, 10, "{:?}", p.items);
    assert!(
        p.items
            .iter()
            .all(|i| i.state == "confirmed" || i.reason.as_deref().is_some_and(|r| !r.is_empty())),
        "a skipped meter says why: {:?}",
        p.items
    );
    assert!(
        app.message.as_ref().unwrap().1.contains("finished"),
        "{:?}",
        app.message
    );

    // The meters table shows them open after a refresh (relay read back by the collector).
    key(&mut app, &mut api, KeyCode::Char('R'));
    for i in p.items.iter().filter(|i| i.state == "confirmed") {
        let row = app
            .meters
            .rows
            .iter()
            .find(|r| r.meter == i.meter)
            .expect("row");
        assert_eq!(row.relay, "open", "meter {}", i.meter);
    }

    // Close the floor again: the arrears tenant's meter stays off and says so.
    key(&mut app, &mut api, KeyCode::Char('5'));
    key(&mut app, &mut api, KeyCode::Down);
    key(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(
        app.confirm.as_ref().expect("confirm").lines[0],
        "close (restore power) on 10 meter(s)"
    );
    key(&mut app, &mut api, KeyCode::Char('y'));
    let p = run_to_end(&mut app, &mut api);
    assert_eq!(p.failed, 0, "{:?}", p.items);
    let skipped: Vec<_> = p.items.iter().filter(|i| i.state == "skipped").collect();
    assert_eq!(skipped.len(), 1, "{:?}", p.items);
    assert!(
        skipped[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("arrears")
    );
}

#[test]
fn import_add_meter_and_staff_on_the_demo() {
    let demo = Demo::start();
    let mut api = Client::new(Endpoint::Socket(demo.socket.clone()));
    let mut app = App::new();
    log_in(&mut app, &mut api);
    let files = tempfile::tempdir().expect("tmp");

    // A bad file: every problem listed with its line and column; nothing imported.
    let bad = files.path().join("meters-bad.csv");
    std::fs::write(
        &bad,
        "id,address,protocol,profile,gateway,bus,unit\n\
         A101-2,77,modbus,generic-modbus,GW1,1,A-101\n\
         A101-3,300,modbus,generic-modbus,GW1,1,A-101\n\
         A101-4,78,modbus,generic-modbus,GW9,1,A-101\n",
    )
    .expect("write");
    let meters_before = app.meters.rows.len();
    key(&mut app, &mut api, KeyCode::Char('6'));
    assert!(app.site.settings.is_some(), "{:?}", app.message);
    assert_eq!(app.site.buildings.len(), 2);
    key(&mut app, &mut api, KeyCode::Char('i'));
    keys(&mut app, &mut api, &bad.display().to_string());
    for _ in 0..3 {
        key(&mut app, &mut api, KeyCode::Tab);
    }
    key(&mut app, &mut api, KeyCode::Enter);
    assert!(app.confirm.is_none());
    assert_eq!(app.site.problems.len(), 2, "{:?}", app.site.problems);
    assert!(app.site.problems[0].contains("meters-bad.csv:3: column 'address'"));
    assert!(app.site.problems[1].contains("meters-bad.csv:4: column 'gateway'"));
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .1
            .contains("nothing was imported")
    );

    // The path stays in the field (fix the file, Enter again); Esc leaves it.
    assert!(app.site.importing.is_some());
    key(&mut app, &mut api, KeyCode::Esc);
    // The fixed file: checked first, then the confirmation, then imported.
    let good = files.path().join("meters.csv");
    std::fs::write(
        &good,
        "id,address,protocol,profile,gateway,bus,unit\nA101-2,77,modbus,generic-modbus,GW1,1,A-101\n",
    )
    .expect("write");
    key(&mut app, &mut api, KeyCode::Char('i'));
    keys(&mut app, &mut api, &good.display().to_string());
    key(&mut app, &mut api, KeyCode::Enter);
    let c = app.confirm.clone().expect("confirm after the check");
    assert_eq!(c.lines[1], "meters: 1 added, 0 updated, 0 unchanged");
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.site
            .last_import
            .as_deref()
            .is_some_and(|l| l.starts_with("IMPORTED meters")),
        "{:?}",
        app.message
    );
    assert_eq!(app.meters.rows.len(), meters_before + 1);

    // The new meter joins A-101's account from the sales screen.
    key(&mut app, &mut api, KeyCode::Char('3'));
    keys(&mut app, &mut api, "A-101");
    key(&mut app, &mut api, KeyCode::Enter);
    keys(&mut app, &mut api, "mA101-2");
    key(&mut app, &mut api, KeyCode::Enter);
    assert!(app.confirm.is_some(), "{:?}", app.message);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.sales
            .last_result
            .as_deref()
            .is_some_and(|l| l.starts_with("ADDED meter A101-2")),
        "{:?}",
        app.message
    );
    let t = app.sales.tenant.as_ref().expect("tenant");
    assert!(t.meters.iter().any(|m| m.meter == "A101-2"));

    // Staff: add a viewer (password shown once), then disable them.
    key(&mut app, &mut api, KeyCode::Esc);
    key(&mut app, &mut api, KeyCode::Esc);
    key(&mut app, &mut api, KeyCode::Char('7'));
    assert_eq!(app.screen, Screen::Staff, "{:?}", app.message);
    assert!(!app.staff.audit.is_empty());
    key(&mut app, &mut api, KeyCode::Char('a'));
    keys(&mut app, &mut api, "night.desk");
    key(&mut app, &mut api, KeyCode::Tab);
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.staff
            .new_password
            .as_deref()
            .is_some_and(|p| p.contains("night.desk (viewer)")),
        "{:?}",
        app.message
    );
    let i = app
        .staff
        .operators
        .iter()
        .position(|o| o.name == "night.desk")
        .expect("listed");
    app.staff.selected = i;
    key(&mut app, &mut api, KeyCode::Char('d'));
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(app.staff.operators[i].disabled, "{:?}", app.message);
    // The audit log (newest first) has the disable on top.
    assert_eq!(app.staff.audit[0].action, "operator.disable");
}

#[test]
fn a_tariff_from_a_file_on_the_demo() {
    let demo = Demo::start();
    let mut api = Client::new(Endpoint::Socket(demo.socket.clone()));
    let mut app = App::new();
    log_in(&mut app, &mut api);
    let files = tempfile::tempdir().expect("tmp");
    key(&mut app, &mut api, KeyCode::Char('6'));
    assert_eq!(
        app.site.tariffs,
        vec![("default".to_string(), "flat 1.2000 ¥/kWh".to_string())]
    );
    let open_tariff_import = |app: &mut App, api: &mut dyn Transport, path: &std::path::Path| {
        key(app, api, KeyCode::Char('i'));
        keys(app, api, &path.display().to_string());
        while voltvend_tui::screens::site::KINDS[app.site.kind] != "tariff" {
            key(app, api, KeyCode::Tab);
        }
        key(app, api, KeyCode::Enter);
    };

    // A price written as a TOML number cannot be exact: refused, nothing changed.
    let bad = files.path().join("default-bad.toml");
    std::fs::write(&bad, "name = \"default\"\nkind = \"flat\"\nprice = 0.95\n").expect("write");
    open_tariff_import(&mut app, &mut api, &bad);
    assert!(app.confirm.is_none());
    assert!(
        app.site.problems[0].starts_with(&format!("{}: tariff 'default':", bad.display())),
        "{:?}",
        app.site.problems
    );
    assert!(
        app.message
            .as_ref()
            .is_some_and(|m| m.1.contains("the tariff was not changed"))
    );
    key(&mut app, &mut api, KeyCode::Esc);
    key(&mut app, &mut api, KeyCode::Char('R'));
    assert_eq!(app.site.tariffs[0].1, "flat 1.2000 ¥/kWh");

    // Tiered prices: the confirmation shows the prices before and after; y stores them.
    let good = files.path().join("default.toml");
    std::fs::write(
        &good,
        "name = \"default\"\nkind = \"tiered\"\ntiers = [\n  { up_to_kwh = 200, price = \"0.95\" },\n  { price = \"1.3\" },\n]\n",
    )
    .expect("write");
    open_tariff_import(&mut app, &mut api, &good);
    let c = app.confirm.clone().expect("confirm after the check");
    assert_eq!(c.title, "Set tariff default");
    assert_eq!(c.lines[1], "before: flat 1.2000 ¥/kWh");
    assert_eq!(c.lines[2], "after:  tiered ≤200 kWh 0.9500, above 1.3000");
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert_eq!(
        app.site.last_import.as_deref(),
        Some("TARIFF default updated: tiered ≤200 kWh 0.9500, above 1.3000"),
        "{:?}",
        app.message
    );
    assert_eq!(
        app.site.tariffs[0].1,
        "tiered ≤200 kWh 0.9500, above 1.3000"
    );
    // Audited under the operator's name.
    let audit = api
        .request(
            "GET",
            "/api/v1/audit?newest=true&limit=20",
            app.session.token.as_deref(),
            None,
        )
        .expect("audit");
    assert!(audit.to_string().contains("site.tariff.set"), "{audit}");
}
