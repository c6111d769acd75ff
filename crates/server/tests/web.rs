//! The resident pages as a browser without JavaScript uses them: plain GETs and
//! form POSTs with cookies, on SQLite and PostgreSQL.

mod support;

use reqwest::StatusCode;
use support::browser::{assert_no_inline_script, Browser};
use support::{phone, TestApp};

on_every_backend!(pass_flow_without_javascript, no_js_scenario);
async fn no_js_scenario(app: &TestApp) {
    let mut b = Browser::new(app);
    let start = b.get("/").await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(
        start.body.contains("Пропуск на выход из дома"),
        "Russian by default"
    );
    assert_no_inline_script(&start.body);

    let p = phone();
    assert!(b.get("/sign-in").await.body.contains("name=\"csrf\""));
    let sent = b.post("/sign-in", &[("phone", &p)]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let code_page = sent.location.unwrap();
    assert!(b
        .get(&code_page)
        .await
        .body
        .contains("autocomplete=\"one-time-code\""));
    let code = app.code_from_log(&p).await;
    let signed_in = b
        .post("/sign-in/code", &[("phone", &p), ("code", &code)])
        .await;
    assert_eq!(
        signed_in.location.as_deref(),
        Some("/profile"),
        "a new resident fills the profile first"
    );
    assert!(b.cookies.contains_key("propusk_session"));

    // A profile with mistakes is shown again with every problem named.
    let bad = b
        .post(
            "/profile",
            &[
                ("full_name", "Иванов Иван Иванович"),
                ("doc_type", "passport_ru"),
                ("doc_number", "12"),
                ("address", ""),
                ("lat", ""),
                ("lon", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("error-summary")
            && bad.body.contains("href=\"#doc_number\"")
            && bad.body.contains("href=\"#address\"")
    );
    assert!(
        bad.body.contains("value=\"Иванов Иван Иванович\""),
        "what was typed is kept"
    );
    let ok = b
        .post(
            "/profile",
            &[
                ("full_name", "Иванов Иван Иванович"),
                ("doc_type", "passport_ru"),
                ("doc_number", "4510 123456"),
                ("address", "Москва, Тверская, 1"),
                ("lat", "55,7575"),
                ("lon", "37.613"),
            ],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/passes"));

    // One question per page: purpose, then details.
    let purposes = b.get("/passes/new").await;
    assert!(purposes.body.contains("value=\"shopping\"") && purposes.body.contains("не более 2"));
    let details = b.get("/passes/new/details?purpose=work").await;
    assert!(details.body.contains("name=\"employer_inn\""));
    let refused = b
        .post(
            "/passes/new",
            &[
                ("purpose", "work"),
                ("employer_inn", "1234567890"),
                ("start", ""),
                ("duration", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("ИНН"), "says what was wrong");
    let created = b
        .post(
            "/passes/new",
            &[("purpose", "shopping"), ("start", ""), ("duration", "")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let pass_path = created.location.unwrap();
    let pass = b.get(&pass_path).await;
    assert!(pass.body.contains("qr.svg") && pass.body.contains("class=\"code big\""));
    assert!(pass.body.contains("Действует"));
    assert_no_inline_script(&pass.body);
    let qr = b.get(&format!("{pass_path}/qr.svg")).await;
    assert!(qr.body.contains("<svg"));
    assert!(b
        .get(&format!("{pass_path}/print"))
        .await
        .body
        .contains("class=\"print\""));

    // The quota's refusal says when the next pass is possible.
    assert_eq!(
        b.post(
            "/passes/new",
            &[("purpose", "shopping"), ("start", ""), ("duration", "")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let third = b
        .post(
            "/passes/new",
            &[("purpose", "shopping"), ("start", ""), ("duration", "")],
        )
        .await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        third.body.contains("Следующий пропуск можно получить с"),
        "{}",
        third.body
    );

    // English, switched by a link.
    let switched = b.get(&format!("/lang?set=en&back={pass_path}")).await;
    assert_eq!(switched.location.as_deref(), Some(pass_path.as_str()));
    let english = b.get(&pass_path).await;
    assert!(english.body.contains("lang=\"en\"") && english.body.contains("Short code"));
    assert!(
        b.get("/lang?set=en&back=//evil.example")
            .await
            .location
            .as_deref()
            == Some("/"),
        "no open redirect"
    );

    // Cancel.
    let cancelled = b.post(&format!("{pass_path}/cancel"), &[]).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    assert!(b.get(&pass_path).await.body.contains("tag-cancelled"));

    let out = b.post("/sign-out", &[]).await;
    assert_eq!(out.location.as_deref(), Some("/"));
    assert_eq!(b.get("/passes").await.location.as_deref(), Some("/sign-in"));
}

on_every_backend!(forged_posts_are_refused, csrf_scenario);
async fn csrf_scenario(app: &TestApp) {
    let mut b = Browser::new(app);
    let p = phone();
    b.get("/sign-in").await;
    b.post("/sign-in", &[("phone", &p)]).await;
    let code = app.code_from_log(&p).await;
    b.post("/sign-in/code", &[("phone", &p), ("code", &code)])
        .await;
    b.post(
        "/profile",
        &[
            ("full_name", "Смирнов Семён Семёнович"),
            ("doc_type", "passport_ru"),
            ("doc_number", "4510 654321"),
            ("address", "Москва"),
            ("lat", "55.75"),
            ("lon", "37.61"),
        ],
    )
    .await;

    // Another site makes the browser post a form: the session cookie goes along,
    // but the page's CSRF token cannot.
    let forged = b
        .client
        .post(format!("{}/passes/new", app.base))
        .header("cookie", b.cookie_header())
        .form(&[("purpose", "trash"), ("csrf", "guessed")]);
    let page = b.send(forged).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let no_token = b
        .client
        .post(format!("{}/passes/new", app.base))
        .header("cookie", b.cookie_header())
        .form(&[("purpose", "trash")]);
    assert_eq!(b.send(no_token).await.status, StatusCode::FORBIDDEN);
    let token = app
        .state
        .store
        .resident_by_phone(&propusk_core::domain::PhoneNumber::parse(&p).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        app.state
            .store
            .passes_of(&token.id, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was issued"
    );

    // The real form works.
    assert_eq!(
        b.post(
            "/passes/new",
            &[("purpose", "trash"), ("start", ""), ("duration", "")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn pages_send_security_headers() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    let r = app.get("/", None).await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite"));
    app.stop().await;
}

/// Every page names the icon, and a browser asking for `/favicon.ico` by habit is sent
/// to it, never to the API's JSON 404.
#[tokio::test]
async fn the_pages_have_an_icon() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    let mut b = Browser::new(&app);
    let start = b.get("/").await;
    assert!(start
        .body
        .contains(r#"<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">"#));
    let habit = b.get("/favicon.ico").await;
    assert_eq!(habit.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(habit.location.as_deref(), Some("/static/favicon.svg"));
    let icon = b.get("/static/favicon.svg").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.content_type, "image/svg+xml");
    assert!(icon.body.starts_with("<svg") && icon.body.trim_end().ends_with("</svg>"));
    app.stop().await;
}
