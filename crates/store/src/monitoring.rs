//! Quarantine monitoring: cases, the devices enrolled to them, location reports, flags and
//! the officers' decisions on them. The rules live in `propusk_core::monitoring`; this module
//! stores what they need and what they decide, each step in one transaction with the SMS it
//! causes and the audit entry that records it.
//!
//! - **Ingest is idempotent and evaluates in the same transaction.** A report is keyed by
//!   (device, time): a retried batch inserts nothing and changes nothing. When a batch adds
//!   reports, the geofence is evaluated over the window the core's docs describe — from an
//!   hour before the oldest new report (or the start of an ongoing flag, if earlier), plus
//!   the one report just before — and [`reconcile`] matches the result to the stored flags:
//!   a new episode is raised ([`FlagCase::raise`]) and the patient's SMS is queued with it; a
//!   known one has its period and evidence updated, with no new SMS.
//! - **Silence needs no report to be noticed.** [`Store::sweep_monitoring`] evaluates every
//!   monitored case at a given moment, which is how a dead phone becomes `no_signal` (never
//!   `left_home`: the evaluator cannot see a departure in reports that do not exist).
//! - **Monitoring counts from the first enrollment.** Silence before there was any phone to
//!   hear from is not a flag, so evaluation starts at the later of the case's start and the
//!   first enrollment; it stops at the case's end (or the moment it was ended early).
//! - **Every decision is a replayed event.** A decision loads the flag's event log, rebuilds
//!   the state with [`FlagCase::replay`] (which re-checks every rule), applies the step and
//!   appends the one new event, queues the SMS the step requires, and writes the audit
//!   entry. The core refuses what the rules forbid: deciding before the patient was told,
//!   sanctioning silence, the confirming officer deciding the appeal.
//! - **The patient is told before anyone decides.** The flag leaves `open` for `notified`
//!   only when the outbox records its SMS as sent ([`sms_sent_in`]).

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use propusk_core::domain::{GeoPoint, Line, Paragraph};
use propusk_core::monitoring::asking::{candidate, decide, AskConfig};
use propusk_core::monitoring::case::{
    Actor, CaseStatus, Event, FlagCase, FlagStage, OfficerId, PatientSms, Sanction, TransitionError,
};
use propusk_core::monitoring::checkins::CheckinConfig;
use propusk_core::monitoring::geofence::{
    context_start, evaluate_with_answers, opens_away, Fix, Geofence, GeofenceConfig,
};
use propusk_core::monitoring::{is_news, reconcile, Flag, FlagKind, KnownFlag, Reconciled};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::auth::hex;
use crate::location_days::day_of;
use crate::outbox::{self, SmsKind};
use crate::{audit, new_id, secs, ts, Backend, Result, Store, StoreError};

/// Reports per INSERT statement (4 parameters each, plus 3 shared, well under both
/// backends' limits; see `ingest_fixes` on why not more).
const INSERT_CHUNK: usize = 250;

/// Renders a patient SMS in the case's time zone (an IANA name) and language (`ru` or `en`).
/// The server passes the SMS crate's texts; the store stays free of wording.
pub type SmsText<'a> = &'a (dyn Fn(&PatientSms, &str, &str) -> String + Send + Sync);

/// A case as a health officer opens it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub phone: String,
    pub full_name: String,
    pub home_address: Line,
    pub home: GeoPoint,
    pub radius_m: f64,
    /// IANA name, e.g. `Europe/Moscow`.
    pub time_zone: String,
    /// The language of the patient's SMS: `ru` or `en`.
    pub lang: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: String,
    pub phone: String,
    pub full_name: String,
    /// None once the case's data has been purged.
    pub home_address: Option<String>,
    /// None once the case's data has been purged.
    pub home: Option<GeoPoint>,
    pub radius_m: f64,
    pub time_zone: String,
    /// The language of the patient's SMS: `ru` or `en`.
    pub lang: String,
    pub starts_at: Timestamp,
    /// The end of monitoring (moved earlier when a case is ended early).
    pub ends_at: Timestamp,
    pub status: CaseStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    /// When the first device enrolled.
    pub monitoring_since: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// When the raw locations and the home were erased.
    pub purged_at: Option<Timestamp>,
    /// How many location reports the case had when they were erased.
    pub purged_fixes: Option<i64>,
}

/// A stored flag with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagRecord {
    pub id: String,
    pub case_id: String,
    pub kind: FlagKind,
    pub from: Timestamp,
    pub to: Timestamp,
    pub ongoing: bool,
    /// The core's `Evidence`, as stored (map-free).
    pub evidence: serde_json::Value,
    /// Where the flag stands: its history's state, by name.
    pub state: FlagStage,
    pub raised_at: Timestamp,
    /// Every step, oldest first.
    pub history: Vec<Event>,
    /// The sanction in force (confirmed and not lifted on appeal).
    pub sanction: Option<Sanction>,
    /// Whether the flag awaits an officer (a first decision or an appeal).
    pub awaits_officer: bool,
    /// The patient's explanation, written before the first decision.
    pub statement: Option<PatientStatement>,
}

/// What a patient wrote about a flag before an officer decided it ([`Store::explain_flag`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientStatement {
    pub text: String,
    /// When it was last written (a statement may be replaced until the decision).
    pub written_at: Timestamp,
}

/// Why a statement was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// No such flag on the patient's case.
    #[error("no such flag")]
    NotFound,
    /// An officer has already decided the flag: the statement can no longer change what
    /// they read.
    #[error("the flag is already decided")]
    Decided,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ExplainError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub case_id: String,
    pub kind: DeviceKind,
}

