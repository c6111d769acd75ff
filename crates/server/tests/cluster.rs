//! Several nodes on one database, as a city runs them: the periodic jobs (the monitoring
//! sweep that draws and judges check-ins, the retention purge, the loaner reminders) run
//! once per period however many nodes tick at once, and a missed check-in becomes exactly
//! one flag and one SMS.

mod support;

use futures_util::future::join_all;
use jiff::{SignedDuration, Timestamp};
use propusk_server::jobs::{self, Job};
use propusk_store::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{phone, TestApp};

/// Every node's clock moved to `t` (each node keeps its own, as separate machines do).
fn move_all(nodes: &[&TestApp], t: Timestamp) {
    for node in nodes {
        node.move_to(t);
    }
}

/// The jobs each node ran when all three ticked at once.
async fn tick_all(nodes: &[&TestApp]) -> Vec<Job> {
    join_all(nodes.iter().map(|n| jobs::run_due(&n.state)))
        .await
        .into_iter()
        .flatten()
        .collect()
}

on_every_backend!(three_nodes_run_each_job_once, three_nodes_scenario);
async fn three_nodes_scenario(a: &TestApp) {
    let b = TestApp::start(a.backend.clone(), a.database_url.clone(), 1024).await;
    let c = TestApp::start(a.backend.clone(), a.database_url.clone(), 1024).await;
    let nodes = [a, &b, &c];
    // Nodes of one cluster share one time.
    let start = a.state.clock.now();
    move_all(&nodes, start);

    let officer = a.staff("health-cluster", Role::Health).await;
    let patient = phone();
    let r = a
        .post(
            "/api/v1/cases",
            Some(&officer),
            json!({
                "phone": patient, "full_name": "Сидорова Анна Павловна",
                "home": {"address": "Москва", "lat": 55.7575, "lon": 37.6130},
                "radius_m": 50, "starts_at": start.to_string(),
                "ends_at": (start + SignedDuration::from_hours(14 * 24)).to_string(),
            }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let (id, code) = (
        created["id"].as_str().unwrap().to_string(),
        created["enrollment_code"].as_str().unwrap().to_string(),
    );
    let r = b
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    // Three nodes tick together: each job runs once.
    let ran = tick_all(&nodes).await;
    assert_eq!(ran.len(), Job::ALL.len(), "{ran:?}");
    for job in Job::ALL {
        assert_eq!(ran.iter().filter(|j| **j == job).count(), 1, "{job:?}");
    }
    // Again in the same minute: nothing runs.
    assert!(tick_all(&nodes).await.is_empty());

    // The check-ins drawn for the case; let the first pass unanswered.
    let schedule: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, deadline FROM monitoring_challenges WHERE case_id = $1 ORDER BY issued_at",
    )
    .bind(&id)
    .fetch_all(&mut connect(a).await)
    .await
    .unwrap();
    assert!(!schedule.is_empty());
    let (_, deadline) = &schedule[0];
    move_all(&nodes, Timestamp::from_second(deadline + 61).unwrap());
    for _ in 0..3 {
        let ran = tick_all(&nodes).await;
        assert!(ran.iter().filter(|j| **j == Job::Sweep).count() <= 1);
    }
    // One flag, one SMS — not one per node.
    let flags: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM monitoring_flags WHERE case_id = $1 AND kind = 'missed_checkin'",
    )
    .bind(&id)
    .fetch_all(&mut connect(a).await)
    .await
    .unwrap();
    assert_eq!(flags.len(), 1);
    a.wait_sms(&patient, "нет ответа на проверку").await;
    let sms: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sms_outbox WHERE phone = $1 AND body LIKE '%нет ответа на проверку%'",
    )
    .bind(&patient)
    .fetch_one(&mut connect(a).await)
    .await
    .unwrap();
    assert_eq!(sms.0, 1);
    let sent = a
        .sms_to(&patient)
        .into_iter()
        .filter(|t| t.contains("нет ответа на проверку"))
        .count();
    assert_eq!(sent, 1, "sent once, by one node's outbox worker");

    b.stop_node().await;
    c.stop_node().await;
}

async fn connect(app: &TestApp) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap()
}

on_every_backend!(
    overdue_loaners_are_reminded_once_a_day,
    loaner_reminder_scenario
);
async fn loaner_reminder_scenario(a: &TestApp) {
    let b = TestApp::start(a.backend.clone(), a.database_url.clone(), 1024).await;
    let nodes = [a, &b];
    let start = a.state.clock.now();
    move_all(&nodes, start);
    let officer = a.staff("health-reminders", Role::Health).await;
    let patient = phone();
    let created: Value = a
        .post(
            "/api/v1/cases",
            Some(&officer),
            json!({
                "phone": patient, "full_name": "Сидорова Анна Павловна",
                "home": {"address": "Москва", "lat": 55.7575, "lon": 37.6130},
                "starts_at": start.to_string(), "lang": "en",
                "ends_at": (start + SignedDuration::from_hours(3 * 24)).to_string(),
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let r = a
        .post("/api/v1/loaners", Some(&officer), json!({"serial": "SN-7"}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = a
        .post(
            "/api/v1/loaners/SN-7/lend",
            Some(&officer),
            json!({"case_id": id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // Not due yet: no reminder.
    tick_all(&nodes).await;
    // Four days later (a day overdue), each hour's ticks: one reminder that day.
    let overdue = start + SignedDuration::from_hours(4 * 24);
    for hour in 0..5 {
        move_all(&nodes, overdue + SignedDuration::from_hours(hour));
        tick_all(&nodes).await;
    }
    let reminded = |a: &TestApp| {
        a.sms_to(&patient)
            .into_iter()
            .filter(|t| t.contains("was due back"))
            .count()
    };
    a.wait_sms(&patient, "was due back").await;
    assert_eq!(reminded(a), 1);
    // The next day, one more.
    move_all(&nodes, overdue + SignedDuration::from_hours(25));
    tick_all(&nodes).await;
    for _ in 0..200 {
        if reminded(a) == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(reminded(a), 2);
    b.stop_node().await;
}
