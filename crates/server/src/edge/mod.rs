//! The service's edge: what stands between a TCP connection and a handler, so that no
//! single client can take the service down.
//!
//! - [`listener`] accepts connections itself (instead of `axum::serve`) to bound what a
//!   connection may hold: a cap on connections per client address, a deadline for a request
//!   head once its first byte has arrived, and one for an idle keep-alive connection.
//! - [`client`] says who is calling: the peer address, or the client a trusted proxy
//!   names in `X-Forwarded-For`. Rate limits per client key on it.
//! - The request body is read (bounded per route, within a deadline) before the request
//!   takes an overload slot: see [`crate::overload`].
//! - [`hygiene`] refuses control characters in paths, queries and bodies.

pub mod client;
pub mod hygiene;
pub mod listener;

use std::time::Duration;

use ipnet::IpNet;

pub use client::{ClientIp, Peer};

/// The edge's bounds; every one configurable (`[edge]` in the configuration file).
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// From the request head to the end of its body.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// How long a handler may take before the caller gets 503 (its transaction is rolled
    /// back): no request hangs, whatever the database does.
    pub request_timeout: Duration,
    /// Connections one client address may hold open at once (trusted proxies excepted).
    pub max_connections_per_client: usize,
    /// Connections open at once, in all (bounded well below the process's file limit).
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` is believed (e.g. the nginx in front).
    pub trusted_proxies: Vec<IpNet>,
}

impl Default for EdgeSettings {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections_per_client: 64,
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl EdgeSettings {
    pub fn is_trusted_proxy(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}
