//! The patient's phone over HTTP — the contract the Social Monitoring app at `/patient/app/`
//! speaks, and a native app would speak unchanged: enrolling with a one-time code (the case's
//! enrollment code, or a lent phone's loaner key), what the app is told about its case,
//! location reports, check-ins, and the patient's own flags and appeals.
//!
//! The caller is a device, by the bearer token it got at enrollment: not a session, and it
//! opens nothing else. A token whose device has retired — the loaner came back, the case was
//! ended or closed, or its end has passed — is refused as `device_retired` (410), not as an
//! unknown token (401), so that the app knows to erase everything it holds.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::GeoPoint;
use propusk_core::monitoring::geofence::Fix;
use propusk_store::{
    AnswerOutcome, ChallengeKind, ChallengeRecord, CheckinAnswer, DeviceLookup, ExplainError,
    FlagRecord,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::monitoring::{
    asks, flag_not_found, parse_time, step_error, unprocessable, AskedFor, FlagView, StepRefusals,
};
use super::Body;
use crate::auth::new_token;
use crate::error::{ApiError, ApiResult};
use crate::monitoring::{answer_checkin, asking, geofence_config, sms_texts};
use crate::monitoring_rules as rules;
use crate::openapi::{api_routes, problems, retry_after};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![
        [enroll],
        [terms],
        [config],
        [locations],
        [device_flags],
        [appeal],
        [explain],
        [open_challenges],
        [answer_challenge]
    ]
}

problems!(DeviceRefusals {
    401 => "`unauthorized`: no device token, or not one this service issued.", ["unauthorized"];
    410 => "`device_retired`: the device no longer takes part in monitoring — its case was \
            ended or closed or is past its end, or the loaner phone was returned, wiped or lost. \
            The app erases everything it holds (its database, caches and service worker).",
        ["device_retired"];
});

/// Reports may arrive this late (devices buffer while offline).
const MAX_LATE: SignedDuration = SignedDuration::from_hours(48);
/// …and stamped at most this far ahead (a phone clock slightly fast).
const MAX_AHEAD: SignedDuration = SignedDuration::from_mins(5);
/// The most reports in one batch (two days at one a minute, with room).
const MAX_BATCH: usize = 5000;
/// The longest enrollment code or loaner key taken as typed, separators included.
const MAX_CODE_CHARS: usize = 64;

/// A device by its bearer token, refused unless it is still in service.
async fn device_of(parts: &Parts, state: &AppState) -> Result<propusk_store::Device, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Нужен токен устройства (Authorization: Bearer …), выданный при подключении по коду.",
            "A device token is required (Authorization: Bearer …), as issued at enrollment.",
        )
    };
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(unauthorized)?;
    match state.store.device(token, state.clock.now()).await? {
        DeviceLookup::Active(device) => Ok(device),
        DeviceLookup::Retired => Err(ApiError::new(
            StatusCode::GONE,
            "device_retired",
            "Этот телефон больше не участвует в наблюдении: карантин окончен или телефон возвращён. Приложение стирает свои данные.",
            "This phone is no longer monitored: the quarantine is over or the phone was returned. The app erases its data.",
        )),
        DeviceLookup::Unknown => Err(unauthorized()),
    }
}

/// An enrolled device in service; the call is noted as the app being seen.
pub struct Device(pub propusk_store::Device);

impl FromRequestParts<AppState> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let device = device_of(parts, state).await?;
        state.store.touch_device(&device, state.clock.now()).await?;
        Ok(Self(device))
    }
}

/// An enrolled device in service that uploads reports (the upload notes it as seen in its
/// own transaction).
pub struct Uploader(pub propusk_store::Device);

impl FromRequestParts<AppState> for Uploader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(device_of(parts, state).await?))
    }
}

