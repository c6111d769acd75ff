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
use axum::Json;
use jiff::Timestamp;
use propusk_core::domain::GeoPoint;
use propusk_core::monitoring::case::{OfficerId, Sanction, TransitionError};
use propusk_core::monitoring::geofence::Geofence;
use propusk_core::monitoring::loaner::{missing_wipe_steps, LoanerState, LoanerStep};
use propusk_core::monitoring::FlagKind;
use propusk_store::{
    CaseChange, CaseChangeError, FlagRecord, FlagStepError, LoanerError, NewCase, OfficerStep, Role,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use super::Body;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::monitoring::sms_texts;
use crate::monitoring_rules as rules;
use crate::openapi::{api_routes, problems};
use crate::state::AppState;
use propusk_core::monitoring::face::FaceComparison;

mod cases;
mod checkins;
mod flags;
mod loaners;
mod views;

pub(super) use flags::{asks, step_error, StepRefusals};
pub(super) use views::{AskedFor, FlagView};

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![
        [cases::create_case],
        [cases::show_case],
        [cases::extend_case],
        [cases::end_case],
        [cases::close_case],
        [flags::queue],
        [flags::show_flag],
        [flags::decide],
        [flags::decide_appeal],
        [checkins::case_checkins],
        [checkins::reference_photo],
        [checkins::checkin_photo],
        [loaners::add_loaner, loaners::list_loaners],
        [loaners::overdue_loaners],
        [loaners::lend_loaner],
        [loaners::return_loaner],
        [loaners::wipe_loaner],
        [loaners::lose_loaner]
    ]
}

problems!(CaseNotFound {
    404 => "`case_not_found`.", ["case_not_found"];
});

problems!(FlagNotFound {
    404 => "`flag_not_found`: no such flag (for a device: none of its case).", ["flag_not_found"];
});

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

pub(in crate::routes) fn flag_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "flag_not_found",
        "Отметка не найдена.",
        "Flag not found.",
    )
}

/// The home of a flag's case (none once erased after retention, or for an unknown case).
async fn home_of(state: &AppState, case_id: &str) -> ApiResult<Option<GeoPoint>> {
    Ok(state.store.case(case_id).await?.and_then(|c| c.home))
}
