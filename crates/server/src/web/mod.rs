//! The pages: the resident portal at `/` (server-rendered HTML that works
//! without JavaScript; the script only adds a countdown and "use my location"),
//! and the security headers every response carries.

pub(crate) mod dates;
pub(crate) mod errors;
pub(crate) mod form;
mod health;
mod i18n;
mod inspector;
mod patient;
mod patient_app;
mod pwa;
mod resident;
mod session;
mod trust;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use i18n::Texts;
pub use session::WebCtx;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(resident::router())
        .merge(inspector::router())
        .merge(health::router())
        .merge(patient::router())
        .merge(patient_app::router())
        .merge(trust::router())
        .route(
            "/static/site.css",
            get(|| {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../../static/site.css"),
                )
            }),
        )
        .route(
            "/static/site.js",
            get(|| {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../../static/site.js"),
                )
            }),
        )
        .route(
            "/static/favicon.svg",
            get(|| asset("image/svg+xml", include_str!("../../static/favicon.svg"))),
        )
        // Browsers ask for this by habit; the pages name the SVG icon.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/static/favicon.svg") }),
        )
}

/// Where a "back" link or redirect may lead: a local page of this service, nothing else.
/// Only plain path characters are accepted (no backslash, no escape, no second slash at the
/// start, no scheme), under one of the service's page sections; anything else is "/".
pub fn local_back(back: &str) -> &str {
    const SECTIONS: &[&str] = &[
        "",
        "sign-in",
        "profile",
        "passes",
        "health",
        "patient",
        "inspector",
        "help",
        "privacy",
        "accessibility",
        "setup",
    ];
    let plain = back.starts_with('/')
        && !back.starts_with("//")
        && back
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        && !back.split('/').any(|segment| segment == "..");
    let section = back.trim_start_matches('/').split('/').next().unwrap_or("");
    if plain && SECTIONS.contains(&section) {
        back
    } else {
        "/"
    }
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// No inline script or style anywhere; nothing may frame the pages.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; media-src 'self' blob: mediastream:; worker-src 'self'; manifest-src 'self'; \
frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), geolocation=(self), microphone=()"),
    );
    // Personal data is never cached: everything that does not say otherwise (static files,
    // published keys) is `no-store`.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.behind_tls {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::local_back;

    #[test]
    fn back_links_stay_on_this_site() {
        for ok in [
            "/",
            "/passes",
            "/passes/0f8c2a7e-1b2c",
            "/health/cases",
            "/patient",
            "/privacy",
        ] {
            assert_eq!(local_back(ok), ok);
        }
        for bad in [
            "//evil.com",
            "/\\evil.com",
            "/\tevil.com",
            "/%09/evil.com",
            "https://evil.com",
            "/%5Cevil.com",
            "/evil.com",
            "/passes/../../x",
            "",
            "passes",
            "/passes?x=//a",
        ] {
            assert_eq!(local_back(bad), "/", "{bad:?}");
        }
    }
}
