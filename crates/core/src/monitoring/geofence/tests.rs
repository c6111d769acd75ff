use proptest::prelude::*;

use super::*;
use crate::monitoring::simulate::displace;
use crate::monitoring::FlagKind;

fn home() -> GeoPoint {
    GeoPoint::new(55.75, 37.62).unwrap()
}

fn fence() -> Geofence {
    Geofence::new(home(), 100.0).unwrap()
}

fn t0() -> Timestamp {
    "2020-04-15T06:00:00Z".parse().unwrap()
}

fn at(minute: f64) -> Timestamp {
    t0() + SignedDuration::from_secs_f64(minute * 60.0)
}

/// A fix `distance` metres from home (towards `bearing` radians), at `minute` after t0.
fn fix_towards(minute: f64, distance: f64, bearing: f64, accuracy: f64) -> Fix {
    Fix::new(at(minute), displace(home(), distance, bearing), accuracy).unwrap()
}

fn fix(minute: f64, distance: f64, accuracy: f64) -> Fix {
    fix_towards(minute, distance, 1.0, accuracy)
}

/// Ordinary fixes at home every `every` minutes in `[from, to)`, each a little different.
fn at_home(from: f64, to: f64, every: f64) -> Vec<Fix> {
    let mut out = Vec::new();
    let mut m = from;
    let mut i = 0;
    while m < to {
        out.push(fix_towards(
            m,
            8.0 + f64::from(i % 7) * 4.0,
            f64::from(i),
            20.0,
        ));
        m += every;
        i += 1;
    }
    out
}

fn evaluate_at(fixes: &[Fix], now_minute: f64) -> Vec<Flag> {
    evaluate(
        &fence(),
        fixes,
        t0(),
        at(now_minute),
        &GeofenceConfig::default(),
    )
}

fn of_kind(flags: &[Flag], kind: FlagKind) -> Vec<&Flag> {
    flags.iter().filter(|f| f.kind() == kind).collect()
}

fn track(flag: &Flag) -> &TrackEvidence {
    match &flag.evidence {
        Evidence::LeftHome(e) => e,
        other => panic!("not a departure: {other:?}"),
    }
}

/// Home until 60, out at 400 m every 2 minutes from 62 to 100, home again from 102.
fn departure_day() -> Vec<Fix> {
    let mut fixes = at_home(0.0, 61.0, 2.0);
    fixes.extend((0..20).map(|i| {
        fix(
            62.0 + 2.0 * f64::from(i),
            400.0 + f64::from(i % 3) * 7.0,
            8.0,
        )
    }));
    fixes.extend(at_home(102.0, 180.0, 2.0));
    fixes
}

#[test]
fn staying_home_raises_nothing() {
    let fixes = at_home(0.0, 24.0 * 60.0, 2.0);
    assert_eq!(evaluate_at(&fixes, 24.0 * 60.0), vec![]);
}

#[test]
fn jumps_and_short_bursts_are_not_departures() {
    let mut fixes = at_home(0.0, 80.0, 1.0);
    // One multipath jump with a falsely small accuracy…
    fixes.push(fix(30.5, 400.0, 8.0));
    // …and a burst of five over four minutes, consistent and far, with no fix at home
    // in between.
    fixes.extend((0..5).map(|i| fix(80.2 + f64::from(i), 350.0 + f64::from(i), 12.0)));
    fixes.extend(at_home(85.0, 120.0, 1.0));
    let flags = evaluate_at(&fixes, 120.0);
    assert!(of_kind(&flags, FlagKind::LeftHome).is_empty(), "{flags:?}");
}

