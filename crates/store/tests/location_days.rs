//! Location reports at city size: kept by day and erased a whole day at a time — partitions
//! dropped on PostgreSQL, batched deletes on SQLite — with each case's count of reports kept;
//! and an existing database migrated to it. On SQLite, and on PostgreSQL when
//! `PROPUSK_TEST_DATABASE_URL` is set.

use jiff::{SignedDuration, Timestamp};
use propusk_core::monitoring::geofence::{Fix, GeofenceConfig};
use propusk_store::{Backend, Device, Store, MIN_RAW};
use sqlx::Connection;

mod common;
use common::{drop_db, enrolled_case, fresh_urls, text};

const DAY: i64 = 86_400;

async fn query_i64(store_url: &str, sql: &str) -> i64 {
    let mut conn = sqlx::AnyConnection::connect(store_url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    n
}

/// Reports every five minutes from `from` for `days` days, uploaded a day at a time.
async fn report_days(store: &Store, device: &Device, from: Timestamp, days: i64) -> u64 {
    let mut stored = 0;
    for d in 0..days {
        let fixes: Vec<Fix> = (0..288)
            .map(|k| {
                let at = from + SignedDuration::from_secs(d * DAY + k * 300);
                let wobble = (k % 7) as f64 * 1e-5;
                Fix::from_parts(at, 55.75 + wobble, 37.61, 15.0).unwrap()
            })
            .collect();
        let last = fixes.last().unwrap().ts();
        let out = store
            .ingest_fixes(
                device,
                &fixes,
                last + SignedDuration::from_secs(60),
                &GeofenceConfig::default(),
                None,
                &text,
            )
            .await
            .unwrap();
        assert_eq!(out.accepted, 288);
        stored += 288;
    }
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_days_past_retention_are_erased_and_each_case_keeps_its_count() {
    for (url, pg) in fresh_urls().await {
        let store = Store::open(&url).await.unwrap();
        let now = Timestamp::now();
        // Two patients reporting for the last nine days.
        let start = now - SignedDuration::from_hours(9 * 24);
        let mut devices = Vec::new();
        for phone in ["+79160000011", "+79160000012"] {
            let device = enrolled_case(&store, phone, 100.0, start).await;
            report_days(&store, &device, start, 9).await;
            devices.push(device);
        }
        assert_eq!(
            query_i64(&url, "SELECT COUNT(*) FROM location_fixes").await,
            2 * 9 * 288
        );

        // Retention of one day keeps at least MIN_RAW: whole days before the day three days ago
        // go.
        let horizon = (now.as_second() - MIN_RAW.as_secs()).div_euclid(DAY) * DAY;
        let old = query_i64(
            &url,
            &format!("SELECT COUNT(*) FROM location_fixes WHERE ts < {horizon}"),
        )
        .await;
        let old_days = query_i64(
            &url,
            &format!("SELECT COUNT(DISTINCT ts / {DAY}) FROM location_fixes WHERE ts < {horizon}"),
        )
        .await;
        assert!(
            old > 2000 && old_days >= 5,
            "{old} reports on {old_days} days"
        );
        if store.backend() == Backend::Postgres {
            // A day table an interrupted run detached but did not drop goes too.
            let oldest = start.as_second().div_euclid(DAY) * DAY;
            let name = format!(
                "location_fixes_p{}",
                Timestamp::from_second(oldest).unwrap().strftime("%Y%m%d")
            );
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            sqlx::query(&format!(
                "ALTER TABLE location_fixes DETACH PARTITION {name}"
            ))
            .execute(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
        }
        let done = store
            .retain_location_days(now, SignedDuration::from_hours(24))
            .await
            .unwrap();
        assert_eq!(
            done.erased_before,
            Some(Timestamp::from_second(horizon).unwrap())
        );
        let left = query_i64(&url, "SELECT COUNT(*) FROM location_fixes").await;
        assert_eq!(left, 2 * 9 * 288 - old);
        assert_eq!(
            query_i64(
                &url,
                &format!("SELECT COUNT(*) FROM location_fixes WHERE ts < {horizon}")
            )
            .await,
            0
        );
        match store.backend() {
            Backend::Postgres => {
                assert_eq!(i64::from(done.partitions_dropped), old_days);
                let tables = query_i64(
                    &url,
                    "SELECT COUNT(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'location\\_fixes\\_p%'",
                )
                .await;
                let days_left = query_i64(
                    &url,
                    &format!("SELECT COUNT(DISTINCT ts / {DAY}) FROM location_fixes"),
                )
                .await;
                // The days still reported, and the partitions made ahead (today and tomorrow).
                assert!(
                    tables >= days_left && tables <= days_left + 2,
                    "{tables} tables"
                );
            }
            Backend::Sqlite => {
                assert_eq!(done.rows_deleted as i64, old);
                assert!(done.batches >= 2, "{done:?}");
            }
        }
        // The cases still count every report they had.
        for device in &devices {
            let n = query_i64(
                &url,
                &format!(
                    "SELECT fixes_stored FROM monitoring_cases WHERE id = '{}'",
                    device.case_id
                ),
            )
            .await;
            assert_eq!(n, 9 * 288);
        }
        // Running again erases nothing more; reports of today are still taken.
        let again = store
            .retain_location_days(now, SignedDuration::from_hours(24))
            .await
            .unwrap();
        assert_eq!((again.partitions_dropped, again.rows_deleted), (0, 0));
        let fix = Fix::from_parts(now - SignedDuration::from_mins(1), 55.75, 37.61, 10.0).unwrap();
        let out = store
            .ingest_fixes(
                &devices[0],
                &[fix],
                now,
                &GeofenceConfig::default(),
                None,
                &text,
            )
            .await
            .unwrap();
        assert_eq!(out.accepted, 1);
        store.close().await;
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}

/// A database made before migration 0007, with reports over three days and a revocation:
/// opening it moves the reports into day partitions (PostgreSQL), counts each case's
/// reports and gives the revocation its pass's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_database_is_migrated() {
    for (url, pg) in fresh_urls().await {
        let postgres = url.starts_with("postgres");
        let before: [&str; 4] = if postgres {
            [
                include_str!("../migrations/postgres/0001_init.sql"),
                include_str!("../migrations/postgres/0002_sms.sql"),
                include_str!("../migrations/postgres/0003_monitoring.sql"),
                include_str!("../migrations/postgres/0004_case_lang.sql"),
            ]
        } else {
            [
                include_str!("../migrations/sqlite/0001_init.sql"),
                include_str!("../migrations/sqlite/0002_sms.sql"),
                include_str!("../migrations/sqlite/0003_monitoring.sql"),
                include_str!("../migrations/sqlite/0004_case_lang.sql"),
            ]
        };
        let connect = if postgres {
            url.clone()
        } else {
            format!("{url}?mode=rwc")
        };
        let mut conn = sqlx::AnyConnection::connect(&connect).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        for (sql, version) in
            before
                .iter()
                .zip(["0001_init", "0002_sms", "0003_monitoring", "0004_case_lang"])
        {
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)")
                .bind(version)
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let t0: i64 = 1_586_908_800; // 2020-04-15T00:00:00Z
        for sql in [
            "INSERT INTO residents (id, phone, created_at, updated_at) VALUES ('r1', '+79160000021', 0, 0)".to_string(),
            format!("INSERT INTO passes (id, resident_id, regime_id, purpose, short_code, token, valid_from, valid_until, issued_at, channel, cancelled_at) \
             VALUES ('00000000-0000-4000-8000-000000000001', 'r1', 'moscow-2020', 'trash', 'S1', 'PR1:X', {t0}, {}, {t0}, 'api', {t0})", t0 + 1800),
            format!("INSERT INTO revocations (seq, pass_id, revoked_at, reason) VALUES (1, '00000000-0000-4000-8000-000000000001', {t0}, 'test')"),
            format!("INSERT INTO monitoring_cases (id, phone, full_name, home_address, home_lat, home_lon, radius_m, time_zone, starts_at, ends_at, status, case_seed, created_by, created_at) \
             VALUES ('c1', '+79160000021', 'Сидорова Анна', 'Москва', 55.75, 37.61, 100, 'Europe/Moscow', {t0}, {}, 'active', 'seed', 'o', {t0})", t0 + 14 * DAY),
            format!("INSERT INTO monitoring_devices (id, case_id, token_hash, kind, enrolled_at) VALUES ('d1', 'c1', 'h', 'own', {t0})"),
        ] {
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
        }
        for k in 0..30i64 {
            sqlx::query(
                "INSERT INTO location_fixes (device_id, ts, case_id, lat, lon, accuracy_m, received_at) \
                 VALUES ('d1', $1, 'c1', 55.75, 37.61, 10.0, $1)",
            )
            .bind(t0 + k * 7200)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();

        let store = Store::open(&url).await.unwrap();
        store.close().await;
        assert_eq!(
            query_i64(&url, "SELECT COUNT(*) FROM location_fixes").await,
            30
        );
        assert_eq!(
            query_i64(
                &url,
                "SELECT fixes_stored FROM monitoring_cases WHERE id = 'c1'"
            )
            .await,
            30
        );
        assert_eq!(
            query_i64(&url, "SELECT valid_until FROM revocations WHERE seq = 1").await,
            t0 + 1800
        );
        if postgres {
            // 30 reports two hours apart from midnight: three days, three partitions.
            assert_eq!(
                query_i64(
                    &url,
                    "SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'location_fixes'::regclass"
                )
                .await,
                3
            );
            assert_eq!(
                query_i64(&url, "SELECT COUNT(*) FROM location_fixes_p20200416").await,
                12
            );
        }
        if let Some((base, name)) = pg {
            drop_db(&base, &name).await;
        }
    }
}

/// The state of the retention's `DETACH` on PostgreSQL: what it waits for, if anything.
async fn detach_wait(conn: &mut sqlx::AnyConnection) -> Option<String> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT COALESCE(wait_event, 'running') FROM pg_stat_activity \
         WHERE query LIKE 'ALTER TABLE location_fixes DETACH%' AND state = 'active'",
    )
    .fetch_optional(&mut *conn)
    .await
    .unwrap();
    row.map(|(w,)| w)
}

/// An upload touches its device's row, then counts on its case's row. Retention's detach of a
/// day must not lock the two tables the other way round: with foreign keys from the reports
/// to both, it took each referenced table in turn, and a detach holding the cases' lock and
/// an upload holding its device's deadlocked (seen at 70,000 patients). Here the upload's
/// two steps are taken by hand around the detach's second phase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_detach_and_an_upload_never_wait_for_each_other() {
    for (url, pg) in fresh_urls().await {
        let Some((base, name)) = pg else {
            continue; // SQLite deletes in batches under its one writer: no lock order to get wrong
        };
        let store = Store::open(&url).await.unwrap();
        let now = Timestamp::now();
        let start = now - SignedDuration::from_hours(6 * 24);
        let device = enrolled_case(&store, "+79160000021", 100.0, start).await;
        report_days(&store, &device, start, 6).await;

        // Tomorrow's day table, which retention would otherwise make first.
        let tomorrow = (now.as_second().div_euclid(DAY) + 1) * DAY;
        let mut older = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query(&format!(
            "CREATE TABLE location_fixes_p{} PARTITION OF location_fixes FOR VALUES FROM ({tomorrow}) TO ({})",
            Timestamp::from_second(tomorrow).unwrap().strftime("%Y%m%d"),
            tomorrow + DAY
        ))
        .execute(&mut older)
        .await
        .unwrap();
        // An older reader that the detach's first phase must wait out.
        sqlx::query("BEGIN").execute(&mut older).await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM location_fixes")
            .execute(&mut older)
            .await
            .unwrap();
        let retention = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .retain_location_days(now, SignedDuration::from_hours(24))
                    .await
            }
        });
        let mut watch = sqlx::AnyConnection::connect(&url).await.unwrap();
        let mut waited = 0;
        while detach_wait(&mut watch).await.as_deref() != Some("virtualxid") {
            waited += 1;
            assert!(
                waited < 400,
                "the detach never waited for the older reader: {:?} {:?} finished={}",
                detach_wait(&mut watch).await,
                sqlx::query_as::<_, (String, String, String)>("SELECT COALESCE(query,''), COALESCE(wait_event,'-'), COALESCE(state,'-') FROM pg_stat_activity WHERE datname = current_database()").fetch_all(&mut watch).await.unwrap(),
                retention.is_finished()
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }

        // The upload begins after the first phase and notes its device.
        let mut upload = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut upload).await.unwrap();
        sqlx::query("UPDATE monitoring_devices SET last_seen_at = $1 WHERE id = $2")
            .bind(now.as_second())
            .bind(&device.id)
            .execute(&mut upload)
            .await
            .unwrap();
        // The older reader ends: the detach goes on to its second phase, and either waits
        // for a table lock the upload holds or passes.
        sqlx::query("COMMIT").execute(&mut older).await.unwrap();
        for _ in 0..80 {
            if retention.is_finished()
                || detach_wait(&mut watch).await.as_deref() == Some("relation")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        // The upload counts its reports on the case.
        sqlx::query("UPDATE monitoring_cases SET fixes_stored = fixes_stored + 1 WHERE id = $1")
            .bind(&device.case_id)
            .execute(&mut upload)
            .await
            .expect("the upload is not a deadlock's victim");
        sqlx::query("COMMIT").execute(&mut upload).await.unwrap();
        let done = retention
            .await
            .unwrap()
            .expect("the retention is not a deadlock's victim");
        assert!(done.partitions_dropped >= 1, "{done:?}");
        for conn in [older, watch, upload] {
            conn.close().await.unwrap();
        }
        store.close().await;
        drop_db(&base, &name).await;
    }
}
