//! Operator API for meter commands in bulk and in history: batch operations (one command
//! over many meters, then its progress per meter: queued, sent, confirmed, failed why,
//! skipped why; see `control::batch`) and one meter's command history.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{
    BatchRequest, BatchStarted, BatchSummary, CommandLine, ListQuery, Progress,
};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, control_err};
use crate::auth::Permission;
use crate::control::batch::{self, Selection, command_name};
use crate::control::rationing::Selector;
use crate::site::MeterId;

/// Queue one command for many meters (audited). The whole batch is refused, nothing
/// queued, when a meter is unknown or the selection is empty.
#[utoipa::path(post, path = routes::BATCHES, tag = "operator", security(("bearer" = [])),
    request_body = BatchRequest,
    responses((status = 200, body = BatchStarted), (status = 400, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn create(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<BatchRequest>,
) -> ApiResult<Json<BatchStarted>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "command meters")?;
    let command = batch::parse_command(&req.command).map_err(control_err)?;
    let selection = match req.meters {
        Some(list) => {
            if req.building.is_some() || req.floor.is_some() || req.category.is_some() {
                return Err(ApiError::bad_request(
                    "give either meters or building/floor/category, not both",
                ));
            }
            Selection::Meters(list.into_iter().map(MeterId::new).collect())
        }
        None => Selection::Where(Selector {
            category: req.category,
            building: req.building,
            floor: req.floor,
        }),
    };
    let (store, ledger) = (st.store.clone(), st.ledger.clone());
    let b = super::views::off_runtime(move || {
        batch::start(&store, &ledger, &actor, command, selection).map_err(control_err)
    })
    .await?;
    let queued = b.items.iter().filter(|i| i.outbox.is_some()).count();
    Ok(Json(BatchStarted {
        id: b.id,
        command: command_name(&b.command).into(),
        queued,
        skipped: b.items.len() - queued,
    }))
}

/// Where every meter of a batch stands.
#[utoipa::path(get, path = routes::BATCH, tag = "operator", security(("bearer" = [])),
    params(("id" = u64, Path)),
    responses((status = 200, body = Progress), (status = 404, body = super::ErrorBody)))]
pub async fn progress(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Json<Progress>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    batch::progress(&st.store, id)?
        .map(|p| Json(super::records::progress(p)))
        .ok_or_else(|| ApiError::not_found(format!("no batch {id}")))
}

/// Recent batches, newest first.
#[utoipa::path(get, path = routes::BATCHES, tag = "operator", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = [BatchSummary])))]
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<BatchSummary>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let out = batch::recent(&st.store, q.limit.unwrap_or(50).min(1_000))?
        .into_iter()
        .map(|b| BatchSummary {
            id: b.id,
            at: b.at.to_string(),
            by: b.by,
            command: command_name(&b.command).into(),
            meters: b.items.len(),
        })
        .collect();
    Ok(Json(out))
}

/// One meter's commands, newest first (at most 50): who asked, where each stands.
#[utoipa::path(get, path = routes::METER_COMMANDS, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 200, body = [CommandLine])))]
pub async fn meter_history(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(meter): Path<String>,
) -> ApiResult<Json<Vec<CommandLine>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out: Vec<CommandLine> = crate::control::commands(&st.store)?
        .into_iter()
        .filter(|c| c.meter.as_str() == meter)
        .map(|c| CommandLine {
            id: c.id,
            command: command_name(&c.command).into(),
            state: c.state.label(),
            by: c.actor,
            sends: c.sends,
            attempts: c.attempts,
            updated: c.updated.to_string(),
        })
        .collect();
    out.reverse();
    out.truncate(50);
    Ok(Json(out))
}
