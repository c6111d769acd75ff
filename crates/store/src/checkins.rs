//! Check-in challenges: drawn by the core's scheduler (daytime only, in the case's time
//! zone), or asked at once when in doubt (the core's `asking`), announced by SMS, shown to
//! the patient's device while open, answered with a photo and a location, and judged once
//! their deadline has passed — an unanswered scheduled one becomes a `missed_checkin` flag
//! (with when the phone last reported, so a flat battery is visible), never a fine.
//!
//! - **A day is drawn once.** The first sweep that sees a local day records it in
//!   `monitoring_checkin_days` and stores that day's challenges, drawn from the moment of
//!   drawing on (never in the past). A later sweep, a restart or an extended case never adds
//!   challenges to a day already drawn, so the daily limit holds.
//! - **The schedule is secret.** A device sees a challenge only from its `issued_at`; an
//!   id of a challenge not yet shown is answered as unknown. Its SMS goes out when it is
//!   shown (the periodic sweep), never earlier.
//! - **A question is never a flag.** An immediate check-in records the fix that raised it
//!   (map-free: when, how far, how sure); unanswered, it is shown to the officer beside that
//!   run and judged with no flag. Answered, its location is evidence like a report
//!   (the geofence's rule 8), so the case is evaluated again with the answer.
//! - **An answer counts when it was taken.** A phone offline when the patient answered sends
//!   the answer later with the time it was taken; it is on time when that time is before the
//!   deadline. The first answer stands, however many retries arrive.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::{distance_m, GeoPoint};
use propusk_core::monitoring::asking::{Ask, Asked};
use propusk_core::monitoring::case::{CaseStatus, PatientSms};
use propusk_core::monitoring::checkins::{
    day_seed, judge, schedule_day, Challenge, CheckinConfig, CheckinOutcome,
};
use propusk_core::monitoring::geofence::{Fix, GeofenceConfig};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::monitoring::{case_in, corrupt, evaluate_in, raise_in, CaseRecord, Device, SmsText};
use crate::outbox::{self, SmsKind};
use crate::{new_id, secs, ts, Result, Store};

pub use propusk_core::monitoring::checkins::ChallengeKind;

/// A stored check-in kind; an unknown one is a corrupt row.
fn challenge_kind(name: &str) -> Result<ChallengeKind> {
    ChallengeKind::parse(name).ok_or_else(|| corrupt("check-in kind", name))
}

/// The fix that raised an immediate check-in, map-free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AskedFor {
    /// When the phone took it.
    pub ts: Timestamp,
    /// How far from home, metres.
    pub distance_m: f64,
    /// Its reported accuracy, metres.
    pub accuracy_m: f64,
}

/// A challenge as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRecord {
    pub id: String,
    pub case_id: String,
    pub kind: ChallengeKind,
    /// For an immediate check-in, what raised it.
    pub asked_for: Option<AskedFor>,
    pub issued_at: Timestamp,
    pub deadline: Timestamp,
    /// When the answer was taken (an answer taken offline arrives later).
    pub answered_at: Option<Timestamp>,
    /// When the answer arrived.
    pub received_at: Option<Timestamp>,
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
    /// Recorded; `late` when taken after the deadline (an officer sees both times); `raised`
    /// flags the answer's location confirmed (a departure, geofence rule 8).
    Answered { late: bool, raised: u32 },
    /// Answered before: the first answer stands.
    AlreadyAnswered,
    /// Taken before the check-in was shown: not an answer to it.
    TakenBeforeIssue,
    /// No such challenge for this device's case, or not shown yet.
    NotFound,
}

/// A patient's answer to a check-in: the photo taken in the app, and where the phone was
/// when it was taken (the fix's time is when the answer was taken).
#[derive(Debug, Clone, Copy)]
pub struct CheckinAnswer<'a> {
    pub photo: &'a [u8],
    pub fix: Fix,
}

/// A question no one answered in time, for the officer to see beside its run.
#[derive(Debug, Clone, PartialEq)]
pub struct UnansweredAsk {
    pub challenge: ChallengeRecord,
    /// The case's patient.
    pub full_name: String,
    /// The case's clocks.
    pub time_zone: String,
}

const COLUMNS: &str = "id, case_id, kind, asked_for_ts, asked_distance_m, asked_accuracy_m, \
     issued_at, deadline, answered_at, received_at, \
     CASE WHEN photo IS NULL THEN 0 ELSE 1 END AS has_photo, lat, lon, accuracy_m, flag_id";

