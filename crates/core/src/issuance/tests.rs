//! Tests of `decide`: every rule, the window edges, and properties over random sequences.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::policy::{moscow_2020, parse_regime, tatarstan_2020, Window};

fn moscow_tz() -> TimeZone {
    jiff::tz::TimeZoneDatabase::bundled()
        .get("Europe/Moscow")
        .unwrap()
}

/// A Moscow local time, e.g. `at("2020-04-20T10:00")`.
fn at(local: &str) -> Timestamp {
    let dt: DateTime = local.parse().unwrap();
    dt.to_zoned(moscow_tz()).unwrap().timestamp()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn home() -> GeoPoint {
    GeoPoint::new(55.7500, 37.6200).unwrap()
}

fn resident() -> ResidentFacts {
    ResidentFacts {
        profile_complete: true,
        home: Some(home()),
    }
}

fn request(purpose: &str) -> PassRequest {
    PassRequest {
        purpose: purpose.into(),
        ..PassRequest::default()
    }
}

fn request_at(purpose: &str, start: Timestamp) -> PassRequest {
    PassRequest {
        valid_from: Some(start),
        ..request(purpose)
    }
}

fn prior(grant: &Grant) -> PriorPass {
    PriorPass {
        purpose: grant.purpose.to_string(),
        valid_from: grant.valid_from,
        valid_until: grant.valid_until,
        cancelled_at: None,
    }
}

/// Asks for a pass starting now and, if granted, records it.
fn ask(
    regime: &Regime,
    purpose: &str,
    now: Timestamp,
    passes: &mut Vec<PriorPass>,
) -> Result<Grant, Refusal> {
    let grant = decide(regime, &request(purpose), &resident(), passes, now)?;
    passes.push(prior(&grant));
    Ok(grant)
}

fn refusal_code(result: Result<Grant, Refusal>) -> RefusalCode {
    result.expect_err("expected a refusal").code
}

/// A regime exercising what the built-ins do not: hours past midnight, a cap and a ceiling
/// together, an always-allowed purpose under a ceiling.
fn test_regime() -> Regime {
    parse_regime(
        r#"
id = "test"
issuer = "RU-MOW"
time_zone = "Europe/Moscow"
effective_from = 2020-01-01T00:00:00+03:00
name = { ru = "Тест", en = "Test" }
legal_act = { title = "Test act" }
cap = { count = 3, per = "day" }
max_passes_per_day = 5

[[purposes]]
id = "night_shift"
sms_code = 1
name = { ru = "Ночная смена", en = "Night shift" }
max_minutes = 45
hours = { from = "22:00", to = "06:00" }

[[purposes]]
id = "market"
sms_code = 2
name = { ru = "Рынок", en = "Market" }
max_minutes = 180
hours = { from = "08:00", to = "20:00" }
quota = { count = 1, per = "24h" }

[[purposes]]
id = "walk"
sms_code = 3
name = { ru = "Прогулка", en = "Walk" }
max_minutes = 60

[[purposes]]
id = "emergency"
sms_code = 9
name = { ru = "Экстренно", en = "Emergency" }
max_minutes = 720
always_allowed = true
"#,
    )
    .unwrap()
}

// ---- rolling quota: Moscow shopping, 2 per 7 days ----

#[test]
fn rolling_quota_and_its_edge() {
    let r = moscow_2020();
    let t0 = at("2020-04-20T10:00");
    let mut passes = Vec::new();
    let first = ask(&r, "shopping", t0, &mut passes).unwrap();
    assert_eq!(first.valid_from, t0);
    assert_eq!(first.valid_until, t0 + hours(3));
    ask(&r, "shopping", t0 + hours(24), &mut passes).unwrap();

    let refused = ask(&r, "shopping", t0 + hours(48), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, Some(t0 + hours(7 * 24)));
    assert!(
        refused
            .message
            .ru
            .contains("не более 2 пропусков за 7 дней"),
        "{}",
        refused.message.ru
    );
    assert!(
        refused.message.ru.contains("с 27.04.2020 10:00."),
        "{}",
        refused.message.ru
    );
    assert!(
        !refused.message.ru.contains("Europe/Moscow"),
        "{}",
        refused.message.ru
    );
    assert!(
        refused.message.en.contains("at most 2 passes per 7 days"),
        "{}",
        refused.message.en
    );

    // One second before the first pass leaves the window: still refused.
    let just_before = t0 + hours(7 * 24) - SignedDuration::from_secs(1);
    assert_eq!(
        refusal_code(ask(&r, "shopping", just_before, &mut passes)),
        RefusalCode::QuotaExceeded
    );
    // Exactly 7 days after the first: it left the window.
    ask(&r, "shopping", t0 + hours(7 * 24), &mut passes).unwrap();
    // Other purposes are not limited by shopping's quota.
    ask(&r, "trash", t0 + hours(7 * 24), &mut passes).unwrap();
}

#[test]
fn booked_future_passes_count_in_rolling_windows() {
    let r = moscow_2020();
    let t0 = at("2020-04-20T10:00");
    let mut passes = Vec::new();
    for days in [3, 4] {
        let g = decide(
            &r,
            &request_at("shopping", t0 + hours(24 * days)),
            &resident(),
            &passes,
            t0,
        )
        .unwrap();
        passes.push(prior(&g));
    }
    // Today's pass would share a 7-day window with both booked ones.
    let refused = decide(&r, &request("shopping"), &resident(), &passes, t0).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    // The earliest later start that fits is when the earlier booked pass (day 3) no longer
    // shares a window with it: day 3 + 7 = day 10.
    assert_eq!(refused.next_possible_at, Some(t0 + hours(24 * 10)));
    // A start more than 7 days before the later booked pass fits (asked on an earlier day).
    let earlier_now = t0 - hours(24 * 4);
    let g = decide(&r, &request("shopping"), &resident(), &passes, earlier_now).unwrap();
    assert_eq!(g.valid_from, earlier_now);
}

// ---- calendar quotas: Tatarstan ----

#[test]
fn monthly_quota_edge_is_local_midnight() {
    let r = tatarstan_2020();
    let mut passes = Vec::new();
    ask(&r, "court", at("2020-04-30T22:00"), &mut passes).unwrap();
    let refused = ask(&r, "court", at("2020-04-30T23:30"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-05-01T00:00")));
    assert!(refused.message.ru.contains("в календарный месяц"));
    assert_eq!(
        refusal_code(ask(&r, "court", at("2020-04-01T00:00"), &mut passes)),
        RefusalCode::QuotaExceeded
    );
    let g = ask(&r, "court", at("2020-05-01T00:00"), &mut passes).unwrap();
    assert_eq!(g.valid_until, at("2020-05-01T01:00"));
}

#[test]
fn weekly_quota_runs_monday_to_sunday() {
    let r = tatarstan_2020();
    let mut passes = Vec::new();
    // Monday 20 April to Thursday 23 April: four dacha trips (two hours each).
    for day in 20..=23 {
        let g = ask(
            &r,
            "dacha",
            at(&format!("2020-04-{day}T09:00")),
            &mut passes,
        )
        .unwrap();
        assert_eq!(g.valid_until.duration_since(g.valid_from), hours(2));
    }
    let refused = ask(&r, "dacha", at("2020-04-26T23:59"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-27T00:00")));
    ask(&r, "dacha", at("2020-04-27T00:00"), &mut passes).unwrap();
}

#[test]
fn daily_cap_across_purposes() {
    let r = tatarstan_2020();
    let mut passes = Vec::new();
    ask(&r, "medical", at("2020-04-20T09:00"), &mut passes).unwrap();
    ask(&r, "bank_post", at("2020-04-20T12:00"), &mut passes).unwrap();
    let refused = ask(&r, "relatives", at("2020-04-20T15:00"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeCapExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-21T00:00")));
    assert!(
        refused.message.ru.contains("не более 2 пропусков в сутки"),
        "{}",
        refused.message.ru
    );
    ask(&r, "relatives", at("2020-04-21T00:00"), &mut passes).unwrap();
}

#[test]
fn the_ceiling_holds_for_purposes_without_a_quota() {
    let r = moscow_2020();
    assert_eq!(r.max_passes_per_day(), 20);
    let mut passes = Vec::new();
    let mut now = at("2020-04-20T08:00");
    for _ in 0..20 {
        ask(&r, "trash", now, &mut passes).unwrap();
        now += SignedDuration::from_mins(31);
    }
    let refused = ask(&r, "trash", now, &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeCapExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-21T00:00")));
    assert!(
        refused.message.en.contains("at most 20 passes per day"),
        "{}",
        refused.message.en
    );
    // Emergency passes meet the ceiling too: it is what bounds a scripted client.
    assert_eq!(
        refusal_code(ask(&r, "emergency", now, &mut passes)),
        RefusalCode::RegimeCapExceeded
    );
    // Cancelled passes still count: booking and cancelling cannot get around it.
    for p in &mut passes {
        p.cancelled_at = Some(p.valid_from - SignedDuration::from_mins(1));
    }
    assert_eq!(
        refusal_code(ask(&r, "trash", now, &mut passes)),
        RefusalCode::RegimeCapExceeded
    );
    ask(&r, "trash", at("2020-04-21T00:00"), &mut passes).unwrap();
}

#[test]
fn the_reads_are_bounded_by_the_rules_not_the_history() {
    let r = moscow_2020();
    let now = at("2020-04-20T10:00");
    // A trash request reads no purpose's history, only the ceiling's days.
    let reads = PriorReads::for_request(&r, &request("trash"), now);
    assert_eq!(reads.by_purpose, None);
    assert_eq!(reads.per_day, 20);
    // Today and the seven days a pass can be booked ahead, each a whole local day.
    assert_eq!(reads.days.len(), 8);
    assert_eq!(
        reads.days[0],
        (at("2020-04-20T00:00"), at("2020-04-21T00:00"))
    );
    assert_eq!(reads.days[7].1, at("2020-04-28T00:00"));
    // Shopping has a quota: its own passes since the quota's window (and the grace).
    let reads = PriorReads::for_request(&r, &request("shopping"), now);
    assert_eq!(
        reads.by_purpose,
        Some(PurposeReads {
            since: now - hours(7 * 24) - VALID_FROM_GRACE,
            purposes: PurposeSet::Only(vec!["shopping".into()]),
        })
    );
    // Under a cap, every purpose it counts (not the always-allowed ones).
    let reads = PriorReads::for_request(&test_regime(), &request("walk"), now);
    assert_eq!(
        reads.by_purpose.map(|b| b.purposes),
        Some(PurposeSet::AllBut(vec!["emergency".into()]))
    );
    // No regime, or a start refused outright: nothing to read.
    let mut book = RegimeBook::new();
    book.insert(tatarstan_2020());
    assert_eq!(
        book.prior_reads(&request("court"), at("2021-01-01T10:00")),
        PriorReads::none()
    );
    assert_eq!(
        book.prior_reads(&request("court"), at("2020-04-20T10:00"))
            .days
            .len(),
        8
    );
}

#[test]
fn next_possible_satisfies_quota_and_cap_together() {
    let r = tatarstan_2020();
    // Relocation: 1 per 3 days (rolling). Yesterday 23:00 relocation; today two other passes.
    let mut passes = Vec::new();
    ask(&r, "relocation", at("2020-04-19T23:00"), &mut passes).unwrap();
    ask(&r, "medical", at("2020-04-21T09:00"), &mut passes).unwrap();
    ask(&r, "medical", at("2020-04-22T09:00"), &mut passes).unwrap();
    ask(&r, "school", at("2020-04-22T10:00"), &mut passes).unwrap();
    // On the 22nd at 11:00 the relocation quota allows again from the 22nd 23:00, but the
    // cap is used up for the 22nd: the answer is the 23rd 00:00.
    let refused = ask(&r, "relocation", at("2020-04-22T11:00"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-23T00:00")));
}

#[test]
fn always_allowed_ignores_quota_and_cap_and_is_not_capped() {
    let r = test_regime();
    let mut passes = Vec::new();
    let t = at("2020-04-20T10:00");
    for k in 0..3 {
        ask(&r, "walk", t + hours(k), &mut passes).unwrap();
    }
    assert_eq!(
        refusal_code(ask(&r, "walk", t + hours(3), &mut passes)),
        RefusalCode::RegimeCapExceeded
    );
    for k in 0..2 {
        let g = ask(&r, "emergency", t + hours(4 + k), &mut passes).unwrap();
        assert_eq!(g.valid_until.duration_since(g.valid_from), hours(12));
    }
    // The ceiling (5 a day) counts every pass, emergencies too.
    let refused = ask(&r, "emergency", t + hours(6), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeCapExceeded);
    assert!(
        refused
            .message
            .en
            .contains("at most 5 passes per day across all purposes."),
        "{}",
        refused.message.en
    );
    // Emergencies did not use the cap: tomorrow there are three walks again, even with
    // emergencies today.
    let tomorrow = at("2020-04-21T10:00");
    for k in 0..3 {
        ask(&r, "walk", tomorrow + hours(k), &mut passes).unwrap();
    }

    // Emergency is always allowed in Moscow too, any number of times.
    let m = moscow_2020();
    let mut passes = Vec::new();
    for k in 0..10 {
        ask(
            &m,
            "emergency",
            t + SignedDuration::from_mins(k),
            &mut passes,
        )
        .unwrap();
    }
}

// ---- hours ----

#[test]
fn hours_wrapping_midnight_start_inside_and_are_cut_at_closing() {
    let r = test_regime();
    let none = Vec::new();
    // 05:30: allowed, cut at 06:00.
    let g = decide(
        &r,
        &request("night_shift"),
        &resident(),
        &none,
        at("2020-04-20T05:30"),
    )
    .unwrap();
    assert_eq!(g.valid_until, at("2020-04-20T06:00"));
    // 23:50: the full 45 minutes, past midnight.
    let g = decide(
        &r,
        &request("night_shift"),
        &resident(),
        &none,
        at("2020-04-20T23:50"),
    )
    .unwrap();
    assert_eq!(g.valid_until, at("2020-04-21T00:35"));
    // 22:00 exactly: open. 06:00 exactly: closed.
    assert!(decide(
        &r,
        &request("night_shift"),
        &resident(),
        &none,
        at("2020-04-20T22:00")
    )
    .is_ok());
    let refused = decide(
        &r,
        &request("night_shift"),
        &resident(),
        &none,
        at("2020-04-20T06:00"),
    )
    .unwrap_err();
    assert_eq!(refused.code, RefusalCode::OutsideAllowedHours);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-20T22:00")));
    assert!(refused.message.ru.contains("22:00–06:00"));
}

#[test]
fn moscow_hours_are_the_same_utc_hours_in_winter_and_summer() {
    // Moscow has kept UTC+3 all year since 2014: 22:00 local is 19:00 UTC in January and July.
    let r = test_regime();
    let none = Vec::new();
    for date in ["2021-01-15", "2021-07-15"] {
        let utc: Timestamp = format!("{date}T19:00:00Z").parse().unwrap();
        assert!(
            decide(&r, &request("night_shift"), &resident(), &none, utc).is_ok(),
            "{date}"
        );
        let before = utc - SignedDuration::from_secs(1);
        let refused = decide(&r, &request("night_shift"), &resident(), &none, before).unwrap_err();
        assert_eq!(refused.next_possible_at, Some(utc), "{date}");
    }
}

#[test]
fn next_possible_combines_hours_and_quota() {
    let r = test_regime();
    let mut passes = Vec::new();
    // Market: 08:00–20:00, once per 24 hours. A pass at 19:00 today.
    ask(&r, "market", at("2020-04-20T19:00"), &mut passes).unwrap();
    // Tomorrow 08:30 the quota blocks until 19:00 — which is inside the hours.
    let refused = ask(&r, "market", at("2020-04-21T08:30"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-21T19:00")));
    // At 21:00 tomorrow: outside hours, and the answer is the day after at 08:00.
    let refused = ask(&r, "market", at("2020-04-21T21:00"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::OutsideAllowedHours);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-22T08:00")));
    // A 3-hour market pass at 18:30 is cut at 20:00.
    let g = ask(&r, "market", at("2020-04-22T18:30"), &mut passes).unwrap();
    assert_eq!(g.valid_until, at("2020-04-22T20:00"));
}

// ---- durations and the working day ----

#[test]
fn work_pass_lasts_the_working_day() {
    let r = moscow_2020();
    let none = Vec::new();
    let mut req = request("work");
    req.fields
        .insert("employer_inn".into(), "7707083893".into());
    let g = decide(&r, &req, &resident(), &none, at("2020-04-20T08:15")).unwrap();
    assert_eq!(g.valid_until, at("2020-04-21T00:00"));
    assert_eq!(
        g.fields.get("employer_inn").map(String::as_str),
        Some("7707083893")
    );
    assert_eq!(g.issuer, "RU-MOW");
    assert_eq!(g.regime, "moscow-2020");
    req.duration_minutes = Some(8 * 60);
    let g = decide(&r, &req, &resident(), &none, at("2020-04-20T08:15")).unwrap();
    assert_eq!(g.valid_until, at("2020-04-20T16:15"));
    req.duration_minutes = Some(20 * 60);
    let g = decide(&r, &req, &resident(), &none, at("2020-04-20T08:15")).unwrap();
    assert_eq!(g.valid_until, at("2020-04-21T00:00"));
}

#[test]
fn work_requires_a_valid_inn() {
    let r = moscow_2020();
    let none = Vec::new();
    let now = at("2020-04-20T08:00");
    let refused = decide(&r, &request("work"), &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::MissingField);
    assert_eq!(refused.field.as_deref(), Some("employer_inn"));
    assert!(refused.message.ru.contains("ИНН работодателя"));

    let mut req = request("work");
    req.fields.insert("employer_inn".into(), "   ".into());
    assert_eq!(
        refusal_code(decide(&r, &req, &resident(), &none, now)),
        RefusalCode::MissingField
    );
    req.fields
        .insert("employer_inn".into(), "7707083894".into());
    let refused = decide(&r, &req, &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::InvalidField);
    assert_eq!(refused.field.as_deref(), Some("employer_inn"));
    assert!(
        refused.message.en.contains("check digits"),
        "{}",
        refused.message.en
    );
    req.fields
        .insert("employer_inn".into(), "500100732259".into());
    assert!(decide(&r, &req, &resident(), &none, now).is_ok());
}

#[test]
fn durations() {
    let r = moscow_2020();
    let none = Vec::new();
    let now = at("2020-04-20T10:00");
    let mut req = request("trash");
    req.duration_minutes = Some(31);
    let refused = decide(&r, &req, &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::DurationTooLong);
    assert!(refused.message.en.contains("at most 30 minutes"));
    req.duration_minutes = Some(0);
    assert_eq!(
        refusal_code(decide(&r, &req, &resident(), &none, now)),
        RefusalCode::InvalidDuration
    );
    req.duration_minutes = Some(10);
    assert_eq!(
        decide(&r, &req, &resident(), &none, now)
            .unwrap()
            .valid_until,
        now + SignedDuration::from_mins(10)
    );
    req.duration_minutes = None;
    assert_eq!(
        decide(&r, &req, &resident(), &none, now)
            .unwrap()
            .valid_until,
        now + SignedDuration::from_mins(30)
    );
}

// ---- the start ----

#[test]
fn start_in_the_past_and_far_ahead() {
    let r = moscow_2020();
    let none = Vec::new();
    let now = at("2020-04-20T10:00");
    // Within the grace: moved to now.
    let g = decide(
        &r,
        &request_at("trash", now - SignedDuration::from_mins(4)),
        &resident(),
        &none,
        now,
    )
    .unwrap();
    assert_eq!(g.valid_from, now);
    let refused = decide(
        &r,
        &request_at("trash", now - SignedDuration::from_mins(6)),
        &resident(),
        &none,
        now,
    )
    .unwrap_err();
    assert_eq!(refused.code, RefusalCode::ValidFromInPast);
    assert_eq!(refused.field.as_deref(), Some("valid_from"));
    // Exactly 7 days ahead is fine; a minute more is not, and says when it can be asked.
    assert!(decide(
        &r,
        &request_at("trash", now + MAX_ADVANCE),
        &resident(),
        &none,
        now
    )
    .is_ok());
    let later = now + MAX_ADVANCE + SignedDuration::from_mins(1);
    let refused = decide(&r, &request_at("trash", later), &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::ValidFromTooFarAhead);
    assert_eq!(refused.next_possible_at, None);
    assert!(
        refused.message.en.contains("2020-04-20 10:01"),
        "{}",
        refused.message.en
    );
}

// ---- regime timing ----

#[test]
fn regime_not_yet_in_force_and_ended() {
    let moscow = moscow_2020();
    let none = Vec::new();
    let refused = decide(
        &moscow,
        &request("trash"),
        &resident(),
        &none,
        at("2020-04-14T23:59"),
    )
    .unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeNotYetInForce);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-15T00:00")));
    assert!(
        refused.message.ru.contains("15.04.2020 00:00"),
        "{}",
        refused.message.ru
    );
    // A pass booked to start at the effective moment, asked for the evening before, is fine.
    let g = decide(
        &moscow,
        &request_at("trash", at("2020-04-15T00:00")),
        &resident(),
        &none,
        at("2020-04-14T20:00"),
    )
    .unwrap();
    assert_eq!(g.valid_from, at("2020-04-15T00:00"));

    let tatarstan = tatarstan_2020();
    let refused = decide(
        &tatarstan,
        &request("medical"),
        &resident(),
        &none,
        at("2020-05-12T00:00"),
    )
    .unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeEnded);
    // A pass near the end is cut at the regime's end.
    let g = decide(
        &tatarstan,
        &request("dacha"),
        &resident(),
        &none,
        at("2020-05-11T23:30"),
    )
    .unwrap();
    assert_eq!(g.valid_until, at("2020-05-12T00:00"));
    // A quota refusal near the end names no next moment when it would fall after the end.
    let mut passes = Vec::new();
    ask(&tatarstan, "court", at("2020-05-02T10:00"), &mut passes).unwrap();
    let refused = ask(&tatarstan, "court", at("2020-05-03T10:00"), &mut passes).unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(refused.next_possible_at, None);
    assert!(refused.message.ru.contains("До окончания режима"));
}

#[test]
fn the_book_picks_the_regime_of_the_start() {
    let mut book = RegimeBook::new();
    let none = Vec::new();
    let refused = book
        .decide(
            &request("trash"),
            &resident(),
            &none,
            at("2020-04-20T10:00"),
        )
        .unwrap_err();
    assert_eq!(refused.code, RefusalCode::NoRegimeInForce);

    book.insert(tatarstan_2020());
    let refused = book
        .decide(
            &request("medical"),
            &resident(),
            &none,
            at("2020-03-31T10:00"),
        )
        .unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeNotYetInForce);
    assert_eq!(refused.next_possible_at, Some(at("2020-04-01T00:00")));
    let refused = book
        .decide(
            &request("medical"),
            &resident(),
            &none,
            at("2020-05-20T10:00"),
        )
        .unwrap_err();
    assert_eq!(refused.code, RefusalCode::RegimeEnded);

    book.insert(moscow_2020());
    // Moscow's regime governs from 15 April; a pass asked on the 14th for the 15th is under it.
    let g = book
        .decide(
            &request_at("shopping", at("2020-04-15T09:00")),
            &resident(),
            &none,
            at("2020-04-14T12:00"),
        )
        .unwrap();
    assert_eq!(g.regime, "moscow-2020");
    let g = book
        .decide(
            &request("medical"),
            &resident(),
            &none,
            at("2020-04-14T12:00"),
        )
        .unwrap();
    assert_eq!(g.regime, "tatarstan-2020");
}

// ---- the rest ----

#[test]
fn cancelled_before_start_does_not_count_after_start_does() {
    let r = moscow_2020();
    let t0 = at("2020-04-20T10:00");
    let mut passes = Vec::new();
    ask(&r, "shopping", t0, &mut passes).unwrap();
    ask(&r, "shopping", t0 + hours(1), &mut passes).unwrap();
    // Cancelled an hour after it started: it was used, it counts.
    passes[1].cancelled_at = Some(t0 + hours(2));
    assert_eq!(
        refusal_code(ask(&r, "shopping", t0 + hours(3), &mut passes)),
        RefusalCode::QuotaExceeded
    );
    // Cancelled exactly at its start: never took effect, it does not count.
    passes[1].cancelled_at = Some(t0 + hours(1));
    ask(&r, "shopping", t0 + hours(3), &mut passes).unwrap();
    assert!(!passes[1].counts());
    assert!(passes[2].counts());
}

#[test]
fn distance_from_home() {
    let r = moscow_2020();
    let none = Vec::new();
    let now = at("2020-04-20T10:00");
    let mut req = request("pet");
    assert!(
        decide(&r, &req, &resident(), &none, now).is_ok(),
        "no destination: near home"
    );
    req.destination = Some(GeoPoint::new(55.7504, 37.6200).unwrap()); // ~45 m
    assert!(decide(&r, &req, &resident(), &none, now).is_ok());
    req.destination = Some(GeoPoint::new(55.7514, 37.6200).unwrap()); // ~156 m
    let refused = decide(&r, &req, &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::TooFarFromHome);
    assert!(
        refused.message.en.contains("at most 100 m"),
        "{}",
        refused.message.en
    );
    let no_home = ResidentFacts {
        profile_complete: true,
        home: None,
    };
    assert_eq!(
        refusal_code(decide(&r, &req, &no_home, &none, now)),
        RefusalCode::ProfileIncomplete
    );
    // Purposes without a maximum ignore the destination.
    req.purpose = "trash".into();
    assert!(decide(&r, &req, &resident(), &none, now).is_ok());
}

#[test]
fn profile_and_purpose() {
    let r = moscow_2020();
    let none = Vec::new();
    let now = at("2020-04-20T10:00");
    let incomplete = ResidentFacts::default();
    assert_eq!(
        refusal_code(decide(&r, &request("emergency"), &incomplete, &none, now)),
        RefusalCode::ProfileIncomplete
    );
    let refused = decide(&r, &request("picnic"), &resident(), &none, now).unwrap_err();
    assert_eq!(refused.code, RefusalCode::UnknownPurpose);
    assert!(
        refused
            .message
            .ru
            .contains("3 — Поход в продуктовый магазин или аптеку"),
        "{}",
        refused.message.ru
    );
    assert!(
        !refused.message.en.contains("shopping"),
        "{}",
        refused.message.en
    );
    assert_eq!(refused.field.as_deref(), Some("purpose"));
}

#[test]
fn refusals_serialise_with_their_codes() {
    let r = moscow_2020();
    let refused = decide(
        &r,
        &request("picnic"),
        &resident(),
        &[],
        at("2020-04-20T10:00"),
    )
    .unwrap_err();
    let json = serde_json::to_value(&refused).unwrap();
    assert_eq!(json["code"], "unknown_purpose");
    assert!(json["message"]["ru"].is_string());
    assert_eq!(
        RefusalCode::RegimeCapExceeded.as_str(),
        "regime_cap_exceeded"
    );
    assert_eq!(
        serde_json::to_value(RefusalCode::ValidFromTooFarAhead).unwrap(),
        "valid_from_too_far_ahead"
    );
    assert!(refused.to_string().starts_with("unknown_purpose: "));
}

#[test]
fn lookback_covers_the_longest_window() {
    assert_eq!(lookback(&moscow_2020()), hours(7 * 24) + VALID_FROM_GRACE);
    assert_eq!(
        lookback(&tatarstan_2020()),
        hours(31 * 24 + 1) + VALID_FROM_GRACE
    );
    assert_eq!(lookback(&test_regime()), hours(25) + VALID_FROM_GRACE);
}

// ---- properties ----

/// Checks a set of passes against a quota without using the code under test.
fn within(quota_count: u32, window: Window, tz: &TimeZone, mut starts: Vec<Timestamp>) -> bool {
    starts.sort();
    let n = quota_count as usize;
    match window {
        Window::Rolling(length) => starts
            .windows(n + 1)
            .all(|w| w[n].duration_since(w[0]) >= length),
        calendar => {
            let mut counts = std::collections::HashMap::new();
            for s in starts {
                let date = s.to_zoned(tz.clone()).date();
                let key = match calendar {
                    Window::Day => (date.year(), date.day_of_year()),
                    Window::Week => {
                        let w = date.iso_week_date();
                        (w.year(), w.week() as i16)
                    }
                    _ => (date.year(), date.month() as i16),
                };
                *counts.entry(key).or_insert(0usize) += 1;
            }
            counts.values().all(|c| *c <= n)
        }
    }
}

fn assert_all_limits(regime: &Regime, passes: &[PriorPass]) -> Result<(), TestCaseError> {
    let tz = regime.time_zone();
    let counted: Vec<&PriorPass> = passes.iter().filter(|p| p.counts()).collect();
    for purpose in regime.purposes() {
        if let Some(q) = purpose.quota() {
            let starts = counted
                .iter()
                .filter(|p| p.purpose == purpose.id().as_str())
                .map(|p| p.valid_from)
                .collect();
            prop_assert!(
                within(q.count(), q.window(), tz, starts),
                "quota of {} broken",
                purpose.id()
            );
        }
    }
    if let Some(cap) = regime.cap() {
        let starts = counted
            .iter()
            .filter(|p| {
                !regime
                    .purpose(&p.purpose)
                    .is_some_and(|q| q.always_allowed())
            })
            .map(|p| p.valid_from)
            .collect();
        prop_assert!(within(cap.count(), cap.window(), tz, starts), "cap broken");
    }
    let every_start = passes.iter().map(|p| p.valid_from).collect();
    prop_assert!(
        within(regime.max_passes_per_day(), Window::Day, tz, every_start),
        "ceiling broken"
    );
    Ok(())
}

/// The passes a store following `reads` hands to `decide`: those of the named purposes since
/// `since`, and for each of the ceiling's days only the *last* `per_day` passes starting in it
/// (any of them would do; the last ones make a wrong choice in `decide` show).
fn as_read(reads: &PriorReads, passes: &[PriorPass]) -> Vec<PriorPass> {
    let mut chosen: Vec<usize> = Vec::new();
    if let Some(by) = &reads.by_purpose {
        chosen.extend((0..passes.len()).filter(|&k| {
            let p = &passes[k];
            let named = match &by.purposes {
                PurposeSet::Only(ids) => ids.contains(&p.purpose),
                PurposeSet::AllBut(ids) => !ids.contains(&p.purpose),
            };
            named && p.valid_from >= by.since
        }));
    }
    for (start, end) in &reads.days {
        let in_day: Vec<usize> = (0..passes.len())
            .filter(|&k| *start <= passes[k].valid_from && passes[k].valid_from < *end)
            .collect();
        let skip = in_day.len().saturating_sub(reads.per_day as usize);
        chosen.extend(in_day.into_iter().skip(skip));
    }
    chosen.sort();
    chosen.dedup();
    chosen.into_iter().map(|k| passes[k].clone()).collect()
}

#[derive(Debug, Clone)]
struct Step {
    /// Minutes since the previous step.
    advance: u32,
    /// Minutes ahead of now the pass should start (0 = now).
    ahead: u32,
    purpose: usize,
    /// Cancel an earlier pass: (which, minutes after now).
    cancel: Option<(usize, u32)>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (
            0u32..2000,
            prop_oneof![Just(0u32), 0u32..(7 * 24 * 60)],
            0usize..9,
            proptest::option::weighted(0.15, (0usize..100, 0u32..600)),
        )
            .prop_map(|(advance, ahead, purpose, cancel)| Step {
                advance,
                ahead,
                purpose,
                cancel,
            }),
        1..80,
    )
}

/// Runs a random sequence of requests, recording grants; after each step every limit must
/// hold and every "next possible" moment must really be possible.
fn run(regime: &Regime, start: Timestamp, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut now = start;
    let mut passes: Vec<PriorPass> = Vec::new();
    let purposes: Vec<&str> = regime.purposes().iter().map(|p| p.id().as_str()).collect();
    for step in steps {
        now += SignedDuration::from_mins(i64::from(step.advance));
        if let Some((which, after)) = step.cancel {
            if !passes.is_empty() {
                let k = which % passes.len();
                passes[k]
                    .cancelled_at
                    .get_or_insert(now + SignedDuration::from_mins(i64::from(after)));
            }
        }
        let purpose = purposes[step.purpose % purposes.len()];
        let mut req = request_at(
            purpose,
            now + SignedDuration::from_mins(i64::from(step.ahead)),
        );
        req.fields
            .insert("employer_inn".into(), "7707083893".into());
        let decided = decide(regime, &req, &resident(), &passes, now);
        // What the store reads is enough: the same decision, the same next possible moment.
        let reads = PriorReads::for_request(regime, &req, now);
        let bounded = decide(regime, &req, &resident(), &as_read(&reads, &passes), now);
        prop_assert_eq!(&decided, &bounded);
        match decided {
            Ok(grant) => {
                prop_assert!(grant.valid_from < grant.valid_until);
                passes.push(prior(&grant));
                assert_all_limits(regime, &passes)?;
            }
            Err(refusal) => {
                if let (
                    Some(next),
                    RefusalCode::QuotaExceeded
                    | RefusalCode::RegimeCapExceeded
                    | RefusalCode::OutsideAllowedHours,
                ) = (refusal.next_possible_at, refusal.code)
                {
                    let asked = req.valid_from.unwrap();
                    prop_assert!(next > asked, "next {next} not after {asked}");
                    // Asking at that moment (as if then) succeeds.
                    let mut retry = req.clone();
                    retry.valid_from = Some(next);
                    let result = decide(
                        regime,
                        &retry,
                        &resident(),
                        &passes,
                        next.min(asked).max(now),
                    );
                    let result = match result {
                        Err(r) if r.code == RefusalCode::ValidFromTooFarAhead => {
                            decide(regime, &retry, &resident(), &passes, next)
                        }
                        other => other,
                    };
                    prop_assert!(
                        result.is_ok(),
                        "next possible {next} refused: {:?}",
                        result.err()
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn tatarstan_limits_hold_for_any_request_sequence(steps in steps()) {
        run(&tatarstan_2020(), at("2020-04-01T00:00"), steps)?;
    }

    #[test]
    fn moscow_limits_hold_for_any_request_sequence(steps in steps()) {
        run(&moscow_2020(), at("2020-04-15T00:00"), steps)?;
    }

    #[test]
    fn test_regime_limits_hold_for_any_request_sequence(steps in steps()) {
        run(&test_regime(), at("2020-04-15T00:00"), steps)?;
    }
}

#[test]
fn quota_status_counts_as_decide_does() {
    let r = moscow_2020();
    let shopping = r.purpose("shopping").unwrap();
    let t0 = at("2020-04-20T10:00");
    let mut passes = Vec::new();
    let status = |passes: &[PriorPass], now| quota_status(&r, shopping, passes, now).unwrap();
    let fresh = status(&passes, t0);
    assert_eq!((fresh.used, fresh.left()), (0, 2));
    assert_eq!(fresh.next_possible_at, None);

    ask(&r, "shopping", t0, &mut passes).unwrap();
    assert_eq!(status(&passes, t0 + hours(1)).left(), 1);
    // Booked for tomorrow and cancelled before it started: it never took effect.
    let booked = decide(
        &r,
        &request_at("shopping", t0 + hours(24)),
        &resident(),
        &passes,
        t0,
    )
    .unwrap();
    let mut cancelled = prior(&booked);
    cancelled.cancelled_at = Some(t0 + hours(2));
    passes.push(cancelled);
    assert_eq!(status(&passes, t0 + hours(3)).left(), 1);

    ask(&r, "shopping", t0 + hours(4), &mut passes).unwrap();
    let full = status(&passes, t0 + hours(5));
    assert_eq!((full.used, full.left()), (2, 0));
    // The next one: when the first leaves the rolling week, as the refusal says.
    let refused = decide(
        &r,
        &request("shopping"),
        &resident(),
        &passes,
        t0 + hours(5),
    )
    .unwrap_err();
    assert_eq!(refused.code, RefusalCode::QuotaExceeded);
    assert_eq!(full.next_possible_at, Some(t0 + hours(168)));
    assert_eq!(full.next_possible_at, refused.next_possible_at);
    // A pass cancelled after its start was used, and still counts.
    passes[0].cancelled_at = Some(t0 + hours(1));
    assert_eq!(status(&passes, t0 + hours(5)).left(), 0);
    // Purposes without a quota of their own have no status.
    assert!(quota_status(&r, r.purpose("trash").unwrap(), &passes, t0).is_none());
    assert!(quota_status(&r, r.purpose("emergency").unwrap(), &passes, t0).is_none());
}
