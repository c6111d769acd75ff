//! Who is calling: bearer tokens resolved to sessions, as extractors, so that a
//! handler's signature says who may call it ([`Resident`], [`Staff`]).

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use propusk_store::{Role, StaffUser};
use rand::RngCore;

use crate::error::ApiError;
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
        let token = bearer(parts).ok_or_else(ApiError::unauthorized)?;
        let session = state
            .store
            .session(&token, state.clock.now())
            .await
            .map_err(ApiError::from)?
            .ok_or_else(ApiError::unauthorized)?;
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
            return Err(ApiError::forbidden());
        }
        Ok(Self(caller))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if !caller.role.is_staff() {
            return Err(ApiError::forbidden());
        }
        Ok(Self(caller))
    }
}

impl Staff {
    /// Refuses unless the staff member has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// Staff who check passes: an inspector or an administrator.
#[derive(Debug, Clone)]
pub struct Checker(pub Caller);

impl FromRequestParts<AppState> for Checker {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        staff.require(&[Role::Inspector, Role::Admin])?;
        Ok(Self(staff.0))
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

/// The most memory a stored hash may ask for (Argon2's `m`, in KiB): far above our own
/// 19 MiB, far below what would let a planted hash exhaust the server.
const MAX_ARGON2_KIB: u32 = 256 * 1024;

/// Checks `password` against a PHC Argon2 hash. The ~19 MiB Argon2 works in is this thread's
/// own, allocated once and reused: allocating and freeing it at every check left the
/// allocator holding hundreds of megabytes after a burst of sign-ins (see
/// [`crate::workers`]).
pub fn verify_password(password: &str, hash: &str) -> bool {
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(parsed.algorithm),
        argon2::Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    if params.m_cost() > MAX_ARGON2_KIB {
        tracing::error!(
            m_cost = params.m_cost(),
            "a stored password hash asks for too much memory"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let hashed = MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            &mut memory[..blocks],
        )
    });
    hashed.is_ok() && constant_time_eq(&out, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    let user = state.store.staff_by_username(username).await?;
    let stored = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let password = password.to_string();
    let checked = state
        .staff_login
        .hashers
        .run(move || verify_password(&password, &stored))
        .await;
    let Ok(ok) = checked else {
        // Nothing was checked: the attempt is not held against anyone.
        state.store.attempt_succeeded(&guards).await?;
        return Err(StaffSignInError::Busy);
    };
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
/// The shortest and longest password a staff account may be given (characters).
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 200;

/// Whether `username` (trimmed) may name a staff account: 1 to 64 letters, digits and
/// `.`, `_`, `-`, `@`.
pub fn username_ok(username: &str) -> bool {
    !username.is_empty()
        && username.chars().count() <= 64
        && username
            .chars()
            .all(|c| c.is_alphanumeric() || "._-@".contains(c))
}

pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // A hash made with other parameters (here a small memory cost) verifies too.
        let salt = SaltString::generate(&mut OsRng);
        let small = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"x", &salt)
        .unwrap()
        .to_string();
        assert!(verify_password("x", &small));
        assert!(!verify_password("y", &small));
        // And the larger one again on the same thread, after the small one.
        assert!(verify_password("correct horse battery", &hash));
    }
}
