//! `propusk bench issue`: end-to-end pass issuance over HTTP with durable
//! commits, against a real server.
//!
//! By default it starts the service in this process on 127.0.0.1:0 over a fresh
//! SQLite database in a temporary directory (or, with `--database-url
//! postgres://…`, over a fresh database it creates on that PostgreSQL server),
//! prepares residents with sessions directly through the store API (setup, not
//! measured), then drives `POST /api/v1/passes` from C concurrent HTTP/1.1
//! keep-alive clients for a fixed time or number of requests and reports what it
//! saw: requests, granted, refused, overloaded, errors, passes/s and latency
//! percentiles. With `--target URL` it drives a server that is already running
//! instead; `--database-url` must then name that server's database, where the
//! residents and their sessions are created.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneNumber};
use propusk_server::Clock;
use propusk_store::{Profile, Role, Store};
use propusk_token::rand_core::{OsRng, RngCore};

use super::{
    count, finish, gather, latency_ms, print_cpu, print_header, print_results_heading,
    read_response, set_up_in_parallel, Timings,
};
use crate::in_process;
use crate::scratch_db::{redact, ScratchDb};

#[derive(Args, Debug)]
pub(super) struct IssueArgs {
    /// Residents to create; requests go to them in turn, so that concurrent
    /// requests are for different residents, as they are in a city.
    #[arg(long, default_value_t = 1000)]
    residents: usize,
    /// Concurrent HTTP/1.1 keep-alive clients, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// How long to measure (after the warm-up) [default: 10].
    #[arg(long, conflicts_with = "requests")]
    duration_secs: Option<u64>,
    /// How many requests to measure (after the warm-up), instead of a duration.
    #[arg(long)]
    requests: Option<u64>,
    /// Requests during this first period are sent but not counted.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// The purpose asked for. The default, `trash`, has no quota in the built-in
    /// regime, so every request should be granted.
    #[arg(long, default_value = "trash")]
    purpose: String,
    /// sqlite://PATH (used as is) or postgres://USER@HOST/DB (a fresh database is
    /// created on that server, unless --target is given). Default: a fresh SQLite
    /// database in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Drive an already running server at this base URL (e.g. http://127.0.0.1:8080)
    /// instead of one in this process; --database-url must then be its database.
    #[arg(long, requires = "database_url")]
    target: Option<String>,
    /// The in-process server's limit on requests in flight (past it: 503).
    #[arg(long, default_value_t = 1024)]
    max_in_flight: usize,
    /// Keep the database the benchmark created (by default it is removed).
    #[arg(long)]
    keep_database: bool,
    /// Send `GET /healthz` instead of issuing passes: the floor that the HTTP
    /// stack and the clients alone cost, for comparison (no database work).
    #[arg(long)]
    healthz: bool,
}

/// Creates `n` residents with complete profiles and a session each, through the
/// store (setup, not measured). Returns their bearer tokens.
pub(super) async fn prepare_residents(store: &Store, n: usize) -> Result<Vec<String>> {
    // A random block of numbers, so that runs against a reused database do not collide.
    let block = 10 + OsRng.next_u64() % 90;
    let store = store.clone();
    set_up_in_parallel(n, move |i| {
        let store = store.clone();
        async move {
            let now = jiff::Timestamp::now();
            let phone = PhoneNumber::parse(&format!("+79{block:02}{i:07}"))
                .map_err(|e| anyhow::anyhow!("phone: {e}"))?;
            let resident = store.resident_for_phone(&phone, now).await?;
            let profile = Profile {
                full_name: FullName::parse("Иван Иванович Петров")
                    .map_err(|e| anyhow::anyhow!("name: {e}"))?,
                document: Document::parse(
                    DocumentKind::PassportRu,
                    &format!("45{:02} {:06}", i % 100, i % 1_000_000),
                )
                .map_err(|e| anyhow::anyhow!("document: {e}"))?,
                home_address: "Москва, ул. Тверская, д. 1".into(),
                home: GeoPoint::new(55.7575, 37.6130).map_err(|e| anyhow::anyhow!("home: {e}"))?,
            };
            store.set_profile(&resident.id, &profile, now).await?;
            in_process::new_session(
                &store,
                &resident.id,
                Role::Resident,
                jiff::SignedDuration::from_hours(24),
                now,
            )
            .await
        }
    })
    .await
}

