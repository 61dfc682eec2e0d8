//! Every route path of the HTTP API. The constants are axum route patterns (`{name}` marks
//! a path parameter) and the daemon's router is built from them; clients fill a pattern
//! with [`path`] or one of the helpers below, which percent-encode each value.

pub const HEALTH: &str = "/api/v1/health";
pub const OPENAPI: &str = "/api/v1/openapi.json";
pub const METRICS: &str = "/metrics";

// Operator sessions and staff.
pub const LOGIN: &str = "/api/v1/login";
pub const LOGOUT: &str = "/api/v1/logout";
pub const WHOAMI: &str = "/api/v1/whoami";
pub const PASSWORD: &str = "/api/v1/password";
pub const OPERATORS: &str = "/api/v1/operators";
pub const OPERATOR: &str = "/api/v1/operators/{name}";
pub const OPERATOR_RESET_PASSWORD: &str = "/api/v1/operators/{name}/reset-password";
pub const ROLES: &str = "/api/v1/roles";

// Dashboard.
pub const STATUS: &str = "/api/v1/status";
pub const GATEWAYS: &str = "/api/v1/gateways";

// Meters.
pub const METERS: &str = "/api/v1/meters";
pub const METER: &str = "/api/v1/meters/{meter}";
pub const METER_READINGS: &str = "/api/v1/meters/{meter}/readings";
pub const METER_COMMANDS: &str = "/api/v1/meters/{meter}/commands";
pub const METER_LOCK: &str = "/api/v1/meters/{meter}/lock";
pub const METER_CREDIT_HOLD_RESOLVE: &str = "/api/v1/meters/{meter}/credit-hold/resolve";
pub const SUSPECT_READINGS: &str = "/api/v1/suspect-readings";
pub const SUSPECT_READING_ACCEPT: &str = "/api/v1/meters/{meter}/suspect-readings/{at_ms}/accept";
pub const SUSPECT_READING_REJECT: &str = "/api/v1/meters/{meter}/suspect-readings/{at_ms}/reject";

// Tenants and accounts.
pub const TENANTS: &str = "/api/v1/tenants";
pub const TENANT: &str = "/api/v1/tenants/{tenant}";
pub const TENANT_USAGE: &str = "/api/v1/tenants/{tenant}/usage";
pub const UNIT_UNLOCK_PIN: &str = "/api/v1/units/{unit}/unlock-pin";
pub const ACCOUNTS: &str = "/api/v1/accounts";
pub const ACCOUNT_CLOSE: &str = "/api/v1/accounts/{tenant}/close";
pub const ACCOUNT_METERS: &str = "/api/v1/accounts/{tenant}/meters";
/// Every account the tenant id has had (closed ones too) with its operations.
pub const ACCOUNT_HISTORY: &str = "/api/v1/accounts/{tenant}/history";
/// What became of meter-mode meters' own credit at their accounts' closing.
pub const CLOSE_SETTLEMENTS: &str = "/api/v1/close-settlements";

// Money.
pub const SALES: &str = "/api/v1/sales";
pub const REFUNDS: &str = "/api/v1/refunds";
/// Refunds waiting for their meter to confirm the withdrawal.
pub const REFUNDS_PENDING: &str = "/api/v1/refunds/pending";
pub const REVERSALS: &str = "/api/v1/reversals";
pub const OPERATIONS: &str = "/api/v1/operations";
pub const OPERATION: &str = "/api/v1/operations/{op}";
pub const RECEIPTS: &str = "/api/v1/receipts";
pub const RECEIPT_PRINT: &str = "/api/v1/receipts/{receipt_no}/print";
pub const TOPUPS: &str = "/api/v1/topups";
pub const OUTBOX: &str = "/api/v1/outbox";

// Site.
pub const SITE_SETTINGS: &str = "/api/v1/site/settings";
pub const SITE_IMPORT: &str = "/api/v1/site/import";
pub const BUILDINGS: &str = "/api/v1/buildings";
pub const TARIFFS: &str = "/api/v1/tariffs";
pub const TARIFF: &str = "/api/v1/tariffs/{name}";
pub const AUDIT: &str = "/api/v1/audit";

// Alarms, reports, rationing, batches.
pub const ALARMS: &str = "/api/v1/alarms";
pub const ALARMS_HISTORY: &str = "/api/v1/alarms/history";
pub const ALARM_ACK: &str = "/api/v1/alarms/{id}/ack";
pub const SMS: &str = "/api/v1/sms";
pub const REPORT: &str = "/api/v1/reports/{name}";
pub const REPORT_EXPORT: &str = "/api/v1/reports/{name}/export";
pub const RATIONING: &str = "/api/v1/rationing";
pub const RATIONING_CANCEL: &str = "/api/v1/rationing/{id}/cancel";
pub const BATCHES: &str = "/api/v1/batches";
pub const BATCH: &str = "/api/v1/batches/{id}";

// Public: the kiosk files, receipt verification, payments.
pub const KIOSK_INDEX: &str = "/";
pub const KIOSK_APP_JS: &str = "/kiosk/app.js";
pub const KIOSK_APP_CSS: &str = "/kiosk/app.css";
pub const KIOSK_INFO: &str = "/api/v1/kiosk/info";
pub const RECEIPT_VERIFY: &str = "/r/{receipt}";
pub const SANDBOX_PAGE: &str = "/pay/sandbox/{order}";
pub const SANDBOX_DECIDE: &str = "/pay/sandbox/{order}/{decision}";
pub const PAYMENT_NOTIFY: &str = "/api/v1/payments/notify/{provider}";

