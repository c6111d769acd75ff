//! `propusk bench overload`: what happens past capacity (issue 15, item 10).
//!
//! Three phases of pass issuance against a server in this process, each measured for
//! `--phase-secs`:
//!
//! 1. **Capacity**: as many keep-alive clients as the server takes requests at once, each
//!    sending the next request when the last is answered (a closed loop), so that the
//!    server is always full without refusing: the peak goodput. (More clients than that
//!    would measure the cost of answering 503 to clients that retry at once.)
//! 2. **Unloaded**: requests offered at half that rate, at fixed times whatever the answers
//!    (an open loop): the latency of work that meets no queue.
//! 3. **Overload**: requests offered at `--factor` (2) times the capacity, again at fixed
//!    times, while probes ask `/healthz` and `/readyz` every 50 ms.
//!
//! It prints the four ratios the service promises: accepted requests keep p99 within 2× the
//! unloaded p99; goodput stays at 90 % of the peak or more; the excess gets its 503 within
//! 10 ms; the probes answer throughout. The load generator shares the machine's cores with
//! the server, as it does in every benchmark here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use propusk_server::Clock;
use tokio::sync::mpsc;

use super::{finish, percentile, print_header, read_response};
use crate::in_process;
use crate::scratch_db::{redact, ScratchDb};

#[derive(Args, Debug)]
pub(super) struct OverloadArgs {
    /// Residents to create; requests go to them in turn.
    #[arg(long, default_value_t = 10_000)]
    residents: usize,
    /// The server's limit on requests in flight (past it: 503).
    #[arg(long, default_value_t = 64)]
    max_in_flight: usize,
    /// Seconds each phase is measured (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    phase_secs: u64,
    /// The overload phase offers this many times the measured capacity.
    #[arg(long, default_value_t = 2.0)]
    factor: f64,
    /// sqlite://PATH or postgres://USER@HOST/DB (a fresh database on that server).
    /// Default: a fresh SQLite database in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep the database the benchmark created.
    #[arg(long)]
    keep_database: bool,
}

/// One answered request: its status (0 for a transport error) and latency.
#[derive(Clone, Copy)]
struct Answer {
    status: u16,
    micros: u32,
}

/// What a phase saw.
struct Phase {
    answers: Vec<Answer>,
    seconds: f64,
}

impl Phase {
    /// Answers that did work: a pass, or a refusal by the rules (not 503, not an error).
    fn accepted(&self) -> Vec<u32> {
        self.sorted(|s| s != 503 && s != 0)
    }

    fn overloaded(&self) -> Vec<u32> {
        self.sorted(|s| s == 503)
    }

    fn errors(&self) -> usize {
        self.answers.iter().filter(|a| a.status == 0).count()
    }

    fn sorted(&self, keep: impl Fn(u16) -> bool) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .answers
            .iter()
            .filter(|a| keep(a.status))
            .map(|a| a.micros)
            .collect();
        v.sort_unstable();
        v
    }

    fn goodput(&self) -> f64 {
        self.accepted().len() as f64 / self.seconds
    }
}

/// The requests: each a pass for the next resident.
#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    url: String,
    tokens: Arc<Vec<String>>,
}

impl Target {
    async fn send(&self, i: usize) -> Answer {
        let started = Instant::now();
        let sent = self
            .client
            .post(&self.url)
            .bearer_auth(&self.tokens[i % self.tokens.len()])
            .json(&serde_json::json!({"purpose": "trash"}))
            .send()
            .await;
        let status = read_response(sent).await.map_or(0, |(s, _)| s);
        Answer {
            status,
            micros: u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX),
        }
    }
}

/// A closed loop: `clients` clients, each sending its next request when the last is
/// answered, for `warmup` then `measure` (only the latter counted).
async fn closed_loop(
    target: &Target,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> Phase {
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut i = c;
            while Instant::now() < until {
                let sent_at = Instant::now();
                let answer = target.send(i).await;
                if sent_at >= from {
                    answers.push(answer);
                }
                i += clients;
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap_or_default());
    }
    Phase {
        answers,
        seconds: measure.as_secs_f64(),
    }
}

/// An open loop: requests offered at `rate` a second at fixed times whatever the answers,
/// for `warmup` then `measure` (only the latter counted).
async fn open_loop(target: &Target, rate: f64, warmup: Duration, measure: Duration) -> Phase {
    let (done, mut answers_rx) = mpsc::unbounded_channel::<(Instant, Answer)>();
    let start = Instant::now();
    let from = start + warmup;
    let until = from + measure;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut offered = 0usize;
    loop {
        let now = tick.tick().await.into_std();
        if now >= until {
            break;
        }
        let due = (now.duration_since(start).as_secs_f64() * rate) as usize;
        while offered < due {
            let (target, done) = (target.clone(), done.clone());
            let i = offered;
            tokio::spawn(async move {
                let sent_at = Instant::now();
                let answer = target.send(i).await;
                let _ = done.send((sent_at, answer));
            });
            offered += 1;
        }
    }
    drop(done);
    let mut answers = Vec::new();
    while let Some((sent_at, answer)) = answers_rx.recv().await {
        if sent_at >= from {
            answers.push(answer);
        }
    }
    Phase {
        answers,
        seconds: measure.as_secs_f64(),
    }
}

