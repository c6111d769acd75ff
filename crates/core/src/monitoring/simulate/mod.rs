//! The monitoring simulator: synthetic patients with realistic phones, and a score of how
//! well the geofence evaluator tells those who left from those who did not.
//!
//! # Why a simulator
//!
//! The rules in [`super::geofence`] trade false flags (a bedridden patient told they left)
//! against missed or late ones (someone who went out, unflagged). The trade-off can only be
//! judged on traces with the failure modes real phones have, in proportions like the real
//! ones, with the truth known. The acceptance of issue 6 is stated on this simulator: on at
//! least 500 patients over 24 simulated hours, `left_home` on at most 0.1 % of compliant
//! patient-days, at least 99 % of real departures flagged, a median time to flag of at most
//! 15 minutes.
//!
//! # What is simulated ([`NoiseModel`])
//!
//! - **Reporting cadence** of 1–4 minutes per phone (5–10 for phones in battery saving),
//!   jittered, three times sparser at night, with the app killed a few times a day for 10–60
//!   minutes, and on one day in ten a phone that dies for 2–10 hours.
//! - **Uploads** 10–60 s after each fix while online; offline stretches of up to 8 hours on a
//!   third of days, and on 3 % of days a phone that uploads 12–48 hours late. The evaluator
//!   judges report times, so late uploads delay flags but do not change them.
//! - **Indoor noise**: Wi-Fi fixes with honest 12–40 m accuracy; indoor satellite fixes
//!   whose true error is up to twice what they report; **multipath** episodes (about seven a
//!   day, a minute long on average) in which the position jumps 50–400 m while the phone
//!   reports 5–30 m; **cell/Wi-Fi outliers** with 500–3000 m accuracy and positions that far
//!   off; **stale** repeats of the last fix.
//! - **Violators** (10 % by default) leave 1–3 times between 08:00 and 20:00, walking or
//!   driving to somewhere 300 m – 3 km away (log-uniform) and staying 20–120 minutes, indoors
//!   or out. A departure the phone could not see (dead or killed at the time) is counted
//!   separately from those it could.
//!
//! # How it is scored ([`replay`], [`score`])
//!
//! Each patient-day is replayed as the server would see it: after every upload the
//! evaluator runs on the reports in a window, with the upload's arrival as "now". A
//! departure's time to flag runs from the moment the patient stepped out to the first upload
//! after which a `left_home` flag overlapping the departure exists. A compliant patient-day
//! counts as falsely flagged if a `left_home` flag appeared at *any* evaluation, even one
//! later reports would have withdrawn — the SMS would already have gone.
//!
//! # Asking when in doubt
//!
//! With [`ReplayConfig::asking`] the replay also asks as the service does
//! ([`crate::monitoring::asking`]) and the patients answer as [`AnswerModel`] says: compliant
//! ones from home, half the violators asked while away from where they are, the others not
//! at all. Each answer is evaluated when it arrives. Besides the figures above it reports the
//! time until an officer sees a suspected departure — its flag, or a question about it left
//! unanswered past its deadline — and how many questions were asked, of compliant patients
//! too.
//!
//! Generation ([`generate_patient`]) and scoring are independent of each other and of the
//! evaluator, so `propusk simulate monitoring` can post the same reports to a running
//! server, and another generator's traces can be scored the same way.

mod answers;
mod generate;
mod score;

pub use answers::{answer, AnswerModel};
pub use generate::{
    displace, generate_patient, Departure, NoiseModel, PatientDay, Report, Scenario,
};
pub use score::{
    replay, score, seen_by_officer, AskedAbout, AskingModel, Outcome, QualityReport, ReplayConfig,
};

/// Generates and scores a whole scenario.
pub fn run(scenario: &Scenario, cfg: &ReplayConfig) -> QualityReport {
    let outcomes: Vec<Outcome> = (0..scenario.patients)
        .map(|i| replay(&generate_patient(scenario, i), scenario.day_start, cfg))
        .collect();
    score(&outcomes)
}

#[cfg(test)]
mod tests;
