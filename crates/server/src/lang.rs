//! The caller's language: Russian unless they ask for English.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use propusk_core::Localized;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Ru => "ru",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("ru") => Some(Self::Ru),
            Some("en") => Some(Self::En),
            _ => None,
        }
    }

    /// The first of Russian or English in an Accept-Language header, by order of
    /// appearance (quality values are rarely used to put a later entry first).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .find_map(|part| Self::parse(part.split(';').next().unwrap_or("")))
    }
}

pub trait Pick {
    fn get(&self, lang: Lang) -> &str;
}

impl Pick for Localized {
    fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
            .and_then(Lang::parse);
        let from_header = || {
            parts
                .headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        };
        Ok(from_query.or_else(from_header).unwrap_or_default())
    }
}
