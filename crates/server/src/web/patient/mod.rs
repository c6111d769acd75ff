//! The patient's pages at `/patient`, the fallback for phones that cannot run the app at
//! `/patient/app/`: connect the phone with the one-time enrollment code the officer gave (a
//! loaner phone with the key it was lent with), see the check-ins to answer and answer one
//! with a camera photo and the location, see one's flags in plain words, explain one before
//! an officer decides it, and appeal a sanction.
//!
//! The device token the enrollment returns is kept in an HttpOnly cookie scoped to
//! `/patient` (Secure behind TLS): it opens these pages and nothing else, as on the API.
//! Without JavaScript a photo is a plain file input with `capture`, and the location is
//! typed; the static script only fills the location in.

mod checkin;
mod enroll;
mod flags;
mod home;
mod multipart;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use propusk_store::{Device, DeviceLookup};

use crate::error::ApiError;
use crate::state::AppState;
use crate::web::session::cookie;

const DEVICE_COOKIE: &str = "propusk_device";
const COOKIE_PATH: &str = "/patient";
/// How long the browser keeps the device token: the longest quarantine. The token stops
/// working anyway when the case is closed.
const DEVICE_COOKIE_SECS: i64 = 60 * 24 * 3600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/patient", get(home::show))
        .route("/patient/enroll", post(enroll::submit))
        .route("/patient/device-key", post(enroll::device_key))
        .route(
            "/patient/checkins/{id}",
            get(checkin::form).post(checkin::answer),
        )
        .route("/patient/flags/{id}/appeal", post(home::appeal))
        .route("/patient/flags/{id}/statement", post(flags::explain))
        .route(
            "/static/monitoring.js",
            get(|| async {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        ),
                        (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    include_str!("../../../static/monitoring.js"),
                )
            }),
        )
}

/// The phone's enrolled device, if the browser holds a live token.
pub struct Enrolled(pub Option<Device>);

impl FromRequestParts<AppState> for Enrolled {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, DEVICE_COOKIE) else {
            return Ok(Self(None));
        };
        match state.store.device(token, state.clock.now()).await {
            Ok(DeviceLookup::Active(device)) => Ok(Self(Some(device))),
            Ok(DeviceLookup::Retired | DeviceLookup::Unknown) => Ok(Self(None)),
            Err(e) => Err(ApiError::internal(e).into_response()),
        }
    }
}