#[derive(Deserialize, ToSchema)]
struct EnrollInput {
    /// The case's enrollment code, or a lent phone's loaner key.
    enrollment_code: String,
    /// Optional photo taken in the app (JPEG or PNG, at most 1 MB, base64), for officers
    /// to compare check-ins with.
    #[schema(content_encoding = "base64")]
    reference_photo: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Enrolled {
    device_token: String,
    #[schema(format = Uuid)]
    case_id: String,
    /// `own` or `loaner`.
    #[schema(pattern = "^(own|loaner)$")]
    kind: &'static str,
}

problems!(EnrollRefusals {
    404 => "`enrollment_code_not_found`: wrong, used, or the case is over.",
        ["enrollment_code_not_found"];
    422 => "`invalid_field`: far longer than a code; `invalid_photo`.", ["invalid_field", "invalid_photo"];
    503 => "`photo_busy`: every photo check is taken; `overloaded`: past capacity. Wait \
            `retry_after_s`.", ["photo_busy", "overloaded"], retry_after();
});

/// The most a photo may weigh (a phone's camera picture, scaled down by the app).
/// (Its base64 form must also fit the 2 MB limit on a request body.)
const MAX_PHOTO: usize = 1024 * 1024;

/// A photo sent as base64 JPEG or PNG, ready to store: within the size and pixel budgets,
/// re-encoded so that it keeps no metadata (see [`crate::photo`]).
async fn photo_from_api(state: &AppState, b64: &str, field: &'static str) -> ApiResult<Vec<u8>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .filter(|b| b.len() <= MAX_PHOTO)
        .ok_or_else(|| {
            unprocessable(
                "invalid_photo",
                "Фото должно быть JPEG или PNG в base64, не больше 1 МБ.".into(),
                "The photo must be a base64 JPEG or PNG of at most 1 MB.".into(),
            )
            .with("field", field)
        })?;
    crate::photo::normalize_upload(&state.photos, &bytes)
        .await
        .map_err(|e| photo_error(&e, field))
}

fn photo_error(e: &crate::photo::PhotoError, field: &'static str) -> ApiError {
    let (status, code) = match e {
        crate::photo::PhotoError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "photo_busy"),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo"),
    };
    let error = ApiError::localized(status, code, e.localized()).with("field", field);
    match e {
        crate::photo::PhotoError::Busy => error.retry_after(30),
        _ => error,
    }
}

fn enrollment_code_unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "enrollment_code_not_found",
        "Код подключения не найден: он неверен, уже использован или карантин окончен.",
        "Enrollment code not found: it is wrong, already used, or the quarantine is over.",
    )
}

/// Enroll a phone with its one-time code
///
/// **Role:** public, with the code. The case's enrollment code (the patient's own phone) or a
/// lent phone's loaner key (`kind: loaner`). Any case and separators are accepted.
#[utoipa::path(post, path = "/api/v1/device/enroll", tag = "monitoring", operation_id = "enrollDevice",
    request_body = EnrollInput,
    responses((status = 201, description = "Enrolled; keep the token on the device (never in a URL).",
        body = Enrolled), EnrollRefusals))]
