//! A resident's passes: ask for one, list, show, QR images, cancel.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use propusk_core::domain::GeoPoint;
use propusk_core::issuance::{PassRequest, Refusal};
use propusk_store::{Actor, CancelOutcome, IssueError, IssueRequest, PassRecord, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::{Caller, Resident};
use crate::error::{ApiError, ApiResult};
use crate::lang::{AskedLang, Lang};
use crate::metrics::Metrics;
use crate::qr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/passes", post(create).get(list))
        .route("/api/v1/passes/{id}", get(show).delete(cancel))
        .route("/api/v1/passes/{id}/qr.svg", get(qr_svg))
        .route("/api/v1/passes/{id}/qr.png", get(qr_png))
}

/// Where a pass stands at `now`.
pub fn status(pass: &PassRecord, now: jiff::Timestamp) -> &'static str {
    if pass.cancelled_at.is_some() {
        "cancelled"
    } else if now < pass.valid_from {
        "upcoming"
    } else if now >= pass.valid_until {
        "expired"
    } else {
        "active"
    }
}

pub fn pass_json(pass: &PassRecord, now: jiff::Timestamp) -> Value {
    let short = pass
        .short_code
        .parse::<propusk_token::ShortCode>()
        .map(|c| c.to_string())
        .unwrap_or(pass.short_code.clone());
    json!({
        "id": pass.id,
        "short_code": short,
        "token": pass.token,
        "purpose": pass.purpose,
        "regime": pass.regime_id,
        "valid_from": pass.valid_from.to_string(),
        "valid_until": pass.valid_until.to_string(),
        "issued_at": pass.issued_at.to_string(),
        "status": status(pass, now),
        "cancelled_at": pass.cancelled_at.map(|t| t.to_string()),
        "fields": pass.fields,
    })
}

/// A pass request as sent: the purpose, optional start and duration, and the
/// purpose's own fields at the top level (e.g. `employer_inn`).
#[derive(Deserialize)]
pub struct PassInput {
    pub purpose: String,
    pub valid_from: Option<String>,
    pub duration_minutes: Option<u32>,
    pub destination: Option<GeoPoint>,
    #[serde(flatten)]
    pub fields: BTreeMap<String, Value>,
}

impl PassInput {
    pub fn into_request(self, lang: Lang) -> ApiResult<PassRequest> {
        let valid_from = match self.valid_from.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(propusk_core::domain::parse_instant(s).map_err(|e| {
                ApiError::localized(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    e.localized(),
                )
                .with("field", "valid_from")
                .lang(lang)
            })?),
        };
        let fields = self
            .fields
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect();
        Ok(PassRequest {
            purpose: self.purpose,
            valid_from,
            duration_minutes: self.duration_minutes,
            fields,
            destination: self.destination,
        })
    }
}

pub fn refusal_error(refusal: Refusal, lang: Lang) -> ApiError {
    let mut err = ApiError::localized(
        StatusCode::UNPROCESSABLE_ENTITY,
        refusal.code.as_str(),
        refusal.message,
    )
    .lang(lang);
    if let Some(field) = refusal.field {
        err = err.with("field", field);
    }
    if let Some(next) = refusal.next_possible_at {
        err = err.with("next_possible_at", next.to_string());
    }
    err
}

/// Issues a pass through the store; shared by the API, the pages and SMS.
pub async fn issue(
    state: &AppState,
    resident_id: &str,
    request: PassRequest,
    channel: &'static str,
    lang: Lang,
) -> ApiResult<PassRecord> {
    let req = IssueRequest {
        resident_id: resident_id.to_string(),
        request,
        channel,
        now: state.clock.now(),
        regimes: state.regimes(),
        key: state.keys.signing.clone(),
    };
    match state.store.issue_pass(req).await {
        Ok(pass) => {
            Metrics::inc(&state.metrics.passes_issued);
            Ok(pass)
        }
        Err(IssueError::Refused(refusal)) => {
            Metrics::inc(&state.metrics.passes_refused);
            Err(refusal_error(refusal, lang))
        }
        Err(IssueError::UnknownResident) => Err(ApiError::unauthorized().lang(lang)),
        Err(IssueError::Store(e)) => Err(e.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Body(input): Body<PassInput>,
) -> ApiResult<Response> {
    let request = input.into_request(lang)?;
    let pass = issue(&state, &caller.subject_id, request, "api", lang).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/passes/{}", pass.id))],
        Json(pass_json(&pass, state.clock.now())),
    )
        .into_response())
}

async fn list(State(state): State<AppState>, Resident(caller): Resident) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let passes = state.store.passes_of(&caller.subject_id, 200).await?;
    Ok(Json(
        json!({"passes": passes.iter().map(|p| pass_json(p, now)).collect::<Vec<_>>()}),
    ))
}

fn pass_not_found(lang: Lang) -> ApiError {
    ApiError::not_found("pass_not_found", "Пропуск", "Pass").lang(lang)
}

/// The caller's own pass; someone else's is "not found", never "forbidden", so
/// that pass ids cannot be probed.
async fn own_pass(
    state: &AppState,
    caller: &Caller,
    id: &str,
    lang: Lang,
) -> ApiResult<PassRecord> {
    let pass = state
        .store
        .pass(id)
        .await?
        .ok_or_else(|| pass_not_found(lang))?;
    if pass.resident_id != caller.subject_id {
        return Err(pass_not_found(lang));
    }
    Ok(pass)
}

async fn show(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let pass = own_pass(&state, &caller, &id, lang).await?;
    Ok(Json(pass_json(&pass, state.clock.now())))
}

async fn qr_svg(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let pass = own_pass(&state, &caller, &id, lang).await?;
    let svg = qr::render_svg(&pass.token).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}

async fn qr_png(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let pass = own_pass(&state, &caller, &id, lang).await?;
    let png = qr::render_png(&pass.token, 8).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
        .into_response())
}

/// The holder cancels their own pass; an administrator may revoke anyone's.
async fn cancel(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let actor = match caller.role {
        Role::Resident => Actor::Resident(caller.subject_id.clone()),
        Role::Admin => Actor::Staff {
            id: caller.subject_id.clone(),
            username: caller.subject_id.clone(),
        },
        _ => return Err(ApiError::forbidden().lang(lang)),
    };
    let reason = if caller.role == Role::Resident {
        "cancelled by holder"
    } else {
        "revoked by administrator"
    };
    let now = state.clock.now();
    match state.store.cancel_pass(&id, &actor, reason, now).await? {
        CancelOutcome::Cancelled(pass) => {
            Metrics::inc(&state.metrics.passes_cancelled);
            Ok(Json(pass_json(&pass, now)))
        }
        CancelOutcome::AlreadyCancelled(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_cancelled",
            "Этот пропуск уже отменён.",
            "This pass is already cancelled.",
        )
        .lang(lang)),
        CancelOutcome::NotFound => Err(pass_not_found(lang)),
    }
}
