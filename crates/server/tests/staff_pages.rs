//! First-run setup and the staff accounts page, as a browser without JavaScript uses them,
//! on SQLite and on PostgreSQL: a new installation prints a one-time link, the first
//! administrator is made with it (once), and administrators create officers and inspectors
//! on a page whose every error is said at its field.

mod support;

use propusk_store::Role;
use reqwest::StatusCode;
use support::browser::{assert_no_inline_script, Browser};
use support::{TestApp, STAFF_PASSWORD};

async fn accounts(app: &TestApp) -> Vec<(String, Role)> {
    app.state.store.list_staff().await.unwrap()
}

/// The error message at input `id`, and the summary's link to it.
fn assert_error_at(body: &str, id: &str, text: &str) {
    assert!(
        body.contains(&format!("href=\"#{id}\"")),
        "{id} in the summary: {body}"
    );
    let at = format!("<p class=\"error-message\" id=\"{id}-error\">");
    let (_, rest) = body
        .split_once(&at)
        .unwrap_or_else(|| panic!("a message at {id}: {body}"));
    let message = rest.split("</p>").next().unwrap();
    assert!(message.contains(text), "{id}: {message}");
}

async fn first_run_scenario(app: &TestApp) {
    // A new installation has no account and a one-time link for its first administrator.
    assert!(accounts(app).await.is_empty());
    let link = app.setup_link().expect("a setup link").to_string();
    let path = link
        .strip_prefix(&app.base)
        .expect("on this server")
        .to_string();
    assert!(path.starts_with("/setup/") && path.len() > 40, "{path}");

    let mut b = Browser::new(app);
    let made_up = b.get("/setup/not-the-token").await;
    assert_eq!(made_up.status, StatusCode::NOT_FOUND);
    assert!(made_up.body.contains("Ссылка больше не действует"));

    let page = b.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Первый администратор"));
    assert_no_inline_script(&page.body);

    // Every problem at once, each at its field; nothing stored.
    let bad = b
        .post(
            &path,
            &[
                ("username", "ivan petrov"),
                ("password", "short"),
                ("password_again", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_at(&bad.body, "username", "только буквы, цифры");
    assert_error_at(&bad.body, "password", "не короче 10 знаков");
    assert!(bad.body.contains("value=\"ivan petrov\""), "input kept");
    let mismatch = b
        .post(
            &path,
            &[
                ("username", "chief"),
                ("password", STAFF_PASSWORD),
                ("password_again", "something else"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_at(&mismatch.body, "password_again", "Пароли не совпадают");
    assert!(accounts(app).await.is_empty());

    // A forged form changes nothing.
    let forged = b.client.post(format!("{}{path}", b.base)).form(&[
        ("username", "chief"),
        ("password", STAFF_PASSWORD),
        ("password_again", STAFF_PASSWORD),
    ]);
    assert_eq!(b.send(forged).await.status, StatusCode::FORBIDDEN);
    assert!(accounts(app).await.is_empty());

    // The administrator is made, signed in, and sent to the staff page.
    b.get(&path).await;
    let made = b
        .post(
            &path,
            &[
                ("username", "chief"),
                ("password", STAFF_PASSWORD),
                ("password_again", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(made.location.as_deref(), Some("/health/staff?done=setup"));
    assert_eq!(
        accounts(app).await,
        vec![("chief".to_string(), Role::Admin)]
    );
    let staff = b.get("/health/staff?done=setup").await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(staff.body.contains("Вы первый администратор службы"));
    assert!(staff.body.contains("<td>chief</td><td>Администратор</td>"));
    assert_no_inline_script(&staff.body);

    // The link is dead now, for a GET and for a POST.
    let mut other = Browser::new(app);
    assert_eq!(other.get(&path).await.status, StatusCode::NOT_FOUND);
    let again = other
        .post(
            &path,
            &[
                ("username", "second"),
                ("password", STAFF_PASSWORD),
                ("password_again", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(accounts(app).await.len(), 1);

    // Accounts on the page: every problem at once, at its field, nothing stored.
    let bad = b
        .post("/health/staff", &[("username", ""), ("password", "short")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_at(&bad.body, "username", "Введите имя пользователя.");
    assert_error_at(&bad.body, "role-health", "Выберите роль сотрудника.");
    assert_error_at(&bad.body, "password", "не короче 10 знаков");
    let order: Vec<usize> = ["#username", "#role-health", "#password"]
        .iter()
        .map(|a| bad.body.find(&format!("href=\"{a}\"")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "the form's order");
    let unknown_role = b
        .post(
            "/health/staff",
            &[
                ("username", "ivanova"),
                ("role", "resident"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(unknown_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_at(&unknown_role.body, "role-health", "Выберите роль");
    assert!(
        !unknown_role.body.contains(STAFF_PASSWORD),
        "the password is not sent back"
    );
    assert_eq!(accounts(app).await.len(), 1);

    // An officer and an inspector.
    let added = b
        .post(
            "/health/staff",
            &[
                ("username", "ivanova"),
                ("role", "health"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let confirmed = b.get(added.location.as_deref().unwrap()).await;
    assert!(confirmed.body.contains("Учётная запись «ivanova» создана"));
    assert!(confirmed.body.contains("<td>ivanova</td><td>Врач</td>"));
    let taken = b
        .post(
            "/health/staff",
            &[
                ("username", "ivanova"),
                ("role", "inspector"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_error_at(&taken.body, "username", "уже занято");
    let inspector = b
        .post(
            "/health/staff",
            &[
                ("username", "petrov"),
                ("role", "inspector"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(inspector.status, StatusCode::SEE_OTHER);
    let mut all = accounts(app).await;
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        all,
        vec![
            ("chief".to_string(), Role::Admin),
            ("ivanova".to_string(), Role::Health),
            ("petrov".to_string(), Role::Inspector),
        ]
    );

    // In English too.
    let mut en = Browser::new(app);
    en.lang = Some("en");
    en.get("/health/sign-in").await;
    let signed = en
        .post(
            "/health/sign-in",
            &[("username", "chief"), ("password", STAFF_PASSWORD)],
        )
        .await;
    assert_eq!(
        signed.location.as_deref(),
        Some("/health/staff"),
        "an administrator's home"
    );
    let page = en.get("/health/staff").await;
    assert!(page
        .body
        .contains("<td>ivanova</td><td>Health officer</td>"));
    assert!(page.body.contains("<td>petrov</td><td>Inspector</td>"));

    // The officer signs in with the initial password and reaches the queue, not this page.
    let mut officer = Browser::new(app);
    let sign_in = officer.get("/health/sign-in").await;
    assert!(!sign_in.body.contains("propusk user add") && !sign_in.body.contains("--role"));
    let signed = officer
        .post(
            "/health/sign-in",
            &[("username", "ivanova"), ("password", STAFF_PASSWORD)],
        )
        .await;
    assert_eq!(signed.location.as_deref(), Some("/health/queue"));
    let denied = officer.get("/health/staff").await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER);
    assert_eq!(denied.location.as_deref(), Some("/health/sign-in"));
    let denied = officer
        .post(
            "/health/staff",
            &[
                ("username", "mallory"),
                ("role", "admin"),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER);
    assert_eq!(accounts(app).await.len(), 3);
    // Who made each account is in the audit log, the first by the setup link.
    let audit = app.state.store.audit_tail(100).await.unwrap();
    let made: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "staff.create")
        .collect();
    assert_eq!(made.len(), 3, "{audit:?}");
    assert!(made
        .iter()
        .any(|e| e.actor == "first-run-setup" && e.detail == "admin"));

    // Signing out ends the administrator's session.
    let out = b.post("/health/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/health/staff").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_administrator_then_officers_on_pages() {
    for backend in support::backends() {
        let app = TestApp::spawn(&backend).await;
        first_run_scenario(&app).await;
        // Started again on the same database: staff exist, so no link is made.
        let (backend, url) = (app.backend.clone(), app.database_url.clone());
        app.stop_node().await;
        let again = TestApp::start(backend, url, 1024).await;
        assert!(again.setup_link().is_none());
        again.stop().await;
    }
}

on_every_backend!(
    only_one_first_administrator_at_once,
    first_administrator_race
);
/// Setup links of several nodes used at the same moment (and `propusk user add` meanwhile):
/// exactly one first administrator is made, and audited once.
async fn first_administrator_race(app: &TestApp) {
    let now = app.state.clock.now();
    let attempts = (0..12).map(|i| {
        let store = app.state.store.clone();
        async move {
            let username = format!("first-{i}");
            let account = propusk_store::NewStaff {
                username: &username,
                role: Role::Admin,
                password_hash: "not a real hash",
            };
            if i == 5 {
                // The command line's account, made without the first-run condition.
                let made = store.add_staff(&username, Role::Admin, "not a real hash", now);
                return made.await.unwrap().is_some() as usize * 100;
            }
            match store
                .create_staff(&account, Some("first-run-setup"), true, now)
                .await
                .unwrap()
            {
                propusk_store::StaffCreated::Created(_) => 1,
                propusk_store::StaffCreated::NotFirst => 0,
                other => panic!("{other:?}"),
            }
        }
    });
    let made: usize = futures_util::future::join_all(attempts).await.iter().sum();
    let by_setup = made % 100;
    assert!(made / 100 == 1, "the command line's account is always made");
    assert!(
        by_setup <= 1,
        "{by_setup} first administrators by setup links"
    );
    assert_eq!(accounts(app).await.len(), 1 + by_setup);
    let audit = app.state.store.audit_tail(100).await.unwrap();
    let audited = audit.iter().filter(|e| e.action == "staff.create").count();
    assert_eq!(
        audited, by_setup,
        "each setup account audited with it, once"
    );
}
