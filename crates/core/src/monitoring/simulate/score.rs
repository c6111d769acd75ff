//! Scoring: run the evaluator on a patient-day the way the server would — once per arriving
//! upload, on a window of reports — and measure what it flagged against what really happened.
//! With [`ReplayConfig::asking`], the service also asks when in doubt, as the server does
//! after each upload, and the patients answer as [`super::answers`] models them: each answer
//! is evaluated when it arrives.

use std::fmt;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::answers::{answer, AnswerModel};
use super::generate::{PatientDay, Report};
use crate::monitoring::asking::{decide, AskConfig, Asked};
use crate::monitoring::checkins::CheckinConfig;
use crate::monitoring::geofence::{
    context_start, evaluate, evaluate_with_answers, Fix, GeofenceConfig,
};
use crate::monitoring::{is_news, Flag, FlagKind};

/// How the evaluator is run during replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    /// The evaluator's parameters.
    pub geofence: GeofenceConfig,
    /// Each evaluation looks at reports from this long before the oldest report in the new
    /// upload (plus the one report just before), as the server does. Default 1 hour: a
    /// qualifying run is at most a few fixes with gaps of at most half an hour, and the
    /// figures are the same as with a 3-hour window.
    pub lookback: SignedDuration,
    /// The day judged for `no_signal`: silences are measured up to this long after the day's
    /// start. Default 24 hours.
    pub day_length: SignedDuration,
    /// Asking when in doubt, and how the patients answer; none (the default): the service
    /// never asks, as before issue 11.
    pub asking: Option<AskingModel>,
}

/// The service asking when in doubt, in a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct AskingModel {
    /// When the service asks.
    pub ask: AskConfig,
    /// The check-in hours and time to answer.
    pub checkins: CheckinConfig,
    /// The clocks the hours are read on.
    pub time_zone: TimeZone,
    /// How the patients answer.
    pub answers: AnswerModel,
}

impl Default for AskingModel {
    /// The service's defaults, on Moscow's clocks (the simulated days are Moscow days).
    fn default() -> Self {
        Self {
            ask: AskConfig::default(),
            checkins: CheckinConfig::default(),
            time_zone: TimeZone::get("Europe/Moscow").unwrap_or(TimeZone::UTC),
            answers: AnswerModel::default(),
        }
    }
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            geofence: GeofenceConfig::default(),
            lookback: SignedDuration::from_hours(1),
            day_length: SignedDuration::from_hours(24),
            asking: None,
        }
    }
}

/// What happened to one patient-day under the evaluator.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The patient's index.
    pub index: usize,
    /// Whether they left home.
    pub violator: bool,
    /// For each real departure (in order): whether the phone could see it, and the time from
    /// its start to the first evaluation that flagged it, if one did.
    pub departures: Vec<(bool, Option<SignedDuration>)>,
    /// For each real departure: the time from its start until an officer saw a suspected
    /// departure — its flag, or a question about it left unanswered past its deadline.
    pub seen: Vec<Option<SignedDuration>>,
    /// Questions the service asked (immediate check-ins).
    pub questions: usize,
    /// …of which answered.
    pub answered: usize,
    /// Distinct `left_home` episodes flagged outside any real departure (false flags).
    pub false_flags: usize,
    /// Whether the phone died that day.
    pub phone_died: bool,
    /// `no_signal` flags over the whole day, judged once all reports are in.
    pub no_signal_flags: usize,
    /// Reports the phone made.
    pub reports: usize,
}

/// A question the service asked, as the replay knows it.
#[derive(Debug, Clone, Copy)]
struct Question {
    at: Timestamp,
    deadline: Timestamp,
    trigger: Timestamp,
    /// The answer's location (taken when the patient answered), if they did.
    answer: Option<Fix>,
}

/// One patient-day as the server sees it: the reports and answers known so far.
struct Replay<'a> {
    day: &'a PatientDay,
    start: Timestamp,
    cfg: &'a ReplayConfig,
    known: Vec<Fix>,
    answers: Vec<Fix>,
    questions: Vec<Question>,
    first_flag: Vec<Option<SignedDuration>>,
    false_episodes: Vec<(Timestamp, Timestamp)>,
}

