//! Signing in: residents by a one-time SMS code, staff by username and password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use propusk_core::domain::PhoneNumber;
use propusk_store::OTP_TTL_SECS;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::app::sign_in::{self, RequestCodeFailure, SignedIn, StaffRefusal, VerifyFailure};
use crate::auth::{sign_in_staff, Caller, StaffSignInError, STAFF_SESSION_SECS};
use crate::edge::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::lang::AskedLang;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/otp", post(request_code))
        .route("/api/v1/auth/otp/verify", post(verify_code))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
}

#[derive(Deserialize)]
struct OtpRequest {
    phone: String,
}

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

/// What a resident is told about sign-in codes, by the API and the pages alike.
async fn request_code(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    client: ClientIp,
    Body(req): Body<OtpRequest>,
) -> ApiResult<impl IntoResponse> {
    let phone = parse_phone(&req.phone)?;
    match sign_in::request_code(&state, &phone, client.0, lang).await {
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"status": "sent", "expires_in_s": OTP_TTL_SECS})),
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

#[derive(Deserialize)]
struct OtpVerify {
    phone: String,
    code: String,
}

async fn verify_code(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Body(req): Body<OtpVerify>,
) -> ApiResult<Json<Value>> {
    let phone = parse_phone(&req.phone)?;
    match sign_in::verify_code(&state, &phone, &req.code, lang).await {
        Ok(SignedIn { resident, session }) => Ok(Json(json!({
            "token": session.token,
            "expires_at": session.expires_at.to_string(),
            "role": "resident",
            "resident_id": resident.id,
        }))),
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

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    client: ClientIp,
    Body(req): Body<Login>,
) -> ApiResult<Json<Value>> {
    let user = match sign_in_staff(&state, &req.username, &req.password, client.0).await {
        Ok(user) => user,
        Err(e) => return Err(staff_sign_in_refused(e, state.clock.now())),
    };
    let session = sign_in::open_session(&state, &user.id, user.role, STAFF_SESSION_SECS).await?;
    Ok(Json(json!({
        "token": session.token,
        "expires_at": session.expires_at.to_string(),
        "role": user.role.as_str(),
    })))
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

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.end_session(&caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
