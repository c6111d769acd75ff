//! `propusk bench`: measurements of the service through its real HTTP API, against a
//! server started in this process (or, for `issue`, one already running).
//!
//! - `propusk bench issue` ([`issue`]): pass issuance, `POST /api/v1/passes`.
//! - `propusk bench ingest` ([`ingest`]): location reports from enrolled devices,
//!   `POST /api/v1/device/locations`.
//! - `propusk bench overload` ([`overload`]): issuance past capacity.
//! - `propusk bench verify` ([`verify`]): offline token verification as `propusk verify -`
//!   does it, one by one against in batches, and with `--jobs`.
//!   `POST /api/v1/device/locations`; with `--city-day` ([`city_day`]) a day at city
//!   size, open loop, with the day's retention.
//! - `propusk bench revocations` ([`revocations`]): the revocation list's first and delta
//!   sync, `GET /api/v1/revocations`, in bytes and seconds.
//! - `propusk bench city` ([`city`]): issuance, verification by short code and memory
//!   with a city's data loaded, issuance compared with an empty database in the same run.
//! - `propusk bench seed` ([`seed`]): not a measurement but the city-size database the
//!   others run on (synthetic residents, passes and revocations), or a registry CSV.
//!
//! Benchmarks are not tests: the figures go into `docs/performance.md` with the
//! command that produced them.

mod city;
mod city_day;
mod ingest;
mod issue;
mod overload;
mod revocations;
mod seed;
mod verify;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::scratch_db::{redact, ScratchDb};

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
    /// Pass issuance past capacity: peak goodput, then twice the capacity offered; the
    /// latency of accepted work, the goodput, how fast the excess gets 503, the probes.
    Overload(overload::OverloadArgs),
    /// Offline token verification (`propusk verify -`): one by one against in batches of
    /// 64, side by side, and on every core.
    Verify(verify::VerifyBenchArgs),
    /// A city's database for the other benchmarks: synthetic residents through the registry
    /// import, then signed passes and revocations (or the registry as CSV, with --csv).
    Seed(seed::SeedArgs),
    /// The revocation list an inspector's phone syncs after a city's day (900,000 live
    /// revocations by default): a first sync and a delta sync, bytes and seconds, JSON and
    /// compact, with and without gzip.
    Revocations(revocations::RevocationsArgs),
    /// The service with a city loaded (by `bench seed`): issuance against the same on an
    /// empty database in the same run, verification by short code, memory, database size.
    City(city::CityArgs),
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
        BenchCommand::Overload(args) => overload::overload(args).await,
        BenchCommand::Verify(args) => verify::verify_bench(args),
        BenchCommand::Seed(args) => seed::seed(args).await,
        BenchCommand::Revocations(args) => revocations::revocations(args).await,
        BenchCommand::City(args) => city::city(args).await,
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

/// Removes the benchmark's database, or with `keep` prints where it stays, whether the run
/// succeeded or not; then returns the run's result (or the removal's error after a run
/// that succeeded).
async fn finish(database: ScratchDb, keep: bool, result: Result<()>) -> Result<()> {
    if keep {
        println!("  database kept: {}", redact(database.url()));
    } else if let Err(e) = database.remove().await {
        if result.is_ok() {
            return Err(e);
        }
        eprintln!("warning: cannot remove the benchmark database: {e:#}");
    }
    result
}

/// The report's first lines: its title, the command, date, machine and build.
fn print_header(title: &str) {
    println!("{title}");
    println!(
        "  command:     {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "  date:        {}",
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC")
    );
    println!(
        "  machine:     {} CPUs, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!(
        "  build:       {}",
        if cfg!(debug_assertions) {
            "DEBUG (figures are meaningless; use --release)"
        } else {
            "release"
        }
    );
}

/// CPU counters at one moment: this process's and the whole machine's.
struct CpuSample {
    process: Option<Duration>,
    system: Option<(u64, u64)>,
}

