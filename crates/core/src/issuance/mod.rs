//! The decision on a pass request: grant it, with a validity window, or refuse it, saying why.
//!
//! [`decide`] is a pure function of the regime, the request, what is known about the resident,
//! the resident's earlier passes and the current moment. The store calls it inside the
//! transaction that then records the pass, with the resident's passes that start after
//! `now - lookback(regime)` — including those booked for later — so that quotas stay exact
//! under concurrent requests.
//!
//! # Rules, in the order they are checked
//!
//! 1. The resident's profile is complete (name, document, home).
//! 2. The start: `valid_from`, or now if absent. It may lie up to [`VALID_FROM_GRACE`] in the
//!    past (a client's clock, a slow network) and is then moved to now — a pass never starts
//!    before it was issued; it may lie at most [`MAX_ADVANCE`] ahead.
//! 3. The regime is in force at the start (not: before `effective_from`, at or after `until`).
//! 4. The purpose exists in the regime.
//! 5. Every required field is present and valid; values are kept in canonical form.
//! 6. The duration: at least a minute, at most the purpose's maximum; absent means the maximum.
//!    For an "until the end of the local day" purpose any requested duration is accepted and
//!    cut at the end of the day.
//! 7. The allowed hours: the pass must **start** within them, and it is **cut** at their
//!    closing time. Refusing a 21:00 grocery pass because three hours would run past a 22:00
//!    closing would push people to wait for tomorrow and crowd the shops; cutting it keeps the
//!    rule's point (nobody out after closing) without that.
//! 8. The distance: when the purpose has a maximum and the request names a destination, the
//!    destination must lie within it of home. With no destination the pass is taken to be for
//!    the neighbourhood of home, which is what such purposes (walking a pet) are for.
//! 9. The purpose's quota and the regime's cap, counted as described below.
//!
//! Always-allowed purposes (emergency) skip 7 and 9 and are not counted against the cap.
//!
//! # Which earlier passes count
//!
//! A pass counts in a window by its start. In a calendar window (day, week from Monday, month,
//! on the regime's clocks) a new pass fits when fewer than `count` counted passes start in the
//! same period. In a rolling window of length `L` it fits when no span `[p, p + L)` containing
//! its start already holds `count` starts: a pass starting exactly `L` after an earlier one no
//! longer shares a window with it. Booked passes that start later count too, so a request
//! cannot squeeze in before them and overfill a window they are in. A refusal's
//! `next_possible_at` is the earliest start at which the quota, the cap and the allowed hours
//! all admit a pass (`None` if that would be after the regime's end).
//!
//! A pass cancelled before (or at) its start never took effect
//! and does not count; one cancelled after its start was used, at least in part, and counts —
//! otherwise cancelling a pass after the trip would hand the quota back. Passes whose purpose
//! the regime does not know (from an earlier regime) count against the cap.
//!
//! # The validity window
//!
//! `valid_until` is the earliest of: start + duration; the end of the local day for
//! until-end-of-day purposes; the closing of the allowed hours; the regime's `until`.

mod counting;
mod refusal;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub use refusal::{Refusal, RefusalCode};

use crate::domain::{distance_m, GeoPoint, IssuerCode, PurposeId, RegimeId};
use crate::policy::{MaxDuration, Regime, RegimeBook, RegimeStatus};
use counting::Limit;
use refusal::LocalTime;

/// How far in the past a requested start may lie and still be accepted (then moved to now).
pub const VALID_FROM_GRACE: SignedDuration = SignedDuration::from_mins(5);

/// How far ahead a pass may be requested. A week lets people plan a dacha trip or a court date
/// while keeping the set of booked passes, which quotas must look at, small.
pub const MAX_ADVANCE: SignedDuration = SignedDuration::from_hours(7 * 24);

/// What a resident asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassRequest {
    /// The purpose id, e.g. `shopping`.
    pub purpose: String,
    /// When the pass should start; now if absent.
    pub valid_from: Option<Timestamp>,
    /// How long the pass should last; the purpose's maximum if absent.
    pub duration_minutes: Option<u32>,
    /// Purpose fields by name, e.g. `employer_inn`, as typed; checked here.
    pub fields: BTreeMap<String, String>,
    /// Where the resident is going, for purposes with a maximum distance from home.
    pub destination: Option<GeoPoint>,
}

