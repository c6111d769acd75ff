//! Rate limits and failure backoffs kept in the database, so that they hold across every
//! node and both backends.
//!
//! Each check-then-write here is one atomic step: the buckets are locked first
//! ([`Store::lock_keys`]: a transaction-scoped advisory lock on PostgreSQL, the write lock on
//! SQLite), then read, decided by the core's pure functions ([`propusk_core::throttle`]) and
//! written back in the same transaction. Buckets are stored under a hash of their name and
//! key, so the table holds no phone number or address in clear.
//!
//! A limit that starts refusing is written to the audit log once (when it trips, not on every
//! refused request), so that a flood of refused requests cannot flood the log.

use jiff::Timestamp;
use propusk_core::throttle::{self, Backoff, Failures, Rate};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::{secs, Result, Store};

/// One rate limit to charge: what it limits (`name`, e.g. `otp.phone`), whose (`key`, e.g.
/// the phone number), how much, and how many slots this request takes (usually one).
#[derive(Debug, Clone)]
pub struct Limit {
    pub name: &'static str,
    pub key: String,
    pub rate: Rate,
    pub cost: u32,
}

impl Limit {
    pub fn new(name: &'static str, key: impl Into<String>, rate: Rate) -> Self {
        Self {
            name,
            key: key.into(),
            rate,
            cost: 1,
        }
    }

    /// The same limit, charged `cost` slots.
    pub fn cost(self, cost: u32) -> Self {
        Self { cost, ..self }
    }
}

/// A refused request: which limit refused it and when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub limit: &'static str,
    pub retry_at: Timestamp,
}

/// The stored id of a bucket.
fn bucket_id(name: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{name}\u{0}{key}").as_bytes());
    crate::auth::hex(&digest[..16])
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn from_ms(ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms)
        .map_err(|e| crate::StoreError::Corrupt(format!("throttle time {ms}: {e}")))
}

