//! Loaner phones for patients without a phone of their own: an inventory moving
//! `in_stock` → `on_loan` → `returned` → `wiped` (lendable again), or `lost`.
//!
//! Lending gives the phone a one-time loaner key (only its hash is kept) with which it
//! enrolls to the case as a `loaner` device, as a patient's own phone does with the case's
//! enrollment code; the device token it then gets is the only thing the phone holds. The loan
//! is due at the case's end; returning (or wiping, or losing) the phone revokes the token and
//! any unused key, and the phone is lent again only after a wipe recorded with its checklist.
//! Every step is in the audit log.

use jiff::Timestamp;
pub use propusk_core::monitoring::loaner::{LoanerState, LoanerStep};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::monitoring::sha256_hex;
use crate::{audit, secs, Backend, Result, Store, StoreError};

/// A loaner phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaner {
    pub serial: String,
    pub state: LoanerState,
    pub case_id: Option<String>,
    pub lent_at: Option<Timestamp>,
    pub due_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub wiped_at: Option<Timestamp>,
    /// The last return or wipe checklist.
    pub checklist: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoanerError {
    #[error("no such loaner")]
    NotFound,
    #[error("a loaner with this serial exists")]
    Exists,
    #[error("the loaner is {0}")]
    WrongState(LoanerState),
    #[error("the case is not being monitored")]
    CaseNotActive,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LoanerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

const COLUMNS: &str = "serial, state, case_id, lent_at, due_at, returned_at, wiped_at, checklist";

fn from_row(row: &AnyRow) -> Result<Loaner> {
    let opt = |c: &str| crate::opt_ts(row, c);
    let serial: String = row.try_get("serial")?;
    let corrupt = |what: String| StoreError::Corrupt(format!("loaner {serial}: {what}"));
    let state: String = row.try_get("state")?;
    let state = LoanerState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?;
    let checklist = match row.try_get::<Option<String>, _>("checklist")? {
        Some(text) => {
            Some(serde_json::from_str(&text).map_err(|e| corrupt(format!("checklist: {e}")))?)
        }
        None => None,
    };
    Ok(Loaner {
        serial: serial.clone(),
        state,
        case_id: row.try_get("case_id")?,
        lent_at: opt("lent_at")?,
        due_at: opt("due_at")?,
        returned_at: opt("returned_at")?,
        wiped_at: opt("wiped_at")?,
        checklist,
    })
}

impl Store {
    async fn locked_loaner(
        &self,
        tx: &mut Transaction<'static, Any>,
        serial: &str,
    ) -> Result<(Loaner, Option<String>), LoanerError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, device_id FROM monitoring_loaners WHERE serial = $1{lock}"
        ))
        .bind(serial)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(LoanerError::NotFound)?;
        Ok((from_row(&row)?, row.try_get("device_id")?))
    }

    async fn loaner_in(
        tx: &mut Transaction<'static, Any>,
        serial: &str,
    ) -> Result<Loaner, LoanerError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_loaners WHERE serial = $1"
        ))
        .bind(serial)
        .fetch_one(&mut **tx)
        .await?;
        Ok(from_row(&row)?)
    }

    /// Adds a phone to the inventory, in stock.
    pub async fn add_loaner(
        &self,
        serial: &str,
        staff: &str,
        now: Timestamp,
    ) -> Result<Loaner, LoanerError> {
        let mut tx = self.write_tx().await?;
        let added = sqlx::query(
            "INSERT INTO monitoring_loaners (serial, state, updated_at) VALUES ($1, 'in_stock', $2) \
             ON CONFLICT (serial) DO NOTHING",
        )
        .bind(serial)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added == 0 {
            return Err(LoanerError::Exists);
        }
        audit::append(&mut tx, staff, "monitoring.loaner.add", serial, "", now).await?;
        let loaner = Self::loaner_in(&mut tx, serial).await?;
        tx.commit().await?;
        Ok(loaner)
    }

    /// The inventory (optionally in one state), by serial.
    pub async fn loaners(&self, state: Option<LoanerState>) -> Result<Vec<Loaner>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_loaners WHERE ($1 = '' OR state = $1) ORDER BY serial"
        ))
        .bind(state.map_or("", LoanerState::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Phones on loan past their due date, longest overdue first.
    pub async fn overdue_loaners(&self, now: Timestamp) -> Result<Vec<Loaner>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM monitoring_loaners WHERE state = 'on_loan' AND due_at < $1 \
             ORDER BY due_at"
        ))
        .bind(secs(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Lends a phone in stock (or wiped) to an active case, due at the case's end, with the
    /// one-time `key` it enrolls with (only its hash is kept; the phone becomes the case's
    /// `loaner` device when it enrolls).
    pub async fn lend_loaner(
        &self,
        serial: &str,
        case_id: &str,
        key: &str,
        staff: &str,
        now: Timestamp,
    ) -> Result<Loaner, LoanerError> {
        let mut tx = self.write_tx().await?;
        let (loaner, _) = self.locked_loaner(&mut tx, serial).await?;
        LoanerStep::Lend
            .apply(loaner.state)
            .map_err(LoanerError::WrongState)?;
        let case: Option<(i64,)> = sqlx::query_as(
            "SELECT ends_at FROM monitoring_cases WHERE id = $1 AND status = 'active' AND ends_at > $2",
        )
        .bind(case_id)
        .bind(secs(now))
        .fetch_optional(&mut *tx)
        .await?;
        let (due,) = case.ok_or(LoanerError::CaseNotActive)?;
        sqlx::query(
            "UPDATE monitoring_loaners SET state = 'on_loan', case_id = $1, device_id = NULL, \
             key_hash = $2, lent_at = $3, due_at = $4, returned_at = NULL, updated_at = $3 \
             WHERE serial = $5",
        )
        .bind(case_id)
        .bind(sha256_hex(key))
        .bind(secs(now))
        .bind(due)
        .bind(serial)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            staff,
            "monitoring.loaner.lend",
            serial,
            case_id,
            now,
        )
        .await?;
        let loaner = Self::loaner_in(&mut tx, serial).await?;
        tx.commit().await?;
        Ok(loaner)
    }

    /// Records a step other than lending (see [`Store::lend_loaner`]), with a checklist;
    /// revokes the phone's device token (and an unused key) when it leaves the patient.
    pub async fn move_loaner(
        &self,
        serial: &str,
        step: LoanerStep,
        checklist: Option<&serde_json::Value>,
        staff: &str,
        now: Timestamp,
    ) -> Result<Loaner, LoanerError> {
        let mut tx = self.write_tx().await?;
        let (loaner, device_id) = self.locked_loaner(&mut tx, serial).await?;
        if step == LoanerStep::Lend {
            return Err(StoreError::Unsupported("a phone is lent with lend_loaner".into()).into());
        }
        let to = step.apply(loaner.state).map_err(LoanerError::WrongState)?;
        let column = match to {
            LoanerState::Returned => ", returned_at = $4",
            LoanerState::Wiped => ", wiped_at = $4",
            _ => "",
        };
        sqlx::query(&format!(
            "UPDATE monitoring_loaners SET state = $1, checklist = COALESCE($2, checklist), \
             key_hash = NULL, updated_at = $4{column} WHERE serial = $3"
        ))
        .bind(to.as_str())
        .bind(checklist.map(|c| c.to_string()))
        .bind(serial)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?;
        if let Some(device) = device_id {
            sqlx::query(
                "UPDATE monitoring_devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(secs(now))
            .bind(device)
            .execute(&mut *tx)
            .await?;
        }
        let detail = checklist.map(|c| c.to_string()).unwrap_or_default();
        audit::append(
            &mut tx,
            staff,
            &format!("monitoring.loaner.{}", step.audit_name()),
            serial,
            &detail,
            now,
        )
        .await?;
        let loaner = Self::loaner_in(&mut tx, serial).await?;
        tx.commit().await?;
        Ok(loaner)
    }
}