/// What is known about the resident asking.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResidentFacts {
    /// Name, document and home address are all given.
    pub profile_complete: bool,
    /// Where the resident lives.
    pub home: Option<GeoPoint>,
}

/// One of the resident's earlier (or booked) passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorPass {
    /// Its purpose id.
    pub purpose: String,
    /// When it starts.
    pub valid_from: Timestamp,
    /// When it ends.
    pub valid_until: Timestamp,
    /// When it was cancelled or revoked, if it was.
    pub cancelled_at: Option<Timestamp>,
}

impl PriorPass {
    /// Whether the pass counts against quotas: not cancelled before it started.
    pub fn counts(&self) -> bool {
        self.cancelled_at.is_none_or(|c| c > self.valid_from)
    }
}

/// A granted pass, ready to be stored and signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The regime it was granted under (the token's regime claim).
    pub regime: RegimeId,
    /// The issuing authority (the token's `iss`).
    pub issuer: IssuerCode,
    /// The purpose.
    pub purpose: PurposeId,
    /// Start (inclusive).
    pub valid_from: Timestamp,
    /// End (exclusive).
    pub valid_until: Timestamp,
    /// The purpose's required fields in canonical form, e.g. `employer_inn` → `7707083893`.
    pub fields: BTreeMap<String, String>,
}

/// How far back from now prior passes can matter to [`decide`] under this regime: the
/// longest quota or cap window (calendar windows with an hour's margin for clock changes)
/// plus the grace for starts in the past. The store passes every pass of the resident that
/// starts after `now - lookback`, booked future ones included.
pub fn lookback(regime: &Regime) -> SignedDuration {
    let windows = regime
        .cap()
        .into_iter()
        .chain(regime.purposes().iter().filter_map(|p| p.quota()))
        .map(|q| q.window().max_span());
    windows.max().unwrap_or(SignedDuration::ZERO) + VALID_FROM_GRACE
}

/// `t + d`, saturating instead of panicking for absurd clocks.
fn plus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.saturating_add(d).unwrap_or(Timestamp::MAX)
}

/// `t - d`, saturating.
fn minus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.saturating_sub(d).unwrap_or(Timestamp::MIN)
}

/// The requested start, checked against `now` (rule 2).
fn resolve_start(
    request: &PassRequest,
    now: Timestamp,
    clock: &LocalTime<'_>,
) -> Result<Timestamp, Refusal> {
    let Some(requested) = request.valid_from else {
        return Ok(now);
    };
    if requested < minus(now, VALID_FROM_GRACE) {
        return Err(Refusal::valid_from_in_past(clock, requested));
    }
    if requested > plus(now, MAX_ADVANCE) {
        return Err(Refusal::valid_from_too_far_ahead(
            clock,
            requested,
            minus(requested, MAX_ADVANCE),
        ));
    }
    Ok(requested.max(now))
}

