//! The tamper-evident audit log: every staff read of personal data and every
//! decision, each entry chained to the previous one by SHA-256, so that editing
//! or deleting an entry breaks every hash after it.

use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::auth::hex;
use crate::{secs, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub hash: String,
}

fn entry_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev,
        &seq.to_string(),
        &at.to_string(),
        actor,
        action,
        subject,
        detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// Appends an entry inside the caller's transaction, so the record and the act
/// commit together. The counter row's lock orders concurrent appends.
pub(crate) async fn append(
    tx: &mut Transaction<'static, Any>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    now: jiff::Timestamp,
) -> Result<()> {
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE counters SET value = value + 1 WHERE name = 'audit' RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?;
    let prev: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq - 1)
        .fetch_optional(&mut **tx)
        .await?;
    let prev = prev.map(|p| p.0).unwrap_or_default();
    let at = secs(now);
    let hash = entry_hash(&prev, seq, at, actor, action, subject, detail);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a staff action on its own.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        append(&mut tx, actor, action, subject, detail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The most recent audit entries, newest first.
    pub async fn audit_tail(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT seq, at, actor, action, subject, detail, hash FROM audit_log ORDER BY seq DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    /// Recomputes the hash chain; returns the first sequence number whose entry
    /// does not match, or None when the log is intact.
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>> {
        let rows = sqlx::query("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        let mut prev = String::new();
        for (expected_seq, r) in (1..).zip(rows) {
            let seq: i64 = r.try_get("seq")?;
            let hash: String = r.try_get("hash")?;
            let stored_prev: String = r.try_get("prev_hash")?;
            let actor: String = r.try_get("actor")?;
            let action: String = r.try_get("action")?;
            let subject: String = r.try_get("subject")?;
            let detail: String = r.try_get("detail")?;
            let computed = entry_hash(
                &prev,
                seq,
                r.try_get("at")?,
                &actor,
                &action,
                &subject,
                &detail,
            );
            if seq != expected_seq || stored_prev != prev || computed != hash {
                return Ok(Some(seq));
            }
            prev = hash;
        }
        Ok(None)
    }
}
