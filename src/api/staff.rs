//! Operator API for staff accounts beyond list/add (admin): reset a password (a generated
//! one, to be changed at the next login), disable/enable, change role; and the permission
//! table itself, so the console shows exactly what `auth::roles` enforces.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{OperatorChange, PasswordReset, RoleRow};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, auth_error};
use crate::auth::{Actor, Permission, Role, operators};

/// The logged-in operator, when they may manage operators (an admin).
pub(super) fn operator_admin(st: &AppState, headers: &HeaderMap) -> ApiResult<Actor> {
    operator(st, headers, Permission::ManageOperators, "manage operators")
}

/// A role by its name, or the refusal that lists the four.
pub(super) fn parse_role(name: &str) -> ApiResult<Role> {
    Role::parse(name)
        .ok_or_else(|| ApiError::bad_request("role: one of admin, cashier, viewer, installer"))
}

/// Roles and what each may do (the table every request is checked against).
#[utoipa::path(get, path = routes::ROLES, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [RoleRow])))]
pub async fn roles(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<RoleRow>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let name = |p: Permission| {
        serde_json::to_value(p)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    Ok(Json(
        Role::ALL
            .iter()
            .map(|r| RoleRow {
                role: r.to_string(),
                allows: Permission::ALL
                    .iter()
                    .filter(|p| r.allows(**p))
                    .map(|p| name(*p))
                    .collect(),
            })
            .collect(),
    ))
}

/// Reset an operator's password to a generated one (admin); ends their sessions.
#[utoipa::path(post, path = routes::OPERATOR_RESET_PASSWORD, tag = "operator", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = PasswordReset), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn reset_password(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Json<PasswordReset>> {
    let actor = operator_admin(&st, &headers)?;
    let password = operators::generate_password();
    let (store, n, p) = (st.store.clone(), name.clone(), password.clone());
    tokio::task::spawn_blocking(move || {
        operators::change_password(&store, &actor, &n, None, &p, jiff::Timestamp::now())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(auth_error)?;
    Ok(Json(PasswordReset { name, password }))
}

/// Disable/enable an operator or change their role (admin). The last enabled admin can be
/// neither disabled nor demoted.
#[utoipa::path(post, path = routes::OPERATOR, tag = "operator", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = OperatorChange,
    responses((status = 204), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn change(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(req): Json<OperatorChange>,
) -> ApiResult<axum::http::StatusCode> {
    let actor = operator_admin(&st, &headers)?;
    let role = match &req.role {
        Some(r) => Some(parse_role(r)?),
        None => None,
    };
    if role.is_none() && req.disabled.is_none() {
        return Err(ApiError::bad_request("give disabled or role"));
    }
    // Role and disabled flag change together or not at all.
    let disabled = req.disabled;
    st.store
        .write_async(move |txn| {
            if let Some(r) = role {
                operators::set_role_in(txn, &actor, &name, r)?;
            }
            if let Some(d) = disabled {
                operators::set_disabled_in(txn, &actor, &name, d)?;
            }
            Ok(())
        })
        .await
        .map_err(auth_error)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
