//! Location reports kept by day, and erased a whole day at a time.
//!
//! At city size (70,000 patients, a report every five minutes) `location_fixes` grows by
//! about 20 million rows a day, and the raw positions must not outlive their retention.
//! Deleting them row by row would cost as much as writing them, so:
//!
//! - **PostgreSQL** partitions the table by the UTC day of the report (`ts`), one partition
//!   `location_fixes_pYYYYMMDD` per day (migration 0007). Partitions are made ahead of need
//!   — the days around now on every retention run, and any other day a batch of reports
//!   touches before it is stored — under an advisory lock, since two nodes may try at once.
//!   Retention detaches an old day's partition concurrently (ingest never waits on it) and
//!   drops it: one catalogue change, however many rows.
//! - **SQLite** has no partitions: retention deletes the old rows through the index on
//!   `ts` in batches, each its own write transaction, sized so that none holds the writer
//!   longer than [`SQLITE_HOLD_TARGET`] (well under the 50 ms the issue allows): the batch
//!   halves when one took longer and doubles when one took less than half as long.
//!
//! What is erased: reports of days that ended at least the retention period ago — and never
//! less than [`MIN_RAW`] ago, because reports may arrive two days late and evaluating them
//! reads the hour before them. A closed case's reports of its last day are erased with the
//! rest of its data by [`Store::purge_monitoring`], so its retention promise (erased the
//! retention period after it closed) holds to the second.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::{Backend, Result, Store, StoreError};

const DAY_SECS: i64 = 86_400;

/// The least time raw reports are kept, whatever the retention: reports may arrive 48 hours
/// late, their evaluation reads an hour before them, and days are erased whole.
pub const MIN_RAW: SignedDuration = SignedDuration::from_hours(72);

/// How long one SQLite deletion batch aims to hold the writer: well under [`HOLD_LIMIT`].
pub const SQLITE_HOLD_TARGET: Duration = Duration::from_millis(20);

/// Rows in the first SQLite deletion batch; later ones adapt to [`SQLITE_HOLD_TARGET`].
const SQLITE_FIRST_BATCH: i64 = 500;
const SQLITE_MAX_BATCH: i64 = 100_000;

/// An arbitrary constant naming the lock under which partitions are made and dropped.
const PG_PARTITION_LOCK: i64 = 0x0070_726f_7066_6978;

/// The day partitions known to exist (PostgreSQL), so that ingest asks the catalogue only
/// for days it has not seen.
#[derive(Clone, Default)]
pub(crate) struct KnownDays(Arc<Mutex<BTreeSet<i64>>>);

impl KnownDays {
    fn missing(&self, days: &BTreeSet<i64>) -> Vec<i64> {
        let known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        days.difference(&known).copied().collect()
    }

    fn add(&self, days: &[i64]) {
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        known.extend(days);
    }

    fn remove(&self, day: i64) {
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        known.remove(&day);
    }
}

/// What a retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayRetention {
    /// Reports older than this were erased.
    pub erased_before: Option<Timestamp>,
    /// Day partitions dropped (PostgreSQL).
    pub partitions_dropped: u32,
    /// Rows deleted (SQLite), in how many batches, the longest any batch held the writer,
    /// and how many held it longer than [`HOLD_LIMIT`] (the commit's fsync and a WAL
    /// checkpoint after it count: a stalled disk shows here).
    pub rows_deleted: u64,
    pub batches: u32,
    pub longest_hold: Duration,
    pub holds_over_limit: u32,
}

/// The longest a retention batch should hold SQLite's writer.
pub const HOLD_LIMIT: Duration = Duration::from_millis(50);

/// The UTC day (days since 1970-01-01) a Unix time falls on.
pub(crate) fn day_of(secs: i64) -> i64 {
    secs.div_euclid(DAY_SECS)
}

fn partition_name(day: i64) -> Result<String> {
    let start = Timestamp::from_second(day * DAY_SECS)
        .map_err(|e| StoreError::Corrupt(format!("report day {day}: {e}")))?;
    Ok(format!("location_fixes_p{}", start.strftime("%Y%m%d")))
}

/// The day a partition name stands for, if it is one of ours.
fn partition_day(name: &str) -> Option<i64> {
    let date = name.strip_prefix("location_fixes_p")?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date: jiff::civil::Date = format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..])
        .parse()
        .ok()?;
    let start = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(day_of(start.as_second()))
}

