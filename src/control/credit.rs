//! Credit pushes to meter-billed meters (issue 4 item 4): a sale queues `PushCredit`; this
//! step issues the 3DES token for the meter (key diversified from the site master key with
//! the meter's 12-digit serial, which is its id), writes it, and READS BACK the purchase
//! count (比对充值次数). A count that does not match raises a credit-mismatch event and puts
//! the meter on hold: no further credit goes to it until an operator resolves the hold.
//!
//! The same path carries withdrawals (a refund on a meter-mode meter) and clears (its
//! account closed): each takes the meter's next purchase count and is confirmed by reading
//! the count back. A clear the meter cannot take (no key, a refused token, a meter that does
//! not answer) trips the relay instead and records the balance the meter showed
//! ([`CloseSettlement`]). Before a token is written, [`outbox::mark_sent_in`] marks it sent
//! in a write that re-checks the outbox: a sale reversed in the meantime sends nothing.

use jiff::Timestamp;
use redb::{ReadableDatabase, TableDefinition, TableError};
use serde_json::json;

use serde::{Deserialize, Serialize};

use super::{CommandRecord, CommandState, Control, ControlError, system};
use crate::auth::{Actor, audit};
use crate::field::events::{self, FieldEventKind};
use crate::field::meter_io::MeterRequest;
use crate::ledger::outbox::{self, MeterCommand};
use crate::protocol::credit::{CreditToken, TokenKind, diversify};
use crate::site::MeterId;
use crate::store::{Store, StoreError};
use crate::units::Fen;

/// meter id → why its credit is held (a mismatch not yet resolved).
pub const CREDIT_HOLD: TableDefinition<&str, &str> = TableDefinition::new("control_credit_hold");

/// Why credit to `meter` is held, if it is.
pub fn credit_hold(store: &Store, meter: &MeterId) -> Result<Option<String>, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(CREDIT_HOLD) {
        Ok(t) => Ok(t.get(meter.as_str())?.map(|v| v.value().to_string())),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// An operator resolves a credit mismatch (after checking the meter): the hold ends, the
/// alarm clears, the audit names the operator. False when the meter was not on hold.
pub fn resolve_credit_hold(
    store: &Store,
    actor: &Actor,
    meter: &MeterId,
) -> Result<bool, StoreError> {
    let actor = actor.clone();
    let meter = meter.clone();
    store.write(move |txn| {
        let was = txn
            .open_table(CREDIT_HOLD)?
            .remove(meter.as_str())?
            .map(|v| v.value().to_string());
        let Some(why) = was else {
            return Ok(false);
        };
        events::append_in(
            txn,
            Timestamp::now(),
            FieldEventKind::CreditMismatchResolved {
                meter: meter.clone(),
                by: actor.label(),
            },
        )?;
        audit::append_in(
            txn,
            &actor,
            "control.credit_hold.resolve",
            json!({ "meter": meter.as_str(), "was": why }),
        )?;
        Ok(true)
    })
}

/// meter id → JSON [`CloseSettlement`]: what became of a meter-mode meter's own credit when
/// its account closed (the latest closing of that meter).
pub const CLOSE_SETTLEMENTS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("control_close_settlements");

/// A meter-mode meter's credit at its account's closing: cleared, or (when the meter could
/// not be cleared) tripped with the balance it showed, for staff to settle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseSettlement {
    pub meter: MeterId,
    /// The `ClearCredit` command.
    pub outbox: u64,
    pub cleared: bool,
    /// The meter's own balance read just before clearing (None: it could not be read).
    pub balance_before: Option<Fen>,
    /// Why it could not be cleared.
    pub why: Option<String>,
    pub at: Timestamp,
}

