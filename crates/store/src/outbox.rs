//! The SMS outbox: every outgoing text is written in the same transaction as the
//! event that causes it, and a worker sends it afterwards. A crash between the
//! two loses nothing; a crash during a send repeats it, under the same
//! idempotency key, so a gateway that honours keys does not send it twice.

use sqlx::{Any, Row, Transaction};

use crate::{secs, Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsKind {
    SignInCode,
    PassReply,
    Warning,
    Notice,
}

impl SmsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInCode => "sign_in_code",
            Self::PassReply => "pass_reply",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// A message due to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub idempotency_key: String,
    pub phone: String,
    pub body: String,
    pub kind: String,
    pub attempts: i64,
}

/// Counts by status, for `propusk sms status` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsStats {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// How long a claimed message stays invisible to other workers while it is being sent.
const LEASE_SECS: i64 = 60;
/// After this many failed attempts a message is given up and shown as failed.
pub const MAX_ATTEMPTS: i64 = 10;

pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    key: &str,
    phone: &str,
    body: &str,
    kind: SmsKind,
    now: jiff::Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sms_outbox (idempotency_key, phone, body, kind, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(key)
    .bind(phone)
    .bind(body)
    .bind(kind.as_str())
    .bind(secs(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Queues one message on its own (for events that have no other write).
    pub async fn enqueue_sms(
        &self,
        key: &str,
        phone: &str,
        body: &str,
        kind: SmsKind,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        enqueue(&mut tx, key, phone, body, kind, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes up to `limit` due messages and hides them from other workers for a lease.
    pub async fn claim_due_sms(
        &self,
        now: jiff::Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let now_s = secs(now);
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "SELECT id, idempotency_key, phone, body, kind, attempts FROM sms_outbox \
             WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now_s)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            sqlx::query("UPDATE sms_outbox SET next_attempt_at = $1 WHERE id = $2")
                .bind(now_s + LEASE_SECS)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            due.push(OutboxMessage {
                id,
                idempotency_key: row.try_get("idempotency_key")?,
                phone: row.try_get("phone")?,
                body: row.try_get("body")?,
                kind: row.try_get("kind")?,
                attempts: row.try_get("attempts")?,
            });
        }
        tx.commit().await?;
        Ok(due)
    }

    pub async fn mark_sms_sent(&self, id: i64, now: jiff::Timestamp) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE sms_outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1 WHERE id = $2")
            .bind(secs(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt: retried after `retry_in_secs`, or given up after [`MAX_ATTEMPTS`].
    pub async fn mark_sms_failed(
        &self,
        id: i64,
        error: &str,
        retry_in_secs: i64,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, \
             status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END WHERE id = $4",
        )
        .bind(error)
        .bind(secs(now) + retry_in_secs)
        .bind(MAX_ATTEMPTS)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn sms_stats(&self) -> Result<SmsStats> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM sms_outbox GROUP BY status")
                .fetch_all(&self.pool)
                .await?;
        let mut stats = SmsStats::default();
        for (status, n) in rows {
            match status.as_str() {
                "pending" => stats.pending = n,
                "sent" => stats.sent = n,
                _ => stats.failed += n,
            }
        }
        Ok(stats)
    }
}
