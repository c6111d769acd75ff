//! The officer's queue, appeals and one flag with its decision forms. A decision takes
//! three steps, as GOV.UK's "check answers" pattern has it: the form (every problem reported
//! at once, at its field), a check page that says in plain words what will happen and what
//! the patient will be told by SMS (the answers ride along in hidden fields, so no script is
//! needed), and only then the confirmed post, which goes through
//! [`propusk_store::Store::decide_flag`]. The store replays the flag's history and refuses
//! what the rules forbid (deciding before the patient was told, sanctioning silence, the
//! confirming officer deciding the appeal); the check page already runs the same rules on
//! the history it read, so a refusal comes before the officer is asked to confirm.

use std::collections::HashMap;
use std::num::NonZeroU32;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::Paragraph;
use propusk_core::monitoring::case::{FlagCase, FlagStage, Sanction, TransitionError};
use propusk_core::monitoring::FlagKind;
use propusk_store::{CaseRecord, FlagRecord, FlagStepError, OfficerStep};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::evidence::{checkin_rows, flag_summary, flag_view, CheckinRow, FlagView};
use super::page::{duration, forged, local_time, not_found, render, see_other, Errors};
use super::Officer;
use crate::error::ApiError;
use crate::monitoring::sms_texts;
use crate::monitoring_rules as rules;
use crate::monitoring_rules::UNANSWERED_FOR;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::{Texts, WebCtx};

/// A flag in the queue as a summarised card: who, what, when, where it stands, and one
/// line of its evidence (the whole evidence is on the flag's own page).
pub struct QueuedFlag {
    pub id: String,
    pub case_id: String,
    pub case_name: String,
    pub kind_text: String,
    pub state: String,
    pub state_text: String,
    pub period: String,
    pub ongoing: bool,
    /// When it was raised, and how long ago.
    pub raised: String,
    pub summary: String,
    /// The patient has written an explanation (read on the flag's page).
    pub explained: bool,
}

/// A question no one answered, with whose case it is (never a flag: nothing to decide).
pub struct UnansweredRow {
    pub c: CheckinRow,
    pub case_id: String,
    pub case_name: String,
}

/// One choice of a queue filter: (value, words with the count, chosen).
pub struct FilterOption {
    pub value: &'static str,
    pub text: String,
    pub chosen: bool,
}

/// The queue's filters, as typed into its GET form (unknown values mean "any").
#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    age: String,
}

const KINDS: [&str; 3] = ["left_home", "no_signal", "missed_checkin"];
const STATES: [&str; 3] = ["open", "notified", "appealed"];
/// "Raised longer ago than": (value, hours).
const AGES: [(&str, i64); 3] = [("1h", 1), ("1d", 24), ("3d", 72)];

#[derive(Template)]
#[template(path = "health/queue.html")]
struct QueuePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    appeals_only: bool,
    /// Whether any filter is set (the page offers to clear them).
    filtered: bool,
    /// "Showing 2 of 5 flags".
    shown_text: String,
    kinds: Vec<FilterOption>,
    states: Vec<FilterOption>,
    ages: Vec<FilterOption>,
    flags: Vec<QueuedFlag>,
    unanswered: Vec<UnansweredRow>,
}

/// A flag for the officer's pages, with the questions asked during its run beside it and
/// the radius explained where the minimum applied.
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
        if let Some(case) = case {
            super::evidence::explain_radius(&mut view, flag, case.radius_m, t);
        }
    }
    Ok(view)
}

type Officers = HashMap<String, String>;

/// The cases of some flags, each read once.
async fn cases_of(
    state: &AppState,
    flags: &[FlagRecord],
) -> propusk_store::Result<HashMap<String, CaseRecord>> {
    let mut cases = HashMap::new();
    for flag in flags {
        if !cases.contains_key(&flag.case_id) {
            if let Some(case) = state.store.case(&flag.case_id).await? {
                cases.insert(flag.case_id.clone(), case);
            }
        }
    }
    Ok(cases)
}

