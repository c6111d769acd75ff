//! Signing in by a code sent by SMS, and signing out.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{forbidden, page, see_other, urlencode, CsrfForm};
use crate::app::sign_in::{self, RequestCodeFailure, VerifyFailure};
use crate::auth::RESIDENT_SESSION_SECS;
use crate::error::ApiError;
use crate::lang::Pick;
use crate::state::AppState;
use crate::web::form::{Errors, FieldErrors};
use crate::web::{Texts, WebCtx};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct PhonePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    phone: String,
    errors: Errors,
}

pub async fn phone_form(ctx: WebCtx) -> Response {
    let html = PhonePage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/sign-in".into(),
        phone: String::new(),
        errors: vec![],
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

pub async fn phone_submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    client: crate::edge::ClientIp,
    Form(form): Form<PhoneForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let lang = ctx.lang;
    let again = |ctx: WebCtx, status: StatusCode, message: String| {
        let html = PhonePage {
            t: Texts::new(lang),
            csrf: ctx.csrf.clone(),
            signed_in: false,
            path: "/sign-in".into(),
            phone: form.phone.clone(),
            errors: vec![("phone".into(), message)],
        }
        .render();
        page(ctx, status, html)
    };
    let phone = match propusk_core::domain::PhoneNumber::parse(&form.phone) {
        Ok(p) => p,
        Err(e) => {
            return again(
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                e.localized().get(lang).to_string(),
            )
        }
    };
    match sign_in::request_code(&state, &phone, client.0, lang).await {
        Ok(()) => see_other(
            ctx,
            &format!("/sign-in/code?phone={}", urlencode(phone.as_str())),
        ),
        Err(RequestCodeFailure::Refused(refusal)) => {
            let status = refusal.status();
            // The code already sent is still good: offer to enter it.
            let mut response = again(ctx, status, refusal.message.get(lang).to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, refusal.retry_after_secs.into());
            response
        }
        Err(RequestCodeFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    phone: String,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct PhoneQuery {
    #[serde(default)]
    phone: String,
}

pub async fn code_form(ctx: WebCtx, Query(q): Query<PhoneQuery>) -> Response {
    let html = CodePage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/sign-in/code".into(),
        phone: q.phone,
        errors: vec![],
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

pub async fn code_submit(
    State(state): State<AppState>,
    mut ctx: WebCtx,
    Form(form): Form<CodeForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let lang = ctx.lang;
    let fail = |ctx: WebCtx, message: String| {
        let html = CodePage {
            t: Texts::new(lang),
            csrf: ctx.csrf.clone(),
            signed_in: false,
            path: "/sign-in/code".into(),
            phone: form.phone.clone(),
            errors: vec![("code".into(), message)],
        }
        .render();
        page(ctx, StatusCode::UNAUTHORIZED, html)
    };
    let Ok(phone) = propusk_core::domain::PhoneNumber::parse(&form.phone) else {
        return see_other(ctx, "/sign-in");
    };
    let signed_in = match sign_in::verify_code(&state, &phone, &form.code, lang).await {
        Ok(signed_in) => signed_in,
        Err(VerifyFailure::Wrong { attempts_left }) => {
            let text = sign_in::wrong_code_message(attempts_left);
            return fail(ctx, text.get(lang).to_string());
        }
        Err(VerifyFailure::NoLiveCode) => {
            return fail(ctx, sign_in::no_live_code_message().get(lang).to_string());
        }
        Err(VerifyFailure::Store(e)) => return ApiError::from(e).into_response(),
    };
    let (resident, token) = (signed_in.resident, signed_in.session.token);
    ctx.set_session(&token, RESIDENT_SESSION_SECS);
    let next = if resident.profile.is_some() {
        "/passes"
    } else {
        "/profile"
    };
    see_other(ctx, next)
}

pub async fn sign_out(
    State(state): State<AppState>,
    mut ctx: WebCtx,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    if let Some((token, _)) = &ctx.session {
        if let Err(e) = state.store.end_session(token).await {
            return ApiError::internal(e).into_response();
        }
    }
    ctx.clear_session();
    see_other(ctx, "/")
}
