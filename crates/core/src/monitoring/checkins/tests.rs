use jiff::civil::date;
use jiff::tz::TimeZoneDatabase;
use proptest::prelude::*;

use super::*;

/// Zones with the clock changes that break naive schedulers: none now (Moscow, which did in
/// 2010–2014), an hour at 01:00/02:00 (London, New York), 30 minutes (Lord Howe), at
/// midnight (Santiago, Havana, Tehran until 2022), 45-minute offsets (Chatham), −3:30
/// (St John's), and twice a year around Ramadan (Casablanca).
const ZONES: [&str; 10] = [
    "Europe/Moscow",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Tehran",
    "Pacific/Chatham",
    "America/St_Johns",
    "Africa/Casablanca",
];

fn zone(name: &str) -> TimeZone {
    TimeZoneDatabase::bundled().get(name).unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn whole_day(tz: &TimeZone, d: Date) -> (Timestamp, Timestamp) {
    let start = d.to_zoned(tz.clone()).unwrap().timestamp();
    (
        start - SignedDuration::from_hours(2),
        start + SignedDuration::from_hours(30),
    )
}

/// The local dates on which `tz` changed its clocks from 2009 to 2026 (the day before too,
/// for changes at midnight).
fn transition_dates(tz: &TimeZone) -> Vec<Date> {
    let end = ts("2027-01-01T00:00:00Z");
    tz.following(ts("2009-01-01T00:00:00Z"))
        .take_while(|t| t.timestamp() < end)
        .flat_map(|t| {
            let at = t.timestamp();
            [
                tz.to_datetime(at - SignedDuration::from_nanos(1)).date(),
                tz.to_datetime(at).date(),
            ]
        })
        .collect()
}

fn time_of(minute: u32) -> Time {
    Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).unwrap()
}

/// Checks every instant of every challenge, independently of how the scheduler works: local
/// time is continuous between clock changes, so it suffices to check both ends and both
/// sides of every change in between.
fn check_schedule(
    tz: &TimeZone,
    d: Date,
    (from, to): (Time, Time),
    active: (Timestamp, Timestamp),
    cfg: &CheckinConfig,
    schedule: &[Challenge],
) -> Result<(), TestCaseError> {
    let ok = |t: Timestamp| {
        let local = tz.to_datetime(t);
        local.date() == d && from <= local.time() && local.time() <= to
    };
    prop_assert!(schedule.len() <= usize::from(cfg.per_day()));
    for c in schedule {
        prop_assert_eq!(c.deadline.duration_since(c.issued_at), cfg.deadline());
        prop_assert!(active.0 <= c.issued_at && c.deadline <= active.1);
        prop_assert!(
            ok(c.issued_at),
            "issued {} local {}",
            c.issued_at,
            tz.to_datetime(c.issued_at)
        );
        prop_assert!(
            ok(c.deadline),
            "deadline {} local {}",
            c.deadline,
            tz.to_datetime(c.deadline)
        );
        for change in tz.following(c.issued_at) {
            let at = change.timestamp();
            if at > c.deadline {
                break;
            }
            prop_assert!(
                ok(at) && ok(at - SignedDuration::from_nanos(1)),
                "clock change at {at}"
            );
        }
    }
    for pair in schedule.windows(2) {
        prop_assert!(pair[1].issued_at >= pair[0].deadline + cfg.min_gap());
    }
    Ok(())
}

#[test]
fn defaults() {
    let cfg = CheckinConfig::default();
    assert_eq!(cfg.hours().from(), Time::constant(9, 0, 0, 0));
    assert_eq!(cfg.hours().to(), Time::constant(21, 0, 0, 0));
    assert_eq!(cfg.per_day(), 3);
    assert_eq!(cfg.deadline(), SignedDuration::from_mins(20));
    assert_eq!(cfg.min_gap(), SignedDuration::from_mins(60));
}

