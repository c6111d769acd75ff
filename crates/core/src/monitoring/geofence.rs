//! Geofence evaluation: from a patient's location reports to `left_home` and `no_signal` flags.
//!
//! [`evaluate`] takes the home, the reports (in any order, late or duplicated), the start of
//! monitoring and the moment of evaluation, and returns the flags that the reports support.
//! It is a pure function of its inputs: evaluating again after more reports arrive gives the
//! flags for everything known then, and [`super::reconcile`] matches them to stored flags.
//!
//! # The rules, and why
//!
//! A phone's position is an estimate with an error the phone itself only guesses. Indoors the
//! guess is often wrong: GPS signals reflected off walls ("multipath") can move the fix
//! 50–400 m while the phone still reports 10–30 m accuracy; a position from Wi-Fi or cell
//! towers alone can be kilometres off and says so (accuracy 500–3000 m). Moscow's 2020 app
//! treated such fixes as facts and fined bedridden patients. Here:
//!
//! 1. **Accuracy-aware classification.** A fix is *inside* when its accuracy circle overlaps
//!    the home circle (the person may well be home), *outside* only when the whole circle
//!    lies beyond home by a further margin ([`GeofenceConfig::outside_margin_m`]), and on the
//!    *edge* in between — which is neither evidence of leaving nor of being home. Reported
//!    accuracies below [`GeofenceConfig::accuracy_floor_m`] are raised to it: no phone knows
//!    where it is to 3 m indoors, and a falsely confident fix must not be "clearly" anything.
//! 2. **A sensible home radius.** Homes are judged with at least
//!    [`GeofenceConfig::min_effective_radius_m`], whatever radius the case was given: indoor
//!    noise of tens of metres is normal, and a 20 m fence around a high-rise would turn it
//!    into flags.
//! 3. **Coarse fixes are not evidence of leaving.** A fix reporting more than
//!    [`GeofenceConfig::max_usable_accuracy_m`] (Wi-Fi/cell positions) counts only as a sign
//!    that the phone is alive; it can never show a departure. One that is still no coarser
//!    than [`GeofenceConfig::max_anchor_accuracy_m`] with its centre inside the home circle
//!    places the phone in its building, though: it ends a run, as a fix at home does, and
//!    anchors the teleport check (5b).
//! 4. **Repeats are one observation.** A phone that has no new position often re-sends its
//!    last one; a fix bit-identical in position and accuracy to the one before it is marked
//!    a repeat and not counted again, so a stale fix cannot make a brief jump look persistent.
//!    (The same report uploaded twice, same time included, is simply dropped.)
//! 5. **Out-and-back jumps are discarded.** A fix that could only be reached from both its
//!    neighbours faster than [`GeofenceConfig::max_speed_mps`] (after allowing both fixes'
//!    accuracy) is an outlier. The newest fix, having no later neighbour yet, is held back
//!    when it is that far from the one before, until a later report shows which was wrong.
//!    **Teleports are source errors (5b).** A first fix outside that could only be reached
//!    from the fix at home before it faster than [`GeofenceConfig::max_leaving_speed_mps`]
//!    — a Wi-Fi access point that moved with its owner places a phone kilometres away with
//!    a confident accuracy — is an outlier, and so is every fix at the same place after it,
//!    and every later jump from home to that place (the access point stays where it is).
//!    If the phone instead moves on from there, at a vehicle's speed, to a place it could
//!    not have reached from home either, the jump was a fast start and its fixes count.
//! 6. **Persistence.** A `left_home` flag needs a *run* of fixes clearly outside with no
//!    fix at home in between: at least [`GeofenceConfig::min_outside_fixes`] of them, and
//!    either *receding* (the newest at least [`GeofenceConfig::receding_m`] farther from
//!    home than the first: someone walking or driving off) or lasting, the first and last
//!    at least [`GeofenceConfig::min_outside_duration`] apart (someone who went out and
//!    moves about near home). A stay at one place needs less: two fixes there (enough for
//!    phones in battery saving that report every 5–10 minutes), the first and last at
//!    least [`GeofenceConfig::two_fix_duration`] apart, unless the run went more than
//!    [`GeofenceConfig::max_stay_gap`] without a report of any kind.
//!    Multipath episodes hold one false position, jittering, for seconds to several
//!    minutes; they neither recede nor last. The thresholds are the trade-off between false
//!    flags and time to flag; the simulator in [`super::simulate`] and the independent
//!    generator in `tests/monitoring-traces/` measure both.
//! 7. **Silence is its own flag.** No report of any kind for
//!    [`GeofenceConfig::silence_threshold`] or longer is a `no_signal` flag — never a
//!    departure, and never sanctionable ([`super::FlagKind::may_be_sanctioned`]). A gap in the
//!    usable reports longer than [`GeofenceConfig::max_run_gap`] ends a departure run: what
//!    the person did while the phone was silent is unknown, and unknown is not evidence.
//!    The one exception is a phone that falls silent clearly outside and reappears, within
//!    [`GeofenceConfig::max_bridged_gap`], clearly outside *at the same place* (the two
//!    fixes' accuracy circles, widened by [`GeofenceConfig::same_place_m`], overlap): the
//!    person was away before and after, so the run goes on across the gap. Two unrelated
//!    multipath jumps rarely land on the same spot.
//!
//! 8. **A check-in answer far from home is a departure.** Besides the phone's own reports,
//!    [`evaluate_with_answers`] takes the locations the patient's check-in answers carried
//!    (a fresh fix taken with the photo). They are reports like any other — one at home ends a
//!    run (rule 6), which is how an answer from home ends a suspicion — except that one
//!    *far* from home ([`GeofenceConfig::far_m`], beyond anything indoor multipath does, with
//!    a usable accuracy) confirms a departure: the patient, asked, stood there with the
//!    phone. It is never an out-and-back outlier (rule 5), and the run it belongs to is a
//!    departure at once, whatever its length. It is not above rule 5b, though: a place no one
//!    could have reached from home so soon stays a source error even in an answer, because an
//!    access point that moved with its owner gives the answer's fix its position too (on the
//!    independent generator's traces, letting answers override rule 5b flagged eight compliant
//!    patients whose homes hear such an access point). A real trip with nothing recorded on the
//!    way — the case asking is for — took its time and is no teleport.
//!    The same notion of far decides when the service asks at all (`super::asking`).
//!
//! Evaluation uses report times, not upload times: phones buffer while offline and upload up
//! to two days late. Reports stamped in the future by more than
//! [`GeofenceConfig::max_clock_skew`] (a wrong phone clock) are ignored.
//!
//! The evidence is map-free: distances from home, accuracies, times and counts, never
//! coordinates. An officer deciding a flag needs to see *how far*, *how sure* and *how long*,
//! not where the patient went.
//!
//! # Windows
//!
//! The server need not pass a case's whole history: passing the reports from some moment on
//! (an hour or more before the oldest report in the new batch), plus the single report just
//! before that moment so that silences are measured from it, gives the same flags for that
//! window; [`super::reconcile`] joins them to the stored ones, and [`super::is_news`] tells
//! which departures the new reports can have revealed. A window that opens away from
//! home ([`opens_away`]) is read back to the last fix at home ([`context_start`]), so that a
//! run is always seen from its beginning and a teleport against the fix before it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{Evidence, Flag};
use crate::domain::{distance_m, GeoError, GeoPoint};

