//! Operator API for suspect readings (`field::suspect`): the list, accept (charge it) and
//! reject (ignore it, optionally re-baseline). Both decisions are audited.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{RejectSuspect, SuspectQuery, SuspectReadingView};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use crate::auth::Permission;
use crate::field::plausible::SuspectWhy;
use crate::field::suspect::{self, Decision, Suspect, SuspectError};
use crate::site::MeterId;

impl From<Suspect> for SuspectReadingView {
    fn from(s: Suspect) -> Self {
        let (decided_by, decided_at, charged_wh, rebaseline) = match &s.decision {
            Decision::Pending => (None, None, None, None),
            Decision::Accepted { by, at, energy } => {
                (Some(by.clone()), Some(at.to_string()), Some(energy.0), None)
            }
            Decision::Rejected { by, at, rebaseline } => (
                Some(by.clone()),
                Some(at.to_string()),
                None,
                Some(*rebaseline),
            ),
        };
        SuspectReadingView {
            meter: s.reading.meter.to_string(),
            at: s.reading.at.to_string(),
            at_ms: s.reading.at_ms(),
            total_wh: s.reading.total.0,
            basis_at: s.base.at.to_string(),
            basis_wh: s.base.total.0,
            why: s.why.as_str().to_string(),
            max_wh: match s.why {
                SuspectWhy::TooHigh { max_wh } => Some(max_wh),
                SuspectWhy::Decrease => None,
            },
            state: s.decision.as_str().to_string(),
            decided_by,
            decided_at,
            charged_wh,
            rebaseline,
        }
    }
}

fn suspect_err(e: SuspectError) -> ApiError {
    match e {
        SuspectError::NotFound { .. } => ApiError::not_found(e.to_string()),
        SuspectError::Superseded { .. } => ApiError::conflict("superseded", e.to_string()),
        SuspectError::Decrease { .. } => ApiError::conflict("decrease", e.to_string()),
        SuspectError::Decided(_) => ApiError::conflict("already_decided", e.to_string()),
        SuspectError::Charge(_) => ApiError::conflict("charge_failed", e.to_string()),
        SuspectError::Store(e) => ApiError::internal(e),
    }
}

/// Suspect readings (pending ones unless `all`), oldest first per meter.
#[utoipa::path(get, path = routes::SUSPECT_READINGS, tag = "operator", security(("bearer" = [])),
    params(SuspectQuery), responses((status = 200, body = [SuspectReadingView])))]
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SuspectQuery>,
) -> ApiResult<Json<Vec<SuspectReadingView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let meter = q.meter.map(MeterId::new);
    let all = suspect::list(&st.store, meter.as_ref(), !q.all.unwrap_or(false))
        .map_err(ApiError::internal)?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Accept a suspect reading: the energy from the last charged reading to it is charged and
/// it becomes the charged basis. Refused (409) for a reading already decided, also one
/// already accepted (a second click or a second console: it says who charged what, nothing
/// is charged again), below the charged total, or superseded by a later charged reading.
/// Audited.
#[utoipa::path(post, path = routes::SUSPECT_READING_ACCEPT, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path), ("at_ms" = i64, Path)),
    responses((status = 200, body = SuspectReadingView), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn accept(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((meter, at_ms)): Path<(String, i64)>,
) -> ApiResult<Json<SuspectReadingView>> {
    let actor = operator(
        &st,
        &headers,
        Permission::CommandMeters,
        "decide suspect readings",
    )?;
    let id = MeterId::new(meter.clone());
    let st2 = st.clone();
    let s = tokio::task::spawn_blocking(move || {
        let m = crate::site::repo::get_meter(&st2.store, &id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
        // A repeat is refused so the operator sees it was decided, and by whom. Two accepts
        // at the same instant can both pass this check: the later one then gets the decision
        // back from `suspect::accept` (it charges once under the meter's lock).
        if let Some(s) = suspect::get(&st2.store, &id, at_ms).map_err(ApiError::internal)?
            && let Decision::Accepted { by, at, energy } = &s.decision
        {
            return Err(ApiError::conflict(
                "already_decided",
                format!(
                    "the reading of meter {id} at {} was already accepted by {by} at {at}: {}.{:03} kWh charged then, nothing charged again",
                    s.reading.at,
                    energy.0 / 1000,
                    energy.0.rem_euclid(1000)
                ),
            ));
        }
        let charger =
            crate::field::charge::LedgerCharger::new(st2.store.clone(), st2.ledger.clone());
        suspect::accept(&st2.store, &charger, &actor, &m, at_ms).map_err(suspect_err)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(s.into()))
}

/// Reject a suspect reading: it is never charged. With `rebaseline` (meter replaced or
/// reset) later readings are measured from it, nothing charged for its interval. Audited.
#[utoipa::path(post, path = routes::SUSPECT_READING_REJECT, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path), ("at_ms" = i64, Path)), request_body = RejectSuspect,
    responses((status = 200, body = SuspectReadingView), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody)))]
pub async fn reject(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path((meter, at_ms)): Path<(String, i64)>,
    Json(body): Json<RejectSuspect>,
) -> ApiResult<Json<SuspectReadingView>> {
    let actor = operator(
        &st,
        &headers,
        Permission::CommandMeters,
        "decide suspect readings",
    )?;
    let id = MeterId::new(meter);
    let st2 = st.clone();
    let s = tokio::task::spawn_blocking(move || {
        suspect::reject(&st2.store, &actor, &id, at_ms, body.rebaseline).map_err(suspect_err)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(s.into()))
}
