//! The HTTP surface: one router per audience, merged here.

mod admin;
mod auth;
mod body;
pub(crate) mod me;
mod monitoring;
pub(crate) mod passes;
mod public;
mod revocations;
mod sms;
mod verify;

use axum::middleware;
use axum::Router;

pub use auth::{code_text as otp_text, new_otp_code, open_session, otp_messages};
pub use body::Body;

use crate::overload::{self, Limiter};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let limiter = Limiter::new(state.clone());
    Router::new()
        .merge(public::router())
        .merge(revocations::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(passes::router())
        .merge(verify::router())
        .merge(admin::router())
        .merge(sms::router())
        .merge(monitoring::router())
        .merge(crate::web::router())
        .fallback(public::not_found)
        .layer(middleware::from_fn_with_state(limiter, overload::limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::security_headers,
        ))
        .with_state(state)
}