async fn enroll(
    State(state): State<AppState>,
    Body(input): Body<EnrollInput>,
) -> ApiResult<Response> {
    if input.enrollment_code.chars().count() > MAX_CODE_CHARS {
        return Err(unprocessable(
            "invalid_field",
            format!(
                "В коде подключения {} знаков, например ABCD-EFGH-JKLM, а в ключе выданного телефона 16.",
                rules::ENROLLMENT_CODE_LEN
            ),
            format!(
                "An enrollment code has {} characters, e.g. ABCD-EFGH-JKLM, and a lent phone's key has 16.",
                rules::ENROLLMENT_CODE_LEN
            ),
        )
        .with("field", "enrollment_code"));
    }
    let code = rules::code_for_lookup(&input.enrollment_code);
    let now = state.clock.now();
    // The code first: no photo is decoded for a wrong code.
    if !state.store.enrollment_code_live(&code, now).await? {
        return Err(enrollment_code_unknown());
    }
    let photo = match input.reference_photo.as_deref() {
        Some(p) => Some(photo_from_api(&state, p, "reference_photo").await?),
        None => None,
    };
    let token = new_token();
    let device = state
        .store
        .enroll_device(&code, &token, photo.as_deref(), now)
        .await?
        .ok_or_else(enrollment_code_unknown)?;
    tracing::info!(device = %device.id, case = %device.case_id, kind = device.kind.as_str(), "device enrolled");
    let body = Enrolled {
        device_token: token,
        case_id: device.case_id,
        kind: device.kind.as_str(),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Local hours on the case's clocks; never outside 07:00–22:00.
#[derive(Serialize, ToSchema)]
#[schema(as = CheckinHours)]
struct Hours {
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$", examples("09:00"))]
    from: String,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$", examples("21:00"))]
    to: String,
}

fn checkin_hours(state: &AppState) -> Hours {
    let hours = state.monitoring.checkins.hours();
    Hours {
        from: hours.from().strftime("%H:%M").to_string(),
        to: hours.to().strftime("%H:%M").to_string(),
    }
}

/// What the consent screen tells a patient before anything is collected.
#[derive(Serialize, ToSchema)]
struct Terms {
    /// Raw locations and photos are erased this long after the case closes.
    #[schema(minimum = 1, maximum = 365)]
    retention_days: i64,
    checkin_hours: Hours,
    #[schema(maximum = 6)]
    checkins_per_day: u8,
    #[schema(minimum = 5, maximum = 60)]
    checkin_deadline_mins: i64,
    #[schema(minimum = 30, maximum = 600)]
    report_every_secs: i64,
}

/// What the consent screen tells a patient
///
/// **Role:** public. Read before enrollment, so that nothing is collected before the patient
/// agrees.
#[utoipa::path(get, path = "/api/v1/device/terms", tag = "monitoring", operation_id = "deviceTerms",
    responses((status = 200, description = "The service's monitoring settings a patient agrees to.",
        body = Terms)))]
async fn terms(State(state): State<AppState>) -> Json<Terms> {
    let m = &state.monitoring;
    Json(Terms {
        retention_days: m.retention.as_hours() / 24,
        checkin_hours: checkin_hours(&state),
        checkins_per_day: m.checkins.per_day(),
        checkin_deadline_mins: m.checkins.deadline().as_mins(),
        report_every_secs: m.report_every.as_secs(),
    })
}

/// What the app is told about its case.
#[derive(Serialize, ToSchema)]
struct DeviceConfig {
    /// Keep a location fix this often while the app is open.
    #[schema(minimum = 30, maximum = 600)]
    report_every_secs: i64,
    checkin_hours: Hours,
    #[schema(format = DateTime)]
    case_ends_at: String,
    /// Only on a lent phone: when it is due back.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    loaner_due_at: Option<String>,
    /// The case's language, `ru` or `en`.
    #[schema(pattern = "^(ru|en)$")]
    lang: String,
    /// The case's clocks (IANA name).
    time_zone: String,
    /// `own` or `loaner`.
    #[schema(pattern = "^(own|loaner)$")]
    kind: &'static str,
    /// The service's clock: the app stamps reports with the phone's clock corrected to it.
    #[schema(format = DateTime)]
    server_time: String,
}

/// What the app is told about its case
///
/// **Role:** an enrolled device. The call notes the app as seen (the officer sees whether it
/// is open).
#[utoipa::path(get, path = "/api/v1/device/config", tag = "monitoring", operation_id = "deviceConfig",
    security(("deviceAuth" = [])),
    responses((status = 200, description = "The app's settings and its case's dates.",
        body = DeviceConfig), DeviceRefusals))]
async fn config(
    State(state): State<AppState>,
    Device(device): Device,
) -> ApiResult<Json<DeviceConfig>> {
    let case = state
        .store
        .device_case(&device)
        .await?
        .ok_or_else(|| ApiError::internal(format!("device {} has no case", device.id)))?;
    let body = DeviceConfig {
        report_every_secs: state.monitoring.report_every.as_secs(),
        checkin_hours: checkin_hours(&state),
        case_ends_at: case.ends_at.to_string(),
        loaner_due_at: case.loaner_due_at.map(|t| t.to_string()),
        lang: case.lang,
        time_zone: case.time_zone,
        kind: device.kind.as_str(),
        server_time: state.clock.now().to_string(),
    };
    Ok(Json(body))
}

