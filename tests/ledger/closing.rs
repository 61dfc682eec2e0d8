//! The ledger's side of closing, reopening, meter-mode refunds and reversals (issue 13):
//! the meter commands a closing queues, a tenant opened again from an exact zero with the old
//! account kept, a refund held in `refunds_pending` until the control queue settles it once,
//! and a reversal that loses to a push already marked sent. (End to end with the meters:
//! tests/field/closing.rs.)

use voltvend::auth::roles::{Actor, Role};
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::ledger::{
    AccountStatus, CloseAccount, Ledger, LedgerError, MeterAccountInit, OpDetail, OpenAccount,
    Refund, Request, Reverse, Sale, SettleRefund, refund_settle_key,
};
use voltvend::site::{BillingMode, MeterId, TenantId};
use voltvend::units::Fen;

use crate::support::store::temp_ledger;

fn cashier() -> Actor {
    Actor::operator("amy", Role::Cashier)
}

fn open(ledger: &Ledger, key: &str, tenant: &str, meters: &[(&str, BillingMode)]) {
    ledger
        .open_account(
            &cashier(),
            key,
            OpenAccount {
                tenant: TenantId::new(tenant),
                meters: meters
                    .iter()
                    .map(|(m, b)| MeterAccountInit {
                        meter: MeterId::new(*m),
                        billing: *b,
                    })
                    .collect(),
                transfer_in: None,
            },
        )
        .expect("open");
}

fn sale(ledger: &Ledger, key: &str, tenant: &str, fen: i64) -> voltvend::ledger::OpReceipt {
    ledger
        .sale(
            &cashier(),
            key,
            Sale {
                tenant: TenantId::new(tenant),
                amount: Fen(fen),
                method: "cash".into(),
                receipt_no: None,
                meter: None,
            },
        )
        .expect("sale")
}

fn close(
    ledger: &Ledger,
    key: &str,
    tenant: &str,
) -> Result<voltvend::ledger::OpReceipt, LedgerError> {
    ledger.close_account(
        &Actor::operator("boss", Role::Admin),
        key,
        CloseAccount {
            tenant: TenantId::new(tenant),
            final_charge: Fen::ZERO,
        },
    )
}

fn commands_of(ledger: &Ledger, ids: &[u64]) -> Vec<(String, MeterCommand)> {
    let pending = outbox::pending(ledger.store()).expect("outbox");
    ids.iter()
        .filter_map(|id| pending.iter().find(|e| e.id == *id))
        .map(|e| (e.meter.to_string(), e.command.clone()))
        .collect()
}

#[test]
fn closing_trips_host_meters_clears_meter_mode_credit_and_the_tenant_opens_again() {
    let (_d, _s, ledger) = temp_ledger();
    open(
        &ledger,
        "open-1",
        "T1",
        &[("H1", BillingMode::Host), ("P1", BillingMode::Meter)],
    );
    sale(&ledger, "s-1", "T1", 5_000);
    let closed = close(&ledger, "close-1", "T1").expect("close");
    assert_eq!(
        commands_of(&ledger, &closed.outbox),
        vec![
            ("H1".to_string(), MeterCommand::Trip),
            (
                "P1".to_string(),
                MeterCommand::ClearCredit { purchase_count: 2 }
            ),
        ]
    );
    // Open again on the same meters: from an exact zero; the tripped host meter closes as
    // soon as the account is in credit, the meter-mode meter continues its count.
    open(
        &ledger,
        "open-2",
        "T1",
        &[("H1", BillingMode::Host), ("P1", BillingMode::Meter)],
    );
    let acc = ledger
        .account(&TenantId::new("T1"))
        .expect("read")
        .expect("open");
    assert_eq!((acc.status, acc.balance), (AccountStatus::Open, Fen::ZERO));
    let s = sale(&ledger, "s-2", "T1", 700);
    assert_eq!(
        commands_of(&ledger, &s.outbox),
        vec![
            (
                "P1".to_string(),
                MeterCommand::PushCredit {
                    amount: Fen(700),
                    purchase_count: 3
                }
            ),
            ("H1".to_string(), MeterCommand::Close),
        ]
    );
    let history = ledger.accounts_of(&TenantId::new("T1")).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].status, AccountStatus::Closed);
    assert_eq!(history[0].closed_op, Some(closed.op));
    assert_eq!(history[1].opened_op, closed.op + 1);
    // The old account's close record is untouched.
    let rec = ledger.operation(closed.op).expect("read").expect("kept");
    assert!(
        matches!(rec.detail, OpDetail::CloseAccount { refunded, .. } if refunded == Fen(5_000))
    );
    // A retry of the first opening is answered from its key, not opened a third time.
    open(
        &ledger,
        "open-1",
        "T1",
        &[("H1", BillingMode::Host), ("P1", BillingMode::Meter)],
    );
    assert_eq!(
        ledger.accounts_of(&TenantId::new("T1")).expect("h").len(),
        2
    );
    assert!(ledger.verify().expect("verify").problems.is_empty());
}

