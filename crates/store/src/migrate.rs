//! Schema migrations, one list per backend, applied in order and recorded in
//! `schema_migrations`. On PostgreSQL an advisory lock keeps two nodes starting
//! at once from migrating twice.

use sqlx::AnyPool;

use crate::{Backend, Result};

const SQLITE: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        "0002_sms",
        include_str!("../migrations/sqlite/0002_sms.sql"),
    ),
    (
        "0003_monitoring",
        include_str!("../migrations/sqlite/0003_monitoring.sql"),
    ),
    (
        "0004_case_lang",
        include_str!("../migrations/sqlite/0004_case_lang.sql"),
    ),
    (
        "0005_limits",
        include_str!("../migrations/sqlite/0005_limits.sql"),
    ),
    (
        "0006_monitoring_app",
        include_str!("../migrations/sqlite/0006_monitoring_app.sql"),
    ),
    (
        "0007_city_size",
        include_str!("../migrations/sqlite/0007_city_size.sql"),
    ),
    (
        "0008_pass_reads",
        include_str!("../migrations/sqlite/0008_pass_reads.sql"),
    ),
    (
        "0010_flag_statements",
        include_str!("../migrations/sqlite/0010_flag_statements.sql"),
    ),
];
const POSTGRES: &[(&str, &str)] = &[
    (
        "0001_init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        "0002_sms",
        include_str!("../migrations/postgres/0002_sms.sql"),
    ),
    (
        "0003_monitoring",
        include_str!("../migrations/postgres/0003_monitoring.sql"),
    ),
    (
        "0004_case_lang",
        include_str!("../migrations/postgres/0004_case_lang.sql"),
    ),
    (
        "0005_limits",
        include_str!("../migrations/postgres/0005_limits.sql"),
    ),
    (
        "0006_monitoring_app",
        include_str!("../migrations/postgres/0006_monitoring_app.sql"),
    ),
    (
        "0007_city_size",
        include_str!("../migrations/postgres/0007_city_size.sql"),
    ),
    (
        "0008_pass_reads",
        include_str!("../migrations/postgres/0008_pass_reads.sql"),
    ),
    (
        "0009_fixes_unreferenced",
        include_str!("../migrations/postgres/0009_fixes_unreferenced.sql"),
    ),
    (
        "0010_flag_statements",
        include_str!("../migrations/postgres/0010_flag_statements.sql"),
    ),
];

/// An arbitrary constant naming propusk's migration lock.
const PG_LOCK: i64 = 0x0070_726f_7075_736b;

pub async fn run(backend: Backend, pool: &AnyPool) -> Result<()> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply(backend, &mut conn).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply(backend: Backend, conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *conn)
        .await?;
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    for (version, sql) in migrations {
        let done: Option<(String,)> =
            sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *conn)
                .await?;
        if done.is_some() {
            continue;
        }
        tracing::info!(version, "applying migration");
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(jiff::Timestamp::now().as_second())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
