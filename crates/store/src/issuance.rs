//! Issuing a pass, split so that the writer does as little as possible.
//!
//! 1. **Prepare** (`prepare`, concurrently, outside the writer's transaction): read the
//!    resident, decide the request as if they had no earlier passes and, if that grants it,
//!    sign the token. Everything a pass's content depends on — its validity window, purpose,
//!    regime, holder hint — is settled here: the rules that look at earlier passes (quotas,
//!    the cap, the ceiling) can only refuse a request, never change what is granted. Requests
//!    refused for any other reason (a missing field, the hours, the distance …) never reach
//!    the writer.
//! 2. **Check and store** ([`check_and_store`], in the writer's transaction, a batch at a
//!    time, see `batch.rs`): read the few earlier passes the rules need
//!    ([`PriorReads`](propusk_core::issuance::PriorReads): bounded by the rules, whatever the
//!    resident's history), decide again with them — the same pure function, so a grant comes
//!    out identical or becomes a refusal — and insert every granted pass of the batch with one
//!    statement per 32 rows.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use propusk_core::domain::holder_hint;
use propusk_core::issuance::{
    Grant, PriorPass, PriorReads, PurposeSet, RefusalCode, ResidentFacts,
};
use propusk_core::policy::MAX_PASSES_PER_DAY_LIMIT;
use propusk_token::rand_core::OsRng;
use propusk_token::{seal, PassClaims, PassId, ShortCode};
use sqlx::{Any, AnyConnection, Row};

use crate::passes::{IssueError, IssueRequest, PassRecord, COLUMNS};
use crate::{residents, secs, ts, whole_second, Backend, Resident, Result, Store, StoreError};

/// What the issuance writer remembers between batches.
#[derive(Debug, Default)]
pub(crate) struct IssuanceStats {
    /// Requests decided, and the earlier passes read for them: the work per issuance, which
    /// must not grow with a resident's history (see [`Store::issuance_reads`]).
    decisions: AtomicU64,
    prior_rows: AtomicU64,
    /// Residents refused for a limit (quota, cap, ceiling) in the last [`LIMITED_FOR`], and
    /// when. Their next requests are checked against their earlier passes before a token is
    /// signed for them and before they reach the writer: a client that keeps asking past its
    /// limit costs a read, not a signature and a place in the writer's batch.
    limited: Mutex<HashMap<String, Instant>>,
}

/// How long a refusal for a limit makes the resident's next requests checked first.
const LIMITED_FOR: Duration = Duration::from_secs(60);

/// The most residents remembered as limited (older entries are dropped first when full).
const MAX_LIMITED: usize = 100_000;

impl IssuanceStats {
    fn count_read(&self, rows: usize) {
        self.decisions.fetch_add(1, Ordering::Relaxed);
        self.prior_rows.fetch_add(rows as u64, Ordering::Relaxed);
    }

    fn was_limited(&self, resident_id: &str) -> bool {
        let limited = self.limited.lock().unwrap_or_else(|e| e.into_inner());
        limited
            .get(resident_id)
            .is_some_and(|at| at.elapsed() < LIMITED_FOR)
    }

    fn note_limited(&self, resident_id: &str) {
        let mut limited = self.limited.lock().unwrap_or_else(|e| e.into_inner());
        if limited.len() >= MAX_LIMITED {
            limited.retain(|_, at| at.elapsed() < LIMITED_FOR);
            if limited.len() >= MAX_LIMITED {
                return;
            }
        }
        limited.insert(resident_id.to_string(), Instant::now());
    }

    pub(crate) fn read(&self) -> IssuanceReads {
        IssuanceReads {
            decisions: self.decisions.load(Ordering::Relaxed),
            prior_rows: self.prior_rows.load(Ordering::Relaxed),
        }
    }
}

/// Requests decided with their earlier passes since the store opened (by the writer, or
/// before it for a resident just refused for a limit), and the earlier passes read for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IssuanceReads {
    pub decisions: u64,
    pub prior_rows: u64,
}

/// A request decided and signed, waiting for the writer.
pub(crate) struct Prepared {
    pub(crate) req: IssueRequest,
    facts: ResidentFacts,
    grant: Grant,
    /// The pass as it will be stored, token included.
    record: PassRecord,
}

impl Prepared {
    pub(crate) fn resident_id(&self) -> &str {
        &self.req.resident_id
    }
}

