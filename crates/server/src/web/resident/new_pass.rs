//! Getting a pass, one question per page as the GOV.UK patterns have it: the purpose (with
//! where its quota stands), the details (start, duration, the purpose's fields; every error
//! at its field, all at once), a check of the answers with the exact validity the rules
//! give, and only then the pass. A refusal that no answer can fix (a quota, the hours) is
//! shown once, with when the next pass is possible, and no form under it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp};
use propusk_core::issuance::{Grant, PassRequest, Refusal};
use propusk_core::policy::{MaxDuration, Purpose, Regime};
use propusk_store::Resident;
use serde::Deserialize;

use super::passes::{quota_views, QuotaView};
use super::{forbidden, message, page, resident, see_other};
use crate::app::passes::{self, Channel, IssueFailure};
use crate::error::ApiError;
use crate::lang::{Lang, Pick};
use crate::state::AppState;
use crate::web::dates;
use crate::web::form::{Errors, FieldErrors};
use crate::web::{Texts, WebCtx};

struct PurposeChoice {
    id: String,
    name: String,
    limits: String,
    quota: Option<QuotaView>,
}

fn limits(p: &Purpose, t: Texts) -> String {
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
    let mut text = parts.join("; ");
    text.push('.');
    capitalised(&text)
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "new_purpose.html")]
struct PurposePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    purposes: Vec<PurposeChoice>,
    /// The first radio's id: where the summary links and the message stands.
    first_id: String,
    errors: Errors,
}

async fn purpose_page(
    state: &AppState,
    ctx: WebCtx,
    resident: &Resident,
    errors: Errors,
) -> Response {
    let t = Texts::new(ctx.lang);
    let book = state.regimes();
    let Some(regime) = book.in_force(state.clock.now()) else {
        return no_regime(ctx);
    };
    let quotas = match passes::quotas(state, &resident.id).await {
        Ok(q) => q,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let mut quotas = quota_views(state, &quotas, t);
    let first_id = first_purpose_id(regime);
    let purposes = regime
        .purposes()
        .iter()
        .map(|p| {
            let id = p.id().as_str();
            let at = quotas.iter().position(|q| q.purpose_id == id);
            PurposeChoice {
                id: id.into(),
                name: p.name().get(t.lang).into(),
                limits: limits(p, t),
                quota: at.map(|i| quotas.swap_remove(i)),
            }
        })
        .collect();
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
        purposes,
        first_id,
        errors,
    }
    .render();
    page(ctx, status, html)
}

/// The first purpose's radio: where the page's problem is linked and said.
fn first_purpose_id(regime: &Regime) -> String {
    regime
        .purposes()
        .first()
        .map(|p| format!("purpose-{}", p.id()))
        .unwrap_or_default()
}

fn no_regime(ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    message(
        ctx,
        StatusCode::OK,
        t.t("refused-title"),
        t.t("regime-none"),
        "/passes",
    )
}

pub async fn purpose(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    if resident.profile.is_none() {
        return see_other(ctx, "/profile");
    }
    purpose_page(&state, ctx, &resident, vec![]).await
}

/// The answers so far: from the details form, the check page's hidden inputs, or a link.
#[derive(Deserialize, Default, Clone)]
pub struct Answers {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    /// `now`, `hour` (in an hour) or `later` (the date and time below).
    #[serde(default)]
    when: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    duration: String,
    /// `check` (from the details form), `change` (back to it) or `confirm` (issue).
    #[serde(default)]
    step: String,
    #[serde(flatten)]
    fields: BTreeMap<String, String>,
}

impl Answers {
    /// The purpose fields as typed, trimmed (the form's own inputs are the named fields
    /// above, so the rest is all purpose fields; only the purpose's required ones are read).
    fn purpose_fields(&self) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|(k, v)| (k.clone(), v.trim().to_string()))
            .collect()
    }
}

struct FieldView {
    name: String,
    label: String,
    hint: String,
    /// The hint's id, empty when there is no hint.
    hint_id: String,
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
    a: Answers,
    /// Today on the regime's clocks, for the date's hint.
    today: String,
    max_minutes: Option<u32>,
    errors: Errors,
}

