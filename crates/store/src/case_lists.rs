//! Reads the health officers' pages need and the monitoring API does not: the list of
//! cases (the API opens cases by id) and the names of the officers in a flag's history.

use std::collections::HashMap;

use jiff::Timestamp;
use sqlx::Row;

use crate::{secs, ts, Result, Store};

/// A case as a list row: who, which period, where it stands, and how many of its flags
/// wait for an officer. No home and no coordinates: a list needs none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub id: String,
    pub phone: String,
    pub full_name: String,
    pub status: propusk_core::monitoring::case::CaseStatus,
    pub time_zone: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub monitoring_since: Option<Timestamp>,
    /// Flags waiting for an officer: a first decision, an appeal, or their SMS.
    pub waiting_flags: i64,
    pub flags: i64,
}

impl Store {
    /// Cases newest first, all of them or those in one `status`, at most `limit`. The list
    /// shows names and phones, so the read is in the audit log.
    pub async fn case_summaries(
        &self,
        staff: &str,
        status: Option<&str>,
        limit: i64,
        now: Timestamp,
    ) -> Result<Vec<CaseSummary>> {
        let status = status.unwrap_or("");
        self.audit(staff, "monitoring.cases.list", "", status, now)
            .await?;
        let rows = sqlx::query(
            "SELECT c.id, c.phone, c.full_name, c.status, c.time_zone, c.starts_at, c.ends_at, \
             c.monitoring_since, \
             (SELECT COUNT(*) FROM monitoring_flags f WHERE f.case_id = c.id \
              AND f.state IN ('open', 'notified', 'appealed')) AS waiting_flags, \
             (SELECT COUNT(*) FROM monitoring_flags f WHERE f.case_id = c.id) AS flags \
             FROM monitoring_cases c WHERE ($1 = '' OR c.status = $1) \
             ORDER BY c.created_at DESC, c.id LIMIT $2",
        )
        .bind(status)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CaseSummary {
                    id: row.try_get("id")?,
                    phone: row.try_get("phone")?,
                    full_name: row.try_get("full_name")?,
                    status: crate::monitoring::case_status(row.try_get("status")?)?,
                    time_zone: row.try_get("time_zone")?,
                    starts_at: ts(row.try_get("starts_at")?)?,
                    ends_at: ts(row.try_get("ends_at")?)?,
                    monitoring_since: crate::opt_ts(row, "monitoring_since")?,
                    waiting_flags: row.try_get("waiting_flags")?,
                    flags: row.try_get("flags")?,
                })
            })
            .collect()
    }

    /// Ids and names of the cases still monitored at `now`: those a loaner phone can be lent to.
    pub async fn monitored_cases(&self, now: Timestamp) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, full_name FROM monitoring_cases WHERE status = 'active' AND ends_at > $1 \
             ORDER BY full_name, id LIMIT 1000",
        )
        .bind(secs(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Staff usernames by account id, so that a flag's history names the officers who
    /// decided instead of showing their ids.
    pub async fn staff_names(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, username FROM staff")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }
}
