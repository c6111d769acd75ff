//! The SMS channel's HTTP side: messages from phones and delivery reports, as Kannel's
//! smsbox delivers them.
//!
//! ```text
//! GET|POST /api/v1/sms/inbound?from=%p&to=%P&text=%a&id=%I&coding=%c&charset=%C&secret=…
//! GET|POST /api/v1/sms/dlr?id=<outbox row>&type=%d&secret=…
//! ```
//!
//! Both are authenticated by the shared secret `sms.inbound_secret`. An inbound message is
//! answered through the outbox, never in the HTTP body (the body is empty: an `sms-service`
//! with `max-messages = 0` sends nothing of its own). The HTTP answer is 202 once the message
//! and its consequences are committed — also for a message seen before (same `id`), which is
//! not handled twice — and 503 if they could not be, so that Kannel retries.
//!
//! POST accepts the parameters as a form body, or the text as a `text/plain` body with the
//! others in the query (Kannel's `post-url`, which names the sender in `X-Kannel-From`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use propusk_core::domain::{holder_hint, PhoneNumber};
use propusk_core::issuance::PassRequest;
use propusk_core::policy::{Purpose, Regime, RegimeBook};
use propusk_sms::charset::{decode, query_pairs};
use propusk_sms::registration::{registration, Problem};
use propusk_sms::reply::{self, PassInfo};
use propusk_sms::{parse, Command, Lang, PassAsk};
use propusk_store::{
    Delivery, InboundOutcome, InboundSms, IssueRequest, PassRecord, SmsAction, SmsEffect,
    SmsIdentity,
};
use propusk_token::ShortCode;

use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::openapi::{api_routes, problems, retry_after};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[inbound_get, inbound_post], [dlr_get, dlr_post]]
}

/// The parameters of an inbound message, for the document: the handler reads them as
/// bytes ([`Params`]), since `text` is in the charset `charset` names.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct InboundQuery {
    /// Sender (Kannel `%p`), e.g. `+79161234567`.
    from: String,
    /// The short number it was sent to (`%P`).
    to: Option<String>,
    /// The message (`%a`), percent-encoded bytes in `charset`.
    text: String,
    /// Kannel's id for the message (`%I`): a retry carries the same id and is handled once.
    id: Option<String>,
    /// `%c`: 0 7-bit, 1 8-bit, 2 UCS-2.
    coding: Option<String>,
    /// `%C`, e.g. `UTF-8`, `UTF-16BE`, `windows-1251`.
    charset: Option<String>,
    /// The shared secret `sms.inbound_secret` (`PROPUSK_SMS_INBOUND_SECRET`).
    secret: String,
}

/// The parameters of a delivery report, for the document (read as [`Params`] too).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct DlrQuery {
    /// The outbox message (propusk puts it in the `dlr-url`).
    id: String,
    /// Kannel's report type `%d`: 1 delivered, 2 undelivered, 4 buffered, 8 accepted by
    /// the SMSC, 16 rejected by the SMSC.
    #[param(rename = "type")]
    kind: String,
    /// When the report was made (`%T`).
    at: Option<String>,
    /// The shared secret `sms.inbound_secret` (`PROPUSK_SMS_INBOUND_SECRET`).
    secret: String,
}

problems!(GatewayRefusals {
    403 => "`forbidden`: the shared secret is missing or wrong.", ["forbidden"];
    404 => "Inbound SMS is not configured (no `sms.inbound_secret`).", ["sms_disabled"];
    503 => "Not taken now (the database is unavailable, or `overloaded`); the gateway retries.",
        ["unavailable", "overloaded"], retry_after();
});

/// The most characters of a message kept and read (three concatenated UCS-2 parts are 201;
/// anything longer is not a request).
const MAX_TEXT: usize = 1000;

/// The parameters of a gateway request, values still bytes.
struct Params(Vec<(String, Vec<u8>)>);

