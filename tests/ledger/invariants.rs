//! Random sequences of ledger operations against a simple reference model.
//!
//! The model is a second, deliberately naive implementation of the rules (plain integers,
//! no postings). After every step the real ledger (real redb file, real writer thread) must
//! agree with it, and every invariant of docs/ledger.md must hold: postings of every
//! operation sum to zero, balances equal the sum of postings, every fen is where the model
//! says it is (no money created or lost), a reversal of a reversal is refused, and a retried
//! key changes nothing. Each test below weights the random operations towards the invariant
//! it is named after; all of them check every invariant after every step.

use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use voltvend::auth::{Actor, Role};
use voltvend::ledger::*;
use voltvend::site::{BillingMode, MeterId, TenantId};
use voltvend::units::{Fen, SubFen, Wh};

use crate::support::store::temp_ledger;

const TENANTS: usize = 3;
const METERS: usize = 5;
const METHODS: [&str; 3] = ["cash", "wechat", "alipay"];

#[derive(Debug, Clone)]
enum Step {
    Open {
        tenant: usize,
        meters: Vec<(usize, bool)>,
        transfer: Option<i64>,
    },
    AddMeter {
        tenant: usize,
        meter: usize,
        meter_mode: bool,
    },
    Sale {
        tenant: usize,
        amount: i64,
        method: usize,
    },
    Refund {
        tenant: usize,
        amount: i64,
    },
    /// A refund of the whole balance plus `extra` (-1, 0 or +1 fen): the boundary.
    RefundAll {
        tenant: usize,
        extra: i64,
    },
    /// A sale up to the hoarding cap plus `extra`: the boundary.
    SaleToCap {
        tenant: usize,
        extra: i64,
    },
    Reverse {
        pick: usize,
        bogus: bool,
    },
    Close {
        tenant: usize,
        final_charge: i64,
    },
    Charge {
        meter: usize,
        reading: usize,
        cost: i128,
    },
    Retry {
        pick: usize,
    },
    ReuseKey {
        pick: usize,
    },
    SetCap(Option<i64>),
}

#[derive(Debug, Clone, Copy)]
struct Weights {
    reverse: u32,
    retry: u32,
}

fn step(w: Weights) -> impl Strategy<Value = Step> {
    let meters = proptest::sample::subsequence((0..METERS).collect::<Vec<_>>(), 1..=2)
        .prop_flat_map(|ms| {
            let n = ms.len();
            (Just(ms), proptest::collection::vec(any::<bool>(), n))
        })
        .prop_map(|(ms, modes)| ms.into_iter().zip(modes).collect::<Vec<_>>());
    prop_oneof![
        3 => (0..TENANTS, meters, proptest::option::of(1i64..5_000))
            .prop_map(|(tenant, meters, transfer)| Step::Open { tenant, meters, transfer }),
        1 => (0..TENANTS, 0..METERS, any::<bool>())
            .prop_map(|(tenant, meter, meter_mode)| Step::AddMeter { tenant, meter, meter_mode }),
        8 => (0..TENANTS, 1i64..20_000, 0..METHODS.len())
            .prop_map(|(tenant, amount, method)| Step::Sale { tenant, amount, method }),
        3 => (0..TENANTS, 1i64..15_000).prop_map(|(tenant, amount)| Step::Refund { tenant, amount }),
        1 => (0..TENANTS, -1i64..=1).prop_map(|(tenant, extra)| Step::RefundAll { tenant, extra }),
        1 => (0..TENANTS, -1i64..=1).prop_map(|(tenant, extra)| Step::SaleToCap { tenant, extra }),
        w.reverse => (any::<usize>(), proptest::bool::weighted(0.1))
            .prop_map(|(pick, bogus)| Step::Reverse { pick, bogus }),
        1 => (0..TENANTS, 0i64..3_000)
            .prop_map(|(tenant, final_charge)| Step::Close { tenant, final_charge }),
        5 => (0..METERS, 0..12usize, 0i128..60_000_000)
            .prop_map(|(meter, reading, cost)| Step::Charge { meter, reading, cost }),
        w.retry => any::<usize>().prop_map(|pick| Step::Retry { pick }),
        w.retry.div_ceil(2) => any::<usize>().prop_map(|pick| Step::ReuseKey { pick }),
        1 => proptest::option::of(5_000i64..40_000).prop_map(Step::SetCap),
    ]
}

