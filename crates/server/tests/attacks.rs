//! What one client could do to the service, and what stops it: slow bodies and idle
//! connections, oversized bodies, limits hit by hundreds of requests at once, code pumping,
//! password guessing, open redirects, NUL bytes, photo metadata and decode bombs. Each
//! scenario is a defect found by probing the running service (issue 15), run on SQLite and,
//! where the backend matters, on PostgreSQL.

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::future::join_all;
use propusk_server::Settings;
use propusk_store::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{phone, problem, Backend, TestApp, STAFF_PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Changes the edge's settings of a server about to start.
fn edge(settings: &mut Settings, change: impl FnOnce(&mut propusk_server::edge::EdgeSettings)) {
    change(&mut settings.edge);
}

/// Puts the sign-in limits back to the service's defaults (the harness relaxes them).
fn default_sign_in_limits(settings: &mut Settings) {
    settings.sign_in = Default::default();
}

/// A TCP connection to the server from the loopback address `127.0.x.y`.
async fn connect_from(app: &TestApp, source: Ipv4Addr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).unwrap();
    let addr: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    socket.connect(addr).await.unwrap()
}

/// Everything the server sends until it closes the connection, or None if it is still
/// open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut all = Vec::new();
    let read = tokio::time::timeout(wait, stream.read_to_end(&mut all)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&all).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_bodies_do_not_starve_the_service() {
    // The edge does not depend on the database: SQLite alone.
    let app = TestApp::spawn_tuned(&Backend::Sqlite, 64, |s| {
        edge(s, |e| {
            e.max_connections_per_client = 64;
            e.body_timeout = Duration::from_secs(3);
        })
    })
    .await;
    // 1,000 connections from 20 addresses (50 each, under the per-client cap), each
    // promising a 1,000-byte body, sending 9 bytes of it, and going quiet. Only 64 requests
    // may be in flight: if a slow body held a slot, nothing else would get in.
    let mut slow = Vec::new();
    for i in 0..1000u32 {
        let source = Ipv4Addr::new(127, 0, 1, 2 + (i % 20) as u8);
        let mut stream = connect_from(&app, source).await;
        stream
            .write_all(
                b"POST /api/v1/auth/otp HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                  content-length: 1000\r\n\r\n{\"phone\":",
            )
            .await
            .unwrap();
        slow.push(stream);
    }
    // A normal client still gets every answer.
    for _ in 0..50 {
        let r = app.get("/api/v1/regime", None).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post("/api/v1/auth/otp", None, json!({"phone": phone()}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    // The slow ones are told their body did not arrive, and closed.
    for stream in slow.iter_mut().step_by(97) {
        let answer = read_until_closed(stream, Duration::from_secs(15))
            .await
            .expect("closed after the body deadline");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded_per_client_and_in_time() {
    let app = TestApp::spawn_tuned(&Backend::Sqlite, 1024, |s| {
        edge(s, |e| {
            e.max_connections_per_client = 5;
            e.header_timeout = Duration::from_secs(1);
            e.idle_timeout = Duration::from_secs(2);
        })
    })
    .await;
    let greedy = Ipv4Addr::new(127, 0, 2, 2);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(&app, greedy).await);
    }
    // The sixth from the same address is refused at once; another address is not.
    let mut sixth = connect_from(&app, greedy).await;
    let answer = read_until_closed(&mut sixth, Duration::from_secs(5))
        .await
        .expect("refused and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    let mut other = connect_from(&app, Ipv4Addr::new(127, 0, 2, 3)).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut other, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A connection that sends nothing is closed after the idle deadline (2 s), which also
    // frees the greedy address's places.
    let mut idle = held.pop().unwrap();
    let closed = read_until_closed(&mut idle, Duration::from_secs(6)).await;
    assert_eq!(closed.as_deref(), Some(""), "closed without an answer");

    // A head that starts and never ends is cut off after the header deadline (1 s).
    let mut stuck = connect_from(&app, Ipv4Addr::new(127, 0, 2, 4)).await;
    stuck
        .write_all(b"GET /api/v1/regime HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let closed = read_until_closed(&mut stuck, Duration::from_secs(6)).await;
    assert!(closed.is_some(), "a stuck head is closed");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A keep-alive connection is served, then closed when it stays idle.
    let mut kept = connect_from(&app, Ipv4Addr::new(127, 0, 2, 5)).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut kept, Duration::from_secs(6))
        .await
        .expect("closed once idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_bounded_per_route() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let token = app.sign_in(&phone()).await;
    // A JSON body over 2 MB to an address that takes small documents: 413, as a problem.
    let big = json!({"purpose": "shopping", "fields": {"note": "x".repeat(3 * 1024 * 1024)}});
    let r = app.post("/api/v1/passes", Some(&token), big).await;
    let body = problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    assert_eq!(body["max_bytes"], 64 * 1024);
    // Told by Content-Length alone, before the body is read.
    let r = app
        .client
        .put(format!("{}/api/v1/me", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b' '; 100 * 1024])
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    // Location batches may be larger (up to 2 MB).
    let r = app
        .client
        .post(format!("{}/api/v1/device/locations", app.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    assert_eq!(body["max_bytes"], 2 * 1024 * 1024);
    app.stop().await;
}

on_every_backend!(sign_in_code_tries_are_counted_exactly, code_tries_scenario);
async fn code_tries_scenario(app: &TestApp) {
    let patient = phone();
    let r = app
        .post("/api/v1/auth/otp", None, json!({"phone": patient}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let code = app.code_from_log(&patient).await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    // 300 guesses at once, the right one among them: at most five are ever looked at.
    let guesses = (0..300).map(|i| {
        let guess = if i == 150 {
            code.clone()
        } else {
            wrong.clone()
        };
        app.post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"phone": patient, "code": guess}),
        )
    });
    let mut counted = 0;
    let mut accepted = 0;
    for r in join_all(guesses).await {
        match r.status() {
            StatusCode::OK => accepted += 1,
            StatusCode::UNAUTHORIZED => {
                let body: Value = r.json().await.unwrap();
                match body["code"].as_str().unwrap() {
                    "otp_wrong" => counted += 1,
                    "otp_expired" => {}
                    other => panic!("unexpected {other}"),
                }
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(accepted <= 1);
    assert!(
        counted + accepted <= 5,
        "{counted} wrong tries counted and {accepted} accepted: at most 5 tries a code"
    );
    if accepted == 0 {
        assert_eq!(counted, 5, "the code ran out after exactly 5 tries");
    }
}

on_every_backend!(
    code_requests_for_one_phone_send_one_sms,
    code_requests_scenario
);
async fn code_requests_scenario(app: &TestApp) {
    let patient = phone();
    // (300 at once: with fewer, the old read-then-insert on PostgreSQL raced only sometimes.)
    let requests = (0..300).map(|_| app.post("/api/v1/auth/otp", None, json!({"phone": patient})));
    let statuses: Vec<StatusCode> = join_all(requests)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let sent = statuses
        .iter()
        .filter(|s| **s == StatusCode::ACCEPTED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((sent, limited), (1, 299), "{statuses:?}");
    let queued: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sms_outbox WHERE phone = $1")
        .bind(&patient)
        .fetch_one(&mut connect(app).await)
        .await
        .unwrap();
    assert_eq!(queued.0, 1, "one SMS queued");
}

/// A direct connection to the test's database.
async fn connect(app: &TestApp) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_cannot_pump_codes_to_many_phones() {
    for backend in support::backends() {
        let app = TestApp::spawn_tuned(&backend, 1024, default_sign_in_limits).await;
        // A hundred codes to a hundred phones at once, from one address.
        let asks = (0..100).map(|_| app.post("/api/v1/auth/otp", None, json!({"phone": phone()})));
        let mut sent = 0;
        for r in join_all(asks).await {
            if r.status() == StatusCode::ACCEPTED {
                sent += 1;
            } else {
                let body =
                    problem(r, StatusCode::TOO_MANY_REQUESTS, "otp_client_rate_limited").await;
                assert!(body["retry_after_s"].as_u64().unwrap() >= 1);
            }
        }
        assert_eq!(sent, 20, "a burst of 20, then one every 30 s");
        // Tripping the limit is recorded once, not on every refusal.
        let audit = app.state.store.audit_tail(200).await.unwrap();
        let trips = audit
            .iter()
            .filter(|e| e.action == "throttle.otp.client")
            .count();
        assert_eq!(trips, 1);
        // Thirty seconds later, one more.
        app.state.clock.advance(30);
        let r = app
            .post("/api/v1/auth/otp", None, json!({"phone": phone()}))
            .await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_asked_in_a_residents_name_do_not_lock_them_out() {
    for backend in support::backends() {
        let app = TestApp::spawn_tuned(&backend, 1024, |s| {
            default_sign_in_limits(s);
            // As behind nginx: the proxy on loopback says who the client is.
            edge(s, |e| {
                e.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
            });
        })
        .await;
        let victim = phone();
        let ask = |from: &'static str| {
            app.client
                .post(format!("{}/api/v1/auth/otp", app.base))
                .header("x-forwarded-for", from)
                .json(&json!({"phone": victim}))
                .send()
        };
        // Someone else asks five times, a minute apart, then a sixth time.
        for _ in 0..5 {
            assert_eq!(
                ask("203.0.113.5").await.unwrap().status(),
                StatusCode::ACCEPTED
            );
            app.state.clock.advance(61);
        }
        let r = ask("203.0.113.5").await.unwrap();
        problem(r, StatusCode::TOO_MANY_REQUESTS, "otp_rate_limited").await;
        // The resident, from their own phone's address, still gets a code.
        assert_eq!(
            ask("198.51.100.7").await.unwrap().status(),
            StatusCode::ACCEPTED
        );
        app.stop().await;
    }
}

on_every_backend!(staff_passwords_cannot_be_guessed, password_scenario);
async fn password_scenario(app: &TestApp) {
    app.add_staff("officer-guessed", Role::Health).await;
    let login = |password: &'static str| {
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"username": "officer-guessed", "password": password}),
        )
    };
    // A hundred wrong passwords at once, then the right one: exactly the five free tries
    // are checked, the rest refused unchecked, and so is the right one.
    let mut wrong = 0;
    let mut throttled = 0;
    for r in join_all((0..100).map(|_| login("hunter2"))).await {
        match r.status() {
            StatusCode::UNAUTHORIZED => wrong += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().contains_key("retry-after"));
                throttled += 1
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((wrong, throttled), (5, 95));
    let r = login(STAFF_PASSWORD).await;
    problem(r, StatusCode::TOO_MANY_REQUESTS, "sign_in_throttled").await;
    app.assert_audited(&["guard.login.username"], Some("officer-guessed"))
        .await;
    // After the wait (at most 15 minutes), the right password works.
    app.state.clock.advance(15 * 60 + 1);
    assert_eq!(login(STAFF_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_at_once_are_bounded() {
    let app = TestApp::spawn_tuned(&Backend::Sqlite, 1024, |s| {
        s.login = propusk_server::limits::LoginLimits {
            concurrent_hashes: 1,
            queued_hashes: 0,
            // Forty sign-ins from one address are an office, not an attack, here.
            per_client: propusk_core::throttle::Backoff {
                free: 1000,
                ..propusk_server::limits::LoginLimits::default().per_client
            },
            ..Default::default()
        };
    })
    .await;
    for i in 0..40 {
        app.add_staff(&format!("officer-{i}"), Role::Health).await;
    }
    let logins = (0..40).map(|i| {
        app.post(
            "/api/v1/auth/login",
            None,
            json!({"username": format!("officer-{i}"), "password": STAFF_PASSWORD}),
        )
    });
    let statuses: Vec<StatusCode> = join_all(logins).await.iter().map(|r| r.status()).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let busy = statuses
        .iter()
        .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert!(ok >= 1 && busy >= 1 && ok + busy == 40, "{statuses:?}");
    // A refused check is not held against the account.
    let busy_one = statuses
        .iter()
        .position(|s| *s == StatusCode::SERVICE_UNAVAILABLE)
        .unwrap();
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": format!("officer-{busy_one}"), "password": STAFF_PASSWORD}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_switch_is_no_open_redirect() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for back in [
        "/%5Cevil.com",
        "/%09/evil.com",
        "//evil.com",
        "https://evil.com",
        "/%2F/evil.com",
        "/\\evil.com",
        "/evil.com",
    ] {
        let r = client
            .get(format!("{}/lang?set=en&back={back}", app.base))
            .send()
            .await
            .unwrap();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        // A control character is refused outright; anything else leads home.
        if r.status() != StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(location.as_deref(), Some("/"), "back={back}");
        }
    }
    let r = client
        .get(format!("{}/lang?set=en&back=/passes", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/passes");
    app.stop().await;
}

on_every_backend!(nul_bytes_are_refused_alike, nul_scenario);
async fn nul_scenario(app: &TestApp) {
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "a\u{0}b", "password": "x"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
    assert_eq!(body["field"], "username");
    let token = app.sign_in(&phone()).await;
    let mut profile = support::profile("Иванов Иван Иванович", "4510123456");
    profile["home"]["address"] = json!("Москва\u{0}");
    let r = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/me",
            Some(&token),
            Some(profile),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
    assert_eq!(body["field"], "home.address");
    let r = app.get("/api/v1/passes/a%00b", Some(&token)).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
    assert_eq!(body["field"], "path");
    let officer = app.staff("health-nul", Role::Health).await;
    let now = app.state.clock.now();
    let case = json!({
        "phone": phone(), "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва\u{0}", "lat": 55.75, "lon": 37.61},
        "starts_at": now.to_string(),
        "ends_at": (now + jiff::SignedDuration::from_hours(24)).to_string(),
    });
    let r = app.post("/api/v1/cases", Some(&officer), case).await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "control_character").await;
    assert_eq!(body["field"], "home.address");
    // A form on the pages: refused the same way, with an HTML page for a browser.
    let r = app
        .client
        .post(format!("{}/sign-in", app.base))
        .header("accept", "text/html")
        .form(&[("csrf", "x"), ("phone", "+7916\u{0}")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

/// A JPEG with an EXIF block holding a GPS position (55°45'21"N).
fn jpeg_with_gps() -> Vec<u8> {
    let plain = support::browser::jpeg(64, 48);
    // TIFF, big-endian: IFD0 with one entry, GPSInfo → the GPS IFD; the GPS IFD with the
    // latitude's reference and value.
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([0x00, 0x01, 0x88, 0x25, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01]);
    tiff.extend(26u32.to_be_bytes());
    tiff.extend([0, 0, 0, 0]);
    tiff.extend([0x00, 0x02]);
    tiff.extend([
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, b'N', 0, 0, 0,
    ]);
    tiff.extend([0x00, 0x02, 0x00, 0x05, 0x00, 0x00, 0x00, 0x03]);
    tiff.extend(56u32.to_be_bytes());
    tiff.extend([0, 0, 0, 0]);
    for (num, den) in [(55u32, 1u32), (45, 1), (2100, 100)] {
        tiff.extend(num.to_be_bytes());
        tiff.extend(den.to_be_bytes());
    }
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    assert!(image::load_from_memory(&out).is_ok(), "still a picture");
    out
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

on_every_backend!(api_photos_keep_no_metadata, exif_scenario);
async fn exif_scenario(app: &TestApp) {
    let officer = app.staff("health-exif", Role::Health).await;
    let now = app.state.clock.now();
    let case = json!({
        "phone": phone(), "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва", "lat": 55.75, "lon": 37.61},
        "starts_at": now.to_string(),
        "ends_at": (now + jiff::SignedDuration::from_hours(24)).to_string(),
    });
    let r = app.post("/api/v1/cases", Some(&officer), case).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let (id, code) = (
        created["id"].as_str().unwrap().to_string(),
        created["enrollment_code"].as_str().unwrap().to_string(),
    );
    let photo = jpeg_with_gps();
    assert!(photo.windows(4).any(|w| w == b"Exif"));
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code, "reference_photo": b64(&photo)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let stored = app
        .get(
            &format!("/api/v1/cases/{id}/reference-photo"),
            Some(&officer),
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert!(image::load_from_memory(&stored).is_ok());
    assert!(
        !stored.windows(4).any(|w| w == b"Exif"),
        "the stored photo keeps no EXIF"
    );
}

/// A PNG of `width`×`height` black pixels, written row by row (a few hundred KB however
/// large it claims to be).
fn zero_png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; width as usize];
        for _ in 0..height {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_bombs_need_a_code_and_fit_a_budget() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let bomb = zero_png(12_000, 12_000);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    // Without a live code, the photo is never looked at.
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": "AAAA-BBBB-CCCC", "reference_photo": b64(&bomb)}),
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "enrollment_code_not_found").await;
    // With one, it is refused from its header: 144 megapixels are over the budget.
    let officer = app.staff("health-bomb", Role::Health).await;
    let now = app.state.clock.now();
    let case = json!({
        "phone": phone(), "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва", "lat": 55.75, "lon": 37.61},
        "starts_at": now.to_string(),
        "ends_at": (now + jiff::SignedDuration::from_hours(24)).to_string(),
    });
    let created: Value = app
        .post("/api/v1/cases", Some(&officer), case)
        .await
        .json()
        .await
        .unwrap();
    let code = created["enrollment_code"].as_str().unwrap();
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code, "reference_photo": b64(&bomb)}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_photo").await;
    assert!(
        body["detail"].as_str().unwrap().contains("12000×12000"),
        "{body}"
    );
    // The code was not spent: a proper photo still enrolls.
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code, "reference_photo": b64(&support::browser::jpeg(64, 48))}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.stop().await;
}

on_every_backend!(small_defects_stay_fixed, small_defects_scenario);
async fn small_defects_scenario(app: &TestApp) {
    // A 200,000-character note on a decision: refused, with the field named.
    let officer = app.staff("health-notes", Role::Health).await;
    let r = app
        .post(
            "/api/v1/flags/00000000-0000-0000-0000-000000000000/decision",
            Some(&officer),
            json!({"decision": "dismiss", "note": "x".repeat(200_000)}),
        )
        .await;
    // (The body limit answers first: 200,000 characters do not fit a 64 KiB document.)
    problem(r, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").await;
    let r = app
        .post(
            "/api/v1/flags/00000000-0000-0000-0000-000000000000/decision",
            Some(&officer),
            json!({"decision": "dismiss", "note": "x".repeat(20_000)}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    assert_eq!(body["field"], "note");

    // Errors the framework answers are problem+json for programs, HTML for browsers.
    for (path, status) in [
        ("/passes/%FF", StatusCode::BAD_REQUEST),
        ("/no/such/page", StatusCode::NOT_FOUND),
        ("/inspector/no-such-file.js", StatusCode::NOT_FOUND),
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status(), status, "{path}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(kind, "application/problem+json", "{path}");
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{path}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
    }
    // A duplicate form field.
    let r = app
        .client
        .post(format!("{}/sign-in", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=a&csrf=b&phone=1")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // Personal answers are never cached.
    let token = app.sign_in(&phone()).await;
    let r = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(r.headers()["cache-control"], "no-store");

    // Moments: a case dated 1970 and an offset of +25:59 are refused.
    let now = app.state.clock.now();
    for (starts, ends, field) in [
        (
            "1970-01-01T00:00:00Z".to_string(),
            "1970-01-10T00:00:00Z".to_string(),
            "starts_at",
        ),
        (
            now.to_string(),
            // Two days ahead, as typed with an offset no place has.
            (now + jiff::SignedDuration::from_hours(48))
                .strftime("%Y-%m-%dT%H:%M:%S+25:59")
                .to_string(),
            "ends_at",
        ),
    ] {
        let case = json!({
            "phone": phone(), "full_name": "Сидорова Анна Павловна",
            "home": {"address": "Москва", "lat": 55.75, "lon": 37.61},
            "starts_at": starts, "ends_at": ends,
        });
        let r = app.post("/api/v1/cases", Some(&officer), case).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field, "{body}");
    }

    // Public counters take only plausible increments.
    let inspector = app.staff("inspector-counts", Role::Inspector).await;
    let r = app
        .post(
            "/api/v1/inspector/checks",
            Some(&inspector),
            json!({"device": {"valid": 100_000}}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_check_report").await;
    for _ in 0..2 {
        let r = app
            .post(
                "/api/v1/inspector/checks",
                Some(&inspector),
                json!({"device": {"valid": 3_000}}),
            )
            .await;
        if r.status() != StatusCode::OK {
            problem(r, StatusCode::TOO_MANY_REQUESTS, "implausible_check_count").await;
            return;
        }
    }
    panic!("6,000 checks reported at once were taken");
}

on_every_backend!(csrf_tokens_are_bound_to_the_session, csrf_scenario);
async fn csrf_scenario(app: &TestApp) {
    let mut b = support::browser::Browser::new(app);
    b.get("/sign-in").await;
    let anonymous = b.csrf();
    assert_eq!(anonymous.len(), 43);
    // A token of the client's choosing is not believed: the server makes its own.
    b.cookies.insert("propusk_csrf".into(), "a".repeat(32));
    b.get("/sign-in").await;
    assert_ne!(b.csrf(), "a".repeat(32));
    // Signing in gives a new token, bound to the session (a fresh browser, whose cookie is
    // the server's own anonymous token).
    let mut b = support::browser::Browser::new(app);
    b.get("/sign-in").await;
    let anonymous = b.csrf();
    let patient = phone();
    b.post("/sign-in", &[("phone", &patient)]).await;
    let code = app.code_from_log(&patient).await;
    b.post("/sign-in/code", &[("phone", &patient), ("code", &code)])
        .await;
    b.get("/profile").await;
    let bound = b.csrf();
    assert_ne!(bound, anonymous);
    // The anonymous token no longer works for a signed-in form.
    let r = app
        .client
        .post(format!("{}/profile", app.base))
        .header("cookie", b.cookie_header())
        .form(&[("csrf", anonymous.as_str()), ("full_name", "Иванов Иван")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
