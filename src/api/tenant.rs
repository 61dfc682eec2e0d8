//! Tenant API: what the kiosk and the phone site use. A tenant logs in with a unit number
//! and PIN (5 wrong PINs lock the unit for 15 minutes) and then sees and acts only on their
//! own account and meters.

use super::auth::tenant_of;
use super::error::{ApiError, ApiResult, topup_error};
use super::lockout::{self, Gate};
use super::{AppState, Principal, metrics};
use crate::auth::{Actor, audit};
use crate::control::tenant_switch;
use crate::field::readings::{self, Relay};
use crate::ledger::outbox::MeterCommand;
use crate::payment::topup::{TopUp, TopUpState};
use crate::receipt::record;
use crate::site::{MeterId, TenantId, UnitNo, pin, repo};
use crate::units::Fen;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use voltvend_api_types::routes;
use voltvend_api_types::{
    DayUsage, PrintResult, Purchase, Refusal, StartTopUp, SwitchRequest, SwitchResult, TenantLogin,
    TenantMeter, TenantToken, TenantView, TopUpView, Usage, UsageQuery,
};

fn site_err(e: crate::site::repo::SiteError) -> ApiError {
    ApiError::internal(e)
}

/// Log in with unit number and PIN.
#[utoipa::path(post, path = routes::TENANT_LOGIN, tag = "tenant", request_body = TenantLogin,
    responses((status = 200, body = TenantToken),
        (status = 401, description = "Wrong unit or PIN (`bad_credentials`, with `attempts_left`)", body = super::ErrorBody),
        (status = 423, description = "Locked after 5 failures (`locked`, with `until`)", body = super::ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    Json(req): Json<TenantLogin>,
) -> ApiResult<Json<TenantToken>> {
    let unit_text = req.unit.trim().to_uppercase();
    if unit_text.is_empty() || unit_text.len() > 32 {
        return Err(ApiError::bad_request("enter your unit number, e.g. A-101"));
    }
    let now = Timestamp::now();
    if let Gate::Locked { until } = lockout::gate(&st.store, &unit_text, now)? {
        return Err(locked(until));
    }
    let store = st.store.clone();
    let unit = UnitNo::new(unit_text.clone());
    let pin_text = req.pin;
    // argon2 is deliberately slow: keep it off the async workers.
    let found = tokio::task::spawn_blocking(move || {
        let t = repo::tenant_of_unit(&store, &unit)?;
        Ok::<_, crate::site::repo::SiteError>(t.filter(|t| pin::verify_pin(t, &pin_text)))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(site_err)?;
    let Some(tenant) = found else {
        metrics::inc(&st.metrics.tenant_login_failures);
        // The failure and, when it locks the unit, the lockout's audit entry: one transaction.
        let unit = unit_text.clone();
        let (left, until) = st
            .store
            .write_async(move |txn| {
                let (left, until) = lockout::fail_in(txn, &unit, now)?;
                if let Some(until) = until {
                    audit::append_in(
                        txn,
                        &Actor::system("kiosk"),
                        "tenant.lockout",
                        serde_json::json!({"unit": unit, "until": until.to_string()}),
                    )?;
                }
                Ok::<_, crate::store::StoreError>((left, until))
            })
            .await?;
        tracing::info!(unit = %unit_text, left, "tenant login failed");
        if let Some(until) = until {
            return Err(locked(until));
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            format!("wrong unit number or PIN; {left} tries left before a 15-minute lock"),
        )
        .with(|b| b.attempts_left = Some(left)));
    };
    let unit = unit_text.clone();
    st.store
        .write_async(move |txn| lockout::clear_in(txn, &unit))
        .await?;
    metrics::inc(&st.metrics.tenant_logins);
    let token = st.sessions.issue(Principal::Tenant {
        tenant: tenant.id.to_string(),
        unit: unit_text,
    });
    Ok(Json(TenantToken {
        token,
        tenant: tenant.id.to_string(),
        name: tenant.name,
        idle_timeout_s: super::session::TENANT_IDLE.as_secs(),
    }))
}

fn locked(until: Timestamp) -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "locked",
        format!("too many wrong PINs: this unit can log in again after {until}"),
    )
    .with(|b| b.until = Some(until.to_string()))
}

