//! Check-in challenges: drawn by the core's scheduler (daytime only, in the case's time
//! zone), shown to the patient's device while open, answered with a photo and a location,
//! and judged once their deadline has passed — an unanswered one becomes a `missed_checkin`
//! flag (with when the phone last reported, so a flat battery is visible), never a fine.
//!
//! - **A day is drawn once.** The first sweep that sees a local day records it in
//!   `monitoring_checkin_days` and stores that day's challenges, drawn from the moment of
//!   drawing on (never in the past). A later sweep, a restart or an extended case never adds
//!   challenges to a day already drawn, so the daily limit holds.
//! - **The schedule is secret.** A device sees a challenge only from its `issued_at`; an
//!   id of a challenge not yet shown is answered as unknown.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use propusk_core::domain::GeoPoint;
use propusk_core::monitoring::checkins::{
    day_seed, judge, schedule_day, Challenge, CheckinConfig, CheckinOutcome,
};
use propusk_core::monitoring::geofence::Fix;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::monitoring::{raise_in, CaseRecord, Device, SmsText};
use crate::{new_id, secs, ts, Result, Store};

/// A challenge as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRecord {
    pub id: String,
    pub case_id: String,
    pub issued_at: Timestamp,
    pub deadline: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub has_photo: bool,
    /// Where the phone was when answering (erased after retention).
    pub point: Option<GeoPoint>,
    pub accuracy_m: Option<f64>,
    /// The `missed_checkin` flag raised for it, if any.
    pub flag_id: Option<String>,
}

/// What came of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// Recorded; `late` when it came after the deadline (an officer sees both times).
    Answered { late: bool },
    /// Answered before: the first answer stands.
    AlreadyAnswered,
    /// No such challenge for this device's case, or not shown yet.
    NotFound,
}

const COLUMNS: &str = "id, case_id, issued_at, deadline, answered_at, \
     CASE WHEN photo IS NULL THEN 0 ELSE 1 END AS has_photo, lat, lon, accuracy_m, flag_id";

fn from_row(row: &AnyRow) -> Result<ChallengeRecord> {
    let lat: Option<f64> = row.try_get("lat")?;
    let lon: Option<f64> = row.try_get("lon")?;
    Ok(ChallengeRecord {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        issued_at: ts(row.try_get("issued_at")?),
        deadline: ts(row.try_get("deadline")?),
        answered_at: row.try_get::<Option<i64>, _>("answered_at")?.map(ts),
        has_photo: row.try_get::<i64, _>("has_photo")? != 0,
        point: lat
            .zip(lon)
            .and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok()),
        accuracy_m: row.try_get("accuracy_m")?,
        flag_id: row.try_get("flag_id")?,
    })
}

