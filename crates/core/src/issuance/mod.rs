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
//! 10. The regime's ceiling: at most `max_passes_per_day` passes start on one local day, every
//!     pass counting, whatever its purpose and even if it was cancelled.
//!
//! Always-allowed purposes (emergency) skip 7 and 9 and are not counted against the cap; they
//! meet the ceiling like every other purpose (it is set far above any real day's needs, and
//! it is what keeps a scripted client from taking passes without end).
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
pub(crate) mod refusal;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub use refusal::{Refusal, RefusalCode};

use crate::domain::{distance_m, GeoPoint, IssuerCode, PurposeId, RegimeId};
use crate::policy::{MaxDuration, Purpose, Quota, Regime, RegimeBook, RegimeStatus, Window};
use counting::{Limit, LimitKind};
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

    let limits = counting_limits(regime, purpose, prior);
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

    if let Some(limit) = limits.iter().find(|l| !l.fits(tz, start)) {
        return Err(match limit.kind {
            LimitKind::Purpose => Refusal::quota_exceeded(&clock, purpose, &limit.quota, next()),
            LimitKind::Cap => Refusal::regime_cap_exceeded(&clock, &limit.quota, next()),
            LimitKind::Ceiling => Refusal::ceiling_reached(&clock, &limit.quota, next()),
        });
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

/// Where a purpose's quota stands for a resident at a moment, for the pages to show before
/// anyone asks: "left this week: 1 of 2; the next one from Thursday 10:15".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaStatus {
    /// The purpose's quota.
    pub quota: Quota,
    /// Passes of the purpose that count in the window holding the moment (at most the
    /// quota's count; passes cancelled before their start are not among them).
    pub used: u32,
    /// When a pass of the purpose could start at the earliest, if it cannot now: the quota,
    /// the regime's cap and ceiling, and the allowed hours all admit it then. `None` when
    /// one can start now, or when none can before the regime ends.
    pub next_possible_at: Option<Timestamp>,
}

impl QuotaStatus {
    /// Passes left in the window holding the moment.
    pub fn left(&self) -> u32 {
        self.quota.count().saturating_sub(self.used)
    }
}

/// Where `purpose`'s quota stands at `now` for a resident whose earlier passes are `prior`
/// (those [`PriorReads::for_request`] names for a request of the purpose): `None` when the
/// purpose has no quota of its own (or is always allowed). It counts as [`decide`] does, so
/// a pass asked for at `now` is refused for counting exactly when `available_now` is false.
pub fn quota_status(
    regime: &Regime,
    purpose: &Purpose,
    prior: &[PriorPass],
    now: Timestamp,
) -> Option<QuotaStatus> {
    let quota = *purpose.quota().filter(|_| !purpose.always_allowed())?;
    let tz = regime.time_zone();
    let limits = counting_limits(regime, purpose, prior);
    let own = limits.iter().find(|l| l.kind == LimitKind::Purpose)?;
    let used = u32::try_from(own.used(tz, now))
        .unwrap_or(u32::MAX)
        .min(quota.count());
    let hours = purpose.hours();
    let next = counting::next_possible(&limits, hours, tz, now)
        .filter(|t| regime.until().is_none_or(|u| *t < u));
    Some(QuotaStatus {
        quota,
        used,
        next_possible_at: next.filter(|t| *t > now),
    })
}

/// The purpose's quota, the regime's cap and the regime's ceiling, each with the starts of the
/// prior passes that count against it. Always-allowed purposes meet the ceiling alone.
fn counting_limits(regime: &Regime, purpose: &Purpose, prior: &[PriorPass]) -> Vec<Limit> {
    let counted = || prior.iter().filter(|p| p.counts());
    let mut limits = Vec::new();
    if !purpose.always_allowed() {
        if let Some(quota) = purpose.quota() {
            limits.push(Limit {
                kind: LimitKind::Purpose,
                quota: *quota,
                starts: counted()
                    .filter(|p| p.purpose == purpose.id().as_str())
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
                kind: LimitKind::Cap,
                quota: *cap,
                starts: counted().filter(capped).map(|p| p.valid_from).collect(),
            });
        }
    }
    // Every pass, cancelled or not: the ceiling bounds what one resident can ask of the
    // service, and a pass booked and cancelled again and again would otherwise escape it.
    limits.push(Limit {
        kind: LimitKind::Ceiling,
        quota: regime.ceiling(),
        starts: prior.iter().map(|p| p.valid_from).collect(),
    });
    limits
}

