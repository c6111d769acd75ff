//! Who is calling, for limits per client.
//!
//! The peer address is the client unless the peer is one of the configured trusted proxies;
//! then the client is the last address in `X-Forwarded-For` that is not itself a trusted
//! proxy (each proxy appends the address it received the request from, so entries to the
//! left of that can be forged by the client and are never believed).

use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::EdgeSettings;
use crate::error::ApiError;
use crate::state::AppState;

/// The TCP peer of the connection a request came on (set by [`super::listener`]).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The calling client's address, as a handler argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The client behind `peer`, as explained in the module documentation.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, edge: &EdgeSettings) -> IpAddr {
    if !edge.is_trusted_proxy(peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|s| s.parse::<IpAddr>().ok())
        .collect::<Option<Vec<_>>>()
        // A malformed list is not believed at all: the proxy itself is the client.
        .unwrap_or_default();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !edge.is_trusted_proxy(*ip))
        .unwrap_or(peer)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Peer(peer) = parts.extensions.get::<Peer>().copied().ok_or_else(|| {
            ApiError::internal("a request reached a handler without its peer address")
        })?;
        Ok(Self(client_ip(peer.ip(), &parts.headers, &state.edge)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(proxies: &[&str]) -> EdgeSettings {
        EdgeSettings {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..EdgeSettings::default()
        }
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_direct_client_cannot_claim_another_address() {
        let e = edge(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &headers(&["198.51.100.1"]), &e),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_last_untrusted_hop_is_the_client() {
        let e = edge(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client forged the first entry; nginx (10.0.0.5) appended the real one.
        let h = headers(&["6.6.6.6, 203.0.113.9", "10.0.0.5"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &e), ip("203.0.113.9"));
    }

    #[test]
    fn a_malformed_list_is_not_believed() {
        let e = edge(&["127.0.0.1/32"]);
        let h = headers(&["203.0.113.9, not-an-address"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &e), ip("127.0.0.1"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &e),
            ip("127.0.0.1")
        );
    }
}
