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

/// Queues a meter command in the ledger outbox, audited in the same transaction.
pub fn enqueue(
    st: &AppState,
    actor: &Actor,
    action: &str,
    meter: &MeterId,
    command: MeterCommand,
    detail: serde_json::Value,
) -> ApiResult<u64> {
    let txn = st.store.db().begin_write().map_err(StoreError::from)?;
    // With its queue record, so the meter's command history names who asked.
    let id = crate::control::queue_in(&txn, meter, command, &actor.label())?;
    let mut detail = detail;
    detail["outbox"] = serde_json::json!(id);
    audit::append_in(&txn, actor, action, detail)?;
    txn.commit().map_err(StoreError::from)?;
    Ok(id)
}