impl Params {
    fn from_request(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut pairs = query.map(query_pairs).unwrap_or_default();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            pairs.extend(query_pairs(&String::from_utf8_lossy(body)));
        } else if !body.is_empty() {
            // Kannel's post-url: the text is the body; the sender and coding are headers.
            pairs.push(("text".into(), body.to_vec()));
            if let Some(charset) = content_type
                .split(';')
                .find_map(|p| p.trim().strip_prefix("charset="))
            {
                pairs.push((
                    "charset".into(),
                    charset.trim_matches('"').as_bytes().to_vec(),
                ));
            }
            for (name, param) in [
                ("x-kannel-from", "from"),
                ("x-kannel-to", "to"),
                ("x-kannel-coding", "coding"),
            ] {
                if let Some(v) = headers.get(name) {
                    pairs.push((param.into(), v.as_bytes().to_vec()));
                }
            }
        }
        Self(pairs)
    }

    fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.bytes(name)
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
    }
}

/// The refusal of a request without the shared secret (compared in constant time), if it
/// lacks it.
fn refusal(state: &AppState, params: &Params) -> Option<Response> {
    let Some(expected) = state.sms.inbound_secret.as_deref() else {
        return Some(
            ApiError::new(
                StatusCode::NOT_FOUND,
                "sms_disabled",
                "Приём SMS не настроен (sms.inbound_secret).",
                "Inbound SMS is not configured (sms.inbound_secret).",
            )
            .into_response(),
        );
    };
    let given = params.bytes("secret").unwrap_or_default();
    let same = given.len() == expected.len()
        && given
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        None
    } else {
        tracing::warn!("SMS gateway request with a wrong secret refused");
        Some(ApiError::forbidden().into_response())
    }
}

/// 202, empty: the gateway must not turn our answer into an SMS.
fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "text/plain")],
        "",
    )
        .into_response()
}

/// A message from a phone
///
/// **Caller:** the SMS gateway (Kannel `sms-service` with `get-url` or `post-url`). A POST
/// may carry the parameters as a form, or the text as a `text/plain` body with
/// `X-Kannel-From`. The message, what it causes (a pass, a cancellation, a registration)
/// and the answer are committed together before 202.
#[utoipa::path(get, path = "/api/v1/sms/inbound", tag = "sms", operation_id = "smsInbound",
    params(InboundQuery),
    responses((status = 202, description = "Taken (a message id seen before is not handled again). \
            The body is empty: the answer to the phone goes out through the outbox.",
            content_type = "text/plain", body = String), GatewayRefusals))]
async fn inbound_get(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    inbound(state, Params::from_request(q.as_deref(), &headers, &[])).await
}

/// A message from a phone (POST)
///
/// **Caller:** the SMS gateway (Kannel `sms-service` with `get-url` or `post-url`). A POST
/// may carry the parameters as a form, or the text as a `text/plain` body with
/// `X-Kannel-From`. The message, what it causes (a pass, a cancellation, a registration)
/// and the answer are committed together before 202.
#[utoipa::path(post, path = "/api/v1/sms/inbound", tag = "sms", operation_id = "smsInboundPost",
    params(InboundQuery),
    responses((status = 202, description = "Taken (a message id seen before is not handled again). \
            The body is empty: the answer to the phone goes out through the outbox.",
            content_type = "text/plain", body = String), GatewayRefusals))]
async fn inbound_post(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inbound(state, Params::from_request(q.as_deref(), &headers, &body)).await
}

/// How the answer is worded, decided before the store acts (the store's effect fills in the
/// rest).
#[derive(Clone)]
enum Plan {
    Empty,
    Unknown,
    Help,
    NotRegistered,
    NoRegime,
    WhichPurpose,
    UnknownPurpose(u32),
    Pass(String),
    CancelBadCode(String),
    CancelWhich,
    Cancel(String),
    About(String),
    Registration(Vec<Problem>),
    Registered(String),
    Status,
    Record,
}

