//! The API's OpenAPI document, made from the code: each handler in `routes/` carries a
//! `#[utoipa::path]` with its responses, each body a type deriving `ToSchema`, and the
//! router that serves a path is the one that documents it (`utoipa_axum::routes!`), so a
//! route cannot exist undocumented or be documented at another path.
//!
//! What every operation shares is added here once: the answers of the layers in front of
//! every handler (a body that is not JSON, too large or too slow, a control character, no
//! or the wrong bearer token, overload, an internal error), the `Problem` schema and the
//! document's header. `propusk openapi` prints the result; `crates/server/openapi.json` is
//! that output, checked in and compared in a test and in CI.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use utoipa::openapi::{RefOr, Response};

/// One `application/problem+json` answer narrowed to the codes it carries, so that a
/// client (and schemathesis) knows exactly what to branch on. `extra` adds or narrows
/// members beside `status` and `code` (a JSON Schema `properties` object).
///
/// utoipa's schema types cannot say `const`, so the answer travels as an extension
/// (`x-propusk-problem`) that [`document`] expands into its JSON Schema.
pub fn problem(
    status: u16,
    description: &str,
    codes: &[&str],
    extra: Option<Value>,
) -> (String, RefOr<Response>) {
    assert!(!codes.is_empty(), "a problem response names its codes");
    let marker = json!({ "status": status, "codes": codes, "extra": extra });
    let response = utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .extensions(Some(
            utoipa::openapi::extensions::ExtensionsBuilder::new()
                .add(PROBLEM_MARKER, marker)
                .build(),
        ))
        .build();
    (status.to_string(), RefOr::T(response))
}

const PROBLEM_MARKER: &str = "x-propusk-problem";

/// Replaces each response's `x-propusk-problem` with the problem+json it stands for.
fn expand_problem(response: &mut Value) {
    let Some(marker) = response
        .as_object_mut()
        .and_then(|r| r.remove(PROBLEM_MARKER))
    else {
        return;
    };
    let status = marker["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .expect("a problem marker has its status");
    let codes: Vec<&str> = marker["codes"]
        .as_array()
        .expect("a problem marker has its codes")
        .iter()
        .map(|c| c.as_str().expect("a code is text"))
        .collect();
    let description = response["description"]
        .as_str()
        .expect("a response has its description")
        .to_string();
    let extra = Some(marker["extra"].clone()).filter(|e| !e.is_null());
    *response = problem_value(status, &description, &codes, extra);
}

fn problem_value(status: u16, description: &str, codes: &[&str], extra: Option<Value>) -> Value {
    assert!(!codes.is_empty(), "a problem response names its codes");
    let code = match codes {
        [one] => json!({ "const": one }),
        many => json!({ "enum": many }),
    };
    let mut properties = Map::new();
    properties.insert("status".into(), json!({ "const": status }));
    properties.insert("code".into(), code);
    let mut narrowed = Map::new();
    if let Some(Value::Object(extra)) = extra {
        let required: Vec<&str> = ["retry_after_s", "errors"]
            .into_iter()
            .filter(|k| extra.contains_key(*k))
            .collect();
        properties.extend(extra);
        if !required.is_empty() {
            narrowed.insert("required".into(), json!(required));
        }
    }
    let retry_after = properties.contains_key("retry_after_s");
    narrowed.insert("properties".into(), Value::Object(properties));
    let mut response = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": {
            "allOf": [ { "$ref": "#/components/schemas/Problem" }, Value::Object(narrowed) ]
        } } }
    });
    // An answer that says how long to wait says it in the header too.
    if retry_after {
        response["headers"] =
            json!({ "Retry-After": { "$ref": "#/components/headers/Retry-After" } });
    }
    response
}

/// `retry_after_s` as the answers that carry it narrow it.
pub fn retry_after() -> Value {
    json!({ "retry_after_s": { "type": "integer" } })
}

/// Declares a type whose only purpose is to list an operation's problem answers for
/// `#[utoipa::path(responses(...))]`:
///
/// ```ignore
/// problems!(PassNotFound {
///     404 => "`pass_not_found`: no such pass.", ["pass_not_found"];
/// });
/// ```
macro_rules! problems {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($status:literal => $desc:expr, [$($code:literal),+ $(,)?] $(, $extra:expr)?);+ $(;)? }) => {
        $(#[$meta])*
        $vis struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                [$(
                    $crate::openapi::problem($status, $desc, &[$($code),+], $crate::openapi::problems!(@extra $($extra)?))
                ),+].into_iter().collect()
            }
        }
    };
    (@extra) => { None };
    (@extra $extra:expr) => { Some($extra) };
}
pub(crate) use problems;

