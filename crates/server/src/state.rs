//! What every handler shares: the store, the keys, the regimes, the clock.

use std::sync::{Arc, RwLock};

use propusk_core::policy::RegimeBook;
use propusk_store::Store;
use propusk_token::{Jwks, SigningKey, TrustList, VerifyingKey};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::metrics::Metrics;
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
    pub fn new(
        store: Store,
        keys: Keys,
        regimes: RegimeBook,
        clock: Clock,
        gateway: Arc<dyn Gateway>,
        max_in_flight: usize,
    ) -> Self {
        Self {
            store,
            keys: Arc::new(keys),
            regimes: Arc::new(RwLock::new(Arc::new(regimes))),
            clock,
            metrics: Arc::new(Metrics::default()),
            gateway,
            outbox_wakeup: Arc::new(Notify::new()),
            max_in_flight,
            behind_tls: false,
            sms: Arc::default(),
            monitoring: Arc::default(),
            edge: Arc::default(),
            in_flight: crate::overload::InFlight::new(max_in_flight),
            photos: crate::photo::PhotoBudget::default(),
            sign_in: Arc::default(),
            staff_login: Arc::default(),
            node: uuid::Uuid::new_v4().to_string().into(),
            public_url: Arc::from("http://127.0.0.1:8080"),
            test_clock: false,
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
