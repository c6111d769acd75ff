//! Asking when in doubt: an immediate check-in when a confident fix first places the phone
//! far from home.
//!
//! # Why
//!
//! The geofence evaluator waits about twelve minutes at one place before it calls a stay a
//! departure ([`GeofenceConfig::two_fix_duration`]), and it discards a confident fix
//! kilometres away that no one could have reached from home so soon (rule 5b), because a
//! Wi-Fi access point that moved with its owner looks exactly like that at first. A trip
//! whose phone recorded nothing on the way therefore looks the same as such a source error,
//! and is flagged late: in our traces, every trip flagged later than 15 minutes had no fix on
//! the way. Only the patient can tell the two apart, so the service asks, at once, in the
//! app (and by SMS):
//!
//! - **A photo with a fresh fix at home ends the suspicion.** The answer's fix is a report
//!   like any other: one at home ends the run (geofence rule 6).
//! - **A fix far away in the answer is a confirmed departure**, flagged at once (geofence
//!   rule 8) — unless it is a place no one could have reached from home so soon (rule 5b):
//!   a moved access point gives the answer its false position too. A trip with nothing
//!   recorded on the way took its time, and is confirmed.
//! - **A question left unanswered is never a flag and never a sanction.** The officer sees it
//!   beside the run that raised it; the evaluator goes on exactly as without it.
//! - **At night nothing is asked**, and the rules stay as they are: an ask, like any check-in,
//!   lies with its whole time to answer inside the check-in hours on the case's clocks.
//!
//! # When ([`decide`])
//!
//! The trigger is the first fix since the phone was last placed at home that is confident and
//! far ([`is_far`]: clearly outside with a usable accuracy, farther than indoor multipath
//! reaches). The service asks when, besides:
//!
//! - the fix is fresh ([`AskConfig::fresh`]): asking about where someone was an hour ago says
//!   nothing about where they are now;
//! - no `left_home` flag covers it already (then the officer knows);
//! - no check-in is open (it already asks for a photo and a location), and none was shown
//!   since the trigger — one question per time away;
//! - fewer than [`AskConfig::per_day`] questions were asked in the last 24 hours;
//! - now and the deadline are within the check-in hours.
//!
//! Like everything in this module tree, the decision is a pure function of what the server
//! knows and the moment; the store supplies the facts and records the outcome.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::checkins::{within_hours, Challenge, CheckinConfig};
use super::geofence::{is_far, places_home, Fix, Geofence, GeofenceConfig};
use super::{Flag, FlagKind};

/// How eagerly the service asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskConfig {
    /// Whether the service asks at all (an operator may turn it off).
    pub enabled: bool,
    /// The trigger must be at most this old when the service considers it. Default 10 minutes:
    /// a phone online uploads within a minute or two; a fix from an offline backlog is about
    /// a time that is over.
    pub fresh: SignedDuration,
    /// At most this many questions in any 24 hours. Default 3: a phone that keeps placing a
    /// patient far away by mistake (a moved access point) must not make them answer all day.
    pub per_day: u32,
}

impl Default for AskConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            fresh: SignedDuration::from_mins(10),
            per_day: 3,
        }
    }
}

/// What the server knows about a case's check-ins when it considers asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asked {
    /// A check-in of any kind is open now.
    pub open: bool,
    /// When the latest check-in of any kind was shown, if one was.
    pub last_issued: Option<Timestamp>,
    /// Questions asked (immediate check-ins) in the 24 hours before now.
    pub last_day: u32,
}

/// A question to ask now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ask {
    /// The check-in: shown now, answered before its deadline.
    pub challenge: Challenge,
    /// The fix that raised it.
    pub trigger: Fix,
}

/// The first confident fix far from home since the phone was last placed at home, among the
/// reports and the check-in answers (any order).
pub fn trigger(
    fence: &Geofence,
    fixes: &[Fix],
    answers: &[Fix],
    cfg: &GeofenceConfig,
) -> Option<Fix> {
    let mut all: Vec<&Fix> = fixes.iter().chain(answers).collect();
    all.sort_by_key(|f| f.ts());
    let mut first_far = None;
    for f in all {
        if places_home(f, fence, cfg) {
            first_far = None;
        } else if first_far.is_none() && is_far(f, fence, cfg) {
            first_far = Some(*f);
        }
    }
    first_far
}

