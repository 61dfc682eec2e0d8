//! Operator API for reports: the table as JSON, or the file as CSV / XLSX.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use voltvend_api_types::routes;
use voltvend_api_types::{ExportDone, ReportQuery};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult};
use crate::auth::Permission;
use crate::report::{self, Params, ReportError, export};

fn report_err(e: ReportError) -> ApiError {
    match e {
        ReportError::Unknown(..) => ApiError::not_found(e.to_string()),
        ReportError::Param(_) => ApiError::bad_request(e.to_string()),
        e => ApiError::internal(e),
    }
}

/// Runs report `name` with the query's parameters off the async threads; "today" is the
/// site's day (its time zone from the defaults).
async fn run_report(
    st: &AppState,
    name: String,
    q: ReportQuery,
) -> ApiResult<report::table::Table> {
    let store = st.store.clone();
    tokio::task::spawn_blocking(move || {
        let tz = crate::site::repo::defaults(&store)
            .map_err(|e| ReportError::Other(e.to_string()))?
            .tz();
        let today = jiff::Timestamp::now().to_zoned_datetime(tz).date();
        let p = Params::parse(
            q.from.as_deref(),
            q.to.as_deref(),
            q.period.as_deref(),
            q.group.as_deref(),
            q.meter.as_deref(),
            today,
        )?;
        report::run(&store, &name, &p)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(report_err)
}

/// A report: sales, energy, status, offline-meters, offline-gateways, alarms,
/// alarm-history, readings, accounts.
#[utoipa::path(get, path = routes::REPORT, tag = "operator", security(("bearer" = [])),
    params(("name" = String, Path), ReportQuery),
    responses((status = 200, description = "JSON table {title, params, columns, rows}; money in fen, energy in Wh; or a CSV / XLSX file", body = voltvend_api_types::ReportTable),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn get_report(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    operator(&st, &headers, Permission::ReadAll, "read reports")?;
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "xlsx") {
        return Err(ApiError::bad_request(format!(
            "format '{format}': use json, csv or xlsx"
        )));
    }
    let table = run_report(&st, name, q).await?;
    let file = |bytes: Vec<u8>, mime: &'static str, ext: &str| -> Response {
        let mut r = bytes.into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        let disp = format!("attachment; filename=\"report.{ext}\"");
        if let Ok(v) = HeaderValue::from_str(&disp) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    };
    Ok(match format.as_str() {
        "csv" => file(
            export::csv(&table).map_err(ApiError::internal)?,
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => file(
            export::xlsx(&table).map_err(ApiError::internal)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => axum::Json(super::records::table(table)).into_response(),
    })
}

/// Write a report as CSV or XLSX into the appliance's export folder (next to the store,
/// `exports/`), for staff on the console who cannot download: copy it from there (USB
/// stick, scp by the installer). Same query as GET; `format` csv or xlsx (default xlsx).
#[utoipa::path(post, path = routes::REPORT_EXPORT, tag = "operator", security(("bearer" = [])),
    params(("name" = String, Path), ReportQuery),
    responses((status = 200, body = ExportDone), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn export_report(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<axum::Json<ExportDone>> {
    let actor = operator(&st, &headers, Permission::ReadAll, "read reports")?;
    let format = q.format.clone().unwrap_or_else(|| "xlsx".into());
    if !matches!(format.as_str(), "csv" | "xlsx") {
        return Err(ApiError::bad_request(format!(
            "format '{format}': use csv or xlsx"
        )));
    }
    let table = run_report(&st, name.clone(), q).await?;
    let bytes = match format.as_str() {
        "csv" => export::csv(&table).map_err(ApiError::internal)?,
        _ => export::xlsx(&table).map_err(ApiError::internal)?,
    };
    let dir = st
        .store
        .path()
        .parent()
        .map(|p| p.join("exports"))
        .unwrap_or_else(|| std::path::PathBuf::from("exports"));
    std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
    let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S").to_string();
    let path = dir.join(format!("{name}-{stamp}.{format}"));
    std::fs::write(&path, &bytes).map_err(ApiError::internal)?;
    tracing::info!(report = %name, path = %path.display(), by = %actor.label(), "report exported");
    Ok(axum::Json(ExportDone {
        path: path.display().to_string(),
        rows: table.rows.len(),
        bytes: bytes.len(),
    }))
}