/// A router of documented handlers, one group per path, each handler registered from its
/// `#[utoipa::path]`: `api_routes![[create, list], [show, cancel], [qr_svg]]`.
macro_rules! api_routes {
    ($([$($head:ident $(:: $tail:ident)*),+ $(,)?]),+ $(,)?) => {
        utoipa_axum::router::OpenApiRouter::new()
            $(.routes(utoipa_axum::routes!($($head $(:: $tail)*),+)))+
    };
}
pub(crate) use api_routes;

/// The finished document: the paths the routers documented, and what they share.
pub fn document() -> Value {
    let api = crate::routes::documented().into_openapi();
    let mut doc = serde_json::to_value(&api).expect("an OpenApi serializes to JSON");
    finish(&mut doc);
    doc
}

/// The document as served at `/api/v1/openapi.json` and checked in as
/// `crates/server/openapi.json`: pretty, with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("a Value serializes");
    text.push('\n');
    text
}

const DESCRIPTION: &str = "\
JSON API of propusk, a city-scale system of digital passes for an epidemic lockdown.

**Passes.** A resident signs in with a one-time SMS code, states their profile, and asks for a pass for \
a purpose the regime in force allows. Each pass has a signed token (the QR text) and a short code \
(`XXX-XXX-XXX`, for SMS users and typing; checked online only).

**The pass token** is `PR1:` + base45(zlib(COSE_Sign1)) over CWT claims — issuer, validity window, pass id, \
purpose, regime and a holder hint (initials and the last 4 characters of the document; never the full name \
or document number). It is signed with Ed25519 or ES256, so it can be checked **offline** with the keys \
from `/.well-known/propusk/keys` and the delta-synced list from `/api/v1/revocations`. The normative \
format is in `docs/token-format.md` in the repository.

**Errors** are `application/problem+json` (RFC 9457): branch on `code`, show `detail` (Russian by default, \
English with `Accept-Language: en`). Any endpoint may answer `503 overloaded` with `Retry-After` when the \
server is past capacity.

**Auth:** `Authorization: Bearer <token>` from `/api/v1/auth/otp/verify` (residents) or \
`/api/v1/auth/login` (staff). The scopes listed in each operation's security requirement are the roles \
allowed. Times are RFC 3339; ids are UUIDs.";

/// The document's header: what it is, its tags and how callers authenticate.
fn header() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "propusk API", "version": "1.0.0", "description": DESCRIPTION },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{ "url": "/", "description": "This server." }],
        "tags": [
            { "name": "auth", "description": "Sign-in: residents by SMS code, staff by password." },
            { "name": "residents", "description": "The resident's own profile." },
            { "name": "regimes", "description": "The rules in force." },
            { "name": "passes", "description": "Issuance, listing, QR codes, cancellation." },
            { "name": "verification",
              "description": "Checking passes online, and what offline verifiers need." },
            { "name": "admin", "description": "Regime files and revocation." },
            { "name": "operations", "description": "Health, readiness, metrics." },
            { "name": "sms",
              "description": "The SMS gateway's callbacks: inbound messages and delivery reports." },
            { "name": "monitoring",
              "description": "Quarantine monitoring: cases, devices, location reports, flags, decisions and appeals." }
        ],
    })
}

fn security_schemes() -> Value {
    json!({
        "bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "Opaque token from `/api/v1/auth/otp/verify` or `/api/v1/auth/login`. \
                Requirement scopes name the roles allowed: resident, inspector, health, admin."
        },
        "deviceAuth": {
            "type": "http", "scheme": "bearer",
            "description": "A quarantine device's token from `/api/v1/device/enroll`."
        }
    })
}

