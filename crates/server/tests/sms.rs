//! The SMS channel over HTTP, as Kannel's smsbox drives it, on SQLite and on PostgreSQL:
//! a corpus of real-looking messages, the pass flow by SMS alone, duplicates, rate limits,
//! delivery reports, and an outbox that loses nothing and sends nothing twice.

mod sms_support;
mod support;

use propusk_store::Role;
use propusk_token::{verify, NoRevocations, ShortCode, TrustList};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sms_support::{relaxed, short_code_in, Mode, SmsApp, SECRET};
use support::phone;

/// Runs a scenario on every configured backend.
macro_rules! sms_scenario {
    ($name:ident, $scenario:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for backend in support::backends() {
                let app = SmsApp::spawn(&backend).await;
                $scenario(&app).await;
                app.stop().await;
            }
        }
    };
}

/// Who sends a corpus message.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// A resident with a complete profile (a fresh one per message).
    Registered,
    /// A phone propusk has never seen.
    Stranger,
    /// A phone that signed in on the web but gave no profile.
    SignedInOnly,
}

/// What must come of it.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// A pass for this purpose, and an answer with its short code (and these words).
    Pass(&'static str, &'static [&'static str]),
    /// No pass; an answer containing every one of these.
    Says(&'static [&'static str]),
}

use Expect::{Pass, Says};
use Who::{Registered, SignedInOnly, Stranger};

const NOT_REGISTERED: &[&str] = &["не зарегистрирован", "РЕГИСТРАЦИЯ#"];
const HELP_RU: &[&str] = &["ПРОПУСК 3", "1*ИНН", "2 ", "3 ", "4 ", "5 ", "6 "];
const NOT_UNDERSTOOD: &[&str] = &["Не понятно", "ПРОПУСК 3"];