/// Probes `/healthz` and `/readyz` every 50 ms until `stop`; returns (answered, failed,
/// slowest).
async fn probe(base: String, stop: Arc<std::sync::atomic::AtomicBool>) -> (usize, usize, Duration) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let (mut answered, mut failed, mut slowest) = (0, 0, Duration::ZERO);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for path in ["/healthz", "/readyz"] {
            let started = Instant::now();
            match client.get(format!("{base}{path}")).send().await {
                // /readyz says 503 when saturated: that is an answer.
                Ok(r) if r.status().is_success() || r.status() == 503 => answered += 1,
                _ => failed += 1,
            }
            slowest = slowest.max(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (answered, failed, slowest)
}

fn ms(sorted: &[u32], p: f64) -> f64 {
    percentile(sorted, p)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

pub(super) async fn overload(args: OverloadArgs) -> Result<()> {
    if args.residents == 0 || args.max_in_flight == 0 || args.phase_secs == 0 {
        bail!("--residents, --max-in-flight and --phase-secs must be at least 1");
    }
    if !(1.0..=10.0).contains(&args.factor) {
        bail!("--factor must be from 1 to 10, got {}", args.factor);
    }
    let database = ScratchDb::prepare(args.database_url.as_deref(), "overload").await?;
    let result = run(&args, &database).await;
    finish(database, args.keep_database, result).await
}

async fn run(args: &OverloadArgs, database: &ScratchDb) -> Result<()> {
    let store = in_process::open_store(database).await?;
    let app =
        in_process::start_server(&store, Clock::system(), Some(args.max_in_flight), None).await?;
    let base = format!("http://{}", app.addr());
    let tokens = super::issue::prepare_residents(&store, args.residents).await?;
    let target = Target {
        client: in_process::http_client(4096, Duration::from_secs(30))?,
        url: format!("{base}/api/v1/passes"),
        tokens: Arc::new(tokens),
    };
    print_header("propusk bench overload");
    println!(
        "  server:      in this process on {base} (max in flight {})",
        args.max_in_flight
    );
    println!("  database:    {}", redact(database.url()));
    println!(
        "  workload:    POST /api/v1/passes (trash) for {} residents in turn; {} s a phase after 2 s of warm-up",
        args.residents, args.phase_secs
    );
    let (warmup, measure) = (Duration::from_secs(2), Duration::from_secs(args.phase_secs));

    let capacity = closed_loop(&target, args.max_in_flight, warmup, measure).await;
    let peak = capacity.goodput();
    let unloaded = open_loop(&target, peak / 2.0, warmup, measure).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probes = tokio::spawn(probe(base.clone(), stop.clone()));
    let overload = open_loop(&target, peak * args.factor, warmup, measure).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (answered, failed, slowest) = probes.await?;

    println!();
    println!("| phase | offered | goodput/s | accepted p50 / p99 ms | 503s | 503 p50 / p99 / max ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    for (name, offered, phase) in [
        (
            "capacity (closed loop)",
            format!("{} clients", args.max_in_flight),
            &capacity,
        ),
        (
            "unloaded (open loop)",
            format!("{:.0}/s", peak / 2.0),
            &unloaded,
        ),
        (
            "overload (open loop)",
            format!("{:.0}/s ({}×)", peak * args.factor, args.factor),
            &overload,
        ),
    ] {
        let (accepted, refused) = (phase.accepted(), phase.overloaded());
        println!(
            "| {name} | {offered} | {:.0} | {:.2} / {:.2} | {} | {:.2} / {:.2} / {:.2} | {} |",
            phase.goodput(),
            ms(&accepted, 0.5),
            ms(&accepted, 0.99),
            refused.len(),
            ms(&refused, 0.5),
            ms(&refused, 0.99),
            refused.last().map_or(0.0, |m| f64::from(*m) / 1000.0),
            phase.errors()
        );
    }
    let unloaded_p99 = ms(&unloaded.accepted(), 0.99);
    let overload_p99 = ms(&overload.accepted(), 0.99);
    let latency_ratio = overload_p99 / unloaded_p99.max(f64::EPSILON);
    let goodput_ratio = overload.goodput() / peak.max(f64::EPSILON);
    let refusal_p99 = ms(&overload.overloaded(), 0.99);
    println!();
    println!(
        "accepted p99 under overload / unloaded p99: {overload_p99:.2} / {unloaded_p99:.2} ms = {latency_ratio:.2} (target ≤ 2): {}",
        verdict(latency_ratio <= 2.0)
    );
    println!(
        "goodput under overload / peak: {:.0} / {peak:.0} = {goodput_ratio:.2} (target ≥ 0.90): {}",
        overload.goodput(),
        verdict(goodput_ratio >= 0.9)
    );
    println!(
        "503 p99: {refusal_p99:.2} ms (target ≤ 10): {}",
        verdict(refusal_p99 <= 10.0)
    );
    println!(
        "probes: {answered} answered, {failed} failed, slowest {:.1} ms: {}",
        slowest.as_secs_f64() * 1000.0,
        verdict(failed == 0 && answered > 0)
    );
    drop(target);
    app.stop().await?;
    store.close().await;
    Ok(())
}
