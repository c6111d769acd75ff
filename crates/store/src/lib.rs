//! # propusk-store: persistence behind one API
//!
//! One [`Store`] over two backends: SQLite, the embedded default (`propusk serve`
//! with no setup), and PostgreSQL, for a city. The server never names a backend;
//! the same test suite runs on both.
//!
//! Both speak through sqlx's `Any` driver with the same SQL (`$1` placeholders
//! work on both; times are Unix seconds, ids UUID text), so each query is written
//! once. Where the backends differ it is said in one place:
//!
//! - **Write transactions.** SQLite allows one writer: every write goes through a
//!   one-connection write pool and starts with `BEGIN IMMEDIATE`, so writers queue
//!   in the pool instead of spinning in SQLite's busy handler, and reads never
//!   block on them (WAL). PostgreSQL uses one pool and row locks.
//! - **Durability.** SQLite runs in WAL mode with `synchronous = FULL`: a commit
//!   is on disk when it returns. Nothing is acknowledged before its commit.
//! - **Exact quotas.** Issuance reads a resident's prior passes and inserts the new
//!   one in one transaction that holds the resident's row lock (PostgreSQL
//!   `FOR UPDATE`) or the database write lock (SQLite), so concurrent requests
//!   cannot both see the last free slot.
//! - **Quarantine monitoring** (`monitoring`, `checkins`, `loaners`): location
//!   reports are stored idempotently and evaluated by the core in the same
//!   transaction; flags, decisions and their SMS commit together, each decision a
//!   replayed event of the flag's log; raw locations and photos are erased after
//!   retention.

mod audit;
mod auth;
mod batch;
pub mod case_lists;
mod checkins;
mod loaners;
mod location_days;
mod migrate;
mod monitoring;
mod outbox;
mod passes;
mod regimes;
mod registry;
mod residents;
mod revocations;
mod seed;
mod sms_inbound;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

pub use audit::AuditEntry;
pub use auth::{OtpOutcome, OtpRequestOutcome, Role, Session, StaffUser, OTP_TTL_SECS};
pub use checkins::{AnswerOutcome, ChallengeRecord};
pub use loaners::{Loaner, LoanerError};
pub use location_days::{DayRetention, HOLD_LIMIT, MIN_RAW};
pub use monitoring::{
    CaseChange, CaseChangeError, CaseRecord, Device, FlagRecord, FlagStepError, IngestOutcome,
    NewCase, OfficerStep, SmsText,
};
pub use outbox::{Delivery, OutboxMessage, SentVia, SmsFailure, SmsKind, SmsStats};
pub use passes::{Actor, CancelOutcome, IssueError, IssueRequest, PassRecord};
pub use registry::{RegistryImporter, RegistryRow, RowOutcome};
pub use residents::{Profile, Resident, SmsIdentity};
pub use revocations::{RevocationPage, Revoked};
pub use seed::{SeedHolder, SeedPass};
pub use sms_inbound::{InboundOutcome, InboundSms, SmsAction, SmsEffect, SmsLimits};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store failure that is not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database URL '{0}' is not supported (expected sqlite://PATH or postgres://…)")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The persistence API the server uses.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// On SQLite the single writer connection; on PostgreSQL the same pool.
    writer: AnyPool,
    issuer: batch::Issuer,
    /// The day partitions of location reports known to exist (PostgreSQL).
    known_days: location_days::KnownDays,
    /// The database URL, for connections of their own (the registry import's `COPY`).
    url: std::sync::Arc<str>,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` — created if missing — or
    /// `postgres://…` — an existing database) and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, pool, writer) = if url.starts_with("sqlite:") {
            let url = if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            };
            let writer = sqlite_pool(1).connect(&url).await?;
            // The writer made the file and switched it to WAL before readers open it.
            let pool = sqlite_pool(8).connect(&url).await?;
            (Backend::Sqlite, pool, writer)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            (Backend::Postgres, pool.clone(), pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        migrate::run(backend, &writer).await?;
        let issuer = batch::Issuer::start(backend, writer.clone());
        Ok(Self {
            backend,
            pool,
            writer,
            issuer,
            known_days: Default::default(),
            url: url.into(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The database's size in bytes: on SQLite the file's, after a checkpoint has moved the
    /// write-ahead log into it; on PostgreSQL the database's. (For benchmarks' growth
    /// figures.)
    pub async fn database_size(&self) -> Result<u64> {
        let bytes: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&self.writer)
                    .await?;
                sqlx::query_as::<_, (i64,)>(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(&self.writer)
                .await?
                .0
            }
            Backend::Postgres => {
                sqlx::query_as::<_, (i64,)>("SELECT pg_database_size(current_database())")
                    .fetch_one(&self.pool)
                    .await?
                    .0
            }
        };
        Ok(bytes.max(0) as u64)
    }

    /// Runs one bounded `DELETE` (`$1` its bound, `$2` its most rows) in a write transaction
    /// of its own; returns the rows deleted and how long the writer was held.
    pub(crate) async fn delete_batch(
        &self,
        sql: &str,
        bound: i64,
        limit: i64,
    ) -> Result<(u64, Duration)> {
        let mut tx = self.write_tx().await?;
        let held = std::time::Instant::now();
        let deleted = sqlx::query(sql)
            .bind(bound)
            .bind(limit)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((deleted, held.elapsed()))
    }

    /// Starts a write transaction (see the crate docs for why SQLite's is IMMEDIATE).
    async fn write_tx(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Closes the pools after the in-flight work is done.
    pub async fn close(&self) {
        self.issuer.stop().await;
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// SQLite connections with the settings the store depends on (the Any driver
/// takes only a URL, so they are set on each new connection): WAL, so readers do
/// not wait for the writer; `synchronous = FULL`, so a commit is durable when it
/// returns; foreign keys; a busy timeout for the rare wait on a checkpoint; and
/// `secure_delete`, so erased rows (quarantine locations and photos past retention)
/// are overwritten in the file, not just unlinked from it.
fn sqlite_pool(size: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA secure_delete = ON;",
                )
                .await?;
                Ok(())
            })
        })
}

/// `($1,$2,…),(…)` for a multi-row `VALUES` of `rows` rows of `columns` parameters each,
/// numbered from `$1` row by row.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ",(" });
        for c in 1..=columns {
            if c > 1 {
                out.push(',');
            }
            out.push('$');
            out.push_str(&(r * columns + c).to_string());
        }
        out.push(')');
    }
    out
}

/// The current time in Unix seconds as the store records it.
pub(crate) fn secs(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

pub(crate) fn ts(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_row_by_row() {
        assert_eq!(super::placeholders(2, 3), "($1,$2,$3),($4,$5,$6)");
        assert_eq!(super::placeholders(1, 1), "($1)");
    }
}
