//! The device API the Social Monitoring app speaks (issue 11), on SQLite and on PostgreSQL:
//! the consent terms and the app's settings, what the officer sees of a case's phones,
//! devices that retire with their case, check-ins announced by SMS with a link into the app,
//! answers taken offline, and asking when in doubt — an immediate check-in when a confident
//! fix first places the phone far from home, in daytime only, never a flag by itself.
//!
//! Scenarios that depend on the time of day first move the server's clock to 10:00 in Moscow
//! (the cases' zone), so they do not depend on when the tests run.

mod support;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use propusk_store::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::monitoring::{b64, case, enroll, fix, flags_of, open_case, photo, upload, HOME, JPEG};
use support::{phone, problem, TestApp};

/// The next moment after now at `time` on Moscow's clocks; the server's clock moves there.
fn move_to_moscow(app: &TestApp, time: Time) -> Timestamp {
    let tz = TimeZone::get("Europe/Moscow").unwrap();
    let now = app.state.clock.now();
    let mut day = now.to_zoned(tz.clone()).date();
    let at = loop {
        let t = day
            .to_datetime(time)
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp();
        if t > now + SignedDuration::from_mins(1) {
            break t;
        }
        day = day.tomorrow().unwrap();
    };
    app.move_to(at);
    at
}

fn ten_am() -> Time {
    Time::constant(10, 0, 0, 0)
}

/// A case opened now and its phone enrolled; the clock then moves on seven minutes, so that
/// the phone has reported from home for a while ([`at_home_lately`]).
async fn enrolled(app: &TestApp, officer: &str, patient: &str) -> (String, String) {
    let (id, code) = open_case(app, officer, patient).await;
    let device = enroll(app, &code).await;
    app.move_to(app.state.clock.now() + SignedDuration::from_mins(7));
    (id, device)
}

/// Fixes at home for the last few minutes, as an open app would have sent them.
async fn at_home_lately(app: &TestApp, device: &str) {
    let now = app.state.clock.now();
    let fixes: Vec<Value> = (2..7)
        .rev()
        .map(|m| {
            fix(
                now - SignedDuration::from_mins(m),
                5.0 * m as f64,
                0.0,
                15.0,
            )
        })
        .collect();
    upload(app, device, &fixes).await;
}

