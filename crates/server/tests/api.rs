//! The JSON API as a new client drives it, on SQLite and on PostgreSQL.

mod support;

use futures_util::future::join_all;
use propusk_store::Role;
use propusk_token::{verify, NoRevocations, TrustList};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{phone, problem, TestApp};

on_every_backend!(whole_pass_flow, whole_pass_flow_scenario);
async fn whole_pass_flow_scenario(app: &TestApp) {
    let resident = app
        .resident(&phone(), "Петров Пётр Сергеевич", "4510 123456")
        .await;

    // A shopping pass.
    let r = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "shopping"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let pass: Value = r.json().await.unwrap();
    assert_eq!(pass["purpose"], "shopping");
    assert_eq!(pass["status"], "active");
    let token = pass["token"].as_str().unwrap();
    let from: jiff::Timestamp = pass["valid_from"].as_str().unwrap().parse().unwrap();
    let until: jiff::Timestamp = pass["valid_until"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        until.as_second() - from.as_second(),
        3 * 3600,
        "shopping lasts 3 hours by default"
    );

    // Verified offline with nothing but the published keys.
    let jwks = app
        .get("/.well-known/propusk/keys", None)
        .await
        .text()
        .await
        .unwrap();
    let trust = TrustList::from_jwks_json(&jwks).unwrap();
    let verdict = verify(
        token,
        &trust,
        &NoRevocations,
        jiff::Timestamp::now().as_second(),
    );
    assert_eq!(verdict.name(), "valid");
    let claims = &verdict.pass().unwrap().claims;
    assert_eq!(claims.holder, "П.П. 3456");
    assert_eq!(claims.regime, "moscow-2020");
    assert_eq!(claims.pass_id.to_string(), pass["id"].as_str().unwrap());

    // QR codes that decode back to the token.
    let id = pass["id"].as_str().unwrap();
    let svg = app
        .get(&format!("/api/v1/passes/{id}/qr.svg"), Some(&resident))
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = app
        .get(&format!("/api/v1/passes/{id}/qr.png"), Some(&resident))
        .await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let img = image::load_from_memory(&png.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let (_, text) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(text, token);

    // An inspector checks it by short code and by token.
    let inspector = app.staff("inspector-1", Role::Inspector).await;
    let short = pass["short_code"].as_str().unwrap();
    let v: Value = app
        .post(
            "/api/v1/verify",
            Some(&inspector),
            json!({"short_code": short}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["holder"], "П.П. 3456");
    let typed = short.to_lowercase().replace('-', " ");
    let v: Value = app
        .post(
            "/api/v1/verify",
            Some(&inspector),
            json!({"short_code": typed}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["verdict"], "valid",
        "short codes are forgiving about case and separators"
    );
    let v: Value = app
        .post("/api/v1/verify", Some(&inspector), json!({"token": token}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verdict"], "valid");

    // The holder cancels it: revoked everywhere.
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/passes/{id}"),
            Some(&resident),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    let v: Value = app
        .post(
            "/api/v1/verify",
            Some(&inspector),
            json!({"short_code": short}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verdict"], "revoked");
    let v: Value = app
        .post("/api/v1/verify", Some(&inspector), json!({"token": token}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["verdict"], "revoked");
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/passes/{id}"),
            Some(&resident),
            None,
        )
        .await;
    problem(r, StatusCode::CONFLICT, "already_cancelled").await;

    // The revocation list carries it, and delta sync starts after what was seen.
    let list: Value = app
        .get("/api/v1/revocations?since=0", None)
        .await
        .json()
        .await
        .unwrap();
    let seq = list["sequence"].as_i64().unwrap();
    assert!(list["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["pass_id"] == id));
    let later: Value = app
        .get(&format!("/api/v1/revocations?since={seq}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["revoked"].as_array().unwrap().len(), 0);
    problem(
        app.get("/api/v1/revocations?since=-1", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_since",
    )
    .await;

    // Work needs a valid employer INN.
    let r = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "work"}),
        )
        .await;
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
    assert_eq!(body["field"], "employer_inn");
    let r = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "work", "employer_inn": "7707083894"}),
        )
        .await;
    problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field").await;
    let r = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "work", "employer_inn": "7707083893"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["fields"]["employer_inn"],
        "7707083893"
    );
}

on_every_backend!(quota_is_exact_under_concurrency, quota_scenario);
async fn quota_scenario(app: &TestApp) {
    let resident = app
        .resident(&phone(), "Сидорова Анна Павловна", "4511 654321")
        .await;
    let requests = (0..50).map(|_| {
        app.post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "shopping"}),
        )
    });
    let responses = join_all(requests).await;
    let mut created = 0;
    let mut refused = 0;
    for r in responses {
        match r.status() {
            StatusCode::CREATED => created += 1,
            _ => {
                let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "quota_exceeded").await;
                assert!(
                    body["next_possible_at"].is_string(),
                    "says when the next pass is possible"
                );
                refused += 1;
            }
        }
    }
    assert_eq!(
        (created, refused),
        (2, 48),
        "2 shopping passes per 7 days, exactly"
    );
    let list: Value = app
        .get("/api/v1/passes", Some(&resident))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["passes"].as_array().unwrap().len(), 2);
}