/// Which of a resident's earlier passes [`decide`] needs for one request. The store reads
/// exactly these, so that the work of an issuance is bounded by the rules, never by the
/// resident's history: a resident with ten thousand `trash` passes costs no more to decide
/// for than one with none.
///
/// - `by_purpose`: every pass (cancelled ones too) of these purposes that starts at or after
///   `since` — what the purpose's quota and the regime's cap count. There are few: the quota
///   and the cap bound them, and the ceiling bounds them per day. `None` when the request
///   meets neither a quota nor a cap.
/// - `days`: the local days a new pass, or the search for the next possible one, can start
///   on (from today to the last day a pass can be booked for), each `[start, end)`. For each,
///   any `per_day` of the passes starting in it (of any purpose, cancelled ones too), or all
///   of them if there are fewer: enough for the ceiling, which only asks whether a day is
///   full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorReads {
    /// Passes of some purposes from a moment on.
    pub by_purpose: Option<PurposeReads>,
    /// The ceiling's days.
    pub days: Vec<(Timestamp, Timestamp)>,
    /// At most this many passes per day are needed (the ceiling).
    pub per_day: u32,
}

/// The passes of some purposes that start at or after `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeReads {
    /// The earliest start that can matter.
    pub since: Timestamp,
    /// Which purposes.
    pub purposes: PurposeSet,
}

/// A set of purpose ids, given by what it holds or by what it leaves out (the cap counts every
/// purpose but the always-allowed ones, including purposes of earlier regimes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurposeSet {
    /// Exactly these.
    Only(Vec<String>),
    /// Every purpose but these.
    AllBut(Vec<String>),
}

impl PriorReads {
    /// Nothing to read: the request will be refused before any earlier pass matters.
    pub fn none() -> Self {
        Self {
            by_purpose: None,
            days: Vec::new(),
            per_day: 0,
        }
    }

    /// What [`decide`] needs under `regime` for `request` at `now`.
    pub fn for_request(regime: &Regime, request: &PassRequest, now: Timestamp) -> Self {
        let Some(purpose) = regime.purpose(&request.purpose) else {
            return Self::none();
        };
        let since = minus(now, lookback(regime));
        let by_purpose = if purpose.always_allowed() {
            None
        } else if regime.cap().is_some() {
            let always: Vec<String> = regime
                .purposes()
                .iter()
                .filter(|p| p.always_allowed())
                .map(|p| p.id().to_string())
                .collect();
            Some(PurposeReads {
                since,
                purposes: PurposeSet::AllBut(always),
            })
        } else {
            purpose.quota().map(|_| PurposeReads {
                since,
                purposes: PurposeSet::Only(vec![purpose.id().to_string()]),
            })
        };
        // A pass starts at `now` at the earliest (an earlier start is moved to now) and was
        // booked at most MAX_ADVANCE ahead, so no pass starts after the last of these days.
        let tz = regime.time_zone();
        let horizon = plus(now, MAX_ADVANCE);
        let mut days = Vec::new();
        let mut t = now;
        while let Some((start, end)) = Window::Day.calendar_bounds(tz, t) {
            days.push((start, end));
            if end > horizon {
                break;
            }
            t = end;
        }
        Self {
            by_purpose,
            days,
            per_day: regime.max_passes_per_day(),
        }
    }
}

impl RegimeBook {
    /// Which earlier passes [`RegimeBook::decide`] needs for `request` at `now`: those the
    /// regime governing the request's start needs ([`PriorReads::for_request`]), or none when
    /// no regime governs it (the request is refused whatever came before).
    pub fn prior_reads(&self, request: &PassRequest, now: Timestamp) -> PriorReads {
        let utc = LocalTime {
            tz: &jiff::tz::TimeZone::UTC,
            tz_name: "UTC",
        };
        match resolve_start(request, now, &utc).map(|start| self.status_at(start)) {
            Ok(RegimeStatus::InForce(regime)) => PriorReads::for_request(regime, request, now),
            _ => PriorReads::none(),
        }
    }

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
