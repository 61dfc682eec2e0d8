//! The money operations' calls, and their answers applied to the screen.

use super::SalesState;
use crate::api::{Api, ApiErr};
use crate::data::{OpLine, SiteData};
use crate::effect::{Effect, Reply as AnyReply};
use crate::types::{
    AddMeterRequest, CloseAccountRequest, OpResult, OpenAccountRequest, Operation, PrintStatus,
    RefundRequest, ReverseRequest, SaleRequest, SaleResult, TenantRow, TenantView,
};
use crate::widgets::money;

/// A money operation waiting for the cashier's `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Sale {
        tenant: String,
        amount_fen: i64,
        method: String,
        /// The meter-mode meter that receives the credit (a tenant with several).
        meter: Option<String>,
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

impl SalesState {
    /// `y` on a money dialog: the call, under the idempotency key of this confirmation.
    pub fn confirmed(&self, p: Pending, key: String) -> Effect {
        match p {
            Pending::Sale {
                tenant,
                amount_fen,
                method,
                meter,
            } => Effect::call(move |api| {
                let result = api.sale(&SaleRequest {
                    tenant: tenant.clone(),
                    amount_fen,
                    method,
                    idempotency_key: key,
                    print: None,
                    meter,
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
                    meter: None,
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
            self.ops = ops.iter().map(OpLine::from_op).collect();
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
                    let balance = v.balance_after_fen.map(money).unwrap_or_else(|| "?".into());
                    // A meter-mode refund is paid out only once the meter gave the credit back.
                    let msg = match &v.pending {
                        Some(why) => format!("REFUND PENDING — new balance {balance} — {why}"),
                        None => format!("REFUNDED {} — new balance {balance}", money(amount_fen)),
                    };
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
