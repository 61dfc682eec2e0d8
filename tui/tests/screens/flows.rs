//! Key flows that need no daemon: navigation, filter, sort, help, cancelling a dialog.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use voltvend_tui::api::Offline;
use voltvend_tui::app::{App, Screen};
use voltvend_tui::keys::{self, Context};
use voltvend_tui::screens::meters::SortKey;

use crate::support::{fixture, press};

#[test]
fn number_keys_switch_screens_and_q_quits() {
    let mut app = fixture(10);
    press(&mut app, KeyCode::Char('2'));
    assert_eq!(app.screen, Screen::Meters);
    press(&mut app, KeyCode::Char('3'));
    assert_eq!(app.screen, Screen::Sales);
    // The sales screen starts in the unit field: digits are typed, not navigation.
    press(&mut app, KeyCode::Char('1'));
    assert_eq!(
        (app.screen, app.sales.lookup.as_str()),
        (Screen::Sales, "1")
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('1'));
    assert_eq!(app.screen, Screen::Dashboard);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn ctrl_c_quits_even_while_typing() {
    let mut app = App::new();
    app.on_key(
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        &mut Offline,
    );
    assert!(app.quit);
}

#[test]
fn filter_is_instant_and_esc_clears_it() {
    let mut app = fixture(200);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('/'));
    for c in "b-1".chars() {
        press(&mut app, KeyCode::Char(c));
        // Each key press narrows immediately.
        assert!(app.meters.view.iter().all(|i| {
            let r = &app.meters.rows[*i];
            let f = app.meters.filter.to_lowercase();
            r.meter.contains(&f)
                || r.unit.as_deref().unwrap_or("").to_lowercase().contains(&f)
                || r.tenant_name.to_lowercase().contains(&f)
                || r.tenant
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&f)
        }));
    }
    let n = app.meters.view.len();
    assert!(n > 0 && n < 200);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.context(), Context::Meters);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.meters.selected, 1);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.meters.view.len(), 200);
}

#[test]
fn sort_cycles_and_reverses() {
    let mut app = fixture(60);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.meters.sort, SortKey::Meter);
    let first = app.selected_meter().unwrap().meter.clone();
    press(&mut app, KeyCode::Char('S'));
    let last = app.selected_meter().unwrap().meter.clone();
    assert!(first < last);
    press(&mut app, KeyCode::Char('s'));
    press(&mut app, KeyCode::Char('S'));
    assert_eq!(app.meters.sort, SortKey::Status);
    let statuses: Vec<_> = app
        .meters
        .view
        .iter()
        .map(|i| app.meters.rows[*i].status())
        .collect();
    assert!(statuses.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn help_opens_on_question_mark_and_any_key_closes_without_acting() {
    let mut app = fixture(10);
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    press(&mut app, KeyCode::Char('q'));
    assert!(!app.help && !app.quit);
}

#[test]
fn every_key_in_the_table_maps_back_to_its_row() {
    for ctx in [
        Context::Typing,
        Context::Global,
        Context::Meters,
        Context::MeterDetail,
        Context::Sales,
        Context::Confirm,
    ] {
        for b in keys::table(ctx) {
            for k in b.keys {
                assert_eq!(
                    keys::lookup(ctx, *k),
                    Some(b.action),
                    "{ctx:?} {k:?} is claimed twice"
                );
            }
        }
    }
}

#[test]
fn cancelled_command_sends_nothing() {
    let mut app = fixture(10);
    press(&mut app, KeyCode::Char('2'));
    app.meters.detail = Some(Default::default());
    press(&mut app, KeyCode::Char('t'));
    assert!(app.confirm.is_some());
    press(&mut app, KeyCode::Char('n'));
    assert!(app.confirm.is_none());
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .1
            .contains("nothing was changed")
    );
}

#[test]
fn sale_refuses_bad_amounts_before_any_request() {
    let mut app = fixture(10);
    app.screen = Screen::Sales;
    app.sales.field = voltvend_tui::screens::sales::SalesField::None;
    press(&mut app, KeyCode::Char('s'));
    // No tenant yet.
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .1
            .contains("find a tenant first")
    );
}