/// Whether a flag passes the queue's filters (`None`: that filter is not set).
fn passes(
    flag: &FlagRecord,
    kind: Option<&str>,
    stage: Option<&str>,
    older_than: Option<Timestamp>,
) -> bool {
    kind.is_none_or(|k| flag.kind.as_str() == k)
        && stage.is_none_or(|s| flag.state.as_str() == s)
        && older_than.is_none_or(|before| flag.raised_at <= before)
}

async fn list(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    appeals_only: bool,
    q: QueueQuery,
) -> Response {
    let t = Texts::new(ctx.lang);
    let all = match state
        .store
        .officer_queue(officer.id.as_str(), state.clock.now())
        .await
    {
        Ok(f) => f,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let all: Vec<FlagRecord> = all
        .into_iter()
        .filter(|f| !appeals_only || f.state == FlagStage::Appealed)
        .collect();
    let now = state.clock.now();
    let kind = KINDS.into_iter().find(|k| *k == q.kind);
    let stage = match appeals_only {
        true => None,
        false => STATES.into_iter().find(|s| *s == q.state),
    };
    let age = AGES.into_iter().find(|(a, _)| *a == q.age);
    let older_than = age.map(|(_, h)| {
        now.checked_sub(SignedDuration::from_hours(h))
            .unwrap_or(now)
    });
    // Each choice counts the flags it would show with the other filters as they are.
    let kinds = KINDS
        .into_iter()
        .map(|k| FilterOption {
            value: k,
            text: count_text(
                t,
                &t.t(&format!("flag-kind-{k}")),
                all.iter()
                    .filter(|f| passes(f, Some(k), stage, older_than))
                    .count(),
            ),
            chosen: kind == Some(k),
        })
        .collect();
    let states = STATES
        .into_iter()
        .map(|s| FilterOption {
            value: s,
            text: count_text(
                t,
                &t.t(&format!("officers-flag-state-{s}")),
                all.iter()
                    .filter(|f| passes(f, kind, Some(s), older_than))
                    .count(),
            ),
            chosen: stage == Some(s),
        })
        .collect();
    let ages = AGES
        .into_iter()
        .map(|(a, h)| {
            let before = now
                .checked_sub(SignedDuration::from_hours(h))
                .unwrap_or(now);
            FilterOption {
                value: a,
                text: count_text(
                    t,
                    &t.t(&format!("officers-age-{a}")),
                    all.iter()
                        .filter(|f| passes(f, kind, stage, Some(before)))
                        .count(),
                ),
                chosen: age.is_some_and(|(chosen, _)| chosen == a),
            }
        })
        .collect();
    let flags: Vec<FlagRecord> = all
        .iter()
        .filter(|f| passes(f, kind, stage, older_than))
        .cloned()
        .collect();
    let shown_text = t.t2(
        "officers-queue-shown",
        ("shown", &flags.len().to_string()),
        ("all", &all.len().to_string()),
    );
    let since = now.checked_sub(UNANSWERED_FOR).unwrap_or(now);
    let reads = async {
        let cases = cases_of(&state, &flags).await?;
        let unanswered = match appeals_only {
            true => Vec::new(),
            false => state.store.unanswered_asks(since, now).await?,
        };
        Ok::<_, propusk_store::StoreError>((cases, unanswered))
    };
    let (cases, unanswered) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let flags = flags
        .iter()
        .map(|flag| {
            let case = cases.get(&flag.case_id);
            let tz = case.map_or("UTC", |c| c.time_zone.as_str());
            let view = flag_view(flag, tz, t, Some(&HashMap::new()));
            QueuedFlag {
                id: flag.id.clone(),
                case_id: flag.case_id.clone(),
                case_name: case.map(|c| c.full_name.clone()).unwrap_or_default(),
                kind_text: view.kind_text,
                state: view.state,
                state_text: view.state_text,
                period: format!("{} ({})", view.period, view.length),
                ongoing: flag.ongoing,
                raised: t.t2(
                    "officers-raised",
                    ("time", &local_time(flag.raised_at, tz, t.lang)),
                    ("ago", &duration(flag.raised_at, now, t)),
                ),
                summary: flag_summary(flag, tz, t),
                explained: flag.statement.is_some(),
            }
        })
        .collect();
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
        filtered: kind.is_some() || stage.is_some() || age.is_some(),
        shown_text,
        kinds,
        states,
        ages,
        flags,
        unanswered,
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

/// A filter's choice with how many flags it shows: «Вне дома (3)».
fn count_text(t: Texts, what: &str, n: usize) -> String {
    t.t2(
        "officers-filter-count",
        ("what", what),
        ("n", &n.to_string()),
    )
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Query(q): Query<QueueQuery>,
) -> Response {
    list(state, ctx, officer, false, q).await
}

pub async fn appeals(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Query(q): Query<QueueQuery>,
) -> Response {
    list(state, ctx, officer, true, q).await
}

/// What the officer typed into a decision form, kept when a form comes back with errors
/// and carried through the check page in hidden fields.
#[derive(Deserialize, Default, Clone)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    /// `dismiss` or `confirm` (set by the form the officer used); empty on an appeal.
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
    /// On the check page's post: what the answers and the flag were when checked.
    #[serde(default)]
    checked: String,
    /// On the check page's post: `change` goes back to the filled form.
    #[serde(default)]
    action: String,
}

/// Which decision form: the first decision, or the one on an appeal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    Decision,
    Appeal,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Self::Decision => "decision",
            Self::Appeal => "appeal-decision",
        }
    }
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
    /// After a confirmed decision: the panel's title and what happens next.
    done: Option<(String, String)>,
}

