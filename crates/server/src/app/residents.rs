//! A resident's profile: who they are (name and identity document) and where they live.
//! Issuance needs it; the pass token carries only the initials and the document's last
//! digits.

use propusk_core::domain::{Document, DocumentKind, FullName, GeoPoint};
use propusk_core::Localized;
use propusk_store::{Profile, Resident, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The profile as sent: every part optional here so that each missing or wrong
/// part is reported by name, all at once. The document says every part is required,
/// as it is for the profile to be saved.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = Profile, example = json!({
    "full_name": "Иванов Иван Петрович",
    "document": {"type": "passport_ru", "number": "4510 123456"},
    "home": {"address": "Москва, ул. Тверская, 1, кв. 5", "lat": 55.7575, "lon": 37.6136}
}))]
pub struct ProfileInput {
    #[schema(required = true, value_type = String)]
    pub full_name: Option<String>,
    #[schema(required = true, value_type = DocumentInput)]
    pub document: Option<DocumentInput>,
    #[schema(required = true, value_type = HomeInput)]
    pub home: Option<HomeInput>,
}

/// An identity document; the number is validated per kind.
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = Document)]
pub struct DocumentInput {
    #[serde(rename = "type", alias = "kind")]
    #[schema(required = true, value_type = DocumentKind)]
    pub kind: Option<String>,
    #[schema(required = true, value_type = String, examples("4510 123456"))]
    pub number: Option<String>,
}

/// Home address with its coordinates (WGS 84).
#[derive(Deserialize, Default, ToSchema)]
#[schema(as = Home)]
pub struct HomeInput {
    #[schema(required = true, value_type = String)]
    pub address: Option<String>,
    #[schema(required = true, value_type = f64, minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[schema(required = true, value_type = f64, minimum = -180, maximum = 180)]
    pub lon: Option<f64>,
}

/// One wrong field of a form.
#[derive(Debug, Clone)]
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
            problems.push(missing(
                "document.type",
                "тип документа",
                "the document type",
            ));
            None
        }
        Some(k) => k
            .parse::<DocumentKind>()
            .map_err(|e| {
                problems.push(FieldProblem {
                    fault: Fault::Invalid,
                    field: "document.type",
                    detail: e.localized(),
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

#[derive(Debug, thiserror::Error)]
pub enum ProfileFailure {
    /// Parts missing or wrong, each with its field.
    #[error("{} invalid fields", .0.len())]
    Invalid(Vec<FieldProblem>),
    #[error("no such resident")]
    UnknownResident,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a profile and, when every part is right, keeps it for `resident_id`; returns the
/// resident as now stored.
pub async fn save_profile(
    state: &AppState,
    resident_id: &str,
    input: &ProfileInput,
) -> Result<Resident, ProfileFailure> {
    let profile = parse_profile(input).map_err(ProfileFailure::Invalid)?;
    state
        .store
        .set_profile(resident_id, &profile, state.clock.now())
        .await?;
    state
        .store
        .resident(resident_id)
        .await?
        .ok_or(ProfileFailure::UnknownResident)
}
