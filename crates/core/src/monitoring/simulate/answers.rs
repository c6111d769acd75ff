//! How simulated patients answer the questions the service asks when in doubt
//! ([`crate::monitoring::asking`]): compliant ones answer from home, some violators answer
//! from where they are, the others ignore it.
//!
//! The answer's location is what the phone itself would report then — the first report it
//! makes at or after the moment of answering (within [`AnswerModel::fix_within`]), stamped
//! at that moment — so that an answer carries the same noise as the phone's reports (a
//! multipath jump, a moved access point) and needs no model of its own; a phone that reports
//! nothing then (dead, the app killed) cannot answer. Whether and when a patient answers is
//! drawn from a stream of the scenario's seed, the patient and the question's number, so the
//! in-process replay and the run through the API make the same choices.

use jiff::{SignedDuration, Timestamp};

use super::generate::PatientDay;
use crate::monitoring::geofence::Fix;
use crate::monitoring::rng::Rng;

/// How patients answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerModel {
    /// Seeds the choices (with the patient's index and the question's number).
    pub seed: u64,
    /// Share of violators who, asked while away, answer from where they are; the rest
    /// ignore the question. Default 0.5.
    pub away_answer_share: f64,
    /// Minutes from the question to an answer, uniform. Default 1–8 (within the 20 allowed).
    pub delay_mins: (f64, f64),
    /// An answer's location is the phone's first report within this long of answering.
    /// Default 3 minutes.
    pub fix_within: SignedDuration,
}

impl Default for AnswerModel {
    fn default() -> Self {
        Self {
            seed: 2020,
            away_answer_share: 0.5,
            delay_mins: (1.0, 8.0),
            fix_within: SignedDuration::from_mins(3),
        }
    }
}

/// The `number`-th question asked of patient `day` (at `asked_at`, to answer before
/// `deadline`): the answer's location, taken when the patient answers, or none when they do
/// not (or their phone cannot).
pub fn answer(
    model: &AnswerModel,
    day: &PatientDay,
    number: usize,
    asked_at: Timestamp,
    deadline: Timestamp,
) -> Option<Fix> {
    let mut rng = Rng::stream(
        model.seed ^ (day.index as u64).wrapping_mul(0x9E37),
        number as u64,
    );
    let delay = rng.uniform(model.delay_mins.0, model.delay_mins.1);
    let at = asked_at + SignedDuration::from_secs_f64(delay * 60.0);
    let away = day.departures.iter().any(|d| d.start <= at && at < d.end);
    let answers = !away || rng.chance(model.away_answer_share);
    if !answers || at >= deadline {
        return None;
    }
    let until = at + model.fix_within;
    let report = day
        .reports
        .iter()
        .map(|r| r.fix)
        .filter(|f| f.ts() >= at && f.ts() <= until)
        .min_by_key(|f| f.ts())?;
    let at = Timestamp::from_second(at.as_second()).ok()?;
    Fix::new(at, report.point(), report.accuracy_m()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::simulate::{generate_patient, Scenario};

    #[test]
    fn compliant_patients_answer_and_the_choice_is_reproducible() {
        let scenario = Scenario {
            violator_share: 0.0,
            ..Scenario::default()
        };
        let model = AnswerModel::default();
        let day = generate_patient(&scenario, 3);
        let noon = scenario.day_start + SignedDuration::from_hours(12);
        let deadline = noon + SignedDuration::from_mins(20);
        let first = answer(&model, &day, 0, noon, deadline);
        assert_eq!(first, answer(&model, &day, 0, noon, deadline));
        let fix = first.expect("a compliant patient whose phone reports answers");
        assert!(fix.ts() > noon && fix.ts() < deadline);
        // A deadline that has passed gets no answer.
        assert_eq!(answer(&model, &day, 0, noon, noon), None);
    }

    #[test]
    fn some_violators_away_answer_and_some_do_not() {
        let scenario = Scenario {
            violator_share: 1.0,
            ..Scenario::default()
        };
        let model = AnswerModel::default();
        let (mut answered, mut ignored) = (0, 0);
        for i in 0..200 {
            let day = generate_patient(&scenario, i);
            let Some(d) = day.departures.first() else {
                continue;
            };
            let asked = d.start + SignedDuration::from_mins(5);
            let deadline = asked + SignedDuration::from_mins(20);
            if d.end - SignedDuration::from_mins(10) < asked {
                continue;
            }
            match answer(&model, &day, 0, asked, deadline) {
                Some(_) => answered += 1,
                None => ignored += 1,
            }
        }
        assert!(answered > 40 && ignored > 40, "{answered} {ignored}");
    }
}
