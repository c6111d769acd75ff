//! Loaner phones on the officer's pages: the inventory with what can be done to each phone
//! in its state (lend to a monitored case, take back with a checklist, wipe with the
//! checklist a wipe needs, report lost), phones past their due date first, and a form to
//! add one. The store moves the phone and writes the audit entry.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use propusk_store::{Loaner, LoanerError};
use serde_json::json;

use super::page::{enrollment_page, forged, local_time, render, see_other, Errors, FieldErrors};
use super::Officer;
use crate::error::ApiError;
use crate::monitoring_rules as rules;
use crate::state::AppState;
use crate::web::{Texts, WebCtx};
use propusk_core::monitoring::loaner::{missing_wipe_steps, LoanerState, LoanerStep, WIPE_STEPS};

/// What is looked at when a phone comes back; recorded as ticked, none required.
const RETURN_STEPS: [&str; 3] = ["phone_received", "charger_received", "no_damage"];
/// Loaner times are shown on Moscow clocks (a loaner belongs to no case's zone once back).
const ZONE: &str = "Europe/Moscow";

pub struct LoanerRow {
    pub serial: String,
    pub state: &'static str,
    pub state_text: String,
    pub case_id: String,
    pub due: String,
    pub overdue: bool,
}

pub struct Step {
    pub id: &'static str,
    pub label: String,
}

#[derive(Template)]
#[template(path = "health/loaners.html")]
struct LoanersPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    loaners: Vec<LoanerRow>,
    overdue: Vec<LoanerRow>,
    cases: Vec<(String, String)>,
    return_steps: Vec<Step>,
    wipe_steps: Vec<Step>,
    serial: String,
    errors: Errors,
}

fn row(l: &Loaner, now: jiff::Timestamp, t: Texts) -> LoanerRow {
    LoanerRow {
        serial: l.serial.clone(),
        state: l.state.as_str(),
        state_text: t.t(&format!("loaner-state-{}", l.state)),
        case_id: l.case_id.clone().unwrap_or_default(),
        due: l
            .due_at
            .map(|d| local_time(d, ZONE, t.lang))
            .unwrap_or_default(),
        overdue: l.state == LoanerState::OnLoan && l.due_at.is_some_and(|d| d < now),
    }
}

