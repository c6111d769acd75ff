//! What the store's integration tests share: a store on every configured backend (SQLite,
//! and PostgreSQL when `PROPUSK_TEST_DATABASE_URL` is set), and an enrolled case.

#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::GeoPoint;
use propusk_core::monitoring::case::PatientSms;
use propusk_store::{Device, NewCase, Store};

/// A fresh empty database URL on every configured backend, with the PostgreSQL server's
/// base URL and the database's name (to drop it afterwards).
pub async fn fresh_urls() -> Vec<(String, Option<(String, String)>)> {
    // Tests may connect with `sqlx::AnyConnection` before a store is opened.
    sqlx::any::install_default_drivers();
    let dir = std::env::temp_dir().join(format!("propusk-store-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut all = vec![(format!("sqlite://{}", dir.join("db").display()), None)];
    if let Ok(base) = std::env::var("PROPUSK_TEST_DATABASE_URL") {
        if !base.is_empty() {
            use sqlx::{Connection, Executor};
            let name = format!("propusk_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap();
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            all.push((format!("{prefix}/{name}"), Some((base.clone(), name))));
        }
    }
    // CI's PostgreSQL run says it is one: without the URL it would pass on SQLite alone.
    if std::env::var("PROPUSK_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        assert_eq!(
            all.len(),
            2,
            "PROPUSK_TEST_REQUIRE_POSTGRES=1 but PROPUSK_TEST_DATABASE_URL is not set"
        );
    }
    all
}

/// A store on every configured backend.
pub async fn stores() -> Vec<(Store, Option<(String, String)>)> {
    let mut all = Vec::new();
    for (url, pg) in fresh_urls().await {
        all.push((Store::open(&url).await.unwrap(), pg));
    }
    all
}

pub async fn drop_db(base: &str, name: &str) {
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::AnyConnection::connect(base).await.unwrap();
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
}

pub fn text(sms: &PatientSms, _tz: &str, _lang: &str) -> String {
    format!("{sms:?}")
}

/// A two-week case at home (55.75, 37.61) opened at `now`, and its enrolled phone.
pub async fn enrolled_case(store: &Store, phone: &str, radius_m: f64, now: Timestamp) -> Device {
    let case = NewCase {
        phone: phone.into(),
        full_name: "Сидорова Анна Павловна".into(),
        home_address: propusk_core::domain::Line::required("Москва", 300).unwrap(),
        home: GeoPoint::new(55.75, 37.61).unwrap(),
        radius_m,
        time_zone: "Europe/Moscow".into(),
        lang: "ru".into(),
        starts_at: now,
        ends_at: now + SignedDuration::from_hours(24 * 14),
    };
    let code = format!("CODE{}", &phone[phone.len() - 4..]);
    store
        .create_case(&case, &code, None, "officer-a", now)
        .await
        .unwrap();
    store
        .enroll_device(&code, &format!("token-{phone}"), None, now)
        .await
        .unwrap()
        .unwrap()
}
