//! The SMS outbox: every outgoing text is written in the same transaction as the
//! event that causes it, and a worker sends it afterwards. A crash between the
//! two loses nothing.
//!
//! A message moves `pending` → `sending` → `sent` (or `failed`), and delivery
//! reports fill in `delivery` independently:
//!
//! - **Claiming** commits `sending` with a lease *before* the gateway is called,
//!   so two workers (two PostgreSQL nodes: `FOR UPDATE SKIP LOCKED`) never hand
//!   the same message over at once.
//! - **Sent** is recorded as soon as the gateway accepts. A crash after the
//!   gateway accepted and before that commit leaves the message `sending`; when
//!   its lease runs out it is *in doubt*. A delivery report naming it (Kannel
//!   sends "accepted by the SMSC" within moments) settles it as sent; only a
//!   message with no report at all is handed over again — at-least-once, with the
//!   same idempotency key and row id, and a double send only if the gateway took
//!   it *and* its report never arrived within the lease.
//! - **Retries** back off; a message the gateway refuses for good, or one still
//!   unsent a day after it was written, is `failed` and shown as such.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{secs, ts, Backend, Result, Store};

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
    pub created_at: jiff::Timestamp,
}

/// How a message was sent: recorded with it (operators bill per segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentVia {
    pub gateway: String,
    /// `gsm7` or `ucs2`.
    pub coding: String,
    pub segments: i64,
}

/// A delivery report's verdict, from the gateway's report type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The SMSC accepted the message (Kannel type 8).
    Submitted,
    /// Queued in the network for later delivery (Kannel type 4).
    Buffered,
    /// On the phone (Kannel type 1). Final.
    Delivered,
    /// The network gave up (Kannel type 2). Final.
    Undelivered,
    /// The SMSC refused it (Kannel type 16). Final.
    Rejected,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Buffered => "buffered",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Rejected => "rejected",
        }
    }

    /// Kannel's `%d`: 1 delivered, 2 undelivered, 4 buffered, 8 SMSC submit, 16 SMSC reject.
    pub fn from_kannel(kind: u32) -> Option<Self> {
        Some(match kind {
            1 => Self::Delivered,
            2 => Self::Undelivered,
            4 => Self::Buffered,
            8 => Self::Submitted,
            16 => Self::Rejected,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Undelivered | Self::Rejected)
    }
}

/// The queue, failures and delivery, for `propusk sms status` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsStats {
    /// Waiting to be sent (first try or a retry).
    pub pending: i64,
    /// Handed to a worker and not settled: being sent, or in doubt after a crash.
    pub sending: i64,
    /// Accepted by the gateway.
    pub sent: i64,
    /// Given up.
    pub failed: i64,
    /// Of the sent: reported delivered to the phone.
    pub delivered: i64,
    /// Of the sent: reported undelivered or rejected by the network.
    pub undelivered: i64,
    /// Of the sent: accepted by the SMSC or buffered, no final report yet.
    pub in_network: i64,
    /// Segments of all sent messages.
    pub segments: i64,
    /// When the oldest waiting message was written.
    pub oldest_pending: Option<jiff::Timestamp>,
    /// Messages received.
    pub inbound: i64,
    /// Messages received in the last hour.
    pub inbound_last_hour: i64,
}

/// A message that failed or keeps failing, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsFailure {
    pub id: i64,
    pub phone: String,
    pub kind: String,
    pub status: String,
    pub delivery: Option<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: jiff::Timestamp,
}

/// A message still unsent this long after it was written is given up.
pub const MAX_AGE_SECS: i64 = 24 * 3600;

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

