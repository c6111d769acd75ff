//! Passes: issuance (atomic with its quota check), lookup, cancellation and the
//! revocation list that offline verifiers sync.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use propusk_core::domain::holder_hint;
use propusk_core::issuance::{PassRequest, PriorPass, Refusal, ResidentFacts};
use propusk_core::policy::RegimeBook;
use propusk_token::rand_core::OsRng;
use propusk_token::{seal, PassClaims, PassId, ShortCode, SigningKey};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{residents, secs, ts, Backend, Result, Store, StoreError};

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
        valid_from: ts(row.try_get("valid_from")?),
        valid_until: ts(row.try_get("valid_until")?),
        issued_at: ts(row.try_get("issued_at")?),
        channel: row.try_get("channel")?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| StoreError::Corrupt(format!("pass fields: {e}")))?,
        cancelled_at: row.try_get::<Option<i64>, _>("cancelled_at")?.map(ts),
    })
}

/// Decides and, if granted, stores one pass inside `tx`. The caller's transaction
/// holds the lock that makes the quota check exact (see the crate docs).
///
/// The future is boxed as `Send` here, where its lifetimes are concrete: left to
/// inference, the batching task's `tokio::spawn` trips over rustc's handling of
/// higher-ranked lifetimes in sqlx executors.
pub(crate) fn issue_in<'a>(
    backend: Backend,
    tx: &'a mut Transaction<'static, Any>,
    req: &'a IssueRequest,
) -> Pin<Box<dyn Future<Output = Result<PassRecord, IssueError>> + Send + 'a>> {
    Box::pin(issue_in_inner(backend, tx, req))
}

async fn issue_in_inner(
    backend: Backend,
    tx: &mut Transaction<'static, Any>,
    req: &IssueRequest,
) -> Result<PassRecord, IssueError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon, lang \
         FROM residents WHERE id = $1{lock}"
    ))
    .bind(&req.resident_id)
    .fetch_optional(&mut **tx)
    .await?;
    let resident = residents::from_row(&row.ok_or(IssueError::UnknownResident)?)?;
    // A resident registered by SMS alone has a name and a document but no home location:
    // enough for any request without a destination (see `propusk_sms::registration`).
    let facts = ResidentFacts {
        profile_complete: resident.identity().is_some(),
        home: resident.profile.as_ref().map(|p| p.home),
    };
    let since = req
        .now
        .saturating_sub(req.regimes.lookback())
        .unwrap_or(req.now);
    let prior: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT purpose, valid_from, valid_until, cancelled_at FROM passes WHERE resident_id = $1 AND valid_from >= $2",
    )
    .bind(&req.resident_id)
    .bind(secs(since))
    .fetch_all(&mut **tx)
    .await?;
    let prior: Vec<PriorPass> = prior
        .into_iter()
        .map(|(purpose, from, until, cancelled)| PriorPass {
            purpose,
            valid_from: ts(from),
            valid_until: ts(until),
            cancelled_at: cancelled.map(ts),
        })
        .collect();
    let grant = req
        .regimes
        .decide(&req.request, &facts, &prior, req.now)
        .map_err(IssueError::Refused)?;
    // The store and the token keep whole seconds; the record says what was stored.
    let (valid_from, valid_until, now) = (
        ts(secs(grant.valid_from)),
        ts(secs(grant.valid_until)),
        ts(secs(req.now)),
    );
    let (full_name, document) = resident.identity().ok_or(IssueError::UnknownResident)?;

    let short_code = unused_short_code(tx).await?;
    let uuid = uuid::Uuid::new_v4();
    let claims = PassClaims {
        iss: grant.issuer.as_str().to_string(),
        iat: now.as_second(),
        nbf: valid_from.as_second(),
        exp: valid_until.as_second(),
        pass_id: PassId(*uuid.as_bytes()),
        purpose: grant.purpose.as_str().to_string(),
        regime: grant.regime.as_str().to_string(),
        holder: holder_hint(full_name, document),
        area: None,
        vehicle: None,
    };
    let record = PassRecord {
        id: uuid.to_string(),
        resident_id: req.resident_id.clone(),
        regime_id: claims.regime.clone(),
        purpose: claims.purpose.clone(),
        short_code: short_code.compact(),
        token: seal(&claims, &req.key, true),
        valid_from,
        valid_until,
        issued_at: now,
        channel: req.channel.to_string(),
        fields: grant.fields,
        cancelled_at: None,
    };
    sqlx::query(&format!("INSERT INTO passes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)"))
        .bind(&record.id)
        .bind(&record.resident_id)
        .bind(&record.regime_id)
        .bind(&record.purpose)
        .bind(&record.short_code)
        .bind(&record.token)
        .bind(secs(record.valid_from))
        .bind(secs(record.valid_until))
        .bind(secs(record.issued_at))
        .bind(&record.channel)
        .bind(serde_json::to_string(&record.fields).unwrap_or_else(|_| "{}".into()))
        .execute(&mut **tx)
        .await?;
    Ok(record)
}

/// A fresh short code not yet in use. Collisions are one in 10¹² per pass, so
/// the loop almost never repeats.
async fn unused_short_code(tx: &mut Transaction<'static, Any>) -> Result<ShortCode> {
    loop {
        let code = ShortCode::generate(&mut OsRng);
        let taken: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM passes WHERE short_code = $1")
            .bind(code.compact())
            .fetch_optional(&mut **tx)
            .await?;
        if taken.is_none() {
            return Ok(code);
        }
    }
}

impl Store {
    /// Issues a pass if the regime allows it. Quotas are exact under concurrency.
    pub async fn issue_pass(&self, req: IssueRequest) -> Result<PassRecord, IssueError> {
        self.issuer.issue(self, req).await
    }

    pub(crate) async fn issue_single(&self, req: &IssueRequest) -> Result<PassRecord, IssueError> {
        let mut tx = self.write_tx().await?;
        let record = issue_in(self.backend, &mut tx, req).await?;
        tx.commit().await?;
        Ok(record)
    }

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
