//! `propusk bench ingest`: location reports from many enrolled devices over HTTP, with the
//! geofence evaluated and the batch committed durably before each 202.
//!
//! It starts the service in this process on 127.0.0.1:0 over a fresh SQLite database in a
//! temporary directory (or, with `--database-url postgres://…`, a fresh database it creates
//! on that server and drops afterwards). Setup, through the store and not measured: one
//! case per device (a home somewhere in Moscow, radius 100 m) and its device enrolled with
//! a bearer token, enrolled `--history-mins` + [`BACKDATE`] before the run. Each phone
//! reports one position every `--interval-secs` (with a little jitter), in order, and
//! never later than the present (the server's clock is the real one). Its first
//! `--history-mins` of reports are stored in setup as one upload through the store, so
//! that measured batches find the evaluation window (an hour before their oldest report)
//! filled as it is in service; the measured batches then start [`BACKDATE`] before the
//! setup and catch up towards the present. The backdating stays under the evaluator's
//! two-hour silence threshold, so the gap between the newest report and now never makes a
//! `no_signal` flag. (The table is small next to a city's after weeks: every phone has
//! only a few hours of reports.)
//!
//! Positions are a phone lying at home: indoor noise of 15 m (σ per axis) with reported
//! accuracies of 8–40 m, and a few of the things real phones send — multipath jumps of
//! 80–300 m, coarse cell positions (accuracy 500–2,000 m), a repeated last position. None of
//! it amounts to a departure, so the expected number of flags is zero (it is reported).
//!
//! The load: C keep-alive HTTP/1.1 clients share one queue of phones; a client takes the
//! next phone, posts its next `--batch` reports (`POST /api/v1/device/locations`, the
//! device's bearer token), waits for the answer and puts the phone back at the end of the
//! queue, so a phone never has two batches in flight and its reports arrive in order.
//! With `--resend-percent P`, P % of the posts repeat the phone's previous batch (a phone
//! that missed the answer): every report of it must come back a duplicate. A 2 s warm-up is
//! sent but not counted, then `--duration-secs` are measured.
//!
//! Afterwards it checks what it measured: every answer must account for its batch exactly
//! (all accepted, or for a resend all duplicates), and the rows in `location_fixes` must
//! equal the accepted reports (warm-up included; the database is this run's alone).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::{GeoPoint, Line};
use propusk_core::monitoring::geofence::Fix;
use propusk_server::Clock;
use propusk_store::{NewCase, Store};
use propusk_token::rand_core::{OsRng, RngCore};

use super::{
    count, finish, gather, latency_ms, print_cpu, print_header, print_results_heading,
    read_response, set_up_in_parallel, Timings,
};
use crate::in_process;
use crate::scratch_db::{random_hex, redact, ScratchDb};

/// How long before the run the devices are enrolled and their reports begin: under the
/// evaluator's two-hour silence threshold (see the module docs).
const BACKDATE: SignedDuration = SignedDuration::from_mins(115);

