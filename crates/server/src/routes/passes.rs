//! A resident's passes: ask for one, list, show, QR images, cancel.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::Timestamp;
use propusk_core::domain::GeoPoint;
use propusk_core::issuance::{PassRequest, Refusal, RefusalCode};
use propusk_store::{PassRecord, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::{RefOr, Response as DocResponse};
use utoipa::{IntoResponses, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::app::passes::{self, CancelFailure, Canceller, Channel, IssueFailure, PassStatus};
use crate::auth::{Caller, Resident};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{api_routes, problem, problems};
use crate::qr;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[create, list], [show, cancel], [qr_svg], [qr_png]]
}

/// A pass as its holder sees it.
#[derive(Serialize, ToSchema)]
#[schema(as = Pass)]
pub struct PassView {
    #[schema(format = Uuid)]
    id: String,
    /// For SMS users and typing; checked online only.
    #[schema(
        pattern = "^[0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3}$",
        examples("7K3-QX9-4MP")
    )]
    short_code: String,
    /// The signed pass token, the QR text (see docs/token-format.md).
    #[schema(pattern = r"^PR1:[0-9A-Z $%*+\-./:]+$")]
    token: String,
    purpose: String,
    /// Regime id.
    regime: String,
    #[schema(value_type = String, format = DateTime)]
    valid_from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    valid_until: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    issued_at: Timestamp,
    status: PassStatus,
    #[schema(value_type = Option<String>, format = DateTime)]
    cancelled_at: Option<Timestamp>,
    /// Purpose fields given at issuance, e.g. `{"employer_inn": "7707083893"}`.
    fields: BTreeMap<String, String>,
}

impl PassView {
    pub fn of(pass: &PassRecord, now: Timestamp) -> Self {
        let short_code = pass
            .short_code
            .parse::<propusk_token::ShortCode>()
            .map(|c| c.to_string())
            .unwrap_or(pass.short_code.clone());
        Self {
            id: pass.id.clone(),
            short_code,
            token: pass.token.clone(),
            purpose: pass.purpose.clone(),
            regime: pass.regime_id.clone(),
            valid_from: pass.valid_from,
            valid_until: pass.valid_until,
            issued_at: pass.issued_at,
            status: PassStatus::of(pass, now),
            cancelled_at: pass.cancelled_at,
            fields: pass.fields.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = PassList)]
struct PassListView {
    passes: Vec<PassView>,
}

/// A purpose field's value: text, or a number written as JSON would; anything else is
/// as if the field were absent (the rules then say it is missing).
#[derive(Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Number(serde_json::Number),
    Other(serde::de::IgnoredAny),
}

/// A pass request as sent: the purpose, optional start and duration, and the
/// purpose's own fields at the top level. Purpose fields (`employer_inn`, …) are
/// required when the purpose lists them in `required_fields`.
#[derive(Deserialize, ToSchema)]
#[schema(as = IssueRequest, example = json!({"purpose": "shopping", "duration_minutes": 120}))]
pub struct PassInput {
    /// A purpose id of the regime in force.
    #[schema(examples("shopping"))]
    pub purpose: String,
    /// Start of validity; default now. Not in the past, not too far ahead.
    #[schema(format = DateTime)]
    pub valid_from: Option<String>,
    /// Default and maximum: the purpose's `max_minutes`.
    #[schema(minimum = 1)]
    pub duration_minutes: Option<u32>,
    /// Where the trip goes; needed for purposes with `max_distance_m`.
    pub destination: Option<GeoPoint>,
    /// Russian INN (10 or 12 digits, checksum verified).
    #[schema(value_type = Option<String>, examples("7707083893"))]
    pub employer_inn: Option<FieldValue>,
    #[schema(value_type = Option<String>)]
    pub employer_name: Option<FieldValue>,
    #[schema(value_type = Option<String>, examples("А123ВС777"))]
    pub vehicle_plate: Option<FieldValue>,
    /// Members no purpose knows: passed on, so that the rules name them.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: BTreeMap<String, Value>,
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
        let named = [
            ("employer_inn", self.employer_inn),
            ("employer_name", self.employer_name),
            ("vehicle_plate", self.vehicle_plate),
        ]
        .into_iter()
        .filter_map(|(k, v)| match v? {
            FieldValue::Text(s) => Some((k.to_string(), s)),
            FieldValue::Number(n) => Some((k.to_string(), n.to_string())),
            FieldValue::Other(_) => None,
        });
        let other = self.other.into_iter().filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            _ => None,
        });
        let fields = named.chain(other).collect();
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

/// The refusals of issuance: every code the rules can give.
pub struct IssueRefusals;

