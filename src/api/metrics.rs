//! Prometheus text exposition (format 0.0.4), written by hand: a few counters and gauges
//! need no metrics library.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters updated by the handlers.
#[derive(Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
    pub http_errors: AtomicU64,
    pub tenant_logins: AtomicU64,
    pub tenant_login_failures: AtomicU64,
    pub operator_logins: AtomicU64,
    pub topups_created: AtomicU64,
    pub topups_paid: AtomicU64,
    pub topups_declined: AtomicU64,
    pub payment_notifications_rejected: AtomicU64,
    pub receipts_printed: AtomicU64,
    pub receipts_print_failed: AtomicU64,
    pub remote_switches: AtomicU64,
}

pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// Renders the counters plus `gauges` (name, help, value) computed by the caller.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        let mut s = String::new();
        let counters: [(&str, &str, &AtomicU64); 12] = [
            (
                "voltvend_http_requests_total",
                "HTTP requests served",
                &self.http_requests,
            ),
            (
                "voltvend_http_errors_total",
                "HTTP responses with status >= 400",
                &self.http_errors,
            ),
            (
                "voltvend_tenant_logins_total",
                "Successful tenant logins",
                &self.tenant_logins,
            ),
            (
                "voltvend_tenant_login_failures_total",
                "Failed tenant logins",
                &self.tenant_login_failures,
            ),
            (
                "voltvend_operator_logins_total",
                "Successful operator logins",
                &self.operator_logins,
            ),
            (
                "voltvend_topups_created_total",
                "Top-up orders created",
                &self.topups_created,
            ),
            (
                "voltvend_topups_paid_total",
                "Top-ups confirmed paid (first confirmation only)",
                &self.topups_paid,
            ),
            (
                "voltvend_topups_declined_total",
                "Top-ups declined",
                &self.topups_declined,
            ),
            (
                "voltvend_payment_notifications_rejected_total",
                "Payment notifications refused (bad signature or mismatch)",
                &self.payment_notifications_rejected,
            ),
            (
                "voltvend_receipts_printed_total",
                "Receipts printed",
                &self.receipts_printed,
            ),
            (
                "voltvend_receipts_print_failed_total",
                "Receipts that failed to print",
                &self.receipts_print_failed,
            ),
            (
                "voltvend_remote_switches_total",
                "Tenant remote switch commands queued",
                &self.remote_switches,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        s
    }
}
