//! The officer's queue, appeals and one flag with its decision forms. A decision goes
//! through [`propusk_store::Store::decide_flag`], which replays the flag's history and
//! refuses what the rules forbid (deciding before the patient was told, sanctioning silence,
//! the confirming officer deciding the appeal); the page says why in the officer's language.

use std::collections::HashMap;
use std::num::NonZeroU32;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use propusk_core::domain::Paragraph;
use propusk_core::monitoring::case::{Sanction, TransitionError};
use propusk_core::monitoring::FlagKind;
use propusk_store::{CaseRecord, FlagRecord, FlagStepError, OfficerStep};
use serde::Deserialize;

use super::evidence::{checkin_rows, flag_view, CheckinRow, FlagView};
use super::page::{forged, not_found, render, see_other, Errors};
use super::Officer;
use crate::error::ApiError;
use crate::monitoring::sms_texts;
use crate::monitoring_rules as rules;
use crate::monitoring_rules::UNANSWERED_FOR;
use crate::state::AppState;
use crate::web::{Texts, WebCtx};

/// A flag in a list, with whose case it is.
pub struct QueuedFlag {
    pub f: FlagView,
    pub case_name: String,
}

/// A question no one answered, with whose case it is (never a flag: nothing to decide).
pub struct UnansweredRow {
    pub c: CheckinRow,
    pub case_id: String,
    pub case_name: String,
}

#[derive(Template)]
#[template(path = "health/queue.html")]
struct QueuePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    appeals_only: bool,
    flags: Vec<QueuedFlag>,
    unanswered: Vec<UnansweredRow>,
}

/// A flag for the officer's pages, with the questions asked during its run beside it.
async fn officer_view(
    state: &AppState,
    flag: &FlagRecord,
    case: Option<&CaseRecord>,
    t: Texts,
    officers: &Officers,
) -> propusk_store::Result<FlagView> {
    let tz = case.map_or("UTC", |c| c.time_zone.as_str());
    let mut view = flag_view(flag, tz, t, Some(officers));
    if flag.kind == FlagKind::LeftHome {
        let asks = state
            .store
            .asks_during(&flag.case_id, flag.from, flag.to)
            .await?;
        view.checkins = checkin_rows(case.and_then(|c| c.home), tz, &asks, t);
    }
    Ok(view)
}

type Officers = HashMap<String, String>;

/// The cases of some flags, each read once, and the officers' names.
async fn cases_of(
    state: &AppState,
    flags: &[FlagRecord],
) -> propusk_store::Result<(HashMap<String, CaseRecord>, Officers)> {
    let mut cases = HashMap::new();
    for flag in flags {
        if !cases.contains_key(&flag.case_id) {
            if let Some(case) = state.store.case(&flag.case_id).await? {
                cases.insert(flag.case_id.clone(), case);
            }
        }
    }
    Ok((cases, state.store.staff_names().await?))
}

async fn list(state: AppState, ctx: WebCtx, officer: Officer, appeals_only: bool) -> Response {
    let t = Texts::new(ctx.lang);
    let flags = match state
        .store
        .officer_queue(officer.id.as_str(), state.clock.now())
        .await
    {
        Ok(f) => f,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let flags: Vec<FlagRecord> = flags
        .into_iter()
        .filter(|f| !appeals_only || f.state == propusk_core::monitoring::case::FlagStage::Appealed)
        .collect();
    let now = state.clock.now();
    let since = now.checked_sub(UNANSWERED_FOR).unwrap_or(now);
    let reads = async {
        let (cases, officers) = cases_of(&state, &flags).await?;
        let mut queued = Vec::with_capacity(flags.len());
        for flag in &flags {
            let case = cases.get(&flag.case_id);
            queued.push(QueuedFlag {
                f: officer_view(&state, flag, case, t, &officers).await?,
                case_name: case.map(|c| c.full_name.clone()).unwrap_or_default(),
            });
        }
        let unanswered = match appeals_only {
            true => Vec::new(),
            false => state.store.unanswered_asks(since, now).await?,
        };
        Ok::<_, propusk_store::StoreError>((queued, unanswered))
    };
    let (flags, unanswered) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let unanswered = unanswered
        .into_iter()
        .map(|u| UnansweredRow {
            c: checkin_rows(None, &u.time_zone, std::slice::from_ref(&u.challenge), t).remove(0),
            case_id: u.challenge.case_id,
            case_name: u.full_name,
        })
        .collect();
    let path = if appeals_only {
        "/health/appeals"
    } else {
        "/health/queue"
    };
    let html = QueuePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: path.into(),
        appeals_only,
        flags,
        unanswered,
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

pub async fn queue(State(state): State<AppState>, ctx: WebCtx, officer: Officer) -> Response {
    list(state, ctx, officer, false).await
}

pub async fn appeals(State(state): State<AppState>, ctx: WebCtx, officer: Officer) -> Response {
    list(state, ctx, officer, true).await
}

/// What the officer typed into the decision forms, kept when a form comes back with errors.
#[derive(Deserialize, Default, Clone)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    sanction: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    upheld: String,
}

#[derive(Template)]
#[template(path = "health/flag.html")]
struct FlagPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    f: FlagView,
    case_name: String,
    /// The officer reading confirmed this sanction: its appeal goes to someone else.
    appeal_is_mine: bool,
    can_sanction: bool,
    form: DecisionForm,
    errors: Errors,
}

