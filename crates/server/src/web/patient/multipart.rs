//! Just enough `multipart/form-data` (RFC 7578) for the patient's photo forms, which must
//! work without JavaScript: a browser sends a file input only this way. Parts are named
//! fields; a file part carries a filename. Anything malformed is `None`, never a panic.

use axum::http::{header, HeaderMap};

/// One field of a submitted form.
pub struct Part {
    pub name: String,
    pub data: Vec<u8>,
}

/// The fields of a form.
pub struct Fields(Vec<Part>);

impl Fields {
    /// The first field called `name`, as bytes.
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.data.as_slice())
    }

    /// The first field called `name`, as text (empty when missing or not UTF-8).
    pub fn text(&self, name: &str) -> &str {
        self.bytes(name)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The `name` of a part, from its Content-Disposition header.
fn part_name(headers: &str) -> Option<String> {
    let disposition = headers
        .split("\r\n")
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    disposition
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim() == "name")
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

/// The fields of a request's body, if it is `multipart/form-data`.
pub fn form(headers: &HeaderMap, body: &[u8]) -> Option<Fields> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    parse(content_type, body)
}

/// Parses a body sent with `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Option<Fields> {
    let delimiter = format!("--{}", boundary(content_type)?);
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2)? == b"--" {
            return Some(Fields(parts));
        }
        at = find(body, b"\r\n", at)? + 2;
        let headers_end = find(body, b"\r\n\r\n", at)?;
        let headers = std::str::from_utf8(&body[at..headers_end]).ok()?;
        let data_start = headers_end + 4;
        let mut next = Vec::with_capacity(delimiter.len() + 2);
        next.extend_from_slice(b"\r\n");
        next.extend_from_slice(delimiter);
        let data_end = find(body, &next, data_start)?;
        parts.push(Part {
            name: part_name(headers)?,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + next.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----X1";

    #[test]
    fn fields_and_files() {
        let body = b"------X1\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
------X1\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\
Content-Type: image/jpeg\r\n\r\n\xff\xd8\r\n--x\r\n------X1--\r\n";
        let fields = parse(TYPE, body).expect("parses");
        assert_eq!(fields.text("csrf"), "abc");
        assert_eq!(fields.bytes("photo"), Some(&b"\xff\xd8\r\n--x"[..]));
        assert_eq!(fields.text("missing"), "");
    }

    #[test]
    fn malformed_is_none() {
        assert!(parse("text/plain", b"").is_none());
        assert!(parse(TYPE, b"------X1\r\nContent-Disposition: form-data").is_none());
        assert!(parse(TYPE, b"no delimiter").is_none());
        assert!(parse(TYPE, b"------X1\r\n\r\n\r\nx\r\n------X1--").is_none());
    }
}