/// Log out (revokes the token).
#[utoipa::path(post, path = routes::TENANT_LOGOUT, tag = "tenant", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> StatusCode {
    if let Some(t) = super::auth::bearer(&headers) {
        st.sessions.revoke(&t);
    }
    StatusCode::NO_CONTENT
}

/// The status colour of an account: arrears first, then power off, then alarm levels.
pub fn status_of(balance: Fen, alarm1: Fen, alarm2: Fen, any_open: bool) -> &'static str {
    if crate::ledger::arrears::in_arrears(balance) {
        "arrears"
    } else if any_open {
        "tripped"
    } else if balance <= alarm2 {
        "alarm2"
    } else if balance <= alarm1 {
        "alarm1"
    } else {
        "normal"
    }
}

/// The meters of the tenant's units (through the unit index: no scan of every meter).
fn tenant_meters(
    st: &AppState,
    t: &crate::site::model::Tenant,
) -> ApiResult<Vec<crate::site::model::Meter>> {
    let mut out = Vec::new();
    for u in &t.units {
        out.extend(repo::meters_of_unit(&st.store, u).map_err(site_err)?);
    }
    Ok(out)
}

/// Builds the tenant's view (shared with the operator API).
pub fn view(st: &AppState, tenant: &TenantId) -> ApiResult<TenantView> {
    let t = repo::get_tenant(&st.store, tenant)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no tenant {tenant}")))?;
    let defaults = repo::defaults(&st.store).map_err(site_err)?;
    let account = st.ledger.account(tenant).map_err(ApiError::internal)?;
    let balance = account.as_ref().map(|a| a.balance).unwrap_or(Fen::ZERO);
    let meters = tenant_meters(st, &t)?;
    let (mut a1, mut a2) = (defaults.alarm1, defaults.alarm2);
    let mut any_open = false;
    let mut out = Vec::new();
    for m in &meters {
        let (m1, m2) = m.alarm_levels(&defaults);
        a1 = a1.max(m1);
        a2 = a2.max(m2);
        let live = st.live.meter(&m.id);
        let latest = if live.as_ref().is_some_and(|l| l.values.relay.is_some()) {
            None
        } else {
            readings::latest(&st.store, &m.id)?
        };
        let relay = live
            .as_ref()
            .and_then(|l| l.values.relay)
            .or(latest.as_ref().and_then(|r| r.relay));
        any_open |= relay == Some(Relay::Open);
        let count = account
            .as_ref()
            .and_then(|a| a.meters.iter().find(|x| x.meter == m.id))
            .map(|x| x.purchase_count)
            .unwrap_or(0);
        out.push(TenantMeter {
            meter: m.id.to_string(),
            unit: m.unit.as_ref().map(|u| u.to_string()),
            phases: format!("{:?}", m.phases).to_lowercase(),
            billing: m.billing.to_string(),
            online: live.as_ref().map(|l| l.online),
            power_w: live
                .as_ref()
                .and_then(|l| l.values.power_w)
                .or(latest.as_ref().and_then(|r| r.power_w)),
            relay: relay.map(|r| r.as_str()).unwrap_or("unknown").to_string(),
            total_wh: live
                .as_ref()
                .and_then(|l| l.values.total)
                .or(latest.as_ref().map(|r| r.total))
                .map(|w| w.0),
            purchase_count: count,
            switch_refused: refusal(st, &m.id, balance)?,
        });
    }
    let cap = defaults.hoarding_cap;
    Ok(TenantView {
        tenant: t.id.to_string(),
        name: t.name,
        units: t.units.iter().map(|u| u.to_string()).collect(),
        balance_fen: balance.0,
        status: status_of(balance, a1, a2, any_open).to_string(),
        alarm1_fen: a1.0,
        alarm2_fen: a2.0,
        hoarding_cap_fen: cap.0,
        max_topup_fen: if balance >= cap { 0 } else { (cap - balance).0 },
        meters: out,
    })
}

