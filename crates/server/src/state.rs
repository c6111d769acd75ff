//! What every handler shares: the store, the keys, the regimes, the clock.

use std::sync::{Arc, RwLock};

use propusk_core::policy::RegimeBook;
use propusk_store::Store;
use propusk_token::{Jwks, SigningKey, TrustList, VerifyingKey};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::sms::Gateway;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<Keys>,
    regimes: Arc<RwLock<Arc<RegimeBook>>>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub gateway: Arc<dyn Gateway>,
    /// Wakes the outbox worker when a message is queued.
    pub outbox_wakeup: Arc<Notify>,
    pub max_in_flight: usize,
    /// A TLS-terminating proxy is in front: cookies are Secure and HSTS is sent.
    pub behind_tls: bool,
    /// The SMS channel's inbound secret, per-phone limits and outbox lease (none set: inbound
    /// SMS is refused).
    pub sms: Arc<crate::sms::SmsSettings>,
    /// Retention, check-in hours and the face matcher of quarantine monitoring.
    pub monitoring: Arc<crate::monitoring::MonitoringSettings>,
    /// Connection and body bounds, trusted proxies.
    pub edge: Arc<crate::edge::EdgeSettings>,
    /// Requests being served, against [`AppState::max_in_flight`].
    pub in_flight: crate::overload::InFlight,
    /// How large, and how many at once, photos are decoded.
    pub photos: crate::photo::PhotoBudget,
    /// How often sign-in codes may be sent (per phone, requester, client, in all).
    pub sign_in: Arc<crate::limits::SignInLimits>,
    /// Staff password guards and the bound on password checks at once.
    pub staff_login: Arc<crate::limits::StaffLogin>,
    /// This node's name in the periodic jobs' records (random at each start).
    pub node: Arc<str>,
    /// The address the service is reached at from outside (links in SMS, QR codes), without
    /// a trailing slash: the configured public URL, or `http://` and the bound address.
    pub public_url: Arc<str>,
    /// Whether tests may move this service's clock over HTTP (`propusk serve --test-clock`,
    /// loopback only; see `routes::test_clock`).
    pub test_clock: bool,
    /// Who runs the service and how people reach them (help, privacy, accessibility pages).
    pub service: Arc<crate::settings::ServiceInfo>,
    /// The one-time first-run setup link's token, while no staff account exists.
    pub first_run: Arc<crate::first_run::FirstRun>,
}

/// What a service runs over besides its settings: the opened store, the keys, the regimes
/// and the clock, and optionally a gateway other than the one the settings name (tests).
pub struct Parts {
    pub store: Store,
    pub keys: Keys,
    pub regimes: RegimeBook,
    pub clock: Clock,
    pub gateway: Option<Arc<dyn Gateway>>,
}

/// The signing key and the published set.
pub struct Keys {
    pub signing: Arc<SigningKey>,
    pub published: Vec<VerifyingKey>,
    pub trust: TrustList,
    pub jwks_json: String,
}

impl Keys {
    pub fn new(signing: SigningKey, published: Vec<VerifyingKey>) -> Self {
        let mut published = published;
        if !published.iter().any(|k| k.kid() == signing.kid()) {
            published.push(signing.verifying_key());
        }
        let jwks_json = Jwks::from_keys(published.iter()).to_json();
        Self {
            signing: Arc::new(signing),
            trust: TrustList::new(published.clone()),
            published,
            jwks_json,
        }
    }
}

impl AppState {
    /// The running state `settings` describe, over `parts`. Only
    /// [`crate::Application::build`] calls this, so that every setting reaches the service.
    pub(crate) fn new(settings: &Settings, parts: Parts) -> Self {
        let gateway = parts
            .gateway
            .unwrap_or_else(|| crate::sms::gateway_for(&settings.gateway));
        Self {
            store: parts.store,
            keys: Arc::new(parts.keys),
            regimes: Arc::new(RwLock::new(Arc::new(parts.regimes))),
            clock: parts.clock,
            metrics: Arc::new(Metrics::default()),
            gateway,
            outbox_wakeup: Arc::new(Notify::new()),
            max_in_flight: settings.max_in_flight,
            behind_tls: settings.behind_tls,
            sms: Arc::new(settings.sms.clone()),
            monitoring: Arc::new(settings.monitoring.clone()),
            edge: Arc::new(settings.edge.clone()),
            in_flight: crate::overload::InFlight::new(settings.max_in_flight),
            photos: crate::photo::PhotoBudget::new(
                settings.photos.max_pixels,
                settings.photos.concurrent_decodes,
            ),
            sign_in: Arc::new(settings.sign_in.clone()),
            staff_login: Arc::new(crate::limits::StaffLogin::new(settings.login.clone())),
            node: uuid::Uuid::new_v4().to_string().into(),
            // Set by `Application::build` once the address is bound.
            public_url: Arc::from(""),
            test_clock: settings.test_clock,
            service: Arc::new(settings.service.clone()),
            first_run: Arc::default(),
        }
    }

    /// The patient's app, as linked from SMS and QR codes: `{public_url}/patient/app/`.
    pub fn app_url(&self) -> String {
        format!("{}/patient/app/", self.public_url)
    }

    /// The regimes as they stand now (a snapshot; loading a new regime swaps it).
    pub fn regimes(&self) -> Arc<RegimeBook> {
        self.regimes
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Adds or replaces a regime; requests that started earlier keep their snapshot.
    pub fn load_regime(&self, regime: propusk_core::policy::Regime) {
        let mut guard = self.regimes.write().unwrap_or_else(|p| p.into_inner());
        let mut book = (**guard).clone();
        book.insert(regime);
        *guard = Arc::new(book);
    }
}
