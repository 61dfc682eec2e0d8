//! The body of every error response: `{ "code": "stable_snake_case", "message": "what
//! happened and what to do" }` plus, for some codes, the extra fields below. The code is
//! for programs, the message for people.

use serde::{Deserialize, Serialize};

/// The body of every error response.
// Fields in alphabetical order: the body has always been written with its keys sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// `bad_credentials` (tenant login): wrong PINs left before the unit locks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// `over_cap`: the hoarding cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_fen: Option<i64>,
    /// Stable machine-readable code, e.g. `forbidden`, `bad_credentials`, `locked`.
    pub code: String,
    /// A finer reason under a general code (`not_positive` under `bad_request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_detail: Option<String>,
    /// `over_cap`: the largest amount allowed now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fen: Option<i64>,
    /// Human-readable explanation.
    pub message: String,
    /// `in_arrears` / `locked_by_staff`: the message in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_en: Option<String>,
    /// `invalid_file`: every problem, one per line (`FILE:LINE: column 'x': why`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
    /// `locked`: when the lock ends (UTC, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::ErrorBody;

    #[test]
    fn keys_are_written_sorted_and_absent_extras_left_out() {
        let b = ErrorBody {
            code: "locked".into(),
            message: "later".into(),
            until: Some("2026-12-07T12:00:00Z".into()),
            attempts_left: Some(0),
            ..ErrorBody::default()
        };
        assert_eq!(
            serde_json::to_string(&b).unwrap_or_default(),
            r#"{"attempts_left":0,"code":"locked","message":"later","until":"2026-12-07T12:00:00Z"}"#
        );
    }
}