impl Store {
    /// Issues a pass if the regime allows it. Quotas, the cap and the ceiling are exact
    /// under concurrency, on every node.
    pub async fn issue_pass(&self, req: IssueRequest) -> Result<PassRecord, IssueError> {
        let decided = {
            let mut conn = self.pool.acquire().await?;
            decide(&mut conn, &req, Some(self.issuer.stats())).await?
        };
        let prepared = sign(req, decided)?;
        self.issuer.issue(prepared).await
    }

    /// The resident's earlier passes that `reads` names (see [`PriorReads`]), for showing
    /// where their quotas stand. Read outside any issuance: what a page shows may be a moment
    /// old; the issuance itself counts again, exactly.
    pub async fn prior_passes(
        &self,
        resident_id: &str,
        reads: &PriorReads,
    ) -> Result<Vec<PriorPass>> {
        let mut conn = self.pool.acquire().await?;
        let prior = read_prior(&mut conn, resident_id, reads).await?;
        Ok(prior.into_values().collect())
    }

    /// Requests the issuance writer has decided (API and pages) and the earlier passes it read
    /// for them: their ratio is the work per issuance, bounded by the rules.
    pub fn issuance_reads(&self) -> IssuanceReads {
        self.issuer.stats().read()
    }
}

/// Decides and, if granted, stores one pass inside `tx`, a transaction of the caller's (the
/// SMS channel's, which records the message and its reply with it).
///
/// The future is boxed as `Send` here, where its lifetimes are concrete: left to inference,
/// a caller's `tokio::spawn` trips over rustc's handling of higher-ranked lifetimes in sqlx
/// executors.
pub(crate) fn issue_in<'a>(
    backend: Backend,
    tx: &'a mut sqlx::Transaction<'static, Any>,
    req: &'a IssueRequest,
) -> Pin<Box<dyn Future<Output = Result<PassRecord, IssueError>> + Send + 'a>> {
    Box::pin(async move {
        let decided = decide(tx, req, None).await?;
        let prepared = sign(req.clone(), decided)?;
        let once = IssuanceStats::default();
        let mut results =
            check_and_store(backend, tx, std::slice::from_ref(&prepared), &once).await?;
        results.pop().ok_or_else(|| {
            IssueError::Store(StoreError::Corrupt("a batch of one gave no result".into()))
        })?
    })
}

/// Step 1: decide without history (see the module documentation). A resident refused for a
/// limit a moment ago (`memory`) is checked against their earlier passes too.
async fn decide(
    conn: &mut AnyConnection,
    req: &IssueRequest,
    memory: Option<&IssuanceStats>,
) -> Result<Decided, IssueError> {
    let row = sqlx::query(
        "SELECT id, phone, full_name, doc_kind, doc_number, home_address, home_lat, home_lon, lang \
         FROM residents WHERE id = $1",
    )
    .bind(&req.resident_id)
    .fetch_optional(&mut *conn)
    .await?;
    let resident = residents::from_row(&row.ok_or(IssueError::UnknownResident)?)?;
    // A resident registered by SMS alone has a name and a document but no home location:
    // enough for any request without a destination (see `propusk_sms::registration`).
    let facts = resident.facts();
    let grant = match req.regimes.decide(&req.request, &facts, &[], req.now) {
        Ok(grant) => grant,
        // "Outside the hours" says when a pass is next possible, and that depends on the
        // limits: decide again with the earlier passes. The moment is advice, so a read
        // outside the writer is enough; nothing is written.
        Err(refusal) if refusal.code == RefusalCode::OutsideAllowedHours => {
            let reads = req.regimes.prior_reads(&req.request, req.now);
            let prior: Vec<PriorPass> = read_prior(conn, &req.resident_id, &reads)
                .await?
                .into_values()
                .collect();
            let refusal = req
                .regimes
                .decide(&req.request, &facts, &prior, req.now)
                .err()
                .unwrap_or(refusal);
            return Err(IssueError::Refused(refusal));
        }
        Err(refusal) => return Err(IssueError::Refused(refusal)),
    };
    if let Some(memory) = memory.filter(|m| m.was_limited(&req.resident_id)) {
        // A refusal read outside the writer is as true as one read inside: the limits count
        // passes that only a later issuance can add (or, for quotas, a cancellation remove,
        // and a request racing a cancellation may be decided before it).
        let reads = req.regimes.prior_reads(&req.request, req.now);
        let prior: Vec<PriorPass> = read_prior(conn, &req.resident_id, &reads)
            .await?
            .into_values()
            .collect();
        memory.count_read(prior.len());
        if let Err(refusal) = req.regimes.decide(&req.request, &facts, &prior, req.now) {
            return Err(IssueError::Refused(refusal));
        }
    }
    Ok(Decided {
        resident,
        facts,
        grant,
    })
}

