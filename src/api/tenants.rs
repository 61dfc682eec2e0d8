//! Operator API for tenants: the list with balances, one tenant as the kiosk shows it, daily
//! usage, and clearing a unit's kiosk PIN lockout.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, site_err};
use crate::auth::Permission;
use crate::site::{TenantId, repo};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::routes;
use voltvend_api_types::{TenantRow, TenantView, Usage, UsageQuery};

/// All tenants with their balances.
#[utoipa::path(get, path = routes::TENANTS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantRow>)))]
pub async fn list_tenants(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<TenantRow>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out = Vec::new();
    for t in repo::list_tenants(&st.store).map_err(site_err)? {
        let acc = st.ledger.account(&t.id).map_err(ApiError::internal)?;
        out.push(TenantRow {
            tenant: t.id.to_string(),
            name: t.name,
            category: t.category,
            phone: t.phone,
            units: t.units.iter().map(|u| u.to_string()).collect(),
            has_account: acc.is_some(),
            balance_fen: acc.map(|a| a.balance.0).unwrap_or(0),
        });
    }
    Ok(Json(out))
}

/// One tenant as the kiosk shows it (balance, status, meters).
#[utoipa::path(get, path = routes::TENANT, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path)), responses((status = 200, body = TenantView), (status = 404, body = super::ErrorBody)))]
pub async fn get_tenant(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(super::tenant::view(&st, &TenantId::new(id))?))
}

/// A tenant's daily usage.
#[utoipa::path(get, path = routes::TENANT_USAGE, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path), UsageQuery), responses((status = 200, body = Usage)))]
pub async fn tenant_usage(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(super::tenant::daily_usage(
        &st,
        &TenantId::new(id),
        q.days.unwrap_or(30),
    )?))
}

/// Clear a unit's kiosk PIN lockout (cashier/admin).
#[utoipa::path(post, path = routes::UNIT_UNLOCK_PIN, tag = "operator", security(("bearer" = [])),
    params(("unit" = String, Path)), responses((status = 204), (status = 403, body = super::ErrorBody)))]
pub async fn unlock_pin(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = operator(&st, &headers, Permission::OpenAccount, "unlock tenant PINs")?;
    // The unlock and its audit entry commit together (one transaction).
    st.store
        .write_async(move |txn| {
            super::lockout::clear_in(txn, &unit.to_uppercase())?;
            crate::auth::audit::append_in(
                txn,
                &actor,
                "tenant.pin_unlock",
                serde_json::json!({"unit": unit}),
            )?;
            Ok::<_, crate::store::StoreError>(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
