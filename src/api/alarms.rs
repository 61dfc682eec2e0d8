//! Operator API for alarms and the SMS queue: active alarms, history, acknowledgement.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use jiff::Timestamp;
use voltvend_api_types::routes;
use voltvend_api_types::{AlarmQuery, AlarmView, HistoryQuery, SmsView};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use crate::alarm::book::{self, AlarmError};
use crate::alarm::sms::queue;
use crate::alarm::{Alarm, AlarmKind};
use crate::auth::Permission;

impl From<Alarm> for AlarmView {
    fn from(a: Alarm) -> Self {
        AlarmView {
            id: a.id,
            kind: a.kind.as_str().to_string(),
            active: a.is_active(),
            subject: a.subject,
            raised_at: a.raised_at.to_string(),
            value: a.value,
            detail: a.detail,
            acked_by: a.acked_by,
            acked_at: a.acked_at.map(|t| t.to_string()),
            cleared_at: a.cleared_at.map(|t| t.to_string()),
        }
    }
}

fn kind_filter(q: &Option<String>) -> ApiResult<Option<AlarmKind>> {
    match q.as_deref() {
        None | Some("") => Ok(None),
        Some(k) => AlarmKind::parse(k)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("kind '{k}' is not an alarm kind"))),
    }
}

/// The active alarms (real-time alarms), oldest first.
#[utoipa::path(get, path = routes::ALARMS, tag = "operator", security(("bearer" = [])),
    params(AlarmQuery), responses((status = 200, body = [AlarmView])))]
pub async fn active(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AlarmQuery>,
) -> ApiResult<Json<Vec<AlarmView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let kind = kind_filter(&q.kind)?;
    let all = book::active(&st.store)?;
    Ok(Json(
        all.into_iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .map(AlarmView::from)
            .collect(),
    ))
}

fn ts(field: &str, text: &Option<String>, default: Timestamp) -> ApiResult<Timestamp> {
    match text {
        None => Ok(default),
        Some(t) => t
            .parse()
            .map_err(|e| ApiError::bad_request(format!("{field} '{t}': {e}"))),
    }
}

/// Alarm history: every alarm raised in the range, cleared or not.
#[utoipa::path(get, path = routes::ALARMS_HISTORY, tag = "operator", security(("bearer" = [])),
    params(HistoryQuery), responses((status = 200, body = [AlarmView])))]
pub async fn history(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<AlarmView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let now = Timestamp::now();
    let from = ts(
        "from",
        &q.from,
        now - jiff::SignedDuration::from_hours(24 * 30),
    )?;
    let to = ts("to", &q.to, now + jiff::SignedDuration::from_secs(1))?;
    let kind = kind_filter(&q.kind)?;
    Ok(Json(
        book::history(&st.store, from, to)?
            .into_iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .map(AlarmView::from)
            .collect(),
    ))
}

/// Acknowledge an alarm (audited). Cashiers, installers and admins may; viewers may not.
#[utoipa::path(post, path = routes::ALARM_ACK, tag = "operator", security(("bearer" = [])),
    params(("id" = u64, Path)), responses((status = 200, body = AlarmView), (status = 404, body = super::ErrorBody)))]
pub async fn ack(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<u64>,
) -> ApiResult<Json<AlarmView>> {
    let actor = operator(&st, &headers, Permission::ReadAll, "read")?;
    if !(actor.may(Permission::Sell) || actor.may(Permission::CommandMeters)) {
        return Err(ApiError::forbidden("acknowledge alarms"));
    }
    match book::ack_async(&st.store, &actor, id).await {
        Ok(a) => Ok(Json(a.into())),
        Err(AlarmError::NotFound(id)) => Err(ApiError::not_found(format!("no alarm {id}"))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The SMS queue: every message to tenants and what became of it.
#[utoipa::path(get, path = routes::SMS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [SmsView])))]
pub async fn sms(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Vec<SmsView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(
        queue::list(&st.store)?
            .into_iter()
            .rev()
            .map(|m| {
                let (state, reason) = match m.state {
                    queue::SmsState::Queued => ("queued", m.last_error.clone()),
                    queue::SmsState::Sent => ("sent", None),
                    queue::SmsState::Failed(why) => ("failed", Some(why)),
                };
                SmsView {
                    id: m.id,
                    to: m.to,
                    text: m.text,
                    alarm: m.alarm,
                    created: m.created.to_string(),
                    state: state.into(),
                    reason,
                    attempts: m.attempts,
                    sent_at: m.sent_at.map(|t| t.to_string()),
                    parts: m.parts,
                }
            })
            .collect(),
    ))
}

/// Resolve a credit mismatch on a meter (after checking it on site): further credit to it
/// flows again and the credit-mismatch alarm clears. Audited.
#[utoipa::path(post, path = routes::METER_CREDIT_HOLD_RESOLVE, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 204), (status = 404, body = super::ErrorBody)))]
pub async fn resolve_credit_hold(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(meter): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    let actor = operator(
        &st,
        &headers,
        Permission::CommandMeters,
        "resolve credit holds",
    )?;
    let id = crate::site::MeterId::new(meter.clone());
    let st2 = st.clone();
    let done = tokio::task::spawn_blocking(move || {
        crate::control::credit::resolve_credit_hold(&st2.store, &actor, &id)
    })
    .await
    .map_err(ApiError::internal)??;
    if done {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "meter {meter} has no credit hold"
        )))
    }
}
