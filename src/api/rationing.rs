//! Operator API for rationing (限电): plan a window for a group of meters, list the windows
//! with each meter's command state, cancel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use jiff::Timestamp;
use voltvend_api_types::routes;
use voltvend_api_types::{MeterResult, RationingRequest, RationingView};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, control_err};
use crate::auth::Permission;
use crate::control;
use crate::control::rationing::{self, Rationing, Selector};

fn view(st: &AppState, r: Rationing) -> ApiResult<RationingView> {
    let mut results = Vec::new();
    for (cmd, list) in [("trip", &r.tripped), ("close", &r.restored)] {
        for (m, id) in list {
            let state = control::command(&st.store, *id)?
                .map(|c| c.state.label())
                .unwrap_or_else(|| "queued".into());
            results.push(MeterResult {
                meter: m.to_string(),
                command: cmd.into(),
                state,
            });
        }
    }
    Ok(RationingView {
        id: r.id,
        by: r.by,
        reason: r.reason,
        from: r.from.to_string(),
        to: r.to.to_string(),
        phase: serde_json::to_value(r.phase)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        results,
        skipped_keep_power: r.skipped_keep_power.iter().map(|m| m.to_string()).collect(),
        left_off_arrears: r.left_off_arrears.iter().map(|m| m.to_string()).collect(),
    })
}

/// Plan a rationing window (audited): the meters are tripped at `from` and restored at `to`.
#[utoipa::path(post, path = routes::RATIONING, tag = "operator", security(("bearer" = [])),
    request_body = RationingRequest,
    responses((status = 200, body = RationingView), (status = 400, body = super::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<RationingRequest>,
) -> ApiResult<Json<RationingView>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "ration meters")?;
    let ts = |name: &str, t: &str| -> ApiResult<Timestamp> {
        t.parse().map_err(|e| {
            ApiError::bad_request(format!("{name} '{t}' is not an RFC 3339 time: {e}"))
        })
    };
    let from = match &req.from {
        Some(f) => ts("from", f)?,
        None => Timestamp::now(),
    };
    let to = ts("to", &req.to)?;
    let store = st.store.clone();
    let r = super::views::off_runtime(move || {
        rationing::create(
            &store,
            &actor,
            Selector {
                category: req.category,
                building: req.building,
                floor: req.floor,
            },
            from,
            to,
            &req.reason,
        )
        .map_err(control_err)
    })
    .await?;
    Ok(Json(view(&st, r)?))
}

/// Every rationing window, newest first, with each meter's command state.
#[utoipa::path(get, path = routes::RATIONING, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [RationingView])))]
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<RationingView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out = Vec::new();
    for r in rationing::list(&st.store)? {
        out.push(view(&st, r)?);
    }
    Ok(Json(out))
}

/// Cancel: a scheduled window never starts; an active one restores now.
#[utoipa::path(post, path = routes::RATIONING_CANCEL, tag = "operator", security(("bearer" = [])),
    params(("id" = u64, Path)), responses((status = 200, body = RationingView), (status = 404, body = super::ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Json<RationingView>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "ration meters")?;
    let store = st.store.clone();
    let cancelled = super::views::off_runtime(move || {
        rationing::cancel(&store, &actor, id).map_err(control_err)
    })
    .await?;
    match cancelled {
        Some(r) => Ok(Json(view(&st, r)?)),
        None => Err(ApiError::not_found(format!("no rationing {id}"))),
    }
}
