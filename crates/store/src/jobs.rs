//! Periodic jobs shared by every node on one database: who runs which period, and the
//! loaner reminders.
//!
//! A job's period is a number (the Unix time divided by the job's interval). A node runs a
//! period only if it moved the job's recorded period forward, in one conditional statement
//! — so however many nodes tick at once, one of them runs each period, and a node whose
//! clock lags cannot run a period again. A node that dies mid-run loses that period; the
//! next one catches up (every job here looks at the whole state, not at what happened since
//! its last run).

use jiff::Timestamp;

use crate::outbox::{self, SmsKind};
use crate::{secs, Result, Store};

/// A loaner phone past its due date, as its reminder needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueLoaner {
    pub serial: String,
    pub due_at: Timestamp,
    /// The case's language (`ru`, `en`) and clocks.
    pub lang: String,
    pub time_zone: String,
}

/// How often an overdue phone's patient is reminded: once a day.
const REMIND_EVERY_SECS: i64 = 24 * 3600;

impl Store {
    /// Claims `period` of job `name` for `node`: true for exactly one caller per period,
    /// across every node on this database.
    pub async fn claim_job_period(
        &self,
        name: &str,
        period: i64,
        node: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let claimed = sqlx::query(
            "INSERT INTO job_runs (name, period, node, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET period = excluded.period, node = excluded.node, \
             started_at = excluded.started_at WHERE job_runs.period < excluded.period",
        )
        .bind(name)
        .bind(period)
        .bind(node)
        .bind(secs(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(claimed == 1)
    }

    /// The node that ran the latest period of `name`, and that period.
    pub async fn last_job_run(&self, name: &str) -> Result<Option<(i64, String)>> {
        Ok(
            sqlx::query_as("SELECT period, node FROM job_runs WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Queues a reminder to the patient of every phone on loan past its due date, at most
    /// once a day per phone (the text is `text`'s for the case's language and clocks);
    /// returns how many were queued.
    pub async fn remind_overdue_loaners(
        &self,
        now: Timestamp,
        text: &(dyn Fn(&OverdueLoaner) -> String + Sync),
    ) -> Result<u32> {
        let now_s = secs(now);
        let mut tx = self.write_tx().await?;
        let due: Vec<(String, i64, String, String, String)> = sqlx::query_as(
            "SELECT l.serial, l.due_at, c.phone, c.lang, c.time_zone FROM monitoring_loaners l \
             JOIN monitoring_cases c ON c.id = l.case_id \
             WHERE l.state = 'on_loan' AND l.due_at < $1 \
             AND (l.reminded_at IS NULL OR l.reminded_at <= $2)",
        )
        .bind(now_s)
        .bind(now_s - REMIND_EVERY_SECS)
        .fetch_all(&mut *tx)
        .await?;
        for (serial, due_at, phone, lang, time_zone) in &due {
            let loaner = OverdueLoaner {
                serial: serial.clone(),
                due_at: crate::ts(*due_at)?,
                lang: lang.clone(),
                time_zone: time_zone.clone(),
            };
            let key = format!("loaner-overdue:{serial}:{}", now_s / REMIND_EVERY_SECS);
            outbox::enqueue(&mut tx, &key, phone, &text(&loaner), SmsKind::Notice, now).await?;
            sqlx::query("UPDATE monitoring_loaners SET reminded_at = $1 WHERE serial = $2")
                .bind(now_s)
                .bind(serial)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(due.len() as u32)
    }
}
