//! Quarantine monitoring over HTTP for health officers: cases, the queue and decisions,
//! appeals, check-ins and their photos, and loaner phones. The patient's device speaks
//! `routes::device`.
//!
//! The caller is staff with role `health` (a session token). Every staff read of a case and
//! every decision is in the audit log (the store writes it).

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::domain::{distance_m, FullName, GeoPoint, PhoneNumber};
use propusk_core::monitoring::case::{OfficerId, Sanction, TransitionError};
use propusk_core::monitoring::geofence::Geofence;
use propusk_core::monitoring::loaner::{missing_wipe_steps, LoanerState, LoanerStep};
use propusk_core::monitoring::FlagKind;
use propusk_store::{
    CaseChange, CaseChangeError, CaseRecord, ChallengeRecord, FlagRecord, FlagStepError, Loaner,
    LoanerError, NewCase, OfficerStep, Role,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::monitoring::sms_texts;
use crate::monitoring_rules as rules;
use crate::state::AppState;
use propusk_core::monitoring::face::FaceComparison;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(create_case))
        .route("/api/v1/cases/{id}", get(show_case))
        .route("/api/v1/cases/{id}/extend", post(extend_case))
        .route("/api/v1/cases/{id}/end", post(end_case))
        .route("/api/v1/cases/{id}/close", post(close_case))
        .route("/api/v1/flags/queue", get(queue))
        .route("/api/v1/flags/{id}", get(show_flag))
        .route("/api/v1/flags/{id}/decision", post(decide))
        .route("/api/v1/flags/{id}/appeal-decision", post(decide_appeal))
        .route("/api/v1/cases/{id}/checkins", get(case_checkins))
        .route("/api/v1/cases/{id}/reference-photo", get(reference_photo))
        .route("/api/v1/checkins/{id}/photo", get(checkin_photo))
        .route("/api/v1/loaners", post(add_loaner).get(list_loaners))
        .route("/api/v1/loaners/overdue", get(overdue_loaners))
        .route("/api/v1/loaners/{serial}/lend", post(lend_loaner))
        .route("/api/v1/loaners/{serial}/return", post(return_loaner))
        .route("/api/v1/loaners/{serial}/wipe", post(wipe_loaner))
        .route("/api/v1/loaners/{serial}/lost", post(lose_loaner))
}

pub(super) fn unprocessable(code: &'static str, ru: String, en: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, ru, en)
}

pub(super) fn parse_time(s: &str, field: &'static str) -> ApiResult<Timestamp> {
    propusk_core::domain::parse_instant(s).map_err(|e| {
        ApiError::localized(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.localized(),
        )
        .with("field", field)
    })
}

/// A signed-in health officer: the only role that opens cases and decides flags.
pub struct Health(pub OfficerId);

impl FromRequestParts<AppState> for Health {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let staff = Staff::from_request_parts(parts, state).await?;
        staff.require(&[Role::Health])?;
        OfficerId::parse(&staff.0.subject_id)
            .map(Self)
            .map_err(ApiError::internal)
    }
}

fn case_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "case_not_found",
        "Дело не найдено.",
        "Case not found.",
    )
}

fn flag_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "flag_not_found",
        "Отметка не найдена.",
        "Flag not found.",
    )
}

pub(super) fn flag_json(flag: &FlagRecord) -> Value {
    json!({
        "id": flag.id,
        "case_id": flag.case_id,
        "kind": flag.kind.as_str(),
        "state": flag.state,
        "from": flag.from.to_string(),
        "to": flag.to.to_string(),
        "ongoing": flag.ongoing,
        "evidence": flag.evidence,
        "sanction": flag.sanction,
        "awaits_officer": flag.awaits_officer,
        "history": flag.history,
    })
}

