//! Signing in: residents by a one-time SMS code, staff by username and password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use jiff::Timestamp;
use propusk_core::domain::PhoneNumber;
use propusk_store::OTP_TTL_SECS;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::app::sign_in::{self, RequestCodeFailure, SignedIn, StaffRefusal, VerifyFailure};
use crate::auth::{sign_in_staff, Caller, StaffSignInError, STAFF_SESSION_SECS};
use crate::edge::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::lang::AskedLang;
use crate::openapi::{api_routes, problems, retry_after};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[request_code], [verify_code], [login], [logout]]
}

/// Phone number, E.164 preferred (`+79161234567`); common Russian spellings
/// (`8 916 123-45-67`) are accepted and normalised.
#[derive(Deserialize, ToSchema)]
#[schema(as = Phone, examples("+79161234567"))]
struct PhoneInput(String);

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"phone": "+79161234567"}))]
struct OtpRequest {
    phone: PhoneInput,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "sent", "expires_in_s": 300}))]
struct OtpSent {
    #[schema(value_type = String, pattern = "^sent$")]
    status: &'static str,
    /// Lifetime of the code in seconds.
    #[schema(examples(300))]
    expires_in_s: i64,
}

problems!(CodeRefusals {
    422 => "`invalid_phone`: not a phone number we can send to.", ["invalid_phone"],
        serde_json::json!({ "field": { "const": "phone" } });
    429 => "`otp_rate_limited`: too many codes asked for this phone (from anyone, or by this \
            requester); `otp_client_rate_limited`: too many codes asked from this address; wait \
            `retry_after_s`.", ["otp_rate_limited", "otp_client_rate_limited"], retry_after();
    503 => "`otp_capacity`: the service sends no more codes a second than its SMS budget allows; \
            `overloaded`: past capacity. Wait `retry_after_s`.", ["otp_capacity", "overloaded"],
        retry_after();
});

pub fn parse_phone(raw: &str) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse(raw).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            e.localized().ru,
            e.localized().en,
        )
        .with("field", "phone")
    })
}

/// Send a one-time sign-in code by SMS
///
/// **Role:** public. Codes are rate-limited per phone, per requester of a phone, per client
/// address and in all; they expire and work once.
#[utoipa::path(post, path = "/api/v1/auth/otp", tag = "auth", operation_id = "requestOtp",
    request_body = OtpRequest,
    responses((status = 202, description = "Code sent (by SMS).", body = OtpSent), CodeRefusals))]
async fn request_code(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    client: ClientIp,
    Body(req): Body<OtpRequest>,
) -> ApiResult<impl IntoResponse> {
    let phone = parse_phone(&req.phone.0)?;
    match sign_in::request_code(&state, &phone, client.0, lang).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(OtpSent {
                status: "sent",
                expires_in_s: OTP_TTL_SECS,
            }),
        )),
        Err(RequestCodeFailure::Refused(refusal)) => {
            Err(
                ApiError::localized(refusal.status(), refusal.code(), refusal.message.clone())
                    .retry_after(refusal.retry_after_secs),
            )
        }
        Err(RequestCodeFailure::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = OtpVerifyRequest, example = json!({"phone": "+79161234567", "code": "482913"}))]
struct OtpVerify {
    phone: PhoneInput,
    /// The code from the SMS.
    #[schema(examples("482913"))]
    code: String,
}

/// A signed-in resident's bearer token.
#[derive(Serialize, ToSchema)]
struct ResidentSession {
    /// Bearer token for `Authorization: Bearer …`.
    token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    #[schema(value_type = String, pattern = "^resident$")]
    role: &'static str,
    #[schema(format = Uuid)]
    resident_id: String,
}

problems!(VerifyRefusals {
    401 => "`otp_wrong` (with `attempts_left`), or `otp_expired`: no live code for this phone \
            (expired, already used, or too many wrong tries) — ask for a new one.",
        ["otp_wrong", "otp_expired"];
    422 => "`invalid_phone`: not a phone number we can send to.", ["invalid_phone"];
});

