//! The health officer's pages (`/health`) and the patient's pages (`/patient`) as a browser
//! without JavaScript uses them — GETs, form POSTs and multipart photo uploads with cookies —
//! on SQLite and on PostgreSQL. What the pages do is checked in the store and the SMS log.

mod support;

use jiff::{SignedDuration, Timestamp};
use propusk_core::monitoring::case::CaseStatus;
use propusk_store::{LoanerState, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::browser::{assert_no_inline_script, jpeg, Browser};
use support::{phone, TestApp, STAFF_PASSWORD};

const HOME: (f64, f64) = (55.7575, 37.6130);

/// A report `north_m` metres north of home with this accuracy.
fn fix(at: Timestamp, north_m: f64, accuracy_m: f64) -> Value {
    let lat = HOME.0 + north_m / 111_320.0;
    json!({"ts": at.to_string(), "lat": lat, "lon": HOME.1, "accuracy_m": accuracy_m})
}

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// The one-time code shown on the "case opened" page.
fn enrollment_code(html: &str) -> String {
    let (_, rest) = html
        .split_once("id=\"enrollment-code\">")
        .expect("the code is shown");
    rest.split('<').next().unwrap().trim().to_string()
}

/// Opens a case through the officer's form; returns (case id, enrollment code).
async fn open_case_on_page(app: &TestApp, b: &mut Browser, patient: &str) -> (String, String) {
    b.get("/health/cases/new").await;
    let now = app.state.clock.now();
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let local = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let page = b
        .post(
            "/health/cases",
            &[
                ("full_name", "Сидорова Анна Павловна"),
                ("phone", patient),
                ("address", "Москва, ул. Тверская, д. 1"),
                ("lat", "55.7575"),
                ("lon", "37,6130"),
                ("radius_m", "50"),
                ("starts_at", &local(now - mins(1))),
                ("ends_at", &local(now + SignedDuration::from_hours(14 * 24))),
                ("time_zone", "Europe/Moscow"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let code = enrollment_code(&page.body);
    // The patient gets the code and the app's link by SMS, through the outbox; the page
    // says so.
    assert!(
        page.body
            .contains(&format!("отправлены по SMS на номер {patient}")),
        "{}",
        page.body
    );
    let sms = app.wait_sms(patient, &code).await;
    assert!(sms.contains(&format!("/patient/app/#code={code}")), "{sms}");
    let (_, rest) = page
        .body
        .split_once("href=\"/health/cases/")
        .expect("a link to the case");
    let id = rest.split('"').next().unwrap().to_string();
    (id, code)
}

/// The patient connects their phone on the page; returns the device token it keeps.
async fn enroll_on_page(p: &mut Browser, code: &str) -> String {
    p.get("/patient").await;
    let photo = jpeg(640, 480);
    let page = p
        .post_multipart(
            "/patient/enroll",
            &[("code", &code.to_lowercase())],
            &[("photo", &photo)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("propusk_device="))
        .expect("the device token is kept in a cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/patient"));
    assert!(cookie.contains("SameSite=Lax"));
    p.cookies["propusk_device"].clone()
}

async fn flag_state(app: &TestApp, id: &str) -> String {
    app.state
        .store
        .flag(id)
        .await
        .unwrap()
        .unwrap()
        .state
        .as_str()
        .to_string()
}

on_every_backend!(officer_signs_in_and_runs_a_case, officer_case_scenario);
async fn officer_case_scenario(app: &TestApp) {
    app.add_staff("health-pages", Role::Health).await;
    app.add_staff("inspector-pages", Role::Inspector).await;
    let mut b = Browser::new(app);

    // Signed out, every officer page leads to the sign-in form.
    for path in [
        "/health",
        "/health/queue",
        "/health/cases",
        "/health/loaners",
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/health/sign-in"), "{path}");
    }
    let form = b.get("/health/sign-in").await;
    assert!(form.body.contains("Вход для врачей"), "Russian by default");
    assert!(form.body.contains("name=\"csrf\""));
    assert_no_inline_script(&form.body);

    // Wrong password, and a staff account of another role: refused, said clearly.
    let wrong = b
        .post(
            "/health/sign-in",
            &[("username", "health-pages"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Неверное имя или пароль."));
    assert!(wrong.body.contains("id=\"username-error\""), "at the field");
    let inspector = b
        .post(
            "/health/sign-in",
            &[
                ("username", "inspector-pages"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(inspector.status, StatusCode::FORBIDDEN);
    assert!(inspector.body.contains("открыты только врачам"));
    assert!(!inspector.body.contains("health."), "no role name");
    assert!(!b.cookies.contains_key("propusk_health"));

    let page = b
        .post(
            "/health/sign-in",
            &[("username", "health-pages"), ("password", STAFF_PASSWORD)],
        )
        .await;
    let cookie = page
        .set_cookies
        .iter()
        .find(|c| c.starts_with("propusk_health="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/health"));
    assert!(cookie.contains("SameSite=Lax") && !cookie.contains("Secure"));

    // A forged form (no CSRF token) is refused and opens nothing.
    let forged = b.client.post(format!("{}/health/cases", b.base)).form(&[
        ("full_name", "Сидорова Анна Павловна"),
        ("phone", "+79161234567"),
    ]);
    let forged = b.send(forged).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let cases = |app: &TestApp| {
        let store = app.state.store.clone();
        let now = app.state.clock.now();
        async move { store.case_summaries("test", None, 100, now).await.unwrap() }
    };
    assert!(cases(app).await.is_empty());

    // Bad input: each problem said at its field, nothing stored.
    let bad = b
        .post(
            "/health/cases",
            &[
                ("full_name", "Сидорова Анна Павловна"),
                ("phone", "12"),
                ("address", ""),
                ("lat", "95"),
                ("lon", "37.6"),
                ("radius_m", "1"),
                ("starts_at", "2020-04-15 10:00"),
                ("ends_at", "2020-04-14 10:00"),
                ("time_zone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for anchor in ["#phone", "#address", "#lat", "#time_zone", "#ends_at"] {
        assert!(
            bad.body.contains(&format!("href=\"{anchor}\"")),
            "{anchor}: {}",
            bad.body
        );
        // And at the field itself, above its input.
        let id = anchor.trim_start_matches('#');
        assert!(
            bad.body.contains(&format!("id=\"{id}-error\"")),
            "{id}'s message at its field: {}",
            bad.body
        );
    }
    assert!(bad
        .body
        .contains("class=\"input input-error\" id=\"phone\""));
    assert!(bad.body.contains("Адрес нужен, не длиннее 300 знаков."));
    assert!(bad.body.contains("Выберите часовой пояс из списка."));
    assert!(
        bad.body
            .contains("<p class=\"error-message\" id=\"time_zone-error\">"),
        "the zone's message at its field: {}",
        bad.body
    );
    assert!(!bad.body.contains("Mars/Olympus"), "no raw zone shown back");

    // The zone is picked from a list of cities, the regime's (Moscow's) chosen; a real zone
    // that is not on the list was not picked here and is refused like a made-up one.
    let new = b.get("/health/cases/new").await;
    assert!(
        new.body
            .contains("<option value=\"Europe/Moscow\" selected>Москва (UTC+3)</option>"),
        "{}",
        new.body
    );
    assert!(new.body.contains(">Владивосток (UTC+10)</option>"));
    assert!(!new.body.contains(">Europe/"), "no zone id shown");
    let not_listed = b
        .post(
            "/health/cases",
            &[
                ("full_name", "Сидорова Анна Павловна"),
                ("phone", "+79161234567"),
                ("address", "Москва, ул. Тверская, д. 1"),
                ("lat", "55.7575"),
                ("lon", "37.6130"),
                ("radius_m", "50"),
                ("starts_at", "2020-04-15 10:00"),
                ("ends_at", "2020-04-20 10:00"),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(not_listed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_listed.body.contains("href=\"#time_zone\""));
    assert!(cases(app).await.is_empty());
    assert!(
        bad.body.contains("value=\"Сидорова Анна Павловна\""),
        "input kept"
    );
    assert!(cases(app).await.is_empty());

    // A case: the code is shown once, the list and the case page show it.
    let patient = phone();
    let (id, code) = open_case_on_page(app, &mut b, &patient).await;
    assert_eq!(code.len(), 14, "{code}");
    let list = b.get("/health/cases").await;
    assert!(list.body.contains("Сидорова Анна Павловна"));
    assert!(list.body.contains("Телефон ещё не подключён"));
    let listed = cases(app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    let shown = b.get(&format!("/health/cases/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("Москва, ул. Тверская, д. 1"));
    assert!(!shown.body.contains(&code), "the code is not shown again");
    assert!(
        shown
            .body
            .contains("100 м: меньше 100 м не проверяется из-за точности GPS (указано 50 м)"),
        "the radius checked, and why: {}",
        shown.body
    );
    assert_no_inline_script(&shown.body);

    // Extend: a bad time and an earlier end are refused; a later end is stored.
    let case = app.state.store.case(&id).await.unwrap().unwrap();
    let extend = format!("/health/cases/{id}/extend");
    let page = b.post(&extend, &[("ends_at", "next week")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Время не разобрано"));
    assert!(
        page.body.contains("id=\"ends_at-error\""),
        "the error at its field"
    );
    assert!(
        page.body.contains("href=\"#ends_at\""),
        "and in the summary"
    );
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let earlier = (case.ends_at - SignedDuration::from_hours(24))
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let page = b.post(&extend, &[("ends_at", &earlier)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("позже нынешнего"), "{}", page.body);
    let later = (case.ends_at + SignedDuration::from_hours(72))
        .to_zoned(tz)
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let page = b.post(&extend, &[("ends_at", &later)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let extended = app.state.store.case(&id).await.unwrap().unwrap();
    assert_eq!(
        extended.ends_at.duration_since(case.ends_at).as_secs() / 60,
        72 * 60,
        "to the minute typed"
    );

    // End, then close; ending again is refused with the reason.
    let page = b.post(&format!("/health/cases/{id}/end"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.state.store.case(&id).await.unwrap().unwrap().status,
        CaseStatus::Ended
    );
    let page = b.post(&format!("/health/cases/{id}/end"), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body.contains("это действие невозможно"),
        "{}",
        page.body
    );
    // Closing is checked first: the check page says whose case and what happens, and
    // closes nothing; a forged confirmation is refused; only the confirmation closes it,
    // and the case's page then says so, with what happens next.
    let close = format!("/health/cases/{id}/close");
    let check = b.post(&close, &[]).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Закрыть дело?"));
    assert!(check.body.contains("Сидорова Анна Павловна"));
    assert!(check.body.contains("Телефоны пациента отключатся"));
    assert!(
        check.body.contains("удалятся через 30 дней."),
        "days said with their plural form: {}",
        check.body
    );
    assert!(check.body.contains(&format!("action=\"{close}/confirm\"")));
    assert!(
        check.body.contains(&format!("href=\"/health/cases/{id}\"")),
        "a way back"
    );
    assert_eq!(
        app.state.store.case(&id).await.unwrap().unwrap().status,
        CaseStatus::Ended,
        "nothing changes until confirmed"
    );
    let forged = b
        .client
        .post(format!("{}{close}/confirm", b.base))
        .form(&[("csrf", "guessed")]);
    assert_eq!(b.send(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.state.store.case(&id).await.unwrap().unwrap().status,
        CaseStatus::Ended
    );
    let page = b.post(&format!("{close}/confirm"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let done = page.location.clone().unwrap();
    assert_eq!(done, format!("/health/cases/{id}?closed=1"));
    assert_eq!(
        app.state.store.case(&id).await.unwrap().unwrap().status,
        CaseStatus::Closed
    );
    let page = b.get(&done).await;
    assert!(page.body.contains("Дело закрыто"), "{}", page.body);
    assert!(page.body.contains("код подключения больше не действует"));
    assert!(!b
        .get(&format!("/health/cases/{id}"))
        .await
        .body
        .contains("Дело закрыто"));
    let again = b.post(&close, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("это действие невозможно"));

    // Every read of the list and the case is in the audit log.
    app.assert_audited(
        &[
            "monitoring.cases.list",
            "monitoring.case.read",
            "monitoring.case.create",
            "monitoring.case.extend",
            "monitoring.case.close",
        ],
        None,
    )
    .await;

    // English on request; signing out ends the session.
    b.lang = Some("en");
    let page = b.get("/health/cases").await;
    assert!(page.body.contains("Open a case"), "{}", page.body);
    let page = b.post("/health/sign-out", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("propusk_health"));
    assert_eq!(b.get("/health/cases").await.status, StatusCode::SEE_OTHER);
}

on_every_backend!(flag_decided_and_appealed_on_the_pages, flag_scenario);
async fn flag_scenario(app: &TestApp) {
    app.add_staff("health-first", Role::Health).await;
    app.add_staff("health-second", Role::Health).await;
    let mut first = Browser::new(app);
    first.sign_in_officer("health-first").await;
    let patient = phone();
    let (case_id, code) = open_case_on_page(app, &mut first, &patient).await;
    let mut p = Browser::new(app);
    let device = enroll_on_page(&mut p, &code).await;
    let home = p.get("/patient").await;
    assert!(home.body.contains("Мой карантин"));
    assert!(home.body.contains("Отметок нет."));

    // The phone reports a 40-minute trip 600 m away (through the API, as the app does).
    let t0 = app.state.clock.now();
    app.state.clock.advance(100 * 60);
    let fixes: Vec<Value> = (1..=50)
        .map(|k| {
            let at = t0 + mins(2 * k);
            let jitter = (k % 5) as f64 * 7.0;
            if (16..36).contains(&k) {
                fix(at, 600.0 + jitter, 10.0 + (k % 3) as f64)
            } else {
                fix(at, 10.0 - jitter, 20.0)
            }
        })
        .collect();
    let r = app
        .post("/api/v1/device/locations", Some(&device), json!(fixes))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let flags = app.state.store.case_flags(&case_id).await.unwrap();
    assert_eq!(flags.len(), 1);
    let flag = flags[0].id.clone();
    app.wait_sms(&patient, "вне дома").await;
    for _ in 0..200 {
        if flag_state(app, &flag).await == "notified" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(flag_state(app, &flag).await, "notified");
    let sms = app.wait_sms(&patient, "вне дома").await;
    assert!(
        sms.contains("в приложении: http"),
        "where to explain: {sms}"
    );

    // The patient reads the evidence in plain words, without the officers' terms.
    let home = p.get("/patient").await;
    assert!(
        home.body.contains("положений телефона вне дома с")
            && home.body.contains("самое дальнее — в"),
        "{}",
        home.body
    );
    for jargon in ["медиана", "повторы", "явно вне дома:"] {
        assert!(
            !home.body.contains(jargon),
            "{jargon} on the patient's page"
        );
    }
    // An explanation before the decision: an empty or overlong one is refused at its field.
    let explain = format!("/patient/flags/{flag}/statement");
    let page = p.post(&explain, &[("statement", "  ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Напишите объяснение."));
    assert!(
        page.body.contains(&format!("id=\"explain-{flag}-error\"")),
        "the message sits at the field: {}",
        page.body
    );
    let long = "а".repeat(2001);
    let page = p.post(&explain, &[("statement", &long)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("не длиннее 2000 знаков, сейчас — 2001"));
    assert!(page.body.contains(&long), "what was typed is kept");
    assert!(app
        .state
        .store
        .flag(&flag)
        .await
        .unwrap()
        .unwrap()
        .statement
        .is_none());
    // Written, then replaced: one statement, the latest.
    let page = p.post(&explain, &[("statement", "Ходила в аптеку")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = p
        .post(
            &explain,
            &[("statement", "Возил ребёнка в травмпункт, справка есть")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let home = p.get(&format!("/patient?explained={flag}")).await;
    assert!(
        home.body.contains("Объяснение отправлено."),
        "{}",
        home.body
    );
    assert!(home.body.contains("Заменить объяснение"));
    let stored = app.state.store.flag(&flag).await.unwrap().unwrap();
    assert_eq!(
        stored.statement.unwrap().text,
        "Возил ребёнка в травмпункт, справка есть"
    );
    // The officer reads it beside the evidence, and the queue card says there is one.
    let page = first.get(&format!("/health/flags/{flag}")).await;
    assert!(page.body.contains("Объяснение пациента"));
    assert!(page
        .body
        .contains("id=\"patient-statement\">Возил ребёнка в травмпункт, справка есть<"));
    assert!(first
        .get("/health/queue")
        .await
        .body
        .contains("Есть объяснение пациента"));

    // The queue shows a summarised card (who, what, when, state, one line of evidence),
    // never coordinates; the full evidence is on the flag's page.
    let queue = first.get("/health/queue").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains(&format!("/health/flags/{flag}")));
    assert!(queue.body.contains("Вне дома: Сидорова Анна Павловна"));
    assert!(
        queue
            .body
            .contains("Геопозиций явно вне дома: 20, дальше всего"),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("Ждёт решения врача"));
    assert!(!queue.body.contains("<table"), "no track in the queue");
    assert!(
        !queue.body.contains("точность ±"),
        "no evidence details in the queue"
    );
    assert!(queue.body.contains("Показано сигналов: 1 из 1"));
    assert!(
        !queue.body.contains("отметк"),
        "a flag is «сигнал»: {}",
        queue.body
    );
    let page = first.get(&format!("/health/flags/{flag}")).await;
    assert_no_inline_script(&page.body);
    assert!(page.body.contains("<table class=\"data\">"), "the track");
    assert!(page.body.contains("явно вне дома: 20"), "{}", page.body);
    assert!(page.body.contains("м от дома, точность ±"));
    assert!(
        page.body
            .contains("100 м: меньше 100 м не проверяется из-за точности GPS (указано 50 м)"),
        "the radius used, and why: {}",
        page.body
    );
    assert!(
        !page.body.to_lowercase().contains("отметк"),
        "{}",
        page.body
    );
    for coordinate in ["55.75", "37.61", "55,75", "37,61"] {
        assert!(
            !queue.body.contains(coordinate),
            "{coordinate} in the queue"
        );
        assert!(!page.body.contains(coordinate), "{coordinate} on the flag");
    }
    // No decision is chosen for the officer.
    assert!(!page.body.contains(" checked"), "nothing pre-selected");

    // Filters are plain GET links and count what they show.
    let only = |q: &str| format!("/health/queue?{q}");
    let filtered = first.get(&only("kind=no_signal")).await;
    assert!(
        filtered.body.contains("Показано сигналов: 0 из 1"),
        "{}",
        filtered.body
    );
    assert!(filtered.body.contains("Таких сигналов нет."));
    assert!(!filtered.body.contains(&format!("/health/flags/{flag}")));
    assert!(filtered.body.contains("Сбросить фильтры"));
    let filtered = first.get(&only("kind=left_home&state=notified")).await;
    assert!(filtered.body.contains("Показано сигналов: 1 из 1"));
    assert!(filtered.body.contains(&format!("/health/flags/{flag}")));
    assert!(
        filtered
            .body
            .contains("<option value=\"left_home\" selected>Вне дома (1)</option>"),
        "{}",
        filtered.body
    );
    assert!(filtered
        .body
        .contains("<option value=\"no_signal\">Нет сигнала (0)</option>"));
    let filtered = first.get(&only("state=appealed")).await;
    assert!(filtered.body.contains("Показано сигналов: 0 из 1"));
    let filtered = first.get(&only("age=1h")).await;
    assert!(
        filtered.body.contains("Показано сигналов: 0 из 1"),
        "raised just now"
    );
    app.state.clock.advance(61 * 60);
    let filtered = first.get(&only("age=1h")).await;
    assert!(
        filtered.body.contains("Показано сигналов: 1 из 1"),
        "now older than an hour"
    );
    assert!(filtered
        .body
        .contains("<option value=\"1h\" selected>Больше часа назад (1)</option>"));
    let filtered = first.get(&only("age=1d&kind=bogus")).await;
    assert!(
        filtered.body.contains("Показано сигналов: 0 из 1"),
        "unknown values mean any"
    );

    // Bad decisions: every problem at once, each in the summary and at its field.
    let decision = format!("/health/flags/{flag}/decision");
    let sent_before = app.sms_to(&patient).len();
    let page = first
        .post(&decision, &[("decision", "confirm"), ("note", " ")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (id, text) in [
        (
            "sanction-warning",
            "Выберите меру: предупреждение или штраф.",
        ),
        ("confirm-note", "Укажите основание: почему вы так решили."),
    ] {
        assert!(
            page.body.contains(&format!("href=\"#{id}\"")),
            "{id}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!("id=\"{id}-error\"")),
            "{id} at the field"
        );
        assert!(page.body.contains(text), "{text}");
    }
    assert!(page.body.contains("<fieldset class=\"field has-error\">"));
    let page = first
        .post(
            &decision,
            &[
                ("decision", "confirm"),
                ("sanction", "fine"),
                ("amount", "четыре тысячи"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["amount", "confirm-note"] {
        assert!(page.body.contains(&format!("href=\"#{id}\"")), "{id}");
        assert!(
            page.body.contains(&format!("id=\"{id}-error\"")),
            "{id} at the field"
        );
    }
    assert!(page.body.contains("Сумма штрафа — целое число рублей"));
    assert!(
        page.body.contains("value=\"четыре тысячи\""),
        "the amount is kept"
    );
    assert!(page.body.contains("class=\"input short input-error\""));
    assert_eq!(flag_state(app, &flag).await, "notified");

    // A forged decision is refused and changes nothing.
    let forged = first
        .client
        .post(format!("{}{decision}", first.base))
        .form(&[("decision", "dismiss"), ("csrf", "guessed")]);
    assert_eq!(first.send(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(flag_state(app, &flag).await, "notified");

    // A dismissal goes to its check page first: nothing changes, and "change" comes back
    // to the form.
    let check = first
        .post(
            &decision,
            &[("decision", "dismiss"), ("note", "был у врача")],
        )
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Проверьте решение перед отправкой"));
    assert!(check.body.contains("Снять сигнал: нарушения нет"));
    assert!(check.body.contains("был у врача"));
    assert!(check.body.contains("Сидорова Анна Павловна"));
    assert!(
        check.body.contains("<blockquote class=\"sms\">"),
        "the SMS to be sent"
    );
    assert_eq!(flag_state(app, &flag).await, "notified");
    let mut fields = hidden_fields(&check.body);
    fields.push(("action".into(), "change".into()));
    let back = post_fields(&mut first, &format!("{decision}/confirm"), &fields).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(
        back.body.contains(">был у врача</textarea>"),
        "{}",
        back.body
    );
    assert_eq!(flag_state(app, &flag).await, "notified");

    // A fine: the check page says the sanction, the amount, the reason and the SMS the
    // patient will get, word for word; nothing is stored or sent yet.
    let answers = [
        ("decision", "confirm"),
        ("sanction", "fine"),
        ("amount", "4000"),
        ("note", "40 минут в 600 м, объяснений нет"),
    ];
    let check = first.post(&decision, &answers).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Нарушение подтверждено"));
    assert!(check.body.contains("Штраф 4000 ₽"));
    assert!(check.body.contains("40 минут в 600 м, объяснений нет"));
    let sms = check
        .body
        .split("<blockquote class=\"sms\">")
        .nth(1)
        .expect("the SMS shown");
    assert!(sms.contains("штраф 4000"), "{sms}");
    assert!(check.body.contains("Изменить ответы"));
    assert_no_inline_script(&check.body);
    assert_eq!(flag_state(app, &flag).await, "notified");
    assert_eq!(
        app.sms_to(&patient).len(),
        sent_before,
        "no SMS before confirming"
    );

    // "Change" brings the filled form back, the fine chosen.
    let fields = hidden_fields(&check.body);
    let mut change = fields.clone();
    change.push(("action".into(), "change".into()));
    let back = post_fields(&mut first, &format!("{decision}/confirm"), &change).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(
        back.body.contains("value=\"fine\" checked"),
        "{}",
        back.body
    );
    assert!(back.body.contains("value=\"4000\""));
    assert!(back
        .body
        .contains("40 минут в 600 м, объяснений нет</textarea>"));

    // A confirmation whose answers were changed after the check is checked again, and a
    // forged one is refused: neither acts.
    let mut changed = fields.clone();
    for (k, v) in changed.iter_mut() {
        if k == "amount" {
            *v = "40000".into();
        }
    }
    let again = post_fields(&mut first, &format!("{decision}/confirm"), &changed).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("Ответы изменились"));
    assert!(
        again.body.contains("Штраф 40000 ₽"),
        "the new answers, to check"
    );
    assert_eq!(flag_state(app, &flag).await, "notified");
    let mut bad = fields.clone();
    for (k, v) in bad.iter_mut() {
        if k == "amount" {
            *v = "0".into();
        }
    }
    let page = post_fields(&mut first, &format!("{decision}/confirm"), &bad).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "re-validated"
    );
    assert_eq!(flag_state(app, &flag).await, "notified");
    let mut forged_fields = fields.clone();
    for (k, v) in forged_fields.iter_mut() {
        if k == "csrf" {
            *v = "guessed".into();
        }
    }
    let forged = first
        .client
        .post(format!("{}{decision}/confirm", first.base))
        .form(&forged_fields);
    assert_eq!(first.send(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(flag_state(app, &flag).await, "notified");
    assert_eq!(app.sms_to(&patient).len(), sent_before);

    // The confirmed post acts: stored, the patient told, and a confirmation panel.
    let page = post_fields(&mut first, &format!("{decision}/confirm"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let done = page.location.clone().unwrap();
    assert_eq!(done, format!("/health/flags/{flag}?decided=1"));
    let stored = app.state.store.flag(&flag).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "confirmed_with_sanction");
    assert_eq!(
        serde_json::to_value(&stored.sanction).unwrap(),
        json!({"type": "fine", "amount_rub": 4000})
    );
    let sms = app.wait_sms(&patient, "штраф 4000 рублей.").await;
    assert!(
        sms.contains("как оплатить") && sms.contains("/patient/app/"),
        "{sms}"
    );
    let page = first.get(&done).await;
    assert!(page.body.contains("Решение принято"), "{}", page.body);
    assert!(page.body.contains("Назначена мера: штраф 4000 ₽"));
    assert!(page.body.contains("Подтверждён, назначена мера"));
    // Confirming the same answers again is refused: the flag has moved on.
    let twice = post_fields(&mut first, &format!("{decision}/confirm"), &fields).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.body.contains("Сигнал уже в другом состоянии"));

    // After the decision the explanation stays as the officer read it and cannot change.
    let page = p.post(&explain, &[("statement", "Ещё одно")]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("Врач уже принял решение"));
    assert!(
        !page.body.contains(&format!("action=\"{explain}\"")),
        "no form"
    );
    let stored = app.state.store.flag(&flag).await.unwrap().unwrap();
    assert_eq!(
        stored.statement.unwrap().text,
        "Возил ребёнка в травмпункт, справка есть"
    );

    // The patient sees the fine with the officer's reason, how to pay and whom to ask,
    // and appeals; an empty statement is refused first.
    let home = p.get("/patient").await;
    assert!(home.body.contains("Мера: штраф 4000 ₽."), "{}", home.body);
    assert!(home.body.contains("40 минут в 600 м, объяснений нет"));
    assert!(home.body.contains("Как оплатить штраф"));
    assert!(home.body.contains("href=\"/help\""));
    let appeal = format!("/patient/flags/{flag}/appeal");
    let page = p.post(&appeal, &[("statement", "   ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Напишите объяснение"));
    assert_eq!(flag_state(app, &flag).await, "confirmed_with_sanction");
    let page = p
        .post(
            &appeal,
            &[("statement", "Возил ребёнка в травмпункт, справка есть")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(flag_state(app, &flag).await, "appealed");
    let home = p.get("/patient").await;
    assert!(home.body.contains("Обжалована, ждёт решения другого врача"));
    let officer_id = app
        .state
        .store
        .staff_by_username("health-first")
        .await
        .unwrap()
        .unwrap()
        .id;
    assert!(
        !home.body.contains(&officer_id),
        "no officer ids for the patient"
    );

    // The appeal is in the appeals list (with the kind and age filters, not the state);
    // the confirming officer sees no appeal form, only who decides instead, and a post
    // of theirs is refused before any check page.
    let appeals = first.get("/health/appeals").await;
    assert!(appeals.body.contains(&format!("/health/flags/{flag}")));
    assert!(appeals.body.contains("Показано сигналов: 1 из 1"));
    assert!(!appeals.body.contains("id=\"filter-state\""));
    let own = first.get(&format!("/health/flags/{flag}")).await;
    assert!(own
        .body
        .contains("Эту меру назначили вы, поэтому жалобу рассматривает другой врач"));
    assert!(
        own.body.contains("Возил ребёнка в травмпункт"),
        "the appeal beside the evidence"
    );
    assert!(
        !own.body.contains("appeal-decision\""),
        "no appeal form for the decider"
    );
    assert!(!own.body.contains("name=\"upheld\""));
    let appeal_decision = format!("/health/flags/{flag}/appeal-decision");
    let page = first
        .post(
            &appeal_decision,
            &[("upheld", "no"), ("note", "справки нет")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page
        .body
        .contains("Жалобу на ваше решение рассматривает другой врач."));
    assert_eq!(flag_state(app, &flag).await, "appealed");

    // A second officer sees the form, nothing chosen; both problems at once first.
    let mut second = Browser::new(app);
    second.sign_in_officer("health-second").await;
    let form = second.get(&format!("/health/flags/{flag}")).await;
    assert!(form.body.contains("name=\"upheld\""));
    assert!(!form.body.contains(" checked"), "nothing pre-selected");
    let page = second.post(&appeal_decision, &[("note", " ")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["upheld-yes", "appeal-note"] {
        assert!(
            page.body.contains(&format!("href=\"#{id}\"")),
            "{id}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!("id=\"{id}-error\"")),
            "{id} at the field"
        );
    }
    let check = second
        .post(
            &appeal_decision,
            &[
                ("upheld", "yes"),
                ("note", "справка из травмпункта подтверждает"),
            ],
        )
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Удовлетворить жалобу: мера отменяется"));
    assert!(check
        .body
        .contains(&format!("action=\"{appeal_decision}/confirm\"")));
    assert_eq!(flag_state(app, &flag).await, "appealed");
    // The first officer's session cannot confirm the second's check.
    let theirs = post_fields(
        &mut first,
        &format!("{appeal_decision}/confirm"),
        &hidden_fields(&check.body),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    assert_eq!(flag_state(app, &flag).await, "appealed");
    let page = post_fields(
        &mut second,
        &format!("{appeal_decision}/confirm"),
        &hidden_fields(&check.body),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored = app.state.store.flag(&flag).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "appeal_upheld");
    assert!(stored.sanction.is_none());
    app.wait_sms(&patient, "удовлетворена").await;
    let page = second.get(&page.location.unwrap()).await;
    assert!(page.body.contains("Решение принято"));
    assert!(page
        .body
        .contains("Жалоба удовлетворена, мера отменена. Пациент получит SMS"));
    assert!(
        page.body.contains("(врач health-first)"),
        "officers by name"
    );
    assert!(page.body.contains("(врач health-second)"));
    assert!(p.get("/patient").await.body.contains("мера отменена"));

    // In English, the same pages use "flag" and "location report".
    second.lang = Some("en");
    let page = second.get(&format!("/health/flags/{flag}")).await;
    assert!(
        page.body.contains("Location reports in the period"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("less than 100 m is not checked because of GPS accuracy (50 m given)"));
    let queue = second.get("/health/queue?state=appealed").await;
    assert!(
        queue.body.contains("Showing 0 of 0 flags"),
        "{}",
        queue.body
    );
}

/// The hidden fields of the check page's confirming form (its answers), unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let (_, form) = html.split_once("/confirm\"").expect("a confirming form");
    let form = form.split("</form>").next().unwrap();
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').unwrap();
            let (_, rest) = rest.split_once("value=\"").unwrap();
            let value = rest.split('"').next().unwrap();
            (name.to_string(), unescape(value))
        })
        .collect()
}

/// Posts exactly these fields (the page's own CSRF token among them).
async fn post_fields(
    b: &mut Browser,
    path: &str,
    fields: &[(String, String)],
) -> support::browser::Page {
    let req = b.client.post(format!("{}{path}", b.base)).form(fields);
    b.send(req).await
}

on_every_backend!(checkin_answered_with_camera_and_location, checkin_scenario);
async fn checkin_scenario(app: &TestApp) {
    app.add_staff("health-checkins", Role::Health).await;
    let mut officer = Browser::new(app);
    officer.sign_in_officer("health-checkins").await;
    let patient = phone();
    let (case_id, code) = open_case_on_page(app, &mut officer, &patient).await;
    let mut p = Browser::new(app);

    // A photo that is no picture is refused before the one-time code is spent.
    p.get("/patient").await;
    let page = p
        .post_multipart(
            "/patient/enroll",
            &[("code", &code)],
            &[("photo", b"\xFF\xD8\xFFnot really a photo")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Это не фото"));
    let page = p
        .post_multipart("/patient/enroll", &[("code", "ABCD-EFGH-JKLM")], &[])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Код подключения не найден"));
    let _ = enroll_on_page(&mut p, &code).await;

    // Draw the schedule, and go to the first check-in.
    propusk_server::monitoring::sweep(&app.state).await.unwrap();
    let later = app.state.clock.now() + SignedDuration::from_hours(48);
    let schedule = app
        .state
        .store
        .case_checkins(&case_id, later)
        .await
        .unwrap();
    let first = schedule.first().expect("a check-in drawn");
    let (challenge, issued) = (first.id.clone(), first.issued_at);
    app.move_to(issued + mins(1));
    let home = p.get("/patient").await;
    assert!(home
        .body
        .contains(&format!("/patient/checkins/{challenge}")));
    let path = format!("/patient/checkins/{challenge}");
    let form = p.get(&path).await;
    assert!(form.body.contains("capture=\"user\""));
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    assert!(form
        .body
        .contains("<script src=\"/static/monitoring.js\" defer>"));
    assert_no_inline_script(&form.body);

    // No photo, a broken photo, no location: each said, nothing stored.
    let photo = jpeg(1600, 1200);
    let here = [("lat", "55.7575"), ("lon", "37.6130"), ("accuracy_m", "12")];
    let page = p.post_multipart(&path, &here, &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Сделайте фото"));
    let page = p
        .post_multipart(&path, &here, &[("photo", b"GIF89a not a jpeg")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Это не фото"));
    // A camera picture may be larger than the API's 2 MB bodies: the form takes it in.
    let large = vec![7u8; 3 * 1024 * 1024];
    let page = p.post_multipart(&path, &here, &[("photo", &large)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "not 413");
    assert!(page.body.contains("Это не фото"));
    let page = p.post_multipart(&path, &[], &[("photo", &photo)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Укажите место"));
    let page = p
        .post_multipart(&path, &[("lat", "95"), ("lon", "37")], &[("photo", &photo)])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Координаты не подходят"));
    let answered = |app: &TestApp| {
        let store = app.state.store.clone();
        let (case_id, challenge) = (case_id.clone(), challenge.clone());
        let now = app.state.clock.now();
        async move {
            store
                .case_checkins(&case_id, now)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.id == challenge)
                .unwrap()
        }
    };
    assert!(answered(app).await.answered_at.is_none());

    // A forged answer is refused.
    let forged = p
        .client
        .post(format!("{}{path}", p.base))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"lat\"\r\n\r\n55\r\n--x--\r\n");
    assert_eq!(p.send(forged).await.status, StatusCode::FORBIDDEN);

    // The answer: the photo is stored scaled down and re-encoded, with the location.
    let page = p.post_multipart(&path, &here, &[("photo", &photo)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Ответ принят"));
    let stored = answered(app).await;
    assert!(stored.answered_at.is_some() && stored.has_photo);
    assert_eq!(stored.accuracy_m, Some(12.0));
    let again = p.post_multipart(&path, &here, &[("photo", &photo)]).await;
    assert_ne!(again.status, StatusCode::OK, "answered once");

    // The officer sees the answer beside the reference photo, both served to them only.
    officer.sign_in_officer("health-checkins").await;
    let case = officer.get(&format!("/health/cases/{case_id}")).await;
    assert!(case
        .body
        .contains(&format!("/health/checkins/{challenge}/photo")));
    assert!(case
        .body
        .contains(&format!("/health/cases/{case_id}/reference-photo")));
    assert!(
        case.body.contains("0 м от дома, точность ±12 м"),
        "{}",
        case.body
    );
    let shot = officer
        .client
        .get(format!(
            "{}/health/checkins/{challenge}/photo",
            officer.base
        ))
        .header(
            "cookie",
            format!("propusk_health={}", officer.cookies["propusk_health"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(shot.headers()["content-type"], "image/jpeg");
    let bytes = shot.bytes().await.unwrap();
    let picture = image::load_from_memory(&bytes).unwrap();
    assert_eq!((picture.width(), picture.height()), (1280, 960));
    let anonymous = Browser::new(app)
        .get(&format!("/health/checkins/{challenge}/photo"))
        .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "officers only");
    let reference = officer
        .get(&format!("/health/cases/{case_id}/reference-photo"))
        .await;
    assert_eq!(reference.content_type, "image/jpeg");
}

on_every_backend!(loaner_phones_on_the_pages, loaner_scenario);
async fn loaner_scenario(app: &TestApp) {
    app.add_staff("health-loaners", Role::Health).await;
    let mut b = Browser::new(app);
    b.sign_in_officer("health-loaners").await;
    let patient = phone();
    let (case_id, _) = open_case_on_page(app, &mut b, &patient).await;
    b.get("/health/loaners").await;

    let page = b.post("/health/loaners", &[("serial", "SN 01/с")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Серийный номер: от 1 до 64"));
    assert!(page.body.contains("id=\"serial-error\""), "at the field");
    let page = b.post("/health/loaners", &[("serial", "SN-0001")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = b.post("/health/loaners", &[("serial", "SN-0001")]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page
        .body
        .contains("Телефон с таким серийным номером уже есть."));
    let list = b.get("/health/loaners").await;
    assert!(list.body.contains("На складе"));
    assert!(
        list.body.contains("Сидорова Анна Павловна"),
        "a case to lend to"
    );
    assert_no_inline_script(&list.body);

    // Lending needs a case; the one-time key is shown once (with the app's link and a QR
    // code) and connects the phone, once.
    let page = b
        .post("/health/loaners/SN-0001/lend", &[("case_id", "")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = b
        .post("/health/loaners/SN-0001/lend", &[("case_id", &case_id)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (_, rest) = page.body.split_once("id=\"enrollment-code\">").unwrap();
    let key = rest.split('<').next().unwrap().to_string();
    assert!(page.body.contains(&format!("/patient/app/#code={key}")));
    assert!(
        page.body.contains("src=\"data:image/svg+xml;base64,"),
        "the QR code"
    );
    assert_no_inline_script(&page.body);
    // Four groups of four from the short-code alphabet, the last symbol a check.
    assert_eq!(key.len(), 19, "{key}");
    assert!(key.split('-').all(|g| g.len() == 4), "{key}");
    assert!(key
        .chars()
        .all(|c| c == '-' || "0123456789ABCDEFGHJKMNPQRSTVWXY".contains(c)));
    let mut p = Browser::new(app);
    p.get("/patient").await;
    // A typo is caught by the check symbol and said at the field; nothing is spent.
    let mut typo: Vec<char> = key.chars().collect();
    typo[5] = if typo[5] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let wrong = p.post("/patient/device-key", &[("key", &typo)]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("В ключе опечатка"), "{}", wrong.body);
    assert!(wrong.body.contains("id=\"key-error\""), "at the field");
    assert!(wrong.body.contains(&format!("value=\"{typo}\"")), "kept");
    let short = p.post("/patient/device-key", &[("key", "7K3Q-X94M")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("В ключе 16 знаков"), "{}", short.body);
    let empty = p.post("/patient/device-key", &[("key", "  ")]).await;
    assert!(empty.body.contains("Введите ключ"), "{}", empty.body);
    // A well-formed key that was never lent is unknown.
    let other = propusk_token::LoanerKey::generate(&mut propusk_token::rand_core::OsRng);
    let unknown = p
        .post("/patient/device-key", &[("key", &other.to_string())])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Typed in lower case with spaces instead of dashes, it connects the phone.
    let typed = key.to_lowercase().replace('-', " ");
    let page = p.post("/patient/device-key", &[("key", &typed)]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(p.get("/patient").await.body.contains("Мой карантин"));
    let mut again = Browser::new(app);
    again.get("/patient").await;
    let used = again.post("/patient/device-key", &[("key", &key)]).await;
    assert_eq!(
        used.status,
        StatusCode::NOT_FOUND,
        "a key connects one phone"
    );

    // Return with a checklist; a wipe with an item missing is refused; then done.
    let page = b
        .post(
            "/health/loaners/SN-0001/return",
            &[("phone_received", "on")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let loaner = |app: &TestApp| {
        let store = app.state.store.clone();
        async move { store.loaners(None).await.unwrap().remove(0) }
    };
    let returned = loaner(app).await;
    assert_eq!(returned.state, LoanerState::Returned);
    assert_eq!(returned.checklist.unwrap()["charger_received"], false);
    assert!(
        !p.get("/patient").await.body.contains("Мой карантин"),
        "the returned phone's key no longer works"
    );
    let page = b
        .post(
            "/health/loaners/SN-0001/wipe",
            &[("factory_reset", "on"), ("token_removed", "on")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Учётные записи удалены"),
        "{}",
        page.body
    );
    assert_eq!(loaner(app).await.state, LoanerState::Returned);
    let page = b
        .post(
            "/health/loaners/SN-0001/wipe",
            &[
                ("factory_reset", "on"),
                ("token_removed", "on"),
                ("accounts_removed", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(loaner(app).await.state, LoanerState::Wiped);
    let page = b.post("/health/loaners/SN-0001/lost", &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("Очищен, можно выдавать"));
}
