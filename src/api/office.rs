//! The lists the office works from for closing and refunds on meter-mode meters: close
//! settlements (a meter whose own credit could not be cleared at closing was tripped, and
//! the balance it showed is recorded to settle by hand), refunds waiting for their meter,
//! and a tenant id's account history across closings and reopenings. Reads only, each
//! through the module that owns the table (`control::credit`, the ledger).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{
    AccountHistory, AccountHistoryQuery, AccountPeriod, CloseSettlementQuery, CloseSettlementView,
    PendingRefundView,
};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use super::records;
use crate::auth::Permission;
use crate::control::CommandState;
use crate::ledger::{AccountStatus, OpDetail, OpFilter};
use crate::site::TenantId;

/// Meter-mode meters' credit at their accounts' closing, newest first: cleared, or tripped
/// with the balance to settle (`to_settle=true`: only those).
#[utoipa::path(get, path = routes::CLOSE_SETTLEMENTS, tag = "operator", security(("bearer" = [])),
    params(CloseSettlementQuery), responses((status = 200, body = [CloseSettlementView])))]
pub async fn close_settlements(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CloseSettlementQuery>,
) -> ApiResult<Json<Vec<CloseSettlementView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let only_open = q.to_settle.unwrap_or(false);
    let mut out = Vec::new();
    for s in crate::control::credit::close_settlements(&st.store).map_err(ApiError::internal)? {
        if only_open && s.cleared {
            continue;
        }
        let tenant = st
            .ledger
            .meter_account(&s.meter)
            .map_err(ApiError::internal)?
            .map(|m| m.tenant.to_string());
        let unit = crate::site::repo::get_meter(&st.store, &s.meter)
            .map_err(ApiError::internal)?
            .and_then(|m| m.unit)
            .map(|u| u.to_string());
        out.push(CloseSettlementView {
            meter: s.meter.to_string(),
            tenant,
            unit,
            outbox: s.outbox,
            cleared: s.cleared,
            balance_before_fen: s.balance_before.map(|f| f.0),
            why: s.why,
            at: s.at.to_string(),
        });
    }
    Ok(Json(out))
}

/// Refunds on meter-mode meters waiting for the meter to confirm the withdrawal, oldest
/// first, with the withdrawal command's state and what to tell the tenant (zh/en).
#[utoipa::path(get, path = routes::REFUNDS_PENDING, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [PendingRefundView])))]
pub async fn pending_refunds(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<PendingRefundView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let ops = st.ledger.pending_refunds().map_err(ApiError::internal)?;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let OpDetail::Refund {
            amount,
            reason,
            withdraw: Some((meter, _)),
        } = &op.detail
        else {
            continue;
        };
        // The withdrawal is the refund's outbox entry; the control queue keeps its record
        // under the same id once it has taken it.
        let record = crate::control::commands_by_id(&st.store, &op.outbox)
            .map_err(ApiError::internal)?
            .into_iter()
            .flatten()
            .find(|c| c.cause_op == op.id);
        let (state, attempts, last_error) = match &record {
            Some(c) => (c.state.label(), c.attempts, c.last_error.clone()),
            None => (CommandState::Queued.label(), 0, None),
        };
        out.push(PendingRefundView {
            op: op.id,
            tenant: op
                .tenant
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            meter: meter.to_string(),
            amount_fen: amount.0,
            reason: reason.clone(),
            at: op.at.to_string(),
            state,
            outbox: op.outbox.first().copied(),
            attempts,
            last_error,
            message: super::money::pending_refund_message(meter, *amount),
        });
    }
    Ok(Json(out))
}

/// Every account a tenant id has had, oldest first (closed ones, then the current one),
/// each with its operations: a reopened tenant still shows its old account.
#[utoipa::path(get, path = routes::ACCOUNT_HISTORY, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path), AccountHistoryQuery),
    responses((status = 200, body = AccountHistory), (status = 404, body = super::ErrorBody)))]
pub async fn account_history(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(q): Query<AccountHistoryQuery>,
) -> ApiResult<Json<AccountHistory>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let id = TenantId::new(tenant.as_str());
    let accounts = st.ledger.accounts_of(&id).map_err(ApiError::internal)?;
    if accounts.is_empty() {
        return Err(ApiError::not_found(format!(
            "tenant {tenant} has never had an account"
        )));
    }
    let at_of = |op: Option<u64>| -> ApiResult<Option<String>> {
        Ok(match op {
            Some(op) => st
                .ledger
                .operation(op)
                .map_err(ApiError::internal)?
                .map(|o| o.at.to_string()),
            None => None,
        })
    };
    let mut periods = Vec::with_capacity(accounts.len());
    for a in accounts {
        // Its operations: the tenant's from its opening to its closing. One more than the
        // limit is read to tell whether the list was cut.
        let mut ops = st
            .ledger
            .operations(&OpFilter {
                tenant: Some(id.clone()),
                kind: None,
                after: Some(a.opened_op.saturating_sub(1)),
                limit: Some(limit + 1),
                newest_first: false,
            })
            .map_err(ApiError::internal)?;
        ops.retain(|o| a.closed_op.is_none_or(|c| o.id <= c));
        let truncated = ops.len() > limit;
        ops.truncate(limit);
        periods.push(AccountPeriod {
            status: match a.status {
                AccountStatus::Open => "open",
                AccountStatus::Closed => "closed",
            }
            .to_string(),
            meters: a.meters.iter().map(|m| m.to_string()).collect(),
            opened_op: a.opened_op,
            closed_op: a.closed_op,
            opened_at: at_of(Some(a.opened_op))?,
            closed_at: at_of(a.closed_op)?,
            operations: ops.iter().map(records::operation).collect(),
            truncated,
        });
    }
    Ok(Json(AccountHistory {
        tenant,
        accounts: periods,
    }))
}