#[derive(Debug, Clone)]
struct MTenant {
    open: bool,
    balance: i64,
    /// Refunds waiting for their withdrawal from a meter-mode meter (no control queue runs
    /// here, so they stay pending).
    pending: u32,
}

#[derive(Debug, Clone)]
struct MMeter {
    tenant: usize,
    meter_mode: bool,
    count: u32,
    carry: i128,
    closed: bool,
}

#[derive(Debug, Clone)]
struct MOp {
    kind: OpKind,
    tenant: usize,
    /// Effect on the tenant's balance.
    delta: i64,
    /// Effect on each system account (name → fen).
    system: Vec<(String, i64)>,
    reversed: bool,
    credit: Option<(usize, u32)>,
    /// A refund that withdraws from a meter-mode meter.
    withdraw: bool,
}

/// Where every fen should be, by account name.
#[derive(Debug, Clone, Default)]
struct Model {
    tenants: BTreeMap<usize, MTenant>,
    meters: BTreeMap<usize, MMeter>,
    ops: BTreeMap<u64, MOp>,
    system: BTreeMap<String, i64>,
    readings: HashMap<usize, (usize, i128, u64)>,
    cap: Option<i64>,
    done: Vec<(String, Request, OpReceipt)>,
}

/// What the model expects of one request.
enum Expect {
    /// Success; the op to record (its id comes from the receipt).
    Ok(Option<MOp>),
    /// The earlier answer, unchanged.
    Replay(OpReceipt),
    Err(&'static str),
}

fn tid(t: usize) -> String {
    format!("T{t}")
}

fn mid(m: usize) -> String {
    format!("M{m}")
}

fn variant(e: &LedgerError) -> &'static str {
    match e {
        LedgerError::NoAccount(_) => "NoAccount",
        LedgerError::AccountExists(_) => "AccountExists",
        LedgerError::AccountClosed(_) => "AccountClosed",
        LedgerError::NoMeter(_) => "NoMeter",
        LedgerError::MeterTaken { .. } => "MeterTaken",
        LedgerError::MeterClosed(_) => "MeterClosed",
        LedgerError::WhichMeter { .. } => "WhichMeter",
        LedgerError::HoardingCap { .. } => "HoardingCap",
        LedgerError::RefundTooLarge { .. } => "RefundTooLarge",
        LedgerError::NoOperation(_) => "NoOperation",
        LedgerError::AlreadyReversed { .. } => "AlreadyReversed",
        LedgerError::ReversalOfReversal(_) => "ReversalOfReversal",
        LedgerError::NotReversible { .. } => "NotReversible",
        LedgerError::CreditAlreadySent { .. } => "CreditAlreadySent",
        LedgerError::RefundPending { .. } => "RefundPending",
        LedgerError::WithdrawalNotReversible { .. } => "WithdrawalNotReversible",
        LedgerError::KeyReused { .. } => "KeyReused",
        LedgerError::ReadingConflict { .. } => "ReadingConflict",
        other => panic!("unexpected error: {other}"),
    }
}

