//! The resident portal: sign in by SMS code, profile, get a pass in simple
//! steps, see it with its QR code, cancel, print. Every form works without
//! JavaScript and carries a CSRF token.

mod new_pass;
mod passes;
mod profile;
mod sign_in;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use propusk_store::{Resident, Role};
use serde::Deserialize;

use super::health::page::MessagePage;
use super::i18n::Texts;
use super::session::WebCtx;
use crate::error::ApiError;
use crate::lang::{Lang, Pick};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(start))
        .route("/lang", get(switch_lang))
        .route(
            "/sign-in",
            get(sign_in::phone_form).post(sign_in::phone_submit),
        )
        .route(
            "/sign-in/code",
            get(sign_in::code_form).post(sign_in::code_submit),
        )
        .route("/sign-out", post(sign_in::sign_out))
        .route(
            "/profile",
            get(profile::profile_form).post(profile::profile_submit),
        )
        .route("/passes", get(passes::list))
        .route("/passes/new", get(new_pass::purpose).post(new_pass::submit))
        .route("/passes/new/details", get(new_pass::details))
        .route("/passes/{id}", get(passes::show))
        .route("/passes/{id}/qr.svg", get(passes::qr))
        .route("/passes/{id}/qr.png", get(passes::qr_png))
        .route("/passes/{id}/print", get(passes::print))
        .route(
            "/passes/{id}/cancel",
            get(passes::cancel_check).post(passes::cancel),
        )
}

/// Renders a template into a response, with the cookies the request decided on.
fn page(ctx: WebCtx, status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(body) => ctx.finish((status, Html(body))),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

fn see_other(ctx: WebCtx, to: &str) -> Response {
    ctx.finish(Redirect::to(to))
}

/// The signed-in resident, or a redirect to sign in.
async fn resident(state: &AppState, ctx: &WebCtx) -> Result<Resident, Response> {
    let Some((_, session)) = ctx
        .session
        .as_ref()
        .filter(|(_, s)| s.role == Role::Resident)
    else {
        return Err(Redirect::to("/sign-in").into_response());
    };
    match state.store.resident(&session.subject_id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(Redirect::to("/sign-in").into_response()),
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

fn forbidden(ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    let (title, text) = (t.t("forbidden-title"), t.t("forbidden-text"));
    message(ctx, StatusCode::FORBIDDEN, title, text, "/")
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    regime: Option<String>,
    /// The number residents text for a pass.
    sms_number: String,
}

async fn start(State(state): State<AppState>, ctx: WebCtx) -> Response {
    if ctx
        .session
        .as_ref()
        .is_some_and(|(_, s)| s.role == Role::Resident)
    {
        return see_other(ctx, "/passes");
    }
    let t = Texts::new(ctx.lang);
    let regime = state
        .regimes()
        .in_force(state.clock.now())
        .map(|r| r.name().get(ctx.lang).to_string());
    let html = StartPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/".into(),
        regime,
        sms_number: state.service.sms_number.clone(),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

#[derive(Deserialize)]
struct LangQuery {
    #[serde(default)]
    set: String,
    #[serde(default)]
    back: String,
}

async fn switch_lang(mut ctx: WebCtx, Query(q): Query<LangQuery>) -> Response {
    let Some(lang) = Lang::parse(&q.set) else {
        let t = Texts::new(ctx.lang);
        return crate::web::health::page::message(
            ctx,
            StatusCode::BAD_REQUEST,
            t.t("lang-unknown-title"),
            t.t("lang-unknown-text"),
            "/",
        );
    };
    ctx.set_lang(lang);
    // Only local pages: never an open redirect.
    see_other(ctx, crate::web::local_back(&q.back))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn message(ctx: WebCtx, status: StatusCode, title: String, text: String, back: &str) -> Response {
    let html = MessagePage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: ctx.session.is_some(),
        path: back.into(),
        title,
        text,
        back: back.into(),
    }
    .render();
    page(ctx, status, html)
}
