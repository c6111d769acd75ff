//! Synthetic patient-days: where each patient really was, and what their phone reported
//! when.
//!
//! Everything here is independent of the evaluator, so the same traces can be scored by
//! [`super::replay`] in process or posted to a running server by `propusk simulate
//! monitoring`. A patient-day is a pure function of the scenario and the patient's index.

use jiff::{SignedDuration, Timestamp};

use crate::domain::GeoPoint;
use crate::monitoring::geofence::{Fix, Geofence};
use crate::monitoring::rng::Rng;

/// Mean Earth radius, metres (the one `domain::distance_m` uses).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The point `distance_m` metres from `p` towards `bearing` (radians clockwise from north).
/// A flat-Earth step, accurate to well under a metre at the few kilometres simulated here.
pub fn displace(p: GeoPoint, distance_m: f64, bearing: f64) -> GeoPoint {
    let north = distance_m * bearing.cos();
    let east = distance_m * bearing.sin();
    let lat = (p.lat() + (north / EARTH_RADIUS_M).to_degrees()).clamp(-89.9, 89.9);
    let lon = p.lon() + (east / (EARTH_RADIUS_M * p.lat().to_radians().cos())).to_degrees();
    let lon = (lon + 540.0).rem_euclid(360.0) - 180.0;
    GeoPoint::new(lat, lon).expect("clamped and wrapped into range")
}

/// How phones report and how wrong they are. [`Default`] is the model the acceptance figures
/// are measured on; every number is a range drawn per patient or per fix as documented.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseModel {
    /// Seconds between fixes, drawn per phone (±25 % jitter per fix). Default 60–240 s.
    pub cadence_s: (f64, f64),
    /// Share of phones in battery-saving mode, reporting every 5–10 minutes. Default 0.15.
    pub slow_share: f64,
    /// Fixes come this many times less often from 00:00 to 07:00 (doze), at most every
    /// 15 minutes. Default 3.
    pub night_slowdown: f64,
    /// Times a day the app is killed or dozes and takes no fixes (Poisson mean). Default 3.
    pub app_gaps_per_day: f64,
    /// …for this many minutes each. Default 10–60.
    pub app_gap_min: (f64, f64),
    /// Share of patient-days on which the phone dies. Default 0.10.
    pub dead_share: f64,
    /// …for this many hours. Default 2–10.
    pub dead_hours: (f64, f64),
    /// Seconds between upload attempts while online, drawn per phone: the app posts each fix
    /// at the next attempt after taking it. Default 10–60.
    pub upload_every_s: (f64, f64),
    /// Share of patient-days with an offline stretch (fixes buffered, uploaded after).
    /// Default 0.30.
    pub offline_share: f64,
    /// …of this many hours. Default 0.5–8.
    pub offline_hours: (f64, f64),
    /// Share of patient-days whose phone holds its buffer for a long time before uploading.
    /// Default 0.03.
    pub late_share: f64,
    /// …this many hours after taking the fixes. Default 12–48.
    pub late_hours: (f64, f64),
    /// Indoors: share of fixes from Wi-Fi (honest accuracy 12–40 m); the rest are indoor
    /// satellite fixes (8–50 m reported, the true error 1–2 times what is reported).
    /// Default 0.65.
    pub wifi_share: f64,
    /// Share of fixes that are cell/Wi-Fi outliers: accuracy 500–3000 m, position off by
    /// 0.2–1.5 times that. Default 0.05 indoors, half that outdoors.
    pub coarse_rate: f64,
    /// Indoor multipath episodes per hour: the position jumps 50–400 m while the phone
    /// reports 5–30 m accuracy. Default 0.3 (seven a day).
    pub multipath_per_hour: f64,
    /// Mean length of an episode, seconds (exponentially distributed). Default 60.
    pub multipath_mean_s: f64,
    /// Offset of an episode, metres (each fix within ±15 % and ±17° of it). Default 50–400.
    pub multipath_offset_m: (f64, f64),
    /// Share of fixes during an episode that are jumps (the rest are normal). Default 0.9.
    pub multipath_hit: f64,
    /// Share of reports that repeat the previous fix with a new time (the OS's cached
    /// position). Default 0.03.
    pub stale_rate: f64,
}

