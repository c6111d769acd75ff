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

mod cases;
mod checkins;
mod flags;
mod loaners;

pub(super) use checkins::challenge_json;
pub(super) use flags::{asks_json, step_error};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cases", post(cases::create_case))
        .route("/api/v1/cases/{id}", get(cases::show_case))
        .route("/api/v1/cases/{id}/extend", post(cases::extend_case))
        .route("/api/v1/cases/{id}/end", post(cases::end_case))
        .route("/api/v1/cases/{id}/close", post(cases::close_case))
        .route("/api/v1/flags/queue", get(flags::queue))
        .route("/api/v1/flags/{id}", get(flags::show_flag))
        .route("/api/v1/flags/{id}/decision", post(flags::decide))
        .route(
            "/api/v1/flags/{id}/appeal-decision",
            post(flags::decide_appeal),
        )
        .route("/api/v1/cases/{id}/checkins", get(checkins::case_checkins))
        .route(
            "/api/v1/cases/{id}/reference-photo",
            get(checkins::reference_photo),
        )
        .route("/api/v1/checkins/{id}/photo", get(checkins::checkin_photo))
        .route(
            "/api/v1/loaners",
            post(loaners::add_loaner).get(loaners::list_loaners),
        )
        .route("/api/v1/loaners/overdue", get(loaners::overdue_loaners))
        .route("/api/v1/loaners/{serial}/lend", post(loaners::lend_loaner))
        .route(
            "/api/v1/loaners/{serial}/return",
            post(loaners::return_loaner),
        )
        .route("/api/v1/loaners/{serial}/wipe", post(loaners::wipe_loaner))
        .route("/api/v1/loaners/{serial}/lost", post(loaners::lose_loaner))
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

/// The home of a flag's case (none once erased after retention, or for an unknown case).
async fn home_of(state: &AppState, case_id: &str) -> ApiResult<Option<GeoPoint>> {
    Ok(state.store.case(case_id).await?.and_then(|c| c.home))
}
