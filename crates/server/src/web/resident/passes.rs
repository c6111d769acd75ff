//! The resident's passes: the list with where each quota stands, one pass with what the
//! police compare, its print page and QR code, and cancelling it after a check.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_store::PassRecord;
use propusk_token::{verify, NoRevocations, Verdict};
use serde::Deserialize;

use super::{forbidden, message, page, resident, see_other, CsrfForm};
use crate::app::passes::{self, CancelFailure, Canceller, PassStatus, PurposeQuota};
use crate::error::ApiError;
use crate::lang::{Lang, Pick};
use crate::state::AppState;
use crate::web::dates;
use crate::web::{Texts, WebCtx};

/// The regime's clocks for a pass (the regime in force if the pass's is no longer known).
pub(super) fn zone_of(state: &AppState, regime_id: &str, at: Timestamp) -> TimeZone {
    let book = state.regimes();
    book.get(regime_id)
        .or_else(|| book.in_force(at))
        .map(|r| r.time_zone().clone())
        .unwrap_or(TimeZone::UTC)
}

pub(super) fn purpose_name(state: &AppState, regime_id: &str, purpose: &str, lang: Lang) -> String {
    state
        .regimes()
        .get(regime_id)
        .and_then(|r| r.purpose(purpose).map(|p| p.name().get(lang).to_string()))
        .unwrap_or_else(|| purpose.to_string())
}

/// A purpose field as the pass shows it: its label and value.
pub(super) struct FieldRow {
    pub label: String,
    pub value: String,
}

/// A pass as the pages show it.
pub(super) struct PassView {
    pub id: String,
    pub purpose_name: String,
    pub status: &'static str,
    pub status_text: String,
    /// When it is valid, in words («весь день 4 декабря»).
    pub validity: String,
    pub from_iso: String,
    pub until_iso: String,
    pub short_code: String,
    /// The holder's initials and the last four document characters, as the token carries
    /// them and the inspector's phone shows them: read from the token (a signature check)
    /// only for the pages that show it ([`with_holder`]), not for every pass of the list.
    pub holder: String,
    /// The purpose's fields (the employer's INN of a work pass).
    pub fields: Vec<FieldRow>,
    /// Who issued it: the regime's name and the authority's code.
    pub issuer: String,
    /// When it was cancelled, and whether it still counts against the quota.
    pub cancelled: Option<Cancelled>,
}

pub(super) struct Cancelled {
    pub when: String,
    pub counts: bool,
}

/// The holder hint the pass's own token carries (what the police phone shows).
fn holder_of(state: &AppState, token: &str) -> String {
    match verify(token, &state.keys.trust, &NoRevocations, 0) {
        Verdict::Valid(p) | Verdict::Expired(p) | Verdict::NotYetValid(p) | Verdict::Revoked(p) => {
            p.claims.holder
        }
        other => {
            // Our own token, signed with our own key: this is a fault, and it is logged.
            tracing::error!(
                verdict = other.name(),
                "a stored pass's token does not verify"
            );
            String::new()
        }
    }
}

/// The view of one pass with its holder hint, for the pass, print and image pages.
fn with_holder(state: &AppState, p: &PassRecord, t: Texts) -> PassView {
    PassView {
        holder: holder_of(state, &p.token),
        ..view(state, p, t)
    }
}

pub(super) fn view(state: &AppState, p: &PassRecord, t: Texts) -> PassView {
    let now = state.clock.now();
    let status = PassStatus::of(p, now).as_str();
    let tz = zone_of(state, &p.regime_id, p.valid_from);
    let book = state.regimes();
    let regime = book.get(&p.regime_id);
    PassView {
        id: p.id.clone(),
        purpose_name: purpose_name(state, &p.regime_id, &p.purpose, t.lang),
        status,
        status_text: t.t(&format!("pass-status-{status}")),
        validity: dates::span(p.valid_from, p.valid_until, &tz, t.lang),
        from_iso: p.valid_from.to_string(),
        until_iso: p.valid_until.to_string(),
        short_code: p
            .short_code
            .parse::<propusk_token::ShortCode>()
            .map(|c| c.to_string())
            .unwrap_or(p.short_code.clone()),
        holder: String::new(),
        fields: p
            .fields
            .iter()
            .map(|(name, value)| FieldRow {
                label: t.t(&format!("field-{name}")),
                value: value.clone(),
            })
            .collect(),
        issuer: regime
            .map(|r| format!("{} ({})", r.name().get(t.lang), r.issuer()))
            .unwrap_or_else(|| p.regime_id.clone()),
        cancelled: p.cancelled_at.map(|at| Cancelled {
            when: dates::moment(at, &tz, t.lang),
            counts: passes::counts_when_cancelled(p, at),
        }),
    }
}

/// A quota as the pages show it: «Поход в магазин: можно ещё 1 из 2 (не более 2 пропусков
/// за 7 дней)», and when the next pass is possible if none is now.
pub(super) struct QuotaView {
    pub purpose_id: String,
    pub purpose_name: String,
    pub text: String,
    pub next: Option<String>,
}