/// The flag and its case, read for the officer (the officers' names only where a page
/// shows them).
async fn read(
    state: &AppState,
    officer: &Officer,
    id: &str,
) -> propusk_store::Result<Option<(FlagRecord, Option<CaseRecord>)>> {
    let now = state.clock.now();
    let Some(flag) = rules::read_flag(&state.store, officer.id.as_str(), id, now).await? else {
        return Ok(None);
    };
    let case = cases_of(state, std::slice::from_ref(&flag))
        .await?
        .remove(&flag.case_id);
    Ok(Some((flag, case)))
}

#[allow(clippy::too_many_arguments)]
async fn flag_page(
    state: &AppState,
    ctx: WebCtx,
    officer: &Officer,
    id: &str,
    status: StatusCode,
    form: DecisionForm,
    errors: Errors,
    after_decision: bool,
) -> Response {
    let found = async {
        let Some((flag, case)) = read(state, officer, id).await? else {
            return Ok(None);
        };
        Ok::<_, propusk_store::StoreError>(Some((flag, case, state.store.staff_names().await?)))
    };
    let (flag, case, officers) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(ctx, "/health/queue"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let t = Texts::new(ctx.lang);
    let view = match officer_view(state, &flag, case.as_ref(), t, &officers).await {
        Ok(v) => v,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let done = after_decision.then(|| decided_panel(&flag, t)).flatten();
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
        done,
    }
    .render();
    render(ctx, status, html)
}

/// The confirmation panel after a decision: what was decided and what happens next (none
/// while the flag still waits for a decision).
fn decided_panel(flag: &FlagRecord, t: Texts) -> Option<(String, String)> {
    let next = match flag.state {
        FlagStage::Dismissed => t.t("officers-done-dismissed"),
        FlagStage::ConfirmedWithSanction => t.t1(
            "officers-done-confirmed",
            "sanction",
            // Inside a sentence: «Назначена мера: штраф 4000 ₽».
            &flag
                .sanction
                .as_ref()
                .map(|s| lower_first(&super::evidence::sanction_text(t, s)))
                .unwrap_or_default(),
        ),
        FlagStage::AppealUpheld => t.t("officers-done-upheld"),
        FlagStage::AppealRejected => t.t("officers-done-rejected"),
        FlagStage::Open | FlagStage::Notified | FlagStage::Appealed => return None,
    };
    Some((t.t("officers-done-title"), next))
}

/// A phrase with its first letter in lower case, to stand inside a sentence.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    decided: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let form = DecisionForm::default();
    let decided = !q.decided.is_empty();
    flag_page(
        &state,
        ctx,
        &officer,
        &id,
        StatusCode::OK,
        form,
        vec![],
        decided,
    )
    .await
}

