//! Tenants & sales: find a tenant by unit, sell, refund, reverse, open and close the
//! account, add a meter — the state, what the keys do, and the draw.

use crate::api::{Api, ApiErr};
use crate::app::{App, Confirm, Pending as AnyPending};
use crate::data::{OpLine, SiteData};
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{Action, Context};
use crate::types::{
    AddMeterRequest, CloseAccountRequest, OpResult, OpenAccountRequest, Operation, PrintStatus,
    RefundRequest, ReverseRequest, SaleRequest, SaleResult, TenantRow, TenantView,
};
use crate::widgets::{money, parse_money};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

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

/// A money operation waiting for the cashier's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Sale {
        tenant: String,
        amount_fen: i64,
        method: String,
    },
    Refund {
        tenant: String,
        amount_fen: i64,
        reason: String,
    },
    Reverse {
        op: u64,
        reason: String,
    },
    Open {
        tenant: String,
        /// (fen, old meter number) carried over from an old meter.
        transfer_in: Option<(i64, String)>,
    },
    AddMeter {
        tenant: String,
        meter: String,
    },
    Close {
        tenant: String,
        final_charge_fen: i64,
    },
}

/// A tenant's view, the tenant list (it carries `has_account`) and their operations.
pub struct TenantLoad {
    id: String,
    view: Result<TenantView, ApiErr>,
    tenants: Option<Vec<TenantRow>>,
    ops: Option<Vec<Operation>>,
}

fn fetch_tenant(api: &mut Api<'_>, id: String) -> TenantLoad {
    let view = api.tenant(&id);
    let tenants = api.tenants().ok();
    let ops = api.operations(Some(&id), 20).ok();
    TenantLoad {
        id,
        view,
        tenants,
        ops,
    }
}

/// Loads a tenant into the screen.
pub fn load_tenant(id: String) -> Effect {
    Effect::call(move |api| Reply::Tenant(fetch_tenant(api, id)).into())
}

/// The tenant reloaded in the same job as a money operation that went through, so the
/// result and the new balance show together.
fn reload_after<T>(api: &mut Api<'_>, tenant: &str, r: &Result<T, ApiErr>) -> Option<TenantLoad> {
    r.is_ok().then(|| fetch_tenant(api, tenant.to_string()))
}

