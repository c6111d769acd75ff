//! `propusk user add`: creates a staff account (inspector, health officer or administrator).

use std::io::BufRead;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use propusk_store::{Role, Store};

use super::serve::StoreArgs;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a staff account. Prints a generated password unless --password-stdin is given.
    Add(AddArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long, value_name = "inspector|health|admin")]
    role: String,
    #[arg(long)]
    username: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn run(command: UserCommand) -> Result<()> {
    let UserCommand::Add(args) = command;
    let role = match Role::parse(&args.role) {
        Some(r) if r.is_staff() => r,
        _ => bail!(
            "unknown role '{}' (expected inspector, health or admin)",
            args.role
        ),
    };
    let username = args.username.trim();
    if !propusk_server::auth::username_ok(username) {
        bail!("username '{username}' is not valid (1–64 letters, digits, '.', '_', '-', '@')");
    }
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        let len = line.chars().count();
        if len < propusk_server::auth::MIN_PASSWORD_CHARS {
            bail!("the password must be at least 10 characters long");
        }
        if len > propusk_server::auth::MAX_PASSWORD_CHARS {
            bail!("the password must be at most 200 characters long");
        }
        (line, false)
    } else {
        (propusk_server::auth::generate_password(), true)
    };
    let hash = propusk_server::auth::hash_password(&password)?;
    let (_, _, url) = args.store.resolve()?;
    let store = Store::open(&url).await?;
    let added = store
        .add_staff(username, role, &hash, jiff::Timestamp::now())
        .await?;
    store.close().await;
    if added.is_none() {
        bail!("a user named '{username}' already exists");
    }
    println!("added {} '{username}'", role.as_str());
    if generated {
        println!("password: {password}");
    }
    Ok(())
}
