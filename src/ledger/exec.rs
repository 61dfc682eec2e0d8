//! Running one request inside the batch's write transaction.
//!
//! Each request is first *planned*: every check reads the transaction (so it sees the
//! requests committed earlier in the same batch) and nothing is written. Only a request
//! whose plan is complete is *applied*. A refused request therefore leaves the transaction
//! exactly as it found it, and the other requests of the batch commit normally. Only a
//! storage failure while applying spoils the transaction (and then the whole batch fails).

use crate::auth::audit;
use crate::auth::{Actor, Permission, Role};
use crate::ledger::LedgerError;
use crate::ledger::outbox::{self, MeterCommand};
use crate::ledger::tables::*;
use crate::ledger::tx::Tx;
use crate::ledger::types::*;
use crate::site::{BillingMode, MeterId, TenantId};
use crate::store::encode;
use crate::units::{Fen, SubFen};
use redb::ReadableTable;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Everything one operation will write.
struct Plan {
    tenant: Option<TenantId>,
    detail: OpDetail,
    postings: Vec<Posting>,
    tenant_put: Option<TenantAccount>,
    meter_puts: Vec<MeterAccountView>,
    commands: Vec<(MeterId, MeterCommand)>,
    outbox_taken: Vec<u64>,
    reading_key: Option<String>,
    reverses: Option<u64>,
    /// A refund waiting for its meter: added to (true) or removed from (false) the pending
    /// refunds.
    pending_refund: Option<(TenantId, u64, bool)>,
    /// A closed account of the same tenant, moved to the history when it is opened again.
    archive: Option<TenantAccount>,
}

impl Plan {
    fn new(tenant: Option<TenantId>, detail: OpDetail) -> Plan {
        Plan {
            tenant,
            detail,
            postings: Vec::new(),
            tenant_put: None,
            meter_puts: Vec::new(),
            commands: Vec::new(),
            outbox_taken: Vec::new(),
            reading_key: None,
            reverses: None,
            pending_refund: None,
            archive: None,
        }
    }

    fn post(&mut self, account: impl Into<String>, amount: i64) {
        self.postings.push(Posting {
            account: account.into(),
            amount: Fen(amount),
        });
    }
}

/// A request answered without writing (an earlier identical request already did it).
enum Outcome {
    Apply(Box<Plan>),
    Replay(OpReceipt),
}

/// The fingerprint that tells a retry (same content) from a reused key (other content).
pub(crate) fn fingerprint(req: &Request) -> String {
    hex::encode(Sha256::digest(encode(req)))
}

/// Runs one request; the flag says whether it was newly carried out (false = the answer
/// of an earlier identical request).
pub(crate) fn run(
    tx: &mut Tx<'_>,
    actor: &Actor,
    key: &str,
    req: &Request,
) -> Result<(OpReceipt, bool), LedgerError> {
    check_permission(actor, req)?;
    check_key(key)?;
    let fp = fingerprint(req);
    if let Some(rec) = tx.key(key)? {
        return if rec.fingerprint == fp {
            Ok((rec.receipt, false))
        } else {
            Err(LedgerError::KeyReused {
                key: key.to_string(),
                op: rec.receipt.op,
            })
        };
    }
    let outcome = match req {
        Request::OpenAccount(r) => Outcome::Apply(Box::new(plan_open(tx, r)?)),
        Request::AddMeter(r) => Outcome::Apply(Box::new(plan_add_meter(tx, r)?)),
        Request::Sale(r) => Outcome::Apply(Box::new(plan_sale(tx, r)?)),
        Request::Refund(r) => Outcome::Apply(Box::new(plan_refund(tx, r)?)),
        Request::Reverse(r) => Outcome::Apply(Box::new(plan_reverse(tx, r)?)),
        Request::CloseAccount(r) => Outcome::Apply(Box::new(plan_close(tx, r)?)),
        Request::ChargeConsumption(r) => plan_charge(tx, r)?,
        Request::SettleRefund(r) => Outcome::Apply(Box::new(plan_settle_refund(tx, r)?)),
    };
    match outcome {
        Outcome::Replay(receipt) => Ok((receipt, false)),
        Outcome::Apply(plan) => Ok((apply(tx, actor, key, fp, *plan)?, true)),
    }
}