/// Why the rules refuse a step, as the page says it: (status, (input id, message)).
fn refusal(e: &TransitionError, t: Texts) -> (StatusCode, (String, String)) {
    let (status, id) = match e {
        TransitionError::SameOfficer(_) => (StatusCode::FORBIDDEN, "refused-same-officer"),
        TransitionError::NotSanctionable(_) => (StatusCode::CONFLICT, "refused-not-sanctionable"),
        TransitionError::NotAllowed { state: "open", .. } => {
            (StatusCode::CONFLICT, "refused-not-notified")
        }
        TransitionError::MissingReason(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "refused-reason-required")
        }
        TransitionError::NotAllowed { .. }
        | TransitionError::TimeGoesBackwards { .. }
        | TransitionError::NotRaised => (StatusCode::CONFLICT, "refused-state"),
    };
    (status, (String::new(), t.t(id)))
}

/// The officer's note, or its problem at the note's field (`required`: a confirmation or a
/// decision on an appeal must give its reason).
fn typed_note(
    form: &DecisionForm,
    field: &str,
    required: bool,
    t: Texts,
    errors: &mut Errors,
) -> Option<Paragraph> {
    match rules::note(&form.note) {
        Ok(note) if required && note.as_str().trim().is_empty() => {
            errors.push((field.into(), t.t("officers-note-missing")));
            None
        }
        Ok(note) => Some(note),
        Err(e) => {
            errors.push((field.into(), t.lang.pick(&e.localized()).to_string()));
            None
        }
    }
}

/// The step a decision form asks for, or every problem with it, each at its field.
fn step_of(form: &DecisionForm, route: Route, t: Texts) -> Result<OfficerStep, Errors> {
    let mut errors = Errors::new();
    let step = match (route, form.decision.as_str()) {
        (Route::Decision, "dismiss") => typed_note(form, "dismiss-note", false, t, &mut errors)
            .map(|note| OfficerStep::Dismiss { note }),
        (Route::Decision, "confirm") => {
            let sanction = match form.sanction.as_str() {
                "warning" => Some(Sanction::Warning),
                "fine" => match form.amount.trim().parse::<NonZeroU32>() {
                    Ok(amount_rub) => Some(Sanction::Fine { amount_rub }),
                    Err(_) => {
                        errors.push(("amount".into(), t.t("decision-amount-invalid")));
                        None
                    }
                },
                _ => {
                    errors.push(("sanction-warning".into(), t.t("decision-sanction-missing")));
                    None
                }
            };
            let note = typed_note(form, "confirm-note", true, t, &mut errors);
            sanction
                .zip(note)
                .map(|(sanction, note)| OfficerStep::Confirm { sanction, note })
        }
        (Route::Decision, _) => {
            errors.push((String::new(), t.t("decision-missing")));
            None
        }
        (Route::Appeal, _) => {
            let upheld = match form.upheld.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => {
                    errors.push(("upheld-yes".into(), t.t("appeal-decision-missing")));
                    None
                }
            };
            let note = typed_note(form, "appeal-note", true, t, &mut errors);
            upheld
                .zip(note)
                .map(|(upheld, note)| OfficerStep::DecideAppeal { upheld, note })
        }
    };
    match step {
        Some(step) if errors.is_empty() => Ok(step),
        _ => Err(errors),
    }
}

