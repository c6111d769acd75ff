//! One error type for the HTTP edge, rendered as `application/problem+json`
//! (RFC 9457) with a stable machine code and a human `detail` in the language the request
//! was served in (chosen once, by [`crate::lang::choose`]). Internal errors are logged and
//! shown as a generic message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use propusk_core::Localized;
use serde_json::{Map, Value};

use crate::lang::Pick;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// Shown in the request's language (see [`crate::lang::current`]).
    pub detail: Localized,
    /// Extra members (field, next_possible_at, errors …).
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        ru: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Self::localized(status, code, Localized::new(ru, en))
    }

    pub fn localized(status: StatusCode, code: &'static str, detail: Localized) -> Self {
        Self {
            status,
            code,
            detail,
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self.with("retry_after_s", secs)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Нужно войти: передайте токен в заголовке Authorization: Bearer …",
            "Sign-in required: send your token as Authorization: Bearer …",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "У вашей роли нет доступа к этому действию.",
            "Your role may not do this.",
        )
    }

    pub fn bad_request(detail: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("Запрос не разобран: {detail}"),
            format!("The request could not be read: {detail}"),
        )
    }

    pub fn not_found(code: &'static str, what_ru: &str, what_en: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            code,
            format!("{what_ru} не найден."),
            format!("{what_en} not found."),
        )
    }

    /// The database is out of reach or out of room: nothing was done; retry shortly.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Хранилище данных временно недоступно; ничего не изменено. Повторите через несколько секунд.",
            "The data store is unavailable for a moment; nothing was changed. Retry in a few seconds.",
        )
        .retry_after(5)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Внутренняя ошибка. Попробуйте ещё раз; если повторится — сообщите в поддержку.",
            "Internal error. Please try again; if it persists, contact support.",
        )
    }

    /// The [`Problem`] document, with the members only some errors carry (`extra`).
    pub fn body(&self) -> Value {
        let problem = Problem {
            kind: format!("urn:propusk:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            detail: self.detail.get(crate::lang::current()).to_string(),
            code: self.code.to_string(),
            field: None,
            next_possible_at: None,
            retry_after_s: None,
            attempts_left: None,
            errors: None,
        };
        let mut body = serde_json::to_value(problem).expect("a problem of plain text serializes");
        if let Value::Object(map) = &mut body {
            map.extend(self.extra.clone());
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body().to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<propusk_store::StoreError> for ApiError {
    fn from(e: propusk_store::StoreError) -> Self {
        match e {
            propusk_store::StoreError::Unavailable(why) => {
                tracing::warn!(%why, "database unavailable");
                Self::unavailable()
            }
            e => Self::internal(e),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The HTTP status of a refused sign-in code, for the API and the pages alike.
impl crate::app::sign_in::CodeRefusal {
    pub fn status(&self) -> StatusCode {
        use crate::app::sign_in::CodeLimit;
        match self.limit {
            CodeLimit::Capacity => StatusCode::SERVICE_UNAVAILABLE,
            CodeLimit::Phone | CodeLimit::Client => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// The HTTP status of a refused staff sign-in, for the API and the officers' pages alike.
impl crate::app::sign_in::StaffRefusal {
    pub fn status(&self) -> StatusCode {
        use crate::app::sign_in::StaffRefusalKind;
        match self.kind {
            StaffRefusalKind::WrongCredentials => StatusCode::UNAUTHORIZED,
            StaffRefusalKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
            StaffRefusalKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

// `ApiError::body` writes this; the optional members come from the error's `extra`.
/// RFC 9457 problem details. `code` is the stable
/// machine code to branch on; `detail` is human text in the caller's language (Russian by
/// default, English with `Accept-Language: en`) saying what was wrong and what is
/// expected. Optional members appear only where they apply.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:propusk:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(
        format = "uri",
        pattern = "^urn:propusk:problem:[a-z0-9_]+$",
        examples("urn:propusk:problem:quota_exceeded")
    )]
    pub kind: String,
    /// The HTTP reason phrase of `status`.
    #[schema(examples("Unprocessable Entity"))]
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// Human explanation, localized.
    pub detail: String,
    /// Stable snake_case machine code (also the tail of `type`).
    #[schema(pattern = "^[a-z0-9_]+$", examples("quota_exceeded"))]
    pub code: String,
    /// The request member at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(examples("employer_inn"))]
    pub field: Option<String>,
    /// The earliest moment the refused request could succeed, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub next_possible_at: Option<String>,
    /// Seconds to wait before retrying; same value as the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// Wrong one-time-code attempts left before the code is burnt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// Every error found, when there are several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemItem>>,
}

/// One error of several: an invalid request member, or a position in an uploaded file.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ProblemItem {
    Field(FieldProblem),
    Source(SourceProblem),
}

/// One invalid request member.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub struct FieldProblem {
    /// Path of the member, dotted (e.g. `document.number`).
    #[schema(examples("document.number"))]
    pub field: String,
    #[schema(pattern = "^[a-z0-9_]+$", examples("invalid_field"))]
    pub code: String,
    pub detail: String,
}

/// One error in an uploaded regime file, with its position (1-based).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = SourceError)]
pub struct SourceProblem {
    #[schema(minimum = 1)]
    pub line: usize,
    #[schema(minimum = 1)]
    pub column: usize,
    /// What is wrong and what is expected.
    pub detail: String,
}
