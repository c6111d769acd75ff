//! A patient's statement on a flag before the decision: stored with the flag, replaced while
//! the flag waits, refused once an officer has decided (the stored one stays as read), never
//! written to another case's flag; and the enrollment SMS queued with the case it belongs to.
//! On SQLite, and on PostgreSQL when `PROPUSK_TEST_DATABASE_URL` is set.

use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::{GeoPoint, Line, Paragraph};
use propusk_core::monitoring::case::OfficerId;
use propusk_core::monitoring::geofence::{Fix, GeofenceConfig};
use propusk_store::{ExplainError, NewCase, OfficerStep, SentVia, Store};

mod common;
use common::{drop_db, enrolled_case, stores, text};

fn words(s: &str) -> Paragraph {
    Paragraph::required(s, 2000).unwrap()
}

/// A forty-minute departure raised as a flag on the case of `device`, its SMS sent.
async fn notified_flag(store: &Store, device: &propusk_store::Device, now: Timestamp) -> String {
    let fixes: Vec<Fix> = (1..=20)
        .map(|k| {
            let at = now + SignedDuration::from_mins(2 * k);
            let d = 0.009 + (k % 3) as f64 * 1e-4;
            Fix::from_parts(at, 55.75 + d, 37.61, 10.0).unwrap()
        })
        .collect();
    let later = now + SignedDuration::from_mins(41);
    let config = GeofenceConfig::default();
    let out = store
        .ingest_fixes(device, &fixes, later, &config, None, &text)
        .await
        .unwrap();
    assert_eq!(out.raised, 1);
    let via = SentVia {
        gateway: "test".into(),
        coding: "ucs2".into(),
        segments: 1,
    };
    for sms in store.claim_due_sms(later, 10, 60).await.unwrap() {
        store.mark_sms_sent(sms.id, &via, later).await.unwrap();
    }
    store
        .case_flags(&device.case_id)
        .await
        .unwrap()
        .remove(0)
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_is_kept_replaced_and_then_closed_by_the_decision() {
    for (store, pg) in stores().await {
        let now = Timestamp::now();
        let device = enrolled_case(&store, "+79160000011", 50.0, now).await;
        let other = enrolled_case(&store, "+79160000012", 50.0, now).await;
        let flag = notified_flag(&store, &device, now).await;
        let at = now + SignedDuration::from_mins(50);
        assert_eq!(store.flag(&flag).await.unwrap().unwrap().statement, None);

        let first = store
            .explain_flag(&device, &flag, &words("Ходила в аптеку"), at)
            .await
            .unwrap();
        let stored = first.statement.expect("stored with the flag");
        assert_eq!(stored.text, "Ходила в аптеку");
        assert_eq!(stored.written_at.as_second(), at.as_second());

        // Replaced, not added: one statement per flag.
        let at2 = at + SignedDuration::from_mins(5);
        store
            .explain_flag(&device, &flag, &words("Ходила к врачу, справка есть"), at2)
            .await
            .unwrap();
        let read = store.flag(&flag).await.unwrap().unwrap().statement.unwrap();
        assert_eq!(read.text, "Ходила к врачу, справка есть");
        assert_eq!(read.written_at.as_second(), at2.as_second());

        // Another case's phone cannot write on this flag, and nothing changes.
        let foreign = store
            .explain_flag(&other, &flag, &words("не моё"), at2)
            .await;
        assert!(
            matches!(foreign, Err(ExplainError::NotFound)),
            "{foreign:?}"
        );
        let unknown = store
            .explain_flag(&device, "no-such-flag", &words("x"), at2)
            .await;
        assert!(
            matches!(unknown, Err(ExplainError::NotFound)),
            "{unknown:?}"
        );

        // The officer decides; the statement stays as read, and can no longer change.
        let officer = OfficerId::parse("officer-a").unwrap();
        let dismiss = OfficerStep::Dismiss {
            note: Paragraph::parse("была у врача", 100).unwrap(),
        };
        let decided = store
            .decide_flag(&flag, &officer, &dismiss, at2, &text)
            .await
            .unwrap();
        assert_eq!(decided.statement.as_ref().unwrap().text, read.text);
        let late = store
            .explain_flag(
                &device,
                &flag,
                &words("ещё одно"),
                at2 + SignedDuration::from_mins(1),
            )
            .await;
        assert!(matches!(late, Err(ExplainError::Decided)), "{late:?}");
        assert_eq!(
            store.flag(&flag).await.unwrap().unwrap().statement,
            Some(read)
        );
        store.close().await;
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_case_queues_its_enrollment_sms_in_the_same_step() {
    for (store, pg) in stores().await {
        let now = Timestamp::now();
        let case = NewCase {
            phone: "+79160000021".into(),
            full_name: "Сидорова Анна Павловна".into(),
            home_address: Line::required("Москва", 300).unwrap(),
            home: GeoPoint::new(55.75, 37.61).unwrap(),
            radius_m: 100.0,
            time_zone: "Europe/Moscow".into(),
            lang: "ru".into(),
            starts_at: now,
            ends_at: now + SignedDuration::from_hours(24 * 14),
        };
        let body = "Карантин: код ABCD-EFGH-JKLM";
        store
            .create_case(&case, "ABCDEFGHJKLM", Some(body), "officer-a", now)
            .await
            .unwrap();
        // Without a text, nothing is queued.
        let quiet = NewCase {
            phone: "+79160000022".into(),
            ..case.clone()
        };
        store
            .create_case(&quiet, "ABCDEFGHJKLN", None, "officer-a", now)
            .await
            .unwrap();
        let due = store.claim_due_sms(now, 10, 60).await.unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!(due[0].phone, "+79160000021");
        assert_eq!(due[0].body, body);
        store.close().await;
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}
