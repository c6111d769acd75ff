//! `propusk bench city`: the service with a city's data loaded (issue 14, item 4).
//!
//! Against the database `propusk bench seed` made (for example 12 million residents and 30
//! million passes), served in this process with the data directory's signing key, it
//! measures pass issuance (`POST /api/v1/passes`) and verification by short code
//! (`POST /api/v1/verify` as an inspector, codes drawn across the loaded passes). Then it
//! runs the same issuance against a fresh, empty database of the same backend, so that the
//! loaded p99 is compared with the empty one within one run. It also reports the process's
//! peak memory and the database's size per million residents and per million passes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use propusk_server::Clock;
use propusk_store::{Backend, Role, Store};
use propusk_token::rand_core::{OsRng, RngCore};

use super::issue::prepare_residents;
use super::{gather, latency_ms, percentile, print_header, Timings};
use crate::in_process;
use crate::keyring::Keyring;
use crate::scratch_db::{redact, ScratchDb};

use super::super::serve::StoreArgs;

#[derive(Args, Debug)]
pub(super) struct CityArgs {
    /// Concurrent HTTP/1.1 keep-alive clients, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// How long each workload is measured, after its warm-up.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Requests during this first period of each workload are sent but not counted.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Residents (with sessions) that the issuance workload asks for passes for, in turn:
    /// enough that none reaches the regime's 20 passes a day within the run.
    #[arg(long, default_value_t = 10_000)]
    residents: usize,
    /// Short codes drawn from the loaded passes, verified in turn.
    #[arg(long, default_value_t = 10_000)]
    codes: usize,
    /// Skip measuring each table's size (on SQLite it reads every page of the file).
    #[arg(long)]
    no_sizes: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// Issue 14's bounds at city size.
const P99_RATIO_BOUND: f64 = 1.5;
const SHORT_CODES_PER_SEC: f64 = 5_000.0;
const RSS_BOUND_MB: f64 = 512.0;

pub(super) async fn city(args: CityArgs) -> Result<()> {
    if !(1..=10_000).contains(&args.concurrency) {
        bail!("--concurrency must be from 1 to 10000");
    }
    if !(1..=1_000_000).contains(&args.residents) || !(1..=1_000_000).contains(&args.codes) {
        bail!("--residents and --codes must be from 1 to 1000000");
    }
    if !(1..=3600).contains(&args.duration_secs) || args.warmup_secs > 600 {
        bail!("--duration-secs must be from 1 to 3600 and --warmup-secs at most 600");
    }
    let (_, data_dir, url) = args.store.resolve()?;
    let ring = Keyring::open(&data_dir)?;
    if ring.entries().is_empty() {
        bail!(
            "{} has no signing key: load the city with `propusk bench seed` on the same data directory first",
            data_dir.display()
        );
    }
    let key = ring.signing_key()?;
    let store = Store::open(&url)
        .await
        .with_context(|| format!("cannot open {}", redact(&url)))?;

    print_header("propusk bench city");
    println!("  database:    {}", redact(&url));
    println!(
        "  load:        {} keep-alive HTTP/1.1 clients, {} s warm-up then {} s measured per workload",
        args.concurrency, args.warmup_secs, args.duration_secs
    );
    let residents = count(&url, "SELECT COUNT(*) FROM residents").await?;
    let passes = count(&url, "SELECT COUNT(*) FROM passes").await?;
    println!("  loaded:      {residents} residents, {passes} passes");
    if residents == 0 || passes == 0 {
        bail!("the database has no residents or no passes: load it with `propusk bench seed`");
    }
    if !args.no_sizes {
        print_sizes(&store, &url, residents, passes).await?;
    }

    // The loaded city.
    let codes = sample_short_codes(&url, args.codes).await?;
    let app = in_process::start_server_with_key(&store, Clock::system(), key, None, None).await?;
    let base = format!("http://{}", app.addr());
    let loaded = issuance(&store, &base, &args).await?;
    let inspector = inspector_session(&store).await?;
    let verified = verification(&base, &args, inspector, codes).await?;
    let (rss, peak) = memory_mb()?;
    app.stop().await?;
    store.close().await;

    // The same issuance on an empty database of the same backend.
    let empty_db = ScratchDb::prepare(
        (!url.starts_with("sqlite:")).then_some(url.as_str()),
        "bench",
    )
    .await?;
    let empty = async {
        let store = in_process::open_store(&empty_db).await?;
        let app = in_process::start_server(&store, Clock::system(), None, None).await?;
        let figures = issuance(&store, &format!("http://{}", app.addr()), &args).await?;
        app.stop().await?;
        store.close().await;
        anyhow::Ok(figures)
    }
    .await;
    empty_db.remove().await?;
    let empty = empty?;

    println!();
    println!("issuance, POST /api/v1/passes:");
    loaded.print("loaded city");
    empty.print("empty database");
    println!("verification by short code, POST /api/v1/verify:");
    verified.print("loaded city");
    println!("memory:        this process (service and clients) {rss:.0} MB now, {peak:.0} MB at its peak");

    let ratio = loaded.p99() / empty.p99().max(f64::EPSILON);
    let granted = loaded.share_of("201").min(empty.share_of("201"));
    let rate = verified.rate_of("200");
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    println!();
    println!("targets:");
    println!(
        "  issuance p99 within {P99_RATIO_BOUND}× of the empty database's: {} ({:.2} ms / {:.2} ms = {ratio:.2}×)",
        if granted < 0.99 {
            "NOT comparable (under 99 % of the requests were granted: more --residents)"
        } else {
            verdict(ratio <= P99_RATIO_BOUND)
        },
        loaded.p99(),
        empty.p99()
    );
    println!(
        "  verification by short code ≥ {SHORT_CODES_PER_SEC:.0}/s: {} ({rate:.0}/s, {:.2}× the target)",
        verdict(rate >= SHORT_CODES_PER_SEC),
        rate / SHORT_CODES_PER_SEC
    );
    println!(
        "  memory ≤ {RSS_BOUND_MB:.0} MB: {} (peak {peak:.0} MB, {:.2}× the bound; the clients included)",
        verdict(peak <= RSS_BOUND_MB),
        peak / RSS_BOUND_MB
    );
    Ok(())
}

/// What one workload saw: answers by kind, errors, latencies.
#[derive(Default)]
struct Figures {
    secs: f64,
    /// Latencies in microseconds, sorted once the workload ends.
    micros: Vec<u32>,
    /// Answers by status (and by verdict for verification).
    answers: BTreeMap<String, u64>,
    first_error: Option<String>,
}

impl Figures {
    fn p99(&self) -> f64 {
        percentile(&self.micros, 0.99)
    }

