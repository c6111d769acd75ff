//! The `propusk` command: runs the service and its tools.

mod commands;
mod fetch;
mod in_process;
mod keyring;
mod qr;
mod scratch_db;
mod synthetic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "propusk",
    version,
    about = "Passes, quarantine monitoring and SMS for an epidemic lockdown"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug, Clone)]
struct DataDir {
    /// Where propusk keeps its database (SQLite) and signing keys.
    #[arg(
        long,
        env = "PROPUSK_DATA_DIR",
        default_value = "./propusk-data",
        global = true
    )]
    data_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify pass tokens offline. Exit code 0 when every token is valid, 1 otherwise, 2 on usage errors.
    Verify(commands::verify::VerifyArgs),
    /// Manage the pass-signing keys.
    Keys {
        #[command(flatten)]
        data: DataDir,
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
    /// Run the service (SQLite in ./propusk-data by default).
    Serve(Box<commands::serve::ServeArgs>),
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: commands::user::UserCommand,
    },
    /// Check regime files.
    Policy {
        #[command(subcommand)]
        command: commands::policy::PolicyCommand,
    },
    /// Sign one pass token with the data directory's signing key (testing, demos, emergencies).
    Sign {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        args: commands::sign::SignArgs,
    },
    /// Load data in bulk: `propusk import residents FILE.csv` loads the city's registry of
    /// residents. Exit code 0 when every line was imported, 1 when some were rejected (see
    /// the rejects file), 2 on errors.
    Import(commands::import::ImportArgs),
    /// Measure the service (not a test): `bench issue` drives pass issuance over HTTP,
    /// `bench ingest` location reports.
    Bench(commands::bench::BenchArgs),
    /// Drive the real API with synthetic patients: `propusk simulate monitoring` scores quarantine monitoring.
    Simulate(commands::simulate::SimulateArgs),
    /// Back up the embedded database while the service runs (PostgreSQL: docs/deploy.md).
    Backup(commands::backup::BackupArgs),
    /// Restore a backup (and the exported keys) into an empty data directory.
    Restore(commands::backup::RestoreArgs),
    /// The SMS channel: `propusk sms status` shows the outbox queue, failures and delivery rates.
    Sms {
        #[command(subcommand)]
        command: commands::sms::SmsCommand,
    },
    /// Print the API's OpenAPI document, as served at /api/v1/openapi.json (made from the
    /// code; `crates/server/openapi.json` is this output, checked in CI).
    Openapi,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => {
            commands::verify::run(args).map(|all_valid| if all_valid { 0 } else { 1 })
        }
        Command::Keys { data, command } => commands::keys::run(&data.data_dir, command).map(|()| 0),
        Command::Sign { data, args } => commands::sign::run(&data.data_dir, args).map(|()| 0),
        Command::Serve(args) => runtime()
            .and_then(|rt| rt.block_on(commands::serve::run(*args)))
            .map(|()| 0),
        Command::User { command } => runtime()
            .and_then(|rt| rt.block_on(commands::user::run(command)))
            .map(|()| 0),
        Command::Policy { command } => {
            commands::policy::run(command).map(|ok| if ok { 0 } else { 1 })
        }
        Command::Import(args) => runtime().and_then(|rt| rt.block_on(commands::import::run(args))),
        Command::Bench(args) => runtime()
            .and_then(|rt| rt.block_on(commands::bench::run(args)))
            .map(|()| 0),
        Command::Simulate(args) => runtime()
            .and_then(|rt| rt.block_on(commands::simulate::run(args)))
            .map(|()| 0),
        Command::Backup(args) => runtime()
            .and_then(|rt| rt.block_on(commands::backup::backup(args)))
            .map(|()| 0),
        Command::Restore(args) => runtime()
            .and_then(|rt| rt.block_on(commands::backup::restore(args)))
            .map(|()| 0),
        Command::Sms { command } => runtime()
            .and_then(|rt| rt.block_on(commands::sms::run(command)))
            .map(|()| 0),
        Command::Openapi => {
            print!("{}", propusk_server::openapi::document_text());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key ids are base64url, so one in 64 begins with `-`; it must still be taken as the id.
    #[test]
    fn key_ids_beginning_with_a_hyphen_are_ids_not_flags() {
        let kid = "-AbCdEfGhIj";
        let cli = Cli::try_parse_from(["propusk", "keys", "retire", kid]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Keys { command: commands::keys::KeysCommand::Retire { kid: ref k }, .. } if k == kid
        ));
        let cli = Cli::try_parse_from(["propusk", "keys", "rotate", "--to", kid]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Keys { command: commands::keys::KeysCommand::Rotate { to: Some(ref k), .. }, .. } if k == kid
        ));
    }
}
