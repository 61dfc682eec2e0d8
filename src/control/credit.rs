//! Credit pushes to meter-billed meters (issue 4 item 4): a sale queues `PushCredit`; this
//! step issues the 3DES token for the meter (key diversified from the site master key with
//! the meter's 12-digit serial, which is its id), writes it, and READS BACK the purchase
//! count (比对充值次数). A count that does not match raises a credit-mismatch event and puts
//! the meter on hold: no further credit goes to it until an operator resolves the hold.

use jiff::Timestamp;
use redb::{ReadableDatabase, TableDefinition, TableError};
use serde_json::json;

use super::{CommandRecord, CommandState, Control, ControlError, system};
use crate::auth::{Actor, audit};
use crate::field::events::{self, FieldEventKind};
use crate::field::meter_io::{MeterRequest, MeterResponse};
use crate::protocol::credit::{CreditToken, diversify};
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

impl Control {
    /// Advances one `PushCredit`; true when it reached a final state.
    pub(super) async fn step_credit(
        &self,
        mut rec: CommandRecord,
        amount: Fen,
        count: u32,
    ) -> Result<bool, ControlError> {
        if let Some(why) = credit_hold(&self.store, &rec.meter)? {
            // Stays queued and visible; looked at again after the backoff.
            rec.last_error = Some(format!("held: {why}; resolve the mismatch first"));
            rec.next_try = Timestamp::now()
                + jiff::SignedDuration::try_from(self.config.backoff).unwrap_or_default();
            self.save(&rec).await?;
            return Ok(false);
        }
        let Some(master) = self.config.credit_key else {
            self.finish(
                rec,
                CommandState::Failed("no site credit key is configured".into()),
            )
            .await?;
            return Ok(true);
        };
        // Sent before (a restart, a lost answer): the read-back decides, never a resend of a
        // token the meter may already have taken.
        let read = if rec.state == CommandState::Sent {
            Some(self.read_back(&rec.meter).await)
        } else {
            None
        };
        let already = match read {
            Some(Ok(r)) => r.live_values().purchase_count,
            Some(Err(e)) => return self.failed_attempt(rec, e).await,
            None => None,
        };
        if already == Some(count) {
            self.finish(rec, CommandState::Confirmed).await?;
            return Ok(true);
        }
        let serial = rec.meter.to_string();
        let token = match diversify(&master, &serial)
            .and_then(|k| CreditToken::issue(&k, &serial, count, amount, Timestamp::now()))
        {
            Ok(t) => t,
            Err(e) => {
                self.finish(
                    rec,
                    CommandState::Failed(format!("cannot issue the token: {e}")),
                )
                .await?;
                return Ok(true);
            }
        };
        let sent = self
            .ask(
                &rec.meter,
                MeterRequest::WriteBytes {
                    register: "credit_token".into(),
                    bytes: token.to_vec(),
                },
            )
            .await;
        if let Ok(MeterResponse::Done | MeterResponse::Values(_)) = &sent {
            rec.sends += 1;
            rec.state = CommandState::Sent;
            rec.updated = Timestamp::now();
            self.save(&rec).await?;
        }
        let read = match self.read_back(&rec.meter).await {
            Ok(r) => r,
            Err(e) => return self.failed_attempt(rec, e).await,
        };
        match read.live_values().purchase_count {
            Some(c) if c == count => {
                self.finish(rec, CommandState::Confirmed).await?;
                Ok(true)
            }
            Some(c) => {
                let why = format!(
                    "the meter's purchase count is {c} after credit {count} ({})",
                    match &sent {
                        Ok(_) => "the token was accepted".to_string(),
                        Err(e) => format!("the meter refused the token: {e}"),
                    }
                );
                self.hold(&rec.meter, &why).await?;
                self.finish(rec, CommandState::Failed(format!("credit mismatch: {why}")))
                    .await?;
                Ok(true)
            }
            None => {
                self.failed_attempt(rec, "the purchase count was not read back".into())
                    .await
            }
        }
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
