//! Web sessions and CSRF protection.
//!
//! A signed-in browser holds the same kind of session token as an API client,
//! in an HttpOnly, SameSite=Lax cookie (Secure behind TLS). Every form carries a
//! CSRF token that must equal the `propusk_csrf` cookie (double submit): another
//! site can make a browser send the cookie but cannot read it to fill the field.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use propusk_store::Session;

use crate::auth::new_token;
use crate::lang::Lang;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "propusk_session";
pub const CSRF_COOKIE: &str = "propusk_csrf";
pub const LANG_COOKIE: &str = "propusk_lang";

/// What a page needs to know about the browser asking.
pub struct WebCtx {
    pub lang: Lang,
    pub csrf: String,
    new_csrf: bool,
    pub session: Option<(String, Session)>,
    secure: bool,
    set_cookies: Vec<String>,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for WebCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let lang = match cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
            Some(lang) => lang,
            None => crate::lang::asked(parts),
        };
        let headers = &parts.headers;
        let (csrf, new_csrf) = match cookie(headers, CSRF_COOKIE).filter(|c| c.len() >= 32) {
            Some(c) => (c.to_string(), false),
            None => (new_token(), true),
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