impl Store {
    /// Charges every limit in `limits` one request at `now` inside `tx`: all of them, or
    /// (when any refuses) none, and then the refusal with the latest retry time. The
    /// caller commits `tx` either way (a refusal records that the limit tripped).
    pub(crate) async fn charge_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        limits: &[Limit],
        now: Timestamp,
    ) -> Result<Result<(), Throttled>> {
        let ids: Vec<String> = limits.iter().map(|l| bucket_id(l.name, &l.key)).collect();
        self.lock_keys(tx, ids.iter().map(|id| format!("throttle:{id}")))
            .await?;
        let mut asks = Vec::with_capacity(limits.len());
        let mut tripped = Vec::with_capacity(limits.len());
        for (limit, id) in limits.iter().zip(&ids) {
            let row: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT tat_ms, tripped_at FROM throttles WHERE bucket = $1")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let tat = row.map(|(t, _)| from_ms(t)).transpose()?;
            tripped.push(row.is_some_and(|(_, t)| t.is_some()));
            asks.push((limit.rate, tat, limit.cost));
        }
        match throttle::take_all(&asks, now) {
            Ok(tats) => {
                for ((id, tat), limit) in ids.iter().zip(tats).zip(limits) {
                    // A trip is forgotten once a whole period has passed since it. Sooner,
                    // an admission is only a request stamped a moment later than a refused
                    // one but charged after it (concurrent requests take the lock in any
                    // order), and the limit has not stopped refusing.
                    let period_s = i64::try_from((limit.rate.period().as_millis() + 999) / 1000)
                        .expect("a SignedDuration's whole seconds fit in i64");
                    sqlx::query(
                        "INSERT INTO throttles (bucket, tat_ms, tripped_at) VALUES ($1, $2, NULL) \
                         ON CONFLICT (bucket) DO UPDATE SET tat_ms = excluded.tat_ms, \
                         tripped_at = CASE WHEN throttles.tripped_at > $3 \
                         THEN throttles.tripped_at ELSE NULL END",
                    )
                    .bind(id)
                    .bind(ms(tat))
                    .bind(secs(now).saturating_sub(period_s))
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(Ok(()))
            }
            Err(refusals) => {
                for (i, _) in &refusals {
                    if tripped[*i] {
                        continue;
                    }
                    sqlx::query("UPDATE throttles SET tripped_at = $1 WHERE bucket = $2")
                        .bind(secs(now))
                        .bind(&ids[*i])
                        .execute(&mut **tx)
                        .await?;
                    let limit = &limits[*i];
                    crate::audit::append(
                        tx,
                        "system",
                        &format!("throttle.{}", limit.name),
                        &limit.key,
                        &format!(
                            "{} at once, then one per {} ms",
                            limit.rate.burst(),
                            limit.rate.period().as_millis()
                        ),
                        now,
                    )
                    .await?;
                }
                let (i, retry_at) = refusals
                    .into_iter()
                    .max_by_key(|(_, at)| *at)
                    .expect("a refusal names at least one bucket");
                Ok(Err(Throttled {
                    limit: limits[i].name,
                    retry_at,
                }))
            }
        }
    }

    /// [`Store::charge_in`] in a transaction of its own.
    pub async fn charge(&self, limits: &[Limit], now: Timestamp) -> Result<Result<(), Throttled>> {
        let mut tx = self.write_tx().await?;
        let outcome = self.charge_in(&mut tx, limits, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Admits one attempt past each of `guards` (a username's, a client's), charging it as a
    /// failure in advance (see [`Backoff::admit`]); refused while any of them is closed, and
    /// then nothing is charged. A guard that closes is audited once.
    pub async fn admit_attempt(
        &self,
        guards: &[(&'static str, &str, Backoff)],
        now: Timestamp,
    ) -> Result<Result<(), Throttled>> {
        let ids: Vec<String> = guards
            .iter()
            .map(|(name, key, _)| bucket_id(name, key))
            .collect();
        let mut tx = self.write_tx().await?;
        self.lock_keys(&mut tx, ids.iter().map(|id| format!("guard:{id}")))
            .await?;
        let mut next = Vec::with_capacity(guards.len());
        let mut refused: Option<Throttled> = None;
        for ((name, _, backoff), id) in guards.iter().zip(&ids) {
            match backoff.admit(failures(&mut tx, id).await?, now) {
                Ok(state) => next.push(state),
                Err(retry_at) => {
                    if refused.as_ref().is_none_or(|r| r.retry_at < retry_at) {
                        refused = Some(Throttled {
                            limit: name,
                            retry_at,
                        });
                    }
                }
            }
        }
        if let Some(refused) = refused {
            tx.commit().await?;
            return Ok(Err(refused));
        }
        for (((name, key, backoff), id), state) in guards.iter().zip(&ids).zip(next) {
            save_failures(&mut tx, id, state).await?;
            // The failure that closes the door is the one to record.
            if backoff.wait_after(state.count) > jiff::SignedDuration::ZERO
                && backoff.wait_after(state.count - 1) == jiff::SignedDuration::ZERO
            {
                let detail = format!("{} failed attempts", state.count);
                crate::audit::append(
                    &mut tx,
                    "system",
                    &format!("guard.{name}"),
                    key,
                    &detail,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Gives back the advance charge of an admitted attempt that succeeded, on each of
    /// `guards`.
    pub async fn attempt_succeeded(&self, guards: &[(&'static str, &str, Backoff)]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let ids: Vec<String> = guards
            .iter()
            .map(|(name, key, _)| bucket_id(name, key))
            .collect();
        self.lock_keys(&mut tx, ids.iter().map(|id| format!("guard:{id}")))
            .await?;
        for ((_, _, backoff), id) in guards.iter().zip(&ids) {
            if let Some(state) = failures(&mut tx, id).await? {
                save_failures(&mut tx, id, backoff.succeeded(state)).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes buckets and guards that no longer hold anything back (their time has passed
    /// by more than `idle`); returns how many.
    pub async fn purge_throttles(&self, now: Timestamp, idle: jiff::SignedDuration) -> Result<u64> {
        let cutoff = now.checked_sub(idle).unwrap_or(now);
        let mut tx = self.write_tx().await?;
        let a = sqlx::query("DELETE FROM throttles WHERE tat_ms < $1")
            .bind(ms(cutoff))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let b = sqlx::query(
            "DELETE FROM login_guards WHERE last_failure_at < $1 AND blocked_until < $1",
        )
        .bind(ms(cutoff))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(a + b)
    }
}

async fn failures(tx: &mut Transaction<'static, Any>, id: &str) -> Result<Option<Failures>> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT failures, last_failure_at, blocked_until FROM login_guards WHERE bucket = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|(count, last, until)| {
        Ok(Failures {
            count: u32::try_from(count)
                .map_err(|_| crate::StoreError::Corrupt(format!("guard failures {count}")))?,
            last_at: from_ms(last)?,
            blocked_until: from_ms(until)?,
        })
    })
    .transpose()
}

async fn save_failures(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    state: Failures,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_guards (bucket, failures, last_failure_at, blocked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (bucket) DO UPDATE SET failures = excluded.failures, \
         last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until",
    )
    .bind(id)
    .bind(i64::from(state.count))
    .bind(ms(state.last_at))
    .bind(ms(state.blocked_until))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
