//! The `propusk` program as an operator runs it: `propusk serve` in its own process, backed
//! up and restored while it serves, and its memory under a flood of decode bombs and
//! password checks.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("propusk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn propusk(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(args)
        .output()
        .expect("run propusk")
}

fn ok(args: &[&str]) -> String {
    let out = propusk(args);
    assert!(
        out.status.success(),
        "propusk {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `propusk serve` on a data directory, on a free port; stopped when dropped.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
    client: reqwest::Client,
}

impl Served {
    fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    /// [`Served::start`] with more arguments for `propusk serve`.
    fn start_with(data_dir: &Path, more: &[&str]) -> Self {
        let log = data_dir.with_extension("log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(more)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start propusk serve");
        // The reader lives as long as the server: a closed pipe would fail its next print.
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(url) = line.trim().strip_prefix("residents:") {
                    let _ = tx.send(url.trim().trim_end_matches('/').to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| {
                panic!(
                    "serve printed no address; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Self {
            child,
            base,
            log,
            client: reqwest::Client::new(),
        }
    }

    /// The end of the server's log, for a failure's message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = log.len().saturating_sub(4000);
        let start = (start..log.len())
            .find(|&i| log.is_char_boundary(i))
            .unwrap_or(0);
        log[start..].to_string()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> reqwest::Response {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// The sign-in code the log gateway wrote for `phone`.
    async fn code_for(&self, phone: &str) -> String {
        for _ in 0..200 {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let code = log
                .lines()
                .rev()
                .filter(|l| l.contains(&format!("sms to={phone} ")))
                .filter_map(|l| l.split_once(" text=").map(|(_, t)| t.to_string()))
                .find_map(|t| {
                    t.split(|c: char| !c.is_ascii_digit())
                        .find(|w| w.len() == 6)
                        .map(str::to_string)
                });
            if let Some(code) = code {
                return code;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no sign-in code for {phone}")
    }

    /// A signed-in resident with a profile; the bearer token.
    async fn resident(&self, phone: &str) -> String {
        let r = self
            .post("/api/v1/auth/otp", None, json!({"phone": phone}))
            .await;
        assert_eq!(r.status(), 202);
        let code = self.code_for(phone).await;
        let r = self
            .post(
                "/api/v1/auth/otp/verify",
                None,
                json!({"phone": phone, "code": code}),
            )
            .await;
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        let r = self
            .client
            .put(format!("{}/api/v1/me", self.base))
            .bearer_auth(&token)
            .json(&json!({
                "full_name": "Иванов Иван Иванович",
                "document": {"type": "passport_ru", "number": "4510 123456"},
                "home": {"address": "Москва, ул. Тверская, д. 1", "lat": 55.7575, "lon": 37.6130},
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        token
    }

    /// A pass for `token`: (id, token) when issued.
    async fn pass(&self, token: &str) -> Option<(String, String)> {
        let r = self
            .post("/api/v1/passes", Some(token), json!({"purpose": "trash"}))
            .await;
        if r.status() != 201 {
            return None;
        }
        let body: Value = r.json().await.unwrap();
        Some((
            body["id"].as_str().unwrap().to_string(),
            body["token"].as_str().unwrap().to_string(),
        ))
    }

    /// Stops the service (SIGTERM) and waits for it.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The drill: passes issued, a backup taken while passes are being issued, more issued,
/// the backup restored (with the exported keys) into a fresh data directory. The restored
/// service has exactly the backed-up state, and every token issued before the backup still
/// verifies against its published keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_and_restore_drill() {
    let root = temp_dir("drill");
    let data = root.join("data");
    let served = Served::start(&data);
    let phones: Vec<String> = (0..4).map(|i| format!("+7916555{i:04}")).collect();
    let mut residents = Vec::new();
    for phone in &phones {
        residents.push(served.resident(phone).await);
    }
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(served.pass(&residents[i % 4]).await.expect("issued"));
    }

    // The backup is taken online, while passes go on being issued.
    let backup = root.join("backup.db");
    let during = {
        let served = &served;
        let residents = &residents;
        async move {
            let mut issued = Vec::new();
            for i in 0..30 {
                if let Some(p) = served.pass(&residents[i % 4]).await {
                    issued.push(p);
                }
            }
            issued
        }
    };
    let backup_arg = backup.to_str().unwrap().to_string();
    let data_arg = data.to_str().unwrap().to_string();
    let taking = tokio::task::spawn_blocking(move || {
        ok(&["backup", "--to", &backup_arg, "--data-dir", &data_arg])
    });
    let (during, report) = tokio::join!(during, taking);
    let report = report.unwrap();
    assert!(report.contains("backed up to"), "{report}");
    let keys = root.join("keys-export");
    ok(&[
        "keys",
        "export",
        "--private",
        "--out",
        keys.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let mut after = Vec::new();
    for i in 0..10 {
        after.push(served.pass(&residents[i % 4]).await.expect("issued"));
    }
    served.stop();

    // A second backup never overwrites the first; restore refuses a non-empty directory.
    let again = propusk(&[
        "backup",
        "--to",
        backup.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    let into_used = propusk(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!into_used.status.success());
    assert!(String::from_utf8_lossy(&into_used.stderr).contains("empty data directory"));

    let restored = root.join("restored");
    let out = ok(&[
        "restore",
        backup.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
        "--data-dir",
        restored.to_str().unwrap(),
    ]);
    assert!(out.contains("restored"), "{out}");
    let served = Served::start(&restored);
    // Sessions and passes of before the backup are there; those of after it are not.
    let mut found = 0;
    for (i, (id, _)) in before.iter().enumerate() {
        let r = served
            .get(&format!("/api/v1/passes/{id}"), Some(&residents[i % 4]))
            .await;
        assert_eq!(r.status(), 200, "pass {id} of before the backup");
        found += 1;
    }
    assert_eq!(found, 20);
    for (i, (id, _)) in after.iter().enumerate() {
        let r = served
            .get(&format!("/api/v1/passes/{id}"), Some(&residents[i % 4]))
            .await;
        assert_eq!(r.status(), 404, "pass {id} of after the backup");
    }
    // The restored state is exactly the backup's: its count of passes.
    let listed: usize = {
        let mut n = 0;
        for token in &residents {
            let r: Value = served
                .get("/api/v1/passes", Some(token))
                .await
                .json()
                .await
                .unwrap();
            n += r["passes"].as_array().unwrap().len();
        }
        n
    };
    let backed_up: usize = report
        .lines()
        .find_map(|l| {
            l.split(" passes,")
                .next()?
                .rsplit(", ")
                .next()?
                .parse()
                .ok()
        })
        .expect("the report counts passes");
    assert_eq!(listed, backed_up, "{report}");
    assert!(backed_up >= 20 && backed_up <= 20 + during.len());

    // Every token of before the backup verifies against the restored service's keys.
    let tokens: String = before.iter().map(|(_, t)| format!("{t}\n")).collect();
    let keys_url = format!("{}/.well-known/propusk/keys", served.base);
    let verify = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_propusk"))
            .args(["verify", "--keys", &keys_url, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(tokens.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let verdicts = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{verdicts}");
    assert_eq!(
        verdicts.lines().filter(|l| l.starts_with("VALID ")).count(),
        20,
        "{verdicts}"
    );
    served.stop();
    let _ = std::fs::remove_dir_all(&root);
}

/// A PNG of `width`×`height` black pixels in `color`, written row by row (small on disk,
/// huge once decoded).
fn zero_png(width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
    let channels = match color {
        png::ColorType::Rgb => 3,
        _ => 1,
    };
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(color);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; width as usize * channels];
        for _ in 0..height {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    out
}

/// The peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib / 1024
}

/// A multipart form as a browser's file input sends it.
fn multipart(fields: &[(&str, &str)], photo: &[u8]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "----propuskBombBoundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(photo);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Eight decode bombs at once (and eight within the pixel budget that really decode), and
/// 150 staff sign-ins at once: the server stays under 300 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_stays_bounded_under_bombs_and_sign_in_floods() {
    let root = temp_dir("bombs");
    let data = root.join("data");
    let served = Served::start(&data);
    let out = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args([
            "user",
            "add",
            "--role",
            "health",
            "--username",
            "officer",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"a long enough password\n")?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    let login: Value = served
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "officer", "password": "a long enough password"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let officer = login["token"].as_str().expect("signed in").to_string();
    let now = jiff::Timestamp::now();
    let case: Value = served
        .post(
            "/api/v1/cases",
            Some(&officer),
            json!({
                "phone": "+79160001122", "full_name": "Сидорова Анна Павловна",
                "home": {"address": "Москва", "lat": 55.75, "lon": 37.61},
                "starts_at": now.to_string(),
                "ends_at": (now + jiff::SignedDuration::from_hours(24)).to_string(),
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let code = case["enrollment_code"].as_str().unwrap().to_string();
    let baseline = peak_rss_mib(served.pid());

    // The page's form, with its CSRF cookie and field.
    let client = reqwest::Client::new();
    let page = client
        .get(format!("{}/patient", served.base))
        .send()
        .await
        .unwrap();
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let html = page.text().await.unwrap();
    let csrf = html
        .split_once("name=\"csrf\" value=\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .unwrap()
        .to_string();
    let bomb = zero_png(12_000, 12_000, png::ColorType::Grayscale);
    let big = zero_png(4_000, 4_000, png::ColorType::Rgb);
    let post = |photo: &[u8]| {
        let (content_type, body) = multipart(&[("csrf", &csrf), ("code", &code)], photo);
        client
            .post(format!("{}/patient/enroll", served.base))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let uploads = (0..8)
        .map(|_| post(&bomb))
        .chain((0..8).map(|_| post(&big)));
    let statuses: Vec<u16> = futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .map(|r| match r {
            Ok(r) => r.status().as_u16(),
            Err(e) => panic!("{e}; the server's log:\n{}", served.log_tail()),
        })
        .collect();
    // The bombs are refused from their header; a picture within the budget is decoded and
    // enrolls (once: the code is then spent; the client follows the redirect to the
    // patient's page), or is turned away.
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 404 | 422 | 503)),
        "{statuses:?}"
    );
    assert!(statuses[..8].iter().all(|s| *s == 422), "{statuses:?}");

    let after_photos = peak_rss_mib(served.pid());
    // 150 sign-ins at once, each an Argon2 check of ~19 MiB if unbounded.
    let logins = (0..150).map(|i| {
        served.post(
            "/api/v1/auth/login",
            None,
            json!({"username": format!("officer{i}"), "password": "wrong"}),
        )
    });
    let statuses: Vec<u16> = futures_util::future::join_all(logins)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 429 | 503)),
        "{statuses:?}"
    );

    let peak = peak_rss_mib(served.pid());
    assert!(
        peak < 300,
        "peak RSS {peak} MiB ({baseline} MiB before, {after_photos} MiB after the photos)"
    );
    eprintln!("peak RSS {peak} MiB, {baseline} MiB before the attack");
    served.stop();
    let _ = std::fs::remove_dir_all(&root);
}

/// Behind a TLS-terminating proxy (`behind_tls = true` in the configuration file, as in
/// deploy/propusk.toml), every answer carries HSTS and every cookie the service sets is
/// Secure: the pages' form and language cookies, and the officer's session.
#[tokio::test]
async fn behind_tls_reaches_the_service() {
    let data = temp_dir("behind-tls");
    let config = data.with_extension("toml");
    std::fs::write(&config, "behind_tls = true\n").unwrap();
    let mut add = Command::new(env!("CARGO_BIN_EXE_propusk"))
        .args(["user", "add", "--role", "health", "--username", "officer"])
        .args(["--password-stdin", "--data-dir"])
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().unwrap();
        stdin.write_all(b"correct horse battery\n").unwrap();
    }
    assert!(add.wait().unwrap().success());
    let served = Served::start_with(&data, &["--config", config.to_str().unwrap()]);
    // Cookies are set on redirects: see them, do not follow.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut cookies: Vec<String> = Vec::new();
    let mut csrf = String::new();
    for path in [
        "/",
        "/lang?set=en&back=/",
        "/health/sign-in",
        "/api/v1/regimes",
    ] {
        let r = client
            .get(format!("{}{path}", served.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()
                .get("strict-transport-security")
                .map(|v| v.to_str().unwrap()),
            Some("max-age=31536000; includeSubDomains"),
            "GET {path}: no HSTS; log:\n{}",
            served.log_tail()
        );
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            if let Some(value) = c.strip_prefix("propusk_csrf=") {
                csrf = value.split(';').next().unwrap().to_string();
            }
            cookies.push(c);
        }
    }
    assert!(!csrf.is_empty(), "no form cookie among {cookies:#?}");
    let r = client
        .post(format!("{}/health/sign-in", served.base))
        .header("cookie", format!("propusk_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "officer"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the officer is signed in");
    assert!(r.headers().contains_key("strict-transport-security"));
    cookies.extend(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().to_string()),
    );
    for name in ["propusk_csrf=", "propusk_lang=", "propusk_health="] {
        assert!(
            cookies.iter().any(|c| c.starts_with(name)),
            "no {name} cookie among {cookies:#?}"
        );
    }
    for c in &cookies {
        assert!(c.contains("; Secure"), "not Secure behind TLS: {c}");
    }
    served.stop();
    let _ = std::fs::remove_dir_all(&data);
}
