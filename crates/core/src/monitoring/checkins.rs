//! Check-in challenges: when to ask a patient for a photo and a location, and what an
//! unanswered challenge means.
//!
//! # The rules, and why
//!
//! Moscow's 2020 app sent selfie requests at any hour and fined people who slept through
//! them. Poland's quarantine app gave 20 minutes to answer. Here:
//!
//! - **Only in daytime, in the patient's time zone.** [`DaytimeHours`] cannot be built to
//!   reach before [`EARLIEST`] (07:00) or after [`LATEST`] (22:00) local time, so no
//!   configuration can schedule a challenge at night. The hours are read on the clocks of the
//!   case's time zone, whatever zone the server runs in.
//! - **The deadline is inside the hours too.** A challenge issued at 20:55 with a 20-minute
//!   deadline would make someone answer at 21:15; such a challenge is never scheduled. The
//!   schedule is built on the real timeline of the day, so a daylight-saving change (23-,
//!   23½-, 24½- or 25-hour days; Lord Howe Island moves its clocks by 30 minutes) can neither
//!   push a challenge out of the hours nor shorten or lengthen its deadline.
//! - **A limited number, spaced apart.** At most [`CheckinConfig::per_day`] challenges a day,
//!   each deadline at least [`CheckinConfig::min_gap`] before the next challenge, so a patient
//!   is never asked twice in a row.
//! - **Unpredictable but reproducible.** Times are drawn uniformly from the allowed minutes
//!   by a generator seeded per case-day ([`day_seed`]); the server keeps the case seed
//!   secret and can show later exactly why a challenge came when it did. (Changing this
//!   algorithm changes the schedules a seed gives, so the server stores the schedule it
//!   issued, not just the seed.)
//! - **Missing a challenge is a flag, not a fine.** [`judge`] turns an unanswered challenge
//!   into a `missed_checkin` flag whose evidence includes when the phone last reported, so
//!   the officer sees at once whether the phone was silent (flat battery) at the time.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::rng::Rng;
use super::{Evidence, Flag};

/// Why a check-in was asked. `scheduled`: drawn at random in the day's hours; `immediate`:
/// asked at once when a confident fix first placed the phone far from home (never a flag
/// by itself; an answer from home ends the suspicion, one from far away confirms the
/// departure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CheckinKind))]
pub enum ChallengeKind {
    /// Drawn at random from the day's hours.
    Scheduled,
    /// Asked at once, when a confident fix first placed the phone far from home.
    Immediate,
}

crate::wire_names!(ChallengeKind {
    Scheduled => "scheduled",
    Immediate => "immediate",
});

/// The earliest local time daytime hours may start.
pub const EARLIEST: Time = Time::constant(7, 0, 0, 0);
/// The latest local time daytime hours may end (a deadline may fall exactly on it).
pub const LATEST: Time = Time::constant(22, 0, 0, 0);

/// Local hours in which challenges may be issued and answered; always within
/// [`EARLIEST`]–[`LATEST`], so never at night.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaytimeHours {
    from: Time,
    to: Time,
}

/// What was wrong with check-in settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckinConfigError {
    /// Hours outside the daytime bounds, or not increasing.
    #[error("check-in hours {from}–{to} are not valid; expected daytime hours within 07:00–22:00, the start before the end")]
    Hours {
        /// Requested start.
        from: Time,
        /// Requested end.
        to: Time,
    },
    /// Too many challenges a day.
    #[error("{0} check-ins a day is too many; expected at most {max}", max = CheckinConfig::MAX_PER_DAY)]
    PerDay(u8),
    /// A deadline out of range.
    #[error("a deadline of {0:#} is out of range; expected whole minutes from 5 to 60")]
    Deadline(SignedDuration),
    /// A gap out of range.
    #[error("a gap of {0:#} between check-ins is out of range; expected whole minutes from 0 to 4 hours")]
    Gap(SignedDuration),
}

impl DaytimeHours {
    /// Hours from `from` to `to` (inclusive: a deadline may end exactly at `to`).
    pub fn new(from: Time, to: Time) -> Result<Self, CheckinConfigError> {
        if EARLIEST <= from && from < to && to <= LATEST {
            Ok(Self { from, to })
        } else {
            Err(CheckinConfigError::Hours { from, to })
        }
    }

    /// Start.
    pub fn from(&self) -> Time {
        self.from
    }

