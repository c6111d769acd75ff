//! A flag as its patient reads it: what the phone showed, in plain sentences (no officers'
//! terms: no classes of readings, no medians), the patient's own explanation and the form to
//! write or replace it until an officer decides, each decision with the officer's reason,
//! and for a fine how to pay it and whom to ask. The officers' pages read the same flag
//! through `web::health::evidence`, with every figure.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fluent_bundle::{FluentArgs, FluentValue};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::domain::TextError;
use propusk_core::monitoring::case::{Event, FlagStage, Sanction};
use propusk_core::monitoring::geofence::TrackPoint;
use propusk_core::monitoring::Evidence;
use propusk_store::{ExplainError, FlagRecord};
use serde::Deserialize;

use super::home::{page, Typed};
use super::Enrolled;
use crate::error::ApiError;
use crate::lang::Lang;
use crate::state::AppState;
use crate::web::health::page::{forged, local_time, not_found, see_other};
use crate::web::{Texts, WebCtx};

/// One decision on a flag, as the patient reads it.
pub struct DecisionView {
    pub text: String,
    /// The officer's reason, when they gave one.
    pub note: Option<String>,
}

pub struct PatientFlag {
    pub id: String,
    pub kind_text: String,
    pub state: String,
    pub state_text: String,
    pub ongoing: bool,
    /// What the phone showed, sentence by sentence.
    pub plain: Vec<String>,
    /// The patient's explanation and when it was written.
    pub statement: Option<(String, String)>,
    /// Whether the explanation may still be written or replaced (no decision yet).
    pub can_explain: bool,
    pub decisions: Vec<DecisionView>,
    /// A fine in force: the page says how to pay it and whom to ask.
    pub fine: bool,
    /// The appeal the patient made, if any.
    pub appeal: Option<String>,
}

/// A distance as a person says it: `350 м`, `1,6 км` / `350 m`, `1.6 km`.
pub fn distance(m: u32, t: Texts) -> String {
    if m < 1000 {
        return t.t1("patient-ev-metres", "m", &m.to_string());
    }
    let km = format!("{:.1}", f64::from(m) / 1000.0);
    let km = match t.lang {
        Lang::Ru => km.replace('.', ","),
        Lang::En => km,
    };
    t.t1("patient-ev-km", "km", &km)
}

/// `14:05` when `at` falls on the day of `day`, else the full local time.
fn clock(at: Timestamp, day: Timestamp, tz: &str, t: Texts) -> String {
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    if at.to_zoned(zone.clone()).date() == day.to_zoned(zone.clone()).date() {
        at.to_zoned(zone).strftime("%H:%M").to_string()
    } else {
        local_time(at, tz, t.lang)
    }
}

fn plain(flag: &FlagRecord, evidence: &Evidence, tz: &str, t: Texts) -> Vec<String> {
    let full = |at: Timestamp| local_time(at, tz, t.lang);
    let short = |at: Timestamp| clock(at, flag.from, tz, t);
    let mut lines = Vec::new();
    match evidence {
        Evidence::LeftHome(e) => {
            if e.outside > 0 {
                let mut args = FluentArgs::new();
                args.set("n", FluentValue::from(e.outside));
                args.set("from", FluentValue::from(full(flag.from)));
                args.set("to", FluentValue::from(short(flag.to)));
                args.set("far", FluentValue::from(distance(e.distance_m.max, t)));
                lines.push(t.format("patient-ev-away", Some(&args)));
            }
            if let Some(answer) = &e.confirmed_by_checkin {
                lines.push(t.t2(
                    "patient-ev-answer-away",
                    ("time", &full(answer.ts)),
                    ("far", &distance(answer.distance_m, t)),
                ));
            }
            lines.push(t.t1("patient-ev-home", "r", &distance(e.radius_m, t)));
            if let Some(p) = &e.last_inside_before {
                lines.push(t.t1("patient-ev-home-before", "time", &short(p.ts)));
            }
            match (&e.first_inside_after, flag.ongoing) {
                (Some(p), _) => lines.push(t.t1("patient-ev-home-after", "time", &short(p.ts))),
                (None, true) => lines.push(t.t("patient-ev-not-back")),
                (None, false) => {}
            }
        }
        Evidence::NoSignal(e) => {
            let since = e
                .last_before
                .as_ref()
                .map_or(flag.from, |p: &TrackPoint| p.ts);
            match (&e.first_after, flag.ongoing) {
                (Some(p), _) => lines.push(t.t2(
                    "patient-ev-silence",
                    ("from", &full(since)),
                    ("to", &short(p.ts)),
                )),
                (None, _) => lines.push(t.t1("patient-ev-silence-since", "from", &full(since))),
            }
            lines.push(t.t("patient-ev-silence-note"));
        }
        Evidence::MissedCheckin(e) => {
            lines.push(t.t2(
                "patient-ev-checkin",
                ("issued", &full(e.issued_at)),
                ("deadline", &short(e.deadline)),
            ));
            lines.push(match e.answered_at {
                Some(a) => t.t1("patient-ev-checkin-late", "time", &short(a)),
                None => t.t("patient-ev-checkin-none"),
            });
            if let Some(r) = e.last_report_before {
                lines.push(t.t1("patient-ev-last-report", "time", &full(r)));
            }
        }
    }
    lines
}

