//! The resident's own profile: who they are and where they live.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use propusk_store::Resident as ResidentRecord;
use serde_json::{json, Value};

use super::Body;
use crate::app::residents::{self, FieldProblem, ProfileFailure, ProfileInput};
use crate::auth::Resident;
use crate::error::{ApiError, ApiResult};
use crate::lang::{AskedLang, Lang, Pick};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(show).put(update))
}

pub fn me_json(r: &ResidentRecord) -> Value {
    json!({
        "id": r.id,
        "phone": r.phone.as_str(),
        "lang": r.lang,
        "profile": r.profile.as_ref().map(|p| json!({
            "full_name": p.full_name.as_str(),
            "document": {"type": p.document.kind().as_str(), "number": p.document.number()},
            "home": {"address": p.home_address, "lat": p.home.lat(), "lon": p.home.lon()},
        })),
    })
}

async fn show(State(state): State<AppState>, Resident(caller): Resident) -> ApiResult<Json<Value>> {
    let resident = state
        .store
        .resident(&caller.subject_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(me_json(&resident)))
}

pub fn profile_error(problems: Vec<FieldProblem>, lang: Lang) -> ApiError {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({"field": p.field, "code": p.fault.code(), "detail": p.detail.get(lang)}))
        .collect();
    let summary = |lang| {
        problems
            .iter()
            .map(|p| p.detail.get(lang))
            .collect::<Vec<_>>()
            .join(" ")
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_profile",
        format!(
            "Профиль заполнен не полностью или с ошибками. {}",
            summary(Lang::Ru)
        ),
        format!(
            "The profile is incomplete or has errors. {}",
            summary(Lang::En)
        ),
    )
    .with("errors", errors)
}

async fn update(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Json<Value>> {
    match residents::save_profile(&state, &caller.subject_id, &input).await {
        Ok(resident) => Ok(Json(me_json(&resident))),
        Err(ProfileFailure::Invalid(problems)) => Err(profile_error(problems, lang)),
        Err(ProfileFailure::UnknownResident) => Err(ApiError::unauthorized()),
        Err(ProfileFailure::Store(e)) => Err(e.into()),
    }
}