/// A home and the radius around it the patient must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geofence {
    home: GeoPoint,
    radius_m: f64,
}

/// What was wrong with a geofence.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum GeofenceError {
    /// The radius is not a number of metres in range.
    #[error("home radius {0} m is out of range; expected {min} to {max} metres", min = Geofence::MIN_RADIUS_M, max = Geofence::MAX_RADIUS_M)]
    Radius(f64),
}

impl Geofence {
    /// The smallest radius a case may be given (evaluation still uses at least
    /// [`GeofenceConfig::min_effective_radius_m`]).
    pub const MIN_RADIUS_M: f64 = 10.0;
    /// The largest radius a case may be given.
    pub const MAX_RADIUS_M: f64 = 5_000.0;

    /// A home with its radius in metres.
    pub fn new(home: GeoPoint, radius_m: f64) -> Result<Self, GeofenceError> {
        if radius_m.is_finite() && (Self::MIN_RADIUS_M..=Self::MAX_RADIUS_M).contains(&radius_m) {
            Ok(Self { home, radius_m })
        } else {
            Err(GeofenceError::Radius(radius_m))
        }
    }

    /// The home point.
    pub fn home(&self) -> GeoPoint {
        self.home
    }

    /// The radius the case was given, metres.
    pub fn radius_m(&self) -> f64 {
        self.radius_m
    }
}

/// One location report from a device: when the phone saw itself where, and how sure it was.
/// Serialised as the API's `{"ts", "lat", "lon", "accuracy_m"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawFix", into = "RawFix")]
pub struct Fix {
    ts: Timestamp,
    point: GeoPoint,
    accuracy_m: f64,
}

#[derive(Serialize, Deserialize)]
struct RawFix {
    ts: Timestamp,
    lat: f64,
    lon: f64,
    accuracy_m: f64,
}

/// What was wrong with a location report.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum FixError {
    /// Latitude or longitude out of range.
    #[error(transparent)]
    Point(#[from] GeoError),
    /// Accuracy not a finite, non-negative number of metres.
    #[error("accuracy {0} m is not valid; expected a non-negative number of metres")]
    Accuracy(f64),
}

impl Fix {
    /// A report; the accuracy is the phone's estimate of its error radius in metres (the
    /// 68 % radius on Android and iOS).
    pub fn new(ts: Timestamp, point: GeoPoint, accuracy_m: f64) -> Result<Self, FixError> {
        if accuracy_m.is_finite() && accuracy_m >= 0.0 {
            Ok(Self {
                ts,
                point,
                accuracy_m,
            })
        } else {
            Err(FixError::Accuracy(accuracy_m))
        }
    }

    /// A report from raw numbers, as a device sends them.
    pub fn from_parts(
        ts: Timestamp,
        lat: f64,
        lon: f64,
        accuracy_m: f64,
    ) -> Result<Self, FixError> {
        Self::new(ts, GeoPoint::new(lat, lon)?, accuracy_m)
    }

    /// When the phone took the fix.
    pub fn ts(&self) -> Timestamp {
        self.ts
    }

