//! A flag as a person reads it: its kind and state in words, its period, and its map-free
//! evidence as facts (distances, accuracies, times, counts — never a coordinate), for the
//! officer's queue and the patient's own list alike.

use std::collections::HashMap;

use jiff::Timestamp;
use propusk_core::domain::{distance_m, GeoPoint};
use propusk_core::monitoring::case::{Event, Sanction};
use propusk_core::monitoring::geofence::{FixClass, Spread, TrackPoint};
use propusk_core::monitoring::Evidence;
use propusk_store::{ChallengeRecord, FlagRecord};

use super::page::{duration, local_time, period};
use crate::web::Texts;

/// One report of a departure's track, as a table row.
pub struct TrackRow {
    pub time: String,
    pub distance: String,
    pub accuracy: String,
    pub reading: String,
}

/// One step of a flag's life: when, and what happened (with the officer's id for staff).
pub struct HistoryRow {
    pub time: String,
    pub text: String,
}

pub struct FlagView {
    pub id: String,
    pub case_id: String,
    pub kind_text: String,
    pub state: String,
    pub state_text: String,
    pub period: String,
    pub length: String,
    pub ongoing: bool,
    /// (what, value) pairs of the evidence.
    pub facts: Vec<(String, String)>,
    pub track: Vec<TrackRow>,
    pub sanction: Option<String>,
    pub appeal: Option<String>,
    /// The officer who confirmed the sanction (an appeal goes to someone else).
    pub confirmed_by: Option<String>,
    pub history: Vec<HistoryRow>,
    /// The questions asked at once during a departure (filled in by the officers' pages).
    pub checkins: Vec<CheckinRow>,
    /// What the patient wrote before the decision (`templates/health/statement.html`).
    pub statement: Option<StatementView>,
}

/// The patient's explanation of a flag, as the officer reads it beside the evidence.
pub struct StatementView {
    pub text: String,
    /// When it was last written, on the case's clocks.
    pub written: String,
}

/// A check-in as the officer compares it: why it was asked, times, how far from home and how
/// sure the answer was.
pub struct CheckinRow {
    pub id: String,
    /// For a question asked at once: what raised it.
    pub asked: Option<String>,
    pub issued: String,
    pub deadline: String,
    pub answer: String,
    pub late: bool,
    pub place: String,
    pub has_photo: bool,
}

/// Check-ins as rows, on the clocks of `tz`; distances from `home` (none once erased).
pub fn checkin_rows(
    home: Option<GeoPoint>,
    tz: &str,
    list: &[ChallengeRecord],
    t: Texts,
) -> Vec<CheckinRow> {
    let away = |d: f64, a: f64| {
        t.t2(
            "point-away",
            ("d", &(d.round() as u64).to_string()),
            ("a", &(a.round() as u64).to_string()),
        )
    };
    list.iter()
        .map(|c| {
            let late = c.answered_at.is_some_and(|a| a >= c.deadline);
            let answer = match c.answered_at {
                Some(a) => local_time(a, tz, t.lang),
                None => t.t("checkin-not-answered"),
            };
            let place = match (home.zip(c.point), c.accuracy_m) {
                (Some((home, p)), Some(acc)) => away(distance_m(home, p), acc),
                _ => t.t("ev-none"),
            };
            let asked = c.asked_for.map(|a| {
                t.t2(
                    "checkin-asked-for",
                    ("time", &local_time(a.ts, tz, t.lang)),
                    ("place", &away(a.distance_m, a.accuracy_m)),
                )
            });
            CheckinRow {
                id: c.id.clone(),
                asked,
                issued: local_time(c.issued_at, tz, t.lang),
                deadline: local_time(c.deadline, tz, t.lang),
                answer,
                late,
                place,
                has_photo: c.has_photo,
            }
        })
        .collect()
}

fn metres(t: Texts, m: u32) -> String {
    t.t1("metres", "m", &m.to_string())
}

fn spread(t: Texts, s: &Spread) -> String {
    format!(
        "{} {} · {} {} · {} {}",
        t.t("spread-min"),
        metres(t, s.min),
        t.t("spread-median"),
        metres(t, s.median),
        t.t("spread-max"),
        metres(t, s.max)
    )
}

