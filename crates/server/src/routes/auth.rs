//! Signing in: residents by a one-time SMS code, staff by username and password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use propusk_core::domain::PhoneNumber;
use propusk_store::{OtpOutcome, OtpRequestOutcome, Role, OTP_TTL_SECS};
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::{new_token, verify_password, Caller, RESIDENT_SESSION_SECS, STAFF_SESSION_SECS};
use crate::error::{ApiError, ApiResult};
use crate::lang::{AskedLang, Lang};
use crate::metrics::Metrics;
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

pub fn parse_phone(raw: &str, lang: Lang) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse(raw).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_phone",
            e.localized().ru,
            e.localized().en,
        )
        .with("field", "phone")
        .lang(lang)
    })
}

/// What a resident is told about sign-in codes, by the API and the pages alike.
pub mod otp_messages {
    use propusk_core::Localized;

    pub fn rate_limited(retry_after_secs: i64) -> Localized {
        Localized::new(
            format!("Код уже отправлен. Новый можно запросить через {retry_after_secs} с."),
            format!("A code was sent already. You can ask for a new one in {retry_after_secs} s."),
        )
    }

    pub fn wrong(attempts_left: i64) -> Localized {
        Localized::new(
            format!("Неверный код. Осталось попыток: {attempts_left}."),
            format!("Wrong code. Attempts left: {attempts_left}."),
        )
    }

    pub fn no_live_code() -> Localized {
        Localized::new(
            "Действующего кода нет: он истёк, уже использован или попытки исчерпаны. Запросите новый.",
            "There is no live code: it expired, was used, or ran out of attempts. Ask for a new one.",
        )
    }
}

/// A fresh six-digit sign-in code.
pub fn new_otp_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// The text of the sign-in SMS, in the resident's language.
pub fn code_text(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Ru => format!("Код для входа в Пропуск: {code}. Никому его не сообщайте."),
        Lang::En => format!("Your propusk sign-in code: {code}. Do not share it."),
    }
}

async fn request_code(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Body(req): Body<OtpRequest>,
) -> ApiResult<impl IntoResponse> {
    let phone = parse_phone(&req.phone, lang)?;
    let code = new_otp_code();
    let outcome = state
        .store
        .request_otp(
            phone.as_str(),
            &code,
            &code_text(&code, lang),
            state.clock.now(),
        )
        .await?;
    match outcome {
        OtpRequestOutcome::Queued => {
            Metrics::inc(&state.metrics.otp_sent);
            state.outbox_wakeup.notify_one();
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({"status": "sent", "expires_in_s": OTP_TTL_SECS})),
            ))
        }
        OtpRequestOutcome::RateLimited { retry_after_secs } => Err(ApiError::localized(
            StatusCode::TOO_MANY_REQUESTS,
            "otp_rate_limited",
            otp_messages::rate_limited(retry_after_secs),
        )
        .retry_after(retry_after_secs.max(1) as u64)
        .lang(lang)),
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
    let phone = parse_phone(&req.phone, lang)?;
    let now = state.clock.now();
    match state
        .store
        .verify_otp(phone.as_str(), &req.code, now)
        .await?
    {
        OtpOutcome::Accepted => {
            let resident = state.store.resident_for_phone(&phone, now).await?;
            if resident.lang != lang.code() {
                state.store.set_language(&resident.id, lang.code()).await?;
            }
            let (token, expires_at) =
                open_session(&state, &resident.id, Role::Resident, RESIDENT_SESSION_SECS).await?;
            Ok(Json(
                json!({"token": token, "expires_at": expires_at, "role": "resident", "resident_id": resident.id}),
            ))
        }
        OtpOutcome::Wrong { attempts_left } => Err(ApiError::localized(
            StatusCode::UNAUTHORIZED,
            "otp_wrong",
            otp_messages::wrong(attempts_left),
        )
        .with("attempts_left", attempts_left)
        .lang(lang)),
        OtpOutcome::NoLiveCode => Err(ApiError::localized(
            StatusCode::UNAUTHORIZED,
            "otp_expired",
            otp_messages::no_live_code(),
        )
        .lang(lang)),
    }
}

pub async fn open_session(
    state: &AppState,
    subject: &str,
    role: Role,
    ttl: i64,
) -> ApiResult<(String, String)> {
    let now = state.clock.now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(ttl))
        .unwrap_or(now);
    let token = new_token();
    state
        .store
        .create_session(&token, subject, role, expires, now)
        .await?;
    Ok((token, expires.to_string()))
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Body(req): Body<Login>,
) -> ApiResult<Json<Value>> {
    let user = state.store.staff_by_username(req.username.trim()).await?;
    // Hash even for unknown users so response time does not reveal which usernames exist.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(dummy_hash);
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    let user = user.filter(|_| ok).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Неверное имя или пароль.",
            "Wrong username or password.",
        )
        .lang(lang)
    })?;
    let (token, expires_at) = open_session(&state, &user.id, user.role, STAFF_SESSION_SECS).await?;
    Ok(Json(
        json!({"token": token, "expires_at": expires_at, "role": user.role.as_str()}),
    ))
}

fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::auth::hash_password("not a real password").unwrap_or_default())
        .clone()
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.end_session(&caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
