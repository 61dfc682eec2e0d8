//! Key flows against the real daemon (`voltvend demo`, real binary, real Unix socket):
//! forced password change at first login, finding a unit, sale → refund → reversal, and a
//! meter command — driven by key presses exactly as a cashier types them.

use crossterm::event::KeyCode;
use voltvend_tui::api::{Client, Endpoint};
use voltvend_tui::app::{App, Screen};

use crate::support::{Demo, key, keys};

#[test]
fn first_login_sale_refund_reversal_and_command_against_the_demo() {
    let demo = Demo::start();
    let mut api = Client::new(Endpoint::Socket(demo.socket.clone()));
    let mut app = App::new();

    // Wrong password first: refused, still on the login screen.
    keys(&mut app, &mut api, "admin");
    key(&mut app, &mut api, KeyCode::Enter);
    keys(&mut app, &mut api, "wrong");
    key(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Login);
    assert!(app.message.as_ref().unwrap().1.contains("login refused"));

    // The demo's password works but must be changed first.
    keys(&mut app, &mut api, "voltvend");
    key(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(app.screen, Screen::ChangePassword, "{:?}", app.message);
    keys(&mut app, &mut api, "Counter-2026!");
    key(&mut app, &mut api, KeyCode::Enter);
    keys(&mut app, &mut api, "Counter-2026!");
    key(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(app.screen, Screen::Dashboard, "{:?}", app.message);
    assert!(app.meters.rows.len() > 50, "the demo seeds ~100 meters");
    assert!(app.data.status.as_ref().unwrap().site_name.contains("demo"));

    // Sale of 50.00 to unit A-103 with confirmation; the new balance comes from the daemon.
    // A-103 is host-billed: its sale sends no credit token, so the reversal below is the
    // ledger's alone (a meter-mode sale whose token was sent cannot be reversed).
    key(&mut app, &mut api, KeyCode::Char('3'));
    keys(&mut app, &mut api, "a-103");
    key(&mut app, &mut api, KeyCode::Enter);
    let before = app.sales.tenant.as_ref().expect("tenant found").balance_fen;
    keys(&mut app, &mut api, "s50.00");
    key(&mut app, &mut api, KeyCode::Enter);
    assert!(app.confirm.is_some());
    key(&mut app, &mut api, KeyCode::Char('y'));
    let after = app.sales.tenant.as_ref().unwrap().balance_fen;
    assert_eq!(after, before + 5_000, "{:?}", app.message);
    let shown = app.sales.last_result.clone().unwrap();
    assert!(
        shown.contains(&format!(
            "new balance {}",
            voltvend_tui::widgets::money(after)
        )),
        "{shown}"
    );
    assert_eq!(app.sales.ops[0].kind, "sale");

    // Refund 10.00 with a reason.
    keys(&mut app, &mut api, "f10");
    key(&mut app, &mut api, KeyCode::Enter);
    keys(&mut app, &mut api, "moving out early");
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(
        app.sales.tenant.as_ref().unwrap().balance_fen,
        after - 1_000,
        "{:?}",
        app.message
    );

    // Reverse the sale (second in the list now): the balance drops by 50.00.
    let sale_row = app.sales.ops.iter().position(|o| o.kind == "sale").unwrap();
    for _ in 0..sale_row {
        key(&mut app, &mut api, KeyCode::Down);
    }
    keys(&mut app, &mut api, "vwrong amount");
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert_eq!(
        app.sales.tenant.as_ref().unwrap().balance_fen,
        before - 1_000,
        "{:?}",
        app.message
    );
    assert!(
        app.sales
            .last_result
            .as_ref()
            .unwrap()
            .starts_with("REVERSED")
    );

    // A second reversal of the same sale is refused by the ledger, and the message says so.
    let sale_row = app.sales.ops.iter().position(|o| o.kind == "sale").unwrap();
    app.sales.selected_op = sale_row;
    keys(&mut app, &mut api, "vagain");
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.message.as_ref().unwrap().1.contains("refused"),
        "{:?}",
        app.message
    );
    assert_eq!(
        app.sales.tenant.as_ref().unwrap().balance_fen,
        before - 1_000
    );

    // Meter command from the detail view (admin may command meters).
    key(&mut app, &mut api, KeyCode::Char('2'));
    key(&mut app, &mut api, KeyCode::Char('/'));
    keys(&mut app, &mut api, "A-101");
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Enter);
    assert!(app.meters.detail.is_some());
    keys(&mut app, &mut api, "py");
    assert_eq!(
        app.meters.detail.as_ref().unwrap().history.len(),
        1,
        "{:?}",
        app.message
    );
    assert!(
        app.message
            .as_ref()
            .unwrap()
            .1
            .contains("push_prices queued")
    );

    // Close another tenant's account: the settlement is shown before anything happens.
    key(&mut app, &mut api, KeyCode::Char('3'));
    key(&mut app, &mut api, KeyCode::Esc);
    keys(&mut app, &mut api, "A-102");
    key(&mut app, &mut api, KeyCode::Enter);
    let t = app.sales.tenant.clone().expect("A-102");
    assert_eq!(app.has_account(), Some(true));
    keys(&mut app, &mut api, "C12");
    key(&mut app, &mut api, KeyCode::Enter);
    let c = app.confirm.clone().expect("settlement dialog");
    let pay_back = format!(
        "pay back to the tenant: {}",
        voltvend_tui::widgets::money(t.balance_fen - 1_200)
    );
    assert!(c.lines.iter().any(|l| l == &pay_back), "{:?}", c.lines);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.sales
            .last_result
            .as_ref()
            .unwrap()
            .starts_with("CLOSED"),
        "{:?}",
        app.message
    );
    assert_eq!(app.sales.tenant.as_ref().unwrap().balance_fen, 0);
    // A closed account takes no more sales: the daemon's refusal is shown, nothing changes.
    keys(&mut app, &mut api, "s10");
    key(&mut app, &mut api, KeyCode::Enter);
    key(&mut app, &mut api, KeyCode::Char('y'));
    assert!(
        app.message.as_ref().unwrap().1.starts_with("sale refused"),
        "{:?}",
        app.message
    );
    assert_eq!(app.sales.tenant.as_ref().unwrap().balance_fen, 0);
}
