//! Staff accounts on pages: the first administrator of a new installation (through the
//! one-time link of [`crate::first_run`]), and administrators creating accounts for health
//! officers, inspectors and other administrators at `/health/staff`. The same store function
//! as `propusk user add`, the same rules for usernames and passwords.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use propusk_store::{NewStaff, Role, StaffCreated};
use serde::Deserialize;

use super::page::{forged, message, render, see_other, with_cookie, Errors};
use super::{COOKIE_PATH, SESSION_COOKIE};
use crate::app::sign_in;
use crate::auth::{
    hash_password, username_ok, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, STAFF_SESSION_SECS,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::form::FieldErrors;
use crate::web::session::cookie;
use crate::web::{Texts, WebCtx};

/// A signed-in administrator; anyone else is sent to the sign-in form.
pub struct Admin {
    pub id: String,
}

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let to_sign_in = || Redirect::to("/health/sign-in").into_response();
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_sign_in)?;
        match state.store.session(token, state.clock.now()).await {
            Ok(Some(s)) if s.role == Role::Admin => Ok(Self { id: s.subject_id }),
            Ok(_) => Err(to_sign_in()),
            Err(e) => Err(ApiError::internal(e).into_response()),
        }
    }
}

/// The roles an administrator can give, in the order the form offers them.
const ROLES: [Role; 3] = [Role::Health, Role::Inspector, Role::Admin];

fn role_text(role: Role, t: Texts) -> String {
    match role {
        Role::Health => t.t("staff-role-health"),
        Role::Inspector => t.t("staff-role-inspector"),
        Role::Admin | Role::Resident => t.t("staff-role-admin"),
    }
}

/// What is wrong with a new account's username and password (and its repetition, when the
/// form asks for one), each at its input.
fn check_account(username: &str, password: &str, again: Option<&str>, t: Texts) -> Errors {
    let mut errors = Errors::new();
    if username.is_empty() {
        errors.push(("username".into(), t.t("staff-username-missing")));
    } else if !username_ok(username) {
        errors.push(("username".into(), t.t("staff-username-invalid")));
    }
    let len = password.chars().count();
    if len < MIN_PASSWORD_CHARS {
        errors.push(("password".into(), t.t("staff-password-short")));
    } else if len > MAX_PASSWORD_CHARS {
        errors.push(("password".into(), t.t("staff-password-long")));
    } else if again.is_some_and(|again| again != password) {
        errors.push(("password_again".into(), t.t("staff-password-mismatch")));
    }
    errors
}

/// Stores an account with its audit entry, in one step (`by`: an administrator's id, or the
/// first-run setup; `only_first`: only while there is no staff account).
async fn add(
    state: &AppState,
    by: &str,
    username: &str,
    role: Role,
    password: &str,
    only_first: bool,
) -> Result<StaffCreated, Response> {
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(e).into_response())?
        .map_err(|e| ApiError::internal(e).into_response())?;
    let account = NewStaff {
        username,
        role,
        password_hash: &hash,
    };
    state
        .store
        .create_staff(&account, Some(by), only_first, state.clock.now())
        .await
        .map_err(|e| ApiError::internal(e).into_response())
}

#[derive(Template)]
#[template(path = "staff/setup.html")]
struct SetupPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    username: String,
    errors: Errors,
}

fn setup_page(
    ctx: WebCtx,
    status: StatusCode,
    token: &str,
    username: String,
    errors: Errors,
) -> Response {
    let html = SetupPage {
        t: Texts::new(ctx.lang),
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: format!("/setup/{token}"),
        username,
        errors,
    }
    .render();
    render(ctx, status, html)
}

/// The link is used, from an earlier start, or made up.
fn dead_link(ctx: WebCtx) -> Response {
    let t = Texts::new(ctx.lang);
    message(
        ctx,
        StatusCode::NOT_FOUND,
        t.t("staff-setup-dead-title"),
        t.t("staff-setup-dead-text"),
        "/health/sign-in",
    )
}

/// Whether the setup link `token` still works: it is the live one and no account exists.
async fn link_works(state: &AppState, token: &str) -> Result<bool, Response> {
    if !state.first_run.is_live(token) {
        return Ok(false);
    }
    let has_staff = state
        .store
        .has_staff()
        .await
        .map_err(|e| ApiError::internal(e).into_response())?;
    Ok(!has_staff)
}