impl Model {
    fn open_tenant(&self, t: usize) -> Result<(), &'static str> {
        match self.tenants.get(&t) {
            None => Err("NoAccount"),
            Some(x) if !x.open => Err("AccountClosed"),
            Some(_) => Ok(()),
        }
    }

    fn meters_of(&self, t: usize) -> Vec<usize> {
        self.meters
            .iter()
            .filter(|(_, m)| m.tenant == t && !m.closed)
            .map(|(&i, _)| i)
            .collect()
    }

    fn meter_free(&self, m: usize) -> Result<(), &'static str> {
        match self.meters.get(&m) {
            Some(x) if !x.closed => Err("MeterTaken"),
            _ => Ok(()),
        }
    }

    fn put_meter(&mut self, m: usize, tenant: usize, meter_mode: bool) {
        let count = self.meters.get(&m).map_or(0, |x| x.count);
        self.meters.insert(
            m,
            MMeter {
                tenant,
                meter_mode,
                count,
                carry: 0,
                closed: false,
            },
        );
    }

    fn op(kind: OpKind, tenant: usize, delta: i64, system: Vec<(&str, i64)>) -> MOp {
        MOp {
            kind,
            tenant,
            delta,
            system: system
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            reversed: false,
            credit: None,
            withdraw: false,
        }
    }

    /// Applies the request to the model (self is a scratch copy) and says what to expect.
    fn predict(&mut self, s: &Step, req: &Request) -> Expect {
        match (s, req) {
            (
                Step::Open {
                    tenant,
                    meters,
                    transfer,
                },
                _,
            ) => {
                // A closed account may be opened again; an open one may not.
                if self.tenants.get(tenant).is_some_and(|t| t.open) {
                    return Expect::Err("AccountExists");
                }
                for (m, _) in meters {
                    if let Err(e) = self.meter_free(*m) {
                        return Expect::Err(e);
                    }
                }
                for (m, mode) in meters {
                    self.put_meter(*m, *tenant, *mode);
                }
                let t = transfer.unwrap_or(0);
                self.tenants.insert(
                    *tenant,
                    MTenant {
                        open: true,
                        balance: t,
                        pending: 0,
                    },
                );
                Expect::Ok(Some(Self::op(
                    OpKind::OpenAccount,
                    *tenant,
                    t,
                    vec![("transfer_in", -t)],
                )))
            }
            (
                Step::AddMeter {
                    tenant,
                    meter,
                    meter_mode,
                },
                _,
            ) => {
                if let Err(e) = self.open_tenant(*tenant).and(self.meter_free(*meter)) {
                    return Expect::Err(e);
                }
                self.put_meter(*meter, *tenant, *meter_mode);
                Expect::Ok(Some(Self::op(OpKind::AddMeter, *tenant, 0, vec![])))
            }
            (
                Step::Sale {
                    tenant,
                    amount,
                    method,
                },
                _,
            ) => {
                if let Err(e) = self.open_tenant(*tenant) {
                    return Expect::Err(e);
                }
                let after = self.tenants[tenant].balance + amount;
                if self.cap.is_some_and(|c| after > c) {
                    return Expect::Err("HoardingCap");
                }
                let prepaid: Vec<usize> = self
                    .meters_of(*tenant)
                    .into_iter()
                    .filter(|m| self.meters[m].meter_mode)
                    .collect();
                let credit = match prepaid.as_slice() {
                    [] => None,
                    [m] => {
                        let meter = self.meters.get_mut(m).expect("listed meter");
                        meter.count += 1;
                        Some((*m, meter.count))
                    }
                    _ => return Expect::Err("WhichMeter"),
                };
                self.tenants.get_mut(tenant).expect("open").balance = after;
                let pay = format!("pay:{}", METHODS[*method]);
                let mut op = Self::op(OpKind::Sale, *tenant, *amount, vec![(&pay, -amount)]);
                op.credit = credit;
                Expect::Ok(Some(op))
            }
            (Step::Refund { tenant, amount }, _) => {
                if let Err(e) = self.open_tenant(*tenant) {
                    return Expect::Err(e);
                }
                if *amount > self.tenants[tenant].balance {
                    return Expect::Err("RefundTooLarge");
                }
                // On a meter-mode meter the credit is withdrawn first: the money waits.
                let prepaid: Vec<usize> = self
                    .meters_of(*tenant)
                    .into_iter()
                    .filter(|m| self.meters[m].meter_mode)
                    .collect();
                let to = match prepaid.as_slice() {
                    [] => "refunds_paid",
                    [m] => {
                        self.meters.get_mut(m).expect("listed meter").count += 1;
                        "refunds_pending"
                    }
                    _ => return Expect::Err("WhichMeter"),
                };
                let t = self.tenants.get_mut(tenant).expect("open");
                t.balance -= amount;
                let withdraw = to == "refunds_pending";
                t.pending += u32::from(withdraw);
                let mut op = Self::op(OpKind::Refund, *tenant, -amount, vec![(to, *amount)]);
                op.withdraw = withdraw;
                Expect::Ok(Some(op))
            }
            (Step::Reverse { .. }, Request::Reverse(r)) => {
                let Some(orig) = self.ops.get(&r.op).cloned() else {
                    return Expect::Err("NoOperation");
                };
                match orig.kind {
                    OpKind::Sale | OpKind::Refund => {}
                    OpKind::Reverse => return Expect::Err("ReversalOfReversal"),
                    _ => return Expect::Err("NotReversible"),
                }
                if orig.reversed {
                    return Expect::Err("AlreadyReversed");
                }
                if let Err(e) = self.open_tenant(orig.tenant) {
                    return Expect::Err(e);
                }
                if orig.withdraw {
                    return Expect::Err("WithdrawalNotReversible");
                }
                if let Some((m, count)) = orig.credit {
                    let meter = self.meters.get_mut(&m).expect("credited meter");
                    if meter.count != count {
                        return Expect::Err("CreditAlreadySent");
                    }
                    meter.count -= 1;
                }
                self.ops.get_mut(&r.op).expect("exists").reversed = true;
                self.tenants.get_mut(&orig.tenant).expect("open").balance -= orig.delta;
                let system = orig.system.iter().map(|(k, v)| (k.as_str(), -v)).collect();
                Expect::Ok(Some(Self::op(
                    OpKind::Reverse,
                    orig.tenant,
                    -orig.delta,
                    system,
                )))
            }
            (
                Step::Close {
                    tenant,
                    final_charge,
                },
                _,
            ) => {
                if let Err(e) = self.open_tenant(*tenant) {
                    return Expect::Err(e);
                }
                if self.tenants[tenant].pending > 0 {
                    return Expect::Err("RefundPending");
                }
                // A meter-mode meter's credit is cleared with its next purchase count.
                for m in self.meters_of(*tenant) {
                    let meter = self.meters.get_mut(&m).expect("listed");
                    meter.closed = true;
                    meter.count += u32::from(meter.meter_mode);
                }
                let t = self.tenants.get_mut(tenant).expect("open");
                let before = t.balance;
                let left = before - final_charge;
                t.balance = 0;
                t.open = false;
                Expect::Ok(Some(Self::op(
                    OpKind::CloseAccount,
                    *tenant,
                    -before,
                    vec![
                        ("revenue:final_charge", *final_charge),
                        ("refunds_paid", left.max(0)),
                        ("arrears", left.min(0)),
                    ],
                )))
            }
            (
                Step::Charge {
                    meter,
                    reading,
                    cost,
                },
                _,
            ) => {
                if let Some((m, c, op)) = self.readings.get(reading) {
                    if m != meter || c != cost {
                        return Expect::Err("ReadingConflict");
                    }
                    let receipt = self
                        .done
                        .iter()
                        .find(|(_, _, r)| r.op == *op)
                        .map(|(_, _, r)| r.clone())
                        .expect("charged reading has a receipt");
                    return Expect::Replay(receipt);
                }
                let Some(m) = self.meters.get_mut(meter) else {
                    return Expect::Err("NoMeter");
                };
                if m.closed {
                    return Expect::Err("MeterClosed");
                }
                let total = m.carry + cost;
                let whole = i64::try_from(total / 10_000_000).expect("small");
                m.carry = total % 10_000_000;
                let tenant = m.tenant;
                self.tenants
                    .get_mut(&tenant)
                    .expect("meter's tenant")
                    .balance -= whole;
                Expect::Ok(Some(Self::op(
                    OpKind::Consumption,
                    tenant,
                    -whole,
                    vec![("revenue:consumption", whole)],
                )))
            }
            (
                Step::Retry { .. }
                | Step::ReuseKey { .. }
                | Step::SetCap(_)
                | Step::Reverse { .. }
                | Step::RefundAll { .. }
                | Step::SaleToCap { .. },
                _,
            ) => {
                unreachable!("handled by the runner")
            }
        }
    }
}