impl Replay<'_> {
    /// Evaluates at `now` after reports (or an answer) from `oldest` on arrived, as the
    /// server does; with `ask`, also asks when in doubt. Notes what the flags show.
    fn evaluate(
        &mut self,
        now: Timestamp,
        oldest: Timestamp,
        newest_before: Option<Timestamp>,
        ask: bool,
    ) {
        let g = &self.cfg.geofence;
        let window_start = oldest - self.cfg.lookback;
        let from = self
            .known
            .partition_point(|f| f.ts() < window_start)
            .saturating_sub(1);
        let from = context_start(&self.day.fence, &self.known, from, g.max_context, g);
        let since = self.known.get(from).map_or(window_start, Fix::ts);
        let answers: Vec<Fix> = self
            .answers
            .iter()
            .filter(|a| a.ts() >= since.min(window_start))
            .copied()
            .collect();
        let window = &self.known[from..];
        let flags = evaluate_with_answers(&self.day.fence, window, &answers, self.start, now, g);
        if let Some(model) = self.cfg.asking.as_ref().filter(|_| ask) {
            let asked = Asked {
                open: self.questions.iter().any(|q| {
                    q.at <= now && now < q.deadline && q.answer.is_none_or(|a| a.ts() > now)
                }),
                last_issued: self.questions.last().map(|q| q.at),
                last_day: self
                    .questions
                    .iter()
                    .filter(|q| q.at > now - SignedDuration::from_hours(24))
                    .count() as u32,
            };
            let tz = &model.time_zone;
            let question = decide(
                &self.day.fence,
                window,
                &answers,
                &flags,
                &asked,
                now,
                tz,
                &model.checkins,
                g,
                &model.ask,
            );
            if let Some(q) = question {
                let c = q.challenge;
                let reply = answer(
                    &model.answers,
                    self.day,
                    self.questions.len(),
                    c.issued_at,
                    c.deadline,
                );
                self.questions.push(Question {
                    at: c.issued_at,
                    deadline: c.deadline,
                    trigger: q.trigger.ts(),
                    answer: reply,
                });
            }
        }
        // As the server does: only what these reports can have revealed is news.
        let news = flags
            .iter()
            .filter(|f| f.kind() == FlagKind::LeftHome && is_news(f, oldest, newest_before));
        for flag in news {
            let mut matched = false;
            for (d, first) in self.day.departures.iter().zip(self.first_flag.iter_mut()) {
                if flag.from <= d.end && d.start <= flag.to {
                    matched = true;
                    first.get_or_insert(now.duration_since(d.start));
                }
            }
            if !matched {
                note_episode(&mut self.false_episodes, flag);
            }
        }
    }

    /// Answers that arrived by `now` (each when it was taken), evaluated in order.
    fn answers_until(&mut self, now: Timestamp) {
        loop {
            let due = self
                .questions
                .iter()
                .filter_map(|q| q.answer)
                .filter(|a| a.ts() <= now && !self.answers.contains(a))
                .min_by_key(|a| a.ts());
            let Some(a) = due else { break };
            let newest_before = self.known.last().map(|f| f.ts());
            self.answers.push(a);
            self.evaluate(a.ts(), a.ts(), newest_before, false);
        }
    }
}

/// Replays one patient-day: evaluates after every upload, as reports arrive (and, when the
/// service asks, after every answer).
pub fn replay(day: &PatientDay, monitoring_start: Timestamp, cfg: &ReplayConfig) -> Outcome {
    let mut r = Replay {
        day,
        start: monitoring_start,
        cfg,
        known: Vec::with_capacity(day.reports.len()),
        answers: Vec::new(),
        questions: Vec::new(),
        first_flag: vec![None; day.departures.len()],
        false_episodes: Vec::new(),
    };

    let mut batches = day.reports.chunk_by(|a, b| a.arrives_at == b.arrives_at);
    for batch in &mut batches {
        let now = batch[0].arrives_at;
        r.answers_until(now);
        let newest_before = r.known.last().map(|f| f.ts());
        for report in batch {
            let at = r.known.partition_point(|f| f.ts() <= report.fix.ts());
            r.known.insert(at, report.fix);
        }
        let oldest = batch
            .iter()
            .map(|r: &Report| r.fix.ts())
            .min()
            .expect("non-empty");
        r.evaluate(now, oldest, newest_before, true);
    }
    r.answers_until(Timestamp::MAX);

    let day_end = monitoring_start + cfg.day_length;
    let g = &cfg.geofence;
    let no_signal_flags = evaluate(&day.fence, &r.known, monitoring_start, day_end, g)
        .iter()
        .filter(|f| f.kind() == FlagKind::NoSignal && f.from < day_end)
        .count();
    let seen = seen_by_officer(day, &r.first_flag, &r.questions);

    Outcome {
        index: day.index,
        violator: day.violator,
        departures: day
            .departures
            .iter()
            .zip(&r.first_flag)
            .map(|(d, f)| (d.observable, *f))
            .collect(),
        seen,
        questions: r.questions.len(),
        answered: r.questions.iter().filter(|q| q.answer.is_some()).count(),
        false_flags: r.false_episodes.len(),
        phone_died: day.phone_died,
        no_signal_flags,
        reports: day.reports.len(),
    }
}

