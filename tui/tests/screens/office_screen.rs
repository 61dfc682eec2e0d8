//! The office screen against a transport that answers the office's lists as the daemon does
//! (bodies of the contract's types): refunds waiting for their meter with the zh/en
//! message, close settlements with the balance to settle, and a tenant's account history
//! with its closed account — request paths checked, times in site time.

use crossterm::event::KeyCode;
use serde::Serialize;
use serde_json::Value;
use voltvend_tui::api::{ApiErr, Transport};
use voltvend_tui::app::{App, Screen};
use voltvend_tui::keys::Context;
use voltvend_tui::screens::office::Pane;
use voltvend_tui::types::{
    AccountHistory, AccountPeriod, Actor, CloseSettlementView, OpDetail, Operation,
    PendingRefundView,
};

use crate::support::{fixture, key as press, keys as type_keys, render, snapshot, text};

fn wire(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("a body serialises")
}

fn op(id: u64, at: &str, detail: OpDetail, balance_after: i64) -> Operation {
    Operation {
        id,
        key: format!("k{id}"),
        at: at.into(),
        actor: Actor::Operator {
            name: "cashier1".into(),
            role: "cashier".into(),
        },
        tenant: Some("T0003".into()),
        detail,
        postings: Vec::new(),
        balance_after: Some(balance_after),
        outbox: Vec::new(),
        audit_seq: id,
    }
}

fn history() -> AccountHistory {
    let sale = |amount| OpDetail::Sale {
        amount,
        method: "cash".into(),
        receipt_no: None,
        credit: None,
    };
    let open = || OpDetail::OpenAccount {
        meters: Vec::new(),
        transfer_in: None,
    };
    AccountHistory {
        tenant: "T0003".into(),
        accounts: vec![
            AccountPeriod {
                status: "closed".into(),
                meters: vec!["310000000005".into()],
                opened_op: 12,
                closed_op: Some(40),
                opened_at: Some("2026-11-01T02:00:00Z".into()),
                closed_at: Some("2026-11-20T08:15:00Z".into()),
                operations: vec![
                    op(12, "2026-11-01T02:00:00Z", open(), 0),
                    op(20, "2026-11-02T03:00:00Z", sale(10_000), 10_000),
                    op(
                        40,
                        "2026-11-20T08:15:00Z",
                        OpDetail::CloseAccount {
                            final_charge: 0,
                            refunded: 10_000,
                            arrears: 0,
                            meters: vec!["310000000005".into()],
                        },
                        0,
                    ),
                ],
                truncated: false,
            },
            AccountPeriod {
                status: "open".into(),
                meters: vec!["310000000005".into()],
                opened_op: 55,
                closed_op: None,
                opened_at: Some("2026-11-24T01:00:00Z".into()),
                closed_at: None,
                operations: vec![
                    op(55, "2026-11-24T01:00:00Z", open(), 0),
                    op(56, "2026-11-24T01:01:00Z", sale(2_000), 2_000),
                ],
                truncated: false,
            },
        ],
    }
}

#[derive(Default)]
struct OfficeDaemon {
    calls: Vec<String>,
}

impl Transport for OfficeDaemon {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _t: Option<&str>,
        _b: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        self.calls.push(format!("{method} {path}"));
        Ok(match (method, path) {
            ("GET", "/api/v1/refunds/pending") => wire(vec![PendingRefundView {
                op: 81,
                tenant: "T0001".into(),
                meter: "310000000001".into(),
                amount_fen: 1_000,
                reason: "moving".into(),
                at: "2026-11-25T01:30:00Z".into(),
                state: "sent".into(),
                outbox: Some(90),
                attempts: 2,
                last_error: Some("no reply; 退费等待电表应答 / the refund waits until the meter answers".into()),
                message: "退费待完成：正在从电表 310000000001 扣回 10.00，电表确认后再付款 / refund pending: withdrawing 10.00 from meter 310000000001; pay it out once the meter confirms".into(),
            }]),
            ("GET", "/api/v1/close-settlements") => wire(vec![
                CloseSettlementView {
                    meter: "310000000003".into(),
                    tenant: Some("T0002".into()),
                    unit: Some("B-102".into()),
                    outbox: 70,
                    cleared: false,
                    balance_before_fen: Some(12_345),
                    why: Some("no site credit key".into()),
                    at: "2026-11-24T06:00:00Z".into(),
                },
                CloseSettlementView {
                    meter: "310000000005".into(),
                    tenant: Some("T0003".into()),
                    unit: Some("A-103".into()),
                    outbox: 41,
                    cleared: true,
                    balance_before_fen: Some(0),
                    why: None,
                    at: "2026-11-20T08:16:00Z".into(),
                },
            ]),
            ("GET", "/api/v1/accounts/T0003/history?limit=200") => wire(history()),
            ("GET", p) if p.starts_with("/api/v1/accounts/") => {
                return Err(ApiErr {
                    status: 404,
                    code: "not_found".into(),
                    message: "tenant T9999 has never had an account".into(),
                    details: Vec::new(),
                });
            }
            _ => {
                return Err(ApiErr {
                    status: 404,
                    code: "not_found".into(),
                    message: format!("no {path}"),
                    details: Vec::new(),
                });
            }
        })
    }
}

