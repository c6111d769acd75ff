//! Cases: opening one (with its patient, home and period), reading it with its phones'
//! activity, extending, ending and closing it.

use super::flags::officer_flag;
use super::views::CaseView;
use super::*;
use crate::app::cases::{self, CaseDraft, CaseFault};

/// The patient's home address with its coordinates (WGS 84).
#[derive(Deserialize, ToSchema)]
#[schema(as = CaseHomeRequest)]
pub(super) struct HomeInput {
    address: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CaseRequest, example = json!({
    "phone": "+79161234567", "full_name": "Сидорова Анна Павловна",
    "home": {"address": "Москва, ул. Тверская, 1, кв. 5", "lat": 55.7575, "lon": 37.613},
    "radius_m": 50, "starts_at": "2020-04-15T10:00:00+03:00", "ends_at": "2020-04-29T10:00:00+03:00"
}))]
pub(super) struct CaseInput {
    /// Phone number, E.164 preferred.
    #[schema(examples("+79161234567"))]
    phone: String,
    #[schema(examples("Сидорова Анна Павловна"))]
    full_name: String,
    home: HomeInput,
    /// Home radius in metres; evaluation uses at least 100 m whatever is given (indoor GPS
    /// noise).
    #[schema(minimum = 10, maximum = 5000, default = 100)]
    radius_m: Option<f64>,
    #[schema(format = DateTime)]
    starts_at: String,
    /// After `starts_at`, at most 60 days later. Monitoring stops here.
    #[schema(format = DateTime)]
    ends_at: String,
    /// IANA name; the patient's SMS show times on these clocks.
    #[schema(default = "Europe/Moscow")]
    time_zone: Option<String>,
    /// The language of the patient's SMS: `ru` or `en`.
    #[schema(pattern = "^(ru|en)$", default = "ru")]
    lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CaseCreated {
    #[schema(format = Uuid)]
    id: String,
    /// Shown once: the patient's phone enrolls with it, once.
    #[schema(pattern = "^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")]
    enrollment_code: String,
    /// The link (and QR code) that opens the patient's app at `/patient/app/` with the code
    /// filled in. The code is in the URL *fragment*, which a browser never sends to a
    /// server: it reaches no server log and no Referer header.
    #[schema(examples("https://propusk.example/patient/app/#code=ABCD-EFGH-JKLM"))]
    enrollment_url: String,
}

problems!(CaseRefusals {
    422 => "Invalid member (`field` names it).",
        ["invalid_phone", "invalid_name", "invalid_field", "invalid_period"];
});

problems!(ExtendRefusals {
    422 => "`invalid_period`: not later than the current end, or over 60 days.",
        ["invalid_period", "invalid_field"];
});

problems!(ChangeRefusals {
    409 => "`case_status_conflict`: the case is not in a state that allows this.",
        ["case_status_conflict"];
});

impl CaseInput {
    fn parse(self, now: Timestamp) -> ApiResult<NewCase> {
        let time = |s: &str| propusk_core::domain::parse_instant(s).map_err(|e| e.localized());
        let draft = CaseDraft {
            phone: &self.phone,
            full_name: &self.full_name,
            address: &self.home.address,
            home: Some((self.home.lat, self.home.lon)),
            radius_m: self.radius_m.unwrap_or(rules::DEFAULT_RADIUS_M),
            time_zone: self
                .time_zone
                .as_deref()
                .unwrap_or(rules::DEFAULT_TIME_ZONE),
            lang: self.lang.as_deref(),
            starts_at: time(&self.starts_at),
            ends_at: time(&self.ends_at),
        };
        // The API reports the first fault, in the form's order.
        cases::check(draft, now).map_err(|faults| match faults.into_iter().next() {
            Some(fault) => fault_error(fault),
            None => ApiError::internal("a case refused without a fault"),
        })
    }
}

/// The problem+json answer for what is wrong with a case, naming the member at fault.
fn fault_error(fault: CaseFault) -> ApiError {
    let localized = |code, l: propusk_core::Localized, field| {
        ApiError::localized(StatusCode::UNPROCESSABLE_ENTITY, code, l).with("field", field)
    };
    let invalid =
        |field, ru: String, en: String| unprocessable("invalid_field", ru, en).with("field", field);
    let (min, max) = (Geofence::MIN_RADIUS_M, Geofence::MAX_RADIUS_M);
    match fault {
        CaseFault::Phone(l) => localized("invalid_phone", l, "phone"),
        CaseFault::Name(l) => localized("invalid_name", l, "full_name"),
        CaseFault::Address => invalid(
            "home.address",
            "Адрес нужен, не длиннее 300 знаков.".into(),
            "An address is required, at most 300 characters.".into(),
        ),
        CaseFault::NoCoordinates => invalid(
            "home",
            "Нужны координаты дома: широта и долгота.".into(),
            "The home's coordinates are required: latitude and longitude.".into(),
        ),
        CaseFault::Coordinates(l) => localized("invalid_field", l, "home"),
        CaseFault::Radius(radius_m) => invalid(
            "radius_m",
            format!("Радиус {radius_m} м вне допустимого: от {min} до {max} м."),
            format!("Radius {radius_m} m is out of range: {min} to {max} m."),
        ),
        CaseFault::TimeZone(zone) => invalid(
            "time_zone",
            format!("Часовой пояс «{zone}» неизвестен; нужно имя IANA, например Europe/Moscow."),
            format!("Time zone '{zone}' is unknown; expected an IANA name such as Europe/Moscow."),
        ),
        CaseFault::SmsLang => invalid(
            "lang",
            "Язык SMS пациенту: ru или en.".into(),
            "The language of the patient's SMS: ru or en.".into(),
        ),
        CaseFault::Start(l) => localized("invalid_field", l, "starts_at"),
        CaseFault::End(l) => localized("invalid_field", l, "ends_at"),
        CaseFault::StartTooFar => unprocessable(
            "invalid_period",
            "Начало карантина должно быть не дальше 60 дней от сегодняшнего дня.".into(),
            "The quarantine must start within 60 days of today.".into(),
        )
        .with("field", "starts_at"),
        CaseFault::Period => period_error(),
    }
}

fn period_error() -> ApiError {
    unprocessable(
        "invalid_period",
        "Конец карантина должен быть позже начала, не более чем через 60 дней.".into(),
        "The quarantine must end after it starts, within 60 days.".into(),
    )
    .with("field", "ends_at")
}

fn check_period(starts_at: Timestamp, ends_at: Timestamp) -> ApiResult<()> {
    match rules::period_ok(starts_at, ends_at) {
        true => Ok(()),
        false => Err(period_error()),
    }
}

/// Open a quarantine case
///
/// **Role:** health. Recorded in the audit log. The enrollment code and the link are also
/// sent to the patient's phone by SMS, in the case's language (queued with the case and sent
/// and retried by the outbox).
#[utoipa::path(post, path = "/api/v1/cases", tag = "monitoring", operation_id = "createCase",
    request_body = CaseInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 201, description = "Opened.", body = CaseCreated), CaseRefusals))]
