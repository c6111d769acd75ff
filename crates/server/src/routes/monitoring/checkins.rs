//! Check-ins as an officer sees them: answers with their distance from home, the face
//! matcher's opinion, and the photos (the check-in's and the reference).

use super::*;

/// A check-in as its officer sees it: times, and how far from home and how sure the answer was.
pub(in crate::routes) fn challenge_json(c: &ChallengeRecord, home: Option<GeoPoint>) -> Value {
    json!({
        "id": c.id,
        "kind": c.kind.as_str(),
        // What raised an immediate check-in: when, how far from home, how sure.
        "asked_for": c.asked_for.map(|a| json!({
            "ts": a.ts.to_string(),
            "distance_m": a.distance_m.round() as u64,
            "accuracy_m": a.accuracy_m,
        })),
        "received_at": c.received_at.map(|t| t.to_string()),
        "issued_at": c.issued_at.to_string(),
        "deadline": c.deadline.to_string(),
        "answered_at": c.answered_at.map(|t| t.to_string()),
        "late": c.answered_at.map(|a| a >= c.deadline),
        "has_photo": c.has_photo,
        // Map-free: how far from home the phone said it was, and how sure it was.
        "distance_m": home.zip(c.point).map(|(h, p)| distance_m(h, p).round() as u64),
        "accuracy_m": c.accuracy_m,
        "flag_id": c.flag_id,
    })
}

pub(super) async fn case_checkins(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
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
        let mut item = challenge_json(&c, case.home);
        if c.has_photo {
            item["face_match"] = face_match(&state, reference.as_deref(), &c.id).await?;
        }
        list.push(item);
    }
    Ok(Json(json!({ "checkins": list })))
}

/// The face matcher's opinion on a check-in photo, with who gave it; without an automatic
/// matcher, `not_assessed` by `officer`: the officer compares the photos.
async fn face_match(
    state: &AppState,
    reference: Option<&[u8]>,
    checkin_id: &str,
) -> ApiResult<Value> {
    let matcher = &state.monitoring.face_matcher;
    let opinion = match reference {
        Some(reference) => match state.store.checkin_photo(checkin_id).await? {
            Some((_, photo)) => matcher.compare(reference, &photo),
            None => FaceComparison::NotAssessed,
        },
        None => FaceComparison::NotAssessed,
    };
    let mut value = serde_json::to_value(opinion).unwrap_or_default();
    value["by"] = json!(matcher.name());
    Ok(value)
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