on_every_backend!(
    residents_cannot_touch_each_others_passes,
    isolation_scenario
);
async fn isolation_scenario(app: &TestApp) {
    let alice = app
        .resident(&phone(), "Алексеева Алиса Игоревна", "4512 111111")
        .await;
    let bob = app
        .resident(&phone(), "Борисов Борис Борисович", "4512 222222")
        .await;
    let pass: Value = app
        .post("/api/v1/passes", Some(&alice), json!({"purpose": "trash"}))
        .await
        .json()
        .await
        .unwrap();
    let id = pass["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/passes/{id}"),
        format!("/api/v1/passes/{id}/qr.png"),
    ] {
        problem(
            app.get(&path, Some(&bob)).await,
            StatusCode::NOT_FOUND,
            "pass_not_found",
        )
        .await;
    }
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/passes/{id}"),
            Some(&bob),
            None,
        )
        .await;
    problem(r, StatusCode::NOT_FOUND, "pass_not_found").await;
    let bobs: Value = app
        .get("/api/v1/passes", Some(&bob))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["passes"].as_array().unwrap().len(), 0);
    // Alice's pass is untouched.
    let still: Value = app
        .get(&format!("/api/v1/passes/{id}"), Some(&alice))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["status"], "active");
    // Residents may not verify, inspectors may not issue.
    problem(
        app.post("/api/v1/verify", Some(&bob), json!({"token": "x"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let inspector = app.staff("insp-iso", Role::Inspector).await;
    problem(
        app.post(
            "/api/v1/passes",
            Some(&inspector),
            json!({"purpose": "trash"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

on_every_backend!(token_carries_no_name_or_document, privacy_scenario);
async fn privacy_scenario(app: &TestApp) {
    let resident = app
        .resident(&phone(), "Кузнецова Мария Олеговна", "4513 987654")
        .await;
    let pass: Value = app
        .post("/api/v1/passes", Some(&resident), json!({"purpose": "pet"}))
        .await
        .json()
        .await
        .unwrap();
    let text = pass["token"].as_str().unwrap();
    // Issued tokens are raw COSE_Sign1 (CBOR tag 18), not zlib: deflate cannot shrink them.
    let cose = propusk_token::base45_decode(&text[4..]).unwrap();
    assert_eq!(cose[0], 0xD2, "a tagged COSE_Sign1, uncompressed");
    let haystack = String::from_utf8_lossy(&cose);
    for secret in [
        "Кузнецова",
        "Мария",
        "Олеговна",
        "4513987654",
        "4513 987654",
        "513987",
    ] {
        assert!(!haystack.contains(secret), "token leaks {secret}");
    }
    assert!(haystack.contains("К.М. 7654"), "only the holder hint");
}

on_every_backend!(clear_errors_for_bad_input, errors_scenario);
async fn errors_scenario(app: &TestApp) {
    problem(
        app.get("/api/v1/passes", None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    problem(
        app.get("/api/v1/me", Some("not-a-token")).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let r = app
        .client
        .post(format!("{}/api/v1/auth/otp", app.base))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::BAD_REQUEST, "bad_request").await;
    let body = problem(
        app.post("/api/v1/auth/otp", None, json!({"phone": "12"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("номер"),
        "Russian by default: {body}"
    );
    let r = app
        .client
        .post(format!("{}/api/v1/auth/otp", app.base))
        .header("accept-language", "en-GB,en;q=0.9")
        .json(&json!({"phone": "12"}))
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_phone").await;
    assert!(
        body["detail"].as_str().unwrap().contains("mobile number"),
        "English on request: {body}"
    );

    // Sign-in codes: wrong code costs a try; asking again at once is rate-limited; codes expire.
    let p = phone();
    assert_eq!(
        app.post("/api/v1/auth/otp", None, json!({"phone": p}))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let code = app.code_from_log(&p).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = problem(
        app.post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"phone": p, "code": wrong}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "otp_wrong",
    )
    .await;
    assert_eq!(body["attempts_left"], 4);
    let r = app
        .post("/api/v1/auth/otp", None, json!({"phone": p}))
        .await;
    assert!(r.headers().contains_key("retry-after"));
    problem(r, StatusCode::TOO_MANY_REQUESTS, "otp_rate_limited").await;
    app.state.clock.advance(301);
    problem(
        app.post(
            "/api/v1/auth/otp/verify",
            None,
            json!({"phone": p, "code": code}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "otp_expired",
    )
    .await;
    app.state.clock.advance(-301);

    // A profile with every part wrong names every part.
    let token = app.sign_in(&phone()).await;
    let bad = json!({"full_name": "X", "document": {"type": "passport_ru", "number": "12"}, "home": {"address": "", "lat": 95.0, "lon": 37.0}});
    let body = problem(
        app.request(Method::PUT, "/api/v1/me", Some(&token), Some(bad))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_profile",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["full_name", "document.number", "home.address", "home"]
    );
    let body = problem(
        app.post(
            "/api/v1/passes",
            Some(&token),
            json!({"purpose": "shopping"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "profile_incomplete",
    )
    .await;
    assert!(body["detail"].is_string());
    let token = app
        .resident(&phone(), "Орлов Олег Олегович", "4514 000001")
        .await;
    problem(
        app.post(
            "/api/v1/passes",
            Some(&token),
            json!({"purpose": "yachting"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_purpose",
    )
    .await;
    problem(
        app.post(
            "/api/v1/passes",
            Some(&token),
            json!({"purpose": "trash", "valid_from": "tomorrow"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    problem(
        app.get("/api/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

on_every_backend!(
    admin_loads_a_regime_that_takes_effect_later,
    regime_scenario
);
async fn regime_scenario(app: &TestApp) {
    let admin = app.staff("admin-1", Role::Admin).await;
    let regime: Value = app.get("/api/v1/regime", None).await.json().await.unwrap();
    assert_eq!(regime["id"], "moscow-2020");

    let starts = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let toml = format!(
        r#"id = "moscow-strict"
issuer = "RU-MOW"
time_zone = "Europe/Moscow"
effective_from = "{starts}"
name = {{ ru = "Строгий режим", en = "Strict regime" }}
legal_act = {{ title = "Указ № 1" }}

[[purposes]]
id = "emergency"
sms_code = 6
name = {{ ru = "Экстренный случай", en = "Emergency" }}
max_minutes = 120
always_allowed = true
"#
    );
    let r = app
        .client
        .post(format!("{}/api/v1/admin/regimes", app.base))
        .bearer_auth(&admin)
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["in_force_now"], false);
    let regime: Value = app.get("/api/v1/regime", None).await.json().await.unwrap();
    assert_eq!(regime["id"], "moscow-2020", "not yet in force");

    app.state.clock.advance(3601);
    let regime: Value = app.get("/api/v1/regime", None).await.json().await.unwrap();
    assert_eq!(
        regime["id"], "moscow-strict",
        "takes effect at effective_from, no restart"
    );
    let resident = app
        .resident(&phone(), "Зайцев Захар Захарович", "4515 000002")
        .await;
    problem(
        app.post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "shopping"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_purpose",
    )
    .await;
    assert_eq!(
        app.post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "emergency"})
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    app.state.clock.advance(-3601);

    let broken = "id = \"x\"\nissuer = 5\n";
    let r = app
        .client
        .post(format!("{}/api/v1/admin/regimes", app.base))
        .bearer_auth(&admin)
        .body(broken)
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_regime").await;
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["line"] == 2),
        "{body}"
    );

    // Revoking every pass of a resident.
    let p: Value = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "trash"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let me: Value = app
        .get("/api/v1/me", Some(&resident))
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/api/v1/admin/residents/{}/revoke-passes",
        me["id"].as_str().unwrap()
    );
    problem(
        app.post(&path, Some(&resident), json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let r: Value = app
        .post(&path, Some(&admin), json!({"reason": "test"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["revoked"], 2);
    let p: Value = app
        .get(
            &format!("/api/v1/passes/{}", p["id"].as_str().unwrap()),
            Some(&resident),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["status"], "cancelled");
    assert_eq!(
        app.state.store.verify_audit_chain().await.unwrap(),
        None,
        "the audit chain is intact"
    );
}

on_every_backend!(acknowledged_passes_survive_a_restart, restart_scenario);
async fn restart_scenario(app: &TestApp) {
    let resident = app
        .resident(&phone(), "Волков Виктор Викторович", "4516 000003")
        .await;
    let pass: Value = app
        .post(
            "/api/v1/passes",
            Some(&resident),
            json!({"purpose": "medical"}),
        )
        .await
        .json()
        .await
        .unwrap();
    // A second server on the same database (a restarted node) sees the session and the pass.
    let other = TestApp::start(app.backend.clone(), app.database_url.clone(), 16).await;
    let again: Value = other
        .get(
            &format!("/api/v1/passes/{}", pass["id"].as_str().unwrap()),
            Some(&resident),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["token"], pass["token"]);
    other.stop().await;
}

/// Past capacity, accepted work keeps its latency and the excess gets a fast 503: with two
/// requests allowed in flight and forty staff sign-ins (each an Argon2 check of tens of
/// milliseconds) sent at once, the ones let in take about as long as one alone, every other
/// one is refused before any of those finishes, and the probes answer throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overload_keeps_accepted_work_fast_and_refuses_the_rest_at_once() {
    let app = TestApp::spawn_tuned(&support::Backend::Sqlite, 2, |s| {
        s.login = propusk_server::limits::LoginLimits {
            concurrent_hashes: 2,
            per_client: propusk_core::throttle::Backoff {
                free: 1000,
                ..propusk_server::limits::LoginLimits::default().per_client
            },
            ..Default::default()
        }
    })
    .await;
    for i in 0..40 {
        app.add_staff(&format!("inspector-{i}"), Role::Inspector)
            .await;
    }
    let login = |i: usize| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let r = app
                .post(
                    "/api/v1/auth/login",
                    None,
                    json!({"username": format!("inspector-{i}"), "password": support::STAFF_PASSWORD}),
                )
                .await;
            (
                r.status(),
                started.elapsed(),
                r.headers().get("retry-after").cloned(),
            )
        }
    };
    // Without overload: the slowest of three rounds of two sign-ins at once, the most the
    // service takes on together (two hashes at a time). Measured as the accepted work will
    // run, so that a machine busy with other tests slows both alike.
    let mut alone = std::time::Duration::ZERO;
    for round in 0..3 {
        let (a, b) = tokio::join!(login(2 * round), login(2 * round + 1));
        for (status, took, _) in [a, b] {
            assert_eq!(status, StatusCode::OK);
            alone = alone.max(took);
        }
    }
    // Forty at once.
    let (answers, ready) = tokio::join!(join_all((0..40).map(login)), app.get("/readyz", None));
    assert!(matches!(
        ready.status(),
        StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE
    ));
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    let accepted: Vec<_> = answers.iter().filter(|a| a.0 == StatusCode::OK).collect();
    let refused: Vec<_> = answers
        .iter()
        .filter(|a| a.0 == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(accepted.len() + refused.len(), 40, "{answers:?}");
    assert!(accepted.len() >= 2 && !refused.is_empty(), "{answers:?}");
    assert!(refused
        .iter()
        .all(|a| a.2.as_ref().is_some_and(|v| v == "1")));
    // Accepted work kept its latency: no queue formed in front of it.
    let slowest_accepted = accepted.iter().map(|a| a.1).max().unwrap();
    assert!(
        slowest_accepted <= alone * 4,
        "accepted took {slowest_accepted:?}, alone {alone:?}"
    );
    // The excess was refused before the accepted work was done.
    let slowest_refusal = refused.iter().map(|a| a.1).max().unwrap();
    let fastest_accepted = accepted.iter().map(|a| a.1).min().unwrap();
    assert!(
        slowest_refusal < fastest_accepted.max(alone / 2),
        "refusals took up to {slowest_refusal:?}, accepted from {fastest_accepted:?}"
    );
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(&format!("propusk_http_overloaded_total {}", refused.len())),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn describes_itself() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/passes"]["post"].is_object());
    app.stop().await;
}

/// The language is chosen once per request (`?lang=`, then the pages' cookie, then
/// `Accept-Language`, then Russian) and every error speaks it: a handler's, an extractor's
/// and the edge's, without any of them being told.
#[tokio::test]
async fn every_error_speaks_the_language_the_request_chose() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    let detail = |r: reqwest::Response| async move {
        let body: Value = r.json().await.unwrap();
        body["detail"].as_str().unwrap().to_string()
    };
    let url = |path: &str| format!("{}{path}", app.base);
    let cyrillic = |s: &str| {
        s.chars()
            .any(|c| ('а'..='я').contains(&c.to_lowercase().next().unwrap()))
    };
    // An extractor's refusal (no token), asked four ways.
    let plain = app.client.get(url("/api/v1/passes")).send().await.unwrap();
    assert!(cyrillic(&detail(plain).await), "Russian by default");
    let query = app.client.get(url("/api/v1/passes?lang=en")).send();
    let cookie = app
        .client
        .get(url("/api/v1/passes"))
        .header("cookie", "propusk_lang=en")
        .send();
    let header = app
        .client
        .get(url("/api/v1/passes"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send();
    for r in [query.await, cookie.await, header.await] {
        let text = detail(r.unwrap()).await;
        assert!(!cyrillic(&text), "English asked, got {text:?}");
    }
    // ?lang= wins over the cookie.
    let r = app
        .client
        .get(url("/api/v1/passes?lang=ru"))
        .header("cookie", "propusk_lang=en")
        .send()
        .await
        .unwrap();
    assert!(cyrillic(&detail(r).await));
    // A handler's refusal and the edge's (a body too large), in English from the header.
    let token = app
        .resident(&support::phone(), "Иванов Иван Иванович", "4510 123456")
        .await;
    let r = app
        .client
        .post(url("/api/v1/passes"))
        .bearer_auth(&token)
        .header("accept-language", "en")
        .json(&json!({"purpose": "no-such-purpose"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!cyrillic(&detail(r).await));
    let r = app
        .client
        .post(url("/api/v1/passes"))
        .bearer_auth(&token)
        .header("accept-language", "en")
        .header("content-type", "application/json")
        .body(vec![b' '; 128 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!cyrillic(&detail(r).await));
    app.stop().await;
}
