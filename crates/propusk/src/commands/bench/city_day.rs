//! `propusk bench ingest --city-day`: a day of quarantine monitoring at city size — by
//! default 70,000 patients (Moscow's Social Monitoring in 2020), each phone reporting once
//! every five minutes, some of them coming back online with hours of backlog — and the day's
//! retention while it runs.
//!
//! 1. **Setup** (through the store, not measured): a case and an enrolled phone per patient,
//!    and every phone's reports from midnight UTC yesterday up to the setup (one upload per
//!    phone, evaluated as it is stored): a whole day in yesterday's partition and the hours
//!    of today. `--backlog-percent` of the phones went silent `--backlog-hours` before it.
//!    The database's size before and after gives its growth per day of reports.
//! 2. **The measured window** (`--duration-secs`, real time, open loop): each phone uploads
//!    its reports since the last upload (one, normally) at its own five-minute slot, the
//!    slots spread evenly, so the offered load is the city's: patients ÷ 300 uploads a
//!    second. A phone back from silence uploads its whole backlog at its first slot.
//!    Latency runs from the slot, not from the send, so a server that falls behind is seen
//!    in it (no coordinated omission).
//! 3. **A day's retention**, started a third into the window: yesterday's reports are erased
//!    (the partition dropped on PostgreSQL; batched deletes on SQLite) while the uploads go
//!    on. Its time is reported, and the uploads' latency during it beside the rest.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use jiff::{SignedDuration, Timestamp};
use propusk_server::Clock;
use propusk_store::{Backend, DayRetention, Store, HOLD_LIMIT, MIN_RAW};
use tokio::sync::Semaphore;

use super::ingest::{prepare_phones, IngestArgs, Phone};
use super::{count, latency_ms, print_cpu, print_header, read_response, CpuSample};
use crate::in_process;
use crate::scratch_db::{redact, ScratchDb};

/// Seconds between a phone's reports.
const INTERVAL: i64 = 300;
const DAY: i64 = 86_400;

/// What the uploads saw.
#[derive(Default)]
struct Seen {
    /// (scheduled slot, done) of every upload, and whether it overlapped the retention.
    latencies: Vec<(u32, bool)>,
    uploads: u64,
    reports: u64,
    overloaded: u64,
    errors: u64,
    first_error: Option<String>,
}

/// When the retention ran.
#[derive(Default, Clone, Copy)]
struct Window {
    from: Option<Instant>,
    until: Option<Instant>,
}