#[test]
fn a_meter_mode_refund_waits_in_refunds_pending_until_settled_once() {
    let (_d, _s, ledger) = temp_ledger();
    open(&ledger, "open", "T1", &[("P1", BillingMode::Meter)]);
    let s = sale(&ledger, "s", "T1", 5_000);
    let r = ledger
        .refund(
            &cashier(),
            "r",
            Refund {
                tenant: TenantId::new("T1"),
                amount: Fen(2_000),
                reason: "moving".into(),
                meter: None,
            },
        )
        .expect("refund");
    assert_eq!(
        commands_of(&ledger, &r.outbox),
        vec![(
            "P1".to_string(),
            MeterCommand::WithdrawCredit {
                amount: Fen(2_000),
                purchase_count: 2
            }
        )]
    );
    let bal = |a: &str| {
        ledger
            .balances()
            .expect("b")
            .get(a)
            .copied()
            .unwrap_or_default()
    };
    assert_eq!(
        (
            bal("tenant:T1"),
            bal("refunds_pending"),
            bal("refunds_paid")
        ),
        (Fen(3_000), Fen(2_000), Fen::ZERO)
    );
    // `verify` accounts for the money held: refunds_pending equals the unsettled refunds.
    assert!(ledger.verify().expect("verify").problems.is_empty());
    // Not reversible, the account cannot close, only the system settles it.
    let rev = ledger.reverse(
        &cashier(),
        "rev",
        Reverse {
            op: r.op,
            reason: "x".into(),
        },
    );
    assert!(
        matches!(rev, Err(LedgerError::WithdrawalNotReversible { .. })),
        "{rev:?}"
    );
    let refused = close(&ledger, "close-early", "T1");
    assert!(matches!(refused, Err(LedgerError::RefundPending { op, .. }) if op == r.op));
    let settle = |paid| {
        Request::SettleRefund(SettleRefund {
            op: r.op,
            paid,
            reason: "meter confirmed".into(),
        })
    };
    let by_cashier = ledger.submit(&cashier(), &refund_settle_key(r.op), settle(true));
    assert!(matches!(by_cashier, Err(LedgerError::Forbidden { .. })));
    let control = Actor::system("control");
    let first = ledger
        .submit(&control, &refund_settle_key(r.op), settle(true))
        .expect("settle");
    assert_eq!(
        (bal("refunds_pending"), bal("refunds_paid")),
        (Fen::ZERO, Fen(2_000))
    );
    // Once: a retry is the same answer; the other outcome under the key is refused; a sale
    // is not a pending refund.
    assert_eq!(
        ledger
            .submit(&control, &refund_settle_key(r.op), settle(true))
            .expect("retry"),
        first
    );
    assert!(matches!(
        ledger.submit(&control, &refund_settle_key(r.op), settle(false)),
        Err(LedgerError::KeyReused { .. })
    ));
    let not = ledger.submit(
        &control,
        "settle-sale",
        Request::SettleRefund(SettleRefund {
            op: s.op,
            paid: true,
            reason: String::new(),
        }),
    );
    assert!(
        matches!(not, Err(LedgerError::NotPendingRefund(_))),
        "{not:?}"
    );
    // A cancelled one puts the money back on the account.
    let r2 = ledger
        .refund(
            &cashier(),
            "r2",
            Refund {
                tenant: TenantId::new("T1"),
                amount: Fen(500),
                reason: "again".into(),
                meter: None,
            },
        )
        .expect("refund");
    ledger
        .submit(
            &control,
            &refund_settle_key(r2.op),
            Request::SettleRefund(SettleRefund {
                op: r2.op,
                paid: false,
                reason: "refused".into(),
            }),
        )
        .expect("cancel");
    assert_eq!(
        (
            bal("tenant:T1"),
            bal("refunds_pending"),
            bal("refunds_paid")
        ),
        (Fen(3_000), Fen::ZERO, Fen(2_000))
    );
    close(&ledger, "close", "T1").expect("close once nothing is pending");
    assert!(ledger.verify().expect("verify").problems.is_empty());
}

#[test]
fn a_push_marked_sent_cannot_be_reversed_and_a_reversed_push_cannot_be_marked() {
    let (_d, store, ledger) = temp_ledger();
    open(&ledger, "open", "T1", &[("P1", BillingMode::Meter)]);
    // The control queue marks the push sent (its commitment to write the token) first.
    let first = sale(&ledger, "s-1", "T1", 1_000);
    let id = first.outbox[0];
    let marked = store
        .write(move |txn| outbox::mark_sent_in(txn, id))
        .expect("mark");
    assert!(marked.is_some());
    let rev = ledger.reverse(
        &cashier(),
        "rev-1",
        Reverse {
            op: first.op,
            reason: "x".into(),
        },
    );
    assert!(
        matches!(rev, Err(LedgerError::CreditAlreadySent { .. })),
        "{rev:?}"
    );
    // Still queued (not confirmed) but sent: the count stays, the next sale takes count 2.
    let m = |l: &Ledger| {
        l.meter_account(&MeterId::new("P1"))
            .expect("m")
            .expect("acc")
    };
    assert_eq!(m(&ledger).purchase_count, 1);
    outbox::take(&store, id).expect("confirmed");
    // The reversal first: the push is withdrawn and can no longer be marked sent.
    let second = sale(&ledger, "s-2", "T1", 1_000);
    let id2 = second.outbox[0];
    ledger
        .reverse(
            &cashier(),
            "rev-2",
            Reverse {
                op: second.op,
                reason: "x".into(),
            },
        )
        .expect("reverse a push never sent");
    let marked = store
        .write(move |txn| outbox::mark_sent_in(txn, id2))
        .expect("mark");
    assert!(marked.is_none(), "a withdrawn push was marked sent");
    // The withdrawn count 2 never left the appliance, so the next sale may take it.
    let third = sale(&ledger, "s-3", "T1", 1_000);
    assert_eq!(
        commands_of(&ledger, &third.outbox),
        vec![(
            "P1".to_string(),
            MeterCommand::PushCredit {
                amount: Fen(1_000),
                purchase_count: 2
            }
        )]
    );
}
