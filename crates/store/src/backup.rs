//! Online backups of the embedded SQLite database, and checking a backup before it is
//! restored.
//!
//! `VACUUM INTO` copies the database as one read transaction sees it: a consistent snapshot
//! taken while the service goes on writing (WAL readers never block the writer), written
//! compact and ready to open. PostgreSQL is backed up with its own tools — a base backup
//! and WAL archiving, see docs/deploy.md — which this store does not replace.

use std::path::Path;

use sqlx::{AnyConnection, Connection};

use crate::{Backend, Result, Store, StoreError};

/// What a backup holds, for the operator to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// SQLite's check of every page and index: `ok`, or what is wrong.
    pub integrity: String,
    /// The schema migrations it has, in order.
    pub migrations: Vec<String>,
    pub residents: i64,
    pub passes: i64,
    pub revocations: i64,
    pub cases: i64,
    pub bytes: u64,
}

impl Store {
    /// Writes a consistent copy of the database to `to`, which must not exist yet, and
    /// reports what it holds.
    pub async fn backup_to(&self, to: &Path) -> Result<BackupReport> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Unsupported(
                "backups of PostgreSQL are made with pg_basebackup and WAL archiving (docs/deploy.md)"
                    .into(),
            ));
        }
        if to.exists() {
            return Err(StoreError::Unsupported(format!(
                "{} exists already; a backup never overwrites a file",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::Unsupported(format!("{} is not UTF-8", to.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        inspect_backup(to).await
    }
}

/// Opens a backup read-only (changing nothing) and reports what it holds.
pub async fn inspect_backup(path: &Path) -> Result<BackupReport> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| StoreError::Unsupported(format!("cannot read {}: {e}", path.display())))?
        .len();
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    let integrity: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    let integrity = integrity
        .into_iter()
        .map(|(line,)| line)
        .collect::<Vec<_>>()
        .join("; ");
    let migrations: Vec<(String,)> =
        sqlx::query_as("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| {
                StoreError::Unsupported(format!(
                    "{} is not a propusk database (no schema_migrations: {e})",
                    path.display()
                ))
            })?;
    let mut counts = Vec::new();
    for table in ["residents", "passes", "revocations", "monitoring_cases"] {
        let query = format!("SELECT COUNT(*) FROM {table}");
        let (n,): (i64,) = sqlx::query_as(&query).fetch_one(&mut conn).await?;
        counts.push(n);
    }
    conn.close().await?;
    Ok(BackupReport {
        integrity,
        migrations: migrations.into_iter().map(|(v,)| v).collect(),
        residents: counts[0],
        passes: counts[1],
        revocations: counts[2],
        cases: counts[3],
        bytes,
    })
}
