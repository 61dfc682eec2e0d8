//! Operator API: what the staff console (TUI) and integrators use. Every route checks the
//! operator's role against `auth::Permission`; every change goes through the ledger, the
//! site repository or the outbox, each of which writes its audit entry in the same
//! transaction as the change.

use super::error::{ApiError, ApiResult};
use super::records::{self, SortedJson};
use super::{AppState, Principal};
use crate::auth::{Actor, Permission};
use crate::field::readings;
use crate::payment::topup::{ReceiptFacts, make_receipt};
use crate::receipt::{ReceiptRecord, Receipts, record};
use crate::site::{MeterId, TenantId, repo};
use crate::units::Fen;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use voltvend_api_types::routes;
use voltvend_api_types::{
    AuditEntry, AuditQuery, CloseAccountRequest, CommandQueued, CommandRequest, GatewayView,
    LockRequest, MeterLock, MeterView, OpResult, OpenAccountRequest, Operation, OpsQuery,
    OutboxEntry, PrintResult, RangeQuery, ReadingView, ReceiptQuery, RefundRequest, ReverseRequest,
    SaleRequest, SaleResult, SiteSettings, SiteStatus, TenantRow, TenantView, TopUpView, Usage,
    UsageQuery,
};

/// Bearer token → operator, or 401; then the permission check, or 403.
pub fn operator(
    st: &AppState,
    headers: &HeaderMap,
    need: Permission,
    what: &str,
) -> ApiResult<Actor> {
    match super::principal(st, headers)? {
        Principal::Operator {
            name,
            role,
            must_change_password,
        } => {
            if must_change_password {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "must_change_password",
                    "change your password first: POST /api/v1/password",
                ));
            }
            let actor = Actor::operator(&name, role);
            if !actor.may(need) {
                return Err(ApiError::forbidden(what));
            }
            Ok(actor)
        }
        Principal::Tenant { .. } => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "operator_only",
            "this route is for staff; tenants use /api/v1/tenant/…",
        )),
    }
}

pub(super) fn site_err(e: crate::site::repo::SiteError) -> ApiError {
    match e {
        crate::site::repo::SiteError::Invalid { .. }
        | crate::site::repo::SiteError::InUse { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
        }
        other => ApiError::internal(other),
    }
}

pub(super) fn ledger_err(e: crate::ledger::LedgerError) -> ApiError {
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

// ---------- meters ----------

fn meter_view(
    st: &AppState,
    m: &crate::site::model::Meter,
    tenants: &[crate::site::model::Tenant],
    units: &std::collections::BTreeMap<String, crate::site::model::Unit>,
) -> ApiResult<MeterView> {
    let unit = m.unit.as_ref().and_then(|u| units.get(u.as_str()));
    let live = st.live.meter(&m.id);
    let v = live.as_ref().map(|l| l.values.clone()).unwrap_or_default();
    Ok(MeterView {
        meter: m.id.to_string(),
        unit: m.unit.as_ref().map(|u| u.to_string()),
        tenant: m.unit.as_ref().and_then(|u| {
            tenants
                .iter()
                .find(|t| t.units.contains(u))
                .map(|t| t.id.to_string())
        }),
        gateway: m.gateway.to_string(),
        bus: m.bus,
        address: match &m.address {
            crate::site::model::MeterAddress::Modbus(a) => a.to_string(),
            crate::site::model::MeterAddress::Dlt645(a) => a.clone(),
        },
        protocol: m.protocol.as_str().to_string(),
        profile: m.profile.clone(),
        phases: format!("{:?}", m.phases).to_lowercase(),
        billing: m.billing.to_string(),
        online: live.as_ref().map(|l| l.online),
        last_ok: live.as_ref().and_then(|l| l.last_ok.map(|t| t.to_string())),
        last_error: live.as_ref().and_then(|l| l.last_error.clone()),
        power_w: v.power_w,
        total_wh: v.total.map(|w| w.0),
        relay: v.relay.map(|r| r.as_str()).unwrap_or("unknown").to_string(),
        meter_balance_fen: v.balance.map(|b| b.0),
        lock: super::locks::get(&st.store, &m.id)?,
        keep_power: crate::control::keep_power(&st.store, &m.id)?,
        building: unit.map(|u| u.building.to_string()),
        floor: unit.map(|u| u.floor),
    })
}

fn units_by_no(
    st: &AppState,
) -> ApiResult<std::collections::BTreeMap<String, crate::site::model::Unit>> {
    Ok(repo::list_units(&st.store)
        .map_err(site_err)?
        .into_iter()
        .map(|u| (u.no.to_string(), u))
        .collect())
}

/// All meters with their live state.
#[utoipa::path(get, path = routes::METERS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<MeterView>)))]
pub async fn list_meters(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<MeterView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    let meters = repo::list_meters(&st.store).map_err(site_err)?;
    let units = units_by_no(&st)?;
    let mut out = Vec::with_capacity(meters.len());
    for m in &meters {
        out.push(meter_view(&st, m, &tenants, &units)?);
    }
    Ok(Json(out))
}

/// One meter with its live state.
#[utoipa::path(get, path = routes::METER, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 200, body = MeterView), (status = 404, body = super::ErrorBody)))]
pub async fn get_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<MeterView>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let m = repo::get_meter(&st.store, &MeterId::new(id.clone()))
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    Ok(Json(meter_view(&st, &m, &tenants, &units_by_no(&st)?)?))
}

