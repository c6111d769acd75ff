//! The inspector's app at `/inspector/`: an installable PWA (static HTML, CSS and
//! JavaScript in `crates/server/static/inspector/`) that scans a pass's QR code
//! with the phone camera and verifies it **on the phone**, with the trust list
//! and the revocation list it keeps in IndexedDB, so that a check needs no
//! network. This module serves those files, embedded in the binary, and takes
//! the app's aggregate check counts for `/metrics`.
//!
//! Caching. Every file is sent `Cache-Control: no-cache` with a strong ETag (a
//! hash of its bytes): online, a phone revalidates with a cheap 304; offline,
//! the service worker answers from its cache. The service worker script gets
//! the hash of all the other files spliced in as its cache version, so a binary
//! with any changed file makes the phone fetch a fresh app shell and drop the
//! old one. (Fingerprinted URLs would allow `immutable`, but the shell list in
//! the service worker and the module imports would then have to be rewritten
//! at build time; for ~300 KiB that is not worth a build step.)
//!
//! The app's pages carry the strict Content-Security-Policy of
//! [`super::security_headers`]: the files hold no inline script, no inline style
//! and no `eval`, which a test in this module checks for the HTML.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use propusk_store::Role;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::lang::AskedLang;
use crate::metrics::{CHECK_DECIDED_BY, CHECK_VERDICTS};
use crate::routes::Body;
use crate::state::AppState;

/// One embedded file of the app, served at `/inspector/{path}`.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $content_type:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../static/inspector/", $path)),
        }
    };
}

/// Every file of the app. A unit test checks that this list and the directory agree.
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("verify.js", "text/javascript; charset=utf-8"),
    asset!("shortcode.js", "text/javascript; charset=utf-8"),
    asset!("i18n.js", "text/javascript; charset=utf-8"),
    asset!("db.js", "text/javascript; charset=utf-8"),
    asset!("sync.js", "text/javascript; charset=utf-8"),
    asset!("revocations.js", "text/javascript; charset=utf-8"),
    asset!("scanner.js", "text/javascript; charset=utf-8"),
    asset!("qr-worker.js", "text/javascript; charset=utf-8"),
    asset!("sw.js", "text/javascript; charset=utf-8"),
    asset!("manifest.webmanifest", "application/manifest+json"),
    asset!("icons/icon.svg", "image/svg+xml"),
    asset!("icons/icon-192.png", "image/png"),
    asset!("icons/icon-512.png", "image/png"),
    asset!("icons/icon-maskable-512.png", "image/png"),
    asset!("vendor/jsQR.js", "text/javascript; charset=utf-8"),
    asset!("vendor/jsQR.LICENSE.txt", "text/plain; charset=utf-8"),
    asset!("vendor/README.txt", "text/plain; charset=utf-8"),
];

/// The placeholder in `sw.js` that becomes the app's version.
const VERSION_PLACEHOLDER: &str = "__PROPUSK_INSPECTOR_VERSION__";

/// A file ready to send.
struct Served {
    content_type: &'static str,
    body: Bytes,
    etag: HeaderValue,
}

/// The app's files, keyed by path, with their ETags.
struct Files(BTreeMap<&'static str, Served>);

impl Files {
    fn build() -> Self {
        let version = app_version();
        let files = ASSETS
            .iter()
            .map(|a| {
                let body = if a.path == "sw.js" {
                    let text =
                        String::from_utf8_lossy(a.body).replace(VERSION_PLACEHOLDER, &version);
                    Bytes::from(text.into_bytes())
                } else {
                    Bytes::from_static(a.body)
                };
                let etag = HeaderValue::from_str(&format!("\"{:016x}\"", fnv1a(&[&body])))
                    .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
                let served = Served {
                    content_type: a.content_type,
                    body,
                    etag,
                };
                (a.path, served)
            })
            .collect();
        Self(files)
    }

    fn serve(&self, path: &str, request: &HeaderMap) -> Response {
        let Some(file) = self.0.get(path) else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::ETAG, file.etag.clone());
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, &file.etag));
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (headers, file.body.clone()).into_response()
    }
}

/// The version of the whole app: a hash of every file but the service worker.
fn app_version() -> String {
    let parts: Vec<&[u8]> = ASSETS
        .iter()
        .filter(|a| a.path != "sw.js")
        .flat_map(|a| [a.path.as_bytes(), a.body])
        .collect();
    format!("{:016x}", fnv1a(&parts))
}

