//! What verification costs per token, in CPU time of this thread (not wall
//! time, so that other work on a shared machine does not inflate it):
//!
//! - `verify`: [`propusk_token::verify`] on QR text, as `propusk verify -` calls it;
//! - `raw`: the bare signature check over the same tokens' Sig_structure bytes,
//!   the floor that verification cannot go below;
//! - `layers`: everything but the signature check (prefix, base45, zlib, COSE,
//!   Sig_structure), to show what the envelope adds.
//!
//! ```text
//! cargo run --release -p propusk-token --example mint -- 100000 keys.json > tokens.txt
//! cargo run --release -p propusk-token --example verify_cost -- keys.json tokens.txt [ROUNDS]
//! ```
//!
//! Thread CPU time comes from /proc/thread-self/schedstat (Linux), in nanoseconds.

use std::process::ExitCode;

use ciborium::value::Value;
use propusk_token::{base45_decode, verify, NoRevocations, TrustList, PREFIX};

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Runs `f` over every item `rounds` times; returns (CPU ns per item, wall ns per item).
fn measure<T>(items: &[T], rounds: usize, mut f: impl FnMut(&T) -> bool) -> (f64, f64, usize) {
    let mut ok = 0;
    let cpu0 = thread_cpu_ns();
    let wall0 = std::time::Instant::now();
    for _ in 0..rounds {
        for item in items {
            ok += usize::from(f(item));
        }
    }
    let n = (items.len() * rounds) as f64;
    let cpu = (thread_cpu_ns() - cpu0) as f64 / n;
    let wall = wall0.elapsed().as_nanos() as f64 / n;
    (cpu, wall, ok / rounds.max(1))
}

/// Peels a token down to (Sig_structure bytes, signature, kid).
fn layers(text: &str) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let bytes = base45_decode(text.strip_prefix(PREFIX)?).ok()?;
    let cose = miniz_oxide::inflate::decompress_to_vec_zlib(&bytes).ok()?;
    let Value::Tag(18, inner) = ciborium::de::from_reader::<Value, _>(cose.as_slice()).ok()? else {
        return None;
    };
    let Value::Array(parts) = *inner else {
        return None;
    };
    let Value::Bytes(protected) = &parts[0] else {
        return None;
    };
    let header: Value = ciborium::de::from_reader(protected.as_slice()).ok()?;
    let kid = header.as_map()?.iter().find_map(|(k, v)| {
        (k.as_integer() == Some(4.into()))
            .then(|| v.as_bytes().cloned())
            .flatten()
    })?;
    let Value::Bytes(sig) = &parts[3] else {
        return None;
    };
    let tbs = Value::Array(vec![
        Value::Text("Signature1".into()),
        parts[0].clone(),
        Value::Bytes(vec![]),
        parts[2].clone(),
    ]);
    let mut out = Vec::new();
    ciborium::ser::into_writer(&tbs, &mut out).ok()?;
    Some((out, sig.clone(), kid))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(keys), Some(tokens)) = (args.first(), args.get(1)) else {
        eprintln!("usage: verify_cost JWKS TOKENS_FILE [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1);
    let trust = match std::fs::read_to_string(keys)
        .map_err(|e| e.to_string())
        .and_then(|j| TrustList::from_jwks_json(&j).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{keys}: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(tokens) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{tokens}: {e}");
            return ExitCode::from(2);
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);

    let (cpu, wall, ok) = measure(&lines, rounds, |t| {
        verify(t, &trust, &NoRevocations, now).is_valid()
    });
    println!(
        "verify (QR text → verdict): {cpu:8.0} ns CPU/token ({:6.0}/s on one core), wall {wall:8.0} ns; {ok}/{} valid",
        1e9 / cpu,
        lines.len()
    );

    let (cpu, wall, ok) = measure(&lines, rounds, |t| layers(t).is_some());
    println!("layers only (no signature): {cpu:8.0} ns CPU/token, wall {wall:8.0} ns; {ok} parsed");

    let parsed: Vec<_> = lines.iter().filter_map(|t| layers(t)).collect();
    let (cpu, wall, ok) = measure(&parsed, rounds, |(tbs, sig, kid)| {
        let kid: [u8; 8] = kid.as_slice().try_into().unwrap_or_default();
        trust
            .get(&propusk_token::KeyId(kid))
            .is_some_and(|k| k.verify(tbs, sig))
    });
    println!(
        "raw signature check:        {cpu:8.0} ns CPU/token ({:6.0}/s on one core), wall {wall:8.0} ns; {ok} good",
        1e9 / cpu
    );
    ExitCode::SUCCESS
}
