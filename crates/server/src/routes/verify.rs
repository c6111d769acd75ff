//! Online verification for inspectors: a token (checked like an offline
//! verifier would, plus the live revocation state) or a short code (online only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use propusk_store::Role;
use propusk_token::{verify, NoRevocations, PassClaims, ShortCode, Verdict};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/verify", post(check))
}

#[derive(Deserialize)]
struct VerifyInput {
    token: Option<String>,
    short_code: Option<String>,
}

fn verdict_json(
    verdict: &str,
    reason: Option<String>,
    claims: Option<&PassClaims>,
    kid: Option<String>,
) -> Value {
    let time = |t: i64| jiff::Timestamp::from_second(t).map(|t| t.to_string()).ok();
    json!({
        "verdict": verdict,
        "reason": reason,
        "pass_id": claims.map(|c| c.pass_id.to_string()),
        "purpose": claims.map(|c| c.purpose.clone()),
        "regime": claims.map(|c| c.regime.clone()),
        "holder": claims.map(|c| c.holder.clone()),
        "valid_from": claims.and_then(|c| time(c.nbf)),
        "valid_until": claims.and_then(|c| time(c.exp)),
        "kid": kid,
    })
}

async fn check(
    State(state): State<AppState>,
    staff: Staff,
    Body(input): Body<VerifyInput>,
) -> ApiResult<Json<Value>> {
    staff.require(&[Role::Inspector, Role::Admin])?;
    Metrics::inc(&state.metrics.verifications);
    let now = state.clock.now();
    // By short code the pass's row is at hand: its cancellation need not be read again.
    let (token, known_cancelled) = match (input.token, input.short_code) {
        (Some(token), None) => (token, None),
        (None, Some(code)) => {
            let code: ShortCode = code.parse().map_err(|e: propusk_token::ShortCodeError| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_short_code",
                    format!("Короткий код не распознан: {e}. Нужен код вида 7K3-QX9-4MM."),
                    format!("The short code is not valid: {e}. Expected a code like 7K3-QX9-4MM."),
                )
                .with("field", "short_code")
            })?;
            let pass = state
                .store
                .pass_by_short_code(&code)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(
                        "short_code_not_found",
                        "Пропуск с таким кодом",
                        "A pass with this code",
                    )
                })?;
            let cancelled = pass.cancelled_at.is_some();
            (pass.token, Some(cancelled))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "token_or_short_code",
                "Передайте ровно одно из полей: token или short_code.",
                "Send exactly one of token or short_code.",
            ))
        }
    };
    let verdict = verify(&token, &state.keys.trust, &NoRevocations, now.as_second());
    // Online, the live cancellation state is the revocation list.
    let verdict = match verdict {
        Verdict::Valid(pass) | Verdict::Expired(pass) | Verdict::NotYetValid(pass)
            if match known_cancelled {
                Some(cancelled) => cancelled,
                None => is_cancelled(&state, &pass.claims).await?,
            } =>
        {
            Verdict::Revoked(pass)
        }
        other => other,
    };
    let body = match &verdict {
        Verdict::Malformed(reason) => {
            verdict_json("malformed", Some(reason.to_string()), None, None)
        }
        other => verdict_json(
            other.name(),
            None,
            other.pass().map(|p| &p.claims),
            other.kid().map(|k| k.to_string()),
        ),
    };
    if let Some(pass) = verdict.pass() {
        // The holder hint is personal data: the read is recorded.
        let detail = format!("verdict={}", verdict.name());
        state
            .store
            .audit(
                &staff.0.subject_id,
                "pass.verify",
                &pass.claims.pass_id.to_string(),
                &detail,
                now,
            )
            .await?;
    }
    Ok(Json(body))
}

async fn is_cancelled(state: &AppState, claims: &PassClaims) -> ApiResult<bool> {
    Ok(state
        .store
        .pass(&claims.pass_id.to_string())
        .await?
        .is_some_and(|p| p.cancelled_at.is_some()))
}