/// What became of `meter`'s credit at its latest account closing.
pub fn close_settlement(
    store: &Store,
    meter: &MeterId,
) -> Result<Option<CloseSettlement>, StoreError> {
    let txn = store.db().begin_read()?;
    match txn.open_table(CLOSE_SETTLEMENTS) {
        Ok(t) => t
            .get(meter.as_str())?
            .map(|v| crate::store::decode("control_close_settlements", v.value()))
            .transpose(),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Every meter's latest close settlement, newest first.
pub fn close_settlements(store: &Store) -> Result<Vec<CloseSettlement>, StoreError> {
    use redb::ReadableTable;
    let txn = store.db().begin_read()?;
    let t = match txn.open_table(CLOSE_SETTLEMENTS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for row in t.iter()? {
        let (_, v) = row?;
        out.push(crate::store::decode::<CloseSettlement>(
            "control_close_settlements",
            v.value(),
        )?);
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.meter.cmp(&b.meter)));
    Ok(out)
}

/// The token a command writes: its kind, amount and purchase count.
pub(super) fn token_of(c: &MeterCommand) -> Option<(TokenKind, Fen, u32)> {
    match *c {
        MeterCommand::PushCredit {
            amount,
            purchase_count,
        } => Some((TokenKind::Credit, amount, purchase_count)),
        MeterCommand::WithdrawCredit {
            amount,
            purchase_count,
        } => Some((TokenKind::Withdraw, amount, purchase_count)),
        MeterCommand::ClearCredit { purchase_count } => {
            Some((TokenKind::Clear, Fen::ZERO, purchase_count))
        }
        _ => None,
    }
}

impl Control {
    /// Advances one token command (`PushCredit`, `WithdrawCredit`, `ClearCredit`); true when
    /// it reached a final state. Every kind is confirmed the same way: the meter's purchase
    /// count read back equals the token's.
    pub(super) async fn step_credit(&self, mut rec: CommandRecord) -> Result<bool, ControlError> {
        let Some((kind, amount, count)) = token_of(&rec.command) else {
            return Ok(false);
        };
        if let Some(why) = credit_hold(&self.store, &rec.meter)? {
            if kind == TokenKind::Clear {
                let why = format!("credit held: {why}");
                return self.clear_failed(rec, None, why).await;
            }
            // Stays queued and visible; looked at again after the backoff.
            rec.last_error = Some(format!("held: {why}; resolve the mismatch first"));
            rec.next_try = Timestamp::now()
                + jiff::SignedDuration::try_from(self.config.backoff).unwrap_or_default();
            self.save(&rec).await?;
            return Ok(false);
        }
        let Some(master) = self.config.credit_key else {
            let why = "no site credit key is configured".to_string();
            if kind == TokenKind::Clear {
                return self.clear_failed(rec, None, why).await;
            }
            return self
                .finish_token(rec, kind, CommandState::Failed(why))
                .await;
        };
        // Sent before (a restart, a lost answer): the read-back decides, never a resend of a
        // token the meter may already have taken. A clear reads first anyway, to record the
        // balance it takes off.
        let read = if rec.state == CommandState::Sent || kind == TokenKind::Clear {
            Some(self.read_back(&rec.meter).await)
        } else {
            None
        };
        let (already, before) = match read {
            Some(Ok(r)) => (r.live_values().purchase_count, r.live_values().balance),
            Some(Err(e)) => return self.token_attempt(rec, kind, None, e).await,
            None => (None, None),
        };
        if already == Some(count) {
            return self.token_confirmed(rec, kind, before).await;
        }
        let serial = rec.meter.to_string();
        let token = match diversify(&master, &serial).and_then(|k| {
            CreditToken::issue_kind(&k, &serial, count, kind, amount, Timestamp::now())
        }) {
            Ok(t) => t,
            Err(e) => {
                let why = format!("cannot issue the token: {e}");
                if kind == TokenKind::Clear {
                    return self.clear_failed(rec, before, why).await;
                }
                return self
                    .finish_token(rec, kind, CommandState::Failed(why))
                    .await;
            }
        };
        // The commitment to send, in one write that re-checks the outbox: a reversal that
        // withdrew the push in the meantime wins, and nothing is sent.
        if !self.mark_sent(&mut rec).await? {
            self.finish(
                rec,
                CommandState::Failed("withdrawn before it was sent (the sale was reversed)".into()),
            )
            .await?;
            return Ok(true);
        }
        let sent = self
            .ask(
                &rec.meter,
                MeterRequest::WriteBytes {
                    register: "credit_token".into(),
                    bytes: token.to_vec(),
                },
            )
            .await;
        if let Err(e) = &sent {
            tracing::warn!(meter = %rec.meter, outbox = rec.id, error = %e, "token write not acknowledged");
        }
        let read = match self.read_back(&rec.meter).await {
            Ok(r) => r,
            Err(e) => return self.token_attempt(rec, kind, before, e).await,
        };
        match read.live_values().purchase_count {
            Some(c) if c == count => self.token_confirmed(rec, kind, before).await,
            Some(c) => {
                let why = format!(
                    "the meter's purchase count is {c} after {} {count} ({})",
                    token_name(kind),
                    match &sent {
                        Ok(_) => "the token was accepted".to_string(),
                        Err(e) => format!("the meter refused the token: {e}"),
                    }
                );
                if kind == TokenKind::Withdraw && c + 1 == count && sent.is_err() {
                    // The meter refused the withdrawal (not enough credit left on it): the
                    // sequence is intact, so no hold.
                    let state = CommandState::Failed(format!("withdrawal refused: {why}"));
                    return self.finish_token(rec, kind, state).await;
                }
                self.hold(&rec.meter, &why).await?;
                if kind == TokenKind::Clear {
                    return self.clear_failed(rec, before, why).await;
                }
                let state = CommandState::Failed(format!("credit mismatch: {why}"));
                self.finish_token(rec, kind, state).await
            }
            None => {
                let why = "the purchase count was not read back".to_string();
                self.token_attempt(rec, kind, before, why).await
            }
        }
    }

    /// Marks the command sent in the outbox and its record, in one write; false when the
    /// outbox entry is gone (reversed).
    async fn mark_sent(&self, rec: &mut CommandRecord) -> Result<bool, ControlError> {
        let mut next = rec.clone();
        next.sends += 1;
        next.state = CommandState::Sent;
        next.updated = Timestamp::now();
        let saved = next.clone();
        let ok = self
            .store
            .write_async(move |txn| {
                if outbox::mark_sent_in(txn, saved.id)?.is_none() {
                    return Ok::<_, StoreError>(false);
                }
                super::put_in(txn, &saved)?;
                Ok(true)
            })
            .await?;
        if ok {
            *rec = next;
        }
        Ok(ok)
    }

    async fn token_confirmed(
        &self,
        rec: CommandRecord,
        kind: TokenKind,
        before: Option<Fen>,
    ) -> Result<bool, ControlError> {
        if kind == TokenKind::Clear {
            self.settle_close(&rec, true, before, None).await?;
        }
        self.finish_token(rec, kind, CommandState::Confirmed).await
    }

    /// A final state; a withdrawal settles its refund first (paid when confirmed, else
    /// cancelled: the money goes back on the account, as the meter still holds it). The
    /// settlement is idempotent, so a stop between the two settles once on the next pass.
    async fn finish_token(
        &self,
        rec: CommandRecord,
        kind: TokenKind,
        state: CommandState,
    ) -> Result<bool, ControlError> {
        if kind == TokenKind::Withdraw {
            let paid = state == CommandState::Confirmed;
            let reason = match &state {
                CommandState::Failed(why) => why.clone(),
                _ => format!("meter {} confirmed the withdrawal", rec.meter),
            };
            let settle = crate::ledger::Request::SettleRefund(crate::ledger::SettleRefund {
                op: rec.cause_op,
                paid,
                reason,
            });
            let key = crate::ledger::refund_settle_key(rec.cause_op);
            match self.ledger.submit_async(&system(), &key, settle).await {
                Ok(_) | Err(crate::ledger::LedgerError::KeyReused { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.finish(rec, state).await?;
        Ok(true)
    }

    /// A failed attempt; a clear that runs out of attempts trips the meter instead.
    async fn token_attempt(
        &self,
        rec: CommandRecord,
        kind: TokenKind,
        before: Option<Fen>,
        why: String,
    ) -> Result<bool, ControlError> {
        if kind == TokenKind::Clear && rec.attempts + 1 >= self.config.max_attempts {
            let why = format!("{why} (after {} attempts)", rec.attempts + 1);
            return self.clear_failed(rec, before, why).await;
        }
        if kind == TokenKind::Withdraw {
            return self.withdrawal_waits(rec, why).await;
        }
        self.failed_attempt(rec, why).await
    }

    /// A withdrawal the meter did not answer never fails: the refund waits, and the meter
    /// is asked again (backoff doubling up to 64 × the base) until it answers.
    async fn withdrawal_waits(
        &self,
        mut rec: CommandRecord,
        why: String,
    ) -> Result<bool, ControlError> {
        rec.attempts = rec.attempts.saturating_add(1);
        rec.last_error = Some(format!(
            "{why}; 退费等待电表应答 / the refund waits until the meter answers"
        ));
        let wait = self
            .config
            .backoff
            .saturating_mul(1u32 << rec.attempts.saturating_sub(1).min(6));
        rec.next_try = Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
            .unwrap_or_else(|_| Timestamp::now());
        rec.updated = Timestamp::now();
        tracing::warn!(meter = %rec.meter, outbox = rec.id, attempt = rec.attempts, %why,
            "withdrawal not confirmed; the refund waits");
        self.save(&rec).await?;
        Ok(false)
    }

    /// The meter's credit cannot be cleared: its relay is tripped instead (queued now) and
    /// the balance it showed is recorded for staff to settle.
    async fn clear_failed(
        &self,
        rec: CommandRecord,
        before: Option<Fen>,
        why: String,
    ) -> Result<bool, ControlError> {
        // The balance to settle: read now if it was not read on the way here (best effort;
        // a meter that does not answer leaves it unknown).
        let before = match before {
            Some(b) => Some(b),
            None => match self.read_back(&rec.meter).await {
                Ok(r) => r.live_values().balance,
                Err(_) => None,
            },
        };
        let (meter, actor) = (rec.meter.clone(), super::system().label());
        let trip = self
            .store
            .write_async(move |txn| super::queue_in(txn, &meter, MeterCommand::Trip, &actor))
            .await?;
        tracing::warn!(meter = %rec.meter, outbox = rec.id, trip, %why,
            "closing: the meter's credit cannot be cleared; tripped instead");
        self.settle_close(&rec, false, before, Some(why.clone()))
            .await?;
        let reason = format!(
            "cannot clear the meter's credit: {why}; trip {trip} queued, balance {} recorded for settlement",
            before.map_or("unknown".to_string(), |b| b.to_string())
        );
        self.finish(rec, CommandState::Failed(reason)).await?;
        Ok(true)
    }

    async fn settle_close(
        &self,
        rec: &CommandRecord,
        cleared: bool,
        before: Option<Fen>,
        why: Option<String>,
    ) -> Result<(), ControlError> {
        let s = CloseSettlement {
            meter: rec.meter.clone(),
            outbox: rec.id,
            cleared,
            balance_before: before,
            why,
            at: Timestamp::now(),
        };
        self.store
            .write_async(move |txn| {
                txn.open_table(CLOSE_SETTLEMENTS)?
                    .insert(s.meter.as_str(), crate::store::encode(&s).as_slice())?;
                audit::append_in(txn, &system(), "control.close_settlement", json!(s))?;
                Ok::<_, StoreError>(())
            })
            .await?;
        Ok(())
    }

    async fn hold(&self, meter: &MeterId, why: &str) -> Result<(), ControlError> {
        let (m, w) = (meter.clone(), why.to_string());
        self.store
            .write_async(move |txn| {
                txn.open_table(CREDIT_HOLD)?
                    .insert(m.as_str(), w.as_str())?;
                events::append_in(
                    txn,
                    Timestamp::now(),
                    FieldEventKind::CreditMismatch {
                        meter: m.clone(),
                        why: w.clone(),
                    },
                )?;
                audit::append_in(
                    txn,
                    &system(),
                    "control.credit_hold",
                    json!({ "meter": m.as_str(), "why": w.as_str() }),
                )?;
                Ok::<_, StoreError>(())
            })
            .await?;
        tracing::warn!(%meter, why, "credit mismatch: further credit held");
        Ok(())
    }
}

fn token_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Credit => "credit",
        TokenKind::Withdraw => "withdrawal",
        TokenKind::Clear => "clear",
    }
}
