//! Operator sessions: login (bearer token), who am I, password change, logout, and the
//! operator list (admin). Passwords and lockout live in `auth::operators`.

use super::error::{ApiError, ApiResult, auth_error};
use super::{AppState, Principal, metrics};
use crate::auth::{Actor, Permission, operators};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::routes;
use voltvend_api_types::{
    LoginRequest, LoginResponse, NewOperator, OperatorAdded, OperatorView, PasswordChange, WhoAmI,
};

use super::staff::{operator_admin, parse_role};

// ---------- sessions ----------

/// Operator login: returns a bearer token. Five wrong passwords lock the name for 15 minutes.
#[utoipa::path(post, path = routes::LOGIN, tag = "operator", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::ErrorBody), (status = 423, body = super::ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let store = st.store.clone();
    let r = tokio::task::spawn_blocking(move || {
        let now = jiff::Timestamp::now();
        let s = operators::login(&store, &req.name, &req.password, now)?;
        let token = operators::issue_token(&store, &s, now, operators::SESSION_TTL)?;
        Ok::<_, operators::AuthError>((s, token))
    })
    .await
    .map_err(ApiError::internal)?;
    let (s, token) = r.map_err(auth_error)?;
    metrics::inc(&st.metrics.operator_logins);
    Ok(Json(LoginResponse {
        token,
        name: s.name,
        role: s.role.to_string(),
        must_change_password: s.must_change_password,
    }))
}

/// The logged-in operator and their permissions.
#[utoipa::path(get, path = routes::WHOAMI, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = super::ErrorBody)))]
pub async fn whoami(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<WhoAmI>> {
    match super::auth::principal(&st, &headers)? {
        Principal::Operator {
            name,
            role,
            must_change_password,
        } => {
            let permissions = Permission::ALL
                .iter()
                .filter(|p| role.allows(**p))
                .map(|p| {
                    serde_json::to_value(p)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                })
                .collect();
            Ok(Json(WhoAmI {
                name,
                role: role.to_string(),
                must_change_password,
                permissions,
            }))
        }
        Principal::Tenant { .. } => Err(ApiError::forbidden("use the operator API")),
    }
}

/// Change the logged-in operator's own password.
#[utoipa::path(post, path = routes::PASSWORD, tag = "operator", security(("bearer" = [])),
    request_body = PasswordChange, responses((status = 204), (status = 422, body = super::ErrorBody)))]
pub async fn change_password(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    let Principal::Operator { name, role, .. } = super::auth::principal(&st, &headers)? else {
        return Err(ApiError::forbidden("change an operator password"));
    };
    let store = st.store.clone();
    let n = name.clone();
    tokio::task::spawn_blocking(move || {
        operators::change_password(
            &store,
            &Actor::operator(&n, role),
            &n,
            Some(&req.old_password),
            &req.new_password,
            jiff::Timestamp::now(),
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(auth_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Log out.
#[utoipa::path(post, path = routes::LOGOUT, tag = "operator", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = super::auth::bearer(&headers) {
        let _ = st
            .store
            .write_async(move |txn| operators::revoke_token_in(txn, &t))
            .await;
    }
    StatusCode::NO_CONTENT
}

/// List operators (admin).
#[utoipa::path(get, path = routes::OPERATORS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<OperatorView>), (status = 403, body = super::ErrorBody)))]
pub async fn list_operators(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<OperatorView>>> {
    operator_admin(&st, &headers)?;
    let list = operators::list(&st.store).map_err(auth_error)?;
    Ok(Json(
        list.into_iter()
            .map(|o| OperatorView {
                name: o.name,
                role: o.role.to_string(),
                must_change_password: o.must_change_password,
                disabled: o.disabled,
                locked_until: o.locked_until.map(|t| t.to_string()),
                last_login: o.last_login.map(|t| t.to_string()),
            })
            .collect(),
    ))
}

/// Add an operator (admin).
#[utoipa::path(post, path = routes::OPERATORS, tag = "operator", security(("bearer" = [])),
    request_body = NewOperator, responses((status = 201, body = OperatorAdded), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn add_operator(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<NewOperator>,
) -> ApiResult<(StatusCode, Json<OperatorAdded>)> {
    let actor = operator_admin(&st, &headers)?;
    let role = parse_role(&req.role)?;
    let store = st.store.clone();
    let generated = req.password.is_none().then(operators::generate_password);
    let password = req.password.or(generated.clone()).unwrap_or_default();
    let name = req.name.clone();
    tokio::task::spawn_blocking(move || operators::add(&store, &actor, &name, role, &password))
        .await
        .map_err(ApiError::internal)?
        .map_err(auth_error)?;
    Ok((
        StatusCode::CREATED,
        Json(OperatorAdded {
            name: req.name,
            role: role.to_string(),
            password: generated,
        }),
    ))
}
