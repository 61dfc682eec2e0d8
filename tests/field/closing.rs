//! Closing, reopening, refunds and reversals acting on the meters (issue 13 items 2–4), end
//! to end on the demo site: its simulated building (host-billed Acrel meters on Modbus,
//! meter-billed DL/T 645 prepaid meters that verify tokens), the real collector and control
//! queue in the daemon, the alarm engine's own pass.
//!
//! - Closing trips a host-mode relay and clears a meter-mode meter's own credit (read back:
//!   balance 0, purchase count moved); afterwards the closed tenant gets no alarm and no SMS.
//! - The same tenant opens a new account on the same meters: a sale closes the relay again
//!   and pushes credit with the next purchase count; the old account stays in the history.
//! - A refund on a meter-mode meter withdraws the credit first and is paid out once the
//!   meter confirms; with the meter unreachable it waits (pending, closing refused), and is
//!   paid when the meter answers again.
//! - Reversals race credit pushes: each sale is either reversed before its token was sent
//!   (the meter never sees it) or its credit arrives; no purchase count is lost or reused.

use std::time::{Duration, Instant};

use voltvend::alarm::sms::queue;
use voltvend::alarm::{book, engine};
use voltvend::auth::roles::{Actor, Role};
use voltvend::control::credit::close_settlement;
use voltvend::control::{self, CommandState};
use voltvend::daemon::credit_master_key;
use voltvend::ledger::outbox::MeterCommand;
use voltvend::ledger::{
    AccountStatus, CloseAccount, Ledger, LedgerError, MeterAccountInit, OpDetail, OpFilter, OpKind,
    OpenAccount, Refund, Reverse, Sale, refund_settle_key,
};
use voltvend::sim::Faults;
use voltvend::site::{BillingMode, MeterId, TenantId, repo};
use voltvend::store::Store;
use voltvend::units::Fen;

use crate::support::demo::{DemoSite, quick_control};
use crate::support::field::{alarm_config, sell};
use crate::support::wait::until;

fn cashier() -> Actor {
    Actor::operator("cashier", Role::Cashier)
}

fn admin() -> Actor {
    Actor::operator("admin", Role::Admin)
}

/// The latest record of `meter`'s command matching `pick`.
fn state_of(
    store: &Store,
    meter: &MeterId,
    pick: impl Fn(&MeterCommand) -> bool,
) -> Option<control::CommandRecord> {
    control::commands(store)
        .expect("commands")
        .into_iter()
        .rev()
        .find(|c| &c.meter == meter && pick(&c.command))
}

/// The tenant's meters by billing mode.
fn meters_of(ledger: &Ledger, tenant: &str, billing: BillingMode) -> Vec<MeterId> {
    ledger
        .account(&TenantId::new(tenant))
        .expect("account")
        .expect("has an account")
        .meters
        .into_iter()
        .filter(|m| m.billing == billing)
        .map(|m| m.meter)
        .collect()
}

fn close(ledger: &Ledger, tenant: &str, key: &str) -> Result<(), LedgerError> {
    ledger
        .close_account(
            &admin(),
            key,
            CloseAccount {
                tenant: TenantId::new(tenant),
                final_charge: Fen::ZERO,
            },
        )
        .map(|_| ())
}

