//! The test harness: every test gets its own database and its own server on
//! 127.0.0.1:0, and speaks HTTP to it like a real client. Each scenario runs on
//! SQLite and, when `PROPUSK_TEST_DATABASE_URL` is set, again on PostgreSQL.

#![allow(dead_code)]

pub mod browser;
pub mod monitoring;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use propusk_core::policy::RegimeBook;
use propusk_server::{AppState, Application, Clock, Keys, Parts, Settings};
use propusk_store::{Role, Store};
use propusk_token::{Algorithm, SigningKey};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{json, Value};

/// Runs an async scenario on every configured backend.
#[macro_export]
macro_rules! on_every_backend {
    ($name:ident, $scenario:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in support::backends() {
                let app = support::TestApp::spawn(&backend).await;
                $scenario(&app).await;
                app.stop().await;
            }
        }
    };
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("PROPUSK_TEST_DATABASE_URL") {
        if !url.is_empty() {
            all.push(Backend::Postgres(url));
        }
    }
    // CI's PostgreSQL run says it is one: without the URL it would pass on SQLite alone.
    if std::env::var("PROPUSK_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        assert_eq!(
            all.len(),
            2,
            "PROPUSK_TEST_REQUIRE_POSTGRES=1 but PROPUSK_TEST_DATABASE_URL is not set: \
             these tests would run on SQLite only"
        );
    }
    all
}

/// Everything the server logs, so tests read sign-in codes where a developer would: in the log.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,sqlx=warn")
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .try_init();
        buffer
    })
}

