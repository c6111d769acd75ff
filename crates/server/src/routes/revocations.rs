//! `GET /api/v1/revocations`: the revocation list offline verifiers sync, page by page.
//!
//! A sync is a walk: the first request says where the reader's copy ends (`since`, 0 for
//! none); the answer holds up to `limit` entries (default and most 10,000) and, when more
//! remain, a `next` cursor for the following page. The walk is bounded by the newest
//! revocation when it began (`latest`), so it ends even while revocations go on, and every
//! page is gap-free (see `propusk_store::revocations`): after applying a page the reader
//! stores its `sequence` and never misses an entry below it. Only revocations of passes not
//! yet expired are listed.
//!
//! Two forms: JSON (the default), and with `format=compact` a binary one for phones — 12
//! bytes an entry instead of about 100 (docs/token-format.md, "Compact revocation pages").
//! Both are gzip-compressed when the client accepts it, and carry a weak `ETag`: a client
//! polling with `If-None-Match` gets `304 Not Modified` while nothing was revoked.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use propusk_store::{RevocationPage, Revoked};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, ApiResult};
use crate::http_cache::{accepts_gzip, etag_matches, gzip};
use crate::openapi::{api_routes, problems};
use crate::state::AppState;

/// Entries a page holds unless the client asks for fewer; also the most it may ask for.
pub const MAX_LIMIT: u32 = 10_000;
/// The compact form's media type.
pub const COMPACT_TYPE: &str = "application/vnd.propusk.revocations";
/// The compact form's first four bytes.
const COMPACT_MAGIC: &[u8; 4] = b"PRL1";
/// Bodies shorter than this are sent as they are: gzip would not pay for its header.
const GZIP_FROM: usize = 512;

pub fn router() -> OpenApiRouter<AppState> {
    api_routes![[list]]
}

/// Taken as text and checked here, so that each wrong value gets its own code.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Params {
    /// Start a sync after this sequence number; 0 (default) for the whole list. Not with `next`.
    #[param(value_type = Option<u64>, minimum = 0, default = 0)]
    since: Option<String>,
    /// Continue a sync: the `next` cursor of the previous page.
    #[param(pattern = r"^[0-9]+\.[0-9]+$")]
    next: Option<String>,
    /// Entries per page.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, default = 10000)]
    limit: Option<String>,
    /// `json` (default, also when empty) or `compact` (binary, for phones).
    #[param(pattern = "^(json|compact)?$", default = "json")]
    format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Compact,
}

/// Where the next page of a walk starts and where the walk ends: `AFTER.UPTO` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    after: i64,
    upto: i64,
}

impl Cursor {
    fn parse(text: &str) -> Option<Self> {
        let (after, upto) = text.split_once('.')?;
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
        };
        Some(Self {
            after: number(after)?,
            upto: number(upto)?,
        })
    }

    fn render(self) -> String {
        format!("{}.{}", self.after, self.upto)
    }
}

/// The request, checked: a walk from `after` to `upto`, `limit` entries a page.
struct Walk {
    after: i64,
    upto: i64,
    limit: u32,
    format: Format,
}

fn bad(code: &'static str, ru: String, en: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, ru, en)
}