/// A request granted as far as step 1 can tell.
struct Decided {
    resident: Resident,
    facts: ResidentFacts,
    grant: Grant,
}

/// Step 1, continued: the pass as it will be stored, its token signed. No connection is held
/// meanwhile.
fn sign(req: IssueRequest, decided: Decided) -> Result<Prepared, IssueError> {
    let Decided {
        resident,
        facts,
        grant,
    } = decided;
    let (full_name, document) = resident.identity().ok_or(IssueError::UnknownResident)?;
    // The store and the token keep whole seconds; the record says what was stored.
    let (valid_from, valid_until, now) = (
        whole_second(grant.valid_from),
        whole_second(grant.valid_until),
        whole_second(req.now),
    );
    // Time-ordered ids: the primary key index grows at its end instead of at a random page
    // per pass.
    let uuid = uuid::Uuid::now_v7();
    let claims = PassClaims {
        iss: grant.issuer.as_str().to_string(),
        iat: now.as_second(),
        nbf: valid_from.as_second(),
        exp: valid_until.as_second(),
        pass_id: PassId(*uuid.as_bytes()),
        purpose: grant.purpose.as_str().to_string(),
        regime: grant.regime.as_str().to_string(),
        holder: holder_hint(full_name, document),
        area: None,
        vehicle: None,
    };
    let record = PassRecord {
        id: uuid.to_string(),
        resident_id: req.resident_id.clone(),
        regime_id: claims.regime.clone(),
        purpose: claims.purpose.clone(),
        short_code: ShortCode::generate(&mut OsRng).compact(),
        // No zlib: a token is signature, key id and pass id, high-entropy bytes that deflate
        // cannot shrink (it made them 11 bytes longer); every decoder accepts the raw form
        // (docs/token-format.md, section 4).
        token: seal(&claims, &req.key, false),
        valid_from,
        valid_until,
        issued_at: now,
        channel: req.channel.to_string(),
        fields: grant.fields.clone(),
        cancelled_at: None,
    };
    Ok(Prepared {
        req,
        facts,
        grant,
        record,
    })
}

