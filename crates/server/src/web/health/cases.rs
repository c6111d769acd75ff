//! Cases on the officer's pages: the list, the form that opens one (and shows its one-time
//! enrollment code once), a case with its flags, check-ins and photos, and the forms that
//! extend, end or close it. Input is checked as the monitoring API checks it; a bad field
//! comes back with its message and nothing is stored.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use propusk_core::monitoring::geofence::Geofence;
use propusk_core::monitoring::FlagKind;
use propusk_store::case_lists::CaseSummary;
use propusk_store::{CaseActivity, CaseChange, CaseChangeError, CaseRecord, NewCase};
use serde::Deserialize;

use super::evidence::{checkin_rows, flag_view, CheckinRow, FlagView};
use super::page::{
    duration, enrollment_page, forged, local_time, not_found, number, period, render, see_other,
    Errors,
};
use super::zones::{self, ZoneOption};
use super::Officer;
use crate::app::cases::{self, CaseDraft, CaseFault};
use crate::error::ApiError;
use crate::lang::{Lang, Pick};
use crate::monitoring_rules as rules;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::{Texts, WebCtx};
use propusk_core::monitoring::case::CaseStatus;

/// How a case's times are typed and shown in the forms: local time on its clocks.
const FORM_TIME: &str = "%Y-%m-%d %H:%M";

pub struct CaseRow {
    pub id: String,
    pub full_name: String,
    pub phone: String,
    pub status: String,
    pub status_text: String,
    pub period: String,
    pub connected: bool,
    /// How many flags wait for a decision, of how many.
    pub flags_text: String,
}

/// A case's status in words.
fn status_text(status: CaseStatus, t: Texts) -> String {
    t.t(&format!("case-status-{}", status.as_str()))
}

fn case_row(c: &CaseSummary, t: Texts) -> CaseRow {
    CaseRow {
        id: c.id.clone(),
        full_name: c.full_name.clone(),
        phone: c.phone.clone(),
        status: c.status.as_str().to_string(),
        status_text: status_text(c.status, t),
        period: period(c.starts_at, c.ends_at, &c.time_zone, t.lang),
        connected: c.monitoring_since.is_some(),
        flags_text: t.t2(
            "cases-flags",
            ("waiting", &c.waiting_flags.to_string()),
            ("all", &c.flags.to_string()),
        ),
    }
}

#[derive(Template)]
#[template(path = "health/cases.html")]
struct ListPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    status: String,
    cases: Vec<CaseRow>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Query(q): Query<ListQuery>,
) -> Response {
    let t = Texts::new(ctx.lang);
    let status = match q.status.as_str() {
        "active" | "ended" | "closed" => Some(q.status.as_str()),
        _ => None,
    };
    let cases = match state
        .store
        .case_summaries(officer.id.as_str(), status, 500, state.clock.now())
        .await
    {
        Ok(c) => c,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let html = ListPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/health/cases".into(),
        status: status.unwrap_or("").into(),
        cases: cases.iter().map(|c| case_row(c, t)).collect(),
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

#[derive(Deserialize, Default, Clone)]
pub struct CaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    radius_m: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    sms_lang: String,
}

#[derive(Template)]
#[template(path = "health/case_new.html")]
struct NewPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    form: CaseForm,
    /// The time zones to choose from, the form's selected.
    zones: Vec<ZoneOption>,
    errors: Errors,
}

/// The zone a new case's clocks default to: the regime in force's, else Moscow's.
fn regime_zone(state: &AppState) -> String {
    state
        .regimes()
        .in_force(state.clock.now())
        .map_or(rules::DEFAULT_TIME_ZONE, |r| r.time_zone_name())
        .to_string()
}