/// The questions asked at once during a `left_home` flag's run (immediate check-ins: when,
/// what raised them, whether and from how far they were answered); empty for other kinds.
pub(super) async fn asks_json(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<Value> {
    if flag.kind != FlagKind::LeftHome {
        return Ok(json!([]));
    }
    let asks = state
        .store
        .asks_during(&flag.case_id, flag.from, flag.to)
        .await?;
    Ok(asks.iter().map(|c| challenge_json(c, home)).collect())
}

/// A flag as an officer reads it, with the questions asked during it.
async fn officer_flag(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<Value> {
    let mut v = flag_json(flag);
    v["checkins"] = asks_json(state, flag, home).await?;
    Ok(v)
}

/// The home of a flag's case (none once erased after retention, or for an unknown case).
async fn home_of(state: &AppState, case_id: &str) -> ApiResult<Option<GeoPoint>> {
    Ok(state.store.case(case_id).await?.and_then(|c| c.home))
}

fn case_json(case: &CaseRecord) -> Value {
    json!({
        "id": case.id,
        "status": case.status,
        "phone": case.phone,
        "full_name": case.full_name,
        // Erased (null) once the case's data is past retention.
        "home": case.home.map(|h| json!({
            "address": case.home_address, "lat": h.lat(), "lon": h.lon(),
        })),
        "radius_m": case.radius_m,
        "time_zone": case.time_zone,
        "lang": case.lang,
        "starts_at": case.starts_at.to_string(),
        "ends_at": case.ends_at.to_string(),
        "monitoring_since": case.monitoring_since.map(|t| t.to_string()),
        "created_by": case.created_by,
        "ended_at": case.ended_at.map(|t| t.to_string()),
        "closed_at": case.closed_at.map(|t| t.to_string()),
        "purged_at": case.purged_at.map(|t| t.to_string()),
        "purged_fixes": case.purged_fixes,
    })
}

/// [`case_json`] with what its phones have sent so far.
async fn case_with_activity(state: &AppState, case: &CaseRecord) -> ApiResult<Value> {
    let activity = state.store.case_activity(&case.id).await?;
    let mut body = case_json(case);
    body["last_report_at"] = json!(activity.last_report_at.map(|t| t.to_string()));
    body["reports_received"] = json!(activity.reports_received);
    body["app_last_seen_at"] = json!(activity.app_last_seen_at.map(|t| t.to_string()));
    Ok(body)
}

#[derive(Deserialize)]
struct HomeInput {
    address: String,
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct CaseInput {
    phone: String,
    full_name: String,
    home: HomeInput,
    radius_m: Option<f64>,
    starts_at: String,
    ends_at: String,
    time_zone: Option<String>,
    /// The language of the patient's SMS.
    lang: Option<String>,
}

impl CaseInput {
    fn parse(self, now: Timestamp) -> ApiResult<NewCase> {
        let phone = PhoneNumber::parse(&self.phone).map_err(|e| {
            let l = e.localized();
            unprocessable("invalid_phone", l.ru, l.en).with("field", "phone")
        })?;
        let name = FullName::parse(&self.full_name).map_err(|e| {
            let l = e.localized();
            unprocessable("invalid_name", l.ru, l.en).with("field", "full_name")
        })?;
        let Some(address) = rules::home_address(&self.home.address) else {
            return Err(unprocessable(
                "invalid_field",
                "Адрес нужен, не длиннее 300 знаков.".into(),
                "An address is required, at most 300 characters.".into(),
            )
            .with("field", "home.address"));
        };
        let home = GeoPoint::new(self.home.lat, self.home.lon).map_err(|e| {
            let l = e.localized();
            unprocessable("invalid_field", l.ru, l.en).with("field", "home")
        })?;
        let radius_m = self.radius_m.unwrap_or(rules::DEFAULT_RADIUS_M);
        Geofence::new(home, radius_m).map_err(|_| {
            unprocessable(
                "invalid_field",
                format!(
                    "Радиус {radius_m} м вне допустимого: от {} до {} м.",
                    Geofence::MIN_RADIUS_M,
                    Geofence::MAX_RADIUS_M
                ),
                format!(
                    "Radius {radius_m} m is out of range: {} to {} m.",
                    Geofence::MIN_RADIUS_M,
                    Geofence::MAX_RADIUS_M
                ),
            )
            .with("field", "radius_m")
        })?;
        let time_zone = self
            .time_zone
            .unwrap_or_else(|| rules::DEFAULT_TIME_ZONE.into());
        if TimeZone::get(&time_zone).is_err() {
            return Err(unprocessable(
                "invalid_field",
                format!("Часовой пояс «{time_zone}» неизвестен; нужно имя IANA, например Europe/Moscow."),
                format!("Time zone '{time_zone}' is unknown; expected an IANA name such as Europe/Moscow.")
            )
            .with("field", "time_zone"));
        }
        let Some(sms_lang) = rules::sms_lang(self.lang.as_deref()) else {
            return Err(unprocessable(
                "invalid_field",
                "Язык SMS пациенту: ru или en.".into(),
                "The language of the patient's SMS: ru or en.".into(),
            )
            .with("field", "lang"));
        };
        let starts_at = parse_time(&self.starts_at, "starts_at")?;
        let ends_at = parse_time(&self.ends_at, "ends_at")?;
        if !rules::starts_ok(starts_at, now) {
            return Err(unprocessable(
                "invalid_period",
                "Начало карантина должно быть не дальше 60 дней от сегодняшнего дня.".into(),
                "The quarantine must start within 60 days of today.".into(),
            )
            .with("field", "starts_at"));
        }
        check_period(starts_at, ends_at)?;
        Ok(NewCase {
            lang: sms_lang.code().to_string(),
            phone: phone.as_str().to_string(),
            full_name: name.as_str().to_string(),
            home_address: address,
            home,
            radius_m,
            time_zone,
            starts_at,
            ends_at,
        })
    }
}

fn check_period(starts_at: Timestamp, ends_at: Timestamp) -> ApiResult<()> {
    if !rules::period_ok(starts_at, ends_at) {
        return Err(unprocessable(
            "invalid_period",
            "Конец карантина должен быть позже начала, не более чем через 60 дней.".into(),
            "The quarantine must end after it starts, within 60 days.".into(),
        )
        .with("field", "ends_at"));
    }
    Ok(())
}

async fn create_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Body(input): Body<CaseInput>,
) -> ApiResult<Response> {
    let case = input.parse(state.clock.now())?;
    let code = rules::enrollment_code();
    let id = state
        .store
        .create_case(
            &case,
            &rules::normalize_code(&code),
            officer.as_str(),
            state.clock.now(),
        )
        .await?;
    let enrollment_url = rules::enrollment_link(&state.app_url(), &code);
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "enrollment_code": code, "enrollment_url": enrollment_url})),
    )
        .into_response())
}

