//! Operator API for the site model from the console: batch import of a file already on
//! the appliance (the whole file is checked first; any problem imports nothing and every
//! problem comes back as `FILE:LINE: column 'x': why`), buildings, and adding a meter to
//! an open account.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::routes;
use voltvend_api_types::{
    AddMeterRequest, BuildingView, ImportDone, ImportRequest, OpResult, TariffRemoved,
    TariffRequest, TariffSaved, TariffView,
};

use super::AppState;
use super::auth::operator;
use super::error::{ApiError, ApiResult, site_err};
use super::money::submit_for;
use crate::auth::Permission;
use crate::import::{ImportError, Kind, import_file};
use crate::site::{MeterId, TenantId, repo};

/// Import buildings, units, gateways, meters or tenants from a CSV/XLSX file on the
/// appliance. On any problem nothing is written and the answer (422, code `invalid_file`)
/// lists every problem in `problems`.
#[utoipa::path(post, path = routes::SITE_IMPORT, tag = "operator", security(("bearer" = [])),
    request_body = ImportRequest,
    responses((status = 200, body = ImportDone), (status = 422, body = super::ErrorBody), (status = 403, body = super::ErrorBody)))]
pub async fn import(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ImportRequest>,
) -> ApiResult<Json<ImportDone>> {
    let actor = operator(&st, &headers, Permission::ImportSite, "import site files")?;
    let kind = match req.kind.as_str() {
        "buildings" => Kind::Buildings,
        "units" => Kind::Units,
        "gateways" => Kind::Gateways,
        "meters" => Kind::Meters,
        "tenants" => Kind::Tenants,
        other => {
            return Err(ApiError::bad_request(format!(
                "kind '{other}': one of buildings, units, gateways, meters, tenants"
            )));
        }
    };
    let path = std::path::PathBuf::from(req.path.trim());
    if !path.is_absolute() {
        return Err(ApiError::bad_request(format!(
            "'{}' is not an absolute path on the appliance",
            path.display()
        )));
    }
    let store = st.store.clone();
    let dry_run = req.dry_run;
    let result =
        tokio::task::spawn_blocking(move || import_file(&store, &actor, kind, &path, dry_run))
            .await
            .map_err(ApiError::internal)?;
    match result {
        Ok(r) => Ok(Json(ImportDone {
            kind: kind.as_str().into(),
            added: r.added,
            updated: r.updated,
            unchanged: r.unchanged,
            dry_run: r.dry_run,
            summary: r.to_string(),
        })),
        Err(ImportError::Invalid { file, problems }) => {
            let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_file",
                format!("{} problem(s) in {file}; nothing was imported", lines.len()),
            )
            .with(|b| b.problems = Some(lines)))
        }
        Err(ImportError::Read { file, why }) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unreadable_file",
            format!("{file}: {why}"),
        )),
        Err(ImportError::Site(e)) => Err(site_err(e)),
    }
}

/// Buildings with their unit and meter counts.
#[utoipa::path(get, path = routes::BUILDINGS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [BuildingView])))]
pub async fn buildings(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<BuildingView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let units = repo::list_units(&st.store).map_err(site_err)?;
    let meters = repo::list_meters(&st.store).map_err(site_err)?;
    let out = repo::list_buildings(&st.store)
        .map_err(site_err)?
        .into_iter()
        .map(|b| {
            let own: std::collections::BTreeSet<_> = units
                .iter()
                .filter(|u| u.building == b.id)
                .map(|u| u.no.clone())
                .collect();
            BuildingView {
                building: b.id.to_string(),
                name: b.name,
                floors: b.floors,
                units: own.len(),
                meters: meters
                    .iter()
                    .filter(|m| m.unit.as_ref().is_some_and(|u| own.contains(u)))
                    .count(),
            }
        })
        .collect();
    Ok(Json(out))
}