/// The earlier passes `reads` names, by pass id (a pass may be named twice: by its purpose and
/// by its day). Every statement is bounded: by the purpose's own passes since its window, and
/// by `per_day` rows for each of the ceiling's days.
async fn read_prior(
    conn: &mut AnyConnection,
    resident_id: &str,
    reads: &PriorReads,
) -> Result<HashMap<String, PriorPass>> {
    const SELECT: &str = "SELECT id, purpose, valid_from, valid_until, cancelled_at FROM passes";
    let mut parts = Vec::new();
    let mut binds: Vec<Bind> = vec![Bind::Text(resident_id.to_string())];
    let param = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(by) = &reads.by_purpose {
        let since = param(&mut binds, Bind::Int(secs(by.since)));
        let (op, ids) = match &by.purposes {
            PurposeSet::Only(ids) => ("IN", ids),
            PurposeSet::AllBut(ids) => ("NOT IN", ids),
        };
        let filter = if ids.is_empty() {
            // `NOT IN ()` is not SQL; every purpose is wanted.
            String::new()
        } else {
            let list: Vec<String> = ids
                .iter()
                .map(|id| param(&mut binds, Bind::Text(id.clone())))
                .collect();
            format!(" AND purpose {op} ({})", list.join(", "))
        };
        parts.push(format!(
            "SELECT * FROM ({SELECT} WHERE resident_id = $1{filter} AND valid_from >= {since}) AS p"
        ));
    }
    let per_day = param(&mut binds, Bind::Int(i64::from(reads.per_day)));
    for (k, (start, end)) in reads.days.iter().enumerate() {
        let (a, b) = (
            param(&mut binds, Bind::Int(secs(*start))),
            param(&mut binds, Bind::Int(secs(*end))),
        );
        parts.push(format!(
            "SELECT * FROM ({SELECT} WHERE resident_id = $1 AND valid_from >= {a} AND valid_from < {b} LIMIT {per_day}) AS d{k}"
        ));
    }
    if parts.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = parts.join(" UNION ALL ");
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = match b {
            Bind::Text(s) => query.bind(s),
            Bind::Int(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut prior = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        prior.insert(id, prior_pass(&row)?);
    }
    Ok(prior)
}

/// A value bound to a statement built at run time.
enum Bind {
    Text(String),
    Int(i64),
}

/// Step 2, for a batch inside the writer's transaction `tx`: checks each prepared pass
/// against the limits and stores the granted ones. Requests of one resident in the same batch
/// see each other (in memory), so the limits stay exact within a batch as across batches.
///
/// On PostgreSQL the batch first locks its residents' rows, in id order (so that batches on
/// several nodes cannot deadlock): a concurrent batch for the same resident waits, then reads
/// what this one stored. On SQLite the write lock already serialises batches.
pub(crate) async fn check_and_store(
    backend: Backend,
    tx: &mut sqlx::Transaction<'static, Any>,
    batch: &[Prepared],
    stats: &IssuanceStats,
) -> Result<Vec<Result<PassRecord, IssueError>>> {
    if backend == Backend::Postgres {
        let mut ids: Vec<&str> = batch.iter().map(Prepared::resident_id).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(256) {
            let list = placeholders(1, chunk.len());
            let sql =
                format!("SELECT id FROM residents WHERE id IN ({list}) ORDER BY id FOR UPDATE");
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(&mut **tx).await?;
        }
    }
    let reads: Vec<PriorReads> = batch
        .iter()
        .map(|p| p.req.regimes.prior_reads(&p.req.request, p.req.now))
        .collect();
    let days = read_days_of_batch(tx, batch, &reads).await?;
    // Passes granted earlier in this batch, by resident: not in the table until the insert.
    let mut granted: HashMap<&str, Vec<PriorPass>> = HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    for (p, reads) in batch.iter().zip(&reads) {
        let mut prior: Vec<PriorPass> = match days.as_ref().filter(|_| reads.by_purpose.is_none()) {
            Some(days) => days_of(days, p.resident_id(), reads),
            None => read_prior(tx, p.resident_id(), reads)
                .await?
                .into_values()
                .collect(),
        };
        stats.count_read(prior.len());
        if let Some(mine) = granted.get(p.resident_id()) {
            prior.extend(mine.iter().cloned());
        }
        match p
            .req
            .regimes
            .decide(&p.req.request, &p.facts, &prior, p.req.now)
        {
            Ok(grant) if grant == p.grant => {
                granted
                    .entry(p.resident_id())
                    .or_default()
                    .push(PriorPass {
                        purpose: p.record.purpose.clone(),
                        valid_from: p.record.valid_from,
                        valid_until: p.record.valid_until,
                        cancelled_at: None,
                    });
                results.push(Ok(p.record.clone()));
            }
            Ok(other) => {
                return Err(StoreError::Corrupt(format!(
                    "the earlier passes changed a grant, not only whether it is given: {:?} became {other:?}",
                    p.grant
                )))
            }
            Err(refusal) => {
                stats.note_limited(p.resident_id());
                results.push(Err(IssueError::Refused(refusal)));
            }
        }
    }
    let mut records: Vec<PassRecord> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    insert(tx, &mut records).await?;
    // A short code drawn again after a collision is the one stored and answered.
    let codes: HashMap<&str, &str> = records
        .iter()
        .map(|r| (r.id.as_str(), r.short_code.as_str()))
        .collect();
    for r in results.iter_mut().flatten() {
        if let Some(code) = codes.get(r.id.as_str()) {
            r.short_code = (*code).to_string();
        }
    }
    Ok(results)
}

/// The passes of the batch's residents that start on any of the ceiling's days of the
/// requests that need nothing else (most of them: purposes without a quota, no cap), in one
/// statement instead of one per request; by resident. `None` when no request is of that kind,
/// or when the read would exceed what the ceiling allows (`per_day` on each day for each
/// resident: only a history from before the ceiling can), and the requests read one by one,
/// each bounded.
async fn read_days_of_batch(
    conn: &mut AnyConnection,
    batch: &[Prepared],
    reads: &[PriorReads],
) -> Result<Option<HashMap<String, Vec<PriorPass>>>> {
    let mut residents: Vec<&str> = Vec::new();
    let (mut from, mut until, mut most) = (None, None, 0usize);
    for (p, r) in batch.iter().zip(reads) {
        if r.by_purpose.is_some() {
            continue;
        }
        let (Some(first), Some(last)) = (r.days.first(), r.days.last()) else {
            continue;
        };
        residents.push(p.resident_id());
        from = Some(from.map_or(first.0, |f: jiff::Timestamp| f.min(first.0)));
        until = Some(until.map_or(last.1, |u: jiff::Timestamp| u.max(last.1)));
        most = most.max(r.days.len() * r.per_day as usize);
    }
    let (Some(from), Some(until)) = (from, until) else {
        return Ok(None);
    };
    residents.sort_unstable();
    residents.dedup();
    if residents.len() > 256 {
        return Ok(None);
    }
    // The requests of a batch that straddles midnight reach one day further between them.
    let limit = residents.len() * (most + MAX_PASSES_PER_DAY_LIMIT as usize);
    let sql = format!(
        "SELECT resident_id, purpose, valid_from, valid_until, cancelled_at FROM passes \
         WHERE resident_id IN ({}) AND valid_from >= $1 AND valid_from < $2 LIMIT {}",
        placeholders(3, residents.len()),
        limit + 1
    );
    let mut query = sqlx::query(&sql).bind(secs(from)).bind(secs(until));
    for r in &residents {
        query = query.bind(*r);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    if rows.len() > limit {
        return Ok(None);
    }
    let mut by_resident: HashMap<String, Vec<PriorPass>> = HashMap::new();
    for row in rows {
        by_resident
            .entry(row.try_get("resident_id")?)
            .or_default()
            .push(prior_pass(&row)?);
    }
    Ok(Some(by_resident))
}

/// A pass already held, as the rules count it, from a row with its purpose and times.
fn prior_pass(row: &sqlx::any::AnyRow) -> Result<PriorPass> {
    Ok(PriorPass {
        purpose: row.try_get("purpose")?,
        valid_from: ts(row.try_get("valid_from")?)?,
        valid_until: ts(row.try_get("valid_until")?)?,
        cancelled_at: crate::opt_ts(row, "cancelled_at")?,
    })
}

/// A resident's passes on the request's days, from what [`read_days_of_batch`] read: every
/// one of them, which is at least what the request's own read would give.
fn days_of(
    read: &HashMap<String, Vec<PriorPass>>,
    resident_id: &str,
    reads: &PriorReads,
) -> Vec<PriorPass> {
    let (Some(first), Some(last)) = (reads.days.first(), reads.days.last()) else {
        return Vec::new();
    };
    read.get(resident_id).map_or_else(Vec::new, |passes| {
        passes
            .iter()
            .filter(|p| first.0 <= p.valid_from && p.valid_from < last.1)
            .cloned()
            .collect()
    })
}

/// Rows per INSERT statement: 32 × 11 parameters. (sqlx finds SQLite parameters by name, at a
/// cost that grows with their number squared, so much longer statements get slower per row.)
const INSERT_CHUNK: usize = 32;

/// Inserts the passes. A short code already taken (one chance in 10¹² per pass) is left out by
/// `ON CONFLICT`, drawn again and inserted again: cheaper than looking every code up first.
async fn insert(
    tx: &mut sqlx::Transaction<'static, Any>,
    records: &mut [PassRecord],
) -> Result<()> {
    for chunk in records.chunks_mut(INSERT_CHUNK) {
        let mut pending: Vec<&mut PassRecord> = chunk.iter_mut().collect();
        for _attempt in 0..5 {
            if pending.is_empty() {
                break;
            }
            let rows: Vec<String> = (0..pending.len())
                .map(|k| format!("({}, NULL)", placeholders(k * 11 + 1, 11)))
                .collect();
            let sql = format!(
                "INSERT INTO passes ({COLUMNS}) VALUES {} ON CONFLICT (short_code) DO NOTHING RETURNING id",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for r in &pending {
                let fields = serde_json::to_string(&r.fields)
                    .map_err(|e| StoreError::Corrupt(format!("pass fields: {e}")))?;
                query = query
                    .bind(r.id.clone())
                    .bind(r.resident_id.clone())
                    .bind(r.regime_id.clone())
                    .bind(r.purpose.clone())
                    .bind(r.short_code.clone())
                    .bind(r.token.clone())
                    .bind(secs(r.valid_from))
                    .bind(secs(r.valid_until))
                    .bind(secs(r.issued_at))
                    .bind(r.channel.clone())
                    .bind(fields);
            }
            let stored: HashSet<String> = query
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|row| row.try_get("id"))
                .collect::<Result<_, _>>()?;
            pending.retain(|r| !stored.contains(&r.id));
            for r in &mut pending {
                r.short_code = ShortCode::generate(&mut OsRng).compact();
            }
        }
        if !pending.is_empty() {
            return Err(StoreError::Corrupt(
                "no free short code after 5 draws (the code space is full?)".into(),
            ));
        }
    }
    Ok(())
}

/// `$first, $first+1, …` (`n` of them).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}
