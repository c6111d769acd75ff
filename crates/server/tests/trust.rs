//! The trust pages (help, privacy notice, accessibility statement), the footer that links
//! them from every page, and the HTML error pages browsers get, on SQLite and PostgreSQL.

mod support;

use propusk_server::settings::ServiceInfo;
use propusk_store::Role;
use reqwest::StatusCode;
use support::browser::{assert_no_inline_script, Browser};
use support::{phone, TestApp};

const TRUST: [&str; 3] = ["/help", "/privacy", "/accessibility"];

/// The footer's three links, in a page's HTML.
fn assert_footer(path: &str, body: &str) {
    let footer = body
        .split("<footer class=\"foot\">")
        .nth(1)
        .unwrap_or_else(|| panic!("{path}: no footer in {body}"));
    for link in TRUST {
        assert!(
            footer.contains(&format!("href=\"{link}\"")),
            "{path}: the footer does not link {link}"
        );
    }
}

/// A GET as a browser navigating sends it.
async fn navigate(b: &mut Browser, path: &str) -> support::browser::Page {
    let req = b
        .client
        .get(format!("{}{path}", b.base))
        .header("accept", "text/html,application/xhtml+xml");
    b.send(req).await
}

on_every_backend!(trust_pages_in_both_languages, trust_scenario);
async fn trust_scenario(app: &TestApp) {
    for (lang, help, privacy, accessibility, sms) in [
        (
            None,
            "Пропуск по SMS",
            "Что мы храним",
            "Что проверено",
            "ПРОПУСК 1",
        ),
        (
            Some("en"),
            "A pass by SMS",
            "What we keep",
            "What has been tested",
            "PASS 1",
        ),
    ] {
        let mut b = Browser::new(app);
        b.lang = lang;
        for (path, heading) in [
            ("/help", help),
            ("/privacy", privacy),
            ("/accessibility", accessibility),
        ] {
            let page = b.get(path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.content_type.starts_with("text/html"), "{path}");
            assert!(page.body.contains(heading), "{path} ({lang:?})");
            assert!(
                page.body
                    .contains(&format!("<html lang=\"{}\">", lang.unwrap_or("ru"))),
                "{path}"
            );
            assert!(
                page.body
                    .contains(&format!("href=\"{path}\" aria-current=\"page\"")),
                "{path}: the footer marks the page it is on"
            );
            assert_footer(path, &page.body);
            assert_no_inline_script(&page.body);
        }
        // Help: the SMS number (the default), its link, the commands and the purpose codes
        // of the regime in force with what a code needs added.
        let help = b.get("/help").await.body;
        assert!(help.contains("href=\"sms:7377\">7377</a>"), "{help}");
        assert!(help.contains(sms), "{help}");
        assert!(help.contains("href=\"tel:88000000000\""), "{help}");
        assert!(help.contains("mailto:help@propusk.example"), "{help}");
        assert!(
            help.contains(if lang.is_some() {
                "employer&#39;s INN"
            } else {
                "ИНН работодателя"
            }) || help.contains("employer's INN"),
            "a purpose with a field says what to add: {help}"
        );
        // Privacy: the retention and session lifetimes the service applies.
        let privacy = b.get("/privacy").await.body;
        let (retention, session, staff) = if lang.is_some() {
            ("30 days after the day", "lasts 30 days", "12 hours")
        } else {
            ("30 дней после дня", "действует 30 дней", "12 часов")
        };
        for fact in [retention, session, staff] {
            assert!(privacy.contains(fact), "{fact}: {privacy}");
        }
        assert!(
            privacy.contains("152-ФЗ") || privacy.contains("152-FZ"),
            "the default legal basis"
        );
        assert!(
            privacy.contains("Указ Мэра Москвы"),
            "the act of the regime in force: {privacy}"
        );
    }

    // The footer is on the pages of every audience, and on error pages.
    app.add_staff("trust-officer", Role::Health).await;
    let mut b = Browser::new(app);
    for path in ["/", "/sign-in", "/health/sign-in", "/patient"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_footer(path, &page.body);
    }
    b.sign_in_officer("trust-officer").await;
    for path in ["/health/queue", "/health/cases", "/health/loaners"] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_footer(path, &page.body);
    }
    let p = phone();
    let token = app.sign_in(&p).await;
    let mut resident = Browser::new(app);
    resident
        .cookies
        .insert("propusk_session".into(), token.clone());
    let help = resident.get("/help").await;
    assert!(
        help.body.contains("action=\"/sign-out\""),
        "a signed-in resident can sign out from the trust pages too"
    );
}