fn class_text(t: Texts, class: FixClass) -> String {
    let id = match class {
        FixClass::Inside => "class-inside",
        FixClass::Edge => "class-edge",
        FixClass::Outside => "class-outside",
        FixClass::Coarse => "class-coarse",
        FixClass::Outlier => "class-outlier",
        FixClass::Repeat => "class-repeat",
    };
    t.t(id)
}

fn point(t: Texts, p: &TrackPoint, tz: &str) -> String {
    format!(
        "{}: {}",
        local_time(p.ts, tz, t.lang),
        t.t2(
            "point-away",
            ("d", &p.distance_m.to_string()),
            ("a", &p.accuracy_m.to_string())
        )
    )
}

pub fn sanction_text(t: Texts, s: &Sanction) -> String {
    match s {
        Sanction::Warning => t.t("sanction-warning"),
        Sanction::Fine { amount_rub } => t.t1("sanction-fine", "rub", &amount_rub.to_string()),
    }
}

fn facts(t: Texts, evidence: &Evidence, tz: &str) -> (Vec<(String, String)>, Vec<TrackRow>) {
    let mut facts = Vec::new();
    let mut track = Vec::new();
    let time = |at: Timestamp| local_time(at, tz, t.lang);
    match evidence {
        Evidence::LeftHome(e) => {
            facts.push((t.t("ev-radius"), metres(t, e.radius_m)));
            facts.push((t.t("ev-fixes"), e.fixes.to_string()));
            let classes = [
                (FixClass::Outside, e.outside),
                (FixClass::Edge, e.edge),
                (FixClass::Coarse, e.coarse),
                (FixClass::Outlier, e.outliers),
                (FixClass::Repeat, e.repeats),
            ]
            .iter()
            .map(|(c, n)| format!("{}: {n}", class_text(t, *c)))
            .collect::<Vec<_>>()
            .join("; ");
            facts.push((t.t("ev-classes"), classes));
            facts.push((t.t("ev-distance"), spread(t, &e.distance_m)));
            facts.push((t.t("ev-accuracy"), spread(t, &e.accuracy_m)));
            let or_none = |p: &Option<TrackPoint>| {
                p.as_ref()
                    .map_or_else(|| t.t("ev-none"), |p| point(t, p, tz))
            };
            facts.push((t.t("ev-last-inside"), or_none(&e.last_inside_before)));
            facts.push((t.t("ev-first-inside"), or_none(&e.first_inside_after)));
            if let Some(answer) = &e.confirmed_by_checkin {
                facts.push((t.t("ev-confirmed-by-checkin"), point(t, answer, tz)));
            }
            track = e
                .track
                .iter()
                .map(|p| TrackRow {
                    time: time(p.ts),
                    distance: metres(t, p.distance_m),
                    accuracy: format!("±{}", metres(t, p.accuracy_m)),
                    reading: class_text(t, p.class),
                })
                .collect();
        }
        Evidence::NoSignal(e) => {
            let or_none = |p: &Option<TrackPoint>| {
                p.as_ref()
                    .map_or_else(|| t.t("ev-none"), |p| point(t, p, tz))
            };
            facts.push((t.t("ev-last-before"), or_none(&e.last_before)));
            facts.push((t.t("ev-first-after"), or_none(&e.first_after)));
            facts.push((t.t("ev-silence-note"), t.t("ev-silence-not-violation")));
        }
        Evidence::MissedCheckin(e) => {
            facts.push((t.t("ev-issued"), time(e.issued_at)));
            facts.push((t.t("ev-deadline"), time(e.deadline)));
            let answer = e.answered_at.map_or_else(
                || t.t("ev-not-answered"),
                |a| t.t1("ev-answered-late", "time", &time(a)),
            );
            facts.push((t.t("ev-answer"), answer));
            let last = e.last_report_before.map_or_else(
                || t.t("ev-none"),
                |r| {
                    t.t2(
                        "ev-last-report-value",
                        ("time", &time(r)),
                        ("ago", &duration(r, e.deadline, t)),
                    )
                },
            );
            facts.push((t.t("ev-last-report"), last));
        }
    }
    (facts, track)
}

