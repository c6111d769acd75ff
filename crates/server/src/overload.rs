//! Overload protection: past a fixed number of requests in flight, new ones get an
//! immediate 503 with Retry-After instead of joining a queue, so that the work already
//! accepted keeps its latency and the server never collapses.
//!
//! A request takes its slot only once its body has been read — bounded per route
//! ([`body_limit`]) and within the edge's body deadline — so a client that sends its body
//! slowly, or not at all, holds a connection (which the edge bounds per client) but never a
//! slot that real work needs. Health probes take no slot: they must answer when the server
//! is saturated (and `/readyz` then says so).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;

/// The most requests served at once, and how many are being served now.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    max: usize,
}

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// Requests being served now.
    pub fn current(&self) -> usize {
        self.max - self.permits.available_permits()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether every slot is taken.
    pub fn saturated(&self) -> bool {
        self.permits.available_permits() == 0
    }
}

/// The largest oversized body read and dropped before the 413 (see [`admit`]).
const DRAIN_AT_MOST: u64 = 4 * 1024 * 1024;

/// Requests that never take a slot.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The most a request body may weigh, per route (by its template). Everything not named
/// here is a small form or JSON document.
pub fn body_limit(method: &Method, route: &str) -> usize {
    const KIB: usize = 1024;
    if method == Method::GET || method == Method::HEAD {
        // Nothing reads it, but a small one is no reason to refuse: a GET sent to a route
        // that only takes POST is answered 405 by the router, not 413 here.
        return 8 * KIB;
    }
    match route {
        // Camera pictures from the patient's pages, re-encoded before they are stored.
        "/patient/enroll" | "/patient/checkins/{id}" => crate::photo::MAX_UPLOAD + 64 * KIB,
        // Base64 photos (≤ 1 MB) and batches of up to 5,000 location reports.
        "/api/v1/device/enroll" | "/api/v1/device/challenges/{id}" | "/api/v1/device/locations" => {
            2 * KIB * KIB
        }
        // A regime's TOML source.
        "/api/v1/admin/regimes" => 256 * KIB,
        _ => 64 * KIB,
    }
}

pub async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    Metrics::inc(&state.metrics.requests);
    if is_probe(request.uri().path()) {
        return next.run(request).await;
    }
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_string(),
        |m| m.as_str().to_string(),
    );
    let limit = body_limit(request.method(), &route);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Read (and drop) a body that is not huge, so the client, still sending, reads
        // the answer instead of a reset connection; a huge one is cut off.
        if declared.is_some_and(|n| n <= DRAIN_AT_MOST) {
            let drain = Limited::new(request.into_body(), DRAIN_AT_MOST as usize).collect();
            let _ = tokio::time::timeout(state.edge.body_timeout, drain).await;
        }
        return too_large(limit).into_response();
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(state.edge.body_timeout, Limited::new(body, limit).collect());
    let bytes = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return too_large(limit).into_response()
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "request body could not be read");
            return ApiError::bad_request("the request body was cut off".into()).into_response();
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "Тело запроса не пришло за {} с. Повторите запрос.",
                    state.edge.body_timeout.as_secs()
                ),
                format!(
                    "The request body did not arrive within {} s. Send the request again.",
                    state.edge.body_timeout.as_secs()
                ),
            )
            .into_response()
        }
    };
    if let Err(dirty) = crate::edge::hygiene::check(&parts, &bytes) {
        return dirty.into_error().into_response();
    }
    let Ok(_permit) = state.in_flight.permits.clone().try_acquire_owned() else {
        Metrics::inc(&state.metrics.overloaded);
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Сервис перегружен. Повторите через секунду.",
            "The service is at capacity. Retry in a second.",
        )
        .retry_after(1)
        .into_response();
    };
    let handled = tokio::time::timeout(
        state.edge.request_timeout,
        next.run(Request::from_parts(parts, Body::from(bytes))),
    );
    match handled.await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(route, "a request ran past the request timeout");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "Запрос не успел выполниться. Проверьте, не выполнен ли он, и повторите через несколько секунд.",
                "The request did not finish in time. Check whether it took effect, then retry in a few seconds.",
            )
            .retry_after(5)
            .into_response()
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    let kib = limit.div_ceil(1024);
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("Запрос слишком большой: здесь принимается не больше {kib} КиБ."),
        format!("The request is too large: this address takes at most {kib} KiB."),
    )
    .with("max_bytes", limit)
}