/// Stored readings of a meter in a time range (at most 5,000).
#[utoipa::path(get, path = routes::METER_READINGS, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path), RangeQuery), responses((status = 200, body = Vec<ReadingView>)))]
pub async fn meter_readings(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<RangeQuery>,
) -> ApiResult<Json<Vec<ReadingView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let parse = |s: &Option<String>, default: jiff::Timestamp| -> ApiResult<jiff::Timestamp> {
        match s {
            Some(t) => t
                .parse()
                .map_err(|e| ApiError::bad_request(format!("'{t}' is not an RFC 3339 time: {e}"))),
            None => Ok(default),
        }
    };
    let now = jiff::Timestamp::now();
    let from = parse(&q.from, now - jiff::SignedDuration::from_hours(24))?;
    let to = parse(&q.to, now + jiff::SignedDuration::from_secs(1))?;
    let rs = readings::history(&st.store, &MeterId::new(id), from, to)?;
    Ok(Json(
        rs.into_iter()
            .take(5000)
            .map(|r| ReadingView {
                at: r.at.to_string(),
                total_wh: r.total.0,
                power_w: r.power_w,
                balance_fen: r.balance.map(|b| b.0),
                relay: r.relay.map(|x| x.as_str().to_string()),
            })
            .collect(),
    ))
}

/// Queue a command for a meter (installer/admin). The control queue sends it ahead of
/// reads and confirms it by reading back.
#[utoipa::path(post, path = routes::METER_COMMANDS, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), request_body = CommandRequest,
    responses((status = 200, body = CommandQueued), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn meter_command(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<CommandRequest>,
) -> ApiResult<Json<CommandQueued>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "command meters")?;
    let meter = MeterId::new(id.clone());
    repo::get_meter(&st.store, &meter)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    let command = crate::control::batch::parse_command(&req.command)
        .map_err(super::rationing::control_err)?;
    let n = super::views::enqueue(
        &st,
        &actor,
        "meter.command",
        &meter,
        command,
        serde_json::json!({"meter": id, "command": req.command}),
    )?;
    Ok(Json(CommandQueued {
        meter: id,
        command: req.command,
        id: n,
    }))
}

/// Lock a meter against tenant remote switching (installer/admin).
#[utoipa::path(post, path = routes::METER_LOCK, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), request_body = LockRequest,
    responses((status = 200, body = MeterLock), (status = 403, body = super::ErrorBody)))]
pub async fn lock_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<LockRequest>,
) -> ApiResult<Json<MeterLock>> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "lock meters")?;
    let meter = MeterId::new(id.clone());
    repo::get_meter(&st.store, &meter)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason: say why, the tenant sees it"));
    }
    let l = super::locks::set(&st.store, &actor, &meter, Some(req.reason.trim()))?;
    l.map(Json)
        .ok_or_else(|| ApiError::internal("lock not stored"))
}

/// Remove a staff lock.
#[utoipa::path(delete, path = routes::METER_LOCK, tag = "operator", security(("bearer" = [])),
    params(("meter" = String, Path)), responses((status = 204), (status = 403, body = super::ErrorBody)))]
