//! The phones of quarantine cases: enrolling one with a one-time code (the case's enrollment
//! code, or a lent phone's loaner key), finding a device by its bearer token, when its app last
//! called, and what a case's phones have sent so far.
//!
//! - **A device retires with its case or its loan.** A token is refused as *retired* — not
//!   unknown — once its device was revoked (the case closed; the loaner returned, wiped or
//!   lost) or its case is no longer monitored (ended early, or past its end). The app then
//!   erases everything it holds ([`DeviceLookup::Retired`]).
//! - **Last seen is cheap.** Every device call may note the time, but writes only when the
//!   stored time is [`SEEN_EVERY`] old, so a phone polling every few seconds costs at most
//!   one write every half minute; uploads note it in their own transaction.

use jiff::{SignedDuration, Timestamp};
use sqlx::{Any, Row, Transaction};

use crate::monitoring::{sha256_hex, Device, DeviceKind};
use crate::{new_id, secs, ts, Result, Store};

/// A device's last-seen time is written at most this often.
pub const SEEN_EVERY: SignedDuration = SignedDuration::from_secs(30);

/// What a bearer token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLookup {
    /// A device of a case still monitored.
    Active(Device),
    /// A device that was revoked, or whose case is no longer monitored: its app should erase
    /// its data.
    Retired,
    /// No device has this token.
    Unknown,
}

/// What the device's app is told about its case (`GET /api/v1/device/config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCase {
    /// The end of monitoring.
    pub ends_at: Timestamp,
    /// The case's clocks (IANA name).
    pub time_zone: String,
    /// The language of the patient's SMS, `ru` or `en`.
    pub lang: String,
    /// A lent phone's due date.
    pub loaner_due_at: Option<Timestamp>,
}

/// What a case's phones have sent so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseActivity {
    /// The newest location report's time (none before the first, and after retention).
    pub last_report_at: Option<Timestamp>,
    /// Location reports received (those erased after retention included).
    pub reports_received: i64,
    /// When an app of the case last called the API.
    pub app_last_seen_at: Option<Timestamp>,
}