pub(super) async fn run(args: &IngestArgs, database: &ScratchDb) -> Result<()> {
    if args.patients == 0 || args.duration_secs == 0 {
        bail!("--patients and --duration-secs must be at least 1");
    }
    if !(0.0..=100.0).contains(&args.backlog_percent) || !(1..=47).contains(&args.backlog_hours) {
        bail!("--backlog-percent must be 0–100 and --backlog-hours 1–47 (reports more than 48 hours late are refused)");
    }
    let store = in_process::open_store(database).await?;
    print_header("propusk bench ingest --city-day");
    let backend = match store.backend() {
        Backend::Sqlite => "SQLite (WAL, synchronous=FULL)",
        Backend::Postgres => "PostgreSQL (location_fixes partitioned by day)",
    };
    println!("  database:    {backend}, {}", redact(database.url()));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load:        {}", load.trim());

    // 1. Setup: cases, phones, and their reports since midnight UTC yesterday.
    let now = Timestamp::now().as_second();
    let yesterday = (now.div_euclid(DAY) - 1) * DAY;
    let enrolled_at = Timestamp::from_second(yesterday - 60)?;
    let setup_until = Timestamp::from_second(now - 60)?;
    let backlog = SignedDuration::from_hours(args.backlog_hours);
    let share = args.backlog_percent;
    let silent = move |i: usize| ((i % 10_000) as f64) < share * 100.0;
    let size_before = database_size(&store).await?;
    let started = Instant::now();
    let (phones, stored) = prepare_phones(
        &store,
        args.patients,
        args.seed,
        enrolled_at,
        move |i| {
            if silent(i) {
                setup_until - backlog
            } else {
                setup_until
            }
        },
        INTERVAL,
    )
    .await?;
    let setup_secs = started.elapsed().as_secs_f64();
    let size_after = database_size(&store).await?;
    let day_rows = count(
        database.url(),
        &format!(
            "SELECT COUNT(*) FROM location_fixes WHERE ts >= {yesterday} AND ts < {}",
            yesterday + DAY
        ),
    )
    .await?;
    let hours = (now - 60 - yesterday) as f64 / 3600.0;
    let growth = (size_after.saturating_sub(size_before)) as f64 * 24.0 / hours;
    println!(
        "  setup:       {} cases and phones, {stored} reports ({hours:.1} h of them, {:.0} reports/s into the store) in {setup_secs:.0} s",
        args.patients,
        stored as f64 / setup_secs.max(1e-3)
    );
    println!(
        "  a day:       {day_rows} reports yesterday (UTC); the database grew {:.0} MB in {hours:.1} h of reports: {:.0} MB a day, {:.0} bytes a report",
        (size_after.saturating_sub(size_before)) as f64 / 1e6,
        growth / 1e6,
        (size_after.saturating_sub(size_before)) as f64 / stored.max(1) as f64
    );
    if store.backend() == Backend::Postgres {
        let day = Timestamp::from_second(yesterday)?
            .strftime("%Y%m%d")
            .to_string();
        let bytes = count(
            database.url(),
            &format!("SELECT pg_total_relation_size('location_fixes_p{day}')"),
        )
        .await?;
        println!(
            "               yesterday's partition with its indexes: {:.0} MB",
            bytes as f64 / 1e6
        );
    }

    // 2. The measured window, open loop, with 3. the retention a third into it.
    let app =
        in_process::start_server(&store, Clock::system(), Some(args.max_in_flight), None).await?;
    let url = format!("http://{}/api/v1/device/locations", app.addr());
    let client = in_process::http_client(args.concurrency, Duration::from_secs(120))?;
    let window = Duration::from_secs(args.duration_secs);
    let begin = Instant::now() + Duration::from_secs(1);
    let end = begin + window;
    println!(
        "  workload:    {} phones, one report every {INTERVAL} s each (offered {:.0} uploads/s), {}% of them back from {} h of silence; {} s measured; at most {} uploads in flight",
        args.patients,
        args.patients as f64 / INTERVAL as f64,
        args.backlog_percent,
        args.backlog_hours,
        args.duration_secs,
        args.concurrency
    );
    let seen = Arc::new(Mutex::new(Seen::default()));
    let retention_window = Arc::new(Mutex::new(Window::default()));
    let in_flight = Arc::new(Semaphore::new(args.concurrency));
    let cpu_before = CpuSample::now();
    let mut tasks = Vec::with_capacity(phones.len());
    for (i, phone) in phones.into_iter().enumerate() {
        let offset = Duration::from_secs_f64(INTERVAL as f64 * i as f64 / args.patients as f64);
        let (client, url, seen, in_flight, retention_window) = (
            client.clone(),
            url.clone(),
            seen.clone(),
            in_flight.clone(),
            retention_window.clone(),
        );
        tasks.push(tokio::spawn(async move {
            phone_loop(
                phone,
                begin + offset,
                end,
                client,
                url,
                seen,
                in_flight,
                retention_window,
            )
            .await
        }));
    }
    let retention = {
        let (store, retention_window) = (store.clone(), retention_window.clone());
        let at = begin + window / 3;
        // Yesterday ends MIN_RAW before this moment: exactly yesterday is past retention.
        let as_of = Timestamp::from_second(yesterday + DAY + MIN_RAW.as_secs() + 1)?;
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let started = Instant::now();
            retention_window.lock().expect("window").from = Some(started);
            let done = store.retain_location_days(as_of, MIN_RAW).await;
            let finished = Instant::now();
            retention_window.lock().expect("window").until = Some(finished);
            done.map(|d| (d, finished - started))
        })
    };
    for t in tasks {
        t.await?;
    }
    let (retained, retention_time): (DayRetention, Duration) = retention.await??;
    let cpu_after = CpuSample::now();
    // Rates over the window the uploads were offered in (the retention may outlast it).
    let measured = window.as_secs_f64();
    let waited = Instant::now()
        .saturating_duration_since(begin)
        .as_secs_f64();

    let seen = std::mem::take(&mut *seen.lock().expect("seen"));
    let mut all: Vec<u32> = seen.latencies.iter().map(|(l, _)| *l).collect();
    let mut during: Vec<u32> = seen
        .latencies
        .iter()
        .filter(|(_, d)| *d)
        .map(|(l, _)| *l)
        .collect();
    let mut outside: Vec<u32> = seen
        .latencies
        .iter()
        .filter(|(_, d)| !*d)
        .map(|(l, _)| *l)
        .collect();
    for v in [&mut all, &mut during, &mut outside] {
        v.sort_unstable();
    }
    println!();
    println!("results over the {measured:.0} s window (the run, retention included, took {waited:.0} s):");
    println!(
        "  uploads:     {} answered 202 ({:.0}/s steady), {} reports ({:.0}/s)",
        seen.uploads,
        seen.uploads as f64 / measured,
        seen.reports,
        seen.reports as f64 / measured
    );
    println!("  overloaded:  {} (503)", seen.overloaded);
    println!("  errors:      {}", seen.errors);
    println!(
        "  latency ms:  {}  (from the slot; every upload)",
        latency_ms(&all)
    );
    println!(
        "               {}  (the {} uploads during the retention)",
        latency_ms(&during),
        during.len()
    );
    println!(
        "               {}  (the {} outside it)",
        latency_ms(&outside),
        outside.len()
    );
    print_cpu(&cpu_before, &cpu_after, waited, |_| String::new());
    match store.backend() {
        Backend::Postgres => println!(
            "  retention:   yesterday erased in {:.3} s: {} partition(s) detached and dropped",
            retention_time.as_secs_f64(),
            retained.partitions_dropped
        ),
        Backend::Sqlite => println!(
            "  retention:   yesterday erased in {:.1} s: {} reports deleted in {} batches, the longest holding the writer {:.1} ms, {} over {} ms",
            retention_time.as_secs_f64(),
            retained.rows_deleted,
            retained.batches,
            retained.longest_hold.as_secs_f64() * 1000.0,
            retained.holds_over_limit,
            HOLD_LIMIT.as_millis()
        ),
    }
    if let Some(e) = &seen.first_error {
        println!("  first error: {}", e.chars().take(300).collect::<String>());
    }
    app.stop().await?;
    store.close().await;
    let left = count(
        database.url(),
        &format!(
            "SELECT COUNT(*) FROM location_fixes WHERE ts < {}",
            yesterday + DAY
        ),
    )
    .await?;
    println!("  left:        {left} reports of yesterday or before (0 expected)");
    if seen.errors > 0 || left > 0 {
        bail!("the run had errors or retention left reports behind (see above)");
    }
    Ok(())
}

