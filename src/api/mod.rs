//! HTTP API (axum): operator API (bearer tokens, role checks, every change audited), tenant
//! API (unit number + PIN, used by the kiosk and phone site), payment notifications,
//! receipt verification, the embedded kiosk files, Prometheus `/metrics` and the OpenAPI
//! document at `/api/v1/openapi.json`. The same router serves TCP and a Unix socket.

pub mod alarms;
pub mod batches;
pub mod error;
pub mod kiosk;
pub mod lockout;
pub mod locks;
pub mod metrics;
pub mod openapi;
pub mod operator;
pub mod operator_auth;
pub mod public;
pub mod rationing;
pub mod reports;
pub mod session;
pub mod site;
pub mod staff;
pub mod tenant;
pub mod views;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use metrics::Metrics;
pub use session::{Principal, Sessions};

use crate::field::live::LiveState;
use crate::ledger::Ledger;
use crate::payment::SandboxProvider;
use crate::payment::topup::TopUps;
use crate::store::Store;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use std::sync::Arc;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub ledger: Ledger,
    pub live: LiveState,
    pub topups: TopUps,
    /// Present when the sandbox provider is enabled (demo, tests).
    pub sandbox: Option<SandboxProvider>,
    pub sessions: Sessions,
    pub metrics: Metrics,
    pub site_name: String,
    pub started: std::time::Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

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

async fn count(State(st): State<AppState>, req: Request, next: Next) -> Response {
    metrics::inc(&st.metrics.http_requests);
    let r = next.run(req).await;
    if r.status().as_u16() >= 400 {
        metrics::inc(&st.metrics.http_errors);
    }
    r
}

/// The operator API only (for the Unix socket used by local clients such as the TUI).
pub fn operator_routes() -> Router<AppState> {
    use operator as o;
    use operator_auth as a;
    Router::new()
        .route("/api/v1/health", get(public::health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/login", post(a::login))
        .route("/api/v1/logout", post(a::logout))
        .route("/api/v1/whoami", get(a::whoami))
        .route("/api/v1/password", post(a::change_password))
        .route(
            "/api/v1/operators",
            get(a::list_operators).post(a::add_operator),
        )
        .route("/api/v1/status", get(o::status))
        .route("/api/v1/meters", get(o::list_meters))
        .route("/api/v1/meters/{meter}", get(o::get_meter))
        .route("/api/v1/meters/{meter}/readings", get(o::meter_readings))
        .route(
            "/api/v1/meters/{meter}/commands",
            get(batches::meter_history).post(o::meter_command),
        )
        .route(
            "/api/v1/meters/{meter}/lock",
            post(o::lock_meter).delete(o::unlock_meter),
        )
        .route("/api/v1/gateways", get(o::gateways))
        .route("/api/v1/tenants", get(o::list_tenants))
        .route("/api/v1/tenants/{tenant}", get(o::get_tenant))
        .route("/api/v1/tenants/{tenant}/usage", get(o::tenant_usage))
        .route("/api/v1/units/{unit}/unlock-pin", post(o::unlock_pin))
        .route("/api/v1/accounts", post(o::open_account))
        .route("/api/v1/accounts/{tenant}/close", post(o::close_account))
        .route("/api/v1/sales", post(o::sale))
        .route("/api/v1/refunds", post(o::refund))
        .route("/api/v1/reversals", post(o::reverse))
        .route("/api/v1/operations", get(o::operations))
        .route("/api/v1/operations/{op}", get(o::operation))
        .route("/api/v1/receipts", get(o::receipts))
        .route("/api/v1/receipts/{receipt_no}/print", post(o::reprint))
        .route("/api/v1/topups", get(o::topups))
        .route("/api/v1/outbox", get(o::outbox))
        .route(
            "/api/v1/site/settings",
            get(o::get_settings).put(o::put_settings),
        )
        .route("/api/v1/audit", get(o::audit_log))
        .route("/api/v1/alarms", get(alarms::active))
        .route("/api/v1/alarms/history", get(alarms::history))
        .route("/api/v1/alarms/{id}/ack", post(alarms::ack))
        .route("/api/v1/sms", get(alarms::sms))
        .route("/api/v1/reports/{name}", get(reports::get_report))
        .route(
            "/api/v1/rationing",
            get(rationing::list).post(rationing::create),
        )
        .route("/api/v1/rationing/{id}/cancel", post(rationing::cancel))
        .route(
            "/api/v1/reports/{name}/export",
            post(reports::export_report),
        )
        .route("/api/v1/roles", get(staff::roles))
        .route("/api/v1/operators/{name}", post(staff::change))
        .route(
            "/api/v1/operators/{name}/reset-password",
            post(staff::reset_password),
        )
        .route("/api/v1/batches", get(batches::list).post(batches::create))
        .route("/api/v1/batches/{id}", get(batches::progress))
        .route("/api/v1/site/import", post(site::import))
        .route("/api/v1/buildings", get(site::buildings))
        .route("/api/v1/tariffs", get(site::tariffs).post(site::set_tariff))
        .route("/api/v1/tariffs/{name}", delete(site::remove_tariff))
        .route("/api/v1/accounts/{tenant}/meters", post(site::add_meter))
        .route(
            "/api/v1/meters/{meter}/credit-hold/resolve",
            post(alarms::resolve_credit_hold),
        )
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use tenant as t;
    operator_routes()
        .route("/", get(kiosk::index))
        .route("/kiosk/app.js", get(kiosk::app_js))
        .route("/kiosk/app.css", get(kiosk::app_css))
        .route("/metrics", get(public::metrics))
        .route("/api/v1/kiosk/info", get(public::kiosk_info))
        .route("/r/{receipt}", get(public::verify_receipt))
        .route("/pay/sandbox/{order}", get(public::sandbox_page))
        .route(
            "/pay/sandbox/{order}/{decision}",
            post(public::sandbox_decide),
        )
        .route(
            "/api/v1/payments/notify/{provider}",
            post(public::payment_notify),
        )
        .route("/api/v1/tenant/login", post(t::login))
        .route("/api/v1/tenant/logout", post(t::logout))
        .route("/api/v1/tenant/me", get(t::me))
        .route("/api/v1/tenant/usage", get(t::usage))
        .route("/api/v1/tenant/purchases", get(t::purchases))
        .route("/api/v1/tenant/topups", post(t::start_topup))
        .route("/api/v1/tenant/topups/{order_id}", get(t::topup_status))
        .route(
            "/api/v1/tenant/receipts/{receipt_no}/print",
            post(t::reprint),
        )
        .route("/api/v1/tenant/meters/{meter}/switch", post(t::switch))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// The operator API for the Unix socket.
pub fn socket_router(state: AppState) -> Router {
    operator_routes()
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}