#[derive(Args, Debug)]
pub(super) struct IngestArgs {
    /// Enrolled devices (one case each); clients take them in turn.
    #[arg(long, default_value_t = 5000)]
    devices: usize,
    /// Reports per batch.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Concurrent HTTP/1.1 keep-alive clients, each with one batch in flight.
    #[arg(long, default_value_t = 32)]
    pub(super) concurrency: usize,
    /// How long to measure, after the warm-up.
    #[arg(long, default_value_t = 10)]
    pub(super) duration_secs: u64,
    /// Batches during this first period are sent but not counted.
    #[arg(long, default_value_t = 2)]
    warmup_secs: u64,
    /// Seconds between a phone's reports (phones in the field report every 1–5 minutes;
    /// closer spacing lets a short run use recent timestamps only).
    #[arg(long, default_value_t = 30)]
    interval_secs: i64,
    /// Minutes of earlier reports stored for each phone during setup (not measured), so that
    /// measured batches find the evaluation window (an hour before their oldest report)
    /// filled as in service.
    #[arg(long, default_value_t = 65)]
    history_mins: i64,
    /// Share of posts that repeat the phone's previous batch (a retry), in percent.
    #[arg(long, default_value_t = 0.0)]
    resend_percent: f64,
    /// postgres://USER@HOST/DB: a fresh database is created on that server (and dropped
    /// afterwards). Default: a fresh SQLite database in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// The in-process server's limit on requests in flight (past it: 503).
    #[arg(long, default_value_t = 1024)]
    pub(super) max_in_flight: usize,
    /// Keep the database the benchmark created (by default it is removed).
    #[arg(long)]
    keep_database: bool,
    /// Seed for homes and positions (the same seed gives the same phones).
    #[arg(long, default_value_t = 2020)]
    pub(super) seed: u64,
    /// A day at city size instead ([`super::city_day`]): `--patients` phones reporting every
    /// five minutes for `--duration-secs` of real time, with backlogs, over a database holding
    /// their reports since midnight yesterday, whose erasure runs meanwhile.
    #[arg(long)]
    pub(super) city_day: bool,
    /// Patients in the city-day mode.
    #[arg(long, default_value_t = 70_000)]
    pub(super) patients: usize,
    /// Share of the city-day phones that come back with a backlog, in percent.
    #[arg(long, default_value_t = 2.0)]
    pub(super) backlog_percent: f64,
    /// How many hours of reports a returning phone has buffered.
    #[arg(long, default_value_t = 6)]
    pub(super) backlog_hours: i64,
}

/// splitmix64: small, fast, good enough for noise.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// One enrolled phone and where its track has got to.
pub(super) struct Phone {
    pub(super) token: String,
    home_lat: f64,
    home_lon: f64,
    /// The earliest time (Unix seconds) of its next report.
    pub(super) next_ts: i64,
    rng: Rng,
    /// The last position and accuracy sent (phones repeat it when they have nothing new).
    last: Option<(f64, f64, f64)>,
    /// The body of its previous batch, for resends.
    previous: Option<String>,
}

impl Phone {
    /// Whether the next batch would end no later than `now_s` (the server rejects reports
    /// more than five minutes ahead; staying at or before now keeps them realistic).
    fn ready(&self, batch: usize, interval: i64, now_s: i64) -> bool {
        self.next_ts + (batch as i64 - 1) * interval + interval / 3 <= now_s
    }

