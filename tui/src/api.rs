//! The operator API as the console calls it: one typed method per route, over a
//! [`Transport`] (the HTTP client in [`crate::http`], or a test double).
//!
//! Every method takes and returns the contract's types ([`crate::types`]); a body that
//! does not decode is an error, so a drift between daemon and console shows at once.

use crate::types::{self as t, routes};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::http::{Client, Endpoint, decode, parse_response};

/// A refusal or failure, with the API's stable code when it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErr {
    /// HTTP status, 0 when the daemon could not be reached or answered garbage.
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Line-by-line detail the daemon sent with the error (an import's problems).
    pub details: Vec<String>,
}

impl ApiErr {
    pub(crate) fn io(msg: impl Into<String>) -> ApiErr {
        ApiErr {
            status: 0,
            code: "unreachable".into(),
            message: msg.into(),
            details: Vec::new(),
        }
    }

    /// The session is over (401) or must change its password first: the app goes back to
    /// the login or password screen whichever call saw it.
    pub fn ends_session(&self) -> bool {
        self.status == 401 || self.code == "must_change_password"
    }
}

impl std::fmt::Display for ApiErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How the app reaches the API; the HTTP client is the one real implementation, and
/// `Offline` is for drawing/navigation without a daemon.
pub trait Transport {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, ApiErr>;
}

/// No daemon: every call fails with "offline".
pub struct Offline;

impl Transport for Offline {
    fn request(
        &mut self,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: Option<&Value>,
    ) -> Result<Value, ApiErr> {
        Err(ApiErr::io("offline: no daemon connected"))
    }
}

/// The typed client for one job: the transport, the session's token, and the first
/// session-ending refusal any call of the job met (the app acts on it when the job's
/// result comes back).
pub struct Api<'a> {
    transport: &'a mut dyn Transport,
    token: Option<String>,
    session_end: Option<ApiErr>,
}

