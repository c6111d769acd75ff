//! The caller's language: Russian unless they ask for English (`?lang=` or
//! `Accept-Language`). The language itself is the core's [`Lang`]; this module reads it from
//! a request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use propusk_core::Localized;

pub use propusk_core::Lang;

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

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AskedLang(asked(parts)))
    }
}

/// The language a request asks for: `?lang=`, then `Accept-Language`, then Russian.
pub fn asked(parts: &Parts) -> Lang {
    asked_from(&parts.uri, &parts.headers)
}

/// [`asked`] from a request's URI and headers.
pub fn asked_from(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
    let from_query = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .and_then(Lang::parse);
    let from_header = || {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
    };
    from_query.or_else(from_header).unwrap_or_default()
}
