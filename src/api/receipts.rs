//! Operator API for receipts and top-ups: stored receipts (failed prints first to find),
//! reprints (audited), and the kiosk and phone top-up orders.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use crate::auth::Permission;
use crate::receipt::{ReceiptRecord, record};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{OpsQuery, PrintResult, ReceiptQuery, TopUpView};

/// Receipts, newest first; `failed=true` lists those that did not print.
#[utoipa::path(get, path = routes::RECEIPTS, tag = "operator", security(("bearer" = [])),
    params(ReceiptQuery), responses((status = 200, body = Vec<ReceiptRecord>)))]
pub async fn receipts(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<Json<Vec<ReceiptRecord>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(record::list(
        &st.store,
        q.tenant.as_deref(),
        q.failed.unwrap_or(false),
        q.limit.unwrap_or(100).min(1000),
    )?))
}

/// Print a receipt again (cashier/admin).
#[utoipa::path(post, path = routes::RECEIPT_PRINT, tag = "operator", security(("bearer" = [])),
    params(("receipt_no" = String, Path)), responses((status = 200, body = PrintResult), (status = 404, body = super::ErrorBody)))]
pub async fn reprint(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> ApiResult<Json<PrintResult>> {
    let actor = operator(&st, &headers, Permission::Sell, "print receipts")?;
    record::get(&st.store, &no)?.ok_or_else(|| ApiError::not_found(format!("no receipt {no}")))?;
    let print = super::views::print_and_count(&st, &no).await?;
    super::views::audit(
        &st,
        &actor,
        "receipt.reprint",
        serde_json::json!({"receipt": no}),
    )
    .await?;
    Ok(Json(PrintResult {
        receipt_no: no,
        print,
    }))
}

/// Top-up orders (kiosk and phone), newest first.
#[utoipa::path(get, path = routes::TOPUPS, tag = "operator", security(("bearer" = [])),
    params(OpsQuery), responses((status = 200, body = Vec<TopUpView>)))]
pub async fn topups(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OpsQuery>,
) -> ApiResult<Json<Vec<TopUpView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let list = st
        .topups
        .list(q.tenant.as_deref(), q.limit.unwrap_or(100).min(1000))?;
    let mut out = Vec::new();
    for t in &list {
        out.push(super::tenant::topup_view(&st, t)?);
    }
    Ok(Json(out))
}
