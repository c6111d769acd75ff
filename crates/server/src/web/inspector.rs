//! The inspector's app at `/inspector/`: an installable PWA (static HTML, CSS and
//! JavaScript in `crates/server/static/inspector/`) that scans a pass's QR code
//! with the phone camera and verifies it **on the phone**, with the trust list
//! and the revocation list it keeps in IndexedDB, so that a check needs no
//! network. This module lists those files, embedded in the binary and served as
//! [`super::pwa`] serves an app, and takes the app's aggregate check counts for
//! `/metrics`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use propusk_store::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::json_body::Body;
use crate::metrics::{CHECK_DECIDED_BY, CHECK_VERDICTS};
use crate::state::AppState;
use crate::web::pwa::{asset, App};

/// The app: every file of it (a unit test checks that this list and the directory agree).
static APP: App = App {
    prefix: "/inspector",
    version_placeholder: "__PROPUSK_INSPECTOR_VERSION__",
    assets: &[
        asset!("inspector", "index.html", "text/html; charset=utf-8"),
        asset!("inspector", "app.css", "text/css; charset=utf-8"),
        asset!("inspector", "app.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "verify.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "shortcode.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "i18n.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "strings.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "db.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "sync.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "revocations.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "scanner.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "qr-worker.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "sw.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "manifest.webmanifest",
            "application/manifest+json"
        ),
        asset!("inspector", "icons/icon.svg", "image/svg+xml"),
        asset!("inspector", "icons/icon-192.png", "image/png"),
        asset!("inspector", "icons/icon-512.png", "image/png"),
        asset!("inspector", "icons/icon-maskable-512.png", "image/png"),
        asset!(
            "inspector",
            "vendor/jsQR.js",
            "text/javascript; charset=utf-8"
        ),
        asset!(
            "inspector",
            "vendor/jsQR.LICENSE.txt",
            "text/plain; charset=utf-8"
        ),
        asset!(
            "inspector",
            "vendor/README.txt",
            "text/plain; charset=utf-8"
        ),
    ],
};

pub fn router() -> Router<AppState> {
    APP.router()
        .route("/api/v1/inspector/checks", post(record_checks))
}

/// The most checks of one kind a single report may carry: a phone offline for a
/// whole shift checks a few thousand passes at most; more is a broken client.
const MAX_PER_ENTRY: u64 = 5_000;

/// How many checks one inspector may report: a shift's worth at once, then one a second
/// (faster than anyone can check a document), so that no account can inflate the public
/// counters.
fn checks_rate() -> propusk_core::throttle::Rate {
    propusk_core::throttle::Rate::new(5_000, jiff::SignedDuration::from_secs(1))
        .expect("a positive built-in rate")
}

/// Aggregate counts since the app's last successful report, by who decided and
/// verdict: `{"device": {"valid": 12, "revoked": 1}, "server": {"valid": 2}}`.
/// Nothing identifies a pass, a holder or a place.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckReport {
    #[serde(default)]
    device: BTreeMap<String, u64>,
    #[serde(default)]
    server: BTreeMap<String, u64>,
}

/// Turns a report into `(decided_by index, verdict index, count)` rows, or says
/// which entry is wrong.
fn parse_report(report: &CheckReport) -> Result<Vec<(usize, usize, u64)>, String> {
    let mut rows = Vec::new();
    for (decided_by, counts) in [(0, &report.device), (1, &report.server)] {
        for (verdict, &n) in counts {
            let Some(v) = CHECK_VERDICTS.iter().position(|known| known == verdict) else {
                return Err(format!("{}.{verdict}", CHECK_DECIDED_BY[decided_by]));
            };
            if n > MAX_PER_ENTRY {
                return Err(format!("{}.{verdict}", CHECK_DECIDED_BY[decided_by]));
            }
            rows.push((decided_by, v, n));
        }
    }
    Ok(rows)
}

async fn record_checks(
    State(state): State<AppState>,
    staff: Staff,
    Body(report): Body<CheckReport>,
) -> ApiResult<Json<Value>> {
    staff.require(&[Role::Inspector, Role::Admin])?;
    let rows = parse_report(&report).map_err(|field| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_check_report",
            format!(
                "Счётчик «{field}» не принят: ожидаются вердикты {} и числа от 0 до {MAX_PER_ENTRY}.",
                CHECK_VERDICTS.join(", ")
            ),
            format!(
                "Counter '{field}' was not accepted: expected verdicts {} with counts from 0 to {MAX_PER_ENTRY}.",
                CHECK_VERDICTS.join(", ")
            ),
        )
        .with("field", field)
    })?;
    let total: u64 = rows.iter().map(|(_, _, n)| n).sum();
    let cost = u32::try_from(total).unwrap_or(u32::MAX);
    let now = state.clock.now();
    let limit =
        propusk_store::Limit::new("checks.staff", &staff.0.subject_id, checks_rate()).cost(cost);
    if let Err(throttled) = state.store.charge(&[limit], now).await? {
        let secs = propusk_core::throttle::retry_after_secs(throttled.retry_at, now);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "implausible_check_count",
            format!("Столько проверок за это время не сделать: отчёт не принят. Повторите через {secs} с."),
            format!("That many checks cannot have been made in this time: the report was not accepted. Retry in {secs} s."),
        )
        .retry_after(secs));
    }
    let mut recorded = 0;
    for (decided_by, verdict, n) in rows {
        state.metrics.add_checks(decided_by, verdict, n);
        recorded += n;
    }
    Ok(Json(json!({ "recorded": recorded })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_served_whole_with_a_strict_policy() {
        crate::web::pwa::tests::check_app(&APP, "inspector");
        crate::web::pwa::tests::check_etags(&APP, "app.js");
    }

    #[test]
    fn reports_name_known_verdicts_with_bounded_counts() {
        let mut report = CheckReport::default();
        report.device.insert("valid".into(), 3);
        report.server.insert("revoked".into(), 1);
        assert_eq!(parse_report(&report).unwrap(), vec![(0, 0, 3), (1, 3, 1)]);
        report.device.insert("maybe".into(), 1);
        assert_eq!(parse_report(&report).unwrap_err(), "device.maybe");
        let mut report = CheckReport::default();
        report.server.insert("valid".into(), MAX_PER_ENTRY + 1);
        assert_eq!(parse_report(&report).unwrap_err(), "server.valid");
    }
}
