//! Check-ins as an officer sees them: answers with their distance from home, the face
//! matcher's opinion, and the photos (the check-in's and the reference).

use super::views::{CheckinView, FaceMatch};
use super::*;

#[derive(Serialize, ToSchema)]
pub(super) struct CheckinList {
    checkins: Vec<CheckinView>,
}

problems!(PhotoNotFound {
    404 => "`photo_not_found`: none was taken, or it was erased after retention.", ["photo_not_found"];
});

/// A case's check-ins so far
///
/// **Role:** health. Audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/checkins", tag = "monitoring", operation_id = "caseCheckins",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Oldest first.", body = CheckinList), CaseNotFound))]
pub(super) async fn case_checkins(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<CheckinList>> {
    let now = state.clock.now();
    let case = state.store.case(&id).await?.ok_or_else(case_not_found)?;
    let checkins = rules::read_checkins(&state.store, officer.as_str(), &id, now).await?;
    let matcher = &state.monitoring.face_matcher;
    let reference = match matcher.is_automatic() {
        true => state.store.reference_photo(&id).await?,
        false => None,
    };
    let mut list = Vec::new();
    for c in checkins {
        let mut item = CheckinView::of(&c, case.home);
        if c.has_photo {
            item = item.with_face_match(face_match(&state, reference.as_deref(), &c.id).await?);
        }
        list.push(item);
    }
    Ok(Json(CheckinList { checkins: list }))
}

/// The face matcher's opinion on a check-in photo, with who gave it; without an automatic
/// matcher, `not_assessed` by `officer`: the officer compares the photos.
async fn face_match(
    state: &AppState,
    reference: Option<&[u8]>,
    checkin_id: &str,
) -> ApiResult<FaceMatch> {
    let matcher = &state.monitoring.face_matcher;
    let opinion = match reference {
        Some(reference) => match state.store.checkin_photo(checkin_id).await? {
            Some((_, photo)) => matcher.compare(reference, &photo),
            None => FaceComparison::NotAssessed,
        },
        None => FaceComparison::NotAssessed,
    };
    Ok(FaceMatch::of(opinion, matcher.name()))
}

fn photo_response(bytes: Vec<u8>) -> Response {
    let kind = rules::photo_type(&bytes).unwrap_or("application/octet-stream");
    (
        [
            (axum::http::header::CONTENT_TYPE, kind),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}

fn photo_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "photo_not_found",
        "Фото нет: его не было или оно удалено по сроку хранения.",
        "No photo: there was none, or it was erased after retention.",
    )
}

/// A check-in's photo
///
/// **Role:** health. Audited.
#[utoipa::path(get, path = "/api/v1/checkins/{id}/photo", tag = "monitoring", operation_id = "checkinPhoto",
    params(("id" = uuid::Uuid, Path, description = "Check-in id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The photo.",
        content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))), PhotoNotFound))]
pub(super) async fn checkin_photo(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, photo) =
        rules::read_checkin_photo(&state.store, officer.as_str(), &id, state.clock.now())
            .await?
            .ok_or_else(photo_not_found)?;
    Ok(photo_response(photo))
}

/// The photo taken at enrollment
///
/// **Role:** health. Compare side by side with check-in photos (no automatic matching).
/// Audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/reference-photo", tag = "monitoring",
    operation_id = "referencePhoto",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The photo.",
        content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))), PhotoNotFound))]
pub(super) async fn reference_photo(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let photo = rules::read_reference_photo(&state.store, officer.as_str(), &id, state.clock.now())
        .await?
        .ok_or_else(photo_not_found)?;
    Ok(photo_response(photo))
}
