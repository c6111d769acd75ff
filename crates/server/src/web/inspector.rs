//! The inspector's app at `/inspector/`: an installable PWA (static HTML, CSS and
//! JavaScript in `crates/server/static/inspector/`) that scans a pass's QR code
//! with the phone camera and verifies it **on the phone**, with the trust list
//! and the revocation list it keeps in IndexedDB, so that a check needs no
//! network. This module lists those files, embedded in the binary and served as
//! [`super::pwa`] serves an app. The app's aggregate check counts go to the API
//! (`routes::checks`).

use axum::Router;

use crate::state::AppState;
use crate::web::pwa::{asset, App};

/// The app: every file of it (a unit test checks that this list and the directory agree).
static APP: App = App {
    prefix: "/inspector",
    version_placeholder: "__PROPUSK_INSPECTOR_VERSION__",
    assets: &[
        asset!("inspector", "index.html", "text/html; charset=utf-8"),
        asset!("inspector", "app.css", "text/css; charset=utf-8"),
        asset!("inspector", "app.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "verify.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "shortcode.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "i18n.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "strings.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "db.js", "text/javascript; charset=utf-8"),
        asset!("inspector", "sync.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "revocations.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "scanner.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "qr-worker.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("inspector", "sw.js", "text/javascript; charset=utf-8"),
        asset!(
            "inspector",
            "manifest.webmanifest",
            "application/manifest+json"
        ),
        asset!("inspector", "icons/icon.svg", "image/svg+xml"),
        asset!("inspector", "icons/icon-192.png", "image/png"),
        asset!("inspector", "icons/icon-512.png", "image/png"),
        asset!("inspector", "icons/icon-maskable-512.png", "image/png"),
        asset!(
            "inspector",
            "vendor/jsQR.js",
            "text/javascript; charset=utf-8"
        ),
        asset!(
            "inspector",
            "vendor/jsQR.LICENSE.txt",
            "text/plain; charset=utf-8"
        ),
        asset!(
            "inspector",
            "vendor/README.txt",
            "text/plain; charset=utf-8"
        ),
    ],
};

pub fn router() -> Router<AppState> {
    APP.router()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_served_whole_with_a_strict_policy() {
        crate::web::pwa::tests::check_app(&APP, "inspector");
        crate::web::pwa::tests::check_etags(&APP, "app.js");
    }
}
