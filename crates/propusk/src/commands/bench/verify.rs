//! `propusk bench verify`: what `propusk verify -` costs per token, one by one against in
//! batches, side by side in one run, and how it scales with `--jobs`.
//!
//! Tokens are minted in memory as the service issues them (Ed25519, no zlib). Each round
//! verifies all of them twice on this thread — with `verify`, one signature at a time, and
//! with `verify_many`, the batches `propusk verify -` uses — measuring the thread's CPU time
//! (`/proc/thread-self/schedstat`), which other processes on a shared machine disturb less
//! than wall time. The rounds alternate, so that both sides see the same machine. Then the
//! block verifier of `propusk verify -` runs on 1 thread and on every core (wall time).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use propusk_token::rand_core::{OsRng, RngCore};
use propusk_token::{
    seal, verify, verify_many, Algorithm, PassClaims, PassId, SigningKey, TrustList, BATCH,
};

use super::{print_header, process_cpu};
use crate::commands::verify::verify_block;

#[derive(Args, Debug)]
pub(super) struct VerifyBenchArgs {
    /// Ed25519 tokens verified per round and side.
    #[arg(long, default_value_t = 50_000)]
    tokens: usize,
    /// Rounds, each one by one then in batches.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// ES256 tokens verified (one by one: P-256 has no batch check).
    #[arg(long, default_value_t = 3_000)]
    es256_tokens: usize,
}

/// Batch over one-by-one verification on one core: the target of issue 14.
const BATCH_TARGET: f64 = 1.4;

pub(super) fn verify_bench(args: VerifyBenchArgs) -> Result<()> {
    if args.tokens == 0 || args.rounds == 0 {
        bail!("--tokens and --rounds must be at least 1");
    }
    print_header("propusk bench verify");
    let ed = SigningKey::generate(Algorithm::EdDsa, &mut OsRng);
    let es = SigningKey::generate(Algorithm::Es256, &mut OsRng);
    let trust = TrustList::new([ed.verifying_key(), es.verifying_key()]);
    let now = jiff::Timestamp::now().as_second();
    let texts = mint(&ed, args.tokens, now);
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let none = HashSet::new();
    println!(
        "  workload:    {} Ed25519 tokens as issued (raw COSE, no zlib), {} rounds; batches of {BATCH}",
        args.tokens, args.rounds
    );

    println!("  one core, CPU time of this thread:");
    let (mut single_total, mut batch_total) = (Duration::ZERO, Duration::ZERO);
    for round in 1..=args.rounds {
        let single = thread_cpu(|| {
            let valid = texts
                .iter()
                .filter(|t| verify(t, &trust, &none, now).is_valid())
                .count();
            assert_eq!(valid, texts.len(), "every minted token verifies");
        })?;
        let batch = thread_cpu(|| {
            let valid = verify_many(&texts, &trust, &none, now)
                .iter()
                .filter(|v| v.is_valid())
                .count();
            assert_eq!(valid, texts.len(), "every minted token verifies in batches");
        })?;
        println!(
            "    round {round}: one by one {}, in batches {}: {:.2}×",
            rate(texts.len(), single),
            rate(texts.len(), batch),
            single.as_secs_f64() / batch.as_secs_f64()
        );
        single_total += single;
        batch_total += batch;
    }
    let ratio = single_total.as_secs_f64() / batch_total.as_secs_f64();
    println!(
        "  batch / one by one: {ratio:.2}× over all rounds (target ≥ {BATCH_TARGET}×: {})",
        if ratio >= BATCH_TARGET {
            "met"
        } else {
            "NOT met"
        }
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Wall time, and the process's CPU time over it: how many cores the threads kept busy
    // (on a shared machine the wall-time speed-up also depends on what else runs).
    let wall = |jobs: usize| {
        let (started, cpu) = (Instant::now(), process_cpu());
        let verdicts = verify_block(&texts, jobs, &trust, &none, now);
        assert!(verdicts.iter().all(|v| v.is_valid()));
        let elapsed = started.elapsed();
        let busy = cpu
            .zip(process_cpu())
            .map_or(0.0, |(a, b)| (b - a).as_secs_f64() / elapsed.as_secs_f64());
        (elapsed, busy)
    };
    let ((one, _), (all, busy)) = (wall(1), wall(cores));
    println!(
        "  verify - blocks, wall time: --jobs 1 {}, --jobs {cores} {}: {:.2}× faster, {busy:.2} cores busy",
        rate(texts.len(), one),
        rate(texts.len(), all),
        one.as_secs_f64() / all.as_secs_f64()
    );

    if args.es256_tokens > 0 {
        let es_texts = mint(&es, args.es256_tokens, now);
        let cpu = thread_cpu(|| {
            assert!(es_texts
                .iter()
                .all(|t| verify(t, &trust, &none, now).is_valid()));
        })?;
        println!(
            "  ES256 (p256 crate), one by one, CPU time: {}",
            rate(es_texts.len(), cpu)
        );
    }
    Ok(())
}

/// `n` tokens signed by `key`, valid now, with random pass ids.
fn mint(key: &SigningKey, n: usize, now: i64) -> Vec<String> {
    (0..n)
        .map(|k| {
            let mut id = [0u8; 16];
            OsRng.fill_bytes(&mut id);
            let claims = PassClaims {
                iss: "RU-MOW".into(),
                iat: now,
                nbf: now - 60,
                exp: now + 3600,
                pass_id: PassId(id),
                purpose: "trash".into(),
                regime: "moscow-2020".into(),
                holder: format!("И.И. {:04}", k % 10_000),
                area: None,
                vehicle: None,
            };
            seal(&claims, key, false)
        })
        .collect()
}

/// The CPU time this thread spends in `work` (Linux: /proc/thread-self/schedstat).
fn thread_cpu(work: impl FnOnce()) -> Result<Duration> {
    fn on_cpu() -> Result<Duration> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
            .context("reading /proc/thread-self/schedstat (Linux only)")?;
        let ns: u64 = stat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
            .context("unexpected /proc/thread-self/schedstat")?;
        Ok(Duration::from_nanos(ns))
    }
    let before = on_cpu()?;
    work();
    Ok(on_cpu()? - before)
}

/// "24,100 tokens/s (41.5 µs each)".
fn rate(n: usize, d: Duration) -> String {
    let per = d.as_secs_f64() / n as f64;
    format!("{:.0} tokens/s ({:.1} µs each)", 1.0 / per, per * 1e6)
}
