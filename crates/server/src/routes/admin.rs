//! Administration: loading regimes (they take effect at their `effective_from`,
//! with no restart) and revoking a resident's passes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use propusk_core::policy::parse_regime;
use propusk_store::{Actor, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/regimes", get(list_regimes).post(load_regime))
        .route(
            "/api/v1/admin/residents/{id}/revoke-passes",
            post(revoke_all),
        )
}

async fn list_regimes(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<Value>> {
    staff.require(&[Role::Admin])?;
    let now = state.clock.now();
    let book = state.regimes();
    let loaded: Vec<String> = state
        .store
        .regime_sources()
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let in_force = book.in_force(now).map(|r| r.id().as_str().to_string());
    let regimes: Vec<Value> = book
        .iter()
        .map(|r| {
            let id = r.id().as_str();
            json!({
                "id": id,
                "name": {"ru": r.name().ru, "en": r.name().en},
                "effective_from": r.effective_from().to_string(),
                "until": r.until().map(|u| u.to_string()),
                "source": if loaded.iter().any(|l| l == id) { "loaded" } else { "builtin" },
                "in_force": in_force.as_deref() == Some(id),
            })
        })
        .collect();
    Ok(Json(json!({"regimes": regimes})))
}

async fn load_regime(
    State(state): State<AppState>,
    staff: Staff,
    body: String,
) -> ApiResult<Response> {
    staff.require(&[Role::Admin])?;
    let regime = parse_regime(&body).map_err(|errors| {
        let list: Vec<Value> = errors
            .iter()
            .map(|e| json!({"line": e.line, "column": e.column, "detail": e.message}))
            .collect();
        let summary = errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_regime",
            format!("Файл режима содержит ошибки: {summary}"),
            format!("The regime file has errors: {summary}"),
        )
        .with("errors", list)
    })?;
    let now = state.clock.now();
    let id = regime.id().as_str().to_string();
    let effective_from = regime.effective_from();
    state
        .store
        .save_regime(&id, &body, &staff.0.subject_id, now)
        .await?;
    state.load_regime(regime);
    let in_force = state
        .regimes()
        .in_force(now)
        .is_some_and(|r| r.id().as_str() == id);
    tracing::info!(regime = %id, %effective_from, "regime loaded");
    Ok((StatusCode::CREATED, Json(json!({"id": id, "effective_from": effective_from.to_string(), "in_force_now": in_force})))
        .into_response())
}

#[derive(Deserialize)]
struct RevokeInput {
    reason: Option<String>,
}

async fn revoke_all(
    State(state): State<AppState>,
    staff: Staff,
    Path(resident_id): Path<String>,
    Body(input): Body<RevokeInput>,
) -> ApiResult<Json<Value>> {
    staff.require(&[Role::Admin])?;
    if state.store.resident(&resident_id).await?.is_none() {
        return Err(ApiError::not_found(
            "resident_not_found",
            "Житель",
            "Resident",
        ));
    }
    let reason = input
        .reason
        .unwrap_or_else(|| "revoked by administrator".into());
    let actor = Actor::Staff {
        id: staff.0.subject_id.clone(),
        username: staff.0.subject_id.clone(),
    };
    let revoked = state
        .store
        .revoke_all_of(&resident_id, &actor, &reason, state.clock.now())
        .await?;
    Ok(Json(json!({"revoked": revoked})))
}
