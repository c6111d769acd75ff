//! `propusk serve`: runs the service. With no options it creates
//! `./propusk-data/` with an SQLite database and a signing key and listens on
//! 127.0.0.1:8080. Settings come from a TOML file (`--config`), then `PROPUSK_*`
//! environment variables, then flags; later sources win.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use propusk_core::policy::{parse_regime, RegimeBook};
use propusk_server::settings::PhotoLimits;
use propusk_server::{Application, Clock, Parts, Settings};
use propusk_store::Store;
use propusk_token::Algorithm;
use serde::Deserialize;

use crate::keyring::Keyring;

/// Where to find the database: flags and environment, shared by `serve` and `user`.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreArgs {
    /// Where propusk keeps its SQLite database and signing keys [default: ./propusk-data].
    #[arg(long, env = "PROPUSK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run on PostgreSQL instead of the embedded SQLite: postgres://USER@HOST/DB.
    #[arg(long, env = "PROPUSK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A TOML configuration file (its settings are overridden by environment and flags).
    #[arg(long, env = "PROPUSK_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "PROPUSK_LISTEN")]
    listen: Option<String>,
    /// A regime file to load besides the built-in ones (repeatable).
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,
    /// Requests served at once before new ones get 503 [default: 1024].
    #[arg(long, env = "PROPUSK_MAX_IN_FLIGHT")]
    max_in_flight: Option<usize>,
    /// The URL phones reach the service at, for links in SMS and QR codes
    /// (https://propusk.example) [default: http:// and the address listened on].
    #[arg(long, env = "PROPUSK_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// A TLS-terminating proxy is in front: send HSTS and mark every cookie Secure
    /// [default: false].
    #[arg(long, env = "PROPUSK_BEHIND_TLS", num_args = 0..=1, default_missing_value = "true")]
    behind_tls: Option<bool>,
    /// For browser tests only: lets a test move the service's clock forward over HTTP
    /// (`POST /_test/clock`). Refused unless listening on a loopback address.
    #[arg(long)]
    test_clock: bool,
    #[command(flatten)]
    sms: super::sms::SmsArgs,
    #[command(flatten)]
    monitoring: super::monitoring::MonitoringArgs,
    #[command(flatten)]
    edge: super::edge::EdgeArgs,
    #[command(flatten)]
    service: super::service::ServiceArgs,
}

#[cfg(test)]
impl ServeArgs {
    /// No flags and no environment: only the file speaks.
    fn default_for_test() -> Self {
        Self::default()
    }
}

/// The configuration file's shape. Every key is optional.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    #[serde(default)]
    policy: Vec<PathBuf>,
    max_in_flight: Option<usize>,
    behind_tls: Option<bool>,
    public_url: Option<String>,
    sms: Option<super::sms::SmsFileConfig>,
    monitoring: Option<super::monitoring::MonitoringFileConfig>,
    edge: Option<super::edge::EdgeFileConfig>,
    limits: Option<super::edge::LimitsFileConfig>,
    service: Option<super::service::ServiceFileConfig>,
}

fn read_file_config(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

impl StoreArgs {
    /// Data directory and database URL after layering file < env < flags.
    pub fn resolve(&self) -> Result<(FileConfig, PathBuf, String)> {
        let file = read_file_config(self.config.as_deref())?;
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("./propusk-data"));
        let url = match self.database_url.clone().or(file.database_url.clone()) {
            Some(url) => url,
            None => {
                std::fs::create_dir_all(&data_dir)
                    .with_context(|| format!("cannot create {}", data_dir.display()))?;
                format!("sqlite://{}", data_dir.join("propusk.db").display())
            }
        };
        Ok((file, data_dir, url))
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROPUSK_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Built-in regimes, then those stored by administrators, then `--policy` files.
async fn regimes(store: &Store, files: &[PathBuf]) -> Result<RegimeBook> {
    let mut book = RegimeBook::with_builtins();
    for (id, source) in store.regime_sources().await? {
        match parse_regime(&source) {
            Ok(regime) => {
                book.insert(regime);
            }
            Err(errors) => {
                tracing::error!(regime = %id, errors = errors.len(), "a stored regime no longer parses; skipped")
            }
        }
    }
    for path in files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read regime file {}", path.display()))?;
        let regime = parse_regime(&text).map_err(|errors| {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("  {}:{e}", path.display()))
                .collect();
            anyhow::anyhow!(
                "regime file {} has errors:\n{}",
                path.display(),
                list.join("\n")
            )
        })?;
        book.insert(regime);
    }
    Ok(book)
}