/// The operator's details come from the settings: the SMS number and hotline on the help
/// page, the operator and the legal basis in the privacy notice, the retention period.
#[tokio::test]
async fn configured_details_appear_on_the_pages() {
    let app = TestApp::spawn_tuned(&support::Backend::Sqlite, 1024, |s| {
        s.service = ServiceInfo {
            operator: Some("Департамент здравоохранения Энска".into()),
            sms_number: "0911".into(),
            hotline: "+7 (495) 870-45-09".into(),
            email: "care@ensk.example.org".into(),
            legal_basis: Some(
                "Указ губернатора Энской области № 7.\nПриказ департамента № 12.".into(),
            ),
        };
        s.monitoring.retention = jiff::SignedDuration::from_hours(14 * 24);
    })
    .await;
    let mut b = Browser::new(&app);
    let start = b.get("/").await.body;
    assert!(
        start.contains("на номер 0911") && start.contains("href=\"/help#sms\""),
        "the start page names the SMS number and links the SMS help: {start}"
    );
    let help = b.get("/help").await.body;
    assert!(help.contains("href=\"sms:0911\">0911</a>"), "{help}");
    assert!(
        !help.contains("7377"),
        "the configured number replaces the default"
    );
    assert!(help.contains("href=\"tel:+74958704509\">+7 (495) 870-45-09</a>"));
    assert!(help.contains("href=\"mailto:care@ensk.example.org\""));
    assert!(help.contains("Департамент здравоохранения Энска"));
    let privacy = b.get("/privacy").await.body;
    assert!(
        privacy.contains("Оператор ваших персональных данных: Департамент здравоохранения Энска.")
    );
    assert!(privacy.contains("<p>Указ губернатора Энской области № 7.</p>"));
    assert!(privacy.contains("<p>Приказ департамента № 12.</p>"));
    assert!(
        !privacy.contains("152-ФЗ"),
        "the configured basis replaces the default"
    );
    assert!(privacy.contains("через 14 дней после дня"), "{privacy}");
    let accessibility = b.get("/accessibility").await.body;
    assert!(accessibility.contains("href=\"tel:+74958704509\""));
    assert!(accessibility.contains(env!("CARGO_PKG_VERSION")));
    app.stop().await;
}

/// A service does not start with contact details it cannot show.
#[tokio::test]
async fn bad_details_stop_the_start() {
    let store = propusk_store::Store::open("sqlite::memory:").await.unwrap();
    let key = propusk_token::SigningKey::generate(
        propusk_token::Algorithm::EdDsa,
        &mut propusk_token::rand_core::OsRng,
    );
    let settings = propusk_server::Settings {
        listen: "127.0.0.1:0".into(),
        service: ServiceInfo {
            hotline: "call us".into(),
            ..ServiceInfo::default()
        },
        ..propusk_server::Settings::default()
    };
    let parts = propusk_server::Parts {
        store,
        keys: propusk_server::Keys::new(key, vec![]),
        regimes: propusk_core::policy::RegimeBook::with_builtins(),
        clock: propusk_server::Clock::system(),
        gateway: Some(propusk_server::sms::log_gateway()),
    };
    let e = propusk_server::Application::build(settings, parts)
        .await
        .err()
        .expect("refused");
    assert!(format!("{e}").contains("service.hotline"), "{e}");
}

/// Browsers get an HTML page, with the footer, for a mistyped address in every section;
/// the API and programs keep problem+json.
#[tokio::test]
async fn browsers_get_html_not_found_pages() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    app.add_staff("trust-404", Role::Health).await;
    let mut b = Browser::new(&app);
    b.sign_in_officer("trust-404").await;
    for path in [
        "/no-such-page",
        "/privcy",
        "/privacy/more",
        "/help/sms",
        "/health/no-such-page",
        "/health/cases/not-a-case",
        "/patient/no-such-page",
        "/passes/new/nothing",
    ] {
        let page = navigate(&mut b, path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert!(
            page.content_type.starts_with("text/html"),
            "{path}: {}",
            page.content_type
        );
        assert_footer(path, &page.body);
        assert!(
            page.body.contains("Страница не найдена") || page.body.contains("не найден"),
            "{path}: {}",
            page.body
        );
    }
    // In English too.
    b.lang = Some("en");
    let page = navigate(&mut b, "/privcy").await;
    assert!(page.body.contains("Page not found"), "{}", page.body);
    // The API answers problem+json even to a browser, and programs get it everywhere.
    for (path, accept) in [
        ("/api/v1/no-such-thing", "text/html"),
        ("/api/v1/no-such-thing", "application/json"),
        ("/privcy", "application/json"),
        ("/health/no-such-page", "*/*"),
    ] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path} ({accept})"
        );
    }
    app.stop().await;
}

/// When the database is gone, a browser is shown an HTML error page (with the footer, so
/// help is one tap away), and the API still answers problem+json.
#[tokio::test]
async fn browsers_get_html_server_error_pages() {
    let app = TestApp::spawn(&support::Backend::Sqlite).await;
    app.add_staff("trust-500", Role::Health).await;
    let resident = app.sign_in(&phone()).await;
    let mut b = Browser::new(&app);
    b.sign_in_officer("trust-500").await;
    app.state.store.close().await;
    for path in ["/health/queue", "/health/cases"] {
        let page = navigate(&mut b, path).await;
        assert!(page.status.is_server_error(), "{path}: {}", page.status);
        assert!(
            page.content_type.starts_with("text/html"),
            "{path}: {}",
            page.content_type
        );
        assert!(
            page.body.contains("Что-то пошло не так") || page.body.contains("недоступ"),
            "{path}: {}",
            page.body
        );
        assert_footer(path, &page.body);
    }
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("accept", "text/html")
        .bearer_auth(&resident)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    app.stop().await;
}
