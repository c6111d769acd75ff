//! A resident's passes: ask for one, list, show, QR images, cancel.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use propusk_core::domain::GeoPoint;
use propusk_core::issuance::{PassRequest, Refusal};
use propusk_store::{PassRecord, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::app::passes::{self, CancelFailure, Canceller, Channel, IssueFailure, PassStatus};
use crate::auth::{Caller, Resident};
use crate::error::{ApiError, ApiResult};
use crate::qr;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/passes", post(create).get(list))
        .route("/api/v1/passes/{id}", get(show).delete(cancel))
        .route("/api/v1/passes/{id}/qr.svg", get(qr_svg))
        .route("/api/v1/passes/{id}/qr.png", get(qr_png))
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
        "status": PassStatus::of(pass, now).as_str(),
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
    pub fn into_request(self) -> ApiResult<PassRequest> {
        let valid_from = match self.valid_from.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(propusk_core::domain::parse_instant(s).map_err(|e| {
                ApiError::localized(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    e.localized(),
                )
                .with("field", "valid_from")
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

pub fn refusal_error(refusal: Refusal) -> ApiError {
    let mut err = ApiError::localized(
        StatusCode::UNPROCESSABLE_ENTITY,
        refusal.code.as_str(),
        refusal.message,
    );
    if let Some(field) = refusal.field {
        err = err.with("field", field);
    }
    if let Some(next) = refusal.next_possible_at {
        err = err.with("next_possible_at", next.to_string());
    }
    err
}

/// The problem+json answer for a pass not issued.
fn issue_error(failure: IssueFailure) -> ApiError {
    match failure {
        IssueFailure::Refused(refusal) => refusal_error(refusal),
        IssueFailure::UnknownResident => ApiError::unauthorized(),
        IssueFailure::Store(e) => e.into(),
    }
}

async fn create(
    State(state): State<AppState>,
    Resident(caller): Resident,
    Body(input): Body<PassInput>,
) -> ApiResult<Response> {
    let request = input.into_request()?;
    let pass = passes::issue(&state, &caller.subject_id, request, Channel::Api)
        .await
        .map_err(issue_error)?;
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

fn pass_not_found() -> ApiError {
    ApiError::not_found("pass_not_found", "Пропуск", "Pass")
}

/// The caller's own pass; someone else's is "not found", never "forbidden", so
/// that pass ids cannot be probed.
async fn own_pass(state: &AppState, caller: &Caller, id: &str) -> ApiResult<PassRecord> {
    let pass = state.store.pass(id).await?.ok_or_else(pass_not_found)?;
    if pass.resident_id != caller.subject_id {
        return Err(pass_not_found());
    }
    Ok(pass)
}

async fn show(
    State(state): State<AppState>,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let pass = own_pass(&state, &caller, &id).await?;
    Ok(Json(pass_json(&pass, state.clock.now())))
}

async fn qr_svg(
    State(state): State<AppState>,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let pass = own_pass(&state, &caller, &id).await?;
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
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let pass = own_pass(&state, &caller, &id).await?;
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
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let by = match caller.role {
        Role::Resident => Canceller::Holder {
            resident_id: caller.subject_id,
        },
        Role::Admin => Canceller::Administrator {
            staff_id: caller.subject_id,
        },
        _ => return Err(ApiError::forbidden()),
    };
    match passes::cancel(&state, &id, by).await {
        Ok(pass) => Ok(Json(pass_json(&pass, state.clock.now()))),
        Err(CancelFailure::AlreadyCancelled) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_cancelled",
            "Этот пропуск уже отменён.",
            "This pass is already cancelled.",
        )),
        Err(CancelFailure::NotFound) => Err(pass_not_found()),
        Err(CancelFailure::Store(e)) => Err(e.into()),
    }
}