impl Plan {
    fn command(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Unknown => "unknown",
            Self::Help => "help",
            Self::NotRegistered
            | Self::NoRegime
            | Self::WhichPurpose
            | Self::UnknownPurpose(_)
            | Self::Pass(_) => "pass",
            Self::CancelBadCode(_) | Self::CancelWhich | Self::Cancel(_) => "cancel",
            Self::About(_) => "about",
            Self::Registration(_) | Self::Registered(_) => "register",
            Self::Status => "status",
            Self::Record => "none",
        }
    }
}

async fn inbound(state: AppState, params: Params) -> Response {
    if let Some(refused) = refusal(&state, &params) {
        return refused;
    }
    let now = state.clock.now();
    let text = decode(
        params.bytes("text").unwrap_or_default(),
        params.text("coding").as_deref(),
        params.text("charset").as_deref(),
    );
    // Control characters (a NUL from binary data) have no place in a reply or a database.
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
            .collect()
    };
    let text: String = clean(&text).chars().take(MAX_TEXT).collect();
    let from = clean(&params.text("from").unwrap_or_default());
    let phone = PhoneNumber::parse(&from).ok();
    let gateway_id = params
        .text("id")
        .map(|id| clean(&id))
        .filter(|id| !id.is_empty())
        .map(|id| id.chars().take(100).collect::<String>())
        .unwrap_or_else(|| format!("noid:{}", uuid::Uuid::new_v4()));
    let mut msg = InboundSms {
        gateway_id,
        phone: phone.as_ref().map_or_else(
            || from.chars().take(32).collect(),
            |p| p.as_str().to_string(),
        ),
        recipient: clean(&params.text("to").unwrap_or_default())
            .chars()
            .take(32)
            .collect(),
        text,
        received_at: now,
    };
    let resident = match &phone {
        Some(p) => match state.store.resident_by_phone(p).await {
            Ok(r) => r,
            Err(e) => return unavailable(e),
        },
        None => None,
    };
    let parsed = parse(&msg.text);
    if matches!(parsed.command, Command::Register { .. }) {
        // The name and document go to the resident's record, not into the message log.
        let keyword: String = msg.text.split(['#', '*', ' ']).next().unwrap_or("").into();
        msg.text = format!("{keyword} [personal data not kept]");
    }
    let lang = parsed
        .lang
        .or_else(|| resident.as_ref().and_then(|r| Lang::parse(&r.lang)))
        .unwrap_or_default();
    let book = state.regimes();
    let (plan, action) = match &phone {
        None => (Plan::Record, SmsAction::Record),
        Some(phone) => decide(
            &state,
            &book,
            parsed.command,
            phone,
            resident.as_ref(),
            lang,
        ),
    };
    let render_plan = plan.clone();
    let render_book = book.clone();
    let outcome = state
        .store
        .handle_inbound_sms(
            &msg,
            plan.command(),
            action,
            state.sms.limits,
            move |effect| render(&render_plan, effect, lang, &render_book, now),
        )
        .await;
    match outcome {
        Ok(InboundOutcome::Duplicate) => {
            tracing::info!(id = %msg.gateway_id, "SMS seen before; not handled again");
            accepted()
        }
        Ok(InboundOutcome::Handled { effect, reply }) => {
            match effect.as_ref() {
                SmsEffect::Issued(_) => Metrics::inc(&state.metrics.passes_issued),
                SmsEffect::Refused(_) => Metrics::inc(&state.metrics.passes_refused),
                SmsEffect::Cancelled(_) => Metrics::inc(&state.metrics.passes_cancelled),
                _ => {}
            }
            tracing::info!(id = %msg.gateway_id, command = plan.command(), outcome = %effect.outcome(), answered = reply.is_some(), "SMS handled");
            if reply.is_some() {
                state.outbox_wakeup.notify_one();
            }
            accepted()
        }
        Err(e) => unavailable(e),
    }
}

