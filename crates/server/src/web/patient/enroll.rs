//! Connecting a phone: the one-time enrollment code (with the reference photo officers
//! compare check-ins with), or, on a loaner phone, the key it was lent with.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use propusk_token::{LoanerKey, LoanerKeyError};
use serde::Deserialize;

use super::{multipart, COOKIE_PATH, DEVICE_COOKIE, DEVICE_COOKIE_SECS};
use crate::auth::new_token;
use crate::error::ApiError;
use crate::monitoring_rules as rules;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::health::page::{forged, render, see_other, with_cookie, Errors};
use crate::web::{Texts, WebCtx};

#[derive(Template)]
#[template(path = "patient/enroll.html")]
struct EnrollPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    code: String,
    /// The loaner key as typed, when the key form comes back with a problem.
    key: String,
    errors: Errors,
}

pub fn page(ctx: WebCtx, status: StatusCode, code: String, errors: Errors) -> Response {
    key_page(ctx, status, code, String::new(), errors)
}

fn key_page(
    ctx: WebCtx,
    status: StatusCode,
    code: String,
    key: String,
    errors: Errors,
) -> Response {
    let html = EnrollPage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/patient".into(),
        code,
        key,
        errors,
    }
    .render();
    render(ctx, status, html)
}

/// The page's answer that keeps the device token in the browser.
fn enrolled(state: &AppState, ctx: WebCtx, token: &str) -> Response {
    let response = see_other(ctx, "/patient");
    with_cookie(
        response,
        DEVICE_COOKIE,
        token,
        COOKIE_PATH,
        DEVICE_COOKIE_SECS,
        state.behind_tls,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = Texts::new(ctx.lang);
    let fields = multipart::form(&headers, &body);
    let Some(fields) = fields.filter(|f| ctx.csrf_ok(f.text("csrf"))) else {
        return forged(ctx, "/patient");
    };
    let typed = fields.text("code").trim().to_string();
    let code = rules::normalize_code(&typed);
    if code.len() != rules::ENROLLMENT_CODE_LEN {
        let errors = vec![("code".into(), t.t("enroll-code-invalid"))];
        return page(ctx, StatusCode::UNPROCESSABLE_ENTITY, typed, errors);
    }
    let now = state.clock.now();
    // The code first: no photo is decoded for a wrong code.
    match state.store.enrollment_code_live(&code, now).await {
        Ok(true) => {}
        Ok(false) => {
            let errors = vec![("code".into(), t.t("enroll-code-unknown"))];
            return page(ctx, StatusCode::NOT_FOUND, typed, errors);
        }
        Err(e) => return ApiError::internal(e).into_response(),
    }
    // The photo is checked before the code is spent: a bad photo changes nothing.
    let photo = match fields.bytes("photo").filter(|b| !b.is_empty()) {
        None => None,
        Some(bytes) => match crate::photo::normalize_upload(&state.photos, bytes).await {
            Ok(jpeg) => Some(jpeg),
            Err(e) => {
                tracing::info!(reason = %e, "reference photo refused");
                let errors = vec![("photo".into(), e.message(t))];
                return page(ctx, StatusCode::UNPROCESSABLE_ENTITY, typed, errors);
            }
        },
    };
    let token = new_token();
    match state
        .store
        .enroll_device(&code, &token, photo.as_deref(), now)
        .await
    {
        Ok(Some(device)) => {
            tracing::info!(device = %device.id, case = %device.case_id, "device enrolled on the patient page");
            enrolled(&state, ctx, &token)
        }
        Ok(None) => {
            let errors = vec![("code".into(), t.t("enroll-code-unknown"))];
            page(ctx, StatusCode::NOT_FOUND, typed, errors)
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
}

/// A loaner phone: the officer lent it with a one-time loaner key, typed in here once.
pub async fn device_key(
    State(state): State<AppState>,
    ctx: WebCtx,
    Form(form): Form<KeyForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/patient");
    }
    let typed = form.key.trim().to_string();
    let t = Texts::new(ctx.lang);
    // A loaner key is checked before the server is asked: a typo has its own message. The
    // case's own enrollment code is accepted here too (it connects a phone just the same).
    let key = match typed.parse::<LoanerKey>() {
        Ok(key) => key.compact(),
        Err(_) if rules::normalize_code(&typed).len() == rules::ENROLLMENT_CODE_LEN => {
            rules::normalize_code(&typed)
        }
        Err(e) => {
            let text = match e {
                LoanerKeyError::Empty => t.t("staff-key-empty"),
                LoanerKeyError::WrongLength(n) => t.t1("staff-key-length", "count", &n.to_string()),
                LoanerKeyError::BadCharacter(c) => {
                    t.t1("staff-key-character", "character", &c.to_string())
                }
                LoanerKeyError::CheckFailed => t.t("staff-key-typo"),
            };
            let errors = vec![("key".into(), text)];
            return key_page(
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                String::new(),
                typed,
                errors,
            );
        }
    };
    let unknown = |ctx: WebCtx| {
        let errors = vec![("key".into(), t.t("enroll-key-unknown"))];
        key_page(
            ctx,
            StatusCode::NOT_FOUND,
            String::new(),
            typed.clone(),
            errors,
        )
    };
    let token = new_token();
    match state
        .store
        .enroll_device(&key, &token, None, state.clock.now())
        .await
    {
        Ok(Some(device)) => {
            tracing::info!(device = %device.id, case = %device.case_id, "loaner enrolled on the patient page");
            enrolled(&state, ctx, &token)
        }
        Ok(None) => unknown(ctx),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