async fn open_challenges(app: &TestApp, device: &str) -> Vec<Value> {
    let r = app.get("/api/v1/device/challenges", Some(device)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["challenges"].as_array().unwrap().clone()
}

/// A distance in whole metres within a few metres of `metres` (the tests place fixes on a
/// flat Earth; the server measures on a sphere).
fn assert_near(value: &Value, metres: i64) {
    let got = value
        .as_i64()
        .unwrap_or_else(|| panic!("{value} is not whole metres"));
    assert!(
        (got - metres).abs() <= 10,
        "{got} m, expected about {metres} m"
    );
}

fn answer(north_m: f64, accuracy_m: f64, taken_at: Option<Timestamp>) -> Value {
    let at = fix(Timestamp::UNIX_EPOCH, north_m, 0.0, accuracy_m);
    let mut body = json!({
        "photo": b64(&photo()), "lat": at["lat"], "lon": at["lon"], "accuracy_m": accuracy_m,
    });
    if let Some(t) = taken_at {
        body["taken_at"] = json!(t.to_string());
    }
    body
}

on_every_backend!(
    the_app_is_told_its_settings_and_the_officer_sees_its_phone,
    settings_scenario
);
async fn settings_scenario(app: &TestApp) {
    let officer = app.staff("health-app-settings", Role::Health).await;
    let patient = phone();

    // The consent screen's terms need no token.
    let terms = app.get_json("/api/v1/device/terms", None).await;
    assert_eq!(
        terms,
        json!({"retention_days": 30, "checkin_hours": {"from": "09:00", "to": "21:00"},
               "checkins_per_day": 3, "checkin_deadline_mins": 20, "report_every_secs": 60})
    );

    // The case's answer links to the app with the code in the fragment.
    let r = app
        .post(
            "/api/v1/cases",
            Some(&officer),
            support::monitoring::case_request(app, &patient, json!({"lang": "en"})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let (id, code) = (
        created["id"].as_str().unwrap().to_string(),
        created["enrollment_code"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        created["enrollment_url"],
        format!("{}/patient/app/#code={code}", app.base)
    );
    let before = case(app, &officer, &id).await;
    assert_eq!(before["reports_received"], 0);
    assert!(before["last_report_at"].is_null() && before["app_last_seen_at"].is_null());

    // A code too long to be one is refused as such; a wrong one is not found.
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": "X".repeat(65)}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;

    let device = enroll(app, &code).await;
    app.move_to(app.state.clock.now() + SignedDuration::from_mins(5));
    let r = app.get("/api/v1/device/config", Some(&device)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let config: Value = r.json().await.unwrap();
    assert_eq!(config["report_every_secs"], 60);
    assert_eq!(
        config["checkin_hours"],
        json!({"from": "09:00", "to": "21:00"})
    );
    assert_eq!(config["case_ends_at"], before["ends_at"]);
    assert_eq!(config["lang"], "en");
    assert_eq!(config["time_zone"], "Europe/Moscow");
    assert_eq!(config["kind"], "own");
    assert!(config.get("loaner_due_at").is_none(), "{config}");
    let server_time: Timestamp = config["server_time"].as_str().unwrap().parse().unwrap();
    assert!(app.state.clock.now().duration_since(server_time).abs() < SignedDuration::from_secs(5));
    let r = app.get("/api/v1/device/config", None).await;
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Reports reach the case; a retried batch counts once.
    let now = app.state.clock.now();
    let fixes: Vec<Value> = (1..4)
        .map(|m| fix(now - SignedDuration::from_mins(4 - m), 10.0, 0.0, 15.0))
        .collect();
    let first = upload(app, &device, &fixes).await;
    assert_eq!(first["accepted"], 3);
    assert_eq!(first["open_challenges"], 0);
    let again = upload(app, &device, &fixes).await;
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(3))
    );
    let after = case(app, &officer, &id).await;
    assert_eq!(after["reports_received"], 3);
    let newest: Timestamp = fixes[2]["ts"].as_str().unwrap().parse().unwrap();
    let newest = Timestamp::from_second(newest.as_second()).unwrap();
    assert_eq!(after["last_report_at"], newest.to_string(), "whole seconds");
    let seen: Timestamp = after["app_last_seen_at"].as_str().unwrap().parse().unwrap();
    assert!(seen >= now - SignedDuration::from_secs(5));

    // An appeal statement has a bound, checked before anything else.
    let r = app
        .post(
            "/api/v1/device/flags/00000000-0000-0000-0000-000000000000/appeal",
            Some(&device),
            json!({"statement": "я".repeat(2001)}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(body["field"], "statement");

    // At the quarantine's end the phone retires: refused as such, so the app erases itself.
    app.move_to(server_time + SignedDuration::from_hours(14 * 24 + 1));
    let r = app.get("/api/v1/device/config", Some(&device)).await;
    let body = problem(r, StatusCode::GONE, "device_retired").await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("больше не участвует"),
        "{body}"
    );
}

on_every_backend!(
    a_far_fix_in_daytime_is_asked_about_and_a_far_answer_flags_at_once,
    far_answer_scenario
);
async fn far_answer_scenario(app: &TestApp) {
    move_to_moscow(app, ten_am());
    let officer = app.staff("health-ask-far", Role::Health).await;
    let patient = phone();
    let (id, device) = enrolled(app, &officer, &patient).await;
    at_home_lately(app, &device).await;
    assert!(open_challenges(app, &device).await.is_empty());

    // Ten minutes later, a confident fix 2 km away and nothing recorded on the way: a
    // believable trip that the evaluator would wait twelve minutes on. The service asks.
    app.move_to(app.state.clock.now() + SignedDuration::from_mins(8));
    let now = app.state.clock.now();
    let out = upload(
        app,
        &device,
        &[fix(now - SignedDuration::from_secs(20), 2000.0, 0.0, 15.0)],
    )
    .await;
    assert_eq!(out["open_challenges"], 1);
    let open = open_challenges(app, &device).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let asked = &open[0];
    assert_eq!(asked["kind"], "immediate");
    assert_near(&asked["asked_for"]["distance_m"], 2000);
    let checkin = asked["id"].as_str().unwrap().to_string();
    let sms = app.wait_sms(&patient, "далеко от дома").await;
    assert!(
        sms.contains(&format!("{}/patient/app/#checkin={checkin}", app.base)),
        "{sms}"
    );
    assert!(sms.contains("не штраф"), "{sms}");
    assert!(flags_of(&case(app, &officer, &id).await, "left_home").is_empty());

    // One question per time away: more fixes there ask nothing new.
    app.move_to(now + SignedDuration::from_mins(1));
    let later = app.state.clock.now();
    upload(
        app,
        &device,
        &[fix(
            later - SignedDuration::from_secs(10),
            2020.0,
            0.0,
            12.0,
        )],
    )
    .await;
    assert_eq!(open_challenges(app, &device).await.len(), 1);

    // The patient answers from where they are: a departure, flagged at once.
    app.move_to(now + SignedDuration::from_mins(3));
    let r = app
        .post(
            &format!("/api/v1/device/challenges/{checkin}"),
            Some(&device),
            answer(2010.0, 8.0, None),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["late"], false);
    let c = case(app, &officer, &id).await;
    let left = flags_of(&c, "left_home");
    assert_eq!(left.len(), 1, "{c}");
    let confirmed = &left[0]["evidence"]["confirmed_by_checkin"];
    assert_near(&confirmed["distance_m"], 2010);
    assert_eq!(left[0]["checkins"][0]["id"], checkin.as_str());
    assert_eq!(left[0]["checkins"][0]["has_photo"], true);
    app.wait_sms(&patient, "вне дома").await;

    // The officer's queue shows the flag with the question and its photo beside it.
    let queue = app.get_json("/api/v1/flags/queue", Some(&officer)).await;
    let queued = queue["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["case_id"] == id.as_str())
        .expect("the flag is in the queue");
    assert_eq!(queued["checkins"][0]["kind"], "immediate");
    let photo = app
        .get(&format!("/api/v1/checkins/{checkin}/photo"), Some(&officer))
        .await;
    let stored = photo.bytes().await.unwrap();
    assert!(stored.starts_with(JPEG));
    assert!(image::load_from_memory(&stored).is_ok());
    // The patient sees it too, with the question, and no officer's id.
    let mine = app.get_json("/api/v1/device/flags", Some(&device)).await;
    let flag = &mine["flags"][0];
    assert_eq!(flag["checkins"][0]["id"], checkin.as_str());
    assert!(flag["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.get("officer").is_none()));
}

on_every_backend!(
    an_answer_from_home_ends_it_and_no_answer_is_never_a_flag,
    home_answer_scenario
);
async fn home_answer_scenario(app: &TestApp) {
    move_to_moscow(app, ten_am());
    let officer = app.staff("health-ask-home", Role::Health).await;

    // Answered from home: the suspicion ends; the phone's far position was a source error.
    let (home_id, home_code) = open_case(app, &officer, &phone()).await;
    let home_device = enroll(app, &home_code).await;
    // The other case's question goes unanswered.
    let (silent_id, silent_device) = enrolled(app, &officer, &phone()).await;
    let start = app.state.clock.now();
    for device in [&home_device, &silent_device] {
        at_home_lately(app, device).await;
        let t = app.state.clock.now() - SignedDuration::from_secs(15);
        upload(app, device, &[fix(t, 3000.0, 0.0, 25.0)]).await;
    }
    let ask = open_challenges(app, &home_device).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.move_to(start + SignedDuration::from_mins(2));
    let r = app
        .post(
            &format!("/api/v1/device/challenges/{ask}"),
            Some(&home_device),
            answer(0.0, 15.0, None),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // The same far position again, then home, for half an hour: no departure from a phone
    // whose patient showed they were home.
    for m in 3..30 {
        let t = start + SignedDuration::from_mins(m);
        app.move_to(t);
        let north = if m < 8 { 3000.0 } else { 10.0 };
        upload(app, &home_device, &[fix(t, north, 0.0, 25.0)]).await;
        upload(app, &silent_device, &[fix(t, 10.0, 0.0, 20.0)]).await;
    }
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    assert!(flags_of(&case(app, &officer, &home_id).await, "left_home").is_empty());

    // Unanswered: never a flag (no missed_checkin either); the officer sees the question.
    let silent = case(app, &officer, &silent_id).await;
    assert!(silent["flags"].as_array().unwrap().is_empty(), "{silent}");
    let queue = app.get_json("/api/v1/flags/queue", Some(&officer)).await;
    let unanswered: Vec<&Value> = queue["unanswered_checkins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["case_id"] == silent_id.as_str())
        .collect();
    assert_eq!(unanswered.len(), 1, "{queue}");
    assert_eq!(unanswered[0]["case_id"], silent_id.as_str());
    assert_near(&unanswered[0]["asked_for"]["distance_m"], 3000);
    assert!(unanswered[0]["answered_at"].is_null());

    // At night nothing is asked.
    move_to_moscow(app, Time::constant(23, 30, 0, 0));
    let officer = app.staff("health-ask-night", Role::Health).await;
    let (_, night_device) = enrolled(app, &officer, &phone()).await;
    at_home_lately(app, &night_device).await;
    let t = app.state.clock.now() - SignedDuration::from_secs(20);
    let out = upload(app, &night_device, &[fix(t, 2500.0, 0.0, 15.0)]).await;
    assert_eq!(out["open_challenges"], 0);
    assert!(open_challenges(app, &night_device).await.is_empty());
}

on_every_backend!(
    an_answer_taken_offline_counts_when_it_was_taken,
    offline_answer_scenario
);
async fn offline_answer_scenario(app: &TestApp) {
    move_to_moscow(app, ten_am());
    let officer = app.staff("health-offline-answer", Role::Health).await;
    let (_, device) = enrolled(app, &officer, &phone()).await;
    at_home_lately(app, &device).await;
    let t = app.state.clock.now() - SignedDuration::from_secs(10);
    upload(app, &device, &[fix(t, 2500.0, 0.0, 15.0)]).await;
    let asked = open_challenges(app, &device).await.remove(0);
    let id = asked["id"].as_str().unwrap().to_string();
    let issued: Timestamp = asked["issued_at"].as_str().unwrap().parse().unwrap();
    let deadline: Timestamp = asked["deadline"].as_str().unwrap().parse().unwrap();

    // The phone was offline: the answer arrives after the deadline, taken well before it.
    app.move_to(deadline + SignedDuration::from_mins(30));
    let path = format!("/api/v1/device/challenges/{id}");
    let future = app.state.clock.now() + SignedDuration::from_mins(10);
    let r = app
        .post(&path, Some(&device), answer(0.0, 15.0, Some(future)))
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "answer_in_future").await;
    let early = issued - SignedDuration::from_mins(1);
    let r = app
        .post(&path, Some(&device), answer(0.0, 15.0, Some(early)))
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "answer_before_checkin").await;
    let r = app
        .post(
            &path,
            Some(&device),
            json!({"photo": b64(&photo()), "lat": HOME.0, "lon": HOME.1,
                                            "accuracy_m": 15.0, "taken_at": "yesterday"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let taken = issued + SignedDuration::from_mins(4);
    let r = app
        .post(&path, Some(&device), answer(0.0, 15.0, Some(taken)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["late"], false);
    assert_eq!(body["answered_at"], taken.to_string());
    // A retry of the same answer changes nothing: the first stands.
    let r = app
        .post(&path, Some(&device), answer(0.0, 15.0, Some(taken)))
        .await;
    problem(r, StatusCode::CONFLICT, "already_answered").await;
}

on_every_backend!(
    a_checkin_is_announced_once_by_sms_with_a_link_into_the_app,
    announce_scenario
);
async fn announce_scenario(app: &TestApp) {
    move_to_moscow(app, Time::constant(7, 30, 0, 0));
    let officer = app.staff("health-announce", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &officer, &patient).await;
    enroll(app, &code).await;
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let list = app
        .get_json(&format!("/api/v1/cases/{id}/checkins"), Some(&officer))
        .await;
    assert!(
        list["checkins"].as_array().unwrap().is_empty(),
        "none shown yet"
    );
    let schedule = app
        .state
        .store
        .case_checkins(&id, Timestamp::MAX)
        .await
        .unwrap();
    let first = schedule.first().expect("today's schedule");
    assert!(
        app.sms_to(&patient).iter().all(|t| !t.contains("проверка")),
        "not before it is shown"
    );
    app.move_to(first.issued_at + SignedDuration::from_secs(30));
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let link = format!("{}/patient/app/#checkin={}", app.base, first.id);
    let sms = app.wait_sms(&patient, &link).await;
    assert!(sms.contains("Карантин: проверка."), "{sms}");
    let announced = app
        .sms_to(&patient)
        .iter()
        .filter(|t| t.contains(&link))
        .count();
    assert_eq!(announced, 1, "one SMS per check-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_clock_exists_only_when_asked_for() {
    let backend = support::Backend::Sqlite;
    let plain = TestApp::spawn(&backend).await;
    assert_eq!(
        plain.get("/_test/clock", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let openapi: Value = plain
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!openapi["paths"]
        .as_object()
        .unwrap()
        .keys()
        .any(|p| p.contains("_test")));
    plain.stop().await;

    let app = TestApp::spawn_tuned(&backend, 1024, |settings| settings.test_clock = true).await;
    let before: Timestamp = app
        .get("/_test/clock", None)
        .await
        .json::<Value>()
        .await
        .unwrap()["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = app
        .post("/_test/clock", None, json!({"advance_secs": 3600}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after: Timestamp = r.json::<Value>().await.unwrap()["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(after.duration_since(before) >= SignedDuration::from_hours(1));
    let r = app
        .post("/_test/clock", None, json!({"advance_secs": -60}))
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    app.stop().await;
}
