//! Everything a running service is configured with, in one value. The binary layers the
//! TOML file, `PROPUSK_*` variables and flags into a [`Settings`]; tests and benchmarks
//! start from [`Settings::default`] and change what they need. [`crate::Application::build`]
//! is the only place the running state is made from it, so a setting cannot be read from
//! the file and then never reach the service.

use crate::edge::EdgeSettings;
use crate::limits::{LoginLimits, SignInLimits};
use crate::monitoring::MonitoringSettings;
use crate::sms::SmsSettings;

#[derive(Clone)]
pub struct Settings {
    /// The address to listen on (`127.0.0.1:0`: any free port).
    pub listen: String,
    /// Requests served at once before new ones get 503 + Retry-After.
    pub max_in_flight: usize,
    /// A TLS-terminating proxy is in front: every answer carries HSTS and every cookie is
    /// Secure.
    pub behind_tls: bool,
    /// The URL patients' phones reach the service at (`https://propusk.example`), for links
    /// in SMS and QR codes; none: `http://` and the bound address.
    pub public_url: Option<String>,
    /// Tests may move the service's clock over HTTP (loopback only; see `routes::test_clock`).
    pub test_clock: bool,
    /// Where SMS go.
    pub gateway: GatewayConfig,
    /// The SMS channel's inbound secret, per-phone limits and outbox lease.
    pub sms: SmsSettings,
    /// Retention, check-in hours and the face matcher of quarantine monitoring.
    pub monitoring: MonitoringSettings,
    /// Connection and body bounds, trusted proxies.
    pub edge: EdgeSettings,
    /// How often sign-in codes may be sent (per phone, requester, client, in all).
    pub sign_in: SignInLimits,
    /// Staff password guards and the bound on password checks at once.
    pub login: LoginLimits,
    /// How large, and how many at once, photos are decoded.
    pub photos: PhotoLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// The most pixels a photo may have.
    pub max_pixels: u64,
    /// Photos decoded at once (each on its own thread).
    pub concurrent_decodes: usize,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_pixels: 4096 * 4096,
            concurrent_decodes: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayConfig {
    /// Development default: each message is written to the log as one line.
    Log,
    /// Kannel's smsbox `sendsms` interface.
    Kannel(propusk_sms::KannelConfig),
}

impl Default for Settings {
    /// A development service: port 8080 on loopback, SMS to the log, the limits of
    /// production.
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_in_flight: 1024,
            behind_tls: false,
            public_url: None,
            test_clock: false,
            gateway: GatewayConfig::Log,
            sms: SmsSettings::default(),
            monitoring: MonitoringSettings::default(),
            edge: EdgeSettings::default(),
            sign_in: SignInLimits::default(),
            login: LoginLimits::default(),
            photos: PhotoLimits::default(),
        }
    }
}