fn details_page(
    ctx: WebCtx,
    regime: &Regime,
    purpose: &Purpose,
    status: StatusCode,
    a: &Answers,
    errors: Errors,
    now: Timestamp,
) -> Response {
    let t = Texts::new(ctx.lang);
    let fields = purpose
        .required_fields()
        .iter()
        .map(|f| {
            let name = f.as_str().to_string();
            let hint_id = format!("field-{name}-hint");
            let hint = t.t(&hint_id);
            let has_hint = hint != hint_id;
            FieldView {
                label: t.t(&format!("field-{name}")),
                hint: if has_hint { hint } else { String::new() },
                hint_id: if has_hint {
                    format!("{name}-hint")
                } else {
                    String::new()
                },
                value: a.fields.get(&name).cloned().unwrap_or_default(),
                name,
            }
        })
        .collect();
    let max_minutes = match purpose.duration() {
        MaxDuration::Minutes(m) => Some(m),
        MaxDuration::UntilEndOfDay => None,
    };
    let today = now.to_zoned(regime.time_zone().clone()).date();
    let html = DetailsPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: format!("/passes/new/details?purpose={}", a.purpose),
        purpose: a.purpose.clone(),
        purpose_name: purpose.name().get(t.lang).into(),
        fields,
        a: a.clone(),
        today: format!("{} {} {}", today.day(), today.month(), today.year()),
        max_minutes,
        errors,
    }
    .render();
    page(ctx, status, html)
}

/// The details form for the purpose chosen, or the purpose page again if none was.
pub async fn details(
    State(state): State<AppState>,
    ctx: WebCtx,
    Query(a): Query<Answers>,
) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let now = state.clock.now();
    let book = state.regimes();
    let Some(regime) = book.in_force(now) else {
        return no_regime(ctx);
    };
    let Some(purpose) = regime.purpose(&a.purpose) else {
        return purpose_missing(&state, ctx, &resident, regime).await;
    };
    details_page(ctx, regime, purpose, StatusCode::OK, &a, vec![], now)
}

async fn purpose_missing(
    state: &AppState,
    ctx: WebCtx,
    resident: &Resident,
    regime: &Regime,
) -> Response {
    let t = Texts::new(ctx.lang);
    let errors = vec![(first_purpose_id(regime), t.t("new-purpose-missing"))];
    purpose_page(state, ctx, resident, errors).await
}

/// The start as typed: a moment, or a problem at its input.
fn start_of(
    a: &Answers,
    regime: &Regime,
    now: Timestamp,
    t: Texts,
) -> Result<Option<Timestamp>, (String, String)> {
    let tz = regime.time_zone();
    match a.when.as_str() {
        "now" => Ok(None),
        "hour" => {
            let later = now + SignedDuration::from_hours(1);
            Ok(Some(later))
        }
        "later" => {
            let (day, month, year) = (
                a.day.trim().parse::<i8>().ok(),
                a.month.trim().parse::<i8>().ok(),
                a.year.trim().parse::<i16>().ok(),
            );
            let blank = [&a.day, &a.month, &a.year]
                .iter()
                .all(|s| s.trim().is_empty());
            if blank {
                return Err(("start-day".into(), t.t("new-start-date-missing")));
            }
            let date = match (day, month, year) {
                (Some(d), Some(m), Some(y)) => Date::new(y, m, d).ok(),
                _ => None,
            };
            let date =
                date.ok_or_else(|| ("start-day".to_string(), t.t("new-start-date-invalid")))?;
            let time = parse_time(&a.time)
                .ok_or_else(|| ("start-time".to_string(), t.t("new-start-time-invalid")))?;
            DateTime::from_parts(date, time)
                .to_zoned(tz.clone())
                .map(|z| Some(z.timestamp()))
                .map_err(|_| ("start-time".to_string(), t.t("new-start-time-invalid")))
        }
        _ => Err(("when-now".into(), t.t("new-start-missing"))),
    }
}