impl Store {
    /// Makes sure every day in `days` has its partition (PostgreSQL; SQLite needs none).
    pub(crate) async fn ensure_fix_days(&self, days: BTreeSet<i64>) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let missing = self.known_days.missing(&days);
        if missing.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_PARTITION_LOCK)
            .execute(&mut *tx)
            .await?;
        for &day in &missing {
            // Made ahead by the retention run, so ingest rarely gets here; when it does, the
            // brief lock on the parent table waits for batches in flight, never the reverse
            // for long.
            sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF location_fixes FOR VALUES FROM ({}) TO ({})",
                partition_name(day)?,
                day * DAY_SECS,
                (day + 1) * DAY_SECS
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.known_days.add(&missing);
        Ok(())
    }

    /// Erases the location reports of every UTC day that ended `retention` (at least
    /// [`MIN_RAW`]) before `now`, a whole day at a time, and on PostgreSQL makes the
    /// partitions of the days around now. Runs on every node's periodic job; two at once are
    /// harmless.
    pub async fn retain_location_days(
        &self,
        now: Timestamp,
        retention: SignedDuration,
    ) -> Result<DayRetention> {
        let keep = retention.max(MIN_RAW);
        let today = day_of(now.as_second());
        let horizon_day = day_of(now.as_second() - keep.as_secs());
        let horizon = Timestamp::from_second(horizon_day * DAY_SECS)
            .map_err(|e| StoreError::Corrupt(format!("retention horizon: {e}")))?;
        let mut done = match self.backend {
            Backend::Postgres => {
                self.ensure_fix_days((today - 1..=today + 1).collect())
                    .await?;
                self.drop_days_before(horizon_day).await?
            }
            Backend::Sqlite => self.delete_fixes_before(horizon.as_second()).await?,
        };
        done.erased_before = Some(horizon);
        Ok(done)
    }

    /// Detaches and drops every day partition before `horizon_day` (PostgreSQL), and any
    /// day table an interrupted run left detached.
    async fn drop_days_before(&self, horizon_day: i64) -> Result<DayRetention> {
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT relname::text FROM pg_class WHERE relkind = 'r' \
             AND relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'location_fixes'::regclass) \
             AND relname LIKE 'location\\_fixes\\_p%' ORDER BY relname",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut done = DayRetention::default();
        for (name,) in tables {
            let Some(day) = partition_day(&name).filter(|d| *d < horizon_day) else {
                continue;
            };
            let mut conn = self.pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(PG_PARTITION_LOCK)
                .execute(&mut *conn)
                .await?;
            let result = detach_and_drop(&mut conn, &name).await;
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(PG_PARTITION_LOCK)
                .execute(&mut *conn)
                .await?;
            if result? {
                done.partitions_dropped += 1;
            }
            self.known_days.remove(day);
        }
        Ok(done)
    }

    /// Deletes the reports older than `before` (SQLite) in batches that each hold the writer
    /// about [`SQLITE_HOLD_TARGET`].
    async fn delete_fixes_before(&self, before: i64) -> Result<DayRetention> {
        let mut done = DayRetention::default();
        let mut batch = SQLITE_FIRST_BATCH;
        loop {
            let (deleted, held) = self
                .delete_batch(
                    "DELETE FROM location_fixes WHERE rowid IN \
                     (SELECT rowid FROM location_fixes WHERE ts < $1 ORDER BY ts LIMIT $2)",
                    before,
                    batch,
                )
                .await?;
            if deleted > 0 {
                done.rows_deleted += deleted;
                done.batches += 1;
                done.longest_hold = done.longest_hold.max(held);
                done.holds_over_limit += u32::from(held > HOLD_LIMIT);
            }
            if (deleted as i64) < batch {
                return Ok(done);
            }
            batch = if held > SQLITE_HOLD_TARGET {
                (batch / 2).max(100)
            } else if held < SQLITE_HOLD_TARGET / 2 {
                (batch * 2).min(SQLITE_MAX_BATCH)
            } else {
                batch
            };
        }
    }
}

/// Detaches one day table without blocking ingest (or finishes a detach an earlier run left
/// pending) and drops it. Returns whether it was still there (another node may have
/// dropped it first). The caller holds the partition lock.
async fn detach_and_drop(conn: &mut sqlx::AnyConnection, name: &str) -> Result<bool> {
    let exists: Option<(i64,)> =
        sqlx::query_as("SELECT 1::bigint WHERE to_regclass($1) IS NOT NULL")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let attached: Option<(bool,)> = sqlx::query_as(
        "SELECT inhdetachpending FROM pg_inherits \
         WHERE inhrelid = to_regclass($1) AND inhparent = 'location_fixes'::regclass",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    // Outside a transaction: a concurrent detach may not run inside one.
    match attached {
        Some((false,)) => {
            sqlx::query(&format!(
                "ALTER TABLE location_fixes DETACH PARTITION {name} CONCURRENTLY"
            ))
            .execute(&mut *conn)
            .await?;
        }
        Some((true,)) => {
            sqlx::query(&format!(
                "ALTER TABLE location_fixes DETACH PARTITION {name} FINALIZE"
            ))
            .execute(&mut *conn)
            .await?;
        }
        None => {}
    }
    sqlx::query(&format!("DROP TABLE {name}"))
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_and_days_round_trip() {
        let day = day_of(1_586_908_800); // 2020-04-15T00:00:00Z
        assert_eq!(partition_name(day).unwrap(), "location_fixes_p20200415");
        assert_eq!(partition_day("location_fixes_p20200415"), Some(day));
        assert_eq!(day_of(1_586_908_799), day - 1);
        for other in [
            "location_fixes_p2020041",
            "location_fixes_p20201341",
            "x_p20200415",
        ] {
            assert_eq!(partition_day(other), None, "{other}");
        }
    }
}