fn to_value(body: &impl Serialize) -> Value {
    // The contract's request types are plain structs: serialising them cannot fail.
    serde_json::to_value(body).unwrap_or_default()
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ApiErr> {
    serde_json::from_value(v).map_err(|e| ApiErr {
        status: 200,
        code: "bad_body".into(),
        message: format!("unexpected answer from the daemon: {e}"),
        details: Vec::new(),
    })
}

impl<'a> Api<'a> {
    pub fn new(transport: &'a mut dyn Transport, token: Option<String>) -> Api<'a> {
        Api {
            transport,
            token,
            session_end: None,
        }
    }

    /// The refusal that ended the session during this job, if one did.
    pub fn session_end(self) -> Option<ApiErr> {
        self.session_end
    }

    /// An authenticated call; a 401 drops the token for the rest of the job, as the app
    /// drops it.
    fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Result<Value, ApiErr> {
        let r = self
            .transport
            .request(method, path, self.token.as_deref(), body.as_ref());
        if let Err(e) = &r
            && e.ends_session()
        {
            if e.status == 401 {
                self.token = None;
            }
            self.session_end.get_or_insert_with(|| e.clone());
        }
        r
    }

    fn get<T: DeserializeOwned>(&mut self, path: &str) -> Result<T, ApiErr> {
        typed(self.send("GET", path, None)?)
    }

    fn post<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiErr> {
        typed(self.send("POST", path, Some(to_value(body)))?)
    }

    /// A POST whose answer the console does not read (an empty body or a record it
    /// reloads anyway).
    fn post_only(&mut self, path: &str, body: Option<Value>) -> Result<(), ApiErr> {
        self.send("POST", path, body).map(drop)
    }

    // ---------- session (no session handling: these are the session) ----------

    /// Logs in and keeps the new token for the rest of the job.
    pub fn login(&mut self, body: &t::LoginRequest) -> Result<t::LoginResponse, ApiErr> {
        let v = self
            .transport
            .request("POST", routes::LOGIN, None, Some(&to_value(body)))?;
        let r: t::LoginResponse = typed(v)?;
        self.token = Some(r.token.clone());
        Ok(r)
    }

    pub fn change_password(&mut self, body: &t::PasswordChange) -> Result<(), ApiErr> {
        let token = self.token.clone();
        self.transport
            .request(
                "POST",
                routes::PASSWORD,
                token.as_deref(),
                Some(&to_value(body)),
            )
            .map(drop)
    }

    /// Ends the session on the daemon; the answer does not matter (the console forgets the
    /// token either way).
    pub fn logout(&mut self) {
        let token = self.token.take();
        let _ = self
            .transport
            .request("POST", routes::LOGOUT, token.as_deref(), None);
    }

    // ---------- site, meters, gateways ----------

    pub fn status(&mut self) -> Result<t::SiteStatus, ApiErr> {
        self.get(routes::STATUS)
    }
    pub fn gateways(&mut self) -> Result<Vec<t::GatewayView>, ApiErr> {
        self.get(routes::GATEWAYS)
    }
    pub fn meters(&mut self) -> Result<Vec<t::MeterView>, ApiErr> {
        self.get(routes::METERS)
    }
    pub fn readings(&mut self, meter: &str) -> Result<Vec<t::ReadingView>, ApiErr> {
        self.get(&routes::meter_readings(meter))
    }
    pub fn meter_commands(&mut self, meter: &str) -> Result<Vec<t::CommandLine>, ApiErr> {
        self.get(&routes::meter_commands(meter))
    }
    pub fn command(
        &mut self,
        meter: &str,
        body: &t::CommandRequest,
    ) -> Result<t::CommandQueued, ApiErr> {
        self.post(&routes::meter_commands(meter), body)
    }
    pub fn settings(&mut self) -> Result<t::SiteSettings, ApiErr> {
        self.get(routes::SITE_SETTINGS)
    }
    pub fn save_settings(&mut self, body: &t::SiteSettings) -> Result<t::SiteSettings, ApiErr> {
        typed(self.send("PUT", routes::SITE_SETTINGS, Some(to_value(body)))?)
    }
    pub fn buildings(&mut self) -> Result<Vec<t::BuildingView>, ApiErr> {
        self.get(routes::BUILDINGS)
    }
    pub fn tariffs(&mut self) -> Result<Vec<t::TariffView>, ApiErr> {
        self.get(routes::TARIFFS)
    }
    pub fn import(&mut self, body: &t::ImportRequest) -> Result<t::ImportDone, ApiErr> {
        self.post(routes::SITE_IMPORT, body)
    }
    pub fn set_tariff(&mut self, body: &t::TariffRequest) -> Result<t::TariffSaved, ApiErr> {
        self.post(routes::TARIFFS, body)
    }

    // ---------- tenants and money ----------

    pub fn tenants(&mut self) -> Result<Vec<t::TenantRow>, ApiErr> {
        self.get(routes::TENANTS)
    }
    pub fn tenant(&mut self, tenant: &str) -> Result<t::TenantView, ApiErr> {
        self.get(&routes::tenant(tenant))
    }
    /// The newest operations, of one tenant or of the site.
    pub fn operations(
        &mut self,
        tenant: Option<&str>,
        limit: usize,
    ) -> Result<Vec<t::Operation>, ApiErr> {
        let limit = limit.to_string();
        let q = routes::query(&[("tenant", tenant), ("limit", Some(&limit))]);
        self.get(&format!("{}{q}", routes::OPERATIONS))
    }
    pub fn sale(&mut self, body: &t::SaleRequest) -> Result<t::SaleResult, ApiErr> {
        self.post(routes::SALES, body)
    }
    pub fn refund(&mut self, body: &t::RefundRequest) -> Result<t::OpResult, ApiErr> {
        self.post(routes::REFUNDS, body)
    }
    pub fn reverse(&mut self, body: &t::ReverseRequest) -> Result<t::OpResult, ApiErr> {
        self.post(routes::REVERSALS, body)
    }
    pub fn open_account(&mut self, body: &t::OpenAccountRequest) -> Result<t::OpResult, ApiErr> {
        self.post(routes::ACCOUNTS, body)
    }
    pub fn close_account(
        &mut self,
        tenant: &str,
        body: &t::CloseAccountRequest,
    ) -> Result<t::OpResult, ApiErr> {
        self.post(&routes::account_close(tenant), body)
    }
    pub fn add_meter(
        &mut self,
        tenant: &str,
        body: &t::AddMeterRequest,
    ) -> Result<t::OpResult, ApiErr> {
        self.post(&routes::account_meters(tenant), body)
    }

    // ---------- reports and alarms ----------

    pub fn report(&mut self, name: &str) -> Result<t::ReportTable, ApiErr> {
        self.get(&routes::report(name))
    }
    pub fn export_report(&mut self, name: &str, format: &str) -> Result<t::ExportDone, ApiErr> {
        let q = routes::query(&[("format", Some(format))]);
        let path = format!("{}{q}", routes::report_export(name));
        typed(self.send("POST", &path, None)?)
    }
    pub fn ack_alarm(&mut self, id: u64) -> Result<(), ApiErr> {
        self.post_only(&routes::alarm_ack(id), None)
    }

    /// Pending suspect readings (not charged until staff decide), oldest first per meter.
    pub fn suspect_readings(&mut self) -> Result<Vec<t::SuspectReadingView>, ApiErr> {
        self.get(routes::SUSPECT_READINGS)
    }

    /// Accept a suspect reading: its energy since the last charged reading is charged.
    pub fn accept_suspect(
        &mut self,
        meter: &str,
        at_ms: i64,
    ) -> Result<t::SuspectReadingView, ApiErr> {
        self.post(
            &routes::suspect_reading_accept(meter, at_ms),
            &serde_json::json!({}),
        )
    }

    /// Reject a suspect reading (never charged); `rebaseline` for a replaced or reset meter.
    pub fn reject_suspect(
        &mut self,
        meter: &str,
        at_ms: i64,
        rebaseline: bool,
    ) -> Result<t::SuspectReadingView, ApiErr> {
        self.post(
            &routes::suspect_reading_reject(meter, at_ms),
            &t::RejectSuspect { rebaseline },
        )
    }

    // ---------- the office's lists ----------

    /// Refunds waiting for their meter to confirm the withdrawal, oldest first.
    pub fn pending_refunds(&mut self) -> Result<Vec<t::PendingRefundView>, ApiErr> {
        self.get(routes::REFUNDS_PENDING)
    }

    /// Meter-mode meters' credit at their accounts' closing (`to_settle`: only the ones
    /// that could not be cleared), newest first.
    pub fn close_settlements(
        &mut self,
        to_settle: bool,
    ) -> Result<Vec<t::CloseSettlementView>, ApiErr> {
        let q = routes::query(&[("to_settle", to_settle.then_some("true"))]);
        self.get(&format!("{}{q}", routes::CLOSE_SETTLEMENTS))
    }

    /// Every account the tenant id has had (closed ones too), at most `limit` operations each.
    pub fn account_history(
        &mut self,
        tenant: &str,
        limit: usize,
    ) -> Result<t::AccountHistory, ApiErr> {
        let limit = limit.to_string();
        let q = routes::query(&[("limit", Some(&limit))]);
        self.get(&format!("{}{q}", routes::account_history(tenant)))
    }

    // ---------- batches ----------

    pub fn start_batch(&mut self, body: &t::BatchRequest) -> Result<t::BatchStarted, ApiErr> {
        self.post(routes::BATCHES, body)
    }
    pub fn batch(&mut self, id: u64) -> Result<t::Progress, ApiErr> {
        self.get(&routes::batch(id))
    }

    // ---------- staff ----------

    pub fn roles(&mut self) -> Result<Vec<t::RoleRow>, ApiErr> {
        self.get(routes::ROLES)
    }
    pub fn operators(&mut self) -> Result<Vec<t::OperatorView>, ApiErr> {
        self.get(routes::OPERATORS)
    }
    /// The newest `limit` audit entries, newest first.
    pub fn audit(&mut self, limit: usize) -> Result<Vec<t::AuditEntry>, ApiErr> {
        let limit = limit.to_string();
        let q = routes::query(&[("newest", Some("true")), ("limit", Some(&limit))]);
        self.get(&format!("{}{q}", routes::AUDIT))
    }
    pub fn add_operator(&mut self, body: &t::NewOperator) -> Result<t::OperatorAdded, ApiErr> {
        self.post(routes::OPERATORS, body)
    }
    pub fn reset_password(&mut self, name: &str) -> Result<t::PasswordReset, ApiErr> {
        typed(self.send("POST", &routes::operator_reset_password(name), None)?)
    }
    pub fn change_operator(&mut self, name: &str, body: &t::OperatorChange) -> Result<(), ApiErr> {
        self.post_only(&routes::operator(name), Some(to_value(body)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every call with 401.
    struct Expired(Vec<Option<String>>);
    impl Transport for Expired {
        fn request(
            &mut self,
            _: &str,
            _: &str,
            token: Option<&str>,
            _: Option<&Value>,
        ) -> Result<Value, ApiErr> {
            self.0.push(token.map(String::from));
            Err(ApiErr {
                status: 401,
                code: "unauthorized".into(),
                message: "session expired".into(),
                details: Vec::new(),
            })
        }
    }

    #[test]
    fn a_401_ends_the_session_for_the_rest_of_the_job() {
        let mut t = Expired(Vec::new());
        let mut api = Api::new(&mut t, Some("tok".into()));
        assert!(api.status().is_err());
        assert!(api.gateways().is_err());
        let end = api.session_end().expect("session end recorded");
        assert_eq!(end.status, 401);
        assert_eq!(t.0, [Some("tok".to_string()), None]);
    }

    /// Records the paths asked for.
    struct Paths(Vec<String>);
    impl Transport for Paths {
        fn request(
            &mut self,
            method: &str,
            path: &str,
            _: Option<&str>,
            _: Option<&Value>,
        ) -> Result<Value, ApiErr> {
            self.0.push(format!("{method} {path}"));
            Err(ApiErr::io("recorded"))
        }
    }

    #[test]
    fn paths_and_queries_as_the_daemon_routes_them() {
        let mut t = Paths(Vec::new());
        let mut api = Api::new(&mut t, None);
        let _ = api.operations(Some("T 1"), 20);
        let _ = api.operations(None, 500);
        let _ = api.audit(300);
        let _ = api.export_report("energy", "xlsx");
        let _ = api.reset_password("li.wei");
        let _ = api.batch(12);
        assert_eq!(
            t.0,
            [
                "GET /api/v1/operations?tenant=T%201&limit=20",
                "GET /api/v1/operations?limit=500",
                "GET /api/v1/audit?newest=true&limit=300",
                "POST /api/v1/reports/energy/export?format=xlsx",
                "POST /api/v1/operators/li.wei/reset-password",
                "GET /api/v1/batches/12",
            ]
        );
    }

    #[test]
    fn a_body_that_does_not_match_the_contract_is_an_error() {
        let e = typed::<t::SiteStatus>(serde_json::json!({"site_name": 5})).unwrap_err();
        assert!(e.message.starts_with("unexpected answer"), "{e:?}");
    }
}
