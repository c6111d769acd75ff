//! Loaner phones: the stock, lending one to a patient, and its return, wipe or loss, each
//! step a move of the loaner's state machine (`propusk_core::monitoring::loaner`).

use super::views::{LoanerList, LoanerView};
use super::*;

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

#[derive(Deserialize, ToSchema)]
pub(super) struct LoanerInput {
    serial: String,
}

problems!(AddRefusals {
    409 => "`loaner_exists`.", ["loaner_exists"];
    422 => "`invalid_field`: the serial.", ["invalid_field"];
});

problems!(ListRefusals {
    400 => "`invalid_state`: not one of the states; `bad_request`: the query is malformed.",
        ["invalid_state", "bad_request"];
});

problems!(LoanerNotFound {
    404 => "`loaner_not_found`.", ["loaner_not_found"];
});

problems!(LoanerStepRefusals {
    409 => "`loaner_state_conflict`: not in a state that allows this (`state` says which).",
        ["loaner_state_conflict"], json!({ "state": { "type": "string" } });
});

problems!(LendRefusals {
    409 => "`loaner_state_conflict`, or `case_status_conflict`: the case is unknown or over.",
        ["loaner_state_conflict", "case_status_conflict"];
});

problems!(WipeRefusals {
    422 => "`wipe_incomplete`: `factory_reset`, `token_removed` and `accounts_removed` must \
            all be true; `missing` lists the rest.", ["wipe_incomplete"],
        json!({ "missing": { "type": "array", "items": { "type": "string" } } });
});

/// Add a loaner phone to the inventory
///
/// **Role:** health. Audited.
#[utoipa::path(post, path = "/api/v1/loaners", tag = "monitoring", operation_id = "addLoaner",
    request_body = LoanerInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 201, description = "In stock.", body = LoanerView), AddRefusals))]
pub(super) async fn add_loaner(
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
    Ok((StatusCode::CREATED, Json(LoanerView::of(&loaner))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LoanerQuery {
    /// Only this state: `in_stock`, `on_loan`, `returned`, `wiped` or `lost`.
    #[param(pattern = "^(in_stock|on_loan|returned|wiped|lost)$")]
    state: Option<String>,
}

/// The loaner inventory
///
/// **Role:** health.
#[utoipa::path(get, path = "/api/v1/loaners", tag = "monitoring", operation_id = "listLoaners",
    params(LoanerQuery),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "By serial.", body = LoanerList), ListRefusals))]
pub(super) async fn list_loaners(
    State(state): State<AppState>,
    Health(_): Health,
    axum::extract::Query(q): axum::extract::Query<LoanerQuery>,
) -> ApiResult<Json<LoanerList>> {
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
    Ok(Json(LoanerList {
        loaners: list.iter().map(LoanerView::of).collect(),
    }))
}

/// Phones on loan past their due date
///
/// **Role:** health.
#[utoipa::path(get, path = "/api/v1/loaners/overdue", tag = "monitoring", operation_id = "overdueLoaners",
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Longest overdue first.", body = LoanerList)))]
pub(super) async fn overdue_loaners(
    State(state): State<AppState>,
    Health(_): Health,
) -> ApiResult<Json<LoanerList>> {
    let list = state.store.overdue_loaners(state.clock.now()).await?;
    Ok(Json(LoanerList {
        loaners: list.iter().map(LoanerView::of).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub(super) struct LendInput {
    #[schema(format = Uuid)]
    case_id: String,
}

/// A phone on loan, with the one-time key it enrolls with.
#[derive(Serialize, ToSchema)]
pub(super) struct Lent {
    #[serde(flatten)]
    loaner: LoanerView,
    /// Four groups of four letters and digits, the last one a check symbol.
    #[schema(pattern = "^[0-9A-HJKMNP-TV-Y]{4}(-[0-9A-HJKMNP-TV-Y]{4}){3}$")]
    loaner_key: String,
    /// The app's link with the key in the URL fragment (and the QR code on the officer's page).
    enrollment_url: String,
}

/// Lend a phone (in stock or wiped) to a case
///
/// **Role:** health. Due at the case's end. Audited.
#[utoipa::path(post, path = "/api/v1/loaners/{serial}/lend", tag = "monitoring", operation_id = "lendLoaner",
    params(("serial" = String, Path, description = "Serial number.")),
    request_body = LendInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "On loan, with the one-time key the phone enrolls with \
        (shown once; `POST /api/v1/device/enroll`): the device token it then gets is the only thing \
        it holds about the patient.", body = Lent), LoanerNotFound, LendRefusals))]
