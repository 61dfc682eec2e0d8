//! Operator API for the audit log (admin): entries in order, or the newest first.

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use super::records::{self, SortedJson};
use crate::auth::Permission;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use voltvend_api_types::routes;
use voltvend_api_types::{AuditEntry, AuditQuery};

/// Audit log entries in order (admin).
#[utoipa::path(get, path = routes::AUDIT, tag = "operator", security(("bearer" = [])),
    params(AuditQuery), responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = super::ErrorBody)))]
pub async fn audit_log(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> ApiResult<SortedJson<Vec<AuditEntry>>> {
    operator(&st, &headers, Permission::ReadAudit, "read the audit log")?;
    use redb::{ReadableDatabase, ReadableTable};
    let txn = st
        .store
        .db()
        .begin_read()
        .map_err(crate::store::StoreError::from)?;
    let t = match txn.open_table(crate::auth::audit::AUDIT) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(SortedJson(Vec::new())),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let mut out = Vec::new();
    let limit = q.limit.unwrap_or(200).min(5000);
    if q.newest == Some(true) {
        for row in t.iter().map_err(ApiError::internal)?.rev().take(limit) {
            let (_, v) = row.map_err(ApiError::internal)?;
            out.push(audit_record(v.value())?);
        }
        return Ok(SortedJson(out));
    }
    for row in t
        .range(q.after.unwrap_or(0) + 1..)
        .map_err(ApiError::internal)?
    {
        let (_, v) = row.map_err(ApiError::internal)?;
        out.push(audit_record(v.value())?);
        if out.len() >= limit {
            break;
        }
    }
    Ok(SortedJson(out))
}

/// One stored audit record in its contract shape.
fn audit_record(bytes: &[u8]) -> ApiResult<AuditEntry> {
    let e: crate::auth::audit::AuditEntry =
        serde_json::from_slice(bytes).map_err(ApiError::internal)?;
    Ok(records::audit_entry(e))
}