/// One report as a device sends it; checked here so the answer can say which one is wrong.
#[derive(Deserialize, ToSchema)]
#[schema(as = Fix)]
struct FixInput {
    /// When the phone took the fix.
    #[schema(format = DateTime)]
    ts: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
    /// The phone's own error estimate (68 % radius).
    #[schema(minimum = 0)]
    accuracy_m: f64,
}

fn parse_batch(batch: Vec<FixInput>, now: Timestamp) -> ApiResult<Vec<Fix>> {
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(unprocessable(
            "invalid_batch",
            format!(
                "В пакете {} отметок; нужно от 1 до {MAX_BATCH}.",
                batch.len()
            ),
            format!(
                "The batch has {} reports; expected 1 to {MAX_BATCH}.",
                batch.len()
            ),
        ));
    }
    let earliest = now.checked_sub(MAX_LATE).unwrap_or(now);
    let latest = now.checked_add(MAX_AHEAD).unwrap_or(now);
    batch
        .into_iter()
        .enumerate()
        .map(|(index, f)| {
            let at = |e: ApiError| e.with("index", index);
            let ts = parse_time(&f.ts, "ts").map_err(at)?;
            if ts > latest {
                return Err(at(unprocessable(
                    "fix_in_future",
                    format!("Отметка №{index} датирована будущим ({ts}); проверьте часы телефона."),
                    format!(
                        "Report #{index} is dated in the future ({ts}); check the phone's clock."
                    ),
                )
                .with("field", "ts")));
            }
            if ts < earliest {
                return Err(at(unprocessable(
                    "fix_too_old",
                    format!("Отметка №{index} ({ts}) старше 48 часов и не принимается."),
                    format!(
                        "Report #{index} ({ts}) is more than 48 hours old and is not accepted."
                    ),
                )
                .with("field", "ts")));
            }
            Fix::from_parts(ts, f.lat, f.lon, f.accuracy_m).map_err(|e| {
                at(unprocessable(
                    "invalid_fix",
                    format!("Отметка №{index} неверна: {e}"),
                    format!("Report #{index} is invalid: {e}"),
                ))
            })
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
#[schema(as = IngestResult)]
struct Ingested {
    /// New reports stored.
    accepted: u32,
    /// Already stored (a retried batch).
    duplicates: u32,
    /// Outside the monitored period (before enrollment, after the end).
    ignored: u32,
    /// Check-ins open now: the app fetches and shows them at once (one may have been asked
    /// because of these reports).
    open_challenges: u32,
}

problems!(UploadRefusals {
    422 => "The batch is refused as a whole; `index` names the report at fault: \
            `fix_in_future` (more than 5 minutes ahead: a wrong clock), `fix_too_old` (over 48 \
            hours late), `invalid_fix` (coordinates or accuracy), `invalid_field` (time), \
            `invalid_batch` (empty or over 5000).",
        ["fix_in_future", "fix_too_old", "invalid_fix", "invalid_field", "invalid_batch"],
        json!({ "index": { "type": "integer" } });
});

/// Upload a batch of location reports
///
/// **Role:** an enrolled device. Idempotent: a report is keyed by device and time (whole
/// seconds), so a retried batch is not counted twice. Evaluation uses report times. In
/// check-in hours, a fresh confident fix that first places the phone far from home makes
/// the service ask the patient at once (an immediate check-in, announced by SMS; never a
/// flag by itself).
#[utoipa::path(post, path = "/api/v1/device/locations", tag = "monitoring",
    operation_id = "uploadLocations",
    request_body = Vec<FixInput>,
    security(("deviceAuth" = [])),
    responses((status = 202, description = "Stored and evaluated.", body = Ingested),
        DeviceRefusals, UploadRefusals))]
