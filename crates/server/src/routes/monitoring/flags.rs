//! The officer's queue and flags: reading a flag with its evidence and the questions asked
//! during it, deciding it (warning, sanction, dismissal) and deciding appeals.

use super::views::{CheckinView, FlagView};
use super::*;

/// The questions asked at once during a `left_home` flag's run (immediate check-ins: when,
/// what raised them, whether and from how far they were answered); empty for other kinds.
pub(in crate::routes) async fn asks(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<Vec<CheckinView>> {
    if flag.kind != FlagKind::LeftHome {
        return Ok(Vec::new());
    }
    let asks = state
        .store
        .asks_during(&flag.case_id, flag.from, flag.to)
        .await?;
    Ok(asks.iter().map(|c| CheckinView::of(c, home)).collect())
}

/// A flag as an officer reads it, with the questions asked during it.
pub(super) async fn officer_flag(
    state: &AppState,
    flag: &FlagRecord,
    home: Option<GeoPoint>,
) -> ApiResult<FlagView> {
    Ok(FlagView::of(flag).with_checkins(asks(state, flag, home).await?))
}

/// Flags awaiting an officer, and the questions left unanswered.
#[derive(Serialize, ToSchema)]
#[schema(as = Queue)]
pub(super) struct QueueView {
    flags: Vec<FlagView>,
    /// Questions asked at once in the last 24 hours and left unanswered past their deadline,
    /// for active cases with no `left_home` flag over their run: shown to the officer, never
    /// a flag, nothing to decide.
    unanswered_checkins: Vec<CheckinView>,
}

problems!(pub(in crate::routes) StepRefusals {
    404 => "`flag_not_found`: no such flag (for a device: none of its case).", ["flag_not_found"];
    409 => "`patient_not_yet_notified`: the patient's SMS has not gone out yet; \
            `not_sanctionable`: silence (`no_signal`) cannot be confirmed with a sanction; \
            `flag_state_conflict`: the step does not follow from the flag's state.",
        ["patient_not_yet_notified", "not_sanctionable", "flag_state_conflict"];
});

problems!(DecisionRefusals {
    422 => "`reason_required`: a confirmation needs a note; `invalid_field`: a sanction is \
            missing (confirm) or given (dismiss).", ["reason_required", "invalid_field"];
});

problems!(AppealDecisionRefusals {
    403 => "`appeal_needs_another_officer`: the officer who confirmed the sanction may not \
            decide its appeal; or `forbidden`.", ["appeal_needs_another_officer", "forbidden"];
    422 => "`reason_required`.", ["reason_required", "invalid_field"];
});

/// Flags awaiting an officer
///
/// **Role:** health. Audited.
#[utoipa::path(get, path = "/api/v1/flags/queue", tag = "monitoring", operation_id = "flagQueue",
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Oldest first: flags awaiting a first decision or an \
        appeal, and new ones whose SMS is still queued; and the questions left unanswered.",
        body = QueueView)))]
pub(super) async fn queue(
    State(state): State<AppState>,
    Health(officer): Health,
) -> ApiResult<Json<QueueView>> {
    let now = state.clock.now();
    let flags = state.store.officer_queue(officer.as_str(), now).await?;
    let mut list = Vec::with_capacity(flags.len());
    for flag in &flags {
        let home = home_of(&state, &flag.case_id).await?;
        list.push(officer_flag(&state, flag, home).await?);
    }
    let since = now.checked_sub(rules::UNANSWERED_FOR).unwrap_or(now);
    let unanswered = state
        .store
        .unanswered_asks(since, now)
        .await?
        .iter()
        .map(|u| CheckinView::of(&u.challenge, None).in_case(&u.challenge.case_id))
        .collect();
    Ok(Json(QueueView {
        flags: list,
        unanswered_checkins: unanswered,
    }))
}