/// The case's secret seed as the scheduler's `u64`.
fn seed(case_seed: &str) -> u64 {
    let digest = Sha256::digest(case_seed.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// Draws the challenges of the case's local today and tomorrow, each day once.
pub(crate) async fn schedule_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    now: Timestamp,
    cfg: &CheckinConfig,
) -> Result<()> {
    let Some(since) = case.monitoring_since else {
        return Ok(());
    };
    let start = since.max(case.starts_at).max(now);
    if case.status != "active" || case.ends_at <= start {
        return Ok(());
    }
    let tz = TimeZone::get(&case.time_zone).unwrap_or(TimeZone::UTC);
    let (case_seed,): (String,) =
        sqlx::query_as("SELECT case_seed FROM monitoring_cases WHERE id = $1")
            .bind(&case.id)
            .fetch_one(&mut **tx)
            .await?;
    let seed = seed(&case_seed);
    let today = tz.to_datetime(now).date();
    for date in [Some(today), today.tomorrow().ok()].into_iter().flatten() {
        let fresh = sqlx::query(
            "INSERT INTO monitoring_checkin_days (case_id, day) VALUES ($1, $2) \
             ON CONFLICT (case_id, day) DO NOTHING",
        )
        .bind(&case.id)
        .bind(date.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            continue;
        }
        for c in schedule_day(&tz, date, (start, case.ends_at), day_seed(seed, date), cfg) {
            sqlx::query(
                "INSERT INTO monitoring_challenges (id, case_id, issued_at, deadline) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, issued_at) DO NOTHING",
            )
            .bind(new_id())
            .bind(&case.id)
            .bind(secs(c.issued_at))
            .bind(secs(c.deadline))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Judges the case's challenges whose deadline has passed; an unanswered one raises a
/// `missed_checkin` flag (and its SMS). Returns how many flags were raised.
pub(crate) async fn judge_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    now: Timestamp,
    text: SmsText<'_>,
) -> Result<u32> {
    let due: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, issued_at, deadline, answered_at FROM monitoring_challenges \
         WHERE case_id = $1 AND judged = 0 AND deadline <= $2 ORDER BY issued_at",
    )
    .bind(&case.id)
    .bind(secs(now))
    .fetch_all(&mut **tx)
    .await?;
    let mut raised = 0;
    for (id, issued_at, deadline, answered_at) in due {
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(ts) FROM location_fixes WHERE case_id = $1 AND ts < $2")
                .bind(&case.id)
                .bind(deadline)
                .fetch_one(&mut **tx)
                .await?;
        let challenge = Challenge {
            issued_at: ts(issued_at),
            deadline: ts(deadline),
        };
        let flag_id = match judge(&challenge, answered_at.map(ts), last.map(ts), now) {
            CheckinOutcome::Pending => continue,
            CheckinOutcome::Answered => None,
            CheckinOutcome::Missed(flag) => {
                raised += 1;
                Some(raise_in(tx, case, &flag, now, text).await?)
            }
        };
        sqlx::query("UPDATE monitoring_challenges SET judged = 1, flag_id = $1 WHERE id = $2")
            .bind(flag_id)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(raised)
}

impl Store {
    /// The challenges a device should answer now: shown, not past their deadline, not
    /// answered.
    pub async fn open_challenges(
        &self,
        device: &Device,
        now: Timestamp,
    ) -> Result<Vec<ChallengeRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_challenges WHERE case_id = $1 AND issued_at <= $2 \
             AND deadline > $2 AND answered_at IS NULL ORDER BY issued_at"
        ))
        .bind(&device.case_id)
        .bind(secs(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Records the answer to a challenge: the photo taken in the app and where the phone was.
    pub async fn answer_challenge(
        &self,
        device: &Device,
        id: &str,
        photo: &[u8],
        fix: &Fix,
        now: Timestamp,
    ) -> Result<AnswerOutcome> {
        let mut tx = self.write_tx().await?;
        let row: Option<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT deadline, answered_at FROM monitoring_challenges \
             WHERE id = $1 AND case_id = $2 AND issued_at <= $3",
        )
        .bind(id)
        .bind(&device.case_id)
        .bind(secs(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((deadline, answered)) = row else {
            return Ok(AnswerOutcome::NotFound);
        };
        if answered.is_some() {
            return Ok(AnswerOutcome::AlreadyAnswered);
        }
        sqlx::query(
            "UPDATE monitoring_challenges SET answered_at = $1, device_id = $2, photo = $3, \
             lat = $4, lon = $5, accuracy_m = $6 WHERE id = $7 AND answered_at IS NULL",
        )
        .bind(secs(now))
        .bind(&device.id)
        .bind(photo.to_vec())
        .bind(fix.point().lat())
        .bind(fix.point().lon())
        .bind(fix.accuracy_m())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AnswerOutcome::Answered {
            late: secs(now) >= deadline,
        })
    }

    /// A case's challenges shown so far, oldest first (the schedule ahead stays secret).
    pub async fn case_checkins(
        &self,
        case_id: &str,
        now: Timestamp,
    ) -> Result<Vec<ChallengeRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_challenges WHERE case_id = $1 AND issued_at <= $2 \
             ORDER BY issued_at"
        ))
        .bind(case_id)
        .bind(secs(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The photo of an answered challenge, with its case id.
    pub async fn checkin_photo(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        let row: Option<(String, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT case_id, photo FROM monitoring_challenges WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(case, photo)| photo.map(|p| (case, p))))
    }

    /// The reference photo taken when the case's (latest) device enrolled.
    pub async fn reference_photo(&self, case_id: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
            "SELECT reference_photo FROM monitoring_devices WHERE case_id = $1 \
             AND reference_photo IS NOT NULL ORDER BY enrolled_at DESC LIMIT 1",
        )
        .bind(case_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(p,)| p))
    }
}