/// A sanction inside a sentence: `штраф 4000 ₽` / `a fine of 4000 ₽`.
fn sanction_words(t: Texts, s: &Sanction) -> String {
    match s {
        Sanction::Warning => t.t("patient-sanction-warning"),
        Sanction::Fine { amount_rub } => {
            t.t1("patient-sanction-fine", "rub", &amount_rub.to_string())
        }
    }
}

fn note(note: &str) -> Option<String> {
    Some(note.trim().to_string()).filter(|n| !n.is_empty())
}

fn decisions(flag: &FlagRecord, t: Texts) -> Vec<DecisionView> {
    flag.history
        .iter()
        .filter_map(|event| match event {
            Event::Dismissed { note: n, .. } => Some(DecisionView {
                text: t.t("patient-decided-dismissed"),
                note: note(n),
            }),
            Event::Confirmed {
                sanction, note: n, ..
            } => Some(DecisionView {
                text: t.t1(
                    "patient-decided-confirmed",
                    "sanction",
                    &sanction_words(t, sanction),
                ),
                note: note(n),
            }),
            Event::AppealUpheld { note: n, .. } => Some(DecisionView {
                text: t.t("patient-decided-upheld"),
                note: note(n),
            }),
            Event::AppealRejected { note: n, .. } => Some(DecisionView {
                text: t.t("patient-decided-rejected"),
                note: note(n),
            }),
            _ => None,
        })
        .collect()
}

/// The flag for its patient's page.
pub fn patient_flag(flag: &FlagRecord, tz: &str, t: Texts) -> PatientFlag {
    let plain = match serde_json::from_value::<Evidence>(flag.evidence.clone()) {
        Ok(evidence) => plain(flag, &evidence, tz, t),
        Err(e) => {
            tracing::warn!(flag = %flag.id, error = %e, "flag evidence does not parse");
            vec![t.t("ev-unreadable")]
        }
    };
    let appeal = flag.history.iter().find_map(|e| match e {
        Event::Appealed { statement, .. } => Some(statement.clone()),
        _ => None,
    });
    PatientFlag {
        id: flag.id.clone(),
        kind_text: t.t(&format!("flag-kind-{}", flag.kind.as_str())),
        state: flag.state.as_str().to_string(),
        state_text: t.t(&format!("flag-state-{}", flag.state.as_str())),
        ongoing: flag.ongoing,
        plain,
        statement: flag
            .statement
            .as_ref()
            .map(|s| (s.text.clone(), local_time(s.written_at, tz, t.lang))),
        can_explain: matches!(flag.state, FlagStage::Open | FlagStage::Notified),
        decisions: decisions(flag, t),
        fine: matches!(flag.sanction, Some(Sanction::Fine { .. })),
        appeal,
    }
}

/// What the patient wrote on a flag: an explanation before the decision, or an appeal after.
#[derive(Deserialize)]
pub struct StatementForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub statement: String,
}

/// The patient's text, or what is wrong with it in the patient's words (`required` and
/// `too_long`: the form's own message ids; the latter gets `max` and the length typed, `n`).
pub fn statement_of(
    raw: &str,
    t: Texts,
    required: &str,
    too_long: &str,
) -> Result<propusk_core::domain::Paragraph, String> {
    crate::monitoring_rules::statement(raw).map_err(|e| match e {
        TextError::Empty => t.t(required),
        TextError::TooLong { max, .. } => t.t2(
            too_long,
            ("max", &max.to_string()),
            ("n", &raw.trim().chars().count().to_string()),
        ),
        TextError::Control { .. } => t.lang.pick(&e.localized()).to_string(),
    })
}