    /// Where the phone thought it was.
    pub fn point(&self) -> GeoPoint {
        self.point
    }

    /// The phone's own error estimate, metres.
    pub fn accuracy_m(&self) -> f64 {
        self.accuracy_m
    }
}

impl TryFrom<RawFix> for Fix {
    type Error = FixError;
    fn try_from(raw: RawFix) -> Result<Self, Self::Error> {
        Self::from_parts(raw.ts, raw.lat, raw.lon, raw.accuracy_m)
    }
}

impl From<Fix> for RawFix {
    fn from(f: Fix) -> Self {
        Self {
            ts: f.ts,
            lat: f.point.lat(),
            lon: f.point.lon(),
            accuracy_m: f.accuracy_m,
        }
    }
}

/// The evaluator's parameters. [`Default`] gives the values the simulator
/// ([`super::simulate`]) was measured with; each field says why it has its default.
#[derive(Debug, Clone, PartialEq)]
pub struct GeofenceConfig {
    /// Homes are judged with at least this radius, metres. Default 100: indoor fixes in
    /// apartment blocks are routinely 30–60 m off with honest accuracy, so a smaller fence
    /// only measures noise.
    pub min_effective_radius_m: f64,
    /// How far beyond the home circle a fix's accuracy circle must lie to count as clearly
    /// outside, metres. Default 25: absorbs accuracies that are somewhat optimistic (the
    /// reported radius covers only about 68 % of fixes).
    pub outside_margin_m: f64,
    /// Reported accuracies are raised to at least this, metres. Default 10.
    pub accuracy_floor_m: f64,
    /// Fixes reporting a larger error are coarse (Wi-Fi/cell) and never evidence of leaving,
    /// metres. Default 100: satellite fixes outdoors report 3–20 m, Wi-Fi fixes 15–60 m;
    /// cell positions 500 m and more.
    pub max_usable_accuracy_m: f64,
    /// A departure needs at least this many fixes clearly outside. Default 3: with phones
    /// reporting every 1–5 minutes, three fixes are the fewest that show a stay rather than
    /// a jump.
    pub min_outside_fixes: usize,
    /// …and, unless they recede ([`Self::receding_m`]), the first and last of them at
    /// least this far apart. Default 20 minutes, the length of the shortest departure that
    /// matters. This is the one real trade-off for people who go out and move about near
    /// home: multipath episodes on a phone lying at home last up to about 10 minutes each
    /// (the independent generator's model; the core's are a minute long on average), and two
    /// of them back to back, in different directions, look like someone walking about 200 m
    /// away. Someone who stays at one place is flagged sooner
    /// ([`Self::two_fix_duration`]), someone walking off sooner still
    /// ([`Self::receding_m`]); most departures are flagged by receding, and the median time
    /// to flag stayed at 11 minutes when this went from 11 to 20. Measured figures:
    /// `docs/performance.md`.
    pub min_outside_duration: SignedDuration,
    /// A run whose fixes outside show the person moving away — the newest at least this
    /// much farther from home than the first, beyond both accuracies — needs no minimum
    /// duration, only [`Self::min_outside_fixes`], metres. Default 150: a multipath
    /// episode holds one false position (jittering by tens of metres), while someone walking
    /// or driving off recedes steadily.
    pub receding_m: f64,
    /// A first fix outside that could only be reached from the fix at home before it faster
    /// than this (beyond both accuracies) is not a position but a source error — typically a
    /// Wi-Fi access point that moved with its owner, placing the phone kilometres away with a
    /// confident accuracy — and so is every fix at the same place after it, m/s. Default 11
    /// (40 km/h on average from a fix at home, stairs and the walk to a car included; the
    /// fastest real departures of the independent generator leave at 10.3). A car that is
    /// really that fast shows it by moving on (rule 5b), and its fixes count again.
    pub max_leaving_speed_mps: f64,
    /// A coarse fix this accurate or better whose centre lies in the home circle places the
    /// phone at home (rule 3: it ends a run and anchors rule 5b), metres. Default 250: Wi-Fi
    /// positions from a few weak access points report 100–250 m; cell positions, 500 m and
    /// more, say too little.
    pub max_anchor_accuracy_m: f64,
    /// A run of two or more fixes clearly outside counts when its first and last are at
    /// least this far apart and either at the same place ([`Self::same_place_m`]) or both
    /// beyond [`Self::beyond_multipath_m`]: a stay somewhere. Default 12 minutes: a phone in
    /// battery saving (a fix every 5–10 minutes, some of them coarse or repeated) may show
    /// a 20-minute trip with only two good fixes, and two multipath episodes rarely land on
    /// the same spot.
    pub two_fix_duration: SignedDuration,
    /// …provided the phone never went longer than this without a report in between: two
    /// fixes with nothing known between them (a backlog uploaded out of order and not all
    /// in yet) say little about the time between them. Any report counts, a repeat or an
    /// outlier too: it shows that the phone was alive and that its uploads for that time
    /// are in (a repeat of a fix outside is still not a second fix outside, rule 4).
    /// Default 11 minutes: the slowest cadence of a phone in battery saving, 10 minutes,
    /// and a little for a fix that comes late. It must stay below
    /// [`Self::two_fix_duration`], so that two fixes alone are never a stay.
    pub max_stay_gap: SignedDuration,
    /// Farther from home than this (beyond its accuracy), a confident fix is not indoor
    /// multipath, metres. Default 1,000: reflections move a position by tens to a few
    /// hundred metres; a fix kilometres off is a real trip or a source error, which rule 5b
    /// catches.
    pub beyond_multipath_m: f64,
    /// A confident fix (usable accuracy, clearly outside) whose distance from home, less its
    /// accuracy, is at least this is *far*: beyond where indoor multipath puts a phone lying
    /// at home, so the service asks the patient at once (`super::asking`), and a check-in
    /// answer that far confirms a departure (rule 8), metres. Default 600: reflections move a
    /// fix by tens to a few hundred metres (up to about 460 m in the core's model, 500 m in
    /// the independent generator's, the flat itself up to 70 m from the home point).
    pub far_m: f64,
    /// A gap in usable reports longer than this ends a run, so evidence must be continuous.
    /// Default 30 minutes.
    pub max_run_gap: SignedDuration,
    /// …unless the fixes on both sides of the gap are clearly outside at the same place and
    /// the gap is at most this long. Default 2 hours (the silence threshold: longer, and the
    /// silence is a flag of its own).
    pub max_bridged_gap: SignedDuration,
    /// Two fixes are at the same place when their accuracy circles, each widened by this,
    /// overlap, metres. Default 50: a person staying somewhere moves about a shop or a flat.
    pub same_place_m: f64,
    /// Faster than this between two fixes (beyond both accuracies) is not a person moving,
    /// m/s. Default 50 (180 km/h: nothing in a city).
    pub max_speed_mps: f64,
    /// No report at all for this long is a `no_signal` flag. Default 2 hours: phones in
    /// power-saving mode report less often at night, but not less than hourly.
    pub silence_threshold: SignedDuration,
    /// How far back [`context_start`] looks for the fix at home before a window that opens
    /// away from home. Default 12 hours.
    pub max_context: SignedDuration,
    /// Reports stamped later than the evaluation time by more than this are ignored (a wrong
    /// phone clock). Default 5 minutes.
    pub max_clock_skew: SignedDuration,
    /// At most this many points in a flag's track summary (first and last always kept).
    /// Default 40.
    pub track_points: usize,
}

