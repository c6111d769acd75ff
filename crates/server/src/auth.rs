//! Who is calling: bearer tokens resolved to sessions, as extractors, so that a
//! handler's signature says who may call it ([`Resident`], [`Staff`]).

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use propusk_store::{Role, StaffUser};
use rand::RngCore;

use crate::error::ApiError;
use crate::lang::Lang;
use crate::state::AppState;

/// How long a sign-in lasts.
pub const RESIDENT_SESSION_SECS: i64 = 30 * 24 * 3600;
pub const STAFF_SESSION_SECS: i64 = 12 * 3600;

/// An authenticated caller of any role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub subject_id: String,
    pub role: Role,
    pub token: String,
}

/// A signed-in resident.
#[derive(Debug, Clone)]
pub struct Resident(pub Caller);

/// A signed-in staff member (inspector, health officer or administrator).
#[derive(Debug, Clone)]
pub struct Staff(pub Caller);

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let lang = crate::lang::asked(parts);
        let token = bearer(parts).ok_or_else(|| ApiError::unauthorized().lang(lang))?;
        let session = state
            .store
            .session(&token, state.clock.now())
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::unauthorized().lang(lang))?;
        Ok(Caller {
            subject_id: session.subject_id,
            role: session.role,
            token,
        })
    }
}

impl FromRequestParts<AppState> for Resident {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.role != Role::Resident {
            let lang = crate::lang::asked(parts);
            return Err(ApiError::forbidden().lang(lang));
        }
        Ok(Self(caller))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.role.is_staff() {
            let lang = crate::lang::asked(parts);
            return Err(ApiError::forbidden().lang(lang));
        }
        Ok(Self(caller))
    }
}

impl Staff {
    /// Refuses unless the staff member has one of `roles`.
    pub fn require(&self, roles: &[Role], lang: Lang) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden().lang(lang))
        }
    }
}

/// A fresh bearer token: 256 random bits, base64url.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An Argon2id hash in PHC string form.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Why a staff sign-in did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum StaffSignInError {
    #[error("wrong username or password")]
    WrongCredentials,
    /// Too many wrong passwords for this username or from this address: come back then.
    #[error("too many failed sign-ins ({limit}); retry at {retry_at}")]
    Throttled {
        limit: &'static str,
        retry_at: jiff::Timestamp,
    },
    /// Every password check is taken; retry shortly.
    #[error("too many password checks at once")]
    Busy,
    #[error(transparent)]
    Store(#[from] propusk_store::StoreError),
    #[error("the password check failed: {0}")]
    Check(#[from] tokio::task::JoinError),
}

/// Checks a staff member's username and password, for the API and the officers' pages alike:
/// past the guards for the username and the client address (exponential backoff after wrong
/// passwords, charged before the check so that simultaneous guesses are each counted), and
/// one of a bounded number of password checks at once. An unknown username costs the same
/// time as a known one.
pub async fn sign_in_staff(
    state: &AppState,
    username: &str,
    password: &str,
    client: std::net::IpAddr,
) -> Result<StaffUser, StaffSignInError> {
    let now = state.clock.now();
    let username = username.trim();
    let client = client.to_string();
    let guards = state.staff_login.limits.guards(username, &client);
    if let Err(throttled) = state.store.admit_attempt(&guards, now).await? {
        return Err(StaffSignInError::Throttled {
            limit: throttled.limit,
            retry_at: throttled.retry_at,
        });
    }
    let Some(turn) = state.staff_login.hash_turn().await else {
        // Nothing was checked: the attempt is not held against anyone.
        state.store.attempt_succeeded(&guards).await?;
        return Err(StaffSignInError::Busy);
    };
    let user = state.store.staff_by_username(username).await?;
    let stored = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        verify_password(&password, &stored)
    })
    .await?;
    match user.filter(|_| ok) {
        Some(user) => {
            state.store.attempt_succeeded(&guards).await?;
            Ok(user)
        }
        None => Err(StaffSignInError::WrongCredentials),
    }
}

/// A hash to check against when the username is unknown, so the answer takes as long.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        hash_password("not a real password").expect("Argon2 hashes a constant password")
    })
}

/// A readable random password for `propusk user add` when none is given.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}