async fn show_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (case, flags) = state
        .store
        .read_case(&id, officer.as_str(), state.clock.now())
        .await?
        .ok_or_else(case_not_found)?;
    let mut body = case_with_activity(&state, &case).await?;
    let mut list = Vec::with_capacity(flags.len());
    for flag in &flags {
        list.push(officer_flag(&state, flag, case.home).await?);
    }
    body["flags"] = json!(list);
    Ok(Json(body))
}

#[derive(Deserialize)]
struct ExtendInput {
    ends_at: String,
}

async fn change(
    state: &AppState,
    officer: &OfficerId,
    id: &str,
    change: CaseChange,
) -> ApiResult<Json<Value>> {
    match state
        .store
        .change_case(id, change, officer.as_str(), state.clock.now())
        .await
    {
        Ok(case) => Ok(Json(case_json(&case))),
        Err(CaseChangeError::NotFound) => Err(case_not_found()),
        Err(CaseChangeError::WrongStatus(status)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "case_status_conflict",
            format!("Дело в состоянии «{status}»: это действие невозможно."),
            format!("The case is {status}: this cannot be done."),
        )
        .with("status", status)),
        Err(CaseChangeError::NotLater) => Err(unprocessable(
            "invalid_period",
            "Новый конец карантина должен быть позже нынешнего.".into(),
            "The new end must be later than the current one.".into(),
        )
        .with("field", "ends_at")),
        Err(CaseChangeError::Store(e)) => Err(e.into()),
    }
}

async fn extend_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<ExtendInput>,
) -> ApiResult<Json<Value>> {
    let until = parse_time(&input.ends_at, "ends_at")?;
    if let Some(case) = state.store.case(&id).await? {
        check_period(case.starts_at, until)?;
    }
    change(&state, &officer, &id, CaseChange::Extend(until)).await
}