impl Default for GeofenceConfig {
    fn default() -> Self {
        Self {
            min_effective_radius_m: 100.0,
            outside_margin_m: 25.0,
            accuracy_floor_m: 10.0,
            max_usable_accuracy_m: 100.0,
            min_outside_fixes: 3,
            min_outside_duration: SignedDuration::from_mins(20),
            receding_m: 150.0,
            max_leaving_speed_mps: 11.0,
            max_anchor_accuracy_m: 250.0,
            two_fix_duration: SignedDuration::from_mins(12),
            max_stay_gap: SignedDuration::from_mins(11),
            beyond_multipath_m: 1_000.0,
            far_m: 600.0,
            max_run_gap: SignedDuration::from_mins(30),
            max_bridged_gap: SignedDuration::from_hours(2),
            same_place_m: 50.0,
            max_speed_mps: 50.0,
            silence_threshold: SignedDuration::from_hours(2),
            max_context: SignedDuration::from_hours(12),
            max_clock_skew: SignedDuration::from_mins(5),
            track_points: 40,
        }
    }
}

/// How the evaluator read one fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixClass {
    /// The accuracy circle overlaps home: the person may be home.
    Inside,
    /// Neither clearly inside nor clearly outside.
    Edge,
    /// The accuracy circle lies clearly beyond home.
    Outside,
    /// Too imprecise to say anything (Wi-Fi/cell position).
    Coarse,
    /// An out-and-back jump at an impossible speed, or the newest fix held back until a later
    /// one confirms it.
    Outlier,
    /// The same position and accuracy as the report before: the phone re-sent its last fix.
    Repeat,
}

/// One report in a map-free summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// When the phone took the fix.
    pub ts: Timestamp,
    /// Distance from the home point, whole metres.
    pub distance_m: u32,
    /// Reported accuracy, whole metres.
    pub accuracy_m: u32,
    /// How the evaluator read it.
    pub class: FixClass,
}

/// Smallest, median and largest of some values, whole metres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    /// Smallest.
    pub min: u32,
    /// Median (the lower one for an even count).
    pub median: u32,
    /// Largest.
    pub max: u32,
}

/// The evidence for a `left_home` flag: what an officer needs to judge it, with no map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackEvidence {
    /// The home radius the evaluation used, metres.
    pub radius_m: u32,
    /// Reports from `from` to `to`, of every class.
    pub fixes: u32,
    /// …of which clearly outside.
    pub outside: u32,
    /// …on the edge.
    pub edge: u32,
    /// …coarse.
    pub coarse: u32,
    /// …discarded as out-and-back jumps.
    pub outliers: u32,
    /// …repeats of the report before.
    pub repeats: u32,
    /// Distances from home of the fixes clearly outside.
    pub distance_m: Spread,
    /// Reported accuracies of the fixes clearly outside.
    pub accuracy_m: Spread,
    /// The last fix at home before the departure, if any was reported.
    pub last_inside_before: Option<TrackPoint>,
    /// The first fix at home after it, if any was reported yet.
    pub first_inside_after: Option<TrackPoint>,
    /// The reports from `from` to `to`, evenly thinned to at most
    /// [`GeofenceConfig::track_points`].
    pub track: Vec<TrackPoint>,
    /// The check-in answer that placed the patient far from home during the run, which makes
    /// it a confirmed departure (rule 8); none when the reports alone showed it. (Absent in
    /// evidence stored before rule 8 existed.)
    #[serde(default)]
    pub confirmed_by_checkin: Option<TrackPoint>,
}