pub(super) async fn lend_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<LendInput>,
) -> ApiResult<Json<Lent>> {
    let key = rules::loaner_key();
    let loaner = state
        .store
        .lend_loaner(
            &serial,
            &input.case_id,
            &key.compact(),
            officer.as_str(),
            state.clock.now(),
        )
        .await
        .map_err(loaner_error)?;
    // The phone enrolls with the key when it is handed out (shown once; the store keeps its
    // hash), and then holds only the device token it gets.
    let key = key.to_string();
    let enrollment_url = rules::enrollment_link(&state.app_url(), &key);
    Ok(Json(Lent {
        loaner: LoanerView::of(&loaner),
        loaner_key: key,
        enrollment_url,
    }))
}

/// A checklist: item name → done.
type Checklist = std::collections::BTreeMap<String, bool>;

#[derive(Deserialize, ToSchema)]
pub(super) struct ChecklistInput {
    /// Item name → done.
    #[schema(inline)]
    checklist: Checklist,
}

/// Moves a loaner phone one step (with the checklist that goes with it, if any) and shows it.
async fn move_and_show(
    state: &AppState,
    officer: &OfficerId,
    serial: &str,
    step: LoanerStep,
    checklist: Option<&Checklist>,
) -> ApiResult<Json<LoanerView>> {
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
    Ok(Json(LoanerView::of(&loaner)))
}

/// Record a phone's return with its checklist
///
/// **Role:** health. Audited.
#[utoipa::path(post, path = "/api/v1/loaners/{serial}/return", tag = "monitoring",
    operation_id = "returnLoaner",
    params(("serial" = String, Path, description = "Serial number.")),
    request_body = ChecklistInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Returned; its device token is refused as \
        `device_retired` (the app erases itself) and an unused key dies.", body = LoanerView),
        LoanerNotFound, LoanerStepRefusals))]
pub(super) async fn return_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<ChecklistInput>,
) -> ApiResult<Json<LoanerView>> {
    move_and_show(
        &state,
        &officer,
        &serial,
        LoanerStep::Return,
        Some(&input.checklist),
    )
    .await
}

/// Record a returned phone's wipe
///
/// **Role:** health. Audited.
#[utoipa::path(post, path = "/api/v1/loaners/{serial}/wipe", tag = "monitoring", operation_id = "wipeLoaner",
    params(("serial" = String, Path, description = "Serial number.")),
    request_body = ChecklistInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Wiped; may be lent again.", body = LoanerView),
        LoanerNotFound, LoanerStepRefusals, WipeRefusals))]
pub(super) async fn wipe_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
    Body(input): Body<ChecklistInput>,
) -> ApiResult<Json<LoanerView>> {
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

/// Record a phone as lost
///
/// **Role:** health. Audited.
#[utoipa::path(post, path = "/api/v1/loaners/{serial}/lost", tag = "monitoring", operation_id = "loseLoaner",
    params(("serial" = String, Path, description = "Serial number.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Lost; its device token no longer works.", body = LoanerView),
        LoanerNotFound, LoanerStepRefusals))]
pub(super) async fn lose_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
) -> ApiResult<Json<LoanerView>> {
    move_and_show(&state, &officer, &serial, LoanerStep::Lose, None).await
}
