//! The edge's and the throttles' settings of `propusk serve`: deadlines and connection caps,
//! the proxies trusted to name the client, the sign-in code budget, the staff password
//! checks and the photo budget. Layered like every setting: the `[edge]` and `[limits]`
//! tables of the configuration file, then `PROPUSK_*` variables, then flags; each value is
//! checked against a sensible range.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use ipnet::IpNet;
use jiff::SignedDuration;
use propusk_core::throttle::Rate;
use propusk_server::edge::EdgeSettings;
use propusk_server::limits::{LoginLimits, SignInLimits};
use serde::Deserialize;

#[derive(Args, Debug, Default)]
pub struct EdgeArgs {
    /// Seconds a client has to send a request head once it has started (1–120) [default: 10].
    #[arg(long, env = "PROPUSK_HEADER_TIMEOUT_SECS", value_name = "SECS")]
    header_timeout_secs: Option<u64>,
    /// Seconds a client has to send a request body (1–600) [default: 30].
    #[arg(long, env = "PROPUSK_BODY_TIMEOUT_SECS", value_name = "SECS")]
    body_timeout_secs: Option<u64>,
    /// Seconds a keep-alive connection may stay idle (1–3600) [default: 60].
    #[arg(long, env = "PROPUSK_IDLE_TIMEOUT_SECS", value_name = "SECS")]
    idle_timeout_secs: Option<u64>,
    /// Seconds a request may take before it gets 503 (1–600) [default: 30].
    #[arg(long, env = "PROPUSK_REQUEST_TIMEOUT_SECS", value_name = "SECS")]
    request_timeout_secs: Option<u64>,
    /// Connections one client address may hold open (1–100000) [default: 64].
    #[arg(long, env = "PROPUSK_MAX_CONNECTIONS_PER_CLIENT", value_name = "N")]
    max_connections_per_client: Option<usize>,
    /// Connections open at once in all (16–1000000) [default: 10000].
    #[arg(long, env = "PROPUSK_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For is believed.
    #[arg(
        long,
        env = "PROPUSK_TRUSTED_PROXIES",
        value_name = "CIDR,…",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    /// Sign-in codes one client address may ask for at once before being slowed to one
    /// every 30 s (1–100000) [default: 20].
    #[arg(long, env = "PROPUSK_OTP_PER_CLIENT", value_name = "N")]
    otp_per_client: Option<u32>,
    /// Sign-in codes sent per second by the whole service: the SMS spend guard (1–10000)
    /// [default: 50].
    #[arg(long, env = "PROPUSK_OTP_PER_SECOND", value_name = "N")]
    otp_per_second: Option<u32>,
    /// Staff password checks at once (each ~19 MiB of memory) (1–64) [default: 4].
    #[arg(long, env = "PROPUSK_PASSWORD_CHECKS", value_name = "N")]
    password_checks: Option<usize>,
    /// The most pixels a photo may have (1–50000000) [default: 16777216, 4096×4096].
    #[arg(long, env = "PROPUSK_PHOTO_MAX_PIXELS", value_name = "N")]
    photo_max_pixels: Option<u64>,
    /// Photo decodes at once (each up to 64 MiB of memory) (1–16) [default: 2].
    #[arg(long, env = "PROPUSK_PHOTO_DECODES", value_name = "N")]
    photo_decodes: Option<usize>,
}

/// The `[edge]` table of the configuration file. Every key is optional.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct EdgeFileConfig {
    header_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    max_connections_per_client: Option<usize>,
    max_connections: Option<usize>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

/// The `[limits]` table of the configuration file. Every key is optional.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct LimitsFileConfig {
    otp_per_client: Option<u32>,
    otp_per_second: Option<u32>,
    password_checks: Option<usize>,
    photo_max_pixels: Option<u64>,
    photo_decodes: Option<usize>,
}

/// Everything these settings configure.
#[derive(Debug)]
pub struct Edge {
    pub edge: EdgeSettings,
    pub sign_in: SignInLimits,
    pub login: LoginLimits,
    pub photo_max_pixels: u64,
    pub photo_decodes: usize,
}

/// `value` if it lies in `range`, else an error naming the setting and the range.
fn within<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: Option<T>,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T> {
    match value {
        None => Ok(default),
        Some(v) if range.contains(&v) => Ok(v),
        Some(v) => bail!(
            "{name} = {v} is out of range: expected {} to {}",
            range.start(),
            range.end()
        ),
    }
}

