//! The HTTP surface: one router per audience, merged here.

mod admin;
mod auth;
mod checks;
mod device;
mod me;
mod monitoring;
mod passes;
mod public;
mod revocations;
mod sms;
mod test_clock;
mod verify;

use axum::middleware;
use axum::Router;

pub use crate::json_body::Body;

use crate::overload;
use crate::state::AppState;

/// The routes the OpenAPI document is made from ([`crate::openapi`]): each handler
/// documents itself with `#[utoipa::path]`.
pub fn documented() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .merge(public::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(passes::router())
        .merge(verify::router())
        .merge(checks::router())
        .merge(revocations::router())
        .merge(admin::router())
        .merge(sms::router())
        .merge(monitoring::router())
        .merge(device::router())
}

pub fn router(state: AppState) -> Router {
    let (documented, _) = documented().split_for_parts();
    let test_clock = match state.test_clock {
        true => test_clock::router(),
        false => Router::new(),
    };
    Router::new()
        .merge(test_clock)
        .merge(documented)
        .merge(crate::web::router())
        .fallback(public::not_found)
        // Bodies are bounded per route where they are read, before the overload slot.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            overload::admit,
        ))
        // Errors in the caller's format (problem+json or an HTML page), whoever made them.
        .layer(middleware::from_fn(crate::web::errors::uniform))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ))
        // Every layer and handler inside speaks the language chosen here.
        .layer(middleware::from_fn(crate::lang::choose))
        // Outermost: answers are compressed (gzip or br, as the client accepts) after
        // everything inside has read or rewritten them; what is already encoded (the
        // revocation pages, the apps' files), images and tiny bodies pass as they are.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}
