//! No resident can slow the others (issue 15, defect 8): a resident with 10,000 passes who
//! keeps 8 requests going (each client at most one request per 25 ms) does not slow another
//! resident's issuance, and the work done for each of their requests does not grow with their
//! history.
//!
//! The latency comparison is a ratio measured within one run: rounds alternate between the
//! other residents issuing alone and issuing while the heavy resident hammers the service, so
//! that whatever else the machine is doing weighs on both sides alike.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneNumber};
use propusk_store::{Profile, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{phone, TestApp};

/// Passes in the heavy resident's history, all in the week before today (inside the 7-day
/// window of Moscow's shopping quota, which is what issuance used to read for every request).
const HISTORY: usize = 10_000;
/// The heavy resident's requests in flight, as in the defect's measurement.
const HEAVY_CLIENTS: usize = 8;
/// Each heavy client sends a request at most this often: 320 requests a second in all, a
/// scripted client's pace rather than a flood (what a flood does to two shared cores is the
/// overload protection's business, not the history's), and four times what the old code could
/// serve this resident (each of its requests read all 10,000 passes in the writer).
const HEAVY_PACE: Duration = Duration::from_millis(25);
/// Alternations of a quiet phase and a loaded phase.
const ROUNDS: usize = 8;
/// Requests measured per phase and round: 480 per phase, so p99 is the 5th slowest.
const SAMPLES: usize = 60;
/// Other residents, taken in turn (each stays below the ceiling of 20 passes a day).
const OTHERS: usize = 50;

on_every_backend!(
    a_residents_history_does_not_slow_the_others,
    history_scenario
);
async fn history_scenario(app: &TestApp) {
    let store = &app.state.store;
    let now = jiff::Timestamp::now();
    let heavy = resident(app, 0).await;
    let heavy_id = store
        .session(&heavy, now)
        .await
        .unwrap()
        .unwrap()
        .subject_id;
    seed_history(app, &heavy_id, now).await;
    let mut others = Vec::new();
    for k in 1..=OTHERS {
        others.push(resident(app, k).await);
    }
    let day = today(now);

    let mut quiet = Vec::new();
    let mut loaded = Vec::new();
    let mut next = 0;
    let (mut heavy_granted, mut heavy_refused) = (0, 0);
    let mut reads_of_heavy = Vec::new();
    for _ in 0..ROUNDS {
        quiet.extend(issue_in_turn(app, &others, &mut next, SAMPLES).await);

        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let before = store.issuance_reads();
        let clients: Vec<_> = (0..HEAVY_CLIENTS)
            .map(|_| {
                let (client, url, token) = (
                    app.client.clone(),
                    format!("{}/api/v1/passes", app.base),
                    heavy.clone(),
                );
                let (stop, answered) = (stop.clone(), answered.clone());
                tokio::spawn(async move {
                    let (mut granted, mut refused) = (0, 0);
                    let mut pace = tokio::time::interval(HEAVY_PACE);
                    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    while !stop.load(Ordering::Relaxed) {
                        pace.tick().await;
                        let r = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&json!({"purpose": "trash"}))
                            .send()
                            .await
                            .expect("heavy request");
                        match r.status() {
                            StatusCode::CREATED => granted += 1,
                            StatusCode::UNPROCESSABLE_ENTITY => {
                                let body: Value = r.json().await.unwrap();
                                assert_eq!(body["code"], "regime_cap_exceeded", "{body}");
                                refused += 1;
                            }
                            other => panic!("heavy resident got {other}"),
                        }
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    (granted, refused)
                })
            })
            .collect();
        // The load is on once every heavy client has had an answer.
        while answered.load(Ordering::Relaxed) < HEAVY_CLIENTS as u64 {
            tokio::task::yield_now().await;
        }
        loaded.extend(issue_in_turn(app, &others, &mut next, SAMPLES).await);
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            let (g, r) = c.await.unwrap();
            heavy_granted += g;
            heavy_refused += r;
        }
        let after = store.issuance_reads();
        reads_of_heavy.push((before, after));
    }

    // The ceiling held exactly under 8 concurrent clients: 20 passes today, the rest refused.
    if today(jiff::Timestamp::now()) == day {
        assert_eq!(heavy_granted, 20, "the ceiling of 20 a day, exactly");
    }
    assert!(heavy_refused > 0);

    // The work per decision does not grow with the history: every read is bounded by the
    // ceiling (20 a day over the 8 days a pass can start on), and here only today's passes
    // are in range. (Before, each decision read all 10,000.)
    let decisions: u64 = reads_of_heavy
        .iter()
        .map(|(b, a)| a.decisions - b.decisions)
        .sum();
    let rows: u64 = reads_of_heavy
        .iter()
        .map(|(b, a)| a.prior_rows - b.prior_rows)
        .sum();
    assert!(decisions >= (HEAVY_CLIENTS * ROUNDS) as u64);
    assert!(
        rows <= decisions * 21,
        "{rows} earlier passes read for {decisions} decisions: more than the ceiling's day"
    );

    let (quiet_p99, loaded_p99) = (p99(&mut quiet), p99(&mut loaded));
    println!(
        "{:?}: other residents' p99 {:.1} ms alone, {:.1} ms beside the heavy resident ({} decisions for them, {:.1} earlier passes read per decision)",
        app.backend,
        ms(quiet_p99),
        ms(loaded_p99),
        decisions,
        rows as f64 / decisions as f64
    );
    // Within 2×, give or take 5 ms: alone, a debug build answers in about 3 ms on two cores,
    // where one scheduling delay behind the heavy resident's 320 requests a second is already
    // a doubling that no history causes (a heavy resident with one earlier pass does the same).
    // Before, the same run gave 116 ms beside against 2 ms alone.
    assert!(
        loaded_p99 <= quiet_p99 * 2 + Duration::from_millis(5),
        "p99 {:.1} ms beside the heavy resident, {:.1} ms alone: more than 2× (+5 ms)",
        ms(loaded_p99),
        ms(quiet_p99)
    );
}

