//! Operator API for the site defaults (power limit, collection interval, alarm levels,
//! default tariff, hoarding cap, alarm SMS number, time zone): read, and replace (admin,
//! validated, audited).

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, site_err};
use super::records::{self, SortedJson};
use crate::auth::Permission;
use crate::site::repo;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::SiteSettings;
use voltvend_api_types::routes;

/// Site defaults (power limit, collection interval, alarm levels, default tariff, hoarding
/// cap, alarm SMS number, time zone).
#[utoipa::path(get, path = routes::SITE_SETTINGS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = SiteSettings)))]
pub async fn get_settings(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<SortedJson<SiteSettings>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let d = repo::defaults(&st.store).map_err(site_err)?;
    Ok(SortedJson(records::settings(&d)))
}

/// Replace the site defaults (admin); validated, audited.
#[utoipa::path(put, path = routes::SITE_SETTINGS, tag = "operator", security(("bearer" = [])),
    request_body = SiteSettings,
    responses((status = 200, body = SiteSettings), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    headers: HeaderMap,
    // Read as JSON first: fields left out take their defaults, and a bad field is a 422
    // `invalid` naming it (not the extractor's plain-text rejection).
    Json(body): Json<serde_json::Value>,
) -> ApiResult<SortedJson<SiteSettings>> {
    let actor = operator(&st, &headers, Permission::EditSite, "edit site settings")?;
    let d: crate::site::model::SiteDefaults = serde_json::from_value(body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()))?;
    let stored = d.clone();
    st.store
        .write_async(move |txn| repo::set_defaults(txn, &actor, &stored))
        .await
        .map_err(site_err)?;
    st.ledger.set_hoarding_cap(d.hoarding_cap);
    Ok(SortedJson(records::settings(&d)))
}
