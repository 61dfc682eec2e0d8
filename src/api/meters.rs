//! Operator API for meters: the list and one meter with its live state, stored readings, commands
//! into the control queue, staff locks.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, site_err};
use crate::auth::Permission;
use crate::field::readings;
use crate::site::{MeterId, repo};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::routes;
use voltvend_api_types::{
    CommandQueued, CommandRequest, LockRequest, MeterLock, MeterView, RangeQuery, ReadingView,
};

fn meter_view(
    st: &AppState,
    m: &crate::site::model::Meter,
    tenants: &[crate::site::model::Tenant],
    units: &std::collections::BTreeMap<String, crate::site::model::Unit>,
) -> ApiResult<MeterView> {
    let unit = m.unit.as_ref().and_then(|u| units.get(u.as_str()));
    let live = st.live.meter(&m.id);
    let v = live.as_ref().map(|l| l.values.clone()).unwrap_or_default();
    Ok(MeterView {
        meter: m.id.to_string(),
        unit: m.unit.as_ref().map(|u| u.to_string()),
        tenant: m.unit.as_ref().and_then(|u| {
            tenants
                .iter()
                .find(|t| t.units.contains(u))
                .map(|t| t.id.to_string())
        }),
        gateway: m.gateway.to_string(),
        bus: m.bus,
        address: match &m.address {
            crate::site::model::MeterAddress::Modbus(a) => a.to_string(),
            crate::site::model::MeterAddress::Dlt645(a) => a.clone(),
        },
        protocol: m.protocol.as_str().to_string(),
        profile: m.profile.clone(),
        phases: format!("{:?}", m.phases).to_lowercase(),
        billing: m.billing.to_string(),
        online: live.as_ref().map(|l| l.online),
        last_ok: live.as_ref().and_then(|l| l.last_ok.map(|t| t.to_string())),
        last_error: live.as_ref().and_then(|l| l.last_error.clone()),
        power_w: v.power_w,
        total_wh: v.total.map(|w| w.0),
        relay: v.relay.map(|r| r.as_str()).unwrap_or("unknown").to_string(),
        meter_balance_fen: v.balance.map(|b| b.0),
        lock: super::locks::get(&st.store, &m.id)?,
        keep_power: crate::control::keep_power(&st.store, &m.id)?,
        building: unit.map(|u| u.building.to_string()),
        floor: unit.map(|u| u.floor),
    })
}

fn units_by_no(
    st: &AppState,
) -> ApiResult<std::collections::BTreeMap<String, crate::site::model::Unit>> {
    Ok(repo::list_units(&st.store)
        .map_err(site_err)?
        .into_iter()
        .map(|u| (u.no.to_string(), u))
        .collect())
}

/// All meters with their live state.
#[utoipa::path(get, path = routes::METERS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<MeterView>)))]
pub async fn list_meters(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<MeterView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    let meters = repo::list_meters(&st.store).map_err(site_err)?;
    let units = units_by_no(&st)?;
    let mut out = Vec::with_capacity(meters.len());
    for m in &meters {
        out.push(meter_view(&st, m, &tenants, &units)?);
    }
    Ok(Json(out))
}

/// One meter with its live state.
#[utoipa::path(get, path = routes::METER, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 200, body = MeterView), (status = 404, body = super::ErrorBody)))]
pub async fn get_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<MeterView>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let m = repo::get_meter(&st.store, &MeterId::new(id.clone()))
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    Ok(Json(meter_view(&st, &m, &tenants, &units_by_no(&st)?)?))
}

/// Stored readings of a meter in a time range (at most 5,000).
#[utoipa::path(get, path = routes::METER_READINGS, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path), RangeQuery), responses((status = 200, body = Vec<ReadingView>)))]
pub async fn meter_readings(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<Vec<ReadingView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let parse = |s: &Option<String>, default: jiff::Timestamp| -> ApiResult<jiff::Timestamp> {
        match s {
            Some(t) => t
                .parse()
                .map_err(|e| ApiError::bad_request(format!("'{t}' is not an RFC 3339 time: {e}"))),
            None => Ok(default),
        }
    };
    let now = jiff::Timestamp::now();
    let from = parse(&q.from, now - jiff::SignedDuration::from_hours(24))?;
    let to = parse(&q.to, now + jiff::SignedDuration::from_secs(1))?;
    let id = MeterId::new(id);
    let rs = readings::history(&st.store, &id, from, to)?;
    let suspects: std::collections::HashMap<i64, &'static str> =
        crate::field::suspect::list(&st.store, Some(&id), false)
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|s| (s.reading.at_ms(), s.decision.as_str()))
            .collect();
    Ok(Json(
        rs.into_iter()
            .take(5000)
            .map(|r| ReadingView {
                suspect: suspects.get(&r.at_ms()).map(|s| s.to_string()),
                at: r.at.to_string(),
                total_wh: r.total.0,
                power_w: r.power_w,
                balance_fen: r.balance.map(|b| b.0),
                relay: r.relay.map(|x| x.as_str().to_string()),
            })
            .collect(),
    ))
}

/// Queue a command for a meter (installer/admin). The control queue sends it ahead of
/// reads and confirms it by reading back.
#[utoipa::path(post, path = routes::METER_COMMANDS, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), request_body = CommandRequest,
    responses((status = 200, body = CommandQueued), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn meter_command(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<CommandRequest>,
) -> ApiResult<Json<CommandQueued>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "command meters")?;
    let meter = MeterId::new(id.clone());
    repo::get_meter(&st.store, &meter)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    let command =
        crate::control::batch::parse_command(&req.command).map_err(super::error::control_err)?;
    let n = super::views::enqueue(
        &st,
        &actor,
        "meter.command",
        &meter,
        command,
        serde_json::json!({"meter": id, "command": req.command}),
    )
    .await?;
    Ok(Json(CommandQueued {
        meter: id,
        command: req.command,
        id: n,
    }))
}

/// Lock a meter against tenant remote switching (installer/admin).
#[utoipa::path(post, path = routes::METER_LOCK, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), request_body = LockRequest,
    responses((status = 200, body = MeterLock), (status = 403, body = super::ErrorBody)))]
pub async fn lock_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<LockRequest>,
) -> ApiResult<Json<MeterLock>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "lock meters")?;
    let meter = MeterId::new(id.clone());
    repo::get_meter(&st.store, &meter)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason: say why, the tenant sees it"));
    }
    let l = super::locks::set(&st.store, &actor, &meter, Some(req.reason.trim())).await?;
    l.map(Json)
        .ok_or_else(|| ApiError::internal("lock not stored"))
}

/// Remove a staff lock.
#[utoipa::path(delete, path = routes::METER_LOCK, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 204), (status = 403, body = super::ErrorBody)))]
pub async fn unlock_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "unlock meters")?;
    super::locks::set(&st.store, &actor, &MeterId::new(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}