fn new_page(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    form: CaseForm,
    errors: Errors,
) -> Response {
    let zones = zones::options(
        form.time_zone.trim(),
        &regime_zone(state),
        state.clock.now(),
        ctx.lang,
    );
    let html = NewPage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/health/cases/new".into(),
        form,
        zones,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn new_form(State(state): State<AppState>, ctx: WebCtx, _officer: Officer) -> Response {
    let zone = regime_zone(&state);
    let tz = TimeZone::get(&zone).unwrap_or(TimeZone::UTC);
    let now = state.clock.now();
    let in_two_weeks = now
        .checked_add(SignedDuration::from_hours(14 * 24))
        .unwrap_or(now);
    let form = CaseForm {
        radius_m: rules::DEFAULT_RADIUS_M.to_string(),
        starts_at: now.to_zoned(tz.clone()).strftime(FORM_TIME).to_string(),
        ends_at: in_two_weeks.to_zoned(tz).strftime(FORM_TIME).to_string(),
        time_zone: zone,
        ..Default::default()
    };
    new_page(&state, ctx, StatusCode::OK, form, vec![])
}

/// A local time typed as `2020-04-15 18:30` on the clocks of `tz`.
fn parse_local(s: &str, tz: &TimeZone) -> Option<Timestamp> {
    s.trim()
        .replace('T', " ")
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp())
}