async fn end_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    change(&state, &officer, &id, CaseChange::EndNow).await
}

async fn close_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    change(&state, &officer, &id, CaseChange::Close).await
}

async fn queue(State(state): State<AppState>, Health(officer): Health) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let flags = state.store.officer_queue(officer.as_str(), now).await?;
    let mut list = Vec::with_capacity(flags.len());
    for flag in &flags {
        let home = home_of(&state, &flag.case_id).await?;
        list.push(officer_flag(&state, flag, home).await?);
    }
    let since = now.checked_sub(rules::UNANSWERED_FOR).unwrap_or(now);
    let unanswered: Vec<Value> = state
        .store
        .unanswered_asks(since, now)
        .await?
        .iter()
        .map(|u| {
            let mut v = challenge_json(&u.challenge, None);
            v["case_id"] = json!(u.challenge.case_id);
            v
        })
        .collect();
    Ok(Json(
        json!({"flags": list, "unanswered_checkins": unanswered}),
    ))
}

async fn show_flag(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let flag = rules::read_flag(&state.store, officer.as_str(), &id, state.clock.now())
        .await?
        .ok_or_else(flag_not_found)?;
    let home = home_of(&state, &flag.case_id).await?;
    Ok(Json(officer_flag(&state, &flag, home).await?))
}

pub(super) fn step_error(e: FlagStepError) -> ApiError {
    let refused = match e {
        FlagStepError::NotFound => return flag_not_found(),
        FlagStepError::Store(e) => return e.into(),
        FlagStepError::Refused(r) => r,
    };
    let en = refused.to_string();
    let (status, code, ru) = match &refused {
        TransitionError::SameOfficer(_) => (
            StatusCode::FORBIDDEN,
            "appeal_needs_another_officer",
            "Жалобу на ваше решение рассматривает другой врач.".to_string(),
        ),
        TransitionError::NotSanctionable(kind) => (
            StatusCode::CONFLICT,
            "not_sanctionable",
            format!("Отметку «{kind}» нельзя подтвердить с мерой: отсутствие сигнала само по себе не нарушение."),
        ),
        TransitionError::NotAllowed { state: "open", .. } => (
            StatusCode::CONFLICT,
            "patient_not_yet_notified",
            "Пациенту ещё не ушло SMS об этой отметке; решение можно принять после него.".to_string(),
        ),
        TransitionError::NotAllowed { state, event } => (
            StatusCode::CONFLICT,
            "flag_state_conflict",
            format!("Отметка в состоянии «{state}»: шаг «{event}» невозможен."),
        ),
        TransitionError::MissingReason(what) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            format!("Нужно указать причину ({what})."),
        ),
        TransitionError::TimeGoesBackwards { .. } | TransitionError::NotRaised => (
            StatusCode::CONFLICT,
            "flag_state_conflict",
            "Шаг противоречит истории отметки.".to_string(),
        ),
    };
    let en = if code == "patient_not_yet_notified" {
        "The patient's SMS about this flag has not gone out yet; decide once it has.".to_string()
    } else {
        en
    };
    ApiError::new(status, code, ru, en)
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum DecisionKind {
    Dismiss,
    Confirm,
}

#[derive(Deserialize)]
struct DecisionInput {
    decision: DecisionKind,
    sanction: Option<Sanction>,
    #[serde(default)]
    note: String,
}

/// Takes an officer's step on a flag, wakes the SMS outbox and shows the flag.
async fn decide_step(
    state: &AppState,
    officer: &OfficerId,
    id: &str,
    step: OfficerStep,
) -> ApiResult<Json<Value>> {
    let app_url = state.app_url();
    let flag = state
        .store
        .decide_flag(id, officer, &step, state.clock.now(), &sms_texts(&app_url))
        .await
        .map_err(step_error)?;
    state.outbox_wakeup.notify_one();
    Ok(Json(flag_json(&flag)))
}

