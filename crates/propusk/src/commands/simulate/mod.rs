//! `propusk simulate monitoring`: the monitoring simulator of issue 6, driven through the
//! real API.
//!
//! It starts the service in this process on 127.0.0.1:0 over a fresh SQLite database in a
//! temporary directory (or a fresh database on the PostgreSQL server `--database-url`
//! names), with a [`Clock`] it moves itself, so a simulated day takes minutes. A health
//! officer (created through the store, like `propusk bench`) opens one case per patient over
//! HTTP and every patient's phone enrolls with its code at the simulated start. The core's
//! generator ([`generate_patient`]) makes each patient's day; the command then walks the
//! simulated time in ticks: it moves the clock to the end of the tick and posts every
//! phone's reports that arrive within it as one batch (`POST /api/v1/device/locations`), so
//! the server evaluates them as they come; every `--sweep-every-mins` it runs the server's
//! own periodic sweep (the job that notices silence) at that moment. Time runs on until the
//! last (possibly 48-hour-late) upload has arrived.
//!
//! At the end it reads every case over the API (`GET /api/v1/cases/{id}`), matches the
//! `left_home` flags against the patients' real departures and scores them with the core's
//! [`score`]. A flag's time to flag is the time of its `raised` event (the server's clock when
//! the upload that raised it was evaluated) minus the departure's start. The same patients
//! are also replayed by the core alone ([`replay`]), and both reports are printed, so any
//! difference between the API path and the core-only simulation is visible.
//!
//! Asking when in doubt (issue 11) is on, as in service: a phone whose upload says check-ins
//! are open fetches them, and the simulated patient answers each question the service asks
//! as the core's [`AnswerModel`] says, posting the answer when it is taken ([`questions`]).
//! Scheduled check-ins are off (they are drawn at random and judged apart from departures).
//! `--no-asking` runs the service without it, for the figures before. The simulated day
//! starts just after midnight on Moscow's clocks, so that the check-in hours fall where the
//! core's replay puts them.
//!
//! With `--traces FILE` the patient-days come from a file instead of the core's generator
//! (another generator's traces, see [`traces`] and `tests/monitoring-traces/`): homes, radii,
//! reports, upload times and the true departures are read from it, each day moved to start
//! at the simulated start, and then posted and scored exactly as above. `--json` prints the
//! figures and every patient's outcome as one JSON object instead of the text report.

mod questions;
mod traces;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};
use propusk_core::monitoring::checkins::CheckinConfig;
use propusk_core::monitoring::simulate::{
    generate_patient, replay, score, seen_by_officer, AnswerModel, AskingModel, Outcome,
    PatientDay, QualityReport, ReplayConfig, Scenario,
};
use propusk_server::Clock;
use propusk_store::Role;
use propusk_token::rand_core::{OsRng, RngCore};

use crate::in_process;
use crate::scratch_db::{random_hex, redact, ScratchDb};
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(subcommand)]
    command: SimulateCommand,
}

#[derive(Subcommand, Debug)]
enum SimulateCommand {
    /// Synthetic quarantine patients through the real monitoring API, scored for detection quality.
    Monitoring(MonitoringArgs),
}