// Tenant API.
pub const TENANT_LOGIN: &str = "/api/v1/tenant/login";
pub const TENANT_LOGOUT: &str = "/api/v1/tenant/logout";
pub const TENANT_ME: &str = "/api/v1/tenant/me";
pub const TENANT_OWN_USAGE: &str = "/api/v1/tenant/usage";
pub const TENANT_PURCHASES: &str = "/api/v1/tenant/purchases";
pub const TENANT_TOPUPS: &str = "/api/v1/tenant/topups";
pub const TENANT_TOPUP: &str = "/api/v1/tenant/topups/{order_id}";
pub const TENANT_RECEIPT_PRINT: &str = "/api/v1/tenant/receipts/{receipt_no}/print";
pub const TENANT_METER_SWITCH: &str = "/api/v1/tenant/meters/{meter}/switch";

/// `pattern` with its `{…}` parameters replaced, in order, by `values`, each
/// percent-encoded as one path segment. A parameter without a value is left as it is.
pub fn path(pattern: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut values = values.iter();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        match values.next() {
            Some(v) => encode_segment(v, &mut out),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Appends `value` percent-encoded as a path segment (RFC 3986 unreserved bytes stay).
fn encode_segment(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// A query string (`?a=1&b=x`) from the pairs whose value is present, percent-encoded;
/// empty when none is.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        let Some(v) = v else { continue };
        out.push(if out.is_empty() { '?' } else { '&' });
        encode_segment(k, &mut out);
        out.push('=');
        encode_segment(v, &mut out);
    }
    out
}

pub fn meter(id: &str) -> String {
    path(METER, &[id])
}
pub fn meter_readings(id: &str) -> String {
    path(METER_READINGS, &[id])
}
pub fn meter_commands(id: &str) -> String {
    path(METER_COMMANDS, &[id])
}
pub fn meter_lock(id: &str) -> String {
    path(METER_LOCK, &[id])
}
pub fn meter_credit_hold_resolve(id: &str) -> String {
    path(METER_CREDIT_HOLD_RESOLVE, &[id])
}
pub fn suspect_reading_accept(meter: &str, at_ms: i64) -> String {
    path(SUSPECT_READING_ACCEPT, &[meter, &at_ms.to_string()])
}
pub fn suspect_reading_reject(meter: &str, at_ms: i64) -> String {
    path(SUSPECT_READING_REJECT, &[meter, &at_ms.to_string()])
}
pub fn tenant(id: &str) -> String {
    path(TENANT, &[id])
}
pub fn tenant_usage(id: &str) -> String {
    path(TENANT_USAGE, &[id])
}
pub fn unit_unlock_pin(unit: &str) -> String {
    path(UNIT_UNLOCK_PIN, &[unit])
}
pub fn account_close(tenant: &str) -> String {
    path(ACCOUNT_CLOSE, &[tenant])
}
pub fn account_meters(tenant: &str) -> String {
    path(ACCOUNT_METERS, &[tenant])
}
pub fn account_history(tenant: &str) -> String {
    path(ACCOUNT_HISTORY, &[tenant])
}
pub fn operation(op: u64) -> String {
    path(OPERATION, &[&op.to_string()])
}
pub fn receipt_print(no: &str) -> String {
    path(RECEIPT_PRINT, &[no])
}
pub fn operator(name: &str) -> String {
    path(OPERATOR, &[name])
}
pub fn operator_reset_password(name: &str) -> String {
    path(OPERATOR_RESET_PASSWORD, &[name])
}
pub fn tariff(name: &str) -> String {
    path(TARIFF, &[name])
}
pub fn alarm_ack(id: u64) -> String {
    path(ALARM_ACK, &[&id.to_string()])
}
pub fn report(name: &str) -> String {
    path(REPORT, &[name])
}
pub fn report_export(name: &str) -> String {
    path(REPORT_EXPORT, &[name])
}
pub fn rationing_cancel(id: u64) -> String {
    path(RATIONING_CANCEL, &[&id.to_string()])
}
pub fn batch(id: u64) -> String {
    path(BATCH, &[&id.to_string()])
}
pub fn tenant_topup(order_id: &str) -> String {
    path(TENANT_TOPUP, &[order_id])
}
pub fn tenant_receipt_print(no: &str) -> String {
    path(TENANT_RECEIPT_PRINT, &[no])
}
pub fn tenant_meter_switch(meter: &str) -> String {
    path(TENANT_METER_SWITCH, &[meter])
}
pub fn receipt_verify(no: &str) -> String {
    path(RECEIPT_VERIFY, &[no])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_parameters_in_order_and_encodes_them() {
        assert_eq!(meter("M-001"), "/api/v1/meters/M-001");
        assert_eq!(meter("A 1/2"), "/api/v1/meters/A%201%2F2");
        assert_eq!(
            path(SANDBOX_DECIDE, &["o1", "approve"]),
            "/pay/sandbox/o1/approve"
        );
        assert_eq!(path(SANDBOX_DECIDE, &["o1"]), "/pay/sandbox/o1/{decision}");
        assert_eq!(batch(7), "/api/v1/batches/7");
        assert_eq!(
            unit_unlock_pin("户1"),
            "/api/v1/units/%E6%88%B71/unlock-pin"
        );
    }

    #[test]
    fn query_skips_absent_values() {
        assert_eq!(query(&[("a", None)]), "");
        assert_eq!(
            query(&[("tenant", Some("T 1")), ("x", None), ("limit", Some("20"))]),
            "?tenant=T%201&limit=20"
        );
    }
}
