//! The resident portal: sign in by SMS code, profile, get a pass in simple
//! steps, see it with its QR code, cancel, print. Every form works without
//! JavaScript and carries a CSRF token.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use propusk_core::policy::{MaxDuration, Regime};
use propusk_store::{PassRecord, Resident, Role};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::health::page::MessagePage;
use super::i18n::Texts;
use super::session::WebCtx;
use crate::app::passes::{self, CancelFailure, Canceller, Channel, IssueFailure, PassStatus};
use crate::app::residents::{self, ProfileFailure};
use crate::app::sign_in::{self, RequestCodeFailure, VerifyFailure};
use crate::auth::RESIDENT_SESSION_SECS;
use crate::error::ApiError;
use crate::lang::{Lang, Pick};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(start))
        .route("/lang", get(switch_lang))
        .route("/sign-in", get(phone_form).post(phone_submit))
        .route("/sign-in/code", get(code_form).post(code_submit))
        .route("/sign-out", post(sign_out))
        .route("/profile", get(profile_form).post(profile_submit))
        .route("/passes", get(list))
        .route("/passes/new", get(new_purpose).post(new_submit))
        .route("/passes/new/details", get(new_details))
        .route("/passes/{id}", get(show))
        .route("/passes/{id}/qr.svg", get(qr))
        .route("/passes/{id}/print", get(print))
        .route("/passes/{id}/cancel", post(cancel))
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
    let tpl = MessagePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: ctx.session.is_some(),
        path: "/".into(),
        title: t.t("forbidden-title"),
        text: t.t("forbidden-text"),
        back: "/".into(),
    };
    let html = tpl.render();
    page(ctx, StatusCode::FORBIDDEN, html)
}

use super::form::{Errors, FieldErrors};

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    regime: Option<String>,
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

async fn phone_form(ctx: WebCtx) -> Response {
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
struct PhoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
}

async fn phone_submit(
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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
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
struct PhoneQuery {
    #[serde(default)]
    phone: String,
}

async fn code_form(ctx: WebCtx, Query(q): Query<PhoneQuery>) -> Response {
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
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

async fn code_submit(
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

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
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

#[derive(Deserialize, Default, Clone)]
struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    doc_type: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    form: ProfileForm,
    doc_kinds: Vec<(String, String)>,
    errors: Errors,
}

fn doc_kinds(t: Texts) -> Vec<(String, String)> {
    [
        "passport_ru",
        "foreign_passport_ru",
        "birth_certificate_ru",
        "foreign_document",
    ]
    .iter()
    .map(|k| (k.to_string(), t.t(&format!("doc-{k}"))))
    .collect()
}

fn profile_page(ctx: WebCtx, status: StatusCode, form: ProfileForm, errors: Errors) -> Response {
    let t = Texts::new(ctx.lang);
    let html = ProfilePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/profile".into(),
        form,
        doc_kinds: doc_kinds(t),
        errors,
    }
    .render();
    page(ctx, status, html)
}

async fn profile_form(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let form = match &resident.profile {
        Some(p) => ProfileForm {
            full_name: p.full_name.as_str().into(),
            doc_type: p.document.kind().as_str().into(),
            doc_number: p.document.number().into(),
            address: p.home_address.clone(),
            lat: p.home.lat().to_string(),
            lon: p.home.lon().to_string(),
            ..Default::default()
        },
        None => ProfileForm {
            doc_type: "passport_ru".into(),
            ..Default::default()
        },
    };
    profile_page(ctx, StatusCode::OK, form, vec![])
}

/// Field ids of the API's profile errors, as the page's inputs are named.
fn profile_field_id(field: &str) -> &'static str {
    match field {
        "full_name" => "full_name",
        "document.type" => "doc_type",
        "document.number" => "doc_number",
        "home.address" => "address",
        _ => "lat",
    }
}