pub enum Reply {
    /// The tenant list, loaded for a lookup typed before the first refresh.
    Lookup {
        query: String,
        tenants: Option<Vec<TenantRow>>,
    },
    Tenant(TenantLoad),
    Sold {
        amount_fen: i64,
        result: Result<SaleResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
    Refunded {
        amount_fen: i64,
        result: Result<OpResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
    MeterAdded {
        tenant: String,
        meter: String,
        result: Result<OpResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
    Opened {
        tenant: String,
        result: Result<OpResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
    Closed {
        tenant: String,
        final_charge_fen: i64,
        result: Result<OpResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
    /// The reversal, and the shown tenant reloaded after it.
    Reversed {
        op: u64,
        result: Result<OpResult, ApiErr>,
        reloaded: Option<TenantLoad>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Sales(r)
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
                let method = METHODS[self.method].to_string();
                self.field = SalesField::None;
                confirm(
                    "Confirm sale",
                    vec![
                        format!("Sell {} ({method}) to {} {}", money(fen), t.tenant, t.name),
                        format!("units {}", t.units.join(", ")),
                        format!(
                            "balance {} → {}",
                            money(t.balance_fen),
                            money(t.balance_fen + fen)
                        ),
                    ],
                    Pending::Sale {
                        tenant: t.tenant.clone(),
                        amount_fen: fen,
                        method,
                    },
                )
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

    /// `y` on a money dialog: the call, under the idempotency key of this confirmation.
    pub fn confirmed(&self, p: Pending, key: String) -> Effect {
        match p {
            Pending::Sale {
                tenant,
                amount_fen,
                method,
            } => Effect::call(move |api| {
                let result = api.sale(&SaleRequest {
                    tenant: tenant.clone(),
                    amount_fen,
                    method,
                    idempotency_key: key,
                    print: None,
                });
                let reloaded = reload_after(api, &tenant, &result);
                Reply::Sold {
                    amount_fen,
                    result,
                    reloaded,
                }
                .into()
            }),
            Pending::Refund {
                tenant,
                amount_fen,
                reason,
            } => Effect::call(move |api| {
                let result = api.refund(&RefundRequest {
                    tenant: tenant.clone(),
                    amount_fen,
                    reason,
                    idempotency_key: key,
                });
                let reloaded = reload_after(api, &tenant, &result);
                Reply::Refunded {
                    amount_fen,
                    result,
                    reloaded,
                }
                .into()
            }),
            Pending::AddMeter { tenant, meter } => Effect::call(move |api| {
                let result = api.add_meter(
                    &tenant,
                    &AddMeterRequest {
                        meter: meter.clone(),
                        idempotency_key: key,
                    },
                );
                let reloaded = reload_after(api, &tenant, &result);
                Reply::MeterAdded {
                    tenant,
                    meter,
                    result,
                    reloaded,
                }
                .into()
            }),
            Pending::Open {
                tenant,
                transfer_in,
            } => Effect::call(move |api| {
                let (fen, old) = transfer_in.unzip();
                let result = api.open_account(&OpenAccountRequest {
                    tenant: tenant.clone(),
                    meters: None,
                    transfer_in_fen: fen,
                    old_meter_serial: old,
                    idempotency_key: key,
                });
                let reloaded = reload_after(api, &tenant, &result);
                Reply::Opened {
                    tenant,
                    result,
                    reloaded,
                }
                .into()
            }),
            Pending::Close {
                tenant,
                final_charge_fen,
            } => Effect::call(move |api| {
                let result = api.close_account(
                    &tenant,
                    &CloseAccountRequest {
                        final_charge_fen,
                        idempotency_key: key,
                    },
                );
                let reloaded = reload_after(api, &tenant, &result);
                Reply::Closed {
                    tenant,
                    final_charge_fen,
                    result,
                    reloaded,
                }
                .into()
            }),
            Pending::Reverse { op, reason } => {
                let shown = self.tenant.as_ref().map(|t| t.tenant.clone());
                Effect::call(move |api| {
                    let result = api.reverse(&ReverseRequest {
                        op,
                        reason,
                        idempotency_key: key,
                    });
                    let reloaded = match (&result, shown) {
                        (Ok(_), Some(id)) => Some(fetch_tenant(api, id)),
                        _ => None,
                    };
                    Reply::Reversed {
                        op,
                        result,
                        reloaded,
                    }
                    .into()
                })
            }
        }
    }

    /// A completed operation: shown large, with the tenant as reloaded after it.
    fn done(&mut self, msg: String, reloaded: Option<TenantLoad>, data: &mut SiteData) -> Effect {
        self.last_result = Some(msg.clone());
        let e = match reloaded {
            Some(l) => self.apply_load(l, data),
            None => Effect::None,
        };
        Effect::info(msg).and(e)
    }

    fn apply_load(&mut self, l: TenantLoad, data: &mut SiteData) -> Effect {
        let e = match l.view {
            Ok(t) => {
                self.tenant = Some(t);
                Effect::None
            }
            Err(e) => Effect::error(format!("tenant {}: {}", l.id, e.message)),
        };
        if let Some(t) = l.tenants {
            data.tenants = t;
        }
        if let Some(ops) = l.ops {
            self.ops = ops.iter().filter_map(OpLine::from_op).collect();
            self.selected_op = 0;
        }
        e
    }

    pub fn on_reply(&mut self, r: Reply, data: &mut SiteData) -> Effect {
        match r {
            Reply::Lookup { query, tenants } => {
                if let Some(t) = tenants {
                    data.tenants = t;
                }
                self.found(&query, &data.tenants)
            }
            Reply::Tenant(l) => self.apply_load(l, data),
            Reply::Sold {
                amount_fen,
                result,
                reloaded,
            } => match result {
                Ok(v) => {
                    let printed = match v.print {
                        PrintStatus::Pending => "pending",
                        PrintStatus::Printed { .. } => "printed",
                        PrintStatus::Failed { .. } => "failed",
                    };
                    let msg = format!(
                        "SOLD {} — new balance {} — receipt {} ({printed})",
                        money(amount_fen),
                        money(v.balance_after_fen),
                        v.receipt_no
                    );
                    self.done(msg, reloaded, data)
                }
                Err(e) => Effect::error(format!("sale refused: {}", e.message)),
            },
            Reply::Refunded {
                amount_fen,
                result,
                reloaded,
            } => match result {
                Ok(v) => {
                    let msg = format!(
                        "REFUNDED {} — new balance {}",
                        money(amount_fen),
                        v.balance_after_fen.map(money).unwrap_or_else(|| "?".into())
                    );
                    self.done(msg, reloaded, data)
                }
                Err(e) => Effect::error(format!("refund refused: {}", e.message)),
            },
            Reply::MeterAdded {
                tenant,
                meter,
                result,
                reloaded,
            } => match result {
                Ok(_) => {
                    let msg = format!("ADDED meter {meter} to the account of {tenant}");
                    self.done(msg, reloaded, data)
                }
                Err(e) => Effect::error(format!("adding the meter refused: {}", e.message)),
            },
            Reply::Opened {
                tenant,
                result,
                reloaded,
            } => match result {
                Ok(v) => {
                    let msg = format!(
                        "OPENED account of {tenant} — balance {}",
                        money(v.balance_after_fen.unwrap_or(0))
                    );
                    self.done(msg, reloaded, data)
                }
                Err(e) => Effect::error(format!("open refused: {}", e.message)),
            },
            Reply::Closed {
                tenant,
                final_charge_fen,
                result,
                reloaded,
            } => match result {
                Ok(_) => {
                    let msg = format!(
                        "CLOSED account of {tenant} — final charge {} — balance 0.00",
                        money(final_charge_fen)
                    );
                    self.done(msg, reloaded, data)
                }
                Err(e) => Effect::error(format!("close refused: {}", e.message)),
            },
            Reply::Reversed {
                op,
                result,
                reloaded,
            } => match result {
                Ok(v) => {
                    let e = match reloaded {
                        Some(l) => self.apply_load(l, data),
                        None => Effect::None,
                    };
                    let bal = self
                        .tenant
                        .as_ref()
                        .map(|t| money(t.balance_fen))
                        .unwrap_or_default();
                    let msg = format!("REVERSED #{op} as #{} — new balance {bal}", v.op);
                    self.last_result = Some(msg.clone());
                    e.and(Effect::info(msg))
                }
                Err(e) => Effect::error(format!("reversal refused: {}", e.message)),
            },
        }
    }
}

fn confirm(title: &str, lines: Vec<String>, p: Pending) -> Effect {
    Effect::Confirm(Confirm {
        title: title.into(),
        lines,
        pending: AnyPending::Sales(p),
    })
}

fn input<'a>(label: &'a str, value: &str, active: bool) -> Line<'a> {
    let st = if active {
        Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default().fg(Color::Gray)
    };
    Line::from(vec![
        Span::styled(format!("{label}: "), st),
        Span::styled(format!("{value}{}", if active { "█" } else { "" }), st),
    ])
}

pub fn draw(f: &mut Frame, area: Rect, app: &App) {
    let s = &app.sales;
    let [form, main] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut l = vec![input(
        "Unit / tenant",
        &s.lookup,
        s.field == SalesField::Lookup,
    )];
    match (s.field, s.op) {
        (SalesField::Amount, MoneyOp::Sale) => {
            let mut spans = input("Sell amount ¥", &s.amount, true).spans;
            spans.push(Span::raw(format!("   method: {} (Tab)", METHODS[s.method])));
            l.push(Line::from(spans));
        }
        (SalesField::Amount, MoneyOp::Close) => l.push(input("Final charge ¥", &s.amount, true)),
        (SalesField::Amount, MoneyOp::Open) => {
            l.push(input("Carried over from an old meter ¥", &s.amount, true))
        }
        (SalesField::Reason, MoneyOp::Open) => l.push(input("Old meter number", &s.reason, true)),
        (SalesField::Reason, MoneyOp::AddMeter) => l.push(input("Meter to add", &s.reason, true)),
        (SalesField::Amount, _) => l.push(input("Refund amount ¥", &s.amount, true)),
        (SalesField::Reason, _) => l.push(input("Reason", &s.reason, true)),
        _ => l.push(Line::from(Span::styled(
            "/ find  s sell  f refund  v reverse  o open  m add meter  C close  Esc clear",
            Style::default().fg(Color::DarkGray),
        ))),
    }
    f.render_widget(
        Paragraph::new(l).block(Block::default().borders(Borders::BOTTOM)),
        form,
    );
    let Some(t) = &s.tenant else {
        f.render_widget(
            Paragraph::new("Type a unit (e.g. A-101), a tenant id or part of a name, then Enter.")
                .block(Block::default().borders(Borders::ALL).title(" Tenant ")),
            main,
        );
        return;
    };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
    let status_style = match t.status.as_str() {
        "arrears" | "tripped" => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        "alarm2" => Style::default().fg(Color::LightRed),
        "alarm1" => Style::default().fg(Color::Yellow),
        _ => Style::default().fg(Color::Green),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            format!("{} {}", t.tenant, t.name),
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Line::from(format!(
            "units {}  account {}",
            t.units.join(", "),
            match s.has_account(&app.data) {
                Some(true) => "on file",
                Some(false) => "NOT OPEN (o opens it)",
                None => "?",
            }
        )),
        Line::from(vec![
            Span::raw("balance "),
            Span::styled(
                format!("¥{}", money(t.balance_fen)),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw("  "),
            Span::styled(t.status.clone(), status_style),
        ]),
        Line::from(format!("can top up at most ¥{}", money(t.max_topup_fen))),
    ];
    for m in &t.meters {
        lines.push(Line::from(format!(
            " {} {} {} {}",
            m.meter,
            m.unit.as_deref().unwrap_or(""),
            // Relay "closed" means power flows; say it the way a cashier would.
            match m.relay.as_str() {
                "closed" => "power on",
                "open" => "POWER OFF",
                _ => "power ?",
            },
            match m.online {
                Some(false) => "OFFLINE",
                _ => "",
            }
        )));
    }
    if let Some(r) = &s.last_result {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            r.clone(),
            Style::default()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).title(" Tenant ")),
        left,
    );
    // Below 60 columns the time is left out so kind and amounts stay readable.
    let wide = right.width >= 60;
    let rows: Vec<Row> = s
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut cells = vec![format!("#{}", o.id)];
            if wide {
                cells.push(o.at.get(5..).unwrap_or(&o.at).to_string());
            }
            cells.extend([
                o.kind.clone(),
                o.amount_fen.map(money).unwrap_or_default(),
                o.balance_after_fen.map(money).unwrap_or_default(),
            ]);
            let r = Row::new(cells);
            if i == s.selected_op {
                r.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                r
            }
        })
        .collect();
    let (widths, header) = if wide {
        (
            vec![
                Constraint::Length(5),
                Constraint::Length(11),
                Constraint::Min(8),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
            vec!["op", "at (UTC)", "kind", "amount", "balance"],
        )
    } else {
        (
            vec![
                Constraint::Length(5),
                Constraint::Min(8),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
            vec!["op", "kind", "amount", "balance"],
        )
    };
    let t = Table::new(rows, widths)
        .header(Row::new(header).style(Style::default().fg(Color::DarkGray)))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Operations (↑↓ select, v reverse) "),
        );
    f.render_widget(t, right);
}
