//! Office: what the money paths of closing and refunds leave to settle. Refunds on
//! meter-mode meters waiting for the meter to confirm the withdrawal (with what to tell the
//! tenant, in Chinese and English), meters whose own credit could not be cleared at closing
//! (tripped, the balance they showed to settle by hand), and a tenant id's account history
//! across closings and reopenings. Read only: the money operations stay on screen 3.

use crate::api::ApiErr;
use crate::effect::{Effect, Reply as AnyReply};
use crate::keys::{Action, Context};
use crate::types::{AccountHistory, CloseSettlementView, PendingRefundView};

mod draw;
pub use draw::draw;

/// Most operations listed per account in the history.
pub const HISTORY_LIMIT: usize = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pane {
    #[default]
    Refunds,
    Settlements,
    History,
}

impl Pane {
    fn next(self) -> Pane {
        match self {
            Pane::Refunds => Pane::Settlements,
            Pane::Settlements => Pane::History,
            Pane::History => Pane::Refunds,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct OfficeState {
    pub refunds: Vec<PendingRefundView>,
    pub settlements: Vec<CloseSettlementView>,
    pub history: Option<AccountHistory>,
    pub pane: Pane,
    /// Selected row of the refunds / settlements pane, scroll of the history.
    pub refund_sel: usize,
    pub settlement_sel: usize,
    pub history_scroll: usize,
    /// The tenant id being typed for the history (Some while typing).
    pub lookup: Option<String>,
}

pub enum Reply {
    Lists {
        refunds: Result<Vec<PendingRefundView>, ApiErr>,
        settlements: Result<Vec<CloseSettlementView>, ApiErr>,
    },
    History {
        tenant: String,
        result: Box<Result<AccountHistory, ApiErr>>,
    },
}

impl From<Reply> for AnyReply {
    fn from(r: Reply) -> AnyReply {
        AnyReply::Office(r)
    }
}

/// Loads the pending refunds and the close settlements.
pub fn load() -> Effect {
    Effect::call(|api| {
        Reply::Lists {
            refunds: api.pending_refunds(),
            settlements: api.close_settlements(false),
        }
        .into()
    })
}

fn load_history(tenant: String) -> Effect {
    Effect::call(move |api| {
        let result = Box::new(api.account_history(&tenant, HISTORY_LIMIT));
        Reply::History { tenant, result }.into()
    })
}

/// History lines: one per account, then one per operation of it.
pub fn history_len(h: &AccountHistory) -> usize {
    h.accounts.iter().map(|a| 1 + a.operations.len()).sum()
}

impl OfficeState {
    pub fn context(&self) -> Context {
        if self.lookup.is_some() {
            Context::Typing
        } else {
            Context::Office
        }
    }

    pub fn type_char(&mut self, c: char) {
        if let Some(l) = self.lookup.as_mut() {
            crate::screens::push_char(l, c);
        }
    }

    pub fn typing(&mut self, a: Action) -> Effect {
        match a {
            Action::Backspace => {
                if let Some(l) = self.lookup.as_mut() {
                    l.pop();
                }
                Effect::None
            }
            Action::Back => {
                self.lookup = None;
                Effect::None
            }
            Action::Submit => {
                let Some(t) = self.lookup.take() else {
                    return Effect::None;
                };
                let t = t.trim().to_string();
                if t.is_empty() {
                    self.lookup = Some(t);
                    return Effect::error("type a tenant id, e.g. T0003");
                }
                self.pane = Pane::History;
                load_history(t)
            }
            _ => Effect::None,
        }
    }

    pub fn on_action(&mut self, a: Action) -> Effect {
        match a {
            Action::NextPane => self.pane = self.pane.next(),
            Action::Lookup => {
                self.lookup = Some(String::new());
                return Effect::info("tenant id (closed accounts included); Enter shows it");
            }
            Action::Down | Action::Up => {
                let down = a == Action::Down;
                let step = |v: usize, n: usize| {
                    if down {
                        (v + 1).min(n.saturating_sub(1))
                    } else {
                        v.saturating_sub(1)
                    }
                };
                match self.pane {
                    Pane::Refunds => self.refund_sel = step(self.refund_sel, self.refunds.len()),
                    Pane::Settlements => {
                        self.settlement_sel = step(self.settlement_sel, self.settlements.len())
                    }
                    Pane::History => {
                        let n = self.history.as_ref().map_or(0, history_len);
                        self.history_scroll = step(self.history_scroll, n);
                    }
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// The app's refresh key on this screen: the lists, and the history shown.
    pub fn reload(&self) -> Effect {
        let h = self
            .history
            .as_ref()
            .map_or(Effect::None, |h| load_history(h.tenant.clone()));
        load().and(h)
    }

    pub fn on_reply(&mut self, r: Reply) -> Effect {
        match r {
            Reply::Lists {
                refunds,
                settlements,
            } => {
                let mut errors = Vec::new();
                match refunds {
                    Ok(v) => {
                        self.refund_sel = self.refund_sel.min(v.len().saturating_sub(1));
                        self.refunds = v;
                    }
                    Err(e) => errors.push(format!("pending refunds: {}", e.message)),
                }
                match settlements {
                    Ok(v) => {
                        self.settlement_sel = self.settlement_sel.min(v.len().saturating_sub(1));
                        self.settlements = v;
                    }
                    Err(e) => errors.push(format!("close settlements: {}", e.message)),
                }
                if errors.is_empty() {
                    Effect::None
                } else {
                    Effect::error(errors.join("; "))
                }
            }
            Reply::History { tenant, result } => match *result {
                Ok(h) => {
                    let n = h.accounts.len();
                    let closed = h.accounts.iter().filter(|a| a.status == "closed").count();
                    self.history = Some(h);
                    self.history_scroll = 0;
                    Effect::info(format!(
                        "{tenant}: {n} account(s), {closed} closed — Tab here, ↑↓ scroll"
                    ))
                }
                Err(e) => Effect::error(format!("history of {tenant}: {}", e.message)),
            },
        }
    }
}
