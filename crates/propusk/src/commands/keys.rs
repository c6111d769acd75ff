//! `propusk keys`: the signing keys in the data directory.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use propusk_token::Algorithm;

use crate::keyring::{write_atomically, Keyring};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate a key. It signs if there is no signing key yet; otherwise it is
    /// published for verification, ready for a later `rotate --to`.
    Generate {
        #[arg(long, default_value = "ed25519", value_name = "ed25519|es256")]
        alg: Algorithm,
        /// Also write the public key set (JWKS) to this file.
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
    },
    /// List the keys with their status.
    List,
    /// Make a new key (or, with --to, an existing one) the signing key; the old
    /// one keeps verifying until retired.
    Rotate {
        #[arg(long, default_value = "ed25519", value_name = "ed25519|es256")]
        alg: Algorithm,
        /// A key id may begin with `-` (base64url), so hyphen values are taken as the id.
        #[arg(long, value_name = "KID", allow_hyphen_values = true)]
        to: Option<String>,
    },
    /// Stop publishing a key: passes it signed no longer verify.
    Retire {
        /// The key id, as `keys list` shows it; it may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Write the public key set (JWKS, RFC 7517) to a file, or `-` for stdout; with
    /// `--private`, copy every key with its private half into a new directory (a backup,
    /// to keep apart from the database's; `propusk restore --keys DIR` installs it).
    Export {
        #[arg(long, value_name = "FILE|DIR", default_value = "-")]
        out: PathBuf,
        /// Export the private keys too, into the new directory `--out`.
        #[arg(long)]
        private: bool,
    },
}

pub fn run(data_dir: &std::path::Path, command: KeysCommand) -> Result<()> {
    let mut ring = Keyring::open(data_dir)?;
    match command {
        KeysCommand::Generate { alg, jwks } => {
            let entry = ring.generate(alg, false)?;
            println!(
                "generated {} key {} ({:?})",
                entry.alg, entry.kid, entry.status
            );
            if let Some(path) = jwks {
                export(&ring, &path)?;
            }
        }
        KeysCommand::List => {
            println!("{:<12} {:<8} {:<10} created", "kid", "alg", "status");
            for k in ring.entries() {
                println!(
                    "{:<12} {:<8} {:<10} {}",
                    k.kid,
                    k.alg,
                    format!("{:?}", k.status).to_lowercase(),
                    k.created_at
                );
            }
        }
        KeysCommand::Rotate { alg, to } => match to {
            Some(kid) => {
                ring.promote(&kid)?;
                println!("key {kid} now signs");
            }
            None => {
                let entry = ring.generate(alg, true)?;
                println!("generated {} key {}; it now signs", entry.alg, entry.kid);
            }
        },
        KeysCommand::Retire { kid } => {
            ring.retire(&kid)?;
            println!("key {kid} retired");
        }
        KeysCommand::Export {
            out,
            private: false,
        } => export(&ring, &out)?,
        KeysCommand::Export { out, private: true } => {
            if out.as_os_str() == "-" {
                anyhow::bail!("private keys are never written to standard output: give --out DIR");
            }
            let n = ring.export_private(&out)?;
            eprintln!(
                "wrote {n} keys (private halves included) to {}; keep it as safe as the keys themselves",
                out.display()
            );
        }
    }
    Ok(())
}

fn export(ring: &Keyring, path: &std::path::Path) -> Result<()> {
    let json = ring.jwks()?.to_json();
    if path.as_os_str() == "-" {
        println!("{json}");
    } else {
        write_atomically(path, json.as_bytes(), 0o644)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