fn check_permission(actor: &Actor, req: &Request) -> Result<(), LedgerError> {
    let (perm, action) = match req {
        Request::OpenAccount(_) => (Permission::OpenAccount, "open accounts"),
        Request::AddMeter(_) => (Permission::OpenAccount, "add meters to accounts"),
        Request::Sale(_) => (Permission::Sell, "sell credit"),
        Request::Refund(_) => (Permission::Refund, "refund"),
        Request::Reverse(_) => (Permission::Reverse, "reverse operations"),
        Request::CloseAccount(_) => (Permission::CloseAccount, "close accounts"),
        Request::SettleRefund(_) => {
            // Only the control queue knows what the meter did.
            return match actor {
                Actor::System { .. } => Ok(()),
                _ => Err(LedgerError::Forbidden {
                    actor: actor.label(),
                    action: "settle refunds",
                }),
            };
        }
        Request::ChargeConsumption(_) => {
            // Consumption comes from the collector; an admin may post a correction.
            return match actor {
                Actor::System { .. }
                | Actor::Operator {
                    role: Role::Admin, ..
                } => Ok(()),
                _ => Err(LedgerError::Forbidden {
                    actor: actor.label(),
                    action: "charge consumption",
                }),
            };
        }
    };
    if !actor.may(perm) {
        return Err(LedgerError::Forbidden {
            actor: actor.label(),
            action,
        });
    }
    if let (Actor::Tenant { tenant }, Request::Sale(s)) = (actor, req)
        && tenant != s.tenant.as_str()
    {
        return Err(LedgerError::Forbidden {
            actor: actor.label(),
            action: "top up another tenant's account",
        });
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), LedgerError> {
    if key.trim().is_empty() || key.len() > 200 {
        return Err(LedgerError::Invalid(format!(
            "the idempotency key must be 1 to 200 characters, got {} characters",
            key.len()
        )));
    }
    Ok(())
}

fn positive(what: &'static str, amount: Fen) -> Result<(), LedgerError> {
    if amount.0 <= 0 {
        return Err(LedgerError::NotPositive { what, amount });
    }
    Ok(())
}

fn check_method(method: &str) -> Result<(), LedgerError> {
    let ok = !method.is_empty()
        && method.len() <= 32
        && method
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(LedgerError::Invalid(format!(
            "payment method '{method}' must be 1 to 32 of a-z, 0-9, '_' or '-' (e.g. cash, wechat)"
        )));
    }
    Ok(())
}

fn check_id(what: &str, id: &str) -> Result<(), LedgerError> {
    if id.trim().is_empty() {
        return Err(LedgerError::Invalid(format!("the {what} is empty")));
    }
    Ok(())
}

/// A meter that may be put on `tenant`'s account: new, or closed on an earlier account
/// (it keeps its purchase counter, which the physical meter also keeps). A closed meter's
/// relay was tripped when its account closed, so it comes back marked tripped: the first
/// balance in credit queues its close ([`close_if_in_credit`]).
fn fresh_meter(
    tx: &Tx<'_>,
    tenant: &TenantId,
    init: &MeterAccountInit,
) -> Result<MeterAccountView, LedgerError> {
    check_id("meter id", init.meter.as_str())?;
    let (purchase_count, tripped) = match tx.meter(&init.meter)? {
        Some(m) if !m.closed => {
            return Err(LedgerError::MeterTaken {
                meter: init.meter.clone(),
                tenant: m.tenant,
            });
        }
        Some(m) => (m.purchase_count, true),
        None => (0, false),
    };
    Ok(MeterAccountView {
        meter: init.meter.clone(),
        tenant: tenant.clone(),
        billing: init.billing,
        purchase_count,
        carry: SubFen::ZERO,
        tripped,
        closed: false,
    })
}

/// Host-mode meters tripped (for arrears, or by an earlier account's closing) close again
/// once the account is in credit.
fn close_if_in_credit(plan: &mut Plan, balance_after: Fen) {
    if balance_after.0 <= 0 {
        return;
    }
    for m in plan
        .meter_puts
        .iter_mut()
        .filter(|m| m.billing == BillingMode::Host && m.tripped)
    {
        m.tripped = false;
        plan.commands.push((m.meter.clone(), MeterCommand::Close));
    }
}