#[test]
fn night_hours_cannot_be_configured() {
    let t = |h, m| Time::constant(h, m, 0, 0);
    for (from, to) in [
        (t(22, 0), t(6, 0)),
        (t(6, 59), t(12, 0)),
        (t(10, 0), t(22, 1)),
        (t(12, 0), t(12, 0)),
        (t(13, 0), t(12, 0)),
    ] {
        let err = DaytimeHours::new(from, to).unwrap_err();
        assert!(err.to_string().contains("07:00–22:00"), "{err}");
    }
    assert!(DaytimeHours::new(EARLIEST, LATEST).is_ok());
    let hours = DaytimeHours::new(t(8, 0), t(20, 0)).unwrap();
    let mins = SignedDuration::from_mins;
    assert_eq!(
        CheckinConfig::new(hours, 7, mins(20), mins(60)),
        Err(CheckinConfigError::PerDay(7))
    );
    for bad in [mins(4), mins(61), SignedDuration::from_secs(20 * 60 + 30)] {
        assert!(matches!(
            CheckinConfig::new(hours, 3, bad, mins(60)),
            Err(CheckinConfigError::Deadline(_))
        ));
    }
    assert!(matches!(
        CheckinConfig::new(hours, 3, mins(20), mins(241)),
        Err(CheckinConfigError::Gap(_))
    ));
    assert!(CheckinConfig::new(hours, 0, mins(20), mins(0)).is_ok());
}

#[test]
fn an_ordinary_moscow_day() {
    let tz = zone("Europe/Moscow");
    let d = date(2020, 4, 15);
    let cfg = CheckinConfig::default();
    let schedule = schedule_day(&tz, d, whole_day(&tz, d), 42, &cfg);
    assert_eq!(schedule.len(), 3);
    for c in &schedule {
        let local = c.issued_at.to_zoned(tz.clone());
        assert!(
            local.hour() >= 9
                && c.deadline.to_zoned(tz.clone()).time() <= Time::constant(21, 0, 0, 0)
        );
        assert!(within_hours(&tz, d, cfg.hours(), c.issued_at));
    }
    // Reproducible from the seed; another seed, another day.
    assert_eq!(schedule, schedule_day(&tz, d, whole_day(&tz, d), 42, &cfg));
    assert_ne!(schedule, schedule_day(&tz, d, whole_day(&tz, d), 43, &cfg));
    assert_ne!(day_seed(1, d), day_seed(1, d.tomorrow().unwrap()));
    assert_ne!(day_seed(1, d), day_seed(2, d));
}

#[test]
fn the_case_period_bounds_the_schedule() {
    let tz = zone("Europe/Moscow");
    let d = date(2020, 4, 15);
    let cfg = CheckinConfig::default();
    // Monitoring starts at 20:50 local: no time left for a challenge with its deadline.
    let late_start = (ts("2020-04-15T17:50:00Z"), ts("2020-04-30T00:00:00Z"));
    assert_eq!(schedule_day(&tz, d, late_start, 1, &cfg), vec![]);
    // Monitoring ends at noon local: every deadline by noon.
    let ends_at_noon = (ts("2020-04-01T00:00:00Z"), ts("2020-04-15T09:00:00Z"));
    for seed in 0..50 {
        for c in schedule_day(&tz, d, ends_at_noon, seed, &cfg) {
            assert!(c.deadline <= ends_at_noon.1);
        }
    }
}

#[test]
fn lord_howe_half_hour_change_inside_the_hours() {
    // On 2020-10-04 Lord Howe Island moves from 02:00 to 02:30. With (test-only) hours
    // 01:00–02:15 the window really ends at 02:00, when the clocks jump past 02:15.
    let tz = zone("Australia/Lord_Howe");
    let d = date(2020, 10, 4);
    let hours = (Time::constant(1, 0, 0, 0), Time::constant(2, 15, 0, 0));
    let cfg = CheckinConfig::new(
        DaytimeHours::new(Time::constant(9, 0, 0, 0), Time::constant(21, 0, 0, 0)).unwrap(),
        6,
        SignedDuration::from_mins(20),
        SignedDuration::ZERO,
    )
    .unwrap();
    let jump = ts("2020-10-03T15:30:00Z"); // 02:00 +10:30 → 02:30 +11:00
    assert_eq!(tz.to_datetime(jump).time(), Time::constant(2, 30, 0, 0));
    let mut seen = 0;
    for seed in 0..200 {
        let schedule = schedule_in(&tz, d, hours, whole_day(&tz, d), seed, &cfg);
        check_schedule(&tz, d, hours, whole_day(&tz, d), &cfg, &schedule).unwrap();
        assert!(schedule.iter().all(|c| c.deadline <= jump));
        seen += schedule.len();
    }
    assert!(seen > 200);
}