    fn answered(&self, prefix: &str) -> u64 {
        self.answers
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    fn rate_of(&self, prefix: &str) -> f64 {
        self.answered(prefix) as f64 / self.secs
    }

    /// The share of the measured requests answered with `prefix`.
    fn share_of(&self, prefix: &str) -> f64 {
        self.answered(prefix) as f64 / (self.micros.len().max(1)) as f64
    }

    fn print(&self, label: &str) {
        println!(
            "  {label}: {} requests in {:.2} s ({:.0}/s); latency ms: {}",
            self.micros.len(),
            self.secs,
            self.micros.len() as f64 / self.secs,
            latency_ms(&self.micros)
        );
        let answers: Vec<String> = self
            .answers
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        println!("    answers: {}", answers.join(", "));
        if let Some(e) = &self.first_error {
            println!(
                "    first unexpected answer: {}",
                e.chars().take(300).collect::<String>()
            );
        }
    }
}

/// One client's share of a workload.
#[derive(Default)]
struct Seen {
    timings: Timings,
    answers: BTreeMap<String, u64>,
    first_error: Option<String>,
}

impl Seen {
    fn merge(&mut self, other: Seen) {
        self.timings.merge(other.timings);
        for (k, n) in other.answers {
            *self.answers.entry(k).or_default() += n;
        }
        self.first_error = self.first_error.take().or(other.first_error);
    }
}

/// A request of a workload: the `n`th sent.
type MakeRequest = dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync;

/// Drives `make` from `--concurrency` clients for the warm-up and the measured time; an
/// answer is labelled by its status and, when the body has one, its verdict.
async fn drive(args: &CityArgs, make: Arc<MakeRequest>, expected: u16) -> Result<Figures> {
    let client = in_process::http_client(args.concurrency, Duration::from_secs(60))?;
    let measure_from = Instant::now() + Duration::from_secs(args.warmup_secs);
    let measure_until = measure_from + Duration::from_secs(args.duration_secs);
    let sent = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, make, sent) = (client.clone(), make.clone(), sent.clone());
            tokio::spawn(async move {
                let mut seen = Seen::default();
                loop {
                    let start = Instant::now();
                    if start >= measure_until {
                        break;
                    }
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    let outcome = super::read_response(make(&client, n).send().await).await;
                    if start < measure_from {
                        continue;
                    }
                    seen.timings.record(start, Instant::now());
                    let label = match &outcome {
                        Ok((status, body)) => {
                            let verdict = serde_json::from_slice::<serde_json::Value>(body)
                                .ok()
                                .and_then(|v| v["verdict"].as_str().map(str::to_string));
                            if *status != expected && seen.first_error.is_none() {
                                seen.first_error = Some(format!(
                                    "HTTP {status}: {}",
                                    String::from_utf8_lossy(body)
                                ));
                            }
                            match verdict {
                                Some(v) => format!("{status} {v}"),
                                None => status.to_string(),
                            }
                        }
                        Err(e) => {
                            seen.first_error.get_or_insert_with(|| e.clone());
                            "no answer".to_string()
                        }
                    };
                    *seen.answers.entry(label).or_default() += 1;
                }
                seen
            })
        })
        .collect();
    let (seen, _, _) = gather(clients, measure_from, Seen::merge).await?;
    let secs = seen.timings.last_done.map_or(0.0, |t| {
        t.saturating_duration_since(measure_from).as_secs_f64()
    });
    let mut micros = seen.timings.micros;
    micros.sort_unstable();
    Ok(Figures {
        secs: secs.max(f64::EPSILON),
        micros,
        answers: seen.answers,
        first_error: seen.first_error,
    })
}

