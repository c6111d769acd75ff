//! The patient's page once the phone is connected: the quarantine's end, check-ins waiting
//! for an answer, and every flag with what was seen and where it stands — with the form to
//! appeal a sanction.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use propusk_core::domain::TextError;
use propusk_core::monitoring::case::TransitionError;
use propusk_store::{Device, FlagStepError};
use serde::Deserialize;

use super::{enroll, Enrolled};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::health::evidence::{flag_view, FlagView};
use crate::web::health::page::{forged, local_time, not_found, render, see_other, Errors};
use crate::web::{Texts, WebCtx};

pub struct ChallengeView {
    pub id: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "patient/home.html")]
struct HomePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    ends: String,
    status: String,
    challenges: Vec<ChallengeView>,
    flags: Vec<FlagView>,
    appealing: String,
    statement: String,
    errors: Errors,
}

async fn page(
    state: &AppState,
    ctx: WebCtx,
    device: &Device,
    status: StatusCode,
    (appealing, statement): (String, String),
    errors: Errors,
) -> Response {
    let now = state.clock.now();
    let reads = async {
        let case = state.store.case(&device.case_id).await?;
        let open = state.store.open_challenges(device, now).await?;
        let flags = state.store.case_flags(&device.case_id).await?;
        Ok::<_, propusk_store::StoreError>((case, open, flags))
    };
    let (case, open, flags) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let Some(case) = case else {
        return not_found(ctx, "/patient");
    };
    let t = Texts::new(ctx.lang);
    let tz = case.time_zone.as_str();
    let html = HomePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/patient".into(),
        ends: local_time(case.ends_at, tz, t.lang),
        status: case.status.as_str().to_string(),
        challenges: open
            .iter()
            .map(|c| ChallengeView {
                id: c.id.clone(),
                deadline: local_time(c.deadline, tz, t.lang),
            })
            .collect(),
        flags: flags.iter().map(|f| flag_view(f, tz, t, None)).collect(),
        appealing,
        statement,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn show(State(state): State<AppState>, ctx: WebCtx, enrolled: Enrolled) -> Response {
    match enrolled.0 {
        Some(device) => {
            let no_appeal = (String::new(), String::new());
            page(&state, ctx, &device, StatusCode::OK, no_appeal, vec![]).await
        }
        None => enroll::page(ctx, StatusCode::OK, String::new(), vec![]),
    }
}

#[derive(Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    statement: String,
}

pub async fn appeal(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Path(id): Path<String>,
    Form(form): Form<AppealForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/patient");
    }
    let Some(device) = enrolled.0 else {
        return see_other(ctx, "/patient");
    };
    let t = Texts::new(ctx.lang);
    let field = format!("statement-{id}");
    let typed = (id.clone(), form.statement.clone());
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let statement = match crate::monitoring_rules::statement(&form.statement) {
        Ok(statement) => statement,
        Err(e) => {
            let message = match e {
                TextError::Empty => t.t("appeal-statement-required"),
                TextError::TooLong { max, .. } => {
                    t.t1("appeal-statement-long", "max", &max.to_string())
                }
                TextError::Control { .. } => t.lang.pick(&e.localized()).to_string(),
            };
            return page(
                &state,
                ctx,
                &device,
                unprocessable,
                typed,
                vec![(field, message)],
            )
            .await;
        }
    };
    match state
        .store
        .appeal_flag(&device, &id, &statement, state.clock.now())
        .await
    {
        Ok(_) => see_other(ctx, &format!("/patient#flag-{id}")),
        Err(FlagStepError::NotFound) => not_found(ctx, "/patient"),
        Err(FlagStepError::Store(e)) => ApiError::internal(e).into_response(),
        Err(FlagStepError::Refused(TransitionError::MissingReason(_))) => {
            let errors = vec![(field, t.t("appeal-statement-required"))];
            page(&state, ctx, &device, unprocessable, typed, errors).await
        }
        Err(FlagStepError::Refused(_)) => {
            let errors = vec![(String::new(), t.t("appeal-not-possible"))];
            page(&state, ctx, &device, StatusCode::CONFLICT, typed, errors).await
        }
    }
}
