//! What anyone may read: health, metrics, the published keys, the regime in force,
//! the API description. (The revocation list is `revocations`.)

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use propusk_core::policy::{MaxDuration, Regime};
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/propusk/keys", get(keys))
        .route("/api/v1/regime", get(regime))
        .route("/api/v1/openapi.json", get(openapi))
}

/// Ready when the database answers within 1.5 s and a request slot is free; otherwise 503
/// with the reason, so that a load balancer sends work to another node.
async fn readyz(State(state): State<AppState>) -> Response {
    let in_flight = &state.in_flight;
    let load = format!(
        "{} of {} requests in flight",
        in_flight.current(),
        in_flight.max()
    );
    if let Err(e) = state
        .store
        .ping(std::time::Duration::from_millis(1500))
        .await
    {
        tracing::warn!(error = %e, "not ready");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            format!("not ready: database unavailable; {load}\n"),
        )
            .into_response();
    }
    if in_flight.saturated() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            format!("not ready: saturated; {load}\n"),
        )
            .into_response();
    }
    (StatusCode::OK, format!("ready; {load}\n")).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn keys(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        state.keys.jwks_json.clone(),
    )
        .into_response()
}

/// The regime as clients see it.
pub fn regime_json(r: &Regime) -> Value {
    let purposes: Vec<Value> = r
        .purposes()
        .iter()
        .map(|p| {
            let (max_minutes, until_end_of_day) = match p.duration() {
                MaxDuration::Minutes(m) => (Some(m), false),
                MaxDuration::UntilEndOfDay => (None, true),
            };
            json!({
                "id": p.id().as_str(),
                "sms_code": p.sms_code(),
                "name": {"ru": p.name().ru, "en": p.name().en},
                "max_minutes": max_minutes,
                "until_end_of_day": until_end_of_day,
                "quota": p.quota().map(|q| json!({"count": q.count(), "per": q.window().as_toml()})),
                "hours": p.hours().map(|h| json!({"from": h.from().to_string(), "to": h.to().to_string()})),
                "max_distance_m": p.max_distance_m(),
                "required_fields": p.required_fields().iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                "always_allowed": p.always_allowed(),
            })
        })
        .collect();
    json!({
        "id": r.id().as_str(),
        "name": {"ru": r.name().ru, "en": r.name().en},
        "legal_act": r.legal_act().title,
        "issuer": r.issuer().as_str(),
        "time_zone": r.time_zone_name(),
        "effective_from": r.effective_from().to_string(),
        "until": r.until().map(|u| u.to_string()),
        "cap": r.cap().map(|q| json!({"count": q.count(), "per": q.window().as_toml()})),
        "max_passes_per_day": r.max_passes_per_day(),
        "purposes": purposes,
    })
}

async fn regime(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let book = state.regimes();
    let regime = book.in_force(state.clock.now()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_regime_in_force",
            "Сейчас не действует ни один режим.",
            "No regime is in force now.",
        )
    })?;
    Ok(Json(regime_json(regime)))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi.json"),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Такого адреса нет.",
        "No such address.",
    )
}