/// Passes for `--residents` new residents in turn (the `trash` purpose: no quota).
async fn issuance(store: &Store, base: &str, args: &CityArgs) -> Result<Figures> {
    let tokens = prepare_residents(store, args.residents).await?;
    let url = format!("{base}/api/v1/passes");
    let make: Arc<MakeRequest> = Arc::new(move |client, n| {
        client
            .post(&url)
            .bearer_auth(&tokens[n as usize % tokens.len()])
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(r#"{"purpose":"trash"}"#)
    });
    drive(args, make, 201).await
}

/// The loaded passes' short codes, checked in turn by one inspector.
async fn verification(
    base: &str,
    args: &CityArgs,
    inspector: String,
    codes: Vec<String>,
) -> Result<Figures> {
    let url = format!("{base}/api/v1/verify");
    let bodies: Vec<String> = codes
        .iter()
        .map(|c| serde_json::json!({ "short_code": c }).to_string())
        .collect();
    let make: Arc<MakeRequest> = Arc::new(move |client, n| {
        client
            .post(&url)
            .bearer_auth(&inspector)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bodies[n as usize % bodies.len()].clone())
    });
    drive(args, make, 200).await
}

/// An inspector's account and session, made through the store (setup, not measured).
async fn inspector_session(store: &Store) -> Result<String> {
    let now = jiff::Timestamp::now();
    let username = format!("bench-inspector-{:08x}", OsRng.next_u32());
    let staff = store
        .add_staff(&username, Role::Inspector, "!", now)
        .await?
        .with_context(|| format!("the username {username} is taken"))?;
    in_process::new_session(
        store,
        &staff.id,
        Role::Inspector,
        jiff::SignedDuration::from_hours(1),
        now,
    )
    .await
}

/// `n` short codes of passes spread over the table: each the first pass at or after a
/// random id (pass ids are random or time-ordered UUIDs as text).
async fn sample_short_codes(url: &str, n: usize) -> Result<Vec<String>> {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let mut codes = Vec::with_capacity(n);
    for _ in 0..n {
        let from = format!("{:08x}", OsRng.next_u32());
        let row: Option<(String,)> =
            sqlx::query_as("SELECT short_code FROM passes WHERE id >= $1 ORDER BY id LIMIT 1")
                .bind(&from)
                .fetch_optional(&mut conn)
                .await?;
        if let Some((code,)) = row {
            codes.push(code);
        }
    }
    sqlx::Connection::close(conn).await?;
    if codes.is_empty() {
        bail!("no pass's short code could be drawn from the database");
    }
    Ok(codes)
}

async fn count(url: &str, sql: &str) -> Result<i64> {
    super::count(url, sql)
        .await
        .with_context(|| format!("cannot run {sql}"))
}

/// Each table's size with its indexes, and the database's size per million residents and
/// per million passes (the residents' table; the passes' and revocations' tables).
async fn print_sizes(store: &Store, url: &str, residents: i64, passes: i64) -> Result<()> {
    let started = Instant::now();
    let sql = match store.backend() {
        // dbstat counts the pages of every table and index; an index belongs to its table.
        Backend::Sqlite => {
            "SELECT m.tbl_name, CAST(SUM(d.pgsize) AS BIGINT) FROM dbstat d \
             JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name"
        }
        Backend::Postgres => {
            "SELECT c.relname::text, pg_total_relation_size(c.oid)::bigint FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        }
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let rows: Vec<(String, i64)> = sqlx::query_as(sql)
        .fetch_all(&mut conn)
        .await
        .context("cannot measure the tables' sizes")?;
    sqlx::Connection::close(conn).await?;
    let size = |names: &[&str]| -> f64 {
        rows.iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, s)| *s as f64)
            .sum::<f64>()
            / 1e6
    };
    let total: f64 = rows.iter().map(|(_, s)| *s as f64).sum::<f64>() / 1e6;
    let of_residents = size(&["residents"]);
    let of_passes = size(&["passes", "revocations"]);
    println!(
        "  size:        {total:.0} MB in all (measured in {:.1} s); residents {of_residents:.0} MB = {:.0} MB per million residents; passes and revocations {of_passes:.0} MB = {:.0} MB per million passes",
        started.elapsed().as_secs_f64(),
        of_residents / (residents as f64 / 1e6),
        of_passes / (passes as f64 / 1e6),
    );
    let mut biggest: Vec<&(String, i64)> = rows.iter().filter(|(_, s)| *s > 1_000_000).collect();
    biggest.sort_by_key(|(_, s)| std::cmp::Reverse(*s));
    let listed: Vec<String> = biggest
        .iter()
        .map(|(n, s)| format!("{n} {:.0} MB", *s as f64 / 1e6))
        .collect();
    println!("               {}", listed.join(", "));
    Ok(())
}

/// This process's resident memory now and at its peak, in MB (from /proc).
fn memory_mb() -> Result<(f64, f64)> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .with_context(|| format!("no {name} in /proc/self/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}