    /// The next `n` reports: (Unix seconds, lat, lon, accuracy).
    fn next_fixes(&mut self, n: usize, interval: i64) -> Vec<(i64, f64, f64, f64)> {
        const M_PER_DEG: f64 = 111_320.0;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let jitter = (self.rng.next() % (interval as u64 / 3).max(1)) as i64;
            let ts = self.next_ts + jitter;
            self.next_ts += interval;
            let roll = self.rng.unit();
            let (lat, lon, acc) = match self.last {
                // A phone with nothing new re-sends its last position.
                Some(last) if roll < 0.05 => last,
                _ => {
                    let (dx, dy, acc) = if roll < 0.09 {
                        // A multipath jump.
                        let d = self.rng.range(80.0, 300.0);
                        let a = self.rng.range(0.0, std::f64::consts::TAU);
                        (d * a.cos(), d * a.sin(), self.rng.range(10.0, 30.0))
                    } else if roll < 0.12 {
                        // A coarse cell position.
                        (
                            300.0 * self.rng.normal(),
                            300.0 * self.rng.normal(),
                            self.rng.range(500.0, 2000.0),
                        )
                    } else {
                        (
                            15.0 * self.rng.normal(),
                            15.0 * self.rng.normal(),
                            self.rng.range(8.0, 40.0),
                        )
                    };
                    let lat = self.home_lat + dy / M_PER_DEG;
                    let lon = self.home_lon + dx / (M_PER_DEG * self.home_lat.to_radians().cos());
                    // As a phone sends them: 7 decimals (about 1 cm), accuracy to 0.1 m.
                    let round = |x: f64, k: f64| (x * k).round() / k;
                    (round(lat, 1e7), round(lon, 1e7), round(acc, 10.0))
                }
            };
            self.last = Some((lat, lon, acc));
            out.push((ts, lat, lon, acc));
        }
        out
    }

    /// The next `n` reports as the API's JSON array.
    pub(super) fn next_batch(&mut self, n: usize, interval: i64) -> String {
        let mut body = String::with_capacity(n * 90 + 2);
        body.push('[');
        for (i, (ts, lat, lon, acc)) in self.next_fixes(n, interval).into_iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            let ts = Timestamp::from_second(ts).unwrap_or(Timestamp::UNIX_EPOCH);
            body.push_str(&format!(
                r#"{{"ts":"{ts}","lat":{lat},"lon":{lon},"accuracy_m":{acc}}}"#
            ));
        }
        body.push(']');
        body
    }
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    batches: u64,
    accepted: u64,
    duplicates: u64,
    ignored: u64,
    resends: u64,
    /// Answers that did not account for their batch exactly.
    mismatched: u64,
    overloaded: u64,
    errors: u64,
    /// Latency of every measured batch.
    timings: Timings,
    first_error: Option<String>,
    first_mismatch: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.batches += other.batches;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.ignored += other.ignored;
        self.resends += other.resends;
        self.mismatched += other.mismatched;
        self.overloaded += other.overloaded;
        self.errors += other.errors;
        self.timings.merge(other.timings);
        self.first_error = self.first_error.take().or(other.first_error);
        self.first_mismatch = self.first_mismatch.take().or(other.first_mismatch);
    }
}

struct Plan {
    url: String,
    batch: usize,
    interval: i64,
    resend: f64,
    phones: Mutex<VecDeque<Phone>>,
    measure_from: Instant,
    measure_until: Instant,
    /// Set when a phone's track reached the present: the run stops there.
    ran_dry: AtomicBool,
    ran_dry_at: Mutex<Option<Instant>>,
    /// Reports accepted, warm-up included, to compare with the rows stored.
    accepted_total: AtomicU64,
}

#[derive(serde::Deserialize)]
struct Answer {
    accepted: u64,
    duplicates: u64,
    ignored: u64,
}

async fn client_loop(client: reqwest::Client, plan: Arc<Plan>, seed: u64) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(seed);
    loop {
        if plan.ran_dry.load(Ordering::Relaxed) {
            break;
        }
        let taken = plan.phones.lock().expect("phones").pop_front();
        let Some(mut phone) = taken else {
            // More clients than phones: wait for one to come back.
            tokio::time::sleep(Duration::from_millis(1)).await;
            if Instant::now() >= plan.measure_until {
                break;
            }
            continue;
        };
        let start = Instant::now();
        if start >= plan.measure_until {
            plan.phones.lock().expect("phones").push_back(phone);
            break;
        }
        let measured = start >= plan.measure_from;
        let resend = phone.previous.is_some() && rng.unit() * 100.0 < plan.resend;
        let body = if resend {
            phone.previous.clone().unwrap_or_default()
        } else {
            if !phone.ready(plan.batch, plan.interval, Timestamp::now().as_second()) {
                plan.ran_dry.store(true, Ordering::Relaxed);
                plan.ran_dry_at
                    .lock()
                    .expect("ran_dry_at")
                    .get_or_insert(start);
                plan.phones.lock().expect("phones").push_back(phone);
                break;
            }
            phone.next_batch(plan.batch, plan.interval)
        };
        let sent = client
            .post(&plan.url)
            .bearer_auth(&phone.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        let outcome = read_response(sent).await;
        let done = Instant::now();
        phone.previous = Some(body);
        plan.phones.lock().expect("phones").push_back(phone);
        let answer = match &outcome {
            Ok((202, body)) => serde_json::from_slice::<Answer>(body).ok(),
            _ => None,
        };
        if let Some(a) = &answer {
            plan.accepted_total.fetch_add(a.accepted, Ordering::Relaxed);
        }
        if !measured {
            continue;
        }
        tally.timings.record(start, done);
        match (outcome, answer) {
            (Ok(_), Some(a)) => {
                tally.batches += 1;
                tally.accepted += a.accepted;
                tally.duplicates += a.duplicates;
                tally.ignored += a.ignored;
                tally.resends += u64::from(resend);
                let n = plan.batch as u64;
                let exact = if resend {
                    a.accepted == 0 && a.duplicates == n && a.ignored == 0
                } else {
                    a.accepted == n && a.duplicates == 0 && a.ignored == 0
                };
                if !exact {
                    tally.mismatched += 1;
                    tally.first_mismatch.get_or_insert_with(|| {
                        format!(
                            "{} batch of {n}: accepted {}, duplicates {}, ignored {}",
                            if resend { "resent" } else { "new" },
                            a.accepted,
                            a.duplicates,
                            a.ignored
                        )
                    });
                }
            }
            (Ok((503, _)), None) => tally.overloaded += 1,
            (Ok((status, body)), None) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| {
                    format!("HTTP {status}: {}", String::from_utf8_lossy(&body))
                });
            }
            (Err(e), _) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
    tally
}