/// Add a meter to a tenant's open account (a meter installed later).
#[utoipa::path(post, path = routes::ACCOUNT_METERS, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path)), request_body = AddMeterRequest,
    responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn add_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Json(req): Json<AddMeterRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(
        &st,
        &headers,
        Permission::OpenAccount,
        "add meters to accounts",
    )?;
    let m = repo::get_meter(&st.store, &MeterId::new(req.meter.clone()))
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {}", req.meter)))?;
    let tenant = TenantId::new(tenant);
    submit_for(
        &st,
        &actor,
        &req.idempotency_key,
        &tenant,
        crate::ledger::Request::AddMeter(crate::ledger::AddMeter {
            tenant: tenant.clone(),
            meter: crate::ledger::MeterAccountInit {
                meter: m.id.clone(),
                billing: m.billing,
            },
        }),
    )
    .await
}

/// Every stored tariff.
#[utoipa::path(get, path = routes::TARIFFS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = [TariffView])))]
pub async fn tariffs(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<TariffView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(
        repo::list_tariffs(&st.store)
            .map_err(site_err)?
            .into_iter()
            .map(|(name, tariff)| TariffView {
                name,
                summary: crate::site::tariff_file::summary(&tariff),
                tariff,
            })
            .collect(),
    ))
}

/// Define or change a named tariff (admin, installer) from a tariff file on the appliance
/// or from JSON; validated first (a mistake is 422 `invalid_tariff` naming file, line and
/// why, and nothing is stored), audited. Meter-billed meters get the new prices pushed by
/// the control queue when the prices in force for them change.
#[utoipa::path(post, path = routes::TARIFFS, tag = "operator", security(("bearer" = [])),
    request_body = TariffRequest,
    responses((status = 200, body = TariffSaved), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn set_tariff(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<TariffRequest>,
) -> ApiResult<Json<TariffSaved>> {
    use crate::site::tariff_file;
    let actor = operator(&st, &headers, Permission::EditTariffs, "change tariffs")?;
    let invalid =
        |why: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_tariff", why);
    let file = match (&req.path, &req.name, &req.tariff) {
        (Some(path), None, None) => {
            let path = std::path::PathBuf::from(path.trim());
            if !path.is_absolute() {
                return Err(ApiError::bad_request(format!(
                    "'{}' is not an absolute path on the appliance",
                    path.display()
                )));
            }
            tariff_file::read(&path).map_err(|e| match e {
                tariff_file::ReadError::Unreadable(why) => {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unreadable_file", why)
                }
                tariff_file::ReadError::Invalid(why) => invalid(why),
            })?
        }
        (None, Some(name), Some(value)) => tariff_file::TariffFile {
            name: name.trim().to_string(),
            tariff: repo::decode_tariff(value)
                .map_err(|why| invalid(format!("tariff '{}': {why}", name.trim())))?,
        },
        _ => {
            return Err(ApiError::bad_request(
                "give either 'path' (a tariff file on the appliance) or 'name' and 'tariff'",
            ));
        }
    };
    let (store, by, dry_run) = (st.store.clone(), actor.clone(), req.dry_run);
    let done = super::views::off_runtime(move || {
        tariff_file::apply(&store, &by, &file, dry_run).map_err(site_err)
    })
    .await?;
    if !done.dry_run {
        tracing::info!(by = %actor.label(), "{done}");
    }
    Ok(Json(TariffSaved {
        change: done.change.as_str().into(),
        name: done.name,
        before: done.before,
        after: done.after,
        dry_run: done.dry_run,
    }))
}

/// Remove a tariff that neither the site default nor any meter uses (admin, installer).
#[utoipa::path(delete, path = routes::TARIFF, tag = "operator", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = TariffRemoved), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn remove_tariff(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<Json<TariffRemoved>> {
    let actor = operator(&st, &headers, Permission::EditTariffs, "change tariffs")?;
    let n = name.clone();
    let removed = st
        .store
        .write_async(move |txn| repo::remove_tariff(txn, &actor, &n))
        .await
        .map_err(site_err)?;
    if !removed {
        return Err(ApiError::not_found(format!("no tariff '{name}'")));
    }
    Ok(Json(TariffRemoved { removed: name }))
}