pub(super) fn quota_views(state: &AppState, quotas: &[PurposeQuota], t: Texts) -> Vec<QuotaView> {
    let now = state.clock.now();
    let book = state.regimes();
    let Some(regime) = book.in_force(now) else {
        return Vec::new();
    };
    let tz = regime.time_zone();
    quotas
        .iter()
        .map(|q| {
            let (left, count) = (
                q.status.left().to_string(),
                q.status.quota.count().to_string(),
            );
            let rule = q.status.quota.describe().get(t.lang).to_string();
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("left", left);
            args.set("count", count);
            args.set("rule", rule);
            QuotaView {
                purpose_id: q.purpose.clone(),
                purpose_name: regime
                    .purpose(&q.purpose)
                    .map(|p| p.name().get(t.lang).to_string())
                    .unwrap_or_default(),
                text: t.format("quota-left", Some(&args)),
                next: q.status.next_possible_at.map(|at| {
                    t.t1(
                        "quota-next",
                        "time",
                        &dates::moment_with_weekday(at, tz, t.lang),
                    )
                }),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "passes.html")]
struct ListPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    passes: Vec<PassView>,
    quotas: Vec<QuotaView>,
}

pub async fn list(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let t = Texts::new(ctx.lang);
    let reads = async {
        let passes = state.store.passes_of(&resident.id, 100).await?;
        let quotas = passes::quotas(&state, &resident.id).await?;
        Ok::<_, propusk_store::StoreError>((passes, quotas))
    };
    let (passes, quotas) = match reads.await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let html = ListPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/passes".into(),
        passes: passes.iter().map(|p| view(&state, p, t)).collect(),
        quotas: quota_views(&state, &quotas, t),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

/// The resident's own pass (another's is "not found"), with the request's context back.
async fn own(state: &AppState, ctx: WebCtx, id: &str) -> Result<(WebCtx, PassRecord), Response> {
    let resident = resident(state, &ctx).await?;
    match state.store.pass(id).await {
        Ok(Some(p)) if p.resident_id == resident.id => Ok((ctx, p)),
        Ok(_) => {
            let t = Texts::new(ctx.lang);
            let (title, text) = (t.t("not-found-title"), t.t("pass-not-found-text"));
            Err(message(ctx, StatusCode::NOT_FOUND, title, text, "/passes"))
        }
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

/// What just happened, for the confirmation panel on the pass page.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "pass.html")]
struct PassPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    p: PassView,
    /// `issued` or `cancelled`: the confirmation panel to show.
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let t = Texts::new(ctx.lang);
    let p = with_holder(&state, &pass, t);
    // A panel only for what did happen: not "cancelled" over a live pass.
    let done = match (q.done.as_str(), p.cancelled.is_some()) {
        ("issued", false) => "issued",
        ("cancelled", true) => "cancelled",
        _ => "",
    };
    let html = PassPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: format!("/passes/{id}"),
        p,
        done: done.into(),
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

pub async fn print(State(state): State<AppState>, ctx: WebCtx, Path(id): Path<String>) -> Response {
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let t = Texts::new(ctx.lang);
    if pass.cancelled_at.is_some() {
        // Nothing to print: a cancelled pass must not be shown to the police.
        return see_other(ctx, &format!("/passes/{id}"));
    }
    let html = PrintPage {
        t,
        p: with_holder(&state, &pass, t),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

pub async fn qr(State(state): State<AppState>, ctx: WebCtx, Path(id): Path<String>) -> Response {
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match crate::qr::render_svg(&pass.token) {
        Ok(svg) => ctx.finish((
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            svg,
        )),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// The QR code as a PNG: what "save as image" downloads without JavaScript (with it, the
/// page draws the QR code with the pass's details into one picture).
pub async fn qr_png(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(id): Path<String>,
) -> Response {
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if pass.cancelled_at.is_some() {
        return see_other(ctx, &format!("/passes/{id}"));
    }
    match crate::qr::render_png(&pass.token, 8) {
        Ok(png) => ctx.finish((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            png,
        )),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "cancel.html")]
struct CancelPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    p: PassView,
    /// Whether cancelling now leaves the pass counted against the quota (it has started).
    counts: bool,
}

/// The check before cancelling: what the pass is, and whether it will still count.
pub async fn cancel_check(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(id): Path<String>,
) -> Response {
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let now = state.clock.now();
    if pass.cancelled_at.is_some() || now >= pass.valid_until {
        return see_other(ctx, &format!("/passes/{id}"));
    }
    let t = Texts::new(ctx.lang);
    let html = CancelPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: format!("/passes/{id}/cancel"),
        counts: passes::counts_when_cancelled(&pass, now),
        p: view(&state, &pass, t),
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let (ctx, pass) = match own(&state, ctx, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if state.clock.now() >= pass.valid_until && pass.cancelled_at.is_none() {
        let t = Texts::new(ctx.lang);
        let back = format!("/passes/{id}");
        return message(
            ctx,
            StatusCode::CONFLICT,
            t.t("cancel-expired-title"),
            t.t("cancel-expired-text"),
            &back,
        );
    }
    let by = Canceller::Holder {
        resident_id: pass.resident_id.clone(),
    };
    match passes::cancel(&state, &pass.id, by).await {
        // Cancelled now, or before (a second tap): the page says so either way.
        Ok(_) | Err(CancelFailure::AlreadyCancelled) | Err(CancelFailure::NotFound) => {
            see_other(ctx, &format!("/passes/{id}?done=cancelled"))
        }
        Err(CancelFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}
