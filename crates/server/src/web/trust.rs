//! The pages a public service owes its users, linked from every page's footer: help (how to
//! get a pass on the web and by SMS, with the SMS number and its commands, and whom to
//! contact), the privacy notice (what is kept, for how long, who sees it, on what basis) and
//! the accessibility statement (what was tested, what is not right yet, how to report it).
//!
//! The facts they state come from where the service decides them — the session lifetimes,
//! the monitoring retention setting, the regime in force and its legal act — so that the
//! notice cannot drift from what the code does. Who runs the service and how to reach them
//! is configured ([`crate::settings::ServiceInfo`]).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use fluent_bundle::{FluentArgs, FluentValue};
use propusk_store::Role;

use super::health::page::render;
use super::{Texts, WebCtx};
use crate::auth::{RESIDENT_SESSION_SECS, STAFF_SESSION_SECS};
use crate::lang::Pick;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/help", get(help))
        .route("/privacy", get(privacy))
        .route("/accessibility", get(accessibility))
}

/// How to reach the people who run the service, as the pages show and link it.
pub(crate) struct Contact {
    pub operator: String,
    pub hotline: String,
    pub hotline_href: String,
    pub email: String,
    pub sms_number: String,
    pub sms_href: String,
}

impl Contact {
    fn new(state: &AppState, t: Texts) -> Self {
        let s = &state.service;
        Self {
            operator: s
                .operator
                .clone()
                .unwrap_or_else(|| t.t("operator-default")),
            hotline: s.hotline.clone(),
            hotline_href: s.hotline_href(),
            email: s.email.clone(),
            sms_number: s.sms_number.clone(),
            sms_href: s.sms_href(),
        }
    }
}

/// A resident's session shows the header's sign-out button (the trust pages are the
/// resident's section; officers and patients have their own sign-outs).
fn signed_in(ctx: &WebCtx) -> bool {
    ctx.session
        .as_ref()
        .is_some_and(|(_, s)| s.role == Role::Resident)
}

/// The message `id` with numeric arguments (for plural forms).
fn counted(t: Texts, id: &str, args: &[(&str, i64)]) -> String {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, FluentValue::from(*value));
    }
    t.format(id, Some(&fluent))
}

#[derive(Template)]
#[template(path = "trust/help.html")]
struct HelpPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    contact: Contact,
    /// (what to send, what happens) for each SMS command.
    commands: Vec<(String, String)>,
    /// The regime in force's name and its purposes, if one is in force.
    regime: Option<String>,
    purposes: Vec<PurposeRow>,
}

struct PurposeRow {
    name: String,
    example: String,
    fields: Option<String>,
}

async fn help(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    let commands = [
        "help-cmd-help",
        "help-cmd-register",
        "help-cmd-pass",
        "help-cmd-pass-at",
        "help-cmd-status",
        "help-cmd-cancel",
        "help-cmd-code",
    ]
    .iter()
    .map(|id| (t.t(id), t.t(&format!("{id}-does"))))
    .collect();
    let regimes = state.regimes();
    let in_force = regimes.in_force(state.clock.now());
    // The pass keyword in the reader's language (the service reads both).
    let keyword = t.t("help-pass-keyword");
    let purposes = in_force
        .map(|regime| {
            regime
                .purposes()
                .iter()
                .map(|p| {
                    let fields: Vec<String> = p
                        .required_fields()
                        .iter()
                        .map(|f| f.label().get(ctx.lang).to_string())
                        .collect();
                    PurposeRow {
                        name: p.name().get(ctx.lang).to_string(),
                        example: format!("{keyword} {}", p.sms_code()),
                        fields: (!fields.is_empty())
                            .then(|| t.t1("help-purposes-fields", "fields", &fields.join(", "))),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let html = HelpPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: signed_in(&ctx),
        path: "/help".into(),
        contact: Contact::new(&state, t),
        commands,
        regime: in_force.map(|r| r.name().get(ctx.lang).to_string()),
        purposes,
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

/// One kind of data in the privacy notice.
struct Kept {
    id: &'static str,
    heading: String,
    what: String,
    kept_for: String,
    who: String,
}

#[derive(Template)]
#[template(path = "trust/privacy.html")]
struct PrivacyPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    contact: Contact,
    kept: Vec<Kept>,
    /// The configured legal basis, paragraph by paragraph, or the default text.
    basis: Vec<String>,
    /// The sentence naming the regime in force and its act, and where to read the act if
    /// that is a link.
    act: Option<(String, Option<String>)>,
}

async fn privacy(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    let retention_days = state.monitoring.retention.as_hours().div_euclid(24);
    let kept = [
        ("privacy-profile", None),
        ("privacy-passes", None),
        (
            "privacy-signin",
            Some(vec![
                ("resident_days", RESIDENT_SESSION_SECS / 86_400),
                ("staff_hours", STAFF_SESSION_SECS / 3_600),
            ]),
        ),
        ("privacy-sms", None),
        ("privacy-monitoring", Some(vec![("days", retention_days)])),
        ("privacy-audit", None),
        ("privacy-cookies", None),
    ]
    .into_iter()
    .map(|(id, args)| Kept {
        id: id.trim_start_matches("privacy-"),
        heading: t.t(id),
        what: t.t(&format!("{id}-what")),
        kept_for: match &args {
            Some(args) => counted(t, &format!("{id}-kept"), args),
            None => t.t(&format!("{id}-kept")),
        },
        who: t.t(&format!("{id}-who")),
    })
    .collect();
    let basis = match &state.service.legal_basis {
        Some(text) => text
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        None => vec![t.t("privacy-basis-default")],
    };
    let regimes = state.regimes();
    let act = regimes.in_force(state.clock.now()).map(|r| {
        let act = r.legal_act();
        let link = act
            .reference
            .as_deref()
            .filter(|r| r.starts_with("https://") || r.starts_with("http://"))
            .map(str::to_string);
        let sentence = t.t2(
            "privacy-basis-act",
            ("regime", r.name().get(ctx.lang)),
            ("act", &act.title),
        );
        (sentence, link)
    });
    let html = PrivacyPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: signed_in(&ctx),
        path: "/privacy".into(),
        contact: Contact::new(&state, t),
        kept,
        basis,
        act,
    }
    .render();
    render(ctx, StatusCode::OK, html)
}

#[derive(Template)]
#[template(path = "trust/accessibility.html")]
struct AccessibilityPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    contact: Contact,
    version: &'static str,
}

async fn accessibility(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    let html = AccessibilityPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: signed_in(&ctx),
        path: "/accessibility".into(),
        contact: Contact::new(&state, t),
        version: env!("CARGO_PKG_VERSION"),
    }
    .render();
    render(ctx, StatusCode::OK, html)
}