/// Officers' usernames by account id; `None` on the patient's pages, which name no officer.
pub type Officers<'a> = Option<&'a HashMap<String, String>>;

fn history_text(t: Texts, event: &Event, officers: Officers) -> String {
    let by = |officer: &propusk_core::monitoring::case::OfficerId| match officers {
        Some(names) => {
            let id = officer.as_str();
            let name = names.get(id).map_or(id, String::as_str);
            format!(" ({})", t.t1("by-officer", "id", name))
        }
        None => String::new(),
    };
    // The officers' pages call a flag «сигнал», never «отметка» (a location report).
    let word = |id: &str| match officers {
        Some(_) => t.t(&format!("officers-{id}")),
        None => t.t(id),
    };
    match event {
        Event::Raised { .. } => word("event-raised"),
        Event::Notified { .. } => t.t("event-notified"),
        Event::Dismissed { officer, note, .. } => {
            format!("{}{}: {note}", word("event-dismissed"), by(officer))
        }
        Event::Confirmed {
            officer,
            sanction,
            note,
            ..
        } => format!(
            "{} — {}{}: {note}",
            word("event-confirmed"),
            sanction_text(t, sanction),
            by(officer)
        ),
        Event::Appealed { statement, .. } => format!("{}: {statement}", t.t("event-appealed")),
        Event::AppealUpheld { officer, note, .. } => {
            format!("{}{}: {note}", t.t("event-appeal-upheld"), by(officer))
        }
        Event::AppealRejected { officer, note, .. } => {
            format!("{}{}: {note}", t.t("event-appeal-rejected"), by(officer))
        }
    }
}

/// The flag for a page; the officers' pages also see who took each step.
pub fn flag_view(flag: &FlagRecord, tz: &str, t: Texts, officers: Officers) -> FlagView {
    let (facts, track) = match serde_json::from_value::<Evidence>(flag.evidence.clone()) {
        Ok(evidence) => facts(t, &evidence, tz),
        Err(e) => {
            tracing::warn!(flag = %flag.id, error = %e, "flag evidence does not parse");
            (vec![(t.t("ev-unreadable"), String::new())], vec![])
        }
    };
    let mut confirmed_by = None;
    let mut appeal = None;
    for event in &flag.history {
        match event {
            Event::Confirmed { officer, .. } => confirmed_by = Some(officer.as_str().to_string()),
            Event::Appealed { statement, .. } => appeal = Some(statement.clone()),
            _ => {}
        }
    }
    let kind = flag.kind.as_str();
    FlagView {
        id: flag.id.clone(),
        case_id: flag.case_id.clone(),
        kind_text: t.t(&format!("flag-kind-{kind}")),
        state: flag.state.as_str().to_string(),
        state_text: match officers {
            Some(_) => t.t(&format!("officers-flag-state-{}", flag.state.as_str())),
            None => t.t(&format!("flag-state-{}", flag.state.as_str())),
        },
        period: period(flag.from, flag.to, tz, t.lang),
        length: duration(flag.from, flag.to, t),
        ongoing: flag.ongoing,
        facts,
        track,
        sanction: flag.sanction.as_ref().map(|s| sanction_text(t, s)),
        appeal,
        confirmed_by,
        history: flag
            .history
            .iter()
            .map(|e| HistoryRow {
                time: local_time(e.at(), tz, t.lang),
                text: history_text(t, e, officers),
            })
            .collect(),
        checkins: Vec::new(),
        statement: flag.statement.as_ref().map(|s| StatementView {
            text: s.text.clone(),
            written: local_time(s.written_at, tz, t.lang),
        }),
    }
}

/// The radius fact of a departure's evidence on the officers' pages: the radius the
/// evaluation used, and why, when it is more than the case's own (the minimum applied).
pub fn explain_radius(view: &mut FlagView, flag: &FlagRecord, given_m: f64, t: Texts) {
    let Ok(Evidence::LeftHome(e)) = serde_json::from_value::<Evidence>(flag.evidence.clone())
    else {
        return;
    };
    let given = given_m.round() as u32;
    if given >= e.radius_m {
        return;
    }
    let label = t.t("ev-radius");
    if let Some(fact) = view.facts.iter_mut().find(|(what, _)| *what == label) {
        fact.1 = radius_reason(t, e.radius_m, given);
    }
}

