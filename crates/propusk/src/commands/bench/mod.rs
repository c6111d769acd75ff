//! `propusk bench`: measurements of the service through its real HTTP API, against a
//! server started in this process (or, for `issue`, one already running).
//!
//! - `propusk bench issue` ([`issue`]): pass issuance, `POST /api/v1/passes`.
//! - `propusk bench ingest` ([`ingest`]): location reports from enrolled devices,
//!   `POST /api/v1/device/locations`.
//!
//! Benchmarks are not tests: the figures go into `docs/performance.md` with the
//! command that produced them.

mod ingest;
mod issue;

use std::time::Duration;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Pass issuance over HTTP (POST /api/v1/passes) with durable commits.
    Issue(issue::IssueArgs),
    /// Location reports over HTTP (POST /api/v1/device/locations) from many enrolled
    /// devices, evaluated and committed durably.
    Ingest(ingest::IngestArgs),
}

pub async fn run(args: BenchArgs) -> Result<()> {
    if std::env::var_os("PROPUSK_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("PROPUSK_LOG"))
            .with_writer(std::io::stderr)
            .try_init();
    }
    match args.command {
        BenchCommand::Issue(args) => issue::issue(args).await,
        BenchCommand::Ingest(args) => ingest::ingest(args).await,
    }
}

/// CPU time used by this process (user + system), from /proc (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux configuration we run on.
    Some(Duration::from_millis(ticks * 10))
}

/// (busy, total) jiffies over all CPUs, from /proc/stat.
fn system_cpu() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4)?;
    Some((total - idle, total))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The `p` quantile of latencies in microseconds, in milliseconds.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// `SELECT COUNT(*)`-style query on a fresh connection (the pools are closed by then).
async fn count(url: &str, sql: &str) -> Result<i64> {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&mut conn).await?;
    sqlx::Connection::close(conn).await?;
    Ok(n)
}