/// At least 60 messages as people type them, with what each must lead to.
fn corpus() -> Vec<(String, Who, Expect)> {
    let long_garbage = "а".repeat(2000);
    let long_request = format!("ПРОПУСК 3 {}", "очень нужно в магазин ".repeat(60));
    let cases: Vec<(&str, Who, Expect)> = vec![
        // Pass requests, every spelling.
        ("ПРОПУСК 3", Registered, Pass("shopping", &["Пропуск"])),
        ("пропуск*3", Registered, Pass("shopping", &[])),
        ("Пропуск 4", Registered, Pass("trash", &["Вынос мусора"])),
        ("ПРОПУСК#5#", Registered, Pass("pet", &[])),
        ("PASS 3", Registered, Pass("shopping", &["Pass", "CANCEL"])),
        (
            "pass*4",
            Registered,
            Pass("trash", &["Taking out the trash"]),
        ),
        ("3", Registered, Pass("shopping", &["Пропуск"])),
        ("  6 ", Registered, Pass("emergency", &[])),
        ("ПPОПУСК 2", Registered, Pass("medical", &[])),
        ("ПР0ПУСК 3", Registered, Pass("shopping", &[])),
        ("ПРОПУК 3", Registered, Pass("shopping", &[])),
        ("ПРОПУСКК 4", Registered, Pass("trash", &[])),
        ("ПРОПСУК 3", Registered, Pass("shopping", &[])),
        ("ПрОпУсК 3", Registered, Pass("shopping", &[])),
        ("ПРОПУСК3", Registered, Pass("shopping", &[])),
        ("пропуск-4", Registered, Pass("trash", &[])),
        ("ПРОПУСК №3", Registered, Pass("shopping", &[])),
        ("ПРОПУСК три", Registered, Pass("shopping", &[])),
        ("Здравствуйте, пропуск 3", Registered, Pass("shopping", &[])),
        ("ПРОПУСК 3 🙏", Registered, Pass("shopping", &[])),
        ("ПРОПУСК*1*7707083893", Registered, Pass("work", &[])),
        ("1*7707083893", Registered, Pass("work", &[])),
        ("PROPUSK 5", Registered, Pass("pet", &["Пропуск"])),
        ("ПРОПУСК на магазин", Registered, Pass("shopping", &[])),
        ("ПРОПУСК мусор", Registered, Pass("trash", &[])),
        ("ЦЕЛЬ 4", Registered, Pass("trash", &[])),
        ("ПРО ПУСК 6", Registered, Pass("emergency", &[])),
        ("PERMIT 2", Registered, Pass("medical", &["Pass"])),
        ("пропуск 3 23:30", Registered, Pass("shopping", &["23:30"])),
        ("ПРОПУСК\n3", Registered, Pass("shopping", &[])),
        // Requests that cannot be granted as written: a reply saying what is expected.
        ("ПРОПУСК 1", Registered, Says(&["ИНН", "ПРОПУСК*1*"])),
        ("ПРОПУСК*1*1234567890", Registered, Says(&["ИНН", "Пример"])),
        (
            "ПРОПУСК 7",
            Registered,
            Says(&["Нет цели с кодом 7", "ПОМОЩЬ"]),
        ),
        ("ПРОПУСК 0", Registered, Says(&["Нет цели с кодом 0"])),
        ("ПРОПУСК 12", Registered, Says(&["Нет цели с кодом 12"])),
        ("PASS 9", Registered, Says(&["no purpose 9", "HELP"])),
        ("9", Registered, Says(&["Нет цели с кодом 9"])),
        ("ПРОПУСК", Registered, Says(&["Укажите код цели", "3 "])),
        (
            "ПРОПУСК на прогулку",
            Registered,
            Says(&["Укажите код цели"]),
        ),
        ("пропуск 3 25:99", Registered, Pass("shopping", &[])),
        // Help, status, cancel.
        ("ПОМОЩЬ", Registered, Says(HELP_RU)),
        ("помошь", Registered, Says(HELP_RU)),
        ("СПРАВКА", Registered, Says(HELP_RU)),
        ("HELP", Registered, Says(&["PASS 3", "1*INN"])),
        ("?", Registered, Says(HELP_RU)),
        ("СТАТУС", Registered, Says(&["Действующих пропусков нет"])),
        ("CTATYC", Registered, Says(&["Действующих пропусков нет"])),
        ("STATUS", Registered, Says(&["no current passes"])),
        ("ОТМЕНА", Registered, Says(&["нет действующих"])),
        (
            "ОТМЕНА 123",
            Registered,
            Says(&["не распознан", "7K3-QX9-4MM"]),
        ),
        ("отмена ABC-DEF-GHJ-K", Registered, Says(&["не распознан"])),
        // Nothing to understand: never silence.
        ("", Registered, Says(&["Пустое сообщение"])),
        ("   ", Registered, Says(&["Пустое сообщение"])),
        ("🙂🙂🙂", Registered, Says(NOT_UNDERSTOOD)),
        ("Привет", Registered, Says(NOT_UNDERSTOOD)),
        ("hello", Registered, Says(&["Not understood", "PASS 3"])),
        (
            "Когда закончится карантин?",
            Registered,
            Says(NOT_UNDERSTOOD),
        ),
        ("ПРОПУСТИТЕ МЕНЯ", Registered, Says(NOT_UNDERSTOOD)),
        ("7707083893", Registered, Says(NOT_UNDERSTOOD)),
        (
            "<script>alert(1)</script>",
            Registered,
            Says(&["Not understood"]),
        ),
        (
            "'; DROP TABLE passes; --",
            Registered,
            Says(&["Not understood"]),
        ),
        (
            "РЕГИСТРАЦИЯ",
            Registered,
            Says(&["Не указаны фамилия", "РЕГИСТРАЦИЯ#"]),
        ),
        (
            "РЕГИСТРАЦИЯ#Иванов Иван#123",
            Registered,
            Says(&["не распознан", "10 цифр"]),
        ),
        ("РЕГИСТРАЦИЯ#И#4510123456", Registered, Says(&["символов"])),
        // Strangers are told how to register; help works for everyone.
        ("ПРОПУСК 3", Stranger, Says(NOT_REGISTERED)),
        ("3", Stranger, Says(NOT_REGISTERED)),
        ("PASS 3", Stranger, Says(&["not registered", "REGISTER#"])),
        ("СТАТУС", Stranger, Says(NOT_REGISTERED)),
        ("ОТМЕНА 7K3QX94MM", Stranger, Says(NOT_REGISTERED)),
        ("ПОМОЩЬ", Stranger, Says(HELP_RU)),
        ("ПРОПУСК 3", SignedInOnly, Says(NOT_REGISTERED)),
        // Registration by SMS alone.
        (
            "РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510123456",
            Stranger,
            Says(&["зарегистрированы", "И.И. 3456"]),
        ),
        (
            "регистрация иванов иван 4510 123456",
            Stranger,
            Says(&["зарегистрированы", "И.И. 3456"]),
        ),
        (
            "REGISTER#Smith John#AB1234567",
            Stranger,
            Says(&["registered", "S.J. 4567"]),
        ),
        (
            "РЕГИСТРАЦИЯ#4510123456#Петров Пётр",
            Stranger,
            Says(&["П.П. 3456"]),
        ),
        (
            "РИГИСТРАЦИЯ*Сидоров Сидор*4510 123456",
            Stranger,
            Says(&["зарегистрированы"]),
        ),
        (
            "РЕГ#Петрова Анна#4510123456#Москва, ул. Тверская, 1",
            SignedInOnly,
            Says(&["П.А. 3456"]),
        ),
        (
            "РЕГИСТРАЦИЯ#Иванов Иван",
            Stranger,
            Says(&["Не указан номер паспорта"]),
        ),
    ];
    let mut all: Vec<(String, Who, Expect)> = cases
        .into_iter()
        .map(|(t, w, e)| (t.to_string(), w, e))
        .collect();
    all.push((long_garbage, Registered, Says(NOT_UNDERSTOOD)));
    all.push((long_request, Registered, Pass("shopping", &[])));
    all
}