#[test]
fn a_real_departure_is_flagged_with_map_free_evidence() {
    let flags = evaluate_at(&departure_day(), 180.0);
    assert_eq!(flags.len(), 1, "{flags:?}");
    let flag = &flags[0];
    assert_eq!(flag.kind(), FlagKind::LeftHome);
    assert_eq!(
        (flag.from, flag.to, flag.ongoing),
        (at(62.0), at(100.0), false)
    );
    let e = track(flag);
    assert_eq!((e.radius_m, e.fixes, e.outside, e.edge), (100, 20, 20, 0));
    assert!(e.distance_m.min.abs_diff(400) <= 1 && e.distance_m.max.abs_diff(414) <= 1);
    assert_eq!(e.accuracy_m.median, 8);
    assert_eq!(e.last_inside_before.unwrap().ts, at(60.0));
    assert_eq!(e.first_inside_after.unwrap().ts, at(102.0));
    assert_eq!(e.track.len(), 20);
    // No coordinates anywhere in what is stored and shown.
    let json = serde_json::to_string(flag).unwrap();
    assert!(
        !json.contains("lat") && !json.contains("lon") && !json.contains("55.7"),
        "{json}"
    );
    assert!(json.contains(r#""kind":"left_home""#));
}

#[test]
fn persistence_needs_enough_fixes_over_enough_time() {
    let cfg = GeofenceConfig::default();
    let flagged = |outside: Vec<Fix>| {
        let mut fixes = at_home(0.0, 30.0, 2.0);
        fixes.extend(outside);
        fixes.extend(at_home(60.0, 90.0, 2.0));
        !of_kind(&evaluate_at(&fixes, 90.0), FlagKind::LeftHome).is_empty()
    };
    // 500 m out, moving about (no two fixes at one place, none receding)…
    let about = |minutes: &[f64]| -> Vec<Fix> {
        minutes
            .iter()
            .map(|&m| fix_towards(m, 500.0, m / 10.0, 10.0))
            .collect()
    };
    // …or staying at one place.
    let staying = |minutes: &[f64]| -> Vec<Fix> {
        minutes.iter().map(|&m| fix(m, 500.0 + m, 10.0)).collect()
    };
    let d = cfg.min_outside_duration.as_secs_f64() / 60.0;
    assert!(
        !flagged(about(&[31.0, 31.0 + d / 2.0, 31.0 + d - 0.1])),
        "just short of the duration"
    );
    assert!(
        flagged(about(&[31.0, 31.0 + d / 2.0, 31.0 + d])),
        "exactly the duration"
    );
    assert!(
        !flagged(about(&[31.0, 31.0 + d])),
        "two fixes at different places nearby"
    );
    let d2 = cfg.two_fix_duration.as_secs_f64() / 60.0;
    assert!(d2 < d, "a consistent position is stronger evidence");
    // A slow phone: two good fixes, a cell position between them.
    let slow = |minutes: &[f64]| -> Vec<Fix> {
        let mut out = staying(minutes);
        out.push(fix((minutes[0] + minutes[1]) / 2.0, 900.0, 800.0));
        out
    };
    assert!(
        !flagged(slow(&[31.0, 31.0 + d2 - 0.1])),
        "two fixes just short"
    );
    assert!(
        flagged(slow(&[31.0, 31.0 + d2])),
        "two fixes at one place as far apart as a slow phone reports"
    );
    assert!(
        !flagged(staying(&[31.0, 31.0 + d2])),
        "nothing known between them"
    );
    // A phone that had no new position re-sent its first one between them: it was
    // reporting, so nothing of that time is still to come.
    let repeat_of_first = |out: &mut Vec<Fix>, minute: f64| {
        out.push(Fix::new(at(minute), out[0].point(), out[0].accuracy_m()).unwrap());
    };
    let mut repeated = staying(&[31.0, 31.0 + d2]);
    repeat_of_first(&mut repeated, 31.0 + d2 / 2.0);
    assert!(flagged(repeated), "a repeat between them");
    let mut once = staying(&[31.0]);
    repeat_of_first(&mut once, 31.0 + d2);
    assert!(!flagged(once), "a repeat is not a second fix");
    // Only the time between the stay's fixes matters, not a silence after the last of them.
    let mut then_quiet = slow(&[31.0, 31.0 + d2]);
    let last = fix(31.0 + d2, 500.0 + 31.0 + d2, 10.0);
    then_quiet.push(Fix::new(at(31.0 + d2 + 15.0), last.point(), last.accuracy_m()).unwrap());
    assert!(flagged(then_quiet), "a repeat long after the stay");
    // A phone in battery saving, one fix every ten minutes, one of them a few seconds late.
    assert!(
        flagged(staying(&[31.0, 41.1, 49.3])),
        "the slowest cadence, a little late"
    );
    assert!(
        cfg.max_stay_gap < cfg.two_fix_duration,
        "two fixes alone are never a stay"
    );
    assert!(!flagged(staying(&[31.0])), "one fix is never enough");
}

#[test]
fn an_accuracy_circle_overlapping_home_is_not_outside() {
    // 180 m away but ±90 m: could be home. Hours of it flag nothing.
    let fixes: Vec<Fix> = (0..120)
        .map(|i| fix(f64::from(i), 180.0 + f64::from(i % 5), 90.0))
        .collect();
    assert!(evaluate_at(&fixes, 130.0).is_empty());
    // 130 m ± 10 m: beyond the circle but within the margin, on the edge; not evidence.
    let fixes: Vec<Fix> = (0..120)
        .map(|i| fix(f64::from(i), 130.0 + f64::from(i % 5), 10.0))
        .collect();
    assert!(evaluate_at(&fixes, 130.0).is_empty());
    // 160 m ± 10 m: clearly outside.
    let fixes: Vec<Fix> = (0..120)
        .map(|i| fix(f64::from(i), 160.0 + f64::from(i % 5), 10.0))
        .collect();
    assert_eq!(
        of_kind(&evaluate_at(&fixes, 130.0), FlagKind::LeftHome).len(),
        1
    );
}

#[test]
fn a_tiny_fence_is_judged_with_the_minimum_radius() {
    let tiny = Geofence::new(home(), 20.0).unwrap();
    let fixes: Vec<Fix> = (0..60)
        .map(|i| fix(f64::from(i), 95.0 + f64::from(i % 4), 10.0))
        .collect();
    let flags = evaluate(&tiny, &fixes, t0(), at(60.0), &GeofenceConfig::default());
    assert!(flags.is_empty(), "{flags:?}");
}

#[test]
fn coarse_fixes_neither_show_nor_interrupt_a_departure() {
    // Cell positions 3 km off for hours: alive, not departed.
    let fixes: Vec<Fix> = (0..180)
        .map(|i| fix(f64::from(i), 3000.0, 1500.0 + f64::from(i)))
        .collect();
    assert!(evaluate_at(&fixes, 180.0).is_empty());
    // A departure with coarse fixes near home in the middle is still one departure.
    let mut fixes = departure_day();
    fixes.extend([fix(71.0, 30.0, 800.0), fix(81.0, 10.0, 1200.0)]);
    let flags = evaluate_at(&fixes, 180.0);
    assert_eq!(flags.len(), 1);
    assert_eq!(track(&flags[0]).coarse, 2);
}

#[test]
fn a_repeated_fix_is_one_observation() {
    let mut fixes = at_home(0.0, 30.0, 2.0);
    let jump = fix(31.0, 350.0, 10.0);
    fixes.push(jump);
    // The phone re-sends the same cached position for twelve minutes.
    fixes.extend((1..=6).map(|i| {
        Fix::new(
            at(31.0 + 2.0 * f64::from(i)),
            jump.point(),
            jump.accuracy_m(),
        )
        .unwrap()
    }));
    fixes.extend(at_home(45.0, 60.0, 2.0));
    assert!(evaluate_at(&fixes, 60.0).is_empty());
}

#[test]
fn an_out_and_back_spike_does_not_split_a_departure() {
    // Home until minute 20; from 31, after the trip (the app killed on the way), fast
    // reporting (every 10 s) 1.5 km away, with one fix "at home" in between that could only
    // be reached at ~150 m/s.
    let mut fixes = at_home(0.0, 20.0, 1.0);
    fixes.extend((0..90).map(|i| fix(31.0 + f64::from(i) / 6.0, 1500.0 + f64::from(i % 4), 6.0)));
    fixes.push(fix(31.0 + 4.0 / 6.0 + 0.05, 12.0, 10.0));
    fixes.extend(at_home(50.0, 60.0, 1.0));
    let flags = evaluate_at(&fixes, 60.0);
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(track(&flags[0]).outliers, 1);
    assert_eq!(flags[0].from, at(31.0));
}

#[test]
fn the_newest_fix_is_held_back_while_it_contradicts_the_last() {
    let mut fixes = at_home(0.0, 10.0, 1.0 / 6.0);
    // 2 km away ten seconds after a fix at home.
    fixes.push(fix(10.0, 2000.0, 5.0));
    let cfg = GeofenceConfig::default();
    assert!(evaluate(&fence(), &fixes, t0(), at(10.0), &cfg).is_empty());
    // Check the classification directly.
    let mut classified: Vec<Obs> = fixes
        .iter()
        .map(|f| Obs {
            ts: f.ts(),
            point: f.point(),
            raw_accuracy: f.accuracy_m(),
            accuracy: f.accuracy_m().max(10.0),
            distance: distance_m(home(), f.point()),
            class: FixClass::Inside,
            answer: false,
        })
        .collect();
    classified.last_mut().unwrap().class = FixClass::Outside;
    mark_outliers(&mut classified, &cfg);
    assert_eq!(classified.last().unwrap().class, FixClass::Outlier);
}

#[test]
fn silence_is_no_signal_and_never_left_home() {
    // Reports until 10:00 local (minute 60), a flat battery, reports again from minute 360.
    let mut fixes = at_home(0.0, 61.0, 2.0);
    fixes.extend(at_home(360.0, 400.0, 2.0));
    let flags = evaluate_at(&fixes, 400.0);
    assert_eq!(flags.len(), 1, "{flags:?}");
    let f = &flags[0];
    assert_eq!(
        (f.kind(), f.from, f.to, f.ongoing),
        (FlagKind::NoSignal, at(60.0), at(360.0), false)
    );
    let Evidence::NoSignal(e) = &f.evidence else {
        panic!()
    };
    assert_eq!(e.last_before.unwrap().ts, at(60.0));
    assert_eq!(e.first_after.unwrap().ts, at(360.0));
    assert!(!FlagKind::NoSignal.may_be_sanctioned());

    // Still silent at evaluation: an ongoing flag with nothing after.
    let flags = evaluate_at(&at_home(0.0, 61.0, 2.0), 300.0);
    assert_eq!(flags.len(), 1);
    assert!(flags[0].ongoing);
    assert_eq!((flags[0].from, flags[0].to), (at(60.0), at(300.0)));

    // Silent from the start of monitoring: measured from it.
    let flags = evaluate_at(&at_home(200.0, 240.0, 2.0), 240.0);
    assert_eq!((flags[0].from, flags[0].to), (t0(), at(200.0)));
    let Evidence::NoSignal(e) = &flags[0].evidence else {
        panic!()
    };
    assert!(e.last_before.is_none());

    // Just under the threshold: nothing.
    let mut fixes = at_home(0.0, 61.0, 2.0);
    fixes.extend(at_home(179.0, 200.0, 2.0));
    assert!(evaluate_at(&fixes, 200.0).is_empty());
}

#[test]
fn a_long_gap_ends_a_run() {
    // Two short bursts somewhere else, with a long silence between them.
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend([30.0, 32.0, 34.0].map(|m| fix_towards(m, 500.0, 1.0, 10.0)));
    fixes.extend([75.0, 77.0, 79.0].map(|m| fix_towards(m, 500.0, 2.5, 10.0)));
    fixes.extend(at_home(81.0, 100.0, 2.0));
    assert!(evaluate_at(&fixes, 100.0).is_empty());
    // The same six fixes with a shorter gap are one run.
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend([30.0, 32.0, 34.0, 55.0, 57.0, 59.0].map(|m| fix(m, 500.0 + m, 10.0)));
    fixes.extend(at_home(61.0, 100.0, 2.0));
    assert_eq!(evaluate_at(&fixes, 100.0).len(), 1);
}

#[test]
fn someone_walking_away_is_flagged_before_the_minimum_duration() {
    // Out of the fence and receding at a brisk walk, a fix a minute: 200, 300, 400 m.
    let cfg = GeofenceConfig::default();
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend([31.0, 32.0, 33.0].map(|m| fix(m, 200.0 + 100.0 * (m - 31.0), 8.0)));
    let flags = of_kind(&evaluate_at(&fixes, 33.5), FlagKind::LeftHome).len();
    assert_eq!(flags, 1);
    assert!(SignedDuration::from_mins(2) < cfg.min_outside_duration);
    // The same three fixes holding one position (a multipath episode) are not enough yet.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend([31.0, 32.0, 33.0].map(|m| fix(m, 280.0 + 10.0 * (m - 31.0), 8.0)));
    assert!(evaluate_at(&fixes, 33.5).is_empty());
}

#[test]
fn a_position_reached_from_home_impossibly_fast_is_a_source_error() {
    // A Wi-Fi access point that moved 7 km away with its owner: the phone, at home a minute
    // ago, reports it confidently for 20 minutes, then home again.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend((0..20).map(|i| fix(31.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(51.0, 70.0, 1.0));
    assert!(evaluate_at(&fixes, 70.0).is_empty());
    // Reached at a plausible pace (after a 20-minute silence), the same stay is a departure.
    let mut fixes = at_home(0.0, 11.0, 1.0);
    fixes.extend((0..20).map(|i| fix(31.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(51.0, 70.0, 1.0));
    assert_eq!(evaluate_at(&fixes, 70.0).len(), 1);
}

#[test]
fn a_fast_start_that_moves_on_is_a_journey() {
    // Straight into a car at the door: the first fix, 2 minutes after the last at home, is
    // already 1.6 km off (too fast to have left a building), but the phone goes on moving at
    // 13 m/s and then stays 5 km away.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend((0..4).map(|i| fix(31.0 + f64::from(i), 1600.0 + 780.0 * f64::from(i), 10.0)));
    fixes.extend((0..30).map(|i| fix(35.0 + f64::from(i), 5000.0 + f64::from(i % 4), 10.0)));
    let flags = of_kind(&evaluate_at(&fixes, 65.0), FlagKind::LeftHome)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].from, at(31.0), "the fast start counts again");
    // The same jump that stays put is a source error.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend((0..30).map(|i| fix(31.0 + f64::from(i), 1600.0 + f64::from(i % 4), 10.0)));
    fixes.extend(at_home(61.0, 70.0, 1.0));
    assert!(evaluate_at(&fixes, 70.0).is_empty());
}

#[test]
fn a_place_once_a_teleport_stays_one() {
    // A moved access point 7 km away shows up right after a fix at home (a teleport) …
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend((0..5).map(|i| fix(31.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(36.0, 50.0, 1.0));
    // … and again after a silence long enough that the jump alone would look possible.
    let again = |fixes: &mut Vec<Fix>| {
        fixes.extend((0..20).map(|i| fix(65.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
        fixes.extend(at_home(85.0, 100.0, 1.0));
    };
    again(&mut fixes);
    assert!(evaluate_at(&fixes, 100.0).is_empty());
    // Without the first sighting, the second is a plausible trip.
    let mut fixes = at_home(0.0, 50.0, 1.0);
    again(&mut fixes);
    assert_eq!(
        of_kind(&evaluate_at(&fixes, 100.0), FlagKind::LeftHome).len(),
        1
    );
}

#[test]
fn a_wifi_position_at_home_places_the_phone_there() {
    // Usable fixes at home until 10, then only Wi-Fi positions from weak access points:
    // coarse (180 m), but centred in the building.
    let wifi_at_home = |from: f64, to: f64, accuracy: f64| -> Vec<Fix> {
        let mut out = Vec::new();
        let mut m = from;
        while m < to {
            out.push(fix_towards(m, 60.0 + m % 3.0, m, accuracy));
            m += 1.0;
        }
        out
    };
    // A moved access point 7 km away a minute after such a position is a teleport, though
    // the last usable fix at home was 15 minutes before it.
    let mut fixes = at_home(0.0, 11.0, 1.0);
    fixes.extend(wifi_at_home(11.0, 25.0, 180.0));
    fixes.extend((0..20).map(|i| fix(25.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(45.0, 60.0, 1.0));
    assert!(evaluate_at(&fixes, 60.0).is_empty());
    // Cell positions (600 m) say too little: the same jump then looks like a trip.
    let mut fixes = at_home(0.0, 11.0, 1.0);
    fixes.extend(wifi_at_home(11.0, 25.0, 600.0));
    fixes.extend((0..20).map(|i| fix(25.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(45.0, 60.0, 1.0));
    assert_eq!(
        of_kind(&evaluate_at(&fixes, 60.0), FlagKind::LeftHome).len(),
        1
    );
    // Between two reflections 300 m out, the building's Wi-Fi ends the run: neither part
    // lasts.
    let reflections = |fixes: &mut Vec<Fix>, minutes: &[f64]| {
        fixes.extend(
            minutes
                .iter()
                .map(|&m| fix_towards(m, 300.0, 2.0 + m / 10.0, 10.0)),
        );
    };
    let mut fixes = at_home(0.0, 30.0, 1.0);
    reflections(&mut fixes, &[30.0, 32.0, 34.0]);
    fixes.extend(wifi_at_home(35.0, 40.0, 180.0));
    reflections(&mut fixes, &[41.0, 46.0, 51.0]);
    fixes.extend(at_home(52.0, 60.0, 1.0));
    assert!(evaluate_at(&fixes, 60.0).is_empty());
    // With cell positions between them, they are one run of 21 minutes.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    reflections(&mut fixes, &[30.0, 32.0, 34.0]);
    fixes.extend(wifi_at_home(35.0, 40.0, 600.0));
    reflections(&mut fixes, &[41.0, 46.0, 51.0]);
    fixes.extend(at_home(52.0, 60.0, 1.0));
    assert_eq!(
        of_kind(&evaluate_at(&fixes, 60.0), FlagKind::LeftHome).len(),
        1
    );
}

#[test]
fn a_phone_silent_and_back_at_the_same_place_outside_is_one_run() {
    // Out at 800 m, the app killed for 50 minutes, still there when it comes back.
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend([31.0, 36.0].map(|m| fix_towards(m, 800.0 + m - 31.0, 1.0, 10.0)));
    fixes.extend([86.0, 91.0].map(|m| fix_towards(m, 830.0 + m - 86.0, 1.05, 12.0)));
    fixes.extend(at_home(95.0, 120.0, 2.0));
    let flags = of_kind(&evaluate_at(&fixes, 120.0), FlagKind::LeftHome).len();
    assert_eq!(flags, 1);
    // The same with the phone re-sending one cached position on each side: two positions
    // with nothing known between them for 50 minutes are not a stay.
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend([31.0, 36.0].map(|m| fix_towards(m, 800.0, 1.0, 10.0)));
    fixes.extend([86.0, 91.0].map(|m| fix_towards(m, 830.0, 1.05, 12.0)));
    fixes.extend(at_home(95.0, 120.0, 2.0));
    assert!(of_kind(&evaluate_at(&fixes, 120.0), FlagKind::LeftHome).is_empty());
    // Back from a silence longer than the bridge allows: no continuous evidence.
    let cfg = GeofenceConfig::default();
    let late = 36.0 + cfg.max_bridged_gap.as_secs_f64() / 60.0 + 1.0;
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend([31.0, 36.0].map(|m| fix_towards(m, 800.0 + m - 31.0, 1.0, 10.0)));
    fixes.extend([late, late + 5.0].map(|m| fix_towards(m, 830.0 + m - late, 1.05, 12.0)));
    fixes.extend(at_home(late + 9.0, late + 30.0, 2.0));
    let flags = evaluate_at(&fixes, late + 30.0);
    assert!(of_kind(&flags, FlagKind::LeftHome).is_empty());
}

#[test]
fn an_ongoing_departure() {
    let mut fixes = at_home(0.0, 30.0, 2.0);
    fixes.extend((0..8).map(|i| fix(31.0 + 2.0 * f64::from(i), 600.0 + f64::from(i), 10.0)));
    let flags = evaluate_at(&fixes, 46.0);
    assert_eq!(flags.len(), 1);
    assert!(flags[0].ongoing);
    assert!(track(&flags[0]).first_inside_after.is_none());
    // Long after the last report the run is over, and the silence is its own flag.
    let flags = evaluate_at(&fixes, 300.0);
    assert_eq!(flags.len(), 2);
    assert!(!flags[0].ongoing && flags[0].kind() == FlagKind::LeftHome);
    assert_eq!(flags[1].kind(), FlagKind::NoSignal);
}

#[test]
fn reports_outside_the_monitoring_period_are_ignored() {
    let mut fixes = at_home(0.0, 60.0, 2.0);
    // A phone clock an hour fast, far away: ignored.
    fixes.extend((0..10).map(|i| fix(120.0 + f64::from(i), 800.0 + f64::from(i), 5.0)));
    assert!(evaluate_at(&fixes, 60.0).is_empty());
    // Before monitoring began: ignored.
    let early: Vec<Fix> = (0..20)
        .map(|i| fix(-30.0 + f64::from(i), 800.0 + f64::from(i), 5.0))
        .collect();
    let mut all = early;
    all.extend(at_home(0.0, 60.0, 2.0));
    assert!(evaluate_at(&all, 60.0).is_empty());
}

#[test]
fn long_tracks_are_thinned_keeping_both_ends() {
    let mut fixes = at_home(0.0, 10.0, 1.0);
    fixes.extend((0..300).map(|i| fix(13.0 + f64::from(i) / 4.0, 700.0 + f64::from(i % 9), 5.0)));
    let flags = evaluate_at(&fixes, 90.0);
    let e = track(&flags[0]);
    assert_eq!(e.fixes, 300);
    assert_eq!(e.track.len(), 40);
    assert_eq!(e.track[0].ts, flags[0].from);
    assert_eq!(e.track[39].ts, flags[0].to);
}

#[test]
fn fixes_and_fences_are_parsed() {
    let f: Fix = serde_json::from_str(
        r#"{"ts":"2020-04-15T09:00:00Z","lat":55.75,"lon":37.62,"accuracy_m":12.5}"#,
    )
    .unwrap();
    assert_eq!((f.point().lat(), f.accuracy_m()), (55.75, 12.5));
    let back: Fix = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
    for bad in [
        r#"{"ts":"2020-04-15T09:00:00Z","lat":91,"lon":37.62,"accuracy_m":12.5}"#,
        r#"{"ts":"2020-04-15T09:00:00Z","lat":55.75,"lon":37.62,"accuracy_m":-1}"#,
        r#"{"ts":"yesterday","lat":55.75,"lon":37.62,"accuracy_m":5}"#,
    ] {
        assert!(serde_json::from_str::<Fix>(bad).is_err(), "{bad}");
    }
    assert_eq!(
        Fix::new(t0(), home(), f64::NAN).unwrap_err().to_string(),
        "accuracy NaN m is not valid; expected a non-negative number of metres"
    );
    assert!(Geofence::new(home(), 5.0).is_err());
    assert!(Geofence::new(home(), f64::INFINITY).is_err());
    assert_eq!(Geofence::new(home(), 150.0).unwrap().radius_m(), 150.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever a phone at home reports, if every accuracy circle overlaps the home circle,
    /// no departure is flagged.
    #[test]
    fn overlapping_circles_never_flag(
        fixes in prop::collection::vec((0.0..600.0f64, 0.0..6.3f64, 0.0..1.0f64, 1.0..400.0f64), 1..200)
    ) {
        let fixes: Vec<Fix> = fixes
            .into_iter()
            .map(|(minute, bearing, share, accuracy)| {
                // Anywhere within radius + accuracy of home.
                fix_towards(minute, share * (100.0 + accuracy.max(10.0)), bearing, accuracy)
            })
            .collect();
        let flags = evaluate_at(&fixes, 600.0);
        prop_assert!(of_kind(&flags, FlagKind::LeftHome).is_empty(), "{:?}", flags);
    }

    /// The order reports arrive in, and duplicated uploads, change nothing.
    #[test]
    fn order_and_duplicates_do_not_matter(seed in any::<u64>(), dups in prop::collection::vec(0usize..100, 0..20)) {
        let mut fixes = departure_day();
        fixes.extend([fix(130.0, 900.0, 2000.0), fix(131.0, 300.0, 5.0)]);
        let expected = evaluate_at(&fixes, 180.0);
        let mut shuffled = fixes.clone();
        for d in dups {
            shuffled.push(fixes[d % fixes.len()]);
        }
        let mut rng = crate::monitoring::rng::Rng::new(seed);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        prop_assert_eq!(evaluate_at(&shuffled, 180.0), expected);
    }
}

#[test]
fn a_window_opening_away_from_home_reads_back_to_the_last_fix_at_home() {
    let cfg = GeofenceConfig::default();
    // At home until 30, then a moved access point 7 km away for 30 minutes.
    let mut fixes = at_home(0.0, 31.0, 1.0);
    let last_home = fixes.len() - 1;
    fixes.extend((0..30).map(|i| fix(31.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    let inside_cluster = last_home + 10;
    let start = context_start(&fence(), &fixes, inside_cluster, cfg.max_context, &cfg);
    assert_eq!(start, last_home);
    // Read from the middle of the cluster, the teleport is invisible and looks like a stay;
    // with the context, it is a source error.
    let window = |from: usize| evaluate(&fence(), &fixes[from..], t0(), at(61.0), &cfg);
    assert_eq!(
        of_kind(&window(inside_cluster), FlagKind::LeftHome).len(),
        1
    );
    assert!(of_kind(&window(start), FlagKind::LeftHome).is_empty());
    // A window opening at home needs nothing earlier; nor does one beyond the limit.
    assert_eq!(context_start(&fence(), &fixes, 5, cfg.max_context, &cfg), 5);
    let short = SignedDuration::from_mins(3);
    assert_eq!(
        context_start(&fence(), &fixes, inside_cluster, short, &cfg),
        inside_cluster - 3
    );
}

#[test]
fn two_fixes_far_away_are_a_trip_even_at_different_places() {
    // A phone in battery saving: one fix 2.2 km away, one 1.3 km away 14 minutes later (on
    // the way back), only cell positions between them.
    let cells = [43.0, 48.0].map(|m| fix(m, 1800.0, 700.0));
    let mut fixes = at_home(0.0, 20.0, 5.0);
    fixes.push(fix(38.0, 2200.0, 15.0));
    fixes.extend(cells);
    fixes.push(fix(52.0, 1300.0, 16.0));
    fixes.extend(at_home(60.0, 90.0, 5.0));
    assert_eq!(
        of_kind(&evaluate_at(&fixes, 90.0), FlagKind::LeftHome).len(),
        1
    );
    // Two fixes a few hundred metres off in different directions are not.
    let mut fixes = at_home(0.0, 20.0, 5.0);
    fixes.extend(cells);
    fixes.push(fix_towards(38.0, 400.0, 0.0, 15.0));
    fixes.push(fix_towards(52.0, 420.0, 2.0, 16.0));
    fixes.extend(at_home(60.0, 90.0, 5.0));
    assert!(evaluate_at(&fixes, 90.0).is_empty());
}

#[test]
fn a_window_that_slid_past_a_runs_context_finds_no_news() {
    // The moved access point of `a_place_once_a_teleport_stays_one`, and later reports at home.
    let mut fixes = at_home(0.0, 30.0, 1.0);
    fixes.extend((0..5).map(|i| fix(31.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(36.0, 50.0, 1.0));
    fixes.extend((0..20).map(|i| fix(65.0 + f64::from(i), 7300.0 + f64::from(i % 3), 20.0)));
    fixes.extend(at_home(85.0, 150.0, 1.0));
    // A window that starts at home after the first sighting (the server's hour before an
    // upload at 110) reads the second as a trip…
    let from = fixes.iter().position(|f| f.ts() >= at(50.0)).unwrap() - 1;
    let found = evaluate_at(&fixes[from..], 110.0);
    let found = of_kind(&found, FlagKind::LeftHome);
    assert_eq!(found.len(), 1);
    // … which every earlier evaluation, seeing the first sighting, judged a source error:
    // the run ended long before the upload, so it is no news.
    assert!(!crate::monitoring::is_news(
        found[0],
        at(109.0),
        Some(at(108.0))
    ));
    // Had nothing after 84 been known before (a phone offline since), it would be news.
    assert!(crate::monitoring::is_news(
        found[0],
        at(109.0),
        Some(at(84.0))
    ));
}

fn evaluate_answered(fixes: &[Fix], answers: &[Fix], now_minute: f64) -> Vec<Flag> {
    evaluate_with_answers(
        &fence(),
        fixes,
        answers,
        t0(),
        at(now_minute),
        &GeofenceConfig::default(),
    )
}

#[test]
fn a_checkin_answer_far_away_confirms_a_departure_at_once() {
    // Home, then nothing on the way, then a confident fix 2 km away ten minutes later: a
    // believable trip, but one fix at one place is not yet a departure (rule 6 waits).
    let mut fixes = at_home(0.0, 10.0, 2.0);
    fixes.push(fix(18.0, 2000.0, 15.0));
    assert!(of_kind(&evaluate_at(&fixes, 18.5), FlagKind::LeftHome).is_empty());
    // The patient, asked, answers from there three minutes later: a departure, at once.
    let answer = fix(21.0, 2010.0, 8.0);
    let flags = evaluate_answered(&fixes, &[answer], 21.5);
    let left = of_kind(&flags, FlagKind::LeftHome);
    assert_eq!(left.len(), 1, "{flags:?}");
    assert_eq!(left[0].from, at(18.0));
    let e = track(left[0]);
    assert_eq!(e.outside, 2);
    assert_eq!(e.confirmed_by_checkin.map(|p| p.ts), Some(at(21.0)));
    // The same answer arriving as a plain report confirms nothing.
    let mut reported = fixes.clone();
    reported.push(answer);
    assert!(of_kind(&evaluate_at(&reported, 21.5), FlagKind::LeftHome).is_empty());
}

#[test]
fn an_answer_at_a_place_no_one_could_reach_so_soon_confirms_nothing() {
    // A moved access point: 2 km away a minute after a fix at home (rule 5b), and the answer
    // taken at home gets the same false position from it.
    let mut fixes = at_home(0.0, 10.0, 2.0);
    fixes.push(fix(9.0, 2000.0, 30.0));
    let answer = fix(12.0, 2005.0, 30.0);
    let flags = evaluate_answered(&fixes, &[answer], 12.5);
    assert!(of_kind(&flags, FlagKind::LeftHome).is_empty(), "{flags:?}");
}

#[test]
fn a_checkin_answer_from_home_ends_the_run_and_one_nearby_confirms_nothing() {
    let mut fixes = at_home(0.0, 10.0, 2.0);
    fixes.push(fix(10.0, 2000.0, 15.0));
    fixes.push(fix(20.0, 2000.0, 15.0));
    // Answered from home between the two far fixes: no run lasts.
    let home_answer = fix(14.0, 12.0, 15.0);
    assert!(of_kind(
        &evaluate_answered(&fixes, &[home_answer], 21.0),
        FlagKind::LeftHome
    )
    .is_empty());
    // An answer 400 m away (multipath range) is an ordinary fix outside: no confirmation.
    let near = at_home(0.0, 10.0, 2.0);
    let flags = evaluate_answered(&near, &[fix(12.0, 400.0, 8.0)], 13.0);
    assert!(of_kind(&flags, FlagKind::LeftHome).is_empty(), "{flags:?}");
    // A coarse answer far away is not confident enough either.
    let flags = evaluate_answered(&near, &[fix(12.0, 3000.0, 800.0)], 13.0);
    assert!(of_kind(&flags, FlagKind::LeftHome).is_empty(), "{flags:?}");
}
