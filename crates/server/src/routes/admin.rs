//! Administration: loading regimes (they take effect at their `effective_from`,
//! with no restart) and revoking a resident's passes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use propusk_core::policy::parse_regime;
use propusk_store::{Actor, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::public::Names;
use super::Body;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, SourceProblem};
use crate::openapi::{api_routes, problems};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[list_regimes, load_regime], [revoke_all]]
}

/// A regime as administrators list them.
#[derive(Serialize, ToSchema)]
struct RegimeSummary {
    id: String,
    name: Names,
    #[schema(value_type = String, format = DateTime)]
    effective_from: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
    /// `builtin` or `loaded`.
    #[schema(pattern = "^(builtin|loaded)$")]
    source: &'static str,
    in_force: bool,
}

#[derive(Serialize, ToSchema)]
struct RegimeList {
    regimes: Vec<RegimeSummary>,
}

#[derive(Serialize, ToSchema)]
struct RegimeLoaded {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    effective_from: Timestamp,
    in_force_now: bool,
}

problems!(RegimeRefusals {
    422 => "`invalid_regime`: the file has errors; `errors` lists each with its line and column.",
        ["invalid_regime"],
        json!({ "errors": { "type": "array", "items": { "$ref": "#/components/schemas/SourceError" } } });
});

problems!(ResidentNotFound {
    404 => "`resident_not_found`: no such resident.", ["resident_not_found"];
});

/// All known regimes
///
/// **Role:** admin.
#[utoipa::path(get, path = "/api/v1/admin/regimes", tag = "admin", operation_id = "listRegimes",
    security(("bearerAuth" = ["admin"])),
    responses((status = 200, description = "Built-in and loaded regimes.", body = RegimeList)))]
async fn list_regimes(State(state): State<AppState>, staff: Staff) -> ApiResult<Json<RegimeList>> {
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
    let regimes = book
        .iter()
        .map(|r| {
            let id = r.id().as_str();
            RegimeSummary {
                id: id.to_string(),
                name: Names::of(r.name()),
                effective_from: r.effective_from(),
                until: r.until(),
                source: match loaded.iter().any(|l| l == id) {
                    true => "loaded",
                    false => "builtin",
                },
                in_force: in_force.as_deref() == Some(id),
            }
        })
        .collect();
    Ok(Json(RegimeList { regimes }))
}

/// The problem+json answer for a regime file with errors, each with its position.
fn regime_error(errors: &[propusk_core::policy::PolicyError]) -> ApiResult<ApiError> {
    let list: Vec<SourceProblem> = errors
        .iter()
        .map(|e| SourceProblem {
            line: e.line,
            column: e.column,
            detail: e.message.clone(),
        })
        .collect();
    let summary = errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_regime",
        format!("Файл режима содержит ошибки: {summary}"),
        format!("The regime file has errors: {summary}"),
    )
    .with(
        "errors",
        serde_json::to_value(list).map_err(ApiError::internal)?,
    );
    Ok(error)
}

/// Load a regime file
///
/// **Role:** admin. The body is a TOML regime file (see `propusk policy check`).
#[utoipa::path(post, path = "/api/v1/admin/regimes", tag = "admin", operation_id = "loadRegime",
    request_body(content = String, content_type = "application/toml"),
    security(("bearerAuth" = ["admin"])),
    responses(
        (status = 201, description = "Loaded; takes effect at its `effective_from` without a restart.",
            body = RegimeLoaded),
        RegimeRefusals,
    ))]
async fn load_regime(
    State(state): State<AppState>,
    staff: Staff,
    body: String,
) -> ApiResult<Response> {
    staff.require(&[Role::Admin])?;
    let regime = match parse_regime(&body) {
        Ok(regime) => regime,
        Err(errors) => return Err(regime_error(&errors)?),
    };
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
    let loaded = RegimeLoaded {
        id,
        effective_from,
        in_force_now: in_force,
    };
    Ok((StatusCode::CREATED, Json(loaded)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[schema(as = RevokeRequest)]
struct RevokeInput {
    /// Recorded in the audit log.
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = RevokeResult)]
struct Revoked {
    /// Passes revoked by this call.
    revoked: usize,
}

/// Revoke all of a resident's unexpired passes
///
/// **Role:** admin.
#[utoipa::path(post, path = "/api/v1/admin/residents/{id}/revoke-passes", tag = "admin",
    operation_id = "revokeResidentPasses",
    params(("id" = uuid::Uuid, Path, description = "Resident id.")),
    request_body = RevokeInput,
    security(("bearerAuth" = ["admin"])),
    responses((status = 200, description = "Done.", body = Revoked), ResidentNotFound))]
async fn revoke_all(
    State(state): State<AppState>,
    staff: Staff,
    Path(resident_id): Path<String>,
    Body(input): Body<RevokeInput>,
) -> ApiResult<Json<Revoked>> {
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
    Ok(Json(Revoked { revoked }))
}