/// Opens one case per phone and enrolls its device, through the store (not measured).
/// Each phone's reports from its enrollment up to `history_until` are stored as it would
/// have uploaded them (one batch, evaluated at `history_until`), so that the measured
/// batches find a full evaluation window of earlier reports, as they would in service.
/// `history_until(i)` is where phone `i`'s stored reports end.
pub(super) async fn prepare_phones(
    store: &Store,
    n: usize,
    seed: u64,
    enrolled_at: Timestamp,
    history_until: impl Fn(usize) -> Timestamp + Send + Sync + 'static,
    interval: i64,
) -> Result<(Vec<Phone>, u64)> {
    // A random block of numbers, so that runs against a reused database do not collide.
    let block = 10 + OsRng.next_u64() % 90;
    let starts_at = enrolled_at - SignedDuration::from_mins(1);
    let ends_at = enrolled_at + SignedDuration::from_hours(24 * 14);
    let store = store.clone();
    let made = set_up_in_parallel(n, move |i| {
        let store = store.clone();
        let history_until = history_until(i);
        async move {
            let mut stored = 0u64;
            let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let home_lat = 55.75 + rng.range(-0.1, 0.1);
            let home_lon = 37.62 + rng.range(-0.2, 0.2);
            let case = NewCase {
                phone: format!("+79{block:02}{i:07}"),
                full_name: "Сидорова Анна Павловна".into(),
                home_address: Line::required(&format!("Москва, пациент {i}"), 300)?,
                home: GeoPoint::new(home_lat, home_lon)
                    .map_err(|e| anyhow::anyhow!("home: {e}"))?,
                radius_m: 100.0,
                time_zone: "Europe/Moscow".into(),
                lang: "ru".into(),
                starts_at,
                ends_at,
            };
            let code = random_hex();
            store
                .create_case(&case, &code, None, "bench", enrolled_at)
                .await?;
            let token = propusk_server::auth::new_token();
            let device = store
                .enroll_device(&code, &token, None, enrolled_at)
                .await?
                .context("the enrollment code was not taken")?;
            let mut phone = Phone {
                token,
                home_lat,
                home_lon,
                next_ts: enrolled_at.as_second(),
                rng,
                last: None,
                previous: None,
            };
            let past = (history_until.as_second() - phone.next_ts) / interval;
            if past > 0 {
                let fixes = phone
                    .next_fixes(past as usize, interval)
                    .into_iter()
                    .map(|(t, lat, lon, acc)| {
                        Fix::from_parts(Timestamp::from_second(t)?, lat, lon, acc)
                            .map_err(anyhow::Error::from)
                    })
                    .collect::<Result<Vec<_>>>()?;
                let out = store
                    .ingest_fixes(
                        &device,
                        &fixes,
                        history_until,
                        &propusk_server::monitoring::geofence_config(),
                        None,
                        &propusk_server::monitoring::sms_texts("http://127.0.0.1/patient/app/"),
                    )
                    .await?;
                if out.accepted as usize != fixes.len() {
                    bail!(
                        "setup: {} of {} earlier reports stored",
                        out.accepted,
                        fixes.len()
                    );
                }
                stored += fixes.len() as u64;
            }
            anyhow::Ok((phone, stored))
        }
    })
    .await?;
    let stored = made.iter().map(|(_, stored)| stored).sum();
    Ok((made.into_iter().map(|(phone, _)| phone).collect(), stored))
}