async fn locations(
    State(state): State<AppState>,
    Uploader(device): Uploader,
    Body(batch): Body<Vec<FixInput>>,
) -> ApiResult<Response> {
    let now = state.clock.now();
    let fixes = parse_batch(batch, now)?;
    let app_url = state.app_url();
    let out = state
        .store
        .ingest_fixes(
            &device,
            &fixes,
            now,
            &geofence_config(),
            Some(asking(&state.monitoring)),
            &sms_texts(&app_url),
        )
        .await?;
    if out.raised > 0 || out.asked.is_some() {
        state.outbox_wakeup.notify_one();
    }
    let body = Ingested {
        accepted: out.accepted,
        duplicates: out.duplicates,
        ignored: out.ignored,
        open_challenges: out.open_challenges,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// A flag as its patient sees it: what was seen, where it stands, the officers' notes without
/// their ids, and the questions asked during a departure.
async fn patient_flag(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<FlagView> {
    Ok(FlagView::of(flag)
        .without_officers()
        .with_checkins(asks(state, flag, home).await?))
}

/// Where the device's case has its home (for the flags' evidence).
async fn case_home(
    state: &AppState,
    device: &propusk_store::Device,
) -> ApiResult<Option<propusk_core::domain::GeoPoint>> {
    Ok(state
        .store
        .case(&device.case_id)
        .await?
        .and_then(|c| c.home))
}

/// The patient's text on a flag (an explanation or an appeal), or `invalid_field`.
fn typed_statement(raw: &str) -> ApiResult<propusk_core::domain::Paragraph> {
    rules::statement(raw).map_err(|e| {
        ApiError::localized(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.localized(),
        )
        .with("field", "statement")
    })
}

#[derive(Serialize, ToSchema)]
#[schema(as = FlagList)]
struct FlagList {
    flags: Vec<FlagView>,
}

/// The patient's own flags
///
/// **Role:** an enrolled device.
#[utoipa::path(get, path = "/api/v1/device/flags", tag = "monitoring", operation_id = "deviceFlags",
    security(("deviceAuth" = [])),
    responses((status = 200, description = "With the officers' notes, without their ids.",
        body = FlagList), DeviceRefusals))]
async fn device_flags(
    State(state): State<AppState>,
    Device(device): Device,
) -> ApiResult<Json<FlagList>> {
    let home = case_home(&state, &device).await?;
    let mut list = Vec::new();
    for flag in state.store.case_flags(&device.case_id).await? {
        list.push(patient_flag(&state, &flag, home).await?);
    }
    Ok(Json(FlagList { flags: list }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Appeal)]
struct AppealInput {
    /// The patient's explanation (required, at most 2000 characters).
    #[schema(max_length = 2000)]
    statement: String,
}

problems!(AppealRefusals {
    422 => "`reason_required`; `invalid_field` (`field`: `statement`): empty, over 2000 \
            characters, or with control characters.",
        ["reason_required", "invalid_field"];
});

/// Appeal a confirmed sanction
///
/// **Role:** an enrolled device, for its own case.
#[utoipa::path(post, path = "/api/v1/device/flags/{id}/appeal", tag = "monitoring", operation_id = "appealFlag",
    params(("id" = uuid::Uuid, Path, description = "Flag id.")),
    request_body = AppealInput,
    security(("deviceAuth" = [])),
    responses((status = 200, description = "Appealed; a different officer decides.", body = FlagView),
        DeviceRefusals, StepRefusals, AppealRefusals))]
