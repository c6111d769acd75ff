//! Online verification for inspectors: a token (checked like an offline
//! verifier would, plus the live revocation state) or a short code (online only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use propusk_token::{verify, NoRevocations, PassClaims, ShortCode, Verdict};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::auth::Checker;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::openapi::{api_routes, problems};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[check]]
}

/// A pass to check: exactly one of `token` (the `PR1:…` QR text) and `short_code`
/// (`XXX-XXX-XXX`; dashes and case are forgiven).
#[derive(Deserialize, ToSchema)]
#[schema(as = VerifyRequest, example = json!({"short_code": "7K3-QX9-4MP"}))]
struct VerifyInput {
    /// `PR1:…` QR text.
    token: Option<String>,
    /// `XXX-XXX-XXX`; dashes and case are forgiven.
    #[schema(examples("7K3-QX9-4MP"))]
    short_code: Option<String>,
}

/// Members other than `verdict` are null when not known (e.g. a malformed token).
#[derive(Serialize, ToSchema)]
#[schema(as = VerifyResult, example = json!({
    "verdict": "valid", "reason": null, "pass_id": "0192f1a4-5b6c-7d8e-9f00-112233445566",
    "purpose": "shopping", "regime": "moscow-2020", "holder": "И.И.П. …3456",
    "valid_from": "2020-04-20T07:00:00Z", "valid_until": "2020-04-20T10:00:00Z",
    "kid": "q1w2e3r4t5Y"
}))]
struct VerifyResult {
    /// `valid`, `expired`, `not_yet_valid`, `revoked`, `unknown_key`, `bad_signature`
    /// or `malformed`.
    #[schema(
        pattern = "^(valid|expired|not_yet_valid|revoked|unknown_key|bad_signature|malformed)$"
    )]
    verdict: &'static str,
    /// Why, when the verdict is not `valid`.
    reason: Option<String>,
    #[schema(format = Uuid)]
    pass_id: Option<String>,
    purpose: Option<String>,
    regime: Option<String>,
    /// Holder hint: initials and the last 4 characters of the document — enough to match
    /// the person, no more.
    #[schema(examples("И.И.П. …3456"))]
    holder: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    valid_from: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    valid_until: Option<Timestamp>,
    /// Signing key id, base64url.
    kid: Option<String>,
}

impl VerifyResult {
    fn of(
        verdict: &'static str,
        reason: Option<String>,
        claims: Option<&PassClaims>,
        kid: Option<String>,
    ) -> Self {
        let time = |t: i64| Timestamp::from_second(t).ok();
        Self {
            verdict,
            reason,
            pass_id: claims.map(|c| c.pass_id.to_string()),
            purpose: claims.map(|c| c.purpose.clone()),
            regime: claims.map(|c| c.regime.clone()),
            holder: claims.map(|c| c.holder.clone()),
            valid_from: claims.and_then(|c| time(c.nbf)),
            valid_until: claims.and_then(|c| time(c.exp)),
            kid,
        }
    }
}

problems!(VerifyRefusals {
    404 => "`short_code_not_found`: the short code is well-formed but no pass has it.",
        ["short_code_not_found"];
    422 => "`invalid_short_code`: not a short code (wrong length, character, or check symbol; \
            `field` is `short_code`); `token_or_short_code`: neither or both were given.",
        ["invalid_short_code", "token_or_short_code"];
});

/// Check a pass by token or short code
///
/// **Role:** inspector or admin. Short codes are looked up online only; tokens can also be
/// checked offline with the JWKS and the revocation list.
#[utoipa::path(post, path = "/api/v1/verify", tag = "verification", operation_id = "verifyPass",
    request_body = VerifyInput,
    security(("bearerAuth" = ["inspector"]), ("bearerAuth" = ["admin"])),
    responses(
        (status = 200, description = "The verdict. A token always gets a verdict, however broken it is.",
            body = VerifyResult),
        VerifyRefusals,
    ))]
async fn check(
    State(state): State<AppState>,
    Checker(checker): Checker,
    Body(input): Body<VerifyInput>,
) -> ApiResult<Json<VerifyResult>> {
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
            VerifyResult::of("malformed", Some(reason.to_string()), None, None)
        }
        other => VerifyResult::of(
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
                &checker.subject_id,
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
