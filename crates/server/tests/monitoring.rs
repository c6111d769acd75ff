//! Quarantine monitoring as officers and patients' phones drive it, on SQLite and on
//! PostgreSQL: cases, enrollment, location reports, flags, decisions and appeals.
//!
//! Time moves with the server's clock (`state.clock.advance`): a scenario enrolls a phone,
//! moves the clock on, and uploads what the phone saw meanwhile, as a phone that buffers
//! its reports does.

mod support;

use jiff::{SignedDuration, Timestamp};
use propusk_store::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::monitoring::{
    b64, case, case_request, enroll, fix, flags_of, open_case, open_case_with, photo, upload, HOME,
    JPEG,
};
use support::{phone, problem, TestApp};

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// Waits until the flag's SMS has gone out and it awaits an officer.
async fn wait_notified(app: &TestApp, officer: &str, flag: &str) -> Value {
    for _ in 0..200 {
        let f: Value = app
            .get(&format!("/api/v1/flags/{flag}"), Some(officer))
            .await
            .json()
            .await
            .unwrap();
        if f["state"] == "notified" {
            return f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("flag {flag} never reached notified")
}

async fn decide(app: &TestApp, officer: &str, flag: &str, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/flags/{flag}/decision"),
        Some(officer),
        body,
    )
    .await
}

on_every_backend!(cases_and_enrollment, cases_and_enrollment_scenario);
async fn cases_and_enrollment_scenario(app: &TestApp) {
    let officer = app.staff("health-enroll", Role::Health).await;
    let inspector = app.staff("inspector-enroll", Role::Inspector).await;
    let patient = phone();

    // Only health officers open cases; input is checked at the edge.
    let r = app.post("/api/v1/cases", Some(&inspector), json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let now = app.state.clock.now();
    let bad = json!({
        "phone": patient, "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва", "lat": 55.75, "lon": 37.61}, "radius_m": 50,
        "starts_at": now.to_string(), "ends_at": (now - mins(60)).to_string(),
    });
    problem(
        app.post("/api/v1/cases", Some(&officer), bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_period",
    )
    .await;

    let (id, code) = open_case(app, &officer, &patient).await;
    let c = case(app, &officer, &id).await;
    assert_eq!(c["status"], "active");
    assert_eq!(c["flags"], json!([]));
    assert!(c["monitoring_since"].is_null());

    // The code enrolls one device, once, however it is typed.
    let device = enroll(app, &code).await;
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "enrollment_code_not_found").await;
    assert!(!case(app, &officer, &id).await["monitoring_since"].is_null());

    // Reports are checked: no token, from the future, too old, nonsense.
    let t = app.state.clock.now();
    let r = app
        .post(
            "/api/v1/device/locations",
            None,
            json!([fix(t, 0.0, 0.0, 10.0)]),
        )
        .await;
    problem(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&device),
            json!([fix(t, 0.0, 0.0, 10.0), fix(t + mins(30), 0.0, 0.0, 10.0)]),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "fix_in_future").await;
    assert_eq!(body["index"], 1);
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&device),
            json!([fix(t - SignedDuration::from_hours(49), 0.0, 0.0, 10.0)]),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "fix_too_old").await;
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&device),
            json!([{"ts": t.to_string(), "lat": 95.0, "lon": 37.0, "accuracy_m": 10.0}]),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_fix").await;
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&device),
            json!([{"ts": "yesterday", "lat": 55.0, "lon": 37.0, "accuracy_m": 10.0}]),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;

    // Extend, end early, close: the device is then refused.
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/extend"),
            Some(&officer),
            json!({"ends_at": (now + SignedDuration::from_hours(20 * 24)).to_string()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/end"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ended");
    // Monitoring is over: the phone's token is refused as retired, so the app erases itself.
    let r = app.get("/api/v1/device/config", Some(&device)).await;
    problem(r, StatusCode::GONE, "device_retired").await;
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/close"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "closed");
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&device),
            json!([fix(app.state.clock.now(), 0.0, 0.0, 10.0)]),
        )
        .await;
    problem(r, StatusCode::GONE, "device_retired").await;
    let r = app
        .post(
            "/api/v1/device/locations",
            Some("not-a-token"),
            json!([fix(app.state.clock.now(), 0.0, 0.0, 10.0)]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Each staff read and change is in the audit log.
    app.assert_audited(
        &[
            "monitoring.case.create",
            "monitoring.case.read",
            "monitoring.case.extend",
            "monitoring.case.end",
            "monitoring.case.close",
        ],
        Some(&id),
    )
    .await;
}

on_every_backend!(noisy_compliant_patient_is_not_flagged, noisy_scenario);
async fn noisy_scenario(app: &TestApp) {
    let officer = app.staff("health-noise", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &officer, &patient).await;
    let device = enroll(app, &code).await;
    let t0 = app.state.clock.now();
    app.state.clock.advance(110 * 60);

    // Indoor noise tens of metres, a multipath jump of 300 m with a falsely small accuracy,
    // a cell-tower fix 900 m off, and a stale repeat: none of it is a departure.
    let mut fixes = Vec::new();
    for k in 1..=54 {
        let at = t0 + mins(2 * k);
        let wobble = ((k * 37) % 11) as f64 * 6.0 - 30.0;
        let f = match k {
            20 => fix(at, 300.0, 40.0, 12.0),
            30 => fix(at, -900.0, 0.0, 1500.0),
            40 | 41 => fix(at, 20.0, 10.0, 35.0),
            _ => fix(at, wobble, -wobble / 2.0, 20.0 + (k % 4) as f64 * 5.0),
        };
        fixes.push(f);
    }
    fixes.push(fixes[0].clone());
    let out = upload(app, &device, &fixes).await;
    assert_eq!(out["accepted"], 54, "{out}");
    assert_eq!(out["duplicates"], 1, "the same report twice is one report");
    let c = case(app, &officer, &id).await;
    assert!(flags_of(&c, "left_home").is_empty(), "{c}");
    assert!(flags_of(&c, "no_signal").is_empty(), "{c}");
    let sent = app.sms_to(&patient);
    assert!(
        sent.iter().all(|t| t.contains("/patient/app/#code=")),
        "the enrollment SMS only: {sent:?}"
    );
}

on_every_backend!(patient_sms_in_the_case_language, sms_language_scenario);
async fn sms_language_scenario(app: &TestApp) {
    let officer = app.staff("health-lang", Role::Health).await;
    let patient = phone();
    let r = app
        .post(
            "/api/v1/cases",
            Some(&officer),
            case_request(app, &patient, json!({"lang": "de"})),
        )
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(p["field"], "lang");

    let (id, code) = open_case_with(app, &officer, &patient, json!({"lang": "en"})).await;
    assert_eq!(case(app, &officer, &id).await["lang"], "en");
    let device = enroll(app, &code).await;
    let t0 = app.state.clock.now();
    app.state.clock.advance(100 * 60);
    // Home for 30 minutes, then 600 m away for 40.
    let fixes: Vec<Value> = (1..=35)
        .map(|k| {
            let jitter = (k % 5) as f64 * 7.0;
            match k {
                16.. => fix(t0 + mins(2 * k), 600.0 + jitter, 150.0, 10.0),
                _ => fix(t0 + mins(2 * k), 10.0 - jitter, -5.0 + jitter, 20.0),
            }
        })
        .collect();
    upload(app, &device, &fixes).await;
    let sms = app.wait_sms(&patient, "away from home").await;
    assert!(sms.contains("This is not a fine"), "{sms}");
}

/// The patient's explanation of a flag, from the phone.
async fn explain(app: &TestApp, device: &str, flag: &str, text: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::PUT,
        &format!("/api/v1/device/flags/{flag}/statement"),
        Some(device),
        Some(json!({ "statement": text })),
    )
    .await
}