pub async fn setup_form(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(token): Path<String>,
) -> Response {
    match link_works(&state, &token).await {
        Ok(true) => setup_page(ctx, StatusCode::OK, &token, String::new(), vec![]),
        Ok(false) => dead_link(ctx),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    match link_works(&state, &token).await {
        Ok(true) => {}
        Ok(false) => return dead_link(ctx),
        Err(response) => return response,
    }
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, &format!("/setup/{token}"));
    }
    let t = Texts::new(ctx.lang);
    let username = form.username.trim().to_string();
    let errors = check_account(&username, &form.password, Some(&form.password_again), t);
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return setup_page(ctx, status, &token, username, errors);
    }
    // One request uses the link; a second at the same moment finds it gone.
    if !state.first_run.take(&token) {
        return dead_link(ctx);
    }
    let created = add(
        &state,
        "first-run-setup",
        &username,
        Role::Admin,
        &form.password,
        true,
    )
    .await;
    let user = match created {
        Ok(StaffCreated::Created(user)) => user,
        // A staff account was made another way meanwhile (another node's link, `propusk
        // user add`): the installation is set up, and this link has no more use.
        Ok(StaffCreated::NotFirst | StaffCreated::UsernameTaken) => return dead_link(ctx),
        Err(response) => {
            state.first_run.restore(&token);
            return response;
        }
    };
    tracing::info!(username = %user.username, "first administrator created on the setup page");
    let session =
        match sign_in::open_session(&state, &user.id, Role::Admin, STAFF_SESSION_SECS).await {
            Ok(session) => session,
            Err(e) => return ApiError::from(e).into_response(),
        };
    let response = see_other(ctx, "/health/staff?done=setup");
    with_cookie(
        response,
        SESSION_COOKIE,
        &session.token,
        COOKIE_PATH,
        STAFF_SESSION_SECS,
        state.behind_tls,
    )
}

/// One account in the list.
struct AccountRow {
    username: String,
    role: String,
}

/// One role to choose.
struct RoleOption {
    value: &'static str,
    label: String,
}

#[derive(Template)]
#[template(path = "staff/list.html")]
struct StaffPage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    /// The confirmation to show at the top, if a step just succeeded.
    done: Option<String>,
    accounts: Vec<AccountRow>,
    roles: Vec<RoleOption>,
    form: AddForm,
    errors: Errors,
}

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn staff_page(
    state: &AppState,
    ctx: WebCtx,
    status: StatusCode,
    done: Option<String>,
    form: AddForm,
    errors: Errors,
) -> Response {
    let t = Texts::new(ctx.lang);
    let accounts = match state.store.list_staff().await {
        Ok(all) => all
            .into_iter()
            .map(|(username, role)| AccountRow {
                username,
                role: role_text(role, t),
            })
            .collect(),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let roles = ROLES
        .iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: role_text(*r, t),
        })
        .collect();
    let html = StaffPage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: false,
        path: "/health/staff".into(),
        done,
        accounts,
        roles,
        form,
        errors,
    }
    .render();
    render(ctx, status, html)
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    added: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: WebCtx,
    _admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let t = Texts::new(ctx.lang);
    let done = match (done.done.as_deref(), done.added) {
        (Some("setup"), _) => Some(t.t("staff-setup-done")),
        (_, Some(username)) if username_ok(&username) => {
            Some(t.t1("staff-added", "username", &username))
        }
        _ => None,
    };
    let form = AddForm {
        role: String::new(),
        ..Default::default()
    };
    staff_page(&state, ctx, StatusCode::OK, done, form, vec![]).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: WebCtx,
    admin: Admin,
    Form(mut form): Form<AddForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forged(ctx, "/health/staff");
    }
    let t = Texts::new(ctx.lang);
    form.username = form.username.trim().to_string();
    let mut errors = check_account(&form.username, &form.password, None, t);
    let role = ROLES.into_iter().find(|r| r.as_str() == form.role);
    if role.is_none() {
        // In the form's order: after the username, before the password.
        let at = usize::from(errors.first().is_some_and(|(id, _)| id == "username"));
        errors.insert(at, ("role-health".into(), t.t("staff-role-missing")));
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        form.password.clear();
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return staff_page(&state, ctx, status, None, form, errors).await;
    };
    match add(
        &state,
        admin.id.as_str(),
        &form.username,
        role,
        &form.password,
        false,
    )
    .await
    {
        Ok(StaffCreated::Created(user)) => {
            tracing::info!(by = %admin.id, username = %user.username, role = role.as_str(), "staff account created on the staff page");
            let name: String = form_urlencoded::byte_serialize(user.username.as_bytes()).collect();
            let to = format!("/health/staff?added={name}");
            see_other(ctx, &to)
        }
        Ok(StaffCreated::UsernameTaken | StaffCreated::NotFirst) => {
            form.password.clear();
            let errors = vec![("username".into(), t.t("staff-username-taken"))];
            staff_page(&state, ctx, StatusCode::CONFLICT, None, form, errors).await
        }
        Err(response) => response,
    }
}
