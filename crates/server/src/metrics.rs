//! Counters for `/metrics`, in the Prometheus text format. No personal data.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub overloaded: AtomicU64,
    pub passes_issued: AtomicU64,
    pub passes_refused: AtomicU64,
    pub passes_cancelled: AtomicU64,
    pub verifications: AtomicU64,
    pub otp_sent: AtomicU64,
    pub sms_sent: AtomicU64,
    pub sms_failed: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &AtomicU64); 9] = [
            (
                "propusk_http_requests_total",
                "HTTP requests received",
                &self.requests,
            ),
            (
                "propusk_http_overloaded_total",
                "Requests refused with 503 because the server was at capacity",
                &self.overloaded,
            ),
            (
                "propusk_passes_issued_total",
                "Passes issued",
                &self.passes_issued,
            ),
            (
                "propusk_passes_refused_total",
                "Pass requests refused by the regime's rules",
                &self.passes_refused,
            ),
            (
                "propusk_passes_cancelled_total",
                "Passes cancelled or revoked",
                &self.passes_cancelled,
            ),
            (
                "propusk_verifications_total",
                "Online verifications by inspectors",
                &self.verifications,
            ),
            (
                "propusk_otp_sent_total",
                "Sign-in codes queued",
                &self.otp_sent,
            ),
            (
                "propusk_sms_sent_total",
                "SMS handed to the gateway",
                &self.sms_sent,
            ),
            (
                "propusk_sms_failed_total",
                "SMS send attempts that failed",
                &self.sms_failed,
            ),
        ];
        for (name, help, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}