/// The case the form describes, or every problem with it, each at its field.
fn parse_case(
    form: &CaseForm,
    t: Texts,
    now: Timestamp,
    regime_zone: &str,
) -> Result<NewCase, Errors> {
    let lang = t.lang;
    let zone = form.time_zone.trim();
    // Only a zone of the list: anything else was not chosen on this page.
    let zone_offered = zones::is_offered(zone, regime_zone);
    // Times are typed on the clocks of the zone given (UTC until it is one).
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    let time = |typed: &str| {
        parse_local(typed, &tz).ok_or_else(|| {
            let text = |lang| Texts::new(lang).t("case-time-invalid");
            propusk_core::Localized::new(text(Lang::Ru), text(Lang::En))
        })
    };
    let draft = CaseDraft {
        phone: &form.phone,
        full_name: &form.full_name,
        address: &form.address,
        home: number(&form.lat).zip(number(&form.lon)),
        radius_m: number(&form.radius_m).unwrap_or(f64::NAN),
        time_zone: zone,
        lang: Some(&form.sms_lang),
        starts_at: time(&form.starts_at),
        ends_at: time(&form.ends_at),
    };
    let checked = match cases::check(draft, now) {
        Ok(case) if zone_offered => Ok(case),
        Ok(_) => Err(vec![]),
        Err(faults) => Err(faults),
    };
    checked.map_err(|mut faults| {
        let zone_fault = CaseFault::TimeZone(zone.to_string());
        if !zone_offered && !faults.contains(&zone_fault) {
            // In the form's order: before the SMS language, after everything else.
            let at = faults
                .iter()
                .position(|f| *f == CaseFault::SmsLang)
                .unwrap_or(faults.len());
            faults.insert(at, zone_fault);
        }
        faults
            .into_iter()
            .map(|fault| {
                let (field, text) = match fault {
                    CaseFault::Phone(l) => ("phone", l.get(lang).to_string()),
                    CaseFault::Name(l) => ("full_name", l.get(lang).to_string()),
                    CaseFault::Address => ("address", t.t("case-address-invalid")),
                    CaseFault::NoCoordinates => ("lat", t.t("case-coords-invalid")),
                    CaseFault::Coordinates(l) => ("lat", l.get(lang).to_string()),
                    CaseFault::Radius(_) => (
                        "radius_m",
                        t.t2(
                            "case-radius-invalid",
                            ("min", &Geofence::MIN_RADIUS_M.to_string()),
                            ("max", &Geofence::MAX_RADIUS_M.to_string()),
                        ),
                    ),
                    CaseFault::TimeZone(_) => ("time_zone", t.t("case-zone-invalid")),
                    CaseFault::SmsLang => ("sms_lang", t.t("case-sms-lang-invalid")),
                    CaseFault::Start(l) => ("starts_at", l.get(lang).to_string()),
                    CaseFault::End(l) => ("ends_at", l.get(lang).to_string()),
                    CaseFault::StartTooFar => ("starts_at", t.t("case-start-far")),
                    CaseFault::Period => ("ends_at", t.t("case-period-invalid")),
                };
                (field.to_string(), text)
            })
            .collect()
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Form(form): Form<CaseForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/health/cases/new");
    }
    let t = Texts::new(ctx.lang);
    let case = match parse_case(&form, t, state.clock.now(), &regime_zone(&state)) {
        Ok(c) => c,
        Err(errors) => {
            return new_page(&state, ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors)
        }
    };
    let code = rules::enrollment_code();
    let bare = rules::normalize_code(&code);
    let link = rules::enrollment_link(&state.app_url(), &code);
    // The patient gets the code and the link by SMS, queued with the case (sent and retried
    // by the outbox); the officer can still show them from this page.
    let sms = crate::monitoring::enrollment_sms(&code, &link, &case.lang);
    let id = match state
        .store
        .create_case(
            &case,
            &bare,
            Some(&sms),
            officer.id.as_str(),
            state.clock.now(),
        )
        .await
    {
        Ok(id) => id,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    state.outbox_wakeup.notify_one();
    // The code is shown on this answer only (the store keeps its hash): no redirect.
    let title = t.t("case-created-title");
    let lead = t.t2(
        "case-created-lead-sms",
        ("name", &case.full_name),
        ("phone", &case.phone),
    );
    let back = (format!("/health/cases/{id}"), t.t("case-created-open"));
    enrollment_page(ctx, StatusCode::CREATED, title, lead, code, link, back)
}

#[derive(Template)]
#[template(path = "health/case.html")]
struct CasePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    c: CaseRecord,
    status_text: String,
    period: String,
    monitoring_since: String,
    flags: Vec<FlagView>,
    checkins: Vec<CheckinRow>,
    /// What the case's phones have sent: (what, value).
    activity: Vec<(String, String)>,
    has_reference: bool,
    loaners: Vec<String>,
    extend_to: String,
    /// The radius in words, with why a larger one is checked when the minimum applies.
    radius_text: String,
    errors: Errors,
    /// After the case was closed: the panel's title and what happens next.
    done: Option<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
async fn case_page(
    state: &AppState,
    ctx: WebCtx,
    officer: &Officer,
    id: &str,
    status: StatusCode,
    extend_to: Option<String>,
    errors: Errors,
    after_close: bool,
) -> Response {
    let now = state.clock.now();
    let store = &state.store;
    let (case, flags) = match store.read_case(id, officer.id.as_str(), now).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(ctx, "/health/cases"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let reads = async {
        let checkins = rules::read_checkins(store, officer.id.as_str(), id, now).await?;
        let reference = store.reference_photo(id).await?;
        let loaners = store
            .loaners(Some(propusk_store::LoanerState::OnLoan))
            .await?;
        let officers = store.staff_names().await?;
        let activity = store.case_activity(id).await?;
        let mut asks = Vec::with_capacity(flags.len());
        for f in &flags {
            asks.push(match f.kind {
                FlagKind::LeftHome => store.asks_during(id, f.from, f.to).await?,
                _ => Vec::new(),
            });
        }
        let found = (
            checkins,
            reference.is_some(),
            loaners,
            officers,
            activity,
            asks,
        );
        Ok::<_, propusk_store::StoreError>(found)
    };
    let (checkins, has_reference, loaners, officers, activity, asks) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let t = Texts::new(ctx.lang);
    let tz = TimeZone::get(&case.time_zone).unwrap_or(TimeZone::UTC);
    let extend_to = extend_to.unwrap_or_else(|| {
        let week_later = case
            .ends_at
            .checked_add(SignedDuration::from_hours(7 * 24))
            .unwrap_or(case.ends_at);
        week_later.to_zoned(tz).strftime(FORM_TIME).to_string()
    });
    let html = CasePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/health/cases/{id}"),
        status_text: status_text(case.status, t),
        period: period(case.starts_at, case.ends_at, &case.time_zone, t.lang),
        monitoring_since: case.monitoring_since.map_or_else(
            || t.t("case-not-connected"),
            |s| local_time(s, &case.time_zone, t.lang),
        ),
        flags: flags
            .iter()
            .zip(&asks)
            .map(|(f, asked)| {
                let mut view = flag_view(f, &case.time_zone, t, Some(&officers));
                view.checkins = checkin_rows(case.home, &case.time_zone, asked, t);
                view
            })
            .collect(),
        checkins: checkin_rows(case.home, &case.time_zone, &checkins, t),
        activity: activity_facts(
            &activity,
            now,
            state.monitoring.report_every,
            &case.time_zone,
            t,
        ),
        has_reference,
        loaners: loaners
            .into_iter()
            .filter(|l| l.case_id.as_deref() == Some(id))
            .map(|l| l.serial)
            .collect(),
        extend_to,
        radius_text: radius_text(case.radius_m, t),
        errors,
        done: (after_close && case.status == CaseStatus::Closed).then(|| {
            (
                t.t("officers-closed-title"),
                t.t1("officers-closed-next", "days", &retention_days(state, t)),
            )
        }),
        c: case,
    }
    .render();
    render(ctx, status, html)
}

/// What the case's phones have sent, in words: the last report and how long ago, how many,
/// and whether the app is open now.
fn activity_facts(
    a: &CaseActivity,
    now: Timestamp,
    report_every: SignedDuration,
    tz: &str,
    t: Texts,
) -> Vec<(String, String)> {
    let ago = |at: Timestamp| {
        t.t2(
            "case-ago",
            ("time", &local_time(at, tz, t.lang)),
            ("ago", &duration(at, now, t)),
        )
    };
    let last = a.last_report_at.map_or_else(|| t.t("case-no-reports"), ago);
    let app = match a.app_last_seen_at {
        Some(seen) if crate::monitoring::app_open(seen, now, report_every) => {
            t.t1("case-app-open", "ago", &duration(seen, now, t))
        }
        Some(seen) => t.t1("case-app-closed", "seen", &ago(seen)),
        None => t.t("case-app-never"),
    };
    vec![
        (t.t("case-last-report"), last),
        (t.t("case-reports"), a.reports_received.to_string()),
        (t.t("case-app"), app),
    ]
}

/// A case's radius in words; when it is under the evaluator's minimum, the radius checked
/// and why.
fn radius_text(radius_m: f64, t: Texts) -> String {
    let min = crate::monitoring::geofence_config().min_effective_radius_m;
    let given = radius_m.round() as u32;
    if radius_m < min {
        super::evidence::radius_reason(t, min.round() as u32, given)
    } else {
        t.t1("metres", "m", &given.to_string())
    }
}

/// How long a closed case keeps its home and photos, in words: «30 дней», "1 day".
fn retention_days(state: &AppState, t: Texts) -> String {
    let n = state.monitoring.retention.as_secs().unsigned_abs() / 86_400;
    match t.lang {
        Lang::Ru => format!("{n} {}", propusk_core::ru_plural(n, "день", "дня", "дней")),
        Lang::En => format!("{n} {}", if n == 1 { "day" } else { "days" }),
    }
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    closed: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let closed = !q.closed.is_empty();
    case_page(
        &state,
        ctx,
        &officer,
        &id,
        StatusCode::OK,
        None,
        vec![],
        closed,
    )
    .await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ends_at: String,
}

async fn change(
    state: AppState,
    ctx: WebCtx,
    officer: Officer,
    id: String,
    form: ChangeForm,
    change: impl FnOnce(&CaseRecord, Texts) -> Result<CaseChange, (String, String)>,
    done: &str,
) -> Response {
    let back = format!("/health/cases/{id}");
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &back);
    }
    let t = Texts::new(ctx.lang);
    let case = match state.store.case(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(ctx, "/health/cases"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let typed = Some(form.ends_at.clone()).filter(|s| !s.trim().is_empty());
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let (status, problem) = match change(&case, t) {
        Err(problem) => (unprocessable, problem),
        Ok(step) => {
            let now = state.clock.now();
            let changed = state
                .store
                .change_case(&id, step, officer.id.as_str(), now)
                .await;
            match changed {
                Ok(_) => return see_other(ctx, &format!("{back}{done}")),
                Err(CaseChangeError::NotFound) => return not_found(ctx, "/health/cases"),
                Err(CaseChangeError::Store(e)) => return ApiError::internal(e).into_response(),
                Err(CaseChangeError::WrongStatus(status)) => {
                    let text = t.t1("case-wrong-status", "status", &status_text(status, t));
                    (StatusCode::CONFLICT, (String::new(), text))
                }
                Err(CaseChangeError::NotLater) => (
                    unprocessable,
                    ("ends_at".to_string(), t.t("case-not-later")),
                ),
            }
        }
    };
    case_page(
        &state,
        ctx,
        &officer,
        &id,
        status,
        typed,
        vec![problem],
        false,
    )
    .await
}

pub async fn extend(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    let typed = form.ends_at.clone();
    change(
        state,
        ctx,
        officer,
        id,
        form,
        move |case, t| {
            let tz = TimeZone::get(&case.time_zone).unwrap_or(TimeZone::UTC);
            let until = parse_local(&typed, &tz)
                .ok_or_else(|| ("ends_at".to_string(), t.t("case-time-invalid")))?;
            if !rules::period_ok(case.starts_at, until) {
                return Err(("ends_at".to_string(), t.t("case-period-invalid")));
            }
            Ok(CaseChange::Extend(until))
        },
        "",
    )
    .await
}

pub async fn end(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    change(
        state,
        ctx,
        officer,
        id,
        form,
        |_, _| Ok(CaseChange::EndNow),
        "",
    )
    .await
}

pub async fn close(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    let done = "?closed=1";
    change(
        state,
        ctx,
        officer,
        id,
        form,
        |_, _| Ok(CaseChange::Close),
        done,
    )
    .await
}

/// The check before a case is closed: whose case, and what closing does (it cannot be
/// undone). Only its confirm button closes the case.
#[derive(Template)]
#[template(path = "health/case_close_check.html")]
struct CloseCheckPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    c: CaseRecord,
    status_text: String,
    period: String,
    retention_days: String,
}

pub async fn close_check(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &format!("/health/cases/{id}"));
    }
    let case = match state.store.case(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(ctx, "/health/cases"),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let t = Texts::new(ctx.lang);
    if case.status == CaseStatus::Closed {
        let text = t.t1("case-wrong-status", "status", &status_text(case.status, t));
        let problem = vec![(String::new(), text)];
        return case_page(
            &state,
            ctx,
            &officer,
            &id,
            StatusCode::CONFLICT,
            None,
            problem,
            false,
        )
        .await;
    }
    let html = CloseCheckPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/health/cases/{id}"),
        status_text: status_text(case.status, t),
        period: period(case.starts_at, case.ends_at, &case.time_zone, t.lang),
        retention_days: retention_days(&state, t),
        c: case,
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

/// A stored photo (JPEG or PNG, as the store took it), never cached; or why there is none.
fn photo(read: propusk_store::Result<Option<Vec<u8>>>, lang: Lang) -> Response {
    match read {
        Ok(Some(bytes)) => {
            let kind = rules::photo_type(&bytes).unwrap_or("image/jpeg");
            (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::CACHE_CONTROL, "private, no-store"),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, Texts::new(lang).t("photo-gone")).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

pub async fn reference_photo(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
) -> Response {
    let now = state.clock.now();
    let read = rules::read_reference_photo(&state.store, officer.id.as_str(), &id, now).await;
    photo(read, ctx.lang)
}

pub async fn checkin_photo(
    State(state): State<AppState>,
    ctx: WebCtx,
    officer: Officer,
    Path(id): Path<String>,
) -> Response {
    let now = state.clock.now();
    let read = rules::read_checkin_photo(&state.store, officer.id.as_str(), &id, now).await;
    photo(read.map(|found| found.map(|(_, bytes)| bytes)), ctx.lang)
}
