//! What the periodic refresh loads and several screens read: the site's status, its
//! gateways and tenants, today's sales and the alarm levels the meter statuses use.

use crate::api::{Api, ApiErr};
use crate::types::{
    GatewayView, MeterView, OpDetail, Operation, SiteStatus, SuspectReadingView, TenantRow,
};

#[derive(Debug, Clone)]
pub struct SiteData {
    pub status: Option<SiteStatus>,
    pub gateways: Vec<GatewayView>,
    pub tenants: Vec<TenantRow>,
    /// (count, total fen) of sales today (UTC day) among the latest operations.
    pub sales_today: (usize, i64),
    pub alarm1_fen: i64,
    pub alarm2_fen: i64,
    /// The site's IANA time zone (from the settings; empty until loaded: times show UTC).
    pub timezone: String,
}

impl Default for SiteData {
    fn default() -> Self {
        SiteData {
            status: None,
            gateways: Vec::new(),
            tenants: Vec::new(),
            sales_today: (0, 0),
            alarm1_fen: 10_000,
            alarm2_fen: 3_000,
            timezone: String::new(),
        }
    }
}

/// One refresh, as far as it got: each part is `Some` once loaded, in the order they are
/// asked for; `failed` is the refusal that stopped the rest.
#[derive(Debug, Default)]
pub struct Refreshed {
    pub alarms: Option<(i64, i64)>,
    pub timezone: Option<String>,
    pub status: Option<SiteStatus>,
    pub gateways: Option<Vec<GatewayView>>,
    pub tenants: Option<Vec<TenantRow>>,
    /// The meters and today's sales, applied together.
    pub meters: Option<(Vec<MeterView>, (usize, i64))>,
    /// Pending suspect readings (the dashboard counts them as alarms).
    pub suspects: Option<Vec<SuspectReadingView>>,
    pub failed: Option<ApiErr>,
}

/// Loads everything the dashboard and tables show (runs on the API worker).
pub fn fetch(api: &mut Api<'_>, today: &str) -> Refreshed {
    let mut r = Refreshed::default();
    let res = (|| -> Result<(), ApiErr> {
        let s = api.settings()?;
        r.alarms = Some((s.alarm1, s.alarm2));
        r.timezone = Some(s.timezone);
        r.status = Some(api.status()?);
        r.gateways = Some(api.gateways()?);
        r.tenants = Some(api.tenants()?);
        let rows = api.meters()?;
        let ops = api.operations(None, 500)?;
        r.meters = Some((rows, sales_on(&ops, today)));
        r.suspects = Some(api.suspect_readings()?);
        Ok(())
    })();
    r.failed = res.err();
    r
}

/// One ledger operation as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpLine {
    pub id: u64,
    /// "YYYY-MM-DD HH:MM" (UTC).
    pub at: String,
    pub kind: String,
    pub amount_fen: Option<i64>,
    pub balance_after_fen: Option<i64>,
}

impl OpLine {
    pub fn from_op(o: &Operation) -> OpLine {
        OpLine {
            id: o.id,
            at: o.at.chars().take(16).collect::<String>().replace('T', " "),
            kind: op_kind(&o.detail).to_string(),
            amount_fen: op_amount(&o.detail),
            balance_after_fen: o.balance_after,
        }
    }
}

/// An operation's kind as the daemon names it on the wire (`sale`, `open_account`, …):
/// the tag of [`OpDetail`].
pub fn op_kind(d: &OpDetail) -> &'static str {
    match d {
        OpDetail::OpenAccount { .. } => "open_account",
        OpDetail::AddMeter { .. } => "add_meter",
        OpDetail::Sale { .. } => "sale",
        OpDetail::Refund { .. } => "refund",
        OpDetail::Reverse { .. } => "reverse",
        OpDetail::CloseAccount { .. } => "close_account",
        OpDetail::Consumption { .. } => "consumption",
        OpDetail::RefundSettled { .. } => "refund_settled",
    }
}

/// The amount (fen) the cashier took or paid back: sales and refunds have one, the other
/// kinds show none.
pub fn op_amount(d: &OpDetail) -> Option<i64> {
    match d {
        OpDetail::Sale { amount, .. } | OpDetail::Refund { amount, .. } => Some(*amount),
        _ => None,
    }
}

/// Count and total of sales whose timestamp falls on `day` (UTC).
pub fn sales_on(ops: &[Operation], day: &str) -> (usize, i64) {
    let mut n = 0;
    let mut total = 0;
    for l in ops.iter().map(OpLine::from_op) {
        if l.kind == "sale" && l.at.starts_with(day) {
            n += 1;
            total += l.amount_fen.unwrap_or(0);
        }
    }
    (n, total)
}

/// Today's UTC date as YYYY-MM-DD (civil-from-days, H. Hinnant's algorithm).
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{MeterAccountInit, OpKind};

    fn every_kind() -> Vec<OpDetail> {
        let meter = || MeterAccountInit {
            meter: "M1".into(),
            billing: "meter".into(),
        };
        vec![
            OpDetail::OpenAccount {
                meters: vec![meter()],
                transfer_in: None,
            },
            OpDetail::AddMeter { meter: meter() },
            OpDetail::Sale {
                amount: 5000,
                method: "cash".into(),
                receipt_no: None,
                credit: None,
            },
            OpDetail::Refund {
                amount: 700,
                reason: "overpaid".into(),
                withdraw: None,
            },
            OpDetail::Reverse {
                op: 3,
                reversed_kind: OpKind::Sale,
                reason: "wrong tenant".into(),
            },
            OpDetail::CloseAccount {
                final_charge: 0,
                refunded: 100,
                arrears: 0,
                meters: vec!["M1".into()],
            },
            OpDetail::Consumption {
                meter: "M1".into(),
                reading_key: "k".into(),
                energy: 1000,
                cost: 12_000_000,
                charged: 1,
                carry: 2_000_000,
                reading_at: "2026-11-25T10:00:00Z".into(),
            },
        ]
    }

    #[test]
    fn the_kind_shown_is_the_tag_the_daemon_sends() {
        for d in every_kind() {
            let v = serde_json::to_value(&d).expect("serialise");
            let tag = v.as_object().and_then(|o| o.keys().next().cloned());
            assert_eq!(tag.as_deref(), Some(op_kind(&d)), "{v}");
        }
    }

    #[test]
    fn only_sales_and_refunds_show_an_amount() {
        let amounts: Vec<_> = every_kind().iter().map(op_amount).collect();
        assert_eq!(
            amounts,
            [None, None, Some(5000), Some(700), None, None, None]
        );
    }
}
