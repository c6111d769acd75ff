//! The resident's profile: name, identity document, home.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{forbidden, page, resident, see_other};
use crate::app::residents::{self, ProfileFailure};
use crate::error::ApiError;
use crate::lang::Pick;
use crate::state::AppState;
use crate::web::form::{Errors, FieldErrors};
use crate::web::{Texts, WebCtx};

#[derive(Deserialize, Default, Clone)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    doc_type: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    t: Texts,
    csrf: String,
    signed_in: bool,
    path: String,
    form: ProfileForm,
    doc_kinds: Vec<(String, String)>,
    errors: Errors,
}

fn doc_kinds(t: Texts) -> Vec<(String, String)> {
    [
        "passport_ru",
        "foreign_passport_ru",
        "birth_certificate_ru",
        "foreign_document",
    ]
    .iter()
    .map(|k| (k.to_string(), t.t(&format!("doc-{k}"))))
    .collect()
}

fn profile_page(ctx: WebCtx, status: StatusCode, form: ProfileForm, errors: Errors) -> Response {
    let t = Texts::new(ctx.lang);
    let html = ProfilePage {
        t,
        csrf: ctx.csrf.clone(),
        signed_in: true,
        path: "/profile".into(),
        form,
        doc_kinds: doc_kinds(t),
        errors,
    }
    .render();
    page(ctx, status, html)
}

pub async fn profile_form(State(state): State<AppState>, ctx: WebCtx) -> Response {
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let form = match &resident.profile {
        Some(p) => ProfileForm {
            full_name: p.full_name.as_str().into(),
            doc_type: p.document.kind().as_str().into(),
            doc_number: p.document.number().into(),
            address: p.home_address.clone(),
            lat: p.home.lat().to_string(),
            lon: p.home.lon().to_string(),
            ..Default::default()
        },
        None => ProfileForm {
            doc_type: "passport_ru".into(),
            ..Default::default()
        },
    };
    profile_page(ctx, StatusCode::OK, form, vec![])
}

/// Field ids of the API's profile errors, as the page's inputs are named.
fn profile_field_id(field: &str) -> &'static str {
    match field {
        "full_name" => "full_name",
        "document.type" => "doc_type",
        "document.number" => "doc_number",
        "home.address" => "address",
        _ => "lat",
    }
}

pub async fn profile_submit(
    State(state): State<AppState>,
    ctx: WebCtx,
    Form(form): Form<ProfileForm>,
) -> Response {
    if !ctx.csrf_ok(&form.csrf) {
        return forbidden(ctx);
    }
    let resident = match resident(&state, &ctx).await {
        Ok(r) => r,
        Err(redirect) => return redirect,
    };
    let number = |s: &str| s.trim().replace(',', ".").parse::<f64>().ok();
    let input = residents::ProfileInput {
        full_name: Some(form.full_name.clone()),
        document: Some(residents::DocumentInput {
            kind: Some(form.doc_type.clone()),
            number: Some(form.doc_number.clone()),
        }),
        home: Some(residents::HomeInput {
            address: Some(form.address.clone()),
            lat: number(&form.lat),
            lon: number(&form.lon),
        }),
    };
    match residents::save_profile(&state, &resident.id, &input).await {
        Ok(_) => see_other(ctx, "/passes"),
        Err(ProfileFailure::Invalid(problems)) => {
            let lang = ctx.lang;
            let errors = problems
                .iter()
                .map(|p| {
                    (
                        profile_field_id(p.field).to_string(),
                        p.detail.get(lang).to_string(),
                    )
                })
                .collect();
            profile_page(ctx, StatusCode::UNPROCESSABLE_ENTITY, form, errors)
        }
        Err(ProfileFailure::UnknownResident) => see_other(ctx, "/sign-in"),
        Err(ProfileFailure::Store(e)) => ApiError::from(e).into_response(),
    }
}