fn from_row(row: &AnyRow) -> Result<ChallengeRecord> {
    let lat: Option<f64> = row.try_get("lat")?;
    let lon: Option<f64> = row.try_get("lon")?;
    let kind: String = row.try_get("kind")?;
    let asked_for = match (
        row.try_get::<Option<i64>, _>("asked_for_ts")?,
        row.try_get::<Option<f64>, _>("asked_distance_m")?,
        row.try_get::<Option<f64>, _>("asked_accuracy_m")?,
    ) {
        (Some(at), Some(distance_m), Some(accuracy_m)) => Some(AskedFor {
            ts: ts(at)?,
            distance_m,
            accuracy_m,
        }),
        _ => None,
    };
    Ok(ChallengeRecord {
        id: row.try_get("id")?,
        case_id: row.try_get("case_id")?,
        kind: challenge_kind(&kind)?,
        asked_for,
        issued_at: ts(row.try_get("issued_at")?)?,
        deadline: ts(row.try_get("deadline")?)?,
        answered_at: crate::opt_ts(row, "answered_at")?,
        received_at: crate::opt_ts(row, "received_at")?,
        has_photo: row.try_get::<i64, _>("has_photo")? != 0,
        point: lat
            .zip(lon)
            .and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok()),
        accuracy_m: row.try_get("accuracy_m")?,
        flag_id: row.try_get("flag_id")?,
    })
}

/// Queues the patient's SMS about a check-in shown now and notes that it was announced.
async fn announce(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    id: &str,
    deadline: Timestamp,
    asked: bool,
    now: Timestamp,
    text: SmsText<'_>,
) -> Result<()> {
    let sms = PatientSms::CheckinOpen {
        challenge: id.to_string(),
        deadline,
        asked,
    };
    let body = text(&sms, &case.time_zone, &case.lang);
    outbox::enqueue(
        tx,
        &format!("checkin:{id}"),
        &case.phone,
        &body,
        SmsKind::Notice,
        now,
    )
    .await?;
    sqlx::query("UPDATE monitoring_challenges SET announced_at = $1 WHERE id = $2")
        .bind(secs(now))
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Announces the case's check-ins shown by now and not announced yet (one SMS each).
pub(crate) async fn announce_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    now: Timestamp,
    text: SmsText<'_>,
) -> Result<()> {
    let due: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT id, deadline, kind FROM monitoring_challenges WHERE case_id = $1 \
         AND announced_at IS NULL AND issued_at <= $2 AND deadline > $2 AND answered_at IS NULL",
    )
    .bind(&case.id)
    .bind(secs(now))
    .fetch_all(&mut **tx)
    .await?;
    for (id, deadline, kind) in due {
        let asked = challenge_kind(&kind)? == ChallengeKind::Immediate;
        announce(tx, case, &id, ts(deadline)?, asked, now, text).await?;
    }
    Ok(())
}

/// What the core's `asking` needs to know about the case's check-ins at `now`.
pub(crate) async fn asked_in(
    tx: &mut Transaction<'static, Any>,
    case_id: &str,
    now: Timestamp,
) -> Result<Asked> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM monitoring_challenges WHERE case_id = $1 \
           AND issued_at <= $2 AND deadline > $2 AND answered_at IS NULL) AS open, \
         (SELECT MAX(issued_at) FROM monitoring_challenges WHERE case_id = $1 \
           AND issued_at <= $2) AS last_issued, \
         (SELECT COUNT(*) FROM monitoring_challenges WHERE case_id = $1 AND kind = 'immediate' \
           AND issued_at > $3) AS last_day",
    )
    .bind(case_id)
    .bind(secs(now))
    .bind(secs(now) - SignedDuration::from_hours(24).as_secs())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Asked {
        open: row.try_get::<i64, _>("open")? > 0,
        last_issued: crate::opt_ts(&row, "last_issued")?,
        last_day: u32::try_from(row.try_get::<i64, _>("last_day")?).unwrap_or(u32::MAX),
    })
}

/// Stores an immediate check-in the core decided on, and announces it. Returns its id, or
/// none when a check-in was already shown at that very second.
pub(crate) async fn ask_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    home: GeoPoint,
    ask: &Ask,
    now: Timestamp,
    text: SmsText<'_>,
) -> Result<Option<String>> {
    let id = new_id();
    let stored = sqlx::query(
        "INSERT INTO monitoring_challenges (id, case_id, kind, asked_for_ts, asked_distance_m, \
         asked_accuracy_m, issued_at, deadline) VALUES ($1, $2, 'immediate', $3, $4, $5, $6, $7) \
         ON CONFLICT (case_id, issued_at) DO NOTHING",
    )
    .bind(&id)
    .bind(&case.id)
    .bind(secs(ask.trigger.ts()))
    .bind(distance_m(home, ask.trigger.point()).round())
    .bind(ask.trigger.accuracy_m())
    .bind(secs(ask.challenge.issued_at))
    .bind(secs(ask.challenge.deadline))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if stored == 0 {
        return Ok(None);
    }
    announce(tx, case, &id, ask.challenge.deadline, true, now, text).await?;
    Ok(Some(id))
}