/// One flag with its evidence and history
///
/// **Role:** health. Audited.
#[utoipa::path(get, path = "/api/v1/flags/{id}", tag = "monitoring", operation_id = "getFlag",
    params(("id" = uuid::Uuid, Path, description = "Flag id.")),
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "The flag.", body = FlagView), FlagNotFound))]
pub(super) async fn show_flag(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
) -> ApiResult<Json<FlagView>> {
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
    let (status, code) = match &refused {
        TransitionError::SameOfficer(_) => (StatusCode::FORBIDDEN, "appeal_needs_another_officer"),
        TransitionError::NotSanctionable(_) => (StatusCode::CONFLICT, "not_sanctionable"),
        TransitionError::NotAllowed { state: "open", .. } => {
            (StatusCode::CONFLICT, "patient_not_yet_notified")
        }
        TransitionError::NotAllowed { .. } => (StatusCode::CONFLICT, "flag_state_conflict"),
        TransitionError::MissingReason(_) => (StatusCode::UNPROCESSABLE_ENTITY, "reason_required"),
        TransitionError::TimeGoesBackwards { .. } | TransitionError::NotRaised => {
            (StatusCode::CONFLICT, "flag_state_conflict")
        }
    };
    let message = refused.localized();
    ApiError::new(status, code, message.ru, message.en)
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum DecisionKind {
    Dismiss,
    Confirm,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = Decision, example = json!({"decision": "confirm",
    "sanction": {"type": "fine", "amount_rub": 4000},
    "note": "40 минут в 600 м от дома, объяснений нет"}))]
pub(super) struct DecisionInput {
    decision: DecisionKind,
    sanction: Option<Sanction>,
    /// Why; required to confirm.
    #[serde(default)]
    note: String,
}

/// Takes an officer's step on a flag, wakes the SMS outbox and shows the flag.
async fn decide_step(
    state: &AppState,
    officer: &OfficerId,
    id: &str,
    step: OfficerStep,
) -> ApiResult<Json<FlagView>> {
    let app_url = state.app_url();
    let flag = state
        .store
        .decide_flag(id, officer, &step, state.clock.now(), &sms_texts(&app_url))
        .await
        .map_err(step_error)?;
    state.outbox_wakeup.notify_one();
    Ok(Json(FlagView::of(&flag)))
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

/// Dismiss a flag, or confirm it with a sanction
///
/// **Role:** health. The only way a sanction comes to exist. Audited.
#[utoipa::path(post, path = "/api/v1/flags/{id}/decision", tag = "monitoring", operation_id = "decideFlag",
    params(("id" = uuid::Uuid, Path, description = "Flag id.")),
    request_body = DecisionInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Decided; the patient is told by SMS.", body = FlagView),
        StepRefusals, DecisionRefusals))]
pub(super) async fn decide(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<DecisionInput>,
) -> ApiResult<Json<FlagView>> {
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

#[derive(Deserialize, ToSchema)]
#[schema(as = AppealDecision)]
pub(super) struct AppealDecisionInput {
    /// true lifts the sanction.
    upheld: bool,
    /// Why (required).
    #[serde(default)]
    note: String,
}

/// Decide a patient's appeal
///
/// **Role:** health, not the officer who confirmed. Audited.
#[utoipa::path(post, path = "/api/v1/flags/{id}/appeal-decision", tag = "monitoring",
    operation_id = "decideAppeal",
    params(("id" = uuid::Uuid, Path, description = "Flag id.")),
    request_body = AppealDecisionInput,
    security(("bearerAuth" = ["health"])),
    responses((status = 200, description = "Decided; the patient is told by SMS.", body = FlagView),
        StepRefusals, AppealDecisionRefusals))]
pub(super) async fn decide_appeal(
    State(state): State<AppState>,
    Health(officer): Health,
    Path(id): Path<String>,
    Body(input): Body<AppealDecisionInput>,
) -> ApiResult<Json<FlagView>> {
    let step = OfficerStep::DecideAppeal {
        upheld: input.upheld,
        note: rules::note(&input.note).map_err(|e| text_error(&e, "note"))?,
    };
    decide_step(&state, &officer, &id, step).await
}