#[derive(Args, Debug)]
struct MonitoringArgs {
    /// How many patients (one case and one phone each).
    #[arg(long, default_value_t = 500, conflicts_with = "traces")]
    patients: usize,
    /// Share of patients who really leave home, in percent (e.g. `10` or `10%`).
    #[arg(long, default_value = "10%", conflicts_with = "traces")]
    violators: String,
    /// The scenario's seed: the same seed gives the same patients and phones.
    #[arg(long, default_value_t = 2020, conflicts_with = "traces")]
    seed: u64,
    /// Read the patient-days from this JSON Lines file (one patient-day per line, made by
    /// another generator; schema in tests/monitoring-traces/README.md) instead of the core's
    /// generator. The patients, violators and seed then come from the file.
    #[arg(long, value_name = "FILE")]
    traces: Option<PathBuf>,
    /// Print the figures and every patient's outcome as one JSON object on stdout instead
    /// of the text report.
    #[arg(long)]
    json: bool,
    /// Simulated hours of reports. The core's generator makes 24-hour days, so only 24 is
    /// accepted; uploads that arrive later (offline phones, up to 48 h) are still posted.
    #[arg(long, default_value_t = 24)]
    hours: u32,
    /// sqlite://PATH (used as is) or postgres://USER@HOST/DB (a fresh database is created
    /// on that server and dropped afterwards). Default: a fresh SQLite database in a
    /// temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Simulated seconds per step: each phone's uploads arriving within a step are posted as
    /// one batch at the step's end (so a flag can be up to this late).
    #[arg(long, default_value_t = 60)]
    tick_secs: i64,
    /// Run the server's silence sweep every this many simulated minutes (the service runs
    /// it every minute of real time).
    #[arg(long, default_value_t = 5)]
    sweep_every_mins: i64,
    /// Concurrent HTTP requests.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Replay the patient-days through the core's evaluator alone, without the service: the
    /// same figures in seconds (for tuning; the acceptance is measured through the API).
    #[arg(long, conflicts_with_all = ["database_url", "concurrency", "tick_secs", "sweep_every_mins"])]
    core_only: bool,
    /// Run without asking when in doubt (the service never asks; the figures before issue 11).
    #[arg(long)]
    no_asking: bool,
}

impl MonitoringArgs {
    /// How patients answer the service's questions.
    fn answers(&self) -> AnswerModel {
        AnswerModel {
            seed: self.seed,
            ..AnswerModel::default()
        }
    }

    /// The core's replay, asking as the service does unless `--no-asking`.
    fn replay_config(&self) -> ReplayConfig {
        ReplayConfig {
            asking: (!self.no_asking).then(|| AskingModel {
                answers: self.answers(),
                ..AskingModel::default()
            }),
            ..ReplayConfig::default()
        }
    }
}

/// The next midnight after `t` on Moscow's clocks.
fn next_moscow_midnight(t: Timestamp) -> Result<Timestamp> {
    let tz = jiff::tz::TimeZone::get("Europe/Moscow")?;
    let tomorrow = t.to_zoned(tz.clone()).date().tomorrow()?;
    Ok(tomorrow.to_zoned(tz)?.timestamp())
}

pub async fn run(args: SimulateArgs) -> Result<()> {
    match args.command {
        SimulateCommand::Monitoring(args) => monitoring(args).await,
    }
}

fn parse_share(s: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .with_context(|| format!("--violators {s}: expected a percentage such as 10%"))?;
    if !(0.0..=100.0).contains(&v) {
        bail!("--violators {s}: must be between 0 and 100 %");
    }
    Ok(v / 100.0)
}

/// Moves the server's clock forward to `to` (never back: real time also passes).
fn advance_to(clock: &Clock, to: Timestamp) {
    let behind = to.duration_since(clock.now()).as_secs_f64().ceil() as i64;
    if behind > 0 {
        clock.advance(behind);
    }
}

