//! Every error answers in its caller's format: `application/problem+json` for the API and
//! for programs, an HTML page for a browser. Handlers already answer so; this middleware
//! catches what they cannot — the framework's own rejections (a malformed path, a
//! duplicate form field, an unsupported content type are plain text), the API's problems
//! met by a browser (a mistyped address, a full server), and a missing static file — and
//! rewrites them, keeping the status and any Retry-After.

use askama::Template;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::Value;

use super::health::page::MessagePage;
use super::Texts;
use crate::error::ApiError;
use crate::lang::Lang;

/// Whether the request came from a browser navigating to a page (which is shown HTML)
/// rather than from the API or a program (which are given problem+json).
fn wants_html(path: &str, headers: &HeaderMap) -> bool {
    let api = path.starts_with("/api/") || path.starts_with("/.well-known/");
    let accepts_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    !api && accepts_html
}

fn content_type(response: &Response) -> &str {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The largest error body read back to be rewritten (problem documents are small).
const MAX_PROBLEM: usize = 64 * 1024;

pub async fn uniform(request: Request, next: Next) -> Response {
    let html = wants_html(request.uri().path(), request.headers());
    let lang = crate::lang::current();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let kind = content_type(&response);
    let is_problem = kind.starts_with("application/problem+json");
    let is_html = kind.starts_with("text/html");
    match (html, is_problem, is_html) {
        // A page's own error page, or a problem for a program: as it is.
        (_, _, true) | (false, true, _) => response,
        (true, true, _) => {
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let detail = problem_detail(response).await;
            page(status, lang, detail, retry_after)
        }
        (true, false, _) => {
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            page(status, lang, None, retry_after)
        }
        (false, false, _) => {
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let mut problem = generic(status).into_response();
            if let Some(v) = retry_after {
                problem.headers_mut().insert(header::RETRY_AFTER, v);
            }
            problem
        }
    }
}

/// The `detail` of a problem document.
async fn problem_detail(response: Response) -> Option<String> {
    let body = http_body_util::Limited::new(response.into_body(), MAX_PROBLEM)
        .collect()
        .await
        .ok()?
        .to_bytes();
    let value: Value = serde_json::from_slice(&body).ok()?;
    value["detail"].as_str().map(str::to_string)
}

/// A problem for a status that the framework answered in plain text.
fn generic(status: StatusCode) -> ApiError {
    let (code, ru, en) = match status.as_u16() {
        400 => (
            "bad_request",
            "Запрос не разобран: проверьте адрес и параметры.",
            "The request could not be read: check the address and its parameters.",
        ),
        404 => ("not_found", "Такого адреса нет.", "No such address."),
        405 => (
            "method_not_allowed",
            "Этот адрес не принимает такой метод запроса.",
            "This address does not take this request method.",
        ),
        413 => (
            "body_too_large",
            "Запрос слишком большой.",
            "The request is too large.",
        ),
        415 => (
            "unsupported_media_type",
            "Тип содержимого не поддерживается: отправьте application/json.",
            "Unsupported content type: send application/json.",
        ),
        422 => (
            "unprocessable",
            "Запрос разобран, но в нём ошибка: проверьте поля и их значения.",
            "The request was read but is wrong: check its fields and their values.",
        ),
        s if s >= 500 => {
            tracing::error!(status = s, "a plain-text server error reached the edge");
            (
                "internal",
                "Внутренняя ошибка. Попробуйте ещё раз; если повторится — сообщите в поддержку.",
                "Internal error. Please try again; if it persists, contact support.",
            )
        }
        _ => (
            "request_refused",
            "Запрос не выполнен.",
            "The request was not carried out.",
        ),
    };
    ApiError::new(status, code, ru, en)
}

/// An HTML error page: a title for the status, the problem's detail if there is one.
fn page(
    status: StatusCode,
    lang: Lang,
    detail: Option<String>,
    retry_after: Option<HeaderValue>,
) -> Response {
    let t = Texts::new(lang);
    let id = match status.as_u16() {
        404 => "not-found-title",
        s @ (400 | 403 | 405 | 408 | 413 | 415 | 422 | 429 | 503) => {
            return render(status, t, &format!("error-{s}-title"), detail, retry_after)
        }
        s if s >= 500 => "error-500-title",
        _ => "error-title",
    };
    render(status, t, id, detail, retry_after)
}

fn render(
    status: StatusCode,
    t: Texts,
    title_id: &str,
    detail: Option<String>,
    retry_after: Option<HeaderValue>,
) -> Response {
    let text = detail.unwrap_or_else(|| t.t(&title_id.replace("-title", "-text")));
    let html = MessagePage {
        t,
        csrf: String::new(),
        signed_in: false,
        path: "/".into(),
        title: t.t(title_id),
        text,
        back: "/".into(),
    }
    .render();
    let mut response = match html {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    if let Some(v) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_told_apart_from_programs() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml".parse().unwrap(),
        );
        assert!(wants_html("/passes/x", &h));
        assert!(!wants_html("/api/v1/passes/x", &h));
        assert!(!wants_html("/passes/x", &HeaderMap::new()));
    }

    #[test]
    fn every_status_page_has_its_texts() {
        for s in [400, 403, 404, 405, 408, 413, 415, 422, 429, 503, 500] {
            let id = match s {
                404 => "not-found".to_string(),
                _ => format!("error-{s}"),
            };
            for lang in [Lang::Ru, Lang::En] {
                let t = Texts::new(lang);
                for part in ["title", "text"] {
                    let id = format!("{id}-{part}");
                    assert_ne!(t.t(&id), id, "{id} in {}", lang.code());
                }
            }
            let status = StatusCode::from_u16(s).unwrap();
            let r = page(status, Lang::En, None, None);
            assert_eq!(r.status(), status);
            assert_eq!(content_type(&r), "text/html; charset=utf-8");
        }
    }
}