pub async fn unlock_meter(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = operator(&st, &headers, Permission::CommandMeters, "unlock meters")?;
    super::locks::set(&st.store, &actor, &MeterId::new(id), None)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- tenants and accounts ----------

/// All tenants with their balances.
#[utoipa::path(get, path = routes::TENANTS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<TenantRow>)))]
pub async fn list_tenants(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<TenantRow>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out = Vec::new();
    for t in repo::list_tenants(&st.store).map_err(site_err)? {
        let acc = st.ledger.account(&t.id).map_err(ApiError::internal)?;
        out.push(TenantRow {
            tenant: t.id.to_string(),
            name: t.name,
            category: t.category,
            phone: t.phone,
            units: t.units.iter().map(|u| u.to_string()).collect(),
            has_account: acc.is_some(),
            balance_fen: acc.map(|a| a.balance.0).unwrap_or(0),
        });
    }
    Ok(Json(out))
}

/// One tenant as the kiosk shows it (balance, status, meters).
#[utoipa::path(get, path = routes::TENANT, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path)), responses((status = 200, body = TenantView), (status = 404, body = super::ErrorBody)))]
pub async fn get_tenant(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(super::tenant::view(&st, &TenantId::new(id))?))
}

/// A tenant's daily usage.
#[utoipa::path(get, path = routes::TENANT_USAGE, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path), UsageQuery), responses((status = 200, body = Usage)))]
pub async fn tenant_usage(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(super::tenant::daily_usage(
        &st,
        &TenantId::new(id),
        q.days.unwrap_or(30),
    )?))
}

/// Clear a unit's kiosk PIN lockout (cashier/admin).
#[utoipa::path(post, path = routes::UNIT_UNLOCK_PIN, tag = "operator", security(("bearer" = [])),
    params(("unit" = String, Path)), responses((status = 204), (status = 403, body = super::ErrorBody)))]
pub async fn unlock_pin(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(unit): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = operator(&st, &headers, Permission::OpenAccount, "unlock tenant PINs")?;
    super::lockout::clear(&st.store, &unit.to_uppercase())?;
    let txn = st
        .store
        .db()
        .begin_write()
        .map_err(crate::store::StoreError::from)?;
    crate::auth::audit::append_in(
        &txn,
        &actor,
        "tenant.pin_unlock",
        serde_json::json!({"unit": unit}),
    )?;
    txn.commit().map_err(crate::store::StoreError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------- money ----------

/// A cashier sale (e.g. cash at the management office). Refused above the hoarding cap
/// with the largest allowed amount in the message.
#[utoipa::path(post, path = routes::SALES, tag = "operator", security(("bearer" = [])),
    request_body = SaleRequest,
    responses((status = 200, body = SaleResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn sale(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<SaleRequest>,
) -> ApiResult<Json<SaleResult>> {
    let actor = operator(&st, &headers, Permission::Sell, "sell")?;
    if req.idempotency_key.is_empty() {
        return Err(ApiError::bad_request("idempotency_key is required"));
    }
    let tenant = TenantId::new(req.tenant.clone());
    let key = format!("api:{}:{}", actor.label(), req.idempotency_key);
    let op = st
        .ledger
        .submit_async(
            &actor,
            &key,
            crate::ledger::Request::Sale(crate::ledger::Sale {
                tenant: tenant.clone(),
                amount: Fen(req.amount_fen),
                method: req.method.clone(),
                receipt_no: None,
                meter: None,
            }),
        )
        .await
        .map_err(ledger_err)?;
    let no = Receipts::number_for_op(op.op);
    let rec = match record::get(&st.store, &no)? {
        Some(r) => r,
        None => {
            let r = receipt_for_sale(
                &st,
                &tenant,
                op.op,
                Fen(req.amount_fen),
                op.balance,
                &actor.label(),
                &req.method,
            )?;
            record::put(&st.store, &r)?;
            if req.print.unwrap_or(true) {
                super::views::print_and_count(&st, &no).await?;
            }
            record::get(&st.store, &no)?.unwrap_or(r)
        }
    };
    Ok(Json(SaleResult {
        op: op.op,
        receipt_no: no,
        balance_after_fen: rec.balance_after_fen,
        print: rec.print,
    }))
}

fn receipt_for_sale(
    st: &AppState,
    tenant: &TenantId,
    op: u64,
    amount: Fen,
    balance_after: Option<Fen>,
    by: &str,
    method: &str,
) -> ApiResult<ReceiptRecord> {
    let t = repo::get_tenant(&st.store, tenant).map_err(site_err)?;
    let defaults = repo::defaults(&st.store).map_err(site_err)?;
    let acc = st.ledger.account(tenant).map_err(ApiError::internal)?;
    let (balance, meters, count) = match &acc {
        Some(a) => (
            balance_after.unwrap_or(a.balance),
            a.meters.iter().map(|m| m.meter.to_string()).collect(),
            a.meters.iter().map(|m| m.purchase_count).max().unwrap_or(0),
        ),
        None => (Fen::ZERO, Vec::new(), 0),
    };
    Ok(make_receipt(ReceiptFacts {
        receipts: st.topups.receipts(),
        site_name: &st.site_name,
        tz: &defaults.tz(),
        receipt_no: Receipts::number_for_op(op),
        tenant: tenant.as_str(),
        tenant_name: t.as_ref().map(|x| x.name.as_str()).unwrap_or(""),
        units: t
            .as_ref()
            .map(|x| x.units.iter().map(|u| u.to_string()).collect())
            .unwrap_or_default(),
        meters,
        amount,
        balance_after: balance,
        purchase_count: count,
        issued_by: by,
        method,
        op,
    }))
}

/// Refund (退电): pay back part of the balance, at most all of it.
#[utoipa::path(post, path = routes::REFUNDS, tag = "operator", security(("bearer" = [])),
    request_body = RefundRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn refund(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<RefundRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::Refund, "refund")?;
    let tenant = TenantId::new(req.tenant);
    let key = format!("api:{}:{}", actor.label(), req.idempotency_key);
    submit_for(
        &st,
        &actor,
        &key,
        &tenant,
        crate::ledger::Request::Refund(crate::ledger::Refund {
            tenant: tenant.clone(),
            amount: Fen(req.amount_fen),
            reason: req.reason,
        }),
    )
    .await
}

/// Reversal (冲正) of one earlier sale or refund, at most once.
#[utoipa::path(post, path = routes::REVERSALS, tag = "operator", security(("bearer" = [])),
    request_body = ReverseRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn reverse(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<ReverseRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::Reverse, "reverse operations")?;
    let key = format!("api:{}:{}", actor.label(), req.idempotency_key);
    let op = st
        .ledger
        .submit_async(
            &actor,
            &key,
            crate::ledger::Request::Reverse(crate::ledger::Reverse {
                op: req.op,
                reason: req.reason,
            }),
        )
        .await
        .map_err(ledger_err)?;
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: None,
    }))
}