/// Checks the parameters against the newest revocation `latest`.
fn walk(q: &Params, latest: i64) -> ApiResult<Walk> {
    let limit = match q.limit.as_deref() {
        None | Some("") => MAX_LIMIT,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                bad(
                    "invalid_limit",
                    format!("Параметр limit должен быть целым числом от 1 до {MAX_LIMIT}, получено «{s}»."),
                    format!("Parameter limit must be an integer from 1 to {MAX_LIMIT}, got '{s}'.")
                )
            })?,
    };
    let format = match q.format.as_deref() {
        None | Some("") | Some("json") => Format::Json,
        Some("compact") => Format::Compact,
        Some(f) => {
            return Err(bad(
                "invalid_format",
                format!("Параметр format может быть json или compact, получено «{f}»."),
                format!("Parameter format must be json or compact, got '{f}'."),
            ))
        }
    };
    let since = q.since.as_deref().filter(|s| !s.is_empty());
    let (after, upto) = match (since, q.next.as_deref()) {
        (Some(_), Some(_)) => return Err(bad(
            "since_with_next",
            "Укажите либо since (начало синхронизации), либо next (следующая страница), но не оба."
                .into(),
            "Give either since (to start a sync) or next (for the next page), not both.".into(),
        )),
        (_, Some(next)) => {
            let cursor = Cursor::parse(next)
                .filter(|c| c.after < c.upto && c.upto <= latest)
                .ok_or_else(|| {
                    bad(
                        "invalid_next",
                        format!("Курсор next «{next}» не выдан этим сервером или устарел; начните синхронизацию заново с since."),
                        format!("The next cursor '{next}' was not issued by this server or is out of range; start the sync again with since.")
                    )
                })?;
            (cursor.after, cursor.upto)
        }
        (Some(s), None) => {
            let since = s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                bad(
                    "invalid_since",
                    format!(
                        "Параметр since должен быть неотрицательным целым числом, получено «{s}»."
                    ),
                    format!("Parameter since must be a non-negative integer, got '{s}'."),
                )
            })?;
            (since, latest)
        }
        (None, None) => (0, latest),
    };
    Ok(Walk {
        after,
        upto,
        limit,
        format,
    })
}

/// One page of the revocation list.
#[derive(Serialize, ToSchema)]
#[schema(as = Revocations, example = json!({"sequence": 2, "latest": 2, "next": null, "revoked": [
    {"seq": 1, "pass_id": "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b", "valid_until": "2020-04-15T20:59:59Z"},
    {"seq": 2, "pass_id": "6c5b4a39-2817-4605-9f4e-3d2c1b0a9f8e", "valid_until": "2020-04-15T12:30:00Z"}
]}))]
struct PageJson {
    /// After applying this page the reader holds every revocation of a live pass numbered
    /// up to here. Store it; once `next` is null, start the next sync with `since` = it.
    #[schema(minimum = 0)]
    sequence: i64,
    /// The newest revocation when this sync began: the sync ends there (for progress).
    #[schema(minimum = 0)]
    latest: i64,
    /// The cursor of the next page (pass it as `next`), or null when this page ends the sync.
    #[schema(pattern = r"^[0-9]+\.[0-9]+$")]
    next: Option<String>,
    /// Revocations of passes not yet expired, oldest first.
    revoked: Vec<EntryJson>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Revocation)]
struct EntryJson {
    #[schema(minimum = 1)]
    seq: i64,
    #[schema(format = Uuid)]
    pass_id: String,
    /// After this the entry can be dropped.
    #[schema(format = DateTime)]
    valid_until: String,
}

problems!(ListRefusals {
    400 => "A parameter out of range: `invalid_since`, `invalid_limit` (1–10000), `invalid_next` \
            (a cursor this server did not issue, or beyond the newest revocation), `invalid_format`, \
            `since_with_next`; `bad_request`: a parameter that is not a number, or given twice.",
        ["bad_request", "invalid_since", "invalid_limit", "invalid_next", "invalid_format",
            "since_with_next"];
});

