//! The officer's queue and flags: reading a flag with its evidence and the questions asked
//! during it, deciding it (warning, sanction, dismissal) and deciding appeals.

use super::*;

/// The questions asked at once during a `left_home` flag's run (immediate check-ins: when,
/// what raised them, whether and from how far they were answered); empty for other kinds.
pub(in crate::routes) async fn asks_json(
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
pub(super) async fn officer_flag(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<Value> {
    let mut v = flag_json(flag);
    v["checkins"] = asks_json(state, flag, home).await?;
    Ok(v)
}

pub(super) async fn queue(
    State(state): State<AppState>,
    Health(officer): Health,
) -> ApiResult<Json<Value>> {
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

pub(super) async fn show_flag(
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

pub(in crate::routes) fn step_error(e: FlagStepError) -> ApiError {
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
pub(super) enum DecisionKind {
    Dismiss,
    Confirm,
}

#[derive(Deserialize)]
pub(super) struct DecisionInput {
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

pub(super) async fn decide(
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
pub(super) struct AppealDecisionInput {
    upheld: bool,
    #[serde(default)]
    note: String,
}

pub(super) async fn decide_appeal(
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
