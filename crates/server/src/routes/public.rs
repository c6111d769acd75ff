//! What anyone may read: health, metrics, the published keys, the regime in force,
//! the API description. (The revocation list is `revocations`.)

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use propusk_core::policy::{MaxDuration, Quota, Regime};
use propusk_token::Jwks;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ApiResult};
use crate::openapi::{api_routes, problems};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[healthz], [readyz], [metrics], [keys], [regime], [openapi]]
}

/// Liveness
///
/// **Role:** public.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "The process is up.", content_type = "text/plain",
        body = String, example = "ok")))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness
///
/// **Role:** public. Ready when the database answers within 1.5 s and a request slot is
/// free; otherwise 503 with the reason, so that a load balancer sends work to another node.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve.", content_type = "text/plain", body = String),
        (status = 503, description = "Not ready (e.g. the database is unreachable), or `overloaded`.",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
            content((String = "text/plain"), (crate::error::Problem = "application/problem+json"))),
    ))]
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

/// Prometheus metrics
///
/// **Role:** public.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format.",
        content_type = "text/plain; version=0.0.4", body = String)))]
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Public keys that sign passes (JWKS)
///
/// **Role:** public. Match a token's `kid` header to a key's `kid`.
#[utoipa::path(get, path = "/.well-known/propusk/keys", tag = "verification", operation_id = "getKeys",
    responses((status = 200, description = "The key set.",
        content((Jwks = "application/json"), (Jwks = "application/jwk-set+json")))))]
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

/// A name in Russian and English.
#[derive(Serialize, ToSchema)]
pub struct Names {
    #[schema(examples("Покупка продуктов или лекарств"))]
    ru: String,
    #[schema(examples("Grocery or pharmacy"))]
    en: String,
}

impl Names {
    pub(super) fn of(name: &propusk_core::Localized) -> Self {
        Self {
            ru: name.ru.clone(),
            en: name.en.clone(),
        }
    }
}

/// At most `count` passes per window.
#[derive(Serialize, ToSchema)]
#[schema(as = Limit)]
pub struct LimitView {
    #[schema(minimum = 1)]
    count: u32,
    /// `day`, `week` (Monday–Sunday), `month` — calendar periods in the regime's time
    /// zone — or a rolling window `<N>d` / `<N>h` (at most 31 days).
    #[schema(pattern = "^(day|week|month|[0-9]+[dh])$", examples("day", "7d"))]
    per: String,
}

impl LimitView {
    fn of(quota: &Quota) -> Self {
        Self {
            count: quota.count(),
            per: quota.window().as_toml(),
        }
    }
}

/// Allowed start hours, local time in the regime's time zone; may wrap past midnight.
#[derive(Serialize, ToSchema)]
#[schema(as = Hours)]
pub struct HoursView {
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$", examples("08:00"))]
    from: String,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$", examples("22:00"))]
    to: String,
}

/// One purpose of a regime and its rules.
#[derive(Serialize, ToSchema)]
#[schema(as = Purpose)]
pub struct PurposeView {
    #[schema(examples("shopping"))]
    id: String,
    /// The digit to send by SMS.
    #[schema(minimum = 1, maximum = 9)]
    sms_code: u8,
    name: Names,
    /// Maximum (and default) duration; null when the pass lasts until the end of the day.
    #[schema(minimum = 1)]
    max_minutes: Option<u32>,
    /// The pass is valid until the end of the local day.
    until_end_of_day: bool,
    quota: Option<LimitView>,
    hours: Option<HoursView>,
    /// Destination at most this far from home (needs `destination`).
    max_distance_m: Option<u32>,
    /// `employer_inn`, `employer_name` or `vehicle_plate`.
    required_fields: Vec<&'static str>,
    /// No quota, no hours, not counted in the regime cap (emergency).
    always_allowed: bool,
}

/// A regime: the rules of one legal act. `cap` limits passes across all purposes except
/// always-allowed ones.
#[derive(Serialize, ToSchema)]
#[schema(as = Regime)]
pub struct RegimeView {
    #[schema(examples("moscow-2020"))]
    id: String,
    name: Names,
    /// The legal act the rules come from.
    legal_act: String,
    /// Issuing authority code, the token's `iss`.
    #[schema(examples("RU-MOW"))]
    issuer: String,
    /// IANA name.
    #[schema(examples("Europe/Moscow"))]
    time_zone: String,
    #[schema(value_type = String, format = DateTime)]
    effective_from: Timestamp,
    /// Exclusive end; null when open-ended.
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
    cap: Option<LimitView>,
    /// The ceiling: at most this many passes per resident may start on one local day, of
    /// any purpose, always-allowed and cancelled ones included.
    #[schema(minimum = 1)]
    max_passes_per_day: u32,
    purposes: Vec<PurposeView>,
}

impl RegimeView {
    /// The regime as clients see it.
    pub fn of(r: &Regime) -> Self {
        let purposes = r
            .purposes()
            .iter()
            .map(|p| {
                let (max_minutes, until_end_of_day) = match p.duration() {
                    MaxDuration::Minutes(m) => (Some(m), false),
                    MaxDuration::UntilEndOfDay => (None, true),
                };
                PurposeView {
                    id: p.id().as_str().to_string(),
                    sms_code: p.sms_code(),
                    name: Names::of(p.name()),
                    max_minutes,
                    until_end_of_day,
                    quota: p.quota().map(LimitView::of),
                    hours: p.hours().map(|h| HoursView {
                        from: h.from().to_string(),
                        to: h.to().to_string(),
                    }),
                    max_distance_m: p.max_distance_m(),
                    required_fields: p.required_fields().iter().map(|f| f.as_str()).collect(),
                    always_allowed: p.always_allowed(),
                }
            })
            .collect();
        Self {
            id: r.id().as_str().to_string(),
            name: Names::of(r.name()),
            legal_act: r.legal_act().title.clone(),
            issuer: r.issuer().as_str().to_string(),
            time_zone: r.time_zone_name().to_string(),
            effective_from: r.effective_from(),
            until: r.until(),
            cap: r.cap().map(LimitView::of),
            max_passes_per_day: r.max_passes_per_day(),
            purposes,
        }
    }
}

problems!(NoRegimeInForce {
    404 => "`no_regime_in_force`: no regime is in force at this moment.", ["no_regime_in_force"];
});

/// The regime in force now
///
/// **Role:** public. Names are in the caller's language (`Accept-Language`).
#[utoipa::path(get, path = "/api/v1/regime", tag = "regimes", operation_id = "getRegime",
    responses(
        (status = 200, description = "The rules that apply to passes issued now.", body = RegimeView),
        NoRegimeInForce,
    ))]
async fn regime(State(state): State<AppState>) -> ApiResult<Json<RegimeView>> {
    let book = state.regimes();
    let regime = book.in_force(state.clock.now()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_regime_in_force",
            "Сейчас не действует ни один режим.",
            "No regime is in force now.",
        )
    })?;
    Ok(Json(RegimeView::of(regime)))
}

/// This document
///
/// **Role:** public.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", operation_id = "openapi",
    responses((status = 200, description = "OpenAPI 3.1.", body = serde_json::Value)))]
async fn openapi() -> Response {
    /// Made once from the code, on first request.
    static DOCUMENT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(crate::openapi::document_text);
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
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