pub(super) async fn ingest(args: IngestArgs) -> Result<()> {
    if args.devices == 0 || args.concurrency == 0 || args.batch == 0 {
        bail!("--devices, --concurrency and --batch must be at least 1");
    }
    if args.batch > 5000 {
        bail!("--batch: the API takes at most 5000 reports a batch");
    }
    if args.duration_secs == 0 || args.interval_secs <= 0 || args.history_mins < 0 {
        bail!(
            "--duration-secs and --interval-secs must be at least 1, --history-mins not negative"
        );
    }
    if !(0.0..=100.0).contains(&args.resend_percent) {
        bail!("--resend-percent must be between 0 and 100");
    }
    if args
        .database_url
        .as_deref()
        .is_some_and(|u| !u.starts_with("postgres:") && !u.starts_with("postgresql:"))
    {
        bail!("--database-url must be a postgres:// URL (a scratch database is created there)");
    }
    let database = ScratchDb::prepare(args.database_url.as_deref(), "bench").await?;
    let result = if args.city_day {
        super::city_day::run(&args, &database).await
    } else {
        measure(&args, &database).await
    };
    finish(database, args.keep_database, result).await
}

/// Everything between creating the database and removing it.
async fn measure(args: &IngestArgs, database: &ScratchDb) -> Result<()> {
    let store = in_process::open_store(database).await?;
    let backend = match store.backend() {
        propusk_store::Backend::Sqlite => "SQLite (WAL, synchronous=FULL)",
        propusk_store::Backend::Postgres => "PostgreSQL",
    };

    // Setup first, so that the server's periodic sweep (every minute from its start) does
    // not run during a short measurement.
    let setup_started = Instant::now();
    let history_until = Timestamp::from_second((Timestamp::now() - BACKDATE).as_second())?;
    let enrolled_at = history_until - SignedDuration::from_mins(args.history_mins);
    let (phones, history) = prepare_phones(
        &store,
        args.devices,
        args.seed,
        enrolled_at,
        move |_| history_until,
        args.interval_secs,
    )
    .await?;
    let setup_time = setup_started.elapsed();

    let app =
        in_process::start_server(&store, Clock::system(), Some(args.max_in_flight), None).await?;
    let base = format!("http://{}", app.addr());

    let room =
        (BACKDATE.as_secs() + (args.warmup_secs + args.duration_secs) as i64) / args.interval_secs;
    print_header("propusk bench ingest");
    println!(
        "  server:      in this process on {base} (max in flight {}), with the load generator",
        args.max_in_flight
    );
    println!("  database:    {backend}, {}", redact(database.url()));
    println!(
        "  workload:    POST /api/v1/device/locations, batches of {} reports, {} devices in turn, {} keep-alive HTTP/1.1 clients, {}% resent",
        args.batch, args.devices, args.concurrency, args.resend_percent
    );
    println!(
        "  reports:     one every {} s per phone; {} min of them stored in setup, then from {} min before the setup, never ahead of now (room for about {} per phone, {} in all)",
        args.interval_secs,
        args.history_mins,
        BACKDATE.as_mins(),
        room,
        room * args.devices as i64
    );
    println!(
        "  length:      {} s warm-up, then {} s measured",
        args.warmup_secs, args.duration_secs
    );
    println!(
        "  setup:       {} cases with enrolled devices and {history} earlier reports in {:.1} s (not measured)",
        args.devices,
        setup_time.as_secs_f64()
    );

    let client = in_process::http_client(args.concurrency, Duration::from_secs(60))?;
    let started = Instant::now();
    let measure_from = started + Duration::from_secs(args.warmup_secs);
    let plan = Arc::new(Plan {
        url: format!("{base}/api/v1/device/locations"),
        batch: args.batch,
        interval: args.interval_secs,
        resend: args.resend_percent,
        phones: Mutex::new(phones.into()),
        measure_from,
        measure_until: measure_from + Duration::from_secs(args.duration_secs),
        ran_dry: AtomicBool::new(false),
        ran_dry_at: Mutex::new(None),
        accepted_total: AtomicU64::new(0),
    });
    let clients: Vec<_> = (0..args.concurrency)
        .map(|i| {
            tokio::spawn(client_loop(
                client.clone(),
                plan.clone(),
                args.seed.wrapping_add(i as u64).wrapping_mul(0x9E37_79B9),
            ))
        })
        .collect();
    let (mut tally, cpu_before, cpu_after) = gather(clients, measure_from, Tally::merge).await?;

    let (secs, lat) = print_results_heading(std::mem::take(&mut tally.timings), measure_from);
    let requests = lat.len() as u64;
    println!(
        "  batches:     {requests} posted, {} answered 202 ({:.0}/s), {} of them resends",
        tally.batches,
        tally.batches as f64 / secs,
        tally.resends
    );
    println!(
        "  reports:     {} accepted ({:.0} fixes/s), {} duplicates, {} ignored",
        tally.accepted,
        tally.accepted as f64 / secs,
        tally.duplicates,
        tally.ignored
    );
    println!("  overloaded:  {} (503)", tally.overloaded);
    println!("  errors:      {}", tally.errors);
    println!(
        "  mismatched:  {} (answers not accounting for their batch exactly)",
        tally.mismatched
    );
    println!("  latency ms:  {}  (per batch)", latency_ms(&lat));
    let fixes = tally.accepted + tally.duplicates;
    print_cpu(&cpu_before, &cpu_after, secs, |used| {
        if fixes > 0 {
            format!(", {:.1} µs per report", 1e6 * used / fixes as f64)
        } else {
            String::new()
        }
    });
    if let Some(e) = &tally.first_error {
        println!("  first error: {}", e.chars().take(300).collect::<String>());
    }
    if let Some(m) = &tally.first_mismatch {
        println!("  first mismatch: {m}");
    }
    if let Some(at) = *plan.ran_dry_at.lock().expect("ran_dry_at") {
        println!(
            "  WARNING: the phones' reports reached the present after {:.1} s (of the measured window); \
             the run stopped there. Use more --devices or a larger --interval-secs.",
            at.saturating_duration_since(measure_from).as_secs_f64()
        );
    }

    app.stop().await?;
    store.close().await;
    // Every accepted report must be a stored row (the database is this run's alone).
    let accepted_total = plan.accepted_total.load(Ordering::Relaxed);
    let stored = count(database.url(), "SELECT COUNT(*) FROM location_fixes").await?;
    let flags = count(database.url(), "SELECT COUNT(*) FROM monitoring_flags").await?;
    let ok = stored == (history + accepted_total) as i64;
    println!(
        "  stored:      {stored} reports in the database for {history} stored in setup + {accepted_total} accepted (warm-up included){}",
        if ok { "" } else { "  MISMATCH" }
    );
    println!("  flags:       {flags} raised (phones at home: 0 expected)");
    if !ok || tally.mismatched > 0 || tally.errors > 0 {
        bail!("the run did not account for every report (see above)");
    }
    Ok(())
}