/// Decides a pass request under `regime`. See the module documentation for the rules.
pub fn decide(
    regime: &Regime,
    request: &PassRequest,
    facts: &ResidentFacts,
    prior: &[PriorPass],
    now: Timestamp,
) -> Result<Grant, Refusal> {
    let clock = LocalTime::from(regime);
    let tz = regime.time_zone();
    if !facts.profile_complete {
        return Err(Refusal::profile_incomplete());
    }
    let start = resolve_start(request, now, &clock)?;
    if start < regime.effective_from() {
        return Err(Refusal::regime_not_yet_in_force(regime));
    }
    if let Some(until) = regime.until().filter(|u| *u <= start) {
        return Err(Refusal::regime_ended(regime, until));
    }
    let purpose = regime
        .purpose(&request.purpose)
        .ok_or_else(|| Refusal::unknown_purpose(regime, &request.purpose))?;

    let mut fields = BTreeMap::new();
    for field in purpose.required_fields() {
        let raw = request
            .fields
            .get(field.as_str())
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Refusal::missing_field(purpose, *field))?;
        let value = field
            .parse_value(raw)
            .map_err(|e| Refusal::invalid_field(*field, e))?;
        fields.insert(field.as_str().to_owned(), value);
    }

    let minutes = |m: u32| SignedDuration::from_mins(i64::from(m));
    let mut end = match (purpose.duration(), request.duration_minutes) {
        (_, Some(0)) => return Err(Refusal::invalid_duration()),
        (MaxDuration::Minutes(max), Some(asked)) if asked > max => {
            return Err(Refusal::duration_too_long(purpose, max, asked))
        }
        (MaxDuration::Minutes(max), asked) => plus(start, minutes(asked.unwrap_or(max))),
        (MaxDuration::UntilEndOfDay, asked) => {
            let end_of_day = crate::policy::end_of_local_day(tz, start);
            asked.map_or(end_of_day, |m| plus(start, minutes(m)).min(end_of_day))
        }
    };

    let limits = if purpose.always_allowed() {
        Vec::new()
    } else {
        counting_limits(regime, purpose.id(), prior)
    };
    let hours = purpose.hours().filter(|_| !purpose.always_allowed());
    let next = || {
        counting::next_possible(&limits, hours, tz, start)
            .filter(|t| regime.until().is_none_or(|u| *t < u))
    };

    if let Some(hours) = hours {
        match hours.closing_after(tz, start) {
            Some(closing) => end = end.min(closing),
            None => {
                return Err(Refusal::outside_allowed_hours(
                    &clock,
                    purpose,
                    hours,
                    next(),
                ))
            }
        }
    }

    if let (Some(max), Some(destination)) = (purpose.max_distance_m(), request.destination) {
        let home = facts.home.ok_or_else(Refusal::profile_incomplete)?;
        let distance = distance_m(home, destination);
        if distance > f64::from(max) {
            return Err(Refusal::too_far_from_home(purpose, max, distance));
        }
    }

    for (k, limit) in limits.iter().enumerate() {
        if !limit.fits(tz, start) {
            let is_cap = k + 1 == limits.len() && regime.cap().is_some();
            return Err(if is_cap {
                Refusal::regime_cap_exceeded(&clock, limit.quota, next())
            } else {
                Refusal::quota_exceeded(&clock, purpose, limit.quota, next())
            });
        }
    }

    if let Some(until) = regime.until() {
        end = end.min(until);
    }
    Ok(Grant {
        regime: regime.id().clone(),
        issuer: regime.issuer().clone(),
        purpose: purpose.id().clone(),
        valid_from: start,
        valid_until: end,
        fields,
    })
}

/// The purpose's quota, then the regime's cap (always last), each with the starts of the
/// prior passes that count against it.
fn counting_limits<'a>(
    regime: &'a Regime,
    purpose: &PurposeId,
    prior: &[PriorPass],
) -> Vec<Limit<'a>> {
    let counted = || prior.iter().filter(|p| p.counts());
    let mut limits = Vec::new();
    if let Some(quota) = regime.purpose(purpose.as_str()).and_then(|p| p.quota()) {
        limits.push(Limit {
            quota,
            starts: counted()
                .filter(|p| p.purpose == purpose.as_str())
                .map(|p| p.valid_from)
                .collect(),
        });
    }
    if let Some(cap) = regime.cap() {
        let capped = |p: &&PriorPass| {
            regime
                .purpose(&p.purpose)
                .is_none_or(|q| !q.always_allowed())
        };
        limits.push(Limit {
            quota: cap,
            starts: counted().filter(capped).map(|p| p.valid_from).collect(),
        });
    }
    limits
}

impl RegimeBook {
    /// Decides a pass request under whichever regime of the book governs its start: as
    /// [`decide`], plus the refusals `no_regime_in_force`, and `regime_not_yet_in_force` /
    /// `regime_ended` when no regime governs the start but one starts later / has ended.
    pub fn decide(
        &self,
        request: &PassRequest,
        facts: &ResidentFacts,
        prior: &[PriorPass],
        now: Timestamp,
    ) -> Result<Grant, Refusal> {
        // The start is checked before the regime is known, so on UTC clocks; `decide` checks
        // it again on the regime's.
        let utc = LocalTime {
            tz: &jiff::tz::TimeZone::UTC,
            tz_name: "UTC",
        };
        if !facts.profile_complete {
            return Err(Refusal::profile_incomplete());
        }
        let start = resolve_start(request, now, &utc)?;
        match self.status_at(start) {
            RegimeStatus::InForce(regime) => decide(regime, request, facts, prior, now),
            RegimeStatus::NotYetInForce(regime) => Err(Refusal::regime_not_yet_in_force(regime)),
            RegimeStatus::Ended(regime) => Err(Refusal::regime_ended(
                regime,
                regime.until().unwrap_or(start),
            )),
            RegimeStatus::NoRegime => Err(Refusal::no_regime_in_force(start)),
        }
    }
}

#[cfg(test)]
mod tests;
