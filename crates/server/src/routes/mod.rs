//! The HTTP surface: one router per audience, merged here.

mod admin;
mod auth;
mod body;
mod me;
mod passes;
mod public;
mod verify;

use axum::middleware;
use axum::Router;

pub use body::Body;

use crate::overload::{self, Limiter};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let limiter = Limiter::new(state.clone());
    Router::new()
        .merge(public::router())
        .merge(auth::router())
        .merge(me::router())
        .merge(passes::router())
        .merge(verify::router())
        .merge(admin::router())
        .fallback(public::not_found)
        .layer(middleware::from_fn_with_state(limiter, overload::limit))
        .with_state(state)
}