fn unavailable(e: propusk_store::StoreError) -> Response {
    tracing::error!(error = %e, "cannot handle an SMS now; the gateway will retry");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Сообщение не принято, повторите позже.",
        "The message was not taken; retry later.",
    )
    .retry_after(5)
    .into_response()
}

/// What a command asks of the store, and how its answer will read.
fn decide(
    state: &AppState,
    book: &Arc<RegimeBook>,
    command: Command,
    phone: &PhoneNumber,
    resident: Option<&propusk_store::Resident>,
    lang: Lang,
) -> (Plan, SmsAction) {
    let now = state.clock.now();
    let registered = resident.filter(|r| r.identity().is_some());
    let reply = |plan| (plan, SmsAction::Reply);
    match command {
        Command::Empty => reply(Plan::Empty),
        Command::Unknown => reply(Plan::Unknown),
        Command::Help => reply(Plan::Help),
        Command::Register { fields } => match registration(&fields) {
            Err(problems) => reply(Plan::Registration(problems)),
            Ok(reg) => (
                Plan::Registered(holder_hint(&reg.full_name, &reg.document)),
                SmsAction::Register {
                    phone: phone.clone(),
                    identity: SmsIdentity {
                        full_name: reg.full_name,
                        document: reg.document,
                        home_address: reg.address,
                    },
                    lang: lang.code().to_string(),
                },
            ),
        },
        _ if registered.is_none() => reply(Plan::NotRegistered),
        Command::Status => {
            let resident_id = resident.map(|r| r.id.clone()).unwrap_or_default();
            (Plan::Status, SmsAction::Status { resident_id })
        }
        Command::Cancel { code: None } => {
            let resident_id = resident.map(|r| r.id.clone()).unwrap_or_default();
            (Plan::CancelWhich, SmsAction::Status { resident_id })
        }
        Command::Cancel { code: Some(raw) } => match raw.parse::<ShortCode>() {
            Err(_) => reply(Plan::CancelBadCode(raw)),
            Ok(code) => (
                Plan::Cancel(code.to_string()),
                SmsAction::Cancel {
                    resident_id: resident.map(|r| r.id.clone()).unwrap_or_default(),
                    code,
                },
            ),
        },
        Command::ShortCode(code) => (
            Plan::About(code.to_string()),
            SmsAction::About {
                resident_id: resident.map(|r| r.id.clone()).unwrap_or_default(),
                code,
            },
        ),
        Command::Pass(ask) => {
            let Some(regime) = book.in_force(now) else {
                return reply(Plan::NoRegime);
            };
            let purpose = match ask.code {
                Some(n) => match u8::try_from(n)
                    .ok()
                    .and_then(|n| regime.purpose_by_sms_code(n))
                {
                    Some(p) => p,
                    None => return reply(Plan::UnknownPurpose(n)),
                },
                None => match purpose_by_words(regime, &ask.words) {
                    Some(p) => p,
                    None => return reply(Plan::WhichPurpose),
                },
            };
            let request = pass_request(regime, purpose, &ask, now);
            (
                Plan::Pass(purpose.id().as_str().to_string()),
                SmsAction::Issue(IssueRequest {
                    resident_id: resident.map(|r| r.id.clone()).unwrap_or_default(),
                    request,
                    channel: crate::app::passes::Channel::Sms.as_str(),
                    now,
                    regimes: book.clone(),
                    key: state.keys.signing.clone(),
                }),
            )
        }
    }
}

/// The one purpose whose id or name the words point to (`МАГАЗИН`, `аптека`, `trash`).
fn purpose_by_words<'a>(regime: &'a Regime, words: &[String]) -> Option<&'a Purpose> {
    let stem = |w: &str| -> String {
        let n = w.chars().count();
        w.chars().take(n.saturating_sub(2).max(4)).collect()
    };
    let matches: Vec<&Purpose> = regime
        .purposes()
        .iter()
        .filter(|p| {
            let names = format!("{} {}", p.name().ru, p.name().en).to_uppercase();
            let name_words: Vec<&str> = names
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            words.iter().any(|w| {
                w.eq_ignore_ascii_case(p.id().as_str())
                    || (w.chars().count() >= 4
                        && name_words.iter().any(|n| n.starts_with(&stem(w))))
            })
        })
        .collect();
    match matches[..] {
        [one] => Some(one),
        _ => None,
    }
}

