//! What the officer's and the patient's pages share: rendering with the request's cookies,
//! redirects, the refusal of a forged form, message pages, cookies of their own, and times
//! on a case's clocks.

use askama::Template;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::error::ApiError;
use crate::lang::Lang;
use crate::web::{Texts, WebCtx};

pub use crate::web::form::{Errors, FieldErrors};

/// Renders a template into a response, with the cookies the request decided on.
pub fn render(ctx: WebCtx, status: StatusCode, html: Result<String, askama::Error>) -> Response {
    match html {
        Ok(body) => ctx.finish((status, Html(body))),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

pub fn see_other(ctx: WebCtx, to: &str) -> Response {
    ctx.finish(Redirect::to(to))
}

/// A page that says one thing and links back (the resident's pages use it too).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub t: Texts,
    pub csrf: String,
    pub signed_in: bool,
    pub path: String,
    pub title: String,
    pub text: String,
    pub back: String,
}

/// A page that says one thing and links back.
pub fn message(
    ctx: WebCtx,
    status: StatusCode,
    title: String,
    text: String,
    back: &str,
) -> Response {
    let html = MessagePage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: back.into(),
        title,
        text,
        back: back.into(),
    }
    .render();
    render(ctx, status, html)
}

/// The one-time code that connects a phone, shown once: as text, as a link that opens the
/// patient's app with it, and as a QR code of that link for the phone's camera.
#[derive(Template)]
#[template(path = "health/enrollment.html")]
struct EnrollmentPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    title: String,
    lead: String,
    code: String,
    link: String,
    /// The QR code as a `data:` URL (the page's policy allows `data:` images), so the code
    /// is never in a URL the server could log.
    qr: String,
    back: String,
    back_text: String,
}

/// The page that shows a one-time code (a case's enrollment code, a loaner key) once.
#[allow(clippy::too_many_arguments)]
pub fn enrollment_page(
    ctx: WebCtx,
    status: StatusCode,
    title: String,
    lead: String,
    code: String,
    link: String,
    (back, back_text): (String, String),
) -> Response {
    use base64::Engine;
    let qr = match crate::qr::render_svg(&link) {
        Ok(svg) => format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(svg)
        ),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let html = EnrollmentPage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: back.clone(),
        title,
        lead,
        code,
        link,
        qr,
        back,
        back_text,
    }
    .render();
    render(ctx, status, html)
}

/// A form without the right CSRF token (forged, or the page was open too long): refused,
/// nothing changed.
pub fn forged(ctx: WebCtx, back: &str) -> Response {
    let t = Texts::new(ctx.lang);
    message(
        ctx,
        StatusCode::FORBIDDEN,
        t.t("forbidden-title"),
        t.t("forbidden-text"),
        back,
    )
}

pub fn not_found(ctx: WebCtx, back: &str) -> Response {
    let t = Texts::new(ctx.lang);
    message(
        ctx,
        StatusCode::NOT_FOUND,
        t.t("not-found-title"),
        String::new(),
        back,
    )
}

/// Adds an HttpOnly, SameSite=Lax cookie limited to `path` (Secure behind TLS); a
/// `max_age` of 0 deletes it.
pub fn with_cookie(
    mut response: Response,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    secure: bool,
) -> Response {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, v);
    }
    response
}

/// A moment on a case's clocks (an IANA zone name), in the reader's style.
pub fn local_time(t: Timestamp, time_zone: &str, lang: Lang) -> String {
    let tz = TimeZone::get(time_zone).unwrap_or(TimeZone::UTC);
    let format = match lang {
        Lang::Ru => "%d.%m.%Y %H:%M",
        Lang::En => "%Y-%m-%d %H:%M",
    };
    t.to_zoned(tz).strftime(format).to_string()
}

/// From one moment to another on the clocks of `time_zone`, in the reader's style.
pub fn period(from: Timestamp, to: Timestamp, time_zone: &str, lang: Lang) -> String {
    format!(
        "{} — {}",
        local_time(from, time_zone, lang),
        local_time(to, time_zone, lang)
    )
}

/// A span of time in whole minutes, or hours and minutes, in the reader's language.
pub fn duration(from: Timestamp, to: Timestamp, t: Texts) -> String {
    let mins = to.duration_since(from).as_secs().max(0) / 60;
    if mins < 60 {
        t.t1("duration-min", "m", &mins.to_string())
    } else {
        t.t2(
            "duration-h-min",
            ("h", &(mins / 60).to_string()),
            ("m", &(mins % 60).to_string()),
        )
    }
}

/// A decimal number as typed: a comma is a decimal point too.
pub fn number(s: &str) -> Option<f64> {
    s.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}