/// Everything the servers of this test binary logged so far.
pub fn log_text() -> String {
    String::from_utf8_lossy(&log().lock().unwrap()).into_owned()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A fresh, empty PostgreSQL database on the server at `base`.
pub async fn fresh_postgres(base: &str) -> String {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let name = format!("propusk_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(base)
        .await
        .expect("connect to PROPUSK_TEST_DATABASE_URL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("database URL ends with /DBNAME");
    format!("{prefix}/{name}")
}

/// Drops a test database (other servers on it must be stopped first).
pub async fn drop_postgres(base: &str, url: &str) {
    use sqlx::Executor;
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(base).await {
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
    }
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub state: AppState,
    pub backend: Backend,
    pub database_url: String,
    app: Application,
}

impl TestApp {
    pub async fn spawn(backend: &Backend) -> Self {
        Self::spawn_with(backend, 1024).await
    }

    pub async fn spawn_with(backend: &Backend, max_in_flight: usize) -> Self {
        Self::spawn_tuned(backend, max_in_flight, |_| {}).await
    }

    /// A server whose settings `tune` adjusts before it starts.
    pub async fn spawn_tuned(
        backend: &Backend,
        max_in_flight: usize,
        tune: impl FnOnce(&mut Settings),
    ) -> Self {
        let database_url = match backend {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("propusk-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                format!("sqlite://{}", dir.join("propusk.db").display())
            }
            Backend::Postgres(base) => fresh_postgres(base).await,
        };
        Self::start_tuned(backend.clone(), database_url, max_in_flight, tune).await
    }

    /// A server on an existing database (a restart).
    pub async fn start(backend: Backend, database_url: String, max_in_flight: usize) -> Self {
        Self::start_tuned(backend, database_url, max_in_flight, |_| {}).await
    }

    /// [`TestApp::start`] with settings changed by `tune`.
    pub async fn start_tuned(
        backend: Backend,
        database_url: String,
        max_in_flight: usize,
        tune: impl FnOnce(&mut Settings),
    ) -> Self {
        // The log must be capturing before the server sends its first SMS: a test that starts
        // a server on its own database (not through `spawn`) would otherwise race the other
        // tests of its binary to install it, and lose its sign-in code when it wins.
        log();
        let store = Store::open(&database_url).await.expect("open store");
        let key = SigningKey::generate(Algorithm::EdDsa, &mut propusk_token::rand_core::OsRng);
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            max_in_flight,
            ..Settings::default()
        };
        relax(&mut settings);
        tune(&mut settings);
        let parts = Parts {
            store,
            keys: Keys::new(key, vec![]),
            regimes: RegimeBook::with_builtins(),
            clock: Clock::system(),
            gateway: Some(propusk_server::sms::log_gateway()),
        };
        let app = Application::build(settings, parts)
            .await
            .expect("start server");
        Self {
            base: format!("http://{}", app.addr()),
            client: Client::new(),
            state: app.state().clone(),
            backend,
            database_url,
            app,
        }
    }

    /// The first-run setup link the server made at start (none when a staff account existed).
    pub fn setup_link(&self) -> Option<&str> {
        self.app.setup_link()
    }

    /// Stops this server but keeps its database, for the other nodes still on it.
    pub async fn stop_node(self) {
        self.app.stop().await.expect("clean shutdown");
    }

    pub async fn stop(self) {
        self.app.stop().await.expect("clean shutdown");
        if let Backend::Postgres(base) = &self.backend {
            drop_postgres(base, &self.database_url).await;
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("HTTP request")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    /// A GET that must answer 200, as JSON.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let r = self.get(path, token).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("a JSON answer")
    }

    /// The last sign-in code the log gateway wrote for `phone`.
    pub async fn code_from_log(&self, phone: &str) -> String {
        for _ in 0..100 {
            let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
            let code = text
                .lines()
                .rev()
                .filter(|l| l.contains(&format!("sms to={phone} ")))
                .filter_map(|l| l.split_once(" text=").map(|(_, text)| text))
                .filter_map(|t| {
                    t.split(|c: char| !c.is_ascii_digit())
                        .find(|w| w.len() == 6)
                        .map(str::to_string)
                })
                .next();
            if let Some(code) = code {
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no sign-in code for {phone} in the log")
    }

    /// Every SMS text the log gateway sent to `phone`, oldest first.
    pub fn sms_to(&self, phone: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| l.contains(&format!("sms to={phone} ")))
            .filter_map(|l| l.split_once(" text=").map(|(_, t)| t.to_string()))
            .collect()
    }

    /// Waits until the log gateway has sent `phone` an SMS containing `needle`; returns it.
    pub async fn wait_sms(&self, phone: &str, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(text) = self.sms_to(phone).into_iter().find(|t| t.contains(needle)) {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no SMS to {phone} containing {needle:?}; sent: {:?}",
            self.sms_to(phone)
        )
    }

    /// Signs a new resident in by SMS code and returns the bearer token.
    pub async fn sign_in(&self, phone: &str) -> String {
        let r = self
            .post("/api/v1/auth/otp", None, json!({"phone": phone}))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::ACCEPTED,
            "{}",
            r.text().await.unwrap()
        );
        let code = self.code_from_log(phone).await;
        let r = self
            .post(
                "/api/v1/auth/otp/verify",
                None,
                json!({"phone": phone, "code": code}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A signed-in resident with a complete profile.
    pub async fn resident(&self, phone: &str, name: &str, passport: &str) -> String {
        let token = self.sign_in(phone).await;
        let r = self
            .request(
                Method::PUT,
                "/api/v1/me",
                Some(&token),
                Some(profile(name, passport)),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        token
    }

    /// Moves the server's clock forward to `t`.
    pub fn move_to(&self, t: jiff::Timestamp) {
        let delta = t.duration_since(self.state.clock.now()).as_secs();
        assert!(delta >= 0, "the clock only moves forward");
        self.state.clock.advance(delta);
    }

    /// A staff account with [`STAFF_PASSWORD`], made as `propusk user add` makes one.
    pub async fn add_staff(&self, username: &str, role: Role) {
        let hash = propusk_server::auth::hash_password(STAFF_PASSWORD).unwrap();
        self.state
            .store
            .add_staff(username, role, &hash, jiff::Timestamp::now())
            .await
            .unwrap()
            .expect("new user");
    }

    /// Asserts that each of `actions` is among the last 100 audit entries, on `subject` when
    /// one is given.
    pub async fn assert_audited(&self, actions: &[&str], subject: Option<&str>) {
        let audit = self.state.store.audit_tail(100).await.unwrap();
        for action in actions {
            assert!(
                audit
                    .iter()
                    .any(|e| e.action == *action && subject.is_none_or(|s| e.subject == s)),
                "{action} audited"
            );
        }
    }

    /// A staff account, signed in through the API.
    pub async fn staff(&self, username: &str, role: Role) -> String {
        self.add_staff(username, role).await;
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": username, "password": STAFF_PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Limits per client high enough that no scenario but the limits' own meets them: every test
/// client is 127.0.0.1, and scenarios sign many residents in and fire hundreds of requests
/// at once.
pub fn relax(settings: &mut Settings) {
    settings.edge.max_connections_per_client = 4096;
    let many =
        propusk_core::throttle::Rate::new(100_000, jiff::SignedDuration::from_millis(1)).unwrap();
    let sign_in = &mut settings.sign_in;
    sign_in.per_client = many;
    sign_in.per_requester = many;
    sign_in.per_phone = many;
    sign_in.global = many;
}

/// The password of every staff account the tests make.
pub const STAFF_PASSWORD: &str = "correct horse battery";

pub fn profile(name: &str, passport: &str) -> Value {
    json!({
        "full_name": name,
        "document": {"type": "passport_ru", "number": passport},
        "home": {"address": "Москва, ул. Тверская, д. 1", "lat": 55.7575, "lon": 37.6130},
    })
}

/// A random Russian mobile number, so parallel tests never share a phone.
pub fn phone() -> String {
    let n: u64 = rand::random::<u64>() % 10_000_000;
    format!("+7916{n:07}")
}

/// Asserts a problem+json answer with this status and code; returns its body.
pub async fn problem(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    let ct = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.len() > 10),
        "a human detail: {body}"
    );
    body
}