/// Whether a tenant's remote switch of `meter` (on, the switch that can be refused for more
/// reasons) must be refused now, and why: as the tenant's view shows it.
fn refusal(st: &AppState, meter: &MeterId, balance: Fen) -> ApiResult<Option<Refusal>> {
    if let Some(r) = staff_lock(st, meter)? {
        return Ok(Some(r));
    }
    let r = match tenant_switch::arrears_refusal(balance) {
        Some(r) => Some(r),
        None => tenant_switch::refusal(&st.store, meter, true, Timestamp::now())?,
    };
    Ok(r.map(refusal_body))
}

fn refusal_body(r: tenant_switch::SwitchRefusal) -> Refusal {
    Refusal {
        code: r.code.into(),
        message: r.message,
        message_en: r.message_en,
    }
}

/// The staff lock of `meter` as a refusal.
fn staff_lock(st: &AppState, meter: &MeterId) -> ApiResult<Option<Refusal>> {
    if let Some(lock) = super::locks::get(&st.store, meter)? {
        return Ok(Some(Refusal {
            code: "locked_by_staff".into(),
            message: format!(
                "管理处已锁定此电表（{}），如需操作请联系管理处。",
                lock.reason
            ),
            message_en: format!(
                "The management office has locked this meter ({}). Please contact them.",
                lock.reason
            ),
        }));
    }
    Ok(None)
}

/// The tenant's balance, status and meters.
#[utoipa::path(get, path = routes::TENANT_ME, tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = TenantView), (status = 401, body = super::ErrorBody)))]
pub async fn me(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Json<TenantView>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    // Read on the async worker: a tenant's view is a few cached B-tree lookups (tens of
    // microseconds, no fsync, never waits for a writer: redb readers see the last commit),
    // less than a hand-off to the blocking pool costs, and the kiosks poll it all day.
    view(&st, &tenant).map(Json)
}

/// Daily energy of all the tenant's meters, from stored readings: each reading's increase
/// over the previous one is counted on the local day the reading was taken.
pub fn daily_usage(st: &AppState, tenant: &TenantId, days: u32) -> ApiResult<Usage> {
    let days = days.clamp(1, 90) as i64;
    let t = repo::get_tenant(&st.store, tenant)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no tenant {tenant}")))?;
    let tz = repo::defaults(&st.store).map_err(site_err)?.tz();
    let today = Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let first = today
        .checked_sub(jiff::Span::new().days(days - 1))
        .map_err(ApiError::internal)?;
    let start = first
        .to_zoned_datetime(tz.clone())
        .map_err(ApiError::internal)?
        .timestamp();
    // One more day back so the first day's first delta has a predecessor.
    let from = start - jiff::SignedDuration::from_hours(48);
    // The local midnights from `first` to the day after today: a reading's day is found by
    // a search over these instead of a time-zone conversion per reading.
    let mut bounds = Vec::with_capacity(days as usize + 1);
    for i in 0..=days {
        let day = first
            .checked_add(jiff::Span::new().days(i))
            .map_err(ApiError::internal)?;
        let at = day
            .to_zoned_datetime(tz.clone())
            .map_err(ApiError::internal)?;
        bounds.push(at.timestamp().as_millisecond());
    }
    let start_ms = start.as_millisecond();
    let to = Timestamp::now() + jiff::SignedDuration::from_secs(1);
    let mut per_day = vec![0i64; days as usize];
    for unit in &t.units {
        for m in repo::meters_of_unit(&st.store, unit)
            .map_err(site_err)?
            .iter()
        {
            let mut prev: Option<i64> = None;
            for r in readings::totals(&st.store, &m.id, from, to)? {
                if let Some(p) = prev
                    && !r.rollback
                    && r.total.0 >= p
                    && r.at_ms >= start_ms
                {
                    // bounds[0] == start_ms <= at_ms: the count is at least 1.
                    let i = bounds.partition_point(|b| *b <= r.at_ms).checked_sub(1);
                    if let Some(slot) = i.and_then(|i| per_day.get_mut(i)) {
                        *slot += r.total.0 - p;
                    }
                }
                prev = Some(r.total.0);
            }
        }
    }
    let out = per_day
        .into_iter()
        .enumerate()
        .map(|(i, wh)| DayUsage {
            date: first
                .checked_add(jiff::Span::new().days(i as i64))
                .map(|d| d.to_string())
                .unwrap_or_default(),
            wh,
        })
        .collect();
    Ok(Usage { days: out })
}