/// Revoked pass ids, paged, for delta sync
///
/// **Role:** public. Offline verifiers sync the list page by page: the first request gives
/// `since` (the `sequence` stored after the last sync, 0 for none); while an answer has a
/// `next` cursor, ask for it. Every page is gap-free and the sync is bounded by the newest
/// revocation when it began, so nothing is missed or repeated while revocations go on, on
/// any node. Only revocations of passes not yet expired are listed: an expired pass fails
/// verification anyway.
#[utoipa::path(get, path = "/api/v1/revocations", tag = "verification",
    operation_id = "listRevocations",
    params(Params),
    responses(
        (status = 200, description = "A page of revocations of passes not yet expired, after \
            `since` (or where `next` points), oldest first. gzip-compressed when `Accept-Encoding` \
            allows it; a weak `ETag` for `If-None-Match`; `Cache-Control: public, max-age=30`. \
            With `format=compact`, `application/vnd.propusk.revocations`: the same page, 12 bytes \
            an entry (docs/token-format.md, \"Compact revocation pages\").",
            headers(("ETag" = String, description = "Weak validator of the page.")),
            content(
                (PageJson = "application/json"),
                (Vec<u8> = "application/vnd.propusk.revocations")
            )),
        (status = 304, description = "`If-None-Match` named this page's ETag: nothing was revoked since."),
        ListRefusals,
    ))]
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let latest = state.store.revocation_sequence().await?;
    let walk = walk(&q, latest)?;
    // The page is fixed by (after, upto, limit, format) but for entries that expire.
    let format_name = match walk.format {
        Format::Json => "json",
        Format::Compact => "compact",
    };
    let etag = HeaderValue::from_str(&format!(
        "W/\"rl-{format_name}-{}-{}-{}\"",
        walk.after, walk.upto, walk.limit
    ))
    .map_err(ApiError::internal)?;
    let mut out = HeaderMap::new();
    out.insert(header::ETAG, etag.clone());
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=30"),
    );
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| etag_matches(v, &etag));
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }

    let page = state
        .store
        .revocation_page(walk.after, walk.upto, walk.limit, state.clock.now())
        .await?;
    let next = page.more.then(|| {
        Cursor {
            after: page.sequence,
            upto: walk.upto,
        }
        .render()
    });
    let (content_type, body) = match walk.format {
        Format::Json => ("application/json", json_page(page, walk.upto, next)?),
        Format::Compact => (
            COMPACT_TYPE,
            compact_page(&page, walk.upto, next.as_deref()),
        ),
    };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let body = if body.len() >= GZIP_FROM && accepts_gzip(&headers) {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        // Compressing a full page takes milliseconds: off the request threads.
        tokio::task::spawn_blocking(move || gzip(&body, 6))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
    } else {
        body
    };
    Ok((out, body).into_response())
}

fn json_page(page: RevocationPage, latest: i64, next: Option<String>) -> ApiResult<Vec<u8>> {
    let json = PageJson {
        sequence: page.sequence,
        latest,
        next,
        revoked: page
            .revoked
            .into_iter()
            .map(|r| EntryJson {
                seq: r.seq,
                valid_until: r.valid_until.to_string(),
                pass_id: r.pass_id,
            })
            .collect(),
    };
    serde_json::to_vec(&json).map_err(ApiError::internal)
}

/// The compact form (big-endian): `PRL1`, sequence (u64), latest (u64), the next cursor's
/// length (u16) and ASCII text (empty on the last page), the entry count (u32), then per
/// entry the first 8 bytes of SHA-256 over the pass id's 16 bytes and the pass's end in
/// Unix seconds (u32).
fn compact_page(page: &RevocationPage, latest: i64, next: Option<&str>) -> Vec<u8> {
    let next = next.unwrap_or_default().as_bytes();
    let mut out = Vec::with_capacity(30 + next.len() + 12 * page.revoked.len());
    out.extend_from_slice(COMPACT_MAGIC);
    out.extend_from_slice(&(page.sequence as u64).to_be_bytes());
    out.extend_from_slice(&(latest as u64).to_be_bytes());
    out.extend_from_slice(&(next.len() as u16).to_be_bytes());
    out.extend_from_slice(next);
    out.extend_from_slice(&(page.revoked.len() as u32).to_be_bytes());
    for entry in &page.revoked {
        out.extend_from_slice(&compact_key(entry));
        let until = u32::try_from(entry.valid_until.as_second()).unwrap_or(u32::MAX);
        out.extend_from_slice(&until.to_be_bytes());
    }
    out
}

/// The first 8 bytes of SHA-256 over the pass id's 16 bytes (the id as stored is UUID text;
/// one that is not would be a corrupt row, hashed as its text so it is never dropped).
fn compact_key(entry: &Revoked) -> [u8; 8] {
    let digest = match uuid::Uuid::parse_str(&entry.pass_id) {
        Ok(id) => Sha256::digest(id.as_bytes()),
        Err(_) => Sha256::digest(entry.pass_id.as_bytes()),
    };
    let mut key = [0u8; 8];
    key.copy_from_slice(&digest[..8]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let c = Cursor {
            after: 10,
            upto: 42,
        };
        assert_eq!(Cursor::parse(&c.render()), Some(c));
        for bad in [
            "",
            ".",
            "1.",
            ".2",
            "1.2.3",
            "-1.5",
            "+1.5",
            "a.b",
            "1_0.20",
            "99999999999999999999.1",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