async fn post_json(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &Value,
) -> Result<(u16, Value)> {
    let mut request = client.post(url).json(body);
    if let Some(b) = bearer {
        request = request.bearer_auth(b);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// One phone as the simulator drives it.
struct Phone {
    case_id: String,
    token: String,
}

/// What the posting saw, over all phones.
#[derive(Default)]
struct Posted {
    requests: u64,
    accepted: u64,
    duplicates: u64,
    ignored: u64,
    /// Reports older than 48 h when their upload arrived, refused by the server and dropped.
    too_old: u64,
    /// The server said check-ins are open.
    open_challenges: bool,
}

/// Posts one phone's batch; on `fix_too_old` drops what is older than 48 h and retries.
async fn post_batch(
    client: reqwest::Client,
    url: Arc<str>,
    token: String,
    mut fixes: Vec<Value>,
    now: Timestamp,
) -> Result<Posted> {
    let mut posted = Posted::default();
    loop {
        posted.requests += 1;
        let (status, body) =
            post_json(&client, &url, Some(&token), &Value::Array(fixes.clone())).await?;
        match status {
            202 => {
                posted.accepted += body["accepted"].as_u64().unwrap_or(0);
                posted.duplicates += body["duplicates"].as_u64().unwrap_or(0);
                posted.ignored += body["ignored"].as_u64().unwrap_or(0);
                posted.open_challenges = body["open_challenges"].as_u64().unwrap_or(0) > 0;
                return Ok(posted);
            }
            422 if body["code"] == "fix_too_old" => {
                let earliest = now - SignedDuration::from_hours(48) + SignedDuration::from_mins(1);
                let before = fixes.len();
                fixes.retain(|f| {
                    f["ts"]
                        .as_str()
                        .and_then(|s| s.parse::<Timestamp>().ok())
                        .is_some_and(|t| t >= earliest)
                });
                posted.too_old += (before - fixes.len()) as u64;
                if fixes.is_empty() || fixes.len() == before {
                    return Ok(posted);
                }
            }
            s => bail!("POST {url}: {s} {body}"),
        }
    }
}

fn fix_json(r: &propusk_core::monitoring::simulate::Report) -> Value {
    json!({
        "ts": r.fix.ts().to_string(),
        "lat": r.fix.point().lat(),
        "lon": r.fix.point().lon(),
        "accuracy_m": r.fix.accuracy_m(),
    })
}

/// A flag as read back over the API.
struct SeenFlag {
    kind: String,
    from: Timestamp,
    to: Timestamp,
    raised_at: Timestamp,
}

fn parse_flags(case: &Value) -> Result<Vec<SeenFlag>> {
    let mut out = Vec::new();
    for f in case["flags"].as_array().context("a case without flags")? {
        let time = |v: &Value| -> Result<Timestamp> {
            v.as_str()
                .context("missing time")?
                .parse::<Timestamp>()
                .context("bad time")
        };
        let raised_at = f["history"]
            .as_array()
            .and_then(|h| {
                h.iter()
                    .find(|e| e["event"] == "raised")
                    .map(|e| e["at"].clone())
            })
            .context("a flag without its raised event")?;
        out.push(SeenFlag {
            kind: f["kind"].as_str().unwrap_or_default().to_string(),
            from: time(&f["from"])?,
            to: time(&f["to"])?,
            raised_at: time(&raised_at)?,
        });
    }
    Ok(out)
}

/// The outcome of one patient-day as the server flagged it (and asked about it), in the
/// core's terms.
fn outcome_from_api(
    day: &PatientDay,
    flags: &[SeenFlag],
    asked: &[questions::ApiQuestion],
    day_end: Timestamp,
) -> Outcome {
    let mut first: Vec<Option<SignedDuration>> = vec![None; day.departures.len()];
    let mut false_flags = 0;
    for f in flags.iter().filter(|f| f.kind == "left_home") {
        let mut matched = false;
        for (d, first) in day.departures.iter().zip(first.iter_mut()) {
            if f.from <= d.end && d.start <= f.to {
                matched = true;
                // A flag raised before the departure (and extended into it) counts from the
                // departure's start.
                let t = f
                    .raised_at
                    .duration_since(d.start)
                    .max(SignedDuration::ZERO);
                *first = Some(first.map_or(t, |x| x.min(t)));
            }
        }
        if !matched {
            false_flags += 1;
        }
    }
    use propusk_core::monitoring::simulate::AskedAbout;
    Outcome {
        index: day.index,
        violator: day.violator,
        seen: seen_by_officer(day, &first, asked),
        questions: asked.len(),
        answered: asked.iter().filter(|q| q.answered()).count(),
        departures: day
            .departures
            .iter()
            .zip(first)
            .map(|(d, f)| (d.observable, f))
            .collect(),
        false_flags,
        phone_died: day.phone_died,
        no_signal_flags: flags
            .iter()
            // As the core judges it: raised by the day's end. (The case goes on after the
            // simulated day, whose phones then fall silent.)
            .filter(|f| f.kind == "no_signal" && f.from < day_end && f.raised_at <= day_end)
            .count(),
        reports: day.reports.len(),
    }
}

async fn monitoring(args: MonitoringArgs) -> Result<()> {
    if args.hours != 24 {
        bail!("--hours: the core's generator makes 24-hour patient-days; only 24 is supported");
    }
    if args.patients == 0 || args.tick_secs <= 0 || args.sweep_every_mins <= 0 {
        bail!("--patients, --tick-secs and --sweep-every-mins must be positive");
    }
    let violator_share = parse_share(&args.violators)?;
    // Another generator's patient-days, read (and checked) before anything starts.
    let traced = match &args.traces {
        Some(path) => Some(traces::read(path)?),
        None => None,
    };
    let patients = traced.as_ref().map_or(args.patients, Vec::len);
    if args.core_only {
        return core_only(&args, traced.as_deref(), violator_share);
    }
    let wall = Instant::now();

    let database = ScratchDb::prepare(args.database_url.as_deref(), "simulate").await?;
    let store = in_process::open_store(&database).await?;
    let backend = match store.backend() {
        propusk_store::Backend::Sqlite => "SQLite",
        propusk_store::Backend::Postgres => "PostgreSQL",
    };
    let clock = Clock::system();
    // The day starts just after midnight in Moscow (the cases' clocks): check-in hours fall
    // where the core's replay puts them.
    advance_to(&clock, next_moscow_midnight(clock.now())?);
    let mut settings = propusk_server::monitoring::MonitoringSettings::default();
    settings.checkins = CheckinConfig::new(
        settings.checkins.hours(),
        0,
        settings.checkins.deadline(),
        settings.checkins.min_gap(),
    )?;
    settings.asking.enabled = !args.no_asking;
    let app = in_process::start_server(&store, clock.clone(), None, Some(settings)).await?;
    let base = format!("http://{}", app.addr());
    let client = in_process::http_client(args.concurrency, std::time::Duration::from_secs(120))?;

    // A health officer with a session (setup through the store, as `propusk bench` does).
    let now = clock.now();
    let hash = propusk_server::auth::hash_password(&random_hex())?;
    let officer = store
        .add_staff(
            &format!("sim-health-{}", random_hex()),
            Role::Health,
            &hash,
            now,
        )
        .await?
        .context("the officer's username is taken")?;
    let officer_token = in_process::new_session(
        &store,
        &officer.id,
        Role::Health,
        SignedDuration::from_hours(24 * 30),
        now,
    )
    .await?;

    // The cases (homes and radii from the generator, which do not depend on the day's
    // start) and the enrollments, over HTTP.
    let provisional = Scenario {
        seed: args.seed,
        patients: args.patients,
        violator_share,
        ..Scenario::default()
    };
    let starts_at = clock.now() - SignedDuration::from_mins(1);
    let ends_at = starts_at + SignedDuration::from_hours(24 * 14);
    let block = 10 + OsRng.next_u64() % 90;
    let mut phones: Vec<Phone> = Vec::with_capacity(patients);
    for i in 0..patients {
        let fence = match &traced {
            Some(t) => t[i].day.fence,
            None => generate_patient(&provisional, i).fence,
        };
        let (status, body) = post_json(
            &client,
            &format!("{base}/api/v1/cases"),
            Some(&officer_token),
            &json!({
                "phone": format!("+79{block:02}{i:07}"),
                "full_name": "Сидорова Анна Павловна",
                "home": {
                    "address": format!("Москва, пациент {i}"),
                    "lat": fence.home().lat(),
                    "lon": fence.home().lon(),
                },
                "radius_m": fence.radius_m(),
                "starts_at": starts_at.to_string(),
                "ends_at": ends_at.to_string(),
                "time_zone": "Europe/Moscow",
            }),
        )
        .await?;
        if status != 201 {
            bail!("POST /api/v1/cases: {status} {body}");
        }
        let case_id = body["id"].as_str().context("no case id")?.to_string();
        let code = body["enrollment_code"]
            .as_str()
            .context("no enrollment code")?
            .to_string();
        let (status, body) = post_json(
            &client,
            &format!("{base}/api/v1/device/enroll"),
            None,
            &json!({ "enrollment_code": code }),
        )
        .await?;
        if status != 201 {
            bail!("POST /api/v1/device/enroll: {status} {body}");
        }
        let token = body["device_token"]
            .as_str()
            .context("no device token")?
            .to_string();
        phones.push(Phone { case_id, token });
    }
    let setup_time = wall.elapsed();

    // The simulated day starts once every phone is enrolled (monitoring counts from the
    // enrollment, so no report may predate it), on a whole second.
    let day_start = Timestamp::from_second(clock.now().as_second() + 2)?;
    advance_to(&clock, day_start);
    let scenario = Scenario {
        day_start,
        ..provisional
    };
    let days: Vec<PatientDay> = match &traced {
        Some(t) => t
            .iter()
            .map(|d| d.starting_at(day_start))
            .collect::<Result<_>>()?,
        None => (0..patients)
            .map(|i| generate_patient(&scenario, i))
            .collect(),
    };

    // Every upload, by the tick it arrives in.
    let tick = SignedDuration::from_secs(args.tick_secs);
    let tick_of = |t: Timestamp| -> i64 {
        let s = t.duration_since(day_start).as_secs_f64();
        (s / args.tick_secs as f64).ceil().max(1.0) as i64
    };
    let mut schedule: BTreeMap<i64, Vec<(usize, Vec<Value>)>> = BTreeMap::new();
    for (i, day) in days.iter().enumerate() {
        let mut by_tick: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
        for r in &day.reports {
            by_tick
                .entry(tick_of(r.arrives_at))
                .or_default()
                .push(fix_json(r));
        }
        for (t, fixes) in by_tick {
            schedule.entry(t).or_default().push((i, fixes));
        }
    }
    let mut questions = questions::Questions::new(phones.len());
    let answers = args.answers();
    let last_tick = schedule.keys().next_back().copied().unwrap_or(0);
    let sweep_every = args.sweep_every_mins * 60 / args.tick_secs.min(args.sweep_every_mins * 60);
    let sweep_every = sweep_every.max(1);

    let url: Arc<str> = Arc::from(format!("{base}/api/v1/device/locations"));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut posted = Posted::default();
    let mut sweeps = 0u64;
    let sim_started = Instant::now();
    let mut t = 0;
    while t < last_tick || questions.due.keys().next_back().is_some_and(|&k| k > t) {
        t += 1;
        let batches = schedule.remove(&t);
        let due = questions.due.remove(&t);
        let is_sweep = t % sweep_every == 0;
        if batches.is_none() && due.is_none() && !is_sweep {
            continue;
        }
        let now = day_start + tick * t as i32;
        advance_to(&clock, now);
        // Answers taken within this tick go first, as the core's replay evaluates them
        // before the uploads that arrive after them.
        for a in due.into_iter().flatten() {
            questions::post(&client, &base, &phones[a.phone].token, &a).await?;
        }
        if let Some(batches) = batches {
            let mut tasks = tokio::task::JoinSet::new();
            for (i, fixes) in batches {
                let permit = semaphore.clone().acquire_owned().await?;
                let (client, url, token) = (client.clone(), url.clone(), phones[i].token.clone());
                tasks.spawn(async move {
                    let out = post_batch(client, url, token, fixes, now).await;
                    drop(permit);
                    out.map(|p| (i, p))
                });
            }
            let mut asked = Vec::new();
            while let Some(done) = tasks.join_next().await {
                let (i, p) = done.context("a posting task")??;
                posted.requests += p.requests;
                posted.accepted += p.accepted;
                posted.duplicates += p.duplicates;
                posted.ignored += p.ignored;
                posted.too_old += p.too_old;
                if p.open_challenges {
                    asked.push(i);
                }
            }
            asked.sort_unstable();
            for i in asked {
                let phone = (i, phones[i].token.as_str());
                questions
                    .fetch(&client, &base, phone, &days[i], &answers, tick_of)
                    .await?;
            }
        }
        if is_sweep {
            propusk_server::monitoring::sweep(app.state()).await?;
            sweeps += 1;
        }
    }
    let sim_end = clock.now();
    let sim_time = sim_started.elapsed();

    // What the server flagged, read over the API.
    let day_end = day_start + SignedDuration::from_hours(24);
    let mut api_outcomes = Vec::with_capacity(days.len());
    let mut api_flags = Vec::with_capacity(days.len());
    for (day, phone) in days.iter().zip(&phones) {
        let url = format!("{base}/api/v1/cases/{}", phone.case_id);
        let response = client.get(&url).bearer_auth(&officer_token).send().await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await?;
        if status != 200 {
            bail!("GET {url}: {status} {body}");
        }
        let flags = parse_flags(&body)?;
        let asked = questions::read(&client, &base, &officer_token, &phone.case_id).await?;
        api_outcomes.push(outcome_from_api(day, &flags, &asked, day_end));
        api_flags.push(flags);
    }
    let api_report = score(&api_outcomes);

    // The same patients replayed by the core alone.
    let cfg = args.replay_config();
    let core_outcomes: Vec<Outcome> = days.iter().map(|d| replay(d, day_start, &cfg)).collect();
    let core_report = score(&core_outcomes);

    app.stop().await?;
    let database_shown = redact(database.url());
    database.remove().await?;

    let source = match &args.traces {
        Some(path) => format!(
            "{} patient-days from {} ({} violators), times moved to the simulated start",
            patients,
            path.display(),
            days.iter().filter(|d| d.violator).count()
        ),
        None => format!(
            "seed {}, {} patients, {:.1} % violators, 24 h of reports, the core's default NoiseModel",
            args.seed,
            patients,
            100.0 * violator_share
        ),
    };
    if args.json {
        let since = |t: Timestamp| t.duration_since(day_start).as_secs_f64();
        let patients_json: Vec<Value> = days
            .iter()
            .zip(&api_outcomes)
            .zip(&core_outcomes)
            .zip(&api_flags)
            .map(|(((day, api), core), flags)| {
                json!({
                    "index": day.index,
                    "violator": day.violator,
                    "phone_died": day.phone_died,
                    "reports": day.reports.len(),
                    "api": outcome_json(api),
                    "core": outcome_json(core),
                    "flags": flags.iter().map(|f| json!({
                        "kind": f.kind,
                        "from_s": since(f.from),
                        "to_s": since(f.to),
                        "raised_s": since(f.raised_at),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = json!({
            "command": std::env::args().collect::<Vec<_>>(),
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "source": source,
            "traces": args.traces.as_ref().map(|p| p.display().to_string()),
            "seed": if args.traces.is_none() { Some(args.seed) } else { None },
            "backend": backend,
            "database": database_shown,
            "asking": !args.no_asking,
            "tick_secs": args.tick_secs,
            "sweep_every_mins": args.sweep_every_mins,
            "simulated_hours": sim_end.duration_since(day_start).as_secs_f64() / 3600.0,
            "uploads": {
                "requests": posted.requests,
                "accepted": posted.accepted,
                "duplicates": posted.duplicates,
                "ignored": posted.ignored,
                "too_old": posted.too_old,
            },
            "wall_secs": wall.elapsed().as_secs_f64(),
            "api": report_json(&api_report),
            "core": report_json(&core_report),
            "agree": api_report == core_report,
            "patients": patients_json,
        });
        println!("{out}");
        return Ok(());
    }

    println!("propusk simulate monitoring");
    println!(
        "  command:      {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "  date:         {}",
        Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC")
    );
    println!(
        "  build:        {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("  scenario:     {source}");
    println!(
        "  asking:       {}",
        if args.no_asking {
            "off (--no-asking): the service never asks"
        } else {
            "on: immediate check-ins when a fresh confident fix is far from home, answered as the core's AnswerModel says"
        }
    );
    println!(
        "  server:       in this process on {base}, {backend} ({}), its own Clock moved by the simulator",
        database_shown
    );
    println!(
        "  driving:      {} s ticks (each phone's uploads within a tick posted as one batch at its end), server sweep every {} simulated min ({sweeps} sweeps), {} concurrent requests",
        args.tick_secs, args.sweep_every_mins, args.concurrency
    );
    println!(
        "  simulated:    {day_start} to {sim_end} ({:.1} h, until the last late upload)",
        sim_end.duration_since(day_start).as_secs_f64() / 3600.0
    );
    println!(
        "  uploads:      {} POST /api/v1/device/locations; reports accepted {}, duplicates {}, ignored {}, refused as older than 48 h {}",
        posted.requests, posted.accepted, posted.duplicates, posted.ignored, posted.too_old
    );
    println!(
        "  wall time:    setup {:.1} s ({} cases + enrollments over HTTP), simulation {:.1} s, total {:.1} s",
        setup_time.as_secs_f64(),
        patients,
        sim_time.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    print_report(
        "through the API (flags read with GET /api/v1/cases/{id})",
        &api_report,
    );
    print_report("core only (the same patient-days, replay())", &core_report);
    let same = api_report == core_report;
    println!(
        "\nAPI path and core-only replay {}",
        if same {
            "agree exactly"
        } else {
            "differ (see above)"
        }
    );
    Ok(())
}

/// `--core-only`: the evaluator alone over the same patient-days, with the false flags and
/// misses listed per patient.
fn core_only(args: &MonitoringArgs, traced: Option<&[traces::TraceDay]>, share: f64) -> Result<()> {
    let scenario = Scenario {
        seed: args.seed,
        patients: args.patients,
        violator_share: share,
        ..Scenario::default()
    };
    let day_start = scenario.day_start;
    let days: Vec<PatientDay> = match traced {
        Some(t) => t
            .iter()
            .map(|d| d.starting_at(day_start))
            .collect::<Result<_>>()?,
        None => (0..scenario.patients)
            .map(|i| generate_patient(&scenario, i))
            .collect(),
    };
    let cfg = args.replay_config();
    let outcomes: Vec<Outcome> = days.iter().map(|d| replay(d, day_start, &cfg)).collect();
    for o in &outcomes {
        let missed = o
            .departures
            .iter()
            .filter(|(observable, first)| *observable && first.is_none())
            .count();
        if o.false_flags > 0 || missed > 0 {
            println!(
                "patient {} ({}): {} false left_home episode(s), {} observable departure(s) missed",
                o.index,
                if o.violator { "violator" } else { "compliant" },
                o.false_flags,
                missed
            );
        }
    }
    print_report("core only", &score(&outcomes));
    Ok(())
}

fn print_report(title: &str, r: &QualityReport) {
    println!("\n{title}:");
    for line in r.to_string().lines() {
        println!("  {line}");
    }
    println!(
        "  meets the acceptance of issue 6: {}",
        if r.meets_acceptance() { "yes" } else { "NO" }
    );
}

fn minutes(d: Option<SignedDuration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() / 60.0)
}

/// The figures of a [`QualityReport`], for `--json`.
fn report_json(r: &QualityReport) -> Value {
    json!({
        "patient_days": r.patient_days,
        "compliant_days": r.compliant_days,
        "compliant_days_flagged": r.compliant_days_flagged,
        "false_flag_rate": r.false_flag_rate(),
        "violator_false_flags": r.violator_false_flags,
        "departures": r.departures,
        "departures_observable": r.departures_observable,
        "departures_flagged": r.departures_flagged,
        "detection_rate": r.detection_rate(),
        "unobservable_flagged": r.unobservable_flagged,
        "median_time_to_flag_min": minutes(r.median_time_to_flag),
        "p90_time_to_flag_min": minutes(r.p90_time_to_flag),
        "dead_phone_days": r.dead_phone_days,
        "dead_phone_days_with_no_signal": r.dead_phone_days_with_no_signal,
        "no_signal_days": r.no_signal_days,
        "reports": r.reports,
        "median_time_to_officer_min": minutes(r.median_time_to_officer),
        "p90_time_to_officer_min": minutes(r.p90_time_to_officer),
        "questions": r.questions,
        "questions_answered": r.questions_answered,
        "questions_to_compliant": r.questions_to_compliant,
        "compliant_days_asked": r.compliant_days_asked,
        "meets_acceptance": r.meets_acceptance(),
    })
}

/// One patient-day's [`Outcome`], for `--json`.
fn outcome_json(o: &Outcome) -> Value {
    json!({
        "departures": o.departures.iter().map(|(observable, t)| json!({
            "observable": observable,
            "time_to_flag_s": t.map(|t| t.as_secs_f64()),
        })).collect::<Vec<_>>(),
        "time_to_officer_s": o.seen.iter().map(|t| t.map(|t| t.as_secs_f64())).collect::<Vec<_>>(),
        "questions": o.questions,
        "answered": o.answered,
        "false_flags": o.false_flags,
        "no_signal_flags": o.no_signal_flags,
    })
}