/// The fix a question would be about, if asking is on and the trigger is fresh: the cheap
/// part of [`decide`], so that the server reads the case's check-ins only when it may ask.
pub fn candidate(
    fence: &Geofence,
    fixes: &[Fix],
    answers: &[Fix],
    now: Timestamp,
    geofence: &GeofenceConfig,
    cfg: &AskConfig,
) -> Option<Fix> {
    if !cfg.enabled {
        return None;
    }
    let trigger = trigger(fence, fixes, answers, geofence)?;
    let fresh = now
        .checked_sub(cfg.fresh)
        .ok()
        .is_none_or(|t| trigger.ts() >= t);
    fresh.then_some(trigger)
}

/// Whether to ask the patient now, and what; see the module docs for each condition.
///
/// `fixes` and `answers` are the window the server just evaluated (with its context back to
/// the last fix at home), `flags` what that evaluation found.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    fence: &Geofence,
    fixes: &[Fix],
    answers: &[Fix],
    flags: &[Flag],
    asked: &Asked,
    now: Timestamp,
    tz: &TimeZone,
    checkins: &CheckinConfig,
    geofence: &GeofenceConfig,
    cfg: &AskConfig,
) -> Option<Ask> {
    if asked.open || asked.last_day >= cfg.per_day {
        return None;
    }
    let trigger = candidate(fence, fixes, answers, now, geofence, cfg)?;
    let known = flags
        .iter()
        .any(|f| f.kind() == FlagKind::LeftHome && f.from <= trigger.ts() && trigger.ts() <= f.to);
    let asked_since = asked.last_issued.is_some_and(|t| t >= trigger.ts());
    if known || asked_since || trigger.ts() > now + geofence.max_clock_skew {
        return None;
    }
    let deadline = now.checked_add(checkins.deadline()).ok()?;
    let today = tz.to_datetime(now).date();
    let hours = checkins.hours();
    let daytime = within_hours(tz, today, hours, now) && within_hours(tz, today, hours, deadline);
    daytime.then_some(Ask {
        challenge: Challenge {
            issued_at: now,
            deadline,
        },
        trigger,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GeoPoint;
    use crate::monitoring::geofence::evaluate;
    use crate::monitoring::simulate::displace;

    fn home() -> GeoPoint {
        GeoPoint::new(55.75, 37.62).unwrap()
    }

    fn fence() -> Geofence {
        Geofence::new(home(), 100.0).unwrap()
    }

    fn moscow() -> TimeZone {
        TimeZone::get("Europe/Moscow").unwrap()
    }

    /// 10:00 in Moscow on 15 April 2020, plus `minute`.
    fn at(minute: f64) -> Timestamp {
        let t0: Timestamp = "2020-04-15T07:00:00Z".parse().unwrap();
        t0 + SignedDuration::from_secs_f64(minute * 60.0)
    }

    fn fix(minute: f64, distance: f64, accuracy: f64) -> Fix {
        Fix::new(at(minute), displace(home(), distance, 0.7), accuracy).unwrap()
    }

    fn ask(fixes: &[Fix], answers: &[Fix], asked: &Asked, now: Timestamp) -> Option<Ask> {
        let g = GeofenceConfig::default();
        let flags = evaluate(&fence(), fixes, at(-60.0), now, &g);
        decide(
            &fence(),
            fixes,
            answers,
            &flags,
            asked,
            now,
            &moscow(),
            &CheckinConfig::default(),
            &g,
            &AskConfig::default(),
        )
    }

    /// At home, then one fix 2 km away (no fix on the way): the case the evaluator waits on.
    fn jump() -> Vec<Fix> {
        vec![
            fix(0.0, 10.0, 20.0),
            fix(2.0, 15.0, 20.0),
            fix(9.0, 2000.0, 15.0),
        ]
    }

    #[test]
    fn a_confident_fix_far_away_is_asked_about_at_once() {
        let a = ask(&jump(), &[], &Asked::default(), at(9.5)).expect("asked");
        assert_eq!(a.trigger.ts(), at(9.0));
        assert_eq!(a.challenge.issued_at, at(9.5));
        assert_eq!(a.challenge.deadline, at(29.5));
    }

    #[test]
    fn multipath_coarse_fixes_and_a_fix_near_home_are_not_asked_about() {
        let near = [fix(0.0, 10.0, 20.0), fix(5.0, 450.0, 8.0)];
        assert_eq!(ask(&near, &[], &Asked::default(), at(5.5)), None);
        let coarse = [fix(0.0, 10.0, 20.0), fix(5.0, 2500.0, 900.0)];
        assert_eq!(ask(&coarse, &[], &Asked::default(), at(5.5)), None);
    }

    #[test]
    fn stale_fixes_covered_runs_and_repeated_questions_are_not_asked() {
        // An hour-old fix from an offline backlog.
        assert_eq!(ask(&jump(), &[], &Asked::default(), at(70.0)), None);
        // Asked already since the trigger, or a check-in is open, or three asked today.
        let after = Asked {
            last_issued: Some(at(9.2)),
            ..Asked::default()
        };
        assert_eq!(ask(&jump(), &[], &after, at(9.5)), None);
        let before = Asked {
            last_issued: Some(at(1.0)),
            ..Asked::default()
        };
        assert!(ask(&jump(), &[], &before, at(9.5)).is_some());
        let open = Asked {
            open: true,
            ..Asked::default()
        };
        assert_eq!(ask(&jump(), &[], &open, at(9.5)), None);
        let busy = Asked {
            last_day: 3,
            ..Asked::default()
        };
        assert_eq!(ask(&jump(), &[], &busy, at(9.5)), None);
        // A departure already flagged (walking off: receding fixes) needs no question.
        let walked: Vec<Fix> = (0..8)
            .map(|i| fix(f64::from(i), 200.0 + 150.0 * f64::from(i), 10.0))
            .collect();
        let flags = evaluate(
            &fence(),
            &walked,
            at(-60.0),
            at(8.0),
            &GeofenceConfig::default(),
        );
        assert!(!flags.is_empty());
        assert_eq!(ask(&walked, &[], &Asked::default(), at(8.0)), None);
    }

    #[test]
    fn an_answer_from_home_ends_the_time_away() {
        let home_answer = [fix(12.0, 5.0, 15.0)];
        let mut fixes = jump();
        fixes.push(fix(15.0, 2000.0, 15.0));
        // The next fix far away after the answer is a new time away.
        let t = trigger(&fence(), &fixes, &home_answer, &GeofenceConfig::default());
        assert_eq!(t.map(|f| f.ts()), Some(at(15.0)));
    }

    #[test]
    fn nothing_is_asked_at_night_or_too_late_to_answer_in_the_hours() {
        // 20:54 in Moscow: the 20-minute deadline would fall after 21:00.
        let shift = SignedDuration::from_mins(10 * 60 + 45);
        let late: Vec<Fix> = jump()
            .into_iter()
            .map(|f| Fix::new(f.ts() + shift, f.point(), f.accuracy_m()).unwrap())
            .collect();
        assert_eq!(ask(&late, &[], &Asked::default(), at(9.5) + shift), None);
        let night: Vec<Fix> = jump()
            .into_iter()
            .map(|f| {
                Fix::new(
                    f.ts() + SignedDuration::from_hours(15),
                    f.point(),
                    f.accuracy_m(),
                )
                .unwrap()
            })
            .collect();
        let now = at(9.5) + SignedDuration::from_hours(15);
        assert_eq!(ask(&night, &[], &Asked::default(), now), None);
        let off = AskConfig {
            enabled: false,
            ..AskConfig::default()
        };
        let g = GeofenceConfig::default();
        let fixes = jump();
        let decided = decide(
            &fence(),
            &fixes,
            &[],
            &[],
            &Asked::default(),
            at(9.5),
            &moscow(),
            &CheckinConfig::default(),
            &g,
            &off,
        );
        assert_eq!(decided, None);
    }
}