fn secs(name: &str, value: Option<u64>, max: u64, default: Duration) -> Result<Duration> {
    within(name, value, 1..=max, default.as_secs()).map(Duration::from_secs)
}

impl EdgeArgs {
    /// The settings after layering file < environment < flags, each checked.
    pub fn resolve(
        &self,
        file: Option<EdgeFileConfig>,
        limits: Option<LimitsFileConfig>,
    ) -> Result<Edge> {
        let file = file.unwrap_or_default();
        let limits = limits.unwrap_or_default();
        let d = EdgeSettings::default();
        let proxies = if self.trusted_proxies.is_empty() {
            file.trusted_proxies
        } else {
            self.trusted_proxies.clone()
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("trusted proxy {p:?}: expected an address or a CIDR range, e.g. 10.0.0.5 or 10.0.0.0/24")
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let edge = EdgeSettings {
            header_timeout: secs(
                "header_timeout_secs",
                self.header_timeout_secs.or(file.header_timeout_secs),
                120,
                d.header_timeout,
            )?,
            body_timeout: secs(
                "body_timeout_secs",
                self.body_timeout_secs.or(file.body_timeout_secs),
                600,
                d.body_timeout,
            )?,
            idle_timeout: secs(
                "idle_timeout_secs",
                self.idle_timeout_secs.or(file.idle_timeout_secs),
                3600,
                d.idle_timeout,
            )?,
            request_timeout: secs(
                "request_timeout_secs",
                self.request_timeout_secs.or(file.request_timeout_secs),
                600,
                d.request_timeout,
            )?,
            max_connections_per_client: within(
                "max_connections_per_client",
                self.max_connections_per_client
                    .or(file.max_connections_per_client),
                1..=100_000,
                d.max_connections_per_client,
            )?,
            max_connections: within(
                "max_connections",
                self.max_connections.or(file.max_connections),
                16..=1_000_000,
                d.max_connections,
            )?,
            trusted_proxies,
        };
        let mut sign_in = SignInLimits::default();
        let per_client = within(
            "otp_per_client",
            self.otp_per_client.or(limits.otp_per_client),
            1..=100_000,
            sign_in.per_client.burst(),
        )?;
        sign_in.per_client = Rate::new(per_client, sign_in.per_client.period())
            .context("sign-in codes per client")?;
        let per_second = within(
            "otp_per_second",
            self.otp_per_second.or(limits.otp_per_second),
            1..=10_000,
            50,
        )?;
        // Ten seconds' worth at once, then the rate.
        sign_in.global = Rate::new(
            per_second.saturating_mul(10),
            SignedDuration::from_secs(1) / i32::try_from(per_second)?,
        )
        .context("sign-in codes per second")?;
        let mut login = LoginLimits::default();
        login.concurrent_hashes = within(
            "password_checks",
            self.password_checks.or(limits.password_checks),
            1..=64,
            login.concurrent_hashes,
        )?;
        let photo_max_pixels = within(
            "photo_max_pixels",
            self.photo_max_pixels.or(limits.photo_max_pixels),
            1..=50_000_000,
            4096 * 4096,
        )?;
        let photo_decodes = within(
            "photo_decodes",
            self.photo_decodes.or(limits.photo_decodes),
            1..=16,
            2,
        )?;
        Ok(Edge {
            edge,
            sign_in,
            login,
            photo_max_pixels,
            photo_decodes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_ranges() {
        let edge = EdgeArgs::default().resolve(None, None).unwrap();
        assert_eq!(edge.edge.header_timeout, Duration::from_secs(10));
        assert_eq!(edge.sign_in.global.burst(), 500);
        let file: EdgeFileConfig =
            toml::from_str("idle_timeout_secs = 0\ntrusted_proxies = [\"10.0.0.0/8\"]").unwrap();
        let err = EdgeArgs::default().resolve(Some(file), None).unwrap_err();
        assert!(err.to_string().contains("idle_timeout_secs = 0"), "{err}");
        let file: EdgeFileConfig = toml::from_str("trusted_proxies = [\"nginx\"]").unwrap();
        let err = EdgeArgs::default().resolve(Some(file), None).unwrap_err();
        assert!(format!("{err:#}").contains("CIDR"), "{err:#}");
        let file: EdgeFileConfig =
            toml::from_str("trusted_proxies = [\"10.0.0.5\", \"192.168.0.0/16\"]").unwrap();
        let edge = EdgeArgs::default().resolve(Some(file), None).unwrap();
        assert!(edge.edge.is_trusted_proxy("192.168.7.1".parse().unwrap()));
    }
}
