//! Mints many valid pass tokens quickly, for throughput measurements of
//! `propusk verify -` (signing them one `propusk sign` process at a time would
//! measure process start-up, not verification).
//!
//! ```text
//! cargo run --release -p propusk-token --example mint -- COUNT JWKS_OUT [ed25519|es256] > tokens.txt
//! propusk verify --keys JWKS_OUT - < tokens.txt
//! ```
//!
//! Writes the public key set to `JWKS_OUT` and one token per line to stdout,
//! each with its own random pass id, valid from an hour ago for a day.

use std::io::Write;
use std::process::ExitCode;

use propusk_token::rand_core::{OsRng, RngCore};
use propusk_token::{seal, Algorithm, Jwks, PassClaims, PassId, SigningKey};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(count), Some(jwks_path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: mint COUNT JWKS_OUT [ed25519|es256] > tokens.txt");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("COUNT must be a number, got '{count}'");
        return ExitCode::from(2);
    };
    let alg = match args.get(2).map(String::as_str) {
        None | Some("ed25519") => Algorithm::EdDsa,
        Some("es256") => Algorithm::Es256,
        Some(other) => {
            eprintln!("algorithm must be ed25519 or es256, got '{other}'");
            return ExitCode::from(2);
        }
    };
    let key = SigningKey::generate(alg, &mut OsRng);
    let public = key.verifying_key();
    if let Err(e) = std::fs::write(jwks_path, Jwks::from_keys([&public]).to_json()) {
        eprintln!("cannot write {jwks_path}: {e}");
        return ExitCode::from(2);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let purposes = ["shopping", "trash", "pet", "medical", "emergency"];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for i in 0..count {
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let claims = PassClaims {
            iss: "RU-MOW".into(),
            iat: now - 3600,
            nbf: now - 3600,
            exp: now + 86_400,
            pass_id: PassId(id),
            purpose: purposes[i % purposes.len()].into(),
            regime: "moscow-2020".into(),
            holder: format!("И.И. {:04}", i % 10_000),
            area: None,
            vehicle: None,
        };
        if writeln!(out, "{}", seal(&claims, &key, true)).is_err() {
            return ExitCode::from(1);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
