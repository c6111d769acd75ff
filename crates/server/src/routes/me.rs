//! The resident's own profile: who they are and where they live.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use propusk_core::domain::DocumentKind;
use propusk_store::Resident as ResidentRecord;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::app::residents::{self, FieldProblem, ProfileFailure, ProfileInput};
use crate::auth::Resident;
use crate::error::{ApiError, ApiResult};
use crate::lang::{AskedLang, Lang, Pick};
use crate::openapi::{api_routes, problems};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[show, update]]
}

/// The signed-in resident. `profile` is null until it is filled in with `PUT /api/v1/me`.
#[derive(Serialize, ToSchema)]
#[schema(as = Me)]
pub struct MeView {
    #[schema(format = Uuid)]
    id: String,
    /// E.164.
    #[schema(examples("+79161234567"))]
    phone: String,
    /// Preferred language for SMS and pages: `ru` or `en`.
    #[schema(pattern = "^(ru|en)$")]
    lang: String,
    #[schema(value_type = Option<ProfileInput>)]
    profile: Option<ProfileView>,
}

/// The profile as stated (the same shape as `PUT /api/v1/me` takes).
#[derive(Serialize)]
struct ProfileView {
    full_name: String,
    document: DocumentView,
    home: HomeView,
}

#[derive(Serialize)]
struct DocumentView {
    #[serde(rename = "type")]
    kind: DocumentKind,
    number: String,
}

#[derive(Serialize)]
struct HomeView {
    address: String,
    lat: f64,
    lon: f64,
}

impl MeView {
    pub fn of(r: &ResidentRecord) -> Self {
        Self {
            id: r.id.clone(),
            phone: r.phone.as_str().to_string(),
            lang: r.lang.clone(),
            profile: r.profile.as_ref().map(|p| ProfileView {
                full_name: p.full_name.as_str().to_string(),
                document: DocumentView {
                    kind: p.document.kind(),
                    number: p.document.number().to_string(),
                },
                home: HomeView {
                    address: p.home_address.clone(),
                    lat: p.home.lat(),
                    lon: p.home.lon(),
                },
            }),
        }
    }
}

problems!(ProfileRefusals {
    422 => "`invalid_profile`: one or more members are invalid; `errors` lists each.",
        ["invalid_profile"],
        json!({ "errors": { "type": "array", "items": { "$ref": "#/components/schemas/FieldError" } } });
});

/// The signed-in resident
///
/// **Role:** resident.
#[utoipa::path(get, path = "/api/v1/me", tag = "residents", operation_id = "getMe",
    security(("bearerAuth" = ["resident"])), responses((status = 200, body = MeView,
        description = "The resident.")))]
async fn show(
    State(state): State<AppState>,
    Resident(caller): Resident,
) -> ApiResult<Json<MeView>> {
    let resident = state
        .store
        .resident(&caller.subject_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(MeView::of(&resident)))
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

/// State or replace the resident's profile
///
/// **Role:** resident. Required before passes can be issued. The document number is
/// validated per type.
#[utoipa::path(put, path = "/api/v1/me", tag = "residents", operation_id = "putMe",
    request_body = ProfileInput,
    security(("bearerAuth" = ["resident"])),
    responses((status = 200, description = "Saved.", body = MeView), ProfileRefusals))]
async fn update(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Json<MeView>> {
    match residents::save_profile(&state, &caller.subject_id, &input).await {
        Ok(resident) => Ok(Json(MeView::of(&resident))),
        Err(ProfileFailure::Invalid(problems)) => Err(profile_error(problems, lang)),
        Err(ProfileFailure::UnknownResident) => Err(ApiError::unauthorized()),
        Err(ProfileFailure::Store(e)) => Err(e.into()),
    }
}