/// Whose phone a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// The patient's own phone, enrolled with the case's one-time code.
    Own,
    /// A phone of the health department, lent for the quarantine and enrolled with its
    /// one-time loaner key.
    Loaner,
}

impl DeviceKind {
    /// The stored name: `own` or `loaner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::Loaner => "loaner",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "own" => Ok(Self::Own),
            "loaner" => Ok(Self::Loaner),
            other => Err(corrupt("device kind", other)),
        }
    }
}

/// What a batch of reports did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// New reports stored.
    pub accepted: u32,
    /// Reports already stored (a retried batch).
    pub duplicates: u32,
    /// Reports outside the monitored period (before enrollment or the case start, after its
    /// end): accepted and not stored.
    pub ignored: u32,
    /// New flags raised.
    pub raised: u32,
    /// The immediate check-in asked because of these reports, if one was.
    pub asked: Option<String>,
    /// Check-ins open now (the app shows them at once).
    pub open_challenges: u32,
}

/// A change to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseChange {
    /// Monitoring goes on until this later moment.
    Extend(Timestamp),
    /// Monitoring stops now (recovery, hospital, a negative test).
    EndNow,
    /// The case is closed: devices are revoked, nothing more is reported. Flags and appeals
    /// may still be decided.
    Close,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseChangeError {
    #[error("no such case")]
    NotFound,
    #[error("the case is {0}")]
    WrongStatus(CaseStatus),
    #[error("the new end is not later than the current one")]
    NotLater,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CaseChangeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A step an officer takes on a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfficerStep {
    Dismiss { note: Paragraph },
    Confirm { sanction: Sanction, note: Paragraph },
    DecideAppeal { upheld: bool, note: Paragraph },
}

#[derive(Debug, thiserror::Error)]
pub enum FlagStepError {
    #[error("no such flag")]
    NotFound,
    #[error(transparent)]
    Refused(TransitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for FlagStepError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

const CASE_COLUMNS: &str = "id, phone, full_name, home_address, home_lat, home_lon, radius_m, \
     time_zone, starts_at, ends_at, status, created_by, created_at, monitoring_since, ended_at, \
     closed_at, purged_at, purged_fixes, lang";

fn case_from_row(row: &AnyRow) -> Result<CaseRecord> {
    let opt = |c: &str| crate::opt_ts(row, c);
    Ok(CaseRecord {
        id: row.try_get("id")?,
        phone: row.try_get("phone")?,
        full_name: row.try_get("full_name")?,
        home_address: row.try_get("home_address")?,
        home: match (
            row.try_get::<Option<f64>, _>("home_lat")?,
            row.try_get::<Option<f64>, _>("home_lon")?,
        ) {
            (Some(lat), Some(lon)) => {
                Some(GeoPoint::new(lat, lon).map_err(|e| corrupt("case home", e))?)
            }
            _ => None,
        },
        radius_m: row.try_get("radius_m")?,
        time_zone: row.try_get("time_zone")?,
        lang: row.try_get("lang")?,
        starts_at: ts(row.try_get("starts_at")?)?,
        ends_at: ts(row.try_get("ends_at")?)?,
        status: case_status(row.try_get("status")?)?,
        created_by: row.try_get("created_by")?,
        created_at: ts(row.try_get("created_at")?)?,
        monitoring_since: opt("monitoring_since")?,
        ended_at: opt("ended_at")?,
        closed_at: opt("closed_at")?,
        purged_at: opt("purged_at")?,
        purged_fixes: row.try_get("purged_fixes")?,
    })
}

const FLAG_COLUMNS: &str = "id, case_id, kind, from_ts, to_ts, ongoing, evidence, state, raised_at";
/// What [`flag_from_row`] reads: the columns a flag is inserted with, and the statement.
const FLAG_READ: &str =
    "id, case_id, kind, from_ts, to_ts, ongoing, evidence, state, raised_at, statement, statement_at";

/// [`flag_from_row`] for each of `rows`, in order.
async fn flags_from_rows(
    conn: &mut sqlx::AnyConnection,
    rows: &[AnyRow],
) -> Result<Vec<FlagRecord>> {
    let mut flags = Vec::with_capacity(rows.len());
    for row in rows {
        flags.push(flag_from_row(conn, row).await?);
    }
    Ok(flags)
}

async fn flag_from_row(conn: &mut sqlx::AnyConnection, row: &AnyRow) -> Result<FlagRecord> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let evidence: String = row.try_get("evidence")?;
    let history = events(conn, &id).await?;
    let case = FlagCase::replay(&history).map_err(|e| corrupt("flag history", e))?;
    Ok(FlagRecord {
        case_id: row.try_get("case_id")?,
        kind: FlagKind::parse(&kind).ok_or_else(|| corrupt("flag kind", &kind))?,
        from: ts(row.try_get("from_ts")?)?,
        to: ts(row.try_get("to_ts")?)?,
        ongoing: row.try_get::<i64, _>("ongoing")? != 0,
        evidence: serde_json::from_str(&evidence).map_err(|e| corrupt("flag evidence", e))?,
        state: case.state().stage(),
        raised_at: ts(row.try_get("raised_at")?)?,
        sanction: case.sanction_in_force().cloned(),
        awaits_officer: case.awaits_officer(),
        statement: match (
            row.try_get::<Option<String>, _>("statement")?,
            crate::opt_ts(row, "statement_at")?,
        ) {
            (Some(text), Some(written_at)) => Some(PatientStatement { text, written_at }),
            _ => None,
        },
        history,
        id,
    })
}

async fn events(conn: &mut sqlx::AnyConnection, flag_id: &str) -> Result<Vec<Event>> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT event FROM monitoring_flag_events WHERE flag_id = $1 ORDER BY seq")
            .bind(flag_id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|(e,)| serde_json::from_str(e).map_err(|e| corrupt("flag event", e)))
        .collect()
}

fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::System => "system".into(),
        Actor::Patient => "patient".into(),
        Actor::Officer(id) => format!("officer:{id}"),
    }
}