/// The evidence for a `no_signal` flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceEvidence {
    /// The last report before the silence (none if it began with monitoring).
    pub last_before: Option<TrackPoint>,
    /// The first report after it (none while it lasts).
    pub first_after: Option<TrackPoint>,
}

/// A report as the evaluator sees it.
#[derive(Debug, Clone, Copy)]
struct Obs {
    ts: Timestamp,
    point: GeoPoint,
    raw_accuracy: f64,
    /// The accuracy used in all comparisons (at least the floor).
    accuracy: f64,
    distance: f64,
    class: FixClass,
    /// Whether it came with a check-in answer (rule 8) rather than as a report.
    answer: bool,
}

impl Obs {
    fn track_point(&self) -> TrackPoint {
        TrackPoint {
            ts: self.ts,
            distance_m: metres(self.distance),
            accuracy_m: metres(self.raw_accuracy),
            class: self.class,
        }
    }

    fn same_report(&self, other: &Obs) -> bool {
        self.point == other.point && self.raw_accuracy == other.raw_accuracy
    }

    /// Rule 8: a check-in answer clearly outside and far from home.
    fn confirms(&self, cfg: &GeofenceConfig) -> bool {
        self.answer && self.class == FixClass::Outside && self.distance - self.accuracy >= cfg.far_m
    }
}

fn metres(x: f64) -> u32 {
    // Saturating float-to-int conversion; NaN cannot occur (inputs are validated).
    x.round() as u32
}

/// Rules 1–3: how a fix reads on its own, before it is compared with its neighbours.
fn classify(f: &Fix, fence: &Geofence, cfg: &GeofenceConfig) -> FixClass {
    let radius = fence.radius_m.max(cfg.min_effective_radius_m);
    let distance = distance_m(fence.home, f.point);
    let accuracy = f.accuracy_m.max(cfg.accuracy_floor_m);
    if f.accuracy_m > cfg.max_usable_accuracy_m {
        FixClass::Coarse
    } else if distance - accuracy <= radius {
        FixClass::Inside
    } else if distance - accuracy > radius + cfg.outside_margin_m {
        FixClass::Outside
    } else {
        FixClass::Edge
    }
}

/// Whether a fix, on its own, places the phone at home: inside or on the edge (rules 1–2),
/// or a coarse fix that still places it in its building (rule 3).
pub fn places_home(f: &Fix, fence: &Geofence, cfg: &GeofenceConfig) -> bool {
    let radius = fence.radius_m.max(cfg.min_effective_radius_m);
    match classify(f, fence, cfg) {
        FixClass::Inside | FixClass::Edge => true,
        FixClass::Coarse => {
            f.accuracy_m <= cfg.max_anchor_accuracy_m && distance_m(fence.home, f.point) <= radius
        }
        _ => false,
    }
}

/// Whether a fix, on its own, is confident and far from home ([`GeofenceConfig::far_m`]):
/// clearly outside with a usable accuracy, beyond where indoor multipath puts a phone.
pub fn is_far(f: &Fix, fence: &Geofence, cfg: &GeofenceConfig) -> bool {
    let accuracy = f.accuracy_m.max(cfg.accuracy_floor_m);
    classify(f, fence, cfg) == FixClass::Outside
        && distance_m(fence.home, f.point) - accuracy >= cfg.far_m
}

/// Where a window of `fixes` (sorted by time) must start so that [`evaluate`] sees how the
/// phone got to where the window finds it: `from`, or, when the window begins away from
/// home, the last fix at or near home before it, looking back at most `limit`
/// ([`GeofenceConfig::max_context`] in service). A run's
/// first fix outside is judged against the fix before it (rule 5b) and a run needs its
/// beginning (rule 6), so a window that opens in the middle of one would misread it.
pub fn context_start(
    fence: &Geofence,
    fixes: &[Fix],
    from: usize,
    limit: SignedDuration,
    cfg: &GeofenceConfig,
) -> usize {
    let from = from.min(fixes.len());
    if !opens_away(fence, &fixes[from..], cfg) {
        return from;
    }
    let at_home = |f: &Fix| matches!(classify(f, fence, cfg), FixClass::Inside | FixClass::Edge);
    let earliest = fixes[from].ts.checked_sub(limit).unwrap_or(Timestamp::MIN);
    let mut i = from;
    while i > 0 && fixes[i - 1].ts >= earliest {
        i -= 1;
        if at_home(&fixes[i]) {
            break;
        }
    }
    i
}

