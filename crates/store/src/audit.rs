//! The tamper-evident audit log: every staff read of personal data and every
//! decision, each entry chained to the previous one by SHA-256, so that editing
//! or deleting an entry breaks every hash after it.

use sha2::{Digest, Sha256};
use sqlx::{Any, Row, Transaction};

use crate::auth::hex;
use crate::{secs, Result, Store, StoreError};

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

/// An entry to append to the log.
pub(crate) struct NewEntry {
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub at: i64,
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
    let entry = NewEntry {
        actor: actor.into(),
        action: action.into(),
        subject: subject.into(),
        detail: detail.into(),
        at: secs(now),
    };
    append_many(tx, std::slice::from_ref(&entry)).await
}

/// Rows per INSERT statement (8 parameters each).
const ROWS_PER_INSERT: usize = 32;

/// Appends `entries` in order inside the caller's transaction: one counter update takes
/// their sequence numbers, one read the hash they chain from, and one INSERT per 32 rows.
pub(crate) async fn append_many(
    tx: &mut Transaction<'static, Any>,
    entries: &[NewEntry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let n = entries.len() as i64;
    let (last,): (i64,) = sqlx::query_as(
        "UPDATE counters SET value = value + $1 WHERE name = 'audit' RETURNING value",
    )
    .bind(n)
    .fetch_one(&mut **tx)
    .await?;
    let first = last - n + 1;
    let mut prev = if first == 1 {
        String::new()
    } else {
        let row: Option<(String,)> = sqlx::query_as("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(first - 1)
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|(hash,)| hash).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "audit entry {} is missing: the counter is ahead of the log",
                first - 1
            ))
        })?
    };
    let mut rows = Vec::with_capacity(entries.len());
    for (seq, e) in (first..).zip(entries) {
        let hash = entry_hash(&prev, seq, e.at, &e.actor, &e.action, &e.subject, &e.detail);
        rows.push((seq, e, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (seq, e, prev, hash) in chunk {
            query = query
                .bind(*seq)
                .bind(e.at)
                .bind(e.actor.as_str())
                .bind(e.action.as_str())
                .bind(e.subject.as_str())
                .bind(e.detail.as_str())
                .bind(prev.as_str())
                .bind(hash.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Records a staff action on its own, committed with the others waiting at that moment
    /// (`audit_writer.rs`); returns once it is durable.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: jiff::Timestamp,
    ) -> Result<()> {
        self.auditor
            .record(NewEntry {
                actor: actor.into(),
                action: action.into(),
                subject: subject.into(),
                detail: detail.into(),
                at: secs(now),
            })
            .await
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
