//! HTTP API (axum): operator API (bearer tokens, role checks, every change audited), tenant
//! API (unit number + PIN, used by the kiosk and phone site), payment notifications,
//! receipt verification, the embedded kiosk files, Prometheus `/metrics` and the OpenAPI
//! document at `/api/v1/openapi.json`. The same router serves TCP and a Unix socket.
//!
//! The bodies and route paths are the contract crate `voltvend_api_types`. Handlers live in
//! one module per subject (operator API: `meters`, `tenants`, `money`, `receipts`,
//! `settings`, `audit`, `status`, `alarms`, `reports`, `rationing`, `batches`, `site`,
//! `staff`, `operator_auth`; tenant API: `tenant`; anyone: `public`, `kiosk`). Every
//! operator route checks the operator's role against `auth::Permission` through
//! [`auth::operator`]; every change goes through the ledger, the site repository or the
//! outbox, each of which writes its audit entry in the same transaction as the change.
//! Below the handlers and depending on none of them: `auth` (who is asking), `error` (the
//! error body and the mapping of each layer's refusals), `views` (helpers shared by the
//! tenant and operator routes), `records` (the daemon's records in their contract shapes).

pub mod alarms;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod error;
pub mod kiosk;
pub mod lockout;
pub mod locks;
pub mod meters;
pub mod metrics;
pub mod money;
pub mod office;
pub mod openapi;
pub mod operator_auth;
pub mod public;
pub mod rationing;
pub mod receipts;
pub mod records;
pub mod reports;
pub mod session;
pub mod settings;
pub mod site;
pub mod staff;
pub mod status;
pub mod suspect;
pub mod tenant;
pub mod tenants;
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
    use operator_auth as a;
    use voltvend_api_types::routes as r;
    Router::new()
        .route(r::HEALTH, get(public::health))
        .route(r::OPENAPI, get(openapi::document))
        .route(r::LOGIN, post(a::login))
        .route(r::LOGOUT, post(a::logout))
        .route(r::WHOAMI, get(a::whoami))
        .route(r::PASSWORD, post(a::change_password))
        .route(r::OPERATORS, get(a::list_operators).post(a::add_operator))
        .route(r::STATUS, get(status::status))
        .route(r::METERS, get(meters::list_meters))
        .route(r::METER, get(meters::get_meter))
        .route(r::METER_READINGS, get(meters::meter_readings))
        .route(
            r::METER_COMMANDS,
            get(batches::meter_history).post(meters::meter_command),
        )
        .route(
            r::METER_LOCK,
            post(meters::lock_meter).delete(meters::unlock_meter),
        )
        .route(r::GATEWAYS, get(status::gateways))
        .route(r::TENANTS, get(tenants::list_tenants))
        .route(r::TENANT, get(tenants::get_tenant))
        .route(r::TENANT_USAGE, get(tenants::tenant_usage))
        .route(r::UNIT_UNLOCK_PIN, post(tenants::unlock_pin))
        .route(r::ACCOUNTS, post(money::open_account))
        .route(r::ACCOUNT_CLOSE, post(money::close_account))
        .route(r::SALES, post(money::sale))
        .route(r::REFUNDS, post(money::refund))
        .route(r::REVERSALS, post(money::reverse))
        .route(r::OPERATIONS, get(money::operations))
        .route(r::OPERATION, get(money::operation))
        .route(r::RECEIPTS, get(receipts::receipts))
        .route(r::RECEIPT_PRINT, post(receipts::reprint))
        .route(r::TOPUPS, get(receipts::topups))
        .route(r::OUTBOX, get(status::outbox))
        .route(
            r::SITE_SETTINGS,
            get(settings::get_settings).put(settings::put_settings),
        )
        .route(r::AUDIT, get(audit::audit_log))
        .route(r::ALARMS, get(alarms::active))
        .route(r::ALARMS_HISTORY, get(alarms::history))
        .route(r::ALARM_ACK, post(alarms::ack))
        .route(r::SMS, get(alarms::sms))
        .route(r::REPORT, get(reports::get_report))
        .route(r::RATIONING, get(rationing::list).post(rationing::create))
        .route(r::RATIONING_CANCEL, post(rationing::cancel))
        .route(r::REPORT_EXPORT, post(reports::export_report))
        .route(r::ROLES, get(staff::roles))
        .route(r::OPERATOR, post(staff::change))
        .route(r::OPERATOR_RESET_PASSWORD, post(staff::reset_password))
        .route(r::BATCHES, get(batches::list).post(batches::create))
        .route(r::BATCH, get(batches::progress))
        .route(r::SITE_IMPORT, post(site::import))
        .route(r::BUILDINGS, get(site::buildings))
        .route(r::TARIFFS, get(site::tariffs).post(site::set_tariff))
        .route(r::TARIFF, delete(site::remove_tariff))
        .route(r::ACCOUNT_METERS, post(site::add_meter))
        .route(
            r::METER_CREDIT_HOLD_RESOLVE,
            post(alarms::resolve_credit_hold),
        )
        .route(r::SUSPECT_READINGS, get(suspect::list))
        .route(r::SUSPECT_READING_ACCEPT, post(suspect::accept))
        .route(r::SUSPECT_READING_REJECT, post(suspect::reject))
        .route(r::CLOSE_SETTLEMENTS, get(office::close_settlements))
        .route(r::REFUNDS_PENDING, get(office::pending_refunds))
        .route(r::ACCOUNT_HISTORY, get(office::account_history))
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use tenant as t;
    use voltvend_api_types::routes as r;
    operator_routes()
        .route(r::KIOSK_INDEX, get(kiosk::index))
        .route(r::KIOSK_APP_JS, get(kiosk::app_js))
        .route(r::KIOSK_APP_CSS, get(kiosk::app_css))
        .route(r::METRICS, get(public::metrics))
        .route(r::KIOSK_INFO, get(public::kiosk_info))
        .route(r::RECEIPT_VERIFY, get(public::verify_receipt))
        .route(r::SANDBOX_PAGE, get(public::sandbox_page))
        .route(r::SANDBOX_DECIDE, post(public::sandbox_decide))
        .route(r::PAYMENT_NOTIFY, post(public::payment_notify))
        .route(r::TENANT_LOGIN, post(t::login))
        .route(r::TENANT_LOGOUT, post(t::logout))
        .route(r::TENANT_ME, get(t::me))
        .route(r::TENANT_OWN_USAGE, get(t::usage))
        .route(r::TENANT_PURCHASES, get(t::purchases))
        .route(r::TENANT_TOPUPS, post(t::start_topup))
        .route(r::TENANT_TOPUP, get(t::topup_status))
        .route(r::TENANT_RECEIPT_PRINT, post(t::reprint))
        .route(r::TENANT_METER_SWITCH, post(t::switch))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// The operator API for the Unix socket.
pub fn socket_router(state: AppState) -> Router {
    operator_routes()
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Handlers write through the store writer (`Store::write_async`): none opens a write
    /// transaction itself, and none waits for a commit on a runtime worker (`Store::write`).
    #[test]
    fn no_handler_writes_the_store_itself() {
        // Split so that this test does not find itself.
        const NEEDLES: [&str; 2] = [concat!("begin", "_write("), concat!(".write", "(move")];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("src/api") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            seen += 1;
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                assert!(
                    !NEEDLES.iter().any(|n| code.contains(n)),
                    "{}:{}: write through `store.write_async(|txn| …)` instead: {line}",
                    path.display(),
                    i + 1
                );
            }
        }
        assert!(seen > 10, "read {seen} files of src/api");
    }
}