/// Whether the first fix of `fixes` (sorted by time) that says anything is away from home:
/// then a window starting there needs earlier context ([`context_start`]).
pub fn opens_away(fence: &Geofence, fixes: &[Fix], cfg: &GeofenceConfig) -> bool {
    fixes
        .iter()
        .map(|f| classify(f, fence, cfg))
        .find(|c| *c != FixClass::Coarse)
        .is_some_and(|c| c == FixClass::Outside)
}

/// The flags the reports support at `now`, sorted by start.
///
/// Reports before `monitoring_start` are ignored, as are reports stamped more than
/// [`GeofenceConfig::max_clock_skew`] after `now`. A silence from `monitoring_start` to the
/// first report counts like any other. After a case ends, pass its end as `now`: monitoring
/// stops there, and so do silences.
pub fn evaluate(
    fence: &Geofence,
    fixes: &[Fix],
    monitoring_start: Timestamp,
    now: Timestamp,
    cfg: &GeofenceConfig,
) -> Vec<Flag> {
    evaluate_with_answers(fence, fixes, &[], monitoring_start, now, cfg)
}

/// [`evaluate`], with the locations of the patient's check-in answers as well (rule 8):
/// `answers` are the fixes taken with them, each at the moment it was taken.
pub fn evaluate_with_answers(
    fence: &Geofence,
    fixes: &[Fix],
    answers: &[Fix],
    monitoring_start: Timestamp,
    now: Timestamp,
    cfg: &GeofenceConfig,
) -> Vec<Flag> {
    let radius = fence.radius_m.max(cfg.min_effective_radius_m);
    let latest = now
        .checked_add(cfg.max_clock_skew)
        .unwrap_or(Timestamp::MAX);
    let reports = fixes.iter().map(|f| (f, false));
    let answered = answers.iter().map(|f| (f, true));
    let mut obs: Vec<Obs> = reports
        .chain(answered)
        .filter(|(f, _)| f.ts >= monitoring_start && f.ts <= latest)
        .map(|(f, answer)| {
            let distance = distance_m(fence.home, f.point);
            let accuracy = f.accuracy_m.max(cfg.accuracy_floor_m);
            let class = classify(f, fence, cfg);
            Obs {
                ts: f.ts,
                point: f.point,
                raw_accuracy: f.accuracy_m,
                accuracy,
                distance,
                class,
                answer,
            }
        })
        .collect();
    obs.sort_by(|a, b| {
        a.ts.cmp(&b.ts)
            .then(a.raw_accuracy.total_cmp(&b.raw_accuracy))
            .then(a.point.lat().total_cmp(&b.point.lat()))
            .then(a.point.lon().total_cmp(&b.point.lon()))
    });
    // A retried upload: the same report twice is one report (an answer's fix stays one).
    obs.dedup_by(|b, a| {
        let same = a.ts == b.ts && a.same_report(b);
        a.answer |= same && b.answer;
        same
    });
    for i in 1..obs.len() {
        if obs[i].same_report(&obs[i - 1]) {
            obs[i].class = FixClass::Repeat;
        }
    }
    mark_outliers(&mut obs, cfg);
    mark_teleports(&mut obs, radius, cfg);

    let mut flags = departures(&obs, radius, now, cfg);
    flags.extend(silences(&obs, monitoring_start, now, cfg));
    flags.sort_by(|a, b| a.from.cmp(&b.from).then(a.kind().cmp(&b.kind())));
    flags
}

fn usable(class: FixClass) -> bool {
    matches!(class, FixClass::Inside | FixClass::Edge | FixClass::Outside)
}

/// Rule 5: out-and-back jumps faster than a person moves.
fn mark_outliers(obs: &mut [Obs], cfg: &GeofenceConfig) {
    let idx: Vec<usize> = (0..obs.len()).filter(|&i| usable(obs[i].class)).collect();
    let fast = |a: &Obs, b: &Obs| {
        let separation = (distance_m(a.point, b.point) - a.accuracy - b.accuracy).max(0.0);
        let secs = b.ts.duration_since(a.ts).as_secs_f64().abs().max(1.0);
        separation / secs > cfg.max_speed_mps
    };
    let outliers: Vec<usize> = (0..idx.len())
        .filter(|&k| !obs[idx[k]].confirms(cfg))
        .filter(|&k| {
            let this = &obs[idx[k]];
            let prev = k.checked_sub(1).map(|p| &obs[idx[p]]);
            let next = idx.get(k + 1).map(|&n| &obs[n]);
            match (prev, next) {
                (Some(p), Some(n)) => fast(p, this) && fast(this, n),
                // The newest fix: held back while it disagrees with the one before.
                (Some(p), None) => fast(p, this),
                // The oldest: an outlier if the next two agree with each other but not it —
                // unless it is at home, which is where a window's context must come from
                // (the two after it may be a teleport, rule 5b).
                (None, Some(n)) => {
                    this.class == FixClass::Outside
                        && fast(this, n)
                        && idx.get(k + 2).is_some_and(|&m| !fast(n, &obs[m]))
                }
                (None, None) => false,
            }
        })
        .map(|k| idx[k])
        .collect();
    for i in outliers {
        obs[i].class = FixClass::Outlier;
    }
}

