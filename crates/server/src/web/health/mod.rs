//! The health officers' pages at `/health`: sign in, the queue of flags (summarised cards,
//! filtered by kind, state and age) and each flag with its evidence and decision forms,
//! appeals (decided by a different officer), cases (open, extend, end, close; check-in
//! photos beside the reference photo) and the loaner phones. What cannot be undone — a
//! decision on a flag or an appeal, closing a case — goes to a check page first and acts only
//! when confirmed there.
//!
//! An officer signs in with the staff account an administrator made (on the staff page, or
//! with `propusk user add --role health`); administrators sign in on the same form. The
//! session token lives in an HttpOnly cookie scoped to `/health` (Secure behind TLS), so it
//! is never sent to the resident's pages. Every form carries the CSRF token of
//! [`WebCtx`](crate::web::WebCtx). The pages call the same store functions as the
//! monitoring API, so the same rules hold and the same audit entries are written.

mod cases;
pub(super) mod evidence;
mod flags;
mod loaners;
pub(super) mod page;
mod sign_in;
mod staff;
mod zones;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use propusk_core::monitoring::case::OfficerId;
use propusk_store::Role;

use crate::state::AppState;
use crate::web::session::cookie;

/// The officer's session cookie, scoped to the officer's pages.
const SESSION_COOKIE: &str = "propusk_health";
const COOKIE_PATH: &str = "/health";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(home))
        .route("/health/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/health/sign-out", post(sign_in::sign_out))
        .route("/health/queue", get(flags::queue))
        .route("/health/appeals", get(flags::appeals))
        .route("/health/flags/{id}", get(flags::show))
        .route("/health/flags/{id}/decision", post(flags::decide))
        .route(
            "/health/flags/{id}/decision/confirm",
            post(flags::decide_confirmed),
        )
        .route(
            "/health/flags/{id}/appeal-decision",
            post(flags::decide_appeal),
        )
        .route(
            "/health/flags/{id}/appeal-decision/confirm",
            post(flags::decide_appeal_confirmed),
        )
        .route("/health/cases", get(cases::list).post(cases::create))
        .route("/health/cases/new", get(cases::new_form))
        .route("/health/cases/{id}", get(cases::show))
        .route("/health/cases/{id}/extend", post(cases::extend))
        .route("/health/cases/{id}/end", post(cases::end))
        .route("/health/cases/{id}/close", post(cases::close_check))
        .route("/health/cases/{id}/close/confirm", post(cases::close))
        .route(
            "/health/cases/{id}/reference-photo",
            get(cases::reference_photo),
        )
        .route("/health/checkins/{id}/photo", get(cases::checkin_photo))
        .route("/health/loaners", get(loaners::list).post(loaners::add))
        .route("/health/loaners/{serial}/lend", post(loaners::lend))
        .route("/health/loaners/{serial}/return", post(loaners::give_back))
        .route("/health/loaners/{serial}/wipe", post(loaners::wipe))
        .route("/health/loaners/{serial}/lost", post(loaners::lost))
        .route("/health/staff", get(staff::list).post(staff::create))
        .route(
            "/setup/{token}",
            get(staff::setup_form).post(staff::setup_submit),
        )
}

/// A signed-in health officer; any other caller is sent to the sign-in form.
pub struct Officer {
    pub id: OfficerId,
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/health/sign-in").into_response();
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_sign_in)?;
        let session = match state.store.session(token, state.clock.now()).await {
            Ok(Some(s)) if s.role == Role::Health => s,
            Ok(_) => return Err(to_sign_in()),
            Err(e) => return Err(crate::error::ApiError::internal(e).into_response()),
        };
        let id = OfficerId::parse(&session.subject_id)
            .map_err(|e| crate::error::ApiError::internal(e).into_response())?;
        Ok(Self { id })
    }
}

async fn home(officer: Result<Officer, Response>) -> Redirect {
    match officer {
        Ok(_) => Redirect::to("/health/queue"),
        Err(_) => Redirect::to("/health/sign-in"),
    }
}