/// Boundary steps become plain ones, relative to the model's current state.
fn concrete(s: &Step, model: &Model) -> Step {
    let balance = |t: &usize| model.tenants.get(t).map_or(0, |x| x.balance);
    match s {
        Step::RefundAll { tenant, extra } => Step::Refund {
            tenant: *tenant,
            amount: (balance(tenant) + extra).max(1),
        },
        Step::SaleToCap { tenant, extra } => Step::Sale {
            tenant: *tenant,
            amount: (model.cap.unwrap_or(10_000) - balance(tenant) + extra).max(1),
            method: 0,
        },
        other => other.clone(),
    }
}

fn request(s: &Step, model: &Model) -> Request {
    match s {
        Step::Open {
            tenant,
            meters,
            transfer,
        } => Request::OpenAccount(OpenAccount {
            tenant: TenantId::new(tid(*tenant)),
            meters: meters
                .iter()
                .map(|(m, mode)| MeterAccountInit {
                    meter: MeterId::new(mid(*m)),
                    billing: if *mode {
                        BillingMode::Meter
                    } else {
                        BillingMode::Host
                    },
                })
                .collect(),
            transfer_in: transfer.map(|t| TransferIn {
                amount: Fen(t),
                old_meter_serial: "OLD-1".into(),
            }),
        }),
        Step::AddMeter {
            tenant,
            meter,
            meter_mode,
        } => Request::AddMeter(AddMeter {
            tenant: TenantId::new(tid(*tenant)),
            meter: MeterAccountInit {
                meter: MeterId::new(mid(*meter)),
                billing: if *meter_mode {
                    BillingMode::Meter
                } else {
                    BillingMode::Host
                },
            },
        }),
        Step::Sale {
            tenant,
            amount,
            method,
        } => Request::Sale(Sale {
            tenant: TenantId::new(tid(*tenant)),
            amount: Fen(*amount),
            method: METHODS[*method].into(),
            receipt_no: None,
            meter: None,
        }),
        Step::Refund { tenant, amount } => Request::Refund(Refund {
            tenant: TenantId::new(tid(*tenant)),
            amount: Fen(*amount),
            reason: "r".into(),
            meter: None,
        }),
        Step::Reverse { pick, bogus } => {
            let ids: Vec<u64> = model.ops.keys().copied().collect();
            let op = if *bogus || ids.is_empty() {
                10_000
            } else {
                ids[pick % ids.len()]
            };
            Request::Reverse(Reverse {
                op,
                reason: "r".into(),
            })
        }
        Step::Close {
            tenant,
            final_charge,
        } => Request::CloseAccount(CloseAccount {
            tenant: TenantId::new(tid(*tenant)),
            final_charge: Fen(*final_charge),
        }),
        Step::Charge {
            meter,
            reading,
            cost,
        } => Request::ChargeConsumption(ChargeConsumption {
            meter: MeterId::new(mid(*meter)),
            reading_key: format!("reading-{reading}"),
            energy: Wh(1),
            cost: SubFen(*cost),
            at: jiff::Timestamp::UNIX_EPOCH,
        }),
        Step::Retry { .. }
        | Step::ReuseKey { .. }
        | Step::SetCap(_)
        | Step::RefundAll { .. }
        | Step::SaleToCap { .. } => unreachable!("not a request"),
    }
}

