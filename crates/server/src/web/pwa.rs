//! Serving an installable web app (a PWA) embedded in the binary: the inspector's app at
//! `/inspector/` and the patient's at `/patient/app/` are each a list of static files
//! (HTML, CSS, JavaScript modules, a manifest, icons, a service worker) served here.
//!
//! Caching. Every file is sent `Cache-Control: no-cache` with a strong ETag (a hash of its
//! bytes): online, a phone revalidates with a cheap 304; offline, the app's service worker
//! answers from its cache. The service worker script gets the hash of all the other files
//! spliced in as its cache version, so a binary with any changed file makes the phone fetch
//! a fresh app shell and drop the old one. (Fingerprinted URLs would allow `immutable`, but
//! the shell list in the service worker and the module imports would then have to be
//! rewritten at build time; for a few hundred KiB that is not worth a build step.)
//!
//! Compression. Text files (HTML, CSS, JavaScript, the manifest, SVG) are gzipped once, when
//! the router is built, and sent gzipped to browsers that accept it (`Vary: Accept-Encoding`,
//! a distinct ETag): on a slow mobile network the first load is mostly bytes.
//!
//! The apps' pages carry the strict Content-Security-Policy of
//! [`super::security_headers`]: the files hold no inline script, no inline style and no
//! `eval`, which [`tests::check_app`] checks for every app.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::http_cache::{self, accepts_gzip, etag_matches};
use crate::state::AppState;

/// One embedded file of an app, served at `{prefix}/{path}`.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// An [`Asset`] of the app in `crates/server/static/$dir/`, embedded in the binary.
macro_rules! asset {
    ($dir:literal, $path:literal, $content_type:literal) => {
        $crate::web::pwa::Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../static/", $dir, "/", $path)),
        }
    };
}
pub(crate) use asset;

/// What every app shares (`crates/server/static/pwa/`), served under each app's own path as
/// `pwa/…` so that it is in the app's scope and its service worker caches it: the common
/// styles, the translator, and the service worker's shell logic.
pub(crate) const SHARED: &[Asset] = &[
    // Paths relative to `static/` itself: the file is `static/pwa/…`, served as `pwa/…`.
    asset!(".", "pwa/base.css", "text/css; charset=utf-8"),
    asset!(".", "pwa/i18n.js", "text/javascript; charset=utf-8"),
    asset!(".", "pwa/sw.js", "text/javascript; charset=utf-8"),
];

/// An app: where it is served, its files, and the placeholder in its `sw.js` that becomes
/// its version.
pub struct App {
    /// The URL path the app lives under, without the trailing slash (`/inspector`).
    pub prefix: &'static str,
    pub assets: &'static [Asset],
    pub version_placeholder: &'static str,
}

/// A file ready to send.
struct Served {
    content_type: &'static str,
    body: Bytes,
    etag: HeaderValue,
    /// The same bytes gzipped, with their own ETag, when that is smaller.
    gzipped: Option<(Bytes, HeaderValue)>,
}

fn etag_of(body: &[u8], suffix: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{:016x}{suffix}\"", fnv1a(&[body])))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// `bytes` gzipped at the highest level, when it is text and that makes it smaller.
fn gzip(content_type: &str, bytes: &[u8]) -> Option<Bytes> {
    let text = content_type.starts_with("text/")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("image/svg+xml");
    if !text {
        return None;
    }
    let gz = http_cache::gzip(bytes, 9).expect("gzip into memory cannot fail");
    (gz.len() < bytes.len()).then(|| Bytes::from(gz))
}