fn on_screen() -> (App, OfficeDaemon) {
    let mut app = fixture(40);
    app.data.timezone = "Asia/Shanghai".into();
    let mut api = OfficeDaemon::default();
    press(&mut app, &mut api, KeyCode::Char('9'));
    assert_eq!(app.screen, Screen::Office);
    assert_eq!(
        api.calls,
        [
            "GET /api/v1/refunds/pending",
            "GET /api/v1/close-settlements"
        ]
    );
    api.calls.clear();
    (app, api)
}

#[test]
fn office_lists_pending_refunds_and_settlements_then_a_tenants_history() {
    let (mut app, mut api) = on_screen();
    let s = text(&render(&app, 80, 24));
    assert!(s.contains("Refunds waiting for their meter (1)"), "{s}");
    // Booked 01:30 UTC = 09:30 in Shanghai; the withdrawal's state and attempts.
    assert!(
        s.contains("11-25 09:30") && s.contains("T0001") && s.contains("10.00"),
        "{s}"
    );
    assert!(s.contains("sent (2×)"), "{s}");
    // The zh/en message (the buffer's text puts a blank after each wide character).
    assert!(
        s.contains("退 费 待 完 成") && s.contains("refund") && s.contains("pending"),
        "the zh/en message: {s}"
    );
    assert!(s.contains("Close settlements (1 to settle)"), "{s}");
    assert!(
        s.contains("TO SETTLE") && s.contains("123.45") && s.contains("no site credit key"),
        "{s}"
    );
    assert!(s.contains("cleared"), "{s}");

    // Tab cycles the panes; / asks for a tenant id and shows its accounts.
    press(&mut app, &mut api, KeyCode::Tab);
    assert_eq!(app.office.pane, Pane::Settlements);
    press(&mut app, &mut api, KeyCode::Char('/'));
    assert_eq!(app.context(), Context::Typing);
    type_keys(&mut app, &mut api, "T0003");
    press(&mut app, &mut api, KeyCode::Enter);
    assert_eq!(api.calls, ["GET /api/v1/accounts/T0003/history?limit=200"]);
    assert_eq!(app.office.pane, Pane::History);
    assert_eq!(app.context(), Context::Office);
    for (w, h) in [(80, 24), (160, 48)] {
        let s = snapshot("office", &app, w, h);
        assert!(s.contains("Account history of T0003 (2 accounts)"), "{s}");
        assert!(
            s.contains("account 1 closed") && s.contains("account 2 open"),
            "{s}"
        );
        // The closed account keeps its own operations, in site time.
        assert!(s.contains("#40") && s.contains("close_account"), "{s}");
        assert!(s.contains("11-20 16:15 (op 40)"), "{s}");
        assert!(s.contains("#56") && s.contains("→ 20.00"), "{s}");
    }
    // Scrolling the history moves it by a line.
    press(&mut app, &mut api, KeyCode::Down);
    assert_eq!(app.office.history_scroll, 1);

    // An id that never had an account: the daemon's refusal is shown.
    press(&mut app, &mut api, KeyCode::Char('/'));
    type_keys(&mut app, &mut api, "T9999");
    press(&mut app, &mut api, KeyCode::Enter);
    let s = text(&render(&app, 80, 24));
    assert!(
        s.contains("history of T9999: tenant T9999 has never had an account"),
        "{s}"
    );
}

#[test]
fn refresh_on_the_office_reloads_its_lists_and_the_history_shown() {
    let (mut app, mut api) = on_screen();
    press(&mut app, &mut api, KeyCode::Char('/'));
    type_keys(&mut app, &mut api, "T0003");
    press(&mut app, &mut api, KeyCode::Enter);
    api.calls.clear();
    press(&mut app, &mut api, KeyCode::Char('R'));
    for want in [
        "GET /api/v1/refunds/pending",
        "GET /api/v1/close-settlements",
        "GET /api/v1/accounts/T0003/history?limit=200",
    ] {
        assert!(
            api.calls.iter().any(|c| c == want),
            "{want}: {:?}",
            api.calls
        );
    }
}
