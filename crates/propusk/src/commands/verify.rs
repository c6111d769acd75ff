//! `propusk verify`: checks pass tokens offline against a published key set,
//! one token, a QR photo, or a stream of tokens (one per line) from stdin.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use propusk_token::{verify, verify_many, PassId, TrustList, Verdict, BATCH};
use serde::Deserialize;
use serde_json::json;

use crate::fetch::read_file_or_url;
use crate::qr;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["token", "image"])))]
pub struct VerifyArgs {
    /// The trust list: a JWKS file or http:// URL (e.g. http://HOST/.well-known/propusk/keys).
    #[arg(long, value_name = "JWKS_FILE_OR_URL")]
    keys: String,
    /// Revoked pass ids, as published at /api/v1/revocations (file or http:// URL).
    #[arg(long, value_name = "FILE_OR_URL")]
    revocations: Option<String>,
    /// Verify as of this instant (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<jiff::Timestamp>,
    /// One JSON object per verdict.
    #[arg(long)]
    json: bool,
    /// Read a QR code from a PNG or JPEG photo.
    #[arg(long, value_name = "QR_IMAGE")]
    image: Option<PathBuf>,
    /// With `-`: verify on this many threads (default: every core). Verdicts come out in the
    /// order the tokens came in.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: Option<u16>,
    /// The token's QR text, or `-` to read one token per line from stdin.
    token: Option<String>,
}

/// Lines read before their verdicts are written: enough to give every thread many batches,
/// few enough to keep memory small whatever the input's length.
const BLOCK_PER_JOB: usize = 64 * BATCH;

#[derive(Deserialize)]
struct RevocationList {
    revoked: Vec<RevokedEntry>,
    /// The cursor of the next page, when the list is served in pages.
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct RevokedEntry {
    pass_id: String,
}

/// The revocation list from a file (one page as saved) or a URL (every page, following the
/// `next` cursors).
fn load_revocations(location: &str) -> Result<HashSet<PassId>> {
    let mut revoked = HashSet::new();
    let mut page = location.to_string();
    loop {
        let text = read_file_or_url(&page)?;
        let list: RevocationList = serde_json::from_str(&text)
            .with_context(|| format!("{page} is not a revocation list ({{\"sequence\": N, \"revoked\": [{{\"pass_id\": …}}]}})"))?;
        for r in &list.revoked {
            revoked.insert(
                r.pass_id
                    .parse::<PassId>()
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("in {page}"))?,
            );
        }
        match list.next {
            Some(next) if location.starts_with("http://") => {
                let base = location.split('?').next().unwrap_or(location);
                page = format!("{base}?next={next}");
            }
            _ => return Ok(revoked),
        }
    }
}

/// Runs the command; returns whether every token was valid.
pub fn run(args: VerifyArgs) -> Result<bool> {
    let keys_text = read_file_or_url(&args.keys)?;
    let trust = TrustList::from_jwks_json(&keys_text)
        .with_context(|| format!("trust list {}", args.keys))?;
    let revoked = match &args.revocations {
        Some(location) => load_revocations(location)?,
        None => HashSet::new(),
    };
    let now = args.at.unwrap_or_else(jiff::Timestamp::now).as_second();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_valid = true;
    let check = |text: &str, out: &mut dyn Write| -> Result<bool> {
        let verdict = verify(text, &trust, &revoked, now);
        write_verdict(&verdict, args.json, out)?;
        Ok(verdict.is_valid())
    };

    if let Some(path) = &args.image {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let texts = qr::decode_image(&bytes).with_context(|| format!("{}", path.display()))?;
        for text in texts {
            all_valid &= check(&text, &mut out)?;
        }
    } else if args.token.as_deref() == Some("-") {
        let jobs = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        );
        // A large buffer, so that a block is what one read brings (a file, a pipe's worth).
        let mut input = std::io::BufReader::with_capacity(1 << 20, std::io::stdin().lock());
        let mut lines = Vec::with_capacity(BLOCK_PER_JOB * jobs);
        loop {
            let more = read_block(&mut input, &mut lines, BLOCK_PER_JOB * jobs)?;
            let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
            for verdict in verify_block(&texts, jobs, &trust, &revoked, now) {
                all_valid &= verdict.is_valid();
                write_verdict(&verdict, args.json, &mut out)?;
            }
            if !more {
                break;
            }
        }
    } else if let Some(token) = &args.token {
        all_valid &= check(token, &mut out)?;
    }
    out.flush()?;
    Ok(all_valid)
}

/// Reads up to `max` lines into `lines` (cleared first), stopping early when no more input
/// has arrived (someone typing or scanning tokens one by one gets each verdict at once);
/// whether there may be more. Lines are read as bytes so that invalid UTF-8 gets a verdict,
/// not an abort.
fn read_block(
    input: &mut std::io::BufReader<impl std::io::Read>,
    lines: &mut Vec<String>,
    max: usize,
) -> Result<bool> {
    lines.clear();
    let mut buf = Vec::new();
    while lines.len() < max {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(false);
        }
        let line = String::from_utf8_lossy(&buf);
        lines.push(line.trim_end_matches(['\n', '\r']).to_string());
        if input.buffer().is_empty() {
            break;
        }
    }
    Ok(true)
}

/// The verdicts of a block of tokens, in order, checked on `jobs` threads, each taking whole
/// batches.
pub(crate) fn verify_block(
    texts: &[&str],
    jobs: usize,
    trust: &TrustList,
    revoked: &HashSet<PassId>,
    now: i64,
) -> Vec<Verdict> {
    let per_job = texts.len().div_ceil(jobs.max(1)).div_ceil(BATCH) * BATCH;
    if jobs <= 1 || per_job == 0 || per_job >= texts.len() {
        return verify_many(texts, trust, revoked, now);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = texts
            .chunks(per_job)
            .map(|part| scope.spawn(move || verify_many(part, trust, revoked, now)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                // A verifier thread only panics on a bug; carry it to the main thread.
                w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .collect()
    })
}

fn write_verdict(verdict: &Verdict, json: bool, out: &mut dyn Write) -> Result<()> {
    if json {
        writeln!(out, "{}", verdict_json(verdict))?;
    } else {
        writeln!(out, "{}", verdict_line(verdict))?;
    }
    Ok(())
}

pub fn verdict_json(verdict: &Verdict) -> serde_json::Value {
    let mut v = json!({ "verdict": verdict.name() });
    if let Some(kid) = verdict.kid() {
        v["kid"] = json!(kid.to_string());
    }
    if let Some(pass) = verdict.pass() {
        v["claims"] = json!(pass.claims);
    }
    if let Verdict::Malformed(reason) = verdict {
        v["reason"] = json!(reason.to_string());
    }
    v
}

fn verdict_line(verdict: &Verdict) -> String {
    let Some(pass) = verdict.pass() else {
        return verdict.to_string().to_uppercase();
    };
    let c = &pass.claims;
    let time = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| t.to_string())
    };
    format!(
        "{:<13} {} {} {} → {} holder {} pass {}",
        verdict.name().to_uppercase(),
        c.purpose,
        c.regime,
        time(c.nbf),
        time(c.exp),
        c.holder,
        c.pass_id
    )
}
