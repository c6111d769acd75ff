//! `propusk verify`: checks pass tokens offline against a published key set,
//! one token, a QR photo, or a stream of tokens (one per line) from stdin.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use propusk_token::{verify, PassId, TrustList, Verdict};
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
    /// The token's QR text, or `-` to read one token per line from stdin.
    token: Option<String>,
}

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
    let mut check = |text: &str, out: &mut dyn Write| -> Result<()> {
        let verdict = verify(text, &trust, &revoked, now);
        all_valid &= verdict.is_valid();
        if args.json {
            writeln!(out, "{}", verdict_json(&verdict))?;
        } else {
            writeln!(out, "{}", verdict_line(&verdict))?;
        }
        Ok(())
    };

    if let Some(path) = &args.image {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let texts = qr::decode_image(&bytes).with_context(|| format!("{}", path.display()))?;
        for text in texts {
            check(&text, &mut out)?;
        }
    } else if args.token.as_deref() == Some("-") {
        let stdin = std::io::stdin();
        let mut line = String::new();
        let mut input = stdin.lock();
        // Lines are read as bytes so that invalid UTF-8 gets a verdict, not an abort.
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if input.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            line.clear();
            line.push_str(&String::from_utf8_lossy(&buf));
            check(line.trim_end_matches(['\n', '\r']), &mut out)?;
        }
    } else if let Some(token) = &args.token {
        check(token, &mut out)?;
    }
    out.flush()?;
    Ok(all_valid)
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
