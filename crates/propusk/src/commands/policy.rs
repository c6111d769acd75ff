//! `propusk policy check FILE`: validates a regime file and reports every error
//! with its line and what is expected.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use propusk_core::policy::parse_regime;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Check a regime file; exit code 0 when it is valid, 1 when it has errors.
    Check { file: PathBuf },
}

/// Returns whether the file is valid.
pub fn run(command: PolicyCommand) -> Result<bool> {
    let PolicyCommand::Check { file } = command;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    match parse_regime(&text) {
        Ok(regime) => {
            println!(
                "{}: valid regime '{}' ({} purposes), in force from {}{}",
                file.display(),
                regime.id().as_str(),
                regime.purposes().len(),
                regime.effective_from(),
                regime
                    .until()
                    .map(|u| format!(" until {u}"))
                    .unwrap_or_default()
            );
            Ok(true)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{}:{}:{}: {}", file.display(), e.line, e.column, e.message);
            }
            eprintln!("{} error(s)", errors.len());
            Ok(false)
        }
    }
}