/// Issue 14's issuance targets, met or not, as ratios of this run's own figures.
fn print_targets(backend: propusk_store::Backend, rate: f64, sorted: &[u32]) {
    let p99 = super::percentile(sorted, 0.99);
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    match backend {
        propusk_store::Backend::Sqlite => {
            let (rate_target, p99_target) = (5_000.0, 50.0);
            println!(
                "  target:      ≥ {rate_target:.0} passes/s with p99 ≤ {p99_target:.0} ms: {} (rate {:.2}× the target, p99 {:.2}× the bound)",
                verdict(rate >= rate_target && p99 <= p99_target),
                rate / rate_target,
                p99 / p99_target
            );
        }
        propusk_store::Backend::Postgres => {
            let rate_target = 2_500.0;
            println!(
                "  target:      ≥ {rate_target:.0} passes/s: {} (rate {:.2}× the target)",
                verdict(rate >= rate_target),
                rate / rate_target
            );
        }
    }
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    granted: u64,
    refused: u64,
    overloaded: u64,
    errors: u64,
    /// Latency of every measured request.
    timings: Timings,
    first_error: Option<String>,
    first_refusal: Option<String>,
    sample_token: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.granted += other.granted;
        self.refused += other.refused;
        self.overloaded += other.overloaded;
        self.errors += other.errors;
        self.timings.merge(other.timings);
        self.first_error = self.first_error.take().or(other.first_error);
        self.first_refusal = self.first_refusal.take().or(other.first_refusal);
        self.sample_token = self.sample_token.take().or(other.sample_token);
    }
}

struct Plan {
    url: String,
    healthz: bool,
    body: String,
    tokens: Vec<String>,
    measure_from: Instant,
    measure_until: Option<Instant>,
    measured_limit: Option<u64>,
    measured: AtomicU64,
    next_resident: AtomicU64,
    /// 201 answers including the warm-up, to compare with the rows stored.
    granted_total: AtomicU64,
}

async fn client_loop(client: reqwest::Client, plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    loop {
        let start = Instant::now();
        let measured = start >= plan.measure_from;
        if measured {
            if plan.measure_until.is_some_and(|end| start >= end) {
                break;
            }
            if let Some(limit) = plan.measured_limit {
                if plan.measured.fetch_add(1, Ordering::Relaxed) >= limit {
                    break;
                }
            }
        }
        let n = plan.next_resident.fetch_add(1, Ordering::Relaxed) as usize;
        let token = &plan.tokens[n % plan.tokens.len()];
        let sent = if plan.healthz {
            client.get(&plan.url).send().await
        } else {
            client
                .post(&plan.url)
                .bearer_auth(token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(plan.body.clone())
                .send()
                .await
        };
        let outcome = read_response(sent).await;
        let done = Instant::now();
        if matches!(outcome, Ok((201, _))) {
            plan.granted_total.fetch_add(1, Ordering::Relaxed);
        }
        if !measured {
            continue;
        }
        tally.timings.record(start, done);
        match outcome {
            Ok((200, _)) if plan.healthz => tally.granted += 1,
            Ok((201, body)) => {
                tally.granted += 1;
                if tally.sample_token.is_none() {
                    tally.sample_token = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["token"].as_str().map(str::to_string));
                }
            }
            Ok((422, body)) => {
                tally.refused += 1;
                if tally.first_refusal.is_none() {
                    tally.first_refusal = Some(String::from_utf8_lossy(&body).into_owned());
                }
            }
            Ok((503, _)) => tally.overloaded += 1,
            Ok((status, body)) => {
                tally.errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error =
                        Some(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
                }
            }
            Err(e) => {
                tally.errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some(e);
                }
            }
        }
    }
    tally
}

pub(super) async fn issue(args: IssueArgs) -> Result<()> {
    if args.residents == 0 || args.concurrency == 0 {
        bail!("--residents and --concurrency must be at least 1");
    }
    if args.requests == Some(0) || args.duration_secs == Some(0) {
        bail!("--requests and --duration-secs must be at least 1");
    }
    if let Some(target) = &args.target {
        let host_ok = target.starts_with("http://127.")
            || target.starts_with("http://localhost")
            || target.starts_with("http://[::1]");
        if !host_ok {
            bail!(
                "--target must be a loopback http:// URL (the benchmark floods it), got {target}"
            );
        }
    }
    let duration = match (args.duration_secs, args.requests) {
        (Some(s), _) => Some(Duration::from_secs(s)),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };

    let database = match (&args.target, &args.database_url) {
        // Driving a running server: its own database, used as it is.
        (Some(_), Some(url)) => ScratchDb::Given(url.clone()),
        (_, url) => ScratchDb::prepare(url.as_deref(), "bench").await?,
    };
    let result = measure(&args, duration, &database).await;
    finish(database, args.keep_database, result).await
}

