//! HTTP API (axum): operator API (bearer tokens, role checks, every change audited), tenant
//! API (unit number + PIN, used by the kiosk and phone site), payment notifications,
//! receipt verification, the embedded kiosk files, Prometheus `/metrics` and the OpenAPI
//! document at `/api/v1/openapi.json`. The same router serves TCP and a Unix socket.

pub mod error;
pub mod kiosk;
pub mod metrics;
pub mod openapi;
pub mod public;
pub mod session;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use metrics::Metrics;
pub use session::{Principal, Sessions};

use crate::store::Store;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use std::sync::Arc;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

pub struct Inner {
    pub store: Store,
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

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(kiosk::index))
        .route("/kiosk/app.js", get(kiosk::app_js))
        .route("/kiosk/app.css", get(kiosk::app_css))
        .route("/api/v1/health", get(public::health))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/metrics", get(public::metrics))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}