/// An app's files, keyed by path, with their ETags.
struct Files(BTreeMap<&'static str, Served>);

impl App {
    /// Every file served: the app's own and the shared ones.
    fn all(&self) -> impl Iterator<Item = &Asset> {
        self.assets.iter().chain(SHARED)
    }

    /// The version of the whole app: a hash of every file but the service worker.
    pub fn version(&self) -> String {
        let parts: Vec<&[u8]> = self
            .all()
            .filter(|a| a.path != "sw.js")
            .flat_map(|a| [a.path.as_bytes(), a.body])
            .collect();
        format!("{:016x}", fnv1a(&parts))
    }

    fn files(&self) -> Files {
        let version = self.version();
        let files = self
            .all()
            .map(|a| {
                let body = if a.path == "sw.js" {
                    let text =
                        String::from_utf8_lossy(a.body).replace(self.version_placeholder, &version);
                    Bytes::from(text.into_bytes())
                } else {
                    Bytes::from_static(a.body)
                };
                let gzipped = gzip(a.content_type, &body).map(|gz| {
                    let etag = etag_of(&body, "-gz");
                    (gz, etag)
                });
                let served = Served {
                    content_type: a.content_type,
                    etag: etag_of(&body, ""),
                    body,
                    gzipped,
                };
                (a.path, served)
            })
            .collect();
        Files(files)
    }

    /// The routes that serve the app: `{prefix}` redirects to `{prefix}/` (the service
    /// worker's scope), which is `index.html`, and `{prefix}/{path}` each file.
    pub fn router(&'static self) -> Router<AppState> {
        let files = Arc::new(self.files());
        let index = files.clone();
        let slash = format!("{}/", self.prefix);
        let to = slash.clone();
        Router::new()
            .route(
                self.prefix,
                get(move || {
                    let to = to.clone();
                    async move { Redirect::permanent(&to) }
                }),
            )
            .route(
                &slash,
                get(move |headers: HeaderMap| async move { index.serve("index.html", &headers) }),
            )
            .route(
                &format!("{}/{{*path}}", self.prefix),
                get(
                    move |Path(path): Path<String>, headers: HeaderMap| async move {
                        files.serve(&path, &headers)
                    },
                ),
            )
    }
}

impl Files {
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
        let (body, etag) = match &file.gzipped {
            Some((gz, etag)) if accepts_gzip(request) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                (gz, etag)
            }
            _ => (&file.body, &file.etag),
        };
        if file.gzipped.is_some() {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        headers.insert(header::ETAG, etag.clone());
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, etag));
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (headers, body.clone()).into_response()
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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

    /// The checks every app must pass: `dir` (under `static/`) holds exactly its files,
    /// JavaScript is served as such, the service worker caches only files that exist and gets
    /// its version, and no page has inline script, inline style, handlers or `eval`.
    pub(crate) fn check_app(app: &App, dir: &str) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("static")
            .join(dir);
        let mut on_disk = Vec::new();
        walk(&root, "", &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = app.assets.iter().map(|a| a.path.to_string()).collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "{dir}: every file embedded, nothing else"
        );
        let mut shared_on_disk = Vec::new();
        walk(&root.with_file_name("pwa"), "pwa/", &mut shared_on_disk);
        shared_on_disk.sort();
        let mut shared: Vec<String> = SHARED.iter().map(|a| a.path.to_string()).collect();
        shared.sort();
        assert_eq!(shared_on_disk, shared, "the shared files");

        for a in app.all().filter(|a| a.path.ends_with(".js")) {
            assert_eq!(
                a.content_type, "text/javascript; charset=utf-8",
                "{}",
                a.path
            );
        }

        let sw = std::str::from_utf8(app.assets.iter().find(|a| a.path == "sw.js").unwrap().body)
            .unwrap();
        assert!(sw.contains(app.version_placeholder));
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
        assert!(entries.len() > 5, "{entries:?}");
        for entry in entries {
            assert!(
                entry == "./" || app.all().any(|a| a.path == entry),
                "sw.js caches {entry}, which is not served"
            );
        }
        let files = app.files();
        let served = std::str::from_utf8(&files.0["sw.js"].body)
            .unwrap()
            .to_string();
        assert!(!served.contains(app.version_placeholder));
        assert!(served.contains(&app.version()));

        for a in app.assets.iter().filter(|a| a.path.ends_with(".html")) {
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
        for a in app
            .all()
            .filter(|a| a.path.ends_with(".js") && !a.path.starts_with("vendor/"))
        {
            let js = std::str::from_utf8(a.body).unwrap();
            assert!(!js.contains("eval("), "{}: eval", a.path);
            assert!(!js.contains("new Function"), "{}: new Function", a.path);
            assert!(!js.contains("innerHTML"), "{}: innerHTML", a.path);
        }
    }

    /// A file of `app` revalidates with its ETag; unknown paths are not found.
    pub(crate) fn check_etags(app: &App, file: &str) {
        let files = app.files();
        let etag = files.0[file].etag.clone();
        let tag = etag.to_str().unwrap();
        assert!(etag_matches(tag, &etag));
        assert!(etag_matches(&format!("\"x\", W/{tag}"), &etag));
        assert!(etag_matches("*", &etag));
        assert!(!etag_matches("\"0000\"", &etag));
        let mut request = HeaderMap::new();
        request.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(
            files.serve(file, &request).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            files.serve(file, &HeaderMap::new()).status(),
            StatusCode::OK
        );
        assert_eq!(
            files.serve("../Cargo.toml", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
        // Gzipped to those who take it, under its own tag; the tags never mix.
        let mut gz = HeaderMap::new();
        gz.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        let zipped = files.serve(file, &gz);
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(zipped.headers()[header::VARY], "accept-encoding");
        let gz_tag = zipped.headers()[header::ETAG].clone();
        assert_ne!(gz_tag, etag);
        gz.insert(header::IF_NONE_MATCH, etag.clone());
        assert_eq!(files.serve(file, &gz).status(), StatusCode::OK);
        gz.insert(header::IF_NONE_MATCH, gz_tag);
        assert_eq!(files.serve(file, &gz).status(), StatusCode::NOT_MODIFIED);
        let mut refused = HeaderMap::new();
        refused.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(files
            .serve(file, &refused)
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_none());
    }
}
