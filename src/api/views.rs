//! Helpers shared by the tenant and operator routes: purchase lists, printing with
//! counters, meter commands through the ledger outbox, and what follows a settled top-up.

use super::error::{ApiError, ApiResult};
use super::{AppState, metrics};
use crate::auth::{Actor, audit};
use crate::ledger::outbox::MeterCommand;
use crate::ledger::{OpDetail, OpFilter, OpKind};
use crate::payment::topup::{Settled, TopUpState};
use crate::receipt::PrintStatus;
use crate::site::{MeterId, TenantId};
use crate::store::StoreError;
use voltvend_api_types::Purchase;

/// The tenant's sales, newest first.
pub fn purchases(st: &AppState, tenant: &TenantId, limit: usize) -> ApiResult<Vec<Purchase>> {
    let ops = st
        .ledger
        .operations(&OpFilter {
            tenant: Some(tenant.clone()),
            kind: Some(OpKind::Sale),
            after: None,
            limit: Some(limit),
            newest_first: true,
        })
        .map_err(ApiError::internal)?;
    let mut out = Vec::new();
    for o in ops {
        let OpDetail::Sale {
            amount,
            method,
            receipt_no,
            ..
        } = o.detail
        else {
            continue;
        };
        let ours = crate::receipt::Receipts::number_for_op(o.id);
        let receipt_no = match receipt_no {
            Some(n) => Some(n),
            None => crate::receipt::record::get(&st.store, &ours)?.map(|r| r.receipt_no),
        };
        out.push(Purchase {
            op: o.id,
            at: o.at.to_string(),
            amount_fen: amount.0,
            method,
            receipt_no,
        });
    }
    Ok(out)
}

/// Prints a receipt and counts the outcome.
pub async fn print_and_count(st: &AppState, no: &str) -> ApiResult<PrintStatus> {
    let s = st.topups.receipts().print(&st.store, no).await?;
    match s {
        PrintStatus::Printed { .. } => metrics::inc(&st.metrics.receipts_printed),
        _ => metrics::inc(&st.metrics.receipts_print_failed),
    }
    Ok(s)
}

/// After a confirmation: count it and, the first time a top-up is paid, print its receipt
/// in the background (the sale is already committed; paper can only follow).
pub fn after_settle(st: &AppState, s: &Settled) {
    if !s.first {
        return;
    }
    match &s.topup.state {
        TopUpState::Paid { receipt_no, .. } => {
            metrics::inc(&st.metrics.topups_paid);
            let st = st.clone();
            let no = receipt_no.clone();
            tokio::spawn(async move {
                if let Err(e) = print_and_count(&st, &no).await {
                    tracing::warn!(receipt = %no, error = %e.body.message, "receipt print bookkeeping failed");
                }
            });
        }
        TopUpState::Declined { .. } => metrics::inc(&st.metrics.topups_declined),
        _ => {}
    }
}

/// Queues a meter command in the ledger outbox, audited in the same transaction (through
/// the store writer).
pub async fn enqueue(
    st: &AppState,
    actor: &Actor,
    action: &'static str,
    meter: &MeterId,
    command: MeterCommand,
    detail: serde_json::Value,
) -> ApiResult<u64> {
    let (actor, meter) = (actor.clone(), meter.clone());
    let id = st
        .store
        .write_async(move |txn| {
            // With its queue record, so the meter's command history names who asked.
            let id = crate::control::queue_in(txn, &meter, command.clone(), &actor.label())?;
            let mut detail = detail.clone();
            detail["outbox"] = serde_json::json!(id);
            audit::append_in(txn, &actor, action, detail)?;
            Ok::<_, StoreError>(id)
        })
        .await?;
    Ok(id)
}

/// Writes one audit entry on its own (an attempt refused, a reprint), through the writer.
pub async fn audit(
    st: &AppState,
    actor: &Actor,
    action: &'static str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    let actor = actor.clone();
    st.store
        .write_async(move |txn| audit::append_in(txn, &actor, action, detail.clone()))
        .await?;
    Ok(())
}

/// Runs `work` on a blocking thread. For the writes whose module offers only a blocking call
/// (rationing, batches, tariff files: they wait for the store writer, or open their own
/// transaction): a runtime worker must not wait for an fsync.
pub async fn off_runtime<T, F>(work: F) -> ApiResult<T>
where
    F: FnOnce() -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}