/// Open a tenant's account (cashier/admin).
#[utoipa::path(post, path = routes::ACCOUNTS, tag = "operator", security(("bearer" = [])),
    request_body = OpenAccountRequest, responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn open_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<OpenAccountRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::OpenAccount, "open accounts")?;
    let tenant = TenantId::new(req.tenant.clone());
    let t = repo::get_tenant(&st.store, &tenant)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no tenant {}", req.tenant)))?;
    let mut meters = Vec::new();
    match &req.meters {
        Some(ids) => {
            for id in ids {
                let m = repo::get_meter(&st.store, &MeterId::new(id.clone()))
                    .map_err(site_err)?
                    .ok_or_else(|| ApiError::not_found(format!("no meter {id}")))?;
                meters.push(m);
            }
        }
        None => {
            for u in &t.units {
                meters.extend(repo::meters_of_unit(&st.store, u).map_err(site_err)?);
            }
        }
    }
    let transfer_in = match (req.transfer_in_fen, req.old_meter_serial) {
        (Some(a), Some(s)) => Some(crate::ledger::TransferIn {
            amount: Fen(a),
            old_meter_serial: s,
        }),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "transfer_in_fen and old_meter_serial go together",
            ));
        }
    };
    let key = format!("api:{}:{}", actor.label(), req.idempotency_key);
    submit_for(
        &st,
        &actor,
        &key,
        &tenant,
        crate::ledger::Request::OpenAccount(crate::ledger::OpenAccount {
            tenant: tenant.clone(),
            meters: meters
                .iter()
                .map(|m| crate::ledger::MeterAccountInit {
                    meter: m.id.clone(),
                    billing: m.billing,
                })
                .collect(),
            transfer_in,
        }),
    )
    .await
}

/// Submits `req` to the ledger; answers with the operation and `tenant`'s balance after it.
pub(super) async fn submit_for(
    st: &AppState,
    actor: &Actor,
    key: &str,
    tenant: &TenantId,
    req: crate::ledger::Request,
) -> ApiResult<Json<OpResult>> {
    let op = st
        .ledger
        .submit_async(actor, key, req)
        .await
        .map_err(ledger_err)?;
    let bal = st
        .ledger
        .account(tenant)
        .map_err(ApiError::internal)?
        .map(|a| a.balance.0);
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: bal,
    }))
}

