//! The resolved configuration of a running service (the binary merges the TOML
//! file, `PROPUSK_*` variables and flags into this).

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Regime files loaded at start, beside the built-ins and those stored by administrators.
    pub policy_files: Vec<PathBuf>,
    pub sms: GatewayConfig,
    /// Requests served at once before new ones get 503 + Retry-After.
    pub max_in_flight: usize,
    /// Set when a TLS-terminating proxy is in front (enables HSTS and secure cookies).
    pub behind_tls: bool,
    /// The URL patients' phones reach the service at (`https://propusk.example`), for links
    /// in SMS and QR codes; none: `http://` and the bound address.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayConfig {
    /// Development default: each message is written to the log as one line.
    Log,
    /// Kannel's smsbox `sendsms` interface.
    Kannel(propusk_sms::KannelConfig),
}

impl Config {
    /// Defaults for a data directory: SQLite inside it, port 8080 on loopback.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        let database_url = format!("sqlite://{}", data_dir.join("propusk.db").display());
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir,
            database_url,
            policy_files: Vec::new(),
            sms: GatewayConfig::Log,
            max_in_flight: 1024,
            behind_tls: false,
            public_url: None,
        }
    }
}