impl IntoResponses for IssueRefusals {
    fn responses() -> BTreeMap<String, RefOr<DocResponse>> {
        let codes: Vec<&str> = RefusalCode::ALL.iter().map(|c| c.as_str()).collect();
        [problem(
            422,
            "Refused. `code` says why; `field` names the member at fault and `next_possible_at` \
             the earliest moment it could succeed, where known.",
            &codes,
            None,
        )]
        .into()
    }
}

problems!(PassNotFound {
    404 => "`pass_not_found`: no such pass — also for someone else's pass.", ["pass_not_found"];
});

problems!(CancelRefusals {
    404 => "`pass_not_found`: no such pass — also for someone else's pass.", ["pass_not_found"];
    409 => "`already_cancelled`: the pass was cancelled before.", ["already_cancelled"];
});

/// The problem+json answer for a pass not issued.
fn issue_error(failure: IssueFailure) -> ApiError {
    match failure {
        IssueFailure::Refused(refusal) => refusal_error(refusal),
        IssueFailure::UnknownResident => ApiError::unauthorized(),
        IssueFailure::Store(e) => e.into(),
    }
}

/// Ask for a pass
///
/// **Role:** resident. Checks everything the regime in force says — profile, purpose,
/// fields, duration, hours, distance, quota and cap — atomically.
#[utoipa::path(post, path = "/api/v1/passes", tag = "passes", operation_id = "issuePass",
    request_body = PassInput,
    security(("bearerAuth" = ["resident"])),
    responses(
        (status = 201, description = "Issued.", body = PassView,
            headers(("Location" = String, description = "The new pass's address."))),
        IssueRefusals,
    ))]
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
        Json(PassView::of(&pass, state.clock.now())),
    )
        .into_response())
}

/// The resident's own passes
///
/// **Role:** resident.
#[utoipa::path(get, path = "/api/v1/passes", tag = "passes", operation_id = "listPasses",
    security(("bearerAuth" = ["resident"])),
    responses((status = 200, description = "Newest first.", body = PassListView)))]
async fn list(
    State(state): State<AppState>,
    Resident(caller): Resident,
) -> ApiResult<Json<PassListView>> {
    let now = state.clock.now();
    let passes = state.store.passes_of(&caller.subject_id, 200).await?;
    Ok(Json(PassListView {
        passes: passes.iter().map(|p| PassView::of(p, now)).collect(),
    }))
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

/// One of the resident's passes
///
/// **Role:** resident, the holder.
#[utoipa::path(get, path = "/api/v1/passes/{id}", tag = "passes", operation_id = "getPass",
    params(("id" = uuid::Uuid, Path, description = "Pass id.")),
    security(("bearerAuth" = ["resident"])),
    responses((status = 200, description = "The pass.", body = PassView), PassNotFound))]
async fn show(
    State(state): State<AppState>,
    Resident(caller): Resident,
    Path(id): Path<String>,
) -> ApiResult<Json<PassView>> {
    let pass = own_pass(&state, &caller, &id).await?;
    Ok(Json(PassView::of(&pass, state.clock.now())))
}

/// The pass token as a QR code (SVG)
///
/// **Role:** resident, the holder.
#[utoipa::path(get, path = "/api/v1/passes/{id}/qr.svg", tag = "passes", operation_id = "getPassQrSvg",
    params(("id" = uuid::Uuid, Path, description = "Pass id.")),
    security(("bearerAuth" = ["resident"])),
    responses(
        (status = 200, description = "QR code of the token.", content_type = "image/svg+xml", body = String),
        PassNotFound,
    ))]
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

/// The pass token as a QR code (PNG)
///
/// **Role:** resident, the holder.
#[utoipa::path(get, path = "/api/v1/passes/{id}/qr.png", tag = "passes", operation_id = "getPassQrPng",
    params(("id" = uuid::Uuid, Path, description = "Pass id.")),
    security(("bearerAuth" = ["resident"])),
    responses(
        (status = 200, description = "QR code of the token.", content_type = "image/png"),
        PassNotFound,
    ))]
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

/// Cancel (revoke) a pass
///
/// **Role:** the holder (resident), or admin.
#[utoipa::path(delete, path = "/api/v1/passes/{id}", tag = "passes", operation_id = "cancelPass",
    params(("id" = uuid::Uuid, Path, description = "Pass id.")),
    security(("bearerAuth" = ["resident"]), ("bearerAuth" = ["admin"])),
    responses(
        (status = 200, description = "Cancelled; `status` is `cancelled`. The id appears in the revocation list.",
            body = PassView),
        CancelRefusals,
    ))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PassView>> {
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
        Ok(pass) => Ok(Json(PassView::of(&pass, state.clock.now()))),
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