/// The ledger's whole visible state, to show that a refused request or a retry changed
/// nothing.
fn snapshot(l: &Ledger) -> (BTreeMap<String, Fen>, usize) {
    let ops = l.operations(&OpFilter::default()).expect("operations");
    (l.balances().expect("balances"), ops.len())
}

fn check_invariants(l: &Ledger, m: &Model) -> Result<(), TestCaseError> {
    // Postings of every operation sum to zero; balances equal the sum of postings.
    let report = l.verify().expect("verify");
    prop_assert!(report.is_ok(), "verify: {:?}", report.problems);
    prop_assert_eq!(report.total, Fen(0));
    for op in l.operations(&OpFilter::default()).expect("ops") {
        let sum: i64 = op.postings.iter().map(|p| p.amount.0).sum();
        prop_assert_eq!(sum, 0, "operation {} postings", op.id);
    }
    // No money created or lost: every account holds exactly what the model says.
    let balances = l.balances().expect("balances");
    for (t, mt) in &m.tenants {
        let view = l
            .account(&TenantId::new(tid(*t)))
            .expect("account")
            .expect("exists");
        prop_assert_eq!(view.balance, Fen(mt.balance), "tenant {}", t);
        prop_assert_eq!(
            view.status == AccountStatus::Open,
            mt.open,
            "status of tenant {}",
            t
        );
    }
    for (name, balance) in &balances {
        if name.starts_with("tenant:") {
            continue;
        }
        let expected = m.system.get(name).copied().unwrap_or(0);
        prop_assert_eq!(balance.0, expected, "system account {}", name);
    }
    for (name, v) in &m.system {
        prop_assert_eq!(
            balances.get(name).map_or(0, |b| b.0),
            *v,
            "system account {}",
            name
        );
    }
    for (i, mm) in &m.meters {
        let v = l
            .meter_account(&MeterId::new(mid(*i)))
            .expect("meter")
            .expect("exists");
        prop_assert_eq!(v.purchase_count, mm.count, "count of meter {}", i);
        prop_assert_eq!(v.carry, SubFen(mm.carry), "carry of meter {}", i);
        prop_assert_eq!(v.closed, mm.closed, "closed meter {}", i);
        prop_assert_eq!(v.tenant.as_str(), tid(mm.tenant), "owner of meter {}", i);
    }
    Ok(())
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let (_dir, _store, l) = temp_ledger();
    let actor = Actor::operator("pat", Role::Admin);
    let mut model = Model::default();
    for (n, s) in steps.iter().enumerate() {
        let before = snapshot(&l);
        match s {
            Step::SetCap(cap) => {
                match cap {
                    Some(c) => l.set_hoarding_cap(Fen(*c)),
                    None => l.clear_hoarding_cap(),
                }
                model.cap = *cap;
            }
            Step::Retry { pick } => {
                if model.done.is_empty() {
                    continue;
                }
                let (key, req, first) = model.done[pick % model.done.len()].clone();
                let again = l.submit(&actor, &key, req).expect("retry");
                prop_assert_eq!(again, first, "retry of {} returns the first receipt", key);
                prop_assert_eq!(snapshot(&l), before, "retry of {} changed nothing", key);
            }
            Step::ReuseKey { pick } => {
                if model.done.is_empty() {
                    continue;
                }
                let (key, _, _) = model.done[pick % model.done.len()].clone();
                let other = Request::Refund(Refund {
                    tenant: "T0".into(),
                    amount: Fen(1),
                    reason: format!("reuse {key}"),
                    meter: None,
                });
                let err = l.submit(&actor, &key, other).expect_err("reused key");
                prop_assert_eq!(variant(&err), "KeyReused");
                prop_assert_eq!(snapshot(&l), before);
            }
            _ => {
                let concrete = concrete(s, &model);
                let s = &concrete;
                let req = request(s, &model);
                let key = format!("step-{n}");
                let mut next = model.clone();
                let expect = next.predict(s, &req);
                let got = l.submit(&actor, &key, req.clone());
                match (expect, got) {
                    (Expect::Ok(op), Ok(receipt)) => {
                        if let Some(mut op) = op {
                            prop_assert_eq!(receipt.amount, Fen(op.delta), "step {} {:?}", n, s);
                            prop_assert_eq!(receipt.kind, op.kind);
                            for (name, v) in &op.system {
                                *next.system.entry(name.clone()).or_default() += v;
                            }
                            op.reversed = false;
                            next.ops.insert(receipt.op, op);
                        }
                        if let (
                            Step::Charge {
                                meter,
                                reading,
                                cost,
                            },
                            _,
                        ) = (s, &req)
                        {
                            next.readings.insert(*reading, (*meter, *cost, receipt.op));
                        }
                        next.done.push((key, req, receipt));
                        model = next;
                    }
                    (Expect::Replay(first), Ok(receipt)) => {
                        prop_assert_eq!(receipt, first);
                        prop_assert_eq!(snapshot(&l), before, "replayed reading changed nothing");
                    }
                    (Expect::Err(name), Err(e)) => {
                        prop_assert_eq!(variant(&e), name, "step {} {:?}: {}", n, s, e);
                        prop_assert_eq!(snapshot(&l), before, "refused step {} changed nothing", n);
                    }
                    (Expect::Ok(_) | Expect::Replay(_), Err(e)) => {
                        return Err(TestCaseError::fail(format!(
                            "step {n} {s:?}: model accepts, ledger refused: {e}"
                        )));
                    }
                    (Expect::Err(name), Ok(r)) => {
                        return Err(TestCaseError::fail(format!(
                            "step {n} {s:?}: model expects {name}, ledger accepted: {r:?}"
                        )));
                    }
                }
            }
        }
        check_invariants(&l, &model)?;
    }
    Ok(())
}

fn steps(w: Weights) -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(w), 5..40)
}

const PLAIN: Weights = Weights {
    reverse: 2,
    retry: 1,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..crate::support::prop::config() })]

    #[test]
    fn postings_sum_to_zero_after_every_operation(s in steps(PLAIN)) {
        run(s)?;
    }

    #[test]
    fn balances_equal_the_sum_of_postings(s in steps(PLAIN)) {
        run(s)?;
    }

    #[test]
    fn no_money_is_created_or_lost(s in steps(Weights { reverse: 3, retry: 1 })) {
        run(s)?;
    }

    #[test]
    fn reversal_of_a_reversal_is_refused(s in steps(Weights { reverse: 10, retry: 1 })) {
        run(s)?;
    }

    #[test]
    fn idempotent_retries_change_nothing(s in steps(Weights { reverse: 2, retry: 8 })) {
        run(s)?;
    }
}