/// A free-text field's refusal.
fn text_error(e: &propusk_core::domain::TextError, field: &'static str) -> ApiError {
    ApiError::localized(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        e.localized(),
    )
    .with("field", field)
}

async fn decide(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<DecisionInput>,
) -> ApiResult<Json<Value>> {
    let note = rules::note(&input.note).map_err(|e| text_error(&e, "note"))?;
    let step = match (input.decision, input.sanction) {
        (DecisionKind::Dismiss, None) => OfficerStep::Dismiss { note },
        (DecisionKind::Dismiss, Some(_)) => {
            return Err(unprocessable(
                "invalid_field",
                "При снятии отметки мера не назначается.".into(),
                "A dismissal carries no sanction.".into()
            )
            .with("field", "sanction"))
        }
        (DecisionKind::Confirm, Some(sanction)) => OfficerStep::Confirm { sanction, note },
        (DecisionKind::Confirm, None) => {
            return Err(unprocessable(
                "invalid_field",
                "Подтверждение требует меры: {\"type\":\"warning\"} или {\"type\":\"fine\",\"amount_rub\":…}.".into(),
                "A confirmation needs a sanction: {\"type\":\"warning\"} or {\"type\":\"fine\",\"amount_rub\":…}.".into()
            )
            .with("field", "sanction"))
        }
    };
    decide_step(&state, &officer, &id, step).await
}

#[derive(Deserialize)]
struct AppealDecisionInput {
    upheld: bool,
    #[serde(default)]
    note: String,
}

async fn decide_appeal(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<AppealDecisionInput>,
) -> ApiResult<Json<Value>> {
    let step = OfficerStep::DecideAppeal {
        upheld: input.upheld,
        note: rules::note(&input.note).map_err(|e| text_error(&e, "note"))?,
    };
    decide_step(&state, &officer, &id, step).await
}

/// A check-in as its officer sees it: times, and how far from home and how sure the answer was.
pub(super) fn challenge_json(c: &ChallengeRecord, home: Option<GeoPoint>) -> Value {
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

async fn case_checkins(
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

async fn checkin_photo(
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

async fn reference_photo(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let photo = rules::read_reference_photo(&state.store, officer.as_str(), &id, state.clock.now())
        .await?
        .ok_or_else(photo_not_found)?;
    Ok(photo_response(photo))
}

fn loaner_json(l: &Loaner) -> Value {
    json!({
        "serial": l.serial,
        "state": l.state.as_str(),
        "case_id": l.case_id,
        "lent_at": l.lent_at.map(|t| t.to_string()),
        "due_at": l.due_at.map(|t| t.to_string()),
        "returned_at": l.returned_at.map(|t| t.to_string()),
        "wiped_at": l.wiped_at.map(|t| t.to_string()),
        "checklist": l.checklist,
    })
}

fn loaner_error(e: LoanerError) -> ApiError {
    match e {
        LoanerError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "loaner_not_found",
            "Телефон с таким серийным номером не найден.",
            "No loaner phone with this serial.",
        ),
        LoanerError::Exists => ApiError::new(
            StatusCode::CONFLICT,
            "loaner_exists",
            "Телефон с таким серийным номером уже есть.",
            "A loaner with this serial exists.",
        ),
        LoanerError::WrongState(state) => ApiError::new(
            StatusCode::CONFLICT,
            "loaner_state_conflict",
            format!("Телефон в состоянии «{state}»: это действие невозможно."),
            format!("The loaner is {state}: this cannot be done."),
        )
        .with("state", state.as_str()),
        LoanerError::CaseNotActive => ApiError::new(
            StatusCode::CONFLICT,
            "case_status_conflict",
            "Дело не найдено или наблюдение по нему окончено.",
            "The case is unknown or no longer monitored.",
        ),
        LoanerError::Store(e) => e.into(),
    }
}

#[derive(Deserialize)]
struct LoanerInput {
    serial: String,
}

async fn add_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Body(input): Body<LoanerInput>,
) -> ApiResult<Response> {
    let serial = input.serial.trim();
    if !rules::serial_ok(serial) {
        return Err(unprocessable(
            "invalid_field",
            "Серийный номер: от 1 до 64 латинских букв, цифр и дефисов.".into(),
            "Serial: 1 to 64 Latin letters, digits and hyphens.".into(),
        )
        .with("field", "serial"));
    }
    let loaner = state
        .store
        .add_loaner(serial, officer.as_str(), state.clock.now())
        .await
        .map_err(loaner_error)?;
    Ok((StatusCode::CREATED, Json(loaner_json(&loaner))).into_response())
}

#[derive(Deserialize)]
struct LoanerQuery {
    state: Option<String>,
}

async fn list_loaners(
    State(state): State<AppState>,
    Health(_): Health,
    axum::extract::Query(q): axum::extract::Query<LoanerQuery>,
) -> ApiResult<Json<Value>> {
    let wanted = match q.state.as_deref() {
        None => None,
        Some(name) => Some(LoanerState::parse(name).ok_or_else(|| {
            let states = LoanerState::ALL.map(LoanerState::as_str).join(", ");
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_state",
                format!("Неизвестное состояние телефона; допустимы: {states}."),
                format!("Unknown loaner state; expected one of: {states}."),
            )
            .with("field", "state")
        })?),
    };
    let list = state.store.loaners(wanted).await?;
    Ok(Json(
        json!({"loaners": list.iter().map(loaner_json).collect::<Vec<_>>()}),
    ))
}