/// Close a tenant's account: final charge, settle to zero, close every meter.
#[utoipa::path(post, path = routes::ACCOUNT_CLOSE, tag = "operator", security(("bearer" = [])),
    params(("tenant" = String, Path)), request_body = CloseAccountRequest,
    responses((status = 200, body = OpResult), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn close_account(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<CloseAccountRequest>,
) -> ApiResult<Json<OpResult>> {
    let actor = operator(&st, &headers, Permission::CloseAccount, "close accounts")?;
    let key = format!("api:{}:{}", actor.label(), req.idempotency_key);
    let op = st
        .ledger
        .submit_async(
            &actor,
            &key,
            crate::ledger::Request::CloseAccount(crate::ledger::CloseAccount {
                tenant: TenantId::new(id),
                final_charge: Fen(req.final_charge_fen),
            }),
        )
        .await
        .map_err(ledger_err)?;
    Ok(Json(OpResult {
        op: op.op,
        balance_after_fen: Some(0),
    }))
}

/// Ledger operations, newest first (as the ledger records them).
#[utoipa::path(get, path = routes::OPERATIONS, tag = "operator", security(("bearer" = [])),
    params(OpsQuery), responses((status = 200, body = Vec<Operation>)))]
pub async fn operations(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OpsQuery>,
) -> ApiResult<SortedJson<Vec<Operation>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let limit = q.limit.unwrap_or(100).min(1000);
    let ops = st
        .ledger
        .operations(&crate::ledger::OpFilter {
            tenant: q.tenant.as_deref().map(TenantId::new),
            kind: None,
            after: None,
            limit: Some(limit),
            newest_first: true,
        })
        .map_err(ApiError::internal)?;
    Ok(SortedJson(ops.iter().map(records::operation).collect()))
}

/// One ledger operation.
#[utoipa::path(get, path = routes::OPERATION, tag = "operator", security(("bearer" = [])),
    params(("op" = u64, Path)), responses((status = 200, body = Operation), (status = 404, body = super::ErrorBody)))]
pub async fn operation(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(op): Path<u64>,
) -> ApiResult<SortedJson<Operation>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let o = st
        .ledger
        .operation(op)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no operation {op}")))?;
    Ok(SortedJson(records::operation(&o)))
}

// ---------- receipts, top-ups, outbox, site, audit, status ----------

/// Receipts, newest first; `failed=true` lists those that did not print.
#[utoipa::path(get, path = routes::RECEIPTS, tag = "operator", security(("bearer" = [])),
    params(ReceiptQuery), responses((status = 200, body = Vec<ReceiptRecord>)))]
pub async fn receipts(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ReceiptQuery>,
) -> ApiResult<Json<Vec<ReceiptRecord>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    Ok(Json(record::list(
        &st.store,
        q.tenant.as_deref(),
        q.failed.unwrap_or(false),
        q.limit.unwrap_or(100).min(1000),
    )?))
}

/// Print a receipt again (cashier/admin).
#[utoipa::path(post, path = routes::RECEIPT_PRINT, tag = "operator", security(("bearer" = [])),
    params(("receipt_no" = String, Path)), responses((status = 200, body = PrintResult), (status = 404, body = super::ErrorBody)))]
pub async fn reprint(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> ApiResult<Json<PrintResult>> {
    let actor = operator(&st, &headers, Permission::Sell, "print receipts")?;
    record::get(&st.store, &no)?.ok_or_else(|| ApiError::not_found(format!("no receipt {no}")))?;
    let print = super::views::print_and_count(&st, &no).await?;
    let txn = st
        .store
        .db()
        .begin_write()
        .map_err(crate::store::StoreError::from)?;
    crate::auth::audit::append_in(
        &txn,
        &actor,
        "receipt.reprint",
        serde_json::json!({"receipt": no}),
    )?;
    txn.commit().map_err(crate::store::StoreError::from)?;
    Ok(Json(PrintResult {
        receipt_no: no,
        print,
    }))
}

/// Top-up orders (kiosk and phone), newest first.
#[utoipa::path(get, path = routes::TOPUPS, tag = "operator", security(("bearer" = [])),
    params(OpsQuery), responses((status = 200, body = Vec<TopUpView>)))]