#[test]
fn judging_answers() {
    let c = Challenge {
        issued_at: ts("2020-04-15T08:00:00Z"),
        deadline: ts("2020-04-15T08:20:00Z"),
    };
    let at = |m: i64| c.issued_at + SignedDuration::from_mins(m);
    assert_eq!(judge(&c, None, None, at(10)), CheckinOutcome::Pending);
    assert_eq!(
        judge(&c, Some(at(19)), None, at(30)),
        CheckinOutcome::Answered
    );
    // An "answer" from before the challenge is no answer.
    assert!(matches!(
        judge(&c, Some(at(-5)), None, at(10)),
        CheckinOutcome::Pending
    ));
    let CheckinOutcome::Missed(flag) = judge(&c, Some(at(25)), Some(at(-180)), at(30)) else {
        panic!("a late answer is a miss");
    };
    assert_eq!(flag.kind(), crate::monitoring::FlagKind::MissedCheckin);
    assert_eq!(
        (flag.from, flag.to, flag.ongoing),
        (c.issued_at, c.deadline, false)
    );
    let Evidence::MissedCheckin(e) = flag.evidence else {
        panic!()
    };
    assert_eq!(e.answered_at, Some(at(25)));
    // The phone had been silent for three hours: the officer sees it.
    assert_eq!(e.last_report_before, Some(at(-180)));
    assert!(matches!(
        judge(&c, None, None, at(20)),
        CheckinOutcome::Missed(_)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any hours, any zone, on days the clocks change: no challenge, deadline included, is
    /// ever outside the hours.
    #[test]
    fn never_outside_the_hours_across_clock_changes(
        zone_index in 0..ZONES.len(),
        pick in any::<prop::sample::Index>(),
        random_day in 0i64..6000,
        on_change in any::<bool>(),
        from in 0u32..1439,
        length in any::<prop::sample::Index>(),
        per_day in 1u8..=6,
        deadline in 5i64..=60,
        gap in 0i64..=240,
        seed in any::<u64>(),
    ) {
        let tz = zone(ZONES[zone_index]);
        let changes = transition_dates(&tz);
        let d = if on_change && !changes.is_empty() {
            *pick.get(&changes)
        } else {
            date(2009, 1, 1).checked_add(jiff::Span::new().days(random_day)).unwrap()
        };
        let to = from + 1 + length.index((1439 - from) as usize) as u32;
        let hours = (time_of(from), time_of(to.min(1439)));
        let cfg = CheckinConfig::new(
            CheckinConfig::default().hours(),
            per_day,
            SignedDuration::from_mins(deadline),
            SignedDuration::from_mins(gap),
        ).unwrap();
        let schedule = schedule_in(&tz, d, hours, whole_day(&tz, d), seed, &cfg);
        check_schedule(&tz, d, hours, whole_day(&tz, d), &cfg, &schedule)?;
    }

    /// The public scheduler, with daytime hours: never at night, and as many challenges as
    /// asked for whenever the hours have room for them.
    #[test]
    fn daytime_schedules_are_full_and_never_at_night(
        zone_index in 0..ZONES.len(),
        pick in any::<prop::sample::Index>(),
        from in 7 * 60u32..22 * 60,
        length in any::<prop::sample::Index>(),
        per_day in 0u8..=6,
        deadline in 5i64..=60,
        gap in 0i64..=240,
        seed in any::<u64>(),
    ) {
        let tz = zone(ZONES[zone_index]);
        let changes = transition_dates(&tz);
        let d = if changes.is_empty() { date(2020, 3, 29) } else { *pick.get(&changes) };
        let to = from + 1 + length.index((22 * 60 - from) as usize) as u32;
        let hours = DaytimeHours::new(time_of(from), time_of(to)).unwrap();
        let cfg = CheckinConfig::new(
            hours,
            per_day,
            SignedDuration::from_mins(deadline),
            SignedDuration::from_mins(gap),
        ).unwrap();
        let active = whole_day(&tz, d);
        let schedule = schedule_day(&tz, d, active, seed, &cfg);
        check_schedule(&tz, d, (hours.from(), hours.to()), active, &cfg, &schedule)?;
        for c in &schedule {
            prop_assert!(tz.to_datetime(c.issued_at).time() >= EARLIEST);
            prop_assert!(tz.to_datetime(c.deadline).time() <= LATEST);
        }
        // Room for all: each pick rules out at most 2 × (deadline + gap) minutes.
        let room = i64::from(to - from) - deadline;
        if room >= i64::from(per_day) * 2 * (deadline + gap) {
            prop_assert_eq!(schedule.len(), usize::from(per_day));
        }
    }
}
