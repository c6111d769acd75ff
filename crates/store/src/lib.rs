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
//! - **Exact quotas.** Issuance reads the few earlier passes of a resident that the
//!   rules need and inserts the new one in one transaction that holds the
//!   resident's row lock (PostgreSQL `FOR UPDATE`) or the database write lock
//!   (SQLite), so concurrent requests cannot both see the last free slot. Passes are
//!   decided and signed before that transaction, and committed in batches
//!   (`issuance.rs`, `batch.rs`).
//! - **Sessions** are looked up in the database and kept in memory for 15 seconds; signing
//!   out forgets one at once on its node, and other nodes within those seconds.
//! - **Quarantine monitoring** (`monitoring`, `checkins`, `loaners`): location
//!   reports are stored idempotently and evaluated by the core in the same
//!   transaction; flags, decisions and their SMS commit together, each decision a
//!   replayed event of the flag's log; raw locations and photos are erased after
//!   retention.

mod audit;
mod audit_writer;
mod auth;
mod backup;
mod batch;
pub mod case_lists;
mod checkins;
mod devices;
mod issuance;
mod jobs;
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
mod session_cache;
mod sms_inbound;
mod throttle;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};

pub use audit::AuditEntry;
pub use auth::{
    NewStaff, OtpOutcome, OtpRequestOutcome, Role, Session, StaffCreated, StaffUser, OTP_TTL_SECS,
};
pub use backup::{inspect_backup, BackupReport};
pub use checkins::{
    AnswerOutcome, AskedFor, ChallengeKind, ChallengeRecord, CheckinAnswer, UnansweredAsk,
};
pub use devices::{CaseActivity, DeviceCase, DeviceLookup, SEEN_EVERY};
pub use issuance::IssuanceReads;
pub use jobs::OverdueLoaner;
pub use loaners::{Loaner, LoanerError, LoanerState, LoanerStep};
pub use location_days::{DayRetention, HOLD_LIMIT, MIN_RAW};
pub use monitoring::{
    Asking, CaseChange, CaseChangeError, CaseRecord, Device, DeviceKind, ExplainError, FlagRecord,
    FlagStepError, IngestOutcome, NewCase, OfficerStep, PatientStatement, SmsText,
};
pub use outbox::{Delivery, OutboxMessage, SentVia, SmsFailure, SmsKind, SmsStats};
pub use passes::{Actor, CancelOutcome, IssueError, IssueRequest, PassRecord};
pub use registry::{RegistryImporter, RegistryRow, RowOutcome};
pub use residents::{Profile, Resident, SmsIdentity};
pub use revocations::{RevocationPage, Revoked};
pub use seed::{SeedHolder, SeedPass};
pub use sms_inbound::{InboundOutcome, InboundSms, SmsAction, SmsEffect, SmsLimits};
pub use throttle::{Limit, Throttled};

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
    Db(sqlx::Error),
    /// The database cannot be reached or cannot take writes now (down, restarting, out of
    /// connections, its disk full): nothing was done, and the same request may succeed
    /// later. The server answers 503 with Retry-After.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database URL '{0}' is not supported (expected sqlite://PATH or postgres://…)")]
    UnsupportedUrl(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("the store is shutting down")]
    Closed,
    /// Asked of a backend or a file that cannot do it (e.g. an SQLite backup of PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Db(e)
        }
    }
}

/// Whether a database error says the database is out of reach or out of room, rather than
/// that the statement was wrong: a connection that failed or timed out, PostgreSQL shutting
/// down, starting up or out of connections or disk (SQLSTATE classes 08, 53, 57P), SQLite's
/// disk full or unable to write.
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            let code = code.as_ref();
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                // SQLite: SQLITE_FULL (13), SQLITE_IOERR (10) and its extended codes, and
                // SQLITE_CANTOPEN (14).
                || code == "13"
                || code == "14"
                || code.parse::<u32>().is_ok_and(|c| c & 0xFF == 10)
        }
        _ => false,
    }
}