/// What the answers and the flag were when the officer checked them: the confirmed post
/// must carry the same, or the answers are checked again.
fn checked_digest(ctx: &WebCtx, flag: &FlagRecord, route: Route, form: &DecisionForm) -> String {
    // A browser sends line breaks as CR LF, and a hidden field's value comes back so too.
    let note = form.note.trim().replace("\r\n", "\n");
    let mut h = Sha256::new();
    for part in [
        ctx.csrf.as_str(),
        flag.id.as_str(),
        &flag.history.len().to_string(),
        route.path(),
        form.decision.as_str(),
        form.sanction.as_str(),
        form.amount.trim(),
        note.as_str(),
        form.upheld.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The check page: the decision in plain words, then a confirm button and a change button.
#[derive(Template)]
#[template(path = "health/flag_check.html")]
struct CheckPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    flag_id: String,
    action: &'static str,
    /// (what, value) rows: whose case, which flag, the decision, the sanction, the note.
    rows: Vec<(String, String)>,
    /// The SMS the patient will get, word for word.
    sms: Vec<String>,
    /// Said when the answers were changed after the check and are shown again.
    again: bool,
    form: DecisionForm,
    checked: String,
    confirm_text: String,
}

/// Runs the step on the flag's history as read (nothing stored): the SMS it would send, or
/// the rule that refuses it.
fn dry_run(
    flag: &FlagRecord,
    officer: &Officer,
    step: &OfficerStep,
    now: Timestamp,
) -> Result<Vec<propusk_core::monitoring::case::PatientSms>, TransitionError> {
    let case = FlagCase::replay(&flag.history)?;
    let at = now.max(flag.history.last().map_or(now, |e| e.at()));
    let t = match step {
        OfficerStep::Dismiss { note } => case.dismiss(&officer.id, at, note.as_str()),
        OfficerStep::Confirm { sanction, note } => {
            case.confirm(&officer.id, at, sanction.clone(), note.as_str())
        }
        OfficerStep::DecideAppeal { upheld, note } => {
            case.decide_appeal(&officer.id, at, *upheld, note.as_str())
        }
    }?;
    Ok(t.notifications)
}

#[allow(clippy::too_many_arguments)]
fn check_page(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    route: Route,
    flag: &FlagRecord,
    case: Option<&CaseRecord>,
    step: &OfficerStep,
    sms: &[propusk_core::monitoring::case::PatientSms],
    form: DecisionForm,
    again: bool,
) -> Response {
    let t = Texts::new(ctx.lang);
    let tz = case.map_or("UTC", |c| c.time_zone.as_str());
    let view = flag_view(flag, tz, t, Some(&HashMap::new()));
    let mut rows = vec![
        (
            t.t("officers-check-patient"),
            case.map(|c| c.full_name.clone()).unwrap_or_default(),
        ),
        (
            t.t("officers-check-flag"),
            format!("{}, {} ({})", view.kind_text, view.period, view.length),
        ),
    ];
    let (decision, confirm_text) = match step {
        OfficerStep::Dismiss { .. } => (
            t.t("officers-check-dismiss"),
            t.t("officers-confirm-dismiss"),
        ),
        OfficerStep::Confirm { sanction, .. } => {
            rows.push((
                t.t("officers-check-decision"),
                t.t("officers-check-confirm"),
            ));
            (
                super::evidence::sanction_text(t, sanction),
                t.t("officers-confirm-sanction"),
            )
        }
        OfficerStep::DecideAppeal { upheld: true, .. } => {
            (t.t("officers-check-uphold"), t.t("officers-confirm-appeal"))
        }
        OfficerStep::DecideAppeal { upheld: false, .. } => {
            (t.t("officers-check-reject"), t.t("officers-confirm-appeal"))
        }
    };
    let decision_label = match step {
        OfficerStep::Confirm { .. } => t.t("officers-check-sanction"),
        _ => t.t("officers-check-decision"),
    };
    rows.push((decision_label, decision));
    let note = match step {
        OfficerStep::Dismiss { note }
        | OfficerStep::Confirm { note, .. }
        | OfficerStep::DecideAppeal { note, .. } => note.as_str().trim().to_string(),
    };
    rows.push((
        t.t("officers-check-note"),
        if note.is_empty() {
            t.t("officers-check-no-note")
        } else {
            note
        },
    ));
    let (time_zone, lang) = case.map_or(("UTC", "ru"), |c| (c.time_zone.as_str(), c.lang.as_str()));
    let app_url = state.app_url();
    let text = sms_texts(&app_url);
    let sms = sms.iter().map(|s| text(s, time_zone, lang)).collect();
    let checked = checked_digest(&ctx, flag, route, &form);
    let html = CheckPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/health/flags/{}", flag.id),
        flag_id: flag.id.clone(),
        action: route.path(),
        rows,
        sms,
        again,
        form,
        checked,
        confirm_text,
    }
    .render();
    render(ctx, status, html)
}

