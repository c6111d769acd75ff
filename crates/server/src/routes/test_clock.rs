//! The test clock: lets a browser test move this service's clock forward over HTTP, the way
//! the in-process tests call `Clock::advance`, so that a departure that takes twenty minutes
//! is seen in seconds. It exists only when `propusk serve --test-clock` asked for it, which
//! the service refuses unless it listens on a loopback address; it is not part of the
//! public API (not in the OpenAPI document) and is documented for testers in
//! `docs/monitoring-app.md`.
//!
//! - `GET /_test/clock` → `{"now": "…"}`
//! - `POST /_test/clock` with `{"advance_secs": N}` (0 to 31 days) moves the clock forward
//!   and then runs the monitoring sweep once at the new time, as the periodic job would have
//!   while that time passed (silences noticed, check-ins drawn, announced and judged). The
//!   clock never goes back.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::Body;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The most one call may move the clock: a quarantine's worth and a little.
const MAX_ADVANCE_SECS: i64 = 31 * 24 * 3600;

pub fn router() -> Router<AppState> {
    Router::new().route("/_test/clock", get(now).post(advance))
}

#[derive(Serialize)]
struct Now {
    now: String,
}

#[derive(Deserialize)]
struct Advance {
    advance_secs: i64,
}

async fn now(State(state): State<AppState>) -> Json<Now> {
    Json(Now {
        now: state.clock.now().to_string(),
    })
}

async fn advance(
    State(state): State<AppState>,
    Body(input): Body<Advance>,
) -> ApiResult<Json<Now>> {
    if !(0..=MAX_ADVANCE_SECS).contains(&input.advance_secs) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("advance_secs: от 0 до {MAX_ADVANCE_SECS}; часы идут только вперёд."),
            format!("advance_secs: 0 to {MAX_ADVANCE_SECS}; the clock only moves forward."),
        )
        .with("field", "advance_secs"));
    }
    state.clock.advance(input.advance_secs);
    crate::monitoring::sweep(&state).await?;
    Ok(Json(Now {
        now: state.clock.now().to_string(),
    }))
}