async fn appeal(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    Body(input): Body<AppealInput>,
) -> ApiResult<Json<FlagView>> {
    let statement = typed_statement(&input.statement)?;
    let flag = state
        .store
        .appeal_flag(&device, &id, &statement, state.clock.now())
        .await
        .map_err(step_error)?;
    let home = case_home(&state, &device).await?;
    Ok(Json(patient_flag(&state, &flag, home).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = FlagStatementInput)]
struct StatementInput {
    /// What happened, in the patient's words (required, plain text, at most 2000
    /// characters).
    #[schema(max_length = 2000)]
    statement: String,
}

problems!(ExplainRefusals {
    404 => "`flag_not_found`: no such flag on this device's case.", ["flag_not_found"];
    409 => "`flag_decided`: an officer has already decided the flag; the statement stays as \
            they read it (a sanction is appealed instead).", ["flag_decided"];
    422 => "`invalid_field` (`field`: `statement`): empty, over 2000 characters, or with \
            control characters.", ["invalid_field"];
});

/// Explain a flag before the decision
///
/// **Role:** an enrolled device, for its own case. The statement is stored with the flag
/// and shown to the officer beside the evidence; a new one replaces it until an officer
/// decides the flag, and is refused after.
#[utoipa::path(put, path = "/api/v1/device/flags/{id}/statement", tag = "monitoring",
    operation_id = "explainFlag",
    params(("id" = uuid::Uuid, Path, description = "Flag id.")),
    request_body = StatementInput,
    security(("deviceAuth" = [])),
    responses((status = 200, description = "Stored with the flag.", body = FlagView),
        DeviceRefusals, ExplainRefusals))]
async fn explain(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    Body(input): Body<StatementInput>,
) -> ApiResult<Json<FlagView>> {
    let statement = typed_statement(&input.statement)?;
    let flag = state
        .store
        .explain_flag(&device, &id, &statement, state.clock.now())
        .await
        .map_err(|e| match e {
            ExplainError::NotFound => flag_not_found(),
            ExplainError::Decided => ApiError::new(
                StatusCode::CONFLICT,
                "flag_decided",
                "Врач уже принял решение, объяснение больше нельзя изменить. Если назначена мера, её можно обжаловать.",
                "A doctor has already decided, so the explanation can no longer be changed. If a measure was imposed, you can appeal it.",
            ),
            ExplainError::Store(e) => e.into(),
        })?;
    let home = case_home(&state, &device).await?;
    Ok(Json(patient_flag(&state, &flag, home).await?))
}

/// A check-in as the app shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = OpenChallenge)]
struct OpenChallenge {
    #[schema(format = Uuid)]
    id: String,
    kind: ChallengeKind,
    #[schema(value_type = String, format = DateTime)]
    issued_at: Timestamp,
    /// Answer before this (20 minutes by default).
    #[schema(value_type = String, format = DateTime)]
    deadline: Timestamp,
    /// An immediate check-in says what raised it (the patient's own data, map-free).
    asked_for: Option<AskedFor>,
}

impl OpenChallenge {
    fn of(c: &ChallengeRecord) -> Self {
        Self {
            id: c.id.clone(),
            kind: c.kind,
            issued_at: c.issued_at,
            deadline: c.deadline,
            asked_for: c.asked_for.map(AskedFor::of),
        }
    }
}

#[derive(Serialize, ToSchema)]
struct Challenges {
    challenges: Vec<OpenChallenge>,
}

/// Check-ins to answer now
///
/// **Role:** an enrolled device. Challenges come only within daytime hours (09:00–21:00 on
/// the case's clocks by default, never at night), at most three a day.
#[utoipa::path(get, path = "/api/v1/device/challenges", tag = "monitoring", operation_id = "openChallenges",
    security(("deviceAuth" = [])),
    responses((status = 200, description = "Shown and not yet answered or past their deadline; \
        the schedule ahead is never shown.", body = Challenges), DeviceRefusals))]
