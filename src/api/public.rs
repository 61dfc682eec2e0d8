//! Routes anyone may call: health, metrics, kiosk facts, receipt verification, payment
//! notifications and the sandbox payment page.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use voltvend_api_types::routes;
use voltvend_api_types::{Health, KioskInfo, SigQuery};

/// Liveness: answers when the daemon is up.
#[utoipa::path(get, path = routes::HEALTH, tag = "public",
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

/// Facts the kiosk shows before login.
#[utoipa::path(get, path = routes::KIOSK_INFO, tag = "public",
    responses((status = 200, body = KioskInfo)))]
pub async fn kiosk_info(State(st): State<AppState>) -> Json<KioskInfo> {
    let buildings = crate::site::repo::list_buildings(&st.store)
        .map(|v| v.into_iter().map(|b| b.id.to_string()).collect())
        .unwrap_or_default();
    Json(KioskInfo {
        site_name: st.site_name.clone(),
        buildings,
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PAGE_STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:0;background:#f3f5f9;color:#16202e}\
main{max-width:460px;margin:0 auto;padding:24px 16px}.card{background:#fff;border-radius:16px;padding:22px;box-shadow:0 4px 14px rgba(16,24,40,.08);text-align:center}\
h1{font-size:24px;margin:8px 0}.big{font-size:44px;font-weight:800;margin:8px 0}.ok{color:#178a4c}.bad{color:#cf2a2a}\
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;text-align:left}dt{color:#5b6778}dd{margin:0;font-weight:600;text-align:right}\
button{font:inherit;font-size:22px;font-weight:700;width:100%;min-height:60px;border-radius:12px;border:2px solid #dfe4ec;background:#fff;margin-top:12px;cursor:pointer}\
button.primary{background:#178a4c;border-color:#178a4c;color:#fff}.muted{color:#5b6778;font-size:15px}";

fn page(title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{PAGE_STYLE}</style></head><body><main>{body}</main></body></html>",
        esc(title)
    ))
}

/// The page behind a receipt's QR code: says whether the receipt is genuine.
pub async fn verify_receipt(
    State(st): State<AppState>,
    axum::extract::Path(no): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<SigQuery>,
) -> impl IntoResponse {
    let rec = crate::receipt::record::get(&st.store, &no).ok().flatten();
    let sig = q.sig.unwrap_or_default();
    match rec {
        Some(r) if st.topups.receipts().verify(&r, &sig) => {
            let body = format!(
                "<div class=\"card\"><div class=\"big ok\">✓</div><h1 class=\"ok\">真实凭条 Genuine receipt</h1>\
                 <p class=\"muted\">{site}</p><dl><dt>单号 No.</dt><dd>{no}</dd><dt>时间 Time</dt><dd>{time}</dd>\
                 <dt>租户 Tenant</dt><dd>{tenant}</dd><dt>户号 Unit</dt><dd>{units}</dd><dt>金额 Amount</dt><dd>¥{amount}</dd>\
                 <dt>余额 Balance</dt><dd>¥{bal}</dd></dl></div>",
                site = esc(&r.site_name),
                no = esc(&r.receipt_no),
                time = esc(&r.local_time),
                tenant = esc(&r.tenant_name),
                units = esc(&r.units.join(", ")),
                amount = crate::units::Fen(r.amount_fen),
                bal = crate::units::Fen(r.balance_after_fen),
            );
            (axum::http::StatusCode::OK, page("Genuine receipt", &body))
        }
        _ => {
            let body = format!(
                "<div class=\"card\"><div class=\"big bad\">✕</div><h1 class=\"bad\">无法验证 Not genuine</h1>\
                 <p>凭条 {} 不存在或签名不符。请联系管理处。<br>Receipt {} is unknown or its signature does not match. Please ask the management office.</p></div>",
                esc(&no),
                esc(&no)
            );
            (
                axum::http::StatusCode::NOT_FOUND,
                page("Not genuine", &body),
            )
        }
    }
}

/// The sandbox provider's payment page (what the QR code opens).
pub async fn sandbox_page(
    State(st): State<AppState>,
    axum::extract::Path(order): axum::extract::Path<String>,
) -> impl IntoResponse {
    let Some(amount) = st.sandbox.as_ref().and_then(|s| s.amount_of(&order)) else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            page(
                "Sandbox",
                "<div class=\"card\"><h1 class=\"bad\">订单不存在 Unknown order</h1></div>",
            ),
        );
    };
    let o = esc(&order);
    let body = format!(
        "<div class=\"card\"><p class=\"muted\">沙箱支付 · Sandbox payment (no real money)</p><h1>{site}</h1>\
         <div class=\"big\">¥{amount}</div><p class=\"muted\">订单 Order {o}</p>\
         <form method=\"post\" action=\"/pay/sandbox/{o}/approve\"><button id=\"approve\" class=\"primary\" type=\"submit\">确认支付 Approve</button></form>\
         <form method=\"post\" action=\"/pay/sandbox/{o}/decline\"><button id=\"decline\" type=\"submit\">拒绝 Decline</button></form></div>",
        site = esc(&st.site_name),
    );
    (axum::http::StatusCode::OK, page("Sandbox payment", &body))
}

/// The payer's decision on the sandbox page, delivered as a signed notification through
/// the same verification path a real provider's notification takes.
pub async fn sandbox_decide(
    State(st): State<AppState>,
    axum::extract::Path((order, decision)): axum::extract::Path<(String, String)>,
) -> impl IntoResponse {
    let approve = decision == "approve";
    let result = match st.sandbox.as_ref() {
        None => Err("the sandbox provider is not enabled".to_string()),
        Some(s) => match s.decide(&order, approve) {
            Ok((body, sig)) => st
                .topups
                .notify("sandbox", &body, &sig)
                .await
                .map(|settled| super::views::after_settle(&st, &settled))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
    };
    let (status, body) = match result {
        Ok(()) if approve => (
            axum::http::StatusCode::OK,
            "<div class=\"card\"><div class=\"big ok\">✓</div><h1 class=\"ok\">支付成功 Paid</h1><p class=\"muted\">可以关闭此页面 You can close this page.</p></div>",
        ),
        Ok(()) => (
            axum::http::StatusCode::OK,
            "<div class=\"card\"><div class=\"big bad\">✕</div><h1>已拒绝 Declined</h1><p class=\"muted\">未扣款 Nothing was charged.</p></div>",
        ),
        Err(e) => {
            tracing::warn!(order = %order, error = %e, "sandbox decision failed");
            (
                axum::http::StatusCode::CONFLICT,
                "<div class=\"card\"><h1 class=\"bad\">支付失败 Payment failed</h1></div>",
            )
        }
    };
    (status, page("Sandbox payment", body))
}

/// Payment notifications from a provider (`X-Signature` header, raw body). Answers
/// `success` once the notification is verified and applied, however often it arrives.
#[utoipa::path(post, path = routes::PAYMENT_NOTIFY, tag = "public",
    params(("provider" = String, Path, description = "Provider name, e.g. `sandbox`")),
    request_body(content = String, description = "The provider's signed notification body"),
    responses((status = 200, description = "`success`"), (status = 400, description = "Bad signature or body", body = super::ErrorBody)))]
pub async fn payment_notify(
    State(st): State<AppState>,
    axum::extract::Path(provider): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<&'static str, super::ApiError> {
    let sig = headers
        .get("x-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match st.topups.notify(&provider, &body, sig).await {
        Ok(settled) => {
            super::views::after_settle(&st, &settled);
            Ok("success")
        }
        Err(e) => {
            super::metrics::inc(&st.metrics.payment_notifications_rejected);
            tracing::warn!(provider = %provider, error = %e, "payment notification refused");
            Err(super::error::topup_error(e))
        }
    }
}