on_every_backend!(departure_decision_and_appeal, departure_scenario);
async fn departure_scenario(app: &TestApp) {
    let first = app.staff("health-first", Role::Health).await;
    let second = app.staff("health-second", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &first, &patient).await;
    let device = enroll(app, &code).await;
    let t0 = app.state.clock.now();
    app.state.clock.advance(100 * 60);

    // Home for 30 minutes, 600 m away for 40, home again.
    let fixes: Vec<Value> = (1..=50)
        .map(|k| {
            let at = t0 + mins(2 * k);
            // Real fixes differ a little each time (identical ones are a phone repeating
            // its last position, which the evaluator counts once).
            let jitter = (k % 5) as f64 * 7.0;
            if (16..36).contains(&k) {
                fix(at, 600.0 + jitter, 150.0 - jitter, 10.0 + (k % 3) as f64)
            } else {
                fix(at, 10.0 - jitter, -5.0 + jitter, 20.0)
            }
        })
        .collect();
    let out = upload(app, &device, &fixes).await;
    assert_eq!(out["accepted"], 50);

    // A retried batch is not counted twice.
    let c = case(app, &first, &id).await;
    let flags = flags_of(&c, "left_home");
    assert_eq!(flags.len(), 1, "{c}");
    let flag = flags[0].clone();
    let again = upload(app, &device, &fixes).await;
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["duplicates"], 50);
    let c = case(app, &first, &id).await;
    assert_eq!(flags_of(&c, "left_home").len(), 1);
    assert_eq!(flags_of(&c, "left_home")[0]["evidence"], flag["evidence"]);

    // The evidence is map-free: how far, how sure, how long.
    let evidence = &flag["evidence"];
    assert_eq!(evidence["kind"], "left_home");
    assert_eq!(evidence["outside"], 20);
    assert!(evidence["distance_m"]["median"].as_u64().unwrap() > 500);
    let text = evidence.to_string();
    assert!(!text.contains("lat") && !text.contains("lon"), "{text}");
    let from: Timestamp = flag["from"].as_str().unwrap().parse().unwrap();
    let to: Timestamp = flag["to"].as_str().unwrap().parse().unwrap();
    assert!(to.duration_since(from) >= mins(20));

    // The patient is told — not fined — and then the flag awaits an officer.
    let sms = app.wait_sms(&patient, "вне дома").await;
    assert!(sms.contains("не штраф"), "{sms}");
    let flag_id = flag["id"].as_str().unwrap().to_string();
    let notified = wait_notified(app, &first, &flag_id).await;
    assert!(
        notified["sanction"].is_null(),
        "no sanction without a decision"
    );
    assert!(notified["statement"].is_null());

    // The patient explains before the decision: refused empty or too long, stored, replaced.
    let r = explain(app, &device, &flag_id, "  ").await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(body["field"], "statement");
    let r = explain(app, &device, &flag_id, &"а".repeat(2001)).await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let r = explain(app, &device, &flag_id, "Ходил в аптеку").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = explain(app, &device, &flag_id, "Возил ребёнка в травмпункт").await;
    assert_eq!(r.status(), StatusCode::OK);
    let explained: Value = r.json().await.unwrap();
    assert_eq!(explained["statement"]["text"], "Возил ребёнка в травмпункт");
    assert!(explained["statement"]["written_at"].is_string());
    let r = explain(app, &device, "00000000-0000-0000-0000-000000000000", "x").await;
    problem(r, StatusCode::NOT_FOUND, "flag_not_found").await;
    let queue: Value = app
        .get("/api/v1/flags/queue", Some(&first))
        .await
        .json()
        .await
        .unwrap();
    let queued = queue["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == flag_id.as_str())
        .expect("the flag is in the queue");
    assert_eq!(queued["evidence"]["kind"], "left_home");
    assert_eq!(queued["awaits_officer"], true);

    // A confirmation needs a reason and a sanction.
    let r = decide(
        app,
        &first,
        &flag_id,
        json!({"decision": "confirm", "sanction": {"type": "fine", "amount_rub": 4000}}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "reason_required").await;
    let r = decide(
        app,
        &first,
        &flag_id,
        json!({"decision": "confirm", "note": "40 минут в 600 м, объяснений нет"}),
    )
    .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let r = decide(
        app,
        &first,
        &flag_id,
        json!({"decision": "confirm", "sanction": {"type": "fine", "amount_rub": 4000},
               "note": "40 минут в 600 м, объяснений нет"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let confirmed: Value = r.json().await.unwrap();
    assert_eq!(confirmed["state"], "confirmed_with_sanction");
    assert_eq!(confirmed["sanction"]["amount_rub"], 4000);
    let sms = app.wait_sms(&patient, "штраф 4000").await;
    assert!(
        sms.contains("как обжаловать") && sms.contains("как оплатить"),
        "{sms}"
    );

    // After the decision the explanation can no longer change; the officer read this one.
    let r = explain(app, &device, &flag_id, "Ещё одно").await;
    let body = problem(r, StatusCode::CONFLICT, "flag_decided").await;
    assert!(
        body["detail"].as_str().unwrap().contains("обжаловать"),
        "{body}"
    );
    assert_eq!(confirmed["statement"]["text"], "Возил ребёнка в травмпункт");

    // The patient appeals from the phone; the same officer may not decide it.
    let r = app
        .post(
            &format!("/api/v1/device/flags/{flag_id}/appeal"),
            Some(&device),
            json!({"statement": "Возил ребёнка в травмпункт, справка есть"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "appealed");
    let mine: Value = app
        .get("/api/v1/device/flags", Some(&device))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["flags"][0]["state"], "appealed");
    let r = app
        .post(
            &format!("/api/v1/flags/{flag_id}/appeal-decision"),
            Some(&first),
            json!({"upheld": false, "note": "справки нет"}),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN, "appeal_needs_another_officer").await;
    let r = app
        .post(
            &format!("/api/v1/flags/{flag_id}/appeal-decision"),
            Some(&second),
            json!({"upheld": true, "note": "справка из травмпункта подтверждает"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let upheld: Value = r.json().await.unwrap();
    assert_eq!(upheld["state"], "appeal_upheld");
    assert!(upheld["sanction"].is_null());
    app.wait_sms(&patient, "удовлетворена").await;

    // Who did what, when: in the flag's history and in the audit log.
    let history = upheld["history"].as_array().unwrap();
    let events: Vec<&str> = history
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "raised",
            "notified",
            "confirmed",
            "appealed",
            "appeal_upheld"
        ]
    );
    assert_ne!(history[2]["officer"], history[4]["officer"]);
    app.assert_audited(
        &["monitoring.flag.confirmed", "monitoring.flag.appeal_upheld"],
        Some(&flag_id),
    )
    .await;
}

on_every_backend!(
    dead_phone_is_no_signal_never_sanctioned,
    dead_phone_scenario
);
async fn dead_phone_scenario(app: &TestApp) {
    let officer = app.staff("health-silence", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &officer, &patient).await;
    let device = enroll(app, &code).await;
    let t0 = app.state.clock.now();
    app.state.clock.advance(30 * 60);
    let fixes: Vec<Value> = (1..=15)
        .map(|k| fix(t0 + mins(2 * k), 5.0, 5.0, 15.0))
        .collect();
    upload(app, &device, &fixes).await;

    // The battery dies: nothing more arrives for three hours.
    app.state.clock.advance(3 * 3600);
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let c = case(app, &officer, &id).await;
    assert!(flags_of(&c, "left_home").is_empty(), "{c}");
    let silent = flags_of(&c, "no_signal");
    assert_eq!(silent.len(), 1, "{c}");
    assert_eq!(silent[0]["ongoing"], true);
    let flag_id = silent[0]["id"].as_str().unwrap().to_string();
    let sms = app.wait_sms(&patient, "нет данных").await;
    assert!(sms.contains("не нарушение"), "{sms}");

    // Sweeping again continues the same flag: no second flag, no second SMS.
    app.state.clock.advance(600);
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let c = case(app, &officer, &id).await;
    assert_eq!(flags_of(&c, "no_signal").len(), 1);

    // Silence cannot be sanctioned; it can be looked into and dismissed.
    wait_notified(app, &officer, &flag_id).await;
    let r = decide(
        app,
        &officer,
        &flag_id,
        json!({"decision": "confirm", "sanction": {"type": "warning"}, "note": "не отвечал"}),
    )
    .await;
    problem(r, StatusCode::CONFLICT, "not_sanctionable").await;
    let r = decide(
        app,
        &officer,
        &flag_id,
        json!({"decision": "dismiss", "note": "разрядился телефон"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let dismissed: Value = r.json().await.unwrap();
    assert_eq!(dismissed["state"], "dismissed");
    assert!(dismissed["sanction"].is_null());
    app.wait_sms(&patient, "нарушения нет").await;
    // One SMS for the flag and one for the decision (a check-in missed while the phone was
    // dead, depending on the time of day the test runs, would be a flag of its own).
    let sent = app.sms_to(&patient);
    assert_eq!(
        sent.iter().filter(|t| t.contains("нет данных с ")).count(),
        1
    );
    assert_eq!(
        sent.iter().filter(|t| t.contains("нарушения нет")).count(),
        1
    );

    // The phone comes back and uploads what it buffered: the silence was not one after all.
    // The flag stays (decided) but is no longer ongoing; nothing new is raised.
    let now = app.state.clock.now();
    let buffered: Vec<Value> = (0..)
        .map(|k| t0 + mins(32 + 10 * k))
        .take_while(|t| *t <= now)
        .enumerate()
        .map(|(k, t)| fix(t, 5.0 + k as f64, 5.0, 15.0))
        .collect();
    upload(app, &device, &buffered).await;
    let c = case(app, &officer, &id).await;
    let silent = flags_of(&c, "no_signal");
    assert_eq!(silent.len(), 1, "{c}");
    assert_eq!(silent[0]["ongoing"], false);
    assert_eq!(silent[0]["state"], "dismissed");
    assert!(flags_of(&c, "left_home").is_empty());
}

on_every_backend!(data_is_erased_after_retention, retention_scenario);
async fn retention_scenario(app: &TestApp) {
    use sqlx::Connection;
    let officer = app.staff("health-retention", Role::Health).await;
    let (id, code) = open_case(app, &officer, &phone()).await;
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code, "reference_photo": b64(&photo())}),
        )
        .await;
    let device = r.json::<Value>().await.unwrap()["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let t0 = app.state.clock.now();
    app.state.clock.advance(20 * 60);
    let fixes: Vec<Value> = (1..=8)
        .map(|k| fix(t0 + mins(2 * k), k as f64, 0.0, 15.0))
        .collect();
    upload(app, &device, &fixes).await;
    let r = app
        .post(
            &format!("/api/v1/cases/{id}/close"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Kept for 30 days after closing (the default retention), then erased: only the count
    // remains.
    assert_eq!(
        app.state.monitoring.retention,
        propusk_server::monitoring::DEFAULT_RETENTION
    );
    app.state.clock.advance(29 * 24 * 3600);
    assert_eq!(
        propusk_server::monitoring::purge(&app.state).await.unwrap(),
        0
    );
    // Until then a dump holds them (which also shows the scan below can see them).
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let before = dump_values(&mut db).await;
    assert!(before
        .iter()
        .any(|c| matches!(c, Cell::Real(x) if (x - HOME.0).abs() < 0.01)));
    assert!(before
        .iter()
        .any(|c| matches!(c, Cell::Blob(b) if b.windows(JPEG.len()).any(|w| w == JPEG))));
    db.close().await.unwrap();
    app.state.clock.advance(2 * 24 * 3600);
    assert_eq!(
        propusk_server::monitoring::purge(&app.state).await.unwrap(),
        1
    );
    let officer = app.staff("health-retention-2", Role::Health).await;
    let c = case(app, &officer, &id).await;
    assert!(c["home"].is_null(), "{c}");
    assert_eq!(c["purged_fixes"], 8);

    // What a dump would read: no coordinates of the case anywhere.
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let (fixes,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM location_fixes WHERE case_id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(fixes, 0);
    let (lat, address): (Option<f64>, Option<String>) =
        sqlx::query_as("SELECT home_lat, home_address FROM monitoring_cases WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!((lat, address), (None, None));
    let (photos,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM monitoring_devices WHERE case_id = $1 AND reference_photo IS NOT NULL",
    )
    .bind(&id)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(photos, 0);
    let r = app
        .get(
            &format!("/api/v1/cases/{id}/reference-photo"),
            Some(&officer),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "photo_not_found").await;

    // And a dump of the whole database: every value of every row of every table.
    let dump = dump_values(&mut db).await;
    assert!(dump.len() > 50, "the dump read the database: {dump:?}");
    let near = |x: f64, coordinate: f64| (x - coordinate).abs() < 0.01;
    for value in &dump {
        match value {
            Cell::Real(x) => assert!(!near(*x, HOME.0) && !near(*x, HOME.1), "{x} in the dump"),
            Cell::Text(t) => assert!(
                !t.contains("55.75") && !t.contains("37.61") && !t.contains("Тверская"),
                "{t:?} in the dump"
            ),
            Cell::Blob(b) => assert!(
                !b.windows(JPEG.len()).any(|w| w == JPEG),
                "a photo in the dump"
            ),
        }
    }
    db.close().await.unwrap();
}

#[derive(Debug)]
enum Cell {
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Every non-null value in the database, as a logical dump (`sqlite3 .dump`, `pg_dump`) would
/// write it.
async fn dump_values(db: &mut sqlx::AnyConnection) -> Vec<Cell> {
    use sqlx::Row;
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *db)
    .await
    .or(sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut *db)
    .await)
    .unwrap();
    let mut cells = Vec::new();
    for (table,) in tables {
        let rows = sqlx::query(&format!("SELECT * FROM \"{table}\""))
            .fetch_all(&mut *db)
            .await
            .unwrap();
        for row in &rows {
            for i in 0..row.len() {
                if let Ok(Some(x)) = row.try_get::<Option<f64>, _>(i) {
                    cells.push(Cell::Real(x));
                } else if let Ok(Some(t)) = row.try_get::<Option<String>, _>(i) {
                    cells.push(Cell::Text(t));
                } else if let Ok(Some(b)) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    cells.push(Cell::Blob(b));
                }
            }
        }
    }
    cells
}

/// Moves the server's clock to `t`.
fn move_to(app: &TestApp, t: Timestamp) {
    let delta = t.duration_since(app.state.clock.now()).as_secs();
    assert!(delta >= 0, "the clock only moves forward");
    app.state.clock.advance(delta);
}

on_every_backend!(checkins_in_daytime_missed_is_a_flag, checkin_scenario);
async fn checkin_scenario(app: &TestApp) {
    use sqlx::Connection;
    let officer = app.staff("health-checkin", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &officer, &patient).await;
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code, "reference_photo": b64(&photo())}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let device = r.json::<Value>().await.unwrap()["device_token"]
        .as_str()
        .unwrap()
        .to_string();
    let enrolled = app.state.clock.now();
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    propusk_server::monitoring::sweep(&app.state).await.unwrap();

    // The schedule (secret from the patient): daytime in Moscow, at most three a day, twenty
    // minutes each, none in the past — and a second sweep adds nothing.
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let schedule: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT id, issued_at, deadline FROM monitoring_challenges WHERE case_id = $1 ORDER BY issued_at",
    )
    .bind(&id)
    .fetch_all(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
    assert!(schedule.len() >= 2, "{schedule:?}");
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let mut per_day = std::collections::BTreeMap::new();
    for (_, issued, deadline) in &schedule {
        assert_eq!(deadline - issued, 20 * 60);
        let (from, to) = (
            tz.to_datetime(Timestamp::from_second(*issued).unwrap()),
            tz.to_datetime(Timestamp::from_second(*deadline).unwrap()),
        );
        assert!(
            from.hour() >= 9 && (to.hour(), to.minute()) <= (21, 0),
            "{from} {to}"
        );
        assert!(*issued >= enrolled.as_second());
        *per_day.entry(from.date()).or_insert(0) += 1;
    }
    assert!(per_day.values().all(|&n| n <= 3), "{per_day:?}");

    // Nothing is shown before its time; then the patient answers with a photo and location.
    let open: Value = app
        .get("/api/v1/device/challenges", Some(&device))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["challenges"], json!([]));
    let (first, first_at, _) = &schedule[0];
    move_to(app, Timestamp::from_second(first_at + 60).unwrap());
    let open: Value = app
        .get("/api/v1/device/challenges", Some(&device))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["challenges"][0]["id"], first.as_str());
    let answer = json!({"photo": b64(&photo()), "lat": HOME.0, "lon": HOME.1, "accuracy_m": 12.0});
    let r = app
        .post(
            &format!("/api/v1/device/challenges/{first}"),
            Some(&device),
            answer.clone(),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["late"], false);
    let r = app
        .post(
            &format!("/api/v1/device/challenges/{first}"),
            Some(&device),
            answer,
        )
        .await;
    problem(r, StatusCode::CONFLICT, "already_answered").await;
    let r = app
        .post(
            &format!("/api/v1/device/challenges/{first}"),
            Some(&device),
            json!({"photo": b64(b"not a photo"), "lat": HOME.0, "lon": HOME.1, "accuracy_m": 12.0}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo").await;

    // The second goes unanswered: a missed_checkin flag and an SMS, not a fine.
    let (second, _, second_deadline) = &schedule[1];
    move_to(app, Timestamp::from_second(second_deadline + 60).unwrap());
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let officer = app.staff("health-checkin-2", Role::Health).await;
    let c = case(app, &officer, &id).await;
    let missed = flags_of(&c, "missed_checkin");
    assert_eq!(missed.len(), 1, "{c}");
    assert_eq!(missed[0]["evidence"]["kind"], "missed_checkin");
    assert!(missed[0]["sanction"].is_null());
    let sms = app.wait_sms(&patient, "нет ответа на проверку").await;
    assert!(sms.contains("не штраф"), "{sms}");

    // The officer sees both, and the photos side by side.
    let list: Value = app
        .get(&format!("/api/v1/cases/{id}/checkins"), Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    let list = list["checkins"].as_array().unwrap();
    let answered = list.iter().find(|c| c["id"] == first.as_str()).unwrap();
    assert_eq!(answered["has_photo"], true);
    assert_eq!(answered["distance_m"], 0);
    // No automatic face matcher is claimed: the officer compares.
    assert_eq!(
        answered["face_match"],
        json!({"result": "not_assessed", "by": "officer"})
    );
    let unanswered = list.iter().find(|c| c["id"] == second.as_str()).unwrap();
    assert_eq!(unanswered["flag_id"], missed[0]["id"]);
    let photo = app
        .get(&format!("/api/v1/checkins/{first}/photo"), Some(&officer))
        .await;
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    let stored = photo.bytes().await.unwrap();
    assert!(stored.starts_with(JPEG));
    assert_eq!(image::load_from_memory(&stored).unwrap().width(), 64);
    let reference = app
        .get(
            &format!("/api/v1/cases/{id}/reference-photo"),
            Some(&officer),
        )
        .await;
    assert!(reference.bytes().await.unwrap().starts_with(JPEG));
}

on_every_backend!(loaner_phones, loaner_scenario);
async fn loaner_scenario(app: &TestApp) {
    let officer = app.staff("health-loaner", Role::Health).await;
    let (id, _) = open_case(app, &officer, &phone()).await;
    let r = app
        .post(
            "/api/v1/loaners",
            Some(&officer),
            json!({"serial": "SN-0001"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "in_stock");
    let r = app
        .post(
            "/api/v1/loaners",
            Some(&officer),
            json!({"serial": "SN-0001"}),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "loaner_exists").await;

    // Lent to the case, due at the case's end, with a one-time key the phone enrolls with
    // (as a link for the app too); the device token it gets is all it holds.
    let r = app
        .post(
            "/api/v1/loaners/SN-0001/lend",
            Some(&officer),
            json!({"case_id": id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let lent: Value = r.json().await.unwrap();
    assert_eq!(lent["state"], "on_loan");
    assert_eq!(
        lent["due_at"],
        case(app, &officer, &id).await["ends_at"],
        "due at the case's end"
    );
    assert!(lent.get("device_token").is_none());
    let key = lent["loaner_key"].as_str().unwrap().to_string();
    assert!(
        key.parse::<propusk_token::LoanerKey>().is_ok() && key.len() == 19,
        "four groups of four with a check symbol: {key}"
    );
    assert_eq!(
        lent["enrollment_url"],
        format!("{}/patient/app/#code={key}", app.base)
    );
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": key.to_lowercase().replace('-', " ")}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let enrolled: Value = r.json().await.unwrap();
    assert_eq!(enrolled["kind"], "loaner");
    let token = enrolled["device_token"].as_str().unwrap().to_string();
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": key}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "enrollment_code_not_found").await;
    let config: Value = app
        .get("/api/v1/device/config", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(config["kind"], "loaner");
    assert_eq!(config["loaner_due_at"], lent["due_at"]);
    let t = app.state.clock.now();
    upload(app, &token, &[fix(t, 0.0, 0.0, 10.0)]).await;
    let r = app
        .post(
            "/api/v1/loaners/SN-0001/lend",
            Some(&officer),
            json!({"case_id": id}),
        )
        .await;
    problem(r, StatusCode::CONFLICT, "loaner_state_conflict").await;

    // Overdue once the quarantine is over and the phone is not back.
    let overdue: Value = app
        .get("/api/v1/loaners/overdue", Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["loaners"], json!([]));
    app.state.clock.advance(15 * 24 * 3600);
    let officer = app.staff("health-loaner-2", Role::Health).await;
    let overdue: Value = app
        .get("/api/v1/loaners/overdue", Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["loaners"][0]["serial"], "SN-0001");

    // Returned (its token stops working), wiped with the whole checklist, lendable again.
    let r = app
        .post(
            "/api/v1/loaners/SN-0001/return",
            Some(&officer),
            json!({"checklist": {"screen_intact": true, "charger": false}}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "returned");
    let r = app
        .post(
            "/api/v1/device/locations",
            Some(&token),
            json!([fix(app.state.clock.now(), 0.0, 0.0, 10.0)]),
        )
        .await;
    problem(r, StatusCode::GONE, "device_retired").await;
    let r = app
        .post(
            "/api/v1/loaners/SN-0001/wipe",
            Some(&officer),
            json!({"checklist": {"factory_reset": true, "token_removed": true}}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "wipe_incomplete").await;
    assert_eq!(body["missing"], json!(["accounts_removed"]));
    let r = app
        .post(
            "/api/v1/loaners/SN-0001/wipe",
            Some(&officer),
            json!({"checklist": {"factory_reset": true, "token_removed": true, "accounts_removed": true}}),
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "wiped");
    let stock: Value = app
        .get("/api/v1/loaners?state=wiped", Some(&officer))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stock["loaners"].as_array().unwrap().len(), 1);
    app.assert_audited(
        &[
            "monitoring.loaner.add",
            "monitoring.loaner.lend",
            "monitoring.loaner.returned",
            "monitoring.loaner.wiped",
        ],
        Some("SN-0001"),
    )
    .await;
}

on_every_backend!(
    steady_reports_uploaded_over_hours_never_look_like_silence,
    steady_scenario
);
/// A phone that reports every 2 minutes and uploads every 10, for 5 hours: each
/// upload is evaluated over a recent window only, and the track before that window
/// must not be taken for silence (it once gave every case a false `no_signal`).
async fn steady_scenario(app: &TestApp) {
    let officer = app.staff("health-steady", Role::Health).await;
    let patient = phone();
    let (id, code) = open_case(app, &officer, &patient).await;
    let device = enroll(app, &code).await;
    let t0 = app.state.clock.now();
    for upload_no in 1..=30 {
        let batch: Vec<Value> = (1..=5)
            .map(|k| fix(t0 + mins(10 * (upload_no - 1) + 2 * k), 5.0, -5.0, 20.0))
            .collect();
        move_to(
            app,
            t0 + mins(10 * upload_no) + SignedDuration::from_secs(5),
        );
        let out = upload(app, &device, &batch).await;
        assert_eq!(out["accepted"], 5, "{out}");
    }
    propusk_server::monitoring::sweep(&app.state)
        .await
        .expect("sweep");
    let c = case(app, &officer, &id).await;
    assert!(flags_of(&c, "no_signal").is_empty(), "{c}");
    assert!(flags_of(&c, "left_home").is_empty(), "{c}");
    let sent = app.sms_to(&patient);
    assert!(
        sent.iter().all(|t| t.contains("/patient/app/#code=")),
        "the enrollment SMS only: {sent:?}"
    );
}
