//! The periodic jobs: each runs once per period however many nodes are up.
//!
//! Every node ticks every few seconds and asks the store for the current period of each job
//! ([`propusk_store::Store::claim_job_period`]: one conditional statement); the one node
//! whose claim moves the period forward runs it. Periods come from the service's clock, so
//! a test that moves the clock forward gets the jobs of the new period on the next tick.
//!
//! The SMS outbox is not a periodic job: every node's worker claims messages row by row.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::SignedDuration;
use propusk_store::OverdueLoaner;
use tokio::sync::watch;

use crate::state::AppState;

/// The periodic jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Monitored cases: silence (no signal), check-ins drawn for the day, missed check-ins.
    Sweep,
    /// Raw data of cases closed longer ago than the retention period, erased.
    Purge,
    /// Patients whose loaner phone is overdue, reminded (once a day each).
    LoanerReminders,
    /// Rate-limit buckets that hold nothing back any more, deleted.
    ThrottlePurge,
    /// Revocations of passes long ended leave the table (they are no longer listed).
    RevocationPurge,
}

impl Job {
    pub const ALL: [Job; 5] = [
        Job::Sweep,
        Job::Purge,
        Job::LoanerReminders,
        Job::ThrottlePurge,
        Job::RevocationPurge,
    ];

    /// The name its periods are recorded under.
    pub fn name(self) -> &'static str {
        match self {
            Job::Sweep => "monitoring.sweep",
            Job::Purge => "monitoring.purge",
            Job::LoanerReminders => "loaners.overdue",
            Job::ThrottlePurge => "throttles.purge",
            Job::RevocationPurge => "revocations.purge",
        }
    }

    /// How long one period is. A `no_signal` flag needs two hours of silence, so a minute's
    /// delay in the sweep noticing it is nothing.
    pub fn every(self) -> SignedDuration {
        match self {
            Job::Sweep => SignedDuration::from_mins(1),
            // Small batches each minute keep the revocation table the size of the live list.
            Job::RevocationPurge => SignedDuration::from_mins(1),
            Job::Purge | Job::LoanerReminders | Job::ThrottlePurge => SignedDuration::from_hours(1),
        }
    }

    async fn run(self, state: &AppState) -> propusk_store::Result<()> {
        match self {
            Job::Sweep => {
                crate::monitoring::sweep(state).await?;
            }
            Job::Purge => {
                crate::monitoring::purge(state).await?;
            }
            Job::LoanerReminders => {
                let reminded = state
                    .store
                    .remind_overdue_loaners(state.clock.now(), &loaner_text)
                    .await?;
                if reminded > 0 {
                    tracing::info!(reminded, "patients reminded to return loaner phones");
                    state.outbox_wakeup.notify_one();
                }
            }
            Job::ThrottlePurge => {
                state
                    .store
                    .purge_throttles(state.clock.now(), SignedDuration::from_hours(24))
                    .await?;
            }
            Job::RevocationPurge => {
                state
                    .store
                    .forget_ended_revocations(state.clock.now())
                    .await?;
            }
        }
        Ok(())
    }
}

/// How often a node looks for a due period.
const TICK: Duration = Duration::from_secs(5);

/// Runs, on this node, every job whose current period no other node has claimed; returns the
/// jobs it ran. A job's failure is logged and does not stop the others.
pub async fn run_due(state: &AppState) -> Vec<Job> {
    let now = state.clock.now();
    let mut ran = Vec::new();
    for job in Job::ALL {
        let period = now.as_second().div_euclid(job.every().as_secs());
        match state
            .store
            .claim_job_period(job.name(), period, &state.node, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(job = job.name(), error = %e, "cannot claim a job's period");
                continue;
            }
        }
        if let Err(e) = job.run(state).await {
            tracing::warn!(job = job.name(), error = %e, "periodic job failed");
        }
        ran.push(job);
    }
    ran
}

fn loaner_text(loaner: &OverdueLoaner) -> String {
    let tz = TimeZone::get(&loaner.time_zone).unwrap_or(TimeZone::UTC);
    let lang = propusk_sms::Lang::parse(&loaner.lang).unwrap_or_default();
    propusk_sms::monitoring::loaner_overdue(lang, &tz, loaner.due_at)
}

/// Ticks until `stop`, running the jobs due.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            run_due(&state).await;
        }
    })
}
