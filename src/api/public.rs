//! Routes anyone may call: health, metrics, kiosk facts, receipt verification, payment
//! notifications and the sandbox payment page.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the daemon answers.
    pub status: String,
    pub version: String,
    pub uptime_s: u64,
}

/// Liveness: answers when the daemon is up.
#[utoipa::path(get, path = "/api/v1/health", tag = "public",
    responses((status = 200, description = "The daemon is up", body = Health)))]
pub async fn health(State(st): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: st.started.elapsed().as_secs(),
    })
}

/// Prometheus metrics (text format).
pub async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let gauges = [(
        "voltvend_sessions",
        "Logged-in sessions (operators and tenants)",
        st.sessions.count() as i64,
    )];
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(&gauges),
    )
}
