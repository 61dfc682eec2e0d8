//! Who is asking: the bearer token of a request, the principal behind it, and the two
//! extractors every handler starts with, [`operator`] (staff, with a permission check) and
//! [`tenant_of`] (a logged-in tenant).

use super::error::{ApiError, ApiResult};
use super::{AppState, Principal};
use crate::auth::{Actor, Permission};
use crate::site::{TenantId, UnitNo};
use axum::http::{HeaderMap, StatusCode};

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let t = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

/// The logged-in principal, or 401. Tenant tokens live in memory (`Sessions`); operator
/// tokens are `auth::operators` sessions in the store (hashed, surviving restarts, with
/// the operator's current role and password flag).
pub fn principal(st: &AppState, headers: &HeaderMap) -> ApiResult<Principal> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if let Some(p) = st.sessions.check(&token) {
        return Ok(p);
    }
    match crate::auth::operators::check_token(&st.store, &token, jiff::Timestamp::now()) {
        Ok(s) => Ok(Principal::Operator {
            name: s.name,
            role: s.role,
            must_change_password: s.must_change_password,
        }),
        Err(crate::auth::operators::AuthError::Store(e)) => Err(ApiError::internal(e)),
        Err(_) => Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the token is unknown or expired: log in again",
        )),
    }
}

/// Bearer token → operator, or 401; then the permission check, or 403.
pub fn operator(
    st: &AppState,
    headers: &HeaderMap,
    need: Permission,
    what: &str,
) -> ApiResult<Actor> {
    match super::auth::principal(st, headers)? {
        Principal::Operator {
            name,
            role,
            must_change_password,
        } => {
            if must_change_password {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "must_change_password",
                    "change your password first: POST /api/v1/password",
                ));
            }
            let actor = Actor::operator(&name, role);
            if !actor.may(need) {
                return Err(ApiError::forbidden(what));
            }
            Ok(actor)
        }
        Principal::Tenant { .. } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "operator_only",
            "this route is for staff; tenants use /api/v1/tenant/…",
        )),
    }
}

/// Bearer token → tenant, or 401.
pub fn tenant_of(st: &AppState, headers: &HeaderMap) -> ApiResult<(TenantId, UnitNo)> {
    match super::auth::principal(st, headers)? {
        Principal::Tenant { tenant, unit } => Ok((TenantId::new(tenant), UnitNo::new(unit))),
        Principal::Operator { .. } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "tenant_only",
            "this route is for tenants; operators use /api/v1/tenants/{id}",
        )),
    }
}
