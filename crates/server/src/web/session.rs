//! Web sessions and CSRF protection.
//!
//! A signed-in browser holds the same kind of session token as an API client,
//! in an HttpOnly, SameSite=Lax cookie (Secure behind TLS). Every form carries a
//! CSRF token:
//!
//! - **Signed in** (a resident's session, an officer's session on `/health`, a patient's
//!   device on `/patient`): the token is derived from that credential (SHA-256 of a label
//!   and the credential), so it is bound to the session, changes at every sign-in, and
//!   cannot be made by anyone who cannot read the HttpOnly credential.
//! - **Not signed in** (the sign-in forms): the token must equal the `propusk_csrf`
//!   cookie (double submit), which the server makes: a value the client chose in another
//!   shape is replaced, not believed.

use axum::extract::FromRequestParts;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use propusk_store::Session;

use crate::auth::new_token;
use crate::lang::Lang;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "propusk_session";
pub const CSRF_COOKIE: &str = "propusk_csrf";
pub use crate::lang::LANG_COOKIE;

/// What a page needs to know about the browser asking.
pub struct WebCtx {
    pub lang: Lang,
    pub csrf: String,
    new_csrf: bool,
    pub session: Option<(String, Session)>,
    secure: bool,
    set_cookies: Vec<String>,
}

pub use crate::cookies::cookie;

impl FromRequestParts<AppState> for WebCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = crate::lang::current();
        let headers = &parts.headers;
        let (csrf, new_csrf) = match credential(parts.uri.path(), headers) {
            Some(credential) => (bound_csrf(credential), false),
            None => match cookie(headers, CSRF_COOKIE).filter(|c| is_token(c)) {
                Some(c) => (c.to_string(), false),
                None => (new_token(), true),
            },
        };
        let session = match cookie(headers, SESSION_COOKIE) {
            Some(token) => match state.store.session(token, state.clock.now()).await {
                Ok(Some(s)) => Some((token.to_string(), s)),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "session lookup failed");
                    None
                }
            },
            None => None,
        };
        Ok(Self {
            lang,
            csrf,
            new_csrf,
            session,
            secure: state.behind_tls,
            set_cookies: Vec::new(),
        })
    }
}

impl WebCtx {
    /// Whether a submitted form's CSRF field matches the cookie.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        !self.new_csrf && constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes())
    }

    fn attrs(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "; Path=/; HttpOnly; SameSite=Lax"
        }
    }

    pub fn set_session(&mut self, token: &str, max_age: i64) {
        self.set_cookies.push(format!(
            "{SESSION_COOKIE}={token}; Max-Age={max_age}{}",
            self.attrs()
        ));
    }

    pub fn clear_session(&mut self) {
        self.set_cookies
            .push(format!("{SESSION_COOKIE}=; Max-Age=0{}", self.attrs()));
    }

    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        self.set_cookies.push(format!(
            "{LANG_COOKIE}={}; Max-Age=31536000{}",
            lang.code(),
            self.attrs()
        ));
    }

    /// Adds the cookies this request decided on to a response.
    pub fn finish(self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        let mut cookies = self.set_cookies;
        if self.new_csrf {
            let secure = if self.secure { "; Secure" } else { "" };
            cookies.push(format!(
                "{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
                self.csrf
            ));
        }
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                response.headers_mut().append(SET_COOKIE, v);
            }
        }
        response
    }
}

/// The credential a page at `path` acts under, if the browser holds one: the officer's
/// session on the officer's pages, the device on the patient's, the resident's session
/// elsewhere.
fn credential<'a>(path: &str, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = if path == "/health" || path.starts_with("/health/") {
        "propusk_health"
    } else if path == "/patient" || path.starts_with("/patient/") {
        "propusk_device"
    } else {
        SESSION_COOKIE
    };
    cookie(headers, name).filter(|c| !c.is_empty())
}

/// The CSRF token of a signed-in browser: bound to its credential.
fn bound_csrf(credential: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("propusk csrf v1\0{credential}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Whether a cookie has the shape of a token this server makes (256 bits, base64url).
fn is_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