/// A resident with a complete profile and a session, made through the store (setup).
async fn resident(app: &TestApp, k: usize) -> String {
    let store = &app.state.store;
    let now = jiff::Timestamp::now();
    let r = store
        .resident_for_phone(&PhoneNumber::parse(&phone()).unwrap(), now)
        .await
        .unwrap();
    let profile = Profile {
        full_name: FullName::parse("Иван Иванович Петров").unwrap(),
        document: Document::parse(DocumentKind::PassportRu, &format!("4510 {k:06}")).unwrap(),
        home_address: "Москва, ул. Тверская, д. 1".into(),
        home: GeoPoint::new(55.7575, 37.6130).unwrap(),
    };
    store.set_profile(&r.id, &profile, now).await.unwrap();
    let token = propusk_server::auth::new_token();
    store
        .create_session(
            &token,
            &r.id,
            Role::Resident,
            now + jiff::SignedDuration::from_hours(2),
            now,
        )
        .await
        .unwrap();
    token
}

/// HISTORY trash passes, one every 30 seconds, ending at the start of today (Moscow): the
/// history a scripted client could have built before the ceiling existed.
async fn seed_history(app: &TestApp, resident_id: &str, now: jiff::Timestamp) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    let end = today(now).as_second();
    for chunk in (0..HISTORY).collect::<Vec<_>>().chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|k| {
                let p = k * 5;
                format!(
                    "(${}, $1, 'moscow-2020', 'trash', ${}, 'PR1:seeded', ${}, ${}, ${}, 'api', '{{}}')",
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO passes (id, resident_id, regime_id, purpose, short_code, token, valid_from, valid_until, issued_at, channel, fields) VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(resident_id.to_string());
        for &n in chunk {
            let from = end - 30 * (n as i64 + 1);
            q = q
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(format!("SEED{n:08}"))
                .bind(from)
                .bind(from + 1800)
                .bind(from);
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Sequential requests by the other residents, each taken in turn; their latencies.
async fn issue_in_turn(
    app: &TestApp,
    others: &[String],
    next: &mut usize,
    n: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let token = &others[*next % others.len()];
        *next += 1;
        let started = Instant::now();
        let r = app
            .post("/api/v1/passes", Some(token), json!({"purpose": "trash"}))
            .await;
        let status = r.status();
        let body = r.text().await.unwrap();
        out.push(started.elapsed());
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    out
}

/// The start of the local day in Moscow (the built-in regime's clocks).
fn today(t: jiff::Timestamp) -> jiff::Timestamp {
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    t.to_zoned(tz).start_of_day().unwrap().timestamp()
}

fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99).div_ceil(100) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