async fn overdue_loaners(
    State(state): State<AppState>,
    Health(_): Health,
) -> ApiResult<Json<Value>> {
    let list = state.store.overdue_loaners(state.clock.now()).await?;
    Ok(Json(
        json!({"loaners": list.iter().map(loaner_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
struct LendInput {
    case_id: String,
}

async fn lend_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<LendInput>,
) -> ApiResult<Json<Value>> {
    let key = rules::enrollment_code();
    let loaner = state
        .store
        .lend_loaner(
            &serial,
            &input.case_id,
            &rules::normalize_code(&key),
            officer.as_str(),
            state.clock.now(),
        )
        .await
        .map_err(loaner_error)?;
    // The phone enrolls with the key when it is handed out (shown once; the store keeps its
    // hash), and then holds only the device token it gets.
    let mut body = loaner_json(&loaner);
    body["loaner_key"] = json!(key);
    body["enrollment_url"] = json!(rules::enrollment_link(&state.app_url(), &key));
    Ok(Json(body))
}

/// A checklist: item name → done.
type Checklist = std::collections::BTreeMap<String, bool>;

#[derive(Deserialize)]
struct ChecklistInput {
    checklist: Checklist,
}

/// Moves a loaner phone one step (with the checklist that goes with it, if any) and shows it.
async fn move_and_show(
    state: &AppState,
    officer: &OfficerId,
    serial: &str,
    step: LoanerStep,
    checklist: Option<&Checklist>,
) -> ApiResult<Json<Value>> {
    let loaner = state
        .store
        .move_loaner(
            serial,
            step,
            checklist.map(|c| json!(c)).as_ref(),
            officer.as_str(),
            state.clock.now(),
        )
        .await
        .map_err(loaner_error)?;
    Ok(Json(loaner_json(&loaner)))
}

async fn return_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<ChecklistInput>,
) -> ApiResult<Json<Value>> {
    move_and_show(
        &state,
        &officer,
        &serial,
        LoanerStep::Return,
        Some(&input.checklist),
    )
    .await
}

async fn wipe_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<ChecklistInput>,
) -> ApiResult<Json<Value>> {
    let missing = missing_wipe_steps(|s| input.checklist.get(s) == Some(&true));
    if !missing.is_empty() {
        let list = missing.join(", ");
        return Err(unprocessable(
            "wipe_incomplete",
            format!("Очистка не завершена: не отмечено {list}."),
            format!("The wipe is not complete: not done: {list}."),
        )
        .with("missing", missing));
    }
    move_and_show(
        &state,
        &officer,
        &serial,
        LoanerStep::Wipe,
        Some(&input.checklist),
    )
    .await
}

async fn lose_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
) -> ApiResult<Json<Value>> {
    move_and_show(&state, &officer, &serial, LoanerStep::Lose, None).await
}