/// The persistence API the server uses.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// On SQLite the single writer connection; on PostgreSQL the same pool.
    writer: AnyPool,
    issuer: batch::Issuer,
    /// Audit entries recorded on their own, committed in groups (`audit_writer.rs`).
    auditor: audit_writer::AuditWriter,
    /// Sessions looked up in the last few seconds (`session_cache.rs`).
    sessions: std::sync::Arc<session_cache::SessionCache>,
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
            // A request waits at most 3 s for a connection: while the database is down it
            // gets a fast 503, not a hang (a new connection is tried at each acquire, so
            // the pool heals by itself when the database is back).
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(3))
                .connect(url)
                .await?;
            (Backend::Postgres, pool.clone(), pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        migrate::run(backend, &writer).await?;
        let issuer = batch::Issuer::start(backend, writer.clone());
        let auditor = audit_writer::AuditWriter::start(backend, writer.clone());
        Ok(Self {
            backend,
            pool,
            writer,
            issuer,
            auditor,
            sessions: Default::default(),
            known_days: Default::default(),
            url: url.into(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers within `within` (for `/readyz`).
    pub async fn ping(&self, within: Duration) -> Result<()> {
        match tokio::time::timeout(within, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(done) => {
                done?;
                Ok(())
            }
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer within {} ms",
                within.as_millis()
            ))),
        }
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
            Backend::Sqlite => begin_sqlite_write(&self.writer).await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Makes a check-then-write on each of `keys` one atomic step across connections and
    /// nodes. On PostgreSQL: a transaction-scoped advisory lock on each key's 64-bit hash,
    /// taken in one order so that two transactions never wait for each other in a circle,
    /// and released at commit or rollback (a hash collision only makes two keys wait for
    /// each other). On SQLite the write transaction already holds the database's only write
    /// lock, so there is nothing more to take.
    pub(crate) async fn lock_keys(
        &self,
        tx: &mut Transaction<'static, Any>,
        keys: impl IntoIterator<Item = String>,
    ) -> Result<()> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let mut hashes: Vec<i64> = keys.into_iter().map(|k| key_hash(&k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        for hash in hashes {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(hash)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Closes the pools after the in-flight work is done.
    pub async fn close(&self) {
        self.issuer.stop().await;
        self.auditor.stop().await;
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Begins a transaction on SQLite's one writer connection.
///
/// A COMMIT that failed (the disk was full) leaves that connection inside its transaction
/// until sqlx's queued rollback runs, and a BEGIN on it meanwhile is refused; then the
/// connection is closed and the pool opens a fresh one, so that the writer recovers by
/// itself the moment the disk has room again.
pub(crate) async fn begin_sqlite_write(writer: &AnyPool) -> Result<Transaction<'static, Any>> {
    match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => Ok(tx),
        Err(e) if is_unavailable(&e) => Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "the SQLite writer was left inside a transaction; replacing it");
            writer.acquire().await?.close().await?;
            Ok(writer.begin_with("BEGIN IMMEDIATE").await?)
        }
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

/// A stored time (Unix seconds). One outside the range of times is a corrupt row, never
/// the epoch.
pub(crate) fn ts(secs: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_second(secs)
        .map_err(|e| StoreError::Corrupt(format!("a stored time of {secs} s: {e}")))
}

/// A stored time that may be absent (`NULL`); see [`ts`].
pub(crate) fn opt_ts(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<jiff::Timestamp>> {
    use sqlx::Row;
    row.try_get::<Option<i64>, _>(column)?.map(ts).transpose()
}

/// `t` as the store keeps it: in whole seconds.
pub(crate) fn whole_second(t: jiff::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.as_second()).expect("a timestamp's own seconds are in range")
}

/// The first 8 bytes of a key's SHA-256, as an advisory lock id.
fn key_hash(key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
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