pub async fn topups(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<OpsQuery>,
) -> ApiResult<Json<Vec<TopUpView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let list = st
        .topups
        .list(q.tenant.as_deref(), q.limit.unwrap_or(100).min(1000))?;
    let mut out = Vec::new();
    for t in &list {
        out.push(super::tenant::topup_view(&st, t)?);
    }
    Ok(Json(out))
}

/// Meter commands waiting in the outbox.
#[utoipa::path(get, path = routes::OUTBOX, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxEntry>)))]
pub async fn outbox(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<SortedJson<Vec<OutboxEntry>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let p = crate::ledger::outbox::pending(&st.store).map_err(ApiError::internal)?;
    Ok(SortedJson(p.iter().map(records::outbox_entry).collect()))
}

/// Site defaults (power limit, collection interval, alarm levels, default tariff, hoarding
/// cap, alarm SMS number, time zone).
#[utoipa::path(get, path = routes::SITE_SETTINGS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = SiteSettings)))]
pub async fn get_settings(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<SortedJson<SiteSettings>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let d = repo::defaults(&st.store).map_err(site_err)?;
    Ok(SortedJson(records::settings(&d)))
}

/// Replace the site defaults (admin); validated, audited.
#[utoipa::path(put, path = routes::SITE_SETTINGS, tag = "operator", security(("bearer" = [])),
    request_body = SiteSettings,
    responses((status = 200, body = SiteSettings), (status = 403, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    headers: HeaderMap,
    // Read as JSON first: fields left out take their defaults, and a bad field is a 422
    // `invalid` naming it (not the extractor's plain-text rejection).
    Json(body): Json<serde_json::Value>,
) -> ApiResult<SortedJson<SiteSettings>> {
    let actor = operator(&st, &headers, Permission::EditSite, "edit site settings")?;
    let d: crate::site::model::SiteDefaults = serde_json::from_value(body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()))?;
    let txn = st
        .store
        .db()
        .begin_write()
        .map_err(crate::store::StoreError::from)?;
    repo::set_defaults(&txn, &actor, &d).map_err(site_err)?;
    txn.commit().map_err(crate::store::StoreError::from)?;
    st.ledger.set_hoarding_cap(d.hoarding_cap);
    Ok(SortedJson(records::settings(&d)))
}

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

/// Gateways with their link health.
#[utoipa::path(get, path = routes::GATEWAYS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = Vec<GatewayView>)))]
pub async fn gateways(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<GatewayView>>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let mut out = Vec::new();
    for g in repo::list_gateways(&st.store).map_err(site_err)? {
        let live = st.live.gateway(&g.id);
        out.push(GatewayView {
            gateway: g.id.to_string(),
            name: g.name.clone(),
            link: g.link.to_string(),
            buses: g.buses.len(),
            online: live.as_ref().map(|l| l.online).unwrap_or(false),
            last_error: live.as_ref().and_then(|l| l.last_error.clone()),
            last_cycle_ms: live.as_ref().and_then(|l| l.last_cycle_ms),
        });
    }
    Ok(Json(out))
}

/// One-screen summary for the console's dashboard.
#[utoipa::path(get, path = routes::STATUS, tag = "operator", security(("bearer" = [])),
    responses((status = 200, body = SiteStatus)))]
pub async fn status(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<SiteStatus>> {
    operator(&st, &headers, Permission::ReadAll, "read")?;
    let tenants = repo::list_tenants(&st.store).map_err(site_err)?;
    let mut arrears = 0;
    for t in &tenants {
        if st
            .ledger
            .account(&t.id)
            .map_err(ApiError::internal)?
            .is_some_and(|a| a.balance < Fen::ZERO)
        {
            arrears += 1;
        }
    }
    Ok(Json(SiteStatus {
        site_name: st.site_name.clone(),
        meters: repo::list_meters(&st.store).map_err(site_err)?.len(),
        meters_offline: st.live.offline_meters().len(),
        tenants: tenants.len(),
        tenants_in_arrears: arrears,
        outbox_pending: crate::ledger::outbox::pending(&st.store)
            .map_err(ApiError::internal)?
            .len(),
        receipts_failed: record::list(&st.store, None, true, 10_000)?.len(),
        topups_needing_refund: st
            .topups
            .list(None, 100_000)?
            .iter()
            .filter(|t| {
                matches!(
                    t.state,
                    crate::payment::topup::TopUpState::NeedsRefund { .. }
                )
            })
            .count(),
    }))
}
