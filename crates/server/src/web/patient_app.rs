//! The Social Monitoring app at `/patient/app/`: the patient's installable web app (static
//! HTML, CSS and JavaScript modules in `crates/server/static/patient-app/`, no framework),
//! served as [`super::pwa`] serves an app. It speaks only the device API
//! (`routes::device`), the contract a native app would speak unchanged; the no-JS pages at
//! `/patient` remain the fallback for phones that cannot run it. What it does and why is in
//! `docs/monitoring-app.md`.

use axum::Router;

use crate::state::AppState;
use crate::web::pwa::{asset, App};

/// The app: every file of it (a unit test checks that this list and the directory agree).
static APP: App = App {
    prefix: "/patient/app",
    version_placeholder: "__PROPUSK_PATIENT_APP_VERSION__",
    assets: &[
        asset!("patient-app", "index.html", "text/html; charset=utf-8"),
        asset!("patient-app", "app.css", "text/css; charset=utf-8"),
        asset!("patient-app", "app.js", "text/javascript; charset=utf-8"),
        asset!("patient-app", "api.js", "text/javascript; charset=utf-8"),
        asset!("patient-app", "camera.js", "text/javascript; charset=utf-8"),
        asset!("patient-app", "db.js", "text/javascript; charset=utf-8"),
        asset!("patient-app", "i18n.js", "text/javascript; charset=utf-8"),
        asset!(
            "patient-app",
            "strings.js",
            "text/javascript; charset=utf-8"
        ),
        asset!(
            "patient-app",
            "reports.js",
            "text/javascript; charset=utf-8"
        ),
        asset!("patient-app", "sw.js", "text/javascript; charset=utf-8"),
        asset!(
            "patient-app",
            "manifest.webmanifest",
            "application/manifest+json"
        ),
        asset!("patient-app", "icons/icon.svg", "image/svg+xml"),
        asset!("patient-app", "icons/icon-192.png", "image/png"),
        asset!("patient-app", "icons/icon-512.png", "image/png"),
        asset!("patient-app", "icons/icon-maskable-512.png", "image/png"),
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
        crate::web::pwa::tests::check_app(&APP, "patient-app");
        crate::web::pwa::tests::check_etags(&APP, "app.js");
    }

    /// The budget of issue 11: the app's own code and assets at most 150 KB compressed
    /// (each file deflated at the highest level, as a server or proxy would gzip it). The
    /// browser test measures the same over the wire, and the first load under throttling.
    #[test]
    fn the_whole_app_fits_its_budget_compressed() {
        const BUDGET: usize = 150 * 1024;
        let sizes: Vec<(&str, usize, usize)> = APP
            .assets
            .iter()
            .chain(crate::web::pwa::SHARED)
            .map(|a| {
                let mut deflater =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
                std::io::Write::write_all(&mut deflater, a.body).unwrap();
                let deflated = deflater.finish().unwrap().len();
                (a.path, a.body.len(), deflated.min(a.body.len()))
            })
            .collect();
        let total: usize = sizes.iter().map(|s| s.2).sum();
        assert!(
            total <= BUDGET,
            "{total} bytes compressed > {BUDGET}: {sizes:#?}"
        );
        // Not a framework's worth: the JavaScript alone, uncompressed, stays small too.
        let js: usize = sizes
            .iter()
            .filter(|s| s.0.ends_with(".js"))
            .map(|s| s.1)
            .sum();
        assert!(js <= 120 * 1024, "{js} bytes of JavaScript");
    }
}