fn steps(ids: &[&'static str], t: Texts) -> Vec<Step> {
    ids.iter()
        .map(|id| Step {
            id,
            label: t.t(&format!("loaner-step-{id}")),
        })
        .collect()
}

async fn page(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    serial: String,
    errors: Errors,
) -> Response {
    let t = Texts::new(ctx.lang);
    let now = state.clock.now();
    let reads = async {
        let all = state.store.loaners(None).await?;
        let overdue = state.store.overdue_loaners(now).await?;
        let cases = state.store.monitored_cases(now).await?;
        Ok::<_, propusk_store::StoreError>((all, overdue, cases))
    };
    let (all, overdue, cases) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let html = LoanersPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/health/loaners".into(),
        loaners: all.iter().map(|l| row(l, now, t)).collect(),
        overdue: overdue.iter().map(|l| row(l, now, t)).collect(),
        cases,
        return_steps: steps(&RETURN_STEPS, t),
        wipe_steps: steps(&WIPE_STEPS, t),
        serial,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn list(State(state): State<AppState>, ctx: WebCtx, _officer: Officer) -> Response {
    page(&state, ctx, StatusCode::OK, String::new(), vec![]).await
}

/// A submitted loaner form: every field by name (checklists are checkboxes).
type Fields = BTreeMap<String, String>;

fn csrf(fields: &Fields) -> &str {
    fields.get("csrf").map_or("", String::as_str)
}

/// The store's refusal as the page says it, with the page re-rendered and nothing changed.
async fn refused(state: &AppState, ctx: WebCtx, e: LoanerError) -> Response {
    let t = Texts::new(ctx.lang);
    let (status, text) = match e {
        LoanerError::Store(e) => return ApiError::internal(e).into_response(),
        LoanerError::NotFound => (StatusCode::NOT_FOUND, t.t("loaner-not-found")),
        LoanerError::Exists => (StatusCode::CONFLICT, t.t("loaner-exists")),
        LoanerError::WrongState(s) => (
            StatusCode::CONFLICT,
            t.t1(
                "loaner-wrong-state",
                "state",
                &t.t(&format!("loaner-state-{s}")),
            ),
        ),
        LoanerError::CaseNotActive => (StatusCode::CONFLICT, t.t("loaner-case-not-active")),
    };
    problem(state, ctx, status, String::new(), text).await
}

/// The page again with one problem at the input `field` (empty: the whole page).
async fn problem(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    field: String,
    text: String,
) -> Response {
    page(state, ctx, status, String::new(), vec![(field, text)]).await
}

pub async fn add(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Form(fields): Form<Fields>,
) -> Response {
    if !ctx.csrf_ok(csrf(&fields)) {
        return forged(ctx, "/health/loaners");
    }
    let t = Texts::new(ctx.lang);
    let serial = fields.get("serial").map_or("", |s| s.trim()).to_string();
    if !rules::serial_ok(&serial) {
        let errors = vec![("serial".into(), t.t("loaner-serial-invalid"))];
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        return page(&state, ctx, unprocessable, serial, errors).await;
    }
    match state
        .store
        .add_loaner(&serial, officer.id.as_str(), state.clock.now())
        .await
    {
        Ok(_) => see_other(ctx, "/health/loaners"),
        Err(LoanerError::Exists) => {
            let errors = vec![("serial".into(), t.t("loaner-exists"))];
            page(&state, ctx, StatusCode::CONFLICT, serial, errors).await
        }
        Err(e) => refused(&state, ctx, e).await,
    }
}

pub async fn lend(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(serial): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if !ctx.csrf_ok(csrf(&fields)) {
        return forged(ctx, "/health/loaners");
    }
    let t = Texts::new(ctx.lang);
    let case_id = fields.get("case_id").map_or("", |s| s.trim());
    if case_id.is_empty() {
        let (unprocessable, text) = (StatusCode::UNPROCESSABLE_ENTITY, t.t("loaner-case-missing"));
        return problem(&state, ctx, unprocessable, format!("case-{serial}"), text).await;
    }
    let key = rules::loaner_key();
    let lent = state
        .store
        .lend_loaner(
            &serial,
            case_id,
            &key.compact(),
            officer.id.as_str(),
            state.clock.now(),
        )
        .await;
    match lent {
        // The phone enrolls with the key now; it is shown this once and only its hash kept.
        Ok(_) => {
            let key = key.to_string();
            let link = rules::enrollment_link(&state.app_url(), &key);
            let title = t.t1("loaner-lent-title", "serial", &serial);
            let lead = t.t("loaner-lent-text");
            let back = ("/health/loaners".to_string(), t.t("loaners-title"));
            enrollment_page(ctx, StatusCode::OK, title, lead, key, link, back)
        }
        Err(e) => refused(&state, ctx, e).await,
    }
}

async fn step(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    serial: String,
    fields: Fields,
    change: LoanerStep,
    checklist: Option<&[&'static str]>,
) -> Response {
    if !ctx.csrf_ok(csrf(&fields)) {
        return forged(ctx, "/health/loaners");
    }
    let t = Texts::new(ctx.lang);
    let ticked: Option<BTreeMap<&str, bool>> = checklist.map(|items| {
        items
            .iter()
            .map(|i| (*i, fields.contains_key(*i)))
            .collect()
    });
    if change == LoanerStep::Wipe {
        let missing: Vec<String> = missing_wipe_steps(|s| fields.contains_key(s))
            .iter()
            .map(|s| t.t(&format!("loaner-step-{s}")))
            .collect();
        if !missing.is_empty() {
            let text = t.t1("loaner-wipe-incomplete", "missing", &missing.join(", "));
            let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
            return problem(&state, ctx, unprocessable, format!("wipe-{serial}"), text).await;
        }
    }
    let checklist = ticked.map(|c| json!(c));
    match state
        .store
        .move_loaner(
            &serial,
            change,
            checklist.as_ref(),
            officer.id.as_str(),
            state.clock.now(),
        )
        .await
    {
        Ok(_) => see_other(ctx, "/health/loaners"),
        Err(e) => refused(&state, ctx, e).await,
    }
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(serial): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let checklist = Some(&RETURN_STEPS[..]);
    step(
        state,
        ctx,
        officer,
        serial,
        fields,
        LoanerStep::Return,
        checklist,
    )
    .await
}

pub async fn wipe(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(serial): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let checklist = Some(&WIPE_STEPS[..]);
    step(
        state,
        ctx,
        officer,
        serial,
        fields,
        LoanerStep::Wipe,
        checklist,
    )
    .await
}

pub async fn lost(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(serial): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    step(state, ctx, officer, serial, fields, LoanerStep::Lose, None).await
}