/// Notes that a device called now, unless it was noted less than [`SEEN_EVERY`] ago.
pub(crate) async fn touch_in(
    tx: &mut Transaction<'static, Any>,
    device_id: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE monitoring_devices SET last_seen_at = $1 WHERE id = $2 \
         AND (last_seen_at IS NULL OR last_seen_at <= $3)",
    )
    .bind(secs(now))
    .bind(device_id)
    .bind(secs(now) - SEEN_EVERY.as_secs())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Whether `code` (a case's enrollment code or a lent phone's key) would enroll a device
    /// now: a cheap read, so that nothing costly — decoding a photo — is done for a wrong
    /// code. [`Store::enroll_device`] checks again when it spends the code.
    pub async fn enrollment_code_live(&self, code: &str, now: Timestamp) -> Result<bool> {
        let row = sqlx::query(
            "SELECT 1 FROM monitoring_cases WHERE enrollment_code_hash = $1 AND status = 'active' AND ends_at > $2 \
             UNION ALL \
             SELECT 1 FROM monitoring_loaners l JOIN monitoring_cases c ON c.id = l.case_id \
             WHERE l.key_hash = $1 AND l.state = 'on_loan' AND c.status = 'active' AND c.ends_at > $2",
        )
        .bind(sha256_hex(code))
        .bind(secs(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Uses a one-time code: the case's enrollment code (the patient's own phone) or a lent
    /// phone's loaner key. The device gets `device_token` (only its hash is kept), the code
    /// is spent, and monitoring starts if it had not. None when the code is unknown, used, or
    /// its case is over.
    pub async fn enroll_device(
        &self,
        code: &str,
        device_token: &str,
        reference_photo: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<Option<Device>> {
        let mut tx = self.write_tx().await?;
        let hash = sha256_hex(code);
        let own: Option<(String,)> = sqlx::query_as(
            "UPDATE monitoring_cases SET enrollment_code_hash = NULL, \
             monitoring_since = COALESCE(monitoring_since, $2) \
             WHERE enrollment_code_hash = $1 AND status = 'active' AND ends_at > $2 RETURNING id",
        )
        .bind(&hash)
        .bind(secs(now))
        .fetch_optional(&mut *tx)
        .await?;
        let (case_id, kind, serial) = match own {
            Some((case_id,)) => (case_id, DeviceKind::Own, None),
            None => {
                let lent: Option<(String, String)> = sqlx::query_as(
                    "UPDATE monitoring_loaners SET key_hash = NULL \
                     WHERE key_hash = $1 AND state = 'on_loan' RETURNING serial, case_id",
                )
                .bind(&hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((serial, case_id)) = lent else {
                    return Ok(None);
                };
                let active: Option<(String,)> = sqlx::query_as(
                    "UPDATE monitoring_cases SET monitoring_since = COALESCE(monitoring_since, $2) \
                     WHERE id = $1 AND status = 'active' AND ends_at > $2 RETURNING id",
                )
                .bind(&case_id)
                .bind(secs(now))
                .fetch_optional(&mut *tx)
                .await?;
                if active.is_none() {
                    // The case is over: nothing is spent (the transaction is dropped).
                    return Ok(None);
                }
                (case_id, DeviceKind::Loaner, Some(serial))
            }
        };
        let id = new_id();
        sqlx::query(
            "INSERT INTO monitoring_devices (id, case_id, token_hash, kind, enrolled_at, reference_photo) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&case_id)
        .bind(sha256_hex(device_token))
        .bind(kind.as_str())
        .bind(secs(now))
        .bind(reference_photo.map(<[u8]>::to_vec))
        .execute(&mut *tx)
        .await?;
        if let Some(serial) = serial {
            sqlx::query("UPDATE monitoring_loaners SET device_id = $1 WHERE serial = $2")
                .bind(&id)
                .bind(serial)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(Device { id, case_id, kind }))
    }

    /// The device a bearer token belongs to, and whether it is still in service at `now`.
    pub async fn device(&self, token: &str, now: Timestamp) -> Result<DeviceLookup> {
        let row = sqlx::query(
            "SELECT d.id, d.case_id, d.kind, d.revoked_at, c.status, c.ends_at \
             FROM monitoring_devices d JOIN monitoring_cases c ON c.id = d.case_id \
             WHERE d.token_hash = $1",
        )
        .bind(sha256_hex(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(DeviceLookup::Unknown);
        };
        let revoked = row.try_get::<Option<i64>, _>("revoked_at")?.is_some();
        let status = crate::monitoring::case_status(row.try_get("status")?)?;
        let over = ts(row.try_get("ends_at")?)? <= now;
        if revoked || status != propusk_core::monitoring::case::CaseStatus::Active || over {
            return Ok(DeviceLookup::Retired);
        }
        let kind: String = row.try_get("kind")?;
        Ok(DeviceLookup::Active(Device {
            id: row.try_get("id")?,
            case_id: row.try_get("case_id")?,
            kind: DeviceKind::parse(&kind)?,
        }))
    }

    /// Notes that a device called now (at most one write per [`SEEN_EVERY`]).
    pub async fn touch_device(&self, device: &Device, now: Timestamp) -> Result<()> {
        let mut tx = self.write_tx().await?;
        touch_in(&mut tx, &device.id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a device's app is told about its case; none if the case is gone.
    pub async fn device_case(&self, device: &Device) -> Result<Option<DeviceCase>> {
        let row = sqlx::query(
            "SELECT c.ends_at, c.time_zone, c.lang, \
             (SELECT l.due_at FROM monitoring_loaners l WHERE l.device_id = $2 \
              AND l.state = 'on_loan') AS due_at \
             FROM monitoring_cases c WHERE c.id = $1",
        )
        .bind(&device.case_id)
        .bind(&device.id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(DeviceCase {
                ends_at: ts(row.try_get("ends_at")?)?,
                time_zone: row.try_get("time_zone")?,
                lang: row.try_get("lang")?,
                loaner_due_at: crate::opt_ts(&row, "due_at")?,
            })
        })
        .transpose()
    }

    /// What a case's phones have sent so far.
    pub async fn case_activity(&self, case_id: &str) -> Result<CaseActivity> {
        let row = sqlx::query(
            "SELECT (SELECT MAX(ts) FROM location_fixes WHERE case_id = $1) AS last_report, \
             (SELECT COUNT(*) FROM location_fixes WHERE case_id = $1) AS reports, \
             (SELECT MAX(last_seen_at) FROM monitoring_devices WHERE case_id = $1) AS seen, \
             (SELECT purged_fixes FROM monitoring_cases WHERE id = $1) AS purged",
        )
        .bind(case_id)
        .fetch_one(&self.pool)
        .await?;
        let purged: Option<i64> = row.try_get("purged")?;
        Ok(CaseActivity {
            last_report_at: crate::opt_ts(&row, "last_report")?,
            reports_received: row.try_get::<i64, _>("reports")? + purged.unwrap_or(0),
            app_last_seen_at: crate::opt_ts(&row, "seen")?,
        })
    }
}