/// The service's settings: the file's, then the environment's and the flags' (clap reads
/// `PROPUSK_*` variables and flags as one source, flags winning).
fn settings(args: &ServeArgs, file: FileConfig) -> Result<Settings> {
    let defaults = Settings::default();
    let (gateway, sms) = args.sms.resolve(file.sms)?;
    let edge = args.edge.resolve(file.edge, file.limits)?;
    let sender = match &gateway {
        propusk_server::GatewayConfig::Kannel(k) => k.from.as_deref(),
        propusk_server::GatewayConfig::Log => None,
    };
    let service = args.service.resolve(file.service, sender)?;
    let settings = Settings {
        listen: args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or(defaults.listen),
        max_in_flight: args
            .max_in_flight
            .or(file.max_in_flight)
            .unwrap_or(defaults.max_in_flight),
        behind_tls: args
            .behind_tls
            .or(file.behind_tls)
            .unwrap_or(defaults.behind_tls),
        public_url: match args.public_url.clone().or(file.public_url) {
            Some(url) => Some(public_url(&url)?),
            None => None,
        },
        test_clock: args.test_clock,
        gateway,
        sms,
        monitoring: args.monitoring.resolve(file.monitoring)?,
        edge: edge.edge,
        sign_in: edge.sign_in,
        login: edge.login,
        photos: PhotoLimits {
            max_pixels: edge.photo_max_pixels,
            concurrent_decodes: edge.photo_decodes,
        },
        service,
    };
    if settings.test_clock {
        test_clock_allowed(&settings.listen)?;
    }
    Ok(settings)
}

pub async fn run(args: ServeArgs) -> Result<()> {
    init_logging();
    let (mut file, data_dir, database_url) = args.store.resolve()?;
    let policy_files = if args.policies.is_empty() {
        std::mem::take(&mut file.policy)
    } else {
        args.policies.clone()
    };
    let settings = settings(&args, file)?;
    if settings.test_clock {
        tracing::warn!("the test clock is on: anyone on this machine may move the service's clock");
    }
    if settings.service.is_placeholder() {
        tracing::warn!(
            "the help and privacy pages show placeholder contact details: set [service] hotline \
             and email in the configuration (PROPUSK_HOTLINE, PROPUSK_CONTACT_EMAIL)"
        );
    }

    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut ring = Keyring::open(&data_dir)?;
    if ring.entries().is_empty() {
        let entry = ring.generate(Algorithm::EdDsa, false)?;
        tracing::info!(kid = %entry.kid, "generated a signing key");
    }
    let keys = propusk_server::Keys::new(ring.signing_key()?, ring.published()?);

    let store = Store::open(&database_url)
        .await
        .with_context(|| "cannot open the database")?;
    let regimes = regimes(&store, &policy_files).await?;
    let parts = Parts {
        store,
        keys,
        regimes,
        clock: Clock::system(),
        gateway: None,
    };
    let app = Application::build(settings, parts).await?;
    let base = format!("http://{}", app.addr());
    let backend = match app.state().store.backend() {
        propusk_store::Backend::Sqlite => format!("SQLite in {}", data_dir.display()),
        propusk_store::Backend::Postgres => "PostgreSQL".to_string(),
    };
    println!("propusk is running on {backend}");
    println!("  residents:  {base}/");
    println!("  inspectors: {base}/inspector/");
    println!("  health:     {base}/health   patients: {base}/patient");
    println!("  staff:      {base}/health/staff (administrators)");
    println!("  API:        {base}/api/v1/openapi.json");
    println!("  keys:       {base}/.well-known/propusk/keys");
    println!("  probes:     {base}/healthz  {base}/readyz  {base}/metrics");
    if let Some(link) = app.setup_link() {
        println!();
        println!("No staff account exists yet. Create the first administrator here:");
        println!("  {link}");
        println!("The link works once, and only until this process stops.");
        println!();
    }
    println!("Stop with Ctrl-C.");

    shutdown_signal().await;
    tracing::info!("shutting down");
    app.stop().await
}

/// The public URL as configured: http or https, a host, no query or fragment; without a
/// trailing slash.
fn public_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', ' ']) => Ok(trimmed.into()),
        _ => anyhow::bail!(
            "public URL {url:?}: expected http:// or https:// and a host, e.g. https://propusk.example"
        ),
    }
}

/// `--test-clock` only on a loopback address: it lets anyone who can reach the service move
/// its clock.
fn test_clock_allowed(listen: &str) -> Result<()> {
    match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) if addr.ip().is_loopback() => Ok(()),
        _ => anyhow::bail!(
            "--test-clock is for tests on this machine only: listen on a loopback address \
             such as 127.0.0.1:0, not {listen}"
        ),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference deployment's configuration (deploy/propusk.toml) is one this version
    /// reads, and every setting in it is in range.
    #[test]
    fn the_reference_configuration_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/propusk.toml");
        let file = read_file_config(Some(&path)).unwrap();
        let settings = settings(&ServeArgs::default_for_test(), file).unwrap();
        assert!(settings.behind_tls);
        assert!(settings.edge.is_trusted_proxy("10.0.0.5".parse().unwrap()));
        assert!(!settings.service.is_placeholder());
        assert_eq!(settings.service.sms_number, "7377");
    }

    #[test]
    fn the_test_clock_is_loopback_only() {
        assert!(test_clock_allowed("127.0.0.1:0").is_ok());
        assert!(test_clock_allowed("[::1]:8080").is_ok());
        for listen in ["0.0.0.0:8080", "10.0.0.5:80", "localhost:8080", "[::]:80"] {
            let e = test_clock_allowed(listen).unwrap_err();
            assert!(format!("{e}").contains("loopback"), "{listen}: {e}");
        }
    }

    #[test]
    fn public_urls_are_checked() {
        assert_eq!(
            public_url("https://propusk.example/").unwrap(),
            "https://propusk.example"
        );
        assert!(public_url("propusk.example").is_err());
        assert!(public_url("https://").is_err());
        assert!(public_url("https://x.example/?a#b").is_err());
    }
}