/// Exchange the SMS code for a resident token
///
/// **Role:** public.
#[utoipa::path(post, path = "/api/v1/auth/otp/verify", tag = "auth", operation_id = "verifyOtp",
    request_body = OtpVerify,
    responses(
        (status = 200, description = "Signed in; registers the resident on first sign-in.",
            body = ResidentSession),
        VerifyRefusals,
    ))]
async fn verify_code(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Body(req): Body<OtpVerify>,
) -> ApiResult<Json<ResidentSession>> {
    let phone = parse_phone(&req.phone.0)?;
    match sign_in::verify_code(&state, &phone, &req.code, lang).await {
        Ok(SignedIn { resident, session }) => Ok(Json(ResidentSession {
            token: session.token,
            expires_at: session.expires_at,
            role: "resident",
            resident_id: resident.id,
        })),
        Err(VerifyFailure::Wrong { attempts_left }) => Err(ApiError::localized(
            StatusCode::UNAUTHORIZED,
            "otp_wrong",
            sign_in::wrong_code_message(attempts_left),
        )
        .with("attempts_left", attempts_left)),
        Err(VerifyFailure::NoLiveCode) => Err(ApiError::localized(
            StatusCode::UNAUTHORIZED,
            "otp_expired",
            sign_in::no_live_code_message(),
        )),
        Err(VerifyFailure::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LoginRequest)]
struct Login {
    username: String,
    #[schema(format = Password)]
    password: String,
}

/// A signed-in officer's bearer token.
#[derive(Serialize, ToSchema)]
struct StaffSession {
    /// Bearer token for `Authorization: Bearer …`.
    token: String,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    /// `inspector`, `health` or `admin`.
    #[schema(value_type = String, pattern = "^(inspector|health|admin)$")]
    role: &'static str,
}

problems!(LoginRefusals {
    401 => "`bad_credentials`: unknown username or wrong password.", ["bad_credentials"];
    429 => "`sign_in_throttled`: too many wrong passwords for this username or from this \
            address; each further one doubles the wait. Wait `retry_after_s`.",
        ["sign_in_throttled"], retry_after();
    503 => "`sign_in_busy`: every password check is taken; `overloaded`: past capacity.",
        ["sign_in_busy", "overloaded"], retry_after();
});

/// Staff sign-in with username and password
///
/// **Role:** public; for staff accounts (inspector, health, admin).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = Login,
    responses((status = 200, description = "Signed in.", body = StaffSession), LoginRefusals))]
async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    Body(req): Body<Login>,
) -> ApiResult<Json<StaffSession>> {
    let user = match sign_in_staff(&state, &req.username, &req.password, client.0).await {
        Ok(user) => user,
        Err(e) => return Err(staff_sign_in_refused(e, state.clock.now())),
    };
    let session = sign_in::open_session(&state, &user.id, user.role, STAFF_SESSION_SECS).await?;
    Ok(Json(StaffSession {
        token: session.token,
        expires_at: session.expires_at,
        role: user.role.as_str(),
    }))
}

/// The problem+json answer for a refused staff sign-in.
fn staff_sign_in_refused(e: StaffSignInError, now: jiff::Timestamp) -> ApiError {
    let refusal = match StaffRefusal::of(e, now) {
        Ok(refusal) => refusal,
        Err(store) => return store.into(),
    };
    let mut error = ApiError::localized(refusal.status(), refusal.code(), refusal.message);
    if let Some(secs) = refusal.retry_after_secs {
        error = error.retry_after(secs);
    }
    error
}

/// Invalidate the bearer token
///
/// **Role:** any signed-in user.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout",
    security(("bearerAuth" = ["resident"]), ("bearerAuth" = ["inspector"]),
        ("bearerAuth" = ["health"]), ("bearerAuth" = ["admin"])),
    responses((status = 204, description = "Signed out; the token no longer works.")))]
async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.end_session(&caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
