//! Signing in: a resident by a one-time code sent by SMS, staff by username and password;
//! and the session either gets.

use std::net::IpAddr;

use jiff::Timestamp;
use propusk_core::domain::PhoneNumber;
use propusk_core::Localized;
use propusk_store::{OtpOutcome, OtpRequestOutcome, Resident, Role, StoreError, Throttled};
use rand::Rng;

use crate::auth::{new_token, StaffSignInError, RESIDENT_SESSION_SECS};
use crate::lang::Lang;
use crate::metrics::Metrics;
use crate::state::AppState;

/// A fresh six-digit sign-in code.
pub fn new_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// The text of the sign-in SMS, in the resident's language.
pub fn code_text(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Ru => format!("Код для входа в Пропуск: {code}. Никому его не сообщайте."),
        Lang::En => format!("Your propusk sign-in code: {code}. Do not share it."),
    }
}

/// Which sign-in limit refused a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeLimit {
    /// Codes for this phone (from anyone, or from this requester).
    Phone,
    /// Codes asked from this client address.
    Client,
    /// Codes sent by the whole service (its SMS budget).
    Capacity,
}

/// A code not sent: which limit, when to try again, and what to tell the resident.
#[derive(Debug, Clone)]
pub struct CodeRefusal {
    pub limit: CodeLimit,
    pub retry_after_secs: u64,
    pub message: Localized,
}

impl CodeRefusal {
    /// The problem code the API answers with.
    pub fn code(&self) -> &'static str {
        match self.limit {
            CodeLimit::Phone => "otp_rate_limited",
            CodeLimit::Client => "otp_client_rate_limited",
            CodeLimit::Capacity => "otp_capacity",
        }
    }

    fn new(throttled: &Throttled, now: Timestamp) -> Self {
        let secs = propusk_core::throttle::retry_after_secs(throttled.retry_at, now);
        let (ru, en) = wait(secs);
        let (limit, message) = match throttled.limit {
            "otp.client" => (
                CodeLimit::Client,
                Localized::new(
                    format!("С вашего адреса запрошено слишком много кодов. Повторите через {ru}."),
                    format!("Too many codes were asked for from your address. Try again in {en}."),
                ),
            ),
            "otp.global" => (
                CodeLimit::Capacity,
                Localized::new(
                    format!("Сейчас отправляется слишком много кодов. Повторите через {ru}."),
                    format!("Too many codes are being sent right now. Try again in {en}."),
                ),
            ),
            _ => (
                CodeLimit::Phone,
                Localized::new(
                    format!("Код уже отправлен. Новый можно запросить через {ru}."),
                    format!("A code was sent already. You can ask for a new one in {en}."),
                ),
            ),
        };
        Self {
            limit,
            retry_after_secs: secs,
            message,
        }
    }
}

