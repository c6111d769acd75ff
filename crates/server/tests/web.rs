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

    // One question per page: purpose, then details, then a check of the answers.
    let purposes = b.get("/passes/new").await;
    assert!(purposes.body.contains("value=\"shopping\"") && purposes.body.contains("не более 2"));
    assert!(
        purposes.body.contains("можно ещё 2 из 2"),
        "the quota is shown before anyone asks"
    );
    let details = b.get("/passes/new/details?purpose=work").await;
    assert!(details.body.contains("name=\"employer_inn\""));
    assert!(
        !details.body.contains("checked"),
        "no start is chosen for the resident"
    );
    // Every problem at once, each in the summary and at its field.
    let wrong = b
        .post(
            "/passes/new",
            &[
                ("purpose", "work"),
                ("step", "check"),
                ("employer_inn", "1234567890"),
                ("when", "later"),
                ("day", "31"),
                ("month", "2"),
                ("year", "2026"),
                ("time", "25:00"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["employer_inn", "start-day"] {
        assert!(
            wrong.body.contains(&format!("href=\"#{id}\""))
                && wrong.body.contains(&format!("id=\"{id}-error\"")),
            "{id} in the summary and at its field: {}",
            wrong.body
        );
    }
    assert!(wrong.body.contains("ИНН"), "says what was wrong");
    assert!(
        !wrong.body.contains("employer_inn)"),
        "no field names in the text"
    );
    assert!(
        wrong.body.contains("value=\"1234567890\""),
        "what was typed is kept"
    );
    let unchosen = b
        .post("/passes/new", &[("purpose", "shopping"), ("step", "check")])
        .await;
    assert!(unchosen.body.contains("id=\"when-now-error\""));

    // The check: nothing is issued until it is confirmed.
    let check = b
        .post(
            "/passes/new",
            &[
                ("purpose", "shopping"),
                ("step", "check"),
                ("when", "now"),
                ("duration", ""),
            ],
        )
        .await;
    assert_eq!(check.status, StatusCode::OK);
    assert!(check.body.contains("Проверьте") && check.body.contains("И.И. 3456"));
    assert!(check.body.contains("value=\"confirm\"") && check.body.contains("value=\"change\""));
    assert!(b
        .get("/passes")
        .await
        .body
        .contains("У вас пока нет пропусков"));
    let change = b
        .post(
            "/passes/new",
            &[("purpose", "shopping"), ("step", "change"), ("when", "now")],
        )
        .await;
    assert!(change
        .body
        .contains("id=\"when-now\" name=\"when\" value=\"now\" checked"));
    let created = b
        .post(
            "/passes/new",
            &[
                ("purpose", "shopping"),
                ("step", "confirm"),
                ("when", "now"),
                ("duration", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let pass_path = created.location.unwrap();
    assert!(pass_path.ends_with("?done=issued"), "{pass_path}");
    let pass = b.get(&pass_path).await;
    assert!(
        pass.body.contains("Пропуск получен"),
        "a confirmation panel"
    );
    let pass_path = pass_path.trim_end_matches("?done=issued").to_string();
    assert!(pass.body.contains("qr.svg") && pass.body.contains("class=\"code big\""));
    assert!(pass.body.contains("Действует") && pass.body.contains("И.И. 3456"));
    assert_no_inline_script(&pass.body);
    let qr = b.get(&format!("{pass_path}/qr.svg")).await;
    assert!(qr.body.contains("<svg"));
    let print = b.get(&format!("{pass_path}/print")).await;
    assert!(print.body.contains("class=\"print\"") && print.body.contains("RU-MOW"));
    assert!(
        print.body.contains(&format!("href=\"{pass_path}\"")),
        "a way back"
    );
    assert!(
        !print.body.contains("countdown"),
        "no live countdown on paper"
    );
    assert!(b.get("/passes").await.body.contains("можно ещё 1 из 2"));

    // The quota's refusal is shown once, with when the next pass is possible, and no form.
    let second = [
        ("purpose", "shopping"),
        ("step", "confirm"),
        ("when", "now"),
    ];
    assert_eq!(
        b.post("/passes/new", &second).await.status,
        StatusCode::SEE_OTHER
    );
    let third = b
        .post(
            "/passes/new",
            &[("purpose", "shopping"), ("step", "check"), ("when", "now")],
        )
        .await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        third
            .body
            .contains("Следующий пропуск с этой целью можно будет получить"),
        "{}",
        third.body
    );
    assert!(!third
        .body
        .contains("<form method=\"post\" action=\"/passes/new\""));
    assert_eq!(
        third.body.matches("class=\"notice\"").count(),
        1,
        "said once"
    );
    let purposes = b.get("/passes/new").await;
    assert!(purposes.body.contains("можно ещё 0 из 2") && purposes.body.contains("Следующий —"));

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

    // Cancel, after a check that says the started pass will still count.
    b.get(&format!("/lang?set=ru&back={pass_path}")).await;
    let check = b.get(&format!("{pass_path}/cancel")).await;
    assert!(
        check.body.contains("останется засчитанным"),
        "{}",
        check.body
    );
    let cancelled = b.post(&format!("{pass_path}/cancel"), &[]).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let page = b.get(cancelled.location.as_deref().unwrap()).await;
    assert!(page.body.contains("tag-cancelled") && page.body.contains("Пропуск отменён"));
    assert!(
        !page.body.contains("class=\"code big\"") && !page.body.contains("/print"),
        "no short code to read out, nothing to print"
    );
    assert!(page.body.contains("засчитан в лимит"));

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
            &[("purpose", "trash"), ("step", "confirm"), ("when", "now")]
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

/// A resident signed in through the pages, with a profile.
async fn signed_in_resident(app: &TestApp) -> Browser {
    let mut b = Browser::new(app);
    let p = phone();
    b.get("/sign-in").await;
    b.post("/sign-in", &[("phone", &p)]).await;
    let code = app.code_from_log(&p).await;
    b.post("/sign-in/code", &[("phone", &p), ("code", &code)])
        .await;
    let saved = b
        .post(
            "/profile",
            &[
                ("full_name", "Петрова Анна Сергеевна"),
                ("doc_type", "passport_ru"),
                ("doc_number", "4510 777888"),
                ("address", "Москва, Арбат, 5"),
                ("lat", "55.75"),
                ("lon", "37.59"),
            ],
        )
        .await;
    assert_eq!(saved.location.as_deref(), Some("/passes"));
    b
}

on_every_backend!(
    a_pass_cancelled_before_its_start_does_not_count,
    cancel_scenario
);
async fn cancel_scenario(app: &TestApp) {
    let mut b = signed_in_resident(app).await;
    let tomorrow = app
        .state
        .clock
        .now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Moscow").unwrap())
        .date()
        .tomorrow()
        .unwrap();
    let (day, month, year) = (
        tomorrow.day().to_string(),
        tomorrow.month().to_string(),
        tomorrow.year().to_string(),
    );
    let booking = [
        ("purpose", "shopping"),
        ("when", "later"),
        ("day", day.as_str()),
        ("month", month.as_str()),
        ("year", year.as_str()),
        ("time", "10:00"),
        ("duration", "90"),
    ];
    let check = b
        .post(
            "/passes/new",
            &[booking.as_slice(), &[("step", "check")]].concat(),
        )
        .await;
    assert!(check.body.contains("10:00–11:30"), "{}", check.body);
    let booked = b
        .post(
            "/passes/new",
            &[booking.as_slice(), &[("step", "confirm")]].concat(),
        )
        .await;
    let pass_path = booked.location.unwrap().replace("?done=issued", "");
    assert!(b.get("/passes").await.body.contains("можно ещё 1 из 2"));

    let check = b.get(&format!("{pass_path}/cancel")).await;
    assert!(check.body.contains("не будет засчитан"), "{}", check.body);
    assert!(
        b.get(&pass_path).await.body.contains("Ещё не начал"),
        "the check changed nothing"
    );
    b.post(&format!("{pass_path}/cancel"), &[]).await;
    let page = b.get(&pass_path).await;
    assert!(page.body.contains("не засчитан в лимит"), "{}", page.body);
    assert!(
        b.get("/passes").await.body.contains("можно ещё 2 из 2"),
        "the quota is whole again"
    );

    // A work pass shows the employer's INN, as the police compare it; a whole day reads so.
    let work = b
        .post(
            "/passes/new",
            &[
                ("purpose", "work"),
                ("step", "confirm"),
                ("when", "later"),
                ("day", day.as_str()),
                ("month", month.as_str()),
                ("year", year.as_str()),
                ("time", "0:00"),
                ("employer_inn", "7707083893"),
            ],
        )
        .await;
    let work = b.get(work.location.as_deref().unwrap()).await;
    assert!(work.body.contains("7707083893") && work.body.contains("П.А. 7888"));
    assert!(work.body.contains("весь день"), "{}", work.body);
}