fn finish(doc: &mut Value) {
    if let (Value::Object(doc), Value::Object(header)) = (&mut *doc, header()) {
        doc.extend(header);
    }
    let paths = doc["paths"]
        .as_object_mut()
        .map(std::mem::take)
        .expect("the document has its paths");
    let mut finished = Map::new();
    for (path, mut item) in paths {
        if let Value::Object(methods) = &mut item {
            for (method, operation) in methods.iter_mut() {
                if method == "parameters" {
                    continue;
                }
                if let Some(Value::Object(responses)) = operation.get_mut("responses") {
                    responses.values_mut().for_each(expand_problem);
                }
                add_shared_responses(operation);
            }
        }
        finished.insert(path, item);
    }
    doc["paths"] = Value::Object(finished);
    let components = doc
        .as_object_mut()
        .expect("the document is an object")
        .entry("components")
        .or_insert_with(|| json!({}));
    let schemas = components
        .as_object_mut()
        .expect("components is an object")
        .entry("schemas")
        .or_insert_with(|| json!({}));
    for (name, schema) in shared_schemas() {
        schemas[name.as_str()] = schema;
    }
    components["responses"] = shared_responses();
    components["securitySchemes"] = security_schemes();
    components["headers"] = json!({ "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": { "type": "integer", "minimum": 0 }
    }});
}

fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// The answers of the layers in front of an operation's handler, from what it takes: a
/// body (bounded, timed, JSON, free of control characters), text parameters, a token.
fn add_shared_responses(operation: &mut Value) {
    let has_body = operation.get("requestBody").is_some();
    let json_body = operation
        .pointer("/requestBody/content/application~1json")
        .is_some();
    // Staff and residents' tokens; a device's answers its own (401, and 410 once retired).
    let has_auth = operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
    // What every signed-in role may do cannot be forbidden.
    let roles: Vec<&Value> = operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|requirement| requirement.get("bearerAuth")?.as_array())
        .flatten()
        .collect();
    let any_role = ["resident", "inspector", "health", "admin"]
        .iter()
        .all(|r| roles.iter().any(|x| *x == r));
    let text_params = operation
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| {
            ps.iter()
                .any(|p| matches!(p["in"].as_str(), Some("path" | "query")))
        });
    let responses = operation["responses"]
        .as_object_mut()
        .expect("an operation has responses");
    // Bodies and path or query parameters are text: a control character in one is refused.
    if (has_body && json_body) || text_params {
        let merged = with_control_character(responses.remove("422"));
        responses.insert("422".into(), merged);
    }
    let shared = [
        ("400", "BadRequest", has_body && json_body),
        ("408", "BodyTimeout", has_body),
        ("413", "BodyTooLarge", has_body),
        ("401", "Unauthorized", has_auth),
        ("403", "Forbidden", has_auth && !any_role),
        ("500", "Internal", true),
        ("503", "Overloaded", true),
    ];
    for (status, name, applies) in shared {
        if applies {
            responses
                .entry(status)
                .or_insert_with(|| response_ref(name));
        }
    }
    let sorted: BTreeMap<String, Value> = std::mem::take(responses).into_iter().collect();
    *responses = sorted.into_iter().collect();
}

/// A 422 answer (or none) that may also be `control_character`.
fn with_control_character(response: Option<Value>) -> Value {
    let Some(mut response) = response else {
        return response_ref("ControlCharacter");
    };
    if response.get("$ref").is_some() {
        return response;
    }
    let Some(narrowed) = response
        .pointer_mut("/content/application~1problem+json/schema/allOf/1")
        .and_then(Value::as_object_mut)
    else {
        return response;
    };
    let Some(props) = narrowed
        .get_mut("properties")
        .and_then(Value::as_object_mut)
    else {
        return response;
    };
    let Some(code) = props.get("code") else {
        return response;
    };
    let mut codes: Vec<String> = match (code.get("enum"), code.get("const")) {
        (Some(Value::Array(many)), _) => many
            .iter()
            .filter_map(|c| c.as_str().map(String::from))
            .collect(),
        (_, Some(Value::String(one))) => vec![one.clone()],
        _ => return response,
    };
    codes.push("control_character".into());
    codes.sort();
    codes.dedup();
    props.insert("code".into(), json!({ "enum": codes }));
    props.remove("field");
    // The members the other codes always carry (`errors`) are not there with this one.
    narrowed.remove("required");
    if let Some(Value::String(d)) = response.get_mut("description") {
        d.push_str(" `control_character`: a text holds a control character (`field` names it).");
    }
    response
}