fn message(row: &AnyRow) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        phone: row.try_get("phone")?,
        body: row.try_get("body")?,
        kind: row.try_get("kind")?,
        attempts: row.try_get("attempts")?,
        created_at: ts(row.try_get("created_at")?)?,
    })
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

    /// Takes up to `limit` due messages — waiting ones, and ones in doubt whose lease ran
    /// out with no delivery report — and commits them as `sending` for `lease_secs`.
    pub async fn claim_due_sms(
        &self,
        now: jiff::Timestamp,
        limit: i64,
        lease_secs: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let now_s = secs(now);
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(&format!(
            "SELECT id, idempotency_key, phone, body, kind, attempts, created_at FROM sms_outbox \
             WHERE (status = 'pending' OR (status = 'sending' AND delivery IS NULL)) \
             AND next_attempt_at <= $1 ORDER BY id LIMIT $2{skip_locked}"
        ))
        .bind(now_s)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            let msg = message(&row)?;
            sqlx::query(
                "UPDATE sms_outbox SET status = 'sending', next_attempt_at = $1 WHERE id = $2",
            )
            .bind(now_s + lease_secs)
            .bind(msg.id)
            .execute(&mut *tx)
            .await?;
            due.push(msg);
        }
        tx.commit().await?;
        Ok(due)
    }

    /// The gateway accepted the message.
    pub async fn mark_sms_sent(&self, id: i64, via: &SentVia, now: jiff::Timestamp) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET status = 'sent', sent_at = COALESCE(sent_at, $1), \
             attempts = attempts + 1, gateway = $2, coding = $3, segments = $4, last_error = NULL \
             WHERE id = $5",
        )
        .bind(secs(now))
        .bind(&via.gateway)
        .bind(&via.coding)
        .bind(via.segments)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        crate::monitoring::sms_sent_in(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The gateway certainly did not take the message: tried again after `retry_in_secs`,
    /// or given up once the message is older than [`MAX_AGE_SECS`]. A delivery report that
    /// arrived meanwhile (a gateway that took it after all) settles it as sent.
    pub async fn mark_sms_retry(
        &self,
        id: i64,
        error: &str,
        retry_in_secs: i64,
        now: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, \
             status = CASE WHEN delivery IS NOT NULL THEN 'sent' \
                           WHEN created_at < $3 THEN 'failed' ELSE 'pending' END \
             WHERE id = $4",
        )
        .bind(error)
        .bind(secs(now) + retry_in_secs)
        .bind(secs(now) - MAX_AGE_SECS)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The gateway may have taken the message: it stays `sending` until `until`, when it is
    /// sent again unless a delivery report has settled it.
    pub async fn mark_sms_in_doubt(
        &self,
        id: i64,
        error: &str,
        until: jiff::Timestamp,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 \
             WHERE id = $3 AND status = 'sending'",
        )
        .bind(error)
        .bind(secs(until))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a claimed message back untried (the gateway is down, the worker is stopping):
    /// due again at `at`, its attempts unchanged.
    pub async fn release_sms(&self, id: i64, at: jiff::Timestamp) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET status = 'pending', next_attempt_at = $1 \
             WHERE id = $2 AND status = 'sending'",
        )
        .bind(secs(at))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The gateway refused the message for good.
    pub async fn mark_sms_failed(&self, id: i64, error: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE sms_outbox SET status = 'failed', attempts = attempts + 1, last_error = $1 \
             WHERE id = $2",
        )
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a delivery report for outbox row `id`. A final report (delivered,
    /// undelivered, rejected) is never overwritten by a late intermediate one, and any report
    /// proves the gateway took the message. Returns false when there is no such message.
    pub async fn record_sms_delivery(
        &self,
        id: i64,
        delivery: Delivery,
        now: jiff::Timestamp,
    ) -> Result<bool> {
        // One statement, so that two reports for the same message arriving at once (Kannel
        // sends "submitted" and "delivered" within a millisecond, in either order) are applied
        // one after the other to the row as it then is: PostgreSQL re-reads a row an UPDATE
        // waited for, SQLite has one writer.
        let mut tx = self.write_tx().await?;
        let updated = sqlx::query(
            "UPDATE sms_outbox SET \
             delivery = CASE WHEN delivery IN ('delivered', 'undelivered', 'rejected') \
                             AND $1 NOT IN ('delivered', 'undelivered', 'rejected') \
                             THEN delivery ELSE $1 END, \
             delivery_at = $2, \
             status = CASE WHEN status IN ('pending', 'sending') THEN 'sent' ELSE status END, \
             sent_at = COALESCE(sent_at, $2) WHERE id = $3",
        )
        .bind(delivery.as_str())
        .bind(secs(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        crate::monitoring::sms_sent_in(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(updated == 1)
    }

    pub async fn sms_stats(&self, now: jiff::Timestamp) -> Result<SmsStats> {
        let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
            "SELECT status, delivery, COUNT(*), CAST(SUM(segments) AS BIGINT) FROM sms_outbox \
             GROUP BY status, delivery",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut stats = SmsStats::default();
        for (status, delivery, n, segments) in rows {
            stats.segments += segments.unwrap_or(0);
            match status.as_str() {
                "pending" => stats.pending += n,
                "sending" => stats.sending += n,
                "sent" => {
                    stats.sent += n;
                    match delivery.as_deref() {
                        Some("delivered") => stats.delivered += n,
                        Some("undelivered" | "rejected") => stats.undelivered += n,
                        Some(_) => stats.in_network += n,
                        None => {}
                    }
                }
                _ => stats.failed += n,
            }
        }
        let oldest: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT MIN(created_at) FROM sms_outbox WHERE status IN ('pending', 'sending')",
        )
        .fetch_optional(&self.pool)
        .await?;
        stats.oldest_pending = oldest.and_then(|(t,)| t).map(ts).transpose()?;
        let (inbound, last_hour): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN received_at > $1 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM sms_inbound",
        )
        .bind(secs(now) - 3600)
        .fetch_one(&self.pool)
        .await?;
        stats.inbound = inbound;
        stats.inbound_last_hour = last_hour.unwrap_or(0);
        Ok(stats)
    }

    /// The most recent messages that failed, were not delivered, or are being retried.
    pub async fn sms_failures(&self, limit: i64) -> Result<Vec<SmsFailure>> {
        let rows = sqlx::query(
            "SELECT id, phone, kind, status, delivery, attempts, last_error, created_at FROM sms_outbox \
             WHERE status = 'failed' OR delivery IN ('undelivered', 'rejected') \
             OR (status IN ('pending', 'sending') AND last_error IS NOT NULL) \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SmsFailure {
                    id: row.try_get("id")?,
                    phone: row.try_get("phone")?,
                    kind: row.try_get("kind")?,
                    status: row.try_get("status")?,
                    delivery: row.try_get("delivery")?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    created_at: ts(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }
}
