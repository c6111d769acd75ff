//! The layering ARCHITECTURE.md states, checked: pages never reach into the API's
//! handlers, the core does no I/O, the store knows no HTTP.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// The `[dependencies]` table of a crate's manifest (not its dev-dependencies).
fn dependencies(name: &str) -> String {
    let manifest = std::fs::read_to_string(crate_dir(name).join("Cargo.toml")).unwrap();
    let start = manifest
        .find("[dependencies]")
        .expect("a [dependencies] table");
    let rest = &manifest[start + "[dependencies]".len()..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
}

/// Fails at the first line of code (comments aside) under `server/src/<dir>` that contains
/// `needle`, in the files `keep` accepts.
fn no_code_line_contains(dir: &str, keep: impl Fn(&Path) -> bool, needle: &str, why: &str) {
    let mut files = Vec::new();
    rust_files(&crate_dir("server").join("src").join(dir), &mut files);
    assert!(files.len() > 10, "the sources of src/{dir} were not found");
    for file in files.iter().filter(|f| keep(f)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            assert!(
                !code.contains(needle),
                "{}:{}: {why}: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn pages_do_not_use_the_api_layer() {
    no_code_line_contains(
        "web",
        |_| true,
        "routes::",
        "pages go through crate::app, not the API's handlers",
    );
}

#[test]
fn the_core_does_no_io_and_the_store_knows_no_http() {
    let core = dependencies("core");
    for io in ["tokio", "sqlx", "axum", "reqwest", "hyper", "ureq"] {
        assert!(
            !core.lines().any(|l| l.trim_start().starts_with(io)),
            "core depends on {io}"
        );
    }
    let store = dependencies("store");
    for http in ["axum", "hyper", "reqwest", "tower", "propusk-server"] {
        assert!(
            !store.lines().any(|l| l.trim_start().starts_with(http)),
            "store depends on {http}"
        );
    }
}

/// Every API route is registered with `routes!`, from its handler's `#[utoipa::path]`, so
/// none exists without its place in the OpenAPI document. Only the test clock (never in a
/// deployed service) is a plain route.
#[test]
fn every_api_route_is_documented() {
    no_code_line_contains(
        "routes",
        |f| !f.ends_with("test_clock.rs"),
        ".route(",
        "register API routes with OpenApiRouter::routes(routes!(…))",
    );
}