/// "in 40 s" or "in 12 min".
fn wait(secs: u64) -> (String, String) {
    if secs <= 90 {
        (format!("{secs} с"), format!("{secs} s"))
    } else {
        let mins = secs.div_ceil(60);
        (format!("{mins} мин"), format!("{mins} min"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequestCodeFailure {
    #[error("refused by a sign-in limit")]
    Refused(CodeRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues a sign-in code for `phone` in `lang`, within the sign-in limits for this phone and
/// this client.
pub async fn request_code(
    state: &AppState,
    phone: &PhoneNumber,
    client: IpAddr,
    lang: Lang,
) -> Result<(), RequestCodeFailure> {
    let code = new_code();
    let now = state.clock.now();
    let limits = state.sign_in.for_request(phone.as_str(), client);
    let text = code_text(&code, lang);
    match state
        .store
        .request_otp(phone.as_str(), &code, &text, &limits, now)
        .await?
    {
        OtpRequestOutcome::Queued => {
            Metrics::inc(&state.metrics.otp_sent);
            state.outbox_wakeup.notify_one();
            Ok(())
        }
        OtpRequestOutcome::RateLimited(throttled) => Err(RequestCodeFailure::Refused(
            CodeRefusal::new(&throttled, now),
        )),
    }
}

/// A session: the bearer token (or cookie) and when it ends.
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
}

/// Opens a session of `ttl_secs` for `subject` in `role`.
pub async fn open_session(
    state: &AppState,
    subject: &str,
    role: Role,
    ttl_secs: i64,
) -> Result<Session, StoreError> {
    let now = state.clock.now();
    let expires_at = now
        .checked_add(jiff::SignedDuration::from_secs(ttl_secs))
        .map_err(|e| StoreError::Corrupt(format!("session end {now} + {ttl_secs} s: {e}")))?;
    let token = new_token();
    state
        .store
        .create_session(&token, subject, role, expires_at, now)
        .await?;
    Ok(Session { token, expires_at })
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyFailure {
    #[error("wrong code")]
    Wrong { attempts_left: i64 },
    /// Expired, used, or out of attempts.
    #[error("no live code")]
    NoLiveCode,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a resident is told of a wrong code.
pub fn wrong_code_message(attempts_left: i64) -> Localized {
    Localized::new(
        format!("Неверный код. Осталось попыток: {attempts_left}."),
        format!("Wrong code. Attempts left: {attempts_left}."),
    )
}

/// What a resident is told when no code is live for their phone.
pub fn no_live_code_message() -> Localized {
    Localized::new(
        "Действующего кода нет: он истёк, уже использован или попытки исчерпаны. Запросите новый.",
        "There is no live code: it expired, was used, or ran out of attempts. Ask for a new one.",
    )
}

/// A resident signed in: who, and their session.
pub struct SignedIn {
    pub resident: Resident,
    pub session: Session,
}

/// Checks a sign-in code; on success registers the resident on first sign-in, keeps `lang`
/// as the language of their SMS, and opens a resident session.
pub async fn verify_code(
    state: &AppState,
    phone: &PhoneNumber,
    code: &str,
    lang: Lang,
) -> Result<SignedIn, VerifyFailure> {
    let now = state.clock.now();
    match state.store.verify_otp(phone.as_str(), code, now).await? {
        OtpOutcome::Accepted => {}
        OtpOutcome::Wrong { attempts_left } => return Err(VerifyFailure::Wrong { attempts_left }),
        OtpOutcome::NoLiveCode => return Err(VerifyFailure::NoLiveCode),
    }
    let resident = state.store.resident_for_phone(phone, now).await?;
    if resident.lang != lang.code() {
        state.store.set_language(&resident.id, lang.code()).await?;
    }
    let session = open_session(state, &resident.id, Role::Resident, RESIDENT_SESSION_SECS).await?;
    Ok(SignedIn { resident, session })
}

/// Why a staff sign-in was refused, as the API and the officers' pages both say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffRefusalKind {
    WrongCredentials,
    Throttled,
    Busy,
}

pub struct StaffRefusal {
    pub kind: StaffRefusalKind,
    pub message: Localized,
    pub retry_after_secs: Option<u64>,
}

impl StaffRefusal {
    /// The refusal for a failed staff sign-in, or the store's failure, which is not one.
    pub fn of(e: StaffSignInError, now: Timestamp) -> Result<Self, StoreError> {
        Ok(match e {
            StaffSignInError::WrongCredentials => Self {
                kind: StaffRefusalKind::WrongCredentials,
                message: Localized::new("Неверное имя или пароль.", "Wrong username or password."),
                retry_after_secs: None,
            },
            StaffSignInError::Throttled { retry_at, .. } => {
                let secs = propusk_core::throttle::retry_after_secs(retry_at, now);
                Self {
                    kind: StaffRefusalKind::Throttled,
                    message: Localized::new(
                        format!("Слишком много неудачных попыток входа. Повторите через {secs} с."),
                        format!("Too many failed sign-in attempts. Try again in {secs} s."),
                    ),
                    retry_after_secs: Some(secs),
                }
            }
            StaffSignInError::Busy => Self {
                kind: StaffRefusalKind::Busy,
                message: Localized::new(
                    "Сейчас проверяется слишком много паролей. Повторите через несколько секунд.",
                    "Too many passwords are being checked right now. Try again in a few seconds.",
                ),
                retry_after_secs: Some(5),
            },
            StaffSignInError::Store(e) => return Err(e),
        })
    }

    /// The problem code the API answers with.
    pub fn code(&self) -> &'static str {
        match self.kind {
            StaffRefusalKind::WrongCredentials => "bad_credentials",
            StaffRefusalKind::Throttled => "sign_in_throttled",
            StaffRefusalKind::Busy => "sign_in_busy",
        }
    }
}
