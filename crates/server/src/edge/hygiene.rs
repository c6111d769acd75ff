//! Control characters are refused at the edge, wherever they come: in the path (an id), in
//! the query, in a JSON body's strings or a form's fields.
//!
//! NUL is the one that matters most: PostgreSQL refuses it in text (the request failed with
//! 500) while SQLite stores it silently, so the same input did two different things. Here
//! every request with one gets 422 naming the field, before any handler or store sees it,
//! on both backends alike. Line breaks and tabs are let through in bodies (a statement may
//! have paragraphs); the field's own type ([`propusk_core::domain::Line`]) refuses them
//! where one line is expected. Free text is bounded per field by those types as well.

use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use propusk_core::domain::first_control;
use serde_json::Value;

use crate::error::ApiError;

/// Where a control character was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirty {
    pub field: String,
}

impl Dirty {
    pub fn into_error(self) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "control_character",
            format!(
                "Поле «{}» содержит управляющий символ (например, NUL). Уберите его и отправьте снова.",
                self.field
            ),
            format!(
                "Field '{}' contains a control character (such as NUL). Remove it and send again.",
                self.field
            ),
        )
        .with("field", self.field)
    }
}

fn dirty(field: impl Into<String>) -> Dirty {
    Dirty {
        field: field.into(),
    }
}

/// The SMS gateway's callbacks carry a message's raw bytes in the gateway's own charset
/// (UTF-16 text has NUL bytes); their handler decodes them and drops control characters
/// itself, because every message must be answered, whatever it holds.
const RAW_BYTES: &[&str] = &["/api/v1/sms/inbound", "/api/v1/sms/dlr"];

/// Checks a request's path, query and (JSON or form) body.
pub fn check(parts: &Parts, body: &[u8]) -> Result<(), Dirty> {
    let path = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy();
    if first_control(&path, false).is_some() {
        return Err(dirty("path"));
    }
    if RAW_BYTES.contains(&parts.uri.path()) {
        return Ok(());
    }
    if let Some(query) = parts.uri.query() {
        pairs(query.as_bytes(), false)?;
    }
    if body.is_empty() {
        return Ok(());
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json") {
        json(body)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        pairs(body, true)
    } else {
        Ok(())
    }
}

/// Names and values of a query or a form.
fn pairs(encoded: &[u8], multiline: bool) -> Result<(), Dirty> {
    for (name, value) in form_urlencoded::parse(encoded) {
        if first_control(&name, false).is_some() || first_control(&value, multiline).is_some() {
            return Err(dirty(
                name.chars().filter(|c| !c.is_control()).collect::<String>(),
            ));
        }
    }
    Ok(())
}

/// A JSON body: its text can hold a control character only as an escape (`\u0000`, `\b`,
/// `\f` …), a raw DEL or a C1 control, so the bytes are scanned first and the document is
/// parsed (to name the field) only when one is there.
fn json(body: &[u8]) -> Result<(), Dirty> {
    if !maybe_control(body) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        // Not JSON at all: the handler's parser says so with a better message.
        return Ok(());
    };
    match find(&value, &mut String::new()) {
        Some(field) => Err(dirty(field)),
        None => Ok(()),
    }
}

fn maybe_control(body: &[u8]) -> bool {
    body.contains(&0x7F)
        || body.windows(2).any(|w| {
            matches!(w, [b'\\', b'u' | b'b' | b'f'])
                || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
        })
}

/// The path (`home.address`, `errors[2].code`) of the first string holding a control
/// character other than a line break or tab.
fn find(value: &Value, path: &mut String) -> Option<String> {
    match value {
        Value::String(s) => first_control(s, true).map(|_| path.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if first_control(key, false).is_some() {
                return Some(path.clone());
            }
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = find(item, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, content_type: &str) -> Parts {
        axum::http::Request::post(uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn nul_in_a_path_id_or_query() {
        assert_eq!(
            check(&parts("/api/v1/passes/a%00b", ""), b""),
            Err(dirty("path"))
        );
        assert_eq!(
            check(&parts("/lang?set=en&back=/%09x", ""), b""),
            Err(dirty("back"))
        );
        assert!(check(&parts("/api/v1/passes/абв?x=1", ""), b"").is_ok());
    }

    #[test]
    fn json_strings_are_named_by_their_path() {
        let p = parts("/api/v1/me", "application/json");
        let body = br#"{"full_name":"A","home":{"address":"x\u0000y"}}"#;
        assert_eq!(check(&p, body), Err(dirty("home.address")));
        let body = br#"{"list":[{"a":"ok"},{"a":"\b"}]}"#;
        assert_eq!(check(&p, body), Err(dirty("list[1].a")));
        // Line breaks are the fields' own business; other escapes are fine.
        assert!(check(&p, br#"{"statement":"one\ntwo \u00e9 \"q\""}"#).is_ok());
    }

    #[test]
    fn form_fields() {
        let p = parts("/profile", "application/x-www-form-urlencoded");
        assert_eq!(check(&p, b"csrf=x&address=a%00b"), Err(dirty("address")));
        assert!(check(&p, b"csrf=x&address=line%0D%0Anext").is_ok());
    }
}