/// FNV-1a, 64 bits: a cache validator, not a security boundary.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // Separate the parts so that moving bytes between them changes the hash.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `If-None-Match` (RFC 9110, 13.1.2): `*` or a list of tags, weak comparison.
pub(crate) fn etag_matches(if_none_match: &str, etag: &HeaderValue) -> bool {
    let Ok(ours) = etag.to_str() else {
        return false;
    };
    let opaque = |tag: &'_ str| tag.strip_prefix("W/").unwrap_or(tag).to_owned();
    let ours = opaque(ours);
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

pub fn router() -> Router<AppState> {
    let files = Arc::new(Files::build());
    let index = files.clone();
    Router::new()
        // The service worker's scope is /inspector/, so the app lives under the slash.
        .route(
            "/inspector",
            get(|| async { Redirect::permanent("/inspector/") }),
        )
        .route(
            "/inspector/",
            get(move |headers: HeaderMap| async move { index.serve("index.html", &headers) }),
        )
        .route(
            "/inspector/{*path}",
            get(
                move |Path(path): Path<String>, headers: HeaderMap| async move {
                    files.serve(&path, &headers)
                },
            ),
        )
        .route("/api/v1/inspector/checks", post(record_checks))
}

/// The most checks of one kind a single report may carry: a phone offline for a
/// whole shift checks a few thousand passes at most; more is a broken client.
const MAX_PER_ENTRY: u64 = 5_000;

/// How many checks one inspector may report: a shift's worth at once, then one a second
/// (faster than anyone can check a document), so that no account can inflate the public
/// counters.
fn checks_rate() -> propusk_core::throttle::Rate {
    propusk_core::throttle::Rate::new(5_000, jiff::SignedDuration::from_secs(1))
        .expect("a positive built-in rate")
}

/// Aggregate counts since the app's last successful report, by who decided and
/// verdict: `{"device": {"valid": 12, "revoked": 1}, "server": {"valid": 2}}`.
/// Nothing identifies a pass, a holder or a place.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckReport {
    #[serde(default)]
    device: BTreeMap<String, u64>,
    #[serde(default)]
    server: BTreeMap<String, u64>,
}

/// Turns a report into `(decided_by index, verdict index, count)` rows, or says
/// which entry is wrong.
fn parse_report(report: &CheckReport) -> Result<Vec<(usize, usize, u64)>, String> {
    let mut rows = Vec::new();
    for (decided_by, counts) in [(0, &report.device), (1, &report.server)] {
        for (verdict, &n) in counts {
            let Some(v) = CHECK_VERDICTS.iter().position(|known| known == verdict) else {
                return Err(format!("{}.{verdict}", CHECK_DECIDED_BY[decided_by]));
            };
            if n > MAX_PER_ENTRY {
                return Err(format!("{}.{verdict}", CHECK_DECIDED_BY[decided_by]));
            }
            rows.push((decided_by, v, n));
        }
    }
    Ok(rows)
}