impl CpuSample {
    fn now() -> Self {
        Self {
            process: process_cpu(),
            system: system_cpu(),
        }
    }
}

/// The `cpu:` lines between two samples over `secs` seconds; `per` is what follows the
/// share of one core (the cost per unit of work, or nothing).
fn print_cpu(before: &CpuSample, after: &CpuSample, secs: f64, per: impl Fn(f64) -> String) {
    if let (Some(a), Some(b)) = (before.process, after.process) {
        let used = (b - a).as_secs_f64();
        println!(
            "  cpu:         this process {:.2} CPU-s ({:.0}% of one core){}",
            used,
            100.0 * used / secs,
            per(used)
        );
    }
    if let (Some((b0, t0)), Some((b1, t1))) = (before.system, after.system) {
        if t1 > t0 {
            println!(
                "               whole machine {:.0}% busy",
                100.0 * (b1 - b0) as f64 / (t1 - t0) as f64
            );
        }
    }
}

/// `p50 …  p90 …  p99 …  max …` in milliseconds, of latencies in microseconds, sorted.
fn latency_ms(sorted: &[u32]) -> String {
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(sorted, 0.50),
        percentile(sorted, 0.90),
        percentile(sorted, 0.99),
        sorted.last().map_or(0.0, |m| f64::from(*m) / 1000.0)
    )
}

/// The status and body of a sent request, or what went wrong, as text.
async fn read_response(
    sent: reqwest::Result<reqwest::Response>,
) -> std::result::Result<(u16, Vec<u8>), String> {
    match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(body) => Ok((status, body.into())),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// How long each measured request took, and when the last one ended.
#[derive(Default)]
struct Timings {
    /// Latency of every measured request, in microseconds.
    micros: Vec<u32>,
    last_done: Option<Instant>,
}

impl Timings {
    fn record(&mut self, start: Instant, done: Instant) {
        self.micros
            .push(u32::try_from((done - start).as_micros()).unwrap_or(u32::MAX));
        self.last_done = Some(done);
    }

    fn merge(&mut self, other: Timings) {
        self.micros.extend(other.micros);
        self.last_done = self.last_done.max(other.last_done);
    }
}

/// Waits out the warm-up, then for every client; returns what they saw, merged, and the
/// CPU counters at the start of the measured window and after the last client.
async fn gather<T: Default>(
    clients: Vec<tokio::task::JoinHandle<T>>,
    measure_from: Instant,
    merge: fn(&mut T, T),
) -> Result<(T, CpuSample, CpuSample)> {
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = CpuSample::now();
    let mut all = T::default();
    for c in clients {
        merge(&mut all, c.await.context("client task")?);
    }
    Ok((all, cpu_before, CpuSample::now()))
}

/// Prints the heading of the results, over the window from `measure_from` to the last
/// measured answer; returns its length in seconds (never zero) and the latencies, sorted.
fn print_results_heading(timings: Timings, measure_from: Instant) -> (f64, Vec<u32>) {
    let window = timings.last_done.map_or(Duration::ZERO, |t| {
        t.saturating_duration_since(measure_from)
    });
    let mut sorted = timings.micros;
    sorted.sort_unstable();
    println!();
    println!("results over {:.2} s:", window.as_secs_f64());
    (window.as_secs_f64().max(f64::EPSILON), sorted)
}

/// Runs `make(i)` for every `i` in `0..n` on up to 16 tasks (setup through the store, not
/// measured); returns the results in the order of `i`.
async fn set_up_in_parallel<T, F, Fut>(n: usize, make: F) -> Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send,
{
    let make = std::sync::Arc::new(make);
    let tasks = n.clamp(1, 16);
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let make = make.clone();
        handles.push(tokio::spawn(async move {
            let mut made = Vec::new();
            for i in (t..n).step_by(tasks) {
                made.push((i, make(i).await?));
            }
            anyhow::Ok(made)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for h in handles {
        all.extend(h.await.context("setup task")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, made)| made).collect())
}