async fn open_challenges(
    State(state): State<AppState>,
    Device(device): Device,
) -> ApiResult<Json<Challenges>> {
    let open = state
        .store
        .open_challenges(&device, state.clock.now())
        .await?;
    Ok(Json(Challenges {
        challenges: open.iter().map(OpenChallenge::of).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CheckinAnswer)]
struct AnswerInput {
    /// Taken in the app: JPEG or PNG, at most 1 MB, base64.
    #[schema(content_encoding = "base64")]
    photo: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
    #[schema(minimum = 0)]
    accuracy_m: f64,
    /// When the photo and the fix were taken; now if absent. An answer taken offline is sent
    /// later with it: it is on time when this is before the deadline.
    #[schema(format = DateTime)]
    taken_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Answered {
    #[schema(format = Uuid)]
    id: String,
    /// When it was taken.
    #[schema(value_type = String, format = DateTime)]
    answered_at: Timestamp,
    late: bool,
}

problems!(AnswerRefusals {
    404 => "`challenge_not_found`: no such check-in for this device, or not shown yet.",
        ["challenge_not_found"];
    409 => "`already_answered`: the first answer stands.", ["already_answered"];
    422 => "`invalid_photo`; `invalid_fix`: the location; `answer_in_future`: `taken_at` more \
            than 5 minutes ahead (a wrong clock); `answer_before_checkin`: taken before the \
            check-in was shown; `invalid_field`: `taken_at` is not RFC 3339.",
        ["invalid_photo", "invalid_fix", "answer_in_future", "answer_before_checkin", "invalid_field"];
    503 => "`photo_busy`: every photo check is taken; `overloaded`: past capacity. Wait \
            `retry_after_s`.", ["photo_busy", "overloaded"], retry_after();
});

/// Answer a check-in with a photo and the location
///
/// **Role:** an enrolled device. An unanswered scheduled check-in becomes a `missed_checkin`
/// flag for an officer, never a fine; an unanswered immediate one is never a flag. The
/// answer's location is evidence like a report: far from home it confirms a departure at
/// once.
#[utoipa::path(post, path = "/api/v1/device/challenges/{id}", tag = "monitoring",
    operation_id = "answerChallenge",
    params(("id" = uuid::Uuid, Path, description = "Check-in id.")),
    request_body = AnswerInput,
    security(("deviceAuth" = [])),
    responses((status = 200, description = "Recorded; `late` when taken after the deadline.",
        body = Answered), DeviceRefusals, AnswerRefusals))]
async fn answer_challenge(
    State(state): State<AppState>,
    Device(device): Device,
    Path(id): Path<String>,
    Body(input): Body<AnswerInput>,
) -> ApiResult<Json<Answered>> {
    let photo = photo_from_api(&state, &input.photo, "photo").await?;
    let now = state.clock.now();
    let taken = match input.taken_at.as_deref() {
        Some(t) => parse_time(t, "taken_at")?,
        None => now,
    };
    if taken > now.checked_add(MAX_AHEAD).unwrap_or(now) {
        return Err(unprocessable(
            "answer_in_future",
            format!("Ответ датирован будущим ({taken}); проверьте часы телефона."),
            format!("The answer is dated in the future ({taken}); check the phone's clock."),
        )
        .with("field", "taken_at"));
    }
    // A phone a little fast is taken at the service's time.
    let taken = taken.min(now);
    let fix = Fix::from_parts(taken, input.lat, input.lon, input.accuracy_m).map_err(|e| {
        unprocessable(
            "invalid_fix",
            format!("Местоположение неверно: {e}"),
            format!("The location is invalid: {e}"),
        )
    })?;
    let answer = CheckinAnswer { photo: &photo, fix };
    match answer_checkin(&state, &device, &id, answer).await? {
        AnswerOutcome::Answered { late, .. } => Ok(Json(Answered {
            id,
            answered_at: taken,
            late,
        })),
        AnswerOutcome::AlreadyAnswered => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_answered",
            "На эту проверку уже ответили; засчитан первый ответ.",
            "This check-in was answered already; the first answer stands.",
        )),
        AnswerOutcome::TakenBeforeIssue => Err(unprocessable(
            "answer_before_checkin",
            "Ответ сделан раньше, чем пришла проверка; сделайте новое фото.".into(),
            "The answer was taken before the check-in came; take a new photo.".into(),
        )
        .with("field", "taken_at")),
        AnswerOutcome::NotFound => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "challenge_not_found",
            "Проверка не найдена.",
            "Check-in not found.",
        )),
    }
}