    /// End.
    pub fn to(&self) -> Time {
        self.to
    }
}

/// How challenges are scheduled for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinConfig {
    hours: DaytimeHours,
    per_day: u8,
    deadline: SignedDuration,
    min_gap: SignedDuration,
}

impl Default for CheckinConfig {
    /// 09:00–21:00, three a day, 20 minutes to answer, at least an hour between one deadline
    /// and the next challenge.
    fn default() -> Self {
        Self {
            hours: DaytimeHours {
                from: Time::constant(9, 0, 0, 0),
                to: Time::constant(21, 0, 0, 0),
            },
            per_day: 3,
            deadline: SignedDuration::from_mins(20),
            min_gap: SignedDuration::from_mins(60),
        }
    }
}

impl CheckinConfig {
    /// The most challenges a day: more is harassment, not monitoring.
    pub const MAX_PER_DAY: u8 = 6;

    /// Settings, checked: at most [`Self::MAX_PER_DAY`] a day, a deadline of 5–60 whole
    /// minutes, a gap of 0–240 whole minutes.
    pub fn new(
        hours: DaytimeHours,
        per_day: u8,
        deadline: SignedDuration,
        min_gap: SignedDuration,
    ) -> Result<Self, CheckinConfigError> {
        let whole_minutes = |d: SignedDuration, lo: i64, hi: i64| {
            d.as_secs() % 60 == 0 && d.subsec_nanos() == 0 && (lo..=hi).contains(&d.as_mins())
        };
        if per_day > Self::MAX_PER_DAY {
            return Err(CheckinConfigError::PerDay(per_day));
        }
        if !whole_minutes(deadline, 5, 60) {
            return Err(CheckinConfigError::Deadline(deadline));
        }
        if !whole_minutes(min_gap, 0, 240) {
            return Err(CheckinConfigError::Gap(min_gap));
        }
        Ok(Self {
            hours,
            per_day,
            deadline,
            min_gap,
        })
    }

    /// The hours.
    pub fn hours(&self) -> DaytimeHours {
        self.hours
    }

    /// At most this many challenges a day.
    pub fn per_day(&self) -> u8 {
        self.per_day
    }

    /// Time to answer.
    pub fn deadline(&self) -> SignedDuration {
        self.deadline
    }

    /// Least time from one deadline to the next challenge.
    pub fn min_gap(&self) -> SignedDuration {
        self.min_gap
    }
}

/// A check-in request: answer with a photo and a location from `issued_at` until `deadline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Challenge {
    /// When the challenge is shown to the patient.
    pub issued_at: Timestamp,
    /// The end of the time to answer (exclusive).
    pub deadline: Timestamp,
}

/// The seed for one case-day, from the case's secret seed and the local date, so the server
/// stores one seed per case and every day's schedule is reproducible from it.
pub fn day_seed(case_seed: u64, date: Date) -> u64 {
    let day =
        i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day());
    Rng::stream(case_seed, day as u64).next_u64()
}

/// Whether `t` lies on `date` within the hours, on the clocks of `tz`.
pub fn within_hours(tz: &TimeZone, date: Date, hours: DaytimeHours, t: Timestamp) -> bool {
    local_within(tz, date, hours.from, hours.to, t)
}

fn local_within(tz: &TimeZone, date: Date, from: Time, to: Time, t: Timestamp) -> bool {
    let local = tz.to_datetime(t);
    local.date() == date && from <= local.time() && local.time() <= to
}

/// The challenges for one local day of a case: at most `per_day`, each with its whole time
/// to answer inside the daytime hours of `date` in `tz` and inside `active` (the case's
/// monitoring period, `[start, end]`), sorted by time. Deterministic in `seed`
/// (see [`day_seed`]).
pub fn schedule_day(
    tz: &TimeZone,
    date: Date,
    active: (Timestamp, Timestamp),
    seed: u64,
    cfg: &CheckinConfig,
) -> Vec<Challenge> {
    schedule_in(tz, date, (cfg.hours.from, cfg.hours.to), active, seed, cfg)
}

