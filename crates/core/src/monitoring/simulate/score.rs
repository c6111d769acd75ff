//! Scoring: run the evaluator on a patient-day the way the server would — once per arriving
//! upload, on a window of reports — and measure what it flagged against what really happened.

use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::generate::{PatientDay, Report};
use crate::monitoring::geofence::{context_start, evaluate, Fix, GeofenceConfig};
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
}

impl Default for ReplayConfig {
    fn default() -> Self {
        Self {
            geofence: GeofenceConfig::default(),
            lookback: SignedDuration::from_hours(1),
            day_length: SignedDuration::from_hours(24),
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
    /// Distinct `left_home` episodes flagged outside any real departure (false flags).
    pub false_flags: usize,
    /// Whether the phone died that day.
    pub phone_died: bool,
    /// `no_signal` flags over the whole day, judged once all reports are in.
    pub no_signal_flags: usize,
    /// Reports the phone made.
    pub reports: usize,
}

/// Replays one patient-day: evaluates after every upload, as reports arrive.
pub fn replay(day: &PatientDay, monitoring_start: Timestamp, cfg: &ReplayConfig) -> Outcome {
    let mut known: Vec<Fix> = Vec::with_capacity(day.reports.len());
    let mut first_flag: Vec<Option<SignedDuration>> = vec![None; day.departures.len()];
    let mut false_episodes: Vec<(Timestamp, Timestamp)> = Vec::new();

    let mut batches = day.reports.chunk_by(|a, b| a.arrives_at == b.arrives_at);
    for batch in &mut batches {
        let now = batch[0].arrives_at;
        let newest_before = known.last().map(|f| f.ts());
        for r in batch {
            let at = known.partition_point(|f| f.ts() <= r.fix.ts());
            known.insert(at, r.fix);
        }
        let oldest = batch
            .iter()
            .map(|r: &Report| r.fix.ts())
            .min()
            .expect("non-empty");
        let window_start = oldest - cfg.lookback;
        let from = known
            .partition_point(|f| f.ts() < window_start)
            .saturating_sub(1);
        let g = &cfg.geofence;
        let from = context_start(&day.fence, &known, from, g.max_context, g);
        let flags = evaluate(
            &day.fence,
            &known[from..],
            monitoring_start,
            now,
            &cfg.geofence,
        );
        // As the server does: only what these reports can have revealed is news.
        let news = flags
            .iter()
            .filter(|f| f.kind() == FlagKind::LeftHome && is_news(f, oldest, newest_before));
        for flag in news {
            let mut matched = false;
            for (d, first) in day.departures.iter().zip(first_flag.iter_mut()) {
                if flag.from <= d.end && d.start <= flag.to {
                    matched = true;
                    first.get_or_insert(now.duration_since(d.start));
                }
            }
            if !matched {
                note_episode(&mut false_episodes, flag);
            }
        }
    }

    let day_end = monitoring_start + cfg.day_length;
    let no_signal_flags = evaluate(&day.fence, &known, monitoring_start, day_end, &cfg.geofence)
        .iter()
        .filter(|f| f.kind() == FlagKind::NoSignal && f.from < day_end)
        .count();

    Outcome {
        index: day.index,
        violator: day.violator,
        departures: day
            .departures
            .iter()
            .zip(first_flag)
            .map(|(d, f)| (d.observable, f))
            .collect(),
        false_flags: false_episodes.len(),
        phone_died: day.phone_died,
        no_signal_flags,
        reports: day.reports.len(),
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
    };
    for o in outcomes {
        r.reports += o.reports;
        if o.violator {
            r.violator_false_flags += o.false_flags;
        } else {
            r.compliant_days += 1;
            r.compliant_days_flagged += usize::from(o.false_flags > 0);
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
        write!(
            f,
            "phones dead for hours: {} days, {} of them with no_signal; days with no_signal: {}",
            self.dead_phone_days, self.dead_phone_days_with_no_signal, self.no_signal_days
        )
    }
}