/// Daily usage for the last `days` days (default 30, at most 90).
#[utoipa::path(get, path = routes::TENANT_OWN_USAGE, tag = "tenant", security(("bearer" = [])),
    params(UsageQuery), responses((status = 200, body = Usage)))]
pub async fn usage(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UsageQuery>,
) -> ApiResult<Json<Usage>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    // On the async worker, like `me`: at most 90 days of one tenant's readings, decoded
    // down to their totals (`readings::totals`).
    daily_usage(&st, &tenant, q.days.unwrap_or(30)).map(Json)
}

/// Purchases (sales) of the tenant, newest first.
#[utoipa::path(get, path = routes::TENANT_PURCHASES, tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = Vec<Purchase>)))]
pub async fn purchases(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<Purchase>>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    Ok(Json(super::views::purchases(&st, &tenant, 50)?))
}

pub fn topup_view(st: &AppState, t: &TopUp) -> ApiResult<TopUpView> {
    let (state, receipt_no, balance, problem) = match &t.state {
        TopUpState::Waiting => ("waiting", None, None, None),
        TopUpState::Paid {
            receipt_no,
            balance_after_fen,
            ..
        } => (
            "paid",
            Some(receipt_no.clone()),
            Some(*balance_after_fen),
            None,
        ),
        TopUpState::Declined { .. } => ("declined", None, None, None),
        TopUpState::NeedsRefund { reason, .. } => {
            ("needs_refund", None, None, Some(reason.clone()))
        }
    };
    let print = match &receipt_no {
        Some(no) => record::get(&st.store, no)?.map(|r| r.print),
        None => None,
    };
    Ok(TopUpView {
        order_id: t.order_id.clone(),
        amount_fen: t.amount_fen,
        state: state.to_string(),
        qr_svg: qr_svg(&t.qr_payload),
        pay_url: t.qr_payload.clone(),
        receipt_no,
        balance_after_fen: balance,
        print,
        problem,
    })
}

/// The payment QR code as SVG, drawn server-side with the `qrcode` crate.
pub fn qr_svg(payload: &str) -> String {
    match qrcode::QrCode::new(payload.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("<p>QR error: {e}</p>"),
    }
}

/// Start a top-up: returns the order with its payment QR code. A tenant with several
/// meter-mode meters names the one that receives the credit (`meter`); without it the top-up
/// is refused before any order or payment exists.
#[utoipa::path(post, path = routes::TENANT_TOPUPS, tag = "tenant", security(("bearer" = [])),
    request_body = StartTopUp,
    responses((status = 200, body = TopUpView),
        (status = 422, description = "Above the hoarding cap (`over_cap`, with `max_fen`); several meter-mode meters and none named (`which_meter`); a meter not the tenant's (`not_your_meter`)", body = super::ErrorBody)))]
pub async fn start_topup(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<StartTopUp>,
) -> ApiResult<Json<TopUpView>> {
    let (tenant, unit) = tenant_of(&st, &headers)?;
    if req.idempotency_key.is_empty() || req.idempotency_key.len() > 100 {
        return Err(ApiError::bad_request(
            "idempotency_key: 1 to 100 characters",
        ));
    }
    let t = st
        .topups
        .create(
            &tenant,
            unit.as_str(),
            Fen(req.amount_fen),
            &req.idempotency_key,
            "kiosk",
            req.meter.as_deref(),
        )
        .await
        .map_err(topup_error)?;
    metrics::inc(&st.metrics.topups_created);
    Ok(Json(topup_view(&st, &t)?))
}

/// Top-up status (poll until `state` is no longer `waiting`).
#[utoipa::path(get, path = routes::TENANT_TOPUP, tag = "tenant", security(("bearer" = [])),
    params(("order_id" = String, Path)), responses((status = 200, body = TopUpView), (status = 404, body = super::ErrorBody)))]
pub async fn topup_status(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> ApiResult<Json<TopUpView>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    let t = st
        .topups
        .get(&order_id)?
        .filter(|t| t.tenant == tenant.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no top-up {order_id} for you")))?;
    Ok(Json(topup_view(&st, &t)?))
}

/// Reprint one of the tenant's receipts.
#[utoipa::path(post, path = routes::TENANT_RECEIPT_PRINT, tag = "tenant", security(("bearer" = [])),
    params(("receipt_no" = String, Path)), responses((status = 200, body = PrintResult), (status = 404, body = super::ErrorBody)))]