pub(super) async fn create_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Body(input): Body<CaseInput>,
) -> ApiResult<Response> {
    let case = input.parse(state.clock.now())?;
    let code = rules::enrollment_code();
    let enrollment_url = rules::enrollment_link(&state.app_url(), &code);
    let sms = crate::monitoring::enrollment_sms(&code, &enrollment_url, &case.lang);
    let id = state
        .store
        .create_case(
            &case,
            &rules::normalize_code(&code),
            Some(&sms),
            officer.as_str(),
            state.clock.now(),
        )
        .await?;
    state.outbox_wakeup.notify_one();
    Ok((
        StatusCode::CREATED,
        Json(CaseCreated {
            id,
            enrollment_code: code,
            enrollment_url,
        }),
    )
        .into_response())
}

/// A case with its flags
///
/// **Role:** health. Every read is in the audit log.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "monitoring", operation_id = "getCase",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The case.", body = CaseView), CaseNotFound))]
pub(super) async fn show_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    let (case, flags) = state
        .store
        .read_case(&id, officer.as_str(), state.clock.now())
        .await?
        .ok_or_else(case_not_found)?;
    let activity = state.store.case_activity(&case.id).await?;
    let mut list = Vec::with_capacity(flags.len());
    for flag in &flags {
        list.push(officer_flag(&state, flag, case.home).await?);
    }
    Ok(Json(CaseView::of(&case).with(activity, list)))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ExtendInput {
    #[schema(format = DateTime)]
    ends_at: String,
}

async fn change(
    state: &AppState,
    officer: &OfficerId,
    id: &str,
    change: CaseChange,
) -> ApiResult<Json<CaseView>> {
    match state
        .store
        .change_case(id, change, officer.as_str(), state.clock.now())
        .await
    {
        Ok(case) => Ok(Json(CaseView::of(&case))),
        Err(CaseChangeError::NotFound) => Err(case_not_found()),
        Err(CaseChangeError::WrongStatus(status)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "case_status_conflict",
            format!("Дело в состоянии «{status}»: это действие невозможно."),
            format!("The case is {status}: this cannot be done."),
        )
        .with("status", status.as_str())),
        Err(CaseChangeError::NotLater) => Err(unprocessable(
            "invalid_period",
            "Новый конец карантина должен быть позже нынешнего.".into(),
            "The new end must be later than the current one.".into(),
        )
        .with("field", "ends_at")),
        Err(CaseChangeError::Store(e)) => Err(e.into()),
    }
}

/// Move the end of monitoring later
///
/// **Role:** health.
#[utoipa::path(post, path = "/api/v1/cases/{id}/extend", tag = "monitoring", operation_id = "extendCase",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    request_body = ExtendInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The case.", body = CaseView), CaseNotFound, ChangeRefusals, ExtendRefusals))]
pub(super) async fn extend_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<ExtendInput>,
) -> ApiResult<Json<CaseView>> {
    let until = parse_time(&input.ends_at, "ends_at")?;
    if let Some(case) = state.store.case(&id).await? {
        check_period(case.starts_at, until)?;
    }
    change(&state, &officer, &id, CaseChange::Extend(until)).await
}

/// End monitoring now
///
/// **Role:** health. Reports after this moment are ignored.
#[utoipa::path(post, path = "/api/v1/cases/{id}/end", tag = "monitoring", operation_id = "endCase",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The case, `ended`.", body = CaseView), CaseNotFound, ChangeRefusals))]
pub(super) async fn end_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    change(&state, &officer, &id, CaseChange::EndNow).await
}

/// Close a case
///
/// **Role:** health. Flags and appeals may still be decided.
#[utoipa::path(post, path = "/api/v1/cases/{id}/close", tag = "monitoring", operation_id = "closeCase",
    params(("id" = uuid::Uuid, Path, description = "Case id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The case, `closed`; its devices are revoked.",
        body = CaseView), CaseNotFound, ChangeRefusals))]
pub(super) async fn close_case(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    change(&state, &officer, &id, CaseChange::Close).await
}