impl Default for NoiseModel {
    fn default() -> Self {
        Self {
            cadence_s: (60.0, 240.0),
            slow_share: 0.15,
            night_slowdown: 3.0,
            app_gaps_per_day: 3.0,
            app_gap_min: (10.0, 60.0),
            dead_share: 0.10,
            dead_hours: (2.0, 10.0),
            upload_every_s: (10.0, 60.0),
            offline_share: 0.30,
            offline_hours: (0.5, 8.0),
            late_share: 0.03,
            late_hours: (12.0, 48.0),
            wifi_share: 0.65,
            coarse_rate: 0.05,
            multipath_per_hour: 0.3,
            multipath_mean_s: 60.0,
            multipath_offset_m: (50.0, 400.0),
            multipath_hit: 0.9,
            stale_rate: 0.03,
        }
    }
}

/// A simulated day for a population.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Everything follows from this.
    pub seed: u64,
    /// How many patients.
    pub patients: usize,
    /// Share of patients who really leave home (1–3 times, ≥ 300 m, ≥ 20 minutes each).
    pub violator_share: f64,
    /// The first moment of the simulated day (local midnight; the day is 24 hours).
    pub day_start: Timestamp,
    /// The phones.
    pub noise: NoiseModel,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            seed: 2020,
            patients: 500,
            violator_share: 0.10,
            // Midnight in Moscow, 15 April 2020.
            day_start: "2020-04-14T21:00:00Z".parse().expect("a valid timestamp"),
            noise: NoiseModel::default(),
        }
    }
}

/// A real departure: the patient was away from `start` to `end`, at least 300 m from home
/// for at least 20 minutes of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Departure {
    /// When the patient stepped out.
    pub start: Timestamp,
    /// When they were back.
    pub end: Timestamp,
    /// How far they went, metres.
    pub distance_m: f64,
    /// Whether the phone could see it: it was taking fixes (not dead, app not killed) for at
    /// least 20 minutes of the time the patient was 300 m or more from home. Departures the
    /// phone could not see are reported separately.
    pub observable: bool,
}

/// One fix and when it reaches the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// What the phone reported.
    pub fix: Fix,
    /// When the upload carrying it arrives.
    pub arrives_at: Timestamp,
}

/// One patient's simulated day.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientDay {
    /// The patient's index in the scenario.
    pub index: usize,
    /// Their home and radius.
    pub fence: Geofence,
    /// Whether they leave home.
    pub violator: bool,
    /// Their real departures.
    pub departures: Vec<Departure>,
    /// Whether their phone died for hours.
    pub phone_died: bool,
    /// What the phone reported, in order of arrival.
    pub reports: Vec<Report>,
}

/// Where the patient is at a moment, and whether under a roof.
struct Truth {
    point: GeoPoint,
    indoors: bool,
}

struct Trip {
    start: f64,
    bearing: f64,
    distance: f64,
    speed: f64,
    stay: f64,
    indoors_there: bool,
}

impl Trip {
    fn travel(&self) -> f64 {
        self.distance / self.speed
    }

    fn end(&self) -> f64 {
        self.start + 2.0 * self.travel() + self.stay
    }
}

struct Episode {
    start: f64,
    end: f64,
    offset: f64,
    bearing: f64,
}

const DAY_S: f64 = 86_400.0;

fn at(day_start: Timestamp, secs: f64) -> Timestamp {
    day_start + SignedDuration::from_secs_f64(secs)
}

fn in_any(intervals: &[(f64, f64)], t: f64) -> bool {
    intervals.iter().any(|&(s, e)| s <= t && t < e)
}

