//! `propusk bench revocations`: what an inspector's phone downloads to verify offline
//! after a day like Moscow's first — `--revocations` (default 900,000) live revocations —
//! and what a delta sync costs afterwards, in bytes and seconds, for each form of the list
//! (JSON, compact) with and without gzip.
//!
//! Setup (not measured): a fresh database (SQLite, or PostgreSQL with `--database-url`)
//! seeded as `propusk bench seed` does — synthetic residents and signed passes of a day, of
//! which the revocations are cancellations of passes valid for three more hours — and the
//! service started in this process. Then, for each form: a first sync from `since=0`,
//! page by page as a phone does it (`next` cursors, 10,000 entries a page); then
//! `--delta` more cancellations through the store (the path the API takes), and a delta
//! sync from the sequence the first one ended at; and a poll with nothing new (`304`).
//! Each transfer is checked: every entry arrives once.

use std::collections::HashSet;
use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use jiff::Timestamp;
use propusk_server::Clock;
use propusk_store::{Actor, CancelOutcome};

use super::seed::{live_share, load_passes, load_residents, signing_key, PassPlan};
use super::{finish, print_header};
use crate::in_process;
use crate::scratch_db::{redact, ScratchDb};

#[derive(Args, Debug)]
pub(super) struct RevocationsArgs {
    /// Live revocations in the list for the first sync.
    #[arg(long, default_value_t = 900_000)]
    revocations: u64,
    /// Cancellations between the first sync and the delta sync.
    #[arg(long, default_value_t = 1_000)]
    delta: u64,
    /// postgres://USER@HOST/DB: a fresh database is created on that server (and dropped
    /// afterwards). Default: a fresh SQLite database in a temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep the database the benchmark created.
    #[arg(long)]
    keep_database: bool,
}

pub(super) async fn revocations(args: RevocationsArgs) -> Result<()> {
    if args.revocations == 0 {
        bail!("--revocations must be at least 1");
    }
    let database = ScratchDb::prepare(args.database_url.as_deref(), "bench").await?;
    let result = measure(&args, &database).await;
    finish(database, args.keep_database, result).await
}

/// One sync's cost.
struct Transfer {
    requests: u64,
    bytes: u64,
    entries: u64,
    secs: f64,
    sequence: u64,
}

async fn measure(args: &RevocationsArgs, database: &ScratchDb) -> Result<()> {
    let store = in_process::open_store(database).await?;
    print_header("propusk bench revocations");
    println!("  database:    {}", redact(database.url()));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load:        {}", load.trim());

    // Enough passes of a day that `revocations` of them are still valid three hours on.
    let passes = (args.revocations as f64 / live_share() * 1.02).ceil() as u64;
    let residents = (passes / 3).max(1);
    let started = Instant::now();
    load_residents(&store, residents, 2020, 50_000).await?;
    let keys = std::env::temp_dir().join(format!("propusk-bench-keys-{}", std::process::id()));
    let key = signing_key(&keys)?;
    let plan = PassPlan {
        residents,
        passes,
        revocations: args.revocations,
        seed: 2020,
        batch: 50_000,
    };
    let (made, revoked) = load_passes(&store, &plan, key).await?;
    let _ = std::fs::remove_dir_all(&keys);
    println!(
        "  setup:       {residents} residents, {made} passes, {revoked} of them cancelled, in {:.0} s (not measured)",
        started.elapsed().as_secs_f64()
    );
    if revoked < args.revocations * 99 / 100 {
        bail!("only {revoked} revocations were made");
    }

    let app = in_process::start_server(&store, Clock::system(), None, None).await?;
    let base = format!("http://{}/api/v1/revocations", app.addr());
    let client = in_process::http_client(1, Duration::from_secs(300))?;
    println!();
    println!(
        "{:<28} {:>9} {:>14} {:>10} {:>9} {:>12}",
        "sync", "requests", "bytes", "bytes/entry", "seconds", "entries"
    );
    let forms = [
        ("json", false),
        ("json", true),
        ("compact", false),
        ("compact", true),
    ];
    let mut first = Vec::new();
    for (format, gzip) in forms {
        let t = sync(&client, &base, format, gzip, 0).await?;
        if t.entries != revoked {
            bail!(
                "a first sync ({format}) got {} entries of {revoked}",
                t.entries
            );
        }
        report(
            &format!("first, {format}{}", if gzip { " + gzip" } else { "" }),
            &t,
        );
        first.push(t);
    }

    // Delta: more cancellations by their holders, through the store.
    let cancelled = cancel_more(database.url(), &store, args.delta).await?;
    for ((format, gzip), before) in forms.into_iter().zip(&first) {
        let t = sync(&client, &base, format, gzip, before.sequence).await?;
        if t.entries != cancelled {
            bail!(
                "a delta sync ({format}) got {} entries of {cancelled}",
                t.entries
            );
        }
        report(
            &format!(
                "delta of {cancelled}, {format}{}",
                if gzip { " + gzip" } else { "" }
            ),
            &t,
        );
    }
    // Nothing new: the phone's conditional poll.
    let latest = first[0].sequence + cancelled;
    let url = format!("{base}?since={latest}&format=compact");
    let etag = client
        .get(&url)
        .send()
        .await?
        .headers()
        .get("etag")
        .cloned()
        .context("no ETag")?;
    let started = Instant::now();
    let r = client
        .get(&url)
        .header("if-none-match", etag)
        .send()
        .await?;
    let status = r.status().as_u16();
    let body = r.bytes().await?.len();
    println!(
        "{:<28} {:>9} {:>14} {:>10} {:>9.3} {:>12}",
        format!("poll, nothing new: {status}"),
        1,
        body,
        "",
        started.elapsed().as_secs_f64(),
        0
    );
    app.stop().await?;
    store.close().await;
    Ok(())
}

