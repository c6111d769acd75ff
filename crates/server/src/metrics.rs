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
    /// Checks reported by inspector apps (`POST /api/v1/inspector/checks`), indexed
    /// `[decided_by][verdict]` as in [`CHECK_DECIDED_BY`] and [`CHECK_VERDICTS`].
    pub inspector_checks: [[AtomicU64; 7]; 2],
}

/// The verdicts a pass check can end in (docs/token-format.md, section 7).
pub const CHECK_VERDICTS: [&str; 7] = [
    "valid",
    "expired",
    "not_yet_valid",
    "revoked",
    "unknown_key",
    "bad_signature",
    "malformed",
];

/// Who decided a check: the inspector's phone from its cached lists (a scanned QR,
/// online or not), or the server (a typed short code).
pub const CHECK_DECIDED_BY: [&str; 2] = ["device", "server"];

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` reported checks; indexes as in [`CHECK_DECIDED_BY`] and [`CHECK_VERDICTS`].
    pub fn add_checks(&self, decided_by: usize, verdict: usize, n: u64) {
        if let Some(counter) = self
            .inspector_checks
            .get(decided_by)
            .and_then(|row| row.get(verdict))
        {
            counter.fetch_add(n, Ordering::Relaxed);
        }
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
        let name = "propusk_inspector_checks_total";
        let _ = writeln!(
            out,
            "# HELP {name} Pass checks reported by inspector apps, by who decided and verdict\n# TYPE {name} counter"
        );
        for (decided_by, row) in CHECK_DECIDED_BY.iter().zip(&self.inspector_checks) {
            for (verdict, value) in CHECK_VERDICTS.iter().zip(row) {
                let _ = writeln!(
                    out,
                    "{name}{{decided_by=\"{decided_by}\",verdict=\"{verdict}\"}} {}",
                    value.load(Ordering::Relaxed)
                );
            }
        }
        out
    }
}
