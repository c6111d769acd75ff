//! Passes: issuance (atomic with its quota check), lookup, cancellation and the
//! revocation list that offline verifiers sync.

use std::collections::BTreeMap;
use std::sync::Arc;

use propusk_core::issuance::{PassRequest, Refusal};
use propusk_core::policy::RegimeBook;
use propusk_token::{ShortCode, SigningKey};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{secs, ts, Result, Store, StoreError};

pub(crate) use crate::issuance::issue_in;

/// One request for a pass, with what is needed to decide and sign it.
#[derive(Clone)]
pub struct IssueRequest {
    pub resident_id: String,
    pub request: PassRequest,
    /// `web`, `api` or `sms`.
    pub channel: &'static str,
    pub now: jiff::Timestamp,
    /// The regimes as they stand now (an administrator may load new ones at any time).
    pub regimes: Arc<RegimeBook>,
    pub key: Arc<SigningKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("refused: {0}")]
    Refused(Refusal),
    #[error("no such resident")]
    UnknownResident,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for IssueError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A stored pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassRecord {
    pub id: String,
    pub resident_id: String,
    pub regime_id: String,
    pub purpose: String,
    pub short_code: String,
    pub token: String,
    pub valid_from: jiff::Timestamp,
    pub valid_until: jiff::Timestamp,
    pub issued_at: jiff::Timestamp,
    pub channel: String,
    pub fields: BTreeMap<String, String>,
    pub cancelled_at: Option<jiff::Timestamp>,
}

/// Who cancels a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The holder: may cancel only their own passes.
    Resident(String),
    /// An administrator, named in the audit log.
    Staff { id: String, username: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled(PassRecord),
    AlreadyCancelled(PassRecord),
    /// No such pass, or not the caller's (the two are not told apart).
    NotFound,
}

pub(crate) const COLUMNS: &str =
    "id, resident_id, regime_id, purpose, short_code, token, valid_from, valid_until, issued_at, channel, fields, cancelled_at";

pub(crate) fn from_row(row: &AnyRow) -> Result<PassRecord> {
    let fields: String = row.try_get("fields")?;
    Ok(PassRecord {
        id: row.try_get("id")?,
        resident_id: row.try_get("resident_id")?,
        regime_id: row.try_get("regime_id")?,
        purpose: row.try_get("purpose")?,
        short_code: row.try_get("short_code")?,
        token: row.try_get("token")?,
        valid_from: ts(row.try_get("valid_from")?)?,
        valid_until: ts(row.try_get("valid_until")?)?,
        issued_at: ts(row.try_get("issued_at")?)?,
        channel: row.try_get("channel")?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| StoreError::Corrupt(format!("pass fields: {e}")))?,
        cancelled_at: crate::opt_ts(row, "cancelled_at")?,
    })
}

impl Store {
    /// A resident's passes, newest first.
    pub async fn passes_of(&self, resident_id: &str, limit: i64) -> Result<Vec<PassRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passes WHERE resident_id = $1 ORDER BY valid_from DESC, issued_at DESC LIMIT $2"
        ))
        .bind(resident_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn pass(&self, id: &str) -> Result<Option<PassRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM passes WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn pass_by_short_code(&self, code: &ShortCode) -> Result<Option<PassRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passes WHERE short_code = $1"
        ))
        .bind(code.compact())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Cancels a pass and publishes its revocation. A resident may cancel only
    /// their own; staff cancellations are audited.
    pub async fn cancel_pass(
        &self,
        pass_id: &str,
        actor: &Actor,
        reason: &str,
        now: jiff::Timestamp,
    ) -> Result<CancelOutcome> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM passes WHERE id = $1"))
            .bind(pass_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(mut pass) = row.as_ref().map(from_row).transpose()? else {
            return Ok(CancelOutcome::NotFound);
        };
        if let Actor::Resident(id) = actor {
            if *id != pass.resident_id {
                return Ok(CancelOutcome::NotFound);
            }
        }
        if pass.cancelled_at.is_some() {
            return Ok(CancelOutcome::AlreadyCancelled(pass));
        }
        revoke_in(&mut tx, &pass, actor, reason, now).await?;
        tx.commit().await?;
        pass.cancelled_at = Some(now);
        Ok(CancelOutcome::Cancelled(pass))
    }

    /// Revokes every pass of a resident that has not ended; returns how many.
    pub async fn revoke_all_of(
        &self,
        resident_id: &str,
        actor: &Actor,
        reason: &str,
        now: jiff::Timestamp,
    ) -> Result<usize> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passes WHERE resident_id = $1 AND cancelled_at IS NULL AND valid_until > $2"
        ))
        .bind(resident_id)
        .bind(secs(now))
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            revoke_in(&mut tx, &from_row(row)?, actor, reason, now).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

pub(crate) async fn revoke_in(
    tx: &mut Transaction<'static, Any>,
    pass: &PassRecord,
    actor: &Actor,
    reason: &str,
    now: jiff::Timestamp,
) -> Result<()> {
    let by = match actor {
        Actor::Resident(id) => format!("resident:{id}"),
        Actor::Staff { id, .. } => format!("staff:{id}"),
    };
    sqlx::query("UPDATE passes SET cancelled_at = $1, cancelled_by = $2 WHERE id = $3")
        .bind(secs(now))
        .bind(&by)
        .bind(&pass.id)
        .execute(&mut **tx)
        .await?;
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE counters SET value = value + 1 WHERE name = 'revocation' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?;
    // The pass's end goes with it: the published list holds only passes not yet expired.
    sqlx::query(
        "INSERT INTO revocations (seq, pass_id, revoked_at, reason, valid_until) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(seq)
    .bind(&pass.id)
    .bind(secs(now))
    .bind(reason)
    .bind(secs(pass.valid_until))
    .execute(&mut **tx)
    .await?;
    if let Actor::Staff { username, .. } = actor {
        crate::audit::append(tx, username, "pass.revoke", &pass.id, reason, now).await?;
    }
    Ok(())
}
