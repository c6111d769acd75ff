//! Answers are compressed for clients that accept it, once, after every layer that reads
//! or rewrites them, and never for clients that do not.

mod support;

use std::io::Read;

use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, VARY};
use reqwest::StatusCode;
use support::TestApp;

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body");
    text
}

async fn get(app: &TestApp, path: &str, accept: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(format!("{}{path}", app.base))
        .header(ACCEPT, accept);
    if let Some(encoding) = encoding {
        request = request.header(ACCEPT_ENCODING, encoding);
    }
    request.send().await.unwrap()
}

on_every_backend!(answers_are_compressed_as_accepted, compression_scenario);
async fn compression_scenario(app: &TestApp) {
    // A page, gzip.
    let page = get(app, "/", "text/html", Some("gzip")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CONTENT_ENCODING], "gzip");
    assert!(page.headers()[VARY]
        .to_str()
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert!(gunzip(&page.bytes().await.unwrap()).contains("Пропуск на выход из дома"));

    // The API document, br when preferred, and smaller than as it is.
    let plain = get(app, "/api/v1/openapi.json", "application/json", None).await;
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    let plain = plain.bytes().await.unwrap();
    serde_json::from_slice::<serde_json::Value>(&plain).expect("plain JSON");
    let br = get(
        app,
        "/api/v1/openapi.json",
        "application/json",
        Some("br;q=1, gzip;q=0.5"),
    )
    .await;
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    assert!(br.bytes().await.unwrap().len() * 4 < plain.len());

    // A problem is rewritten (or not) before it is compressed: it arrives whole.
    let missing = get(
        app,
        "/api/v1/no-such-thing",
        "application/json",
        Some("gzip"),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[CONTENT_ENCODING], "gzip");
    let problem: serde_json::Value =
        serde_json::from_str(&gunzip(&missing.bytes().await.unwrap())).unwrap();
    assert_eq!(problem["code"], "not_found");
    let missing_page = get(app, "/no-such-page", "text/html", Some("gzip")).await;
    assert_eq!(missing_page.status(), StatusCode::NOT_FOUND);
    assert!(gunzip(&missing_page.bytes().await.unwrap()).contains("<html"));

    // The revocation list compresses itself: never twice.
    let list = get(app, "/api/v1/revocations", "application/json", Some("gzip")).await;
    assert_eq!(list.status(), StatusCode::OK);
    let encodings = list.headers().get_all(CONTENT_ENCODING).iter().count();
    assert!(encodings <= 1, "{encodings} content encodings");
    let body = list.bytes().await.unwrap();
    let text = match encodings {
        1 => gunzip(&body),
        _ => String::from_utf8(body.to_vec()).unwrap(),
    };
    let page: serde_json::Value = serde_json::from_str(&text).expect("one layer of gzip");
    assert!(page["revoked"].is_array());
}
