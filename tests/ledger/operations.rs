//! Each ledger operation, its refusals and the commands it queues, on a real redb file.

use redb::{ReadableDatabase, ReadableTableMetadata};
use voltvend::auth::{Actor, Role};
use voltvend::ledger::outbox::{self, MeterCommand};
use voltvend::ledger::*;
use voltvend::site::BillingMode;
use voltvend::units::{Fen, SubFen, Wh};

use crate::support::store::temp_ledger;

struct Fixture {
    _dir: tempfile::TempDir,
    ledger: Ledger,
}

fn fixture() -> Fixture {
    let (dir, _store, ledger) = temp_ledger();
    Fixture { ledger, _dir: dir }
}

fn cashier() -> Actor {
    Actor::operator("amy", Role::Cashier)
}

fn meter(id: &str, billing: BillingMode) -> MeterAccountInit {
    MeterAccountInit {
        meter: id.into(),
        billing,
    }
}

fn try_open(
    l: &Ledger,
    tenant: &str,
    meters: Vec<MeterAccountInit>,
) -> Result<OpReceipt, LedgerError> {
    l.open_account(
        &cashier(),
        &format!("open-{tenant}"),
        OpenAccount {
            tenant: tenant.into(),
            meters,
            transfer_in: None,
        },
    )
}

fn open(l: &Ledger, tenant: &str, meters: Vec<MeterAccountInit>) -> OpReceipt {
    try_open(l, tenant, meters).unwrap()
}

fn sale(tenant: &str, fen: i64) -> Sale {
    Sale {
        tenant: tenant.into(),
        amount: Fen(fen),
        method: "cash".into(),
        receipt_no: Some("R-1".into()),
        meter: None,
    }
}

fn refund(tenant: &str, fen: i64, reason: &str) -> Refund {
    Refund {
        tenant: tenant.into(),
        amount: Fen(fen),
        reason: reason.into(),
        meter: None,
    }
}

fn reverse(op: u64, reason: &str) -> Reverse {
    Reverse {
        op,
        reason: reason.into(),
    }
}

fn close(tenant: &str, final_charge: i64) -> CloseAccount {
    CloseAccount {
        tenant: tenant.into(),
        final_charge: Fen(final_charge),
    }
}

fn consumption(reading: &str, cost: i128) -> ChargeConsumption {
    ChargeConsumption {
        meter: "M1".into(),
        reading_key: reading.into(),
        energy: Wh(1),
        cost: SubFen(cost),
        at: "2026-11-24T00:00:00Z".parse().unwrap(),
    }
}

/// A ledger with tenant T1 on one host-billed meter M1, the start of most cases here.
fn with_t1() -> Fixture {
    let f = fixture();
    open(&f.ledger, "T1", vec![meter("M1", BillingMode::Host)]);
    f
}

fn balance(l: &Ledger, tenant: &str) -> Fen {
    l.account(&tenant.into()).unwrap().unwrap().balance
}

fn assert_sound(l: &Ledger) {
    let report = l.verify().unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
}

#[test]
fn hoarding_cap_refusal_names_the_cap_and_the_largest_sale() {
    let f = with_t1();
    let l = &f.ledger;
    l.sale(&cashier(), "s1", sale("T1", 50_000)).unwrap();
    l.set_hoarding_cap(Fen(100_000));
    let err = l.sale(&cashier(), "s2", sale("T1", 60_000)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sale of ¥600.00 refused: balance would be ¥1,100.00, above the hoarding cap \
         ¥1,000.00; the largest sale allowed now is ¥500.00"
    );
    assert_eq!(balance(l, "T1"), Fen(50_000));
    l.sale(&cashier(), "s3", sale("T1", 50_000)).unwrap();
    assert_eq!(balance(l, "T1"), Fen(100_000));
    assert_sound(l);
}

