//! Overload protection: past a fixed number of requests in flight, new ones get
//! an immediate 503 with Retry-After instead of joining a queue, so that the
//! work already accepted keeps its latency and the server never collapses.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;

#[derive(Clone)]
pub struct Limiter {
    permits: Arc<Semaphore>,
    state: AppState,
}

impl Limiter {
    pub fn new(state: AppState) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(state.max_in_flight)),
            state,
        }
    }
}

pub async fn limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    Metrics::inc(&limiter.state.metrics.requests);
    // Health probes must answer even when the server is saturated.
    if matches!(request.uri().path(), "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    match limiter.permits.clone().try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(_) => {
            Metrics::inc(&limiter.state.metrics.overloaded);
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Сервис перегружен. Повторите через секунду.",
                "The service is at capacity. Retry in a second.",
            )
            .retry_after(1)
            .into_response()
        }
    }
}
