//! Operator API for the console's dashboard: the one-screen site summary, the gateways'
//! link health and the meter commands waiting in the outbox.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, site_err};
use super::records::{self, SortedJson};
use crate::auth::Permission;
use crate::receipt::record;
use crate::site::repo;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{GatewayView, OutboxEntry, SiteStatus};

/// One-screen summary for the console's dashboard.
#[utoipa::path(get, path = routes::STATUS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = SiteStatus)))]
pub async fn status(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<SiteStatus>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    let mut arrears = 0;
    for t in &tenants {
        if st
            .ledger
            .account(&t.id)
            .map_err(ApiError::internal)?
            .is_some_and(|a| crate::ledger::arrears::in_arrears(a.balance))
        {
            arrears += 1;
        }
    }
    Ok(Json(SiteStatus {
        site_name: st.site_name.clone(),
        meters: repo::list_meters(&st.store).map_err(site_err)?.len(),
        meters_offline: st.live.offline_meters().len(),
        tenants: tenants.len(),
        tenants_in_arrears: arrears,
        outbox_pending: crate::ledger::outbox::pending(&st.store)
            .map_err(ApiError::internal)?
            .len(),
        receipts_failed: record::list(&st.store, None, true, 10_000)?.len(),
        topups_needing_refund: st
            .topups
            .list(None, 100_000)?
            .iter()
            .filter(|t| {
                matches!(
                    t.state,
                    crate::payment::topup::TopUpState::NeedsRefund { .. }
                )
            })
            .count(),
    }))
}

/// Gateways with their link health.
#[utoipa::path(get, path = routes::GATEWAYS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<GatewayView>)))]
pub async fn gateways(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<GatewayView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out = Vec::new();
    for g in repo::list_gateways(&st.store).map_err(site_err)? {
        let live = st.live.gateway(&g.id);
        out.push(GatewayView {
            gateway: g.id.to_string(),
            name: g.name.clone(),
            link: g.link.to_string(),
            buses: g.buses.len(),
            online: live.as_ref().map(|l| l.online).unwrap_or(false),
            last_error: live.as_ref().and_then(|l| l.last_error.clone()),
            last_cycle_ms: live.as_ref().and_then(|l| l.last_cycle_ms),
        });
    }
    Ok(Json(out))
}

/// Meter commands waiting in the outbox.
#[utoipa::path(get, path = routes::OUTBOX, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxEntry>)))]
pub async fn outbox(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<SortedJson<Vec<OutboxEntry>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let p = crate::ledger::outbox::pending(&st.store).map_err(ApiError::internal)?;
    Ok(SortedJson(p.iter().map(records::outbox_entry).collect()))
}
