//! The revocation list at city size: paged with a `next` cursor, gap-free while revocations
//! go on across several nodes, only passes not yet expired, gzip, ETag/304, the compact form
//! for phones, and a problem+json 400 for every parameter out of range. On SQLite and on
//! PostgreSQL.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{phone, problem, TestApp};

/// Issues a pass lasting `minutes` (trash: up to 30; emergency: up to 720); returns its id.
async fn issue(app: &TestApp, resident: &str, purpose: &str, minutes: u32) -> String {
    let r = app
        .post(
            "/api/v1/passes",
            Some(resident),
            json!({"purpose": purpose, "duration_minutes": minutes}),
        )
        .await;
    let status = r.status();
    let body = r.json::<Value>().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn cancel(app: &TestApp, resident: &str, id: &str) {
    let r = app
        .request(
            Method::DELETE,
            &format!("/api/v1/passes/{id}"),
            Some(resident),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn page(app: &TestApp, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/revocations?{query}"), None).await;
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    r.json().await.unwrap()
}

/// One sync as a verifier makes it, from `since`, `limit` entries a page, each page from the
/// next node in turn. Returns the entries (seq, pass id) and the sequence to store.
async fn sync(nodes: &[&TestApp], since: i64, limit: u32) -> (Vec<(i64, String)>, i64) {
    let mut entries = Vec::new();
    let mut query = format!("since={since}&limit={limit}");
    for turn in 0.. {
        let body = page(nodes[turn % nodes.len()], &query).await;
        let revoked = body["revoked"].as_array().unwrap();
        assert!(revoked.len() <= limit as usize, "{body}");
        for r in revoked {
            entries.push((
                r["seq"].as_i64().unwrap(),
                r["pass_id"].as_str().unwrap().to_string(),
            ));
        }
        match body["next"].as_str() {
            Some(next) => query = format!("next={next}&limit={limit}"),
            None => {
                assert_eq!(body["sequence"], body["latest"], "{body}");
                return (entries, body["sequence"].as_i64().unwrap());
            }
        }
    }
    unreachable!()
}

on_every_backend!(
    pages_compress_answer_304_and_leave_out_expired_passes,
    paging_scenario
);
async fn paging_scenario(app: &TestApp) {
    // 25 revocations from two residents (the regime allows 20 passes a day): every fifth
    // pass is a 10-minute one, the others last 12 hours.
    let mut residents = Vec::new();
    for passport in ["4510 765432", "4510 765433"] {
        residents.push(
            app.resident(&phone(), "Орлова Анна Павловна", passport)
                .await,
        );
    }
    let mut ids = Vec::new();
    for i in 0..25 {
        let (purpose, minutes) = if i % 5 == 0 {
            ("trash", 10)
        } else {
            ("emergency", 720)
        };
        let resident = &residents[i % 2];
        let id = issue(app, resident, purpose, minutes).await;
        cancel(app, resident, &id).await;
        ids.push(id);
    }
    // Pages of 10: 10, 10, 5, each ending where the next begins.
    let first = page(app, "since=0&limit=10").await;
    assert_eq!(first["revoked"].as_array().unwrap().len(), 10);
    assert_eq!(first["sequence"], 10);
    assert_eq!(first["latest"], 25);
    let next = first["next"].as_str().unwrap().to_string();
    let second = page(app, &format!("next={next}&limit=10")).await;
    assert_eq!(second["revoked"][0]["seq"], 11);
    assert_eq!(second["sequence"], 20);
    let third = page(
        app,
        &format!("next={}&limit=10", second["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(third["revoked"].as_array().unwrap().len(), 5);
    assert_eq!(third["sequence"], 25);
    assert!(third["next"].is_null());
    let (all, sequence) = sync(&[app], 0, 10).await;
    assert_eq!(sequence, 25);
    assert_eq!(
        all.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(),
        ids
    );
    // The default page holds them all.
    let whole = page(app, "").await;
    assert_eq!(whole["revoked"].as_array().unwrap().len(), 25);
    assert!(whole["next"].is_null());

    // Nothing new: the same answer, and 304 to a client that has it.
    let r = app.get("/api/v1/revocations?since=25", None).await;
    let etag = r.headers()[ETAG].clone();
    assert!(etag.to_str().unwrap().starts_with("W/\""));
    assert_eq!(r.headers()["cache-control"], "public, max-age=30");
    let r = app
        .client
        .get(format!("{}/api/v1/revocations?since=25", app.base))
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.bytes().await.unwrap().is_empty());
    let extra = issue(app, &residents[1], "emergency", 60).await;
    cancel(app, &residents[1], &extra).await;
    let r = app
        .client
        .get(format!("{}/api/v1/revocations?since=25", app.base))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["revoked"][0]["pass_id"], extra.as_str());
    assert_eq!(body["sequence"], 26);

    // gzip when asked for, the same JSON inside.
    let plain = app
        .get("/api/v1/revocations?since=0", None)
        .await
        .bytes()
        .await
        .unwrap();
    let r = app
        .client
        .get(format!("{}/api/v1/revocations?since=0", app.base))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let zipped = r.bytes().await.unwrap();
    assert!(
        zipped.len() * 2 < plain.len(),
        "{} of {}",
        zipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);

    // The compact form: the same page, 12 bytes an entry.
    let json = page(app, "since=0&limit=10").await;
    let r = app
        .get("/api/v1/revocations?since=0&limit=10&format=compact", None)
        .await;
    assert_eq!(
        r.headers()[CONTENT_TYPE],
        "application/vnd.propusk.revocations"
    );
    let compact = Compact::parse(&r.bytes().await.unwrap());
    assert_eq!(compact.sequence, 10);
    assert_eq!(compact.latest, 26);
    assert_eq!(compact.next.as_deref(), json["next"].as_str());
    let expected: Vec<(Vec<u8>, u32)> = json["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let id = uuid::Uuid::parse_str(e["pass_id"].as_str().unwrap()).unwrap();
            let until: jiff::Timestamp = e["valid_until"].as_str().unwrap().parse().unwrap();
            (
                Sha256::digest(id.as_bytes())[..8].to_vec(),
                until.as_second() as u32,
            )
        })
        .collect();
    assert_eq!(compact.entries, expected);

    // Half an hour on, the 10-minute passes have expired and are left out; the numbering
    // and the sequence stay.
    app.state.clock.advance(30 * 60);
    let (live, sequence) = sync(&[app], 0, 7).await;
    assert_eq!(sequence, 26);
    let short: BTreeSet<i64> = (0..25).filter(|i| i % 5 == 0).map(|i| i + 1).collect();
    let expected: Vec<i64> = (1..=26).filter(|s| !short.contains(s)).collect();
    assert_eq!(live.iter().map(|(s, _)| *s).collect::<Vec<_>>(), expected);

    // Every parameter out of range is a problem+json 400 that says what is expected.
    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=10001", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("since=-1", "invalid_since"),
        ("since=x", "invalid_since"),
        ("format=xml", "invalid_format"),
        ("next=bogus", "invalid_next"),
        ("next=3.27", "invalid_next"),
        ("next=5.5", "invalid_next"),
        ("next=9.3", "invalid_next"),
        ("next=-1.5", "invalid_next"),
        ("since=0&next=1.2", "since_with_next"),
    ] {
        let r = app.get(&format!("/api/v1/revocations?{query}"), None).await;
        problem(r, StatusCode::BAD_REQUEST, code).await;
    }
    let r = app
        .client
        .get(format!("{}/api/v1/revocations?limit=0", app.base))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let body = problem(r, StatusCode::BAD_REQUEST, "invalid_limit").await;
    assert_eq!(
        body["detail"],
        "Parameter limit must be an integer from 1 to 10000, got '0'."
    );

    // A day after they ended, the revocations of the 10-minute passes and of the one-hour
    // pass are forgotten; the 12-hour ones (ended 13 hours ago) are kept a little longer.
    // The numbering stays.
    app.state.clock.advance(25 * 3600);
    let store = &app.state.store;
    assert_eq!(
        store
            .forget_ended_revocations(app.state.clock.now())
            .await
            .unwrap(),
        6
    );
    assert_eq!(store.revocation_sequence().await.unwrap(), 26);
    let left = store
        .revocation_page(0, 26, 100, jiff::Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(left.revoked.len(), 20);
    assert!(left
        .revoked
        .iter()
        .all(|r| !short.contains(&r.seq) && r.seq != 26));
    let (none, sequence) = sync(&[app], 0, 7).await;
    assert_eq!((none.len(), sequence), (0, 26), "every pass has ended");
}

/// A compact page, read as a phone reads it (docs/token-format.md).
struct Compact {
    sequence: u64,
    latest: u64,
    next: Option<String>,
    entries: Vec<(Vec<u8>, u32)>,
}

impl Compact {
    fn parse(b: &[u8]) -> Self {
        assert_eq!(&b[..4], b"PRL1");
        let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().unwrap());
        let next_len = usize::from(u16::from_be_bytes([b[20], b[21]]));
        let next = String::from_utf8(b[22..22 + next_len].to_vec()).unwrap();
        let at = 22 + next_len;
        let count = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let body = &b[at + 4..];
        assert_eq!(body.len(), count * 12);
        Self {
            sequence: u64_at(4),
            latest: u64_at(12),
            next: (!next.is_empty()).then_some(next),
            entries: body
                .chunks(12)
                .map(|e| {
                    (
                        e[..8].to_vec(),
                        u32::from_be_bytes(e[8..].try_into().unwrap()),
                    )
                })
                .collect(),
        }
    }
}

on_every_backend!(
    a_verifier_paging_across_nodes_while_revocations_go_on_misses_and_repeats_nothing,
    several_nodes_scenario
);
async fn several_nodes_scenario(first: &TestApp) {
    let second = TestApp::start(first.backend.clone(), first.database_url.clone(), 1024).await;
    let third = TestApp::start(first.backend.clone(), first.database_url.clone(), 1024).await;
    let nodes = [first, &second, &third];

    // Six residents, two on each node, with 15 passes each (the regime allows 20 a day):
    // every third lasts 10 minutes, the others 12 hours.
    let mut holders = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for h in 0..2 {
            let token = node
                .resident(&phone(), "Зайцев Олег Ильич", &format!("4511 0000{n}{h}"))
                .await;
            let mut passes = Vec::new();
            for i in 0..15 {
                let (purpose, minutes) = if i % 3 == 0 {
                    ("trash", 10)
                } else {
                    ("emergency", 720)
                };
                passes.push(issue(node, &token, purpose, minutes).await);
            }
            holders.push((token, passes, *node));
        }
    }

    // Each node cancels its residents' passes while a verifier syncs again and again, pages
    // of 7 taken from the nodes in turn, each sync starting where the last one ended.
    let done = Arc::new(AtomicBool::new(false));
    let cancelling = holders.iter().map(|(token, passes, node)| async move {
        for id in passes {
            cancel(node, token, id).await;
        }
    });
    let syncing = {
        let done = done.clone();
        async move {
            let (mut seen, mut sequence, mut syncs) = (Vec::new(), 0, 0);
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (entries, next) = sync(&nodes, sequence, 7).await;
                assert!(next >= sequence, "the sequence never goes back");
                seen.extend(entries);
                sequence = next;
                syncs += 1;
                // One more sync after the last cancellation, to collect it.
                if finished {
                    return (seen, sequence, syncs);
                }
                tokio::task::yield_now().await;
            }
        }
    };
    let cancelled = async {
        futures_util::future::join_all(cancelling).await;
        done.store(true, Ordering::SeqCst);
    };
    let ((seen, sequence, syncs), ()) = tokio::join!(syncing, cancelled);
    assert!(syncs > 1, "the verifier synced while revocations went on");
    assert_eq!(sequence, 90);
    let numbers: Vec<i64> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        numbers,
        (1..=90).collect::<Vec<_>>(),
        "none missed, none repeated"
    );
    let ids: BTreeSet<&String> = seen.iter().map(|(_, id)| id).collect();
    let all: BTreeSet<&String> = holders.iter().flat_map(|(_, p, _)| p).collect();
    assert_eq!(ids, all);

    // Half an hour on (every node's clock), the 10-minute passes are absent from a first sync.
    for node in nodes {
        node.state.clock.advance(30 * 60);
    }
    let short: BTreeSet<&String> = holders
        .iter()
        .flat_map(|(_, p, _)| p.iter().step_by(3))
        .collect();
    let (fresh, sequence) = sync(&nodes, 0, 7).await;
    assert_eq!(sequence, 90);
    assert_eq!(fresh.len(), 60);
    assert!(fresh.iter().all(|(_, id)| !short.contains(id)));
    assert!(fresh.windows(2).all(|w| w[0].0 < w[1].0));

    third.stop_node().await;
    second.stop_node().await;
}
