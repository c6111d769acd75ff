//! Inspectors' check counts: how many passes their phones checked, by verdict, for the
//! public counters in `/metrics`. Nothing identifies a pass, a holder or a place.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::auth::Checker;
use crate::error::{ApiError, ApiResult};
use crate::metrics::{CHECK_DECIDED_BY, CHECK_VERDICTS};
use crate::openapi::{api_routes, problems, retry_after};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[record_checks]]
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

/// Counts of checks since the app's last report, by who decided (`device`: the phone
/// from its cached lists; `server`: a typed short code) and verdict (`valid`, `expired`,
/// `not_yet_valid`, `revoked`, `unknown_key`, `bad_signature`, `malformed`). Nothing
/// identifies a pass, a holder or a place.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"device": {"valid": 12, "revoked": 1}, "server": {"valid": 2}}))]
struct CheckReport {
    #[serde(default)]
    device: BTreeMap<String, u64>,
    #[serde(default)]
    server: BTreeMap<String, u64>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"recorded": 13}))]
struct ChecksRecorded {
    recorded: u64,
}

problems!(CheckRefusals {
    422 => "`invalid_check_report`: an unknown verdict or a count above 5,000; `field` names it.",
        ["invalid_check_report"], json!({ "field": { "type": "string" } });
    429 => "`implausible_check_count`: more checks than one inspector can make in the time; \
            a shift's worth at once, then one a second.", ["implausible_check_count"], retry_after();
});

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

/// Report how many passes were checked, for the public counters
///
/// **Role:** inspector or admin.
#[utoipa::path(post, path = "/api/v1/inspector/checks", tag = "verification",
    operation_id = "recordChecks", request_body = CheckReport,
    security(("bearerAuth" = ["inspector"]), ("bearerAuth" = ["admin"])),
    responses(CheckRefusals, (status = 200, body = ChecksRecorded,
        description = "Added to `/metrics` (`propusk_inspector_checks_total`).")))]
async fn record_checks(
    State(state): State<AppState>,
    Checker(checker): Checker,
    Body(report): Body<CheckReport>,
) -> ApiResult<Json<ChecksRecorded>> {
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
        propusk_store::Limit::new("checks.staff", &checker.subject_id, checks_rate()).cost(cost);
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
    Ok(Json(ChecksRecorded { recorded }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