fn event_name(event: &Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v["event"].as_str().map(str::to_owned))
        .expect("an event serializes with its `event` tag")
}

async fn append_event(
    tx: &mut Transaction<'static, Any>,
    flag_id: &str,
    seq: usize,
    event: &Event,
) -> Result<()> {
    let json = serde_json::to_string(event).map_err(|e| corrupt("flag event", e))?;
    sqlx::query(
        "INSERT INTO monitoring_flag_events (flag_id, seq, at, actor, event) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(flag_id)
    .bind(seq as i64)
    .bind(secs(event.at()))
    .bind(actor_name(&event.actor()))
    .bind(json)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn case_in(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: &str,
) -> Result<Option<CaseRecord>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM monitoring_cases WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(case_from_row).transpose()
}

/// The outbox key of a flag's first SMS; [`sms_sent_in`] recognises it.
fn raised_key(flag_id: &str) -> String {
    format!("flag-raised:{flag_id}")
}

/// Stores a new flag for `case`, raised at `now` ([`FlagCase::raise`]), and queues the
/// patient's SMS about it in the same transaction. Returns the flag's id.
pub(crate) async fn raise_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    flag: &Flag,
    now: Timestamp,
    text: SmsText<'_>,
) -> Result<String> {
    let id = new_id();
    let evidence =
        serde_json::to_string(&flag.evidence).map_err(|e| corrupt("flag evidence", e))?;
    let t = FlagCase::raise(flag.kind(), flag.from, flag.to, now);
    sqlx::query(&format!(
        "INSERT INTO monitoring_flags ({FLAG_COLUMNS}, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
    ))
    .bind(&id)
    .bind(&case.id)
    .bind(flag.kind().as_str())
    .bind(secs(flag.from))
    .bind(secs(flag.to))
    .bind(i64::from(flag.ongoing))
    .bind(evidence)
    .bind(t.case.state().as_str())
    .bind(secs(now))
    .execute(&mut **tx)
    .await?;
    append_event(tx, &id, 1, &t.event).await?;
    for sms in &t.notifications {
        let body = text(sms, &case.time_zone, &case.lang);
        outbox::enqueue(
            tx,
            &raised_key(&id),
            &case.phone,
            &body,
            SmsKind::Warning,
            now,
        )
        .await?;
    }
    Ok(id)
}

/// A case's stored `left_home` and `no_signal` flags: (id, kind, from, to, ongoing).
type KnownRow = (String, String, i64, i64, i64);

/// The condition that selects a case's flags [`evaluate_in`] reconciles with.
const ROLLING_FLAGS: &str = "kind IN ('left_home', 'no_signal')";

/// What the store needs to ask the patient when in doubt (the core's `asking`).
#[derive(Debug, Clone, Copy)]
pub struct Asking<'a> {
    /// The check-in hours and the time to answer.
    pub checkins: &'a CheckinConfig,
    /// Whether, and how eagerly, to ask.
    pub ask: &'a AskConfig,
}

/// A case's status as stored; an unknown one is a corrupt row.
pub(crate) fn case_status(name: String) -> Result<CaseStatus> {
    CaseStatus::parse(&name).ok_or_else(|| corrupt("case status", &name))
}

/// A location report as stored. Reports were checked before they were stored: one that no
/// longer reads is a corrupt row, not a report to skip.
pub(crate) fn stored_fix(t: i64, lat: f64, lon: f64, accuracy_m: f64) -> Result<Fix> {
    Fix::from_parts(ts(t)?, lat, lon, accuracy_m).map_err(|e| corrupt("location report", e))
}

/// What an evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Evaluated {
    /// New flags raised.
    raised: u32,
    /// The immediate check-in asked, if one was.
    asked: Option<String>,
}

/// Evaluates a case's reports at `now` over the window starting an hour before `window_from`
/// and stores what comes of it. Returns how many flags were raised.
pub(crate) async fn evaluate_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    window_from: Timestamp,
    now: Timestamp,
    cfg: &GeofenceConfig,
    text: SmsText<'_>,
) -> Result<u32> {
    let done = evaluate_known_in(tx, case, None, window_from, now, cfg, None, text).await?;
    Ok(done.raised)
}

