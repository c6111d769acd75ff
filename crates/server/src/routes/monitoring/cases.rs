//! Cases: opening one (with its patient, home and period), reading it with its phones'
//! activity, extending, ending and closing it.

use super::flags::officer_flag;
use super::*;

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
pub(super) struct HomeInput {
    address: String,
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
pub(super) struct CaseInput {
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

pub(super) async fn create_case(
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

pub(super) async fn show_case(
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
pub(super) struct ExtendInput {
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

pub(super) async fn extend_case(
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

pub(super) async fn end_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    change(&state, &officer, &id, CaseChange::EndNow).await
}

pub(super) async fn close_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    change(&state, &officer, &id, CaseChange::Close).await
}