/// A coarse fix that still places the phone at home: no coarser than
/// [`GeofenceConfig::max_anchor_accuracy_m`], its centre within the home circle. A Wi-Fi
/// position from a few weak access points is vague, but not vague about which building.
fn coarse_at_home(o: &Obs, radius: f64, cfg: &GeofenceConfig) -> bool {
    o.class == FixClass::Coarse
        && o.raw_accuracy <= cfg.max_anchor_accuracy_m
        && o.distance <= radius
}

fn same_place(a: &Obs, b: &Obs, cfg: &GeofenceConfig) -> bool {
    distance_m(a.point, b.point) <= a.accuracy + b.accuracy + 2.0 * cfg.same_place_m
}

/// Seconds from `a` to `b`, at least one.
fn secs_between(a: &Obs, b: &Obs) -> f64 {
    b.ts.duration_since(a.ts).as_secs_f64().max(1.0)
}

/// How far apart two fixes are beyond both their accuracies, metres.
fn separation(a: &Obs, b: &Obs) -> f64 {
    (distance_m(a.point, b.point) - a.accuracy - b.accuracy).max(0.0)
}

/// Rule 5b: positions no one could have reached from home so soon, and the fixes at the
/// same place after them.
///
/// The phone is placed at home by its latest usable fix not clearly outside, or by a coarse
/// fix that places it there ([`coarse_at_home`]). A jump that turns out to be
/// the start of a journey — the phone moves on from there at a believable speed, to a place
/// it could not have reached from home either — was a fast departure, not a source error:
/// its fixes count again.
fn mark_teleports(obs: &mut [Obs], radius: f64, cfg: &GeofenceConfig) {
    let too_fast =
        |a: &Obs, b: &Obs| separation(a, b) / secs_between(a, b) > cfg.max_leaving_speed_mps;
    let mut home: Option<usize> = None;
    // The place of the latest teleport, and the fixes marked there.
    let mut teleport: Option<(usize, Vec<usize>)> = None;
    // Places the phone has teleported to before: a moved access point keeps its position,
    // so a jump there from home is a source error again, however slow it looks.
    let mut known_false: Vec<usize> = Vec::new();
    for i in 0..obs.len() {
        let o = obs[i];
        if coarse_at_home(&o, radius, cfg) || matches!(o.class, FixClass::Inside | FixClass::Edge) {
            home = Some(i);
            teleport = None;
            continue;
        }
        if o.class != FixClass::Outside {
            continue;
        }
        // Away already, or nothing known before: nothing to judge the fix against.
        let Some(h) = home else { continue };
        if let Some((t, marked)) = &mut teleport {
            if same_place(&obs[*t], &o, cfg) {
                obs[i].class = FixClass::Outlier;
                marked.push(i);
                continue;
            }
            let moving_on =
                separation(&obs[*t], &o) / secs_between(&obs[*t], &o) <= cfg.max_speed_mps;
            if moving_on && too_fast(&obs[h], &o) {
                // The phone moves on from there, at a vehicle's speed, to a place it could
                // not have reached from home either: it was a journey after all.
                for &k in marked.iter() {
                    obs[k].class = FixClass::Outside;
                }
                known_false.retain(|&k| k != *t);
                teleport = None;
                home = None;
                continue;
            }
        }
        let seen_false = known_false.iter().any(|&k| same_place(&obs[k], &o, cfg));
        if too_fast(&obs[h], &o) || seen_false {
            obs[i].class = FixClass::Outlier;
            teleport = Some((i, vec![i]));
            known_false.push(i);
        } else {
            home = None;
            teleport = None;
        }
    }
}

/// A stretch of usable reports that began with a fix clearly outside and has not met a fix
/// at home or a long gap.
struct Run {
    first_outside: usize,
    last_outside: usize,
    outside: usize,
    last_seen: Timestamp,
    /// Whether a fix outside was clearly farther than the first (see
    /// [`GeofenceConfig::receding_m`]).
    receded: bool,
    /// The first check-in answer that confirms the run (rule 8).
    confirmed: Option<usize>,
}

/// The longest time between two consecutive reports, of any kind.
fn longest_gap(reports: &[Obs]) -> SignedDuration {
    reports
        .windows(2)
        .map(|w| w[1].ts.duration_since(w[0].ts))
        .max()
        .unwrap_or(SignedDuration::ZERO)
}