/// «радиус 100 м: меньше 100 м не проверяется из-за точности GPS (указано 50 м)».
pub fn radius_reason(t: Texts, used_m: u32, given_m: u32) -> String {
    t.t2(
        "officers-radius-minimum",
        ("used", &used_m.to_string()),
        ("given", &given_m.to_string()),
    )
}

/// One line of a flag's evidence for the queue's card (the flag's page has the rest).
pub fn flag_summary(flag: &FlagRecord, tz: &str, t: Texts) -> String {
    match serde_json::from_value::<Evidence>(flag.evidence.clone()) {
        Ok(Evidence::LeftHome(e)) => t.t2(
            "officers-summary-left-home",
            ("n", &e.outside.to_string()),
            ("max", &e.distance_m.max.to_string()),
        ),
        Ok(Evidence::NoSignal(_)) => t.t1(
            "officers-summary-no-signal",
            "length",
            &duration(flag.from, flag.to, t),
        ),
        Ok(Evidence::MissedCheckin(e)) => match e.answered_at {
            Some(a) => t.t1(
                "officers-summary-checkin-late",
                "time",
                &local_time(a, tz, t.lang),
            ),
            None => t.t1(
                "officers-summary-checkin-missed",
                "time",
                &local_time(e.deadline, tz, t.lang),
            ),
        },
        Err(_) => t.t("ev-unreadable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use propusk_core::monitoring::case::FlagStage;
    use propusk_core::monitoring::checkins::CheckinEvidence;
    use propusk_core::monitoring::geofence::SilenceEvidence;
    use propusk_core::monitoring::FlagKind;

    fn flag(kind: FlagKind, evidence: Evidence) -> FlagRecord {
        let from: Timestamp = "2020-04-15T08:00:00Z".parse().unwrap();
        FlagRecord {
            id: "f".into(),
            case_id: "c".into(),
            kind,
            from,
            to: from + jiff::SignedDuration::from_mins(130),
            ongoing: false,
            evidence: serde_json::to_value(evidence).unwrap(),
            state: FlagStage::Notified,
            raised_at: from,
            history: vec![],
            sanction: None,
            awaits_officer: true,
            statement: None,
        }
    }

    #[test]
    fn a_card_says_its_evidence_in_one_line() {
        let (ru, en) = (Texts::new(Lang::Ru), Texts::new(Lang::En));
        let silence = flag(
            FlagKind::NoSignal,
            Evidence::NoSignal(SilenceEvidence {
                last_before: None,
                first_after: None,
            }),
        );
        assert_eq!(
            flag_summary(&silence, "Europe/Moscow", ru),
            "Геопозиций не было 2 ч 10 мин."
        );
        assert_eq!(
            flag_summary(&silence, "Europe/Moscow", en),
            "No location reports for 2 h 10 min."
        );
        let deadline: Timestamp = "2020-04-15T09:20:00Z".parse().unwrap();
        let missed = |answered_at| {
            flag(
                FlagKind::MissedCheckin,
                Evidence::MissedCheckin(CheckinEvidence {
                    issued_at: "2020-04-15T09:00:00Z".parse().unwrap(),
                    deadline,
                    answered_at,
                    last_report_before: None,
                }),
            )
        };
        assert_eq!(
            flag_summary(&missed(None), "Europe/Moscow", ru),
            "На проверку не ответили до 15.04.2020 12:20."
        );
        let late = Some(deadline + jiff::SignedDuration::from_mins(5));
        assert_eq!(
            flag_summary(&missed(late), "Europe/Moscow", en),
            "The check-in was answered late, at 2020-04-15 12:25."
        );
    }

    #[test]
    fn the_radius_says_why_it_is_larger_than_given() {
        assert_eq!(
            radius_reason(Texts::new(Lang::Ru), 100, 50),
            "100 м: меньше 100 м не проверяется из-за точности GPS (указано 50 м)"
        );
        assert_eq!(
            radius_reason(Texts::new(Lang::En), 100, 50),
            "100 m: less than 100 m is not checked because of GPS accuracy (50 m given)"
        );
    }
}
