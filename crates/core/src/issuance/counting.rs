//! Counting passes against quotas and caps, and finding when the next one fits.
//!
//! A pass is counted in a window by its start (`valid_from`). For a calendar window (day,
//! week, month in the regime's time zone) the new pass fits when fewer than `count` counted
//! passes start in the same period. For a rolling window of length `L` it fits when no
//! half-open span `[p, p + L)` containing its start already holds `count` starts — so a pass
//! starting exactly `L` after an earlier one no longer shares a window with it. Passes booked
//! for later count too: a request cannot squeeze in before them and break a window they are in.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::policy::{AllowedHours, Quota, Window};

/// Which rule a limit comes from (it decides the refusal's wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitKind {
    /// The purpose's own quota.
    Purpose,
    /// The regime's `[cap]` across purposes.
    Cap,
    /// The regime's ceiling of passes a day.
    Ceiling,
}

/// A limit and the starts of the passes that count against it.
pub(crate) struct Limit {
    pub(crate) kind: LimitKind,
    pub(crate) quota: Quota,
    pub(crate) starts: Vec<Timestamp>,
}

impl Limit {
    /// Whether one more pass starting at `s` stays within the limit.
    pub(crate) fn fits(&self, tz: &TimeZone, s: Timestamp) -> bool {
        self.used(tz, s) < self.quota.count() as usize
    }

    /// How many counted passes already use the limit for a pass starting at `s`: for a
    /// calendar window those starting in `s`'s period; for a rolling one the fullest span
    /// `[p, p + L)` that holds `s`. One more pass at `s` fits exactly when this is below
    /// the quota's count.
    pub(crate) fn used(&self, tz: &TimeZone, s: Timestamp) -> usize {
        match self.quota.window() {
            Window::Rolling(length) => {
                let in_span = |p: Timestamp| {
                    let end = p.checked_add(length).unwrap_or(Timestamp::MAX);
                    self.starts.iter().filter(|q| p <= **q && **q < end).count()
                };
                let earliest = s.checked_sub(length).unwrap_or(Timestamp::MIN);
                std::iter::once(s)
                    .chain(
                        self.starts
                            .iter()
                            .copied()
                            .filter(|p| earliest < *p && *p <= s),
                    )
                    .map(in_span)
                    .max()
                    .unwrap_or(0)
            }
            calendar => match calendar.calendar_bounds(tz, s) {
                Some((start, end)) => self
                    .starts
                    .iter()
                    .filter(|q| start <= **q && **q < end)
                    .count(),
                None => 0,
            },
        }
    }

    /// Moments after `s` at which the limit may start to fit: where a counted pass leaves a
    /// rolling window, or where a new calendar period begins.
    fn candidates(&self, tz: &TimeZone, s: Timestamp, out: &mut Vec<Timestamp>) {
        match self.quota.window() {
            Window::Rolling(length) => out.extend(
                self.starts
                    .iter()
                    .filter_map(|q| q.checked_add(length).ok())
                    .filter(|c| *c > s),
            ),
            calendar => out.extend(
                std::iter::once(s)
                    .chain(self.starts.iter().copied().filter(|q| *q >= s))
                    .filter_map(|t| calendar.calendar_bounds(tz, t).map(|(_, end)| end))
                    .filter(|c| *c > s),
            ),
        }
    }
}

/// The earliest moment at or after `s` when one more pass fits every limit.
///
/// Where the limits fit is a union of half-open intervals whose left ends are among the
/// candidates, so checking the candidates in order finds the earliest.
fn earliest_fitting(limits: &[Limit], tz: &TimeZone, s: Timestamp) -> Timestamp {
    if limits.iter().all(|l| l.fits(tz, s)) {
        return s;
    }
    let mut candidates = Vec::new();
    for limit in limits {
        limit.candidates(tz, s, &mut candidates);
    }
    candidates.sort();
    candidates.dedup();
    candidates
        .iter()
        .copied()
        .find(|c| limits.iter().all(|l| l.fits(tz, *c)))
        .unwrap_or(Timestamp::MAX)
}

/// The earliest moment at or after `s` when a pass could start: within the allowed hours and
/// fitting every limit. `None` if none is found in a bounded number of steps (which would take
/// hours and limits contriving to miss each other for weeks).
pub(crate) fn next_possible(
    limits: &[Limit],
    hours: Option<&AllowedHours>,
    tz: &TimeZone,
    s: Timestamp,
) -> Option<Timestamp> {
    let mut t = s;
    for _ in 0..64 {
        t = earliest_fitting(limits, tz, t);
        if t == Timestamp::MAX {
            return None;
        }
        match hours.map(|h| h.next_opening(tz, t)) {
            Some(opening) if opening != t => t = opening,
            _ => return Some(t),
        }
    }
    None
}