/// Rule 6: runs of fixes clearly outside, kept when persistent.
fn departures(obs: &[Obs], radius: f64, now: Timestamp, cfg: &GeofenceConfig) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut close = |run: Run, ongoing: bool| {
        let span = obs[run.last_outside]
            .ts
            .duration_since(obs[run.first_outside].ts);
        let enough = run.outside >= cfg.min_outside_fixes.max(1);
        let (first, last) = (&obs[run.first_outside], &obs[run.last_outside]);
        let far = |o: &Obs| o.distance - o.accuracy >= cfg.beyond_multipath_m;
        // Every report from the first fix outside to the last belongs to the run: a fix at
        // home or a long gap would have ended it.
        let stay = run.outside >= 2
            && span >= cfg.two_fix_duration
            && longest_gap(&obs[run.first_outside..=run.last_outside]) <= cfg.max_stay_gap
            && (same_place(first, last, cfg) || (far(first) && far(last)));
        let persistent = (enough && (run.receded || span >= cfg.min_outside_duration))
            || stay
            || run.confirmed.is_some();
        if persistent {
            flags.push(departure_flag(obs, &run, radius, ongoing, cfg));
        }
    };
    let mut run: Option<Run> = None;
    for (i, o) in obs.iter().enumerate() {
        if coarse_at_home(o, radius, cfg) {
            if let Some(r) = run.take() {
                close(r, false);
            }
            continue;
        }
        if !usable(o.class) {
            continue;
        }
        let broken = |r: &mut Run| {
            let gap = o.ts.duration_since(r.last_seen);
            let bridged = o.class == FixClass::Outside
                && gap <= cfg.max_bridged_gap
                && same_place(&obs[r.last_outside], o, cfg);
            gap > cfg.max_run_gap && !bridged
        };

        if let Some(r) = run.take_if(broken) {
            close(r, false);
        }
        match (o.class, &mut run) {
            (FixClass::Outside, Some(r)) => {
                let first = &obs[r.first_outside];
                r.receded |=
                    (o.distance - o.accuracy) - (first.distance + first.accuracy) >= cfg.receding_m;
                r.last_outside = i;
                r.outside += 1;
                r.last_seen = o.ts;
                r.confirmed = r.confirmed.or(o.confirms(cfg).then_some(i));
            }
            (FixClass::Outside, None) => {
                run = Some(Run {
                    first_outside: i,
                    last_outside: i,
                    outside: 1,
                    last_seen: o.ts,
                    receded: false,
                    confirmed: o.confirms(cfg).then_some(i),
                });
            }
            (FixClass::Edge, Some(r)) => {
                r.last_seen = o.ts;
            }
            (FixClass::Inside, Some(_)) => close(run.take().expect("matched Some"), false),
            _ => {}
        }
    }
    if let Some(r) = run {
        let ongoing = now.duration_since(r.last_seen) <= cfg.max_run_gap;
        close(r, ongoing);
    }
    flags
}

fn spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    let at = |i: usize| values.get(i).copied().map_or(0, metres);
    Spread {
        min: at(0),
        median: at(values.len().saturating_sub(1) / 2),
        max: at(values.len().saturating_sub(1)),
    }
}

fn thin(points: &[Obs], max: usize) -> Vec<TrackPoint> {
    let n = points.len();
    match max {
        _ if n <= max => points.iter().map(Obs::track_point).collect(),
        0 => Vec::new(),
        1 => vec![points[0].track_point()],
        _ => (0..max)
            .map(|k| points[k * (n - 1) / (max - 1)].track_point())
            .collect(),
    }
}

fn departure_flag(
    obs: &[Obs],
    run: &Run,
    radius: f64,
    ongoing: bool,
    cfg: &GeofenceConfig,
) -> Flag {
    let span = &obs[run.first_outside..=run.last_outside];
    let count = |c: FixClass| span.iter().filter(|o| o.class == c).count() as u32;
    let outside: Vec<&Obs> = span
        .iter()
        .filter(|o| o.class == FixClass::Outside)
        .collect();
    let inside = |o: &&Obs| o.class == FixClass::Inside;
    Flag {
        from: obs[run.first_outside].ts,
        to: obs[run.last_outside].ts,
        ongoing,
        evidence: Evidence::LeftHome(TrackEvidence {
            radius_m: metres(radius),
            fixes: span.len() as u32,
            outside: outside.len() as u32,
            edge: count(FixClass::Edge),
            coarse: count(FixClass::Coarse),
            outliers: count(FixClass::Outlier),
            repeats: count(FixClass::Repeat),
            distance_m: spread(outside.iter().map(|o| o.distance).collect()),
            accuracy_m: spread(outside.iter().map(|o| o.raw_accuracy).collect()),
            last_inside_before: obs[..run.first_outside]
                .iter()
                .rev()
                .find(inside)
                .map(Obs::track_point),
            first_inside_after: obs[run.last_outside + 1..]
                .iter()
                .find(inside)
                .map(Obs::track_point),
            track: thin(span, cfg.track_points),
            confirmed_by_checkin: run.confirmed.map(|i| obs[i].track_point()),
        }),
    }
}

/// Rule 7: silences, counting every report (coarse, repeated or not) as a sign of life.
fn silences(obs: &[Obs], start: Timestamp, now: Timestamp, cfg: &GeofenceConfig) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut last: Option<&Obs> = None;
    let flag = |from: Timestamp, to: Timestamp, before: Option<&Obs>, after: Option<&Obs>| Flag {
        from,
        to,
        ongoing: after.is_none(),
        evidence: Evidence::NoSignal(SilenceEvidence {
            last_before: before.map(Obs::track_point),
            first_after: after.map(Obs::track_point),
        }),
    };
    for o in obs {
        let since = last.map_or(start, |l| l.ts);
        if o.ts.duration_since(since) >= cfg.silence_threshold {
            flags.push(flag(since, o.ts, last, Some(o)));
        }
        last = Some(o);
    }
    let since = last.map_or(start, |l| l.ts);
    if now.duration_since(since) >= cfg.silence_threshold {
        flags.push(flag(since, now, last, None));
    }
    flags
}

#[cfg(test)]
mod tests;