async fn record_checks(
    State(state): State<AppState>,
    AskedLang(lang): AskedLang,
    staff: Staff,
    Body(report): Body<CheckReport>,
) -> ApiResult<Json<Value>> {
    staff.require(&[Role::Inspector, Role::Admin], lang)?;
    let rows = parse_report(&report).map_err(|field| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_check_report",
            format!(
                "Счётчик «{field}» не принят: ожидаются вердикты {} и числа от 0 до {MAX_PER_ENTRY}.",
                CHECK_VERDICTS.join(", ")
            ),
            format!(
                "Counter '{field}' was not accepted: expected verdicts {} with counts from 0 to {MAX_PER_ENTRY}.",
                CHECK_VERDICTS.join(", ")
            ),
        )
        .with("field", field)
        .lang(lang)
    })?;
    let total: u64 = rows.iter().map(|(_, _, n)| n).sum();
    let cost = u32::try_from(total).unwrap_or(u32::MAX);
    let now = state.clock.now();
    let limit =
        propusk_store::Limit::new("checks.staff", &staff.0.subject_id, checks_rate()).cost(cost);
    if let Err(throttled) = state.store.charge(&[limit], now).await? {
        let secs = propusk_core::throttle::retry_after_secs(throttled.retry_at, now);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "implausible_check_count",
            format!("Столько проверок за это время не сделать: отчёт не принят. Повторите через {secs} с."),
            format!("That many checks cannot have been made in this time: the report was not accepted. Retry in {secs} s."),
        )
        .retry_after(secs)
        .lang(lang));
    }
    let mut recorded = 0;
    for (decided_by, verdict, n) in rows {
        state.metrics.add_checks(decided_by, verdict, n);
        recorded += n;
    }
    Ok(Json(json!({ "recorded": recorded })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/inspector")
    }

    fn walk(dir: &std::path::Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &format!("{name}/"), out);
            } else {
                out.push(name);
            }
        }
    }

    #[test]
    fn every_file_of_the_directory_is_embedded_and_nothing_else() {
        let mut on_disk = Vec::new();
        walk(&static_dir(), "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = ASSETS.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn javascript_is_served_as_javascript() {
        for a in ASSETS {
            if a.path.ends_with(".js") {
                assert_eq!(
                    a.content_type, "text/javascript; charset=utf-8",
                    "{}",
                    a.path
                );
            }
        }
    }

    #[test]
    fn the_service_worker_caches_only_files_that_exist() {
        let sw =
            std::str::from_utf8(ASSETS.iter().find(|a| a.path == "sw.js").unwrap().body).unwrap();
        assert!(sw.contains(VERSION_PLACEHOLDER));
        let list = sw
            .split_once("const SHELL = [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list)
            .expect("sw.js has a SHELL list");
        let entries: Vec<&str> = list
            .split(',')
            .map(|e| e.trim().trim_matches('\''))
            .filter(|e| !e.is_empty())
            .collect();
        assert!(entries.len() > 8, "{entries:?}");
        for entry in entries {
            assert!(
                entry == "./" || ASSETS.iter().any(|a| a.path == entry),
                "sw.js caches {entry}, which is not served"
            );
        }
        let files = Files::build();
        let served = std::str::from_utf8(&files.0["sw.js"].body)
            .unwrap()
            .to_string();
        assert!(!served.contains(VERSION_PLACEHOLDER));
        assert!(served.contains(&app_version()));
    }

    #[test]
    fn pages_have_no_inline_script_style_or_handlers() {
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".html")) {
            let html = std::str::from_utf8(a.body).unwrap().to_lowercase();
            assert!(!html.contains("style="), "{}: style attribute", a.path);
            assert!(!html.contains("<style"), "{}: style element", a.path);
            for (i, _) in html.match_indices("<script") {
                let tag = &html[i..i + html[i..].find('>').unwrap()];
                assert!(tag.contains(" src="), "{}: inline script {tag}", a.path);
            }
            for attr in [
                " onclick=",
                " onload=",
                " onerror=",
                " onsubmit=",
                " oninput=",
                "javascript:",
            ] {
                assert!(!html.contains(attr), "{}: {attr}", a.path);
            }
        }
        for a in ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js") && !a.path.starts_with("vendor/"))
        {
            let js = std::str::from_utf8(a.body).unwrap();
            assert!(!js.contains("eval("), "{}: eval", a.path);
            assert!(!js.contains("new Function"), "{}: new Function", a.path);
            assert!(!js.contains("innerHTML"), "{}: innerHTML", a.path);
        }
    }

    #[test]
    fn etags_revalidate() {
        let files = Files::build();
        let etag = files.0["app.js"].etag.clone();
        let tag = etag.to_str().unwrap();
        assert!(etag_matches(tag, &etag));
        assert!(etag_matches(&format!("\"x\", W/{tag}"), &etag));
        assert!(etag_matches("*", &etag));
        assert!(!etag_matches("\"0000\"", &etag));
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(
            files.serve("app.js", &request).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            files.serve("app.js", &HeaderMap::new()).status(),
            StatusCode::OK
        );
        assert_eq!(
            files.serve("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn reports_name_known_verdicts_with_bounded_counts() {
        let mut report = CheckReport::default();
        report.device.insert("valid".into(), 3);
        report.server.insert("revoked".into(), 1);
        assert_eq!(parse_report(&report).unwrap(), vec![(0, 0, 3), (1, 3, 1)]);
        report.device.insert("maybe".into(), 1);
        assert_eq!(parse_report(&report).unwrap_err(), "device.maybe");
        let mut report = CheckReport::default();
        report.server.insert("valid".into(), MAX_PER_ENTRY + 1);
        assert_eq!(parse_report(&report).unwrap_err(), "server.valid");
    }
}
