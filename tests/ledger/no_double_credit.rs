//! A retried sale or payment notification is answered with the first result and never
//! credits twice: sequential retries, concurrent retries landing in one group commit,
//! retries after a restart, and retries from async code.

use voltvend::auth::{Actor, Role};
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::ledger::*;
use voltvend::site::BillingMode;
use voltvend::store::Store;
use voltvend::units::Fen;

fn cashier() -> Actor {
    Actor::operator("amy", Role::Cashier)
}

fn open(dir: &tempfile::TempDir) -> Ledger {
    let store = Store::open(&dir.path().join("ledger.redb")).unwrap();
    Ledger::open(store).unwrap()
}

fn setup(l: &Ledger, billing: BillingMode) {
    l.open_account(
        &cashier(),
        "open-T1",
        OpenAccount {
            tenant: "T1".into(),
            meters: vec![MeterAccountInit {
                meter: "M1".into(),
                billing,
            }],
            transfer_in: None,
        },
    )
    .unwrap();
}

fn payment(fen: i64) -> Sale {
    Sale {
        tenant: "T1".into(),
        amount: Fen(fen),
        method: "wechat".into(),
        receipt_no: Some("WX4200001234".into()),
        meter: None,
    }
}

fn balance(l: &Ledger) -> Fen {
    l.account(&"T1".into()).unwrap().unwrap().balance
}

#[test]
fn retried_sale_is_answered_with_the_first_receipt_and_credited_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir);
    setup(&l, BillingMode::Host);
    let first = l.sale(&cashier(), "wx-notify-1", payment(5000)).unwrap();
    for _ in 0..5 {
        assert_eq!(
            l.sale(&cashier(), "wx-notify-1", payment(5000)).unwrap(),
            first
        );
    }
    assert_eq!(balance(&l), Fen(5000));
    let sales = l
        .operations(&OpFilter {
            kind: Some(OpKind::Sale),
            ..OpFilter::default()
        })
        .unwrap();
    assert_eq!(sales.len(), 1);
    assert_eq!(l.receipt_for_key("wx-notify-1").unwrap(), Some(first));
}

#[test]
fn concurrent_retries_of_one_payment_credit_the_meter_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir);
    setup(&l, BillingMode::Meter);
    // 16 copies of the same notification at once: they share a batch (or a few), and the
    // later copies must see the first one's key inside the same transaction.
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let l = l.clone();
            std::thread::spawn(move || l.sale(&cashier(), "alipay-77", payment(3000)).unwrap())
        })
        .collect();
    let receipts: Vec<OpReceipt> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(receipts.iter().all(|r| r == &receipts[0]));
    assert_eq!(balance(&l), Fen(3000));
    let pushes: Vec<_> = outbox::pending(l.store())
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.command, MeterCommand::PushCredit { .. }))
        .collect();
    assert_eq!(pushes.len(), 1, "one credit token for one payment");
    assert_eq!(
        pushes[0].command,
        MeterCommand::PushCredit {
            amount: Fen(3000),
            purchase_count: 1
        }
    );
    assert_eq!(
        l.meter_account(&"M1".into())
            .unwrap()
            .unwrap()
            .purchase_count,
        1
    );
    assert!(l.verify().unwrap().is_ok());
}

#[test]
fn retry_after_restart_is_answered_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let l = open(&dir);
        setup(&l, BillingMode::Host);
        l.sale(&cashier(), "kiosk-9-0001", payment(1000)).unwrap()
    };
    let l = open(&dir);
    assert_eq!(
        l.sale(&cashier(), "kiosk-9-0001", payment(1000)).unwrap(),
        first
    );
    assert_eq!(balance(&l), Fen(1000));
}

#[test]
fn same_key_for_a_different_payment_is_refused_not_credited() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir);
    setup(&l, BillingMode::Host);
    l.sale(&cashier(), "pay-1", payment(1000)).unwrap();
    let err = l.sale(&cashier(), "pay-1", payment(2000)).unwrap_err();
    assert!(matches!(err, LedgerError::KeyReused { .. }), "{err}");
    assert_eq!(balance(&l), Fen(1000));
}

#[test]
fn a_refused_sale_does_not_use_up_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir);
    setup(&l, BillingMode::Host);
    l.set_hoarding_cap(Fen(500));
    assert!(matches!(
        l.sale(&cashier(), "pay-2", payment(1000)),
        Err(LedgerError::HoardingCap { .. })
    ));
    assert!(l.receipt_for_key("pay-2").unwrap().is_none());
    // Once the cap allows it, the same request under the same key is decided afresh.
    l.set_hoarding_cap(Fen(2000));
    let r = l.sale(&cashier(), "pay-2", payment(1000)).unwrap();
    assert_eq!(r.balance, Some(Fen(1000)));
}

#[test]
fn async_retries_credit_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = open(&dir);
    setup(&l, BillingMode::Host);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let receipts = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let l = l.clone();
            tasks.push(tokio::spawn(async move {
                l.submit_async(&cashier(), "notify-async", Request::Sale(payment(700)))
                    .await
                    .unwrap()
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert!(receipts.iter().all(|r| r == &receipts[0]));
    assert_eq!(balance(&l), Fen(700));
}
