//! Operator API for money and accounts, all through the ledger: cashier sales (with their
//! receipt), refunds, reversals, opening and closing accounts, and the operations it recorded.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, ledger_err, site_err};
use super::records::{self, SortedJson};
use crate::auth::{Actor, Permission};
use crate::payment::topup::{ReceiptFacts, make_receipt};
use crate::receipt::{ReceiptRecord, Receipts, record};
use crate::site::{MeterId, TenantId, repo};
use crate::units::Fen;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{
    CloseAccountRequest, OpResult, OpenAccountRequest, Operation, OpsQuery, RefundRequest,
    ReverseRequest, SaleRequest, SaleResult,
};

/// A cashier sale (e.g. cash at the management office). Refused above the hoarding cap
/// with the largest allowed amount in the message.
#[utoipa::path(post, path = routes::SALES, tag = "operator", security(("bearer" = [])),
    request_body = SaleRequest,
    responses((status = 200, body = SaleResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn sale(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<SaleRequest>,
) -> ApiResult<Json<SaleResult>> {
    let actor = operator(&st, &headers, Permission::Sell, "sell")?;
    if req.idempotency_key.is_empty() {
        return Err(ApiError::bad_request("idempotency_key is required"));
    }
    let tenant = TenantId::new(req.tenant.clone());
    let op = submit(
        &st,
        &actor,
        &req.idempotency_key,
        crate::ledger::Request::Sale(crate::ledger::Sale {
            tenant: tenant.clone(),
            amount: Fen(req.amount_fen),
            method: req.method.clone(),
            receipt_no: None,
            meter: req.meter.as_deref().map(MeterId::new),
        }),
    )
    .await?;
    let no = Receipts::number_for_op(op.op);
    let rec = match record::get(&st.store, &no)? {
        Some(r) => r,
        None => {
            let r = receipt_for_sale(
                &st,
                &tenant,
                op.op,
                Fen(req.amount_fen),
                op.balance,
                &actor.label(),
                &req.method,
            )?;
            record::put_async(&st.store, &r).await?;
            if req.print.unwrap_or(true) {
                super::views::print_and_count(&st, &no).await?;
            }
            record::get(&st.store, &no)?.unwrap_or(r)
        }
    };
    Ok(Json(SaleResult {
        op: op.op,
        receipt_no: no,
        balance_after_fen: rec.balance_after_fen,
        print: rec.print,
    }))
}

fn receipt_for_sale(
    st: &AppState,
    tenant: &TenantId,
    op: u64,
    amount: Fen,
    balance_after: Option<Fen>,
    by: &str,
    method: &str,
) -> ApiResult<ReceiptRecord> {
    let t = repo::get_tenant(&st.store, tenant).map_err(site_err)?;
    let defaults = repo::defaults(&st.store).map_err(site_err)?;
    let acc = st.ledger.account(tenant).map_err(ApiError::internal)?;
    let (balance, meters, count) = match &acc {
        Some(a) => (
            balance_after.unwrap_or(a.balance),
            a.meters.iter().map(|m| m.meter.to_string()).collect(),
            a.meters.iter().map(|m| m.purchase_count).max().unwrap_or(0),
        ),
        None => (Fen::ZERO, Vec::new(), 0),
    };
    Ok(make_receipt(ReceiptFacts {
        receipts: st.topups.receipts(),
        site_name: &st.site_name,
        tz: &defaults.tz(),
        receipt_no: Receipts::number_for_op(op),
        tenant: tenant.as_str(),
        tenant_name: t.as_ref().map(|x| x.name.as_str()).unwrap_or(""),
        units: t
            .as_ref()
            .map(|x| x.units.iter().map(|u| u.to_string()).collect())
            .unwrap_or_default(),
        meters,
        amount,
        balance_after: balance,
        purchase_count: count,
        issued_by: by,
        method,
        op,
    }))
}

/// Refund (退电): pay back part of the balance, at most all of it.
#[utoipa::path(post, path = routes::REFUNDS, tag = "operator", security(("bearer" = [])),
    request_body = RefundRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn refund(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<RefundRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::Refund, "refund")?;
    let tenant = TenantId::new(req.tenant);
    let result = submit_for(
        &st,
        &actor,
        &req.idempotency_key,
        &tenant,
        crate::ledger::Request::Refund(crate::ledger::Refund {
            tenant: tenant.clone(),
            amount: Fen(req.amount_fen),
            reason: req.reason,
            meter: req.meter.map(MeterId::new),
        }),
    )
    .await?;
    let Json(mut done) = result;
    done.pending = pending_refund(&st, done.op)?;
    Ok(Json(done))
}

/// The message of a refund that waits for its meter, while it waits.
fn pending_refund(st: &AppState, op: u64) -> ApiResult<Option<String>> {
    let Some(refund) = st.ledger.operation(op).map_err(ApiError::internal)? else {
        return Ok(None);
    };
    let crate::ledger::OpDetail::Refund {
        amount,
        withdraw: Some((meter, _)),
        ..
    } = refund.detail
    else {
        return Ok(None);
    };
    let settled = st
        .ledger
        .receipt_for_key(&crate::ledger::refund_settle_key(op))
        .map_err(ApiError::internal)?;
    Ok(settled
        .is_none()
        .then(|| pending_refund_message(&meter, amount)))
}

/// What a refund waiting for its meter tells the tenant, in Chinese and English.
pub(super) fn pending_refund_message(meter: &MeterId, amount: Fen) -> String {
    format!(
        "退费待完成：正在从电表 {meter} 扣回 {amount}，电表确认后再付款 / refund pending: \
         withdrawing {amount} from meter {meter}; pay it out once the meter confirms"
    )
}

/// Reversal (冲正) of one earlier sale or refund, at most once.
#[utoipa::path(post, path = routes::REVERSALS, tag = "operator", security(("bearer" = [])),
    request_body = ReverseRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn reverse(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ReverseRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::Reverse, "reverse operations")?;
    let op = submit(
        &st,
        &actor,
        &req.idempotency_key,
        crate::ledger::Request::Reverse(crate::ledger::Reverse {
            op: req.op,
            reason: req.reason,
        }),
    )
    .await?;
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: None,
        pending: None,
    }))
}

