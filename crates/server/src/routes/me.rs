//! The resident's own profile: who they are and where they live.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint};
use propusk_core::Localized;
use propusk_store::{Profile, Resident as ResidentRecord};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Body;
use crate::auth::Resident;
use crate::error::{ApiError, ApiResult};
use crate::lang::{AskedLang, Lang, Pick};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(show).put(update))
}

pub fn me_json(r: &ResidentRecord) -> Value {
    json!({
        "id": r.id,
        "phone": r.phone.as_str(),
        "lang": r.lang,
        "profile": r.profile.as_ref().map(|p| json!({
            "full_name": p.full_name.as_str(),
            "document": {"type": p.document.kind().as_str(), "number": p.document.number()},
            "home": {"address": p.home_address, "lat": p.home.lat(), "lon": p.home.lon()},
        })),
    })
}

async fn show(State(state): State<AppState>, Resident(caller): Resident) -> ApiResult<Json<Value>> {
    let resident = state
        .store
        .resident(&caller.subject_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(me_json(&resident)))
}

/// The profile as sent: every part optional here so that each missing or wrong
/// part is reported by name, all at once.
#[derive(Deserialize, Default)]
pub struct ProfileInput {
    pub full_name: Option<String>,
    pub document: Option<DocumentInput>,
    pub home: Option<HomeInput>,
}

#[derive(Deserialize, Default)]
pub struct DocumentInput {
    #[serde(rename = "type", alias = "kind")]
    pub kind: Option<String>,
    pub number: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct HomeInput {
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// One wrong field of a form.
pub struct FieldProblem {
    pub field: &'static str,
    pub fault: Fault,
    pub detail: Localized,
}

/// What is wrong with a field: the code an API client tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Not given.
    Missing,
    /// Given but not valid.
    Invalid,
}

impl Fault {
    pub fn code(self) -> &'static str {
        match self {
            Fault::Missing => "missing_field",
            Fault::Invalid => "invalid_field",
        }
    }
}

fn missing(field: &'static str, ru: &str, en: &str) -> FieldProblem {
    FieldProblem {
        field,
        fault: Fault::Missing,
        detail: Localized::new(format!("Укажите {ru}."), format!("Please give {en}.")),
    }
}

/// Parses a profile, naming every problem.
pub fn parse_profile(input: &ProfileInput) -> Result<Profile, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let name = match input
        .full_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => {
            problems.push(missing(
                "full_name",
                "фамилию, имя и отчество",
                "your full name",
            ));
            None
        }
        Some(raw) => FullName::parse(raw)
            .map_err(|e| {
                problems.push(FieldProblem {
                    fault: Fault::Invalid,
                    field: "full_name",
                    detail: e.localized(),
                })
            })
            .ok(),
    };
    let doc = input.document.as_ref();
    let kind = match doc.and_then(|d| d.kind.as_deref()) {
        None => {
            problems.push(missing("document.type", "тип документа", "the document type"));
            None
        }
        Some(k) => k
            .parse::<DocumentKind>()
            .map_err(|_| {
                problems.push(FieldProblem {
                    fault: Fault::Invalid,
                    field: "document.type",
                    detail: Localized::new(
                        format!("Неизвестный тип документа «{k}»: допустимы passport_ru, foreign_passport_ru, birth_certificate_ru, foreign_document."),
                        format!("Unknown document type '{k}': expected passport_ru, foreign_passport_ru, birth_certificate_ru or foreign_document."),
                    ),
                })
            })
            .ok(),
    };
    let document = match (
        kind,
        doc.and_then(|d| d.number.as_deref())
            .filter(|n| !n.trim().is_empty()),
    ) {
        (_, None) => {
            problems.push(missing(
                "document.number",
                "номер документа",
                "the document number",
            ));
            None
        }
        (None, Some(_)) => None,
        (Some(kind), Some(number)) => Document::parse(kind, number)
            .map_err(|e| {
                problems.push(FieldProblem {
                    fault: Fault::Invalid,
                    field: "document.number",
                    detail: e.localized(),
                })
            })
            .ok(),
    };
    let home = input.home.as_ref();
    let address = home
        .and_then(|h| h.address.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if address.is_none() {
        problems.push(missing(
            "home.address",
            "адрес проживания",
            "your home address",
        ));
    } else if let Some(Err(e)) = address.map(|a| propusk_core::domain::Line::required(a, 300)) {
        problems.push(FieldProblem {
            fault: Fault::Invalid,
            field: "home.address",
            detail: e.localized(),
        });
    }
    let point = match (home.and_then(|h| h.lat), home.and_then(|h| h.lon)) {
        (Some(lat), Some(lon)) => GeoPoint::new(lat, lon)
            .map_err(|e| {
                problems.push(FieldProblem {
                    fault: Fault::Invalid,
                    field: "home",
                    detail: e.localized(),
                })
            })
            .ok(),
        _ => {
            problems.push(missing(
                "home.lat",
                "координаты дома (широту и долготу)",
                "your home's coordinates (lat and lon)",
            ));
            None
        }
    };
    match (name, document, address, point) {
        (Some(full_name), Some(document), Some(address), Some(home)) if problems.is_empty() => {
            Ok(Profile {
                full_name,
                document,
                home_address: address.to_string(),
                home,
            })
        }
        _ => Err(problems),
    }
}

pub fn profile_error(problems: Vec<FieldProblem>, lang: Lang) -> ApiError {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| json!({"field": p.field, "code": p.fault.code(), "detail": p.detail.get(lang)}))
        .collect();
    let summary = |lang| {
        problems
            .iter()
            .map(|p| p.detail.get(lang))
            .collect::<Vec<_>>()
            .join(" ")
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_profile",
        format!(
            "Профиль заполнен не полностью или с ошибками. {}",
            summary(Lang::Ru)
        ),
        format!(
            "The profile is incomplete or has errors. {}",
            summary(Lang::En)
        ),
    )
    .with("errors", errors)
    .lang(lang)
}

async fn update(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    Resident(caller): Resident,
    Body(input): Body<ProfileInput>,
) -> ApiResult<Json<Value>> {
    let profile = parse_profile(&input).map_err(|p| profile_error(p, lang))?;
    state
        .store
        .set_profile(&caller.subject_id, &profile, state.clock.now())
        .await?;
    let resident = state
        .store
        .resident(&caller.subject_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(me_json(&resident)))
}