async fn flag_page(
    state: &AppState,
    ctx: WebCtx,
    officer: &Officer,
    id: &str,
    status: StatusCode,
    form: DecisionForm,
    errors: Errors,
) -> Response {
    let now = state.clock.now();
    let flag = match rules::read_flag(&state.store, officer.id.as_str(), id, now).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(ctx, "/health/queue"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let (case, officers) = match cases_of(state, std::slice::from_ref(&flag)).await {
        Ok((mut cases, officers)) => (cases.remove(&flag.case_id), officers),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let t = Texts::new(ctx.lang);
    let view = match officer_view(state, &flag, case.as_ref(), t, &officers).await {
        Ok(v) => v,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let html = FlagPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/health/flags/{id}"),
        appeal_is_mine: view.confirmed_by.as_deref() == Some(officer.id.as_str()),
        f: view,
        case_name: case.map(|c| c.full_name).unwrap_or_default(),
        can_sanction: flag.kind.may_be_sanctioned(),
        form,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
) -> Response {
    let form = DecisionForm {
        sanction: "warning".into(),
        ..Default::default()
    };
    flag_page(&state, ctx, &officer, &id, StatusCode::OK, form, vec![]).await
}

/// Why the store refused a step, as the page says it: (status, (input id, message)).
fn refusal(e: &TransitionError, field: &str, t: Texts) -> (StatusCode, (String, String)) {
    let (status, id) = match e {
        TransitionError::SameOfficer(_) => (StatusCode::FORBIDDEN, "refused-same-officer"),
        TransitionError::NotSanctionable(_) => (StatusCode::CONFLICT, "refused-not-sanctionable"),
        TransitionError::NotAllowed { state: "open", .. } => {
            (StatusCode::CONFLICT, "refused-not-notified")
        }
        TransitionError::MissingReason(_) => {
            let text = t.t("refused-reason-required");
            return (StatusCode::UNPROCESSABLE_ENTITY, (field.into(), text));
        }
        TransitionError::NotAllowed { .. }
        | TransitionError::TimeGoesBackwards { .. }
        | TransitionError::NotRaised => (StatusCode::CONFLICT, "refused-state"),
    };
    (status, (String::new(), t.t(id)))
}

/// A decision form's step (with the input its note is typed in), or the problem with it.
type Step = Result<(OfficerStep, &'static str), (String, String)>;

/// Takes a decision form: refused when forged, the page again with the problem when the step
/// is not one or the store refuses it, else on to the flag.
async fn apply(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    id: String,
    form: DecisionForm,
    step: impl FnOnce(&DecisionForm, Texts) -> Step,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &format!("/health/flags/{id}"));
    }
    let t = Texts::new(ctx.lang);
    let (status, problem) = match step(&form, t) {
        Err(problem) => (StatusCode::UNPROCESSABLE_ENTITY, problem),
        Ok((step, note_field)) => {
            let now = state.clock.now();
            let app_url = state.app_url();
            let decided = state
                .store
                .decide_flag(&id, &officer.id, &step, now, &sms_texts(&app_url))
                .await;
            match decided {
                Ok(_) => {
                    state.outbox_wakeup.notify_one();
                    return see_other(ctx, &format!("/health/flags/{id}"));
                }
                Err(FlagStepError::NotFound) => return not_found(ctx, "/health/queue"),
                Err(FlagStepError::Store(e)) => return ApiError::internal(e).into_response(),
                Err(FlagStepError::Refused(e)) => refusal(&e, note_field, t),
            }
        }
    };
    flag_page(&state, ctx, &officer, &id, status, form, vec![problem]).await
}

/// The officer's note, or its problem at the note's field.
fn typed_note(form: &DecisionForm, field: &str, t: Texts) -> Result<Paragraph, (String, String)> {
    crate::monitoring_rules::note(&form.note)
        .map_err(|e| (field.to_string(), t.lang.pick(&e.localized()).to_string()))
}

fn decision_step(form: &DecisionForm, t: Texts) -> Step {
    let field = if form.decision == "confirm" {
        "confirm-note"
    } else {
        "dismiss-note"
    };
    let note = typed_note(form, field, t)?;
    match form.decision.as_str() {
        "dismiss" => Ok((OfficerStep::Dismiss { note }, "dismiss-note")),
        "confirm" => {
            let sanction = match form.sanction.as_str() {
                "warning" => Sanction::Warning,
                "fine" => match form.amount.trim().parse::<NonZeroU32>() {
                    Ok(amount_rub) => Sanction::Fine { amount_rub },
                    Err(_) => return Err(("amount".into(), t.t("decision-amount-invalid"))),
                },
                _ => return Err(("sanction-warning".into(), t.t("decision-sanction-missing"))),
            };
            Ok((OfficerStep::Confirm { sanction, note }, "confirm-note"))
        }
        _ => Err((String::new(), t.t("decision-missing"))),
    }
}

fn appeal_step(form: &DecisionForm, t: Texts) -> Step {
    let upheld = match form.upheld.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(("upheld-yes".to_string(), t.t("appeal-decision-missing"))),
    };
    let note = typed_note(form, "appeal-note", t)?;
    Ok((OfficerStep::DecideAppeal { upheld, note }, "appeal-note"))
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    apply(state, ctx, officer, id, form, decision_step).await
}

pub async fn decide_appeal(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    apply(state, ctx, officer, id, form, appeal_step).await
}
