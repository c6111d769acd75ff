//! The database going away under load, and coming back.
//!
//! - PostgreSQL: the test starts a private cluster of its own (`initdb` on a free port, so
//!   the machine's server is not disturbed), stops and starts it while passes are being
//!   issued, and checks that readiness drops within 2 s, requests fail fast with 503 and
//!   Retry-After, the service recovers within 5 s without a restart, and every pass that was
//!   acknowledged is still there. Runs with the other PostgreSQL tests (when
//!   `PROPUSK_TEST_DATABASE_URL` is set), since it needs PostgreSQL's server programs.
//! - SQLite: a full disk (a small tmpfs) makes writes fail with 503 while reads go on;
//!   nothing is corrupted, and writes work again when space returns. Mounting needs root, so
//!   it runs when `PROPUSK_TEST_TMPFS=1` is set (as `.ci/run` does).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{phone, problem, Backend, TestApp};

/// Runs a PostgreSQL program, as the `postgres` user when this process is root (the server
/// refuses to run as root).
fn pg_command(bin: &Path, program: &str, args: &[&str]) -> Command {
    let path = bin.join(program);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path).args(args);
        c
    } else {
        let mut c = Command::new(path);
        c.args(args);
        c
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn run(mut command: Command) {
    let out = command.output().expect("run a PostgreSQL program");
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL cluster of the test's own, in a temporary directory, on a free port.
struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl PrivatePostgres {
    fn init() -> Self {
        let bin = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .filter(|p| p.join("initdb").exists())
            .or_else(|| {
                std::fs::read_dir("/usr/lib/postgresql")
                    .ok()?
                    .filter_map(|e| e.ok())
                    .map(|e| e.path().join("bin"))
                    .find(|p| p.join("initdb").exists())
            })
            .expect("PostgreSQL's server programs (initdb, pg_ctl) are installed");
        let dir = std::env::temp_dir().join(format!("propusk-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            run({
                let mut c = Command::new("chown");
                c.arg("postgres:").arg(&dir);
                c
            });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let data = dir.join("data");
        run(pg_command(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        ));
        let pg = Self { bin, dir, port };
        pg.start();
        pg
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("server.log");
        run(pg_command(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        ));
    }

    fn stop(&self) {
        let data = self.dir.join("data");
        run(pg_command(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        ));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = pg_command(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        )
        .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a stream of pass requests saw.
#[derive(Default)]
struct Load {
    /// (when the answer came, status, code of a problem, how long it took)
    answers: Vec<(Instant, StatusCode, String, Duration)>,
    /// Ids of the passes whose issuance was acknowledged (201).
    issued: Vec<String>,
}

/// Issues passes for `residents` in turn until `stop` is set.
async fn issue_until(
    app: &TestApp,
    residents: &[String],
    load: Arc<Mutex<Load>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let token = &residents[i % residents.len()];
        i += 1;
        let started = Instant::now();
        let r = app
            .post("/api/v1/passes", Some(token), json!({"purpose": "trash"}))
            .await;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let mut load = load.lock().unwrap();
        if status == StatusCode::CREATED {
            load.issued.push(body["id"].as_str().unwrap().to_string());
        }
        let code = body["code"].as_str().unwrap_or_default().to_string();
        load.answers
            .push((Instant::now(), status, code, started.elapsed()));
    }
}

/// Waits (polling every 50 ms, at most `limit`) until `ready` says so; returns how long.
async fn time_until<F, Fut>(limit: Duration, mut ready: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready().await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not within {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_outage_under_load() {
    if std::env::var("PROPUSK_TEST_DATABASE_URL").is_err() {
        eprintln!("skipped: runs with the PostgreSQL tests (PROPUSK_TEST_DATABASE_URL)");
        return;
    }
    let pg = PrivatePostgres::init();
    let app = TestApp::start(Backend::Postgres(pg.url()), pg.url(), 1024).await;
    let mut residents = Vec::new();
    for i in 0..10 {
        residents.push(
            app.resident(&phone(), "Иванов Иван Иванович", &format!("4510 12345{i}"))
                .await,
        );
    }
    let load = Arc::new(Mutex::new(Load::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|_| issue_until(&app, &residents, load.clone(), stop.clone()))
        .collect();
    let scenario = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // The database goes down under load.
        tokio::task::block_in_place(|| pg.stop());
        let not_ready = time_until(Duration::from_secs(5), || async {
            app.get("/readyz", None).await.status() == StatusCode::SERVICE_UNAVAILABLE
        })
        .await;
        assert!(not_ready <= Duration::from_secs(2), "{not_ready:?}");
        // Requests during the outage: a fast 503 problem with Retry-After.
        let token = &residents[0];
        for _ in 0..3 {
            let started = Instant::now();
            let r = app
                .post("/api/v1/passes", Some(token), json!({"purpose": "trash"}))
                .await;
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{:?}",
                started.elapsed()
            );
            assert!(r.headers().contains_key("retry-after"));
            problem(r, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Back: the service recovers by itself within 5 s.
        tokio::task::block_in_place(|| pg.start());
        let recovered = time_until(Duration::from_secs(5), || async {
            app.post("/api/v1/passes", Some(token), json!({"purpose": "trash"}))
                .await
                .status()
                != StatusCode::SERVICE_UNAVAILABLE
        })
        .await;
        assert!(recovered <= Duration::from_secs(5), "{recovered:?}");
        assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    };
    tokio::join!(scenario, futures_util::future::join_all(writers));

    let load = std::mem::take(&mut *load.lock().unwrap());
    // Every answer was a pass, a refusal by the rules, or a fast 503; none took longer than
    // the database's connection wait, and no 500.
    for (_, status, code, took) in &load.answers {
        assert!(
            matches!(status.as_u16(), 201 | 422 | 503),
            "{status} {code}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(matches!(code.as_str(), "database_unavailable"), "{code}");
        }
        assert!(*took < Duration::from_secs(5), "{took:?}");
    }
    assert!(load
        .answers
        .iter()
        .any(|a| a.1 == StatusCode::SERVICE_UNAVAILABLE));
    // Nothing acknowledged was lost.
    assert!(load.issued.len() > 10, "{} issued", load.issued.len());
    let store = propusk_store::Store::open(&pg.url()).await.unwrap();
    for id in &load.issued {
        assert!(store.pass(id).await.unwrap().is_some(), "pass {id} lost");
    }
    store.close().await;
    app.stop_node().await;
}

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("propusk-full-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        run({
            let mut c = Command::new("mount");
            c.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(&dir);
            c
        });
        Self { dir }
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_full_disk() {
    if std::env::var("PROPUSK_TEST_TMPFS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: mounting a tmpfs needs root; set PROPUSK_TEST_TMPFS=1 (as .ci/run does)"
        );
        return;
    }
    let disk = SmallDisk::mount("6m");
    let url = format!("sqlite://{}", disk.dir.join("propusk.db").display());
    let app = TestApp::start(Backend::Sqlite, url.clone(), 1024).await;
    let resident = app
        .resident(&phone(), "Иванов Иван Иванович", "4510 123456")
        .await;
    let mut issued = Vec::new();
    for _ in 0..3 {
        let r = app
            .post(
                "/api/v1/passes",
                Some(&resident),
                json!({"purpose": "trash"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        issued.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let filler = disk.fill();
    // Writes: a 503 telling to retry, never a 500.
    let mut refused = 0;
    for _ in 0..5 {
        let r = app
            .post(
                "/api/v1/passes",
                Some(&resident),
                json!({"purpose": "trash"}),
            )
            .await;
        match r.status() {
            StatusCode::CREATED => issued.push(
                r.json::<Value>().await.unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            status => {
                if status != StatusCode::SERVICE_UNAVAILABLE {
                    let log = support::log_text();
                    let tail: Vec<&str> = log.lines().rev().take(5).collect();
                    panic!("{status}: {tail:#?}");
                }
                problem(r, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
                refused += 1;
            }
        }
    }
    assert!(
        refused >= 4,
        "writes fail on a full disk ({refused} of 5 refused)"
    );
    // Reads go on.
    let r = app.get("/api/v1/passes", Some(&resident)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let listed: Value = r.json().await.unwrap();
    assert!(listed["passes"].as_array().unwrap().len() >= 3, "{listed}");
    // Space returns: writes work again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let r = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "trash"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    issued.push(
        r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    app.stop_node().await;
    // Nothing corrupted, nothing acknowledged lost.
    {
        use sqlx::Connection;
        let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(check, "ok");
        db.close().await.unwrap();
    }
    let store = propusk_store::Store::open(&url).await.unwrap();
    for id in &issued {
        assert!(store.pass(id).await.unwrap().is_some(), "pass {id} lost");
    }
    store.close().await;
}
