//! The patient's page once the phone is connected: the quarantine's end, check-ins waiting
//! for an answer, and every flag with what was seen (in plain words, `super::flags`) and
//! where it stands — with the form to explain it before the decision and the form to appeal
//! a sanction.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use propusk_core::monitoring::case::TransitionError;
use propusk_store::{Device, FlagStepError};
use serde::Deserialize;

use super::flags::{patient_flag, statement_of, PatientFlag, StatementForm};
use super::{enroll, Enrolled};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::health::page::{
    forged, local_time, not_found, render, see_other, Errors, FieldErrors,
};
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
    flags: Vec<PatientFlag>,
    /// What was typed into a form that came back (flag id, text).
    appealing: (String, String),
    explaining: (String, String),
    /// The flag whose explanation was just stored (a confirmation on its card).
    explained: String,
    errors: Errors,
}

/// What the patient typed into one of a flag's forms, kept when the form comes back.
pub enum Typed {
    Nothing,
    /// Saved: the flag whose explanation was just stored.
    Explained(String),
    Appealing(String, String),
    Explaining(String, String),
}

pub async fn page(
    state: &AppState,
    ctx: WebCtx,
    device: &Device,
    status: StatusCode,
    typed: Typed,
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
        flags: flags.iter().map(|f| patient_flag(f, tz, t)).collect(),
        appealing: match &typed {
            Typed::Appealing(id, text) => (id.clone(), text.clone()),
            _ => Default::default(),
        },
        explaining: match &typed {
            Typed::Explaining(id, text) => (id.clone(), text.clone()),
            _ => Default::default(),
        },
        explained: match typed {
            Typed::Explained(id) => id,
            _ => String::new(),
        },
        errors,
    }
    .render();
    render(ctx, status, html)
}

#[derive(Deserialize)]
pub struct Shown {
    /// After an explanation was stored: the flag it was for.
    #[serde(default)]
    explained: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Query(shown): Query<Shown>,
) -> Response {
    match enrolled.0 {
        Some(device) => {
            let typed = match shown.explained.is_empty() {
                true => Typed::Nothing,
                false => Typed::Explained(shown.explained),
            };
            page(&state, ctx, &device, StatusCode::OK, typed, vec![]).await
        }
        None => enroll::page(ctx, StatusCode::OK, String::new(), vec![]),
    }
}

pub async fn appeal(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Path(id): Path<String>,
    Form(form): Form<StatementForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/patient");
    }
    let Some(device) = enrolled.0 else {
        return see_other(ctx, "/patient");
    };
    let t = Texts::new(ctx.lang);
    let field = format!("statement-{id}");
    let typed = || Typed::Appealing(id.clone(), form.statement.clone());
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let statement = match statement_of(
        &form.statement,
        t,
        "appeal-statement-required",
        "appeal-statement-long",
    ) {
        Ok(statement) => statement,
        Err(message) => {
            let errors = vec![(field, message)];
            return page(&state, ctx, &device, unprocessable, typed(), errors).await;
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
            page(&state, ctx, &device, unprocessable, typed(), errors).await
        }
        Err(FlagStepError::Refused(_)) => {
            let errors = vec![(String::new(), t.t("appeal-not-possible"))];
            page(&state, ctx, &device, StatusCode::CONFLICT, typed(), errors).await
        }
    }
}