#[test]
fn transfer_in_records_the_old_meter_serial() {
    let f = fixture();
    let l = &f.ledger;
    let r = l
        .open_account(
            &cashier(),
            "open-T1",
            OpenAccount {
                tenant: "T1".into(),
                meters: vec![
                    meter("M1", BillingMode::Host),
                    meter("M2", BillingMode::Host),
                ],
                transfer_in: Some(TransferIn {
                    amount: Fen(1234),
                    old_meter_serial: "OLD-0042".into(),
                }),
            },
        )
        .unwrap();
    assert_eq!(r.balance, Some(Fen(1234)));
    let op = l.operation(r.op).unwrap().unwrap();
    match op.detail {
        OpDetail::OpenAccount { transfer_in, .. } => {
            assert_eq!(transfer_in.unwrap().old_meter_serial, "OLD-0042")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(l.balances().unwrap()["transfer_in"], Fen(-1234));
    let err = try_open(l, "T2", vec![meter("M2", BillingMode::Host)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "meter M2 is already on the account of tenant T1"
    );
    assert_sound(l);
}

#[test]
fn refund_is_at_most_the_balance() {
    let f = with_t1();
    let l = &f.ledger;
    l.sale(&cashier(), "s1", sale("T1", 1000)).unwrap();
    let refund_t1 = |key: &str, fen| l.refund(&cashier(), key, refund("T1", fen, "moving out"));
    assert_eq!(
        refund_t1("r1", 1001).unwrap_err().to_string(),
        "refund of ¥10.01 refused: the balance of tenant T1 is only ¥10.00"
    );
    assert_eq!(refund_t1("r2", 1000).unwrap().balance, Some(Fen(0)));
    assert_sound(l);
}

#[test]
fn reversal_undoes_once_and_a_reversal_cannot_be_reversed() {
    let f = with_t1();
    let l = &f.ledger;
    let s = l.sale(&cashier(), "s1", sale("T1", 700)).unwrap();
    let rev = |key: &str, op| l.reverse(&cashier(), key, reverse(op, "wrong tenant"));
    let r = rev("v1", s.op).unwrap();
    assert_eq!((r.amount, r.balance), (Fen(-700), Some(Fen(0))));
    assert_eq!(
        rev("v2", s.op).unwrap_err().to_string(),
        format!(
            "operation {} was already reversed by operation {}",
            s.op, r.op
        )
    );
    assert_eq!(
        rev("v3", r.op).unwrap_err().to_string(),
        format!(
            "operation {} is a reversal; a reversal cannot be reversed",
            r.op
        )
    );
    assert_eq!(
        rev("v4", 1).unwrap_err().to_string(),
        "operation 1 is open_account; only sales and refunds can be reversed"
    );
    assert_eq!(balance(l, "T1"), Fen(0));
    assert_eq!(l.balances().unwrap()["pay:cash"], Fen(0));
    assert_sound(l);
}

#[test]
fn close_settles_to_zero_by_refund_or_arrears_and_closes_every_meter() {
    let f = fixture();
    let l = &f.ledger;
    open(
        l,
        "T1",
        vec![
            meter("M1", BillingMode::Host),
            meter("M2", BillingMode::Meter),
        ],
    );
    l.sale(&cashier(), "s1", sale("T1", 5000)).unwrap();
    let c = l
        .close_account(&cashier(), "c1", close("T1", 1200))
        .unwrap();
    assert_eq!(c.balance, Some(Fen(0)));
    match l.operation(c.op).unwrap().unwrap().detail {
        OpDetail::CloseAccount {
            refunded,
            arrears,
            meters,
            ..
        } => {
            assert_eq!((refunded, arrears), (Fen(3800), Fen(0)));
            assert_eq!(meters.len(), 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    let view = l.account(&"T1".into()).unwrap().unwrap();
    assert_eq!(view.status, AccountStatus::Closed);
    assert!(view.meters.iter().all(|m| m.closed));
    assert_eq!(
        l.sale(&cashier(), "s2", sale("T1", 1))
            .unwrap_err()
            .to_string(),
        "the account of tenant T1 is closed"
    );

    // A tenant in debt is settled by recorded arrears.
    open(l, "T2", vec![meter("M1", BillingMode::Host)]);
    l.close_account(&cashier(), "c2", close("T2", 250)).unwrap();
    let b = l.balances().unwrap();
    assert_eq!(b["arrears"], Fen(-250));
    assert_eq!(b["refunds_paid"], Fen(3800));
    assert_eq!(b["revenue:final_charge"], Fen(1450));
    assert_sound(l);
}

#[test]
fn consumption_posts_whole_fen_and_carries_the_remainder() {
    let f = with_t1();
    let l = &f.ledger;
    l.sale(&cashier(), "s1", sale("T1", 10_000)).unwrap();
    let collector = Actor::system("collector");
    let charge = |key: &str, reading: &str, cost: i128| {
        l.charge_consumption(&collector, key, consumption(reading, cost))
    };
    // 0.6 fen: nothing posted yet, 0.6 carried.
    assert_eq!(charge("k1", "M1@1", 6_000_000).unwrap().amount, Fen(0));
    // +0.6 fen = 1.2 fen: one fen posted, 0.2 carried.
    assert_eq!(charge("k2", "M1@2", 6_000_000).unwrap().amount, Fen(-1));
    assert_eq!(
        l.meter_account(&"M1".into()).unwrap().unwrap().carry,
        SubFen(2_000_000)
    );
    // The same reading under another key is not charged again.
    let again = charge("k3", "M1@2", 6_000_000).unwrap();
    assert_eq!(again.op, charge("k2", "M1@2", 6_000_000).unwrap().op);
    assert!(matches!(
        charge("k4", "M1@2", 7_000_000),
        Err(LedgerError::ReadingConflict { .. })
    ));
    assert_eq!(balance(l, "T1"), Fen(9_999));
    assert_eq!(l.balances().unwrap()["revenue:consumption"], Fen(1));
    let err = l
        .charge_consumption(&cashier(), "k5", consumption("M1@3", 1))
        .unwrap_err();
    assert_eq!(err.to_string(), "op:amy may not charge consumption");
    assert_sound(l);
}

#[test]
fn sale_to_meter_mode_pushes_credit_with_the_next_purchase_count() {
    let f = fixture();
    let l = &f.ledger;
    open(
        l,
        "T1",
        vec![
            meter("M1", BillingMode::Meter),
            meter("H1", BillingMode::Host),
        ],
    );
    let a = l.sale(&cashier(), "s1", sale("T1", 1000)).unwrap();
    let b = l.sale(&cashier(), "s2", sale("T1", 2000)).unwrap();
    let pending = outbox::pending(l.store()).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].id, a.outbox[0]);
    assert_eq!(
        pending[1].command,
        MeterCommand::PushCredit {
            amount: Fen(2000),
            purchase_count: 2
        }
    );
    assert_eq!(pending[1].cause_op, b.op);
    // Once the control queue has sent the first credit, that sale can no longer be undone
    // by a reversal; the second, still queued and the latest, can.
    outbox::take(l.store(), a.outbox[0]).unwrap().unwrap();
    let err = l.reverse(&cashier(), "v1", reverse(a.op, "x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the credit of sale {} was already sent to meter M1; it cannot be reversed, use a refund",
            a.op
        )
    );
    l.reverse(&cashier(), "v2", reverse(b.op, "x")).unwrap();
    assert!(outbox::pending(l.store()).unwrap().is_empty());
    assert_eq!(
        l.meter_account(&"M1".into())
            .unwrap()
            .unwrap()
            .purchase_count,
        1
    );
    // With two meter-mode meters the sale must name one.
    l.add_meter(
        &cashier(),
        "add-M2",
        AddMeter {
            tenant: "T1".into(),
            meter: meter("M2", BillingMode::Meter),
        },
    )
    .unwrap();
    let err = l.sale(&cashier(), "s3", sale("T1", 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tenant T1 has several meter-mode meters (M1, M2); name the meter that receives this credit"
    );
    let mut s = sale("T1", 1);
    s.meter = Some("M2".into());
    let r = l.sale(&cashier(), "s4", s).unwrap();
    assert_eq!(
        outbox::pending(l.store()).unwrap()[0].command,
        MeterCommand::PushCredit {
            amount: Fen(1),
            purchase_count: 1
        }
    );
    assert_eq!(r.outbox.len(), 1);
    assert_sound(l);
}

#[test]
fn sale_to_a_tripped_host_meter_in_credit_queues_close() {
    let f = fixture();
    let l = &f.ledger;
    open(l, "T1", vec![meter("H1", BillingMode::Host)]);
    // The control queue trips the meter for arrears (through the ledger, which marks it).
    let trip = voltvend::ledger::arrears::trip(
        l.store(),
        &"H1".into(),
        Fen(0),
        &cashier(),
        |_, _| Ok(false),
        |_, _, _| Ok(()),
    )
    .unwrap();
    assert!(trip.is_some(), "a meter at balance 0 is in arrears");
    assert_eq!(
        outbox::take(l.store(), trip.unwrap().1)
            .unwrap()
            .unwrap()
            .command,
        MeterCommand::Trip
    );
    l.sale(&cashier(), "s1", sale("T1", 500)).unwrap();
    let pending = outbox::pending(l.store()).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].command, MeterCommand::Close);
    assert!(!l.meter_account(&"H1".into()).unwrap().unwrap().tripped);
    l.sale(&cashier(), "s2", sale("T1", 500)).unwrap();
    assert_eq!(outbox::pending(l.store()).unwrap().len(), 1);
}

#[test]
fn permissions_are_checked_on_every_operation() {
    let f = with_t1();
    let l = &f.ledger;
    let viewer = Actor::operator("vic", Role::Viewer);
    let installer = Actor::operator("ian", Role::Installer);
    assert_eq!(
        l.sale(&viewer, "s1", sale("T1", 1))
            .unwrap_err()
            .to_string(),
        "op:vic may not sell credit"
    );
    assert_eq!(
        l.refund(&installer, "r1", refund("T1", 1, ""))
            .unwrap_err()
            .to_string(),
        "op:ian may not refund"
    );
    let tenant = Actor::Tenant {
        tenant: "T2".into(),
    };
    assert_eq!(
        l.sale(&tenant, "s2", sale("T1", 1))
            .unwrap_err()
            .to_string(),
        "tenant:T2 may not top up another tenant's account"
    );
    let own = Actor::Tenant {
        tenant: "T1".into(),
    };
    l.sale(&own, "s3", sale("T1", 1)).unwrap();
    assert!(matches!(
        l.close_account(&own, "c1", close("T1", 0)),
        Err(LedgerError::Forbidden { .. })
    ));
    assert_eq!(balance(l, "T1"), Fen(1));
}

#[test]
fn every_operation_writes_its_audit_entry_in_the_same_transaction() {
    let f = with_t1();
    let l = &f.ledger;
    let r = l.sale(&cashier(), "s1", sale("T1", 99)).unwrap();
    let op = l.operation(r.op).unwrap().unwrap();
    let txn = l.store().db().begin_read().unwrap();
    let audit = txn.open_table(voltvend::auth::audit::AUDIT).unwrap();
    let entry: voltvend::auth::audit::AuditEntry =
        serde_json::from_slice(audit.get(op.audit_seq).unwrap().unwrap().value()).unwrap();
    assert_eq!(entry.action, "ledger.sale");
    assert_eq!(entry.detail["op"], r.op);
    assert_eq!(audit.len().unwrap(), 2);
}

#[test]
fn verify_reports_a_balance_that_disagrees_with_its_postings() {
    let f = with_t1();
    let l = &f.ledger;
    l.sale(&cashier(), "s1", sale("T1", 300)).unwrap();
    assert_sound(l);
    // Tamper with the stored balance behind the ledger's back.
    let txn = l.store().db().begin_write().unwrap();
    txn.open_table(redb::TableDefinition::<&str, i64>::new("ledger_accounts"))
        .unwrap()
        .insert("tenant:T1", 999)
        .unwrap();
    txn.commit().unwrap();
    let report = l.verify().unwrap();
    assert_eq!(
        report.problems,
        vec![
            "account tenant:T1: balance 999 fen but its postings sum to 300 fen".to_string(),
            "all balances sum to 699 fen, not zero".to_string(),
        ]
    );
}

#[test]
fn reused_key_with_other_content_is_refused() {
    let f = with_t1();
    let l = &f.ledger;
    let first = l.sale(&cashier(), "pay-123", sale("T1", 100)).unwrap();
    let err = l.sale(&cashier(), "pay-123", sale("T1", 200)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "idempotency key 'pay-123' was already used by operation {} for a different request",
            first.op
        )
    );
    assert_eq!(balance(l, "T1"), Fen(100));
}

#[test]
fn a_refused_request_does_not_spoil_its_batch() {
    let f = fixture();
    let l = f.ledger.clone();
    open(&l, "T1", vec![meter("M1", BillingMode::Host)]);
    // Many concurrent requests, every third one refused (refund above the balance):
    // the writer batches them, and every good one must still commit.
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let l = l.clone();
            std::thread::spawn(move || {
                if i % 3 == 0 {
                    l.refund(&cashier(), &format!("r{i}"), refund("T1", 1_000_000, ""))
                        .map(|_| ())
                        .unwrap_err();
                } else {
                    l.sale(&cashier(), &format!("s{i}"), sale("T1", 10))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(balance(&l, "T1"), Fen(160));
    assert_sound(&l);
}

#[test]
fn committed_operations_are_announced_once_after_commit() {
    let f = with_t1();
    let l = &f.ledger;
    let mut rx = l.subscribe();
    let r = l.sale(&cashier(), "s1", sale("T1", 100)).unwrap();
    // The retry and the refused refund are not announced.
    l.sale(&cashier(), "s1", sale("T1", 100)).unwrap();
    l.refund(&cashier(), "r1", refund("T1", 1_000, ""))
        .unwrap_err();
    assert_eq!(rx.try_recv().unwrap(), r);
    assert!(rx.try_recv().is_err());
}
