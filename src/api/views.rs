//! Helpers shared by the tenant and operator routes: purchase lists, printing with
//! counters, meter commands through the ledger outbox, and what follows a settled top-up.

use super::error::{ApiError, ApiResult};
use super::tenant::Purchase;
use super::{AppState, metrics};
use crate::auth::Actor;
use crate::ledger::outbox::MeterCommand;
use crate::payment::topup::{Settled, TopUpState};
use crate::receipt::PrintStatus;
use crate::site::{MeterId, TenantId};

/// The tenant's sales, newest first.
pub fn purchases(st: &AppState, tenant: &TenantId, limit: usize) -> ApiResult<Vec<Purchase>> {
    let ops = st
        .ledger
        .sales_of(tenant, limit)
        .map_err(ApiError::internal)?;
    Ok(ops
        .into_iter()
        .map(|o| Purchase {
            receipt_no: o
                .receipt_no
                .clone()
                .or_else(|| {
                    let no = crate::receipt::Receipts::number_for_op(o.op);
                    crate::receipt::record::get(&st.store, &no)
                        .ok()
                        .flatten()
                        .map(|r| r.receipt_no)
                }),
            op: o.op,
            at: o.at,
            amount_fen: o.amount.0,
            method: o.method,
        })
        .collect())
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
                    tracing::warn!(receipt = %no, error = %e.message, "receipt print bookkeeping failed");
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
    crate::ledger::outbox::enqueue(&st.store, actor, action, meter, command, detail)
        .map_err(ApiError::internal)
}