async fn start_with_control() -> DemoSite {
    let mut site = crate::support::demo::start().await;
    let key = credit_master_key(&site.store).expect("key");
    site.run_control(voltvend::control::ControlConfig {
        credit_key: Some(key),
        ..quick_control()
    });
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_trips_host_meters_clears_meter_credit_texts_nobody_and_the_tenant_can_return() {
    let site = start_with_control().await;
    let (store, ledger) = (site.store.clone(), site.ledger.clone());
    let cfg = alarm_config("演示大厦", Duration::from_secs(3600));
    // T0003 is host-billed at ¥25.00, below its alarm 2: the engine warns it now.
    let host_tenant = "T0003";
    let host = meters_of(&ledger, host_tenant, BillingMode::Host);
    assert!(!host.is_empty() && meters_of(&ledger, host_tenant, BillingMode::Meter).is_empty());
    // T0001 is meter-billed, ¥186.50 on the account and in its meter.
    let prepaid_tenant = "T0001";
    let prepaid = meters_of(&ledger, prepaid_tenant, BillingMode::Meter);
    assert_eq!(prepaid.len(), 1);
    let pm = prepaid[0].clone();
    let count_before = site.sim_meter(pm.as_str()).snapshot().purchase_count;
    assert!(site.sim_meter(pm.as_str()).with(|m| m.balance()) > Fen(10_000));
    engine::pass(&store, &cfg, jiff::Timestamp::now()).expect("alarm pass");
    let subject = format!("tenant:{host_tenant}");
    assert!(
        book::active(&store)
            .expect("active")
            .iter()
            .any(|a| a.subject == subject),
        "the alarm-2 tenant has an alarm before closing"
    );

    close(&ledger, host_tenant, "close-host").expect("close host tenant");
    close(&ledger, prepaid_tenant, "close-prepaid").expect("close prepaid tenant");
    for m in &host {
        until("the closing trip to be confirmed", 60, || {
            state_of(&store, m, |c| *c == MeterCommand::Trip)
                .is_some_and(|r| r.state == CommandState::Confirmed)
        })
        .await;
        assert!(
            site.sim_meter(m.as_str()).snapshot().relay_open,
            "relay of {m}"
        );
    }
    until("the meter's credit to be cleared", 60, || {
        state_of(&store, &pm, |c| {
            matches!(c, MeterCommand::ClearCredit { .. })
        })
        .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    let st = site.sim_meter(pm.as_str()).snapshot();
    assert_eq!(
        st.purchase_count,
        count_before + 1,
        "the clear took the next count"
    );
    assert_eq!(site.sim_meter(pm.as_str()).with(|m| m.balance()), Fen::ZERO);
    assert!(
        st.relay_open,
        "a cleared meter-mode meter trips itself at zero"
    );
    let settled = close_settlement(&store, &pm)
        .expect("read")
        .expect("recorded");
    assert!(settled.cleared, "{settled:?}");
    assert!(
        settled.balance_before.is_some_and(|b| b > Fen(10_000)),
        "{settled:?}"
    );

    // No alarm, no SMS for the tenants who left (balance 0 is not arrears once closed).
    let sms_before = queue::list(&store).expect("sms").len();
    let r = engine::pass(&store, &cfg, jiff::Timestamp::now()).expect("alarm pass");
    for t in [host_tenant, prepaid_tenant] {
        let subject = format!("tenant:{t}");
        assert!(
            !r.raised.iter().any(|(_, s)| *s == subject),
            "{t} raised {:?}",
            r.raised
        );
        assert!(
            !book::active(&store)
                .expect("active")
                .iter()
                .any(|a| a.subject == subject),
            "{t} still has an alarm"
        );
    }
    let phones: Vec<String> = [host_tenant, prepaid_tenant]
        .iter()
        .filter_map(|t| {
            repo::get_tenant(&store, &TenantId::new(*t))
                .expect("tenant")
                .and_then(|t| t.phone)
        })
        .collect();
    let new_sms: Vec<_> = queue::list(&store).expect("sms")[sms_before..].to_vec();
    assert!(
        !new_sms.iter().any(|m| phones.contains(&m.to)),
        "texted a closed tenant: {new_sms:?}"
    );
    assert!(
        !new_sms.iter().any(|m| m.text.contains("已欠费")),
        "{new_sms:?}"
    );

    // The same tenants open new accounts on the same meters.
    for (t, ms, billing) in [
        (host_tenant, host.clone(), BillingMode::Host),
        (prepaid_tenant, prepaid.clone(), BillingMode::Meter),
    ] {
        ledger
            .open_account(
                &cashier(),
                &format!("reopen-{t}"),
                OpenAccount {
                    tenant: TenantId::new(t),
                    meters: ms
                        .iter()
                        .map(|m| MeterAccountInit {
                            meter: m.clone(),
                            billing,
                        })
                        .collect(),
                    transfer_in: None,
                },
            )
            .expect("reopen");
    }
    // An open account cannot be opened twice.
    let again = ledger.open_account(
        &cashier(),
        "reopen-twice",
        OpenAccount {
            tenant: TenantId::new(host_tenant),
            meters: vec![],
            transfer_in: None,
        },
    );
    assert!(
        matches!(again, Err(LedgerError::AccountExists(_))),
        "{again:?}"
    );
    sell(&ledger, host_tenant, 5_000, "after-reopen-host");
    sell(&ledger, prepaid_tenant, 3_000, "after-reopen-prepaid");
    for m in &host {
        until("the relay to close for the new account", 60, || {
            state_of(&store, m, |c| *c == MeterCommand::Close)
                .is_some_and(|r| r.state == CommandState::Confirmed)
        })
        .await;
        assert!(!site.sim_meter(m.as_str()).snapshot().relay_open);
    }
    until("the new account's credit to arrive", 60, || {
        state_of(&store, &pm, |c| {
            matches!(c, MeterCommand::PushCredit { purchase_count, .. } if *purchase_count == count_before + 2)
        })
        .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    let st = site.sim_meter(pm.as_str()).snapshot();
    assert_eq!(st.purchase_count, count_before + 2);
    assert!(!st.relay_open, "the credit closes the meter-mode relay");
    let bal = site.sim_meter(pm.as_str()).with(|m| m.balance());
    assert!((2_900..=3_000).contains(&bal.0), "meter balance {bal}");

    // Both accounts are in the history; the old one's operations are unchanged.
    let accounts = ledger
        .accounts_of(&TenantId::new(prepaid_tenant))
        .expect("accounts");
    assert_eq!(accounts.len(), 2, "{accounts:?}");
    assert_eq!(accounts[0].status, AccountStatus::Closed);
    assert_eq!(accounts[1].status, AccountStatus::Open);
    let closed_op = accounts[0].closed_op.expect("closed");
    assert!(accounts[1].opened_op > closed_op);
    let ops = ledger
        .operations(&OpFilter {
            tenant: Some(TenantId::new(prepaid_tenant)),
            ..Default::default()
        })
        .expect("ops");
    let old: Vec<_> = ops
        .iter()
        .filter(|o| o.id >= accounts[0].opened_op && o.id <= closed_op)
        .collect();
    assert!(old.iter().any(|o| o.detail.kind() == OpKind::OpenAccount));
    assert!(matches!(
        old.last().map(|o| &o.detail),
        Some(OpDetail::CloseAccount { refunded, .. }) if refunded.0 > 10_000
    ));
    assert_eq!(
        ledger
            .account(&TenantId::new(prepaid_tenant))
            .expect("account")
            .expect("open")
            .balance,
        Fen(3_000)
    );
    let report = ledger.verify().expect("verify");
    assert!(report.problems.is_empty(), "{report:?}");
    site.stop().await;
}

fn refund(ledger: &Ledger, tenant: &str, fen: i64, key: &str) -> Result<u64, LedgerError> {
    ledger
        .refund(
            &cashier(),
            key,
            Refund {
                tenant: TenantId::new(tenant),
                amount: Fen(fen),
                reason: "tenant asked".into(),
                meter: None,
            },
        )
        .map(|r| r.op)
}

fn settled(ledger: &Ledger, op: u64) -> Option<OpDetail> {
    let r = ledger
        .receipt_for_key(&refund_settle_key(op))
        .expect("key")?;
    Some(ledger.operation(r.op).expect("op").expect("exists").detail)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meter_mode_refunds_withdraw_first_and_wait_for_an_unreachable_meter() {
    let site = start_with_control().await;
    let (store, ledger) = (site.store.clone(), site.ledger.clone());
    // T0005 and T0007 are meter-billed with one meter each.
    let (t5, t7) = ("T0005", "T0007");
    let m5 = meters_of(&ledger, t5, BillingMode::Meter).remove(0);
    let m7 = meters_of(&ledger, t7, BillingMode::Meter).remove(0);
    let bal = |t: &str| {
        ledger
            .account(&TenantId::new(t))
            .expect("account")
            .expect("open")
            .balance
    };
    let pending_fund = || {
        ledger
            .balances()
            .expect("balances")
            .get("refunds_pending")
            .copied()
            .unwrap_or(Fen::ZERO)
    };

    // Reachable: the withdrawal is confirmed by the purchase count, then the refund is paid.
    let before = site.sim_meter(m5.as_str()).with(|m| m.balance());
    let count5 = site.sim_meter(m5.as_str()).snapshot().purchase_count;
    let ledger_before = bal(t5);
    let op = refund(&ledger, t5, 1_000, "refund-t5").expect("refund");
    assert_eq!(
        bal(t5),
        ledger_before - Fen(1_000),
        "the money leaves the balance at once"
    );
    until("the refund to be paid", 60, || {
        matches!(
            settled(&ledger, op),
            Some(OpDetail::RefundSettled { paid: true, .. })
        )
    })
    .await;
    let after = site.sim_meter(m5.as_str()).with(|m| m.balance());
    let used = before.0 - 1_000 - after.0;
    assert!((0..=50).contains(&used), "meter {before} → {after}");
    assert_eq!(
        site.sim_meter(m5.as_str()).snapshot().purchase_count,
        count5 + 1
    );
    assert_eq!(pending_fund(), Fen::ZERO);

    // Unreachable: the refund waits, the account cannot be closed meanwhile.
    site.sim_meter(m7.as_str()).set_faults(Faults {
        no_reply: true,
        ..Faults::none()
    });
    let count7 = site.sim_meter(m7.as_str()).snapshot().purchase_count;
    let before7 = site.sim_meter(m7.as_str()).with(|m| m.balance());
    let op7 = refund(&ledger, t7, 2_000, "refund-t7").expect("refund");
    until("the withdrawal to be tried and wait", 90, || {
        state_of(&store, &m7, |c| {
            matches!(c, MeterCommand::WithdrawCredit { .. })
        })
        .is_some_and(|r| {
            r.attempts >= 1 && r.last_error.as_deref().is_some_and(|e| e.contains("waits"))
        })
    })
    .await;
    assert_eq!(settled(&ledger, op7), None, "paid without the meter");
    assert_eq!(pending_fund(), Fen(2_000));
    let refused = close(&ledger, t7, "close-t7-pending");
    assert!(
        matches!(&refused, Err(e @ LedgerError::RefundPending { .. })
            if e.to_string().contains("退费") && e.to_string().contains("waiting for meter")),
        "{refused:?}"
    );
    // Past the queue's attempt limit (5) the withdrawal is still not failed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rec = state_of(&store, &m7, |c| {
        matches!(c, MeterCommand::WithdrawCredit { .. })
    })
    .expect("record");
    assert!(
        !matches!(rec.state, CommandState::Failed(_) | CommandState::Confirmed),
        "{rec:?}"
    );
    assert_eq!(
        site.sim_meter(m7.as_str()).snapshot().purchase_count,
        count7
    );
    // The meter answers again: the withdrawal goes through and the refund is paid.
    site.sim_meter(m7.as_str()).set_faults(Faults::none());
    until("the waiting refund to be paid", 120, || {
        matches!(
            settled(&ledger, op7),
            Some(OpDetail::RefundSettled { paid: true, .. })
        )
    })
    .await;
    let after7 = site.sim_meter(m7.as_str()).with(|m| m.balance());
    let used = before7.0 - 2_000 - after7.0;
    assert!((0..=200).contains(&used), "meter {before7} → {after7}");
    assert_eq!(pending_fund(), Fen::ZERO);
    close(&ledger, t7, "close-t7").expect("close once the refund is done");
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_racing_a_credit_push_loses_no_count_and_reuses_none() {
    let site = start_with_control().await;
    let (store, ledger) = (site.store.clone(), site.ledger.clone());
    let tenant = "T0008";
    let meter = meters_of(&ledger, tenant, BillingMode::Meter).remove(0);
    let start_count = site.sim_meter(meter.as_str()).snapshot().purchase_count;
    let start_balance = site.sim_meter(meter.as_str()).with(|m| m.balance());
    let mut delivered = 0i64;
    let mut reversed = 0;
    let mut refused = 0;
    for i in 0..12u32 {
        let sale = ledger
            .sale(
                &cashier(),
                &format!("race-{i}"),
                Sale {
                    tenant: TenantId::new(tenant),
                    amount: Fen(100),
                    method: "cash".into(),
                    receipt_no: None,
                    meter: None,
                },
            )
            .expect("sale");
        // Race the control queue: reverse after a varying head start (0 to ~400 ms).
        tokio::time::sleep(Duration::from_millis(u64::from(i % 6) * 80)).await;
        match ledger.reverse(
            &cashier(),
            &format!("race-rev-{i}"),
            Reverse {
                op: sale.op,
                reason: "race".into(),
            },
        ) {
            Ok(_) => reversed += 1,
            Err(LedgerError::CreditAlreadySent { .. }) => {
                refused += 1;
                delivered += 100;
            }
            Err(e) => panic!("reversal {i}: {e}"),
        }
        // Every push that was not withdrawn reaches a final state before the next sale.
        let t0 = Instant::now();
        loop {
            let open: Vec<_> = control::commands(&store)
                .expect("commands")
                .into_iter()
                .filter(|c| {
                    c.meter == meter
                        && matches!(c.command, MeterCommand::PushCredit { .. })
                        && !matches!(c.state, CommandState::Confirmed | CommandState::Failed(_))
                })
                .collect();
            let queued = voltvend::ledger::outbox::pending(&store)
                .expect("outbox")
                .into_iter()
                .any(|e| e.meter == meter);
            if open.is_empty() && !queued {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "stuck: {open:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(reversed + refused, 12);
    // Both sides of the race happened: some reversals won, some pushes were sent first.
    assert!(
        reversed >= 1 && refused >= 1,
        "reversed {reversed}, refused {refused}"
    );
    let st = site.sim_meter(meter.as_str()).snapshot();
    let ledger_count = ledger
        .meter_account(&meter)
        .expect("meter")
        .expect("account")
        .purchase_count;
    // Every credit the ledger kept reached the meter, in sequence, with no gap or reuse.
    assert_eq!(
        st.purchase_count, ledger_count,
        "meter and ledger agree on the count"
    );
    assert_eq!(
        st.purchase_count,
        start_count + refused,
        "one count per kept sale"
    );
    assert_eq!(
        st.credits_refused, 0,
        "no token was refused (no reused count)"
    );
    let failed: Vec<_> = control::commands(&store)
        .expect("commands")
        .into_iter()
        .filter(|c| c.meter == meter && matches!(c.state, CommandState::Failed(_)))
        .collect();
    // The only failures are pushes withdrawn before they were sent, one per reversal.
    assert!(
        failed.iter().all(|c| matches!(&c.state,
            CommandState::Failed(why) if why.contains("withdrawn before it was sent"))
            && c.sends == 0),
        "{failed:?}"
    );
    assert!(failed.len() <= reversed as usize);
    let now = site.sim_meter(meter.as_str()).with(|m| m.balance());
    let used = start_balance.0 + delivered - now.0;
    assert!(
        (0..=300).contains(&used),
        "meter {start_balance} + {delivered} → {now}"
    );
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_that_cannot_be_cleared_is_tripped_and_its_balance_recorded() {
    // No site credit key: no token can be issued, so the meter cannot be cleared.
    let mut site = crate::support::demo::start().await;
    site.run_control(quick_control());
    let (store, ledger) = (site.store.clone(), site.ledger.clone());
    let tenant = "T0002";
    let pm = meters_of(&ledger, tenant, BillingMode::Meter).remove(0);
    let count = site.sim_meter(pm.as_str()).snapshot().purchase_count;
    assert!(!site.sim_meter(pm.as_str()).snapshot().relay_open);
    close(&ledger, tenant, "close-no-key").expect("close");
    until("the clear to fail", 60, || {
        state_of(&store, &pm, |c| {
            matches!(c, MeterCommand::ClearCredit { .. })
        })
        .is_some_and(|r| matches!(r.state, CommandState::Failed(_)))
    })
    .await;
    until("the trip instead to be confirmed", 60, || {
        state_of(&store, &pm, |c| *c == MeterCommand::Trip)
            .is_some_and(|r| r.state == CommandState::Confirmed)
    })
    .await;
    let st = site.sim_meter(pm.as_str()).snapshot();
    assert!(st.relay_open, "tripped");
    assert_eq!(
        st.purchase_count, count,
        "nothing reached the meter's credit"
    );
    let left = site.sim_meter(pm.as_str()).with(|m| m.balance());
    let s = close_settlement(&store, &pm)
        .expect("read")
        .expect("recorded");
    assert!(!s.cleared, "{s:?}");
    assert!(
        s.why
            .as_deref()
            .is_some_and(|w| w.contains("no site credit key")),
        "{s:?}"
    );
    // The balance recorded for settlement is the meter's own (less a moment's use).
    let recorded = s.balance_before.expect("balance read");
    assert!(
        (0..=50).contains(&(recorded.0 - left.0)) && left > Fen(5_000),
        "recorded {recorded}, meter now {left}"
    );
    // The office sees it in the close settlements: the meter, its tenant, the balance to
    // settle and why it could not be cleared.
    let addr = site.daemon.addr;
    let list = crate::support::http::blocking(move || {
        use crate::support::http::{demo_admin_token, http};
        let admin = demo_admin_token(addr, "admin-pass-2");
        let path = format!(
            "{}?to_settle=true",
            voltvend_api_types::routes::CLOSE_SETTLEMENTS
        );
        let r = http(addr, "GET", &path, Some(&admin), None);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    })
    .await;
    let row = list
        .as_array()
        .and_then(|l| l.iter().find(|r| r["meter"] == pm.as_str()))
        .unwrap_or_else(|| panic!("{pm} not listed: {list}"));
    assert_eq!(row["cleared"], false, "{row}");
    assert_eq!(row["tenant"], tenant, "{row}");
    assert_eq!(row["balance_before_fen"], recorded.0, "{row}");
    assert!(
        row["why"]
            .as_str()
            .is_some_and(|w| w.contains("no site credit key")),
        "{row}"
    );
    assert!(
        row["outbox"].as_u64().is_some() && row["at"].is_string(),
        "{row}"
    );
    site.stop().await;
}