async fn profile_submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    Form(form): Form<ProfileForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let number = |s: &str| s.trim().replace(',', ".").parse::<f64>().ok();
    let input = residents::ProfileInput {
        full_name: Some(form.full_name.clone()),
        document: Some(residents::DocumentInput {
            kind: Some(form.doc_type.clone()),
            number: Some(form.doc_number.clone()),
        }),
        home: Some(residents::HomeInput {
            address: Some(form.address.clone()),
            lat: number(&form.lat),
            lon: number(&form.lon),
        }),
    };
    match residents::save_profile(&state, &resident.id, &input).await {
        Ok(_) => see_other(ctx, "/passes"),
        Err(ProfileFailure::Invalid(problems)) => {
            let lang = ctx.lang;
            let errors = problems
                .iter()
                .map(|p| {
                    (
                        profile_field_id(p.field).to_string(),
                        p.detail.get(lang).to_string(),
                    )
                })
                .collect();
            profile_page(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors)
        }
        Err(ProfileFailure::UnknownResident) => see_other(ctx, "/sign-in"),
        Err(ProfileFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}

/// A pass as the pages show it.
struct PassView {
    id: String,
    purpose_name: String,
    status: &'static str,
    status_text: String,
    from: String,
    until: String,
    from_iso: String,
    until_iso: String,
    short_code: String,
}

/// A moment on the regime's clocks, in the reader's style.
fn local_time(state: &AppState, regime_id: &str, t: jiff::Timestamp, lang: Lang) -> String {
    let book = state.regimes();
    let tz = book
        .get(regime_id)
        .or_else(|| book.in_force(t))
        .map(|r| r.time_zone().clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let format = match lang {
        Lang::Ru => "%d.%m.%Y %H:%M",
        Lang::En => "%Y-%m-%d %H:%M",
    };
    t.to_zoned(tz).strftime(format).to_string()
}

fn purpose_name(state: &AppState, regime_id: &str, purpose: &str, lang: Lang) -> String {
    state
        .regimes()
        .get(regime_id)
        .and_then(|r| r.purpose(purpose).map(|p| p.name().get(lang).to_string()))
        .unwrap_or_else(|| purpose.to_string())
}

fn view(state: &AppState, p: &PassRecord, t: Texts) -> PassView {
    let now = state.clock.now();
    let status = PassStatus::of(p, now).as_str();
    PassView {
        id: p.id.clone(),
        purpose_name: purpose_name(state, &p.regime_id, &p.purpose, t.lang),
        status,
        status_text: t.t(&format!("pass-status-{status}")),
        from: local_time(state, &p.regime_id, p.valid_from, t.lang),
        until: local_time(state, &p.regime_id, p.valid_until, t.lang),
        from_iso: p.valid_from.to_string(),
        until_iso: p.valid_until.to_string(),
        short_code: p
            .short_code
            .parse::<propusk_token::ShortCode>()
            .map(|c| c.to_string())
            .unwrap_or(p.short_code.clone()),
    }
}

#[derive(Template)]
#[template(path = "passes.html")]
struct ListPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    passes: Vec<PassView>,
}

async fn list(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let t = Texts::new(ctx.lang);
    let passes = match state.store.passes_of(&resident.id, 100).await {
        Ok(p) => p,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let passes = passes.iter().map(|p| view(&state, p, t)).collect();
    let html = ListPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/passes".into(),
        passes,
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

struct PurposeChoice {
    id: String,
    name: String,
    limits: String,
}

fn limits(p: &propusk_core::policy::Purpose, t: Texts) -> String {
    let mut parts = Vec::new();
    if p.always_allowed() {
        parts.push(t.t("limit-always"));
    }
    match p.duration() {
        MaxDuration::Minutes(m) => parts.push(t.t1("limit-duration", "min", &m.to_string())),
        MaxDuration::UntilEndOfDay => parts.push(t.t("limit-until-eod")),
    }
    if let Some(q) = p.quota() {
        parts.push(q.describe().get(t.lang).to_string());
    }
    if let Some(h) = p.hours() {
        let (from, to) = (
            h.from().strftime("%H:%M").to_string(),
            h.to().strftime("%H:%M").to_string(),
        );
        parts.push(t.t2("limit-hours", ("from", &from), ("to", &to)));
    }
    if let Some(m) = p.max_distance_m() {
        parts.push(t.t1("limit-distance", "m", &m.to_string()));
    }
    parts.join("; ")
}

#[derive(Template)]
#[template(path = "new_purpose.html")]
struct PurposePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    purposes: Vec<PurposeChoice>,
    errors: Errors,
}

fn purposes(regime: &Regime, t: Texts) -> Vec<PurposeChoice> {
    regime
        .purposes()
        .iter()
        .map(|p| PurposeChoice {
            id: p.id().as_str().into(),
            name: p.name().get(t.lang).into(),
            limits: limits(p, t),
        })
        .collect()
}

fn purpose_page(state: &AppState, ctx: WebCtx, errors: Errors) -> Response {
    let t = Texts::new(ctx.lang);
    let book = state.regimes();
    let Some(regime) = book.in_force(state.clock.now()) else {
        return message(
            ctx,
            StatusCode::OK,
            t.t("refused-title"),
            t.t("regime-none"),
            "/passes",
        );
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = PurposePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/passes/new".into(),
        purposes: purposes(regime, t),
        errors,
    }
    .render();
    page(ctx, status, html)
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

async fn new_purpose(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    if resident.profile.is_none() {
        return see_other(ctx, "/profile");
    }
    purpose_page(&state, ctx, vec![])
}

struct FieldView {
    name: String,
    label: String,
    hint: String,
    value: String,
}

#[derive(Template)]
#[template(path = "new_details.html")]
struct DetailsPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    purpose: String,
    purpose_name: String,
    fields: Vec<FieldView>,
    start: String,
    now_local: String,
    duration: String,
    max_minutes: Option<u32>,
    errors: Errors,
    next_possible: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
struct DetailsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    duration: String,
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

fn details_page(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    form: &DetailsForm,
    errors: Errors,
    next: Option<String>,
) -> Response {
    let t = Texts::new(ctx.lang);
    let now = state.clock.now();
    let book = state.regimes();
    let Some(regime) = book.in_force(now) else {
        return message(
            ctx,
            StatusCode::OK,
            t.t("refused-title"),
            t.t("regime-none"),
            "/passes",
        );
    };
    let Some(purpose) = regime.purpose(&form.purpose) else {
        let msg = match ctx.lang {
            Lang::Ru => "Выберите цель поездки.",
            Lang::En => "Choose the purpose of your trip.",
        };
        return purpose_page(
            state,
            ctx,
            vec![(
                format!(
                    "purpose-{}",
                    regime
                        .purposes()
                        .first()
                        .map(|p| p.id().as_str())
                        .unwrap_or("")
                ),
                msg.into(),
            )],
        );
    };
    let fields = purpose
        .required_fields()
        .iter()
        .map(|f| {
            let name = f.as_str().to_string();
            let hint_id = format!("field-{name}-hint");
            let hint = t.t(&hint_id);
            FieldView {
                label: t.t(&format!("field-{name}")),
                hint: if hint == hint_id { String::new() } else { hint },
                value: form.fields.get(&name).cloned().unwrap_or_default(),
                name,
            }
        })
        .collect();
    let max_minutes = match purpose.duration() {
        MaxDuration::Minutes(m) => Some(m),
        MaxDuration::UntilEndOfDay => None,
    };
    let now_local = now
        .to_zoned(regime.time_zone().clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let html = DetailsPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: format!("/passes/new/details?purpose={}", form.purpose),
        purpose: form.purpose.clone(),
        purpose_name: purpose.name().get(t.lang).into(),
        fields,
        start: form.start.clone(),
        now_local,
        duration: form.duration.clone(),
        max_minutes,
        errors,
        next_possible: next,
    }
    .render();
    page(ctx, status, html)
}

#[derive(Deserialize)]
struct PurposeQuery {
    #[serde(default)]
    purpose: String,
}

async fn new_details(
    State(state): State<AppState>,
    ctx: WebCtx,
    Query(q): Query<PurposeQuery>,
) -> Response {
    if let Err(redirect) = resident(&state, &ctx).await {
        return redirect;
    }
    let form = DetailsForm {
        purpose: q.purpose,
        ..Default::default()
    };
    details_page(&state, ctx, StatusCode::OK, &form, vec![], None)
}

async fn new_submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    Form(form): Form<DetailsForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let lang = ctx.lang;
    let now = state.clock.now();
    let tz = state
        .regimes()
        .in_force(now)
        .map(|r| r.time_zone().clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let start = form.start.trim();
    let valid_from = if start.is_empty() {
        None
    } else {
        let parsed = start
            .replace('T', " ")
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(tz).ok());
        match parsed {
            Some(z) => Some(z.timestamp()),
            None => {
                let m = match lang {
                    Lang::Ru => {
                        format!("Время начала «{start}» не разобрано: нужен вид 2020-04-15 18:30.")
                    }
                    Lang::En => format!(
                        "Start time '{start}' is not understood: use the form 2020-04-15 18:30."
                    ),
                };
                return details_page(
                    &state,
                    ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    vec![("start".into(), m)],
                    None,
                );
            }
        }
    };
    let duration = form.duration.trim();
    let duration_minutes = if duration.is_empty() {
        None
    } else {
        match duration.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let m = match lang {
                    Lang::Ru => "Продолжительность — целое число минут, например 60.",
                    Lang::En => "The duration is a whole number of minutes, e.g. 60.",
                };
                return details_page(
                    &state,
                    ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    vec![("duration".into(), m.into())],
                    None,
                );
            }
        }
    };
    let fields = form
        .fields
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "purpose" | "start" | "duration"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let request = propusk_core::issuance::PassRequest {
        purpose: form.purpose.clone(),
        valid_from,
        duration_minutes,
        fields,
        destination: None,
    };
    match passes::issue(&state, &resident.id, request, Channel::Web).await {
        Ok(pass) => see_other(ctx, &format!("/passes/{}", pass.id)),
        Err(IssueFailure::Refused(refusal)) => {
            // The form's names for the request's fields.
            let field = match refusal.field.as_deref() {
                Some("valid_from") => "start".to_string(),
                Some("duration_minutes") => "duration".to_string(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let next = refusal
                .next_possible_at
                .map(|t| local_time(&state, "", t, lang));
            let errors = vec![(field, refusal.message.get(lang).to_string())];
            details_page(
                &state,
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                errors,
                next,
            )
        }
        Err(IssueFailure::UnknownResident) => see_other(ctx, "/sign-in"),
        Err(IssueFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}

/// The resident's own pass (another's is "not found").
async fn own(state: &AppState, ctx: &WebCtx, id: &str) -> Result<PassRecord, Response> {
    let resident = resident(state, ctx).await?;
    match state.store.pass(id).await {
        Ok(Some(p)) if p.resident_id == resident.id => Ok(p),
        Ok(_) => {
            let t = Texts::new(ctx.lang);
            let html = MessagePage {
                t,
                csrf: ctx.csrf.clone(),
                signed_in: true,
                path: "/passes".into(),
                title: t.t("not-found-title"),
                text: String::new(),
                back: "/passes".into(),
            }
            .render()
            .unwrap_or_default();
            Err((StatusCode::NOT_FOUND, Html(html)).into_response())
        }
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

#[derive(Template)]
#[template(path = "pass.html")]
struct PassPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    p: PassView,
}

async fn show(State(state): State<AppState>, ctx: WebCtx, Path(id): Path<String>) -> Response {
    let pass = match own(&state, &ctx, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = Texts::new(ctx.lang);
    let html = PassPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: format!("/passes/{id}"),
        p: view(&state, &pass, t),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    t: Texts,
    p: PassView,
}

async fn print(State(state): State<AppState>, ctx: WebCtx, Path(id): Path<String>) -> Response {
    let pass = match own(&state, &ctx, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let t = Texts::new(ctx.lang);
    let html = PrintPage {
        t,
        p: view(&state, &pass, t),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

async fn qr(State(state): State<AppState>, ctx: WebCtx, Path(id): Path<String>) -> Response {
    let pass = match own(&state, &ctx, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match crate::qr::render_svg(&pass.token) {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            svg,
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn cancel(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let pass = match own(&state, &ctx, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let by = Canceller::Holder {
        resident_id: pass.resident_id.clone(),
    };
    match passes::cancel(&state, &pass.id, by).await {
        // Cancelled now, or before (a second tap): the page says so either way.
        Ok(_) | Err(CancelFailure::AlreadyCancelled) | Err(CancelFailure::NotFound) => {
            see_other(ctx, &format!("/passes/{id}"))
        }
        Err(CancelFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}