fn report(name: &str, t: &Transfer) {
    println!(
        "{:<28} {:>9} {:>14} {:>10.1} {:>9.2} {:>12}",
        name,
        t.requests,
        t.bytes,
        t.bytes as f64 / t.entries.max(1) as f64,
        t.secs,
        t.entries
    );
}

/// A sync from `since` as a phone makes it, following `next`; bytes as they came over the
/// wire (compressed when gzip), every entry counted once.
async fn sync(
    client: &reqwest::Client,
    base: &str,
    format: &str,
    gzip: bool,
    since: u64,
) -> Result<Transfer> {
    let started = Instant::now();
    let mut query = format!("since={since}");
    let (mut requests, mut bytes, mut entries, mut seen) = (0, 0, 0, HashSet::new());
    loop {
        let mut request = client.get(format!("{base}?{query}&format={format}"));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            bail!("HTTP {}", response.status());
        }
        let zipped = response
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v == "gzip");
        let body = response.bytes().await?;
        requests += 1;
        bytes += body.len() as u64;
        let body = if zipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out)?;
            out
        } else {
            body.to_vec()
        };
        let (sequence, next, keys) = match format {
            "json" => json_page(&body)?,
            _ => compact_page(&body)?,
        };
        for key in keys {
            if !seen.insert(key) {
                bail!("an entry came twice");
            }
            entries += 1;
        }
        match next {
            Some(next) => query = format!("next={next}"),
            None => {
                return Ok(Transfer {
                    requests,
                    bytes,
                    entries,
                    secs: started.elapsed().as_secs_f64(),
                    sequence,
                })
            }
        }
    }
}

type Page = (u64, Option<String>, Vec<Vec<u8>>);

fn json_page(body: &[u8]) -> Result<Page> {
    let v: serde_json::Value = serde_json::from_slice(body)?;
    let keys = v["revoked"]
        .as_array()
        .context("no revoked")?
        .iter()
        .map(|e| {
            e["pass_id"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec()
        })
        .collect();
    Ok((
        v["sequence"].as_u64().context("no sequence")?,
        v["next"].as_str().map(str::to_string),
        keys,
    ))
}

fn compact_page(b: &[u8]) -> Result<Page> {
    if b.len() < 26 || &b[..4] != b"PRL1" {
        bail!("not a compact page");
    }
    let sequence = u64::from_be_bytes(b[4..12].try_into()?);
    let n = usize::from(u16::from_be_bytes([b[20], b[21]]));
    let next = (n > 0).then(|| String::from_utf8_lossy(&b[22..22 + n]).into_owned());
    let count = u32::from_be_bytes(b[22 + n..26 + n].try_into()?) as usize;
    let body = &b[26 + n..];
    if body.len() != count * 12 {
        bail!("a compact page of the wrong length");
    }
    Ok((
        sequence,
        next,
        body.chunks(12).map(|e| e[..8].to_vec()).collect(),
    ))
}

/// Cancels `n` more live passes, as their holders would; returns how many.
async fn cancel_more(url: &str, store: &propusk_store::Store, n: u64) -> Result<u64> {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let live: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, resident_id FROM passes WHERE cancelled_at IS NULL AND valid_until > $1 LIMIT $2",
    )
    .bind(Timestamp::now().as_second() + 3600)
    .bind(n as i64)
    .fetch_all(&mut conn)
    .await?;
    sqlx::Connection::close(conn).await?;
    let mut cancelled = 0;
    for (id, resident) in live {
        let outcome = store
            .cancel_pass(
                &id,
                &Actor::Resident(resident),
                "cancelled by holder",
                Timestamp::now(),
            )
            .await?;
        cancelled += u64::from(matches!(outcome, CancelOutcome::Cancelled(_)));
    }
    Ok(cancelled)
}
