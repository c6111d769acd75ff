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
use propusk_store::Role;
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
