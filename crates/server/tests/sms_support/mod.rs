//! A server for SMS scenarios: the real application on 127.0.0.1:0, its outbox worker
//! sending through an in-memory gateway the test reads and steers, and helpers that speak to
//! `/api/v1/sms/inbound` the way Kannel's smsbox does.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint, PhoneNumber};
use propusk_core::policy::RegimeBook;
use propusk_server::sms::SmsSettings;
use propusk_server::{AppState, Application, Clock, Keys, Parts, Settings};
use propusk_sms::{Gateway, Outgoing, SendError};
use propusk_store::{Profile, SmsLimits, Store};
use propusk_token::{Algorithm, SigningKey};
use reqwest::StatusCode;

use crate::support::Backend;

pub const SECRET: &str = "test-secret-0123456789";

/// What the gateway does with the next messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Connection refused: certainly not taken.
    Refuse,
    /// Taken, but the answer is lost.
    Doubt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub id: i64,
    pub key: String,
    pub to: String,
    pub text: String,
}

/// The test's operator: records what it is handed, in order.
pub struct MemoryGateway {
    pub mode: Mutex<Mode>,
    pub sent: Mutex<Vec<Sent>>,
    /// Messages refused (in `Mode::Refuse`), for waiting on the outbox's tries.
    pub refused: Mutex<usize>,
}

impl MemoryGateway {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            mode: Mutex::new(Mode::Accept),
            sent: Mutex::new(Vec::new()),
            refused: Mutex::new(0),
        })
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn to(&self, phone: &str) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.to == phone)
            .cloned()
            .collect()
    }
}

impl Gateway for MemoryGateway {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn reports_delivery(&self) -> bool {
        true
    }

    fn send(&self, msg: &Outgoing<'_>) -> Result<(), SendError> {
        let mode = *self.mode.lock().unwrap();
        if mode == Mode::Refuse {
            *self.refused.lock().unwrap() += 1;
            return Err(SendError::Retry("connection refused".into()));
        }
        self.sent.lock().unwrap().push(Sent {
            id: msg.id,
            key: msg.key.to_string(),
            to: msg.to.to_string(),
            text: msg.text.to_string(),
        });
        match mode {
            Mode::Doubt => Err(SendError::InDoubt("timed out".into())),
            _ => Ok(()),
        }
    }
}

pub struct SmsApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub gateway: Arc<MemoryGateway>,
    pub backend: Backend,
    pub database_url: String,
    app: Application,
}

/// Limits high enough that no scenario but the rate-limit one meets them.
pub fn relaxed() -> SmsSettings {
    SmsSettings {
        inbound_secret: Some(SECRET.into()),
        limits: SmsLimits {
            per_minute: 1000,
            per_hour: 1000,
            replies_per_hour: 1000,
        },
        lease_secs: 120,
    }
}

impl SmsApp {
    pub async fn spawn(backend: &Backend) -> Self {
        Self::spawn_with(backend, relaxed()).await
    }

    pub async fn spawn_with(backend: &Backend, settings: SmsSettings) -> Self {
        let database_url = match backend {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("propusk-sms-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                format!("sqlite://{}", dir.join("propusk.db").display())
            }
            Backend::Postgres(base) => crate::support::fresh_postgres(base).await,
        };
        Self::start(
            backend.clone(),
            database_url,
            settings,
            MemoryGateway::new(),
        )
        .await
    }

