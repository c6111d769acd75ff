//! The caller's language: Russian unless they ask for English. It is chosen once per request,
//! by [`choose`] (`?lang=`, then the pages' language cookie, then `Accept-Language`), and
//! every error and page of that request speaks it: [`current`] reads it anywhere in the
//! request's task, [`AskedLang`] as a handler argument. The language itself is the core's
//! [`Lang`].

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use propusk_core::Localized;

pub use propusk_core::Lang;

/// The cookie the pages' language switch sets.
pub const LANG_COOKIE: &str = "propusk_lang";

/// The first of Russian or English in an Accept-Language header, by order of appearance
/// (quality values are rarely used to put a later entry first).
pub fn from_accept_language(header: &str) -> Option<Lang> {
    header
        .split(',')
        .find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
}

/// `text.get(lang)`: a [`Localized`] text in the caller's language.
pub trait Pick {
    fn get(&self, lang: Lang) -> &str;
}

impl Pick for Localized {
    fn get(&self, lang: Lang) -> &str {
        lang.pick(self)
    }
}

/// The language a request asks for, as a handler argument: `AskedLang(lang): AskedLang`.
#[derive(Debug, Clone, Copy)]
pub struct AskedLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for AskedLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AskedLang(current()))
    }
}

tokio::task_local! {
    /// The language [`choose`] picked for the request this task serves.
    static REQUEST_LANG: Lang;
}

/// Middleware, outermost: picks the request's language once and serves the request in it.
pub async fn choose(request: Request, next: Next) -> Response {
    let lang = asked_from(request.uri(), request.headers());
    REQUEST_LANG.scope(lang, next.run(request)).await
}

/// The language of the request this task serves; Russian outside a request (jobs, tools).
pub fn current() -> Lang {
    REQUEST_LANG.try_with(|lang| *lang).unwrap_or_default()
}

/// The language a request asks for: `?lang=`, then the pages' language cookie (set by the
/// language switch), then `Accept-Language`, then Russian.
pub fn asked_from(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
    let from_query = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .and_then(Lang::parse);
    let from_cookie = || crate::cookies::cookie(headers, LANG_COOKIE).and_then(Lang::parse);
    let from_header = || {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
    };
    from_query
        .or_else(from_cookie)
        .or_else(from_header)
        .unwrap_or_default()
}