/// One phone: at each of its slots in the window, uploads the reports it has made since its
/// last upload, and records how long after the slot the answer came.
#[allow(clippy::too_many_arguments)]
async fn phone_loop(
    mut phone: Phone,
    first: Instant,
    end: Instant,
    client: reqwest::Client,
    url: String,
    seen: Arc<Mutex<Seen>>,
    in_flight: Arc<Semaphore>,
    retention: Arc<Mutex<Window>>,
) {
    let mut slot = first;
    while slot < end {
        tokio::time::sleep_until(slot.into()).await;
        let now = Timestamp::now().as_second();
        if now - phone.next_ts < INTERVAL {
            // Never ahead of now: the report of this slot is made now.
            phone.next_ts = now - INTERVAL / 3 - 1;
        }
        let n = ((now - phone.next_ts) / INTERVAL).clamp(1, 5000) as usize;
        let body = phone.next_batch(n, INTERVAL);
        let Ok(_permit) = in_flight.acquire().await else {
            return;
        };
        let sent = client
            .post(&url)
            .bearer_auth(&phone.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let outcome = read_response(sent).await;
        let done = Instant::now();
        let w = *retention.lock().expect("window");
        let overlapped =
            w.from.is_some_and(|from| done >= from) && w.until.is_none_or(|until| slot <= until);
        let micros = u32::try_from((done - slot).as_micros()).unwrap_or(u32::MAX);
        let mut seen = seen.lock().expect("seen");
        match outcome {
            Ok((202, _)) => {
                seen.uploads += 1;
                seen.reports += n as u64;
                seen.latencies.push((micros, overlapped));
            }
            Ok((503, _)) => seen.overloaded += 1,
            Ok((status, body)) => {
                seen.errors += 1;
                seen.first_error.get_or_insert_with(|| {
                    format!("HTTP {status}: {}", String::from_utf8_lossy(&body))
                });
            }
            Err(e) => {
                seen.errors += 1;
                seen.first_error.get_or_insert(e);
            }
        }
        drop(seen);
        slot += Duration::from_secs(INTERVAL as u64);
    }
}

async fn database_size(store: &Store) -> Result<u64> {
    Ok(store.database_size().await?)
}
