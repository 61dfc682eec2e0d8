//! The OpenAPI 3 document, generated from the handlers' annotations, so integrators and
//! the staff console (TUI) share one contract.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "voltvend API", description = "Operator API (staff console), tenant API (kiosk, phone) and public endpoints of a voltvend appliance. Money is integer fen (1/100 yuan); energy is integer Wh. Errors are JSON {code, message}."),
    paths(
        super::public::health,
        super::public::kiosk_info,
        super::public::payment_notify,
        super::operator_auth::login,
        super::operator_auth::whoami,
        super::operator_auth::change_password,
        super::operator_auth::logout,
        super::operator_auth::list_operators,
        super::operator_auth::add_operator,
        super::meters::list_meters,
        super::meters::get_meter,
        super::meters::meter_readings,
        super::meters::meter_command,
        super::meters::lock_meter,
        super::meters::unlock_meter,
        super::tenants::list_tenants,
        super::tenants::get_tenant,
        super::tenants::tenant_usage,
        super::tenants::unlock_pin,
        super::money::sale,
        super::money::refund,
        super::money::reverse,
        super::money::open_account,
        super::money::close_account,
        super::money::operations,
        super::money::operation,
        super::receipts::receipts,
        super::receipts::reprint,
        super::receipts::topups,
        super::status::outbox,
        super::settings::get_settings,
        super::settings::put_settings,
        super::audit::audit_log,
        super::status::gateways,
        super::status::status,
        super::tenant::login,
        super::tenant::logout,
        super::tenant::me,
        super::tenant::usage,
        super::tenant::purchases,
        super::tenant::start_topup,
        super::tenant::topup_status,
        super::tenant::reprint,
        super::tenant::switch,
        super::alarms::active,
        super::alarms::history,
        super::alarms::ack,
        super::alarms::sms,
        super::alarms::resolve_credit_hold,
        super::suspect::list,
        super::suspect::accept,
        super::suspect::reject,
        super::office::close_settlements,
        super::office::pending_refunds,
        super::office::account_history,
        super::reports::get_report,
        super::reports::export_report,
        super::rationing::create,
        super::rationing::list,
        super::rationing::cancel,
        super::batches::create,
        super::batches::progress,
        super::batches::list,
        super::site::import,
        super::site::buildings,
        super::site::add_meter,
        super::staff::roles,
        super::staff::reset_password,
        super::staff::change,
        super::batches::meter_history,
        super::site::tariffs,
        super::site::set_tariff,
        super::site::remove_tariff
    ),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Bearer),
    tags((name = "public"), (name = "tenant"), (name = "operator"))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The document as checked in at `docs/openapi.json`: pretty-printed, one trailing newline.
pub fn pretty() -> String {
    let doc = serde_json::to_string_pretty(&ApiDoc::openapi()).unwrap_or_default();
    format!("{doc}\n")
}

/// The command that rewrites `docs/openapi.json` from the handlers' annotations.
pub const REGENERATE: &str = "UPDATE_OPENAPI=1 cargo test --lib api::openapi";

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn checked_in_document_is_current() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
        let now = super::pretty();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&file, &now).expect("write docs/openapi.json");
            return;
        }
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            checked_in == now,
            "docs/openapi.json differs from the document the daemon serves: run `{}` and commit it",
            super::REGENERATE
        );
    }
}