    /// A server on an existing database, with this gateway (a restart).
    pub async fn start(
        backend: Backend,
        database_url: String,
        settings: SmsSettings,
        gateway: Arc<MemoryGateway>,
    ) -> Self {
        let store = Store::open(&database_url).await.expect("open store");
        let key = SigningKey::generate(Algorithm::EdDsa, &mut propusk_token::rand_core::OsRng);
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            sms: settings,
            ..Settings::default()
        };
        crate::support::relax(&mut settings);
        let parts = Parts {
            store,
            keys: Keys::new(key, vec![]),
            regimes: RegimeBook::with_builtins(),
            clock: Clock::system(),
            gateway: Some(gateway.clone()),
        };
        let app = Application::build(settings, parts)
            .await
            .expect("start server");
        let state = app.state().clone();
        Self {
            base: format!("http://{}", app.addr()),
            client: reqwest::Client::new(),
            state,
            gateway,
            backend,
            database_url,
            app,
        }
    }

    /// Stops the server, keeping the database.
    pub async fn restart(self, settings: SmsSettings, gateway: Arc<MemoryGateway>) -> Self {
        let (backend, url) = (self.backend.clone(), self.database_url.clone());
        self.app.stop().await.expect("clean shutdown");
        Self::start(backend, url, settings, gateway).await
    }

    pub async fn stop(self) {
        self.app.stop().await.expect("clean shutdown");
        match &self.backend {
            Backend::Postgres(base) => {
                crate::support::drop_postgres(base, &self.database_url).await
            }
            Backend::Sqlite => {
                let file = self.database_url.trim_start_matches("sqlite://");
                if let Some(dir) = std::path::Path::new(file).parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
        }
    }

    /// Delivers a message as Kannel would (GET, every escape code), with this gateway id.
    pub async fn deliver(&self, from: &str, text: &str, id: &str) -> StatusCode {
        self.client
            .get(format!("{}/api/v1/sms/inbound", self.base))
            .query(&[
                ("from", from),
                ("to", "7377"),
                ("text", text),
                ("id", id),
                ("coding", "0"),
                ("charset", "UTF-8"),
                ("secret", SECRET),
            ])
            .send()
            .await
            .expect("HTTP request")
            .status()
    }

    /// Sends a message and returns the answer that goes out to the sender.
    pub async fn ask(&self, from: &str, text: &str) -> String {
        let before = self.gateway.to(from).len();
        let status = self
            .deliver(from, text, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "message {text:?}");
        self.answer_after(from, before).await
    }

    /// Waits until `done` holds, polling every 25 ms for up to 10 s; panics with `what`.
    pub async fn until(&self, what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..400 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("not within 10 s: {what}")
    }

    /// The SMS tables' counts now.
    pub async fn sms_stats(&self) -> propusk_store::SmsStats {
        self.state
            .store
            .sms_stats(jiff::Timestamp::now())
            .await
            .unwrap()
    }

    /// Waits until the outbox has handed every message to the gateway and settled it:
    /// nothing waiting to be sent, being sent or in doubt (for up to 10 s).
    pub async fn outbox_settled(&self) {
        for _ in 0..400 {
            let stats = self.sms_stats().await;
            if stats.pending + stats.sending == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the outbox did not settle within 10 s")
    }

    /// The first message to `phone` after the `before`-th.
    pub async fn answer_after(&self, phone: &str, before: usize) -> String {
        for _ in 0..200 {
            if let Some(s) = self.gateway.to(phone).get(before) {
                return s.text.clone();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no answer to {phone} within 5 s")
    }

    /// A resident with a full web profile, made directly in the store.
    pub async fn resident(&self, phone: &str, name: &str, passport: &str) -> String {
        let phone = PhoneNumber::parse(phone).unwrap();
        let now = jiff::Timestamp::now();
        let r = self
            .state
            .store
            .resident_for_phone(&phone, now)
            .await
            .unwrap();
        let profile = Profile {
            full_name: FullName::parse(name).unwrap(),
            document: Document::parse(DocumentKind::PassportRu, passport).unwrap(),
            home_address: "Москва, ул. Тверская, д. 1".into(),
            home: GeoPoint::new(55.7575, 37.6130).unwrap(),
        };
        self.state
            .store
            .set_profile(&r.id, &profile, now)
            .await
            .unwrap();
        r.id
    }

    pub async fn resident_id(&self, phone: &str) -> Option<String> {
        let phone = PhoneNumber::parse(phone).unwrap();
        self.state
            .store
            .resident_by_phone(&phone)
            .await
            .unwrap()
            .map(|r| r.id)
    }
}

/// The short code in an answer: `7K3-QX9-4MM`.
pub fn short_code_in(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '.' | '(' | ')'))
        .find(|w| {
            w.len() == 11
                && w.as_bytes()[3] == b'-'
                && w.as_bytes()[7] == b'-'
                && w.parse::<propusk_token::ShortCode>().is_ok()
        })
        .map(str::to_string)
}
