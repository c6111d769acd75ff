//! The store's side of "the patient hears first": a flag cannot be decided until the outbox
//! has sent its SMS, and sending it is what moves the flag on. No server here, so no outbox
//! worker races the test. On SQLite, and on PostgreSQL when `PROPUSK_TEST_DATABASE_URL` is set.

use jiff::{SignedDuration, Timestamp};
use propusk_core::monitoring::case::{OfficerId, Sanction};
use propusk_core::monitoring::geofence::{Fix, GeofenceConfig};
use propusk_core::monitoring::FlagKind;
use propusk_store::{FlagStepError, OfficerStep, SentVia};

mod common;
use common::{drop_db, enrolled_case, stores, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_is_decided_only_after_its_sms_went_out() {
    for (store, pg) in stores().await {
        let now = Timestamp::now();
        let device = enrolled_case(&store, "+79160000001", 50.0, now).await;
        // Forty minutes a kilometre away.
        let fixes: Vec<Fix> = (1..=20)
            .map(|k| {
                let at = now + SignedDuration::from_mins(2 * k);
                let d = 0.009 + (k % 3) as f64 * 1e-4;
                Fix::from_parts(at, 55.75 + d, 37.61, 10.0).unwrap()
            })
            .collect();
        let later = now + SignedDuration::from_mins(41);
        let out = store
            .ingest_fixes(
                &device,
                &fixes,
                later,
                &GeofenceConfig::default(),
                None,
                &text,
            )
            .await
            .unwrap();
        assert_eq!(out.raised, 1);
        let flag = store.case_flags(&device.case_id).await.unwrap().remove(0);
        assert_eq!(flag.state.as_str(), "open");

        let officer = OfficerId::parse("officer-a").unwrap();
        let confirm = OfficerStep::Confirm {
            sanction: Sanction::Warning,
            note: propusk_core::domain::Paragraph::parse("left for 40 minutes", 100).unwrap(),
        };
        let refused = store
            .decide_flag(&flag.id, &officer, &confirm, later, &text)
            .await;
        assert!(
            matches!(refused, Err(FlagStepError::Refused(_))),
            "{refused:?}"
        );

        // The outbox sends the SMS: now the flag awaits an officer, and the decision stands.
        let due = store.claim_due_sms(later, 10, 60).await.unwrap();
        assert_eq!(due.len(), 1);
        assert!(due[0].body.contains("FlagRaised"));
        let via = SentVia {
            gateway: "test".into(),
            coding: "ucs2".into(),
            segments: 1,
        };
        store.mark_sms_sent(due[0].id, &via, later).await.unwrap();
        assert_eq!(
            store.flag(&flag.id).await.unwrap().unwrap().state.as_str(),
            "notified"
        );
        let decided = store
            .decide_flag(&flag.id, &officer, &confirm, later, &text)
            .await
            .unwrap();
        assert_eq!(decided.state.as_str(), "confirmed_with_sanction");
        assert_eq!(decided.sanction, Some(Sanction::Warning));
        store.close().await;
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}

/// A moved Wi-Fi access point 7 km away: seen right after a fix at home (a source error),
/// then again after a silence. Every evaluation that reads the second sighting also reads
/// the first; later uploads, whose hour-long window has slid past the first, must not raise
/// the second as news.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_sliding_past_a_runs_context_raises_nothing() {
    for (store, pg) in stores().await {
        let start = Timestamp::now();
        let device = enrolled_case(&store, "+79160000002", 100.0, start).await;
        let away = |minute: i64| (31..=35).contains(&minute) || (65..=84).contains(&minute);
        let minutes = (1..=150).filter(|m| !(50..65).contains(m));
        for minute in minutes {
            let at = start + SignedDuration::from_mins(minute);
            let wobble = (minute % 3) as f64 * 1e-5;
            let fix = if away(minute) {
                Fix::from_parts(at, 55.75 + 0.0656 + wobble, 37.61, 20.0).unwrap()
            } else {
                Fix::from_parts(at, 55.75 + wobble, 37.61 + wobble, 20.0).unwrap()
            };
            store
                .ingest_fixes(
                    &device,
                    &[fix],
                    at + SignedDuration::from_secs(30),
                    &GeofenceConfig::default(),
                    None,
                    &text,
                )
                .await
                .unwrap();
        }
        let flags = store.case_flags(&device.case_id).await.unwrap();
        assert!(
            flags.iter().all(|f| f.kind != FlagKind::LeftHome),
            "{flags:#?}"
        );
        store.close().await;
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}