/// "10:15", "10.15", "10 15", "1015" or "10".
fn parse_time(s: &str) -> Option<Time> {
    let s = s.trim();
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let separated = s.contains([':', '.', ' ']);
    let (h, m) = match (separated, digits.len()) {
        (true, _) => {
            let (h, m) = s.split_once([':', '.', ' '])?;
            (h.trim().parse::<i8>().ok()?, m.trim().parse::<i8>().ok()?)
        }
        (false, 1 | 2) => (digits.parse::<i8>().ok()?, 0),
        (false, 3 | 4) => {
            let (h, m) = digits.split_at(digits.len() - 2);
            (h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)
        }
        _ => return None,
    };
    Time::new(h, m, 0, 0).ok()
}

/// Reads the answers into a request, or says every problem with them at once.
fn request_of(
    a: &Answers,
    regime: &Regime,
    purpose: &Purpose,
    now: Timestamp,
    t: Texts,
) -> Result<PassRequest, Errors> {
    let mut errors = Errors::new();
    let start = start_of(a, regime, now, t).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let duration = a.duration.trim();
    let duration_minutes = match duration.parse::<u32>() {
        _ if duration.is_empty() => None,
        Ok(d) if d > 0 => Some(d),
        _ => {
            errors.push(("duration".into(), t.t("new-duration-invalid")));
            None
        }
    };
    let fields = a.purpose_fields();
    for field in purpose.required_fields() {
        let name = field.as_str();
        match fields.get(name).filter(|v| !v.is_empty()) {
            None => errors.push((
                name.into(),
                t.t1("new-field-missing", "field", &t.t(&format!("field-{name}"))),
            )),
            Some(raw) => {
                if let Err(e) = field.parse_value(raw) {
                    errors.push((name.into(), e.message.get(t.lang).to_string()));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PassRequest {
        purpose: a.purpose.clone(),
        valid_from: start,
        duration_minutes,
        fields: purpose
            .required_fields()
            .iter()
            .filter_map(|f| {
                fields
                    .get(f.as_str())
                    .map(|v| (f.as_str().to_string(), v.clone()))
            })
            .collect(),
        destination: None,
    })
}

#[derive(Template)]
#[template(path = "new_check.html")]
struct CheckPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    purpose_name: String,
    /// The answers to carry to the confirmation, as hidden inputs.
    hidden: Vec<(String, String)>,
    validity: String,
    fields: Vec<(String, String)>,
    holder: String,
}

#[derive(Template)]
#[template(path = "refused.html")]
struct RefusedPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    purpose_name: String,
    reason: String,
    next: Option<String>,
}

/// The details form's post: back to the form (`change`), on to the check of the answers
/// (`check`), or the pass (`confirm`).
pub async fn submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    Form(a): Form<Answers>,
) -> Response {
    if !ctx.csrf_ok(&a.csrf) {
        return forbidden(ctx);
    }
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let t = Texts::new(ctx.lang);
    let now = state.clock.now();
    let book = state.regimes();
    let Some(regime) = book.in_force(now) else {
        return no_regime(ctx);
    };
    let Some(purpose) = regime.purpose(&a.purpose) else {
        return purpose_missing(&state, ctx, &resident, regime).await;
    };
    if a.step == "change" {
        return details_page(ctx, regime, purpose, StatusCode::OK, &a, vec![], now);
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let request = match request_of(&a, regime, purpose, now, t) {
        Ok(r) => r,
        Err(errors) => return details_page(ctx, regime, purpose, unprocessable, &a, errors, now),
    };
    if a.step == "confirm" {
        return match passes::issue(&state, &resident.id, request, Channel::Web).await {
            Ok(pass) => see_other(ctx, &format!("/passes/{}?done=issued", pass.id)),
            Err(IssueFailure::Refused(refusal)) => refused(ctx, regime, purpose, &a, refusal, now),
            Err(IssueFailure::UnknownResident) => see_other(ctx, "/sign-in"),
            Err(IssueFailure::Store(e)) => ApiError::from(e).into_response(),
        };
    }
    match passes::preview(&state, &resident, &request).await {
        Ok(grant) => check_page(ctx, regime, purpose, &a, &resident, &grant, t),
        Err(IssueFailure::Refused(refusal)) => refused(ctx, regime, purpose, &a, refusal, now),
        Err(IssueFailure::UnknownResident) => see_other(ctx, "/sign-in"),
        Err(IssueFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}

fn check_page(
    ctx: WebCtx,
    regime: &Regime,
    purpose: &Purpose,
    a: &Answers,
    resident: &Resident,
    grant: &Grant,
    t: Texts,
) -> Response {
    let tz = regime.time_zone();
    // "In an hour" becomes the moment shown, so that the pass is the one checked.
    let mut hidden = vec![
        ("purpose".to_string(), a.purpose.clone()),
        ("duration".to_string(), a.duration.trim().to_string()),
    ];
    let starts_now = a.when == "now";
    if starts_now {
        hidden.push(("when".into(), "now".into()));
    } else {
        let z = grant.valid_from.to_zoned(tz.clone());
        hidden.extend([
            ("when".to_string(), "later".to_string()),
            ("day".to_string(), z.day().to_string()),
            ("month".to_string(), z.month().to_string()),
            ("year".to_string(), z.year().to_string()),
            ("time".to_string(), z.strftime("%H:%M").to_string()),
        ]);
    }
    let mut fields = Vec::new();
    for (name, value) in &grant.fields {
        hidden.push((name.clone(), value.clone()));
        fields.push((t.t(&format!("field-{name}")), value.clone()));
    }
    let holder = resident
        .identity()
        .map(|(name, doc)| propusk_core::domain::holder_hint(name, doc))
        .unwrap_or_default();
    let validity = if starts_now {
        t.t1(
            "check-from-now",
            "until",
            &dates::moment(grant.valid_until, tz, t.lang),
        )
    } else {
        dates::span(grant.valid_from, grant.valid_until, tz, t.lang)
    };
    let html = CheckPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/passes/new".into(),
        purpose_name: purpose.name().get(t.lang).into(),
        hidden,
        validity,
        fields,
        holder,
    }
    .render();
    page(ctx, StatusCode::OK, html)
}

/// A refusal: at its field when an answer can fix it, else once, as a notice with when the
/// next pass is possible and no form under it.
fn refused(
    ctx: WebCtx,
    regime: &Regime,
    purpose: &Purpose,
    a: &Answers,
    refusal: Refusal,
    now: Timestamp,
) -> Response {
    let t = Texts::new(ctx.lang);
    let lang: Lang = ctx.lang;
    let input = match refusal.field.as_deref() {
        Some("valid_from") if a.when == "later" => Some("start-day".to_string()),
        Some("valid_from") => Some("when-now".to_string()),
        Some("duration_minutes") => Some("duration".to_string()),
        Some(field)
            if purpose
                .required_fields()
                .iter()
                .any(|f| f.as_str() == field) =>
        {
            Some(field.to_string())
        }
        _ => None,
    };
    if let Some(input) = input {
        let errors = vec![(input, refusal.message.get(lang).to_string())];
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return details_page(ctx, regime, purpose, status, a, errors, now);
    }
    let tz = regime.time_zone();
    let html = RefusedPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/passes/new".into(),
        purpose_name: purpose.name().get(lang).into(),
        // The page says the next moment its own way, so the reason goes without it.
        reason: match refusal.next_possible_at {
            Some(_) => refusal.reason.get(lang).to_string(),
            None => refusal.message.get(lang).to_string(),
        },
        next: refusal
            .next_possible_at
            .map(|at| dates::moment_with_weekday(at, tz, lang)),
    }
    .render();
    page(ctx, StatusCode::UNPROCESSABLE_ENTITY, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_type_them() {
        for (typed, expected) in [
            ("10:15", Some((10, 15))),
            ("9.05", Some((9, 5))),
            ("18 30", Some((18, 30))),
            ("1015", Some((10, 15))),
            ("930", Some((9, 30))),
            ("7", Some((7, 0))),
            ("24:00", None),
            ("10:60", None),
            ("noon", None),
            ("", None),
        ] {
            let got = parse_time(typed).map(|t| (t.hour(), t.minute()));
            assert_eq!(got, expected, "{typed:?}");
        }
    }
}