/// The request an SMS makes: the purpose, its fields in order, and a start time if given.
fn pass_request(
    regime: &Regime,
    purpose: &Purpose,
    ask: &PassAsk,
    now: jiff::Timestamp,
) -> PassRequest {
    let fields = purpose
        .required_fields()
        .iter()
        .zip(&ask.fields)
        .map(|(kind, value)| (kind.as_str().to_string(), value.clone()))
        .collect();
    PassRequest {
        purpose: purpose.id().as_str().to_string(),
        valid_from: ask.start.and_then(|hm| start_at(regime, now, hm)),
        duration_minutes: None,
        fields,
        destination: None,
    }
}

/// The next `HH:MM` on the regime's clocks: today, or tomorrow if today's has passed (a few
/// minutes' lateness counts as now).
fn start_at(regime: &Regime, now: jiff::Timestamp, (h, m): (u8, u8)) -> Option<jiff::Timestamp> {
    let tz = regime.time_zone();
    let today = now.to_zoned(tz.clone()).date();
    let at = |date: jiff::civil::Date| {
        date.at(h as i8, m as i8, 0, 0)
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp())
    };
    let first = at(today)?;
    let grace = propusk_core::issuance::VALID_FROM_GRACE;
    if first >= now.checked_sub(grace).unwrap_or(now) {
        Some(first)
    } else {
        at(today.tomorrow().ok()?)
    }
}

fn pass_info<'a>(book: &'a RegimeBook, pass: &PassRecord) -> PassInfo<'a> {
    let regime = book.get(&pass.regime_id);
    PassInfo {
        short_code: pass
            .short_code
            .parse::<ShortCode>()
            .map(|c| c.to_string())
            .unwrap_or_else(|_| pass.short_code.clone()),
        purpose: regime.and_then(|r| r.purpose(&pass.purpose)),
        valid_from: pass.valid_from,
        valid_until: pass.valid_until,
        tz: regime.map_or(jiff::tz::TimeZone::UTC, |r| r.time_zone().clone()),
    }
}