/// The locations of the case's check-in answers taken from `from` to `until`, for the
/// geofence (rule 8).
pub(crate) async fn answers_in(
    tx: &mut Transaction<'static, Any>,
    case_id: &str,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<Fix>> {
    let rows: Vec<(i64, f64, f64, f64)> = sqlx::query_as(
        "SELECT answered_at, lat, lon, accuracy_m FROM monitoring_challenges WHERE case_id = $1 \
         AND answered_at >= $2 AND answered_at <= $3 AND lat IS NOT NULL AND lon IS NOT NULL \
         AND accuracy_m IS NOT NULL ORDER BY answered_at",
    )
    .bind(case_id)
    .bind(secs(from))
    .bind(secs(until))
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(t, lat, lon, acc)| crate::monitoring::stored_fix(t, lat, lon, acc))
        .collect()
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
    if case.status != CaseStatus::Active || case.ends_at <= start {
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
    // A question asked when in doubt is never a flag: it is judged with none.
    sqlx::query(
        "UPDATE monitoring_challenges SET judged = 1 WHERE case_id = $1 AND judged = 0 \
         AND kind = 'immediate' AND deadline <= $2",
    )
    .bind(&case.id)
    .bind(secs(now))
    .execute(&mut **tx)
    .await?;
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
            issued_at: ts(issued_at)?,
            deadline: ts(deadline)?,
        };
        let answered_at = answered_at.map(ts).transpose()?;
        let last = last.map(ts).transpose()?;
        let flag_id = match judge(&challenge, answered_at, last, now) {
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

    /// Records the answer to a challenge: the photo taken in the app and where the phone was,
    /// at the fix's time (when it was taken; the caller has checked it is not in the future).
    /// The case is evaluated again with it, in the same transaction: an answer far from
    /// home confirms a departure.
    pub async fn answer_challenge(
        &self,
        device: &Device,
        id: &str,
        answer: CheckinAnswer<'_>,
        now: Timestamp,
        cfg: &GeofenceConfig,
        text: SmsText<'_>,
    ) -> Result<AnswerOutcome> {
        let CheckinAnswer { photo, fix } = answer;
        let mut tx = self.write_tx().await?;
        let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
            "SELECT issued_at, deadline, answered_at FROM monitoring_challenges \
             WHERE id = $1 AND case_id = $2 AND issued_at <= $3",
        )
        .bind(id)
        .bind(&device.case_id)
        .bind(secs(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((issued_at, deadline, answered)) = row else {
            return Ok(AnswerOutcome::NotFound);
        };
        if answered.is_some() {
            return Ok(AnswerOutcome::AlreadyAnswered);
        }
        let taken = fix.ts();
        if secs(taken) < issued_at {
            return Ok(AnswerOutcome::TakenBeforeIssue);
        }
        // Conditional: of two answers racing, the second changes nothing.
        let stored = sqlx::query(
            "UPDATE monitoring_challenges SET answered_at = $1, received_at = $2, device_id = $3, \
             photo = $4, lat = $5, lon = $6, accuracy_m = $7 WHERE id = $8 AND answered_at IS NULL",
        )
        .bind(secs(taken))
        .bind(secs(now))
        .bind(&device.id)
        .bind(photo.to_vec())
        .bind(fix.point().lat())
        .bind(fix.point().lon())
        .bind(fix.accuracy_m())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if stored == 0 {
            return Ok(AnswerOutcome::AlreadyAnswered);
        }
        let raised = match case_in(&mut tx, self.backend, &device.case_id).await? {
            Some(case) => evaluate_in(&mut tx, &case, taken, now, cfg, text).await?,
            None => 0,
        };
        tx.commit().await?;
        Ok(AnswerOutcome::Answered {
            late: secs(taken) >= deadline,
            raised,
        })
    }

    /// Immediate check-ins that went unanswered past their deadline since `since`, for cases
    /// still active, with no `left_home` flag over their run: the officer sees them (never a
    /// flag), newest first, at most 200.
    pub async fn unanswered_asks(
        &self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<UnansweredAsk>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, \
             (SELECT c.full_name FROM monitoring_cases c WHERE c.id = q.case_id) AS full_name, \
             (SELECT c.time_zone FROM monitoring_cases c WHERE c.id = q.case_id) AS time_zone \
             FROM monitoring_challenges q \
             WHERE q.judged IN (0, 1) AND q.deadline <= $1 AND q.deadline > $2 \
             AND q.kind = 'immediate' AND q.answered_at IS NULL \
             AND EXISTS (SELECT 1 FROM monitoring_cases c WHERE c.id = q.case_id \
               AND c.status = 'active') \
             AND NOT EXISTS (SELECT 1 FROM monitoring_flags f WHERE f.case_id = q.case_id \
               AND f.kind = 'left_home' AND f.from_ts <= q.deadline AND f.to_ts >= q.asked_for_ts) \
             ORDER BY q.deadline DESC LIMIT 200"
        ))
        .bind(secs(now))
        .bind(secs(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UnansweredAsk {
                    challenge: from_row(row)?,
                    full_name: row.try_get("full_name")?,
                    time_zone: row.try_get("time_zone")?,
                })
            })
            .collect()
    }

    /// The immediate check-ins asked about a case's time from `from` to `to` (those whose
    /// trigger or time to answer overlaps it), oldest first: shown beside a `left_home` flag.
    pub async fn asks_during(
        &self,
        case_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ChallengeRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_challenges WHERE case_id = $1 AND kind = 'immediate' \
             AND asked_for_ts <= $3 AND deadline >= $2 ORDER BY issued_at"
        ))
        .bind(case_id)
        .bind(secs(from))
        .bind(secs(to))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
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
