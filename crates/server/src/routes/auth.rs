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
use crate::auth::{
    new_token, sign_in_staff, Caller, StaffSignInError, RESIDENT_SESSION_SECS, STAFF_SESSION_SECS,
};
use crate::edge::ClientIp;
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
    use axum::http::StatusCode;
    use propusk_core::Localized;
    use propusk_store::Throttled;

    /// "in 40 s" or "in 12 min".
    fn wait(secs: u64) -> (String, String) {
        if secs <= 90 {
            (format!("{secs} с"), format!("{secs} s"))
        } else {
            let mins = secs.div_ceil(60);
            (format!("{mins} мин"), format!("{mins} min"))
        }
    }

    /// A code request refused by one of the sign-in limits: the status, the problem code,
    /// the text and the seconds to wait.
    pub fn refused(
        throttled: &Throttled,
        now: jiff::Timestamp,
    ) -> (StatusCode, &'static str, Localized, u64) {
        let secs = propusk_core::throttle::retry_after_secs(throttled.retry_at, now);
        let (ru, en) = wait(secs);
        let (status, code, text) = match throttled.limit {
            "otp.client" => (
                StatusCode::TOO_MANY_REQUESTS,
                "otp_client_rate_limited",
                Localized::new(
                    format!("С вашего адреса запрошено слишком много кодов. Повторите через {ru}."),
                    format!("Too many codes were asked for from your address. Try again in {en}."),
                ),
            ),
            "otp.global" => (
                StatusCode::SERVICE_UNAVAILABLE,
                "otp_capacity",
                Localized::new(
                    format!("Сейчас отправляется слишком много кодов. Повторите через {ru}."),
                    format!("Too many codes are being sent right now. Try again in {en}."),
                ),
            ),
            _ => (
                StatusCode::TOO_MANY_REQUESTS,
                "otp_rate_limited",
                Localized::new(
                    format!("Код уже отправлен. Новый можно запросить через {ru}."),
                    format!("A code was sent already. You can ask for a new one in {en}."),
                ),
            ),
        };
        (status, code, text, secs)
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
    client: ClientIp,
    Body(req): Body<OtpRequest>,
) -> ApiResult<impl IntoResponse> {
    let phone = parse_phone(&req.phone, lang)?;
    let code = new_otp_code();
    let now = state.clock.now();
    let limits = state.sign_in.for_request(phone.as_str(), client.0);
    let outcome = state
        .store
        .request_otp(phone.as_str(), &code, &code_text(&code, lang), &limits, now)
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
        OtpRequestOutcome::RateLimited(throttled) => {
            let (status, code, text, secs) = otp_messages::refused(&throttled, now);
            Err(ApiError::localized(status, code, text)
                .retry_after(secs)
                .lang(lang))
        }
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
    client: ClientIp,
    Body(req): Body<Login>,
) -> ApiResult<Json<Value>> {
    let user = match sign_in_staff(&state, &req.username, &req.password, client.0).await {
        Ok(user) => user,
        Err(e) => return Err(staff_sign_in_refused(&e, state.clock.now()).lang(lang)),
    };
    let (token, expires_at) = open_session(&state, &user.id, user.role, STAFF_SESSION_SECS).await?;
    Ok(Json(
        json!({"token": token, "expires_at": expires_at, "role": user.role.as_str()}),
    ))
}

/// How a refused staff sign-in is answered (the officers' pages show the same text).
pub fn staff_sign_in_refused(e: &StaffSignInError, now: jiff::Timestamp) -> ApiError {
    match e {
        StaffSignInError::WrongCredentials => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "Неверное имя или пароль.",
            "Wrong username or password.",
        ),
        StaffSignInError::Throttled { retry_at, .. } => {
            let secs = propusk_core::throttle::retry_after_secs(*retry_at, now);
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "sign_in_throttled",
                format!("Слишком много неудачных попыток входа. Повторите через {secs} с."),
                format!("Too many failed sign-in attempts. Try again in {secs} s."),
            )
            .retry_after(secs)
        }
        StaffSignInError::Busy => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sign_in_busy",
            "Сейчас проверяется слишком много паролей. Повторите через несколько секунд.",
            "Too many passwords are being checked right now. Try again in a few seconds.",
        )
        .retry_after(5),
        StaffSignInError::Store(e) => match e {
            propusk_store::StoreError::Unavailable(_) => ApiError::unavailable(),
            e => ApiError::internal(e),
        },
    }
}

async fn logout(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    state.store.end_session(&caller.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