/// The scheduler for any local hours (the tests use night hours to put clock changes inside
/// the window). Works on the real minutes of the day: minute `m` is
/// `start of day + m minutes`, so a day may have 1380 or 1500 of them, and whether a minute
/// is allowed is read from the local clock at that instant.
pub(crate) fn schedule_in(
    tz: &TimeZone,
    date: Date,
    (from, to): (Time, Time),
    (active_start, active_end): (Timestamp, Timestamp),
    seed: u64,
    cfg: &CheckinConfig,
) -> Vec<Challenge> {
    let start_of = |d: Option<Date>| {
        d.and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp())
    };
    let (Some(day_start), Some(day_end)) = (start_of(Some(date)), start_of(date.tomorrow().ok()))
    else {
        return Vec::new();
    };
    let minute = |m: usize| day_start + SignedDuration::from_mins(m as i64);
    let minutes = day_end.duration_since(day_start).as_mins().max(0) as usize;
    let allowed: Vec<bool> = (0..=minutes)
        .map(|m| {
            let t = minute(m);
            active_start <= t && t <= active_end && local_within(tz, date, from, to, t)
        })
        .collect();
    // Clock changes fall on whole minutes, so within the minute from m to m+1 local time runs
    // on from its reading at m and jumps, if at all, only at m+1. That minute is inside the
    // hours when m is and its clock reads before `to` (at `to` itself, the next instant is
    // already past it — and a clock set back at midnight would bring it into the hours
    // again at m+1, with the minute in between outside).
    let within_minute: Vec<bool> = (0..=minutes)
        .map(|m| allowed[m] && tz.to_datetime(minute(m)).time() < to)
        .collect();
    // A challenge starting at minute m needs the minutes m..m+D inside and the instant m+D
    // (its deadline) allowed.
    let d = (cfg.deadline.as_mins() as usize).max(1);
    let mut run = 0;
    let runs: Vec<usize> = within_minute
        .iter()
        .map(|&ok| {
            run = if ok { run + 1 } else { 0 };
            run // minutes inside in a row, ending with this one
        })
        .collect();
    let mut candidates: Vec<usize> = (0..allowed.len().saturating_sub(d))
        .filter(|&m| runs[m + d - 1] >= d && allowed[m + d])
        .collect();

    // Draw candidates in random order, keeping each that is far enough from those kept.
    let span = d + cfg.min_gap.as_mins() as usize;
    let mut rng = Rng::new(seed);
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < usize::from(cfg.per_day) && !candidates.is_empty() {
        let m = candidates.swap_remove(rng.below(candidates.len() as u64) as usize);
        if chosen.iter().all(|&c| c.abs_diff(m) >= span) {
            chosen.push(m);
        }
    }
    chosen.sort_unstable();
    chosen
        .into_iter()
        .map(|m| Challenge {
            issued_at: minute(m),
            deadline: minute(m + d),
        })
        .collect()
}

/// What became of a challenge.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinOutcome {
    /// Not answered yet, and there is still time.
    Pending,
    /// Answered in time (the photo still goes to an officer to compare).
    Answered,
    /// Not answered in time: a `missed_checkin` flag for an officer to look at (boxed: a
    /// flag's evidence is large, and most outcomes carry none).
    Missed(Box<Flag>),
}

/// The evidence for a `missed_checkin` flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinEvidence {
    /// When the challenge was shown.
    pub issued_at: Timestamp,
    /// When the time to answer ended.
    pub deadline: Timestamp,
    /// A late answer, if one came.
    pub answered_at: Option<Timestamp>,
    /// The phone's last location report before the deadline: hours before means the phone
    /// was silent (battery, network), which the officer must weigh.
    pub last_report_before: Option<Timestamp>,
}

/// Judges a challenge at `now`, given when the patient's answer arrived (if it did) and
/// when the phone last reported a location before the deadline.
pub fn judge(
    challenge: &Challenge,
    answered_at: Option<Timestamp>,
    last_report_before: Option<Timestamp>,
    now: Timestamp,
) -> CheckinOutcome {
    let answered_at = answered_at.filter(|&a| a >= challenge.issued_at);
    match answered_at {
        Some(a) if a < challenge.deadline => CheckinOutcome::Answered,
        _ if now < challenge.deadline => CheckinOutcome::Pending,
        _ => CheckinOutcome::Missed(Box::new(Flag {
            from: challenge.issued_at,
            to: challenge.deadline,
            ongoing: false,
            evidence: Evidence::MissedCheckin(CheckinEvidence {
                issued_at: challenge.issued_at,
                deadline: challenge.deadline,
                answered_at,
                last_report_before: last_report_before.filter(|&t| t < challenge.deadline),
            }),
        })),
    }
}

#[cfg(test)]
mod tests;
