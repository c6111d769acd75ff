//! The `propusk` command: runs the service and its tools.

mod commands;
mod fetch;
mod keyring;
mod qr;

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
    /// Sign one pass token with the data directory's signing key (testing, demos, emergencies).
    Sign {
        #[command(flatten)]
        data: DataDir,
        #[command(flatten)]
        args: commands::sign::SignArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => {
            commands::verify::run(args).map(|all_valid| if all_valid { 0 } else { 1 })
        }
        Command::Keys { data, command } => commands::keys::run(&data.data_dir, command).map(|()| 0),
        Command::Sign { data, args } => commands::sign::run(&data.data_dir, args).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
