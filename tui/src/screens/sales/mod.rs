//! Tenants & sales: find a tenant by unit, sell, refund, reverse, open and close the
//! account, add a meter. Here the state and what the keys do (up to the confirmation);
//! `calls` the operations once confirmed and their answers; `draw` the screen.

use crate::app::{Confirm, Pending as AnyPending};
use crate::data::{OpLine, SiteData};
use crate::effect::Effect;
use crate::keys::{Action, Context};
use crate::types::{TenantRow, TenantView};
use crate::widgets::{money, parse_money};

mod calls;
mod draw;
pub use calls::{Pending, Reply, TenantLoad, load_tenant};
pub use draw::draw;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesField {
    None,
    Lookup,
    Amount,
    Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyOp {
    Sale,
    Refund,
    Reverse,
    Close,
    /// Open the account (with a balance carried over from an old meter).
    Open,
    /// Add a meter to the open account.
    AddMeter,
}

pub const METHODS: [&str; 5] = ["cash", "wechat", "alipay", "unionpay", "card"];

#[derive(Debug, Clone)]
pub struct SalesState {
    pub lookup: String,
    pub field: SalesField,
    pub op: MoneyOp,
    pub amount: String,
    pub method: usize,
    pub reason: String,
    pub tenant: Option<TenantView>,
    pub ops: Vec<OpLine>,
    pub selected_op: usize,
    /// The last completed sale/refund/reversal, shown large so the cashier can read it out.
    pub last_result: Option<String>,
}

impl Default for SalesState {
    fn default() -> Self {
        SalesState {
            lookup: String::new(),
            field: SalesField::Lookup,
            op: MoneyOp::Sale,
            amount: String::new(),
            method: 0,
            reason: String::new(),
            tenant: None,
            ops: Vec::new(),
            selected_op: 0,
            last_result: None,
        }
    }
}

const FIND_FIRST: &str = "find a tenant first: press / and type the unit";

impl SalesState {
    pub fn context(&self) -> Context {
        if self.field == SalesField::None {
            Context::Sales
        } else {
            Context::Typing
        }
    }

    /// The screen is opened: the unit field, unless a tenant is shown.
    pub fn entered(&mut self) {
        if self.tenant.is_none() {
            self.field = SalesField::Lookup;
        }
    }

    /// Whether the shown tenant has an open account (from the tenant list).
    pub fn has_account(&self, data: &SiteData) -> Option<bool> {
        let t = self.tenant.as_ref()?;
        data.tenants
            .iter()
            .find(|r| r.tenant == t.tenant)
            .map(|r| r.has_account)
    }

    fn field_mut(&mut self) -> Option<&mut String> {
        match self.field {
            SalesField::Lookup => Some(&mut self.lookup),
            SalesField::Amount => Some(&mut self.amount),
            SalesField::Reason => Some(&mut self.reason),
            SalesField::None => None,
        }
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(f) = self.field_mut() {
            crate::screens::push_char(f, c);
        }
    }

    pub fn typing(&mut self, a: Action, data: &SiteData) -> Effect {
        match a {
            Action::Backspace => {
                if let Some(f) = self.field_mut() {
                    f.pop();
                }
                Effect::None
            }
            Action::NextField => {
                if self.field == SalesField::Amount && self.op == MoneyOp::Sale {
                    self.method = (self.method + 1) % METHODS.len();
                }
                Effect::None
            }
            Action::Back => {
                self.field = SalesField::None;
                Effect::info("cancelled")
            }
            Action::Submit => match self.field {
                SalesField::Lookup => self.find_tenant(data),
                SalesField::Amount => self.amount_entered(),
                SalesField::Reason => self.reason_entered(),
                SalesField::None => Effect::None,
            },
            _ => Effect::None,
        }
    }

    pub fn on_action(&mut self, a: Action, data: &SiteData) -> Effect {
        match a {
            Action::Up | Action::Down => {
                let len = self.ops.len();
                if len == 0 {
                    self.selected_op = 0;
                } else if a == Action::Up {
                    self.selected_op = self.selected_op.saturating_sub(1);
                } else {
                    self.selected_op = (self.selected_op + 1).min(len - 1);
                }
                Effect::None
            }
            Action::Back => {
                self.tenant = None;
                self.ops.clear();
                self.field = SalesField::Lookup;
                self.lookup.clear();
                Effect::None
            }
            Action::Lookup => {
                self.lookup.clear();
                self.field = SalesField::Lookup;
                Effect::None
            }
            Action::Sell | Action::Refund | Action::Reverse | Action::CloseAccount => {
                self.start_money(a)
            }
            Action::OpenAccount => self.ask_open(data),
            Action::AddMeter => self.start_add_meter(data),
            _ => Effect::None,
        }
    }

    fn find_tenant(&mut self, data: &SiteData) -> Effect {
        let q = self.lookup.trim().to_string();
        if q.is_empty() {
            return Effect::None;
        }
        if data.tenants.is_empty() {
            return Effect::call(move |api| {
                let tenants = api.tenants().ok();
                Reply::Lookup { query: q, tenants }.into()
            });
        }
        self.found(&q, &data.tenants)
    }

    /// The lookup over the tenant list: a unit or tenant id exactly, else part of a name.
    fn found(&mut self, q: &str, tenants: &[TenantRow]) -> Effect {
        let ql = q.to_lowercase();
        let hit = tenants
            .iter()
            .find(|t| {
                t.units.iter().any(|u| u.eq_ignore_ascii_case(q))
                    || t.tenant.eq_ignore_ascii_case(q)
            })
            .or_else(|| tenants.iter().find(|t| t.name.to_lowercase().contains(&ql)))
            .map(|t| t.tenant.clone());
        match hit {
            Some(id) => {
                self.field = SalesField::None;
                self.last_result = None;
                load_tenant(id)
            }
            None => Effect::error(format!("no tenant with unit, id or name {q:?}")),
        }
    }

    fn ask_open(&mut self, data: &SiteData) -> Effect {
        let Some(t) = &self.tenant else {
            return Effect::error(FIND_FIRST);
        };
        if self.has_account(data) == Some(true) {
            return Effect::error(format!("{} already has an account", t.tenant));
        }
        self.amount.clear();
        self.reason.clear();
        self.op = MoneyOp::Open;
        self.field = SalesField::Amount;
        Effect::info("balance carried over from an old meter, in yuan (0 if none)")
    }

    /// The open-account confirmation: every meter of the tenant's units is attached.
    fn confirm_open(&mut self, t: TenantView, transfer_in: Option<(i64, String)>) -> Effect {
        let meters: Vec<String> = t.meters.iter().map(|m| m.meter.clone()).collect();
        let mut lines = vec![
            format!("Open the account of {} {}", t.tenant, t.name),
            format!("units {}", t.units.join(", ")),
            format!("{} meter(s): {}", meters.len(), meters.join(", ")),
        ];
        lines.push(match &transfer_in {
            Some((fen, old)) => format!("carried over from old meter {old}: {}", money(*fen)),
            None => "opening balance 0.00".into(),
        });
        self.field = SalesField::None;
        confirm(
            "Open account",
            lines,
            Pending::Open {
                tenant: t.tenant,
                transfer_in,
            },
        )
    }

    fn start_add_meter(&mut self, data: &SiteData) -> Effect {
        let Some(t) = &self.tenant else {
            return Effect::error(FIND_FIRST);
        };
        if self.has_account(data) != Some(true) {
            return Effect::error(format!(
                "{} has no open account: open it first (o)",
                t.tenant
            ));
        }
        self.reason.clear();
        self.op = MoneyOp::AddMeter;
        self.field = SalesField::Reason;
        Effect::info("number of the meter to add to the account (a meter installed later)")
    }

    fn start_money(&mut self, a: Action) -> Effect {
        let Some(t) = &self.tenant else {
            return Effect::error(FIND_FIRST);
        };
        self.amount.clear();
        self.reason.clear();
        match a {
            Action::Sell => {
                self.op = MoneyOp::Sale;
                self.field = SalesField::Amount;
                Effect::info(format!(
                    "amount to sell to {} (at most {}); Tab changes the payment method",
                    t.name,
                    money(t.max_topup_fen)
                ))
            }
            Action::Refund => {
                self.op = MoneyOp::Refund;
                self.field = SalesField::Amount;
                Effect::info(format!(
                    "amount to refund (at most {})",
                    money(t.balance_fen.max(0))
                ))
            }
            Action::CloseAccount => {
                self.op = MoneyOp::Close;
                self.field = SalesField::Amount;
                Effect::info(format!(
                    "final charge for {} in yuan (0 if none); the settlement is shown before anything happens",
                    t.name
                ))
            }
            _ => {
                let Some(op) = self.ops.get(self.selected_op) else {
                    return Effect::error("no operation selected to reverse");
                };
                if !matches!(op.kind.as_str(), "sale" | "refund") {
                    return Effect::error(format!(
                        "operation #{} is a {}; only sales and refunds can be reversed",
                        op.id, op.kind
                    ));
                }
                let id = op.id;
                self.op = MoneyOp::Reverse;
                self.field = SalesField::Reason;
                Effect::info(format!("reason for reversing #{id}"))
            }
        }
    }

    fn amount_entered(&mut self) -> Effect {
        let Some(t) = self.tenant.clone() else {
            return Effect::None;
        };
        if self.op == MoneyOp::Open {
            return match parse_money(&self.amount) {
                Some(0) => self.confirm_open(t, None),
                Some(_) => {
                    self.field = SalesField::Reason;
                    Effect::info("number of the old meter the balance comes from")
                }
                None => Effect::error(format!(
                    "{:?} is not an amount: type yuan like 0 or 120.50",
                    self.amount
                )),
            };
        }
        if self.op == MoneyOp::Close {
            let Some(charge) = parse_money(&self.amount) else {
                return Effect::error(format!(
                    "{:?} is not an amount: type yuan like 0 or 12.50",
                    self.amount
                ));
            };
            let left = t.balance_fen - charge;
            let settle = if left >= 0 {
                format!("pay back to the tenant: {}", money(left))
            } else {
                format!("collect from the tenant: {}", money(-left))
            };
            self.field = SalesField::None;
            return confirm(
                "Close account — settlement",
                vec![
                    format!("Close the account of {} {}", t.tenant, t.name),
                    format!(
                        "balance {}  − final charge {}",
                        money(t.balance_fen),
                        money(charge)
                    ),
                    settle,
                    "every meter of the account is closed; the balance ends at 0.00".into(),
                ],
                Pending::Close {
                    tenant: t.tenant,
                    final_charge_fen: charge,
                },
            );
        }
        let Some(fen) = parse_money(&self.amount).filter(|f| *f > 0) else {
            return Effect::error(format!(
                "{:?} is not an amount: type yuan like 50 or 50.00",
                self.amount
            ));
        };
        match self.op {
            MoneyOp::Sale => {
                if fen > t.max_topup_fen {
                    return Effect::error(format!(
                        "above the hoarding cap: at most {} now",
                        money(t.max_topup_fen)
                    ));
                }
                let prepaid = meter_mode_meters(&t);
                if prepaid.len() > 1 {
                    // The credit goes into one meter: the cashier names it before confirming.
                    self.reason.clear();
                    self.field = SalesField::Reason;
                    return Effect::info(format!(
                        "which meter gets the credit: {}",
                        prepaid.join(", ")
                    ));
                }
                self.confirm_sale(&t, fen, None)
            }
            _ => {
                if fen > t.balance_fen {
                    return Effect::error(format!(
                        "a refund is at most the balance, {}",
                        money(t.balance_fen.max(0))
                    ));
                }
                self.field = SalesField::Reason;
                Effect::info("reason for the refund (goes into the audit log)")
            }
        }
    }

    fn reason_entered(&mut self) -> Effect {
        let Some(t) = self.tenant.clone() else {
            return Effect::None;
        };
        let reason = self.reason.trim().to_string();
        if reason.is_empty() {
            return Effect::error(match self.op {
                MoneyOp::Open => "the old meter's number is required",
                MoneyOp::AddMeter => "type the meter number",
                _ => "a reason is required",
            });
        }
        if self.op == MoneyOp::Open {
            let fen = parse_money(&self.amount).unwrap_or(0);
            return self.confirm_open(t, Some((fen, reason)));
        }
        if self.op == MoneyOp::Sale {
            let prepaid = meter_mode_meters(&t);
            let Some(meter) = prepaid.iter().find(|m| m.eq_ignore_ascii_case(&reason)) else {
                return Effect::error(format!(
                    "{reason:?} is not one of {}'s meter-mode meters: {}",
                    t.tenant,
                    prepaid.join(", ")
                ));
            };
            let fen = parse_money(&self.amount).unwrap_or(0);
            return self.confirm_sale(&t, fen, Some(meter.clone()));
        }
        self.field = SalesField::None;
        if self.op == MoneyOp::AddMeter {
            return confirm(
                "Add a meter to the account",
                vec![
                    format!(
                        "Add meter {reason} to the account of {} {}",
                        t.tenant, t.name
                    ),
                    format!(
                        "balance {} (shared by all its meters)",
                        money(t.balance_fen)
                    ),
                ],
                Pending::AddMeter {
                    tenant: t.tenant.clone(),
                    meter: reason,
                },
            );
        }
        if self.op == MoneyOp::Refund {
            let fen = parse_money(&self.amount).unwrap_or(0);
            return confirm(
                "Confirm refund",
                vec![
                    format!("Refund {} to {} {}", money(fen), t.tenant, t.name),
                    format!("reason: {reason}"),
                    format!(
                        "balance {} → {}",
                        money(t.balance_fen),
                        money(t.balance_fen - fen)
                    ),
                ],
                Pending::Refund {
                    tenant: t.tenant.clone(),
                    amount_fen: fen,
                    reason,
                },
            );
        }
        let Some(op) = self.ops.get(self.selected_op).cloned() else {
            return Effect::None;
        };
        confirm(
            "Confirm reversal",
            vec![
                format!(
                    "Reverse operation #{} ({} {}) of {}",
                    op.id,
                    op.kind,
                    op.amount_fen.map(money).unwrap_or_default(),
                    t.name
                ),
                format!("reason: {reason}"),
                "a reversal is a new operation and can be done only once".into(),
            ],
            Pending::Reverse { op: op.id, reason },
        )
    }
}

/// The tenant's meters that keep their own balance (a sale's credit goes into one of them).
fn meter_mode_meters(t: &TenantView) -> Vec<String> {
    t.meters
        .iter()
        .filter(|m| m.billing == "meter")
        .map(|m| m.meter.clone())
        .collect()
}

impl SalesState {
    /// The sale's confirmation, naming the meter that receives the credit when there is a
    /// choice.
    fn confirm_sale(&mut self, t: &TenantView, fen: i64, meter: Option<String>) -> Effect {
        let method = METHODS[self.method].to_string();
        self.field = SalesField::None;
        let mut lines = vec![
            format!("Sell {} ({method}) to {} {}", money(fen), t.tenant, t.name),
            format!("units {}", t.units.join(", ")),
            format!(
                "balance {} → {}",
                money(t.balance_fen),
                money(t.balance_fen + fen)
            ),
        ];
        if let Some(m) = &meter {
            lines.push(format!("credit to meter {m}"));
        }
        confirm(
            "Confirm sale",
            lines,
            Pending::Sale {
                tenant: t.tenant.clone(),
                amount_fen: fen,
                method,
                meter,
            },
        )
    }
}

fn confirm(title: &str, lines: Vec<String>, p: Pending) -> Effect {
    Effect::Confirm(Confirm {
        title: title.into(),
        lines,
        pending: AnyPending::Sales(p),
    })
}