sms_scenario!(corpus_each_message_gets_the_right_answer, corpus_scenario);
async fn corpus_scenario(app: &SmsApp) {
    let corpus = corpus();
    assert!(corpus.len() >= 60, "{} messages", corpus.len());
    let mut failures = Vec::new();
    for (text, who, expect) in &corpus {
        let from = phone();
        let resident = match who {
            Registered => Some(
                app.resident(&from, "Петров Пётр Сергеевич", "4510123456")
                    .await,
            ),
            SignedInOnly => {
                let p = propusk_core::domain::PhoneNumber::parse(&from).unwrap();
                let r = app
                    .state
                    .store
                    .resident_for_phone(&p, jiff::Timestamp::now())
                    .await
                    .unwrap();
                Some(r.id)
            }
            Stranger => None,
        };
        let answer = app.ask(&from, text).await;
        let resident = resident.or(app.resident_id(&from).await);
        let passes = match &resident {
            Some(id) => app.state.store.passes_of(id, 10).await.unwrap(),
            None => vec![],
        };
        let problem = match expect {
            Pass(purpose, words) => {
                let code = short_code_in(&answer);
                let pass = passes.first();
                if passes.len() != 1 || pass.map(|p| p.purpose.as_str()) != Some(purpose) {
                    Some(format!(
                        "expected one {purpose} pass, got {:?}",
                        passes.iter().map(|p| &p.purpose).collect::<Vec<_>>()
                    ))
                } else if code.as_deref().map(|c| c.replace('-', ""))
                    != pass.map(|p| p.short_code.clone())
                {
                    Some("the answer does not carry the pass's short code".into())
                } else if pass.map(|p| p.channel.as_str()) != Some("sms") {
                    Some("the pass is not recorded as an SMS pass".into())
                } else {
                    words
                        .iter()
                        .find(|w| !answer.contains(*w))
                        .map(|w| format!("answer lacks {w:?}"))
                }
            }
            Says(words) => {
                if !passes.is_empty() {
                    Some(format!("no pass expected, got {}", passes.len()))
                } else {
                    words
                        .iter()
                        .find(|w| !answer.contains(*w))
                        .map(|w| format!("answer lacks {w:?}"))
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(format!(
                "{text:?} ({who:?}): {problem}\n    answer: {answer:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} messages went wrong:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
}

sms_scenario!(an_sms_pass_is_a_web_pass, sms_pass_scenario);
async fn sms_pass_scenario(app: &SmsApp) {
    let from = phone();
    let answer = app
        .ask(&from, "РЕГИСТРАЦИЯ#Иванов Иван Иванович#4510 123456")
        .await;
    assert!(answer.contains("И.И. 3456"), "{answer}");
    // The passport number went to the resident, not into the log of received messages.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let logged: Vec<(String,)> = sqlx::query_as("SELECT text FROM sms_inbound")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert!(
        !logged[0].0.contains("123456") && !logged[0].0.contains("Иванов"),
        "{logged:?}"
    );
    drop(db);
    let answer = app.ask(&from, "ПРОПУСК 3").await;
    let code = short_code_in(&answer).expect("a short code in the answer");
    assert_eq!(
        propusk_sms::encoding::segments(&answer).count,
        1,
        "{answer}"
    );

    // An inspector checks the short code online: the same rules as for a web pass.
    let client = reqwest::Client::new();
    let hash = propusk_server::auth::hash_password("correct horse battery").unwrap();
    app.state
        .store
        .add_staff("insp", Role::Inspector, &hash, jiff::Timestamp::now())
        .await
        .unwrap();
    let login: Value = client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": "insp", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let check = |body: Value| {
        let (client, base, token) = (client.clone(), app.base.clone(), token.clone());
        async move {
            client
                .post(format!("{base}/api/v1/verify"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let v = check(json!({"short_code": code})).await;
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(v["holder"], "И.И. 3456");
    assert_eq!(v["purpose"], "shopping");
    let v = check(json!({"short_code": code.to_lowercase().replace('-', " ")})).await;
    assert_eq!(
        v["verdict"], "valid",
        "short codes are as forgiving as ever: {v}"
    );

    // The token itself verifies offline against the published keys, like any pass.
    let id = app.resident_id(&from).await.unwrap();
    let pass = app.state.store.passes_of(&id, 1).await.unwrap().remove(0);
    assert!(pass.token.starts_with("PR1:"));
    let jwks = client
        .get(format!("{}/.well-known/propusk/keys", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let verdict = verify(
        &pass.token,
        &TrustList::from_jwks_json(&jwks).unwrap(),
        &NoRevocations,
        jiff::Timestamp::now().as_second(),
    );
    assert_eq!(verdict.name(), "valid");
    assert_eq!(verdict.pass().unwrap().claims.holder, "И.И. 3456");

    // Status lists it; the code alone describes it; cancelling revokes it everywhere.
    let status = app.ask(&from, "СТАТУС").await;
    assert!(status.contains(&code), "{status}");
    let about = app.ask(&from, &code).await;
    assert!(
        about.contains(&format!("ОТМЕНА {}", code.replace('-', ""))),
        "{about}"
    );
    let other = app.ask(&from, "ОТМЕНА").await;
    assert!(
        other.contains(&code),
        "cancel without a code names the passes: {other}"
    );
    let cancelled = app
        .ask(&from, &format!("отмена {}", code.to_lowercase()))
        .await;
    assert!(cancelled.contains("отменён"), "{cancelled}");
    let v = check(json!({"short_code": code})).await;
    assert_eq!(v["verdict"], "revoked", "{v}");
    let again = app.ask(&from, &format!("ОТМЕНА {code}")).await;
    assert!(again.contains("уже был отменён"), "{again}");
    assert!(app.ask(&from, &code).await.contains("отменён"));

    // Someone else's code cannot be cancelled, and is not told apart from a code that does not exist.
    let stranger = phone();
    app.ask(&stranger, "РЕГИСТРАЦИЯ#Петров Пётр#4510654321")
        .await;
    let theirs = app.ask(&stranger, "ПРОПУСК 4").await;
    let theirs = short_code_in(&theirs).unwrap();
    let answer = app.ask(&from, &format!("ОТМЕНА {theirs}")).await;
    assert!(answer.contains("нет пропуска"), "{answer}");
    let v = check(json!({"short_code": theirs})).await;
    assert_eq!(v["verdict"], "valid");

    // The quota is the same as on the web: a third shopping pass in a week is refused,
    // however it is asked for (a pass cancelled in the second it started would not count).
    let quota = phone();
    app.ask(&quota, "РЕГИСТРАЦИЯ#Сидоров Сидор#4510111222")
        .await;
    app.ask(&quota, "ПРОПУСК 3").await;
    app.ask(&quota, "3").await;
    let refused = app.ask(&quota, "ПРОПУСК 3").await;
    assert!(
        refused.contains("лимит") && refused.contains("Можно с"),
        "{refused}"
    );
    let refused = app.ask(&quota, "PASS 3").await;
    assert!(
        refused.contains("limit") && refused.contains("Possible from"),
        "{refused}"
    );
}

sms_scenario!(
    a_message_delivered_twice_is_handled_once,
    duplicate_scenario
);
async fn duplicate_scenario(app: &SmsApp) {
    let from = phone();
    app.resident(&from, "Петров Пётр Сергеевич", "4510123456")
        .await;
    let id = uuid::Uuid::new_v4().to_string();
    // Kannel retries a request whose answer it did not get; here three arrive at once.
    let statuses =
        futures_util::future::join_all((0..3).map(|_| app.deliver(&from, "ПРОПУСК 4", &id))).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{statuses:?}"
    );
    app.answer_after(&from, 0).await;
    assert_eq!(
        app.deliver(&from, "ПРОПУСК 4", &id).await,
        StatusCode::ACCEPTED
    );
    app.outbox_settled().await;
    let rid = app.resident_id(&from).await.unwrap();
    assert_eq!(
        app.state.store.passes_of(&rid, 10).await.unwrap().len(),
        1,
        "one pass"
    );
    assert_eq!(app.gateway.to(&from).len(), 1, "one answer");
    // A different id is a different message.
    app.ask(&from, "ПРОПУСК 4").await;
    assert_eq!(app.state.store.passes_of(&rid, 10).await.unwrap().len(), 2);
}

sms_scenario!(
    gateway_requests_are_authenticated_and_forgiving,
    transport_scenario
);
async fn transport_scenario(app: &SmsApp) {
    let url = format!("{}/api/v1/sms/inbound", app.base);
    let client = &app.client;
    let from = phone();
    app.resident(&from, "Петров Пётр Сергеевич", "4510123456")
        .await;
    // A wrong or missing secret is refused and changes nothing.
    for secret in ["wrong", ""] {
        let r = client
            .get(&url)
            .query(&[
                ("from", from.as_str()),
                ("text", "ПРОПУСК 3"),
                ("id", "x1"),
                ("secret", secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // UCS-2 as an operator delivers Cyrillic (Kannel without mo-recode): hex bytes, coding=2.
    let utf16: String = "ПРОПУСК 4"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .map(|b| format!("%{b:02X}"))
        .collect();
    let plus = from.replace('+', "%2B");
    let before = app.gateway.to(&from).len();
    let r = client.get(format!("{url}?from={plus}&to=7377&text={utf16}&id=u1&coding=2&charset=UTF-16BE&secret={SECRET}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(
        r.text().await.unwrap().is_empty(),
        "the answer goes through the outbox, not the body"
    );
    assert!(app
        .answer_after(&from, before)
        .await
        .contains("Вынос мусора"));
    // Windows-1251 from an alt-charset service.
    let cp1251 = "%D1%D2%C0%D2%D3%D1"; // СТАТУС
    let before = app.gateway.to(&from).len();
    let r = client
        .get(format!(
            "{url}?from={plus}&text={cp1251}&id=w1&charset=windows-1251&secret={SECRET}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(app
        .answer_after(&from, before)
        .await
        .starts_with("Пропуска:"));
    // POST as a form.
    let before = app.gateway.to(&from).len();
    let r = client
        .post(&url)
        .form(&[
            ("from", from.as_str()),
            ("text", "ПОМОЩЬ"),
            ("id", "f1"),
            ("secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(app.answer_after(&from, before).await.contains("ПРОПУСК 3"));
    // POST as Kannel's post-url: the text is the body, the sender a header.
    let before = app.gateway.to(&from).len();
    let r = client
        .post(format!("{url}?id=p1&secret={SECRET}"))
        .header("content-type", "text/plain; charset=\"UTF-8\"")
        .header("X-Kannel-From", from.as_str())
        .body("статус")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(app
        .answer_after(&from, before)
        .await
        .starts_with("Пропуска:"));
    // A sender that is no phone number (an operator's alphanumeric name) cannot be answered:
    // recorded, acknowledged, no answer queued.
    let r = client
        .get(&url)
        .query(&[
            ("from", "MegaFon"),
            ("text", "Баланс 100 р"),
            ("id", "m1"),
            ("secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let stats = app.sms_stats().await;
    assert_eq!(
        stats.inbound, 5,
        "every accepted message is recorded: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_inbound_sms_is_off() {
    let mut settings = relaxed();
    settings.inbound_secret = None;
    let app = SmsApp::spawn_with(&support::Backend::Sqlite, settings).await;
    let r = app
        .client
        .get(format!("{}/api/v1/sms/inbound", app.base))
        .query(&[("from", "+79161234567"), ("text", "3"), ("secret", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_phone_is_rate_limited_and_machines_are_not_answered_for_ever() {
    for backend in support::backends() {
        let mut settings = relaxed();
        settings.limits.per_minute = 3;
        settings.limits.replies_per_hour = 5;
        let app = SmsApp::spawn_with(&backend, settings).await;
        let from = phone();
        app.resident(&from, "Петров Пётр Сергеевич", "4510123456")
            .await;
        for _ in 0..3 {
            assert!(!app.ask(&from, "СТАТУС").await.contains("Слишком"));
        }
        let limited = app.ask(&from, "ПРОПУСК 3").await;
        assert!(limited.contains("Слишком много сообщений"), "{limited}");
        let rid = app.resident_id(&from).await.unwrap();
        assert!(
            app.state.store.passes_of(&rid, 5).await.unwrap().is_empty(),
            "a limited request does nothing"
        );
        app.ask(&from, "ПРОПУСК 3").await;
        // Five answers an hour, then silence (an auto-responder would answer each of ours).
        for n in 0..3 {
            assert_eq!(
                app.deliver(&from, "СТАТУС", &format!("loop-{n}")).await,
                StatusCode::ACCEPTED
            );
        }
        app.outbox_settled().await;
        assert_eq!(app.gateway.to(&from).len(), 5);
        // Other phones are not affected.
        let other = phone();
        assert!(app.ask(&other, "ПОМОЩЬ").await.contains("ПРОПУСК 3"));
        app.stop().await;
    }
}

/// 300 messages from one phone at once (a script, or a gateway replaying its queue): the
/// per-minute limit counts them one after another, so exactly that many are acted on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_messages_from_one_phone_meet_an_exact_limit() {
    for backend in support::backends() {
        let mut settings = relaxed();
        settings.limits.per_minute = 5;
        let app = SmsApp::spawn_with(&backend, settings).await;
        let from = phone();
        let ids: Vec<String> = (0..300).map(|i| format!("burst-{i}")).collect();
        let statuses =
            futures_util::future::join_all(ids.iter().map(|id| app.deliver(&from, "СТАТУС", id)))
                .await;
        assert!(
            statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
            "{statuses:?}"
        );
        let mut db = {
            use sqlx::Connection;
            sqlx::AnyConnection::connect(&app.database_url)
                .await
                .unwrap()
        };
        let outcomes: Vec<(String, i64)> = sqlx::query_as(
            "SELECT outcome, COUNT(*) FROM sms_inbound WHERE phone = $1 GROUP BY outcome ORDER BY outcome",
        )
        .bind(&from)
        .fetch_all(&mut db)
        .await
        .unwrap();
        let total: i64 = outcomes.iter().map(|(_, n)| n).sum();
        let limited: i64 = outcomes
            .iter()
            .filter(|(o, _)| o == "rate_limited")
            .map(|(_, n)| n)
            .sum();
        assert_eq!((total, total - limited), (300, 5), "{outcomes:?}");
        app.stop().await;
    }
}

sms_scenario!(delivery_reports_update_each_message, dlr_scenario);
async fn dlr_scenario(app: &SmsApp) {
    let from = phone();
    app.ask(&from, "ПОМОЩЬ").await;
    let sent = app.gateway.to(&from).remove(0);
    let dlr = |kind: &str| {
        let url = format!(
            "{}/api/v1/sms/dlr?id={}&type={kind}&at=1586937600&secret={SECRET}",
            app.base, sent.id
        );
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(dlr("8").await, StatusCode::ACCEPTED);
    let stats = app.sms_stats().await;
    assert_eq!(
        (stats.sent, stats.in_network, stats.delivered),
        (1, 1, 0),
        "{stats:?}"
    );
    assert!(
        stats.segments >= 2,
        "help in Russian takes several UCS-2 segments: {stats:?}"
    );
    assert_eq!(dlr("1").await, StatusCode::ACCEPTED);
    // A late "accepted by the SMSC" does not undo "delivered".
    assert_eq!(dlr("8").await, StatusCode::ACCEPTED);
    let stats = app.sms_stats().await;
    assert_eq!((stats.delivered, stats.in_network), (1, 0), "{stats:?}");
    // Unknown rows and types are acknowledged and ignored; a wrong secret is refused.
    let r = app
        .client
        .get(format!(
            "{}/api/v1/sms/dlr?id=999999&type=1&secret={SECRET}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app
        .client
        .get(format!(
            "{}/api/v1/sms/dlr?id={}&type=1&secret=nope",
            app.base, sent.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A failed delivery is shown as such.
    app.ask(&from, "СТАТУС").await;
    let second = app.gateway.to(&from).remove(1);
    let r = app
        .client
        .get(format!(
            "{}/api/v1/sms/dlr?id={}&type=16&secret={SECRET}",
            app.base, second.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let failures = app.state.store.sms_failures(10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].delivery.as_deref(), Some("rejected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_sent_twice_across_gateway_and_service_restarts() {
    for backend in support::backends() {
        let app = SmsApp::spawn(&backend).await;
        let phones: Vec<String> = (0..3).map(|_| phone()).collect();
        for p in &phones {
            app.resident(p, "Петров Пётр Сергеевич", "4510123456").await;
        }
        // The gateway is down: three requests are answered into the outbox.
        app.gateway.set(Mode::Refuse);
        for p in &phones {
            assert_eq!(
                app.deliver(p, "ПРОПУСК 3", &uuid::Uuid::new_v4().to_string())
                    .await,
                StatusCode::ACCEPTED
            );
        }
        let gateway = app.gateway.clone();
        app.until("each answer tried once", || {
            *gateway.refused.lock().unwrap() >= 3
        })
        .await;
        let stats = app.sms_stats().await;
        assert_eq!(stats.pending + stats.sending, 3, "{stats:?}");
        assert!(app.gateway.sent.lock().unwrap().is_empty());

        // The service restarts (same database) and the gateway is back: each answer once.
        let gateway = sms_support::MemoryGateway::new();
        let mut settings = relaxed();
        settings.lease_secs = 2;
        let app = app.restart(settings.clone(), gateway.clone()).await;
        // Retries back off (2 s, 4 s …); within ten seconds all three are out.
        app.until("every answer out", || {
            phones.iter().all(|p| !gateway.to(p).is_empty())
        })
        .await;
        for p in &phones {
            let answers = gateway.to(p);
            assert_eq!(answers.len(), 1, "{p}: {answers:?}");
            assert!(short_code_in(&answers[0].text).is_some());
        }

        // A send whose answer is lost is in doubt: with a delivery report it is settled and
        // not sent again; without one it is sent again after the lease.
        gateway.set(Mode::Doubt);
        let (reported, silent) = (phone(), phone());
        app.ask(&reported, "ПОМОЩЬ").await;
        app.ask(&silent, "ПОМОЩЬ").await;
        gateway.set(Mode::Accept);
        let id = gateway.to(&reported)[0].id;
        let r = app
            .client
            .get(format!(
                "{}/api/v1/sms/dlr?id={id}&type=8&secret={SECRET}",
                app.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        app.until("the unreported answer sent again after its lease", || {
            gateway.to(&silent).len() == 2
        })
        .await;
        // Had the report not settled the other, its lease would have run out by now too.
        app.outbox_settled().await;
        assert_eq!(
            gateway.to(&reported).len(),
            1,
            "settled by its report: not sent twice"
        );
        let resent = gateway.to(&silent);
        assert_eq!(resent.len(), 2, "no report: sent again after the lease");
        assert_eq!(
            resent[0].key, resent[1].key,
            "under the same idempotency key"
        );
        assert_eq!(resent[0].id, resent[1].id);
        assert_eq!(gateway.to(&silent).len(), 2, "and then settled");
        let stats = app.sms_stats().await;
        assert_eq!(
            (stats.pending, stats.sending, stats.failed),
            (0, 0, 0),
            "{stats:?}"
        );
        app.stop().await;
    }
}

sms_scenario!(random_messages_are_always_answered, random_scenario);
async fn random_scenario(app: &SmsApp) {
    use rand::Rng;
    const POOL: &[char] = &[
        'П', 'Р', 'О', 'У', 'С', 'К', 'а', 'я', 'ё', 'P', 'A', 'S', 'x', 'z', '0', '1', '3', '9',
        ' ', '*', '#', ',', ':', '-', '?', '%', '&', '+', '=', '\0', '\n', '\u{7}', '😀', '€', '№',
        '«', '\u{FEFF}', '\u{202E}', '\u{D7FF}',
    ];
    let from = phone();
    app.resident(&from, "Петров Пётр Сергеевич", "4510123456")
        .await;
    let mut rng = rand::thread_rng();
    for _ in 0..150 {
        let len = rng.gen_range(0..40);
        let text: String = (0..len)
            .map(|_| POOL[rng.gen_range(0..POOL.len())])
            .collect();
        let answer = app.ask(&from, &text).await;
        assert!(!answer.trim().is_empty(), "{text:?} got an empty answer");
        assert!(!answer.contains('\0'), "{text:?}");
    }
}

#[test]
fn short_codes_are_found_in_answers() {
    let code = ShortCode::generate(&mut propusk_token::rand_core::OsRng).to_string();
    assert_eq!(
        short_code_in(&format!("Пропуск {code}: Вынос мусора, 15.04 10:00-10:30")),
        Some(code.clone())
    );
    assert_eq!(
        short_code_in("Пропуск 7K3-QX9-4MN: x"),
        None,
        "check symbol"
    );
}