fn shared_responses() -> Value {
    let all = [
        problem_value(
            400,
            "`bad_request`: the body is not valid JSON or does not have the expected shape.",
            &["bad_request"],
            None,
        ),
        problem_value(
            401,
            "`unauthorized`: no bearer token, or it is invalid or expired.",
            &["unauthorized"],
            None,
        ),
        problem_value(
            403,
            "`forbidden`: the token's role may not do this.",
            &["forbidden"],
            None,
        ),
        problem_value(
            404,
            "`pass_not_found`: no such pass — also for someone else's pass.",
            &["pass_not_found"],
            None,
        ),
        problem_value(
            500,
            "`internal`: unexpected server error (details are logged, not shown).",
            &["internal"],
            None,
        ),
        problem_value(
            503,
            "`overloaded`: the server is past capacity; retry after `Retry-After` seconds.",
            &["overloaded"],
            Some(retry_after()),
        ),
        problem_value(
            413,
            "`body_too_large`: the body is larger than this operation takes (`max_bytes`).",
            &["body_too_large"],
            Some(json!({ "max_bytes": { "type": "integer" } })),
        ),
        problem_value(
            408,
            "`body_timeout`: the body did not arrive in time.",
            &["body_timeout"],
            None,
        ),
        problem_value(
            422,
            "`control_character`: a text holds a control character such as NUL; `field` names it.",
            &["control_character"],
            Some(json!({ "field": { "type": "string" } })),
        ),
    ];
    let names = [
        "BadRequest",
        "Unauthorized",
        "Forbidden",
        "PassNotFound",
        "Internal",
        "Overloaded",
        "BodyTooLarge",
        "BodyTimeout",
        "ControlCharacter",
    ];
    Value::Object(names.into_iter().map(String::from).zip(all).collect())
}

/// The problem details every error is written as, which the narrowed answers refer to
/// by name.
fn shared_schemas() -> Vec<(String, Value)> {
    use utoipa::{PartialSchema, ToSchema};
    let mut schemas = vec![(
        crate::error::Problem::name().into_owned(),
        crate::error::Problem::schema(),
    )];
    crate::error::Problem::schemas(&mut schemas);
    schemas
        .into_iter()
        .map(|(name, schema)| {
            let value = serde_json::to_value(schema).expect("a schema serializes to JSON");
            (name, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in copy is what the code makes: refresh it with
    /// `cargo run -p propusk -- openapi > crates/server/openapi.json`.
    #[test]
    fn the_checked_in_document_is_the_codes() {
        let checked_in = include_str!("../openapi.json");
        assert!(
            checked_in == document_text(),
            "crates/server/openapi.json is stale: run \
             cargo run -p propusk -- openapi > crates/server/openapi.json"
        );
    }

    /// Every operation says who may call it, what it answers and with which codes.
    #[test]
    fn every_operation_is_described_whole() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 40, "{} paths", paths.len());
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("a path item") {
                let at = format!("{method} {path}");
                assert!(op["operationId"].is_string(), "{at}: operationId");
                assert!(op["summary"].is_string(), "{at}: summary");
                assert!(
                    op["tags"].as_array().is_some_and(|t| t.len() == 1),
                    "{at}: one tag"
                );
                let responses = op["responses"].as_object().expect("responses");
                assert!(
                    responses.contains_key("500") && responses.contains_key("503"),
                    "{at}"
                );
                assert!(
                    responses.keys().any(|k| k.starts_with('2') || k == "304"),
                    "{at}: a success answer"
                );
            }
        }
    }

    /// Each narrowed problem names its codes, and an answer with `retry_after_s` has the header.
    #[test]
    fn problem_answers_are_narrowed_to_their_codes() {
        let value = problem_value(429, "…", &["a", "b"], Some(retry_after()));
        let narrowed = &value["content"]["application/problem+json"]["schema"]["allOf"][1];
        assert_eq!(
            narrowed["properties"]["code"],
            json!({ "enum": ["a", "b"] })
        );
        assert_eq!(narrowed["properties"]["status"], json!({ "const": 429 }));
        assert_eq!(narrowed["required"], json!(["retry_after_s"]));
        assert!(value["headers"]["Retry-After"].is_object());
        let merged =
            with_control_character(Some(problem_value(422, "x.", &["invalid_field"], None)));
        let codes = &merged["content"]["application/problem+json"]["schema"]["allOf"][1]
            ["properties"]["code"];
        assert_eq!(
            codes,
            &json!({ "enum": ["control_character", "invalid_field"] })
        );
    }
}