fn plan_open(tx: &Tx<'_>, r: &OpenAccount) -> Result<Plan, LedgerError> {
    check_id("tenant id", r.tenant.as_str())?;
    // A tenant whose account is closed may have a new one; the closed one goes to the
    // history (its operations keep their ids, so its reports do not change).
    let archive = match tx.tenant(&r.tenant)? {
        Some(acc) if acc.status == AccountStatus::Open => {
            return Err(LedgerError::AccountExists(r.tenant.clone()));
        }
        earlier => earlier,
    };
    if r.meters.is_empty() {
        return Err(LedgerError::Invalid(format!(
            "the account of tenant {} needs at least one meter",
            r.tenant
        )));
    }
    let mut plan = Plan::new(
        Some(r.tenant.clone()),
        OpDetail::OpenAccount {
            meters: r.meters.clone(),
            transfer_in: r.transfer_in.clone(),
        },
    );
    for (i, init) in r.meters.iter().enumerate() {
        if r.meters[..i].iter().any(|m| m.meter == init.meter) {
            return Err(LedgerError::Invalid(format!(
                "meter {} is listed twice",
                init.meter
            )));
        }
        plan.meter_puts.push(fresh_meter(tx, &r.tenant, init)?);
    }
    if let Some(t) = &r.transfer_in {
        positive("the transferred-in balance", t.amount)?;
        if t.old_meter_serial.trim().is_empty() {
            return Err(LedgerError::Invalid(
                "a transferred-in balance needs the old meter's serial number".into(),
            ));
        }
        plan.post(tenant_account(&r.tenant), t.amount.0);
        plan.post(TRANSFER_IN, -t.amount.0);
    }
    // A closed account's balance is exactly zero, so the new one starts at its transfer.
    let opening = r.transfer_in.as_ref().map_or(Fen::ZERO, |t| t.amount);
    close_if_in_credit(&mut plan, opening);
    plan.archive = archive;
    plan.tenant_put = Some(TenantAccount {
        tenant: r.tenant.clone(),
        status: AccountStatus::Open,
        meters: r.meters.iter().map(|m| m.meter.clone()).collect(),
        opened_op: 0,
        closed_op: None,
    });
    Ok(plan)
}

fn plan_add_meter(tx: &Tx<'_>, r: &AddMeter) -> Result<Plan, LedgerError> {
    let mut acc = tx.open_tenant(&r.tenant)?;
    let meter = fresh_meter(tx, &r.tenant, &r.meter)?;
    let mut plan = Plan::new(
        Some(r.tenant.clone()),
        OpDetail::AddMeter {
            meter: r.meter.clone(),
        },
    );
    acc.meters.push(meter.meter.clone());
    plan.meter_puts.push(meter);
    close_if_in_credit(&mut plan, Fen(tx.balance(&tenant_account(&r.tenant))?));
    plan.tenant_put = Some(acc);
    Ok(plan)
}

/// The tenant's open meters, in account order.
fn open_meters(tx: &Tx<'_>, acc: &TenantAccount) -> Result<Vec<MeterAccountView>, LedgerError> {
    let mut out = Vec::with_capacity(acc.meters.len());
    for id in &acc.meters {
        match tx.meter(id)? {
            Some(m) if !m.closed && m.tenant == acc.tenant => out.push(m),
            _ => {}
        }
    }
    Ok(out)
}