/// For each departure, when an officer first saw it suspected: its first flag, or the
/// deadline of a question about it (raised during it) that went unanswered.
pub fn seen_by_officer(
    day: &PatientDay,
    first_flag: &[Option<SignedDuration>],
    questions: &[impl AskedAbout],
) -> Vec<Option<SignedDuration>> {
    day.departures
        .iter()
        .zip(first_flag)
        .map(|(d, flagged)| {
            let unanswered = questions
                .iter()
                .filter(|q| !q.answered() && d.start <= q.trigger() && q.trigger() <= d.end)
                .map(|q| q.deadline().duration_since(d.start))
                .min();
            match (*flagged, unanswered) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .collect()
}

/// A question as the officer-side scoring needs it.
pub trait AskedAbout {
    /// When the fix that raised it was taken.
    fn trigger(&self) -> Timestamp;
    /// Its deadline.
    fn deadline(&self) -> Timestamp;
    /// Whether the patient answered.
    fn answered(&self) -> bool;
}

impl AskedAbout for Question {
    fn trigger(&self) -> Timestamp {
        self.trigger
    }
    fn deadline(&self) -> Timestamp {
        self.deadline
    }
    fn answered(&self) -> bool {
        self.answer.is_some()
    }
}

/// Counts a false flag once however many evaluations repeat it.
fn note_episode(episodes: &mut Vec<(Timestamp, Timestamp)>, flag: &Flag) {
    match episodes
        .iter_mut()
        .find(|(from, to)| *from <= flag.to && flag.from <= *to)
    {
        Some(e) => *e = (e.0.min(flag.from), e.1.max(flag.to)),
        None => episodes.push((flag.from, flag.to)),
    }
}

/// Detection quality over a population.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// Patient-days simulated.
    pub patient_days: usize,
    /// …of patients who stayed home.
    pub compliant_days: usize,
    /// …of which had at least one `left_home` flag (all false).
    pub compliant_days_flagged: usize,
    /// `left_home` episodes flagged on violators outside their real departures.
    pub violator_false_flags: usize,
    /// Real departures.
    pub departures: usize,
    /// …that the phone could see (not dead or killed at the time).
    pub departures_observable: usize,
    /// …of those, flagged.
    pub departures_flagged: usize,
    /// Departures the phone could not fully see, flagged anyway.
    pub unobservable_flagged: usize,
    /// Median time from a flagged observable departure's start to its first flag.
    pub median_time_to_flag: Option<SignedDuration>,
    /// 90th percentile of the same.
    pub p90_time_to_flag: Option<SignedDuration>,
    /// Patient-days on which the phone died.
    pub dead_phone_days: usize,
    /// …of which got a `no_signal` flag.
    pub dead_phone_days_with_no_signal: usize,
    /// Patient-days with any `no_signal` flag.
    pub no_signal_days: usize,
    /// Location reports in all.
    pub reports: usize,
    /// Median time from an observable departure's start until an officer saw it suspected
    /// (its flag, or a question about it left unanswered), over those seen.
    pub median_time_to_officer: Option<SignedDuration>,
    /// 90th percentile of the same.
    pub p90_time_to_officer: Option<SignedDuration>,
    /// Questions asked in all.
    pub questions: usize,
    /// …answered.
    pub questions_answered: usize,
    /// …on compliant patient-days.
    pub questions_to_compliant: usize,
    /// Compliant patient-days with at least one question.
    pub compliant_days_asked: usize,
}

impl QualityReport {
    /// Share of compliant patient-days with a `left_home` flag.
    pub fn false_flag_rate(&self) -> f64 {
        ratio(self.compliant_days_flagged, self.compliant_days)
    }

    /// Share of observable real departures flagged.
    pub fn detection_rate(&self) -> f64 {
        ratio(self.departures_flagged, self.departures_observable)
    }

    /// The acceptance of issue 6: false flags on at most 0.1 % of compliant patient-days, at
    /// least 99 % of departures flagged, a median time to flag of at most 15 minutes.
    pub fn meets_acceptance(&self) -> bool {
        self.false_flag_rate() <= 0.001
            && self.detection_rate() >= 0.99
            && self
                .median_time_to_flag
                .is_some_and(|m| m <= SignedDuration::from_mins(15))
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

fn percentile(sorted: &[SignedDuration], p: f64) -> Option<SignedDuration> {
    let last = sorted.len().checked_sub(1)?;
    Some(sorted[((last as f64) * p).round() as usize])
}

/// Sums outcomes into the figures the acceptance is stated in.
pub fn score(outcomes: &[Outcome]) -> QualityReport {
    let mut times: Vec<SignedDuration> = Vec::new();
    let mut r = QualityReport {
        patient_days: outcomes.len(),
        compliant_days: 0,
        compliant_days_flagged: 0,
        violator_false_flags: 0,
        departures: 0,
        departures_observable: 0,
        departures_flagged: 0,
        unobservable_flagged: 0,
        median_time_to_flag: None,
        p90_time_to_flag: None,
        dead_phone_days: 0,
        dead_phone_days_with_no_signal: 0,
        no_signal_days: 0,
        reports: 0,
        median_time_to_officer: None,
        p90_time_to_officer: None,
        questions: 0,
        questions_answered: 0,
        questions_to_compliant: 0,
        compliant_days_asked: 0,
    };
    let mut seen_times: Vec<SignedDuration> = Vec::new();
    for o in outcomes {
        r.reports += o.reports;
        r.questions += o.questions;
        r.questions_answered += o.answered;
        if o.violator {
            r.violator_false_flags += o.false_flags;
        } else {
            r.compliant_days += 1;
            r.compliant_days_flagged += usize::from(o.false_flags > 0);
            r.questions_to_compliant += o.questions;
            r.compliant_days_asked += usize::from(o.questions > 0);
        }
        for (&(observable, _), seen) in o.departures.iter().zip(&o.seen) {
            if let (true, Some(t)) = (observable, seen) {
                seen_times.push(*t);
            }
        }
        for &(observable, flagged) in &o.departures {
            r.departures += 1;
            match (observable, flagged) {
                (true, Some(t)) => {
                    r.departures_observable += 1;
                    r.departures_flagged += 1;
                    times.push(t);
                }
                (true, None) => r.departures_observable += 1,
                (false, Some(_)) => r.unobservable_flagged += 1,
                (false, None) => {}
            }
        }
        r.dead_phone_days += usize::from(o.phone_died);
        r.dead_phone_days_with_no_signal += usize::from(o.phone_died && o.no_signal_flags > 0);
        r.no_signal_days += usize::from(o.no_signal_flags > 0);
    }
    times.sort();
    r.median_time_to_flag = percentile(&times, 0.5);
    r.p90_time_to_flag = percentile(&times, 0.9);
    seen_times.sort();
    r.median_time_to_officer = percentile(&seen_times, 0.5);
    r.p90_time_to_officer = percentile(&seen_times, 0.9);
    r
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mins = |d: Option<SignedDuration>| {
            d.map_or("–".to_owned(), |d| {
                format!("{:.1} min", d.as_secs_f64() / 60.0)
            })
        };
        writeln!(
            f,
            "patient-days: {} ({} compliant), location reports: {}",
            self.patient_days, self.compliant_days, self.reports
        )?;
        writeln!(
            f,
            "compliant patient-days with left_home: {} ({:.3} %; acceptance ≤ 0.1 %)",
            self.compliant_days_flagged,
            100.0 * self.false_flag_rate()
        )?;
        writeln!(
            f,
            "real departures flagged: {} of {} observable ({:.2} %; acceptance ≥ 99 %); {} of {} unobservable flagged anyway",
            self.departures_flagged,
            self.departures_observable,
            100.0 * self.detection_rate(),
            self.unobservable_flagged,
            self.departures - self.departures_observable
        )?;
        writeln!(
            f,
            "time to flag: median {} (acceptance ≤ 15 min), 90th percentile {}",
            mins(self.median_time_to_flag),
            mins(self.p90_time_to_flag)
        )?;
        writeln!(
            f,
            "false left_home episodes on violators outside their departures: {}",
            self.violator_false_flags
        )?;
        writeln!(
            f,
            "phones dead for hours: {} days, {} of them with no_signal; days with no_signal: {}",
            self.dead_phone_days, self.dead_phone_days_with_no_signal, self.no_signal_days
        )?;
        writeln!(
            f,
            "time until an officer sees a suspected departure (its flag, or a question left unanswered): median {}, 90th percentile {}",
            mins(self.median_time_to_officer),
            mins(self.p90_time_to_officer)
        )?;
        write!(
            f,
            "questions asked: {} ({} answered); to compliant patients: {} on {} of {} compliant patient-days",
            self.questions,
            self.questions_answered,
            self.questions_to_compliant,
            self.compliant_days_asked,
            self.compliant_days
        )
    }
}
