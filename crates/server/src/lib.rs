//! # propusk-server: the HTTP service
//!
//! The axum application: the JSON API under `/api/v1` (one router per audience,
//! merged in [`routes::router`]), the published keys and revocations, health and
//! metrics, and the background job that sends the SMS outbox. It reads state
//! from the store, asks the core to decide, and writes the outcome back.
//!
//! [`Application::build`] makes the running state from [`Settings`] (the only place it is
//! made), binds (port 0 in tests) and reports the real address.

pub mod app;
pub mod auth;
pub mod clock;
pub mod cookies;
pub mod edge;
pub mod error;
pub mod first_run;
pub mod http_cache;
pub mod jobs;
pub mod json_body;
pub mod lang;
pub mod limits;
pub mod metrics;
pub mod monitoring;
pub(crate) mod monitoring_rules;
pub mod openapi;
pub mod overload;
pub mod photo;
pub mod qr;
pub mod routes;
pub mod settings;
pub mod sms;
#[cfg(test)]
mod sms_wording;
pub mod state;
pub mod web;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use clock::Clock;
pub use settings::{GatewayConfig, Settings};
pub use state::{AppState, Keys, Parts};

/// A running service.
pub struct Application {
    addr: SocketAddr,
    state: AppState,
    shutdown: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
    setup_link: Option<String>,
}

impl Application {
    /// Makes the running state from `settings` and `parts`, binds `settings.listen`, starts
    /// serving and the background jobs. `serve`, `bench`, `simulate` and every test harness
    /// start the service here.
    pub async fn build(settings: Settings, parts: Parts) -> anyhow::Result<Self> {
        settings.service.check().map_err(anyhow::Error::msg)?;
        let mut state = AppState::new(&settings, parts);
        let listener = TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        if state.test_clock && !addr.ip().is_loopback() {
            anyhow::bail!("the test clock may only be served on a loopback address, not {addr}");
        }
        let public = settings
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'));
        state.public_url =
            Arc::from(public.map_or_else(|| format!("http://{addr}"), str::to_string));
        // A new installation: the one-time link for its first administrator.
        let setup_link = if state.store.has_staff().await? {
            None
        } else {
            let link = format!("{}/setup/{}", state.public_url, state.first_run.open());
            tracing::warn!(
                %link,
                "no staff account exists: open this one-time link to create the first administrator"
            );
            Some(link)
        };
        let (shutdown, stop) = watch::channel(false);
        let app = routes::router(state.clone());
        let server = tokio::spawn(edge::listener::serve(
            listener,
            app,
            state.edge.clone(),
            stop.clone(),
        ));
        let jobs = vec![
            sms::spawn_outbox_worker(state.clone(), shutdown.subscribe()),
            jobs::spawn(state.clone(), shutdown.subscribe()),
        ];
        Ok(Self {
            addr,
            state,
            shutdown,
            server,
            jobs,
            setup_link,
        })
    }

    /// The first-run setup link, when the store had no staff account at start (see
    /// [`first_run`]).
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, lets in-flight requests and jobs finish, closes the store.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.server.await??;
        for job in self.jobs {
            let _ = job.await;
        }
        self.state.store.close().await;
        Ok(())
    }
}

/// Shared pieces handed to every handler.
pub type Shared<T> = Arc<T>;