pub async fn reprint(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
) -> ApiResult<Json<PrintResult>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    let r = record::get(&st.store, &no)?
        .filter(|r| r.tenant == tenant.as_str())
        .ok_or_else(|| ApiError::not_found(format!("no receipt {no} for you")))?;
    let print = super::views::print_and_count(&st, &r.receipt_no).await?;
    Ok(Json(PrintResult {
        receipt_no: no,
        print,
    }))
}

/// Switch one of the tenant's own meters off or on. Refused (`409`, with `message_en`) while
/// locked by staff (`locked_by_staff`) or in arrears (`in_arrears`, balance ≤ 0); switching
/// on also while a rationing window holds the meter off (`rationing`) and for 30 minutes
/// after an overload trip (`overload`); and at most 6 switches a meter in an hour
/// (`rate_limited`). Every attempt is written to the audit log, refused or not.
#[utoipa::path(post, path = routes::TENANT_METER_SWITCH, tag = "tenant", security(("bearer" = [])),
    params(("meter" = String, Path)), request_body = SwitchRequest,
    responses((status = 200, body = SwitchResult), (status = 409, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn switch(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(meter): Path<String>,
    Json(req): Json<SwitchRequest>,
) -> ApiResult<Json<SwitchResult>> {
    let (tenant, _) = tenant_of(&st, &headers)?;
    let meter = MeterId::new(meter);
    let t = repo::get_tenant(&st.store, &tenant)
        .map_err(site_err)?
        .ok_or_else(|| ApiError::not_found(format!("no tenant {tenant}")))?;
    let m = repo::get_meter(&st.store, &meter)
        .map_err(site_err)?
        .filter(|m| m.unit.as_ref().is_some_and(|u| t.units.contains(u)))
        .ok_or_else(|| ApiError::not_found(format!("meter {meter} is not one of yours")))?;
    let balance = st
        .ledger
        .account(&tenant)
        .map_err(ApiError::internal)?
        .map(|a| a.balance)
        .unwrap_or(Fen::ZERO);
    let actor = Actor::Tenant {
        tenant: tenant.to_string(),
    };
    let early = match staff_lock(&st, &m.id)? {
        Some(lock) => Some(tenant_switch::SwitchRefusal {
            code: "locked_by_staff",
            message: lock.message,
            message_en: lock.message_en,
        }),
        None => tenant_switch::arrears_refusal(balance),
    };
    let refused = match early {
        Some(r) => Err(r),
        None => {
            // The site's own reasons and the rate limit are checked, and the switch counted
            // and queued, in one transaction: two switches at once cannot both slip through.
            let (actor, meter, on) = (actor.clone(), meter.clone(), req.on);
            st.store
                .write_async(move |txn| {
                    if let Err(r) = tenant_switch::try_switch_in(txn, &meter, on, Timestamp::now())?
                    {
                        return Ok::<_, crate::store::StoreError>(Err(r));
                    }
                    let command = if on {
                        MeterCommand::Close
                    } else {
                        MeterCommand::Trip
                    };
                    let id = crate::control::queue_in(txn, &meter, command, &actor.label())?;
                    audit::append_in(
                        txn,
                        &actor,
                        "tenant.switch",
                        serde_json::json!({"meter": meter.as_str(), "on": on, "outbox": id}),
                    )?;
                    Ok(Ok(id))
                })
                .await?
        }
    };
    let id = match refused {
        Ok(id) => id,
        Err(r) => {
            super::views::audit(
                &st,
                &actor,
                "tenant.switch_refused",
                serde_json::json!({"meter": meter.as_str(), "on": req.on, "reason": r.code}),
            )
            .await?;
            return Err(
                ApiError::conflict(r.code, r.message).with(|b| b.message_en = Some(r.message_en))
            );
        }
    };
    metrics::inc(&st.metrics.remote_switches);
    Ok(Json(SwitchResult {
        meter: meter.to_string(),
        on: req.on,
        command_id: id,
    }))
}
