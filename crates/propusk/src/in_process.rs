//! The service run inside this process for `propusk bench` and `propusk simulate`: the
//! store opened over a [`ScratchDb`], the server started on 127.0.0.1:0, and the HTTP
//! client that drives it.

use std::time::Duration;

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use propusk_core::policy::RegimeBook;
use propusk_server::{Application, Clock, Keys, Parts, Settings};
use propusk_store::{Role, Store};
use propusk_token::rand_core::OsRng;
use propusk_token::{Algorithm, SigningKey};

use crate::scratch_db::{redact, ScratchDb};

/// Opens the store over the scratch database.
pub async fn open_store(database: &ScratchDb) -> Result<Store> {
    Store::open(database.url())
        .await
        .with_context(|| format!("cannot open {}", redact(database.url())))
}

/// Starts the service on 127.0.0.1:0 over `store` with a fresh signing key, the built-in
/// regimes and SMS to the log. `max_in_flight`: the limit on requests in flight (past it:
/// 503); `monitoring`: the monitoring settings; `None` keeps the defaults.
pub async fn start_server(
    store: &Store,
    clock: Clock,
    max_in_flight: Option<usize>,
    monitoring: Option<propusk_server::monitoring::MonitoringSettings>,
) -> Result<Application> {
    let key = SigningKey::generate(Algorithm::EdDsa, &mut OsRng);
    start_server_with_key(store, clock, key, max_in_flight, monitoring).await
}

/// [`start_server`] signing with `key`: for a database whose passes were signed with it
/// (`propusk bench seed` uses the data directory's key), so that verifying them is real.
pub async fn start_server_with_key(
    store: &Store,
    clock: Clock,
    key: SigningKey,
    max_in_flight: Option<usize>,
    monitoring: Option<propusk_server::monitoring::MonitoringSettings>,
) -> Result<Application> {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        // Every client of a benchmark is this one address: it must not meet the cap on
        // connections per client.
        edge: propusk_server::edge::EdgeSettings {
            max_connections_per_client: 100_000,
            ..propusk_server::edge::EdgeSettings::default()
        },
        ..Settings::default()
    };
    if let Some(max) = max_in_flight {
        settings.max_in_flight = max;
    }
    if let Some(monitoring) = monitoring {
        settings.monitoring = monitoring;
    }
    let parts = Parts {
        store: store.clone(),
        keys: Keys::new(key, vec![]),
        regimes: RegimeBook::with_builtins(),
        clock,
        gateway: None,
    };
    Application::build(settings, parts).await
}

/// A keep-alive HTTP/1.1 client for `concurrency` connections at once.
pub fn http_client(concurrency: usize, timeout: Duration) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .timeout(timeout)
        .build()?)
}

/// A session for `subject_id` in `role`, valid for `valid_for` from `now`, created through
/// the store (setup, without a login). Returns its bearer token.
pub async fn new_session(
    store: &Store,
    subject_id: &str,
    role: Role,
    valid_for: SignedDuration,
    now: Timestamp,
) -> Result<String> {
    let token = propusk_server::auth::new_token();
    let expires = now.checked_add(valid_for).context("time overflow")?;
    store
        .create_session(&token, subject_id, role, expires, now)
        .await?;
    Ok(token)
}
