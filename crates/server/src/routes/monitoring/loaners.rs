//! Loaner phones: the stock, lending one to a patient, and its return, wipe or loss, each
//! step a move of the loaner's state machine (`propusk_core::monitoring::loaner`).

use super::*;

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
pub(super) struct LoanerInput {
    serial: String,
}

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
    Ok((StatusCode::CREATED, Json(loaner_json(&loaner))).into_response())
}

#[derive(Deserialize)]
pub(super) struct LoanerQuery {
    state: Option<String>,
}

pub(super) async fn list_loaners(
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

pub(super) async fn overdue_loaners(
    State(state): State<AppState>,
    Health(_): Health,
) -> ApiResult<Json<Value>> {
    let list = state.store.overdue_loaners(state.clock.now()).await?;
    Ok(Json(
        json!({"loaners": list.iter().map(loaner_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
pub(super) struct LendInput {
    case_id: String,
}

pub(super) async fn lend_loaner(
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
pub(super) struct ChecklistInput {
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

pub(super) async fn return_loaner(
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

pub(super) async fn wipe_loaner(
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

pub(super) async fn lose_loaner(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(serial): Path<String>,
) -> ApiResult<Json<Value>> {
    move_and_show(&state, &officer, &serial, LoanerStep::Lose, None).await
}