/// The patient's explanation of a flag before the decision: stored with the flag (replacing
/// an earlier one), refused with the reason once an officer has decided.
pub async fn explain(
    State(state): State<AppState>,
    ctx: WebCtx,
    enrolled: Enrolled,
    Path(id): Path<String>,
    Form(form): Form<StatementForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/patient");
    }
    let Some(device) = enrolled.0 else {
        return see_other(ctx, "/patient");
    };
    let t = Texts::new(ctx.lang);
    let field = format!("explain-{id}");
    let typed = Typed::Explaining(id.clone(), form.statement.clone());
    let statement = match statement_of(
        &form.statement,
        t,
        "patient-explain-required",
        "patient-explain-long",
    ) {
        Ok(statement) => statement,
        Err(message) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return page(&state, ctx, &device, status, typed, vec![(field, message)]).await;
        }
    };
    match state
        .store
        .explain_flag(&device, &id, &statement, state.clock.now())
        .await
    {
        Ok(_) => see_other(ctx, &format!("/patient?explained={id}#flag-{id}")),
        Err(ExplainError::NotFound) => not_found(ctx, "/patient"),
        Err(ExplainError::Store(e)) => ApiError::internal(e).into_response(),
        Err(ExplainError::Decided) => {
            let errors = vec![(String::new(), t.t("patient-explain-decided"))];
            page(&state, ctx, &device, StatusCode::CONFLICT, typed, errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use propusk_core::monitoring::geofence::{Spread, TrackEvidence};
    use propusk_core::monitoring::FlagKind;

    fn texts(lang: Lang) -> Texts {
        Texts::new(lang)
    }

    #[test]
    fn distances_read_as_people_say_them() {
        assert_eq!(distance(350, texts(Lang::Ru)), "350 м");
        assert_eq!(distance(1600, texts(Lang::Ru)), "1,6 км");
        assert_eq!(distance(1600, texts(Lang::En)), "1.6 km");
        assert_eq!(distance(999, texts(Lang::En)), "999 m");
    }

    #[test]
    fn a_departure_reads_in_plain_words() {
        let from: Timestamp = "2020-04-15T11:05:00Z".parse().unwrap();
        let to: Timestamp = "2020-04-15T11:40:00Z".parse().unwrap();
        let spread = |max| Spread {
            min: 300,
            median: 900,
            max,
        };
        let evidence = Evidence::LeftHome(TrackEvidence {
            radius_m: 100,
            fixes: 20,
            outside: 12,
            edge: 2,
            coarse: 3,
            outliers: 1,
            repeats: 2,
            distance_m: spread(1600),
            accuracy_m: spread(20),
            last_inside_before: None,
            first_inside_after: None,
            track: vec![],
            confirmed_by_checkin: None,
        });
        let flag = FlagRecord {
            id: "f".into(),
            case_id: "c".into(),
            kind: FlagKind::LeftHome,
            from,
            to,
            ongoing: false,
            evidence: serde_json::to_value(&evidence).unwrap(),
            state: FlagStage::Notified,
            raised_at: to,
            history: vec![],
            sanction: None,
            awaits_officer: true,
            statement: None,
        };
        let ru = patient_flag(&flag, "Europe/Moscow", texts(Lang::Ru));
        assert_eq!(
            ru.plain[0],
            "12 положений телефона вне дома с 15.04.2020 14:05 до 14:40, самое дальнее — в 1,6 км от дома."
        );
        assert!(ru.can_explain && !ru.fine);
        let en = patient_flag(&flag, "Europe/Moscow", texts(Lang::En));
        assert_eq!(
            en.plain[0],
            "12 positions of your phone outside your home between 2020-04-15 14:05 and 14:40, the farthest 1.6 km away."
        );
        for line in ru.plain.iter().chain(&en.plain) {
            for jargon in ["медиана", "median", "повтор", "repeat", "{", "$"] {
                assert!(!line.contains(jargon), "{line}");
            }
        }
    }
}
