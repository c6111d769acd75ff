//! What the monitoring scenarios share: a home, reports around it, opening a case and
//! enrolling its phone through the API, reading a case back.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::TestApp;

pub const HOME: (f64, f64) = (55.7575, 37.6130);

/// A report `north_m` metres north of home (and `east_m` east) with this accuracy.
pub fn fix(at: Timestamp, north_m: f64, east_m: f64, accuracy_m: f64) -> Value {
    let lat = HOME.0 + north_m / 111_320.0;
    let lon = HOME.1 + east_m / (111_320.0 * HOME.0.to_radians().cos());
    json!({"ts": at.to_string(), "lat": lat, "lon": lon, "accuracy_m": accuracy_m})
}

/// A case opened by `officer` for `patient_phone`, starting now for two weeks.
pub async fn open_case(app: &TestApp, officer: &str, patient_phone: &str) -> (String, String) {
    open_case_with(app, officer, patient_phone, json!({})).await
}

/// The same, with some fields of the request replaced by those of `extra`.
pub async fn open_case_with(
    app: &TestApp,
    officer: &str,
    patient_phone: &str,
    extra: Value,
) -> (String, String) {
    let r = app
        .post(
            "/api/v1/cases",
            Some(officer),
            case_request(app, patient_phone, extra),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_string(),
        body["enrollment_code"].as_str().unwrap().to_string(),
    )
}

pub fn case_request(app: &TestApp, patient_phone: &str, extra: Value) -> Value {
    let now = app.state.clock.now();
    let mut body = json!({
        "phone": patient_phone,
        "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва, ул. Тверская, д. 1", "lat": HOME.0, "lon": HOME.1},
        "radius_m": 50,
        "starts_at": now.to_string(),
        "ends_at": (now + SignedDuration::from_hours(14 * 24)).to_string(),
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}

pub async fn enroll(app: &TestApp, code: &str) -> String {
    let r = app
        .post(
            "/api/v1/device/enroll",
            None,
            json!({"enrollment_code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["device_token"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn upload(app: &TestApp, device: &str, fixes: &[Value]) -> Value {
    let r = app
        .post("/api/v1/device/locations", Some(device), json!(fixes))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    r.json().await.unwrap()
}

pub async fn case(app: &TestApp, officer: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/cases/{id}"), Some(officer)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub fn flags_of<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// How every stored photo begins: the server re-encodes what it gets as a plain JFIF JPEG.
pub const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];

/// A small camera picture.
pub fn photo() -> Vec<u8> {
    super::browser::jpeg(64, 48)
}

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