/// The answer to a message, from the plan and what the store did.
fn render(
    plan: &Plan,
    effect: &SmsEffect,
    lang: Lang,
    book: &RegimeBook,
    now: jiff::Timestamp,
) -> Option<String> {
    if let SmsEffect::RateLimited { retry_after_secs } = effect {
        return Some(reply::rate_limited(lang, *retry_after_secs));
    }
    let regime = book.in_force(now);
    Some(match (plan, effect) {
        (Plan::Record, _) | (_, SmsEffect::Recorded) => return None,
        (Plan::Empty, _) => reply::empty(lang),
        (Plan::Unknown, _) => reply::unknown(lang),
        (Plan::Help, _) => reply::help(lang, regime),
        (Plan::NotRegistered, _) | (_, SmsEffect::NoResident) => reply::not_registered(lang),
        (Plan::NoRegime, _) => reply::no_regime(lang),
        (Plan::WhichPurpose, _) => reply::which_purpose(lang, regime),
        (Plan::UnknownPurpose(n), _) => match regime {
            Some(r) => reply::unknown_purpose(lang, *n, r),
            None => reply::no_regime(lang),
        },
        (Plan::CancelBadCode(raw), _) => reply::cancel_bad_code(lang, raw),
        (Plan::Registration(problems), _) => reply::registration_problems(lang, problems),
        (Plan::Registered(hint), SmsEffect::Registered { updated, .. }) => {
            reply::registered(lang, hint, *updated)
        }
        (Plan::CancelWhich, SmsEffect::Passes(passes)) => {
            let codes: Vec<String> = passes
                .iter()
                .map(|p| pass_info(book, p).short_code)
                .collect();
            reply::cancel_which(lang, &codes)
        }
        (_, SmsEffect::Passes(passes)) => {
            let infos: Vec<PassInfo<'_>> = passes.iter().map(|p| pass_info(book, p)).collect();
            reply::status(lang, &infos)
        }
        (_, SmsEffect::Issued(pass)) => reply::issued(lang, &pass_info(book, pass)),
        (Plan::Pass(purpose), SmsEffect::Refused(refusal)) => {
            let purpose = regime.and_then(|r| r.purpose(purpose));
            let tz = regime.map_or(jiff::tz::TimeZone::UTC, |r| r.time_zone().clone());
            reply::refused(lang, refusal, purpose, &tz)
        }
        (_, SmsEffect::Cancelled(pass)) => {
            reply::cancelled(lang, &pass_info(book, pass).short_code)
        }
        (Plan::About(_), SmsEffect::AlreadyCancelled(pass)) => {
            reply::about_code(lang, Some(&pass_info(book, pass)), true)
        }
        (_, SmsEffect::AlreadyCancelled(pass)) => {
            reply::already_cancelled(lang, &pass_info(book, pass).short_code)
        }
        (Plan::Cancel(code) | Plan::About(code), SmsEffect::NotFound) => {
            reply::cancel_not_found(lang, code)
        }
        (_, SmsEffect::Pass(pass)) => reply::about_code(
            lang,
            Some(&pass_info(book, pass)),
            pass.cancelled_at.is_some(),
        ),
        _ => reply::unknown(lang),
    })
}

/// A delivery report
///
/// **Caller:** the SMS gateway, at the `dlr-url` propusk gave with each message. Unknown
/// ids and types are acknowledged and ignored; a final report is never overwritten by a
/// late one.
#[utoipa::path(get, path = "/api/v1/sms/dlr", tag = "sms", operation_id = "smsDeliveryReport",
    params(DlrQuery),
    responses((status = 202, description = "Taken (a message id seen before is not handled again). \
            The body is empty: the answer to the phone goes out through the outbox.",
            content_type = "text/plain", body = String), GatewayRefusals))]
async fn dlr_get(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    dlr(state, Params::from_request(q.as_deref(), &headers, &[])).await
}

/// A delivery report (POST)
///
/// **Caller:** the SMS gateway, at the `dlr-url` propusk gave with each message. Unknown
/// ids and types are acknowledged and ignored; a final report is never overwritten by a
/// late one.
#[utoipa::path(post, path = "/api/v1/sms/dlr", tag = "sms", operation_id = "smsDeliveryReportPost",
    params(DlrQuery),
    responses((status = 202, description = "Taken (a message id seen before is not handled again). \
            The body is empty: the answer to the phone goes out through the outbox.",
            content_type = "text/plain", body = String), GatewayRefusals))]
async fn dlr_post(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    dlr(state, Params::from_request(q.as_deref(), &headers, &body)).await
}

/// A delivery report for one outbox row. Unknown rows and report types are acknowledged
/// and ignored, so that Kannel does not retry them.
async fn dlr(state: AppState, params: Params) -> Response {
    if let Some(refused) = refusal(&state, &params) {
        return refused;
    }
    let id = params.text("id").and_then(|v| v.parse::<i64>().ok());
    let kind = params
        .text("type")
        .and_then(|v| v.parse::<u32>().ok())
        .and_then(Delivery::from_kannel);
    let (Some(id), Some(delivery)) = (id, kind) else {
        tracing::info!("delivery report without a known id or type; ignored");
        return accepted();
    };
    match state
        .store
        .record_sms_delivery(id, delivery, state.clock.now())
        .await
    {
        Ok(found) => {
            tracing::info!(
                id,
                delivery = delivery.as_str(),
                found,
                "SMS delivery report"
            );
            accepted()
        }
        Err(e) => unavailable(e),
    }
}