/// The flag's page again with the decision forms as the officer filled them, and what to say
/// about them (`errors`, possibly none).
async fn form_again(
    state: &AppState,
    ctx: WebCtx,
    officer: &Officer,
    id: &str,
    status: StatusCode,
    form: DecisionForm,
    errors: Errors,
) -> Response {
    flag_page(state, ctx, officer, id, status, form, errors, false).await
}

/// A decision form's post: forged → refused; problems → the form again with every one of
/// them; a step the rules refuse → the form with why; else the check page. Nothing is
/// stored here.
async fn check(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    id: String,
    form: DecisionForm,
    route: Route,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &format!("/health/flags/{id}"));
    }
    let t = Texts::new(ctx.lang);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let step = match step_of(&form, route, t) {
        Ok(step) => step,
        Err(errors) => {
            return form_again(&state, ctx, &officer, &id, unprocessable, form, errors).await
        }
    };
    let (flag, case) = match read(&state, &officer, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(ctx, "/health/queue"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match dry_run(&flag, &officer, &step, state.clock.now()) {
        Ok(sms) => check_page(
            &state,
            ctx,
            StatusCode::OK,
            route,
            &flag,
            case.as_ref(),
            &step,
            &sms,
            form,
            false,
        ),
        Err(e) => {
            let (status, problem) = refusal(&e, t);
            form_again(&state, ctx, &officer, &id, status, form, vec![problem]).await
        }
    }
}

/// The check page's post: "change" → the filled form; answers changed since the check →
/// checked again; else the step is taken and the flag's page says it was, with what
/// happens next.
async fn confirm(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    id: String,
    form: DecisionForm,
    route: Route,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &format!("/health/flags/{id}"));
    }
    if form.action == "change" {
        return form_again(&state, ctx, &officer, &id, StatusCode::OK, form, vec![]).await;
    }
    let t = Texts::new(ctx.lang);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let step = match step_of(&form, route, t) {
        Ok(step) => step,
        Err(errors) => {
            return form_again(&state, ctx, &officer, &id, unprocessable, form, errors).await
        }
    };
    let (flag, case) = match read(&state, &officer, &id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(ctx, "/health/queue"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let now = state.clock.now();
    if form.checked != checked_digest(&ctx, &flag, route, &form) {
        // Not what the officer checked (the answers or the flag changed since): check again.
        return match dry_run(&flag, &officer, &step, now) {
            Ok(sms) => check_page(
                &state,
                ctx,
                StatusCode::CONFLICT,
                route,
                &flag,
                case.as_ref(),
                &step,
                &sms,
                form,
                true,
            ),
            Err(e) => {
                let (status, problem) = refusal(&e, t);
                form_again(&state, ctx, &officer, &id, status, form, vec![problem]).await
            }
        };
    }
    let app_url = state.app_url();
    let decided = state
        .store
        .decide_flag(&id, &officer.id, &step, now, &sms_texts(&app_url))
        .await;
    match decided {
        Ok(_) => {
            state.outbox_wakeup.notify_one();
            see_other(ctx, &format!("/health/flags/{id}?decided=1"))
        }
        Err(FlagStepError::NotFound) => not_found(ctx, "/health/queue"),
        Err(FlagStepError::Store(e)) => ApiError::internal(e).into_response(),
        Err(FlagStepError::Refused(e)) => {
            let (status, problem) = refusal(&e, t);
            form_again(&state, ctx, &officer, &id, status, form, vec![problem]).await
        }
    }
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    check(state, ctx, officer, id, form, Route::Decision).await
}

pub async fn decide_confirmed(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    confirm(state, ctx, officer, id, form, Route::Decision).await
}

pub async fn decide_appeal(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(mut form): Form<DecisionForm>,
) -> Response {
    form.decision.clear();
    check(state, ctx, officer, id, form, Route::Appeal).await
}

pub async fn decide_appeal_confirmed(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(mut form): Form<DecisionForm>,
) -> Response {
    form.decision.clear();
    confirm(state, ctx, officer, id, form, Route::Appeal).await
}
