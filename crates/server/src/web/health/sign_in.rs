//! Signing an officer in and out: username and password of a staff account (Argon2id, as
//! the API's login checks them), only for role `health`.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use propusk_store::Role;
use serde::Deserialize;

use super::page::{forged, render, see_other, with_cookie, Errors, FieldErrors};
use super::{COOKIE_PATH, SESSION_COOKIE};
use crate::app::sign_in::{self, StaffRefusal};
use crate::auth::{sign_in_staff, StaffSignInError, STAFF_SESSION_SECS};
use crate::edge::ClientIp;
use crate::error::ApiError;
use crate::lang::Pick;
use crate::state::AppState;
use crate::web::{Texts, WebCtx};

#[derive(Template)]
#[template(path = "health/sign_in.html")]
struct SignInPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    username: String,
    errors: Errors,
}

fn page(ctx: WebCtx, status: StatusCode, username: String, errors: Errors) -> Response {
    let html = SignInPage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/health/sign-in".into(),
        username,
        errors,
    }
    .render();
    render(ctx, status, html)
}

pub async fn form(ctx: WebCtx) -> Response {
    page(ctx, StatusCode::OK, String::new(), vec![])
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    client: ClientIp,
    Form(form): Form<SignInForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/health/sign-in");
    }
    let t = Texts::new(ctx.lang);
    let username = form.username.trim().to_string();
    let user = match sign_in_staff(&state, &username, &form.password, client.0).await {
        Ok(user) => user,
        Err(StaffSignInError::WrongCredentials) => {
            let errors = vec![("username".into(), t.t("health-sign-in-wrong"))];
            return page(ctx, StatusCode::UNAUTHORIZED, username, errors);
        }
        Err(e) => {
            let refused = match StaffRefusal::of(e, state.clock.now()) {
                Ok(refused) => refused,
                Err(store) => return ApiError::from(store).into_response(),
            };
            let status = refused.status();
            let text = refused.message.get(ctx.lang).to_string();
            let mut response = page(ctx, status, username, vec![("username".into(), text)]);
            if let Some(secs) = refused.retry_after_secs {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            return response;
        }
    };
    // Officers go to their queue, administrators to the staff accounts.
    let home = match user.role {
        Role::Health => "/health/queue",
        Role::Admin => "/health/staff",
        Role::Inspector | Role::Resident => {
            let errors = vec![("username".into(), t.t("health-sign-in-not-health"))];
            return page(ctx, StatusCode::FORBIDDEN, username, errors);
        }
    };
    let token = match sign_in::open_session(&state, &user.id, user.role, STAFF_SESSION_SECS).await {
        Ok(session) => session.token,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let response = see_other(ctx, home);
    with_cookie(
        response,
        SESSION_COOKIE,
        &token,
        COOKIE_PATH,
        STAFF_SESSION_SECS,
        state.behind_tls,
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    ctx: WebCtx,
    headers: axum::http::HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/health/queue");
    }
    // An officer's or an administrator's session: whichever the cookie holds ends.
    if let Some(token) = crate::web::session::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = state.store.end_session(token).await {
            return ApiError::internal(e).into_response();
        }
    }
    let response = see_other(ctx, "/health/sign-in");
    with_cookie(
        response,
        SESSION_COOKIE,
        "",
        COOKIE_PATH,
        0,
        state.behind_tls,
    )
}
