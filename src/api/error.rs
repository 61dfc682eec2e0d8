//! JSON errors: the body is `voltvend_api_types::ErrorBody`, `{ "code": "stable_snake_case",
//! "message": "what happened and what to do" }` plus optional extra fields (e.g.
//! `attempts_left`, `until`). The code is for programs, the message for people.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::operators;
use crate::control::ControlError;
use crate::payment::topup::TopUpError;

pub use voltvend_api_types::ErrorBody;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Boxed: handlers return `Result<_, ApiError>` everywhere and the body is large.
    pub body: Box<ErrorBody>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                code: code.to_string(),
                message: message.into(),
                ..ErrorBody::default()
            }),
        }
    }
    /// Sets the body's extra fields, e.g. `.with(|b| b.until = Some(t))`.
    pub fn with(mut self, set: impl FnOnce(&mut ErrorBody)) -> ApiError {
        set(&mut self.body);
        self
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in first: send 'Authorization: Bearer TOKEN' from POST /api/v1/login",
        )
    }
    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role may not {what}"),
        )
    }
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error in API");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(*self.body)).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}

impl From<redb::Error> for ApiError {
    fn from(e: redb::Error) -> ApiError {
        ApiError::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

// The refusals of the layers below, each mapped once to its status and stable code.

pub fn site_err(e: crate::site::repo::SiteError) -> ApiError {
    match e {
        crate::site::repo::SiteError::Invalid { .. }
        | crate::site::repo::SiteError::InUse { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
        }
        other => ApiError::internal(other),
    }
}

pub fn ledger_err(e: crate::ledger::LedgerError) -> ApiError {
    use crate::ledger::LedgerError as L;
    match e {
        e if e.is_fatal() || matches!(e, L::WriterGone) => ApiError::internal(e),
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
            other.to_string(),
        ),
    }
}

pub fn control_err(e: ControlError) -> ApiError {
    match e {
        ControlError::Refused(m) => ApiError::bad_request(m),
        e => ApiError::internal(e),
    }
}

/// Maps an `auth` refusal to a JSON error.
pub fn auth_error(e: operators::AuthError) -> ApiError {
    use operators::AuthError as A;
    match e {
        A::BadCredentials | A::Disabled(_) | A::BadToken => {
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string())
        }
        A::Locked { until, .. } => ApiError::new(StatusCode::LOCKED, "locked", e.to_string())
            .with(|b| b.until = Some(until.to_string())),
        A::Forbidden { .. } => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
        A::NotFound(_) => ApiError::not_found(e.to_string()),
        A::Store(_) | A::Hash(_) => ApiError::internal(e),
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            other.to_string(),
        ),
    }
}

pub fn topup_error(e: TopUpError) -> ApiError {
    match e {
        TopUpError::NotPositive => ApiError::bad_request(e.to_string())
            .with(|b| b.code_detail = Some("not_positive".into())),
        TopUpError::OverCap { max, cap, .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "over_cap", e.to_string()).with(|b| {
                b.max_fen = Some(max.0);
                b.cap_fen = Some(cap.0);
            })
        }
        TopUpError::WhichMeter { ref meters } => {
            let zh = format!("您有多块预付费电表（{meters}），请先选择充值到哪一块。");
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "which_meter", zh)
                .with(|b| b.message_en = Some(e.to_string()))
        }
        TopUpError::NotYourMeter {
            ref meter,
            ref meters,
        } => {
            let zh = format!("电表 {meter} 不是您的预付费电表（{meters}）。");
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_your_meter", zh)
                .with(|b| b.message_en = Some(e.to_string()))
        }
        TopUpError::Payment(crate::payment::PaymentError::BadSignature) => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_signature", e.to_string())
        }
        TopUpError::Payment(crate::payment::PaymentError::UnknownOrder(_)) => {
            ApiError::not_found(e.to_string())
        }
        TopUpError::Payment(_) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "payment_provider", e.to_string())
        }
        TopUpError::AmountMismatch { .. } | TopUpError::OtherTransaction { .. } => {
            ApiError::conflict("payment_mismatch", e.to_string())
        }
        TopUpError::NoProvider(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_provider",
            e.to_string(),
        ),
        other => ApiError::internal(other),
    }
}
