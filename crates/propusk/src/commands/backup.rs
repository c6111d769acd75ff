//! `propusk backup` and `propusk restore`: the embedded database's online backup, and
//! putting one (with the exported keys) into an empty data directory.
//!
//! A backup is taken while the service runs (`VACUUM INTO`: a consistent snapshot, see
//! `propusk_store`'s `backup`). The signing keys live beside the database, not in it, and
//! are exported separately (`propusk keys export --private --out DIR`): a stolen database
//! backup must not let anyone sign passes. PostgreSQL is backed up with pg_basebackup and
//! WAL archiving (docs/deploy.md).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use propusk_store::{inspect_backup, BackupReport, Store};

use super::serve::StoreArgs;
use crate::keyring::Keyring;

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup file to write (it must not exist).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup made by `propusk backup`.
    pub file: PathBuf,
    /// The keys exported with `propusk keys export --private --out DIR`.
    #[arg(long, value_name = "DIR")]
    pub keys: Option<PathBuf>,
    /// The data directory to restore into; it must hold no database and no keys.
    #[arg(long, env = "PROPUSK_DATA_DIR", default_value = "./propusk-data")]
    pub data_dir: PathBuf,
}

fn print_report(report: &BackupReport) {
    println!(
        "{} residents, {} passes, {} revocations, {} quarantine cases; {} bytes; schema {}",
        report.residents,
        report.passes,
        report.revocations,
        report.cases,
        report.bytes,
        report.migrations.last().map_or("none", String::as_str)
    );
}

pub async fn backup(args: BackupArgs) -> Result<()> {
    let (_, _, url) = args.store.resolve()?;
    if !url.starts_with("sqlite:") {
        bail!(
            "propusk backup copies the embedded SQLite database; PostgreSQL is backed up with \
             pg_basebackup and WAL archiving (docs/deploy.md)"
        );
    }
    if args.to.exists() {
        bail!(
            "{} exists already; a backup never overwrites a file",
            args.to.display()
        );
    }
    let store = Store::open(&url)
        .await
        .context("cannot open the database")?;
    let report = store.backup_to(&args.to).await;
    store.close().await;
    let report = report.with_context(|| format!("cannot back up to {}", args.to.display()))?;
    if report.integrity != "ok" {
        bail!(
            "the backup {} fails its integrity check: {}",
            args.to.display(),
            report.integrity
        );
    }
    println!("backed up to {}", args.to.display());
    print_report(&report);
    println!(
        "The signing keys are not in it: `propusk keys export --private --out DIR` copies them."
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> Result<()> {
    let database = args.data_dir.join("propusk.db");
    if database.exists() {
        bail!(
            "{} exists already; restore into an empty data directory (move the old one aside first)",
            database.display()
        );
    }
    let report = inspect_backup(&args.file)
        .await
        .with_context(|| format!("{} cannot be read as a backup", args.file.display()))?;
    if report.integrity != "ok" {
        bail!(
            "{} fails its integrity check: {}",
            args.file.display(),
            report.integrity
        );
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    if let Some(keys) = &args.keys {
        let ring = Keyring::import(&args.data_dir, keys)?;
        println!(
            "restored {} keys from {}",
            ring.entries().len(),
            keys.display()
        );
    } else if Keyring::open(&args.data_dir)?.entries().is_empty() {
        eprintln!(
            "warning: no --keys: the service will make a new signing key, and passes signed before \
             will not verify until the old keys are restored"
        );
    }
    copy_durably(&args.file, &database)?;
    println!(
        "restored {} into {}",
        args.file.display(),
        database.display()
    );
    print_report(&report);
    Ok(())
}

/// Copies `from` to `to` so that a crash leaves no half file: a temporary file, fsynced,
/// renamed, and the directory fsynced.
fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    let tmp = to.with_extension("restoring");
    std::fs::copy(from, &tmp)
        .with_context(|| format!("cannot copy {} to {}", from.display(), tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, to).with_context(|| format!("cannot write {}", to.display()))?;
    if let Some(dir) = to.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
