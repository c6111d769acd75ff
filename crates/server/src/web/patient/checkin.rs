//! Answering a check-in: a photo from the phone's camera and where the phone is. The static
//! script fills the location from the phone's GPS; without it the patient types it, and a
//! typed location counts as imprecise (see [`TYPED_ACCURACY_M`]). Nothing is stored unless
//! the photo and the location are both valid.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use propusk_core::monitoring::geofence::Fix;
use propusk_store::{AnswerOutcome, CheckinAnswer, Device};

use super::{multipart, Enrolled};
use crate::error::ApiError;
use crate::monitoring::answer_checkin;
use crate::state::AppState;
use crate::web::health::page::{
    forged, local_time, message, not_found, number, render, see_other, Errors, FieldErrors,
};
use crate::web::{Texts, WebCtx};

/// The accuracy recorded for a location typed by hand: nobody measured it, so the officer
/// sees it as a kilometre-wide guess rather than a precise fix.
const TYPED_ACCURACY_M: f64 = 1000.0;

#[derive(Template)]
#[template(path = "patient/checkin.html")]
struct CheckinPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    id: String,
    deadline: String,
    lat: String,
    lon: String,
    accuracy: String,
    errors: Errors,
}

/// The form for an open challenge of this device's case; `None` when it is not open.
async fn page(
    state: &AppState,
    ctx: WebCtx,
    device: &Device,
    id: &str,
    status: StatusCode,
    typed: (String, String, String),
    errors: Errors,
) -> Response {
    let now = state.clock.now();
    let reads = async {
        let open = state.store.open_challenges(device, now).await?;
        let case = state.store.case(&device.case_id).await?;
        Ok::<_, propusk_store::StoreError>((open, case))
    };
    let (open, case) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let t = Texts::new(ctx.lang);
    let Some(challenge) = open.iter().find(|c| c.id == id) else {
        return message(
            ctx,
            StatusCode::NOT_FOUND,
            t.t("checkin-closed-title"),
            t.t("checkin-closed-text"),
            "/patient",
        );
    };
    let tz = case.as_ref().map_or("UTC", |c| c.time_zone.as_str());
    let html = CheckinPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/patient/checkins/{id}"),
        id: id.to_string(),
        deadline: local_time(challenge.deadline, tz, t.lang),
        lat: typed.0,
        lon: typed.1,
        accuracy: typed.2,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn form(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Path(id): Path<String>,
) -> Response {
    let Some(device) = enrolled.0 else {
        return see_other(ctx, "/patient");
    };
    let empty = (String::new(), String::new(), String::new());
    page(&state, ctx, &device, &id, StatusCode::OK, empty, vec![]).await
}

pub async fn answer(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let back = format!("/patient/checkins/{id}");
    let fields = multipart::form(&headers, &body);
    let Some(fields) = fields.filter(|f| ctx.csrf_ok(f.text("csrf"))) else {
        return forged(ctx, &back);
    };
    let Some(device) = enrolled.0 else {
        return see_other(ctx, "/patient");
    };
    let t = Texts::new(ctx.lang);
    let typed = (
        fields.text("lat").trim().to_string(),
        fields.text("lon").trim().to_string(),
        fields.text("accuracy_m").trim().to_string(),
    );
    let mut errors: Errors = Vec::new();
    let photo = match fields.bytes("photo").filter(|b| !b.is_empty()) {
        None => {
            errors.push(("photo".into(), t.t("checkin-photo-missing")));
            None
        }
        Some(bytes) => match crate::photo::normalize_upload(&state.photos, bytes).await {
            Ok(jpeg) => Some(jpeg),
            Err(e) => {
                tracing::info!(reason = %e, "check-in photo refused");
                errors.push(("photo".into(), e.message(t)));
                None
            }
        },
    };
    let now = state.clock.now();
    let fix = match (number(&typed.0), number(&typed.1)) {
        (Some(lat), Some(lon)) => {
            let accuracy = if typed.2.is_empty() {
                Some(TYPED_ACCURACY_M)
            } else {
                number(&typed.2)
            };
            match accuracy.map(|a| Fix::from_parts(now, lat, lon, a)) {
                Some(Ok(fix)) => Some(fix),
                _ => {
                    errors.push(("lat".into(), t.t("checkin-location-invalid")));
                    None
                }
            }
        }
        _ => {
            errors.push(("lat".into(), t.t("checkin-location-missing")));
            None
        }
    };
    let (Some(photo), Some(fix)) = (photo, fix) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return page(&state, ctx, &device, &id, status, typed, errors).await;
    };
    let answer = CheckinAnswer { photo: &photo, fix };
    match answer_checkin(&state, &device, &id, answer).await {
        Ok(AnswerOutcome::Answered { late, .. }) => {
            let text = if late {
                t.t("checkin-done-late")
            } else {
                t.t("checkin-done-text")
            };
            message(
                ctx,
                StatusCode::OK,
                t.t("checkin-done-title"),
                text,
                "/patient",
            )
        }
        Ok(AnswerOutcome::AlreadyAnswered) => message(
            ctx,
            StatusCode::CONFLICT,
            t.t("checkin-closed-title"),
            t.t("checkin-already-answered"),
            "/patient",
        ),
        // The page takes the answer now, after the check-in was shown.
        Ok(AnswerOutcome::NotFound | AnswerOutcome::TakenBeforeIssue) => not_found(ctx, "/patient"),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