fn plan_sale(tx: &Tx<'_>, r: &Sale) -> Result<Plan, LedgerError> {
    positive("the sale amount", r.amount)?;
    check_method(&r.method)?;
    let acc = tx.open_tenant(&r.tenant)?;
    let balance = Fen(tx.balance(&tenant_account(&r.tenant))?);
    let balance_after = balance
        .checked_add(r.amount)
        .ok_or(LedgerError::Overflow("the balance after this sale"))?;
    if let Some(cap) = tx.cap
        && balance_after > cap
    {
        return Err(LedgerError::HoardingCap {
            amount: r.amount,
            balance_after,
            cap,
            largest: Fen((cap.0 - balance.0).max(0)),
        });
    }
    let mut meters = open_meters(tx, &acc)?;
    // The meter-mode meter that receives the credit, if any.
    let target = match &r.meter {
        Some(id) => {
            let pos = meters.iter().position(|m| &m.meter == id);
            match pos {
                Some(i) => (meters[i].billing == BillingMode::Meter).then_some(i),
                None => {
                    return Err(match tx.meter(id)? {
                        None => LedgerError::NoMeter(id.clone()),
                        Some(m) if m.tenant != r.tenant => LedgerError::NotTenantsMeter {
                            meter: id.clone(),
                            owner: m.tenant,
                            tenant: r.tenant.clone(),
                        },
                        Some(_) => LedgerError::MeterClosed(id.clone()),
                    });
                }
            }
        }
        None => {
            let prepaid: Vec<usize> = (0..meters.len())
                .filter(|&i| meters[i].billing == BillingMode::Meter)
                .collect();
            match prepaid.as_slice() {
                [] => None,
                [one] => Some(*one),
                many => {
                    return Err(LedgerError::WhichMeter {
                        tenant: r.tenant.clone(),
                        meters: many
                            .iter()
                            .map(|&i| meters[i].meter.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
        }
    };
    let mut plan = Plan::new(
        Some(r.tenant.clone()),
        OpDetail::Sale {
            amount: r.amount,
            method: r.method.clone(),
            receipt_no: r.receipt_no.clone(),
            credit: None,
        },
    );
    if let Some(i) = target {
        let m = &mut meters[i];
        m.purchase_count = m
            .purchase_count
            .checked_add(1)
            .ok_or(LedgerError::Overflow("the meter's purchase counter"))?;
        plan.commands.push((
            m.meter.clone(),
            MeterCommand::PushCredit {
                amount: r.amount,
                purchase_count: m.purchase_count,
            },
        ));
        if let OpDetail::Sale { credit, .. } = &mut plan.detail {
            *credit = Some((m.meter.clone(), m.purchase_count));
        }
        plan.meter_puts.push(m.clone());
    }
    // Host-mode meters tripped for arrears close again once the account is in credit.
    if balance_after.0 > 0 {
        for m in meters
            .iter_mut()
            .filter(|m| m.billing == BillingMode::Host && m.tripped)
        {
            m.tripped = false;
            plan.commands.push((m.meter.clone(), MeterCommand::Close));
            plan.meter_puts.push(m.clone());
        }
    }
    plan.post(tenant_account(&r.tenant), r.amount.0);
    plan.post(payment_account(&r.method), -r.amount.0);
    Ok(plan)
}

/// The tenant's meter-mode meter that credit goes to or comes from: the one named, or the
/// only one; `None` when the tenant has none (or `named` is a host-mode meter).
fn prepaid_target(
    tx: &Tx<'_>,
    tenant: &TenantId,
    meters: &[MeterAccountView],
    named: Option<&MeterId>,
) -> Result<Option<usize>, LedgerError> {
    match named {
        Some(id) => match meters.iter().position(|m| &m.meter == id) {
            Some(i) => Ok((meters[i].billing == BillingMode::Meter).then_some(i)),
            None => Err(match tx.meter(id)? {
                None => LedgerError::NoMeter(id.clone()),
                Some(m) if &m.tenant != tenant => LedgerError::NotTenantsMeter {
                    meter: id.clone(),
                    owner: m.tenant,
                    tenant: tenant.clone(),
                },
                Some(_) => LedgerError::MeterClosed(id.clone()),
            }),
        },
        None => {
            let prepaid: Vec<usize> = (0..meters.len())
                .filter(|&i| meters[i].billing == BillingMode::Meter)
                .collect();
            match prepaid.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(*one)),
                many => Err(LedgerError::WhichMeter {
                    tenant: tenant.clone(),
                    meters: many
                        .iter()
                        .map(|&i| meters[i].meter.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            }
        }
    }
}

/// A refund. On a meter-mode meter the credit is in the meter too, so it is withdrawn
/// first: the refund queues `WithdrawCredit` with the meter's next purchase count and the
/// money waits in `refunds_pending` (off the balance, so it cannot be spent twice) until
/// the control queue confirms the withdrawal and settles it ([`plan_settle_refund`]).
fn plan_refund(tx: &Tx<'_>, r: &Refund) -> Result<Plan, LedgerError> {
    positive("the refund amount", r.amount)?;
    let acc = tx.open_tenant(&r.tenant)?;
    let balance = Fen(tx.balance(&tenant_account(&r.tenant))?);
    if r.amount > balance {
        return Err(LedgerError::RefundTooLarge {
            tenant: r.tenant.clone(),
            amount: r.amount,
            balance,
        });
    }
    let mut meters = open_meters(tx, &acc)?;
    let target = prepaid_target(tx, &r.tenant, &meters, r.meter.as_ref())?;
    let mut plan = Plan::new(
        Some(r.tenant.clone()),
        OpDetail::Refund {
            amount: r.amount,
            reason: r.reason.clone(),
            withdraw: None,
        },
    );
    plan.post(tenant_account(&r.tenant), -r.amount.0);
    let Some(i) = target else {
        plan.post(REFUNDS_PAID, r.amount.0);
        return Ok(plan);
    };
    let m = &mut meters[i];
    m.purchase_count = m
        .purchase_count
        .checked_add(1)
        .ok_or(LedgerError::Overflow("the meter's purchase counter"))?;
    plan.commands.push((
        m.meter.clone(),
        MeterCommand::WithdrawCredit {
            amount: r.amount,
            purchase_count: m.purchase_count,
        },
    ));
    if let OpDetail::Refund { withdraw, .. } = &mut plan.detail {
        *withdraw = Some((m.meter.clone(), m.purchase_count));
    }
    plan.meter_puts.push(m.clone());
    plan.post(REFUNDS_PENDING, r.amount.0);
    plan.pending_refund = Some((r.tenant.clone(), 0, true));
    Ok(plan)
}

/// The end of a pending refund: paid (`refunds_pending` → `refunds_paid`) or cancelled
/// (`refunds_pending` → back on the tenant's account). Once per refund.
fn plan_settle_refund(tx: &Tx<'_>, r: &SettleRefund) -> Result<Plan, LedgerError> {
    let orig = tx.op(r.op)?.ok_or(LedgerError::NoOperation(r.op))?;
    let (
        OpDetail::Refund {
            amount,
            withdraw: Some(_),
            ..
        },
        Some(tenant),
    ) = (&orig.detail, &orig.tenant)
    else {
        return Err(LedgerError::NotPendingRefund(r.op));
    };
    if tx
        .txn
        .open_table(PENDING_REFUNDS)?
        .get((tenant.as_str(), r.op))?
        .is_none()
    {
        return Err(LedgerError::NotPendingRefund(r.op));
    }
    let mut plan = Plan::new(
        Some(tenant.clone()),
        OpDetail::RefundSettled {
            refund_op: r.op,
            amount: *amount,
            paid: r.paid,
            reason: r.reason.clone(),
        },
    );
    plan.post(REFUNDS_PENDING, -amount.0);
    if r.paid {
        plan.post(REFUNDS_PAID, amount.0);
    } else {
        plan.post(tenant_account(tenant), amount.0);
    }
    plan.pending_refund = Some((tenant.clone(), r.op, false));
    Ok(plan)
}

fn plan_reverse(tx: &Tx<'_>, r: &Reverse) -> Result<Plan, LedgerError> {
    let orig = tx.op(r.op)?.ok_or(LedgerError::NoOperation(r.op))?;
    let kind = orig.detail.kind();
    match kind {
        OpKind::Sale | OpKind::Refund => {}
        OpKind::Reverse => return Err(LedgerError::ReversalOfReversal(r.op)),
        _ => return Err(LedgerError::NotReversible { op: r.op, kind }),
    }
    if let Some(by) = tx.reversed.get(r.op)? {
        return Err(LedgerError::AlreadyReversed {
            op: r.op,
            by: by.value(),
        });
    }
    let tenant = orig
        .tenant
        .clone()
        .ok_or_else(|| LedgerError::Invariant(format!("{kind} {} has no tenant", r.op)))?;
    tx.open_tenant(&tenant)?;
    if let OpDetail::Refund {
        withdraw: Some((meter, _)),
        ..
    } = &orig.detail
    {
        return Err(LedgerError::WithdrawalNotReversible {
            op: r.op,
            meter: meter.clone(),
        });
    }
    let mut plan = Plan::new(
        Some(tenant),
        OpDetail::Reverse {
            op: r.op,
            reversed_kind: kind,
            reason: r.reason.clone(),
        },
    );
    // Credit already loaded into a meter cannot be taken back by the ledger alone; while
    // the push is still queued (and is the meter's latest), it is withdrawn instead.
    if let OpDetail::Sale {
        credit: Some((meter_id, count)),
        ..
    } = &orig.detail
    {
        let sent = || LedgerError::CreditAlreadySent {
            op: r.op,
            meter: meter_id.clone(),
        };
        let mut meter = tx.meter(meter_id)?.ok_or_else(sent)?;
        // Still queued AND never marked sent: the control queue marks a push sent in its
        // own write transaction before writing the token, so the two cannot both win.
        let mut queued = None;
        for &id in &orig.outbox {
            if let Some(e) = outbox::get_in(tx.txn, id)?
                && matches!(e.command, MeterCommand::PushCredit { .. })
                && &e.meter == meter_id
                && !outbox::was_sent_in(tx.txn, id)?
            {
                queued = Some(id);
            }
        }
        match queued {
            Some(id) if meter.purchase_count == *count => {
                meter.purchase_count -= 1;
                plan.outbox_taken.push(id);
                plan.meter_puts.push(meter);
            }
            _ => return Err(sent()),
        }
    }
    for p in &orig.postings {
        plan.post(p.account.clone(), -p.amount.0);
    }
    plan.reverses = Some(r.op);
    Ok(plan)
}

fn plan_close(tx: &Tx<'_>, r: &CloseAccount) -> Result<Plan, LedgerError> {
    if r.final_charge.is_negative() {
        return Err(LedgerError::Invalid(format!(
            "the final charge cannot be negative ({})",
            r.final_charge
        )));
    }
    let mut acc = tx.open_tenant(&r.tenant)?;
    // A withdrawal still under way would race the clear; its money is not settled yet.
    let pending = tx.txn.open_table(PENDING_REFUNDS)?;
    let first = pending
        .range((r.tenant.as_str(), 0)..=(r.tenant.as_str(), u64::MAX))?
        .next()
        .transpose()?
        .map(|(k, _)| k.value().1);
    if let Some(op) = first {
        let meter = match tx.op(op)?.map(|o| o.detail) {
            Some(OpDetail::Refund {
                withdraw: Some((m, _)),
                ..
            }) => m,
            _ => MeterId::new("?"),
        };
        return Err(LedgerError::RefundPending { op, meter });
    }
    let account = tenant_account(&r.tenant);
    let balance = Fen(tx.balance(&account)?);
    let left = balance
        .checked_sub(r.final_charge)
        .ok_or(LedgerError::Overflow("the balance after the final charge"))?;
    let (refunded, arrears) = if left.0 >= 0 {
        (left, Fen::ZERO)
    } else {
        (Fen::ZERO, -left)
    };
    let mut meters = open_meters(tx, &acc)?;
    // Closing acts on the meters: a host-mode relay trips, a meter-mode meter's own credit
    // is cleared (with its next purchase count; the control queue trips it instead when
    // the meter cannot be cleared, and records its balance for settlement).
    let mut commands = Vec::with_capacity(meters.len());
    for m in &mut meters {
        m.closed = true;
        match m.billing {
            BillingMode::Host => {
                m.tripped = true;
                commands.push((m.meter.clone(), MeterCommand::Trip));
            }
            BillingMode::Meter => {
                m.purchase_count = m
                    .purchase_count
                    .checked_add(1)
                    .ok_or(LedgerError::Overflow("the meter's purchase counter"))?;
                commands.push((
                    m.meter.clone(),
                    MeterCommand::ClearCredit {
                        purchase_count: m.purchase_count,
                    },
                ));
            }
        }
    }
    let mut plan = Plan::new(
        Some(r.tenant.clone()),
        OpDetail::CloseAccount {
            final_charge: r.final_charge,
            refunded,
            arrears,
            meters: meters.iter().map(|m| m.meter.clone()).collect(),
        },
    );
    if r.final_charge.0 > 0 {
        plan.post(account.clone(), -r.final_charge.0);
        plan.post(FINAL_CHARGE_REVENUE, r.final_charge.0);
    }
    if refunded.0 > 0 {
        plan.post(account.clone(), -refunded.0);
        plan.post(REFUNDS_PAID, refunded.0);
    }
    if arrears.0 > 0 {
        plan.post(account, arrears.0);
        plan.post(ARREARS, -arrears.0);
    }
    plan.meter_puts = meters;
    plan.commands = commands;
    acc.status = AccountStatus::Closed;
    acc.closed_op = Some(0);
    plan.tenant_put = Some(acc);
    Ok(plan)
}

fn plan_charge(tx: &Tx<'_>, r: &ChargeConsumption) -> Result<Outcome, LedgerError> {
    check_id("reading key", &r.reading_key)?;
    if r.energy.0 < 0 || r.cost.0 < 0 {
        return Err(LedgerError::Invalid(format!(
            "reading '{}' has negative energy or cost",
            r.reading_key
        )));
    }
    if let Some(op) = tx.readings.get(r.reading_key.as_str())? {
        let op = op.value();
        let earlier = tx.op(op)?.ok_or(LedgerError::NoOperation(op))?;
        let same = matches!(&earlier.detail, OpDetail::Consumption { meter, energy, cost, reading_at, .. }
            if meter == &r.meter && *energy == r.energy && *cost == r.cost && *reading_at == r.at);
        if !same {
            return Err(LedgerError::ReadingConflict {
                reading_key: r.reading_key.clone(),
                op,
            });
        }
        let rec = tx.key(&earlier.key)?.ok_or_else(|| {
            LedgerError::Invariant(format!("operation {op} has no idempotency record"))
        })?;
        return Ok(Outcome::Replay(rec.receipt));
    }
    let mut meter = tx
        .meter(&r.meter)?
        .ok_or_else(|| LedgerError::NoMeter(r.meter.clone()))?;
    if meter.closed {
        return Err(LedgerError::MeterClosed(r.meter.clone()));
    }
    tx.open_tenant(&meter.tenant)?;
    let total = meter
        .carry
        .0
        .checked_add(r.cost.0)
        .ok_or(LedgerError::Overflow("the reading's cost"))?;
    let (charged, carry) = SubFen(total)
        .split()
        .map_err(|_| LedgerError::Overflow("the reading's cost"))?;
    meter.carry = carry;
    let tenant = meter.tenant.clone();
    let mut plan = Plan::new(
        Some(tenant.clone()),
        OpDetail::Consumption {
            meter: r.meter.clone(),
            reading_key: r.reading_key.clone(),
            energy: r.energy,
            cost: r.cost,
            charged,
            carry,
            reading_at: r.at,
        },
    );
    if charged.0 > 0 {
        plan.post(tenant_account(&tenant), -charged.0);
        plan.post(CONSUMPTION_REVENUE, charged.0);
    }
    plan.meter_puts.push(meter);
    plan.reading_key = Some(r.reading_key.clone());
    Ok(Outcome::Apply(Box::new(plan)))
}

/// What the audit entry of an operation records.
#[derive(serde::Serialize)]
struct AuditDetail<'a> {
    op: u64,
    key: &'a str,
    tenant: Option<&'a TenantId>,
    detail: &'a OpDetail,
    postings: &'a [Posting],
    balance_after: Option<Fen>,
    outbox: &'a [u64],
}

/// Writes a complete plan: balances, outbox, audit entry, operation record, indexes and the
/// idempotency record. Only storage errors (which spoil the transaction) can happen after
/// the overflow pre-check.
fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    key: &str,
    fingerprint: String,
    mut plan: Plan,
) -> Result<OpReceipt, LedgerError> {
    let sum: i128 = plan.postings.iter().map(|p| i128::from(p.amount.0)).sum();
    if sum != 0 {
        return Err(LedgerError::Invariant(format!(
            "{} postings sum to {sum} fen, not zero",
            plan.detail.kind()
        )));
    }
    // New balances, computed before anything is written so an overflow refuses cleanly.
    let mut new_balances: BTreeMap<&str, i64> = BTreeMap::new();
    for p in &plan.postings {
        let current = match new_balances.get(p.account.as_str()) {
            Some(&b) => b,
            None => tx.balance(&p.account)?,
        };
        let next = current
            .checked_add(p.amount.0)
            .ok_or(LedgerError::Overflow("an account balance"))?;
        new_balances.insert(p.account.as_str(), next);
    }
    let tenant_key = plan.tenant.as_ref().map(tenant_account);
    let id = tx.next_op_id()?;
    for p in &plan.postings {
        tx.note_posting(&p.account, p.amount.0)?;
    }
    for (account, balance) in &new_balances {
        tx.accounts.insert(*account, *balance)?;
    }
    if let Some(old) = &plan.archive {
        tx.txn
            .open_table(CLOSED_ACCOUNTS)?
            .insert((old.tenant.as_str(), old.opened_op), encode(old).as_slice())?;
    }
    if let Some(t) = &mut plan.tenant_put {
        if t.opened_op == 0 {
            t.opened_op = id;
        }
        if t.closed_op == Some(0) {
            t.closed_op = Some(id);
        }
        if let Some(k) = &tenant_key
            && tx.accounts.get(k.as_str())?.is_none()
        {
            tx.accounts.insert(k.as_str(), 0)?;
        }
        let t = t.clone();
        tx.put_tenant(&t)?;
    }
    for m in &plan.meter_puts {
        tx.put_meter(m)?;
    }
    let mut outbox_ids = Vec::with_capacity(plan.commands.len());
    for (meter, command) in plan.commands {
        outbox_ids.push(outbox::push_in(tx.txn, &meter, command, id)?);
    }
    for taken in &plan.outbox_taken {
        outbox::take_in(tx.txn, *taken)?;
    }
    let balance_after = match &tenant_key {
        Some(k) => Some(Fen(tx.balance(k)?)),
        None => None,
    };
    let amount = Fen(plan
        .postings
        .iter()
        .filter(|p| Some(&p.account) == tenant_key.as_ref())
        .map(|p| p.amount.0)
        .sum());
    let kind = plan.detail.kind();
    let at = jiff::Timestamp::now();
    let detail = serde_json::to_value(AuditDetail {
        op: id,
        key,
        tenant: plan.tenant.as_ref(),
        detail: &plan.detail,
        postings: &plan.postings,
        balance_after,
        outbox: &outbox_ids,
    })
    .unwrap_or_else(|e| serde_json::Value::String(format!("operation {id}: {e}")));
    let audit_seq = audit::append_in(tx.txn, actor, &format!("ledger.{kind}"), detail)?;
    let op = Operation {
        id,
        key: key.to_string(),
        at,
        actor: actor.clone(),
        tenant: plan.tenant.clone(),
        detail: plan.detail,
        postings: plan.postings,
        balance_after,
        outbox: outbox_ids.clone(),
        audit_seq,
    };
    tx.ops.insert(id, encode(&op).as_slice())?;
    if let Some(t) = &plan.tenant {
        tx.tenant_ops.insert((t.as_str(), id), ())?;
    }
    if let Some(rk) = &plan.reading_key {
        tx.readings.insert(rk.as_str(), id)?;
    }
    if let Some(orig) = plan.reverses {
        tx.reversed.insert(orig, id)?;
    }
    if let Some((tenant, op, add)) = &plan.pending_refund {
        let mut t = tx.txn.open_table(PENDING_REFUNDS)?;
        if *add {
            t.insert((tenant.as_str(), id), ())?;
        } else {
            t.remove((tenant.as_str(), *op))?;
        }
    }
    let receipt = OpReceipt {
        op: id,
        kind,
        tenant: plan.tenant,
        amount,
        balance: balance_after,
        outbox: outbox_ids,
        at,
    };
    let rec = KeyRecord {
        fingerprint,
        receipt: receipt.clone(),
    };
    tx.keys.insert(key, encode(&rec).as_slice())?;
    Ok(receipt)
}