/// The union of intervals, as disjoint intervals.
fn merged(intervals: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted = intervals.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Generates patient `index` of the scenario.
pub fn generate_patient(scenario: &Scenario, index: usize) -> PatientDay {
    let n = &scenario.noise;
    let mut rng = Rng::stream(scenario.seed, index as u64);

    // The home: somewhere in Moscow; the phone rests somewhere in the flat.
    let home = GeoPoint::new(
        55.75 + rng.uniform(-0.15, 0.15),
        37.62 + rng.uniform(-0.25, 0.25),
    )
    .expect("in range");
    let radius = [50.0, 75.0, 100.0, 150.0, 200.0][rng.below(5) as usize];
    let fence = Geofence::new(home, radius).expect("radius in range");
    let resting = displace(
        home,
        rng.uniform(0.0, 15.0),
        rng.uniform(0.0, std::f64::consts::TAU),
    );

    // Real departures.
    let violator = rng.chance(scenario.violator_share);
    let mut trips: Vec<Trip> = Vec::new();
    if violator {
        let wanted = match rng.unit() {
            u if u < 0.6 => 1,
            u if u < 0.9 => 2,
            _ => 3,
        };
        for _ in 0..50 {
            if trips.len() == wanted {
                break;
            }
            let walking = rng.chance(0.75);
            let trip = Trip {
                start: rng.uniform(8.0, 20.0) * 3600.0,
                bearing: rng.uniform(0.0, std::f64::consts::TAU),
                distance: 300.0 * 10f64.powf(rng.unit()), // log-uniform 300 m – 3 km
                speed: if walking {
                    rng.uniform(1.1, 1.6)
                } else {
                    rng.uniform(5.0, 12.0)
                },
                stay: rng.uniform(20.0, 120.0) * 60.0,
                indoors_there: rng.chance(0.5),
            };
            let clear = trips
                .iter()
                .all(|o| trip.end() + 1800.0 < o.start || o.end() + 1800.0 < trip.start);
            if clear {
                trips.push(trip);
            }
        }
        trips.sort_by(|a, b| a.start.total_cmp(&b.start));
    }
    let truth = |t: f64| -> Truth {
        for trip in &trips {
            if trip.start <= t && t < trip.end() {
                let travel = trip.travel();
                let (from_home, indoors) = if t < trip.start + travel {
                    ((t - trip.start) * trip.speed, false)
                } else if t < trip.start + travel + trip.stay {
                    (trip.distance, trip.indoors_there)
                } else {
                    ((trip.end() - t) * trip.speed, false)
                };
                return Truth {
                    point: displace(resting, from_home, trip.bearing),
                    indoors,
                };
            }
        }
        Truth {
            point: resting,
            indoors: true,
        }
    };

    // When the phone takes no fixes: dead, or the app killed.
    let mut silent: Vec<(f64, f64)> = Vec::new();
    let phone_died = rng.chance(n.dead_share);
    if phone_died {
        let s = rng.uniform(0.0, DAY_S);
        silent.push((s, s + rng.uniform(n.dead_hours.0, n.dead_hours.1) * 3600.0));
    }
    let mut gaps = 0;
    let limit = (-n.app_gaps_per_day).exp();
    let mut product = rng.unit();
    while product > limit && gaps < 20 {
        gaps += 1;
        product *= rng.unit();
    }
    for _ in 0..gaps {
        let s = rng.uniform(0.0, DAY_S);
        silent.push((s, s + rng.uniform(n.app_gap_min.0, n.app_gap_min.1) * 60.0));
    }

    // When uploads are held back: offline stretches, and phones that upload days late.
    let mut held: Vec<(f64, f64, f64)> = Vec::new(); // (from, to, released at)
    if rng.chance(n.offline_share) {
        let s = rng.uniform(0.0, DAY_S);
        let e = s + rng.uniform(n.offline_hours.0, n.offline_hours.1) * 3600.0;
        held.push((s, e, e));
    }
    if rng.chance(n.late_share) {
        let s = rng.uniform(0.0, DAY_S);
        let e = s + rng.uniform(2.0, 12.0) * 3600.0;
        held.push((
            s,
            e,
            s + rng.uniform(n.late_hours.0, n.late_hours.1) * 3600.0,
        ));
    }
    let upload_every = rng.uniform(n.upload_every_s.0, n.upload_every_s.1);
    let upload_phase = rng.uniform(0.0, upload_every);
    let next_upload =
        |t: f64| upload_phase + ((t - upload_phase) / upload_every).ceil().max(0.0) * upload_every;

    // Indoor multipath episodes over the day.
    let mut episodes: Vec<Episode> = Vec::new();
    let mut t = rng.exponential(3600.0 / n.multipath_per_hour.max(1e-9));
    while t < DAY_S {
        episodes.push(Episode {
            start: t,
            end: t + rng.exponential(n.multipath_mean_s),
            offset: rng.uniform(n.multipath_offset_m.0, n.multipath_offset_m.1),
            bearing: rng.uniform(0.0, std::f64::consts::TAU),
        });
        t += rng.exponential(3600.0 / n.multipath_per_hour.max(1e-9));
    }

    // The fixes.
    let cadence = if rng.chance(n.slow_share) {
        rng.uniform(300.0, 600.0)
    } else {
        rng.uniform(n.cadence_s.0, n.cadence_s.1)
    };
    let mut reports: Vec<Report> = Vec::new();
    let mut previous: Option<Fix> = None;
    let mut t = rng.uniform(0.0, cadence);
    while t < DAY_S {
        if !in_any(&silent, t) {
            let ts = at(scenario.day_start, t);
            let fix = match previous {
                Some(p) if rng.chance(n.stale_rate) => {
                    Fix::new(ts, p.point(), p.accuracy_m()).expect("valid")
                }
                _ => {
                    let truth = truth(t);
                    let episode = episodes.iter().find(|e| e.start <= t && t < e.end);
                    noisy_fix(&mut rng, n, ts, &truth, episode)
                }
            };
            previous = Some(fix);
            let release = held
                .iter()
                .find(|&&(s, e, _)| s <= t && t < e)
                .map_or(t + rng.uniform(1.0, 20.0), |&(_, _, r)| r);
            reports.push(Report {
                fix,
                arrives_at: at(scenario.day_start, next_upload(release)),
            });
        }
        let night = t % DAY_S < 7.0 * 3600.0;
        let base = if night {
            (cadence * n.night_slowdown).min(900.0).max(cadence)
        } else {
            cadence
        };
        t += base * rng.uniform(0.75, 1.25);
    }
    reports.sort_by(|a, b| {
        a.arrives_at
            .cmp(&b.arrives_at)
            .then(a.fix.ts().cmp(&b.fix.ts()))
    });

    let departures = trips
        .iter()
        .map(|trip| Departure {
            start: at(scenario.day_start, trip.start),
            end: at(scenario.day_start, trip.end()),
            distance_m: trip.distance,
            observable: {
                // The issue's own test of a real departure — at least 300 m away for at least
                // 20 minutes — applied to what the phone could see: the time at ≥ 300 m
                // minus the time the phone was dead or the app killed.
                let (from, to) = (
                    trip.start + 300.0 / trip.speed,
                    trip.end() - 300.0 / trip.speed,
                );
                let blind: f64 = merged(&silent)
                    .iter()
                    .map(|&(s, e)| (e.min(to) - s.max(from)).max(0.0))
                    .sum();
                to - from - blind >= 20.0 * 60.0
            },
        })
        .collect();

    PatientDay {
        index,
        fence,
        violator,
        departures,
        phone_died,
        reports,
    }
}

/// One fix of a phone at `truth`: indoors Wi-Fi or satellite noise, multipath jumps and
/// cell outliers; outdoors good satellite fixes with rare outliers.
fn noisy_fix(
    rng: &mut Rng,
    n: &NoiseModel,
    ts: Timestamp,
    truth: &Truth,
    episode: Option<&Episode>,
) -> Fix {
    let random_bearing = |rng: &mut Rng| rng.uniform(0.0, std::f64::consts::TAU);
    // A 2-D Gaussian error whose 68 % radius is `accuracy × scale`.
    let gaussian = |rng: &mut Rng, accuracy: f64, scale: f64| {
        let sigma = accuracy * scale / 1.509;
        let (dn, de) = (rng.normal() * sigma, rng.normal() * sigma);
        (dn.hypot(de), de.atan2(dn))
    };
    let (offset, bearing, accuracy) = match episode {
        Some(e) if truth.indoors && rng.chance(n.multipath_hit) => (
            e.offset * rng.uniform(0.85, 1.15),
            e.bearing + rng.uniform(-0.3, 0.3),
            rng.uniform(5.0, 30.0),
        ),
        _ if rng.chance(if truth.indoors {
            n.coarse_rate
        } else {
            n.coarse_rate / 2.0
        }) =>
        {
            let accuracy = rng.uniform(500.0, 3000.0);
            (
                accuracy * rng.uniform(0.2, 1.5),
                random_bearing(rng),
                accuracy,
            )
        }
        _ if !truth.indoors => {
            let accuracy = rng.uniform(4.0, 20.0);
            let scale = rng.uniform(1.0, 1.3);
            let (d, b) = gaussian(rng, accuracy, scale);
            (d, b, accuracy)
        }
        _ if rng.chance(n.wifi_share) => {
            let accuracy = rng.uniform(12.0, 40.0);
            let (d, b) = gaussian(rng, accuracy, 1.0);
            (d, b, accuracy)
        }
        _ => {
            let accuracy = rng.uniform(8.0, 50.0);
            let scale = rng.uniform(1.0, 2.0);
            let (d, b) = gaussian(rng, accuracy, scale);
            (d, b, accuracy)
        }
    };
    let point = displace(truth.point, offset, bearing);
    Fix::new(ts, point, (accuracy * 10.0).round() / 10.0).expect("valid accuracy")
}