/// [`evaluate_in`], told whether the case has any flags to reconcile with (`Some(false)`
/// saves reading them; ingest learns it with the case), and, with `asking`, asking the
/// patient at once when a fresh fix is far from home (uploads only: the question is about
/// where the phone is now).
#[allow(clippy::too_many_arguments)]
async fn evaluate_known_in(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    has_flags: Option<bool>,
    window_from: Timestamp,
    now: Timestamp,
    cfg: &GeofenceConfig,
    asking: Option<Asking<'_>>,
    text: SmsText<'_>,
) -> Result<Evaluated> {
    let mut done = Evaluated::default();
    let (Some(since), Some(home)) = (case.monitoring_since, case.home) else {
        return Ok(done);
    };
    let start = since.max(case.starts_at);
    let until = now.min(case.ends_at);
    if until <= start {
        return Ok(done);
    }
    let fence = Geofence::new(home, case.radius_m).map_err(|e| corrupt("case radius", e))?;
    let known_rows: Vec<KnownRow> = if has_flags == Some(false) {
        Vec::new()
    } else {
        sqlx::query_as(&format!(
            "SELECT id, kind, from_ts, to_ts, ongoing FROM monitoring_flags \
             WHERE case_id = $1 AND {ROLLING_FLAGS}"
        ))
        .bind(&case.id)
        .fetch_all(&mut **tx)
        .await?
    };
    let mut known = Vec::with_capacity(known_rows.len());
    let mut window = window_from
        .checked_sub(SignedDuration::from_hours(1))
        .unwrap_or(window_from);
    // Ongoing flags are re-evaluated from their start, so the window always covers them.
    let mut still_ongoing: Vec<String> = Vec::new();
    for (id, kind, from, to, ongoing) in known_rows {
        if ongoing != 0 {
            window = window.min(ts(from)?);
            still_ongoing.push(id.clone());
        }
        let kind = FlagKind::parse(&kind).ok_or_else(|| corrupt("flag kind", &kind))?;
        known.push(KnownFlag {
            key: id,
            kind,
            from: ts(from)?,
            to: ts(to)?,
        });
    }
    // The window's reports and the last one before it, in one statement (both come from
    // the `(case_id, ts)` index).
    let window_secs = secs(window);
    let rows: Vec<(i64, f64, f64, f64, i64)> = sqlx::query_as(
        "SELECT ts, lat, lon, accuracy_m, received_at FROM location_fixes WHERE case_id = $1 \
         AND ts >= COALESCE((SELECT MAX(ts) FROM location_fixes WHERE case_id = $1 AND ts < $2), $2) \
         ORDER BY ts",
    )
    .bind(&case.id)
    .bind(window_secs)
    .fetch_all(&mut **tx)
    .await?;
    // The newest report received before this evaluation, for the core's `is_news`.
    let newest_before = rows
        .iter()
        .filter(|r| r.4 < secs(now))
        .map(|r| r.0)
        .max()
        .map(ts)
        .transpose()?;
    // The window's evaluation starts at the last fix before it: the time before that
    // fix was judged by earlier evaluations, and starting at `start` would make the
    // unread part of the track look like silence (a false `no_signal`).
    let evaluation_start = match rows.first().filter(|(t, ..)| *t < window_secs) {
        Some((t, ..)) => start.max(ts(*t)?),
        None => start,
    };
    let mut fixes: Vec<Fix> = rows
        .iter()
        .map(|&(t, lat, lon, acc, _)| stored_fix(t, lat, lon, acc))
        .collect::<Result<_>>()?;
    let mut evaluation_start = evaluation_start;
    // A window that opens away from home also reads back to the last fix at home, so the
    // evaluator sees how the phone got there (the core's `context_start`).
    if let Some(first) = fixes.first().filter(|_| opens_away(&fence, &fixes, cfg)) {
        let earlier: Vec<(i64, f64, f64, f64)> = sqlx::query_as(
            "SELECT ts, lat, lon, accuracy_m FROM location_fixes WHERE case_id = $1 \
             AND ts >= $2 AND ts < $3 ORDER BY ts",
        )
        .bind(&case.id)
        .bind(secs(first.ts() - cfg.max_context))
        .bind(secs(first.ts()))
        .fetch_all(&mut **tx)
        .await?;
        let mut all: Vec<Fix> = earlier
            .iter()
            .map(|&(t, lat, lon, acc)| stored_fix(t, lat, lon, acc))
            .collect::<Result<_>>()?;
        let before = all.len();
        all.append(&mut fixes);
        let from = context_start(&fence, &all, before, cfg.max_context, cfg);
        fixes = all.split_off(from);
        if let Some(f) = fixes.first() {
            evaluation_start = evaluation_start.min(start.max(f.ts()));
        }
    }
    let answers = crate::checkins::answers_in(tx, &case.id, evaluation_start, until).await?;
    let fresh = evaluate_with_answers(&fence, &fixes, &answers, evaluation_start, until, cfg);
    let active = case.status == CaseStatus::Active && now < case.ends_at;
    let may_ask =
        asking.filter(|a| active && candidate(&fence, &fixes, &answers, now, cfg, a.ask).is_some());
    if let Some(asking) = may_ask {
        let asked = crate::checkins::asked_in(tx, &case.id, now).await?;
        let tz = TimeZone::get(&case.time_zone).map_err(|e| corrupt("case time zone", e))?;
        let ask = decide(
            &fence,
            &fixes,
            &answers,
            &fresh,
            &asked,
            now,
            &tz,
            asking.checkins,
            cfg,
            asking.ask,
        );
        if let Some(ask) = ask {
            done.asked = crate::checkins::ask_in(tx, case, home, &ask, now, text).await?;
        }
    }
    for step in reconcile(&known, fresh) {
        match step {
            Reconciled::New(flag) if !is_news(&flag, window_from, newest_before) => {}
            Reconciled::New(flag) => {
                raise_in(tx, case, &flag, now, text).await?;
                done.raised += 1;
            }
            Reconciled::Update { key, flag } => {
                still_ongoing.retain(|k| *k != key);
                let evidence = serde_json::to_string(&flag.evidence)
                    .map_err(|e| corrupt("flag evidence", e))?;
                sqlx::query(
                    "UPDATE monitoring_flags SET from_ts = CASE WHEN from_ts < $1 THEN from_ts ELSE $1 END, \
                     to_ts = CASE WHEN to_ts > $2 THEN to_ts ELSE $2 END, ongoing = $3, evidence = $4, \
                     updated_at = $5 WHERE id = $6",
                )
                .bind(secs(flag.from))
                .bind(secs(flag.to))
                .bind(i64::from(flag.ongoing))
                .bind(evidence)
                .bind(secs(now))
                .bind(&key)
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    // An episode the reports no longer show going on (a late batch filled a silence, a
    // "departure" turned out to be jumps) is over; its flag stays for an officer to close.
    for key in still_ongoing {
        sqlx::query("UPDATE monitoring_flags SET ongoing = 0, updated_at = $1 WHERE id = $2")
            .bind(secs(now))
            .bind(&key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(done)
}

/// The outbox sent message `outbox_id`: if it was a flag's first SMS, the flag is now
/// `notified` and may be decided. Called in the outbox's own transaction.
pub(crate) async fn sms_sent_in(
    tx: &mut Transaction<'static, Any>,
    outbox_id: i64,
    now: Timestamp,
) -> Result<()> {
    let key: Option<(String,)> =
        sqlx::query_as("SELECT idempotency_key FROM sms_outbox WHERE id = $1")
            .bind(outbox_id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some(flag_id) = key.as_ref().and_then(|(k,)| k.strip_prefix("flag-raised:")) else {
        return Ok(());
    };
    let history = events(tx, flag_id).await?;
    let Ok(case) = FlagCase::replay(&history) else {
        return Ok(());
    };
    let at = now.max(history.last().map_or(now, Event::at));
    if let Ok(t) = case.mark_notified(at) {
        append_event(tx, flag_id, history.len() + 1, &t.event).await?;
        sqlx::query("UPDATE monitoring_flags SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(t.case.state().as_str())
            .bind(secs(now))
            .bind(flag_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Opens a case; `enrollment_code` is shown once to the officer and the case keeps only
    /// its hash. With `enrollment_sms`, the text that brings the code to the patient's phone
    /// is queued in the same transaction (the outbox sends and retries it), and so the code
    /// stands in that outbox row as sign-in codes do.
    /// Returns the case id.
    pub async fn create_case(
        &self,
        case: &NewCase,
        enrollment_code: &str,
        enrollment_sms: Option<&str>,
        created_by: &str,
        now: Timestamp,
    ) -> Result<String> {
        let id = new_id();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO monitoring_cases (id, phone, full_name, home_address, home_lat, home_lon, \
             radius_m, time_zone, starts_at, ends_at, status, enrollment_code_hash, case_seed, \
             created_by, created_at, lang) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13, $14, $15)",
        )
        .bind(&id)
        .bind(&case.phone)
        .bind(&case.full_name)
        .bind(case.home_address.as_str())
        .bind(case.home.lat())
        .bind(case.home.lon())
        .bind(case.radius_m)
        .bind(&case.time_zone)
        .bind(secs(case.starts_at))
        .bind(secs(case.ends_at))
        .bind(sha256_hex(enrollment_code))
        .bind(new_id())
        .bind(created_by)
        .bind(secs(now))
        .bind(&case.lang)
        .execute(&mut *tx)
        .await?;
        audit::append(&mut tx, created_by, "monitoring.case.create", &id, "", now).await?;
        if let Some(body) = enrollment_sms {
            let key = format!("enrollment:{id}");
            outbox::enqueue(&mut tx, &key, &case.phone, body, SmsKind::Notice, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// A case, with no audit entry (for the device side and internal use).
    pub async fn case(&self, id: &str) -> Result<Option<CaseRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM monitoring_cases WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// A case's flags, oldest first.
    pub async fn case_flags(&self, case_id: &str) -> Result<Vec<FlagRecord>> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {FLAG_READ} FROM monitoring_flags WHERE case_id = $1 ORDER BY from_ts, id"
        ))
        .bind(case_id)
        .fetch_all(&mut *conn)
        .await?;
        flags_from_rows(&mut conn, &rows).await
    }

    /// A case and its flags as a staff member reads them: the read is in the audit log.
    pub async fn read_case(
        &self,
        id: &str,
        staff: &str,
        now: Timestamp,
    ) -> Result<Option<(CaseRecord, Vec<FlagRecord>)>> {
        let Some(case) = self.case(id).await? else {
            return Ok(None);
        };
        self.audit(staff, "monitoring.case.read", id, "", now)
            .await?;
        let flags = self.case_flags(id).await?;
        Ok(Some((case, flags)))
    }

    /// Extends, ends early or closes a case.
    pub async fn change_case(
        &self,
        id: &str,
        change: CaseChange,
        staff: &str,
        now: Timestamp,
    ) -> Result<CaseRecord, CaseChangeError> {
        let mut tx = self.write_tx().await?;
        let case = case_in(&mut tx, self.backend, id)
            .await?
            .ok_or(CaseChangeError::NotFound)?;
        let (action, detail) = match change {
            CaseChange::Extend(until) => {
                if case.status != CaseStatus::Active {
                    return Err(CaseChangeError::WrongStatus(case.status));
                }
                if until <= case.ends_at {
                    return Err(CaseChangeError::NotLater);
                }
                sqlx::query("UPDATE monitoring_cases SET ends_at = $1 WHERE id = $2")
                    .bind(secs(until))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                ("monitoring.case.extend", format!("ends_at={until}"))
            }
            CaseChange::EndNow => {
                if case.status != CaseStatus::Active {
                    return Err(CaseChangeError::WrongStatus(case.status));
                }
                sqlx::query(
                    "UPDATE monitoring_cases SET status = 'ended', ended_at = $1, \
                     ends_at = CASE WHEN ends_at > $1 THEN $1 ELSE ends_at END WHERE id = $2",
                )
                .bind(secs(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                ("monitoring.case.end", String::new())
            }
            CaseChange::Close => {
                if case.status == CaseStatus::Closed {
                    return Err(CaseChangeError::WrongStatus(case.status));
                }
                sqlx::query(
                    "UPDATE monitoring_cases SET status = 'closed', closed_at = $1, \
                     enrollment_code_hash = NULL, \
                     ends_at = CASE WHEN ends_at > $1 THEN $1 ELSE ends_at END WHERE id = $2",
                )
                .bind(secs(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE monitoring_devices SET revoked_at = $1 WHERE case_id = $2 AND revoked_at IS NULL",
                )
                .bind(secs(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                ("monitoring.case.close", String::new())
            }
        };
        audit::append(&mut tx, staff, action, id, &detail, now).await?;
        let case = case_in(&mut tx, self.backend, id)
            .await?
            .ok_or(CaseChangeError::NotFound)?;
        tx.commit().await?;
        Ok(case)
    }

    /// Stores a batch of reports (times in whole seconds; a report already stored for this
    /// device and second is a duplicate) and, if any is new, evaluates the case in the same
    /// transaction. The caller has checked each report's time against `now`.
    /// With `asking`, a fresh fix far from home may make the service ask the patient at once
    /// (the core's `asking`). The device is noted as seen.
    pub async fn ingest_fixes(
        &self,
        device: &Device,
        fixes: &[Fix],
        now: Timestamp,
        cfg: &GeofenceConfig,
        asking: Option<Asking<'_>>,
        text: SmsText<'_>,
    ) -> Result<IngestOutcome> {
        let mut out = IngestOutcome::default();
        // The days' partitions first (PostgreSQL): making one is not for inside the batch.
        self.ensure_fix_days(fixes.iter().map(|f| day_of(secs(f.ts()))).collect())
            .await?;
        let mut tx = self.write_tx().await?;
        crate::devices::touch_in(&mut tx, &device.id, now).await?;
        // The case, and whether it has flags evaluation must reconcile with: most cases
        // have none, and then they need not be read. On SQLite the write transaction is
        // exclusive, so both come from one statement. On PostgreSQL the flags are read in
        // a statement after the case's row lock is held: a statement that waited for the
        // lock still sees the data of when it started, and would miss a flag raised by the
        // transaction it waited for.
        let (case, has_flags) = match self.backend {
            Backend::Sqlite => {
                let row = sqlx::query(&format!(
                    "SELECT {CASE_COLUMNS}, (SELECT COUNT(*) FROM monitoring_flags \
                     WHERE case_id = $1 AND {ROLLING_FLAGS}) AS rolling_flags \
                     FROM monitoring_cases WHERE id = $1"
                ))
                .bind(&device.case_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(out);
                };
                let has_flags = row.try_get::<i64, _>("rolling_flags")? > 0;
                (case_from_row(&row)?, Some(has_flags))
            }
            Backend::Postgres => {
                let Some(case) = case_in(&mut tx, self.backend, &device.case_id).await? else {
                    return Ok(out);
                };
                (case, None)
            }
        };
        let start = case
            .monitoring_since
            .map_or(case.starts_at, |s| s.max(case.starts_at));
        let kept: Vec<&Fix> = fixes
            .iter()
            .filter(|f| f.ts() >= start && f.ts() <= case.ends_at)
            .collect();
        out.ignored = (fixes.len() - kept.len()) as u32;
        // Many rows a statement: one round trip per chunk instead of per report. A report
        // already stored (same device, same second) is skipped by the key, so a retried
        // batch inserts nothing.
        // The device, the case and the time received are bound once per statement and
        // only the report's own four values per row: SQLite looks a parameter's name up
        // by a linear scan, so binding costs grow with the square of their number.
        for chunk in kept.chunks(INSERT_CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = 3 + i * 4;
                    format!(
                        "($1, ${}, $2, ${}, ${}, ${}, $3)",
                        p + 1,
                        p + 2,
                        p + 3,
                        p + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO location_fixes (device_id, ts, case_id, lat, lon, accuracy_m, received_at) \
                 VALUES {} ON CONFLICT (device_id, ts) DO NOTHING",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql)
                .bind(&device.id)
                .bind(&case.id)
                .bind(secs(now));
            for fix in chunk {
                query = query
                    .bind(secs(fix.ts()))
                    .bind(fix.point().lat())
                    .bind(fix.point().lon())
                    .bind(fix.accuracy_m());
            }
            out.accepted += query.execute(&mut *tx).await?.rows_affected() as u32;
        }
        out.duplicates = kept.len() as u32 - out.accepted;
        if out.accepted > 0 {
            // Counted as they arrive: retention may erase whole days before the case's purge.
            sqlx::query(
                "UPDATE monitoring_cases SET fixes_stored = fixes_stored + $1 WHERE id = $2",
            )
            .bind(i64::from(out.accepted))
            .bind(&case.id)
            .execute(&mut *tx)
            .await?;
        }
        // The window starts from the oldest report of the batch: when only some were new it
        // is a little wider than needed, which changes nothing (evaluation reads the store).
        let oldest = kept
            .iter()
            .map(|f| f.ts())
            .min()
            .filter(|_| out.accepted > 0);
        if let Some(oldest) = oldest {
            let done = evaluate_known_in(&mut tx, &case, has_flags, oldest, now, cfg, asking, text)
                .await?;
            out.raised = done.raised;
            out.asked = done.asked;
        }
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM monitoring_challenges WHERE case_id = $1 AND issued_at <= $2 \
             AND deadline > $2 AND answered_at IS NULL",
        )
        .bind(&case.id)
        .bind(secs(now))
        .fetch_one(&mut *tx)
        .await?;
        out.open_challenges = u32::try_from(open).unwrap_or(u32::MAX);
        tx.commit().await?;
        Ok(out)
    }

    /// Evaluates every monitored case at `now` (the periodic job): this is how silence
    /// becomes a `no_signal` flag when no report arrives to trigger an evaluation. It also
    /// draws the check-in challenges of each case's today and tomorrow (once per day),
    /// announces by SMS those shown by now, and judges those whose deadline has passed. Cases
    /// are evaluated for two days past their end, while late reports may still come.
    /// Returns how many flags were raised.
    pub async fn sweep_monitoring(
        &self,
        now: Timestamp,
        cfg: &GeofenceConfig,
        checkins: &CheckinConfig,
        text: SmsText<'_>,
    ) -> Result<u32> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM monitoring_cases WHERE status = 'active' \
             AND monitoring_since IS NOT NULL AND starts_at <= $1 AND ends_at > $2",
        )
        .bind(secs(now))
        .bind(secs(now) - 48 * 3600)
        .fetch_all(&self.pool)
        .await?;
        let mut raised = 0;
        for (id,) in ids {
            let mut tx = self.write_tx().await?;
            let Some(case) = case_in(&mut tx, self.backend, &id).await? else {
                continue;
            };
            let last: Option<(Option<i64>,)> =
                sqlx::query_as("SELECT MAX(ts) FROM location_fixes WHERE case_id = $1")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let from = last
                .and_then(|(t,)| t)
                .map(ts)
                .transpose()?
                .or(case.monitoring_since)
                .unwrap_or(case.starts_at);
            raised += evaluate_in(&mut tx, &case, from, now, cfg, text).await?;
            crate::checkins::schedule_in(&mut tx, &case, now, checkins).await?;
            crate::checkins::announce_in(&mut tx, &case, now, text).await?;
            raised += crate::checkins::judge_in(&mut tx, &case, now, text).await?;
            tx.commit().await?;
        }
        Ok(raised)
    }

    /// Retention: for every case closed at least `retention` before `now`, deletes its raw
    /// location reports, erases its photos (reference and check-in) and check-in locations and
    /// its home (address and coordinates), keeping only how many reports there were; flags
    /// (map-free) and decisions stay. Returns how many cases were purged. (Most of a case's
    /// reports are gone by then: [`Store::retain_location_days`] erases whole days of them.)
    pub async fn purge_monitoring(&self, now: Timestamp, retention: SignedDuration) -> Result<u32> {
        let cutoff = now.checked_sub(retention).unwrap_or(now);
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM monitoring_cases WHERE status = 'closed' AND closed_at <= $1 \
             AND purged_at IS NULL",
        )
        .bind(secs(cutoff))
        .fetch_all(&self.pool)
        .await?;
        for (id,) in &ids {
            let mut tx = self.write_tx().await?;
            let (count,): (i64,) =
                sqlx::query_as("SELECT fixes_stored FROM monitoring_cases WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            for sql in [
                "DELETE FROM location_fixes WHERE case_id = $1",
                "UPDATE monitoring_challenges SET photo = NULL, lat = NULL, lon = NULL, \
                 accuracy_m = NULL WHERE case_id = $1",
                "UPDATE monitoring_devices SET reference_photo = NULL WHERE case_id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
            sqlx::query(
                "UPDATE monitoring_cases SET home_address = NULL, home_lat = NULL, home_lon = NULL, \
                 purged_at = $1, purged_fixes = $2 WHERE id = $3",
            )
            .bind(secs(now))
            .bind(count)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit::append(
                &mut tx,
                "system",
                "monitoring.case.purge",
                id,
                &format!("fixes={count}"),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(ids.len() as u32)
    }

    /// Flags waiting for an officer — a first decision or an appeal — and those whose SMS
    /// has not gone out yet, oldest first. The read is audited.
    pub async fn officer_queue(&self, staff: &str, now: Timestamp) -> Result<Vec<FlagRecord>> {
        self.audit(staff, "monitoring.queue.read", "", "", now)
            .await?;
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {FLAG_READ} FROM monitoring_flags \
             WHERE state IN ('open', 'notified', 'appealed') ORDER BY raised_at, id LIMIT 500"
        ))
        .fetch_all(&mut *conn)
        .await?;
        flags_from_rows(&mut conn, &rows).await
    }

    /// One flag.
    pub async fn flag(&self, id: &str) -> Result<Option<FlagRecord>> {
        let mut conn = self.pool.acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {FLAG_READ} FROM monitoring_flags WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(row) => Ok(Some(flag_from_row(&mut conn, &row).await?)),
            None => Ok(None),
        }
    }

    /// An officer's step on a flag: the core checks it against the replayed history; the
    /// event, the new state, the patient's SMS and the audit entry commit together.
    pub async fn decide_flag(
        &self,
        flag_id: &str,
        officer: &OfficerId,
        step: &OfficerStep,
        now: Timestamp,
        text: SmsText<'_>,
    ) -> Result<FlagRecord, FlagStepError> {
        let mut tx = self.write_tx().await?;
        let (case_id, history, case) = self.locked_flag(&mut tx, flag_id, None).await?;
        let at = now.max(history.last().map_or(now, Event::at));
        let t = match step {
            OfficerStep::Dismiss { note } => case.dismiss(officer, at, note.as_str()),
            OfficerStep::Confirm { sanction, note } => {
                case.confirm(officer, at, sanction.clone(), note.as_str())
            }
            OfficerStep::DecideAppeal { upheld, note } => {
                case.decide_appeal(officer, at, *upheld, note.as_str())
            }
        }
        .map_err(FlagStepError::Refused)?;
        let seq = history.len() + 1;
        append_event(&mut tx, flag_id, seq, &t.event).await?;
        sqlx::query("UPDATE monitoring_flags SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(t.case.state().as_str())
            .bind(secs(now))
            .bind(flag_id)
            .execute(&mut *tx)
            .await?;
        if let OfficerStep::DecideAppeal { upheld, .. } = step {
            sqlx::query(
                "UPDATE monitoring_appeals SET decided_by = $1, decided_at = $2, upheld = $3 WHERE flag_id = $4",
            )
            .bind(officer.as_str())
            .bind(secs(at))
            .bind(i64::from(*upheld))
            .bind(flag_id)
            .execute(&mut *tx)
            .await?;
        }
        let (phone, tz, lang): (String, String, String) =
            sqlx::query_as("SELECT phone, time_zone, lang FROM monitoring_cases WHERE id = $1")
                .bind(&case_id)
                .fetch_one(&mut *tx)
                .await?;
        for (i, sms) in t.notifications.iter().enumerate() {
            let key = format!("flag:{flag_id}:{seq}:{i}");
            outbox::enqueue(
                &mut tx,
                &key,
                &phone,
                &text(sms, &tz, &lang),
                SmsKind::Notice,
                now,
            )
            .await?;
        }
        let detail = serde_json::to_string(&t.event).unwrap_or_default();
        audit::append(
            &mut tx,
            officer.as_str(),
            &format!("monitoring.flag.{}", event_name(&t.event)),
            flag_id,
            &detail,
            now,
        )
        .await?;
        tx.commit().await?;
        self.flag(flag_id).await?.ok_or(FlagStepError::NotFound)
    }

    /// The patient appeals a confirmed sanction on a flag of their own case.
    pub async fn appeal_flag(
        &self,
        device: &Device,
        flag_id: &str,
        statement: &Paragraph,
        now: Timestamp,
    ) -> Result<FlagRecord, FlagStepError> {
        let mut tx = self.write_tx().await?;
        let (_, history, case) = self
            .locked_flag(&mut tx, flag_id, Some(&device.case_id))
            .await?;
        let at = now.max(history.last().map_or(now, Event::at));
        let t = case
            .appeal(at, statement.as_str())
            .map_err(FlagStepError::Refused)?;
        append_event(&mut tx, flag_id, history.len() + 1, &t.event).await?;
        sqlx::query("UPDATE monitoring_flags SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(t.case.state().as_str())
            .bind(secs(now))
            .bind(flag_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO monitoring_appeals (flag_id, statement, appealed_at) VALUES ($1, $2, $3)",
        )
        .bind(flag_id)
        .bind(statement.as_str())
        .bind(secs(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.flag(flag_id).await?.ok_or(FlagStepError::NotFound)
    }

    /// The patient's explanation of a flag of their own case, before an officer decides it:
    /// stored with the flag, replacing an earlier one. Once the flag is decided (dismissed,
    /// confirmed, or later) it is refused and the stored one stays as the officer read it.
    /// The check and the write are one step under the flag's lock.
    pub async fn explain_flag(
        &self,
        device: &Device,
        flag_id: &str,
        statement: &Paragraph,
        now: Timestamp,
    ) -> Result<FlagRecord, ExplainError> {
        let mut tx = self.write_tx().await?;
        let (_, _, case) = match self
            .locked_flag(&mut tx, flag_id, Some(&device.case_id))
            .await
        {
            Ok(locked) => locked,
            Err(FlagStepError::NotFound) => return Err(ExplainError::NotFound),
            Err(FlagStepError::Store(e)) => return Err(ExplainError::Store(e)),
            Err(FlagStepError::Refused(e)) => return Err(ExplainError::Store(corrupt("flag", e))),
        };
        if !matches!(case.state().stage(), FlagStage::Open | FlagStage::Notified) {
            return Err(ExplainError::Decided);
        }
        sqlx::query(
            "UPDATE monitoring_flags SET statement = $1, statement_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(statement.as_str())
        .bind(secs(now))
        .bind(flag_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.flag(flag_id).await?.ok_or(ExplainError::NotFound)
    }

    /// Locks a flag (PostgreSQL row lock; SQLite's write transaction is exclusive) and
    /// rebuilds its state from the log. With `case_id`, a flag of another case is not found.
    async fn locked_flag(
        &self,
        tx: &mut Transaction<'static, Any>,
        flag_id: &str,
        case_id: Option<&str>,
    ) -> Result<(String, Vec<Event>, FlagCase), FlagStepError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT case_id FROM monitoring_flags WHERE id = $1{lock}"
        ))
        .bind(flag_id)
        .fetch_optional(&mut **tx)
        .await?;
        let (owner,) = row.ok_or(FlagStepError::NotFound)?;
        if case_id.is_some_and(|c| c != owner) {
            return Err(FlagStepError::NotFound);
        }
        let history = events(tx, flag_id).await?;
        let case = FlagCase::replay(&history).map_err(|e| corrupt("flag history", e))?;
        Ok((owner, history, case))
    }
}
