//! The simulated patients' side of asking when in doubt, through the API: a phone whose
//! upload says check-ins are open fetches them (`GET /api/v1/device/challenges`), the patient
//! answers each new question as the core's [`answer`] model says (or not at all), and the
//! answer is posted when it is taken (`POST /api/v1/device/challenges/{id}` with its
//! `taken_at`). Afterwards the questions are read back as the officer sees them
//! (`GET /api/v1/cases/{id}/checkins`) to score when an officer saw each departure.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};
use jiff::Timestamp;
use propusk_core::monitoring::geofence::Fix;
use propusk_core::monitoring::simulate::{answer, AnswerModel, AskedAbout, PatientDay};
use serde_json::{json, Value};

/// A question as the officer reads it back.
pub struct ApiQuestion {
    trigger: Timestamp,
    deadline: Timestamp,
    answered: bool,
}

impl AskedAbout for ApiQuestion {
    fn trigger(&self) -> Timestamp {
        self.trigger
    }
    fn deadline(&self) -> Timestamp {
        self.deadline
    }
    fn answered(&self) -> bool {
        self.answered
    }
}

/// An answer to post: which phone, which question, what it carries.
pub struct Answer {
    pub phone: usize,
    pub challenge: String,
    pub fix: Fix,
}

/// The questions each phone has seen, and the answers waiting for their moment.
#[derive(Default)]
pub struct Questions {
    seen: Vec<HashSet<String>>,
    /// Answers by the tick in which they are taken.
    pub due: BTreeMap<i64, Vec<Answer>>,
    pub asked: u64,
    pub answered: u64,
}

/// A small real JPEG: the answer's "selfie" (the server checks and keeps the photo).
fn photo() -> &'static str {
    static PHOTO: OnceLock<String> = OnceLock::new();
    PHOTO.get_or_init(|| {
        use base64::Engine;
        let image = image::GrayImage::from_fn(16, 16, |x, y| image::Luma([((x * y) % 255) as u8]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut bytes, image::ImageFormat::Jpeg)
            .expect("a 16×16 JPEG encodes in memory");
        base64::engine::general_purpose::STANDARD.encode(bytes.into_inner())
    })
}

fn time(v: &Value) -> Result<Timestamp> {
    v.as_str()
        .context("a time is missing")?
        .parse()
        .context("a time is not RFC 3339")
}

impl Questions {
    pub fn new(phones: usize) -> Self {
        Self {
            seen: vec![HashSet::new(); phones],
            ..Self::default()
        }
    }

    /// Fetches phone `i`'s open check-ins and plans the answers to the new questions, each in
    /// the tick `tick_of` gives for the moment it is taken.
    pub async fn fetch(
        &mut self,
        client: &reqwest::Client,
        base: &str,
        (i, token): (usize, &str),
        day: &PatientDay,
        model: &AnswerModel,
        tick_of: impl Fn(Timestamp) -> i64,
    ) -> Result<()> {
        let url = format!("{base}/api/v1/device/challenges");
        let response = client.get(&url).bearer_auth(token).send().await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await?;
        if status != 200 {
            bail!("GET {url}: {status} {body}");
        }
        for c in body["challenges"].as_array().context("no challenges")? {
            let id = c["id"].as_str().context("a check-in without an id")?;
            if c["kind"] != "immediate" || !self.seen[i].insert(id.to_string()) {
                continue;
            }
            let number = self.seen[i].len() - 1;
            self.asked += 1;
            let (asked_at, deadline) = (time(&c["issued_at"])?, time(&c["deadline"])?);
            if let Some(fix) = answer(model, day, number, asked_at, deadline) {
                self.answered += 1;
                self.due.entry(tick_of(fix.ts())).or_default().push(Answer {
                    phone: i,
                    challenge: id.to_string(),
                    fix,
                });
            }
        }
        Ok(())
    }
}

/// Posts one answer, taken at its fix's time.
pub async fn post(client: &reqwest::Client, base: &str, token: &str, a: &Answer) -> Result<()> {
    let url = format!("{base}/api/v1/device/challenges/{}", a.challenge);
    let body = json!({
        "photo": photo(),
        "lat": a.fix.point().lat(),
        "lon": a.fix.point().lon(),
        "accuracy_m": a.fix.accuracy_m(),
        "taken_at": a.fix.ts().to_string(),
    });
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status().as_u16();
    if status != 200 {
        bail!(
            "POST {url}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// A case's questions (immediate check-ins) as the officer reads them.
pub async fn read(
    client: &reqwest::Client,
    base: &str,
    officer: &str,
    case_id: &str,
) -> Result<Vec<ApiQuestion>> {
    let url = format!("{base}/api/v1/cases/{case_id}/checkins");
    let response = client.get(&url).bearer_auth(officer).send().await?;
    let status = response.status().as_u16();
    let body: Value = response.json().await?;
    if status != 200 {
        bail!("GET {url}: {status} {body}");
    }
    body["checkins"]
        .as_array()
        .context("no checkins")?
        .iter()
        .filter(|c| c["kind"] == "immediate")
        .map(|c| {
            Ok(ApiQuestion {
                trigger: time(&c["asked_for"]["ts"])?,
                deadline: time(&c["deadline"])?,
                answered: !c["answered_at"].is_null(),
            })
        })
        .collect()
}