/// Open a tenant's account (cashier/admin).
#[utoipa::path(post, path = routes::ACCOUNTS, tag = "operator", security(("bearer" = [])),
    request_body = OpenAccountRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn open_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<OpenAccountRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::OpenAccount, "open accounts")?;
    let tenant = TenantId::new(req.tenant.clone());
    let t = repo::get_tenant(&st.store, &tenant)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no tenant {}", req.tenant)))?;
    let mut meters = Vec::new();
    match &req.meters {
        Some(ids) => {
            for id in ids {
                let m = repo::get_meter(&st.store, &MeterId::new(id.clone()))
                    .map_err(site_err)?
                    .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
                meters.push(m);
            }
        }
        None => {
            for u in &t.units {
                meters.extend(repo::meters_of_unit(&st.store, u).map_err(site_err)?);
            }
        }
    }
    let transfer_in = match (req.transfer_in_fen, req.old_meter_serial) {
        (Some(a), Some(s)) => Some(crate::ledger::TransferIn {
            amount: Fen(a),
            old_meter_serial: s,
        }),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "transfer_in_fen and old_meter_serial go together",
            ));
        }
    };
    submit_for(
        &st,
        &actor,
        &req.idempotency_key,
        &tenant,
        crate::ledger::Request::OpenAccount(crate::ledger::OpenAccount {
            tenant: tenant.clone(),
            meters: meters
                .iter()
                .map(|m| crate::ledger::MeterAccountInit {
                    meter: m.id.clone(),
                    billing: m.billing,
                })
                .collect(),
            transfer_in,
        }),
    )
    .await
}

/// Submits `req` to the ledger; answers with the operation and `tenant`'s balance after it.
/// Submits `req` under the operator's own idempotency key (`api:<operator>:<key>`), so two
/// operators' keys never collide and a retry by the same one replays the first answer.
async fn submit(
    st: &AppState,
    actor: &Actor,
    idempotency_key: &str,
    req: crate::ledger::Request,
) -> ApiResult<crate::ledger::OpReceipt> {
    let key = format!("api:{}:{}", actor.label(), idempotency_key);
    st.ledger
        .submit_async(actor, &key, req)
        .await
        .map_err(ledger_err)
}

/// [`submit`], answering with the tenant's balance after it.
pub(super) async fn submit_for(
    st: &AppState,
    actor: &Actor,
    idempotency_key: &str,
    tenant: &TenantId,
    req: crate::ledger::Request,
) -> ApiResult<Json<OpResult>> {
    let op = submit(st, actor, idempotency_key, req).await?;
    let bal = st
        .ledger
        .account(tenant)
        .map_err(ApiError::internal)?
        .map(|a| a.balance.0);
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: bal,
        pending: None,
    }))
}

/// Close a tenant's account: final charge, settle to zero, close every meter.
#[utoipa::path(post, path = routes::ACCOUNT_CLOSE, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path)), request_body = CloseAccountRequest,
    responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn close_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<CloseAccountRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::CloseAccount, "close accounts")?;
    let op = submit(
        &st,
        &actor,
        &req.idempotency_key,
        crate::ledger::Request::CloseAccount(crate::ledger::CloseAccount {
            tenant: TenantId::new(id),
            final_charge: Fen(req.final_charge_fen),
        }),
    )
    .await?;
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: Some(0),
        pending: None,
    }))
}

/// Ledger operations, newest first (as the ledger records them).
#[utoipa::path(get, path = routes::OPERATIONS, tag = "operator", security(("bearer" = [])),
    params(OpsQuery), responses((status = 200, body = Vec<Operation>)))]
pub async fn operations(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OpsQuery>,
) -> ApiResult<SortedJson<Vec<Operation>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let limit = q.limit.unwrap_or(100).min(1000);
    let ops = st
        .ledger
        .operations(&crate::ledger::OpFilter {
            tenant: q.tenant.as_deref().map(TenantId::new),
            kind: None,
            after: None,
            limit: Some(limit),
            newest_first: true,
        })
        .map_err(ApiError::internal)?;
    Ok(SortedJson(ops.iter().map(records::operation).collect()))
}

/// One ledger operation.
#[utoipa::path(get, path = routes::OPERATION, tag = "operator", security(("bearer" = [])),
    params(("op" = u64, Path)), responses((status = 200, body = Operation), (status = 404, body = super::ErrorBody)))]
pub async fn operation(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(op): Path<u64>,
) -> ApiResult<SortedJson<Operation>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let o = st
        .ledger
        .operation(op)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no operation {op}")))?;
    Ok(SortedJson(records::operation(&o)))
}