/// Everything between creating the database and removing it.
async fn measure(args: &IssueArgs, duration: Option<Duration>, database: &ScratchDb) -> Result<()> {
    let store = in_process::open_store(database).await?;
    let backend = match store.backend() {
        propusk_store::Backend::Sqlite => "SQLite (WAL, synchronous=FULL, group commit)",
        propusk_store::Backend::Postgres => "PostgreSQL",
    };

    // The service: in this process, or the one at --target.
    let app = match &args.target {
        Some(_) => None,
        None => Some(
            in_process::start_server(&store, Clock::system(), Some(args.max_in_flight), None)
                .await?,
        ),
    };
    let base = match (&args.target, &app) {
        (Some(t), _) => t.trim_end_matches('/').to_string(),
        (None, Some(app)) => format!("http://{}", app.addr()),
        (None, None) => unreachable!("a server is started when no target is given"),
    };

    let setup_started = Instant::now();
    let tokens = prepare_residents(&store, args.residents).await?;
    let setup_time = setup_started.elapsed();

    print_header("propusk bench issue");
    println!(
        "  server:      {}",
        match &args.target {
            Some(t) => format!("external, {t}"),
            None => format!(
                "in this process on {base} (max in flight {})",
                args.max_in_flight
            ),
        }
    );
    println!("  database:    {backend}, {}", redact(database.url()));
    if args.healthz {
        println!(
            "  workload:    GET /healthz (the HTTP floor, no database work), {} keep-alive HTTP/1.1 clients",
            args.concurrency
        );
    } else {
        println!(
            "  workload:    POST /api/v1/passes {{\"purpose\":\"{}\"}}, {} residents in turn, {} keep-alive HTTP/1.1 clients",
            args.purpose, args.residents, args.concurrency
        );
    }
    println!(
        "  length:      {} s warm-up, then {}",
        args.warmup_secs,
        match (duration, args.requests) {
            (Some(d), _) => format!("{} s measured", d.as_secs()),
            (None, Some(r)) => format!("{r} measured requests"),
            (None, None) => unreachable!(),
        }
    );
    println!(
        "  setup:       {} residents with sessions in {:.1} s (not measured)",
        args.residents,
        setup_time.as_secs_f64()
    );

    let client = in_process::http_client(args.concurrency, Duration::from_secs(60))?;
    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup_secs);
    let plan = Arc::new(Plan {
        url: if args.healthz {
            format!("{base}/healthz")
        } else {
            format!("{base}/api/v1/passes")
        },
        healthz: args.healthz,
        body: serde_json::json!({ "purpose": args.purpose }).to_string(),
        tokens,
        measure_from,
        measure_until: duration.map(|d| measure_from + d),
        measured_limit: args.requests,
        measured: AtomicU64::new(0),
        next_resident: AtomicU64::new(0),
        granted_total: AtomicU64::new(0),
    });
    let clients: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(client_loop(client.clone(), plan.clone())))
        .collect();
    let (mut tally, cpu_before, cpu_after) = gather(clients, measure_from, Tally::merge).await?;

    let (secs, lat) = print_results_heading(std::mem::take(&mut tally.timings), measure_from);
    let requests = lat.len() as u64;
    println!(
        "  requests:    {requests} ({:.0}/s)",
        requests as f64 / secs
    );
    println!(
        "  {}     {} ({:.0} {}/s)",
        if args.healthz { "200 OK: " } else { "granted:" },
        tally.granted,
        tally.granted as f64 / secs,
        if args.healthz { "answers" } else { "passes" }
    );
    println!("  refused:     {}", tally.refused);
    println!("  overloaded:  {} (503)", tally.overloaded);
    println!("  errors:      {}", tally.errors);
    println!("  latency ms:  {}", latency_ms(&lat));
    if !args.healthz {
        print_targets(store.backend(), tally.granted as f64 / secs, &lat);
    }
    print_cpu(&cpu_before, &cpu_after, secs, |used| {
        if tally.granted > 0 {
            format!(
                ", {:.0} µs per {}",
                1e6 * used / tally.granted as f64,
                if args.healthz { "answer" } else { "pass" }
            )
        } else {
            String::new()
        }
    });
    if let Some(e) = &tally.first_error {
        println!("  first error: {}", e.chars().take(300).collect::<String>());
    }
    if let Some(r) = &tally.first_refusal {
        println!(
            "  first refusal: {}",
            r.chars().take(300).collect::<String>()
        );
    }
    match &tally.sample_token {
        Some(t) if t.starts_with(propusk_token::PREFIX) => {}
        Some(t) => println!("  warning: a granted pass carried an odd token: {t}"),
        None if tally.granted > 0 && !args.healthz => {
            println!("  warning: a granted pass carried no token")
        }
        None => {}
    }

    if let Some(app) = app {
        app.stop().await?;
    }
    store.close().await;
    if !args.healthz
        && matches!(
            database,
            ScratchDb::TempSqlite { .. } | ScratchDb::FreshPostgres { .. }
        )
    {
        // Every 201 must be a stored pass (the database is this run's alone).
        let granted_total = plan.granted_total.load(Ordering::Relaxed);
        let stored = count(database.url(), "SELECT COUNT(*) FROM passes").await?;
        println!(
            "  stored:      {stored} passes in the database for {granted_total} 201 answers (warm-up included){}",
            if stored == granted_total as i64 { "" } else { "  MISMATCH" }
        );
    }
    Ok(())
}
