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
    paths(super::public::health),
    components(schemas(super::error::ErrorBody)),
    modifiers(&Bearer),
    tags((name = "public"), (name = "tenant"), (name = "operator"))
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
